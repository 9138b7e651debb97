/* DLPack export and import (tg/dlpack.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tg/dlpack.h>
#include "tensor_internal.h"

/* DLPack's (code, bits) of each tg dtype; code 6 is kDLBool (DLPack 0.8). */
static const DLDataType dl_types[TG_DTYPE_COUNT] = {
    {6, 8, 1}, {kDLInt, 8, 1}, {kDLUInt, 8, 1}, {kDLInt, 16, 1}, {kDLUInt, 16, 1},
    {kDLInt, 32, 1}, {kDLUInt, 32, 1}, {kDLInt, 64, 1}, {kDLUInt, 64, 1},
    {kDLFloat, 16, 1}, {kDLBfloat, 16, 1}, {kDLFloat, 32, 1}, {kDLFloat, 64, 1}};

/* An export: the DLManagedTensor first, so the deleter's pointer is ours. */
typedef struct dl_export {
    DLManagedTensor m;
    tg_buf *buf;  /* tg's buffer, held until the deleter */
    void *copy;   /* the host copy, when the device's memory is not mappable */
    int64_t shape[TG_MAX_DIMS];
} dl_export;

static void dl_delete(DLManagedTensor *m) {
    dl_export *e = (dl_export *)m;
    tg__buf_release(e->buf);
    free(e->copy);
    free(e);
}

tg_status tg_tensor_to_dlpack(tg_tensor *t, DLManagedTensor **out_managed) {
    if (!out_managed) return tg_error(TG_ERR_INVALID, "to_dlpack: out_managed is NULL");
    *out_managed = NULL;
    tg_status st = tg_realize(t);
    if (st) return st;
    dl_export *e = calloc(1, sizeof *e);
    if (!e) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    tg_dev *dev = t->dev;
    size_t bytes = (size_t)t->buf->bytes;
    e->buf = tg__buf_retain(t->buf);
    memcpy(e->shape, t->shape, sizeof e->shape);
    e->m.dl_tensor = (DLTensor){.device = {kDLCPU, 0}, .ndim = t->ndim, .dtype = dl_types[t->dtype], .shape = e->shape};
    void **data = &e->m.dl_tensor.data;
    if ((dev->caps.flags & TG_CAP_HOST_VISIBLE) && dev->api->buffer_map) { /* zero-copy */
        if (dev->api->synchronize) st = dev->api->synchronize(dev->device);
        if (!st) st = dev->api->buffer_map(dev->device, t->buf->handle, data);
        if (st) tg_error(st, "%s: to_dlpack: %s", dev->name, dev->api->device_error(dev->device));
    } else if (!(*data = e->copy = malloc(bytes + 1))) {
        st = tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    } else {
        st = tg_to_host(t, e->copy, bytes);
    }
    if (st) {
        dl_delete(&e->m);
        return st;
    }
    e->m.manager_ctx = e;
    e->m.deleter = dl_delete;
    *out_managed = &e->m;
    return TG_OK;
}

static void dl_free_managed(void *managed) {
    DLManagedTensor *m = managed;
    if (m->deleter) m->deleter(m);
}

/* Copy a strided host tensor into packed C order. */
static void dl_pack(char *dst, const char *src, int ndim, const int64_t *shape, const int64_t *strides,
                    int64_t n, size_t es) {
    int64_t idx[TG_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++) off += idx[d] * strides[d];
        memcpy(dst + (size_t)i * es, src + off * (int64_t)es, es);
        for (int d = ndim; d-- > 0 && ++idx[d] == shape[d];) idx[d] = 0;
    }
}

tg_tensor *tg_tensor_from_dlpack(tg_dev *dev, DLManagedTensor *managed) {
    if (!dev || !managed) return tg__fail(TG_ERR_INVALID, "from_dlpack: %s is NULL", dev ? "managed" : "device");
    DLTensor *x = &managed->dl_tensor;
    int dt = 0;
    while (dt < TG_DTYPE_COUNT && memcmp(&dl_types[dt], &x->dtype, sizeof x->dtype)) dt++;
    if (dt == TG_DTYPE_COUNT)
        return tg__fail(TG_ERR_DTYPE, "from_dlpack: no tg dtype for DLPack code %d, %d bits, %d lanes",
                        x->dtype.code, x->dtype.bits, x->dtype.lanes);
    if (managed->deleter == dl_delete && ((dl_export *)managed)->buf->dev == dev) {
        /* tg's own export, to the same device: share the buffer */
        tg_tensor *t = tg__node(dev, TG_N_BUFFER, (tg_dtype)dt, x->ndim, x->shape, 0, NULL);
        if (!t) return NULL;
        t->buf = tg__buf_retain(((dl_export *)managed)->buf);
        managed->deleter(managed);
        return t;
    }
    if (x->device.device_type != kDLCPU && x->device.device_type != kDLCUDAHost &&
        x->device.device_type != kDLROCMHost)
        return tg__fail(TG_ERR_UNSUPPORTED, "from_dlpack: memory on DLPack device type %d is not host memory",
                        (int)x->device.device_type);
    if (x->ndim > 0 && !x->shape) return tg__fail(TG_ERR_SHAPE, "from_dlpack: shape is NULL");
    if (!tg__shape_ok("from_dlpack", x->ndim, x->shape)) return NULL;
    int64_t n = tg__numel(x->ndim, x->shape), strides[TG_MAX_DIMS], step = 1;
    size_t es = tg_dtype_size((tg_dtype)dt);
    bool packed = true;
    for (int d = x->ndim; d-- > 0; step *= x->shape[d]) {
        strides[d] = x->strides ? x->strides[d] : step;
        packed &= strides[d] == step || x->shape[d] == 1;
    }
    const char *src = (const char *)x->data + x->byte_offset;
    tg_buf *b = NULL;
    tg_status st = packed && n > 0 && (uintptr_t)src % es == 0
                       ? tg__buf_wrap(dev, (void *)src, (uint64_t)n * es, &b) : TG_ERR_UNSUPPORTED;
    if (st == TG_OK) { /* zero-copy: the buffer holds managed until its last release */
        tg_tensor *t = tg__node(dev, TG_N_BUFFER, (tg_dtype)dt, x->ndim, x->shape, 0, NULL);
        if (t) t->buf = b, b->on_free = dl_free_managed, b->ctx = managed;
        else tg__buf_release(b);
        return t;
    }
    if (st != TG_ERR_UNSUPPORTED) return NULL;
    char *tmp = NULL;
    if (!packed && n > 0) {
        if (!(tmp = malloc((size_t)n * es))) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
        dl_pack(tmp, src, x->ndim, x->shape, strides, n, es);
    }
    tg_tensor *t = tg_from_data(dev, (tg_dtype)dt, x->ndim, x->shape, tmp ? tmp : src);
    free(tmp);
    if (t && managed->deleter) managed->deleter(managed);
    return t;
}
