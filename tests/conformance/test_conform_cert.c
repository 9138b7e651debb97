/* Certification past one machine: a case's shard depends only on its id
 * (adding a case or reordering the catalog moves no other case), `tg
 * conform verify` accepts a complete certificate and refuses a missing or
 * duplicated shard, a changed .so, another suite version, a missing,
 * duplicated or foreign case; children of the runner get a share of the
 * cores as TG_THREADS. argv[1] is the tg executable; environment as for
 * test_conform_faults, plus TG_THREADS_PLUGIN (proxy_plugin.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tg/conform.h>
#include "tap.h"

static char dir[64];
static const char *tg;

/* Run tg with argv (NULL-terminated, without argv[0]); stdout and stderr go
 * to dir/out.txt. Exit status. */
static int run_tg(const char *const *args) {
    char out[128];
    const char *argv[16] = {tg};
    for (int i = 0; args[i] && i < 14; i++) argv[i + 1] = args[i];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || dup2(1, 2) < 0) _exit(127);
        execv(tg, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s) s[fread(s, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return s;
}

/* Whether tg's last output holds `what` (printed as a diagnostic if not). */
static int said(const char *what) {
    char path[128];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *s = read_text(path);
    int hit = s && strstr(s, what);
    if (!hit) tap_diag("expected '%s' in: %s", what, s ? s : "(nothing)");
    free(s);
    return hit;
}

static const char *path_in(const char *name) {
    static char buf[8][128];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Copy `from` to `to` with the first `a` replaced by `b` (b NULL: the line
 * holding `a` removed; b "2": that line doubled). */
static void copy_edit(const char *from, const char *to, const char *a, const char *b) {
    char *s = read_text(from), *hit = s ? strstr(s, a) : NULL;
    FILE *f = fopen(to, "w");
    if (!s || !f || !hit) {
        tap_diag("copy_edit: '%s' not in %s", a, from);
        if (f) fclose(f);
        free(s);
        return;
    }
    char *line = hit, *end = strchr(hit, '\n');
    while (line > s && line[-1] != '\n') line--;
    end = end ? end + 1 : hit + strlen(hit);
    if (!b) {
        fwrite(s, 1, (size_t)(line - s), f);
        fputs(end, f);
    } else if (!strcmp(b, "2")) {
        fwrite(s, 1, (size_t)(end - s), f);
        fputs(line, f);
    } else {
        fwrite(s, 1, (size_t)(hit - s), f);
        fputs(b, f);
        fputs(hit + strlen(a), f);
    }
    fclose(f);
    free(s);
}

/* `tg conform --list --shard I/N` (with a case file, or the catalog): each
 * listed id's shard into shard_of[index of the id in ids]. 0 on failure. */
static int list_shards(const char *case_file, int n, char **ids, size_t nids, int *shard_of) {
    for (size_t i = 0; i < nids; i++) shard_of[i] = 0;
    for (int s = 1; s <= n; s++) {
        char spec[32];
        snprintf(spec, sizeof spec, "%d/%d", s, n);
        const char *a[] = {"conform", "--list", "--shard", spec, case_file ? "--case-file" : NULL, case_file, NULL};
        if (run_tg(a) != 0) return 0;
        char *text = read_text(path_in("out.txt"));
        for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
            for (size_t i = 0; i < nids; i++)
                if (!strcmp(ids[i], line)) {
                    if (shard_of[i]) shard_of[i] = -1; /* in two shards */
                    else shard_of[i] = s;
                    break;
                }
        free(text);
    }
    return 1;
}

static void test_shards(const tgc_catalog *cat) {
    size_t n = 0;
    char **ids = malloc((cat->count + 1) * sizeof *ids);
    int *before = malloc((cat->count + 1) * sizeof *before), *after = malloc((cat->count + 1) * sizeof *after);
    /* case files: A holds the kernel cases in catalog order; B a new case
       first, then A's cases in reverse order */
    FILE *a = fopen(path_in("a.cases"), "w"), *b = fopen(path_in("b.cases"), "w");
    tgc_case added;
    tgc_fuzz_case(4242, &added);
    snprintf(added.id, sizeof added.id, "fuzz.added");
    tgc_casefile_write(b, &added);
    for (size_t i = 0; i < cat->count; i++)
        if (!cat->cases[i].composite && !cat->cases[i].nargs && !cat->cases[i].abi && !cat->cases[i].memory) /* case files hold these */
            tgc_casefile_write(a, &cat->cases[i]), ids[n++] = cat->cases[i].id;
    for (size_t i = cat->count; i-- > 0;)
        if (!cat->cases[i].composite && !cat->cases[i].nargs && !cat->cases[i].abi && !cat->cases[i].memory) tgc_casefile_write(b, &cat->cases[i]);
    fclose(a), fclose(b);
    int ok = list_shards(path_in("a.cases"), 3, ids, n, before) && list_shards(path_in("b.cases"), 3, ids, n, after);
    size_t moved = 0, once = 0, per[4] = {0};
    for (size_t i = 0; ok && i < n; i++) {
        moved += before[i] != after[i];
        once += before[i] > 0;
        if (before[i] > 0) per[before[i]]++;
        if (before[i] != after[i] && moved < 4) tap_diag("%s: shard %d, then %d", ids[i], before[i], after[i]);
    }
    tap_ok(ok && once == n, "every case is in exactly one of 3 shards (%zu of %zu)", once, n);
    tap_ok(ok && moved == 0, "a case added first and the order reversed: no other case changes shard (%zu do)", moved);
    tap_ok(per[1] > n / 4 && per[2] > n / 4 && per[3] > n / 4, "the shards are balanced: %zu %zu %zu cases", per[1],
           per[2], per[3]);
    /* the catalog itself (composites too): the shards partition it */
    n = 0;
    for (size_t i = 0; i < cat->count; i++) ids[n++] = cat->cases[i].id;
    ok = list_shards(NULL, 4, ids, n, before);
    once = 0;
    for (size_t i = 0; ok && i < n; i++) once += before[i] > 0 && before[i] == tgc_shard_of(ids[i], 4);
    tap_ok(ok && once == n, "tg conform --shard I/4 selects by tgc_shard_of(id, 4): %zu of %zu", once, n);
    tap_ok(tgc_shard_of("op.ADD.float32.shape=17x3", 1) == 1 && tgc_shard_of("", 5) >= 1 && tgc_shard_of("", 5) <= 5,
           "shard 1/1 is everything; an empty id has a shard too");
    free(ids), free(before), free(after);
}

static void test_verify(void) {
    const char *s1 = path_in("s1.json"), *s2 = path_in("s2.json"), *s3 = path_in("s3.json");
    const char *shards[3] = {s1, s2, s3};
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        char spec[32];
        snprintf(spec, sizeof spec, "%d/3", i + 1);
        const char *a[] = {"conform", "--plugin", "ref", "--jobs", "2", "--timeout", "120", "--shard", spec, "--json", shards[i], NULL};
        ok &= run_tg(a) == 0;
    }
    tap_ok(ok, "tg conform runs 3 shards of ref");
    const char *all[] = {"conform", "verify", s1, s2, s3, NULL};
    tap_ok(run_tg(all) == 0 && said("core       certified") && said("autodiff   certified") && said("3 shards"),
           "verify: the 3 shards together certify every level");
    const char *m = path_in("m.json");
    const char *merge[] = {"conform", "merge", s1, s2, s3, "-o", m, NULL};
    const char *vm[] = {"conform", "verify", m, NULL};
    tap_ok(run_tg(merge) == 0 && run_tg(vm) == 0 && said("core       certified"), "verify: their merge too");
    tgc_cert_info info;
    tg_status st = tgc_cert_verify(&m, 1, "ref", &info);
    tap_ok(st == TG_OK && !strcmp(info.levels[0], "yes") &&
               !strcmp(info.plugin, "ref") && info.totals[TGC_PASS] + info.totals[TGC_UNSUPPORTED] == info.cases &&
               info.totals[TGC_PASS] > 2800 && info.shards == 3, /* ref has no buffer_write_async */
           "tgc_cert_verify: %zu cases, level core %s", info.cases, info.levels[0] ? info.levels[0] : "?");

    const char *missing[] = {"conform", "verify", s1, s3, NULL};
    tap_ok(run_tg(missing) == 1 && said("refused: shard 2/3 is missing"), "a missing shard is refused");
    const char *one[] = {"conform", "verify", s2, NULL};
    tap_ok(run_tg(one) == 1 && said("refused: shard 1/3 is missing"), "one shard alone is refused");
    const char *twice[] = {"conform", "verify", s1, s2, s2, s3, NULL};
    tap_ok(run_tg(twice) == 1 && said("shard 2/3 is given twice"), "a duplicated shard is refused");
    const char *twice2[] = {"conform", "merge", s1, s2, s3, s3, "-o", path_in("x.json"), NULL};
    tap_ok(run_tg(twice2) == 1 && said("shard 3/3 is given twice"), "and merge refuses it too");

    /* the plugin: a copy of ref's .so is the same build; a changed one is not */
    char cmd[512];
    const char *so = path_in("tg-ref.so");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", getenv("TG_PROXY_REF"), so);
    const char *with_so[] = {"conform", "verify", m, "--plugin", so, NULL};
    tap_ok(system(cmd) == 0 && run_tg(with_so) == 0, "verify --plugin PATH: a copy of the certified .so passes");
    FILE *f = fopen(so, "ab");
    if (f) fputs("changed", f), fclose(f);
    tap_ok(run_tg(with_so) == 1 && said("is not the build certified"), "a changed .so is refused");
    const char *other[] = {"conform", "verify", m, "--plugin", "cpu", NULL};
    tap_ok(run_tg(other) == 1 && said("is not the build certified"), "another plugin's .so is refused");

    const char *x = path_in("x.json");
    const char *vx[] = {"conform", "verify", x, NULL};
    copy_edit(m, x, "\"suite_version\": \"" TGC_SUITE_VERSION "\"", "\"suite_version\": \"0.9.0\"");
    tap_ok(run_tg(vx) == 1 && said("made by suite version 0.9.0; this tg ships " TGC_SUITE_VERSION),
           "another suite version is refused");
    copy_edit(m, x, "{\"id\": \"op.ADD.float32.shape=17x3\"", NULL);
    tap_ok(run_tg(vx) == 1 && said("incomplete: 1 of the suite's cases are missing (the first: 'op.ADD.float32.shape=17x3')"),
           "a certificate lacking a case is refused");
    copy_edit(m, x, "{\"id\": \"op.ADD.float32.shape=17x3\"", "2");
    tap_ok(run_tg(vx) == 1 && said("'op.ADD.float32.shape=17x3' appears twice"), "a case given twice is refused");
    copy_edit(m, x, "{\"id\": \"op.ADD.float32.shape=17x3\"", "{\"id\": \"op.ADD.float32.shape=17x4\"");
    tap_ok(run_tg(vx) == 1 && said("'op.ADD.float32.shape=17x4' is not in the catalog"), "a foreign case is refused");
    copy_edit(m, x, "\"op.ADD.float32.shape=17x3\", \"row\": \"ADD\", \"dtype\": \"float32\", \"levels\": 3",
              "\"op.ADD.float32.shape=17x3\", \"row\": \"ADD\", \"dtype\": \"float32\", \"levels\": 2");
    tap_ok(run_tg(vx) == 1 && said("has levels 2, the catalog 3"), "a case whose levels were changed is refused");
    copy_edit(m, x, "\"op.ADD.float32.shape=17x3\", \"row\": \"ADD\", \"dtype\": \"float32\", \"levels\": 3, \"result\": \"PASS\"",
              "\"op.ADD.float32.shape=17x3\", \"row\": \"ADD\", \"dtype\": \"float32\", \"levels\": 3, \"result\": \"FAIL\"");
    tap_ok(run_tg(vx) == 0 && said("core       no") && said("full       no") && said("fusion     certified"),
           "a failed core case: the certificate checks, level core and full are 'no', the others certified");
    const char *nothing[] = {"conform", "verify", path_in("nosuch.json"), NULL};
    const char *usage[] = {"conform", "verify", NULL};
    tap_ok(run_tg(nothing) == 1 && said("cannot open certificate") && run_tg(usage) == 2,
           "no such file: refused; no file given: usage");
}

static void test_threads(void) {
    tap_ok(tgc_child_threads(1, 64) == 64 && tgc_child_threads(32, 64) == 2 && tgc_child_threads(64, 64) == 2 &&
               tgc_child_threads(3, 128) == 42 && tgc_child_threads(2, 2) == 2,
           "TG_THREADS per child: max(2, cores / jobs)");
    int auto_jobs = tgc_jobs_auto(), cores = tgc_cores();
    tap_ok(auto_jobs >= 1 && auto_jobs * tgc_child_threads(auto_jobs, cores) <= (cores < 2 ? 2 : cores),
           "--jobs auto on %d cores: %d children of %d threads", cores, auto_jobs, tgc_child_threads(auto_jobs, cores));
    /* what a child sees: the proxy's "no device" reason names TG_THREADS */
    tgc_catalog cat = {0};
    tgc_case c;
    tgc_fuzz_case(7, &c);
    tgc_catalog_add(&cat, &c);
    size_t sel = 0;
    tgc_outcome out = {0};
    tgc_options opt = {.plugin = getenv("TG_THREADS_PLUGIN"), .ref = getenv("TG_PROXY_REF"), .jobs = 3, .timeout_s = 20};
    char want[64];
    unsetenv("TG_THREADS");
    snprintf(want, sizeof want, "TG_THREADS=%d.", tgc_child_threads(3, cores));
    tgc_run(&cat, &sel, 1, &opt, NULL, &out);
    tap_ok(out.result == TGC_UNSUPPORTED && out.detail && strstr(out.detail, want), "--jobs 3: a child sees %s (%s)",
           want, out.detail ? out.detail : "");
    free(out.detail);
    setenv("TG_THREADS", "5", 1);
    tgc_run(&cat, &sel, 1, &opt, NULL, &out);
    tap_ok(out.detail && strstr(out.detail, "TG_THREADS=5."), "TG_THREADS set by the user is kept (%s)",
           out.detail ? out.detail : "");
    free(out.detail);
    unsetenv("TG_THREADS");
    tgc_catalog_free(&cat);
    const char *many[] = {"conform", "--plugin", "ref", "--jobs", "64", "--timeout", "120", "--filter", "op.ADD.int", NULL};
    const char *bad[] = {"conform", "--jobs", "many", NULL};
    tap_ok(run_tg(many) == 0 && run_tg(bad) == 2, "--jobs 64 on this host runs; --jobs many is a usage error");
}

int main(int argc, char **argv) {
    if (argc < 2) return tap_ok(0, "usage: test_conform_cert TG"), tap_done();
    tg = argv[1];
    snprintf(dir, sizeof dir, "/tmp/tg-test-cert-XXXXXX");
    if (!mkdtemp(dir)) return tap_ok(0, "mkdtemp"), tap_done();
    tgc_catalog cat;
    if (!tap_ok(tgc_catalog_build(&cat) == TG_OK, "the catalog builds")) return tap_done();
    test_shards(&cat);
    test_verify();
    test_threads();
    tgc_catalog_free(&cat);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) tap_diag("could not remove %s", dir);
    return tap_done();
}
