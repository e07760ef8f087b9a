#!/usr/bin/env bash
# Idempotent set-up for a Debian/Ubuntu machine: system packages, .venv, Python packages.
# Usage: scripts/bootstrap.sh [run|test]   (test adds espeak-ng, sox and the dev tools)
# The second run is fast: apt is skipped when the packages are present, pip when the
# inputs (pyproject.toml, requirements-nodeps.txt, this script) have not changed.
set -euo pipefail

mode="${1:-run}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

system_packages=(ffmpeg libopus0 libsndfile1 ca-certificates)
if [ "$mode" = "test" ]; then
  system_packages+=(espeak-ng sox)
fi
python_bin="${PARROT_PYTHON:-}"
if [ -z "$python_bin" ]; then
  python_bin="$(command -v python3.11 || true)"
fi
if [ -z "$python_bin" ]; then
  system_packages+=(python3.11 python3.11-venv)
  python_bin=/usr/bin/python3.11
elif ! "$python_bin" -c 'import ensurepip' >/dev/null 2>&1; then
  system_packages+=(python3.11-venv)
fi

missing=()
for package in "${system_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
  echo "bootstrap: creating .venv with $python_bin"
  rm -rf .venv
  "$python_bin" -m venv .venv
fi

extras="."
[ "$mode" = "test" ] && extras=".[dev,ray]"  # ray: tests/remote (the run mode installs no extra)
fingerprint="$(cat pyproject.toml requirements-nodeps.txt scripts/bootstrap.sh | sha256sum | cut -c1-16)"
stamp=".venv/.parrot-installed"
# A test install is a superset of a run install.
if [ -f "$stamp" ] && { grep -qx "$fingerprint $mode" "$stamp" || grep -qx "$fingerprint test" "$stamp"; }; then
  exit 0
fi

echo "bootstrap: installing Python packages into .venv (first time: a few minutes)"
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q --upgrade "pip>=24"
.venv/bin/python -m pip install -q -e "$extras"
# Stale upstream pins: see pyproject.toml.
.venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
echo "$fingerprint $mode" >"$stamp"
