#!/bin/sh
# tests/vulkan/conform.sh TG VULKAN_PLUGIN [--no-device | TG_CONFORM_ARGS...]
# The conformance suite on the vulkan plugin: every case must pass on the
# device there is (skipped, exit 77, without one). --no-device hides every
# Vulkan driver and checks that cases are UNSUPPORTED, none PASS, and the
# run fails for executing nothing.
tg=$1
plugin=$2
if [ "$3" = --no-device ]; then
    export VK_ICD_FILENAMES=/nonexistent/tg_no_icd.json VK_DRIVER_FILES=/nonexistent/tg_no_icd.json
    out=$("$tg" conform --plugin "$plugin" --filter op.ADD.float32 2>&1)
    rc=$?
    if echo "$out" | grep '^ok ' | grep -qv '# SKIP'; then echo "$out"; echo "FAIL: a case passed without a device"; exit 1; fi
    if ! echo "$out" | grep -q ' 0 pass, 0 fail, [1-9][0-9]* unsupported'; then echo "$out"; exit 1; fi
    if [ "$rc" -eq 0 ]; then echo "FAIL: tg conform exited 0 without running a case"; exit 1; fi
    echo "$out" | tail -3
    exit 0
fi
shift 2
out=$("$tg" conform --plugin "$plugin" --jobs 2 "$@" 2>&1)
rc=$?
if echo "$out" | grep -q 'executed no case (no device'; then
    echo "$out" | tail -3
    exit 77
fi
echo "$out" | grep -v '^ok '
exit $rc
