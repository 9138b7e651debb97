/* Tensor handles: reference counts, scopes, errors, statistics, buffers,
 * host conversions, inspection. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <threads.h>
#include <tg/dtype_util.h>
#include "tensor_internal.h"

/* ----------------------------------------------------------------- errors */

tg_status tg__set_status(tg_status s) {
    if (s != TG_OK) tg__swap_status(s);
    return s;
}

void *tg__null_arg(const char *op) {
    if (tg_last_status() == TG_OK) tg__fail(TG_ERR_INVALID, "%s: a tensor argument is NULL", op);
    return NULL;
}

char *tg_shape_format(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t n = 0;
    if (!buf || cap == 0) return buf;
    n += (size_t)snprintf(buf + n, cap - n, "(");
    for (int d = 0; d < ndim && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, d ? ",%lld" : "%lld", (long long)shape[d]);
    if (n < cap) snprintf(buf + n, cap - n, ")");
    return buf;
}

const char *tg__shape_str(const tg_tensor *t, char *buf, size_t cap) {
    return tg_shape_format(t->ndim, t->shape, buf, cap);
}

/* ------------------------------------------------------------ statistics */

/* Atomic: tensors on different devices may be used from different threads. */
static _Atomic int64_t live_tensors, live_buffers, live_bytes, kernels, compiled, realizes;
int tg__debug_level;

void tg__stats_kernel(void) { kernels++; }
void tg__stats_compiled(void) { compiled++; }
void tg__stats_realize(void) { realizes++; }

void tg_stats_get(tg_stats *out) {
    if (!out) return;
    out->live_tensors = live_tensors;
    out->live_buffers = live_buffers;
    out->live_bytes = live_bytes;
    out->kernels_launched = kernels;
    out->programs_compiled = compiled;
    out->realizes = realizes;
}

/* ----------------------------------------------------------------- scopes */

typedef struct scope {
    tg_tensor **items;
    size_t n, cap;
} scope;

static _Thread_local scope *scopes;
static _Thread_local size_t nscopes, cap_scopes;
/* scopes tg_scope_begin could not open (out of memory): their ends must
 * not close an enclosing scope */
static _Thread_local size_t lost_scopes;

static void scope_push(scope *s, tg_tensor *t) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        tg_tensor **items = realloc(s->items, cap * sizeof *items);
        if (!items) { /* cannot track it: leak rather than crash */
            return;
        }
        s->items = items, s->cap = cap;
    }
    s->items[s->n++] = t;
}

/* Hand a new reference to the innermost scope, if any. */
static tg_tensor *adopt(tg_tensor *t) {
    if (t && nscopes > 0) scope_push(&scopes[nscopes - 1], t);
    return t;
}

/* Scopes popped keep their item arrays for the next tg_scope_begin, so a
 * loop of scoped steps allocates none; the thread's exit frees them. */
static void scopes_free(void *unused) {
    (void)unused;
    for (size_t i = 0; i < cap_scopes; i++) free(scopes[i].items);
    free(scopes);
    scopes = NULL, nscopes = cap_scopes = 0;
}

static tss_t scopes_key;
static once_flag scopes_once = ONCE_FLAG_INIT;
static void scopes_key_create(void) { tss_create(&scopes_key, scopes_free); }

void tg_scope_begin(void) {
    if (nscopes == cap_scopes) {
        if (!scopes) {
            call_once(&scopes_once, scopes_key_create);
            tss_set(scopes_key, &scopes_key); /* non-NULL: run scopes_free at thread exit */
        }
        size_t cap = cap_scopes ? cap_scopes * 2 : 8;
        scope *s = realloc(scopes, cap * sizeof *s);
        if (!s) {
            lost_scopes++;
            tg__fail(TG_ERR_NO_MEMORY, "scope_begin: out of host memory");
            return;
        }
        for (size_t i = cap_scopes; i < cap; i++) s[i] = (scope){0};
        scopes = s, cap_scopes = cap;
    }
    scopes[nscopes++].n = 0;
}

void tg_scope_end(void) {
    if (lost_scopes > 0) {
        lost_scopes--;
        return;
    }
    if (nscopes == 0) return;
    scope *s = &scopes[--nscopes];
    for (size_t i = s->n; i-- > 0;) tg_release(s->items[i]);
    s->n = 0;
    if (s->cap > 4096) { /* do not keep a big one */
        free(s->items);
        s->items = NULL, s->cap = 0;
    }
}

tg_tensor *tg_keep(tg_tensor *t) {
    if (!t || nscopes == 0) return t; /* outside scopes the caller owns it already */
    scope *s = &scopes[nscopes - 1];
    for (size_t i = s->n; i-- > 0;) {
        if (s->items[i] != t) continue;
        memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof *s->items);
        s->n--;
        if (nscopes > 1) scope_push(&scopes[nscopes - 2], t);
        return t;
    }
    t->refs++;
    if (nscopes > 1) scope_push(&scopes[nscopes - 2], t);
    return t;
}

tg_tensor *tg__ref(tg_tensor *t) {
    if (t) t->refs++;
    return adopt(t);
}

tg_tensor *tg_retain(tg_tensor *t) {
    if (t) t->refs++;
    return t;
}

/* ---------------------------------------------------------------- buffers */

static tg_status buf_count(tg_dev *dev, tg_buf *b, uint64_t bytes, tg_buf **out) {
    b->refs = 1, b->dev = dev, b->bytes = bytes;
    dev->refs++;
    live_buffers++;
    live_bytes += (int64_t)bytes;
    *out = b;
    return TG_OK;
}

tg_status tg__buf_create(tg_dev *dev, uint64_t bytes, tg_buf **out) {
    tg_buf *b = NULL;
    for (int i = dev->nspare; i-- > 0 && !b;) {
        if (dev->spare[i]->bytes != bytes) continue;
        b = dev->spare[i];
        dev->spare[i] = dev->spare[--dev->nspare];
    }
    tg_status s = TG_OK;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
        s = dev->api->buffer_create(dev->device, bytes, &b->handle);
    }
    if (s != TG_OK) {
        free(b);
        return tg_error(s, "%s: buffer_create(%llu bytes): %s", dev->name, (unsigned long long)bytes,
                          dev->api->device_error(dev->device));
    }
    return buf_count(dev, b, bytes, out);
}

tg_status tg__buf_wrap(tg_dev *dev, void *host, uint64_t bytes, tg_buf **out) {
    tg_buf *b = dev->api->buffer_wrap && host && bytes ? calloc(1, sizeof *b) : NULL;
    if (!b) return TG_ERR_UNSUPPORTED;
    tg_status s = dev->api->buffer_wrap(dev->device, host, bytes, &b->handle);
    if (s != TG_OK) {
        free(b);
        return s == TG_ERR_UNSUPPORTED ? s : tg_error(s, "%s: buffer_wrap(%llu bytes): %s", dev->name,
                                                      (unsigned long long)bytes, dev->api->device_error(dev->device));
    }
    b->wrapped = true;
    return buf_count(dev, b, bytes, out);
}

tg_buf *tg__buf_retain(tg_buf *b) {
    if (b) b->refs++;
    return b;
}

void tg_device_unref(tg_dev *dev);

void tg__buf_release(tg_buf *b) {
    if (!b || --b->refs > 0) return;
    tg_dev *dev = b->dev;
    live_buffers--;
    live_bytes -= (int64_t)b->bytes;
    if (dev->nspare < 8 && b->bytes <= TG_SPARE_MAX_BYTES && !b->wrapped) {
        dev->spare[dev->nspare++] = b;
    } else {
        dev->api->buffer_destroy(dev->device, b->handle);
        if (b->on_free) b->on_free(b->ctx);
        free(b);
    }
    tg_device_unref(dev);
}

/* ---------------------------------------------------------------- tensors */

/* -1 for a shape past TG_MAX_NUMEL (or negative), so that a caller's
 * size computation cannot wrap into a small allocation. */
int64_t tg__numel(int ndim, const int64_t *shape) {
    int64_t n = 1, reach = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || __builtin_mul_overflow(reach, shape[d] ? shape[d] : 1, &reach) || reach > TG_MAX_NUMEL)
            return -1;
        n *= shape[d];
    }
    return n;
}

bool tg__shape_ok(const char *op, int ndim, const int64_t *shape) {
    char sa[TG_MAX_DIMS * 21 + 3];
    if (ndim >= 0 && ndim <= TG_MAX_DIMS && tg__numel(ndim, shape) >= 0) return true;
    if (ndim < 0 || ndim > TG_MAX_DIMS) return tg__fail(TG_ERR_SHAPE, "%s: %d dims (at most %d)", op, ndim, TG_MAX_DIMS);
    return tg__fail(TG_ERR_SHAPE, "%s: shape %s has a negative size or more than 2^60 elements (counting "
                    "size-0 dims as 1)", op, tg_shape_format(ndim, shape, sa, sizeof sa)) != NULL;
}

/* Debug builds keep the last released tensors, marked dead, before freeing
 * them, so that a use after tg_release or a second release is reported. */
#ifndef NDEBUG
static _Atomic(tg_tensor *) dead_ring[256];
static atomic_uint dead_pos;
#endif
enum { LIVE = 0x11fe7e50u, DEAD = 0xdeadd00du };

bool tg__live(const tg_tensor *t, const char *op) {
    if (t->magic == LIVE) return true;
    return tg__fail(TG_ERR_INVALID, "%s: the tensor was already released (use after tg_release)", op) != NULL;
}

/* Fault injection for tests (debug builds): TG_FAULT_NODE=n makes the
 * n-th node allocation of the process fail as if out of memory. */
static bool fault_now(void) {
#ifndef NDEBUG
    static _Atomic int64_t countdown = -2; /* -2: not read yet */
    if (countdown == -2) {
        const char *e = getenv("TG_FAULT_NODE");
        countdown = e ? atoll(e) : -1;
    }
    return countdown > 0 && atomic_fetch_sub(&countdown, 1) == 1;
#else
    return false;
#endif
}

static void tensor_free(tg_tensor *t) {
#ifndef NDEBUG
    t->magic = DEAD;
    unsigned i = atomic_fetch_add(&dead_pos, 1) % 256;
    free(atomic_exchange(&dead_ring[i], t));
#else
    free(t);
#endif
}

bool tg__is_movement(int op) { return (op >= TG_OP_RESHAPE && op <= TG_OP_STRIDE) || op == TG_N_SLICE_AT; }
bool tg__is_reduce(int op) { return op == TG_OP_REDUCE_SUM || op == TG_OP_REDUCE_MAX; }

tg_tensor *tg__node(tg_dev *dev, int op, tg_dtype dtype, int ndim, const int64_t *shape, int nsrc,
                    tg_tensor *const *src) {
    for (int i = 0; i < nsrc; i++)
        if (!tg__live(src[i], op < TG_OP_COUNT ? tg_op_name((tg_op)op) : "op")) return NULL;
    if (!tg__shape_ok(op < TG_OP_COUNT ? tg_op_name((tg_op)op) : "tensor", ndim, shape)) return NULL;
    tg_tensor *t = fault_now() ? NULL : calloc(1, sizeof *t);
    if (!t) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    t->magic = LIVE;
    t->refs = 1, t->dev = dev, t->dtype = dtype, t->ndim = ndim, t->op = op, t->nsrc = nsrc;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    for (int i = 0; i < nsrc; i++) {
        t->src[i] = tg_retain(src[i]);
        if (src[i]->requires_grad && tg_grad_enabled()) t->requires_grad = true;
    }
    dev->refs++;
    live_tensors++;
    return adopt(t);
}

void tg__drop_sources(tg_tensor *t) {
    for (int i = 0; i < t->nsrc; i++) {
        tg_release(t->src[i]);
        t->src[i] = NULL;
    }
    t->nsrc = 0;
    if (t->buf && t->op != TG_N_ARG) t->op = TG_N_BUFFER; /* a variable stays one */
}

/* Release iteratively: a long chain must not recurse deeply. */
void tg_release(tg_tensor *t) {
    tg_tensor *stack[64], **heap = NULL;
    size_t n = 0, cap = 64;
    if (!t || !tg__live(t, "release")) return;
    stack[n++] = t;
    while (n > 0) {
        tg_tensor *x = heap ? heap[--n] : stack[--n];
        if (--x->refs > 0) continue;
        for (int i = 0; i < x->nsrc + 1; i++) {
            tg_tensor *c = i < x->nsrc ? x->src[i] : x->grad;
            if (!c) continue;
            if (n == cap) {
                tg_tensor **h = malloc(cap * 2 * sizeof *h);
                if (!h) { /* cannot continue iteratively: leak the rest */
                    continue;
                }
                memcpy(h, heap ? heap : stack, n * sizeof *h);
                free(heap);
                heap = h, cap *= 2;
            }
            (heap ? heap : stack)[n++] = c;
        }
        tg__buf_release(x->buf);
        live_tensors--;
        tg_device_unref(x->dev);
        tensor_free(x);
    }
    free(heap);
}

/* ------------------------------------------------------------ inspection */

tg_dtype tg_tensor_dtype(const tg_tensor *t) { return t ? t->dtype : TG_DTYPE_COUNT; }
int tg_tensor_ndim(const tg_tensor *t) { return t ? t->ndim : -1; }
const int64_t *tg_tensor_shape(const tg_tensor *t) { return t ? t->shape : NULL; }
int64_t tg_tensor_numel(const tg_tensor *t) { return t ? tg__numel(t->ndim, t->shape) : -1; }
tg_dev *tg_tensor_device(const tg_tensor *t) { return t ? t->dev : NULL; }

int64_t tg_tensor_dim(const tg_tensor *t, int axis) {
    if (!t) return -1;
    if (axis < 0) axis += t->ndim;
    return axis >= 0 && axis < t->ndim ? t->shape[axis] : -1;
}

int tg__norm_axis(int axis, int ndim, const char *op, bool *ok) {
    int a = axis < 0 ? axis + (ndim ? ndim : 1) : axis; /* a 0-d tensor takes 0 and -1 */
    if (a < 0 || a >= (ndim ? ndim : 1)) {
        tg__fail(TG_ERR_SHAPE, "%s: axis %d out of range for %d dims", op, axis, ndim);
        *ok = false;
        return 0;
    }
    return a;
}

/* ------------------------------------------------------ host conversions */

tg_scalar tg__scalar_of(tg_dtype dt, double v) {
    tg_scalar s;
    v = tg__round_to_dtype(v, dt);
    if (tg_dtype_is_float(dt)) s.f = v;
    else if (dt == TG_BOOL || tg_dtype_is_signed(dt)) s.i = (int64_t)v;
    else s.u = (uint64_t)v;
    return s;
}

double tg__round_to_dtype(double v, tg_dtype dt) {
    switch (dt) {
    case TG_BOOL: return v != 0;
    case TG_INT8: return (double)(int8_t)(int64_t)v;
    case TG_UINT8: return (double)(uint8_t)(int64_t)v;
    case TG_INT16: return (double)(int16_t)(int64_t)v;
    case TG_UINT16: return (double)(uint16_t)(int64_t)v;
    case TG_INT32: return (double)(int32_t)(int64_t)v;
    case TG_UINT32: return (double)(uint32_t)(int64_t)v;
    case TG_INT64: return isfinite(v) ? (double)(int64_t)v : 0;
    case TG_UINT64: return isfinite(v) && v >= 0 ? (double)(uint64_t)v : 0;
    case TG_FLOAT16: return tgp_half_to_double(tgp_double_to_half(v));
    case TG_BFLOAT16: return tgp_bf16_to_double(tgp_double_to_bf16(v));
    case TG_FLOAT32: return (double)(float)v;
    default: return v;
    }
}

double tg__load_elem(const void *p, tg_dtype dt, int64_t i) {
    const char *c = p;
    switch (dt) {
    case TG_BOOL: return ((const uint8_t *)c)[i] != 0;
    case TG_INT8: return ((const int8_t *)c)[i];
    case TG_UINT8: return ((const uint8_t *)c)[i];
    case TG_INT16: return ((const int16_t *)c)[i];
    case TG_UINT16: return ((const uint16_t *)c)[i];
    case TG_INT32: return ((const int32_t *)c)[i];
    case TG_UINT32: return ((const uint32_t *)c)[i];
    case TG_INT64: return (double)((const int64_t *)c)[i];
    case TG_UINT64: return (double)((const uint64_t *)c)[i];
    case TG_FLOAT16: return tgp_half_to_double(((const uint16_t *)c)[i]);
    case TG_BFLOAT16: return tgp_bf16_to_double(((const uint16_t *)c)[i]);
    case TG_FLOAT32: return ((const float *)c)[i];
    case TG_FLOAT64: return ((const double *)c)[i];
    default: return 0;
    }
}

void tg__store_elem(void *p, tg_dtype dt, int64_t i, double v) {
    char *c = p;
    v = tg__round_to_dtype(v, dt);
    switch (dt) {
    case TG_BOOL: ((uint8_t *)c)[i] = v != 0; break;
    case TG_INT8: ((int8_t *)c)[i] = (int8_t)v; break;
    case TG_UINT8: ((uint8_t *)c)[i] = (uint8_t)v; break;
    case TG_INT16: ((int16_t *)c)[i] = (int16_t)v; break;
    case TG_UINT16: ((uint16_t *)c)[i] = (uint16_t)v; break;
    case TG_INT32: ((int32_t *)c)[i] = (int32_t)v; break;
    case TG_UINT32: ((uint32_t *)c)[i] = (uint32_t)v; break;
    case TG_INT64: ((int64_t *)c)[i] = (int64_t)v; break;
    case TG_UINT64: ((uint64_t *)c)[i] = (uint64_t)v; break;
    case TG_FLOAT16: ((uint16_t *)c)[i] = tgp_double_to_half(v); break;
    case TG_BFLOAT16: ((uint16_t *)c)[i] = tgp_double_to_bf16(v); break;
    case TG_FLOAT32: ((float *)c)[i] = (float)v; break;
    case TG_FLOAT64: ((double *)c)[i] = v; break;
    default: break;
    }
}
