/* The isolated runner: each group of cases runs in a forked child that opens
 * ref and the plugin and reports each case's result through a pipe. A child
 * that dies or stops making progress marks its current case CRASH or
 * TIMEOUT; the rest of its group reruns in a fresh child. A plugin with
 * program_create_batch compiles a group's kernels in one batch first; a
 * child lost in that batch reruns the group without it. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tg/conform.h>

enum { READY = 0xffffffffu,   /* record index: the child opened its devices */
       BATCHED = 0xfffffffeu }; /* ...: it compiled the group's batch (or had none to) */

typedef struct record {
    uint32_t index; /* position in sel, or READY */
    uint32_t result;
    uint32_t len;   /* detail bytes that follow */
    float seconds;
} record;

typedef struct range {
    size_t start, end;
    int no_batch; /* a rerun after a child was lost in the batch */
} range;

typedef struct slot {
    pid_t pid;
    int fd;
    range r;
    size_t next;     /* next position in sel the child will report */
    int ready;       /* the child has opened its devices */
    int batched;     /* ... and passed the batch */
    double deadline;
    char *buf;
    size_t len, cap;
} slot;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_result(int fd, size_t index, tgc_result r, const char *detail, double secs) {
    record rec = {(uint32_t)index, (uint32_t)r, (uint32_t)strlen(detail), (float)secs};
    if (write_all(fd, &rec, sizeof rec) == 0) write_all(fd, detail, rec.len);
}

enum { DETAIL_CAP = 16384 };

/* The plugin compiles the kernels of the group's cases in one batch. */
static void compile_group(const tgc_catalog *cat, const size_t *sel, range r, tgc_device *plug, tgc_prepared *prep) {
    size_t n = r.end - r.start;
    tg_kernel *ks = calloc(n, sizeof *ks);
    const tg_kernel **kp = calloc(n, sizeof *kp);
    for (size_t i = 0; ks && kp && i < n; i++)
        if (tgc_case_compilable(&cat->cases[sel[r.start + i]], plug, &ks[i])) kp[i] = &ks[i];
    if (ks && kp) tgc_device_batch(plug, (uint32_t)n, kp, prep);
    free(ks);
    free(kp);
}

/* The child: runs sel[start..end) and exits. */
static void child_main(const tgc_catalog *cat, const size_t *sel, range r, const tgc_options *opt, int fd) {
    static char detail[DETAIL_CAP];
    tgc_device ref, plug;
    int have_ref = tgc_device_open(opt->ref ? opt->ref : "ref", &ref) == TG_OK;
    char why[1024];
    snprintf(why, sizeof why, "%s", tg_last_error());
    if (!have_ref) {
        for (size_t i = r.start; i < r.end; i++) {
            snprintf(detail, sizeof detail, "cannot open the reference plugin: %s", why);
            send_result(fd, i, TGC_FAIL, detail, 0);
        }
        _exit(0);
    }
    tg_status st = tgc_device_open(opt->plugin, &plug);
    if (st != TG_OK) {
        snprintf(why, sizeof why, "%s", tg_last_error());
        for (size_t i = r.start; i < r.end; i++) {
            snprintf(detail, sizeof detail, "%s", why);
            send_result(fd, i, st == TG_ERR_UNSUPPORTED ? TGC_UNSUPPORTED : TGC_FAIL, detail, 0);
        }
        _exit(0);
    }
    record ready = {READY, 0, 0, 0};
    write_all(fd, &ready, sizeof ready);
    /* The ABI forbids a plugin to print: while cases run, stderr goes to a
     * private file, and a case during which anything was written fails
     * (and what was written is passed on). Not with TG_DEBUG, whose output
     * (generated source, kernel IR) goes to stderr on purpose. */
    const char *dbg = getenv("TG_DEBUG");
    FILE *errf = dbg && *dbg && strcmp(dbg, "0") ? NULL : tmpfile();
    int real_err = dup(2);
    if (errf) {
        fflush(stderr);
        dup2(fileno(errf), 2);
    }
    tgc_prepared *prep = r.no_batch || !plug.api->program_create_batch ? NULL : calloc(r.end - r.start, sizeof *prep);
    for (size_t i = r.start; i < r.end; i++) {
        double t0 = now();
        struct stat before, after;
        int watched = errf && fstat(fileno(errf), &before) == 0;
        if (i == r.start) { /* the batch counts as the first case's (its time, its stderr) */
            if (prep) compile_group(cat, sel, r, &plug, prep);
            record batched = {BATCHED, 0, 0, 0};
            write_all(fd, &batched, sizeof batched);
        }
        plug.next = prep ? &prep[i - r.start] : NULL;
        tgc_result res = tgc_case_run(&cat->cases[sel[i]], &plug, &ref, detail, sizeof detail);
        if (prep) tgc_prepared_clear(&plug, &prep[i - r.start]);
        fflush(stderr);
        if (watched && fstat(fileno(errf), &after) == 0 && after.st_size > before.st_size) {
            char line[200] = "";
            ssize_t n = pread(fileno(errf), line, sizeof line - 1, before.st_size);
            line[n > 0 ? n : 0] = '\0';
            if (real_err >= 0 && n > 0 && write(real_err, line, (size_t)n) < 0) { /* best effort */ }
            line[strcspn(line, "\n")] = '\0';
            if (res == TGC_PASS || res == TGC_FAIL) {
                size_t len = res == TGC_PASS ? 0 : strlen(detail);
                snprintf(detail + len, sizeof detail - len, "%sthe plugin wrote to stderr during this case, which the "
                         "ABI forbids (ABI.md): \"%s\"", len ? "\n" : "", line);
                res = TGC_FAIL;
            }
        }
        send_result(fd, i, res, detail, now() - t0);
    }
    if (errf && real_err >= 0) dup2(real_err, 2);
    free(prep);
    tgc_device_close(&plug);
    tgc_device_close(&ref);
    _exit(0);
}

/* A cgroup's CPU quota in whole cores (rounded up), or 0 if none: a
 * container limited to 4 cores sees all the node's in its affinity. */
static int cgroup_cores(void) {
    char text[64] = "";
    long long quota = 0, period = 0;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r"); /* cgroup v2: "QUOTA PERIOD" or "max PERIOD" */
    if (f) {
        if (!fgets(text, sizeof text, f) || sscanf(text, "%lld %lld", &quota, &period) != 2) quota = 0;
        fclose(f);
    } else if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r"))) { /* v1: -1 is none */
        if (fscanf(f, "%lld", &quota) != 1) quota = 0;
        fclose(f);
        if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r"))) {
            if (fscanf(f, "%lld", &period) != 1) period = 0;
            fclose(f);
        }
    }
    return quota > 0 && period > 0 ? (int)((quota + period - 1) / period) : 0;
}

int tgc_cores(void) {
    cpu_set_t set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) n = CPU_COUNT(&set);
    int quota = cgroup_cores();
    if (quota > 0 && quota < n) n = quota;
    return n > 0 ? (int)n : 1;
}

int tgc_jobs_auto(void) {
    int jobs = tgc_cores() / 2;
    return jobs > 0 ? jobs : 1;
}

int tgc_child_threads(int jobs, int cores) {
    int share = cores / (jobs > 0 ? jobs : 1);
    return share > 2 ? share : 2;
}

static int spawn(slot *s, const tgc_catalog *cat, const size_t *sel, range r, const tgc_options *opt) {
    int p[2];
    if (pipe(p) != 0) return -1;
    fflush(NULL); /* every stream (a --tap file too): a child must not write our buffers again */
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        const char *threads = getenv("TG_THREADS");
        if (!threads || !*threads) {
            char share[16];
            snprintf(share, sizeof share, "%d", tgc_child_threads(opt->jobs, tgc_cores()));
            setenv("TG_THREADS", share, 1);
        }
        child_main(cat, sel, r, opt, p[1]);
        _exit(0);
    }
    close(p[1]);
    memset(s, 0, sizeof *s);
    s->pid = pid;
    s->fd = p[0];
    s->r = r;
    s->next = r.start;
    s->deadline = now() + opt->timeout_s;
    return 0;
}

typedef struct run_state {
    const tgc_catalog *cat;
    const size_t *sel;
    size_t nsel, done, printed;
    const tgc_options *opt;
    const tgc_expect *expect;
    tgc_outcome *out;
    range *queue;
    size_t qhead, qtail;
    size_t counts[TGC_RESULT_COUNT];
    int early_deaths; /* children lost before they opened their devices */
    int timeouts_in_row; /* cases killed for a timeout, with no other result between them */
    int gave_up;         /* too many in a row: nothing more runs */
} run_state;

enum { GIVE_UP_DEFAULT = 3 };

static void progress(run_state *rs) {
    static double last;
    if (!rs->opt->progress) return;
    if (rs->done < rs->nsel && now() - last < 0.1) return; /* at most 10 redraws a second */
    last = now();
    int width = 40, fill = rs->nsel ? (int)(rs->done * (size_t)width / rs->nsel) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu  pass %zu fail %zu unsup %zu crash %zu timeout %zu ", fill,
            "########################################", width - fill, "", rs->done, rs->nsel,
            rs->counts[TGC_PASS] + rs->counts[TGC_XPASS], rs->counts[TGC_FAIL], rs->counts[TGC_UNSUPPORTED],
            rs->counts[TGC_CRASH], rs->counts[TGC_TIMEOUT]);
    if (rs->done == rs->nsel) fprintf(stderr, "\n");
}

static void settle(run_state *rs, size_t i, tgc_result r, const char *detail, size_t len, double secs) {
    tgc_outcome *o = &rs->out[i];
    if (o->result != TGC_NOTRUN) return;
    const char *reason = rs->expect ? tgc_expect_match(rs->expect, rs->cat->cases[rs->sel[i]].id) : NULL;
    if (reason) {
        o->xfail_reason = strdup(reason);
        if (r == TGC_FAIL || r == TGC_CRASH || r == TGC_TIMEOUT) r = TGC_XFAIL;
        else if (r == TGC_PASS) r = TGC_XPASS;
    }
    o->result = r;
    o->seconds = secs;
    if (r != TGC_TIMEOUT) rs->timeouts_in_row = 0;
    o->detail = malloc(len + 1);
    if (o->detail) {
        memcpy(o->detail, detail, len);
        o->detail[len] = '\0';
    }
    rs->done++;
    rs->counts[r]++;
    while (rs->printed < rs->nsel && rs->out[rs->printed].result != TGC_NOTRUN) {
        if (rs->opt->tap) tgc_report_tap_line(rs->opt->tap, rs->opt->tap_offset + rs->printed + 1, &rs->cat->cases[rs->sel[rs->printed]], &rs->out[rs->printed], rs->opt->plugin);
        rs->printed++;
    }
    progress(rs);
}

/* Parse complete records out of the slot's buffer. */
static void drain(run_state *rs, slot *s) {
    size_t off = 0;
    while (s->len - off >= sizeof(record)) {
        record rec;
        memcpy(&rec, s->buf + off, sizeof rec);
        if (rec.index == READY || rec.index == BATCHED) {
            s->ready = 1;
            s->batched |= rec.index == BATCHED;
            s->deadline = now() + rs->opt->timeout_s;
            off += sizeof rec;
            continue;
        }
        if (s->len - off < sizeof rec + rec.len) break;
        if (rec.index < rs->nsel && rec.result < TGC_RESULT_COUNT) {
            settle(rs, rec.index, (tgc_result)rec.result, s->buf + off + sizeof rec, rec.len, rec.seconds);
            if (rec.index + 1 > s->next) s->next = rec.index + 1;
        }
        off += sizeof rec + rec.len;
        s->deadline = now() + rs->opt->timeout_s;
    }
    if (off) memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
}

/* After `give_up_after` timeouts in a row the plugin is given up on: every
 * case not yet run is settled as TIMEOUT with the reason, instead of
 * waiting out the timeout on each (hours for a plugin whose launches hang). */
static void maybe_give_up(run_state *rs) {
    int limit = rs->opt->give_up_after ? rs->opt->give_up_after : GIVE_UP_DEFAULT;
    if (rs->gave_up || limit < 0 || rs->timeouts_in_row < limit) return;
    rs->gave_up = 1;
    char msg[160];
    snprintf(msg, sizeof msg, "not run: the plugin timed out on %d cases in a row, so the suite gave up on it", limit);
    for (; rs->qhead < rs->qtail; rs->qhead++)
        for (size_t i = rs->queue[rs->qhead].start; i < rs->queue[rs->qhead].end; i++)
            settle(rs, i, TGC_TIMEOUT, msg, strlen(msg), 0);
}

/* A child still running when the plugin was given up on: its cases not yet
 * reported are settled like the queued ones. */
static void abandon_child(run_state *rs, slot *s) {
    int status;
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {}
    close(s->fd);
    drain(rs, s);
    const char *msg = "not run: the suite gave up on the plugin after consecutive timeouts";
    for (size_t i = s->next; i < s->r.end; i++) settle(rs, i, TGC_TIMEOUT, msg, strlen(msg), 0);
    free(s->buf);
    s->pid = 0;
}

static void finish_child(run_state *rs, slot *s, int timed_out) {
    int status = 0;
    if (timed_out) kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {}
    close(s->fd);
    drain(rs, s);
    if (s->next < s->r.end) {
        char msg[256];
        tgc_result r = TGC_CRASH;
        if (timed_out) {
            r = TGC_TIMEOUT;
            snprintf(msg, sizeof msg, "no result within %.1f s: the child was killed", rs->opt->timeout_s);
        } else if (WIFSIGNALED(status)) {
            snprintf(msg, sizeof msg, "the child died of signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else {
            snprintf(msg, sizeof msg, "the child exited with status %d before reporting", WEXITSTATUS(status));
        }
        if (s->ready && !s->batched && !s->r.no_batch) {
            /* lost in the group's batch: the group runs again, without one */
            rs->queue[rs->qtail++] = (range){s->r.start, s->r.end, 1};
        } else if (!s->ready) {
            /* lost while opening ref or the plugin: no case of the group ran, and
               after two such losses the plugin is not retried at all */
            size_t len = strlen(msg);
            snprintf(msg + len, sizeof msg - len, ", while opening the devices");
            for (size_t i = s->next; i < s->r.end; i++) settle(rs, i, r, msg, strlen(msg), 0);
            if (++rs->early_deaths >= 2)
                for (; rs->qhead < rs->qtail; rs->qhead++)
                    for (size_t i = rs->queue[rs->qhead].start; i < rs->queue[rs->qhead].end; i++)
                        settle(rs, i, r, msg, strlen(msg), 0);
        } else {
            settle(rs, s->next, r, msg, strlen(msg), 0);
            if (timed_out) rs->timeouts_in_row++;
            if (s->next + 1 < s->r.end) rs->queue[rs->qtail++] = (range){s->next + 1, s->r.end, s->r.no_batch};
        }
    }
    free(s->buf);
    s->pid = 0;
    maybe_give_up(rs);
}

tg_status tgc_run(const tgc_catalog *cat, const size_t *sel, size_t nsel, const tgc_options *opt,
                  const tgc_expect *expect, tgc_outcome *out) {
    run_state rs = {.cat = cat, .sel = sel, .nsel = nsel, .opt = opt, .expect = expect, .out = out};
    int jobs = opt->jobs > 0 ? opt->jobs : 1;
    for (size_t i = 0; i < nsel; i++) out[i] = (tgc_outcome){.result = TGC_NOTRUN};
    /* every range can split at most once per case, and rerun once without
     * its batch: nsel + 2 * groups entries */
    rs.queue = malloc((3 * nsel + 1) * sizeof *rs.queue);
    slot *slots = calloc((size_t)jobs, sizeof *slots);
    struct pollfd *pfd = calloc((size_t)jobs, sizeof *pfd);
    if (!rs.queue || !slots || !pfd) {
        free(rs.queue), free(slots), free(pfd);
        return tg_error(TG_ERR_NO_MEMORY, "conformance runner: out of memory");
    }
    for (size_t i = 0; i < nsel;) {
        size_t j = i + 1;
        while (j < nsel && cat->cases[sel[j]].group == cat->cases[sel[i]].group) j++;
        rs.queue[rs.qtail++] = (range){i, j, 0};
        i = j;
    }
    signal(SIGPIPE, SIG_IGN);
    tg_status st = TG_OK;
    for (;;) {
        int active = 0;
        for (int k = 0; k < jobs; k++) {
            if (!slots[k].pid && rs.qhead < rs.qtail) {
                if (spawn(&slots[k], cat, sel, rs.queue[rs.qhead], opt) != 0) {
                    st = tg_error(TG_ERR_INTERNAL, "conformance runner: fork failed: %s", strerror(errno));
                    break;
                }
                rs.qhead++;
            }
            if (slots[k].pid) active++;
        }
        if (st != TG_OK || !active) break;
        double t = now(), next_deadline = 1e300;
        int n = 0;
        for (int k = 0; k < jobs; k++) {
            if (!slots[k].pid) continue;
            pfd[n] = (struct pollfd){.fd = slots[k].fd, .events = POLLIN};
            n++;
            if (slots[k].deadline < next_deadline) next_deadline = slots[k].deadline;
        }
        int wait_ms = (int)((next_deadline - t) * 1000) + 1;
        if (wait_ms < 0) wait_ms = 0;
        poll(pfd, (nfds_t)n, wait_ms);
        n = 0;
        for (int k = 0; k < jobs; k++) {
            slot *s = &slots[k];
            if (!s->pid) continue;
            struct pollfd *p = &pfd[n++];
            if (p->revents & (POLLIN | POLLHUP | POLLERR)) {
                if (s->cap - s->len < 65536) {
                    size_t cap = s->cap * 2 + 65536;
                    char *b = realloc(s->buf, cap);
                    if (!b) { kill(s->pid, SIGKILL); continue; }
                    s->buf = b;
                    s->cap = cap;
                }
                ssize_t r = read(s->fd, s->buf + s->len, s->cap - s->len);
                if (r > 0) {
                    s->len += (size_t)r;
                    drain(&rs, s);
                } else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                    finish_child(&rs, s, 0);
                    continue;
                }
            }
            if (s->pid && now() > s->deadline) finish_child(&rs, s, 1);
        }
        for (int k = 0; rs.gave_up && k < jobs; k++)
            if (slots[k].pid) abandon_child(&rs, &slots[k]);
    }
    for (int k = 0; k < jobs; k++)
        if (slots[k].pid) finish_child(&rs, &slots[k], 1);
    free(rs.queue);
    free(slots);
    free(pfd);
    return st;
}

/* ----------------------------------------------------------- facts */

/* The facts child tells the parent which call it is about to make (one
 * byte each), then sends 'F' and the facts: a crash or a hang is blamed on
 * the call it happened in. */
static const struct { char code; const char *call; } facts_stages[] = {
    {'o', "loading"}, {'n', "device_count"}, {'c', "device_create"}, {'p', "device_caps"}, {'d', "device_destroy"},
};

static void facts_stage(int fd, char code) { write_all(fd, &code, 1); }

static const char *facts_stage_name(char code) {
    for (size_t i = 0; i < sizeof facts_stages / sizeof facts_stages[0]; i++)
        if (facts_stages[i].code == code) return facts_stages[i].call;
    return "starting";
}

static void facts_child(const char *name_or_path, int fd) {
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL); /* die, be told */
    tgc_plugin_facts f;
    memset(&f, 0, sizeof f);
    tg_plugin *pl = NULL;
    facts_stage(fd, 'o');
    if (tg_plugin_open(name_or_path, &pl) != TG_OK) {
        snprintf(f.error, sizeof f.error, "%s", tg_last_error());
    } else {
        const tg_plugin_api *api = tg_plugin_get_api(pl);
        f.loaded = 1;
        snprintf(f.name, sizeof f.name, "%s", api->name ? api->name : "");
        snprintf(f.version, sizeof f.version, "%s", api->version ? api->version : "");
        snprintf(f.path, sizeof f.path, "%s", tg_plugin_get_path(pl));
        f.abi_major = api->abi_major;
        f.abi_minor = api->abi_minor;
        tg_device *dev = NULL;
        facts_stage(fd, 'n');
        if (tg_plugin_device_count(pl, &f.ndevices) != TG_OK || f.ndevices == 0) {
            f.ndevices = 0;
            snprintf(f.error, sizeof f.error, "no device on this host: %s", tg_last_error());
        } else if (facts_stage(fd, 'c'), tg_plugin_device_create(pl, 0, &dev) == TG_OK) {
            tg_caps caps = {.struct_size = sizeof caps};
            facts_stage(fd, 'p');
            if (api->device_caps(dev, &caps) == TG_OK) {
                f.dtypes = caps.dtypes;
                f.fusion = caps.fusion;
                snprintf(f.device, sizeof f.device, "%s", caps.name ? caps.name : "");
                snprintf(f.vendor, sizeof f.vendor, "%s", caps.vendor ? caps.vendor : "");
                snprintf(f.dev_version, sizeof f.dev_version, "%s", caps.version ? caps.version : "");
                snprintf(f.driver, sizeof f.driver, "%s", caps.driver ? caps.driver : "");
            }
            facts_stage(fd, 'd');
            api->device_destroy(dev);
        } else {
            snprintf(f.error, sizeof f.error, "%s", tg_last_error());
        }
    }
    facts_stage(fd, 'F');
    write_all(fd, &f, sizeof f);
    _exit(0);
}

tg_status tgc_plugin_facts_get(const char *name_or_path, tgc_plugin_facts *out) {
    memset(out, 0, sizeof *out);
    int p[2];
    if (pipe(p) != 0) return tg_error(TG_ERR_INTERNAL, "pipe: %s", strerror(errno));
    fflush(NULL); /* every stream (a --tap file too): a child must not write our buffers again */
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        facts_child(name_or_path, p[1]);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return tg_error(TG_ERR_INTERNAL, "fork: %s", strerror(errno));
    }
    size_t got = 0;
    char stage = 0;
    int in_facts = 0;
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    double deadline = now() + 30;
    while (got < sizeof *out && now() < deadline) {
        if (poll(&pf, 1, 1000) <= 0) continue;
        ssize_t r = in_facts ? read(p[0], (char *)out + got, sizeof *out - got) : read(p[0], &stage, 1);
        if (r <= 0) break;
        if (in_facts) got += (size_t)r;
        else in_facts = stage == 'F';
    }
    close(p[0]);
    int hung = got < sizeof *out && now() >= deadline;
    if (got < sizeof *out) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got < sizeof *out) {
        memset(out, 0, sizeof *out);
        if (hung)
            snprintf(out->error, sizeof out->error, "the plugin hung in %s (no answer within 30 s)",
                     facts_stage_name(stage));
        else if (WIFSIGNALED(status))
            snprintf(out->error, sizeof out->error, "the plugin crashed in %s (signal %d, %s)",
                     facts_stage_name(stage), WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(out->error, sizeof out->error, "the plugin exited with status %d in %s",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, facts_stage_name(stage));
        return tg_error(TG_ERR_DEVICE, "plugin '%s': %s", name_or_path, out->error);
    }
    if (out->loaded && out->path[0]) tg_sha256_file(out->path, out->sha256);
    return TG_OK;
}
