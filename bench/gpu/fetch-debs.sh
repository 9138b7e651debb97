#!/bin/sh
# bench/gpu/fetch-debs.sh -- run HERE (a Debian machine with apt), in the
# repository root, before bench/gpu/check.sh is run on a GPU machine that has
# no package registry. Downloads the Debian packages the check needs there
# into .gpudeps/ (ignored by git, carried with the working tree): Google
# Benchmark for `tg bench`, and pkgconf in case that machine has no
# pkg-config. check.sh unpacks them into .gpudeps/root, never into /.
set -eu
cd "$(dirname "$0")/../.."
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.gpudeps/' "$exclude" 2>/dev/null || echo '/.gpudeps/' >>"$exclude"
mkdir -p .gpudeps
cd .gpudeps
apt-get download libbenchmark-dev libbenchmark1debian pkgconf-bin libpkgconf3
ls -l
