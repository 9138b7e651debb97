/* The judge: compares a plugin's outputs with ref's by the rules of
 * sdk/docs/OPS.md (exact, ULP bounds, accumulation-aware bounds, NaN and
 * signed-zero rules). Operands of the judged node, where a rule needs them,
 * come from a probe kernel run on ref. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build.h"

typedef struct judge_ctx {
    const tgc_case *c;
    void *const *inputs;  /* host buffers of the READ params */
    int op;               /* judged op (TGC_RULE_NODE), -1 for chains */
    tg_dtype src_dt[3];   /* operand dtypes */
    void *probe[3];       /* operand values per point (row-major, stage shape) */
    int nprobe;
    double *sumabs;       /* REDUCE_SUM: sum |x_i| per output point */
    unsigned char *zeros; /* REDUCE_MAX: bit 1 = has +0, bit 2 = has -0 */
    unsigned char *exact; /* REDUCE_SUM: 1 where every partial sum is exact (below) */
    int64_t nreduced;     /* elements per output of a reduction */
} judge_ctx;

static int is_reduce(int op) { return op == TG_OP_REDUCE_SUM || op == TG_OP_REDUCE_MAX; }

/* ULP bound of a float op (SEMANTICS.md's table). */
static int ulp_tol(int op, tg_dtype dt) {
    int half = dt == TG_FLOAT16 || dt == TG_BFLOAT16, f64 = dt == TG_FLOAT64;
    switch (op) {
    case TG_OP_DIV: case TG_OP_RECIP: case TG_OP_SQRT: return half || f64 ? 0 : 2;
    case TG_OP_EXP2: case TG_OP_LOG2: return half ? 1 : 3;
    case TG_OP_SIN: return half ? 1 : 4;
    default: return 0;
    }
}

static int needs_probe(const judge_ctx *j, tg_dtype out) {
    int fl = tg_dtype_is_float(out);
    switch (j->op) {
    case TG_OP_MAX: case TG_OP_REDUCE_MAX: case TG_OP_REDUCE_SUM: case TG_OP_MULACC: case TG_OP_SIN: return fl;
    case TG_OP_EXP2: case TG_OP_LOG2: case TG_OP_SQRT: case TG_OP_RECIP: return fl && ulp_tol(j->op, out) > 0;
    case TG_OP_DIV: return !fl || ulp_tol(j->op, out) > 0;
    case TG_OP_MOD: return !fl;
    case TG_OP_CAST: return tg_dtype_is_float(j->src_dt[0]) && !fl && out != TG_BOOL;
    default: return 0;
    }
}

/* Build the probe: the nodes before the judged one, and a STORE of each of
 * its operands to a contiguous buffer of the stage shape. */
static int build_probe(const tgc_case *c, tgc_case *p, int *param_of_old) {
    int J = c->judge;
    const tg_node *jn = &c->nodes[J];
    if (!is_reduce((int)jn->op) && c->reduce_axes) return -1;
    if (c->nviews + 3 > TGC_MAX_VIEWS) return -1;
    *p = *c;
    p->reduce_axes = 0;
    p->nnodes = 0;
    p->nparams = 0;
    for (int i = 0; i < TGC_MAX_PARAMS; i++) param_of_old[i] = -1;
    for (int i = 0; i < J; i++) {
        tg_node n = c->nodes[i];
        if (n.op == TG_OP_REDUCE_SUM || n.op == TG_OP_REDUCE_MAX || n.op == TG_OP_STORE) return -1;
        if (n.op == TG_OP_LOAD) {
            if (param_of_old[n.buffer] < 0) {
                param_of_old[n.buffer] = (int)p->nparams;
                p->params[p->nparams++] = c->params[n.buffer];
            }
            n.buffer = (uint32_t)param_of_old[n.buffer];
        }
        p->nodes[p->nnodes++] = n;
    }
    for (int k = 0; k < 3 && jn->src[k] >= 0; k++) {
        if (p->nparams >= TGC_MAX_PARAMS) return -1;
        tg_view *v = &p->views[p->nviews];
        memset(v, 0, sizeof *v);
        v->ndim = c->ndim;
        int64_t s = 1;
        for (int d = (int)c->ndim - 1; d >= 0; d--) {
            v->shape[d] = c->shape[d];
            v->strides[d] = s;
            s *= c->shape[d] > 0 ? c->shape[d] : 1;
        }
        tg_dtype dt = (tg_dtype)c->nodes[jn->src[k]].dtype;
        p->params[p->nparams] = (tg_param){.dtype = dt, .access = TG_ACCESS_WRITE, .count = tgc_numel(c->ndim, c->shape)};
        tg_node *st = &p->nodes[p->nnodes++];
        memset(st, 0, sizeof *st);
        st->op = TG_OP_STORE;
        st->dtype = dt;
        st->src[0] = jn->src[k];
        st->src[1] = st->src[2] = -1;
        st->buffer = p->nparams++;
        st->view = p->nviews++;
        st->nviews = 1;
    }
    return 0;
}

static int run_probe(judge_ctx *j, tgc_device *ref, void *const *inputs, char *detail, size_t cap) {
    const tgc_case *c = j->c;
    tgc_case *p = malloc(sizeof *p);
    int old[TGC_MAX_PARAMS];
    if (!p) return -1;
    if (build_probe(c, p, old) != 0) {
        snprintf(detail, cap, "judge: cannot build a probe for node %d", c->judge);
        free(p);
        return -1;
    }
    void *bufs[TGC_MAX_PARAMS] = {0};
    for (int o = 0; o < TGC_MAX_PARAMS; o++)
        if (old[o] >= 0) bufs[old[o]] = inputs[o];
    int first = (int)p->nparams - 1;
    while (first >= 0 && p->params[first].access == TG_ACCESS_WRITE) first--;
    first++;
    int64_t n = tgc_numel(c->ndim, c->shape);
    for (int k = first; k < (int)p->nparams; k++) {
        bufs[k] = calloc((size_t)(n ? n : 1), tg_dtype_size((tg_dtype)p->params[k].dtype));
        j->probe[k - first] = bufs[k];
        j->src_dt[k - first] = (tg_dtype)p->params[k].dtype;
    }
    j->nprobe = (int)p->nparams - first;
    tg_kernel k;
    tgc_case_kernel(p, &k);
    tg_status st = tgc_device_run(ref, &k, bufs);
    free(p);
    if (st != TG_OK) {
        snprintf(detail, cap, "judge: the probe kernel failed on ref: %s", tg_last_error());
        return -1;
    }
    return 0;
}

/* Linear index into out_shape of the output point a full-shape point feeds. */
static int64_t out_linear(const tgc_case *c, int64_t L) {
    int64_t idx[TG_MAX_DIMS], out[TG_MAX_DIMS], o = 0;
    for (int d = (int)c->ndim - 1; d >= 0; d--) {
        idx[d] = c->shape[d] ? L % c->shape[d] : 0;
        L = c->shape[d] ? L / c->shape[d] : 0;
    }
    tgc_b_out_shape(c, out);
    for (uint32_t d = 0; d < c->ndim; d++) o = o * out[d] + ((c->reduce_axes >> d & 1) ? 0 : idx[d]);
    return o;
}

static void reduce_aggregates(judge_ctx *j) {
    const tgc_case *c = j->c;
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int64_t nout = tgc_numel(c->ndim, out), n = tgc_numel(c->ndim, c->shape);
    j->nreduced = nout ? n / (nout ? nout : 1) : 0;
    for (uint32_t d = 0; d < c->ndim; d++)
        if (c->shape[d] == 0 && (c->reduce_axes >> d & 1)) j->nreduced = 0;
    j->sumabs = calloc((size_t)(nout ? nout : 1), sizeof(double));
    j->zeros = calloc((size_t)(nout ? nout : 1), 1);
    j->exact = calloc((size_t)(nout ? nout : 1), 1);
    int *quantum = malloc((size_t)(nout ? nout : 1) * sizeof *quantum);
    if (!j->sumabs || !j->zeros || !j->exact || !quantum) { /* out of memory: judge by the bound alone */
        free(quantum);
        quantum = NULL;
        free(j->exact);
        j->exact = NULL;
        if (!j->sumabs || !j->zeros) return;
    }
    for (int64_t o = 0; quantum && o < nout; o++) quantum[o] = INT32_MAX, j->exact[o] = 1;
    for (int64_t L = 0; L < n; L++) {
        double x = tgc_get(j->probe[0], j->src_dt[0], L);
        int64_t o = out_linear(c, L);
        j->sumabs[o] += fabs(x);
        if (x == 0) j->zeros[o] |= signbit(x) ? 2 : 1;
        if (!quantum) continue;
        if (!isfinite(x)) j->exact[o] = 0;
        else if (x != 0) { /* the weight of x's lowest set bit */
            int e;
            uint64_t m = (uint64_t)ldexp(frexp(fabs(x), &e), 53);
            int q = e - 53 + __builtin_ctzll(m);
            if (q < quantum[o]) quantum[o] = q;
        }
    }
    /* Every value a multiple of 2^q and sum|x_i| <= 2^(q+24) (2^(q+53) for
       float64): every partial sum, in any order, is exact in an accumulator of
       float32 or wider (OPS.md asks at least that), so the result is the exact
       sum rounded once: judged exactly (a dropped element shows). */
    int p = j->src_dt[0] == TG_FLOAT64 ? 53 : 24;
    for (int64_t o = 0; quantum && o < nout; o++)
        if (quantum[o] != INT32_MAX && j->sumabs[o] > ldexp(1.0, quantum[o] + p)) j->exact[o] = 0;
    free(quantum);
}

/* Operands at which OPS.md section 6 makes an op with a ULP tolerance exact:
   +-0 and +-inf (and LOG2(1)). */
static int special_operands(int op, double x, double y) {
    switch (op) {
    case TG_OP_EXP2: case TG_OP_SQRT: case TG_OP_RECIP: case TG_OP_SIN: return x == 0 || isinf(x);
    case TG_OP_LOG2: return x == 0 || isinf(x) || x == 1;
    case TG_OP_DIV: return x == 0 || isinf(x) || y == 0 || isinf(y);
    default: return 0;
    }
}

/* Bits that a selection (LOAD, WHERE of selections) must store at a point
   of its stage, computed from the inputs: movement and WHERE are bit-exact,
   NaN payloads included. Returns 0 where the node is no selection. */
static int moved_bits(const judge_ctx *j, int node, const int64_t *pt, uint64_t *out) {
    const tgc_case *c = j->c;
    const tg_node *n = &c->nodes[node];
    if (n->op == TG_OP_WHERE) {
        uint64_t cond;
        if (!moved_bits(j, n->src[0], pt, &cond)) return 0;
        return moved_bits(j, cond ? n->src[1] : n->src[2], pt, out);
    }
    if (n->op != TG_OP_LOAD || !j->inputs || !j->inputs[n->buffer]) return 0;
    int64_t addr;
    if (!tgc_view_addr(&c->views[n->view], n->nviews, pt, &addr)) {
        *out = 0; /* masked out: zero of the dtype */
        return 1;
    }
    if (addr < 0 || addr >= c->params[n->buffer].count) return 0;
    *out = tgc_bits(j->inputs[n->buffer], (tg_dtype)n->dtype, addr);
    return 1;
}

/* Is output point L (linear in out_shape) with ref value e / plugin value a
 * acceptable under the judged node's rule? */
static int check_node(const judge_ctx *j, tg_dtype dt, int64_t L, uint64_t eb, uint64_t ab, double e, double a) {
    int op = j->op;
    double x = 0, y = 0, z = 0;
    int have = j->nprobe > 0 && !is_reduce(op);
    if (have) x = tgc_get(j->probe[0], j->src_dt[0], L);
    if (have && j->nprobe > 1) y = tgc_get(j->probe[1], j->src_dt[1], L);
    if (have && j->nprobe > 2) z = tgc_get(j->probe[2], j->src_dt[2], L);
    if (!tg_dtype_is_float(dt)) {
        if ((op == TG_OP_DIV || op == TG_OP_MOD) && have && y == 0 && tgc_bits(j->probe[1], j->src_dt[1], L) == 0)
            return 1; /* x / 0: unspecified */
        if (op == TG_OP_CAST && have && dt != TG_BOOL) {
            double t = trunc(x);
            int bits = (int)tg_dtype_size(dt) * 8;
            double lo = tg_dtype_is_signed(dt) ? -ldexp(1, bits - 1) : 0, hi = tg_dtype_is_signed(dt) ? ldexp(1, bits - 1) : ldexp(1, bits);
            if (isnan(t) || t < lo || t >= hi) return 1; /* out of range: unspecified */
        }
        return eb == ab;
    }
    if (op == TG_OP_MULACC && have && !isnan(x * y) && !isinf(x) && !isinf(y)) {
        uint64_t p;
        tgc_set(&p, dt, 0, x * y);
        if (isinf(tgc_get(&p, dt, 0))) return 1; /* a*b overflows the dtype: 1 ulp(a*b) allows anything */
    }
    int en = isnan(e), an = isnan(a);
    if (en || an) return en && an;
    if (op == TG_OP_SIN && have && fabs(x) > 1e4) return fabs(a) <= 1;
    if (op == TG_OP_MULACC && have) {
        double ex = fma(x, y, z);
        if (isinf(e) || isinf(a) || isinf(ex)) return eb == ab;
        double bound = tgc_ulp(dt, ex) + tgc_ulp(dt, x * y) + (dt == TG_FLOAT64 ? 0.5 * tgc_ulp(dt, ex) : 0);
        return fabs(a - ex) <= bound;
    }
    if (op == TG_OP_REDUCE_SUM && j->sumabs) {
        if (isinf(e) || isinf(a)) return eb == ab;
        if (j->exact && j->exact[L]) return eb == ab || (e == 0 && a == 0);
        double u = dt == TG_FLOAT64 ? 0x1p-53 : 0x1p-24, S = j->sumabs[L], n = (double)j->nreduced;
        double bound = n * u * S + 1.5 * tgc_ulp(dt, e) + n * 0x1p-53 * S;
        return fabs(a - e) <= bound;
    }
    if (e == 0 && a == 0 && signbit(e) != signbit(a)) {
        if (op == TG_OP_MAX && have && x == 0 && y == 0 && signbit(x) != signbit(y)) return 1;
        if (op == TG_OP_REDUCE_MAX && j->zeros && j->zeros[L] == 3) return 1;
        return 0;
    }
    if (have && special_operands(op, x, y)) return eb == ab;
    return tgc_ulp_distance(dt, eb, ab) <= (uint64_t)ulp_tol(op, dt);
}

static int check_chain(const tgc_case *c, tg_dtype dt, uint64_t eb, uint64_t ab, double e, double a) {
    if (!tg_dtype_is_float(dt)) return eb == ab;
    if (isnan(e) || isnan(a)) return isnan(e) && isnan(a);
    if (c->tol_ulp == 0) return eb == ab;
    return tgc_ulp_distance(dt, eb, ab) <= c->tol_ulp;
}

static void add(char *detail, size_t cap, const char *fmt, ...) {
    size_t len = strlen(detail);
    if (len >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail + len, cap - len, fmt, ap);
    va_end(ap);
}

static void point_text(char *out, size_t cap, uint32_t ndim, const int64_t *pt) {
    out[0] = '\0';
    snprintf(out, cap, "(");
    for (uint32_t d = 0; d < ndim; d++) snprintf(out + strlen(out), cap - strlen(out), "%s%lld", d ? "," : "", (long long)pt[d]);
    snprintf(out + strlen(out), cap - strlen(out), ")");
}

/* Judge one STORE's buffer. Returns 1 if it passes. */
static int judge_output(const judge_ctx *j, const tg_node *st, const void *exp, const void *act, char *detail, size_t cap) {
    const tgc_case *c = j->c;
    tg_dtype dt = (tg_dtype)c->params[st->buffer].dtype;
    int64_t count = c->params[st->buffer].count, out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int64_t npoints = tgc_numel(c->ndim, out);
    unsigned char *covered = calloc((size_t)(count ? count : 1), 1);
    int64_t bad = 0, first_L = -1, first_addr = -1, first_pt[TG_MAX_DIMS] = {0}, nan_bad = 0, sign_bad = 0;
    uint64_t max_ulp = 0;
    double max_abs = 0;
    int fl = tg_dtype_is_float(dt);
    int node_rule = c->rule == TGC_RULE_NODE && st->src[0] == c->judge;
    int64_t moved_bad = 0;
    for (int64_t L = 0; L < npoints; L++) {
        int64_t pt[TG_MAX_DIMS] = {0}, r = L, addr;
        for (int d = (int)c->ndim - 1; d >= 0; d--) {
            pt[d] = r % out[d];
            r /= out[d];
        }
        if (!tgc_view_addr(&c->views[st->view], st->nviews, pt, &addr) || addr < 0 || addr >= count) continue;
        covered[addr] = 1;
        uint64_t eb = tgc_bits(exp, dt, addr), ab = tgc_bits(act, dt, addr);
        double e = tgc_get(exp, dt, addr), a = tgc_get(act, dt, addr);
        if (fl && !isnan(e) && !isnan(a)) {
            uint64_t u = tgc_ulp_distance(dt, eb, ab);
            if (u > max_ulp) max_ulp = u;
            if (isinf(e) != isinf(a) || (isinf(e) && e != a)) max_abs = INFINITY;
            else if (!isinf(e) && fabs(a - e) > max_abs) max_abs = fabs(a - e);
        }
        uint64_t mb;
        int ok, moved = moved_bits(j, st->src[0], pt, &mb);
        if (moved) moved_bad += !(ok = ab == mb);
        else ok = node_rule ? check_node(j, dt, L, eb, ab, e, a) : check_chain(c, dt, eb, ab, e, a);
        if (!ok && fl) {
            nan_bad += isnan(e) != isnan(a);
            sign_bad += e == 0 && a == 0 && signbit(e) != signbit(a);
        }
        if (!ok && bad++ == 0) {
            first_L = L;
            first_addr = addr;
            memcpy(first_pt, pt, sizeof pt);
        }
    }
    int64_t outside = 0, first_out = -1;
    size_t es = tg_dtype_size(dt);
    for (int64_t i = 0; i < count; i++)
        if (!covered[i] && memcmp((const char *)exp + i * es, (const char *)act + i * es, es)) {
            if (outside++ == 0) first_out = i;
        }
    free(covered);
    if (!bad && !outside) return 1;
    char et[96], at[96], pt[96];
    add(detail, cap, "output buffer %u (%s): %lld of %lld points wrong", st->buffer, tg_dtype_name(dt), (long long)bad, (long long)npoints);
    if (fl) add(detail, cap, "; max error %llu ulp, %.9g absolute", (unsigned long long)max_ulp, max_abs);
    if (nan_bad) add(detail, cap, "; %lld NaN where ref has none or the reverse", (long long)nan_bad);
    if (sign_bad) add(detail, cap, "; %lld zeros of the wrong sign", (long long)sign_bad);
    if (moved_bad) add(detail, cap, "; %lld moved or selected elements not bit for bit the input", (long long)moved_bad);
    add(detail, cap, "\n");
    if (bad) {
        tgc_format(et, sizeof et, exp, dt, first_addr);
        tgc_format(at, sizeof at, act, dt, first_addr);
        point_text(pt, sizeof pt, c->ndim, first_pt);
        add(detail, cap, "  first mismatch at point %s (element %lld): expected %s, got %s\n", pt, (long long)first_addr, et, at);
        if (node_rule && j->nprobe && !is_reduce(j->op)) {
            add(detail, cap, "  operands:");
            for (int k = 0; k < j->nprobe; k++) {
                tgc_format(et, sizeof et, j->probe[k], j->src_dt[k], first_L);
                add(detail, cap, " %s", et);
            }
            add(detail, cap, "\n");
        }
        uint64_t mb;
        if (moved_bits(j, st->src[0], first_pt, &mb)) {
            tgc_format(et, sizeof et, &mb, dt, 0);
            add(detail, cap, "  rule: movement and WHERE are bit for bit (NaN payloads included): input %s\n", et);
        } else if (node_rule && j->sumabs && j->op == TG_OP_REDUCE_SUM && j->exact && j->exact[first_L])
            add(detail, cap, "  rule: exact (integer-valued sum: every partial sum is exact), n = %lld\n", (long long)j->nreduced);
        else if (node_rule && j->sumabs && j->op == TG_OP_REDUCE_SUM)
            add(detail, cap, "  rule: |error| <= n*u*sum|x| + 1 ulp with n = %lld, sum|x| = %.9g\n", (long long)j->nreduced, j->sumabs[first_L]);
        else if (node_rule && fl)
            add(detail, cap, "  rule: %s on %s, %d ulp%s\n", tg_op_name((tg_op)j->op), tg_dtype_name(dt), ulp_tol(j->op, dt),
                ulp_tol(j->op, dt) ? " (exact at the special operands of OPS.md section 6)" : "");
        else if (node_rule)
            add(detail, cap, "  rule: %s on %s, exact\n", tg_op_name((tg_op)j->op), tg_dtype_name(dt));
        else
            add(detail, cap, "  rule: fused chain, %d ulp\n", c->tol_ulp);
    }
    if (outside) {
        tgc_format(et, sizeof et, exp, dt, first_out);
        tgc_format(at, sizeof at, act, dt, first_out);
        add(detail, cap, "  %lld elements outside the stored region changed; first %lld: was %s, now %s\n",
            (long long)outside, (long long)first_out, et, at);
    }
    return 0;
}

int tgc_judge(const tgc_case *c, tgc_device *ref, void *const *inputs, void *const *expected,
              void *const *actual, char *detail, size_t cap) {
    judge_ctx j = {.c = c, .op = -1, .inputs = inputs};
    detail[0] = '\0';
    int verdict = 1;
    if (c->rule == TGC_RULE_NODE) {
        const tg_node *jn = &c->nodes[c->judge];
        j.op = (int)jn->op;
        for (int k = 0; k < 3; k++) j.src_dt[k] = jn->src[k] >= 0 ? (tg_dtype)c->nodes[jn->src[k]].dtype : TG_BOOL;
        if (needs_probe(&j, (tg_dtype)jn->dtype)) {
            if (!ref || run_probe(&j, ref, inputs, detail, cap) != 0) {
                if (!ref) snprintf(detail, cap, "judge: no ref device for the probe");
                verdict = -1;
            } else if (is_reduce(j.op)) {
                reduce_aggregates(&j);
            }
        }
    }
    for (uint32_t i = 0; i < c->nnodes && verdict >= 0; i++) {
        const tg_node *st = &c->nodes[i];
        if (st->op != TG_OP_STORE) continue;
        if (!judge_output(&j, st, expected[st->buffer], actual[st->buffer], detail, cap)) verdict = 0;
    }
    for (int k = 0; k < 3; k++) free(j.probe[k]);
    free(j.sumabs);
    free(j.zeros);
    free(j.exact);
    return verdict;
}
