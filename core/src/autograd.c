/* Reverse-mode autodiff over the primitive ops. Every higher-level op is a
 * composition of primitives, so these rules are all there is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tensor_internal.h"

static _Thread_local int no_grad_depth;

void tg_no_grad_begin(void) { no_grad_depth++; }
void tg_no_grad_end(void) {
    if (no_grad_depth > 0) no_grad_depth--;
}
bool tg_grad_enabled(void) { return no_grad_depth == 0; }

tg_status tg_set_requires_grad(tg_tensor *t, bool on) {
    if (!t) return tg_realize(NULL);
    if (on && !tg_dtype_is_float(t->dtype))
        return tg_error(TG_ERR_DTYPE, "requires_grad: %s is not a float dtype", tg_dtype_name(t->dtype));
    t->requires_grad = on;
    t->is_param = on;
    return TG_OK;
}

bool tg_requires_grad(const tg_tensor *t) { return t && t->requires_grad; }
tg_tensor *tg_tensor_grad(tg_tensor *t) { return t ? t->grad : NULL; }

void tg_zero_grad(tg_tensor *t) {
    if (!t) return;
    tg_release(t->grad);
    t->grad = NULL;
}

tg_tensor *tg_detach(tg_tensor *x) {
    if (!x) return tg__null_arg("detach");
    tg_no_grad_begin();
    tg_tensor *r = tg__node(x->dev, TG_N_DETACH, x->dtype, x->ndim, x->shape, 1, &x);
    tg_no_grad_end();
    if (r && x->buf) { /* already computed: share the data */
        tg__drop_sources(r);
        r->buf = tg__buf_retain(x->buf);
        r->op = TG_N_BUFFER;
    }
    return r;
}

/* Sum g (shaped like the node) back to shape of src `s` by reducing the
 * expanded axes: used by EXPAND. */
static tg_tensor *unexpand(tg_tensor *g, const tg_tensor *s) {
    uint32_t axes = 0;
    for (int d = 0; d < s->ndim; d++)
        if (s->shape[d] != g->shape[d]) axes |= 1u << d;
    return tg__reduce(TG_OP_REDUCE_SUM, g, axes);
}

/* Gradients of node n's sources, given g = dL/dn. All created in the
 * current scope (the caller keeps what it needs). out_grads[i] NULL means
 * no gradient flows to src i. */
tg_status tg__backward_node(tg_tensor *n, tg_tensor *g, tg_tensor **out) {
    tg_tensor *x = n->nsrc > 0 ? n->src[0] : NULL, *y = n->nsrc > 1 ? n->src[1] : NULL;
    out[0] = out[1] = out[2] = NULL;
    const double ln2 = 0.69314718055994530942;
    switch (n->op) {
    case TG_OP_NEG: out[0] = tg__unary(TG_OP_NEG, g); break;
    case TG_OP_ADD: out[0] = g, out[1] = g; break;
    case TG_OP_SUB: out[0] = g, out[1] = tg__unary(TG_OP_NEG, g); break;
    case TG_OP_MUL:
        out[0] = tg__binary(TG_OP_MUL, g, y);
        out[1] = tg__binary(TG_OP_MUL, g, x);
        break;
    case TG_OP_DIV:
        out[0] = tg__binary(TG_OP_DIV, g, y);
        out[1] = tg__unary(TG_OP_NEG, tg__binary(TG_OP_DIV, tg__binary(TG_OP_MUL, g, n), y));
        break;
    case TG_OP_EXP2: out[0] = tg__binary(TG_OP_MUL, g, tg__binary(TG_OP_MUL, n, tg__const_like(n, ln2))); break;
    case TG_OP_LOG2: out[0] = tg__binary(TG_OP_DIV, g, tg__binary(TG_OP_MUL, x, tg__const_like(x, ln2))); break;
    case TG_OP_SQRT: out[0] = tg__binary(TG_OP_DIV, g, tg__binary(TG_OP_MUL, n, tg__const_like(n, 2))); break;
    case TG_OP_RECIP: out[0] = tg__unary(TG_OP_NEG, tg__binary(TG_OP_MUL, g, tg__binary(TG_OP_MUL, n, n))); break;
    case TG_OP_SIN:
        out[0] = tg__binary(TG_OP_MUL, g,
                            tg__unary(TG_OP_SIN, tg__binary(TG_OP_ADD, x, tg__const_like(x, M_PI / 2))));
        break;
    case TG_OP_CAST:
        if (tg_dtype_is_float(x->dtype)) out[0] = tg__cast(g, x->dtype);
        break;
    case TG_OP_MOD: /* a - trunc(a/b)*b: d/da = 1, d/db = -trunc(a/b) = -(a - n)/b */
        out[0] = g;
        out[1] = tg__unary(TG_OP_NEG, tg__binary(TG_OP_MUL, g, tg__binary(TG_OP_DIV, tg__binary(TG_OP_SUB, x, n), y)));
        break;
    case TG_OP_MAX: {
        /* ties split the gradient evenly */
        tg_tensor *gt = tg__cast(tg__binary(TG_OP_CMPLT, y, x), x->dtype);
        tg_tensor *lt = tg__cast(tg__binary(TG_OP_CMPLT, x, y), x->dtype);
        tg_tensor *eq = tg__binary(TG_OP_SUB, tg__const_like(x, 1), tg__binary(TG_OP_ADD, gt, lt));
        tg_tensor *half = tg__binary(TG_OP_MUL, eq, tg__const_like(x, 0.5));
        out[0] = tg__binary(TG_OP_MUL, g, tg__binary(TG_OP_ADD, gt, half));
        out[1] = tg__binary(TG_OP_MUL, g, tg__binary(TG_OP_ADD, lt, half));
        break;
    }
    case TG_OP_WHERE: {
        tg_tensor *z = tg__const_like(g, 0);
        out[1] = tg__where(x, g, z);
        out[2] = tg__where(x, z, g);
        break;
    }
    case TG_OP_MULACC:
        out[0] = tg__binary(TG_OP_MUL, g, y);
        out[1] = tg__binary(TG_OP_MUL, g, x);
        out[2] = g;
        break;
    case TG_OP_REDUCE_SUM: out[0] = tg__expand(g, x->shape); break;
    case TG_OP_REDUCE_MAX: {
        /* to the maxima, shared evenly among ties */
        tg_tensor *hit = tg__cast(tg__binary(TG_OP_CMPLT, x, tg__expand(n, x->shape)), x->dtype);
        tg_tensor *mask = tg__binary(TG_OP_SUB, tg__const_like(x, 1), hit);
        tg_tensor *cnt = tg__reduce(TG_OP_REDUCE_SUM, mask, (uint32_t)n->arg[0]);
        out[0] = tg__binary(TG_OP_MUL, mask, tg__expand(tg__binary(TG_OP_DIV, g, cnt), x->shape));
        break;
    }
    case TG_OP_RESHAPE: out[0] = tg__reshape(g, x->ndim, x->shape); break;
    case TG_OP_PERMUTE: {
        int64_t inv[TG_MAX_DIMS];
        for (int d = 0; d < n->ndim; d++) inv[n->arg[d]] = d;
        out[0] = tg__permute(g, inv);
        break;
    }
    case TG_OP_EXPAND: out[0] = unexpand(g, x); break;
    case TG_OP_SHRINK: {
        int64_t lo[TG_MAX_DIMS], hi[TG_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++) lo[d] = n->arg[d], hi[d] = x->shape[d] - n->arg[TG_MAX_DIMS + d];
        out[0] = tg__pad(g, lo, hi);
        break;
    }
    case TG_OP_PAD: {
        int64_t lo[TG_MAX_DIMS], hi[TG_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++) lo[d] = n->arg[d], hi[d] = n->arg[d] + x->shape[d];
        out[0] = tg__shrink(g, lo, hi);
        break;
    }
    case TG_OP_FLIP: out[0] = tg__flip(g, n->arg); break;
    case TG_OP_STRIDE: { /* spread g back: (k) -> (k,1) -> pad (k,s) -> (k*s) -> first n */
        tg_tensor *v = g;
        for (int d = 0; d < x->ndim && v; d++) {
            int64_t st = n->arg[d], s1[TG_MAX_DIMS], lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS] = {0};
            if (st == 1) continue;
            if (v->ndim >= TG_MAX_DIMS) return tg_error(TG_ERR_UNSUPPORTED, "stride backward: too many dims");
            for (int i = 0, j = 0; i <= v->ndim; i++) s1[i] = i == d + 1 ? 1 : v->shape[j++];
            hi[d + 1] = st - 1;
            v = tg__pad(tg__reshape(v, v->ndim + 1, s1), lo, hi);
            int64_t s2[TG_MAX_DIMS], a[TG_MAX_DIMS] = {0}, b[TG_MAX_DIMS];
            for (int i = 0, j = 0; i < v->ndim; i++) {
                if (i == d + 1) continue;
                s2[j] = i == d ? v->shape[d] * st : v->shape[i];
                j++;
            }
            v = tg__reshape(v, v->ndim - 1, s2);
            for (int i = 0; v && i < v->ndim; i++) b[i] = i == d ? x->shape[d] : v->shape[i];
            v = v ? tg__shrink(v, a, b) : NULL;
        }
        out[0] = v;
        break;
    }
    case TG_N_CONTIG: out[0] = g; break;
    case TG_N_SLICE_AT: { /* g where the slice started, zeros elsewhere: pad g by the room m on both
                           * sides and slice x's length at m - start (a view moving the other way) */
        int a = (int)n->arg[0];
        int64_t m = x->shape[a] - n->arg[1], lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS] = {0};
        lo[a] = hi[a] = m;
        tg_tensor *p = tg__pad(g, lo, hi);
        out[0] = p ? tg__slice_at(p, y, a, x->shape[a], m - n->arg[2], -n->arg[3]) : NULL;
        break;
    }
    default: break; /* CMPLT: no gradient */
    }
    return tg_last_status() == TG_OK ? TG_OK : tg_last_status();
}

typedef struct tlist {
    tg_tensor **v;
    size_t n, cap;
} tlist;

static bool push(tlist *l, tg_tensor *t) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 128;
        tg_tensor **v = realloc(l->v, cap * sizeof *v);
        if (!v) return false;
        l->v = v, l->cap = cap;
    }
    l->v[l->n++] = t;
    return true;
}

static _Thread_local uint64_t grad_mark = (uint64_t)1 << 62; /* apart from the scheduler's marks */

/* Topological order (sources first) of the nodes the roots depend on
 * through nodes that need gradients, or through every node with `all`
 * (iterative DFS). */
static tg_status topo(tg_tensor *const *roots, int nroots, bool all, tlist *order) {
    tlist stack = {0};
    int *next = NULL;
    size_t cap_next = 0;
    tg_status st = TG_OK;
    grad_mark++;
    for (int r = 0; r < nroots && !st; r++) {
        if (roots[r]->mark == grad_mark) continue;
        roots[r]->mark = grad_mark;
        if (!push(&stack, roots[r])) st = TG_ERR_NO_MEMORY;
        while (stack.n && !st) {
            if (stack.n > cap_next) {
                int *nx = realloc(next, stack.cap * sizeof *nx);
                if (!nx) { st = TG_ERR_NO_MEMORY; break; }
                for (size_t j = cap_next; j < stack.cap; j++) nx[j] = 0;
                next = nx, cap_next = stack.cap;
            }
            tg_tensor *t = stack.v[stack.n - 1];
            int *k = &next[stack.n - 1];
            if (*k >= t->nsrc) {
                *k = 0;
                stack.n--;
                if (!push(order, t)) st = TG_ERR_NO_MEMORY;
                continue;
            }
            tg_tensor *c = t->src[(*k)++];
            if ((!all && !c->requires_grad) || c->mark == grad_mark) continue;
            c->mark = grad_mark;
            if (!push(&stack, c)) st = TG_ERR_NO_MEMORY;
        }
    }
    free(stack.v);
    free(next);
    if (st) return tg_error(st, "backward: out of host memory");
    return TG_OK;
}

tg_status tg_backward(tg_tensor *loss) {
    if (!loss) return tg_realize(NULL);
    if (!loss->requires_grad)
        return tg_error(TG_ERR_INVALID, "backward: the loss does not depend on any tensor that requires grad");
    tlist order = {0}, params = {0};
    /* failures are detected by the status: an earlier op's failure must not
     * count, and is restored when this pass fails in nothing */
    tg_status before = tg__swap_status(TG_OK);
    tg_status st = topo(&loss, 1, false, &order);
    tg_scope_begin();
    tg_no_grad_begin();
    if (!st) loss->bgrad = tg_full(loss->dev, loss->dtype, loss->ndim, loss->shape, 1);
    if (!st && !loss->bgrad) st = tg_last_status() ? tg_last_status() : TG_ERR_NO_MEMORY;
    for (size_t i = order.n; i-- > 0 && !st;) {
        tg_tensor *n = order.v[i], *g = n->bgrad, *gs[3];
        n->bgrad = NULL;
        if (!g) continue;
        if (n->is_param) {
            tg_tensor *acc = n->grad ? tg__binary(TG_OP_ADD, n->grad, g) : tg__cast(g, n->dtype);
            if (!acc) { st = tg_last_status() ? tg_last_status() : TG_ERR_INTERNAL; break; }
            tg_release(n->grad);
            n->grad = tg_retain(acc); /* n's own reference; the scope drops its one */
            if (!push(&params, n)) st = tg_error(TG_ERR_NO_MEMORY, "backward: out of host memory");
        }
        if (n->nsrc == 0) continue;
        st = tg__backward_node(n, g, gs);
        for (int s = 0; s < n->nsrc && !st; s++) {
            tg_tensor *c = n->src[s];
            if (!gs[s] || !c->requires_grad) continue;
            c->bgrad = c->bgrad ? tg__binary(TG_OP_ADD, c->bgrad, gs[s]) : gs[s];
            if (!c->bgrad) st = tg_last_status() ? tg_last_status() : TG_ERR_INTERNAL;
        }
    }
    for (size_t i = 0; i < order.n; i++) order.v[i]->bgrad = NULL;
    tg_no_grad_end();
    tg_scope_end();
    if (!st) {
        tg_tensor **gv = malloc((params.n + 2) * sizeof *gv);
        size_t ng = 0;
        if (gv) gv[ng++] = loss; /* its value is usually read next: share the work */
        for (size_t i = 0; gv && i < params.n; i++) {
            bool dup = false;
            for (size_t j = 0; j < ng; j++) dup |= gv[j] == params.v[i]->grad;
            if (!dup) gv[ng++] = params.v[i]->grad;
        }
        st = gv ? tg_realize_many(ng, gv) : tg_error(TG_ERR_NO_MEMORY, "backward: out of host memory");
        free(gv);
    }
    free(order.v);
    free(params.v);
    if (!st) tg__swap_status(before);
    return st;
}

tg_status tg_grad(int nout, tg_tensor *const *outs, tg_tensor *const *seeds, int nin, tg_tensor *const *ins,
                  tg_tensor **out_grads) {
    char sa[128], sb[128];
    if (nout < 1 || nin < 1 || !outs || !ins || !out_grads)
        return tg_error(TG_ERR_INVALID, "grad: needs outputs, inputs and out_grads (nout %d, nin %d)", nout, nin);
    for (int i = 0; i < nin; i++) out_grads[i] = NULL;
    for (int i = 0; i < nout + nin; i++) {
        tg_tensor *t = i < nout ? outs[i] : ins[i - nout], *s = i < nout && seeds ? seeds[i] : NULL;
        if (!t) return tg_realize(NULL);
        if (!tg_dtype_is_float(t->dtype))
            return tg_error(TG_ERR_DTYPE, "grad: %s %d is %s, not a float dtype", i < nout ? "output" : "input",
                            i < nout ? i : i - nout, tg_dtype_name(t->dtype));
        if (s && (s->dtype != t->dtype || s->ndim != t->ndim || memcmp(s->shape, t->shape, (size_t)t->ndim * 8)))
            return tg_error(TG_ERR_SHAPE, "grad: seed %d (%s %s) differs from output %d (%s %s)", i, tg_dtype_name(s->dtype),
                            tg__shape_str(s, sa, sizeof sa), i, tg_dtype_name(t->dtype), tg__shape_str(t, sb, sizeof sb));
    }
    tlist order = {0};
    tg_status before = tg__swap_status(TG_OK);
    tg_status st = topo(outs, nout, true, &order);
    /* the nodes that depend on an input (sources come first in order) */
    uint64_t dep = ++grad_mark;
    for (size_t i = 0; i < order.n; i++) {
        tg_tensor *n = order.v[i];
        bool d = false;
        for (int k = 0; k < nin && !d; k++) d = ins[k] == n;
        for (int s = 0; s < n->nsrc && !d; s++) d = n->src[s]->mark == dep;
        if (d) n->mark = dep;
    }
    tg_scope_begin();
    tg_no_grad_begin();
    for (int o = 0; o < nout && !st; o++) {
        tg_tensor *t = outs[o], *g = seeds && seeds[o] ? seeds[o] : tg_full(t->dev, t->dtype, t->ndim, t->shape, 1);
        if (t->mark == dep) t->bgrad = t->bgrad ? tg__binary(TG_OP_ADD, t->bgrad, g) : g;
        if (!g || (t->mark == dep && !t->bgrad)) st = tg_last_status() ? tg_last_status() : TG_ERR_INTERNAL;
    }
    for (size_t i = order.n; i-- > 0 && !st;) {
        tg_tensor *n = order.v[i], *g = n->bgrad, *gs[3];
        n->bgrad = NULL;
        if (!g || n->mark != dep) continue;
        for (int k = 0; k < nin; k++)
            if (ins[k] == n) out_grads[k] = g;
        if (n->nsrc == 0) continue;
        st = tg__backward_node(n, g, gs);
        for (int s = 0; s < n->nsrc && !st; s++) {
            tg_tensor *c = n->src[s];
            if (!gs[s] || c->mark != dep) continue;
            c->bgrad = c->bgrad ? tg__binary(TG_OP_ADD, c->bgrad, gs[s]) : gs[s];
            if (!c->bgrad) st = tg_last_status() ? tg_last_status() : TG_ERR_INTERNAL;
        }
    }
    for (size_t i = 0; i < order.n; i++) order.v[i]->bgrad = NULL;
    for (int k = 0; k < nin && !st; k++)
        if (!out_grads[k])
            st = tg_error(TG_ERR_INVALID, "grad: input %d is not reached from the outputs (unused, behind tg_detach, or "
                          "realized before the call with nothing upstream requiring grad)", k);
    for (int k = 0; k < nin; k++) out_grads[k] = st ? NULL : tg_keep(out_grads[k]);
    tg_no_grad_end();
    tg_scope_end();
    free(order.v);
    if (!st) tg__swap_status(before);
    return st;
}
