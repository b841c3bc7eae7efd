#!/usr/bin/env bash
# Builds the coop-edge Debian package from the stripped binaries `make release` leaves in DIST, with
# dpkg-deb (no debhelper), and prints its absolute path. Its files come from Packaging/ (maintainer
# scripts, sysusers.d, tmpfiles.d, the example site, copyright, changelog),
# Systemd/, Firmware-Configs/profiles and the docs. Depends: is what dpkg-shlibdeps finds the
# binaries need. lintian checks the result when it is installed (errors fail the build).
#   scripts/make-deb.sh DIST OUT      e.g. scripts/make-deb.sh .build-release/dist .build-release
# DEB_ARCH overrides the architecture (default: dpkg --print-architecture; set it for a cross build).
# DEB_COMPRESS (xz) and LINTIAN (lintian; empty skips it) let the package test trade size for time.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:?usage: make-deb.sh DIST OUT}
out=${2:?usage: make-deb.sh DIST OUT}

version=$(sed -n 's/^ *public static let version = "\(.*\)"$/\1/p' Sources/Agent/BuildInfo.swift)
[ -n "$version" ] || { echo "make-deb.sh: no version in Sources/Agent/BuildInfo.swift" >&2; exit 1; }
revision=1
arch=${DEB_ARCH:-$(dpkg --print-architecture)}
for b in coop-edge coop-edge-sim; do
  [ -x "$dist/$b" ] || { echo "make-deb.sh: $dist/$b is missing: run make release" >&2; exit 1; }
done

# dpkg-shlibdeps wants the tree at debian/<package> beside a debian/control.
work="$out/deb"
pkg="$work/debian/coop-edge"
rm -rf "$work"
umask 022
mkdir -p "$pkg/DEBIAN"
install -D -m 0755 "$dist/coop-edge" "$pkg/usr/bin/coop-edge"
install -D -m 0755 "$dist/coop-edge-sim" "$pkg/usr/bin/coop-edge-sim"
install -D -m 0644 Systemd/coop-edge.service "$pkg/lib/systemd/system/coop-edge.service"
install -D -m 0644 Packaging/coop-edge.sysusers "$pkg/usr/lib/sysusers.d/coop-edge.conf"
install -D -m 0644 Packaging/coop-edge.tmpfiles "$pkg/usr/lib/tmpfiles.d/coop-edge.conf"
install -D -m 0644 Packaging/site.yaml "$pkg/etc/coop-edge/site.yaml"
install -d "$pkg/usr/share/coop-edge/profiles"
install -m 0644 Firmware-Configs/profiles/*.yaml "$pkg/usr/share/coop-edge/profiles/"
doc="$pkg/usr/share/doc/coop-edge"
# README.md and docs/ keep their layout, so README's links to docs/*.md work where it is installed
# (the unit's Documentation= points at both).
install -D -m 0644 README.md "$doc/README.md"
install -d "$doc/docs"
install -m 0644 docs/*.md "$doc/docs/"
install -m 0644 Packaging/copyright "$doc/copyright"
gzip -9n < Packaging/changelog > "$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"

install -m 0755 Packaging/postinst Packaging/prerm Packaging/postrm "$pkg/DEBIAN/"
echo /etc/coop-edge/site.yaml > "$pkg/DEBIAN/conffiles"

printf 'Source: coop-edge\n\nPackage: coop-edge\nArchitecture: any\n' > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e debian/coop-edge/usr/bin/coop-edge -e debian/coop-edge/usr/bin/coop-edge-sim 2>/dev/null |
         sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "make-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version-$revision/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@SHLIBS@/$shlibs/" \
    Packaging/control > "$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"

deb="$out/coop-edge_$version-${revision}_$arch.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$pkg" "$deb" >/dev/null
lintian=${LINTIAN-lintian}
if [ -n "$lintian" ] && command -v "$lintian" >/dev/null 2>&1; then
  # Errors fail the build; warnings are printed.
  "$lintian" --fail-on error "$deb" >&2 || {
    echo "make-deb.sh: lintian found errors in $deb" >&2; exit 1; }
fi
echo "$(pwd)/$deb"
