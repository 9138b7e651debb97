#!/bin/sh
# The recipes' own commands, run here: the GitHub workflow's shard script as
# N local processes in parallel (N = its SHARDS), then its merge and verify
# scripts; the same for the Kubernetes Indexed Job (JOB_COMPLETION_INDEX
# 0..N-1) and its merge Job. Each merged certificate must equal an unsharded
# run's case by case (id, row, dtype, levels, result). TAP on stdout.
# Usage: recipe_shards.sh TG SOURCE_ROOT (TG_PLUGIN_PATH as for the suite).
tg=$1
root=$2
case $tg in /*) ;; *) tg=$PWD/$tg ;; esac
workflow=$root/.github/workflows/conformance.yml
manifest=$root/conformance/recipes/kubernetes.yaml
tmp=$(mktemp -d /tmp/tg-recipe-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { # ok STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}

. "$(dirname "$0")/recipe_lib.sh"

# cases CERT: its case lines, sorted (the order of shards differs).
cases() { grep '{"id": ' "$1" | sed 's/},*$/}/' | sort; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

echo "TAP version 14"
t0=$(now)
"$tg" conform --plugin ref --jobs 2 --timeout 120 --json "$tmp/full.json" >/dev/null 2>&1
ok $? "the unsharded run of ref passes"
echo "# unsharded, --jobs 2: $(since "$t0") s"
cases "$tmp/full.json" >"$tmp/full.cases"

# --- GitHub Actions
shard=$(block "$workflow" 'conform --plugin "$PLUGIN" --shard')
merge=$(block "$workflow" 'conform merge')
verify=$(block "$workflow" 'conform verify')
shards=$(sed -n 's/^  SHARDS: *\([0-9][0-9]*\).*/\1/p' "$workflow")
list=$(sed -n 's/^ *shard: *\[\(.*\)\]/\1/p' "$workflow" | tr -d ' ')
[ -n "$shard" ] && [ -n "$merge" ] && [ -n "$verify" ] && [ "$list" = "$(seq -s, 1 "$shards")" ]
ok $? "the workflow has a shard, a merge and a verify script; matrix.shard is 1..SHARDS ($list; SHARDS $shards)"
mkdir "$tmp/gh"
t0=$(now)
i=1
while [ "$i" -le "$shards" ]; do
    (cd "$tmp/gh" && TG=$tg PLUGIN=ref SHARD=$i SHARDS=$shards sh -c "$shard" 2>"stderr-$i.txt") &
    i=$((i + 1))
done
wait
echo "# workflow: $shards shards in parallel: $(since "$t0") s"
(cd "$tmp/gh" && TG=$tg PLUGIN=ref sh -c "$merge" && TG=$tg PLUGIN=ref sh -c "$verify") >"$tmp/gh/verify.txt" 2>&1
ok $? "the workflow's merge and verify scripts pass on the $shards certificates"
grep -q '^  core *certified' "$tmp/gh/verify.txt" && grep -q "$shards shards" "$tmp/gh/verify.txt"
ok $? "verify prints level core certified, $shards shards"
cases "$tmp/gh/cert-ref.json" | cmp -s - "$tmp/full.cases"
ok $? "the workflow's merged certificate equals the unsharded run case by case ($(wc -l <"$tmp/full.cases") cases)"

# --- Kubernetes
shard=$(block "$manifest" 'JOB_COMPLETION_INDEX')
merge=$(block "$manifest" 'conform merge')
shards=$(sed -n 's/.*{name: SHARDS, value: "\([0-9]*\)"}.*/\1/p' "$manifest" | sort -u)
completions=$(sed -n 's/^ *completions: *\([0-9]*\)/\1/p' "$manifest")
[ -n "$shard" ] && [ -n "$merge" ] && [ "$shards" = "$completions" ]
ok $? "the manifest has a shard and a merge script; completions = SHARDS ($completions, $shards)"
mkdir "$tmp/k8s"
t0=$(now)
i=0
while [ "$i" -lt "$shards" ]; do
    (TG=$tg PLUGIN=ref SHARDS=$shards CERTS=$tmp/k8s JOB_COMPLETION_INDEX=$i sh -c "$shard" 2>"$tmp/k8s/stderr-$i.txt") &
    i=$((i + 1))
done
wait
echo "# kubernetes: $shards indexed pods in parallel: $(since "$t0") s"
TG=$tg PLUGIN=ref SHARDS=$shards CERTS=$tmp/k8s sh -c "$merge" >"$tmp/k8s/verify.txt" 2>&1
ok $? "the merge Job's script merges and verifies the $shards certificates"
cases "$tmp/k8s/cert-ref.json" | cmp -s - "$tmp/full.cases"
ok $? "the Kubernetes merged certificate equals the unsharded run case by case"
[ "$fails" -eq 0 ] || cat "$tmp"/*/verify.txt "$tmp"/*/stderr-*.txt 2>/dev/null | sed 's/^/# /' | head -40
echo "1..$n"
[ "$fails" -eq 0 ]
