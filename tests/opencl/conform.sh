#!/bin/sh
# tests/opencl/conform.sh TG OPENCL_PLUGIN [--no-device | TG_CONFORM_ARGS...]
# The conformance suite on the opencl plugin: every case must pass on the
# device there is (skipped, exit 77, without one), and nothing may say
# "warning" on stderr (PoCL's compiler prints "N warnings generated" there
# unless the plugin silences it). --no-device hides every OpenCL ICD and
# checks that cases are UNSUPPORTED, none PASS, and the run fails for
# executing nothing.
tg=$1
plugin=$2
if [ "$3" = --no-device ]; then
    empty=$(mktemp -d) || exit 1
    out=$(OCL_ICD_VENDORS=$empty "$tg" conform --plugin "$plugin" --filter op.ADD.float32 2>&1)
    rc=$?
    rmdir "$empty"
    if echo "$out" | grep '^ok ' | grep -qv '# SKIP'; then echo "$out"; echo "FAIL: a case passed without a device"; exit 1; fi
    if ! echo "$out" | grep -q ' 0 pass, 0 fail, [1-9][0-9]* unsupported'; then echo "$out"; exit 1; fi
    if [ "$rc" -eq 0 ]; then echo "FAIL: tg conform exited 0 without running a case"; exit 1; fi
    echo "$out" | tail -3
    exit 0
fi
shift 2
err=$(mktemp) || exit 1
out=$("$tg" conform --plugin "$plugin" --jobs 2 "$@" 2>"$err")
rc=$?
if grep -q 'executed no case (no device' "$err"; then
    tail -3 "$err"
    rm -f "$err"
    exit 77
fi
echo "$out" | grep -v '^ok '
cat "$err"
if grep -qi 'warning' "$err"; then echo "FAIL: something printed a warning to stderr"; rc=1; fi
rm -f "$err"
exit $rc
