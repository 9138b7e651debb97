/* The plugin loader: find tg-NAME.so files, probe each in a child process,
 * dlopen the ones that survive, negotiate the ABI version and check the
 * function table before anyone calls through it. */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tg/runtime.h>

struct tg_plugin {
    void *handle;
    tg_plugin_api api; /* the core's copy: slots past the plugin's struct_size are NULL */
    char *path;
};

/* Smallest struct_size a table of each known minor may have: its required
 * slots end at program_launch (1.0; 1.1 and 1.2 added only optional slots).
 * Optional slots past it may be cut off. */
#define TG_API_END(slot) (offsetof(tg_plugin_api, slot) + sizeof(((tg_plugin_api *)0)->slot))
static const uint32_t min_size_per_minor[TG_ABI_MINOR + 1] = {
    TG_API_END(program_launch), /* 1.0 */
    TG_API_END(program_launch), /* 1.1 */
    TG_API_END(program_launch), /* 1.2 */
};

/* ------------------------------------------------------------ directories */

typedef struct dir_list {
    char **dirs;
    size_t count, cap;
} dir_list;

static void dirs_free(dir_list *l) {
    for (size_t i = 0; i < l->count; i++) free(l->dirs[i]);
    free(l->dirs);
    memset(l, 0, sizeof *l);
}

/* Append a copy of dir[0..len) unless it is empty or already listed. */
static int dirs_add(dir_list *l, const char *dir, size_t len) {
    while (len > 1 && dir[len - 1] == '/') len--;
    if (len == 0) return 0;
    for (size_t i = 0; i < l->count; i++)
        if (strlen(l->dirs[i]) == len && !strncmp(l->dirs[i], dir, len)) return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **d = realloc(l->dirs, cap * sizeof *d);
        if (!d) return -1;
        l->dirs = d;
        l->cap = cap;
    }
    char *copy = strndup(dir, len);
    if (!copy) return -1;
    l->dirs[l->count++] = copy;
    return 0;
}

/* The build tree's plugin directory: <build>/plugins when libtg is
 * <build>/core/libtg.so*, else the directory compiled in. An installed
 * libtg does not sit in a "core" directory and gets neither. */
static int build_plugin_dir(char *out, size_t cap) {
    Dl_info info;
    char lib[PATH_MAX];
    if (dladdr((void *)build_plugin_dir, &info) && info.dli_fname && realpath(info.dli_fname, lib)) {
        const char *slash = strrchr(lib, '/');
        size_t len = (size_t)(slash - lib);
        if (len >= 5 && !strncmp(slash - 5, "/core", 5)) {
            snprintf(out, cap, "%.*s/plugins", (int)(len - 5), lib);
            return 1;
        }
        return 0;
    }
#ifdef TG_BUILD_PLUGIN_DIR
    snprintf(out, cap, "%s", TG_BUILD_PLUGIN_DIR);
    return 1;
#else
    return 0;
#endif
}

/* TG_PLUGIN_PATH entries, then the build tree, then the install directory. */
static int search_dirs(dir_list *l) {
    const char *env = getenv("TG_PLUGIN_PATH");
    for (const char *p = env; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (dirs_add(l, p, len)) return -1;
        p = end ? end + 1 : p + len;
    }
    char build[PATH_MAX];
    if (build_plugin_dir(build, sizeof build) && dirs_add(l, build, strlen(build))) return -1;
#ifdef TG_INSTALL_PLUGIN_DIR
    if (dirs_add(l, TG_INSTALL_PLUGIN_DIR, strlen(TG_INSTALL_PLUGIN_DIR))) return -1;
#endif
    return 0;
}

const char *tg_plugin_search_path(void) {
    static _Thread_local char text[8192];
    dir_list l = {0};
    size_t used = 0;
    text[0] = '\0';
    if (search_dirs(&l) == 0) {
        for (size_t i = 0; i < l.count; i++) {
            size_t need = strlen(l.dirs[i]) + (i ? 1 : 0);
            if (used + need + 1 > sizeof text) break;
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", i ? ":" : "", l.dirs[i]);
        }
    }
    dirs_free(&l);
    return text;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int skip_dot(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Each search directory followed by its immediate subdirectories (sorted). */
static int expand_dirs(const dir_list *in, dir_list *out) {
    for (size_t i = 0; i < in->count; i++) {
        if (!is_dir(in->dirs[i])) continue;
        if (dirs_add(out, in->dirs[i], strlen(in->dirs[i]))) return -1;
        struct dirent **ents = NULL;
        int n = scandir(in->dirs[i], &ents, skip_dot, alphasort);
        int rc = 0;
        for (int k = 0; k < n; k++) {
            char sub[PATH_MAX];
            int len = snprintf(sub, sizeof sub, "%s/%s", in->dirs[i], ents[k]->d_name);
            if (!rc && len > 0 && (size_t)len < sizeof sub && is_dir(sub) && dirs_add(out, sub, (size_t)len))
                rc = -1;
            free(ents[k]);
        }
        free(ents);
        if (rc) return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- loading */

static int valid_name(const char *s) {
    if (!s || !*s) return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') || n >= 64) return 0;
    }
    return 1;
}

/* The NAME of a file called tg-NAME.so (len 0 if it is not one). */
static const char *file_plugin_name(const char *path, size_t *out_len) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    *out_len = 0;
    if (n <= 6 || strncmp(base, "tg-", 3) || strcmp(base + n - 3, ".so")) return base;
    *out_len = n - 6;
    return base + 3;
}

/* Check a negotiated table; on failure write why into reason. */
static tg_status check_table(const tg_plugin_api *api, const char *path, char *reason, size_t cap) {
    if (api->abi_major != TG_ABI_MAJOR) {
        snprintf(reason, cap, "ABI major version mismatch: plugin speaks %u.%u, core speaks %d.%d",
                 api->abi_major, api->abi_minor, TG_ABI_MAJOR, TG_ABI_MINOR);
        return TG_ERR_VERSION;
    }
    uint32_t minor = api->abi_minor <= TG_ABI_MINOR ? api->abi_minor : TG_ABI_MINOR;
    if (api->struct_size < min_size_per_minor[minor]) {
        snprintf(reason, cap, "function table too small for ABI %u.%u: struct_size %u, needs at least %u",
                 api->abi_major, api->abi_minor, api->struct_size, min_size_per_minor[minor]);
        return TG_ERR_VERSION;
    }
    if (!api->name) {
        snprintf(reason, cap, "function table has no name");
        return TG_ERR_INVALID;
    }
    if (!valid_name(api->name)) {
        snprintf(reason, cap, "invalid plugin name '%.64s' (want [a-z0-9_]+, at most 64 chars)", api->name);
        return TG_ERR_INVALID;
    }
    size_t flen;
    const char *fname = file_plugin_name(path, &flen);
    if (flen && (strlen(api->name) != flen || strncmp(api->name, fname, flen))) {
        snprintf(reason, cap, "plugin calls itself '%s' but its file is named tg-%.*s.so", api->name, (int)flen,
                 fname);
        return TG_ERR_INVALID;
    }
    if (!api->version) {
        snprintf(reason, cap, "plugin '%s' has no version string", api->name);
        return TG_ERR_INVALID;
    }
    static const struct { size_t offset; const char *name; } required[] = {
#define REQ(slot) {offsetof(tg_plugin_api, slot), #slot}
        REQ(plugin_error), REQ(device_count), REQ(device_create), REQ(device_destroy),
        REQ(device_error), REQ(device_caps), REQ(buffer_create), REQ(buffer_destroy),
        REQ(buffer_write), REQ(buffer_read), REQ(program_create), REQ(program_destroy),
        REQ(program_launch),
#undef REQ
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        void (*slot)(void);
        memcpy(&slot, (const char *)api + required[i].offset, sizeof slot);
        if (!slot) {
            snprintf(reason, cap, "required slot %s is NULL", required[i].name);
            return TG_ERR_INVALID;
        }
    }
    return TG_OK;
}

/* dlopen `path` in this process and negotiate. On failure: reason says why
 * (without the path). version[] gets the ABI version the table declared. */
static tg_status load_here(const char *path, tg_plugin *p, uint32_t version[2], char *reason, size_t cap) {
    dlerror();
    /* RTLD_NODELETE: dlclose never unmaps a plugin, so a thread it started
     * (a driver's worker) that outlives tg_plugin_close keeps its code. */
    p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!p->handle) {
        const char *e = dlerror();
        snprintf(reason, cap, "cannot load: %s", e ? e : "dlopen failed");
        return TG_ERR_IO;
    }
    void *sym = dlsym(p->handle, TG_PLUGIN_ENTRY_NAME);
    if (!sym) {
        snprintf(reason, cap, "no entry symbol '%s' (not a tg plugin?)", TG_PLUGIN_ENTRY_NAME);
        return TG_ERR_NOT_FOUND;
    }
    tg_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const char *why = NULL;
    const tg_plugin_api *api = entry(TG_ABI_MAJOR, TG_ABI_MINOR, &why);
    if (!api) {
        snprintf(reason, cap, "plugin refused ABI %d.%d: %s", TG_ABI_MAJOR, TG_ABI_MINOR,
                 why && *why ? why : "(no reason given)");
        return TG_ERR_VERSION;
    }
    version[0] = api->abi_major;
    version[1] = api->abi_minor;
    tg_status st = check_table(api, path, reason, cap);
    if (st) return st;
    size_t n = api->struct_size < sizeof p->api ? api->struct_size : sizeof p->api;
    memset(&p->api, 0, sizeof p->api);
    memcpy(&p->api, api, n);
    /* an older minor's bytes past its slots mean nothing */
    size_t end = api->abi_minor < 1   ? offsetof(tg_plugin_api, program_run)
                 : api->abi_minor < 2 ? offsetof(tg_plugin_api, buffer_wrap)
                                      : sizeof p->api;
    memset((char *)&p->api + end, 0, sizeof p->api - end);
    return TG_OK;
}

/* ------------------------------------------------------------------ probe */

/* A plugin whose constructor, entry or device_count crashes or hangs must
 * not take the loading process with it. So each file is first loaded in a
 * forked child, which reports back through a pipe; only a file that passed
 * is dlopen()ed here. Results are cached per file (path, mtime, size). */

typedef struct probe_result {
    tg_status status;
    uint32_t version[2];
    char reason[1024];
} probe_result;

typedef struct probe_entry {
    struct probe_entry *next;
    char *path; /* realpath */
    struct timespec mtime;
    off_t size;
    probe_result result;
} probe_entry;

static probe_entry *probe_cache;
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

/* Seconds to wait for the child: TG_PLUGIN_PROBE_TIMEOUT, default 10;
 * 0 turns probing off. */
static double probe_timeout(void) {
    const char *env = getenv("TG_PLUGIN_PROBE_TIMEOUT");
    char *end;
    double t = env && *env ? strtod(env, &end) : -1;
    return env && *env && !*end && t >= 0 && t < 1e6 ? t : 10;
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    default: return NULL;
    }
}

/* In the child: load as load_here() would, call device_count, report. */
static void probe_child(const char *path, int fd) {
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL); /* die, tell */
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    probe_result r = {0};
    tg_plugin p = {0};
    r.status = load_here(path, &p, r.version, r.reason, sizeof r.reason);
    uint32_t n;
    if (!r.status) p.api.device_count(&n); /* its answer does not matter, surviving it does */
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
    _exit(0);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Fork, let the child load the plugin, read its answer or see it die.
 * Returns 0 if r holds a result worth caching, -1 if no probe could run. */
static int probe_run(const char *path, double timeout, probe_result *r) {
    int fds[2];
    if (pipe(fds)) {
        snprintf(r->reason, sizeof r->reason, "cannot probe: pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL); /* a plugin calling exit() must not print our buffers twice */
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        probe_child(path, fds[1]);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(r->reason, sizeof r->reason, "cannot probe: fork: %s", strerror(errno));
        return -1;
    }
    probe_result got;
    size_t have = 0;
    double deadline = now_s() + timeout;
    while (have < sizeof got) {
        double left = deadline - now_s();
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int ready = left > 0 ? poll(&pfd, 1, (int)(left * 1000) + 1) : 0;
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break; /* out of time */
        ssize_t k = read(fds[0], (char *)&got + have, sizeof got - have);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break; /* the child is gone */
        have += (size_t)k;
    }
    close(fds[0]);
    int ws = 0, late = 0;
    pid_t w;
    while ((w = waitpid(pid, &ws, WNOHANG)) == 0 && now_s() < deadline) nanosleep(&(struct timespec){0, 5000000}, NULL);
    if (w == 0) { /* still running past the deadline */
        kill(pid, SIGKILL);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
        late = 1;
    }
    if (have == sizeof got) {
        *r = got;
        r->reason[sizeof r->reason - 1] = '\0';
    } else if (late) {
        r->status = TG_ERR_INTERNAL;
        snprintf(r->reason, sizeof r->reason, "did not answer within %g s while loading (killed; "
                 "TG_PLUGIN_PROBE_TIMEOUT sets the limit)", timeout);
    } else if (w > 0 && WIFSIGNALED(ws)) {
        const char *name = signal_name(WTERMSIG(ws));
        r->status = TG_ERR_INTERNAL;
        if (name) snprintf(r->reason, sizeof r->reason, "crashed with %s while loading", name);
        else snprintf(r->reason, sizeof r->reason, "crashed with signal %d while loading", WTERMSIG(ws));
    } else {
        r->status = TG_ERR_INTERNAL;
        if (w > 0 && WIFEXITED(ws))
            snprintf(r->reason, sizeof r->reason, "exited with status %d while loading", WEXITSTATUS(ws));
        else
            snprintf(r->reason, sizeof r->reason, "the probe process ended without an answer");
    }
    return 0;
}

/* The probe's verdict on `path`, from the cache or a fresh child. */
static tg_status probe(const char *path, uint32_t version[2], char *reason, size_t cap) {
    double timeout = probe_timeout();
    char real[PATH_MAX];
    struct stat st;
    if (timeout == 0) return TG_OK;
    if (!realpath(path, real) || stat(real, &st)) {
        snprintf(reason, cap, "cannot probe: %s", strerror(errno));
        return TG_ERR_IO;
    }
    probe_result r = {0};
    int found = 0;
    pthread_mutex_lock(&probe_lock);
    for (probe_entry *e = probe_cache; e && !found; e = e->next)
        if (!strcmp(e->path, real) && e->size == st.st_size && e->mtime.tv_sec == st.st_mtim.tv_sec &&
            e->mtime.tv_nsec == st.st_mtim.tv_nsec)
            r = e->result, found = 1;
    pthread_mutex_unlock(&probe_lock);
    if (!found) {
        if (probe_run(path, timeout, &r)) {
            snprintf(reason, cap, "%s", r.reason);
            return TG_ERR_IO;
        }
        probe_entry *e = calloc(1, sizeof *e);
        if (e && (e->path = strdup(real))) {
            e->mtime = st.st_mtim;
            e->size = st.st_size;
            e->result = r;
            pthread_mutex_lock(&probe_lock);
            e->next = probe_cache;
            probe_cache = e;
            pthread_mutex_unlock(&probe_lock);
        } else {
            free(e);
        }
    }
    if (!r.status) return TG_OK;
    version[0] = r.version[0];
    version[1] = r.version[1];
    snprintf(reason, cap, "%s", r.reason);
    return r.status;
}

/* ------------------------------------------------------------- ELF check */

/* Reads n bytes at off; 0 on success. */
static int read_at(int fd, uint64_t off, void *buf, size_t n) {
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

/* Whether the file could be a plugin, judged from its ELF headers and
 * dynamic symbol table without loading it (so that a directory of
 * non-plugins costs no probe process each): TG_OK when it is an ELF shared
 * object exporting the entry symbol, or when this check cannot tell (a
 * foreign ELF class, no section table: then the probe decides). */
static tg_status elf_precheck(const char *path, char *reason, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return TG_OK; /* the probe reports it */
    tg_status st = TG_OK;
    struct stat sb;
    Elf64_Ehdr eh;
    Elf64_Shdr *sh = NULL;
    char *strs = NULL;
    Elf64_Sym *syms = NULL;
    uint64_t size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (read_at(fd, 0, &eh, sizeof eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
        snprintf(reason, cap, "cannot load: invalid ELF header (not a shared object; not loaded)");
        st = TG_ERR_IO;
        goto done;
    }
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                                                                          ? ELFDATA2LSB : ELFDATA2MSB))
        goto done; /* another class or byte order: dlopen says what is wrong */
    if (eh.e_type != ET_DYN) {
        snprintf(reason, cap, "cannot load: not a dynamic (shared) object (ELF type %u; not loaded)", eh.e_type);
        st = TG_ERR_IO;
        goto done;
    }
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shoff > size ||
        (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff)
        goto done;
    sh = malloc((size_t)eh.e_shnum * sizeof *sh);
    if (!sh || read_at(fd, eh.e_shoff, sh, (size_t)eh.e_shnum * sizeof *sh)) goto done;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        const Elf64_Shdr *ds = &sh[i], *ss = ds->sh_link < eh.e_shnum ? &sh[ds->sh_link] : NULL;
        if (ds->sh_type != SHT_DYNSYM || !ss || ds->sh_entsize != sizeof(Elf64_Sym)) continue;
        if (ds->sh_offset > size || ds->sh_size > size - ds->sh_offset || ss->sh_offset > size ||
            ss->sh_size > size - ss->sh_offset || ss->sh_size == 0)
            goto done;
        syms = malloc(ds->sh_size ? ds->sh_size : 1);
        strs = malloc(ss->sh_size + 1);
        if (!syms || !strs || read_at(fd, ds->sh_offset, syms, ds->sh_size) ||
            read_at(fd, ss->sh_offset, strs, ss->sh_size))
            goto done;
        strs[ss->sh_size] = '\0';
        for (uint64_t k = 0; k < ds->sh_size / sizeof *syms; k++)
            if (syms[k].st_name < ss->sh_size && syms[k].st_shndx != SHN_UNDEF &&
                !strcmp(strs + syms[k].st_name, TG_PLUGIN_ENTRY_NAME))
                goto done; /* exported */
        snprintf(reason, cap, "no entry symbol '%s' in its dynamic symbols (not a tg plugin?)", TG_PLUGIN_ENTRY_NAME);
        st = TG_ERR_NOT_FOUND;
        goto done;
    }
done:
    free(sh);
    free(syms);
    free(strs);
    close(fd);
    return st;
}

/* Check that the file exists and looks like a plugin, probe it in a child
 * process, and only if the probe passed, load it in this one. */
static tg_status load(const char *path, tg_plugin *p, uint32_t version[2], char *reason, size_t cap) {
    if (!is_file(path)) {
        snprintf(reason, cap, "no such file");
        return TG_ERR_NOT_FOUND;
    }
    tg_status st = elf_precheck(path, reason, cap);
    if (st) return st;
    st = probe(path, version, reason, cap);
    if (st) return st;
    return load_here(path, p, version, reason, cap);
}

/* Open `path`; on failure *out_plugin is NULL, reason is filled and
 * version[] holds the ABI version the table declared (0.0 if none). */
static tg_status open_path(const char *path, tg_plugin **out_plugin, uint32_t version[2], char *reason,
                           size_t cap) {
    tg_plugin *p = calloc(1, sizeof *p);
    char *copy = strdup(path);
    *out_plugin = NULL;
    version[0] = version[1] = 0;
    if (!p || !copy) {
        free(p);
        free(copy);
        snprintf(reason, cap, "out of memory");
        return TG_ERR_NO_MEMORY;
    }
    p->path = copy;
    tg_status st = load(path, p, version, reason, cap);
    if (st) {
        tg_plugin_close(p);
        return st;
    }
    *out_plugin = p;
    return TG_OK;
}

/* Find tg-NAME.so in the search path; path gets the first match. */
static tg_status find_plugin(const char *name, char *path, size_t cap) {
    dir_list top = {0}, all = {0};
    tg_status st = TG_ERR_NOT_FOUND;
    if (search_dirs(&top) || expand_dirs(&top, &all)) {
        st = tg_error(TG_ERR_NO_MEMORY, "out of memory while searching for plugin '%s'", name);
        goto done;
    }
    for (size_t i = 0; i < all.count; i++) {
        int len = snprintf(path, cap, "%s/tg-%s.so", all.dirs[i], name);
        if (len > 0 && (size_t)len < cap && is_file(path)) {
            st = TG_OK;
            goto done;
        }
    }
    char where[2048] = "";
    size_t used = 0;
    for (size_t i = 0; i < top.count && used < sizeof where; i++)
        used += (size_t)snprintf(where + used, sizeof where - used, "%s%s{,/*}", i ? ", " : "", top.dirs[i]);
    tg_error(TG_ERR_NOT_FOUND, "plugin '%s' not found: no tg-%s.so in %s", name, name,
             top.count ? where : "(no search directories)");
done:
    dirs_free(&top);
    dirs_free(&all);
    return st;
}

tg_status tg_plugin_open(const char *name_or_path, tg_plugin **out_plugin) {
    if (!out_plugin) return tg_error(TG_ERR_INVALID, "tg_plugin_open: out_plugin is NULL");
    *out_plugin = NULL;
    if (!name_or_path || !*name_or_path) return tg_error(TG_ERR_INVALID, "tg_plugin_open: no plugin name given");
    char found[PATH_MAX];
    const char *path = name_or_path;
    if (!strchr(name_or_path, '/')) {
        if (!valid_name(name_or_path))
            return tg_error(TG_ERR_INVALID, "invalid plugin name '%.64s' (want [a-z0-9_]+, or a path with '/')",
                            name_or_path);
        tg_status st = find_plugin(name_or_path, found, sizeof found);
        if (st) return st;
        path = found;
    }
    char reason[1024];
    uint32_t version[2];
    tg_status st = open_path(path, out_plugin, version, reason, sizeof reason);
    if (st) return tg_error(st, "%s: %s", path, reason);
    return TG_OK;
}

void tg_plugin_close(tg_plugin *plugin) {
    if (!plugin) return;
    if (plugin->handle) dlclose(plugin->handle);
    free(plugin->path);
    free(plugin);
}

const tg_plugin_api *tg_plugin_get_api(const tg_plugin *plugin) { return plugin ? &plugin->api : NULL; }

/* ------------------------------------------------------- plugin-level calls */

/* plugin.h promises that plugin-level calls (device_count, device_create,
 * plugin_error) are serialised: one lock for all plugins, held across the
 * call and the copy of its message. */
static pthread_mutex_t plugin_call_lock = PTHREAD_MUTEX_INITIALIZER;

/* Longest plugin message quoted (a plugin may return megabytes). */
#define TG_PLUGIN_MESSAGE_MAX 512

/* A status a plugin returned, kept if it is a known failure. */
static tg_status plugin_status(tg_status st) {
    return st > TG_OK && st < TG_STATUS_COUNT ? st : TG_ERR_INTERNAL;
}

/* Sets the last error to "<plugin>: <what>: <plugin_error()>", the message
 * cut at TG_PLUGIN_MESSAGE_MAX bytes. Call with plugin_call_lock held. */
static tg_status plugin_failure(const tg_plugin *p, tg_status st, const char *what) {
    const char *m = p->api.plugin_error ? p->api.plugin_error() : NULL;
    return tg_error(st, "%s: %s: %s", p->api.name, what, tg_plugin_message(m));
}

const char *tg_plugin_message(const char *message) {
    static _Thread_local char cut[TG_PLUGIN_MESSAGE_MAX + 32];
    if (!message || !*message) return "(the plugin gave no message)";
    size_t n = strnlen(message, TG_PLUGIN_MESSAGE_MAX + 1);
    if (n <= TG_PLUGIN_MESSAGE_MAX) return message;
    snprintf(cut, sizeof cut, "%.*s [... cut]", TG_PLUGIN_MESSAGE_MAX, message);
    return cut;
}

tg_status tg_plugin_device_count(tg_plugin *plugin, uint32_t *out_count) {
    if (!plugin || !out_count) return tg_error(TG_ERR_INVALID, "tg_plugin_device_count: NULL argument");
    uint32_t n = 0;
    pthread_mutex_lock(&plugin_call_lock);
    tg_status st = plugin->api.device_count(&n);
    if (st) st = plugin_failure(plugin, plugin_status(st), "device_count");
    else if (n == 0) plugin_failure(plugin, TG_ERR_NOT_FOUND, "no device");
    pthread_mutex_unlock(&plugin_call_lock);
    *out_count = st ? 0 : n;
    return st;
}

tg_status tg_plugin_device_create(tg_plugin *plugin, uint32_t index, tg_device **out_device) {
    if (!plugin || !out_device) return tg_error(TG_ERR_INVALID, "tg_plugin_device_create: NULL argument");
    tg_device *dev = NULL;
    char what[48];
    snprintf(what, sizeof what, "device_create(%u)", index);
    pthread_mutex_lock(&plugin_call_lock);
    tg_status st = plugin->api.device_create(index, &dev);
    if (st) st = plugin_failure(plugin, plugin_status(st), what);
    else if (!dev)
        st = tg_error(TG_ERR_INTERNAL, "%s: %s returned TG_OK but no device (a plugin bug)", plugin->api.name, what);
    pthread_mutex_unlock(&plugin_call_lock);
    *out_device = st ? NULL : dev;
    return st;
}

const char *tg_plugin_get_path(const tg_plugin *plugin) { return plugin ? plugin->path : NULL; }

void tg_plugin_debug_source(const tg_plugin_api *api, tg_device *device, tg_program *program, const char *kernel_name) {
    const char *level = getenv("TG_DEBUG");
    if (!level || atoi(level) < 4 || !api || !api->program_source || !program) return;
    const char *src = api->program_source(device, program);
    if (src) fprintf(stderr, "--- %s: %s ---\n%s\n", api->name, kernel_name ? kernel_name : "kernel", src);
}

/* ------------------------------------------------------------------- scan */

typedef struct info_list {
    tg_plugin_info *items;
    size_t count, cap;
    char **seen;        /* open-addressing set of the real paths listed */
    size_t seen_cap;    /* a power of two, kept at most half full */
} info_list;

static size_t path_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (size_t)h;
}

/* Adds real to the set: 1 if it was new, 0 if already there, -1 on OOM. */
static int seen_add(info_list *l, const char *real) {
    if (2 * (l->count + 1) > l->seen_cap) {
        size_t cap = l->seen_cap ? 2 * l->seen_cap : 64;
        char **set = calloc(cap, sizeof *set);
        if (!set) return -1;
        for (size_t i = 0; i < l->seen_cap; i++) {
            if (!l->seen[i]) continue;
            size_t j = path_hash(l->seen[i]) & (cap - 1);
            while (set[j]) j = (j + 1) & (cap - 1);
            set[j] = l->seen[i];
        }
        free(l->seen);
        l->seen = set;
        l->seen_cap = cap;
    }
    size_t j = path_hash(real) & (l->seen_cap - 1);
    for (; l->seen[j]; j = (j + 1) & (l->seen_cap - 1))
        if (!strcmp(l->seen[j], real)) return 0;
    return (l->seen[j] = strdup(real)) ? 1 : -1;
}

static void seen_free(info_list *l) {
    for (size_t i = 0; i < l->seen_cap; i++) free(l->seen[i]);
    free(l->seen);
}

static tg_status scan_file(info_list *l, const char *path) {
    char real[PATH_MAX];
    if (!realpath(path, real)) return TG_OK;
    int added = seen_add(l, real);
    if (added < 0) return TG_ERR_NO_MEMORY;
    if (!added) return TG_OK;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        tg_plugin_info *items = realloc(l->items, cap * sizeof *items);
        if (!items) return TG_ERR_NO_MEMORY;
        l->items = items;
        l->cap = cap;
    }
    tg_plugin_info *info = &l->items[l->count];
    memset(info, 0, sizeof *info);
    char reason[1024] = "";
    tg_plugin *p = NULL;
    uint32_t version[2];
    size_t flen;
    const char *fname = file_plugin_name(path, &flen);
    info->status = open_path(path, &p, version, reason, sizeof reason);
    info->abi_major = version[0];
    info->abi_minor = version[1];
    info->name = p ? strdup(p->api.name) : strndup(fname, flen);
    tg_plugin_close(p);
    info->path = strdup(path);
    info->error = strdup(reason);
    l->count++;
    if (!info->name || !info->path || !info->error) return TG_ERR_NO_MEMORY;
    return TG_OK;
}

static int plugin_file(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 6 && !strncmp(e->d_name, "tg-", 3) && !strcmp(e->d_name + n - 3, ".so");
}

tg_status tg_plugin_scan(tg_plugin_info **out_list, size_t *out_count) {
    if (!out_list || !out_count) return tg_error(TG_ERR_INVALID, "tg_plugin_scan: NULL output");
    *out_list = NULL;
    *out_count = 0;
    dir_list top = {0}, all = {0};
    info_list l = {0};
    tg_status st = TG_OK;
    if (search_dirs(&top) || expand_dirs(&top, &all)) st = TG_ERR_NO_MEMORY;
    for (size_t i = 0; !st && i < all.count; i++) {
        struct dirent **ents = NULL;
        int n = scandir(all.dirs[i], &ents, plugin_file, alphasort);
        for (int k = 0; k < n; k++) {
            char path[PATH_MAX];
            int len = snprintf(path, sizeof path, "%s/%s", all.dirs[i], ents[k]->d_name);
            if (!st && len > 0 && (size_t)len < sizeof path && is_file(path)) st = scan_file(&l, path);
            free(ents[k]);
        }
        free(ents);
    }
    dirs_free(&top);
    dirs_free(&all);
    seen_free(&l);
    if (st) {
        tg_plugin_scan_free(l.items, l.count);
        return tg_error(st, "out of memory while scanning for plugins");
    }
    *out_list = l.items;
    *out_count = l.count;
    return TG_OK;
}

void tg_plugin_scan_free(tg_plugin_info *list, size_t count) {
    if (!list) return;
    for (size_t i = 0; i < count; i++) {
        free(list[i].name);
        free(list[i].path);
        free(list[i].error);
    }
    free(list);
}
