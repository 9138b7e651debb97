/* A plugin that forwards every call to the ref plugin (dlopen'd from the
 * path in $TG_PROXY_REF) but misbehaves on purpose, to test the suite:
 *
 *  PROXY_WRONG  SIN on float32 is off by 5 ULPs (the bound is 4); MAX on
 *               float32 drops a NaN in its second operand; negative view
 *               strides are taken as positive; DIV on int32 rounds toward
 *               minus infinity instead of zero.
 *  PROXY_CRASH  a launch of a kernel holding a MUL node dies of SIGSEGV.
 *  PROXY_HANG   a launch of a kernel holding a SUB node never returns.
 *  PROXY_OPENHANG  device_create never returns.
 *  PROXY_NODEV  no device on this host (device_count answers 0).
 *
 * Kernels are rewritten before ref compiles them (MAX, strides, DIV); SIN's
 * outputs are nudged after the launch. */
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <tg/plugin.h>

static const tg_plugin_api *ref;
static tg_plugin_api table;

typedef struct proxy_program {
    tg_program *inner;
    int nudge_sin;      /* outputs of float32 params get +5 ulp */
    int crash, hang;
    uint32_t nparams;
    tg_param params[64];
} proxy_program;

static inline int has_op(const tg_kernel *k, uint32_t op, int dtype) {
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (k->nodes[i].op == op && (dtype < 0 || k->nodes[i].dtype == (uint32_t)dtype)) return 1;
    return 0;
}

#ifdef PROXY_WRONG
/* Rewrite: MAX(a,b) f32 -> WHERE(a < b, b, a); DIV(a,b) i32 -> floor
 * division; negative strides -> positive. Returns a malloc'd copy. */
typedef struct rewrite { tg_kernel k; tg_node *nodes; tg_view *views; } rewrite;

static int push(tg_node *out, uint32_t *n, uint32_t op, uint32_t dt, int s0, int s1, int s2) {
    tg_node *x = &out[*n];
    memset(x, 0, sizeof *x);
    x->op = op, x->dtype = dt, x->src[0] = s0, x->src[1] = s1, x->src[2] = s2;
    return (int)(*n)++;
}

static int rewrite_kernel(const tg_kernel *k, rewrite *r) {
    r->k = *k;
    r->nodes = calloc((size_t)k->nnodes * 8 + 1, sizeof *r->nodes);
    r->views = calloc((size_t)k->nviews + 1, sizeof *r->views);
    int *map = calloc((size_t)k->nnodes + 1, sizeof *map);
    if (!r->nodes || !r->views || !map) { free(map); return -1; }
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        tg_node x = k->nodes[i];
        for (int s = 0; s < 3; s++)
            if (x.src[s] >= 0) x.src[s] = map[x.src[s]];
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
        } else {
            r->nodes[n] = x;
            map[i] = (int)n++;
        }
    }
    for (uint32_t v = 0; v < k->nviews; v++) {
        tg_view w = k->views[v];
        for (uint32_t d = 0; d < w.ndim; d++)
            if (w.strides[d] < 0) {
                if (w.shape[d] > 0) w.offset += (w.shape[d] - 1) * w.strides[d];
                w.strides[d] = -w.strides[d];
            }
        r->views[v] = w;
    }
    free(map);
    r->k.nnodes = n;
    r->k.nodes = r->nodes;
    r->k.views = r->views;
    return 0;
}
#endif

static tg_status proxy_program_create(tg_device *dev, const tg_kernel *k, tg_program **out) {
    proxy_program *p = calloc(1, sizeof *p);
    if (!p) return TG_ERR_NO_MEMORY;
    p->nparams = k->nparams < 64 ? k->nparams : 64;
    memcpy(p->params, k->params, p->nparams * sizeof *p->params);
    const tg_kernel *use = k;
#ifdef PROXY_WRONG
    rewrite r;
    memset(&r, 0, sizeof r);
    if (rewrite_kernel(k, &r) != 0) { free(p); return TG_ERR_NO_MEMORY; }
    use = &r.k;
    p->nudge_sin = has_op(k, TG_OP_SIN, TG_FLOAT32);
#endif
#ifdef PROXY_CRASH
    p->crash = has_op(k, TG_OP_MUL, -1);
#endif
#ifdef PROXY_HANG
    p->hang = has_op(k, TG_OP_SUB, -1);
#endif
    tg_status st = ref->program_create(dev, use, &p->inner);
#ifdef PROXY_WRONG
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

static void proxy_program_destroy(tg_device *dev, tg_program *prog) {
    proxy_program *p = (proxy_program *)prog;
    if (!p) return;
    ref->program_destroy(dev, p->inner);
    free(p);
}

static void nudge(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        uint32_t u;
        memcpy(&u, &x[i], 4);
        u += 5;
        memcpy(&x[i], &u, 4);
    }
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
    tg_status st = ref->program_launch(dev, p->inner, bufs, n);
    for (uint32_t i = 0; st == TG_OK && p->nudge_sin && i < p->nparams && i < n; i++) {
        if (p->params[i].access != TG_ACCESS_WRITE || p->params[i].dtype != TG_FLOAT32 || p->params[i].count == 0) continue;
        uint64_t bytes = (uint64_t)p->params[i].count * 4;
        float *tmp = malloc(bytes);
        if (!tmp) return TG_ERR_NO_MEMORY;
        st = ref->buffer_read(dev, bufs[i], 0, tmp, bytes);
        if (st == TG_OK) {
            nudge(tmp, p->params[i].count);
            st = ref->buffer_write(dev, bufs[i], 0, tmp, bytes);
        }
        free(tmp);
    }
    return st;
}

#ifdef PROXY_NODEV
static const char *proxy_plugin_error(void) { return "proxy: no such hardware here"; }
static tg_status proxy_device_count(uint32_t *out) {
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
#ifdef PROXY_OPENHANG
        table.device_create = proxy_device_create;
#endif
#ifdef PROXY_NODEV
        table.device_count = proxy_device_count;
        table.plugin_error = proxy_plugin_error;
#endif
    }
    return &table;
}
