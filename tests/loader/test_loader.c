/* The loader: broken plugins fail with a message naming the file and the
 * reason, scan lists every one with its status, good ones load and work.
 * TG_PLUGIN_PATH points at this directory's build folder (meson.build). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tg/runtime.h>
#include <tg/tg.h>
#include "tap.h"

static int contains(const char *s, const char *part) { return s && part && strstr(s, part) != NULL; }

/* Opening NAME fails with `status` and a message naming tg-NAME.so and `why`. */
static void check_broken(const char *name, tg_status status, const char *why) {
    tg_plugin *p = (tg_plugin *)1;
    char file[64];
    snprintf(file, sizeof file, "tg-%s.so", name);
    tg_status st = tg_plugin_open(name, &p);
    const char *msg = tg_last_error();
    tap_ok(st == status && p == NULL, "%s: open fails with %s (got %s)", name, tg_status_name(status),
           tg_status_name(st));
    if (!tap_ok(contains(msg, file) && contains(msg, why), "%s: message names the file and '%s'", name, why))
        tap_diag("message: %s", msg);
}

static const tg_plugin_info *find_info(const tg_plugin_info *list, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].name, name)) return &list[i];
    return NULL;
}

/* Open the plugin's device 0, check caps and a buffer round trip. */
static void check_works(const char *name) {
    tg_plugin *p = NULL;
    if (!tap_ok(tg_plugin_open(name, &p) == TG_OK, "%s: loads", name)) {
        tap_diag("%s", tg_last_error());
        return;
    }
    const tg_plugin_api *api = tg_plugin_get_api(p);
    tap_ok(api && !strcmp(api->name, name), "%s: table name", name);
    tap_ok(contains(tg_plugin_get_path(p), "/tg-") && contains(tg_plugin_get_path(p), name), "%s: path %s", name,
           tg_plugin_get_path(p));
    uint32_t n = 0;
    tg_device *dev = NULL;
    tap_ok(api->device_count(&n) == TG_OK && n == 1, "%s: one device", name);
    tap_ok(api->device_create(0, &dev) == TG_OK && dev, "%s: device opens", name);
    tg_caps caps = {.struct_size = sizeof caps};
    tap_ok(api->device_caps(dev, &caps) == TG_OK && caps.dtypes == 1u << TG_FLOAT32 &&
               contains(caps.name, "fake"),
           "%s: caps", name);
    tg_buffer *buf = NULL;
    float in[4] = {1, 2, 3, 4}, out[4] = {0};
    int ok = api->buffer_create(dev, sizeof in, &buf) == TG_OK &&
             api->buffer_write(dev, buf, 0, in, sizeof in) == TG_OK &&
             api->buffer_read(dev, buf, 0, out, sizeof out) == TG_OK && !memcmp(in, out, sizeof in);
    tap_ok(ok, "%s: buffer round trip", name);
    api->buffer_destroy(dev, buf);
    api->device_destroy(dev);
    tg_plugin_close(p);
}

/* A kernel the validator accepts runs on ref: out[r] = sum_c 2 * x[r][c]. */
static void run_on_ref(const tg_plugin_api *api) {
    tg_param params[2] = {{TG_FLOAT32, TG_ACCESS_READ, 12}, {TG_FLOAT32, TG_ACCESS_WRITE, 4}};
    tg_view views[2] = {{.ndim = 2, .shape = {4, 3}, .strides = {3, 1}}, {.ndim = 2, .shape = {4, 1}, .strides = {1, 0}}};
    tg_node nodes[5] = {
        {.op = TG_OP_LOAD, .dtype = TG_FLOAT32, .src = {-1, -1, -1}, .buffer = 0, .view = 0, .nviews = 1},
        {.op = TG_OP_CONST, .dtype = TG_FLOAT32, .src = {-1, -1, -1}, .value.f = 2.0},
        {.op = TG_OP_MUL, .dtype = TG_FLOAT32, .src = {0, 1, -1}},
        {.op = TG_OP_REDUCE_SUM, .dtype = TG_FLOAT32, .src = {2, -1, -1}},
        {.op = TG_OP_STORE, .dtype = TG_FLOAT32, .src = {3, -1, -1}, .buffer = 1, .view = 1, .nviews = 1},
    };
    tg_kernel k = {.struct_size = sizeof k, .ndim = 2, .shape = {4, 3}, .reduce_axes = 2, .nnodes = 5,
                   .nodes = nodes, .nviews = 2, .views = views, .nparams = 2, .params = params, .name = "r_4_3_sum"};
    k.hash = tg_kernel_hash(&k);
    tg_device *dev = NULL;
    tg_caps caps = {.struct_size = sizeof caps};
    if (!tap_ok(api->device_create(0, &dev) == TG_OK && api->device_caps(dev, &caps) == TG_OK, "ref: device 0")) return;
    if (!tap_ok(tg_kernel_validate(&k, &caps) == TG_OK, "ref: its caps accept the kernel")) tap_diag("%s", tg_last_error());
    float x[12], out[4] = {0}, want[4] = {0};
    for (int i = 0; i < 12; i++) x[i] = (float)i - 3.5f, want[i / 3] += 2 * x[i];
    tg_buffer *in = NULL, *res = NULL;
    tg_program *prog = NULL;
    int ok = api->buffer_create(dev, sizeof x, &in) == TG_OK && api->buffer_create(dev, sizeof out, &res) == TG_OK &&
             api->buffer_write(dev, in, 0, x, sizeof x) == TG_OK && api->program_create(dev, &k, &prog) == TG_OK &&
             api->program_launch(dev, prog, (tg_buffer *[]){in, res}, 2) == TG_OK &&
             api->buffer_read(dev, res, 0, out, sizeof out) == TG_OK && !memcmp(out, want, sizeof out);
    if (!tap_ok(ok, "ref: runs the validated kernel")) tap_diag("%s", api->device_error(dev));
    api->program_destroy(dev, prog);
    api->buffer_destroy(dev, in);
    api->buffer_destroy(dev, res);
    api->device_destroy(dev);
}

static void *open_racy(void *arg) {
    tg_dev *dev = NULL;
    tg_status st = tg_device_open("racy", &dev);
    tg_device_close(dev);
    *(tg_status *)arg = st;
    return NULL;
}

/* Plugins that misbehave after loading: the core reports them, never crashes. */
static void check_misbehaving(void) {
    tg_dev *dev = (tg_dev *)1;
    tg_status st = tg_device_open("nulldev", &dev);
    tap_ok(st == TG_ERR_INTERNAL && dev == NULL && contains(tg_last_error(), "returned TG_OK but no device"),
           "device_create returning TG_OK and no device is an error: %s", tg_last_error());
    st = tg_device_open("nullmsg", &dev);
    tap_ok(st == TG_ERR_DEVICE && contains(tg_last_error(), "(the plugin gave no message)") &&
               !contains(tg_last_error(), "(null)"),
           "a NULL plugin message: %s", tg_last_error());
    tg_plugin *p = NULL;
    uint32_t n = 7;
    st = tg_plugin_open("hugemsg", &p) ? TG_ERR_INTERNAL : tg_plugin_device_count(p, &n);
    tap_ok(st == TG_ERR_DEVICE && n == 0 && strlen(tg_last_error()) < 700 && contains(tg_last_error(), "[... cut]"),
           "a 16 MiB plugin message is cut (%zu bytes)", strlen(tg_last_error()));
    tap_ok(strlen(tg_plugin_message(tg_plugin_get_api(p)->plugin_error())) < 600 && !strcmp(tg_plugin_message(NULL),
           "(the plugin gave no message)"), "tg_plugin_message cuts and names a missing message");
    tg_plugin_close(p);

    /* A limit of 0 means no limit, and the message says so. */
    st = tg_device_open("oneparam", &dev);
    if (st == TG_OK) {
        tg_tensor *x = tg_from_data(dev, TG_FLOAT32, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
        tg_tensor *y = tg_neg(x);
        tg_status rs = tg_realize(y);
        tap_ok(rs == TG_ERR_UNSUPPORTED && contains(tg_last_error(), "takes at most 1 buffers and any number of nodes"),
               "a device taking 1 buffer and any number of nodes: %s", tg_last_error());
        tg_release(y);
        tg_release(x);
        tg_device_close(dev);
    } else {
        tap_ok(0, "oneparam opens: %s", tg_last_error());
    }

    /* A worker thread that outlives the device and the plugin. */
    st = tg_device_open("thread", &dev);
    tg_device_close(dev);
    struct timespec t = {0, 600 * 1000 * 1000};
    nanosleep(&t, NULL); /* the worker wakes up in the plugin's code meanwhile */
    tap_ok(st == TG_OK, "a plugin thread outliving dlclose does not crash the process");

    /* Plugin-level calls from many threads are serialised. */
    enum { NTHREADS = 6 };
    pthread_t th[NTHREADS];
    tg_status sts[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, open_racy, &sts[i]);
    int all = 1;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        all &= sts[i] == TG_OK;
    }
    tap_ok(all, "device_count and device_create are never entered by two threads at once");
}

/* A directory of 3000 tg-*.so files that are not plugins (garbage, and ELF
 * objects without the entry): each is judged from its headers, without a
 * probe process, and each is listed once. */
static void check_many_non_plugins(void) {
    const char *loader_dir = getenv("TG_PLUGIN_PATH");
    char dir[4096], nosym[4200], path[4300];
    snprintf(dir, sizeof dir, "%s-junk-XXXXXX", loader_dir ? loader_dir : "/tmp/tg-loader");
    snprintf(nosym, sizeof nosym, "%s/tg-nosym.so", loader_dir ? loader_dir : ".");
    if (!loader_dir || !mkdtemp(dir)) {
        tap_skip("no scratch directory for the many-files scan");
        return;
    }
    enum { NGARBAGE = 2000, NELF = 1000 };
    int made = 1;
    for (int i = 0; i < NGARBAGE && made; i++) {
        snprintf(path, sizeof path, "%s/tg-junk%04d.so", dir, i);
        FILE *f = fopen(path, "w");
        made = f && fputs("not a shared object", f) >= 0;
        if (f) fclose(f);
    }
    for (int i = 0; i < NELF && made; i++) {
        snprintf(path, sizeof path, "%s/tg-elf%04d.so", dir, i);
        made = link(nosym, path) == 0;
    }
    char *old = strdup(loader_dir);
    setenv("TG_PLUGIN_PATH", dir, 1);
    tg_plugin_info *list = NULL;
    size_t n = 0, garbage = 0, elf = 0;
    tg_status st = tg_plugin_scan(&list, &n);
    for (size_t i = 0; st == TG_OK && i < n; i++) {
        garbage += contains(list[i].path, "tg-junk") && list[i].status == TG_ERR_IO && contains(list[i].error, "not loaded");
        elf += contains(list[i].path, "tg-elf") && list[i].status == TG_ERR_NOT_FOUND &&
               contains(list[i].error, "in its dynamic symbols");
    }
    tap_ok(made && st == TG_OK && garbage == NGARBAGE && elf == NELF,
           "3000 non-plugin files: each listed once, judged without loading (%zu garbage, %zu ELF)", garbage, elf);
    tg_plugin_scan_free(list, n);
    setenv("TG_PLUGIN_PATH", old, 1);
    free(old);
    for (int i = 0; i < NGARBAGE; i++) {
        snprintf(path, sizeof path, "%s/tg-junk%04d.so", dir, i);
        unlink(path);
    }
    for (int i = 0; i < NELF; i++) {
        snprintf(path, sizeof path, "%s/tg-elf%04d.so", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

int main(void) {
    check_misbehaving();
    check_many_non_plugins();
    check_broken("nosym", TG_ERR_NOT_FOUND, "no entry symbol 'tg_plugin_entry'");
    check_broken("refuse", TG_ERR_VERSION, "needs a frobnicator");
    check_broken("major", TG_ERR_VERSION, "plugin speaks 2.1, core speaks 1.2");
    check_broken("small", TG_ERR_VERSION, "struct_size 40");
    check_broken("nullslot", TG_ERR_INVALID, "required slot buffer_read is NULL");
    check_broken("noname", TG_ERR_INVALID, "no name");
    check_broken("garbage", TG_ERR_IO, "cannot load");
    check_broken("renamed", TG_ERR_INVALID, "calls itself 'other'");
    check_broken("nosuch", TG_ERR_NOT_FOUND, "not found");
    /* Crashes and hangs while loading happen in the probe process, not here. */
    check_broken("ctorcrash", TG_ERR_INTERNAL, "crashed with SIGSEGV while loading");
    check_broken("entryabort", TG_ERR_INTERNAL, "crashed with SIGABRT while loading");
    check_broken("countcrash", TG_ERR_INTERNAL, "crashed with SIGSEGV while loading");
    check_broken("entryhang", TG_ERR_INTERNAL, "did not answer within 2 s");
    check_broken("entryhang", TG_ERR_INTERNAL, "did not answer within 2 s"); /* again, from the cache */
    {
        tg_status st = tg_plugin_open("./tg-nosuch.so", &(tg_plugin *){NULL});
        tap_ok(st == TG_ERR_NOT_FOUND && contains(tg_last_error(), "./tg-nosuch.so: no such file"),
               "explicit path that does not exist: %s", tg_last_error());
        st = tg_plugin_open("Bad Name", &(tg_plugin *){NULL});
        tap_ok(st == TG_ERR_INVALID && contains(tg_last_error(), "Bad Name"), "invalid name refused: %s",
               tg_last_error());
        tap_ok(tg_plugin_open(NULL, &(tg_plugin *){NULL}) == TG_ERR_INVALID, "NULL name refused");
        tap_ok(contains(tg_plugin_search_path(), getenv("TG_PLUGIN_PATH")), "search path starts with TG_PLUGIN_PATH");
    }

    check_works("old");
    check_works("new");
    check_works("abi10"); /* built against sdk/abi/v1.0 */
    check_works("abi11"); /* built against sdk/abi/v1.1 */
    check_works("abi12"); /* built against sdk/abi/v1.2 */
    check_works("stale");
    {
        tg_plugin *p = NULL;
        tg_plugin_open("old", &p);
        const tg_plugin_api *api = tg_plugin_get_api(p);
        tap_ok(api && api->synchronize == NULL && api->buffer_copy == NULL && api->program_source == NULL,
               "old: optional slots past its struct_size read as NULL");
        tg_plugin_close(p);
        tg_plugin_open("stale", &p);
        api = tg_plugin_get_api(p);
        tap_ok(api && api->abi_minor == 1 && api->buffer_wrap == NULL,
               "stale: a 1.1 table's bytes where 1.2's buffer_wrap lies read as NULL");
        tg_plugin_close(p);
        tg_plugin_open("new", &p);
        api = tg_plugin_get_api(p);
        tap_ok(api && api->abi_minor == 7 && api->struct_size > sizeof(tg_plugin_api), "new: declares 1.7, bigger");
        /* The explicit path of a loaded plugin loads it again. */
        tg_plugin *q = NULL;
        tap_ok(p && tg_plugin_open(tg_plugin_get_path(p), &q) == TG_OK && q, "open by explicit path");
        tg_plugin_close(q);
        tg_plugin_close(p);
        tg_plugin_close(NULL);
        /* TG_PLUGIN_PROBE_TIMEOUT=0 loads without a probe process. */
        const char *timeout = getenv("TG_PLUGIN_PROBE_TIMEOUT");
        setenv("TG_PLUGIN_PROBE_TIMEOUT", "0", 1);
        p = NULL;
        tap_ok(tg_plugin_open("nullslot", &p) == TG_ERR_INVALID && tg_plugin_open("old", &p) == TG_OK && p,
               "without the probe the checks still apply and good plugins load");
        tg_plugin_close(p);
        if (timeout) setenv("TG_PLUGIN_PROBE_TIMEOUT", timeout, 1);
        else unsetenv("TG_PLUGIN_PROBE_TIMEOUT");
    }

    tg_plugin_info *list = NULL;
    size_t n = 0;
    tap_ok(tg_plugin_scan(&list, &n) == TG_OK, "scan");
    static const struct { const char *name; tg_status status; const char *why; } expect[] = {
        {"nosym", TG_ERR_NOT_FOUND, "entry symbol"}, {"refuse", TG_ERR_VERSION, "frobnicator"},
        {"major", TG_ERR_VERSION, "mismatch"},      {"small", TG_ERR_VERSION, "too small"},
        {"nullslot", TG_ERR_INVALID, "buffer_read"}, {"noname", TG_ERR_INVALID, "no name"},
        {"garbage", TG_ERR_IO, "cannot load"},     {"renamed", TG_ERR_INVALID, "tg-renamed.so"},
        {"ctorcrash", TG_ERR_INTERNAL, "SIGSEGV"}, {"entryabort", TG_ERR_INTERNAL, "SIGABRT"},
        {"countcrash", TG_ERR_INTERNAL, "SIGSEGV"}, {"entryhang", TG_ERR_INTERNAL, "did not answer"},
        {"old", TG_OK, ""},
        {"new", TG_OK, ""},
        {"abi10", TG_OK, ""},
        {"abi11", TG_OK, ""},
        {"abi12", TG_OK, ""},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        const tg_plugin_info *info = find_info(list, n, expect[i].name);
        tap_ok(info && info->status == expect[i].status && contains(info->error, expect[i].why) &&
                   contains(info->path, expect[i].name),
               "scan lists %s as %s", expect[i].name, tg_status_name(expect[i].status));
    }
    const tg_plugin_info *major = find_info(list, n, "major");
    tap_ok(major && major->abi_major == 2 && major->abi_minor == 1, "scan reports the refused table's version");
    const tg_plugin_info *newer = find_info(list, n, "new");
    tap_ok(newer && newer->abi_major == 1 && newer->abi_minor == 7, "scan reports 1.7 for the newer plugin");
    for (size_t i = 0; i < n; i++) tap_diag("%-10s %-18s %s", list[i].name, tg_status_name(list[i].status), list[i].error);
    tg_plugin_scan_free(list, n);
    tg_plugin_scan_free(NULL, 0);

    /* The reference plugin, if it is built, loads from the build tree. */
    tg_plugin *ref = NULL;
    if (tg_plugin_open("ref", &ref) == TG_OK) {
        tap_ok(!strcmp(tg_plugin_get_api(ref)->name, "ref"), "ref loads from the build tree");
        run_on_ref(tg_plugin_get_api(ref));
        tg_plugin_close(ref);
    } else {
        tap_skip("ref plugin not built");
    }
    return tap_done();
}
