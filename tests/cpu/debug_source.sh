#!/bin/sh
# TG_DEBUG=4 shows the generated source of the programs `tg conform --case`
# creates (TAP).   debug_source.sh TG CPU_PLUGIN
tg=$1
echo "TAP version 14"
err=$(TG_DEBUG=4 "$tg" conform --plugin "$2" --case 'op.ADD.float32.shape=17x3' 2>&1 >/dev/null)
if echo "$err" | grep -q -- '^--- cpu: ' && echo "$err" | grep -q 'void tgk('; then
    echo "ok 1 - TG_DEBUG=4 prints the cpu plugin's C source under tg conform --case"
else
    echo "not ok 1 - TG_DEBUG=4 printed no source under tg conform --case"; echo "$err" | head -5 | sed 's/^/# /'
fi
out=$("$tg" conform --plugin "$2" --case 'op.ADD.float32.shape=17x3' 2>&1)
if echo "$out" | grep -q 'void tgk('; then echo "not ok 2 - source printed without TG_DEBUG"; else echo "ok 2 - no source without TG_DEBUG"; fi
echo "1..2"
