#!/usr/bin/env bash
# The vendor's path, end to end (TAP): install tg into a temporary prefix,
# generate a plugin with `tg new-plugin`, build it out of tree with only
# PKG_CONFIG_PATH set, and certify it with `tg conform`.
#   new_plugin_test.sh BUILD_ROOT CONFORM_FILTER
set -u
build=$1
filter=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
echo "TAP version 14"

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1
ok $? "meson install into a temporary prefix"
pc=$(find "$tmp/root" -name tg-plugin.pc | head -n 1)
[ -n "$pc" ]; ok $? "the prefix has tg-plugin.pc"
grep -q pcfiledir "$pc"
ok $? "tg-plugin.pc is relocatable (a build dir configured before meson.build set pkgconfig.relocatable needs: meson configure BUILD -Dpkgconfig.relocatable=true)"
tg=$(find "$tmp/root" -path '*/bin/tg' | head -n 1)
lib=$(dirname "$(find "$tmp/root" -name 'libtg.so*' | head -n 1)")
export LD_LIBRARY_PATH="$lib"
# conform judges against ref: the installed one, from the prefix.
export TG_PLUGIN_PATH="$(dirname "$(find "$tmp/root" -name tg-ref.so | head -n 1)")"

cd "$tmp"
"$tg" new-plugin 9lives >out.txt 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "not a valid plugin name" out.txt; ok $? "new-plugin refuses a NAME that is not an identifier"
mkdir taken
"$tg" new-plugin myaccel taken >out.txt 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "already exists" out.txt; ok $? "new-plugin refuses a DIR that exists"
"$tg" new-plugin myaccel >out.txt 2>&1
ok $? "new-plugin myaccel"
[ -f myaccel/myaccel.c ] && ! grep -qw template myaccel/myaccel.c myaccel/meson.build; ok $? "NAME substituted in file names and contents"

# Only PKG_CONFIG_PATH tells the out-of-tree build where tg is.
(cd myaccel && env -u TG_PLUGIN_PATH PKG_CONFIG_PATH="$(dirname "$pc")" meson setup build >"$tmp/setup.log" 2>&1 &&
    meson compile -C build >"$tmp/compile.log" 2>&1)
rc=$?; ok $rc "the generated plugin builds out of tree against the prefix"
[ $rc -eq 0 ] || { cat "$tmp/setup.log" "$tmp/compile.log" | sed 's/^/# /'; }

"$tg" plugins --json 2>/dev/null | grep -q '"tg-' ; true
"$tg" conform --plugin "$tmp/myaccel/build/tg-myaccel.so" --filter "$filter" --jobs 2 >conform.tap 2>conform.err
rc=$?; ok $rc "tg conform certifies the untouched plugin ($filter)"
[ $rc -eq 0 ] || { grep -E '^not ok' conform.tap | head -20 | sed 's/^/# /'; tail -5 conform.err | sed 's/^/# /'; }
grep -qE '^ok [0-9]+' conform.tap; ok $? "conformance ran cases"
echo "1..$n"
[ $failed -eq 0 ]
