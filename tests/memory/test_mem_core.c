/* tests/memory/test_mem_core.c -- the core moves memory with what a plugin
 * has (tests/memory/mem_plugin.c, one build per way): buffer_map_range/
 * buffer_unmap where there, else buffer_map after synchronize where the
 * device is host-visible, else buffer_write/buffer_read; uploads of memory
 * the core owns (from_f64, rand, safetensors) go through buffer_write_async
 * where there, and that memory lives until the next wait: a read, a
 * synchronize (every TG_PENDING_MAX uploads), or the device's close. Run it
 * under --sanitize: a source freed too early is then a use after free.
 *
 *   test_mem_core MAP_PLUGIN ASYNC_PLUGIN HV_PLUGIN PLAIN_PLUGIN DIR
 *   (TG_PROXY_REF: the ref plugin; DIR: a directory for a file) */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <tg/nn.h>
#include <tg/tg.h>
#include "../tap.h"

static const char *path; /* the plugin under test */

static unsigned count(const char *slot) {
    void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    unsigned (*fn)(const char *) = dl ? (unsigned (*)(const char *))dlsym(dl, "tg_memtest_count") : NULL;
    unsigned n = fn ? fn(slot) : 0;
    if (dl) dlclose(dl);
    return n;
}

/* a * b + 1 from an owned upload (a) and a borrowed one (b), read back. */
static int roundtrip(tg_dev *dev, const char *what) {
    double va[6] = {1, 2, 3, 4, 5, 6}, out[6] = {0};
    float vb[6] = {0.5f, -1, 2, 10, 0, 3};
    int64_t n = 6;
    tg_scope_begin();
    tg_tensor *a = tg_from_f64(dev, TG_FLOAT32, 1, &n, va);
    tg_tensor *b = tg_from_data(dev, TG_FLOAT32, 1, &n, vb);
    tg_status st = tg_to_f64(tg_adds(tg_mul(a, b), 1), out, 6);
    tg_scope_end();
    int ok = st == TG_OK;
    for (int i = 0; i < 6; i++) ok = ok && out[i] == va[i] * vb[i] + 1;
    return tap_ok(ok, "%s: a * b + 1 is right %s", what, st ? tg_last_error() : "");
}

static tg_dev *open_plugin(const char *p) {
    tg_dev *dev = NULL;
    path = p;
    if (tg_device_open(p, &dev) != TG_OK) tap_diag("%s: %s", p, tg_last_error());
    return dev;
}

static void test_map(const char *p) {
    tg_dev *dev = open_plugin(p);
    if (!tap_ok(dev != NULL, "map plugin opens")) return;
    roundtrip(dev, "map/unmap");
    tap_ok(count("map_write") >= 2 && count("map_read") >= 1 && count("buffer_unmap") == count("map_write") + count("map_read"),
           "uploads map WRITE (%u), to_host maps READ (%u), each unmapped", count("map_write"), count("map_read"));
    tap_ok(count("buffer_write") == count("map_write") && count("buffer_read") == count("map_read"),
           "and nothing else moves memory (its own unmap and map aside)");
    tg_device_close(dev);
}

static void test_hv(const char *p) {
    tg_dev *dev = open_plugin(p);
    if (!tap_ok(dev != NULL, "host-visible plugin opens")) return;
    roundtrip(dev, "buffer_map");
    tap_ok(count("buffer_map") >= 3 && count("synchronize") >= count("buffer_map"),
           "buffer_map for uploads and to_host (%u), each after a synchronize (%u)", count("buffer_map"),
           count("synchronize"));
    tap_ok(count("buffer_write") == 0 && count("buffer_read") == 0, "no buffer_write or buffer_read");
    tg_device_close(dev);
}

static void test_plain(const char *p) {
    tg_dev *dev = open_plugin(p);
    if (!tap_ok(dev != NULL, "plain plugin opens")) return;
    roundtrip(dev, "read/write");
    tap_ok(count("buffer_write") == 2 && count("buffer_read") == 1, "two buffer_write, one buffer_read (%u, %u)",
           count("buffer_write"), count("buffer_read"));
    tg_device_close(dev);
}

/* The plugin copies an asynchronous write only at the next wait or launch:
 * the core's memory must still hold the data then. */
static void test_async(const char *p, const char *dir) {
    tg_dev *dev = open_plugin(p);
    if (!tap_ok(dev != NULL, "async plugin opens")) return;
    roundtrip(dev, "buffer_write_async");
    tap_ok(count("buffer_write_async") == 1 && count("buffer_write") == 1,
           "from_f64 uploads asynchronously, from_data (the caller's memory) does not");

    /* more uploads than the core keeps pending: it synchronizes */
    int64_t n = 100;
    unsigned syncs = count("synchronize");
    tg_tensor *t[40];
    for (int i = 0; i < 40; i++) t[i] = tg_rand(dev, TG_FLOAT32, 1, &n, (uint64_t)i + 1);
    tap_ok(count("synchronize") > syncs, "40 uploads without a wait: the core synchronized (%u)",
           count("synchronize") - syncs);
    int ok = 1;
    for (int i = 0; i < 40; i++) {
        float got[100], want[100];
        tg_tensor *again = tg_rand(dev, TG_FLOAT32, 1, &n, (uint64_t)i + 1);
        ok = ok && tg_to_host(t[i], got, sizeof got) == TG_OK && tg_to_host(again, want, sizeof want) == TG_OK &&
             memcmp(got, want, sizeof got) == 0 && got[0] >= 0 && got[0] < 1;
        tg_release(again);
        tg_release(t[i]);
    }
    tap_ok(ok, "each of them holds its values");

    /* safetensors: the file's data goes up asynchronously and stays right */
    char file[1024];
    snprintf(file, sizeof file, "%s/mem_params.safetensors", dir);
    tg_params *ps = NULL, *back = NULL;
    tg_params_create(&ps);
    double w[12];
    for (int i = 0; i < 12; i++) w[i] = i * 0.25 - 1;
    tg_tensor *wt = tg_from_f64(dev, TG_FLOAT64, 2, (int64_t[]){3, 4}, w);
    tg_params_add(ps, "w", wt);
    tg_release(wt);
    tg_status st = tg_params_save(ps, file);
    unsigned before = count("buffer_write_async");
    if (st == TG_OK) st = tg_params_read(file, dev, &back);
    double got[12] = {0};
    if (st == TG_OK) st = tg_to_f64(tg_params_find(back, "w"), got, 12);
    tap_ok(st == TG_OK && memcmp(got, w, sizeof w) == 0 && count("buffer_write_async") == before + 1,
           "tg_params_read uploads the file's tensor asynchronously, and it is right %s", st ? tg_last_error() : "");
    tg_params_destroy(ps);
    tg_params_destroy(back);

    /* uploads still pending when the device closes: device_destroy reads them */
    tg_tensor *late = tg_rand(dev, TG_FLOAT32, 1, &n, 99);
    tg_release(late);
    tg_device_close(dev);
    tap_ok(1, "a device closed with an upload pending (its memory freed after device_destroy)");
}

int main(int argc, char **argv) {
    if (argc < 6) {
        printf("Bail out! usage: test_mem_core MAP ASYNC HV PLAIN DIR\n");
        return 1;
    }
    test_map(argv[1]);
    test_async(argv[2], argv[5]);
    test_hv(argv[3]);
    test_plain(argv[4]);
    return tap_done();
}
