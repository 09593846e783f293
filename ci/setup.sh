#!/usr/bin/env bash
# Installs every system package tapyrus-trace needs on a fresh Debian machine
# (run as root). The Swift toolchain itself is expected on PATH.
set -euo pipefail

packages=(
    libbpf-dev libelf-dev zlib1g-dev   # libbpf: loading and attaching eBPF
    systemtap-sdt-dev gcc              # <sys/sdt.h> and a C compiler for the USDT fixture
    libsqlite3-dev                     # the benchmark baselines
    pkg-config util-linux tmux         # setpriv for node children; tmux for the monitor's tests
    chromium fonts-liberation          # headless Chromium renders the HTML report in its test
)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ci/setup.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "ci/setup.sh: no swift on PATH (install the Swift 6.3 toolchain)" >&2; exit 1; }
