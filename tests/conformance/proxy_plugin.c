/* A plugin that forwards every call to the ref plugin (dlopen'd from the
 * path in $TG_PROXY_REF) but misbehaves on purpose, to test the suite:
 *
 *  PROXY_WRONG  SIN on float32 is off by 5 ULPs (the bound is 4); MAX on
 *               float32 drops a NaN in its second operand; negative view
 *               strides are taken as positive; DIV on int32 rounds toward
 *               minus infinity instead of zero.
 *  PROXY_CRASH  a launch of a kernel holding a MUL node dies of SIGSEGV.
 *  PROXY_HANG   a launch of a kernel holding a SUB node never returns.
 *  PROXY_NOISY  a launch of a kernel holding a MUL node prints a line to
 *               stderr (as PoCL's "N warnings generated" did), correct else.
 *  PROXY_OPENHANG  device_create never returns.
 *  PROXY_NODEV  no device on this host (device_count answers 0).
 *  PROXY_BATCHCRASH  program_create_batch dies of SIGSEGV on a batch holding
 *               a MUL kernel (program_create works).
 *  PROXY_BATCHBAD  program_create_batch refuses SUB kernels (TG_ERR_COMPILE,
 *               "proxy: SUB refused in a batch"), compiles the others.
 *  PROXY_THREADS  no device either; the reason names the TG_THREADS the
 *               plugin sees ("TG_THREADS=4", "TG_THREADS unset").
 * Other modes have no program_create_batch and no program_run (ref's would
 * bypass the proxy).
 *
 * Faults only the suite's edge cases catch (test_conform_edges.c):
 *  PROXY_ULP1   float32 EXP2 LOG2 SQRT RECIP DIV one ulp off everywhere
 *               (inside their tolerance; wrong at the exact special operands).
 *  PROXY_RCPDIV float32 DIV as a * RECIP(b) (wrong for huge divisors).
 *  PROXY_DROUND casts round twice: integers through float64 or float32,
 *               float64 through float32, int16 through float16.
 *  PROXY_DROP   reductions of 4096 points or more drop the last element.
 *  PROXY_WRAP24 loads from buffers of more than 2^24 elements wrap their
 *               index at 2^24 (a float32 index); PROXY_WRAP31 at 2^31.
 *  PROXY_STRAY  a write just past each output's stored region (element 0
 *               when the kernel stores nothing).
 *  PROXY_CANON  every NaN of a float output becomes the canonical quiet NaN.
 *  PROXY_FMA    a float ADD of a MUL is fused (MULACC).
 *  PROXY_HALFUP a plain float32 -> float16/bfloat16 cast (LOAD, CAST, STORE,
 *               1-d, contiguous) rounds ties away from zero.
 *
 * Kernels are rewritten before ref compiles them (MAX, strides, DIV, casts,
 * masks, views); outputs are changed after the launch (SIN, ULP1, STRAY,
 * CANON). */
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/plugin.h>

static const tg_plugin_api *ref;
static tg_plugin_api table;

typedef struct proxy_program {
    tg_program *inner;
    int nudge_sin;      /* outputs of float32 params get +5 ulp (ULP1: +1) */
    int stray, canon;   /* PROXY_STRAY, PROXY_CANON: after the launch */
    int halfup;         /* PROXY_HALFUP: the cast's target dtype, 0 if none */
    int64_t in_off, out_off, npoints; /* HALFUP: view offsets, points */
    uint32_t in_buf, out_buf;         /* HALFUP: the two buffers */
    int64_t past[64];   /* STRAY: the element past each output's stored region */
    int crash, hang, noisy;
    uint32_t nparams;
    tg_param params[64];
} proxy_program;

static inline int has_op(const tg_kernel *k, uint32_t op, int dtype) {
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (k->nodes[i].op == op && (dtype < 0 || k->nodes[i].dtype == (uint32_t)dtype)) return 1;
    return 0;
}

#if defined(PROXY_WRONG) || defined(PROXY_RCPDIV) || defined(PROXY_DROUND) || defined(PROXY_DROP) || \
    defined(PROXY_WRAP24) || defined(PROXY_WRAP31) || defined(PROXY_FMA)
#define PROXY_REWRITE 1
/* Rewrite: MAX(a,b) f32 -> WHERE(a < b, b, a); DIV(a,b) i32 -> floor
 * division; negative strides -> positive (WRONG); and the edge faults above.
 * Returns a malloc'd copy. */
typedef struct rewrite { tg_kernel k; tg_node *nodes; tg_view *views; } rewrite;

#ifdef PROXY_DROUND
/* The format a cast from `from` to `to` wrongly rounds through, or -1. */
static int dround_via(uint32_t from, uint32_t to) {
    int narrow = to == TG_FLOAT16 || to == TG_BFLOAT16;
    if ((from == TG_INT64 || from == TG_UINT64) && (narrow || to == TG_FLOAT32)) return TG_FLOAT64;
    if ((from == TG_INT32 || from == TG_UINT32 || from == TG_FLOAT64) && narrow) return TG_FLOAT32;
    if ((from == TG_INT16 || from == TG_UINT16) && to == TG_BFLOAT16) return TG_FLOAT16;
    return -1;
}
#endif

#ifdef PROXY_DROP
/* Mask off the last index of the longest reduced axis in every load of the
 * input cone (loads whose top view spans that axis). */
static void drop_last(const tg_kernel *k, tg_view *views) {
    int rn = -1, ax = -1;
    int64_t red = 1;
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (k->nodes[i].op == TG_OP_REDUCE_SUM || k->nodes[i].op == TG_OP_REDUCE_MAX) rn = (int)i;
    for (uint32_t d = 0; d < k->ndim; d++)
        if (k->reduce_axes >> d & 1u) {
            red *= k->shape[d];
            if (ax < 0 || k->shape[d] > k->shape[ax]) ax = (int)d;
        }
    if (rn < 0 || ax < 0 || red < 4096) return;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        tg_view *v = &views[n->view + n->nviews - 1];
        if (n->op != TG_OP_LOAD || v->shape[ax] != k->shape[ax]) continue;
        if (!v->has_mask)
            for (uint32_t d = 0; d < v->ndim; d++) v->mask_lo[d] = 0, v->mask_hi[d] = v->shape[d];
        v->has_mask = 1;
        if (v->mask_hi[ax] > v->shape[ax] - 1) v->mask_hi[ax] = v->shape[ax] - 1;
    }
}
#endif

static inline int push(tg_node *out, uint32_t *n, uint32_t op, uint32_t dt, int s0, int s1, int s2) {
    tg_node *x = &out[*n];
    memset(x, 0, sizeof *x);
    x->op = op, x->dtype = dt, x->src[0] = s0, x->src[1] = s1, x->src[2] = s2;
    return (int)(*n)++;
}

static int rewrite_kernel(const tg_kernel *k, rewrite *r) {
    r->k = *k;
    r->nodes = calloc((size_t)k->nnodes * 8 + 1, sizeof *r->nodes);
    r->views = calloc((size_t)k->nviews * 2 + k->nnodes + 1, sizeof *r->views);
    int *map = calloc((size_t)k->nnodes + 1, sizeof *map);
    if (!r->nodes || !r->views || !map) { free(map); return -1; }
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        tg_node x = k->nodes[i];
        for (int s = 0; s < 3; s++)
            if (x.src[s] >= 0) x.src[s] = map[x.src[s]];
#ifdef PROXY_RCPDIV
        if (x.op == TG_OP_DIV && x.dtype == TG_FLOAT32) {
            int rcp = push(r->nodes, &n, TG_OP_RECIP, x.dtype, x.src[1], -1, -1);
            map[i] = push(r->nodes, &n, TG_OP_MUL, x.dtype, x.src[0], rcp, -1);
            continue;
        }
#endif
#ifdef PROXY_DROUND
        if (x.op == TG_OP_CAST && dround_via(k->nodes[k->nodes[i].src[0]].dtype, x.dtype) >= 0) {
            int via = push(r->nodes, &n, TG_OP_CAST, (uint32_t)dround_via(k->nodes[k->nodes[i].src[0]].dtype, x.dtype),
                           x.src[0], -1, -1);
            map[i] = push(r->nodes, &n, TG_OP_CAST, x.dtype, via, -1, -1);
            continue;
        }
#endif
#ifdef PROXY_FMA
        if (x.op == TG_OP_ADD && (x.dtype == TG_FLOAT16 || x.dtype == TG_BFLOAT16 || x.dtype == TG_FLOAT32 ||
                                  x.dtype == TG_FLOAT64)) {
            const tg_node *m = &r->nodes[x.src[0]];
            if (m->op == TG_OP_MUL) {
                map[i] = push(r->nodes, &n, TG_OP_MULACC, x.dtype, m->src[0], m->src[1], x.src[1]);
                continue;
            }
        }
#endif
#ifdef PROXY_WRONG
        if (x.op == TG_OP_MAX && x.dtype == TG_FLOAT32) {
            int lt = push(r->nodes, &n, TG_OP_CMPLT, TG_BOOL, x.src[0], x.src[1], -1);
            map[i] = push(r->nodes, &n, TG_OP_WHERE, x.dtype, lt, x.src[1], x.src[0]);
        } else if (x.op == TG_OP_DIV && x.dtype == TG_INT32) {
            int q = push(r->nodes, &n, TG_OP_DIV, x.dtype, x.src[0], x.src[1], -1);
            int m = push(r->nodes, &n, TG_OP_MOD, x.dtype, x.src[0], x.src[1], -1);
            int p = push(r->nodes, &n, TG_OP_MUL, x.dtype, m, x.src[1], -1);
            int zero = push(r->nodes, &n, TG_OP_CONST, x.dtype, -1, -1, -1);
            int one = push(r->nodes, &n, TG_OP_CONST, x.dtype, -1, -1, -1);
            r->nodes[one].value.i = 1;
            int neg = push(r->nodes, &n, TG_OP_CMPLT, TG_BOOL, p, zero, -1);
            int adj = push(r->nodes, &n, TG_OP_WHERE, x.dtype, neg, one, zero);
            map[i] = push(r->nodes, &n, TG_OP_SUB, x.dtype, q, adj, -1);
        } else
#endif
        {
            r->nodes[n] = x;
            map[i] = (int)n++;
        }
    }
    for (uint32_t v = 0; v < k->nviews; v++) {
        tg_view w = k->views[v];
#ifdef PROXY_WRONG
        for (uint32_t d = 0; d < w.ndim; d++)
            if (w.strides[d] < 0) {
                if (w.shape[d] > 0) w.offset += (w.shape[d] - 1) * w.strides[d];
                w.strides[d] = -w.strides[d];
            }
#endif
        r->views[v] = w;
    }
#ifdef PROXY_DROP
    drop_last(k, r->views);
#endif
#if defined(PROXY_WRAP24) || defined(PROXY_WRAP31)
    /* a view [count / W + 1, W] with strides [0, 1] under the stack of each
       load from a big buffer: its address is taken modulo W */
    int64_t W = (int64_t)1 << (
#ifdef PROXY_WRAP24
        24
#else
        31
#endif
    );
    uint32_t nv = 0;
    for (uint32_t i = 0; i < n; i++) {
        tg_node *x = &r->nodes[i];
        if ((x->op != TG_OP_LOAD && x->op != TG_OP_STORE) || x->buffer >= k->nparams) continue;
        uint32_t first = nv;
        if (x->op == TG_OP_LOAD && k->params[x->buffer].count > W) {
            tg_view *w = &r->views[k->nviews + nv++];
            memset(w, 0, sizeof *w);
            w->ndim = 2;
            w->shape[0] = k->params[x->buffer].count / W + 1;
            w->shape[1] = W;
            w->strides[1] = 1;
        }
        for (uint32_t v = 0; v < x->nviews; v++) r->views[k->nviews + nv++] = r->views[x->view + v];
        x->view = k->nviews + first;
        x->nviews = nv - first;
    }
    r->k.nviews = k->nviews + nv;
#endif
    free(map);
    r->k.nnodes = n;
    r->k.nodes = r->nodes;
    r->k.views = r->views;
    return 0;
}
#endif

#ifdef PROXY_STRAY
static void stray_targets(const tg_kernel *k, int64_t *past);
#endif

static tg_status proxy_program_create(tg_device *dev, const tg_kernel *k, tg_program **out) {
    proxy_program *p = calloc(1, sizeof *p);
    if (!p) return TG_ERR_NO_MEMORY;
    p->nparams = k->nparams < 64 ? k->nparams : 64;
    memcpy(p->params, k->params, p->nparams * sizeof *p->params);
    const tg_kernel *use = k;
#ifdef PROXY_REWRITE
    rewrite r;
    memset(&r, 0, sizeof r);
    if (rewrite_kernel(k, &r) != 0) { free(p); return TG_ERR_NO_MEMORY; }
    use = &r.k;
#endif
#ifdef PROXY_WRONG
    p->nudge_sin = 5 * has_op(k, TG_OP_SIN, TG_FLOAT32);
#endif
#ifdef PROXY_ULP1
    p->nudge_sin = has_op(k, TG_OP_EXP2, TG_FLOAT32) || has_op(k, TG_OP_LOG2, TG_FLOAT32) ||
                   has_op(k, TG_OP_SQRT, TG_FLOAT32) || has_op(k, TG_OP_RECIP, TG_FLOAT32) ||
                   has_op(k, TG_OP_DIV, TG_FLOAT32);
#endif
#ifdef PROXY_STRAY
    p->stray = 1;
    stray_targets(k, p->past);
#endif
#ifdef PROXY_CANON
    p->canon = 1;
#endif
#ifdef PROXY_HALFUP
    /* LOAD float32 -> CAST -> STORE, one 1-d contiguous view each */
    if (k->ndim == 1 && k->nnodes == 3 && k->nodes[0].op == TG_OP_LOAD && k->nodes[0].dtype == TG_FLOAT32 &&
        k->nodes[1].op == TG_OP_CAST && (k->nodes[1].dtype == TG_FLOAT16 || k->nodes[1].dtype == TG_BFLOAT16) &&
        k->nodes[2].op == TG_OP_STORE && k->nodes[0].nviews == 1 && k->nodes[2].nviews == 1 &&
        k->views[k->nodes[0].view].strides[0] == 1 && k->views[k->nodes[2].view].strides[0] == 1 &&
        !k->views[k->nodes[0].view].has_mask) {
        p->halfup = (int)k->nodes[1].dtype;
        p->in_off = k->views[k->nodes[0].view].offset;
        p->out_off = k->views[k->nodes[2].view].offset;
        p->npoints = k->shape[0];
        p->in_buf = k->nodes[0].buffer;
        p->out_buf = k->nodes[2].buffer;
    }
#endif
#ifdef PROXY_CRASH
    p->crash = has_op(k, TG_OP_MUL, -1);
#endif
#ifdef PROXY_HANG
    p->hang = has_op(k, TG_OP_SUB, -1);
#endif
#ifdef PROXY_NOISY
    p->noisy = has_op(k, TG_OP_MUL, -1);
#endif
    tg_status st = ref->program_create(dev, use, &p->inner);
#ifdef PROXY_REWRITE
    free(r.nodes);
    free(r.views);
#endif
    if (st != TG_OK) {
        free(p);
        return st;
    }
    *out = (tg_program *)p;
    return TG_OK;
}

#if defined(PROXY_BATCHCRASH) || defined(PROXY_BATCHBAD)
static tg_status proxy_program_create_batch(tg_device *dev, uint32_t n, const tg_kernel *const *ks, tg_program **out,
                                            tg_status *st, const char **msg) {
    tg_status first = TG_OK;
    for (uint32_t i = 0; i < n; i++) {
#ifdef PROXY_BATCHCRASH
        if (ks[i] && has_op(ks[i], TG_OP_MUL, -1)) raise(SIGSEGV);
#endif
        out[i] = NULL;
#ifdef PROXY_BATCHBAD
        if (ks[i] && has_op(ks[i], TG_OP_SUB, -1)) {
            st[i] = TG_ERR_COMPILE;
            msg[i] = "proxy: SUB refused in a batch";
        } else
#endif
        {
            st[i] = ks[i] ? proxy_program_create(dev, ks[i], &out[i]) : TG_ERR_INVALID;
            msg[i] = st[i] == TG_OK ? "" : ks[i] ? "proxy: program_create failed" : "proxy: a NULL kernel";
        }
        if (first == TG_OK) first = st[i];
    }
    return first;
}
#endif

static void proxy_program_destroy(tg_device *dev, tg_program *prog) {
    proxy_program *p = (proxy_program *)prog;
    if (!p) return;
    ref->program_destroy(dev, p->inner);
    free(p);
}

static void nudge(float *x, int64_t n, int ulps) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if (!isfinite(x[i]) || u == 0xa5a5a5a5u) continue; /* the suite's sentinel: not stored */
        u += (uint32_t)ulps;
        memcpy(&x[i], &u, 4);
    }
}

#ifdef PROXY_STRAY
/* The element just past each output's stored region (its largest address
 * plus one; 0 when the kernel stores nothing), or -1. */
static void stray_targets(const tg_kernel *k, int64_t *past) {
    int64_t points = 1;
    for (uint32_t d = 0; d < k->ndim; d++) points *= k->shape[d];
    for (uint32_t p = 0; p < 64; p++) past[p] = -1;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        if (n->op != TG_OP_STORE || n->nviews != 1 || n->buffer >= 64) continue;
        const tg_view *v = &k->views[n->view];
        int64_t top = v->offset;
        for (uint32_t d = 0; d < v->ndim; d++)
            if (v->shape[d] > 0 && v->strides[d] > 0) top += (v->shape[d] - 1) * v->strides[d];
        past[n->buffer] = points == 0 ? 0 : top + 1;
    }
}
#endif

/* Every NaN of a float buffer (bytes) becomes the dtype's canonical quiet NaN. */
static void canonical_nans(uint32_t dt, unsigned char *b, uint64_t bytes) {
    int size = dt == TG_FLOAT64 ? 8 : dt == TG_FLOAT32 ? 4 : 2;
    int man = dt == TG_FLOAT64 ? 52 : dt == TG_FLOAT32 ? 23 : dt == TG_FLOAT16 ? 10 : 7;
    uint64_t expo = ((1ull << (size * 8 - 1 - man)) - 1) << man, quiet = expo | 1ull << (man - 1);
    for (uint64_t o = 0; o + (uint64_t)size <= bytes; o += (uint64_t)size) {
        uint64_t u = 0;
        memcpy(&u, b + o, (size_t)size);
        uint64_t mag = u & ((1ull << (size * 8 - 1)) - 1);
        if ((mag & expo) == expo && (mag & ~expo)) memcpy(b + o, &quiet, (size_t)size);
    }
}

#ifdef PROXY_HALFUP
/* float32 bits -> float16/bfloat16 bits, ties away from zero (in the normal
 * range; NaN, inf and the float16 subnormal range as RNE would give: 0 = keep). */
static int half_up(int dt, uint32_t u, uint16_t *out) {
    uint32_t sign = u & 0x80000000u, a = u ^ sign;
    if (dt == TG_BFLOAT16) {
        if (a >= 0x7f800000u) return 0;
        *out = (uint16_t)((sign | (a + 0x8000u)) >> 16);
        return 1;
    }
    if (a < 0x38800000u || a >= 0x477ff000u) return 0;
    uint32_t h = (a - 0x38000000u) >> 13;
    if ((a & 0x1fffu) >= 0x1000u) h++;
    *out = (uint16_t)(sign >> 16 | h);
    return 1;
}

/* Recompute the cast's outputs with half_up from the input buffer. */
static tg_status redo_halfup(tg_device *dev, proxy_program *p, tg_buffer *const *bufs) {
    uint64_t n = (uint64_t)p->npoints;
    uint32_t *in = malloc(n * 4 + 4);
    uint16_t *out = malloc(n * 2 + 2);
    tg_status st = in && out ? TG_OK : TG_ERR_NO_MEMORY;
    if (st == TG_OK) st = ref->buffer_read(dev, bufs[p->in_buf], (uint64_t)p->in_off * 4, in, n * 4);
    if (st == TG_OK) st = ref->buffer_read(dev, bufs[p->out_buf], (uint64_t)p->out_off * 2, out, n * 2);
    for (uint64_t i = 0; st == TG_OK && i < n; i++) half_up(p->halfup, in[i], &out[i]);
    if (st == TG_OK) st = ref->buffer_write(dev, bufs[p->out_buf], (uint64_t)p->out_off * 2, out, n * 2);
    free(in);
    free(out);
    return st;
}
#endif

/* After a launch: nudge, stray writes, canonical NaNs. */
static tg_status after_launch(tg_device *dev, proxy_program *p, tg_buffer *const *bufs, uint32_t n) {
    tg_status st = TG_OK;
    for (uint32_t i = 0; st == TG_OK && i < p->nparams && i < n; i++) {
        const tg_param *q = &p->params[i];
        uint32_t dt = q->dtype;
        int fl = dt == TG_FLOAT16 || dt == TG_BFLOAT16 || dt == TG_FLOAT32 || dt == TG_FLOAT64;
        if (q->access != TG_ACCESS_WRITE || q->count == 0) continue;
        uint64_t size = dt == TG_FLOAT64 || dt == TG_INT64 || dt == TG_UINT64 ? 8
                      : dt == TG_FLOAT32 || dt == TG_INT32 || dt == TG_UINT32 ? 4
                      : dt == TG_FLOAT16 || dt == TG_BFLOAT16 || dt == TG_INT16 || dt == TG_UINT16 ? 2 : 1;
        if (p->stray && p->past[i] >= 0 && p->past[i] < q->count) {
            uint64_t junk = 0x5a5a5a5a5a5a5a5aull;
            st = ref->buffer_write(dev, bufs[i], (uint64_t)p->past[i] * size, &junk, size);
        }
        if (!(p->nudge_sin && dt == TG_FLOAT32) && !(p->canon && fl)) continue;
        uint64_t bytes = (uint64_t)q->count * size;
        unsigned char *tmp = malloc(bytes);
        if (!tmp) return TG_ERR_NO_MEMORY;
        st = ref->buffer_read(dev, bufs[i], 0, tmp, bytes);
        if (st == TG_OK) {
            if (p->nudge_sin && dt == TG_FLOAT32) nudge((float *)tmp, q->count, p->nudge_sin);
            if (p->canon) canonical_nans(dt, tmp, bytes);
            st = ref->buffer_write(dev, bufs[i], 0, tmp, bytes);
        }
        free(tmp);
    }
    return st;
}

static tg_status proxy_program_launch(tg_device *dev, tg_program *prog, tg_buffer *const *bufs, uint32_t n) {
    proxy_program *p = (proxy_program *)prog;
    if (p->crash) {
        volatile int *null = NULL;
        *null = 1;
    }
    if (p->hang) {
        volatile unsigned long spin = 0;
        for (;;) spin++;
    }
    if (p->noisy) fprintf(stderr, "proxy: 1 warning generated.\n");
    tg_status st = ref->program_launch(dev, p->inner, bufs, n);
    if (st == TG_OK && (p->nudge_sin || p->stray || p->canon)) st = after_launch(dev, p, bufs, n);
#ifdef PROXY_HALFUP
    if (st == TG_OK && p->halfup && p->in_buf < n && p->out_buf < n) st = redo_halfup(dev, p, bufs);
#endif
    return st;
}

#ifdef PROXY_NODEV
static const char *proxy_plugin_error(void) { return "proxy: no such hardware here"; }
static tg_status proxy_device_count(uint32_t *out) {
    *out = 0;
    return TG_OK;
}
#endif

#ifdef PROXY_THREADS
static char threads_reason[128];
static const char *proxy_plugin_error(void) { return threads_reason; }
static tg_status proxy_device_count(uint32_t *out) {
    const char *t = getenv("TG_THREADS");
    if (t) snprintf(threads_reason, sizeof threads_reason, "proxy: TG_THREADS=%s.", t);
    else snprintf(threads_reason, sizeof threads_reason, "proxy: TG_THREADS unset.");
    *out = 0;
    return TG_OK;
}
#endif

#ifdef PROXY_OPENHANG
static tg_status proxy_device_create(uint32_t index, tg_device **out) {
    volatile unsigned long spin = 0;
    for (;;) spin++;
    return ref->device_create(index, out);
}
#endif

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t major, uint32_t minor, const char **out_reason) {
    if (!ref) {
        const char *path = getenv("TG_PROXY_REF");
        void *h = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
        tg_plugin_entry_fn entry = h ? (tg_plugin_entry_fn)dlsym(h, TG_PLUGIN_ENTRY_NAME) : NULL;
        if (!entry) {
            if (out_reason) *out_reason = "proxy: set TG_PROXY_REF to the path of tg-ref.so";
            return NULL;
        }
        ref = entry(major, minor, out_reason);
        if (!ref) return NULL;
        size_t size = ref->struct_size < sizeof table ? ref->struct_size : sizeof table;
        memcpy(&table, ref, size);
        table.struct_size = (uint32_t)size;
        table.name = PROXY_NAME;
        table.description = "conformance self-test: ref with deliberate faults";
        table.program_create = proxy_program_create;
        table.program_destroy = proxy_program_destroy;
        table.program_launch = proxy_program_launch;
        table.program_source = NULL;
        table.program_create_batch = NULL;
        table.program_run = NULL; /* ref's would bypass the proxy: arguments are bound for it */
#if defined(PROXY_BATCHCRASH) || defined(PROXY_BATCHBAD)
        table.program_create_batch = proxy_program_create_batch;
#endif
#ifdef PROXY_OPENHANG
        table.device_create = proxy_device_create;
#endif
#if defined(PROXY_NODEV) || defined(PROXY_THREADS)
        table.device_count = proxy_device_count;
        table.plugin_error = proxy_plugin_error;
#endif
    }
    return &table;
}
