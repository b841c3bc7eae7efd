#!/usr/bin/env bash
# `make release`: coop-edge and coop-edge-sim built in release mode with the Swift runtime linked in
# (--static-swift-stdlib) and the build id linked in (scripts/build-id.sh), linked with full RELRO
# (-z relro -z now, as Debian's hardening flags do), stripped as dh_strip does, into OUT/dist.
# Prints each binary's size and what it still loads (ldd; the ELF NEEDED entries for a cross build).
#   scripts/release.sh OUT     (the Makefile passes SWIFT, JOBS, SWIFT_SDK, BUILD_ID_CC, STRIP, DEB_ARCH)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: release.sh OUT}
swift=${SWIFT:-swift}
sdk=()
[ -n "${SWIFT_SDK:-}" ] && sdk=(--swift-sdk "$SWIFT_SDK")
native=$(dpkg --print-architecture)

obj=$(scripts/build-id.sh --object "$out/build-id" "${BUILD_ID_CC:-cc}")
bin=$("$swift" build --scratch-path "$out" -c release "${sdk[@]}" --show-bin-path)
for p in coop-edge coop-edge-sim; do
  "$swift" build -j "${JOBS:-$(nproc)}" --scratch-path "$out" -c release "${sdk[@]}" --static-swift-stdlib \
    --product "$p" -Xlinker "$obj" -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now
done
mkdir -p "$out/dist"
for p in coop-edge coop-edge-sim; do
  "${STRIP:-strip}" --strip-all --remove-section=.comment --remove-section=.note -o "$out/dist/$p.tmp" "$bin/$p"
  mv "$out/dist/$p.tmp" "$out/dist/$p"
  echo "$out/dist/$p: $(stat -c %s "$out/dist/$p") bytes, loads:"
  if [ "${DEB_ARCH:-$native}" = "$native" ]; then
    ldd "$out/dist/$p" | sed 's/^/  /'
  else
    readelf -d "$out/dist/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/  \1/p'
  fi
done
[ "${DEB_ARCH:-$native}" = "$native" ] && "$out/dist/coop-edge" --version
exit 0
