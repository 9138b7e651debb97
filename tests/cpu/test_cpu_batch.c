/* tests/cpu/test_cpu_batch.c -- the cpu plugin's program_create_batch: the
 * kernels of a batch compile in one compiler invocation per optimisation
 * level and give what each gives compiled alone; a second batch of the same
 * kernels compiles nothing; a kernel the compiler rejects fails alone (with
 * its message) while the others compile; a NULL kernel is refused alone.
 * Then the two tiers: kernels not cached start on the fast compiler's code
 * and give the same bits before and after their full builds take over; a
 * program destroyed before its full build lands leaves a whole cache entry;
 * a kernel the fast compiler rejects is built in full at once.
 * usage: test_cpu_batch CPU_PLUGIN.so */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "kit.h"

typedef void (*stats_fn)(tg_device *, uint64_t *, uint64_t *, const char **);
typedef int (*tier_wait_fn)(tg_device *, uint64_t *, uint64_t *);
static const char *plugin_path;
static char base[256];

enum { N = 7, ELEMS = 100, ROWS = 64, COLS = 300, MM = 32 };

/* out = a * c + 1 over 100 floats */
static void build_axpb(kit_kernel *kk, double c, const char *name) {
    int64_t shape[1] = {ELEMS};
    kit_init(kk, 1, shape, 0, name);
    uint32_t v = kit_view(kk, 1, shape, NULL, 0);
    tg_scalar s = {.f = c}, one = {.f = 1.0};
    int32_t a = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, ELEMS), v, 1);
    int32_t x = kit_node(kk, TG_OP_MUL, TG_FLOAT32, a, kit_const(kk, TG_FLOAT32, s), -1);
    x = kit_node(kk, TG_OP_ADD, TG_FLOAT32, x, kit_const(kk, TG_FLOAT32, one), -1);
    kit_store(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_WRITE, ELEMS), v, x);
}

/* row sums of [64, 300]: enough work to compile at -O3 */
static void build_rowsum(kit_kernel *kk) {
    int64_t shape[2] = {ROWS, COLS}, os[2] = {ROWS, 1};
    kit_init(kk, 2, shape, 2, "batch_rowsum");
    uint32_t v = kit_view(kk, 2, shape, NULL, 0), vo = kit_view(kk, 2, os, NULL, 0);
    int32_t a = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, ROWS * COLS), v, 1);
    kit_store(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_WRITE, ROWS), vo, kit_node(kk, TG_OP_REDUCE_SUM, TG_FLOAT32, a, -1, -1));
}

/* C = A B, 32x32: a matmul, whose source has macros and statics of its own */
static void build_matmul(kit_kernel *kk) {
    int64_t shape[3] = {MM, MM, MM}, sa[3] = {MM, 0, 1}, sb[3] = {0, 1, MM}, so[3] = {MM, 1, 0}, os[3] = {MM, MM, 1};
    kit_init(kk, 3, shape, 4, "batch_matmul");
    uint32_t va = kit_view(kk, 3, shape, sa, 0), vb = kit_view(kk, 3, shape, sb, 0), vo = kit_view(kk, 3, os, so, 0);
    int32_t a = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, MM * MM), va, 1);
    int32_t b = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, MM * MM), vb, 1);
    int32_t m = kit_node(kk, TG_OP_MUL, TG_FLOAT32, a, b, -1);
    kit_store(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_WRITE, MM * MM), vo, kit_node(kk, TG_OP_REDUCE_SUM, TG_FLOAT32, m, -1, -1));
}

static kit_kernel kks[N];
static const tg_kernel *ks[N];
static float in_a[ROWS * COLS], in_b[MM * MM], outs[N][ROWS * COLS], alone[N][ROWS * COLS];

static void build_all(void) {
    build_axpb(&kks[0], 2.0, "batch_axpb2");
    build_axpb(&kks[1], 3.0, "batch_axpb3");
    build_axpb(&kks[2], 4.0, "batch_axpb4");
    build_axpb(&kks[3], 5.0, "batch_axpb5");
    build_rowsum(&kks[4]);
    build_matmul(&kks[5]);
    build_axpb(&kks[6], 2.0, "batch_axpb2"); /* the first one again */
    for (int i = 0; i < N; i++) ks[i] = &kks[i].k;
    for (int i = 0; i < ROWS * COLS; i++) in_a[i] = (float)(i % 7) - 3.0f; /* exact sums */
    for (int i = 0; i < MM * MM; i++) in_b[i] = (float)(i % 5) - 2.0f;
}

/* Run program prog of kernel i, its output into out. */
static int run_kernel(kit_plugin *p, tg_program *prog, int i, float *out, char *err, size_t cap) {
    void *data[3] = {in_a, out, NULL};
    if (i == 5) { data[1] = in_b; data[2] = out; }
    return kit_launch(p, prog, ks[i], data, 1, err, cap);
}

/* What kernel i must give (all exact in float). */
static int check(int i, const float *out) {
    if (i == 4) {
        for (int r = 0; r < ROWS; r++) {
            double want = 0;
            for (int j = 0; j < COLS; j++) want += in_a[r * COLS + j];
            if (out[r] != (float)want) return 0;
        }
    } else if (i == 5) {
        for (int r = 0; r < MM; r++)
            for (int c = 0; c < MM; c++) {
                double want = 0;
                for (int k = 0; k < MM; k++) want += (double)in_a[r * MM + k] * in_b[k * MM + c];
                if (out[r * MM + c] != (float)want) return 0;
            }
    } else {
        double c = i == 6 ? 2.0 : 2.0 + i;
        for (int j = 0; j < ELEMS; j++)
            if (out[j] != (float)(in_a[j] * c + 1.0)) return 0;
    }
    return 1;
}

static void stats(kit_plugin *p, uint64_t *compiles, uint64_t *hits) {
    stats_fn st = (stats_fn)dlsym(p->dl, "tg_cpu_cache_stats");
    const char *d = "";
    *compiles = *hits = 99;
    if (st) st(p->dev, compiles, hits, &d);
}

/* Files in cache dir `name` whose names start with prefix. */
static int count_files(const char *name, const char *prefix) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s/tg", base, name);
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) n += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d) closedir(d);
    return n;
}

static void use_cache(const char *name) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    mkdir(dir, 0700);
    setenv("XDG_CACHE_HOME", dir, 1);
}

/* Wait for a device's full builds; -1 if it has no upgrade thread. */
static int tier_wait(kit_plugin *p, uint64_t *upgraded, uint64_t *failed) {
    tier_wait_fn w = (tier_wait_fn)dlsym(p->dl, "tg_cpu_tier_wait");
    return w ? w(p->dev, upgraded, failed) : -1;
}

/* Run every program of the batch into outs (or alone when again): right results? */
static int run_all(kit_plugin *p, tg_program **progs, float (*into)[ROWS * COLS]) {
    char err[2048] = "";
    int ok = 1;
    for (int i = 0; i < N && ok; i++) {
        memset(into[i], 0, sizeof into[i]);
        ok = run_kernel(p, progs[i], i, into[i], err, sizeof err) == 0 && check(i, into[i]);
        if (!ok) tap_diag("kernel %d: wrong result %s", i, err);
    }
    return ok;
}

static void test_tiers(void) {
    tg_program *progs[N];
    tg_status sts[N];
    const char *msgs[N];
    uint64_t up = 0, failed = 0, comp = 0, hits = 0;
    kit_plugin p;
    unsetenv("TG_CPU_TIER");
    use_cache("t");
    if (kit_open(&p, plugin_path) != 0 || tier_wait(&p, &up, &failed) != 0) {
        tap_skip("the fast tier (no tcc in PATH: install it, or set TG_CC_FAST)");
        return;
    }
    int ok = p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs) == TG_OK && run_all(&p, progs, outs);
    tap_ok(ok, "a cold batch gives the right results at once (on the fast tier until the full builds are in)");
    ok = ok && tier_wait(&p, &up, &failed) == 0 && up == N && failed == 0;
    tap_ok(ok, "then every program switches to its full build (%llu switched, %llu failed)", (unsigned long long)up,
           (unsigned long long)failed);
    tap_ok(ok && run_all(&p, progs, outs), "the full builds give the right results");
    tap_ok(count_files("t", "tmp-") == 0, "no temporary file left in the cache (%d)", count_files("t", "tmp-"));
    for (int i = 0; i < N; i++) p.api->program_destroy(p.dev, progs[i]);

    /* programs destroyed before their full builds land: the builds still
     * land whole in the cache; a full-tier device then compiles nothing */
    use_cache("u");
    kit_close(&p);
    ok = kit_open(&p, plugin_path) == 0 && p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs) == TG_OK;
    for (int i = 0; i < N; i++) p.api->program_destroy(p.dev, ok ? progs[i] : NULL);
    ok = ok && tier_wait(&p, &up, &failed) == 0 && up == 0 && failed == 0;
    kit_close(&p);
    setenv("TG_CPU_TIER", "full", 1);
    ok = ok && kit_open(&p, plugin_path) == 0 && p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs) == TG_OK &&
         run_all(&p, progs, outs);
    stats(&p, &comp, &hits);
    tap_ok(ok && comp == 0 && hits == N && count_files("u", "tmp-") == 0,
           "programs destroyed first: their full builds still land whole in the cache (%llu compiles, %llu hits)",
           (unsigned long long)comp, (unsigned long long)hits);
    for (int i = 0; i < N; i++) p.api->program_destroy(p.dev, progs[i]);
    kit_close(&p);

    /* the fast compiler rejects one kernel: it is built in full at once */
    char cc[400];
    snprintf(cc, sizeof cc, "%s/fastcc.sh", base);
    FILE *f = fopen(cc, "w");
    if (f) {
        fputs("#!/bin/sh\nfor a in \"$@\"; do case $a in *.c) if grep -q batch_axpb3 \"$a\"; then exit 1; fi;; esac; done\n"
              "exec tcc \"$@\"\n", f);
        fclose(f);
        chmod(cc, 0755);
    }
    setenv("TG_CC_FAST", cc, 1);
    unsetenv("TG_CPU_TIER");
    use_cache("v");
    ok = kit_open(&p, plugin_path) == 0 && p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs) == TG_OK &&
         run_all(&p, progs, outs) && tier_wait(&p, &up, &failed) == 0;
    tap_ok(ok && up == N - 1 && failed == 0, "a kernel the fast compiler rejects is built in full at once, the others "
           "upgrade later (%llu switched)", (unsigned long long)up);
    for (int i = 0; i < N; i++) p.api->program_destroy(p.dev, progs[i]);
    kit_close(&p);
    unsetenv("TG_CC_FAST");

    /* TG_CPU_TIER=fast: no upgrade thread, right results */
    setenv("TG_CPU_TIER", "fast", 1);
    use_cache("w");
    ok = kit_open(&p, plugin_path) == 0 && tier_wait(&p, &up, &failed) == -1 &&
         p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs) == TG_OK && run_all(&p, progs, alone);
    for (int i = 0; ok && i < N; i++) ok = !memcmp(alone[i], outs[i], sizeof alone[i]);
    tap_ok(ok, "TG_CPU_TIER=fast: the fast tier only, the same bits as the full builds");
    for (int i = 0; i < N; i++) p.api->program_destroy(p.dev, progs[i]);
    kit_close(&p);
    unsetenv("TG_CPU_TIER");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s CPU_PLUGIN\n", argv[0]); return 2; }
    plugin_path = argv[1];
    snprintf(base, sizeof base, "/tmp/tg-batch-test-XXXXXX");
    if (!mkdtemp(base)) { perror("mkdtemp"); return 1; }
    unsetenv("TG_CC");
    unsetenv("TG_CFLAGS");
    unsetenv("TG_BEAM");
    unsetenv("TG_CC_FAST");
    setenv("TG_CPU_TIER", "full", 1); /* the full tier alone first: compile counts are exact */
    build_all();
    char err[2048] = "";
    tg_program *progs[N];
    tg_status sts[N];
    const char *msgs[N];
    uint64_t comp = 0, hits = 0;

    /* a cold batch: one invocation per level (-O1: the small ones; -O3: the others) */
    use_cache("a");
    kit_plugin p;
    if (kit_open(&p, plugin_path) != 0 || !p.api->program_create_batch) {
        tap_ok(0, "the cpu plugin opens and has program_create_batch");
        return tap_done();
    }
    tg_status st = p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs);
    int all_ok = st == TG_OK;
    for (int i = 0; i < N; i++) all_ok &= sts[i] == TG_OK && progs[i] != NULL;
    stats(&p, &comp, &hits);
    tap_ok(all_ok && comp == 2 && hits == 0, "a batch of %d kernels (one twice) compiles in 2 compiler invocations, "
           "one per optimisation level (%llu, hits %llu)", N, (unsigned long long)comp, (unsigned long long)hits);
    const char *src = p.api->program_source(p.dev, progs[5]);
    tap_ok(src && strstr(src, "tg_micro") && strstr(src, "void tgk("),
           "the matmul (a source with macros and statics of its own) is in the batch; program_source is the plain rendering");
    int ok = 1;
    for (int i = 0; i < N && all_ok; i++) {
        memset(outs[i], 0, sizeof outs[i]);
        if (run_kernel(&p, progs[i], i, outs[i], err, sizeof err) != 0 || !check(i, outs[i])) {
            tap_diag("kernel %d: wrong result %s", i, err);
            ok = 0;
        }
    }
    tap_ok(all_ok && ok, "every kernel of the batch gives the right result");
    tap_ok(count_files("a", "cpu-") == N - 1 && count_files("a", "tmp-") == 0,
           "an entry per kernel, no temporary file left (%d entries, %d temporary)", count_files("a", "cpu-"),
           count_files("a", "tmp-"));
    for (int i = 0; i < N; i++)
        if (sts[i] == TG_OK) p.api->program_destroy(p.dev, progs[i]);
    kit_close(&p);

    /* the same kernels compiled alone (another cache): the same bits */
    use_cache("b");
    ok = kit_open(&p, plugin_path) == 0;
    for (int i = 0; i < N && ok; i++) {
        tg_program *prog = NULL;
        memset(alone[i], 0, sizeof alone[i]);
        ok = p.api->program_create(p.dev, ks[i], &prog) == TG_OK && run_kernel(&p, prog, i, alone[i], err, sizeof err) == 0 &&
             !memcmp(alone[i], outs[i], sizeof alone[i]);
        p.api->program_destroy(p.dev, prog);
    }
    stats(&p, &comp, &hits);
    tap_ok(ok && comp == N - 1, "each kernel compiled alone gives the same bits as in the batch (%llu compiles)",
           (unsigned long long)comp);
    kit_close(&p);

    /* a second batch of the same kernels (a new device, the first cache) */
    use_cache("a");
    ok = kit_open(&p, plugin_path) == 0 && p.api->program_create_batch(p.dev, N, ks, progs, sts, msgs) == TG_OK;
    stats(&p, &comp, &hits);
    tap_ok(ok && comp == 0 && hits == N, "a second batch of the same kernels compiles nothing (%llu compiles, %llu hits)",
           (unsigned long long)comp, (unsigned long long)hits);
    for (int i = 0; ok && i < N; i++) {
        memset(outs[i], 0, sizeof outs[i]);
        ok = run_kernel(&p, progs[i], i, outs[i], err, sizeof err) == 0 && check(i, outs[i]);
        p.api->program_destroy(p.dev, progs[i]);
    }
    tap_ok(ok, "its programs, loaded from the shared objects in the cache, give the right results");

    /* a NULL kernel: refused alone */
    const tg_kernel *with_null[3] = {ks[0], NULL, ks[1]};
    st = p.api->program_create_batch(p.dev, 3, with_null, progs, sts, msgs);
    tap_ok(st == TG_ERR_INVALID && sts[0] == TG_OK && sts[1] == TG_ERR_INVALID && !progs[1] && msgs[1][0] &&
               sts[2] == TG_OK, "a NULL kernel in a batch is refused alone (%s)", msgs[1]);
    for (int i = 0; i < 3; i++) p.api->program_destroy(p.dev, progs[i]);
    kit_close(&p);

    /* TG_BEAM: the kernels of a batch are tuned (winners cached), then compiled together */
    setenv("TG_BEAM", "2", 1);
    use_cache("d");
    const tg_kernel *tuned[2] = {ks[4], ks[0]};
    ok = kit_open(&p, plugin_path) == 0 && p.api->program_create_batch(p.dev, 2, tuned, progs, sts, msgs) == TG_OK;
    for (int i = 0; ok && i < 2; i++) {
        memset(outs[i], 0, sizeof outs[i]);
        ok = run_kernel(&p, progs[i], i ? 0 : 4, outs[i], err, sizeof err) == 0 && check(i ? 0 : 4, outs[i]);
    }
    tap_ok(ok && count_files("d", "tune-") >= 1, "TG_BEAM=2: a batch's kernels are tuned (%d winners cached) and give "
           "the right results", count_files("d", "tune-"));
    for (int i = 0; ok && i < 2; i++) p.api->program_destroy(p.dev, progs[i]);
    if (ok) kit_close(&p);
    unsetenv("TG_BEAM");

    /* a kernel the compiler rejects (a wrapper refuses any file holding its
     * name): the batch fails, its kernels compile one by one, it alone fails */
    char cc[400], tg_cc[420];
    snprintf(cc, sizeof cc, "%s/cc.sh", base);
    FILE *f = fopen(cc, "w");
    if (f) {
        fputs("for a in \"$@\"; do case $a in *.c) if grep -q batch_bad \"$a\"; then\n"
              "echo \"cc.sh: refused batch_bad\" >&2; exit 1; fi;; esac; done\nexec cc \"$@\"\n", f);
        fclose(f);
    }
    snprintf(tg_cc, sizeof tg_cc, "sh %s", cc);
    setenv("TG_CC", tg_cc, 1);
    use_cache("c");
    kit_kernel bad;
    build_axpb(&bad, 7.0, "batch_bad");
    const tg_kernel *with_bad[3] = {ks[0], &bad.k, ks[1]};
    ok = kit_open(&p, plugin_path) == 0;
    st = ok ? p.api->program_create_batch(p.dev, 3, with_bad, progs, sts, msgs) : TG_ERR_INTERNAL;
    stats(&p, &comp, &hits);
    tap_ok(st == TG_ERR_COMPILE && sts[0] == TG_OK && sts[2] == TG_OK && sts[1] == TG_ERR_COMPILE && !progs[1] &&
               strstr(msgs[1], "refused batch_bad") && comp == 4,
           "a kernel the compiler rejects fails alone with its message, the others compile (%llu invocations): %.80s",
           (unsigned long long)comp, st == TG_ERR_COMPILE ? msgs[1] : "");
    ok = st == TG_ERR_COMPILE && sts[0] == TG_OK && sts[2] == TG_OK;
    for (int i = 0; ok && i < 3; i += 2) {
        memset(outs[i], 0, sizeof outs[i]);
        ok = run_kernel(&p, progs[i], i / 2, outs[i], err, sizeof err) == 0 && check(i / 2, outs[i]);
    }
    tap_ok(ok, "the others give the right results");
    for (int i = 0; i < 3; i++) p.api->program_destroy(p.dev, progs[i]);
    kit_close(&p);
    unsetenv("TG_CC");

    test_tiers();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) tap_diag("could not remove %s", base);
    return tap_done();
}
