#!/bin/sh
# tg bench --plugin PATH --json FILE (TAP): a plugin given by its path writes
# valid JSON next to FILE (no part file named after the path) and its rows
# carry the plugin's own name, not the path.
#   bench_path.sh TG PLUGIN_PATH
tg=$1
plugin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
echo "TAP version 14"
"$tg" bench --plugin "$plugin" --quick --filter overhead/launch_sync --json "$tmp/out.json" >"$tmp/table" 2>"$tmp/err"
ok $? "tg bench --plugin PATH --json FILE exits 0"
grep -q '"name": "ref/overhead/launch_sync' "$tmp/out.json"; ok $? "the JSON holds the run, named by the plugin's own name"
head -n 1 "$tmp/table" | grep -q '| ref' && ! grep -q "$plugin" "$tmp/table"; ok $? "the table's column is 'ref', not the path"
[ "$(ls "$tmp")" = "$(printf 'err\nout.json\ntable')" ]; ok $? "no part files left behind"
echo "1..$n"
[ "$failed" -eq 0 ]
