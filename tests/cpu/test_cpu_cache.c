/* tests/cpu/test_cpu_cache.c -- the cpu plugin's compile cache: a second
 * device (and a second process) compiles nothing; corrupt, truncated or
 * foreign entries are rejected and rebuilt; an unusable cache dir falls back
 * to a temp dir; a missing or failing compiler gives a clear error.
 * usage: test_cpu_cache CPU_PLUGIN.so */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "kit.h"

typedef void (*stats_fn)(tg_device *, uint64_t *, uint64_t *, const char **);
static const char *plugin_path;
static char base[256], cache[300];

/* out[i] = a[i] * c + 1 over 100 floats, c making the kernel unique. */
static void build(kit_kernel *kk, double c) {
    int64_t shape[1] = {100};
    kit_init(kk, 1, shape, 0, "cache_test");
    uint32_t v = kit_view(kk, 1, shape, NULL, 0);
    tg_scalar s = {.f = c}, one = {.f = 1.0};
    int32_t a = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, 100), v, 1);
    int32_t x = kit_node(kk, TG_OP_MUL, TG_FLOAT32, a, kit_const(kk, TG_FLOAT32, s), -1);
    x = kit_node(kk, TG_OP_ADD, TG_FLOAT32, x, kit_const(kk, TG_FLOAT32, one), -1);
    kit_store(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_WRITE, 100), v, x);
}

/* Open a device, run kernel(c), check the result; report compiles/hits. */
static int run_once(double c, uint64_t *compiles, uint64_t *hits, char *dir, size_t dircap, char *err, size_t errcap) {
    kit_plugin p;
    if (kit_open(&p, plugin_path) != 0) { snprintf(err, errcap, "cannot open plugin"); return -1; }
    kit_kernel kk;
    build(&kk, c);
    float in[100], out[100];
    for (int i = 0; i < 100; i++) in[i] = (float)i;
    void *data[2] = {in, out};
    int rc = kit_run(&p, &kk.k, data, 1, err, errcap);
    for (int i = 0; rc == 0 && i < 100; i++)
        if (out[i] != (float)i * (float)c + 1.0f) { snprintf(err, errcap, "wrong result at %d", i); rc = -1; }
    stats_fn st = (stats_fn)dlsym(p.dl, "tg_cpu_cache_stats");
    const char *d = "";
    if (st) st(p.dev, compiles, hits, &d);
    if (dir) snprintf(dir, dircap, "%s", d);
    kit_close(&p);
    return rc;
}

/* Apply fn to every cache entry (cpu-*.so) in dir. */
static int for_entries(const char *dir, void (*fn)(const char *path)) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "cpu-", 4)) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        fn(p);
        n++;
    }
    if (d) closedir(d);
    return n;
}

static void garble(const char *path) {
    FILE *f = fopen(path, "w");
    if (f) { fputs("this is not a shared object", f); fclose(f); }
}

static void unlink_entry(const char *path) { unlink(path); }

static void truncate_half(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && truncate(path, st.st_size / 2) != 0) perror("truncate");
}

static char foreign[600];
static void swap_in_foreign(const char *path) {
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", foreign, path);
    if (system(cmd) != 0) fprintf(stderr, "cp failed\n");
}

/* sum over the last axis of [64, 300]: a kernel with layouts to tune */
static int run_reduce(char *err, size_t errcap) {
    kit_plugin p;
    if (kit_open(&p, plugin_path) != 0) { snprintf(err, errcap, "cannot open plugin"); return -1; }
    kit_kernel kk;
    int64_t shape[2] = {64, 300}, os[2] = {64, 1};
    kit_init(&kk, 2, shape, 2, "tune_test");
    uint32_t v = kit_view(&kk, 2, shape, NULL, 0), vo = kit_view(&kk, 2, os, NULL, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 64 * 300), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 64), vo, kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, a, -1, -1));
    static float in[64 * 300], out[64];
    for (int i = 0; i < 64 * 300; i++) in[i] = (float)(i % 7) - 3.0f; /* exact sums */
    void *data[2] = {in, out};
    int rc = kit_run(&p, &kk.k, data, 1, err, errcap);
    for (int r = 0; rc == 0 && r < 64; r++) {
        double want = 0;
        for (int j = 0; j < 300; j++) want += in[r * 300 + j];
        if (out[r] != (float)want) { snprintf(err, errcap, "wrong sum in row %d", r); rc = -1; }
    }
    kit_close(&p);
    return rc;
}

static int count_prefix(const char *dir, const char *prefix, char *first, size_t cap) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            if (!n && first) snprintf(first, cap, "%s/%s", dir, e->d_name);
            n++;
        }
    if (d) closedir(d);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s CPU_PLUGIN\n", argv[0]); return 2; }
    plugin_path = argv[1];
    snprintf(base, sizeof base, "/tmp/tg-cache-test-XXXXXX");
    if (!mkdtemp(base)) { perror("mkdtemp"); return 1; }
    setenv("XDG_CACHE_HOME", base, 1);
    snprintf(cache, sizeof cache, "%s/tg", base);
    unsetenv("TG_CC");
    char err[1024] = "", dir[600];
    uint64_t comp = 0, hits = 0;
    double c = 1.0 + (double)(getpid() % 1000) / 1024.0; /* a kernel no earlier run cached */

    int rc = run_once(c, &comp, &hits, dir, sizeof dir, err, sizeof err);
    tap_ok(rc == 0 && comp == 1 && hits == 0, "first device compiles the kernel (compiles %llu, hits %llu) %s", (unsigned long long)comp,
           (unsigned long long)hits, err);
    tap_ok(!strcmp(dir, cache), "entries go to $XDG_CACHE_HOME/tg (%s)", dir);
    rc = run_once(c, &comp, &hits, NULL, 0, err, sizeof err);
    tap_ok(rc == 0 && comp == 0 && hits == 1, "a second device hits the cache (compiles %llu, hits %llu) %s", (unsigned long long)comp,
           (unsigned long long)hits, err);

    pid_t pid = fork();
    if (pid == 0) {
        uint64_t cc = 9, hh = 0;
        char e2[512];
        _exit(run_once(c, &cc, &hh, NULL, 0, e2, sizeof e2) == 0 && cc == 0 && hh == 1 ? 0 : 1);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second process compiles nothing");

    tap_ok(for_entries(cache, garble) == 1, "garbled the entry");
    rc = run_once(c, &comp, &hits, NULL, 0, err, sizeof err);
    tap_ok(rc == 0 && comp == 1, "a garbled entry is rejected and rebuilt %s", err);
    tap_ok(for_entries(cache, truncate_half) == 1, "truncated the entry");
    rc = run_once(c, &comp, &hits, NULL, 0, err, sizeof err);
    tap_ok(rc == 0 && comp == 1, "a truncated entry is rejected and rebuilt %s", err);

    /* a valid shared object of another kernel under this kernel's name */
    run_once(c + 1, &comp, &hits, NULL, 0, err, sizeof err);
    DIR *d = opendir(cache);
    struct dirent *e;
    char first[600] = "";
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "cpu-", 4)) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", cache, e->d_name);
        if (!first[0]) snprintf(first, sizeof first, "%s", p);
        else snprintf(foreign, sizeof foreign, "%s", p);
    }
    if (d) closedir(d);
    swap_in_foreign(first);
    int r1 = run_once(c, &comp, &hits, NULL, 0, err, sizeof err);
    uint64_t c1 = comp;
    int r2 = run_once(c + 1, &comp, &hits, NULL, 0, err, sizeof err);
    tap_ok(r1 == 0 && r2 == 0 && c1 + comp == 1, "a foreign entry (another kernel's object) is rejected and rebuilt");

    /* no half-written entries: temporary files are gone after compiling */
    d = opendir(cache);
    int tmp = 0;
    while (d && (e = readdir(d))) tmp += !strncmp(e->d_name, "tmp-", 4);
    if (d) closedir(d);
    tap_ok(tmp == 0, "no temporary files left in the cache dir");

    /* an unusable cache dir (a file where the directory should be): temp dir */
    char file[300];
    snprintf(file, sizeof file, "%s/afile", base);
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    setenv("XDG_CACHE_HOME", file, 1);
    rc = run_once(c, &comp, &hits, dir, sizeof dir, err, sizeof err);
    tap_ok(rc == 0 && comp == 1 && strncmp(dir, base, strlen(base)),
           "an unusable cache dir falls back to a temp dir (%s) %s", dir, err);
    if (geteuid() != 0) {
        char ro[300];
        snprintf(ro, sizeof ro, "%s/ro", base);
        mkdir(ro, 0755);
        char rot[320];
        snprintf(rot, sizeof rot, "%s/tg", ro);
        mkdir(rot, 0555);
        setenv("XDG_CACHE_HOME", ro, 1);
        rc = run_once(c + 2, &comp, &hits, dir, sizeof dir, err, sizeof err);
        tap_ok(rc == 0 && comp == 1,
               "a read-only cache dir falls back to a temp dir %s", err);
        chmod(rot, 0755);
    } else {
        tap_skip("read-only dir: running as root, permissions do not apply");
    }
    setenv("XDG_CACHE_HOME", base, 1);

    /* a FIFO where an entry should be: not read (it would block), rebuilt */
    {
        char fifo[700] = "";
        for_entries(cache, unlink_entry);
        run_once(c + 4, &comp, &hits, NULL, 0, err, sizeof err);
        count_prefix(cache, "cpu-", fifo, sizeof fifo);
        unlink(fifo);
        int made = fifo[0] && mkfifo(fifo, 0644) == 0;
        pid_t kid = fork();
        if (kid == 0) {
            alarm(60); /* a hang fails the test instead of stalling it */
            uint64_t cc = 0, hh = 0;
            char e2[512];
            _exit(run_once(c + 4, &cc, &hh, NULL, 0, e2, sizeof e2) == 0 && cc == 1 ? 0 : 1);
        }
        int ks = 1;
        waitpid(kid, &ks, 0);
        struct stat fs;
        tap_ok(made && WIFEXITED(ks) && WEXITSTATUS(ks) == 0 && stat(fifo, &fs) == 0 && S_ISREG(fs.st_mode),
               "a FIFO in place of an entry is skipped and replaced, not read");
    }

    /* a relative XDG_CACHE_HOME is ignored (XDG spec): HOME's cache, not the cwd */
    {
        char home[300], here[4096], rel[320], want[340];
        snprintf(home, sizeof home, "%s/home", base);
        mkdir(home, 0755);
        const char *old_home = getenv("HOME");
        char saved_home[4096];
        snprintf(saved_home, sizeof saved_home, "%s", old_home ? old_home : "");
        setenv("HOME", home, 1);
        setenv("XDG_CACHE_HOME", "relcache", 1);
        int moved = getcwd(here, sizeof here) && chdir(base) == 0;
        rc = run_once(c + 5, &comp, &hits, dir, sizeof dir, err, sizeof err);
        snprintf(rel, sizeof rel, "%s/relcache", base);
        snprintf(want, sizeof want, "%s/.cache/tg", home);
        struct stat rs;
        tap_ok(moved && rc == 0 && !strcmp(dir, want) && stat(rel, &rs) != 0,
               "a relative XDG_CACHE_HOME is ignored: the cache is %s", dir);
        if (moved && chdir(here) != 0) tap_diag("chdir back failed");
        if (old_home) setenv("HOME", saved_home, 1);
        else unsetenv("HOME");
        setenv("XDG_CACHE_HOME", base, 1);
    }

    /* a cache dir others can write to is not used (code is loaded from it) */
    if (chmod(cache, 0777) == 0) {
        rc = run_once(c + 6, &comp, &hits, dir, sizeof dir, err, sizeof err);
        tap_ok(rc == 0 && comp == 1 && strcmp(dir, cache) != 0,
               "a world-writable cache dir is refused: a private temp dir is used (%s)", dir);
        chmod(cache, 0755);
    } else {
        tap_skip("cannot chmod the cache dir");
    }

    /* TG_BEAM: a search whose winner is cached; later runs use it; a garbled record is ignored */
    setenv("TG_BEAM", "4", 1);
    rc = run_reduce(err, sizeof err);
    char rec[700] = "";
    tap_ok(rc == 0 && count_prefix(cache, "tune-", rec, sizeof rec) == 1, "TG_BEAM=4 tunes a reduction, correct result, winner cached %s", err);
    unsetenv("TG_BEAM");
    FILE *rf = fopen(rec, "r");
    int beam = 0, fields = rf ? fscanf(rf, "%d", &beam) : 0;
    if (rf) fclose(rf);
    tap_ok(fields == 1 && beam == 4, "the record names its beam (%d)", beam);
    rc = run_reduce(err, sizeof err);
    tap_ok(rc == 0, "a later run without TG_BEAM uses the record %s", err);
    garble(rec);
    rc = run_reduce(err, sizeof err);
    tap_ok(rc == 0, "a garbled record is ignored %s", err);
    unlink(rec);
    if (mkfifo(rec, 0644) == 0) {
        pid_t kid = fork();
        if (kid == 0) {
            alarm(60); /* a hang fails the test instead of stalling it */
            char e2[512];
            _exit(run_reduce(e2, sizeof e2) == 0 ? 0 : 1);
        }
        int ks = 1;
        waitpid(kid, &ks, 0);
        tap_ok(WIFEXITED(ks) && WEXITSTATUS(ks) == 0, "a FIFO in place of a tuning record is not read");
        unlink(rec);
    } else {
        tap_skip("mkfifo failed");
    }

    setenv("TG_CC", "/nonexistent/cc", 1);
    rc = run_once(c + 3, &comp, &hits, NULL, 0, err, sizeof err);
    tap_ok(rc == -TG_ERR_COMPILE && strstr(err, "compiler"), "TG_CC=/nonexistent: clear error (%s)", err);
    setenv("TG_CC", "false", 1);
    rc = run_once(c + 3, &comp, &hits, NULL, 0, err, sizeof err);
    tap_ok(rc == -TG_ERR_COMPILE && strstr(err, "failed"), "a failing compiler: clear error (%s)", err);
    unsetenv("TG_CC");

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) tap_diag("could not remove %s", base);
    return tap_done();
}
