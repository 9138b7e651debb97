/* plugins/ref/ref_eval.c -- the kernel interpreter.
 *
 * For each point of out_shape: if the kernel reduces, loop over the reduced
 * axes evaluating the reduction's input cone at every point and accumulate;
 * then evaluate the nodes after the reduction (and the STOREs) at the point.
 * Kernels arrive validated by the core (plugin.h); ref trusts that, and
 * still checks every address against its buffer at launch, so a launch on
 * buffers smaller than the kernel declares gets an error, not a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tg/dtype_util.h>
#include "ref.h"

#define FAIL(status, ...) (snprintf(err, errsz, __VA_ARGS__), (status))

/* Number of sources each node kind takes. */
static int arity(uint32_t op) {
    if (op == TG_OP_LOAD || op == TG_OP_CONST || op == TG_OP_ARG) return 0;
    if (op <= TG_OP_CAST || op == TG_OP_REDUCE_SUM || op == TG_OP_REDUCE_MAX || op == TG_OP_STORE) return 1;
    if (op == TG_OP_WHERE || op == TG_OP_MULACC) return 3;
    return 2;
}


/* Text for program_source: one line per node, then the views. */
static char *dump(const tg_kernel *k) {
    size_t cap = 256 + (size_t)k->nnodes * 96 + (size_t)k->nviews * 8 * 96 + (size_t)k->nparams * 64;
    char *s = malloc(cap);
    if (!s) return NULL;
    size_t n = 0;
#define OUT(...) (n += (size_t)snprintf(s + n, n < cap ? cap - n : 0, __VA_ARGS__))
    OUT("kernel %s: shape [", k->name ? k->name : "");
    for (uint32_t d = 0; d < k->ndim; d++) OUT("%s%lld", d ? "," : "", (long long)k->shape[d]);
    OUT("] reduce_axes 0x%x\n", k->reduce_axes);
    for (uint32_t p = 0; p < k->nparams; p++)
        OUT("  buf%u %s[%lld] %s\n", p, ref_dtype_name(k->params[p].dtype), (long long)k->params[p].count,
            k->params[p].access == TG_ACCESS_WRITE ? "write" : "read");
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *nd = &k->nodes[i];
        OUT("  n%u = %s %s", i, ref_op_name(nd->op), ref_dtype_name(nd->dtype));
        for (int a = 0; a < arity(nd->op); a++) OUT(" n%d", nd->src[a]);
        if (nd->op == TG_OP_LOAD || nd->op == TG_OP_STORE)
            OUT(" buf%u views %u..%u", nd->buffer, nd->view, nd->view + nd->nviews - 1);
        if (nd->op == TG_OP_ARG) OUT(" arg%u", nd->buffer);
        if (nd->op == TG_OP_CONST) {
            if (tgp_dtype_is_float(nd->dtype)) OUT(" %.17g", nd->value.f);
            else if (tgp_dtype_is_unsigned(nd->dtype)) OUT(" %llu", (unsigned long long)nd->value.u);
            else OUT(" %lld", (long long)nd->value.i);
        }
        OUT("\n");
    }
    for (uint32_t v = 0; v < k->nviews; v++) {
        const tg_view *w = &k->views[v];
        OUT("  view%u offset %lld shape/strides", v, (long long)w->offset);
        for (uint32_t d = 0; d < w->ndim; d++) OUT(" %lld:%lld", (long long)w->shape[d], (long long)w->strides[d]);
        if (w->has_mask) {
            OUT(" mask");
            for (uint32_t d = 0; d < w->ndim; d++) OUT(" [%lld,%lld)", (long long)w->mask_lo[d], (long long)w->mask_hi[d]);
        }
        OUT("\n");
    }
#undef OUT
    if (n >= cap) s[cap - 1] = '\0';
    return s;
}

/* Mark the reduction's input cone and the nodes needed after it. */
static void mark_stages(ref_program *p) {
    const tg_kernel *k = &p->k;
    if (p->reduce >= 0) p->in_cone[k->nodes[p->reduce].src[0]] = 1;
    for (int32_t i = (int32_t)k->nnodes - 1; i >= 0; i--) {
        const tg_node *n = &k->nodes[i];
        if (n->op == TG_OP_STORE) p->after[i] = 1;
        for (int s = 0; s < arity(n->op); s++) {
            if (p->in_cone[i]) p->in_cone[n->src[s]] = 1;
            if (p->after[i] && i != p->reduce) p->after[n->src[s]] = 1;
        }
    }
}

tg_status ref_program_build(const tg_kernel *kernel, ref_program **out, char *err, size_t errsz) {
    *out = NULL;
    if (!kernel) return FAIL(TG_ERR_INVALID, "kernel is NULL");
    /* the core validated the kernel (plugin.h): ref does not check it again */
    ref_program *p = calloc(1, sizeof *p);
    if (!p) return FAIL(TG_ERR_NO_MEMORY, "out of memory");
    p->k = *kernel;
    if (kernel->struct_size < sizeof *kernel) /* a 1.0 kernel: no arguments */
        memset((char *)&p->k + offsetof(tg_kernel, nargs), 0, sizeof *kernel - offsetof(tg_kernel, nargs));
    p->k.name = NULL;
    p->nodes = malloc(kernel->nnodes * sizeof(tg_node));
    p->views = malloc((kernel->nviews + 1) * sizeof(tg_view));
    p->params = malloc((kernel->nparams + 1) * sizeof(tg_param));
    p->in_cone = calloc(kernel->nnodes, 1);
    p->after = calloc(kernel->nnodes, 1);
    p->source = dump(kernel);
    if (!p->nodes || !p->views || !p->params || !p->in_cone || !p->after || !p->source) {
        ref_program_free(p);
        return FAIL(TG_ERR_NO_MEMORY, "out of memory");
    }
    p->args = malloc((p->k.nargs + 1) * sizeof(tg_arg));
    p->offsets = malloc((p->k.noffsets + 1) * sizeof(tg_arg_offset));
    if (!p->args || !p->offsets) {
        ref_program_free(p);
        return FAIL(TG_ERR_NO_MEMORY, "out of memory");
    }
    if (p->k.nargs) memcpy(p->args, kernel->args, p->k.nargs * sizeof(tg_arg));
    if (p->k.noffsets) memcpy(p->offsets, kernel->offsets, p->k.noffsets * sizeof(tg_arg_offset));
    p->k.args = p->args, p->k.offsets = p->offsets;
    memcpy(p->nodes, kernel->nodes, kernel->nnodes * sizeof(tg_node));
    if (kernel->nviews) memcpy(p->views, kernel->views, kernel->nviews * sizeof(tg_view));
    if (kernel->nparams) memcpy(p->params, kernel->params, kernel->nparams * sizeof(tg_param));
    p->k.nodes = p->nodes;
    p->k.views = p->views;
    p->k.params = p->params;
    p->reduce = -1;
    for (uint32_t i = 0; i < kernel->nnodes; i++)
        if (p->nodes[i].op == TG_OP_REDUCE_SUM || p->nodes[i].op == TG_OP_REDUCE_MAX) p->reduce = (int32_t)i;
    mark_stages(p);
    *out = p;
    return TG_OK;
}

void ref_program_free(ref_program *p) {
    if (!p) return;
    free(p->nodes);
    free(p->views);
    free(p->params);
    free(p->args);
    free(p->offsets);
    free(p->in_cone);
    free(p->after);
    free(p->source);
    free(p);
}

/* ------------------------------------------------------------ running */

typedef struct run {
    const ref_program *p;
    void *const *mem;
    const tg_scalar *args; /* the launch's argument values */
    int64_t *shift;        /* [nviews]: what moving arguments add to offsets */
    ref_value *vals;
    char *err;
    size_t errsz;
} run;

/* Element index of a LOAD/STORE at `point` through its view stack; 0 if the
 * point is masked out (then *valid = 0). Fails on an index outside a view's
 * shape or an address outside the buffer. */
static tg_status address(run *r, const tg_node *n, const int64_t *point, int *valid, int64_t *out_addr) {
    const tg_kernel *k = &r->p->k;
    char *err = r->err;
    size_t errsz = r->errsz;
    int64_t idx[TG_MAX_DIMS];
    memcpy(idx, point, sizeof idx);
    *valid = 1;
    *out_addr = 0;
    for (uint32_t level = n->nviews; level-- > 0;) {
        const tg_view *v = &k->views[n->view + level];
        int64_t addr = v->offset + r->shift[n->view + level];
        for (uint32_t d = 0; d < v->ndim; d++) {
            if (idx[d] < 0 || idx[d] >= v->shape[d])
                return FAIL(TG_ERR_INVALID, "view %u: index %lld outside its shape %lld on axis %u",
                            n->view + level, (long long)idx[d], (long long)v->shape[d], d);
            if (v->has_mask && (idx[d] < v->mask_lo[d] || idx[d] >= v->mask_hi[d])) {
                *valid = 0;
                return TG_OK;
            }
            /* wrapping arithmetic: a malformed view gives a bad address, not UB */
            addr = (int64_t)((uint64_t)addr + (uint64_t)idx[d] * (uint64_t)v->strides[d]);
        }
        if (level == 0) {
            if (addr < 0 || addr >= k->params[n->buffer].count)
                return FAIL(TG_ERR_INVALID, "address %lld outside buffer %u (count %lld)",
                            (long long)addr, n->buffer, (long long)k->params[n->buffer].count);
            *out_addr = addr;
            return TG_OK;
        }
        /* unravel addr row-major into the lower view's shape */
        const tg_view *low = &k->views[n->view + level - 1];
        int64_t size = 1;
        for (uint32_t d = 0; d < low->ndim; d++)
            size = low->shape[d] > 0 && size <= INT64_MAX / low->shape[d] ? size * low->shape[d] : 0;
        if (addr < 0 || addr >= size)
            return FAIL(TG_ERR_INVALID, "view %u: address %lld outside view %u (size %lld)",
                        n->view + level, (long long)addr, n->view + level - 1, (long long)size);
        for (uint32_t d = low->ndim; d-- > 0;) {
            idx[d] = addr % low->shape[d];
            addr /= low->shape[d];
        }
    }
    return TG_OK;
}

/* Evaluate node i at `point` (sources already in r->vals). */
static tg_status eval_node(run *r, uint32_t i, const int64_t *point) {
    const tg_node *n = &r->p->k.nodes[i];
    const tg_node *nodes = r->p->k.nodes;
    ref_value *v = r->vals;
    int valid;
    int64_t addr;
    switch (n->op) {
    case TG_OP_CONST: v[i] = ref_const(n->dtype, n->value); return TG_OK;
    case TG_OP_ARG: v[i] = ref_const(n->dtype, r->args[n->buffer]); return TG_OK;
    case TG_OP_LOAD: case TG_OP_STORE: {
        tg_status st = address(r, n, point, &valid, &addr);
        if (st != TG_OK) return st;
        char *base = (char *)r->mem[n->buffer] + (size_t)addr * tgp_dtype_size(n->dtype);
        if (n->op == TG_OP_LOAD) v[i] = valid ? ref_load(n->dtype, base) : ref_zero(n->dtype);
        else if (valid) ref_store(n->dtype, base, v[n->src[0]]);
        return TG_OK;
    }
    case TG_OP_CAST: v[i] = ref_cast(nodes[n->src[0]].dtype, n->dtype, v[n->src[0]]); return TG_OK;
    case TG_OP_WHERE: case TG_OP_MULACC:
        v[i] = ref_ternary(n->op, n->dtype, v[n->src[0]], v[n->src[1]], v[n->src[2]]);
        return TG_OK;
    case TG_OP_CMPLT: case TG_OP_ADD: case TG_OP_SUB: case TG_OP_MUL: case TG_OP_DIV:
    case TG_OP_MOD: case TG_OP_MAX:
        v[i] = ref_binary(n->op, nodes[n->src[0]].dtype, v[n->src[0]], v[n->src[1]]);
        return TG_OK;
    default: /* unary */
        v[i] = ref_unary(n->op, n->dtype, v[n->src[0]]);
        return TG_OK;
    }
}

/* Advance `idx` to the next point of `shape` over the axes in `axes`
 * (row-major, last axis fastest); 0 when it wraps around. */
static int next_point(int64_t *idx, const int64_t *shape, uint32_t ndim, uint32_t axes) {
    for (uint32_t d = ndim; d-- > 0;) {
        if (!(axes >> d & 1u)) continue;
        if (++idx[d] < shape[d]) return 1;
        idx[d] = 0;
    }
    return 0;
}

tg_status ref_program_run(const ref_program *p, void *const *mem, const uint64_t *bytes,
                          const tg_scalar *args, char *err, size_t errsz) {
    const tg_kernel *k = &p->k;
    if (k->nargs && !args) return FAIL(TG_ERR_INVALID, "the kernel takes %u arguments, none given", k->nargs);
    int64_t shape[TG_MAX_DIMS]; /* the iteration space: bounded axes end at their argument's value */
    for (uint32_t d = 0; d < k->ndim; d++) shape[d] = k->extent_arg[d] ? args[k->extent_arg[d] - 1].i : k->shape[d];
    for (uint32_t b = 0; b < k->nparams; b++) {
        uint64_t need = (uint64_t)k->params[b].count * tgp_dtype_size(k->params[b].dtype);
        if (bytes[b] < need)
            return FAIL(TG_ERR_INVALID, "buffer %u holds %llu bytes, the kernel needs %llu", b,
                        (unsigned long long)bytes[b], (unsigned long long)need);
    }
    uint32_t all = k->ndim ? (uint32_t)((1ull << k->ndim) - 1) : 0;
    int64_t out_shape[TG_MAX_DIMS];
    for (uint32_t d = 0; d < k->ndim; d++) {
        out_shape[d] = (k->reduce_axes >> d & 1u) ? 1 : shape[d];
        if (out_shape[d] == 0) return TG_OK; /* nothing to store */
    }
    int64_t empty_reduce = 0;
    for (uint32_t d = 0; d < k->ndim; d++)
        if ((k->reduce_axes >> d & 1u) && shape[d] == 0) empty_reduce = 1;

    run r = {p, mem, args, calloc(k->nviews + 1, sizeof(int64_t)), calloc(k->nnodes, sizeof(ref_value)), err, errsz};
    if (!r.vals || !r.shift) {
        free(r.vals), free(r.shift);
        return FAIL(TG_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t o = 0; o < k->noffsets; o++) /* wrapping: the core checked the range */
        r.shift[k->offsets[o].view] = (int64_t)((uint64_t)args[k->offsets[o].arg].i * (uint64_t)k->offsets[o].stride);
    tg_status st = TG_OK;
    int64_t out[TG_MAX_DIMS] = {0}, pt[TG_MAX_DIMS];
    do {
        if (p->reduce >= 0) {
            const tg_node *red = &k->nodes[p->reduce];
            ref_acc acc;
            ref_acc_init(&acc, red->op, red->dtype);
            memcpy(pt, out, sizeof pt);
            if (!empty_reduce) do {
                for (int32_t i = 0; i < p->reduce && st == TG_OK; i++)
                    if (p->in_cone[i]) st = eval_node(&r, (uint32_t)i, pt);
                if (st != TG_OK) goto done;
                ref_acc_add(&acc, red->op, red->dtype, r.vals[red->src[0]]);
            } while (next_point(pt, shape, k->ndim, k->reduce_axes));
            r.vals[p->reduce] = ref_acc_result(&acc, red->op, red->dtype);
        }
        for (uint32_t i = 0; i < k->nnodes && st == TG_OK; i++)
            if (p->after[i] && (int32_t)i != p->reduce) st = eval_node(&r, i, out);
        if (st != TG_OK) goto done;
    } while (next_point(out, out_shape, k->ndim, all & ~k->reduce_axes));
done:
    free(r.vals);
    free(r.shift);
    return st;
}
