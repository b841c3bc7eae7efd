#!/usr/bin/env bash
# Installs the Debian packages CoopEdge builds, runs and tests with (e2fsprogs and util-linux: the
# watchdog test freezes a small ext4 file system under the outbox; openssl: the TLS test makes its
# certificates; binutils, dpkg-dev, xz-utils: make release and make deb). Idempotent: does nothing when
# everything is already there. Swift itself is expected on PATH (or in /opt/swift/usr/bin).
set -euo pipefail
packages=(pkg-config systemd e2fsprogs util-linux openssl binutils dpkg-dev xz-utils python3-serial python3-serial-asyncio libmodbus-dev libmosquitto-dev libsqlite3-dev libyaml-dev mosquitto mosquitto-clients socat python3 python3-pymodbus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # policy-rc.d may refuse to start the mosquitto service (containers); the tests start their own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
  echo "swift not found: install a Swift 6 toolchain (swift.org) and put it on PATH" >&2
  exit 1
fi
