/*
 * template.c -- a complete tg plugin, ready to be made into yours.
 *
 * As shipped it is a correct (and slow) interpreter of the kernel IR, so it
 * passes `tg conform` untouched. It runs a kernel node by node over tiles of
 * points, which is how most accelerators want the work anyway: replace the
 * pieces marked TODO(vendor) with device memory, code generation and launch.
 *
 * Everything it needs is in <tg/plugin.h>; sdk/docs/ABI.md is the contract
 * and sdk/docs/OPS.md the semantics of every op.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/plugin.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "template"
#endif
#define PLUGIN_VERSION "0.1.0"
#define TILE 256 /* output points evaluated together */

/* ------------------------------------------------------------ errors */

struct tg_device {
    char error[512];
};

static char plugin_message[256];

static const char *plugin_error(void) { return plugin_message; }

static tg_status fail(tg_device *dev, tg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dev->error, sizeof dev->error, fmt, ap);
    va_end(ap);
    return status;
}

static const char *device_error(tg_device *dev) { return dev ? dev->error : ""; }

/* ------------------------------------------------------------ devices */

static tg_status device_count(uint32_t *out_count) {
    *out_count = 1; /* TODO(vendor): count your devices; 0 with a message if none */
    return TG_OK;
}

static tg_status device_create(uint32_t index, tg_device **out_device) {
    if (index != 0) {
        snprintf(plugin_message, sizeof plugin_message, "no device %u", index);
        return TG_ERR_NOT_FOUND;
    }
    tg_device *dev = calloc(1, sizeof *dev); /* TODO(vendor): open the device */
    if (!dev) return TG_ERR_NO_MEMORY;
    *out_device = dev;
    return TG_OK;
}

static void device_destroy(tg_device *dev) { free(dev); }

static tg_status device_caps(tg_device *dev, tg_caps *caps) {
    tg_caps mine = {0};
    mine.struct_size = sizeof mine;
    mine.dtypes = (1u << TG_DTYPE_COUNT) - 1; /* declare only what passes conformance */
    mine.fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT |
                  TG_FUSE_MULTI_OUTPUT;
    mine.flags = TG_CAP_UNIFIED | TG_CAP_HOST_VISIBLE;
    mine.max_dims = TG_MAX_DIMS;
    mine.max_view_depth = 16;
    mine.name = PLUGIN_NAME " interpreter";
    mine.vendor = "unknown"; /* TODO(vendor) */
    mine.version = PLUGIN_VERSION;
    mine.driver = "none";
    size_t n = caps->struct_size < sizeof mine ? caps->struct_size : sizeof mine;
    memcpy(caps, &mine, n); /* only the fields the caller knows */
    caps->struct_size = (uint32_t)n;
    (void)dev;
    return TG_OK;
}

/* ------------------------------------------------------------ buffers */

/* TODO(vendor): device memory. Host memory stands in for it here. */
struct tg_buffer {
    uint64_t bytes;
    unsigned char *data;
};

static tg_status buffer_create(tg_device *dev, uint64_t bytes, tg_buffer **out_buffer) {
    tg_buffer *b = calloc(1, sizeof *b);
    if (!b || !(b->data = malloc(bytes ? bytes : 1))) {
        free(b);
        return fail(dev, TG_ERR_NO_MEMORY, "cannot allocate %llu bytes", (unsigned long long)bytes);
    }
    b->bytes = bytes;
    *out_buffer = b;
    return TG_OK;
}

static void buffer_destroy(tg_device *dev, tg_buffer *b) {
    if (b) free(b->data);
    free(b);
    (void)dev;
}

static tg_status check_range(tg_device *dev, tg_buffer *b, uint64_t offset, uint64_t bytes) {
    if (offset > b->bytes || bytes > b->bytes - offset)
        return fail(dev, TG_ERR_INVALID, "range [%llu, +%llu) outside a buffer of %llu bytes",
                    (unsigned long long)offset, (unsigned long long)bytes, (unsigned long long)b->bytes);
    return TG_OK;
}

static tg_status buffer_write(tg_device *dev, tg_buffer *b, uint64_t offset, const void *src, uint64_t bytes) {
    tg_status s = check_range(dev, b, offset, bytes);
    if (s == TG_OK && bytes) memcpy(b->data + offset, src, bytes);
    return s;
}

static tg_status buffer_read(tg_device *dev, tg_buffer *b, uint64_t offset, void *dst, uint64_t bytes) {
    tg_status s = check_range(dev, b, offset, bytes);
    if (s == TG_OK && bytes) memcpy(dst, b->data + offset, bytes);
    return s;
}

static tg_status buffer_map(tg_device *dev, tg_buffer *b, void **out_ptr) {
    *out_ptr = b->data;
    (void)dev;
    return TG_OK;
}

/* ------------------------------------------------------------ values */

/* A value in flight: floats as double (already rounded to their dtype),
 * signed integers sign-extended in .i, unsigned and bool in .u. */
typedef union value {
    double f;
    int64_t i;
    uint64_t u;
} value;

static int is_float(uint32_t dt) { return dt >= TG_FLOAT16 && dt <= TG_FLOAT64; }
static int is_signed_int(uint32_t dt) {
    return dt == TG_INT8 || dt == TG_INT16 || dt == TG_INT32 || dt == TG_INT64;
}
static unsigned bits_of(uint32_t dt) {
    static const unsigned char bits[TG_DTYPE_COUNT] = {8, 8, 8, 16, 16, 32, 32, 64, 64, 16, 16, 32, 64};
    return bits[dt];
}

/* Round x to a binary float with `prec` significand bits, smallest normal
 * 2^emin and largest finite `max`; ties to even. The scaling by powers of
 * two is exact, so nearbyint does the one rounding. */
static double round_to(double x, int prec, int emin, double max) {
    if (x == 0 || isnan(x) || isinf(x)) return x;
    int e;
    frexp(x, &e); /* |x| in [2^(e-1), 2^e) */
    int q = (e - 1 < emin ? emin + 1 : e) - prec;
    double r = ldexp(nearbyint(ldexp(x, -q)), q);
    return fabs(r) > max ? copysign(INFINITY, x) : r;
}

static double round_float(uint32_t dt, double x) {
    switch (dt) {
    case TG_FLOAT16: return round_to(x, 11, -14, 65504.0);
    case TG_BFLOAT16: return round_to(x, 8, -126, 0x1.fep127);
    case TG_FLOAT32: return (double)(float)x;
    default: return x;
    }
}

/* Wrap an integer to its dtype's width (two's complement). */
static value wrap(uint32_t dt, value v) {
    unsigned n = bits_of(dt);
    if (dt == TG_BOOL) v.u = v.u != 0;
    else if (n < 64 && is_signed_int(dt)) v.i = (int64_t)(v.u << (64 - n)) >> (64 - n);
    else if (n < 64) v.u &= (UINT64_C(1) << n) - 1;
    return v;
}

/* An integer as a double that rounds correctly to any narrower float: past
 * 2^53 the bits that double cannot hold are folded into a sticky bit. */
static double int_to_double(uint64_t mag, int negative) {
    int shift = 0;
    while ((mag >> shift) >= (UINT64_C(1) << 53)) shift++;
    uint64_t kept = mag >> shift;
    if (shift && (mag & ((UINT64_C(1) << shift) - 1))) kept |= 1;
    double d = ldexp((double)kept, shift);
    return negative ? -d : d;
}

static value cast(uint32_t to, uint32_t from, value v) {
    value r = {0};
    if (is_float(from)) {
        if (is_float(to)) r.f = round_float(to, v.f);
        else if (to == TG_BOOL) r.u = v.f != 0 || isnan(v.f);
        else if (!(v.f >= -0x1p63 && v.f < 0x1p64)) r.u = 0; /* unspecified: any value, no trap */
        else if (v.f >= 0x1p63) r = wrap(to, (value){.u = (uint64_t)v.f});
        else r = wrap(to, (value){.i = (int64_t)v.f});
    } else if (is_float(to)) {
        int neg = is_signed_int(from) && v.i < 0;
        double d = to == TG_FLOAT64 ? (neg ? (double)v.i : (double)v.u)
                                    : int_to_double(neg ? 0 - v.u : v.u, neg);
        r.f = round_float(to, d);
    } else {
        r = wrap(to, v);
    }
    return r;
}

/* A NaN of a float of `bits` bits with `fb` fraction bits, as a double NaN
 * with the same sign and payload bit for bit (OPS.md: movement keeps NaN
 * payloads); nan_bits undoes it (keeping at least the quiet bit). */
static value nan_value(uint64_t raw, int bits, int fb) {
    value v;
    v.u = (raw >> (bits - 1)) << 63 | UINT64_C(0x7ff) << 52 | (raw & ((UINT64_C(1) << fb) - 1)) << (52 - fb);
    return v;
}
static uint64_t nan_bits(value v, int bits, int fb) {
    uint64_t frac = (v.u & ((UINT64_C(1) << 52) - 1)) >> (52 - fb);
    return (v.u >> 63) << (bits - 1) | ((UINT64_C(1) << (bits - 1 - fb)) - 1) << fb | (frac ? frac : UINT64_C(1) << (fb - 1));
}

static value load_value(uint32_t dt, const unsigned char *p) {
    value v = {0};
    uint16_t h;
    uint32_t w;
    float f;
    switch (dt) {
    case TG_FLOAT16:
        memcpy(&h, p, 2);
        if ((h & 0x7fff) > 0x7c00) return nan_value(h, 16, 10);
        { /* sign, 5-bit exponent, 10-bit fraction */
            int exp = (h >> 10) & 31, frac = h & 1023;
            double m = exp == 31 ? (frac ? NAN : INFINITY)
                       : exp ? ldexp(1024 + frac, exp - 25) : ldexp(frac, -24);
            v.f = (h & 0x8000) ? -m : m;
        }
        return v;
    case TG_BFLOAT16: {
        uint32_t u;
        memcpy(&h, p, 2);
        if ((h & 0x7fff) > 0x7f80) return nan_value(h, 16, 7);
        u = (uint32_t)h << 16;
        memcpy(&f, &u, 4);
        v.f = f;
        return v;
    }
    case TG_FLOAT32:
        memcpy(&w, p, 4);
        if ((w & 0x7fffffffu) > 0x7f800000u) return nan_value(w, 32, 23);
        memcpy(&f, p, 4);
        v.f = f;
        return v;
    case TG_FLOAT64: memcpy(&v.f, p, 8); return v;
    default: memcpy(&v.u, p, bits_of(dt) / 8); return wrap(dt, v); /* little-endian host */
    }
}

static void store_value(uint32_t dt, unsigned char *p, value v) {
    float f;
    uint32_t u;
    uint16_t h;
    switch (dt) {
    case TG_FLOAT16: {
        double a = fabs(v.f);
        int sign = signbit(v.f) ? 0x8000 : 0;
        if (isnan(v.f)) h = (uint16_t)nan_bits(v, 16, 10);
        else if (isinf(a)) h = (uint16_t)(sign | 0x7c00);
        else if (a < 0x1p-14) h = (uint16_t)(sign | (int)ldexp(a, 24)); /* subnormal: exact */
        else {
            int e;
            double m = frexp(a, &e); /* a = m 2^e, m in [0.5, 1), exact 11 bits */
            h = (uint16_t)(sign | ((e + 14) << 10) | ((int)ldexp(m, 11) - 1024));
        }
        memcpy(p, &h, 2);
        return;
    }
    case TG_BFLOAT16: /* v.f is already a bfloat16 value: its float is exact */
        f = (float)v.f;
        memcpy(&u, &f, 4);
        h = (uint16_t)(isnan(v.f) ? nan_bits(v, 16, 7) : u >> 16);
        memcpy(p, &h, 2);
        return;
    case TG_FLOAT32:
        if (isnan(v.f)) {
            u = (uint32_t)nan_bits(v, 32, 23);
            memcpy(p, &u, 4);
            return;
        }
        f = (float)v.f;
        memcpy(p, &f, 4);
        return;
    case TG_FLOAT64: memcpy(p, &v.f, 8); return;
    default: memcpy(p, &v.u, bits_of(dt) / 8); return;
    }
}

/* One op on one point. `dt` is the operands' dtype (for CAST the source's),
 * `out` the node's dtype. OPS.md is the authority for every case here. */
static value apply(uint32_t op, uint32_t dt, uint32_t out, value a, value b, value c) {
    value r = {0};
    int sgn = is_signed_int(dt);
    if (op == TG_OP_CAST) return cast(out, dt, a);
    if (op == TG_OP_WHERE) return a.u ? b : c;
    if (op == TG_OP_CMPLT) {
        r.u = is_float(dt) ? a.f < b.f : sgn ? a.i < b.i : a.u < b.u;
        return r;
    }
    if (is_float(dt)) {
        switch (op) {
        case TG_OP_EXP2: r.f = exp2(a.f); break;
        case TG_OP_LOG2: r.f = log2(a.f); break;
        case TG_OP_SQRT: r.f = sqrt(a.f); break;
        case TG_OP_RECIP: r.f = 1.0 / a.f; break;
        case TG_OP_NEG: r.f = -a.f; break;
        case TG_OP_SIN: r.f = sin(a.f); break;
        case TG_OP_ADD: r.f = a.f + b.f; break;
        case TG_OP_SUB: r.f = a.f - b.f; break;
        case TG_OP_MUL: r.f = a.f * b.f; break;
        case TG_OP_DIV: r.f = a.f / b.f; break;
        case TG_OP_MOD: r.f = fmod(a.f, b.f); break;
        case TG_OP_MAX: r.f = isnan(a.f) || a.f > b.f ? a.f : b.f; break;
        case TG_OP_MULACC: r.f = fma(a.f, b.f, c.f); break;
        }
        r.f = round_float(dt, r.f);
        return r;
    }
    switch (op) {
    case TG_OP_NEG: r.u = 0 - a.u; break;
    case TG_OP_ADD: r.u = a.u + b.u; break;
    case TG_OP_SUB: r.u = a.u - b.u; break;
    case TG_OP_MUL: r.u = a.u * b.u; break;
    case TG_OP_MULACC: r.u = a.u * b.u + c.u; break;
    case TG_OP_MAX: r = (sgn ? a.i > b.i : a.u > b.u) ? a : b; break;
    case TG_OP_DIV:
    case TG_OP_MOD:
        if (b.u == 0) r.u = 0; /* unspecified value, but never a trap */
        else if (sgn && b.i == -1) r.u = op == TG_OP_DIV ? 0 - a.u : 0; /* INT_MIN / -1 wraps */
        else if (sgn) r.i = op == TG_OP_DIV ? a.i / b.i : a.i % b.i;
        else r.u = op == TG_OP_DIV ? a.u / b.u : a.u % b.u;
        break;
    }
    return wrap(dt, r);
}

/* ------------------------------------------------------------ programs */

/* TODO(vendor): compile the kernel for your device here (generate source,
 * call your compiler, keep the binary). Until then this plugin keeps a copy of
 * the kernel and interprets it at launch. */
struct tg_program {
    tg_kernel k;
    tg_node *nodes;
    tg_view *views;
    tg_param *params;
    unsigned char *in_cone; /* per node: evaluated before the reduction */
    int reduce;             /* index of the reduce node, -1 if none */
};

static void program_destroy(tg_device *dev, tg_program *p) {
    if (p) {
        free(p->nodes);
        free(p->views);
        free(p->params);
        free(p->in_cone);
    }
    free(p);
    (void)dev;
}

static int op_defined(uint32_t op, uint32_t dt) {
    if (dt == TG_BOOL)
        return op == TG_OP_CAST || op == TG_OP_CMPLT || op == TG_OP_MAX || op == TG_OP_MUL ||
               op == TG_OP_WHERE || op == TG_OP_REDUCE_MAX || op >= TG_OP_LOAD;
    if (!is_float(dt))
        return !(op == TG_OP_EXP2 || op == TG_OP_LOG2 || op == TG_OP_SQRT || op == TG_OP_RECIP ||
                 op == TG_OP_SIN);
    return 1;
}

static tg_status program_create(tg_device *dev, const tg_kernel *k, tg_program **out_program) {
    tg_program *p = calloc(1, sizeof *p);
    if (!p) return fail(dev, TG_ERR_NO_MEMORY, "out of memory");
    p->k = *k;
    p->nodes = malloc(sizeof *p->nodes * (k->nnodes + 1));
    p->views = malloc(sizeof *p->views * (k->nviews + 1));
    p->params = malloc(sizeof *p->params * (k->nparams + 1));
    p->in_cone = calloc(k->nnodes + 1, 1);
    if (!p->nodes || !p->views || !p->params || !p->in_cone) {
        program_destroy(dev, p);
        return fail(dev, TG_ERR_NO_MEMORY, "out of memory");
    }
    if (k->nnodes) memcpy(p->nodes, k->nodes, sizeof *p->nodes * k->nnodes);
    if (k->nviews) memcpy(p->views, k->views, sizeof *p->views * k->nviews);
    if (k->nparams) memcpy(p->params, k->params, sizeof *p->params * k->nparams);
    p->k.nodes = p->nodes;
    p->k.views = p->views;
    p->k.params = p->params;
    p->k.name = NULL; /* borrowed: not kept */
    p->reduce = -1;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        uint32_t dt = n->op == TG_OP_CAST || n->op == TG_OP_CMPLT || n->op == TG_OP_WHERE
                          ? k->nodes[n->src[n->op == TG_OP_WHERE]].dtype
                          : n->dtype;
        if (!op_defined(n->op, dt)) {
            program_destroy(dev, p);
            return fail(dev, TG_ERR_UNSUPPORTED, "node %u: op %u is not defined on dtype %u", i, n->op, dt);
        }
        if (n->op == TG_OP_REDUCE_SUM || n->op == TG_OP_REDUCE_MAX) p->reduce = (int)i;
    }
    /* The reduction's input cone: walk sources backwards from it. */
    if (p->reduce >= 0) {
        p->in_cone[k->nodes[p->reduce].src[0]] = 1;
        for (int i = p->reduce - 1; i >= 0; i--)
            for (int s = 0; s < 3 && p->in_cone[i]; s++)
                if (k->nodes[i].src[s] >= 0) p->in_cone[k->nodes[i].src[s]] = 1;
    }
    *out_program = p;
    return TG_OK;
}

/* Element index a view stack gives for a point, or -1 where it is masked. */
static int64_t view_address(const tg_view *stack, uint32_t depth, const int64_t *point) {
    int64_t idx[TG_MAX_DIMS];
    memcpy(idx, point, sizeof idx);
    int64_t addr = 0;
    for (int k = (int)depth - 1; k >= 0; k--) {
        const tg_view *v = &stack[k];
        addr = v->offset;
        for (uint32_t d = 0; d < v->ndim; d++) {
            if (v->has_mask && (idx[d] < v->mask_lo[d] || idx[d] >= v->mask_hi[d])) return -1;
            addr += idx[d] * v->strides[d];
        }
        if (k > 0) { /* unravel into the lower view's shape, row-major */
            const tg_view *lower = &stack[k - 1];
            int64_t rest = addr;
            for (int d = (int)lower->ndim - 1; d >= 0; d--) {
                idx[d] = lower->shape[d] ? rest % lower->shape[d] : 0;
                rest = lower->shape[d] ? rest / lower->shape[d] : 0;
            }
        }
    }
    return addr;
}

/* Evaluate the nodes of one stage (pre: the reduction's input cone) for n points, into vals[node][j].
 * points[j] is the full iteration index of point j. */
static void eval_stage(const tg_program *p, tg_buffer *const *bufs, int pre, int n,
                       int64_t (*points)[TG_MAX_DIMS], value (*vals)[TILE]) {
    const tg_kernel *k = &p->k;
    int end = pre ? p->reduce : (int)k->nnodes; /* the cone lies before the reduction */
    for (int i = 0; i < end; i++) {
        const tg_node *nd = &k->nodes[i];
        /* CONSTs serve both stages; the reduction itself is the caller's */
        if (i == p->reduce || (p->reduce >= 0 && p->in_cone[i] != pre && nd->op != TG_OP_CONST)) continue;
        for (int j = 0; j < n; j++) {
            value a = {0}, b = {0}, c = {0};
            if (nd->src[0] >= 0) a = vals[nd->src[0]][j];
            if (nd->src[1] >= 0) b = vals[nd->src[1]][j];
            if (nd->src[2] >= 0) c = vals[nd->src[2]][j];
            if (nd->op == TG_OP_CONST) {
                vals[i][j] = is_float(nd->dtype) ? (value){.f = nd->value.f} : wrap(nd->dtype, (value){.i = nd->value.i});
            } else if (nd->op == TG_OP_LOAD) {
                int64_t addr = view_address(&k->views[nd->view], nd->nviews, points[j]);
                size_t size = bits_of(nd->dtype) / 8;
                vals[i][j] = addr < 0 ? (value){0} : load_value(nd->dtype, bufs[nd->buffer]->data + addr * size);
            } else if (nd->op == TG_OP_STORE) {
                int64_t addr = view_address(&k->views[nd->view], nd->nviews, points[j]);
                store_value(nd->dtype, bufs[nd->buffer]->data + addr * (bits_of(nd->dtype) / 8), a);
            } else {
                uint32_t dt = k->nodes[nd->src[nd->op == TG_OP_WHERE]].dtype;
                vals[i][j] = apply(nd->op, dt, nd->dtype, a, b, c);
            }
        }
    }
}

static void unravel(int64_t linear, const int64_t *shape, uint32_t ndim, int64_t *idx) {
    for (int d = (int)ndim - 1; d >= 0; d--) {
        idx[d] = linear % shape[d];
        linear /= shape[d];
    }
}

/* TODO(vendor): launch the compiled program on your device. */
static tg_status program_launch(tg_device *dev, tg_program *p, tg_buffer *const *bufs, uint32_t nbufs) {
    const tg_kernel *k = &p->k;
    if (nbufs != k->nparams) return fail(dev, TG_ERR_INVALID, "%u buffers for %u params", nbufs, k->nparams);
    int64_t out_shape[TG_MAX_DIMS] = {0}, red_shape[TG_MAX_DIMS] = {0}, nout = 1, nred = 1;
    for (uint32_t d = 0; d < k->ndim; d++) {
        int reduced = p->reduce >= 0 && (k->reduce_axes >> d & 1);
        out_shape[d] = reduced ? 1 : k->shape[d];
        red_shape[d] = reduced ? k->shape[d] : 1;
        nout *= out_shape[d];
        nred *= red_shape[d];
    }
    value(*vals)[TILE] = malloc(sizeof *vals * (k->nnodes + 1));
    int64_t(*outs)[TG_MAX_DIMS] = malloc(sizeof *outs * TILE);
    int64_t(*full)[TG_MAX_DIMS] = malloc(sizeof *full * TILE);
    if (!vals || !outs || !full) {
        free(vals), free(outs), free(full);
        return fail(dev, TG_ERR_NO_MEMORY, "out of memory");
    }
    for (int64_t base = 0; base < nout; base += TILE) {
        int n = (int)(nout - base < TILE ? nout - base : TILE);
        for (int j = 0; j < n; j++) unravel(base + j, out_shape, k->ndim, outs[j]);
        if (p->reduce >= 0) {
            const tg_node *rn = &k->nodes[p->reduce];
            int sum = rn->op == TG_OP_REDUCE_SUM, dt = rn->dtype;
            value *acc = vals[p->reduce];
            for (int j = 0; j < n; j++) { /* the identity of the reduction */
                acc[j].u = 0;
                if (!sum) acc[j] = is_float(dt) ? (value){.f = -INFINITY}
                                   : is_signed_int(dt) ? wrap(dt, (value){.u = UINT64_C(1) << (bits_of(dt) - 1)})
                                                       : (value){.u = 0};
            }
            for (int64_t r = 0; r < nred; r++) {
                int64_t ridx[TG_MAX_DIMS] = {0};
                unravel(r, red_shape, k->ndim, ridx);
                for (int j = 0; j < n; j++)
                    for (uint32_t d = 0; d < k->ndim; d++) full[j][d] = outs[j][d] + ridx[d];
                eval_stage(p, bufs, 1, n, full, vals);
                for (int j = 0; j < n; j++) {
                    value x = vals[rn->src[0]][j];
                    if (sum && is_float(dt)) acc[j].f += x.f; /* in double, rounded at the end */
                    else if (sum) acc[j] = wrap(dt, (value){.u = acc[j].u + x.u});
                    else acc[j] = apply(TG_OP_MAX, dt, dt, acc[j], x, x);
                }
            }
            for (int j = 0; j < n; j++)
                if (is_float(dt)) acc[j].f = round_float(dt, acc[j].f);
        }
        eval_stage(p, bufs, 0, n, outs, vals);
    }
    free(vals), free(outs), free(full);
    return TG_OK;
}

/* ------------------------------------------------------------ the table */

static const tg_plugin_api api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = PLUGIN_NAME,
    .version = PLUGIN_VERSION,
    .description = "tg plugin 'template': a kernel IR interpreter",
    .plugin_error = plugin_error,
    .device_count = device_count,
    .device_create = device_create,
    .device_destroy = device_destroy,
    .device_error = device_error,
    .device_caps = device_caps,
    .buffer_create = buffer_create,
    .buffer_destroy = buffer_destroy,
    .buffer_write = buffer_write,
    .buffer_read = buffer_read,
    .program_create = program_create,
    .program_destroy = program_destroy,
    .program_launch = program_launch,
    .buffer_map = buffer_map,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    static char reason[128];
    (void)core_minor; /* a core with a lower minor ignores the slots it does not know */
    if (core_major != TG_ABI_MAJOR) {
        snprintf(reason, sizeof reason, "plugin '" PLUGIN_NAME "' speaks ABI %d.%d, the core %u.x",
                 TG_ABI_MAJOR, TG_ABI_MINOR, core_major);
        *out_reason = reason;
        return NULL;
    }
    return &api;
}
