#!/bin/sh
# The Python package's tests: makes BUILD/pyenv (python3 -m venv, seeing the
# system's site-packages, so an installed numpy or torch is used), installs
# python/ into it built against BUILD's libtg, and runs pytest here.
# Exit 77 (meson: SKIP) when python3's venv or pip cannot be had, or pip
# cannot get what it needs (setuptools, wheel, pytest) without a network.
# usage: run.sh SOURCE_ROOT BUILD_ROOT
set -u
src=$1
build=$2
py=${PYTHON:-python3}
skip() { echo "SKIP: $*"; exit 77; }
command -v "$py" >/dev/null 2>&1 || skip "no $py"
env=$build/pyenv
if [ ! -x "$env/bin/python" ]; then
    "$py" -m venv --system-site-packages "$env" || { rm -rf "$env"; skip "$py -m venv failed (python3-venv missing?)"; }
fi
pip="$env/bin/python -m pip --disable-pip-version-check -q"
$pip --version >/dev/null 2>&1 || skip "no pip in the venv"
# Build from a fresh copy: no stale setuptools build/ folder, nothing written into the source tree.
rm -rf "$build/pysrc" && cp -r "$src/python" "$build/pysrc" && rm -rf "$build/pysrc/build" "$build/pysrc"/*.egg-info
export TG_BUILD_DIR="$build" TG_SOURCE_DIR="$src" TG_CLI="$build/cli/tg"
# Offline first (setuptools and wheel already in the venv), then with pip's build isolation (network).
$pip install --no-build-isolation --no-deps --force-reinstall "$build/pysrc" >"$build/pysrc.log" 2>&1 ||
    $pip install --no-deps --force-reinstall "$build/pysrc" >>"$build/pysrc.log" 2>&1 || {
    tail -5 "$build/pysrc.log"
    grep -qiE "network|connection|resolve|No matching distribution|Could not find" "$build/pysrc.log" &&
        skip "pip could not fetch setuptools/wheel (no network?)"
    echo "pip install python/ failed (log: $build/pysrc.log)"
    exit 1
}
"$env/bin/python" -c "import pytest" 2>/dev/null || $pip install pytest >/dev/null 2>&1 || skip "pytest is not installed and pip cannot fetch it"
"$env/bin/python" -c "import numpy" 2>/dev/null || $pip install numpy >/dev/null 2>&1 || skip "numpy is not installed and pip cannot fetch it"
cd "$src/tests/python" && exec "$env/bin/python" -m pytest -q -p no:cacheprovider -rs .
