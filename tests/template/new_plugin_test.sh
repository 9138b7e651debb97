#!/usr/bin/env bash
# The vendor's path, end to end (TAP): install tg into a temporary prefix,
# generate a plugin with `tg new-plugin`, build it out of tree with only
# PKG_CONFIG_PATH set, check that the build is reproducible, and certify it
# with `tg conform`.
# The same for the code-generating template (new-plugin --codegen).
#   new_plugin_test.sh BUILD_ROOT CONFORM_FILTER [CODEGEN_FILTERS (space-separated)]
set -u
build=$1
filter=$2
cg_filter=${3:-$2}
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
for doc in ABI.md OPS.md WRITING_A_PLUGIN.md conformance.md; do
    [ -n "$(find "$tmp/root" -path "*/share/doc/tg/$doc")" ] || break
done
ok $? "the SDK's documents are installed (share/doc/tg)"
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

[ -f myaccel/.gitignore ]; ok $? "the project has a .gitignore"

# Only PKG_CONFIG_PATH tells the out-of-tree build where tg is.
build_plugin() { # build_plugin DIR LOG
    (cd "$1" && env -u TG_PLUGIN_PATH PKG_CONFIG_PATH="$(dirname "$pc")" meson setup build >"$2" 2>&1 &&
        meson compile -C build >>"$2" 2>&1)
}
build_plugin myaccel "$tmp/build.log"
rc=$?; ok $rc "the generated plugin builds out of tree against the prefix"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/build.log"

# The same source built elsewhere is the same plugin (certificates name its SHA-256).
mkdir elsewhere && cp -r myaccel elsewhere/ && rm -rf elsewhere/myaccel/build
build_plugin elsewhere/myaccel "$tmp/build2.log"
[ "$(sha256sum <myaccel/build/tg-myaccel.so)" = "$(sha256sum <elsewhere/myaccel/build/tg-myaccel.so)" ]
ok $? "the release build is reproducible: same SHA-256 from another directory"

"$tg" conform --plugin "$tmp/myaccel/build/tg-myaccel.so" --filter "$filter" --jobs 2 >conform.tap 2>conform.err
rc=$?; ok $rc "tg conform certifies the untouched plugin ($filter)"
[ $rc -eq 0 ] || { grep -E '^not ok' conform.tap | head -20 | sed 's/^/# /'; tail -5 conform.err | sed 's/^/# /'; }
grep -qE '^ok [0-9]+' conform.tap; ok $? "conformance ran cases"

# The code-generating template: renders through the SDK's lowering library.
"$tg" new-plugin mygpu --codegen >out.txt 2>&1
ok $? "new-plugin mygpu --codegen"
grep -q 'tgl_render' mygpu/mygpu.c && grep -q 'TODO(vendor)' mygpu/mygpu.c; ok $? "the codegen plugin renders through the library, with TODO(vendor) marks"
build_plugin mygpu "$tmp/build3.log"
rc=$?; ok $rc "the codegen plugin builds out of tree, linking the lowering library from the prefix"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/build3.log"
cg_args=""
for f in $cg_filter; do cg_args="$cg_args --filter $f"; done
"$tg" conform --plugin "$tmp/mygpu/build/tg-mygpu.so" $cg_args --jobs 2 >conform2.tap 2>conform2.err
rc=$?; ok $rc "tg conform certifies the untouched codegen plugin ($cg_filter)"
[ $rc -eq 0 ] || { grep -E '^not ok' conform2.tap | head -20 | sed 's/^/# /'; tail -5 conform2.err | sed 's/^/# /'; }
grep -qE '^ok [0-9]+' conform2.tap; ok $? "conformance ran cases on the codegen plugin"
echo "1..$n"
[ $failed -eq 0 ]
