#!/usr/bin/env bash
# bench/gpu/check.sh OUTDIR -- the GPU check of issue 12, in one command, on a
# machine with an NVIDIA GPU, the CUDA toolkit, gcc, meson, ninja and Python
# with torch, and no package registry (bench/gpu/README.md). It builds tg in
# build-gpu/, runs the cuda plugin's tests, `tg conform --plugin cuda`,
# `tg bench --plugin cuda` (where Google Benchmark is there or was carried in
# .gpudeps/, see fetch-debs.sh) and bench/gpu/peers.py (the same workloads
# with torch), and writes into OUTDIR: check.log (everything), summary.txt,
# conform.tap, conform.json, bench.json, peers.json, peers.txt.
# Each step has a time limit; the whole run stays under 8 minutes.
set -u
if [ $# -ne 1 ]; then
    echo "usage: bench/gpu/check.sh OUTDIR" >&2
    exit 2
fi
mkdir -p "$1" || exit 2
out=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
build=$root/build-gpu
exec > >(tee "$out/check.log") 2>&1
start=$(date +%s)
summary() { echo "$*" | tee -a "$out/summary.txt"; }
: >"$out/summary.txt"
step() { echo; echo "== $* ($(($(date +%s) - start)) s)"; }
# lim N: seconds a step may take, N or less so that the run ends by 470 s
lim() {
    local left=$((470 - ($(date +%s) - start)))
    [ "$left" -lt 1 ] && left=1
    [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}

step "machine"
uname -srm
nvidia-smi -L 2>&1 | head -4
nvidia-smi --query-gpu=driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1 | head -2
command -v nvcc >/dev/null && nvcc --version | tail -2
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -1
nproc

# Debian packages carried in .gpudeps/ (fetch-debs.sh), unpacked into a
# folder, never into /: Google Benchmark for `tg bench`, pkgconf to find it.
if ls .gpudeps/*.deb >/dev/null 2>&1; then
    step "carried packages"
    dep=$root/.gpudeps/root
    for f in .gpudeps/*.deb; do dpkg -x "$f" "$dep" && echo "unpacked $(basename "$f")"; done
    lib=$dep/usr/lib/x86_64-linux-gnu
    mkdir -p "$dep/pc"
    for pc in "$lib"/pkgconfig/*.pc; do
        [ -f "$pc" ] && sed "s|=/usr|=$dep/usr|g" "$pc" >"$dep/pc/$(basename "$pc")"
    done
    export PKG_CONFIG_PATH=$dep/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
    export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export CMAKE_PREFIX_PATH=$dep/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
    if ! command -v pkg-config >/dev/null && [ -x "$dep/usr/bin/pkgconf" ]; then
        export PKG_CONFIG=$dep/usr/bin/pkgconf
    fi
fi

step "build"
meson=(meson)
command -v meson >/dev/null || meson=(python3 -m mesonbuild.mesonmain)
if ! command -v ninja >/dev/null; then # pip's ninja, where its script is not on PATH
    NINJA=$(python3 -c 'import ninja, os; print(os.path.join(ninja.BIN_DIR, "ninja"))' 2>/dev/null) && export NINJA
fi
opts=(-Dcuda=enabled -Dvulkan=disabled -Dbuildtype=release)
grep -q "option('opencl'" meson_options.txt && opts+=(-Dopencl=disabled)
rm -rf "$build"
if ! timeout "$(lim 90)" "${meson[@]}" setup "$build" "${opts[@]}" >/tmp/tg-gpu-setup.log 2>&1; then
    cat /tmp/tg-gpu-setup.log
    summary "FAIL: meson setup"
    exit 1
fi
grep -E "^  (Build targets|Message)|skipped|benchmark|cuda" /tmp/tg-gpu-setup.log | head -20
if ! timeout "$(lim 180)" "${meson[@]}" compile -C "$build" >/tmp/tg-gpu-build.log 2>&1; then
    tail -30 /tmp/tg-gpu-build.log
    summary "FAIL: build"
    exit 1
fi
tg=$build/cli/tg
plugin=$build/plugins/cuda/tg-cuda.so
if [ ! -x "$tg" ] || [ ! -f "$plugin" ]; then
    summary "FAIL: no tg or no tg-cuda.so after the build"
    exit 1
fi
export TG_PLUGIN_PATH=$build/plugins XDG_CACHE_HOME=$build/cache

step "tg plugins"
"$tg" plugins

step "tests (cuda_load runs kernels on the GPU)"
timeout "$(lim 90)" "${meson[@]}" test -C "$build" --no-rebuild --print-errorlogs cuda_load cuda_conform_no_device budget
summary "tests: exit $?"

step "tg conform --plugin cuda"
t0=$(date +%s)
timeout "$(lim 200)" "$tg" conform --plugin "$plugin" --jobs "$(nproc)" --tap "$out/conform.tap" --json "$out/conform.json"
rc=$?
t1=$(date +%s)
summary "conform: exit $rc, wall $((t1 - t0)) s (with compiles), $(grep -E '^# cuda: ' "$out/conform.tap" | head -1)"
grep -E '^not ok' "$out/conform.tap" | head -20

step "tg conform --plugin cuda again (cubins cached)"
t0=$(date +%s)
timeout "$(lim 60)" "$tg" conform --plugin "$plugin" --jobs "$(nproc)" >/dev/null 2>&1
summary "conform (cached): exit $?, wall $(($(date +%s) - t0)) s"

if "$tg" bench --help >/dev/null 2>&1; then
    step "tg bench --plugin cuda"
    timeout "$(lim 120)" "$tg" bench --plugin "$plugin" --min-time 0.2 --json "$out/bench.json"
    summary "bench: exit $?"
else
    summary "bench: not built (no Google Benchmark; see bench/gpu/fetch-debs.sh)"
fi

step "peers: bench_cuda beside torch"
timeout "$(lim 120)" python3 bench/gpu/peers.py --build "$build" --out "$out" --tg-bench-json "$out/bench.json"
summary "peers: exit $?"
cat "$out/peers.txt" >>"$out/summary.txt" 2>/dev/null

step "done"
summary "total wall $(($(date +%s) - start)) s"
