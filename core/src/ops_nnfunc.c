/* Functional neural-network ops: softmax, log_softmax, losses, layernorm,
 * batchnorm, embedding, dropout, scaled dot-product attention. */
#include <math.h>
#include "tensor_internal.h"

static tg_tensor *need_float(const char *op, tg_tensor *x) {
    if (!x) return tg__null_arg(op);
    if (!tg_dtype_is_float(x->dtype)) return tg__fail(TG_ERR_DTYPE, "%s: needs a float dtype, not %s", op, tg_dtype_name(x->dtype));
    return x;
}

tg_tensor *tg_softmax(tg_tensor *x, int axis) {
    if (!need_float("softmax", x)) return NULL;
    OP_BEGIN;
    tg_tensor *e = tg_exp(tg_sub(x, tg_detach(tg__max(x, 1, &axis, true))));
    OP_END(tg_div(e, tg_sum(e, 1, &axis, true)));
}

tg_tensor *tg_log_softmax(tg_tensor *x, int axis) {
    if (!need_float("log_softmax", x)) return NULL;
    OP_BEGIN;
    tg_tensor *z = tg_sub(x, tg_detach(tg__max(x, 1, &axis, true)));
    OP_END(tg_sub(z, tg_log(tg_sum(tg_exp(z), 1, &axis, true))));
}

/* idx (any shape) integer classes -> bool one-hot idx.shape + (C). */
static tg_tensor *one_hot(tg_tensor *idx, int64_t C) {
    tg_tensor *ar = tg_arange(idx->dev, TG_INT32, 0, (double)C, 1);
    return tg_eq(tg_unsqueeze(tg_cast(idx, TG_INT32), -1), ar);
}

/* -sum(logp[i, target[i]]) / N: the other classes are not read (a -inf or
 * NaN there does not reach the loss). */
static tg_tensor *pick_mean(tg_tensor *logp, tg_tensor *target) {
    if (!logp) return NULL;
    tg_tensor *picked = tg_where(one_hot(target, logp->shape[1]), logp, tg__const_like(logp, 0));
    return tg_divs(tg_neg(tg_sum(picked, TG_ALL_AXES, false)), (double)logp->shape[0]);
}

static bool check_targets(const char *op, tg_tensor *x, tg_tensor *t) {
    char sa[128], sb[128];
    if (x->ndim != 2 || t->ndim != 1 || t->shape[0] != x->shape[0]) {
        tg__fail(TG_ERR_SHAPE, "%s: input %s (needs N,C) and target %s (needs N) do not match", op,
                 tg__shape_str(x, sa, sizeof sa), tg__shape_str(t, sb, sizeof sb));
        return false;
    }
    if (tg_dtype_is_float(t->dtype) || t->dtype == TG_BOOL) {
        tg__fail(TG_ERR_DTYPE, "%s: target must be an integer dtype, not %s", op, tg_dtype_name(t->dtype));
        return false;
    }
    return tg__check_index(op, t, x->shape[1]) == TG_OK;
}

tg_tensor *tg_nll(tg_tensor *logp, tg_tensor *target) {
    if (!need_float("nll", logp) || !target) return tg__null_arg("nll");
    if (!check_targets("nll", logp, target)) return NULL;
    OP_BEGIN;
    OP_END(pick_mean(logp, target));
}

tg_tensor *tg_cross_entropy(tg_tensor *logits, tg_tensor *target, double ls) {
    if (!need_float("cross_entropy", logits) || !target) return tg__null_arg("cross_entropy");
    if (!check_targets("cross_entropy", logits, target)) return NULL;
    OP_BEGIN;
    int64_t C = logits->shape[1];
    tg_tensor *logp = tg_log_softmax(logits, 1);
    if (ls == 0) OP_END(pick_mean(logp, target));
    tg_tensor *w = tg_adds(tg_muls(tg_cast(one_hot(target, C), logits->dtype), 1 - ls), ls / (double)C);
    OP_END(tg_divs(tg_neg(tg_sum(tg_mul(logp, w), TG_ALL_AXES, false)), (double)logits->shape[0]));
}

tg_tensor *tg_mse(tg_tensor *a, tg_tensor *b) {
    if (!a || !b) return tg__null_arg("mse");
    OP_BEGIN;
    OP_END(tg_mean(tg_square(tg_sub(a, b)), TG_ALL_AXES, false));
}

tg_tensor *tg_layernorm(tg_tensor *x, int naxes, tg_tensor *w, tg_tensor *b, double eps) {
    if (!need_float("layernorm", x)) return NULL;
    if (naxes < 1 || naxes > x->ndim)
        return tg__fail(TG_ERR_SHAPE, "layernorm: %d normalised axes for %d dims", naxes, x->ndim);
    int axes[TG_MAX_DIMS];
    for (int i = 0; i < naxes; i++) axes[i] = x->ndim - naxes + i;
    OP_BEGIN;
    tg_tensor *c = tg_sub(x, tg_mean(x, naxes, axes, true));
    tg_tensor *r = tg_mul(c, tg_rsqrt(tg_adds(tg_mean(tg_square(c), naxes, axes, true), eps)));
    if (w) r = tg_mul(r, w);
    if (b) r = tg_add(r, b);
    OP_END(r);
}

tg_tensor *tg_batchnorm(tg_tensor *x, tg_tensor *w, tg_tensor *b, tg_tensor *rm, tg_tensor *rv, bool training,
                        double momentum, double eps) {
    if (!need_float("batchnorm", x)) return NULL;
    if (x->ndim < 2) return tg__fail(TG_ERR_SHAPE, "batchnorm: input needs (N, C, ...), has %d dims", x->ndim);
    int axes[TG_MAX_DIMS], na = 0;
    int64_t bshape[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        if (d != 1) axes[na++] = d;
        bshape[d] = d == 1 ? x->shape[1] : 1;
    }
    OP_BEGIN;
    tg_tensor *mean, *var;
    if (training) {
        mean = tg_mean(x, na, axes, true);
        var = tg_mean(tg_square(tg_sub(x, mean)), na, axes, true);
        if (rm && rv) {
            int64_t n = tg__numel(x->ndim, x->shape) / x->shape[1];
            tg_no_grad_begin();
            tg_tensor *m1 = tg_reshape(tg_detach(mean), 1, &x->shape[1]);
            tg_tensor *v1 = tg_muls(tg_reshape(tg_detach(var), 1, &x->shape[1]), n > 1 ? (double)n / (double)(n - 1) : 1);
            tg_status st = tg_assign(rm, tg_add(tg_muls(rm, 1 - momentum), tg_muls(m1, momentum)));
            if (!st) st = tg_assign(rv, tg_add(tg_muls(rv, 1 - momentum), tg_muls(v1, momentum)));
            tg_no_grad_end();
            if (st) OP_END(NULL);
        }
    } else {
        if (!rm || !rv) OP_END(tg__fail(TG_ERR_INVALID, "batchnorm: eval mode needs running_mean and running_var"));
        mean = tg_reshape(rm, x->ndim, bshape);
        var = tg_reshape(rv, x->ndim, bshape);
    }
    tg_tensor *r = tg_mul(tg_sub(x, mean), tg_rsqrt(tg_adds(var, eps)));
    if (w) r = tg_mul(r, tg_reshape(w, x->ndim, bshape));
    if (b) r = tg_add(r, tg_reshape(b, x->ndim, bshape));
    OP_END(r);
}

/* The rows picked by WHERE from a one-hot (idx.shape + (V, 1)) against the
 * table and summed over V: other rows are never multiplied, so an inf in
 * the table reaches only the rows that hold it. */
tg_tensor *tg_embedding(tg_tensor *weight, tg_tensor *idx) {
    char sa[128];
    if (!weight || !idx) return tg__null_arg("embedding");
    if (weight->ndim != 2) return tg__fail(TG_ERR_SHAPE, "embedding: weight %s needs (V, D)", tg__shape_str(weight, sa, sizeof sa));
    if (tg_dtype_is_float(idx->dtype) || idx->dtype == TG_BOOL)
        return tg__fail(TG_ERR_DTYPE, "embedding: index must be an integer dtype, not %s", tg_dtype_name(idx->dtype));
    if (idx->ndim >= TG_MAX_DIMS - 1)
        return tg__fail(TG_ERR_SHAPE, "embedding: index %s has more than %d dims", tg__shape_str(idx, sa, sizeof sa),
                        TG_MAX_DIMS - 2);
    if (tg__check_index("embedding", idx, weight->shape[0]) != TG_OK) return NULL;
    OP_BEGIN;
    tg_tensor *oh = tg_unsqueeze(one_hot(idx, weight->shape[0]), -1);
    int axis = -2;
    OP_END(tg_sum(tg_where(oh, weight, tg__const_like(weight, 0)), 1, &axis, false));
}

tg_tensor *tg_dropout(tg_tensor *x, double p, uint64_t seed) {
    if (!need_float("dropout", x)) return NULL;
    if (p < 0 || p >= 1) {
        if (p == 1) return tg_zeros_like(x);
        return tg__fail(TG_ERR_INVALID, "dropout: p = %g outside [0, 1]", p);
    }
    OP_BEGIN;
    if (p == 0) OP_END(tg__ref(x));
    tg_tensor *u = tg_rand(x->dev, TG_FLOAT32, x->ndim, x->shape, seed);
    tg_tensor *keep = tg_ge(u, tg__const_like(u, p));
    OP_END(tg_where(keep, tg_muls(x, 1 / (1 - p)), tg__const_like(x, 0)));
}

tg_tensor *tg_sdpa(tg_tensor *q, tg_tensor *k, tg_tensor *v, tg_tensor *mask, bool causal) {
    if (!need_float("sdpa", q) || !k || !v) return tg__null_arg("sdpa");
    OP_BEGIN;
    double scale = 1.0 / sqrt((double)q->shape[q->ndim - 1]);
    tg_tensor *s = tg_muls(tg_matmul(q, tg_transpose(k, -1, -2)), scale);
    tg_tensor *ninf = s ? tg__const_like(s, -INFINITY) : NULL;
    if (mask) s = tg_where(mask, s, ninf);
    if (causal && s) {
        int64_t lq = s->shape[s->ndim - 2], lk = s->shape[s->ndim - 1];
        tg_tensor *i = tg_reshape(tg_arange(q->dev, TG_INT32, 0, (double)lq, 1), TG_SHAPE(lq, 1));
        tg_tensor *j = tg_reshape(tg_arange(q->dev, TG_INT32, 0, (double)lk, 1), TG_SHAPE(1, lk));
        s = tg_where(tg_le(j, i), s, ninf);
    }
    OP_END(tg_matmul(tg_softmax(s, -1), v));
}

tg_tensor *tg_cross_entropy_ex(tg_tensor *logits, tg_tensor *target, double ls, int64_t ignore_index) {
    char sa[128], sb[128];
    if (!need_float("cross_entropy", logits) || !target) return tg__null_arg("cross_entropy");
    int nd = logits->ndim;
    bool match = nd >= 1 && target->ndim == nd - 1 && logits->shape[nd - 1] > 0;
    for (int d = 0; match && d < nd - 1; d++) match = target->shape[d] == logits->shape[d];
    if (!match)
        return tg__fail(TG_ERR_SHAPE, "cross_entropy: logits %s (needs ..., C with C > 0) and target %s (needs ...) do not match",
                        tg__shape_str(logits, sa, sizeof sa), tg__shape_str(target, sb, sizeof sb));
    if (tg_dtype_is_float(target->dtype) || target->dtype == TG_BOOL)
        return tg__fail(TG_ERR_DTYPE, "cross_entropy: target must be an integer dtype, not %s", tg_dtype_name(target->dtype));
    if (!(ls >= 0 && ls <= 1)) return tg__fail(TG_ERR_INVALID, "cross_entropy: label_smoothing %g outside [0, 1]", ls);
    OP_BEGIN;
    int64_t C = logits->shape[nd - 1], flat = -1;
    int axis = 1;
    tg_tensor *t = tg_reshape(target, 1, &flat);
    tg_tensor *valid = tg_ne(t, tg__const_like(t, (double)ignore_index));
    tg_tensor *safe = tg_where(valid, t, tg__const_like(t, 0));
    if (!safe || tg__check_index("cross_entropy", safe, C) != TG_OK) OP_END(NULL);
    tg_tensor *logp = tg_log_softmax(tg_reshape(logits, TG_SHAPE(-1, C)), 1), *oh = one_hot(safe, C);
    tg_tensor *row = ls == 0 ? tg_sum(tg_where(oh, logp, tg__const_like(logp, 0)), 1, &axis, false)
                             : tg_sum(tg_mul(logp, tg_adds(tg_muls(tg_cast(oh, logp->dtype), 1 - ls), ls / (double)C)),
                                      1, &axis, false);
    tg_tensor *total = tg_sum(tg_where(valid, row, tg__const_like(row, 0)), TG_ALL_AXES, false);
    OP_END(tg_div(tg_neg(total), tg_sum(tg_cast(valid, logits->dtype), TG_ALL_AXES, false)));
}

/* Exponential races: sample i wins when p_i / E_i is largest, E_i = -log u_i
 * independent Exp(1) draws, which happens with probability p_i / sum(p). */
tg_tensor *tg_multinomial(tg_tensor *probs, int64_t num_samples, uint64_t seed) {
    char sa[128];
    if (!need_float("multinomial", probs)) return NULL;
    int nd = probs->ndim;
    if (nd < 1 || nd >= TG_MAX_DIMS || probs->shape[nd - 1] < 1 || num_samples < 0)
        return tg__fail(TG_ERR_SHAPE, "multinomial: probs %s (needs ..., n with n >= 1) and %lld samples",
                        tg__shape_str(probs, sa, sizeof sa), (long long)num_samples);
    OP_BEGIN;
    int64_t shape[TG_MAX_DIMS];
    for (int d = 0; d < nd - 1; d++) shape[d] = probs->shape[d];
    shape[nd - 1] = num_samples, shape[nd] = probs->shape[nd - 1];
    int axis = -1;
    tg_tensor *p = tg_cast(probs, TG_FLOAT32);
    tg_tensor *e = tg_neg(tg_log(tg_rand(probs->dev, TG_FLOAT32, nd + 1, shape, seed)));
    tg_tensor *idx = tg_argmax(tg_div(tg_unsqueeze(p, -2), e), -1, false);
    tg_tensor *sum = tg_sum(p, 1, &axis, true);
    tg_tensor *ok = tg_logical_and(tg_ge(tg_min(p, 1, &axis, true), tg__const_like(sum, 0)),
                                   tg_logical_and(tg_lt(tg__const_like(sum, 0), sum), tg_lt(sum, tg__const_like(sum, INFINITY))));
    OP_END(tg_where(ok, idx, tg_cast(tg__const_like(sum, -1), TG_INT32)));
}
