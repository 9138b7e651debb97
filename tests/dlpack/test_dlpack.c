/* DLPack export and import (tg/dlpack.h) on one device: values, dtypes,
 * strides, zero-copy where the device's memory is host memory (export) or
 * its plugin wraps host memory (import, buffer_wrap of ABI 1.2), the
 * deleter called exactly once, and buffers that outlive their tensor and
 * device. argv[1]: the device ("ref", "cpu", "opencl", ...); argv[2]: a
 * plugin built against ABI 1.1 (no buffer_wrap: the import copies). */
#include <stdlib.h>
#include <string.h>
#include <tg/dlpack.h>
#include <tg/runtime.h>

#include "tap.h"

static int deleted; /* calls of foreign_delete */
static void foreign_delete(DLManagedTensor *m) { deleted++, (void)m; }

static int64_t live_buffers(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.live_buffers;
}

static void test_export(tg_dev *dev, bool host) {
    float want[6] = {0, 2, 4, 6, 8, 10}, got[6];
    int64_t before = live_buffers();
    tg_scope_begin();
    tg_tensor *y = tg_keep(tg_reshape(tg_muls(tg_arange(dev, TG_FLOAT32, 0, 6, 1), 2), TG_SHAPE(2, 3)));
    tg_scope_end(); /* y is lazy: the export realizes it */
    DLManagedTensor *m = NULL, *m2 = NULL;
    tap_ok(tg_tensor_to_dlpack(y, &m) == TG_OK && tg_tensor_to_dlpack(y, &m2) == TG_OK, "export: %s",
           tg_last_error());
    DLTensor *x = &m->dl_tensor;
    tap_ok(x->ndim == 2 && x->shape[0] == 2 && x->shape[1] == 3 && !x->strides && x->byte_offset == 0 &&
               x->device.device_type == kDLCPU && x->dtype.code == kDLFloat && x->dtype.bits == 32 &&
               x->dtype.lanes == 1 && m->manager_ctx,
           "export: shape (2,3), compact, float32, kDLCPU");
    tap_ok(!memcmp(x->data, want, sizeof want), "export: the values");
    /* zero-copy: both exports point at the tensor's one buffer */
    tap_ok((x->data == m2->dl_tensor.data) == host, "export %s", host ? "is zero-copy" : "copies (not host memory)");
    m2->deleter(m2);
    /* the export holds the buffer, not the tensor: drop the tensor first */
    tg_release(y);
    tap_ok(live_buffers() == before + 1, "the export keeps the buffer alive after the tensor's release");
    tap_ok(!memcmp(x->data, want, sizeof want), "the export still reads after the tensor's release");
    /* import on the same device shares tg's own buffer */
    tg_tensor *b = tg_tensor_from_dlpack(dev, m);
    tap_ok(b && tg_tensor_ndim(b) == 2 && tg_tensor_dim(b, 1) == 3 && tg_tensor_dtype(b) == TG_FLOAT32 &&
               live_buffers() == before + 1 && tg_to_host(b, got, sizeof got) == TG_OK && !memcmp(got, want, sizeof want),
           "import of tg's export: same values, no new buffer");
    double v;
    tg_scope_begin();
    tap_ok(tg_item(tg_sum(tg_adds(b, 1), TG_ALL_AXES, false), &v) == TG_OK && v == 36,
           "the imported tensor computes");
    tg_scope_end();
    tg_release(b);
}

/* A foreign host tensor: int32, transposed (strides), with a byte offset. */
static void test_import_strided(tg_dev *dev) {
    int32_t mem[1 + 6] = {-1, 0, 1, 2, 3, 4, 5}; /* a 2x3 row-major matrix after one int */
    int64_t shape[2] = {3, 2}, strides[2] = {1, 3};
    DLManagedTensor m = {.dl_tensor = {.data = mem, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLInt, 32, 1},
                                       .shape = shape, .strides = strides, .byte_offset = 4},
                         .deleter = foreign_delete};
    deleted = 0;
    tg_tensor *t = tg_tensor_from_dlpack(dev, &m);
    int32_t got[6], want[6] = {0, 3, 1, 4, 2, 5};
    tap_ok(t && tg_tensor_dtype(t) == TG_INT32 && tg_to_host(t, got, sizeof got) == TG_OK &&
               !memcmp(got, want, sizeof want),
           "import: strides and byte_offset (a transposed view): %s", t ? "" : tg_last_error());
    tap_ok(deleted == 1, "import: the producer's deleter ran once (%d)", deleted);
    tg_release(t);
}

/* A foreign compact host tensor: wrapped without a copy where the plugin
 * has buffer_wrap (ABI 1.2), else copied at once. */
static void test_import_wrap(tg_dev *dev, bool wraps, const char *what) {
    static float mem[2][3] = {{1, 2, 3}, {4, 5, 6}};
    int64_t shape[2] = {2, 3}, before = live_buffers();
    DLManagedTensor m = {.dl_tensor = {.data = mem, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLFloat, 32, 1},
                                       .shape = shape},
                         .deleter = foreign_delete};
    deleted = 0;
    tg_tensor *t = tg_tensor_from_dlpack(dev, &m);
    tap_ok(t && live_buffers() == before + 1 && deleted == !wraps, "%s: import %s (deleter calls %d)", what,
           wraps ? "keeps the producer's tensor" : "copies and lets go at once", deleted);
    /* the rule: tg reads the memory when a kernel that uses it runs, so a
       write made before the realize is seen (after the import, if wrapped) */
    mem[0][0] = 100;
    double v = 0;
    tg_scope_begin();
    tg_status st = tg_item(tg_sum(t, TG_ALL_AXES, false), &v);
    tap_ok(st == TG_OK && v == (wraps ? 120 : 21),
           "%s: a write to the producer's memory after the import is %s (sum %g)", what, wraps ? "seen" : "not seen", v);
    tg_scope_end();
    DLManagedTensor *e = NULL;
    tap_ok(tg_tensor_to_dlpack(t, &e) == TG_OK && (e->dl_tensor.data == (void *)mem) == wraps,
           "%s: the export %s the producer's memory", what, wraps ? "is" : "is not");
    tg_release(t);
    tap_ok(deleted == !wraps, "%s: the export still holds the buffer: deleter not run again (%d)", what, deleted);
    if (e) e->deleter(e);
    tap_ok(deleted == 1 && live_buffers() == before, "%s: the deleter ran exactly once, after the last release (%d)",
           what, deleted);
    /* not wrapped: strides, an unaligned address, no elements */
    int64_t strides[2] = {1, 2};
    m.dl_tensor.strides = strides, deleted = 0;
    t = tg_tensor_from_dlpack(dev, &m);
    tap_ok(t && deleted == 1, "%s: a strided tensor is copied", what);
    tg_release(t);
    m.dl_tensor.strides = NULL, m.dl_tensor.byte_offset = 2, shape[0] = 1, deleted = 0;
    tg_release(t = tg_tensor_from_dlpack(dev, &m));
    tap_ok(t && deleted == 1, "%s: an address not aligned to the element size is copied", what);
    mem[0][0] = 1;
}

/* Another framework's tensor over tg's own export (torch.from_dlpack of a
 * tg tensor, handed back): its deleter releases tg's buffer from inside the
 * release of the buffer that wraps it. */
static DLManagedTensor *inner; /* tg's export that chained_delete lets go */
static void chained_delete(DLManagedTensor *m) {
    deleted++, (void)m;
    inner->deleter(inner);
}

static void test_import_chain(tg_dev *dev, bool wraps) {
    float v[4] = {1, 2, 3, 4}, got[4] = {0};
    int64_t before = live_buffers();
    tg_tensor *t = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(4), v);
    tg_status st = tg_tensor_to_dlpack(t, &inner);
    tg_release(t);
    if (st != TG_OK) {
        tap_ok(false, "chain: export: %s", tg_last_error());
        return;
    }
    DLManagedTensor m = {.dl_tensor = inner->dl_tensor, .deleter = chained_delete};
    deleted = 0;
    tg_tensor *u = tg_tensor_from_dlpack(dev, &m);
    tap_ok(u && tg_to_host(u, got, sizeof got) == TG_OK && !memcmp(got, v, sizeof v) && deleted == !wraps,
           "chain: a foreign tensor over tg's export imports (%s)", u ? "" : tg_last_error());
    tg_release(u);
    tap_ok(deleted == 1 && live_buffers() == before, "chain: releasing it releases tg's buffer too");
}

static void test_errors(tg_dev *dev) {
    int64_t shape[1] = {2};
    float mem[2] = {1, 2};
    DLManagedTensor m = {.dl_tensor = {.data = mem, .device = {kDLCPU, 0}, .ndim = 1, .dtype = {kDLComplex, 64, 1},
                                       .shape = shape},
                         .deleter = foreign_delete};
    deleted = 0;
    tap_ok(!tg_tensor_from_dlpack(dev, &m) && tg_last_status() == TG_ERR_DTYPE && strstr(tg_last_error(), "code 5"),
           "import: complex is refused: %s", tg_last_error());
    m.dl_tensor.dtype = (DLDataType){kDLFloat, 32, 4};
    tap_ok(!tg_tensor_from_dlpack(dev, &m) && tg_last_status() == TG_ERR_DTYPE, "import: 4 lanes are refused");
    m.dl_tensor.dtype = (DLDataType){kDLFloat, 32, 1};
    m.dl_tensor.device = (DLDevice){kDLCUDA, 0};
    tap_ok(!tg_tensor_from_dlpack(dev, &m) && tg_last_status() == TG_ERR_UNSUPPORTED &&
               strstr(tg_last_error(), "not host memory"),
           "import: CUDA memory is refused: %s", tg_last_error());
    m.dl_tensor.device = (DLDevice){kDLCPU, 0};
    shape[0] = -2;
    tap_ok(!tg_tensor_from_dlpack(dev, &m) && tg_last_status() == TG_ERR_SHAPE, "import: a negative size: %s",
           tg_last_error());
    tap_ok(deleted == 0, "a failed import leaves the deleter to the caller");
    tap_ok(!tg_tensor_from_dlpack(NULL, &m) && !tg_tensor_from_dlpack(dev, NULL) &&
               tg_last_status() == TG_ERR_INVALID, "import: NULL arguments");
    DLManagedTensor *out = (DLManagedTensor *)&m;
    tap_ok(tg_tensor_to_dlpack(NULL, &out) != TG_OK && out == NULL, "export: a NULL tensor");
}

/* Every dtype both ways: export then a foreign (copied) import. */
static void test_dtypes(tg_dev *dev) {
    const tg_caps *caps = tg_device_caps(dev);
    for (int dt = 0; dt < TG_DTYPE_COUNT; dt++) {
        if (!(caps->dtypes & (1u << dt))) continue;
        unsigned char data[4 * 8];
        for (size_t i = 0; i < sizeof data; i++) data[i] = dt == TG_BOOL ? i & 1 : (unsigned char)(i * 37 + 1);
        tg_tensor *t = tg_from_data(dev, (tg_dtype)dt, TG_SHAPE(4), data);
        DLManagedTensor *m = NULL;
        size_t n = 4 * tg_dtype_size((tg_dtype)dt);
        bool ok = tg_tensor_to_dlpack(t, &m) == TG_OK && !memcmp(m->dl_tensor.data, data, n);
        DLManagedTensor f = *m; /* the same memory as another framework's */
        f.deleter = foreign_delete;
        tg_tensor *u = tg_tensor_from_dlpack(dev, &f);
        unsigned char got[4 * 8];
        ok = ok && u && tg_tensor_dtype(u) == (tg_dtype)dt && tg_to_host(u, got, n) == TG_OK && !memcmp(got, data, n);
        tap_ok(ok, "%s: export and copied import", tg_dtype_name((tg_dtype)dt));
        if (m) m->deleter(m);
        tg_release(t);
        tg_release(u);
    }
    tg_tensor *e = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(0, 3));
    DLManagedTensor *m;
    tg_tensor *back = NULL;
    if (tg_tensor_to_dlpack(e, &m) == TG_OK) back = tg_tensor_from_dlpack(dev, m);
    tap_ok(back && tg_tensor_numel(back) == 0 && tg_tensor_dim(back, 1) == 3, "an empty (0,3) tensor both ways: %s",
           back ? "" : tg_last_error());
    tg_release(e);
    tg_release(back);
}

int main(int argc, char **argv) {
    tg_dev *dev, *ref;
    if (argc < 2 || tg_device_open(argv[1], &dev) != TG_OK) {
        tap_skip(tg_last_error());
        return tap_done();
    }
    bool host = tg_device_caps(dev)->flags & TG_CAP_HOST_VISIBLE;
    test_export(dev, host);
    test_import_strided(dev);
    tg_plugin *plugin = NULL;
    tg_plugin_open(argv[1], &plugin);
    tg_dev *plain = NULL;
    test_import_wrap(dev, plugin && tg_plugin_get_api(plugin)->buffer_wrap, argv[1]);
    test_import_chain(dev, plugin && tg_plugin_get_api(plugin)->buffer_wrap);
    tg_plugin_close(plugin);
    if (argc > 2 && tg_device_open(argv[2], &plain) == TG_OK) /* a 1.1 plugin: no buffer_wrap */
        test_import_wrap(plain, false, "a 1.1 plugin");
    else
        tap_skip("no 1.1 plugin given");
    tg_device_close(plain);
    test_errors(dev);
    test_dtypes(dev);
    /* an export outlives its device's close; import onto another device copies */
    if (tg_device_open("ref", &ref) == TG_OK) {
        float v[3] = {1, 2, 3}, got[3];
        tg_tensor *t = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(3), v);
        DLManagedTensor *m;
        tg_status st = tg_tensor_to_dlpack(t, &m);
        tg_release(t);
        tg_device_close(dev);
        tg_tensor *r = st == TG_OK ? tg_tensor_from_dlpack(ref, m) : NULL;
        tap_ok(r && tg_to_host(r, got, sizeof got) == TG_OK && !memcmp(got, v, sizeof v),
               "export outlives tg_device_close; import on ref (wrapped or copied) works: %s", r ? "" : tg_last_error());
        tg_release(r);
        tg_device_close(ref);
    } else {
        tg_device_close(dev);
    }
    tap_ok(live_buffers() == 0, "no buffer left");
    return tap_done();
}
