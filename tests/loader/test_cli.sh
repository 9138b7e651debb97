#!/bin/sh
# The tg command: `tg plugins` lists the broken test plugins with their
# reasons and the good ones with their devices; usage errors exit 2.
# usage: test_cli.sh TG  (TG_PLUGIN_PATH points at the test plugins)
tg=$1
# `tg plugins` also opens the build tree's plugins, whose drivers (Mesa,
# OpenCL ICDs) keep allocations at exit: no leak check here (test_loader
# checks the loader itself for leaks).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
n=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
echo "TAP version 14"
ok() { # ok COND-STATUS NAME
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
# run EXPECTED-STATUS ARGS...: runs tg, stdout in $out, stderr in $err
run() {
    want=$1
    shift
    "$tg" "$@" >"$out" 2>"$err"
    got=$?
    [ "$got" -eq "$want" ]
    ok $? "tg $* exits $want (got $got)"
}
has() { grep -q -- "$2" "$1"; ok $? "$3"; }
lines() { [ "$(wc -l <"$1")" -eq "$2" ]; ok $? "$3"; }

run 0 plugins
for p in "nosym.*TG_ERR_NOT_FOUND" "refuse.*TG_ERR_VERSION" "major.*TG_ERR_VERSION" "small.*TG_ERR_VERSION" \
         "nullslot.*TG_ERR_INVALID" "noname.*TG_ERR_INVALID" "garbage.*TG_ERR_IO"; do
    has "$out" "^${p%%.*} FAILED.*${p##*\*}.*tg-${p%%.*}.so" "plugins lists ${p%%.*} as failed"
done
has "$out" "no entry symbol 'tg_plugin_entry'" "nosym's reason"
has "$out" "needs a frobnicator" "refuse's reason"
has "$out" "plugin speaks 2.1, core speaks 1.2" "major's reason"
has "$out" "struct_size 40" "small's reason"
has "$out" "required slot buffer_read is NULL" "nullslot's reason"
has "$out" "invalid ELF header\|not a dynamic\|file too short" "garbage's reason"
for p in ctorcrash entryabort countcrash entryhang; do
    has "$out" "^$p FAILED.*TG_ERR_INTERNAL.*tg-$p.so" "plugins lists $p as failed"
done
has "$out" "crashed with SIGSEGV while loading" "ctorcrash's reason"
has "$out" "crashed with SIGABRT while loading" "entryabort's reason"
has "$out" "did not answer within" "entryhang's reason"
has "$out" "^old 0.0.1 (ABI 1.0)" "old loads (ABI 1.0)"
has "$out" "^new 0.0.1 (ABI 1.7)" "new loads (ABI 1.7)"
has "$out" "device 0: fake device" "the fake device opens"
has "$out" "dtypes: float32" "caps: dtypes"
has "$out" "max dims 4, view depth 1, vector width 16 bytes" "caps: limits"
has "$out" "memory: 1.0 MiB, host-visible no" "caps: memory"
lines "$err" 0 "nothing on stderr"
has "$out" "returned TG_OK but no device" "nulldev: a missing device is named"
! grep -q "cannot open: TG_OK" "$out"; ok $? "no 'cannot open: TG_OK'"
! grep -q "(null)" "$out"; ok $? "a NULL plugin message is not printed as (null)"
has "$out" "(the plugin gave no message)" "nullmsg: says there is no message"
[ "$(wc -L <"$out")" -lt 1000 ]; ok $? "a 16 MiB plugin message is cut (longest line $(wc -L <"$out"))"
has "$out" "^thread 0.0.1" "a plugin whose thread outlives dlclose is listed"
has "$out" "^capscrash FAILED (TG_ERR_INTERNAL)" "a crash in device_caps does not end tg plugins"
has "$out" "^  crashed while listing its devices (signal 11" "and is named as a crash while listing devices"
run 1 conform --plugin capscrash --case op.NEG.float32.shape=17x3
has "$err" "crashed in device_caps" "tg conform names device_caps as where the plugin crashed"
! grep -q "while loading" "$err"; ok $? "and does not say it crashed while loading"

run 0 plugins --json
has "$out" '"name": "refuse", "path": "[^"]*tg-refuse.so", "status": "TG_ERR_VERSION", "error": "plugin refused' \
    "json: refuse with status and error"
has "$out" '"abi": "1.7"' "json: new's ABI version"
has "$out" '"dtypes": \["float32"\]' "json: caps"
has "$out" '^\]}$' "json: closed"

run 2 bogus
has "$err" "^tg: unknown command 'bogus'" "unknown command: one line"
lines "$err" 1 "unknown command: exactly one line"
run 2 --bogus
has "$err" "^tg: unknown option '--bogus'" "unknown option"
run 2 plugins --bogus
has "$err" "^tg plugins: unknown option '--bogus'" "unknown subcommand option"
lines "$err" 1 "unknown subcommand option: one line"
run 2 plugins extra
run 2 help bogus
run 2
run 0 --help
has "$out" "^  plugins " "--help lists plugins"
run 0 plugins --help
has "$out" "usage: tg plugins" "plugins --help"
run 0 --version
has "$out" "^tg [0-9]" "--version"

tap=$(mktemp)
"$tg" conform --plugin ref --case op.NEG.float32.shape=17x3 --tap "$tap" >/dev/null 2>&1
[ "$(grep -c "^TAP version" "$tap")" -eq 1 ] && [ "$(grep -c "^ok " "$tap")" -eq 1 ]
ok $? "tg conform --tap FILE: one TAP header, one test point (children do not repeat buffered lines)"
rm -f "$tap"

# A report to a full disk is an error, never a truncated file and exit 0.
"$tg" plugins >/dev/full 2>"$err"
[ $? -eq 1 ]; ok $? "tg plugins to a full disk exits 1"
has "$err" "error writing to standard output" "and says so"
"$tg" plugins --json >/dev/full 2>/dev/null
[ $? -eq 1 ]; ok $? "tg plugins --json to a full disk exits 1"
"$tg" --help >/dev/full 2>/dev/null
[ $? -ne 0 ]; ok $? "tg --help to a full disk fails"
"$tg" conform --plugin ref --case op.NEG.float32.shape=17x3 --tap /dev/full >/dev/null 2>"$err"
[ $? -eq 1 ]; ok $? "tg conform --tap on a full disk exits 1"
has "$err" "/dev/full" "and names the file"
"$tg" conform --plugin ref --case op.NEG.float32.shape=17x3 >/dev/full 2>/dev/null
[ $? -eq 1 ]; ok $? "tg conform with TAP on stdout to a full disk exits 1"

echo "1..$n"
[ "$failed" -eq 0 ]
