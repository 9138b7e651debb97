#!/bin/sh
# tests/cuda/conform.sh TG CUDA_PLUGIN
# Without a CUDA driver or device (CI): tg conform on the cuda plugin reports
# cases UNSUPPORTED, none PASS or crash, and fails for executing nothing.
# With a device it skips (exit 77): bench/gpu/check.sh runs the whole suite.
tg=$1
plugin=$2
out=$("$tg" conform --plugin "$plugin" --filter op.ADD.float32 2>&1)
rc=$?
if ! echo "$out" | grep -q 'executed no case (no device'; then
    echo "$out" | tail -5
    echo "a CUDA device is present: the suite runs in bench/gpu/check.sh"
    exit 77
fi
if echo "$out" | grep '^ok ' | grep -qv '# SKIP'; then echo "$out"; echo "FAIL: a case passed without a device"; exit 1; fi
if ! echo "$out" | grep -q ' 0 pass, 0 fail, [1-9][0-9]* unsupported'; then echo "$out"; exit 1; fi
if [ "$rc" -eq 0 ]; then echo "FAIL: tg conform exited 0 without running a case"; exit 1; fi
echo "$out" | grep -i 'cuda' | head -3
echo "$out" | tail -3
exit 0
