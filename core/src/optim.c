/* Optimisers: SGD (momentum, nesterov, weight decay), Adam, AdamW. Each
 * step builds the updates lazily with tensor ops, realizes them all in one
 * schedule and assigns them to the parameters and state tensors. */
#include <math.h>
#include <stdlib.h>
#include <tg/nn.h>

struct tg_optim {
    tg_optim_opts o;
    size_t n;
    tg_tensor **params; /* referenced                                     */
    tg_tensor **m;      /* SGD momentum buffer / Adam first moment, or NULL */
    tg_tensor **v;      /* Adam second moment, or NULL                     */
    int64_t *t;         /* per-parameter step count (as torch keeps it)    */
    int64_t steps;
};

tg_optim_opts tg_optim_defaults(tg_optim_kind kind, double lr) {
    tg_optim_opts o = {.kind = kind, .lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    if (kind == TG_OPTIM_ADAMW) o.weight_decay = 0.01;
    return o;
}

static tg_status check_opts(const tg_optim_opts *o) {
    const char *bad = NULL;
    if (o->kind != TG_OPTIM_SGD && o->kind != TG_OPTIM_ADAM && o->kind != TG_OPTIM_ADAMW)
        return tg_error(TG_ERR_INVALID, "tg_optim: unknown kind %d", (int)o->kind);
    if (!(o->lr >= 0 && isfinite(o->lr))) bad = "lr must be finite and >= 0";
    else if (!(o->weight_decay >= 0 && isfinite(o->weight_decay))) bad = "weight_decay must be finite and >= 0";
    else if (o->kind == TG_OPTIM_SGD) {
        if (!(o->momentum >= 0 && o->momentum < INFINITY)) bad = "momentum must be finite and >= 0";
        else if (!(o->dampening >= 0 && o->dampening <= 1)) bad = "dampening must be in [0, 1]";
        else if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
            bad = "nesterov needs momentum > 0 and dampening 0";
    } else {
        if (!(o->beta1 >= 0 && o->beta1 < 1)) bad = "beta1 must be in [0, 1)";
        else if (!(o->beta2 >= 0 && o->beta2 < 1)) bad = "beta2 must be in [0, 1)";
        else if (!(o->eps >= 0 && isfinite(o->eps))) bad = "eps must be finite and >= 0";
    }
    return bad ? tg_error(TG_ERR_INVALID, "tg_optim: %s", bad) : TG_OK;
}

/* A realized zero tensor like p, caller-owned. */
static tg_status zeros_state(tg_tensor *p, tg_tensor **out) {
    tg_status st = TG_OK;
    tg_scope_begin();
    tg_tensor *z = tg_contiguous(tg_zeros_like(p));
    if (!z) st = tg_last_status();
    if (st == TG_OK) st = tg_realize(z);
    *out = st == TG_OK ? tg_retain(z) : NULL;
    tg_scope_end();
    return st;
}

tg_status tg_optim_create(const tg_params *params, const tg_optim_opts *opts, tg_optim **out_optim) {
    if (!params || !opts || !out_optim)
        return tg_error(TG_ERR_INVALID, "tg_optim_create: %s is NULL", !params ? "params" : !opts ? "opts" : "out_optim");
    tg_status st = check_opts(opts);
    if (st) return st;
    size_t n = tg_params_count(params);
    for (size_t i = 0; i < n; i++)
        if (!tg_dtype_is_float(tg_tensor_dtype(tg_params_get(params, i))))
            return tg_error(TG_ERR_DTYPE, "tg_optim_create: parameter '%s' is %s; only float tensors can be optimised",
                            tg_params_name(params, i), tg_dtype_name(tg_tensor_dtype(tg_params_get(params, i))));
    tg_optim *o = calloc(1, sizeof *o);
    size_t cap = n ? n : 1;
    if (o) {
        o->params = calloc(cap, sizeof *o->params);
        o->m = calloc(cap, sizeof *o->m);
        o->v = calloc(cap, sizeof *o->v);
        o->t = calloc(cap, sizeof *o->t);
    }
    if (!o || !o->params || !o->m || !o->v || !o->t) {
        tg_optim_destroy(o);
        return tg_error(TG_ERR_NO_MEMORY, "tg_optim_create: out of memory");
    }
    o->o = *opts;
    o->n = n;
    for (size_t i = 0; i < n; i++) o->params[i] = tg_retain(tg_params_get(params, i));
    bool first_moment = opts->kind != TG_OPTIM_SGD || opts->momentum > 0;
    for (size_t i = 0; st == TG_OK && i < n; i++) {
        if (first_moment) st = zeros_state(o->params[i], &o->m[i]);
        if (st == TG_OK && opts->kind != TG_OPTIM_SGD) st = zeros_state(o->params[i], &o->v[i]);
    }
    if (st) {
        tg_optim_destroy(o);
        return st;
    }
    *out_optim = o;
    return TG_OK;
}

void tg_optim_destroy(tg_optim *optim) {
    if (!optim) return;
    for (size_t i = 0; i < optim->n; i++) {
        tg_release(optim->params[i]);
        if (optim->m && optim->m[i]) tg_release(optim->m[i]);
        if (optim->v && optim->v[i]) tg_release(optim->v[i]);
    }
    free(optim->params);
    free(optim->m);
    free(optim->v);
    free(optim->t);
    free(optim);
}

/* A 0-d tensor holding v, like p. Values that change from step to step
 * (learning rate, bias corrections) are variables, kernel arguments rather
 * than constants, so that every step runs the same compiled programs. */
static tg_tensor *scalar(tg_tensor *p, double v) {
    return tg_variable(tg_tensor_device(p), tg_tensor_dtype(p), v);
}

/* The new values of one parameter and its state; lazy, scope-owned.
 * dst[k] receives src[k]; returns how many pairs, or -1 on error. */
static int update(const tg_optim_opts *o, tg_tensor *p, tg_tensor *g, tg_tensor *m, tg_tensor *v, int64_t t,
                  tg_tensor **dst, tg_tensor **src) {
    int k = 0;
    if (o->kind == TG_OPTIM_SGD) {
        if (o->weight_decay) g = tg_add(g, tg_muls(p, o->weight_decay));
        if (m) {
            tg_tensor *buf = t == 1 ? g : tg_add(tg_muls(m, o->momentum), tg_muls(g, 1 - o->dampening));
            dst[k] = m;
            src[k++] = buf;
            g = o->nesterov ? tg_add(g, tg_muls(buf, o->momentum)) : buf;
        }
        dst[k] = p;
        src[k++] = tg_sub(p, tg_mul(g, scalar(p, o->lr)));
    } else {
        tg_tensor *base = p;
        if (o->kind == TG_OPTIM_ADAMW && o->weight_decay) base = tg_mul(p, scalar(p, 1 - o->lr * o->weight_decay));
        if (o->kind == TG_OPTIM_ADAM && o->weight_decay) g = tg_add(g, tg_muls(p, o->weight_decay));
        tg_tensor *m_new = tg_add(tg_muls(m, o->beta1), tg_muls(g, 1 - o->beta1));
        tg_tensor *v_new = tg_add(tg_muls(v, o->beta2), tg_muls(tg_square(g), 1 - o->beta2));
        double bc1 = 1 - pow(o->beta1, (double)t), bc2_sqrt = sqrt(1 - pow(o->beta2, (double)t));
        tg_tensor *denom = tg_adds(tg_div(tg_sqrt(v_new), scalar(p, bc2_sqrt)), o->eps);
        dst[k] = m;
        src[k++] = m_new;
        dst[k] = v;
        src[k++] = v_new;
        dst[k] = p;
        src[k++] = tg_sub(base, tg_mul(tg_div(m_new, denom), scalar(p, o->lr / bc1)));
    }
    for (int i = 0; i < k; i++)
        if (!src[i]) return -1;
    return k;
}

tg_status tg_optim_step(tg_optim *optim) {
    if (!optim) return tg_error(TG_ERR_INVALID, "tg_optim_step: optim is NULL");
    size_t cap = 3 * optim->n + 1;
    tg_tensor **dst = malloc(cap * sizeof *dst), **src = malloc(cap * sizeof *src);
    if (!dst || !src) {
        free(dst);
        free(src);
        return tg_error(TG_ERR_NO_MEMORY, "tg_optim_step: out of memory");
    }
    tg_status st = TG_OK;
    size_t k = 0;
    tg_scope_begin();
    tg_no_grad_begin();
    for (size_t i = 0; st == TG_OK && i < optim->n; i++) {
        tg_tensor *g = tg_tensor_grad(optim->params[i]);
        if (!g) continue;
        int got = update(&optim->o, optim->params[i], g, optim->m[i], optim->v[i], optim->t[i] + 1, dst + k, src + k);
        if (got < 0) st = tg_last_status() ? tg_last_status() : TG_ERR_INTERNAL;
        else k += (size_t)got;
    }
    if (st == TG_OK) st = tg_realize_many(k, src);
    for (size_t i = 0; st == TG_OK && i < k; i++) st = tg_assign(dst[i], src[i]);
    tg_no_grad_end();
    tg_scope_end();
    free(dst);
    free(src);
    if (st) return st;
    for (size_t i = 0; i < optim->n; i++)
        if (tg_tensor_grad(optim->params[i])) optim->t[i]++;
    optim->steps++;
    return TG_OK;
}

void tg_optim_zero_grad(tg_optim *optim) {
    for (size_t i = 0; optim && i < optim->n; i++) tg_zero_grad(optim->params[i]);
}

tg_status tg_optim_set_lr(tg_optim *optim, double lr) {
    if (!optim) return tg_error(TG_ERR_INVALID, "tg_optim_set_lr: optim is NULL");
    if (!(lr >= 0 && isfinite(lr))) return tg_error(TG_ERR_INVALID, "tg_optim_set_lr: lr must be finite and >= 0");
    optim->o.lr = lr;
    return TG_OK;
}

int64_t tg_optim_steps(const tg_optim *optim) { return optim ? optim->steps : 0; }
