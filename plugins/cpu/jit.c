/* plugins/cpu/jit.c -- compile generated C with the system compiler into a
 * shared object, cached on disk.
 *
 * Cache key: a hash of the source, the compiler's identity (resolved path,
 * size, mtime), the flags and the host CPU. An entry is cpu-<key>.so in
 * $XDG_CACHE_HOME/tg (else ~/.cache/tg); it is written under a temporary name
 * and renamed, so a half-written entry is never seen, and it carries its key
 * (symbol tgkey_<key>), so a corrupt or foreign file is rejected and rebuilt.
 * Kernels compiled together share one object: each one's entry is a hard link
 * to it, and its symbols carry its key (tgk_<key>...).
 * A cache directory we cannot write falls back to a private temporary one.
 * Jobs marked fast compile with the fast compiler (TG_CC_FAST, else tcc if
 * it is in PATH) and no flags: the cpu plugin's first tier (plugin.c). Builds
 * may run on several threads at once (the upgrade thread, upgrade.c). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpu.h"
#include <tg/dtype_util.h>

extern char **environ;

#define CPU_MAX_ARGS 32

struct cpu_jit {
    char *argv_store;             /* TG_CC split on spaces                     */
    char *cc_argv[CPU_MAX_ARGS];  /* compiler command and its own arguments    */
    int cc_argc;
    char cc_path[PATH_MAX];       /* resolved compiler path ("" if not found)  */
    char dir[PATH_MAX];           /* cache directory in use                    */
    char fallback[PATH_MAX];      /* private temp dir, made on demand (lock)   */
    char fast_path[PATH_MAX];     /* the fast compiler; "" if none             */
    uint64_t ident;               /* hash of compiler identity, flags and host */
    uint64_t fast_ident;          /* the same for the fast compiler            */
    uint64_t compiles, hits;      /* atomic                                    */
    pthread_mutex_t lock;         /* guards fallback                           */
};

uint64_t cpu_hash(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Flags for the host: chosen when the plugin runs; TG_CFLAGS replaces them.
 * Kernels with little work get -O1: half the compile time, the same results
 * (no flag here changes floating-point semantics). */
static const char *host_flags(int small) {
    const char *env = getenv("TG_CFLAGS");
    if (env && *env) return env;
#if defined(__x86_64__) || defined(__i386__)
    return small ? "-O1 -march=native -fno-math-errno -ffp-contract=off -fno-trapping-math"
                 : "-O3 -march=native -fno-math-errno -ffp-contract=off -fno-trapping-math";
#elif defined(__aarch64__)
    return small ? "-O1 -mcpu=native -fno-math-errno -ffp-contract=off -fno-trapping-math"
                 : "-O3 -mcpu=native -fno-math-errno -ffp-contract=off -fno-trapping-math";
#else
    return small ? "-O1 -fno-math-errno -ffp-contract=off -fno-trapping-math"
                 : "-O3 -fno-math-errno -ffp-contract=off -fno-trapping-math";
#endif
}

static int find_in_path(const char *name, char *out, size_t cap) {
    if (strchr(name, '/')) {
        if (access(name, X_OK) != 0) return -1;
        snprintf(out, cap, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *e = strchr(path, ':');
        size_t len = e ? (size_t)(e - path) : strlen(path);
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? path : ".", name);
        if (access(cand, X_OK) == 0) {
            snprintf(out, cap, "%s", cand);
            return 0;
        }
        path += len + (e ? 1 : 0);
    }
    return -1;
}

/* The host CPU's model and feature flags (what -march=native depends on). */
static uint64_t host_ident(uint64_t h) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return h;
    char line[8192];
    int seen = 0;
    while (seen < 2 && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10) || !strncmp(line, "flags", 5) || !strncmp(line, "Features", 8)) {
            h = cpu_hash(h, line, strlen(line));
            seen++;
        }
    }
    fclose(f);
    return h;
}

/* Code is loaded from the cache dir, so it must be ours alone: owned by
 * this user and writable by no one else. Otherwise it is not used (the
 * private temporary dir takes over) and stderr says why, once. */
static int dir_is_private(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    if (st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH))) return 1;
    static int said;
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "tg cpu: not using the kernel cache %s: it is %s (mode %03o); compiled kernels go to a "
                "private temporary directory instead (fix: chown it to yourself and chmod go-w)\n", dir,
                st.st_uid != geteuid() ? "owned by another user" : "writable by other users",
                (unsigned)(st.st_mode & 0777));
    return 0;
}

/* Hash a compiler's resolved file (path, size, mtime) into h. */
static uint64_t compiler_ident(uint64_t h, const char *path) {
    char real[PATH_MAX];
    struct stat st;
    if (realpath(path, real) && stat(real, &st) == 0) {
        int64_t id[2] = {(int64_t)st.st_size, (int64_t)st.st_mtime};
        h = cpu_hash(h, real, strlen(real));
        h = cpu_hash(h, id, sizeof id);
    }
    return h;
}

tg_status cpu_jit_create(cpu_jit **out, char *err, size_t errcap) {
    cpu_jit *j = calloc(1, sizeof *j);
    if (!j) return TG_ERR_NO_MEMORY;
    pthread_mutex_init(&j->lock, NULL);
    const char *cc = getenv("TG_CC");
    if (!cc || !*cc) cc = "cc";
    j->argv_store = strdup(cc);
    if (!j->argv_store) { cpu_jit_destroy(j); return TG_ERR_NO_MEMORY; }
    for (char *tok = strtok(j->argv_store, " \t"); tok && j->cc_argc < 8; tok = strtok(NULL, " \t"))
        j->cc_argv[j->cc_argc++] = tok;
    if (j->cc_argc == 0) { snprintf(err, errcap, "TG_CC is empty"); cpu_jit_destroy(j); return TG_ERR_INVALID; }

    /* Identity: the resolved compiler file (size, mtime), flags, host. A compiler
     * that is missing is reported when a kernel first needs compiling, so cached
     * kernels still run. */
    uint64_t h = CPU_FNV_SEED;
    h = cpu_hash(h, cc, strlen(cc));
    if (find_in_path(j->cc_argv[0], j->cc_path, sizeof j->cc_path) == 0) h = compiler_ident(h, j->cc_path);
    else j->cc_path[0] = 0;
    const char *fl = host_flags(0);
    h = cpu_hash(h, fl, strlen(fl));
    j->ident = host_ident(h);
    const char *fast = getenv("TG_CC_FAST"); /* "" turns the fast tier off */
    if (!fast) fast = "tcc";
    if (!*fast || find_in_path(fast, j->fast_path, sizeof j->fast_path) != 0) j->fast_path[0] = 0;
    else j->fast_ident = host_ident(compiler_ident(cpu_hash(CPU_FNV_SEED, "fast", 4), j->fast_path));

    /* Relative values are ignored, as the XDG spec says (and as the core
     * does): a relative cache would compile into and load from the cwd. */
    if (tgp_cache_dir("", j->dir, sizeof j->dir) < 0 && !dir_is_private(j->dir)) j->dir[0] = 0;
    *out = j;
    return TG_OK;
}

void cpu_jit_destroy(cpu_jit *j) {
    if (!j) return;
    if (j->fallback[0]) { /* a private temp cache: remove it (mapped files stay valid) */
        DIR *d = opendir(j->fallback);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char p[PATH_MAX + 260];
            if (e->d_name[0] == '.') continue;
            snprintf(p, sizeof p, "%s/%s", j->fallback, e->d_name);
            unlink(p);
        }
        if (d) closedir(d);
        rmdir(j->fallback);
    }
    pthread_mutex_destroy(&j->lock);
    free(j->argv_store);
    free(j);
}

uint64_t cpu_jit_ident(const cpu_jit *j) { return j->ident; }

int cpu_jit_has_fast(const cpu_jit *j) { return j->fast_path[0] != 0; }

/* The private dir, or "" (it is made once, under the lock). */
static void fallback_dir(cpu_jit *j, char *out, size_t cap) {
    pthread_mutex_lock(&j->lock);
    snprintf(out, cap, "%s", j->fallback);
    pthread_mutex_unlock(&j->lock);
}

const char *cpu_jit_cache_dir(cpu_jit *j) {
    pthread_mutex_lock(&j->lock);
    const char *dir = j->fallback[0] ? j->fallback : j->dir;
    pthread_mutex_unlock(&j->lock);
    return dir;
}

void cpu_jit_stats(const cpu_jit *j, uint64_t *compiles, uint64_t *hits) {
    *compiles = __atomic_load_n(&j->compiles, __ATOMIC_RELAXED);
    *hits = __atomic_load_n(&j->hits, __ATOMIC_RELAXED);
}

/* Entries end with a trailer: "tgck" + FNV-1a hash of every byte before it.
 * dlopen of a truncated object can raise SIGBUS, so the trailer is checked first. */
#define TRAILER_MAGIC "tgck"
#define TRAILER_SIZE 12

FILE *cpu_jit_open_record(const char *path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return NULL;
    FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "r") : NULL;
    if (!f) close(fd);
    return f;
}

/* A regular file's bytes; NULL for anything else (a FIFO would block the
 * read forever, a device could be endless), without following a symlink. */
static char *read_file(const char *path, size_t *out_n) {
    FILE *f = cpu_jit_open_record(path);
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            char *nb = realloc(buf, cap + 65536);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
            cap += 65536;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    *out_n = n;
    return buf;
}

static int entry_intact(const char *path) {
    size_t n = 0;
    char *buf = read_file(path, &n);
    int ok = 0;
    if (buf && n > TRAILER_SIZE && !memcmp(buf + n - TRAILER_SIZE, TRAILER_MAGIC, 4)) {
        uint64_t h = cpu_hash(CPU_FNV_SEED, buf, n - TRAILER_SIZE), want;
        memcpy(&want, buf + n - 8, 8);
        ok = h == want;
    }
    free(buf);
    return ok;
}

/* Append the trailer to a freshly compiled object. */
static int add_trailer(const char *path) {
    size_t n = 0;
    char *buf = read_file(path, &n);
    if (!buf) return -1;
    uint64_t h = cpu_hash(CPU_FNV_SEED, buf, n);
    free(buf);
    FILE *f = fopen(path, "ab");
    if (!f) return -1;
    int bad = fwrite(TRAILER_MAGIC, 1, 4, f) != 4 || fwrite(&h, 1, 8, f) != 8;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

/* dlopen an intact entry and check that it carries the expected key. */
static void *open_entry(const char *path, const char *key) {
    if (!entry_intact(path)) return NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return NULL;
    char sym[64];
    snprintf(sym, sizeof sym, "tgkey_%s", key);
    const char *k = dlsym(h, sym);
    if (!k || strcmp(k, key) != 0) {
        dlclose(h);
        return NULL;
    }
    return h;
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read the head of the compiler's log into err. */
static void log_head(const char *log, char *err, size_t errcap, size_t used) {
    FILE *f = fopen(log, "r");
    if (!f) return;
    size_t room = errcap > used + 1 ? errcap - used - 1 : 0;
    size_t n = fread(err + used, 1, room, f);
    err[used + n] = 0;
    fclose(f);
}

/* A kernel body (from its plan comment on) that defines nothing but
 * functions tgk*: it can share a file with others after one prelude. */
static int body_is_plain(const char *body) {
    int depth = 0, start = 1;
    for (const char *c = body; *c; c++) {
        if (start && depth == 0 && *c != '\n' && strncmp(c, "/" "*", 2) && strncmp(c, "void tgk", 8)) return 0;
        start = *c == '\n';
        depth += *c == '{' ? 1 : *c == '}' ? -1 : 0;
    }
    return 1;
}

/* A kernel's code with its symbols renamed by its key (tgk_<key>,
 * tgk_part_<key>, tgk_fin_<key>, tgk_oom_<key>) and the key in tgkey_<key>. */
static void emit_kernel(tgl_sb *sb, const char *code, const char *key) {
    tgl_sb_printf(sb, "#define tgk tgk_%s\n#define tgk_part tgk_part_%s\n#define tgk_fin tgk_fin_%s\n"
                  "#define tgk_oom tgk_oom_%s\n%s\n#undef tgk\n#undef tgk_part\n#undef tgk_fin\n#undef tgk_oom\n"
                  "__attribute__((visibility(\"default\"))) const char tgkey_%s[] = \"%s\";\n",
                  key, key, key, key, code, key, key);
}

/* The C files of a set of kernels: files[0] holds the prelude once and every
 * plain kernel with that prelude; any other kernel (its own macros, types or
 * statics) gets a file of its own. A kernel twice is compiled once. Returns
 * the number of files (files[0] may be empty). */
static int batch_files(cpu_jit_job *const *jobs, int m, tgl_sb *files) {
    int nf = 1;
    const char *head = NULL;
    size_t head_len = 0;
    for (int i = 0; i < m; i++) {
        const char *src = jobs[i]->src, *nl = strchr(src, '\n'), *plan = strstr(src, "\n/" "* plan: ");
        int dup = 0;
        for (int k = 0; k < i; k++) dup |= !strcmp(jobs[k]->key, jobs[i]->key);
        if (dup) continue;
        size_t len = nl && plan && plan >= nl ? (size_t)(plan - nl) : 0;
        if (len && body_is_plain(plan + 1) && (!head || (len == head_len && !memcmp(head, nl + 1, len)))) {
            if (!head) tgl_sb_printf(&files[0], "%.*s", (int)len, nl + 1);
            head = nl + 1;
            head_len = len;
            tgl_sb_printf(&files[0], "%.*s", (int)(nl + 1 - src), src); /* the kernel's name */
            emit_kernel(&files[0], plan + 1, jobs[i]->key);
        } else {
            emit_kernel(&files[nf++], src, jobs[i]->key);
        }
    }
    return nf;
}

/* Compile a set of kernels (one flag set) with one compiler invocation into
 * one shared object in dir, and link it into the cache under each kernel's
 * name. TG_OK, else a status with err set: TG_ERR_IO for a problem of the dir
 * (ENOSPC-like, or no hard links), so the caller may try the fallback dir. */
static tg_status compile_set(cpu_jit *j, const char *dir, cpu_jit_job *const *jobs, int m, int small, int fast,
                             char *err, size_t errcap) {
    char base[PATH_MAX], opath[PATH_MAX + 8], lpath[PATH_MAX + 8];
    snprintf(base, sizeof base, "%s/tmp-%ld-XXXXXX", dir, (long)getpid());
    int fd = mkstemp(base);
    if (fd < 0) {
        snprintf(err, errcap, "cpu: cannot create a file in cache dir %s: %s", dir, strerror(errno));
        return TG_ERR_IO;
    }
    close(fd);
    snprintf(opath, sizeof opath, "%s.so", base);
    snprintf(lpath, sizeof lpath, "%s.log", base);
    tgl_sb *files = calloc((size_t)m + 1, sizeof *files);
    char **argv = calloc((size_t)m + CPU_MAX_ARGS + 48, sizeof *argv);
    char (*cpaths)[PATH_MAX + 16] = calloc((size_t)m + 1, sizeof *cpaths);
    int nf = files && argv && cpaths ? batch_files(jobs, m, files) : 0, ncf = 0;
    tg_status st = nf ? TG_OK : TG_ERR_NO_MEMORY;
    if (st) snprintf(err, errcap, "cpu: out of memory for the sources of %d kernels", m);
    /* argv: compiler [its args] flags... -std=gnu11 -w -shared -fPIC -o out sources... -lm;
     * the fast compiler: fast -w -shared -fPIC -o out sources... -lm */
    char flags[1024];
    snprintf(flags, sizeof flags, "%s", fast ? "" : host_flags(small));
    int argc = 0;
    if (fast) argv[argc++] = j->fast_path;
    for (int i = 0; st == TG_OK && !fast && i < j->cc_argc; i++) argv[argc++] = j->cc_argv[i];
    for (char *tok = strtok(flags, " \t"); st == TG_OK && tok && argc < CPU_MAX_ARGS + 30; tok = strtok(NULL, " \t"))
        argv[argc++] = tok;
    char *fixed[] = {"-std=gnu11", "-w", "-shared", "-fPIC", "-o", opath};
    for (size_t i = fast ? 1 : 0; st == TG_OK && i < sizeof fixed / sizeof *fixed; i++) argv[argc++] = fixed[i];
    for (int f = 0; st == TG_OK && f < nf; f++) {
        if (files[f].oom) st = TG_ERR_NO_MEMORY;
        if (!files[f].len) continue;
        snprintf(cpaths[ncf], sizeof cpaths[ncf], "%s-%d.c", base, f);
        fd = st ? -1 : open(cpaths[ncf], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        argv[argc++] = cpaths[ncf++];
        if (fd < 0 || write_all(fd, files[f].s, files[f].len) != 0 || close(fd) != 0) {
            snprintf(err, errcap, "cpu: cannot write %s: %s", cpaths[ncf - 1], st ? "out of memory" : strerror(errno));
            if (fd >= 0) close(fd);
            st = st ? st : TG_ERR_IO;
        }
    }
    argv[argc++] = "-lm";
    argv[argc] = NULL;
    if (st != TG_OK) goto done;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, lpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        snprintf(err, errcap, "cpu: cannot run the C compiler '%s' (set TG_CC to a C compiler): %s", argv[0],
                 strerror(rc));
        st = TG_ERR_COMPILE;
        goto done;
    }
    __atomic_fetch_add(&j->compiles, 1, __ATOMIC_RELAXED);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errcap, "cpu: waiting for the compiler: %s", strerror(errno));
            st = TG_ERR_COMPILE;
            goto done;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int used = snprintf(err, errcap, "cpu: the C compiler '%s' failed (status %d): ", argv[0],
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (used > 0 && (size_t)used < errcap) log_head(lpath, err, errcap, (size_t)used);
        /* the compiler could not write its output: a cache dir problem, not the code's */
        st = strstr(err, "No space left") || strstr(err, "Read-only file system") || strstr(err, "Permission denied") ||
                     strstr(err, "Disk quota")
                 ? TG_ERR_IO
                 : TG_ERR_COMPILE;
        goto done;
    }
    if (add_trailer(opath) != 0) {
        snprintf(err, errcap, "cpu: cannot finish the cache entry %.900s: %s", opath, strerror(errno));
        st = TG_ERR_IO;
        goto done;
    }
    /* each kernel's entry is a hard link to the object, put in place by an
     * atomic rename: a reader sees a whole object or none */
    for (int i = 0; i < m && st == TG_OK; i++) {
        char final[PATH_MAX + 80], tmp[PATH_MAX + 16];
        snprintf(final, sizeof final, "%s/cpu-%s.so", dir, jobs[i]->key);
        snprintf(tmp, sizeof tmp, "%s.%d", base, i);
        if (link(opath, tmp) != 0 || rename(tmp, final) != 0) {
            snprintf(err, errcap, "cpu: cannot put %.900s into the cache: %s", final, strerror(errno));
            st = TG_ERR_IO;
        }
        unlink(tmp); /* left by a rename onto a link of the same object (a kernel twice) */
    }
done:
    for (int f = 0; f < ncf; f++) unlink(cpaths[f]);
    for (int f = 0; files && f < nf; f++) tgl_sb_free(&files[f]);
    free(files);
    free(argv);
    free(cpaths);
    unlink(opath);
    unlink(lpath);
    unlink(base);
    return st;
}

static tg_status use_fallback(cpu_jit *j, char *err, size_t errcap) {
    tg_status st = TG_OK;
    pthread_mutex_lock(&j->lock);
    if (!j->fallback[0]) {
        const char *t = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof tmpl, "%s/tg-cache-XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(tmpl)) {
            snprintf(j->fallback, sizeof j->fallback, "%s", tmpl);
        } else {
            snprintf(err, errcap, "cpu: no writable cache dir (%.900s) and no temp dir: %s", j->dir, strerror(errno));
            st = TG_ERR_IO;
        }
    }
    pthread_mutex_unlock(&j->lock);
    return st;
}

/* compile_set in the cache dir, or where it cannot be used, the private one. */
static tg_status compile_any(cpu_jit *j, cpu_jit_job *const *jobs, int m, int small, int fast, char *err,
                             size_t errcap) {
    tg_status st = TG_ERR_IO;
    if (j->dir[0]) st = compile_set(j, j->dir, jobs, m, small, fast, err, errcap);
    if (st == TG_ERR_IO) { /* cache dir missing, read-only or full: private temp dir */
        st = use_fallback(j, err, errcap);
        if (st == TG_OK) st = compile_set(j, j->fallback, jobs, m, small, fast, err, errcap);
    }
    return st;
}

/* The kernels of one optimisation level together; if that fails, one by one,
 * so that a bad kernel fails alone with its own message. */
static void compile_level(cpu_jit *j, cpu_jit_job **set, int m, int small, int fast) {
    char err[1024];
    tg_status st = m ? compile_any(j, set, m, small, fast, err, sizeof err) : TG_OK;
    for (int i = 0; i < m; i++) {
        if (st == TG_ERR_COMPILE && m > 1) {
            set[i]->st = compile_any(j, &set[i], 1, small, fast, set[i]->err, sizeof set[i]->err);
        } else {
            set[i]->st = st;
            if (st != TG_OK) snprintf(set[i]->err, sizeof set[i]->err, "%s", err);
        }
    }
}

static void *find_entry(cpu_jit *j, const char *key) {
    char fb[PATH_MAX];
    fallback_dir(j, fb, sizeof fb);
    const char *dirs[2] = {j->dir[0] ? j->dir : NULL, fb[0] ? fb : NULL};
    void *h = NULL;
    for (int i = 0; i < 2 && !h; i++) {
        char path[PATH_MAX + 80];
        if (!dirs[i]) continue;
        snprintf(path, sizeof path, "%s/cpu-%s.so", dirs[i], key);
        h = open_entry(path, key);
    }
    return h;
}

void cpu_jit_probe(cpu_jit *j, cpu_jit_job *jobs, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        cpu_jit_job *b = &jobs[i];
        if (!b->src || b->handle) continue;
        const char *fl = b->fast ? "fast" : host_flags(b->small);
        uint64_t h1 = cpu_hash(cpu_hash(b->fast ? j->fast_ident : j->ident, fl, strlen(fl)), b->src, strlen(b->src));
        uint64_t h2 = cpu_hash(h1 ^ 0x9e3779b97f4a7c15ull, b->src, strlen(b->src));
        snprintf(b->key, sizeof b->key, "%016" PRIx64 "%016" PRIx64, h1, h2);
        b->st = TG_OK;
        b->handle = find_entry(j, b->key);
        if (b->handle) __atomic_fetch_add(&j->hits, 1, __ATOMIC_RELAXED);
    }
}

tg_status cpu_jit_build(cpu_jit *j, cpu_jit_job *jobs, uint32_t n) {
    cpu_jit_job **todo = malloc((n ? n : 1) * sizeof *todo), **set = malloc((n ? n : 1) * sizeof *set);
    if (!todo || !set) {
        free(todo);
        free(set);
        return TG_ERR_NO_MEMORY;
    }
    int m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!jobs[i].src || jobs[i].handle) continue;
        cpu_jit_probe(j, &jobs[i], 1);
        if (!jobs[i].handle) todo[m++] = &jobs[i];
    }
    for (int i = 0; i < m; i++) {
        const char *cc = todo[i]->fast ? j->fast_path : j->cc_path;
        if (cc[0]) continue;
        snprintf(todo[i]->err, sizeof todo[i]->err, "cpu: C compiler '%s' not found in PATH (set TG_CC to a C compiler)",
                 j->cc_argv[0]);
        todo[i]->st = TG_ERR_COMPILE;
    }
    for (int level = 0; level < 3; level++) { /* -O3, -O1, the fast compiler */
        int k = 0, small = level == 1, fast = level == 2;
        for (int i = 0; i < m; i++)
            if (todo[i]->st == TG_OK && todo[i]->fast == fast && (fast || todo[i]->small == small)) set[k++] = todo[i];
        compile_level(j, set, k, small, fast);
    }
    tg_status first = TG_OK;
    for (int i = 0; i < m; i++) {
        cpu_jit_job *b = todo[i];
        if (b->st == TG_OK && !(b->handle = find_entry(j, b->key))) {
            const char *why = dlerror();
            snprintf(b->err, sizeof b->err, "cpu: cannot load the compiled kernel cpu-%s.so: %s", b->key,
                     why ? why : "key mismatch");
            b->st = TG_ERR_COMPILE;
        }
        if (first == TG_OK) first = b->st;
    }
    free(todo);
    free(set);
    return first;
}
