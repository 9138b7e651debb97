/* The suite's parts: catalog, values, SHA-256, globs, case files,
 * expectations, shards and certificate merging, the fuzzer and shrinker.
 * Environment as for test_conform_faults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tg/conform.h>
#include "tap.h"

static void test_catalog(const tgc_catalog *cat) {
    size_t invalid = 0, dup = 0, per_row[TGC_ROW_COUNT] = {0};
    for (size_t i = 0; i < cat->count; i++) {
        const tgc_case *c = &cat->cases[i];
        tg_kernel k;
        tgc_case_kernel(c, &k);
        if (!c->composite && !c->abi && tg_kernel_validate(&k, NULL) != TG_OK && invalid++ < 3) tap_diag("invalid: %s: %s", c->id, tg_last_error());
        per_row[c->row]++;
        if (i + 1 < cat->count && tgc_catalog_find(cat, c->id) != (long)i) dup++;
    }
    tap_ok(cat->count > 1000, "the catalog holds %zu cases", cat->count);
    tap_ok(invalid == 0, "every case's kernel validates (%zu do not)", invalid);
    tap_ok(dup == 0, "case ids are unique (%zu repeats)", dup);
    int rows_ok = 1;
    for (int r = 0; r < TGC_ROW_COUNT; r++) {
        static const char *const extra[] = {"fusion", "composite", "autodiff", "abi", "memory"};
        tap_diag("cases for %-10s %zu", r >= TGC_ROW_FUSION ? extra[r - TGC_ROW_FUSION] : tg_op_name((tg_op)r), per_row[r]);
        rows_ok &= per_row[r] > 0;
    }
    tap_ok(rows_ok, "every op (movement ops too), fusion, composites, autodiff, the ABI and memory have cases");
    size_t comp = 0, abi = 0, mem = 0;
    while (comp < cat->count && !cat->cases[comp].composite) comp++;
    while (abi < cat->count && !cat->cases[abi].abi) abi++;
    while (mem < cat->count && !cat->cases[mem].memory) mem++;
    tap_ok(comp < cat->count && tgc_casefile_write(stdout, &cat->cases[comp]) == TG_ERR_INVALID && abi < cat->count &&
               tgc_casefile_write(stdout, &cat->cases[abi]) == TG_ERR_INVALID && mem < cat->count &&
               tgc_casefile_write(stdout, &cat->cases[mem]) == TG_ERR_INVALID,
           "tensor-API, ABI and memory cases have no case file form");
    /* every op x dtype it is defined on */
    const char *need[] = {"op.SIN.bfloat16.shape=17x3", "op.DIV.uint64.shape=61.values=special",
                          "op.CAST.float16>int64.shape=61.values=boundary", "op.REDUCE_MAX.bool.shape=17x3.axes=1",
                          "move.PAD.bfloat16.shape=4x3x5", "op.ADD.int32.shape=2x1x2x3x1x2x1x3.rank",
                          "op.MULACC.float32.shape=5x7.view=stack", NULL};
    int found = 1;
    for (const char **n = need; *n; n++)
        if (tgc_catalog_find(cat, *n) < 0) found = 0, tap_diag("missing %s", *n);
    tap_ok(found, "sample ids exist (readable, stable names)");
    tap_ok(tgc_catalog_find(cat, "op.SIN.int32.shape=17x3") < 0 && tgc_catalog_find(cat, "op.ADD.bool.shape=17x3") < 0,
           "no case for an op a dtype does not have");
}

static void test_values(void) {
    uint8_t b[8];
    tgc_set(b, TG_FLOAT16, 0, 1 + ldexp(1, -11)); /* a tie: to even */
    int ok = tgc_bits(b, TG_FLOAT16, 0) == 0x3c00;
    tgc_set(b, TG_FLOAT16, 0, 1 + ldexp(1, -11) + ldexp(1, -30)); /* above the tie: through float it would tie */
    ok &= tgc_bits(b, TG_FLOAT16, 0) == 0x3c01;
    tap_ok(ok, "double -> float16 rounds once, to nearest even");
    tgc_set(b, TG_BFLOAT16, 0, 1 + ldexp(1, -8) + ldexp(1, -40));
    ok = tgc_bits(b, TG_BFLOAT16, 0) == 0x3f81;
    tgc_set(b, TG_FLOAT16, 0, 70000);
    ok &= tgc_bits(b, TG_FLOAT16, 0) == 0x7c00;
    tgc_set(b, TG_FLOAT16, 0, ldexp(1, -24));
    ok &= tgc_bits(b, TG_FLOAT16, 0) == 0x0001 && tgc_get(b, TG_FLOAT16, 0) == ldexp(1, -24);
    tap_ok(ok, "bfloat16 rounding, float16 overflow and subnormals");
    ok = tgc_ulp_distance(TG_FLOAT32, 0x00000000u, 0x80000000u) == 0 && tgc_ulp_distance(TG_FLOAT32, 0x3f800000u, 0x3f800001u) == 1 &&
         tgc_ulp_distance(TG_FLOAT32, 0x00000001u, 0x80000001u) == 2 && tgc_ulp_distance(TG_FLOAT32, 0x7f7fffffu, 0x7f800000u) == 1 &&
         tgc_ulp(TG_FLOAT32, 1.0) == ldexp(1, -23) && tgc_ulp(TG_FLOAT16, 0) == ldexp(1, -24);
    tap_ok(ok, "ULP distances over ordered bit patterns; ULP sizes");
}

static void test_sha_glob(void) {
    char hex[65];
    tg_sha256_hex("abc", 3, hex);
    tap_ok(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "SHA-256('abc')");
    char big[1000];
    memset(big, 'a', sizeof big);
    tg_sha256_hex(big, sizeof big, hex);
    tap_ok(!strcmp(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"), "SHA-256 of 1000 'a's (several blocks)");
    tap_ok(tgc_glob("op.ADD.*", "op.ADD.float32.shape=1") && !tgc_glob("op.ADD.*", "op.SUB.float32") &&
               tgc_glob("*flip*", "op.NEG.int32.view=flip") && tgc_glob("op.?UL.*", "op.MUL.x") && !tgc_glob("a", "ab"),
           "glob matching");
}

static int same_case(const tgc_case *a, const tgc_case *b) {
    return !strcmp(a->id, b->id) && a->row == b->row && a->dtype == b->dtype && a->rule == b->rule &&
           a->judge == b->judge && a->tol_ulp == b->tol_ulp && a->levels == b->levels && a->seed == b->seed &&
           a->ndim == b->ndim && !memcmp(a->shape, b->shape, sizeof a->shape) && a->reduce_axes == b->reduce_axes &&
           a->nnodes == b->nnodes && a->nviews == b->nviews && a->nparams == b->nparams &&
           !memcmp(a->nodes, b->nodes, a->nnodes * sizeof a->nodes[0]) &&
           !memcmp(a->views, b->views, a->nviews * sizeof a->views[0]) &&
           !memcmp(a->params, b->params, a->nparams * sizeof a->params[0]) && !memcmp(a->values, b->values, a->nparams);
}

static void test_casefile(const tgc_catalog *cat) {
    char path[] = "/tmp/tg-conform-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!tap_ok(f != NULL, "a temporary case file")) return;
    size_t step = cat->count / 97 + 1, n = 0;
    for (size_t i = 0; i < cat->count; i += step)
        if (!cat->cases[i].composite && !cat->cases[i].nargs && !cat->cases[i].abi && !cat->cases[i].memory) tgc_casefile_write(f, &cat->cases[i]), n++;
    fclose(f);
    tgc_catalog back = {0};
    int ok = tgc_casefile_read(path, &back) == TG_OK && back.count == n;
    for (size_t i = 0, j = 0; ok && i < cat->count; i += step)
        if (!cat->cases[i].composite && !cat->cases[i].nargs && !cat->cases[i].abi && !cat->cases[i].memory) ok = same_case(&cat->cases[i], &back.cases[j++]);
    tap_ok(ok, "case files round-trip %zu catalog cases exactly", n);
    tgc_catalog_free(&back);
    f = fopen(path, "w");
    fprintf(f, "case x\nmeta ADD float32 node 0 0 1 1\nkernel 1 3 reduce 0\nnode FROB float32 -1 -1 -1 0 0 1 0\nend\n");
    fclose(f);
    tap_ok(tgc_casefile_read(path, &back) == TG_ERR_INVALID && strstr(tg_last_error(), ":4:"),
           "a bad case file is refused with its line: %s", tg_last_error());
    tgc_catalog_free(&back);
    remove(path);
}

static size_t select_glob(const tgc_catalog *cat, const char *glob, size_t *sel) {
    size_t n = 0;
    for (size_t i = 0; i < cat->count; i++)
        if (tgc_glob(glob, cat->cases[i].id)) sel[n++] = i;
    return n;
}

static void test_expectations(const tgc_catalog *cat) {
    char path[] = "/tmp/tg-expect-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nop.SIN.float32.shape=17x3   sin is 5 ulp off on purpose\nop.NEG.float32.shape=17x3 listed but fine\n");
    fclose(f);
    tgc_expect ex;
    size_t sel[4];
    tgc_outcome out[4] = {0};
    int ok = tgc_expect_load(path, &ex) == TG_OK && ex.count == 2;
    sel[0] = (size_t)tgc_catalog_find(cat, "op.SIN.float32.shape=17x3");
    sel[1] = (size_t)tgc_catalog_find(cat, "op.NEG.float32.shape=17x3");
    sel[2] = (size_t)tgc_catalog_find(cat, "op.ADD.float32.shape=17x3");
    tgc_options opt = {.plugin = getenv("TG_WRONG_PLUGIN"), .ref = getenv("TG_PROXY_REF"), .jobs = 1, .timeout_s = 20};
    ok = ok && tgc_run(cat, sel, 3, &opt, &ex, out) == TG_OK;
    tap_ok(ok && out[0].result == TGC_XFAIL && out[0].xfail_reason && strstr(out[0].xfail_reason, "5 ulp"),
           "an expected failure is XFAIL with its reason");
    tap_ok(ok && out[1].result == TGC_XPASS, "a listed case that passes is flagged XPASS");
    tap_ok(ok && out[2].result == TGC_PASS, "an unlisted case is judged as usual");
    for (int i = 0; i < 3; i++) free(out[i].detail), free(out[i].xfail_reason);
    tgc_expect_free(&ex);
    f = fopen(path, "w");
    fprintf(f, "op.ADD.*\n");
    fclose(f);
    tap_ok(tgc_expect_load(path, &ex) == TG_ERR_INVALID, "an expectation without a reason is refused");
    remove(path);
}

static int count_lines(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    if (f) fclose(f);
    return n;
}

/* Copies file `from` to `to` with the first `a` replaced by `b`. */
static void copy_replacing(const char *from, const char *to, const char *a, const char *b) {
    static char text[1 << 20];
    FILE *f = fopen(from, "r");
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[len] = '\0';
    char *hit = strstr(text, a);
    f = fopen(to, "w");
    if (!f) return;
    if (hit) {
        fwrite(text, 1, (size_t)(hit - text), f);
        fputs(b, f);
        fputs(hit + strlen(a), f);
    } else {
        fputs(text, f);
    }
    fclose(f);
}

static void test_shards(const tgc_catalog *cat) {
    size_t *sel = malloc(cat->count * sizeof *sel), n = select_glob(cat, "op.NEG.*", sel), part[2] = {0};
    size_t *ps[2] = {malloc(n * sizeof(size_t)), malloc(n * sizeof(size_t))};
    for (size_t i = 0; i < n; i++) {
        int s = tgc_shard_of(cat->cases[sel[i]].id, 2) - 1;
        ps[s][part[s]++] = sel[i];
    }
    tgc_plugin_facts facts;
    int ok = tgc_plugin_facts_get(getenv("TG_PROXY_REF"), &facts) == TG_OK && facts.loaded && strlen(facts.sha256) == 64;
    tap_ok(ok && !strcmp(facts.name, "ref") && facts.ndevices == 1, "facts of ref: name, devices, sha256 %s", facts.sha256);
    char p1[64], p2[64], merged[64];
    snprintf(p1, sizeof p1, "/tmp/tg-conform-%d-shard1.json", (int)getpid());
    snprintf(p2, sizeof p2, "/tmp/tg-conform-%d-shard2.json", (int)getpid());
    snprintf(merged, sizeof merged, "/tmp/tg-conform-%d-merged.json", (int)getpid());
    const char *paths[2] = {p1, p2};
    tgc_options opt = {.plugin = getenv("TG_PROXY_REF"), .ref = getenv("TG_PROXY_REF"), .jobs = 2, .timeout_s = 20};
    for (int s = 0; s < 2; s++) {
        tgc_outcome *out = calloc(part[s] + 1, sizeof *out);
        ok &= tgc_run(cat, ps[s], part[s], &opt, NULL, out) == TG_OK;
        tgc_report r = {cat, ps[s], part[s], out, &facts, 1.0, s + 1, 2};
        ok &= tgc_report_json(paths[s], &r) == TG_OK;
        for (size_t i = 0; i < part[s]; i++) free(out[i].detail);
        free(out);
    }
    ok &= tgc_report_merge(paths, 2, merged) == TG_OK;
    tap_ok(ok && part[0] && part[1], "two shards run and merge (%zu + %zu cases)", part[0], part[1]);
    tap_ok(count_lines(merged, "\"result\": \"PASS\"") == (int)n && count_lines(merged, "\"shards\": \"2\"") == 1 &&
               count_lines(merged, facts.sha256) == 1 && count_lines(merged, "\"NEG\": {") == 1 &&
               count_lines(merged, "\"levels\": {\"core\": \"partial\", \"full\": \"partial\", \"fusion\": \"not-run\"") == 1,
           "the merged certificate holds every case once, the plugin's hash and the table");
    /* merge refuses what would certify by accident */
    const char *again[2] = {p1, p1};
    tap_ok(tgc_report_merge(again, 2, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "twice"),
           "merging a shard with itself fails: %s", tg_last_error());
    tap_ok(tgc_report_merge(paths, 1, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "shard 2/2 is missing"),
           "merging without every shard fails: %s", tg_last_error());
    char p3[64];
    snprintf(p3, sizeof p3, "/tmp/tg-conform-%d-shard3.json", (int)getpid());
    const char *with3[2] = {p1, p3};
    copy_replacing(p1, p3, "\"shard\": \"1/2\"", "\"shard\": \"2/2\"");
    tap_ok(tgc_report_merge(with3, 2, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "appears twice"),
           "a case id in two shards is refused: %s", tg_last_error());
    copy_replacing(p2, p3, "\"result\": \"PASS\"", "\"result\": \"PASSED\"");
    tap_ok(tgc_report_merge(with3, 2, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "unknown result 'PASSED'"),
           "an unknown result string is refused: %s", tg_last_error());
    copy_replacing(p2, p3, "\"dtype\": \"", "\"dtype\": \"x");
    tap_ok(tgc_report_merge(with3, 2, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "unknown dtype"),
           "an unknown dtype is refused: %s", tg_last_error());
    copy_replacing(p2, p3, "\"suite_version\": \"", "\"suite_version\": \"0.");
    tap_ok(tgc_report_merge(with3, 2, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "suite version"),
           "shards of another suite version are refused: %s", tg_last_error());
    copy_replacing(p2, p3, "\"shard\": \"2/2\"", "\"shard\": \"2/3\"");
    tap_ok(tgc_report_merge(with3, 2, merged) == TG_ERR_INVALID && strstr(tg_last_error(), "one of 2"),
           "shards of another shard count are refused: %s", tg_last_error());
    remove(p3);
    /* reports on a full disk fail instead of leaving a truncated file behind with success */
    {
        tgc_outcome out1 = {TGC_PASS, NULL, NULL, 0};
        tgc_report r = {cat, ps[0], 1, &out1, &facts, 1.0, 1, 1};
        tap_ok(tgc_report_json("/dev/full", &r) == TG_ERR_IO, "--json on a full disk fails: %s", tg_last_error());
        tap_ok(tgc_report_junit("/dev/full", &r) == TG_ERR_IO, "--junit on a full disk fails: %s", tg_last_error());
    }
    /* a shard of another build is refused */
    FILE *f = fopen(paths[1], "r+");
    char text[1 << 16];
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[len] = '\0';
    char *h = strstr(text, facts.sha256);
    if (h) h[0] = h[0] == '0' ? '1' : '0';
    if (f) rewind(f), fwrite(text, 1, len, f), fclose(f);
    tap_ok(h && tgc_report_merge(paths, 2, merged) == TG_ERR_INVALID, "merging certificates of different builds fails: %s",
           tg_last_error());
    remove(paths[0]), remove(paths[1]), remove(merged);
    free(ps[0]), free(ps[1]), free(sel);
}

typedef struct fuzz_ctx { tgc_options *opt; } fuzz_ctx;

static tgc_result run_one(const tgc_case *c, tgc_options *opt) {
    tgc_catalog cat = {0};
    tgc_outcome out = {0};
    size_t sel = 0;
    tgc_catalog_add(&cat, c);
    tgc_run(&cat, &sel, 1, opt, NULL, &out);
    free(out.detail);
    tgc_catalog_free(&cat);
    return out.result;
}

static int still_fails(const tgc_case *c, void *p) { return run_one(c, ((fuzz_ctx *)p)->opt) == TGC_FAIL; }

/* A case whose buffer size overflows (count * size past 2^64) is refused by
 * the harness, not run into a buffer overrun reported as the plugin's CRASH. */
static void test_huge_param(const tgc_catalog *cat) {
    long at = tgc_catalog_find(cat, "op.NEG.float32.shape=17x3");
    if (at < 0) {
        tap_ok(0, "op.NEG.float32.shape=17x3 is in the catalog");
        return;
    }
    tgc_case c = cat->cases[at];
    c.params[0].count = ((int64_t)1 << 62) + 1; /* * 4 bytes wraps to 4 */
    tgc_catalog one = {0};
    tgc_outcome out = {0};
    size_t sel = 0;
    tgc_catalog_add(&one, &c);
    tgc_options opt = {.plugin = getenv("TG_PROXY_REF"), .ref = getenv("TG_PROXY_REF"), .jobs = 1, .timeout_s = 20};
    tgc_run(&one, &sel, 1, &opt, NULL, &out);
    tap_ok(out.result == TGC_FAIL && out.detail && strstr(out.detail, "suite bug") && strstr(out.detail, "overflows"),
           "a param of 2^62+1 float32 is a suite bug, not a CRASH (%s: %.80s)", tgc_result_name(out.result),
           out.detail ? out.detail : "");
    free(out.detail);
    tgc_catalog_free(&one);
}

static void test_fuzz(void) {
    enum { N = 400 };
    tgc_catalog cat = {0};
    int ok = 1;
    for (uint64_t s = 0; s < N && ok; s++) {
        tgc_case c;
        ok = tgc_fuzz_case(1000 + s, &c) == TG_OK && tgc_catalog_add(&cat, &c) == TG_OK;
        cat.cases[cat.count - 1].group = (uint32_t)(s / 50);
    }
    tap_ok(ok, "the fuzzer makes %d valid kernels", N);
    size_t sel[N];
    tgc_outcome out[N];
    for (size_t i = 0; i < N; i++) sel[i] = i;
    tgc_options opt = {.plugin = getenv("TG_PROXY_REF"), .ref = getenv("TG_PROXY_REF"), .jobs = 2, .timeout_s = 20};
    size_t pass = 0, fail = 0, first = N;
    ok = tgc_run(&cat, sel, N, &opt, NULL, out) == TG_OK;
    for (size_t i = 0; i < N; i++) {
        pass += out[i].result == TGC_PASS;
        if (out[i].result != TGC_PASS) tap_diag("ref vs ref: %s %s", cat.cases[i].id, tgc_result_name(out[i].result));
        free(out[i].detail);
    }
    tap_ok(ok && pass == N, "ref passes every fuzz kernel (%zu of %d)", pass, N);
    opt.plugin = getenv("TG_WRONG_PLUGIN");
    ok = tgc_run(&cat, sel, N, &opt, NULL, out) == TG_OK;
    for (size_t i = 0; i < N; i++) {
        if (out[i].result == TGC_FAIL && fail++ == 0) first = i;
        free(out[i].detail);
    }
    tap_ok(ok && fail > 0, "the wrong plugin fails fuzz kernels (%zu of %d)", fail, N);
    if (first < N) {
        tgc_case c = cat.cases[first];
        fuzz_ctx ctx = {&opt};
        uint32_t before = c.nnodes;
        int64_t before_n = 1, after_n = 1;
        for (uint32_t d = 0; d < c.ndim; d++) before_n *= c.shape[d];
        int steps = tgc_fuzz_shrink(&c, still_fails, &ctx);
        for (uint32_t d = 0; d < c.ndim; d++) after_n *= c.shape[d];
        tap_ok(c.nnodes <= before && after_n <= before_n && run_one(&c, &opt) == TGC_FAIL,
               "shrinking keeps the failure: %u -> %u nodes, %lld -> %lld points in %d steps", before, c.nnodes,
               (long long)before_n, (long long)after_n, steps);
        char path[] = "/tmp/tg-fuzz-XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");
        tgc_casefile_write(f, &c);
        fclose(f);
        tgc_catalog back = {0};
        ok = tgc_casefile_read(path, &back) == TG_OK && back.count == 1 && run_one(&back.cases[0], &opt) == TGC_FAIL;
        opt.plugin = getenv("TG_PROXY_REF");
        ok = ok && run_one(&back.cases[0], &opt) == TGC_PASS;
        tap_ok(ok, "the saved reproducer fails on the wrong plugin and passes on ref");
        tgc_catalog_free(&back);
        remove(path);
    }
    tgc_catalog_free(&cat);
}

int main(void) {
    if (!getenv("TG_PROXY_REF") || !getenv("TG_WRONG_PLUGIN")) {
        tap_skip("TG_PROXY_REF/TG_WRONG_PLUGIN not set");
        return tap_done();
    }
    tgc_catalog cat;
    if (!tap_ok(tgc_catalog_build(&cat) == TG_OK, "the catalog builds")) return tap_done();
    test_catalog(&cat);
    test_values();
    test_sha_glob();
    test_casefile(&cat);
    test_expectations(&cat);
    test_shards(&cat);
    test_huge_param(&cat);
    test_fuzz();
    tgc_catalog_free(&cat);
    return tap_done();
}
