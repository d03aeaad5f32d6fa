#!/usr/bin/env bash
# Installs the Debian packages repprobe builds against (LAPACKE, OpenBLAS, libpng and
# libjpeg-turbo for image folders, pkg-config, Open MPI for runs under mpirun) and
# librsvg2-bin for rendering figures, and python3 with pip for the test fixtures and
# benchmarks when the machine has no Python. Does nothing when they are already present.
set -euo pipefail

packages=(liblapacke-dev libopenblas-dev pkg-config librsvg2-bin libpng-dev libturbojpeg0-dev libopenmpi-dev openmpi-bin)
if ! python3 -m pip --version >/dev/null 2>&1; then packages+=(python3 python3-pip); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
