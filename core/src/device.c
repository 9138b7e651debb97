/* Devices (a plugin and one of its devices, with a program cache) and the
 * tensors made from host data: from_data, full, arange, eye, random. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tensor_internal.h"

tg_status tg_device_open(const char *name, tg_dev **out_dev) {
    char picked[64];
    if (!name || !out_dev) return tg_error(TG_ERR_INVALID, "tg_device_open: NULL argument");
    *out_dev = NULL;
    if (strcmp(name, "auto") == 0) {
        tg_status s = tg_plugin_pick_auto(picked, sizeof picked);
        if (s != TG_OK) return tg__set_status(s);
        name = picked;
    }
    tg_dev *dev = calloc(1, sizeof *dev);
    if (!dev) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    tg_status s = tg_plugin_open(name, &dev->plugin);
    if (s != TG_OK) {
        free(dev);
        return tg__set_status(s);
    }
    dev->api = tg_plugin_get_api(dev->plugin);
    uint32_t count = 0;
    s = tg_plugin_device_count(dev->plugin, &count);
    if (s == TG_OK && count == 0) s = TG_ERR_NOT_FOUND;
    if (s == TG_OK) s = tg_plugin_device_create(dev->plugin, 0, &dev->device);
    if (s != TG_OK) {
        char why[1024];
        snprintf(why, sizeof why, "%s", tg_last_error());
        tg_error(s, "device '%s': no device: %s", name, why);
        tg_plugin_close(dev->plugin);
        free(dev);
        return s;
    }
    dev->caps.struct_size = sizeof dev->caps;
    s = dev->api->device_caps(dev->device, &dev->caps);
    if (s != TG_OK) {
        tg_error(s, "device '%s': device_caps: %s", name, tg_plugin_message(dev->api->device_error(dev->device)));
        dev->api->device_destroy(dev->device);
        tg_plugin_close(dev->plugin);
        free(dev);
        return s;
    }
    if (!dev->api->program_run) /* arguments travel only through program_run */
        dev->caps.flags &= ~(uint32_t)(TG_CAP_ARG_VALUES | TG_CAP_ARG_BOUNDS);
    snprintf(dev->name, sizeof dev->name, "%s", dev->api->name ? dev->api->name : name);
    dev->refs = 1;
    *out_dev = dev;
    return TG_OK;
}

/* After a wait on the device: the asynchronous uploads have read their memory. */
static void pending_free(tg_dev *dev) {
    while (dev->npending > 0) free(dev->pending[--dev->npending]);
}

void tg_device_unref(tg_dev *dev) {
    if (!dev || --dev->refs > 0) return;
    tg__plans_free(dev);
    for (int i = 0; i < dev->nspare; i++) {
        dev->api->buffer_destroy(dev->device, dev->spare[i]->handle);
        free(dev->spare[i]);
    }
    for (size_t i = 0; i < dev->cap_progs; i++)
        if (dev->progs[i].program) dev->api->program_destroy(dev->device, dev->progs[i].program);
    free(dev->progs);
    dev->api->device_destroy(dev->device);
    pending_free(dev);
    tg_plugin_close(dev->plugin);
    free(dev);
}

void tg_device_close(tg_dev *dev) {
    if (!dev || dev->closed) return;
    dev->closed = true;
    tg_device_unref(dev);
}

const char *tg_device_name(const tg_dev *dev) { return dev ? dev->name : ""; }
const tg_caps *tg_device_caps(const tg_dev *dev) { return dev ? &dev->caps : NULL; }

/* ------------------------------------------------------------- creation */

/* The one shape check (tensor.c): rank, no negative size, at most 2^60
 * elements, so every byte count below fits. */
static bool check_shape(const char *op, int ndim, const int64_t *shape) {
    if (ndim > 0 && !shape) return tg__fail(TG_ERR_INVALID, "%s: shape is NULL", op) != NULL;
    return tg__shape_ok(op, ndim, shape);
}

/* ------------------------------------------------------------ transfers */

static tg_status transfer_fail(tg_dev *dev, tg_status s, const char *slot) {
    return tg_error(s, "%s: %s: %s", dev->name, slot, tg_plugin_message(dev->api->device_error(dev->device)));
}

tg_status tg__buf_transfer(tg_buf *b, void *host, uint64_t bytes, bool upload, void *owned) {
    tg_dev *dev = b->dev;
    const tg_plugin_api *api = dev->api;
    tg_device *d = dev->device;
    tg_status s = TG_OK;
    const char *slot = "synchronize";
    void *p = NULL;
    if (!bytes) {
        free(owned);
        return TG_OK;
    }
    if (upload && owned && api->buffer_write_async) {
        if (dev->npending == TG_PENDING_MAX && api->synchronize && (s = api->synchronize(d))) {
            free(owned);
            return transfer_fail(dev, s, slot);
        }
        if (dev->npending == TG_PENDING_MAX) pending_free(dev);
        s = api->buffer_write_async(d, b->handle, 0, host, bytes);
        if (s || !api->synchronize) free(owned); /* no synchronize: the call was complete */
        else dev->pending[dev->npending++] = owned;
        return s ? transfer_fail(dev, s, "buffer_write_async") : TG_OK;
    }
    if (api->buffer_map_range && api->buffer_unmap) {
        slot = "buffer_map_range";
        s = api->buffer_map_range(d, b->handle, 0, bytes, upload ? TG_MAP_WRITE : TG_MAP_READ, &p);
        if (!s) {
            memcpy(upload ? p : host, upload ? host : p, bytes);
            slot = "buffer_unmap";
            s = api->buffer_unmap(d, b->handle, p);
        }
    } else if (api->buffer_map && (dev->caps.flags & TG_CAP_HOST_VISIBLE)) {
        if (api->synchronize) s = api->synchronize(d);
        if (!s) {
            slot = "buffer_map";
            s = api->buffer_map(d, b->handle, &p);
        }
        if (!s) memcpy(upload ? p : host, upload ? host : p, bytes);
    } else {
        slot = upload ? "buffer_write" : "buffer_read";
        s = upload ? api->buffer_write(d, b->handle, 0, host, bytes) : api->buffer_read(d, b->handle, 0, host, bytes);
    }
    free(owned);
    if (s) return transfer_fail(dev, s, slot);
    if (!upload) pending_free(dev);
    return TG_OK;
}

/* The checks of from_data; the bytes it uploads in *out_bytes. */
static bool from_data_ok(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, const void *data,
                         uint64_t *out_bytes) {
    if (!dev) return tg__fail(TG_ERR_INVALID, "from_data: device is NULL") != NULL;
    if ((unsigned)dtype >= TG_DTYPE_COUNT) return tg__fail(TG_ERR_DTYPE, "from_data: bad dtype %d", dtype) != NULL;
    if (!check_shape("from_data", ndim, shape)) return false;
    if (!(dev->caps.dtypes & (1u << dtype)))
        return tg__fail(TG_ERR_UNSUPPORTED, "device '%s' does not support %s", dev->name, tg_dtype_name(dtype)) != NULL;
    *out_bytes = (uint64_t)tg__numel(ndim, shape) * tg_dtype_size(dtype);
    if (*out_bytes && !data) return tg__fail(TG_ERR_INVALID, "from_data: data is NULL") != NULL;
    return true;
}

/* from_data; `owned` (malloc'd or NULL) is freed by the transfer or here. */
static tg_tensor *from_host(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, const void *data,
                            void *owned) {
    uint64_t bytes = 0;
    tg_buf *b;
    if (!from_data_ok(dev, dtype, ndim, shape, data, &bytes) || tg__buf_create(dev, bytes, &b) != TG_OK) {
        free(owned);
        return NULL;
    }
    tg_tensor *t = NULL;
    if (tg__buf_transfer(b, (void *)data, bytes, true, owned) == TG_OK)
        t = tg__node(dev, TG_N_BUFFER, dtype, ndim, shape, 0, NULL);
    if (t) t->buf = b;
    else tg__buf_release(b);
    return t;
}

tg_tensor *tg_from_data(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    return from_host(dev, dtype, ndim, shape, data, NULL);
}

tg_tensor *tg__from_owned(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, void *data) {
    return from_host(dev, dtype, ndim, shape, data, data);
}

tg_tensor *tg_from_f64(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, const double *data) {
    if (!check_shape("from_f64", ndim, shape)) return NULL;
    if ((unsigned)dtype >= TG_DTYPE_COUNT) return tg__fail(TG_ERR_DTYPE, "from_f64: bad dtype %d", dtype);
    int64_t n = tg__numel(ndim, shape);
    void *tmp = malloc((size_t)n * tg_dtype_size(dtype) + 1);
    if (!tmp) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    for (int64_t i = 0; i < n; i++) tg__store_elem(tmp, dtype, i, data[i]);
    return tg__from_owned(dev, dtype, ndim, shape, tmp);
}

static bool arg_value_ok(tg_dtype dtype, double v) {
    if (tg_dtype_is_float(dtype)) return true;
    if (v != floor(v)) return false;
    if (dtype == TG_BOOL) return v == 0 || v == 1;
    if (dtype == TG_UINT64) return v >= 0 && v < 0x1p64;
    if (dtype == TG_INT64) return v >= -0x1p63 && v < 0x1p63;
    return tg__round_to_dtype(v, dtype) == v;
}

/* On a device that does not take argument values a variable's value lives
 * in a 0-d buffer instead (a new one per value: a realized tensor may share
 * the old one), so kernels load it and still compile once. *out stays NULL
 * on a device that takes them. */
static tg_status variable_buffer(tg_dev *dev, tg_dtype dtype, tg_scalar value, tg_buf **out) {
    *out = NULL;
    if (dev->caps.flags & TG_CAP_ARG_VALUES) return TG_OK;
    if (!(dev->caps.dtypes & (1u << dtype)))
        return tg_error(TG_ERR_UNSUPPORTED, "device '%s' does not support %s", dev->name, tg_dtype_name(dtype));
    unsigned char v[8];
    if (tg_dtype_is_float(dtype)) tg__store_elem(v, dtype, 0, value.f);
    else memcpy(v, &value.u, sizeof v); /* little-endian: the low bytes are the value */
    tg_status st = tg__buf_create(dev, tg_dtype_size(dtype), out);
    if (!st) st = tg__buf_transfer(*out, v, tg_dtype_size(dtype), true, NULL);
    if (st && *out) {
        tg__buf_release(*out);
        *out = NULL;
    }
    return st;
}

tg_tensor *tg_variable(tg_dev *dev, tg_dtype dtype, double value) {
    if (!dev) return tg__fail(TG_ERR_INVALID, "variable: device is NULL");
    if ((unsigned)dtype >= TG_DTYPE_COUNT) return tg__fail(TG_ERR_DTYPE, "variable: bad dtype %d", dtype);
    if (!arg_value_ok(dtype, value)) return tg__fail(TG_ERR_INVALID, "variable: %g is not a %s", value, tg_dtype_name(dtype));
    tg_scalar s = tg__scalar_of(dtype, value);
    tg_buf *b;
    if (variable_buffer(dev, dtype, s, &b)) return NULL;
    tg_tensor *t = tg__node(dev, TG_N_ARG, dtype, 0, NULL, 0, NULL);
    if (!t) {
        if (b) tg__buf_release(b);
        return NULL;
    }
    t->value = s, t->buf = b;
    return t;
}

tg_status tg_variable_set(tg_tensor *variable, double value) {
    tg_tensor *t = variable;
    if (!t || !tg__live(t, "variable_set")) return tg_error(TG_ERR_INVALID, "variable_set: not a live tensor");
    if (t->op != TG_N_ARG) return tg_error(TG_ERR_INVALID, "variable_set: the tensor was not made by tg_variable");
    if (!arg_value_ok(t->dtype, value))
        return tg_error(TG_ERR_INVALID, "variable_set: %g is not a %s", value, tg_dtype_name(t->dtype));
    tg_scalar s = tg__scalar_of(t->dtype, value);
    tg_buf *b;
    tg_status st = variable_buffer(t->dev, t->dtype, s, &b);
    if (st) return st;
    if (t->buf) tg__buf_release(t->buf); /* also when realized on its own: read the value again */
    t->value = s, t->buf = b;
    return TG_OK;
}

static tg_tensor *const_node(tg_dev *dev, tg_dtype dtype, tg_scalar value) {
    if (!dev) return tg__fail(TG_ERR_INVALID, "const: device is NULL");
    if ((unsigned)dtype >= TG_DTYPE_COUNT) return tg__fail(TG_ERR_DTYPE, "const: bad dtype %d", dtype);
    tg_tensor *t = tg__node(dev, TG_N_CONST, dtype, 0, NULL, 0, NULL);
    if (t) t->value = value;
    return t;
}

tg_tensor *tg_const(tg_dev *dev, tg_dtype dtype, double value) {
    return const_node(dev, dtype, (unsigned)dtype < TG_DTYPE_COUNT ? tg__scalar_of(dtype, value) : (tg_scalar){0});
}

/* Does s, read as plugin.h says for dtype, hold a value of dtype? */
static bool scalar_fits(tg_dtype dtype, tg_scalar s) {
    if (tg_dtype_is_float(dtype)) return true;
    if (dtype == TG_BOOL) return s.i == 0 || s.i == 1;
    if (dtype == TG_INT64 || dtype == TG_UINT64) return true;
    if (tg_dtype_is_signed(dtype)) return tg__round_to_dtype((double)s.i, dtype) == (double)s.i;
    return tg__round_to_dtype((double)s.u, dtype) == (double)s.u;
}

tg_tensor *tg_full_scalar(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, tg_scalar value) {
    if (!check_shape("full_scalar", ndim, shape)) return NULL;
    if ((unsigned)dtype >= TG_DTYPE_COUNT) return tg__fail(TG_ERR_DTYPE, "full_scalar: bad dtype %d", dtype);
    if (!scalar_fits(dtype, value)) return tg__fail(TG_ERR_INVALID, "full_scalar: the value does not fit %s", tg_dtype_name(dtype));
    if (tg_dtype_is_float(dtype)) value.f = tg__round_to_dtype(value.f, dtype);
    int64_t ones[TG_MAX_DIMS];
    for (int d = 0; d < ndim; d++) ones[d] = 1;
    tg_scope_begin();
    tg_tensor *r = tg_keep(tg__expand(tg__reshape(const_node(dev, dtype, value), ndim, ones), shape));
    tg_scope_end();
    return r;
}

tg_tensor *tg_full(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, double value) {
    if (!check_shape("full", ndim, shape)) return NULL;
    int64_t ones[TG_MAX_DIMS];
    for (int d = 0; d < ndim; d++) ones[d] = 1;
    tg_scope_begin();
    tg_tensor *c = tg_const(dev, dtype, value);
    tg_tensor *r = tg_keep(tg__expand(tg__reshape(c, ndim, ones), shape));
    tg_scope_end();
    return r;
}

tg_tensor *tg_zeros(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape) {
    return tg_full(dev, dtype, ndim, shape, 0);
}
tg_tensor *tg_ones(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape) {
    return tg_full(dev, dtype, ndim, shape, 1);
}
tg_tensor *tg_full_like(tg_tensor *x, double v) {
    return x ? tg_full(x->dev, x->dtype, x->ndim, x->shape, v) : tg__null_arg("full_like");
}
tg_tensor *tg_zeros_like(tg_tensor *x) { return tg_full_like(x, 0); }
tg_tensor *tg_ones_like(tg_tensor *x) { return tg_full_like(x, 1); }

/* arange and eye are small; they are made on the host. */
tg_tensor *tg_arange(tg_dev *dev, tg_dtype dtype, double start, double stop, double step) {
    if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step))
        return tg__fail(TG_ERR_INVALID, "arange: bad range %g..%g step %g", start, stop, step);
    double c = ceil((stop - start) / step);
    int64_t n = c > 0 ? (int64_t)c : 0;
    double *v = malloc((size_t)n * sizeof *v + 1);
    if (!v) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    for (int64_t i = 0; i < n; i++) v[i] = start + (double)i * step;
    tg_tensor *t = tg_from_f64(dev, dtype, 1, &n, v);
    free(v);
    return t;
}

tg_tensor *tg_eye(tg_dev *dev, tg_dtype dtype, int64_t n) {
    int64_t shape[2] = {n, n};
    if (!check_shape("eye", 2, shape)) return NULL;
    double *v = calloc((size_t)(n * n) + 1, sizeof *v);
    if (!v) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    for (int64_t i = 0; i < n; i++) v[i * n + i] = 1;
    tg_tensor *t = tg_from_f64(dev, dtype, 2, shape, v);
    free(v);
    return t;
}

/* Counter-based generator: element i of seed s is a hash of (s, i), so the
 * numbers do not depend on the device or on how the work is split. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(uint64_t seed, uint64_t i) { /* [0, 1) with 53 bits */
    return (double)(mix64(mix64(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) ^ i) >> 11) *
           (1.0 / 9007199254740992.0);
}

static tg_tensor *random_tensor(const char *op, tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape,
                                uint64_t seed, bool normal, double lo, double hi) {
    if (!tg_dtype_is_float(dtype)) return tg__fail(TG_ERR_DTYPE, "%s: needs a float dtype, not %s", op, tg_dtype_name(dtype));
    if (!check_shape(op, ndim, shape)) return NULL;
    int64_t n = tg__numel(ndim, shape);
    double *v = malloc((size_t)n * sizeof *v + 1);
    if (!v) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    for (int64_t i = 0; i < n; i++) {
        if (normal) { /* Box-Muller on two independent counters */
            double u1 = unit(seed, 2 * (uint64_t)i), u2 = unit(seed, 2 * (uint64_t)i + 1);
            v[i] = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
        } else {
            v[i] = lo + (hi - lo) * unit(seed, (uint64_t)i);
            double r = tg__round_to_dtype(v[i], dtype);
            if (r >= hi) v[i] = lo; /* rounding must not reach hi */
        }
    }
    tg_tensor *t = tg_from_f64(dev, dtype, ndim, shape, v);
    free(v);
    return t;
}

tg_tensor *tg_rand(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, uint64_t seed) {
    return random_tensor("rand", dev, dtype, ndim, shape, seed, false, 0, 1);
}
tg_tensor *tg_uniform(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, double lo, double hi,
                      uint64_t seed) {
    return random_tensor("uniform", dev, dtype, ndim, shape, seed, false, lo, hi);
}
tg_tensor *tg_randn(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, uint64_t seed) {
    return random_tensor("randn", dev, dtype, ndim, shape, seed, true, 0, 0);
}
