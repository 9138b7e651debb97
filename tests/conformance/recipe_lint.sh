#!/bin/sh
# Lints a recipe: `workflow` (.github/workflows/conformance.yml: actionlint,
# else the GitHub workflow schema through check-jsonschema) or `kubernetes`
# (conformance/recipes/kubernetes.yaml: kubernetes-validate --strict against
# the Kubernetes API schemas), both with yamllint, and their shell scripts
# with shellcheck where it is installed. Tools from $TG_LINT_BIN (the venv
# ./dev installs) or PATH; exit 77 (skip) when the schema checker is missing.
# Usage: recipe_lint.sh workflow|kubernetes SOURCE_ROOT
what=$1
root=$2
. "$(dirname "$0")/recipe_lib.sh"

tool() { # the path of a tool, or nothing
    if [ -n "$TG_LINT_BIN" ] && [ -x "$TG_LINT_BIN/$1" ]; then echo "$TG_LINT_BIN/$1"; else command -v "$1"; fi
}

yamllint_cfg='{extends: default, rules: {line-length: {max: 200}, document-start: disable, truthy: {check-keys: false}}}'
case "$what" in
workflow)
    file=$root/.github/workflows/conformance.yml
    shell=bash
    scripts='run: [|]$'
    if [ -n "$(tool actionlint)" ]; then
        set -- "$(tool actionlint)" "$file"
    elif [ -n "$(tool check-jsonschema)" ]; then
        set -- "$(tool check-jsonschema)" --builtin-schema vendor.github-workflows "$file"
    else
        echo "neither actionlint nor check-jsonschema is installed (./dev test installs check-jsonschema): skipped"
        exit 77
    fi
    ;;
kubernetes)
    file=$root/conformance/recipes/kubernetes.yaml
    shell=sh
    scripts='- [|]$'
    if [ -z "$(tool kubernetes-validate)" ]; then
        echo "kubernetes-validate is not installed (./dev test installs it): skipped"
        exit 77
    fi
    set -- "$(tool kubernetes-validate)" --strict "$file"
    ;;
*)
    echo "usage: recipe_lint.sh workflow|kubernetes SOURCE_ROOT" >&2
    exit 2
    ;;
esac
rc=0
echo "== $*"
"$@" || rc=1
if [ -n "$(tool yamllint)" ]; then
    echo "== yamllint $file"
    "$(tool yamllint)" -s -d "$yamllint_cfg" "$file" || rc=1
fi
if [ -n "$(tool shellcheck)" ]; then
    tmp=$(mktemp -d /tmp/tg-lint-XXXXXX)
    block "$file" "" "$scripts" | awk -v dir="$tmp" '/^#--$/ { k++; next } { print > (dir "/script-" k ".sh") }'
    for f in "$tmp"/script-*.sh; do
        echo "== shellcheck -s $shell $(head -1 "$f" | cut -c1-60)..."
        shellcheck -s "$shell" -S warning "$f" || rc=1
    done
    rm -rf "$tmp"
fi
exit $rc
