/* Composite cases through the tensor API (tg.h): matmul, conv2d, pooling,
 * softmax, layernorm, cross-entropy, attention and an MLP forward and
 * backward, each run on the plugin and on ref from the same host inputs;
 * and autodiff cases: the gradient of each op on the plugin, checked
 * against ref's gradient and against central finite differences along
 * random directions, on the plugin itself. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/tg.h>
#include <tg/conform.h>

enum { MAXOUT = 6, MAXIN = 3 };

typedef struct comp {
    tg_dev *dev;
    tg_dtype dt;
    uint64_t seed;
    int nin;
    tg_tensor *in[MAXIN]; /* autodiff: the inputs that take gradients */
    int nreq;
    const double *shift[MAXIN]; /* autodiff: added to the inputs (x + h v), or NULL */
    double h;
} comp;

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double *host_values(uint64_t seed, int64_t n, double lo, double hi) {
    double *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    uint64_t s = seed;
    for (int64_t i = 0; d && i < n; i++) d[i] = lo + (hi - lo) * ((double)(mix(&s) >> 11) * 0x1p-53);
    return d;
}

/* A new input tensor with values in [lo, hi) from the case's seed. */
static tg_tensor *input(comp *x, int ndim, const int64_t *shape, double lo, double hi) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    int k = x->nin++;
    double *d = host_values(x->seed * 7919 + (uint64_t)k * 104729, n, lo, hi);
    if (!d) return NULL;
    if (k < MAXIN && x->shift[k])
        for (int64_t i = 0; i < n; i++) d[i] += x->h * x->shift[k][i];
    tg_tensor *t = tg_from_f64(x->dev, x->dt, ndim, shape, d);
    free(d);
    return t;
}

/* An input that takes a gradient (autodiff). */
static tg_tensor *param(comp *x, int ndim, const int64_t *shape, double lo, double hi) {
    tg_tensor *t = input(x, ndim, shape, lo, hi);
    if (t && x->nreq < MAXIN) {
        tg_set_requires_grad(t, true);
        x->in[x->nreq++] = t;
    }
    return t;
}

static tg_tensor *targets(comp *x, int64_t n, int classes) {
    double d[64];
    uint64_t s = x->seed + 99;
    for (int64_t i = 0; i < n && i < 64; i++) d[i] = (double)(mix(&s) % (uint64_t)classes);
    return tg_from_f64(x->dev, TG_INT32, 1, (int64_t[]){n}, d);
}

/* ------------------------------------------------------ composites */

typedef int (*comp_fn)(comp *x, tg_tensor **out);

static int c_matmul(comp *x, tg_tensor **out) {
    out[0] = tg_matmul(input(x, TG_SHAPE(7, 13), -1, 1), input(x, TG_SHAPE(13, 5), -1, 1));
    out[1] = tg_matmul(input(x, TG_SHAPE(2, 3, 4), -1, 1), input(x, TG_SHAPE(4, 5), -1, 1));
    return 2;
}

static int c_conv2d(comp *x, tg_tensor **out) {
    tg_conv_opts pad = {.padding = {1, 1}}, strided = {.stride = {2, 2}, .padding = {1, 0}, .dilation = {1, 2}};
    tg_conv_opts grouped = {.groups = 2};
    tg_tensor *img = input(x, TG_SHAPE(2, 3, 7, 7), -1, 1);
    out[0] = tg_conv2d(img, input(x, TG_SHAPE(4, 3, 3, 3), -1, 1), input(x, TG_SHAPE(4), -1, 1), &pad);
    out[1] = tg_conv2d(img, input(x, TG_SHAPE(5, 3, 2, 3), -1, 1), NULL, &strided);
    out[2] = tg_conv2d(input(x, TG_SHAPE(1, 4, 6, 6), -1, 1), input(x, TG_SHAPE(6, 2, 3, 3), -1, 1), NULL, &grouped);
    return 3;
}

static int c_pooling(comp *x, tg_tensor **out) {
    tg_tensor *img = input(x, TG_SHAPE(2, 3, 8, 7), -2, 2);
    out[0] = tg_max_pool2d(img, 2, 2, 2, 2, 0, 0);
    out[1] = tg_avg_pool2d(img, 3, 3, 2, 2, 1, 1);
    out[2] = tg_max_pool2d(img, 3, 2, 1, 2, 1, 0);
    return 3;
}

static int c_softmax(comp *x, tg_tensor **out) {
    tg_tensor *v = input(x, TG_SHAPE(5, 11), -4, 4);
    out[0] = tg_softmax(v, 1);
    out[1] = tg_log_softmax(v, 0);
    return 2;
}

static int c_layernorm(comp *x, tg_tensor **out) {
    out[0] = tg_layernorm(input(x, TG_SHAPE(4, 10), -3, 3), 1, input(x, TG_SHAPE(10), 0.5, 1.5),
                          input(x, TG_SHAPE(10), -1, 1), 1e-5);
    return 1;
}

static int c_cross_entropy(comp *x, tg_tensor **out) {
    tg_tensor *logits = input(x, TG_SHAPE(6, 5), -3, 3), *t = targets(x, 6, 5);
    out[0] = tg_cross_entropy(logits, t, 0.0);
    out[1] = tg_cross_entropy(logits, t, 0.1);
    return 2;
}

static int c_attention(comp *x, tg_tensor **out) {
    tg_tensor *q = input(x, TG_SHAPE(2, 4, 8), -1, 1), *k = input(x, TG_SHAPE(2, 5, 8), -1, 1);
    tg_tensor *v = input(x, TG_SHAPE(2, 5, 3), -1, 1);
    out[0] = tg_sdpa(q, k, v, NULL, false);
    out[1] = tg_sdpa(q, input(x, TG_SHAPE(2, 4, 8), -1, 1), input(x, TG_SHAPE(2, 4, 3), -1, 1), NULL, true);
    return 2;
}

/* A two-layer MLP: loss and the gradients of all four parameters. */
static int c_mlp(comp *x, tg_tensor **out) {
    tg_tensor *in = input(x, TG_SHAPE(8, 6), -1, 1);
    tg_tensor *w1 = param(x, TG_SHAPE(10, 6), -0.5, 0.5), *b1 = param(x, TG_SHAPE(10), -0.1, 0.1);
    tg_tensor *w2 = param(x, TG_SHAPE(4, 10), -0.5, 0.5), *b2 = input(x, TG_SHAPE(4), -0.1, 0.1);
    tg_set_requires_grad(b2, true);
    tg_tensor *h = tg_relu(tg_linear(in, w1, b1));
    tg_tensor *loss = tg_cross_entropy(tg_linear(h, w2, b2), targets(x, 8, 4), 0.0);
    if (!loss || tg_backward(loss) != TG_OK) return -1;
    out[0] = loss;
    out[1] = tg_tensor_grad(w1);
    out[2] = tg_tensor_grad(b1);
    out[3] = tg_tensor_grad(w2);
    out[4] = tg_tensor_grad(b2);
    return 5;
}

static const struct { const char *name; comp_fn fn; } composites[] = {
    {"matmul", c_matmul},   {"conv2d", c_conv2d},       {"pooling", c_pooling},
    {"softmax", c_softmax}, {"layernorm", c_layernorm}, {"cross_entropy", c_cross_entropy},
    {"attention", c_attention}, {"mlp_train_step", c_mlp},
};
enum { NCOMP = sizeof composites / sizeof composites[0] };

/* -------------------------------------------------------- autodiff */

/* y = f(inputs); the loss is sum(y * w) for a fixed random w. */
typedef tg_tensor *(*grad_fn)(comp *x);

#define UNARY(fname, call, lo, hi) \
    static tg_tensor *fname(comp *x) { tg_tensor *a = param(x, TG_SHAPE(3, 4), lo, hi); return call; }
#define BINARY(fname, call, lo, hi, blo, bhi)                                                  \
    static tg_tensor *fname(comp *x) {                                                         \
        tg_tensor *a = param(x, TG_SHAPE(3, 4), lo, hi), *b = param(x, TG_SHAPE(3, 4), blo, bhi); \
        return call;                                                                           \
    }
UNARY(g_exp2, tg_exp2(a), -2, 2)
UNARY(g_log2, tg_log2(a), 0.5, 3)
UNARY(g_sqrt, tg_sqrt(a), 0.5, 3)
UNARY(g_recip, tg_recip(a), 0.5, 3)
UNARY(g_neg, tg_neg(a), -2, 2)
UNARY(g_sin, tg_sin(a), -3, 3)
UNARY(g_cast, tg_cast(tg_muls(tg_cast(a, TG_FLOAT64), 3), tg_tensor_dtype(a)), -2, 2)
BINARY(g_add, tg_add(a, b), -2, 2, -2, 2)
BINARY(g_sub, tg_sub(a, b), -2, 2, -2, 2)
BINARY(g_mul, tg_mul(a, b), -2, 2, -2, 2)
BINARY(g_div, tg_div(a, b), -2, 2, 0.5, 3)
BINARY(g_max, tg_maximum(a, b), -2, 2, -2, 2)
UNARY(g_reduce_sum, tg_sum(a, TG_AXES(1), false), -2, 2)
UNARY(g_reduce_max, tg_max(a, TG_AXES(0), false), -2, 2)
UNARY(g_reshape, tg_reshape(tg_permute(a, (const int[]){1, 0}), TG_SHAPE(2, 6)), -2, 2)
UNARY(g_permute, tg_permute(a, (const int[]){1, 0}), -2, 2)
UNARY(g_expand, tg_expand(tg_reshape(a, TG_SHAPE(3, 1, 4)), TG_SHAPE(3, 5, 4)), -2, 2)
UNARY(g_shrink, tg_shrink(a, (const int64_t[]){1, 1}, (const int64_t[]){3, 3}), -2, 2)
UNARY(g_pad, tg_pad(a, (const int64_t[]){1, 2, 0, 1}, 0), -2, 2)
UNARY(g_flip, tg_flip(a, TG_AXES(0, 1)), -2, 2)
UNARY(g_stride, tg_slice(a, 1, 3, -5, -2), -2, 2)

static tg_tensor *g_where(comp *x) {
    tg_tensor *a = param(x, TG_SHAPE(3, 4), -2, 2), *b = param(x, TG_SHAPE(3, 4), -2, 2);
    return tg_where(tg_lt(input(x, TG_SHAPE(3, 4), -1, 1), tg_zeros_like(a)), a, b);
}

/* MOD: both operands; a/b in [2.08, 2.62] keeps trunc(a/b) = 2 away from
 * its jumps, where finite differences would not hold. */
static tg_tensor *g_mod(comp *x) {
    tg_tensor *a = param(x, TG_SHAPE(3, 4), 5, 5.5);
    return tg_mod(a, param(x, TG_SHAPE(3, 4), 2.1, 2.4));
}

static tg_tensor *g_mulacc(comp *x) { /* a*b + c, which the scheduler may fuse */
    tg_tensor *a = param(x, TG_SHAPE(3, 4), -2, 2), *b = param(x, TG_SHAPE(3, 4), -2, 2);
    return tg_add(tg_mul(a, b), param(x, TG_SHAPE(3, 4), -2, 2));
}

static const struct { const char *name; grad_fn fn; } grads[] = {
    {"EXP2", g_exp2},       {"LOG2", g_log2},       {"SQRT", g_sqrt},       {"RECIP", g_recip},
    {"NEG", g_neg},         {"SIN", g_sin},         {"CAST", g_cast},       {"ADD", g_add},
    {"SUB", g_sub},         {"MUL", g_mul},         {"DIV", g_div},         {"MOD", g_mod},
    {"MAX", g_max},         {"WHERE", g_where},     {"MULACC", g_mulacc},   {"REDUCE_SUM", g_reduce_sum},
    {"REDUCE_MAX", g_reduce_max}, {"RESHAPE", g_reshape}, {"PERMUTE", g_permute}, {"EXPAND", g_expand},
    {"SHRINK", g_shrink},   {"PAD", g_pad},         {"FLIP", g_flip},       {"STRIDE", g_stride},
};
enum { NGRAD = sizeof grads / sizeof grads[0] };

/* loss = sum(f(x) * w), w from a fixed seed; NULL on failure. */
static tg_tensor *grad_loss(comp *x, int g) {
    tg_tensor *y = grads[g].fn(x);
    if (!y) return NULL;
    double *w = host_values(x->seed + 555, tg_tensor_numel(y), -1, 1);
    tg_tensor *wt = w ? tg_from_f64(x->dev, tg_tensor_dtype(y), tg_tensor_ndim(y), tg_tensor_shape(y), w) : NULL;
    free(w);
    return tg_sum(tg_mul(y, wt), TG_ALL_AXES, false);
}

/* ----------------------------------------------------------- cases */

tg_status tgc_composite_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    tgc_case c;
    for (int i = 0; i < NCOMP && st == TG_OK; i++)
        for (int d = TG_FLOAT32; d <= TG_FLOAT64 && st == TG_OK; d++) {
            memset(&c, 0, sizeof c);
            c.composite = (uint8_t)(1 + i);
            c.row = TGC_ROW_COMPOSITE;
            c.dtype = (uint8_t)d;
            c.levels = TGC_LEVEL_COMPOSITE | (composites[i].fn == c_mlp ? TGC_LEVEL_AUTODIFF : 0);
            c.seed = 31u + (uint64_t)i;
            snprintf(c.id, sizeof c.id, "composite.%s.%s", composites[i].name, tg_dtype_name((tg_dtype)d));
            st = tgc_catalog_add(cat, &c);
        }
    for (int i = 0; i < NGRAD && st == TG_OK; i++)
        for (int d = TG_FLOAT32; d <= TG_FLOAT64 && st == TG_OK; d++) {
            memset(&c, 0, sizeof c);
            c.composite = (uint8_t)(1 + NCOMP + i);
            c.row = TGC_ROW_AUTODIFF;
            c.dtype = (uint8_t)d;
            c.levels = TGC_LEVEL_AUTODIFF;
            c.seed = 77u + (uint64_t)i;
            snprintf(c.id, sizeof c.id, "grad.%s.%s", grads[i].name, tg_dtype_name((tg_dtype)d));
            st = tgc_catalog_add(cat, &c);
        }
    return st;
}

/* Outputs as doubles; returns the count of outputs or -1 (detail says why). */
static int run_composite(comp *x, int k, double **vals, int64_t *lens, char *detail, size_t cap) {
    tg_tensor *out[MAXOUT] = {0};
    int n = composites[k].fn(x, out);
    for (int i = 0; i < n; i++) {
        lens[i] = out[i] ? tg_tensor_numel(out[i]) : 0;
        vals[i] = out[i] ? malloc((size_t)(lens[i] ? lens[i] : 1) * sizeof(double)) : NULL;
        if (!vals[i] || tg_to_f64(out[i], vals[i], (size_t)lens[i]) != TG_OK) n = -1;
    }
    if (n < 0) snprintf(detail, cap, "%s on %s: %s", composites[k].name, tg_device_name(x->dev), tg_last_error());
    return n;
}

static int close_enough(double a, double e, double rtol, double atol) {
    if (isnan(e) || isnan(a)) return isnan(e) && isnan(a);
    if (isinf(e) || isinf(a)) return a == e;
    return fabs(a - e) <= atol + rtol * fabs(e);
}

static tgc_result judge_composite(const tgc_case *c, tg_dev *plug, tg_dev *ref, char *detail, size_t cap) {
    int k = c->composite - 1, f64 = c->dtype == TG_FLOAT64;
    double *pv[MAXOUT] = {0}, *rv[MAXOUT] = {0};
    int64_t pl[MAXOUT], rl[MAXOUT];
    comp xp = {.dev = plug, .dt = (tg_dtype)c->dtype, .seed = c->seed}, xr = {.dev = ref, .dt = (tg_dtype)c->dtype, .seed = c->seed};
    tgc_result res = TGC_FAIL;
    tg_scope_begin();
    int nr = run_composite(&xr, k, rv, rl, detail, cap);
    int np = nr < 0 ? -1 : run_composite(&xp, k, pv, pl, detail, cap);
    tg_scope_end();
    if (nr >= 0 && np >= 0) {
        double rtol = f64 ? 1e-10 : 1e-4;
        res = TGC_PASS;
        for (int o = 0; o < nr && res == TGC_PASS; o++) {
            double scale = 0;
            for (int64_t i = 0; i < rl[o]; i++) scale = fmax(scale, fabs(rv[o][i]));
            double atol = (f64 ? 1e-12 : 1e-5) * (1 + scale);
            for (int64_t i = 0; i < rl[o] && res == TGC_PASS; i++)
                if (pl[o] != rl[o] || !close_enough(pv[o][i], rv[o][i], rtol, atol)) {
                    res = TGC_FAIL;
                    snprintf(detail, cap,
                             "%s: output %d element %lld: expected %.17g (ref), got %.17g; abs error %.3g, "
                             "allowed %.3g + %.3g * |expected|\n",
                             composites[k].name, o, (long long)i, rv[o][i], pl[o] == rl[o] ? pv[o][i] : NAN,
                             fabs(pv[o][i] - rv[o][i]), atol, rtol);
                }
        }
    }
    for (int o = 0; o < MAXOUT; o++) free(pv[o]), free(rv[o]);
    return res;
}

/* Gradients of case c's inputs on one device: returns 0 and fills g/lens. */
static int gradients(const tgc_case *c, tg_dev *dev, double **g, int64_t *lens, int *nreq, double *loss,
                     char *detail, size_t cap) {
    comp x = {.dev = dev, .dt = (tg_dtype)c->dtype, .seed = c->seed};
    int k = c->composite - 1 - NCOMP, ok = 1;
    tg_scope_begin();
    tg_tensor *l = grad_loss(&x, k);
    if (!l || tg_backward(l) != TG_OK || tg_item(l, loss) != TG_OK) ok = 0;
    for (int i = 0; ok && i < x.nreq; i++) {
        tg_tensor *gt = tg_tensor_grad(x.in[i]);
        lens[i] = tg_tensor_numel(x.in[i]);
        g[i] = malloc((size_t)lens[i] * sizeof(double));
        ok = gt && g[i] && tg_to_f64(gt, g[i], (size_t)lens[i]) == TG_OK;
    }
    *nreq = x.nreq;
    tg_scope_end();
    if (!ok) snprintf(detail, cap, "grad %s on %s: %s", grads[k].name, tg_device_name(dev), tg_last_error());
    return ok ? 0 : -1;
}

/* The loss at x + h*dir (no gradients). */
static int shifted_loss(const tgc_case *c, tg_dev *dev, double h, double *const *dir, double *out) {
    comp x = {.dev = dev, .dt = (tg_dtype)c->dtype, .seed = c->seed, .h = h};
    for (int i = 0; i < MAXIN; i++) x.shift[i] = dir[i];
    tg_no_grad_begin();
    tg_scope_begin();
    tg_tensor *l = grad_loss(&x, c->composite - 1 - NCOMP);
    int ok = l && tg_item(l, out) == TG_OK;
    tg_scope_end();
    tg_no_grad_end();
    return ok ? 0 : -1;
}

static tgc_result judge_grad(const tgc_case *c, tg_dev *plug, tg_dev *ref, char *detail, size_t cap) {
    int k = c->composite - 1 - NCOMP, f64 = c->dtype == TG_FLOAT64, np = 0, nr = 0;
    double *gp[MAXIN] = {0}, *gr[MAXIN] = {0}, *dir[MAXIN] = {0}, lp, lr;
    int64_t lensp[MAXIN], lensr[MAXIN];
    tgc_result res = TGC_FAIL;
    if (gradients(c, ref, gr, lensr, &nr, &lr, detail, cap) != 0 || gradients(c, plug, gp, lensp, &np, &lp, detail, cap) != 0)
        goto done;
    /* 1: the plugin's gradient against ref's */
    double rtol = f64 ? 1e-9 : 1e-4;
    for (int i = 0; i < nr; i++)
        for (int64_t j = 0; j < lensr[i]; j++)
            if (np != nr || lensp[i] != lensr[i] || !close_enough(gp[i][j], gr[i][j], rtol, rtol)) {
                snprintf(detail, cap, "grad %s: input %d element %lld: ref's gradient %.17g, the plugin's %.17g\n",
                         grads[k].name, i, (long long)j, gr[i][j], np == nr && lensp[i] == lensr[i] ? gp[i][j] : NAN);
                goto done;
            }
    /* 2: the directional derivative against central differences */
    for (int trial = 0; trial < 2; trial++) {
        double dd = 0, lo, hi, h = f64 ? 1e-6 : 1e-2;
        for (int i = 0; i < np; i++) {
            free(dir[i]);
            dir[i] = host_values(c->seed * 31 + (uint64_t)(trial * 7 + i), lensp[i], -1, 1);
            for (int64_t j = 0; dir[i] && j < lensp[i]; j++) dd += gp[i][j] * dir[i][j];
        }
        double *nd[MAXIN];
        for (int i = 0; i < MAXIN; i++) nd[i] = dir[i];
        if (shifted_loss(c, plug, h, nd, &hi) != 0 || shifted_loss(c, plug, -h, nd, &lo) != 0) {
            snprintf(detail, cap, "grad %s: evaluating the loss on the plugin failed: %s\n", grads[k].name, tg_last_error());
            goto done;
        }
        double fd = (hi - lo) / (2 * h), tol = (f64 ? 1e-6 : 3e-2) * (1 + fabs(fd));
        if (!(fabs(dd - fd) <= tol)) {
            snprintf(detail, cap,
                     "grad %s: along a random direction the gradient gives %.12g, central differences "
                     "(h = %g) %.12g; allowed %.3g\n",
                     grads[k].name, dd, h, fd, tol);
            goto done;
        }
    }
    res = TGC_PASS;
done:
    for (int i = 0; i < MAXIN; i++) free(gp[i]), free(gr[i]), free(dir[i]);
    return res;
}

tgc_result tgc_composite_run(const tgc_case *c, const tgc_device *plug, const tgc_device *ref, char *detail, size_t cap) {
    detail[0] = '\0';
    if (!(plug->caps.dtypes >> c->dtype & 1) || !(plug->caps.dtypes >> TG_INT32 & 1)) {
        snprintf(detail, cap, "dtypes not in the device's caps");
        return TGC_UNSUPPORTED;
    }
    tg_dev *pd = NULL, *rd = NULL;
    tg_clear_error();
    if (tg_device_open(ref->name, &rd) != TG_OK) {
        snprintf(detail, cap, "cannot open ref through the tensor API: %s", tg_last_error());
        return TGC_FAIL;
    }
    if (tg_device_open(plug->name, &pd) != TG_OK) {
        snprintf(detail, cap, "cannot open the plugin through the tensor API: %s", tg_last_error());
        tg_device_close(rd);
        return TGC_FAIL;
    }
    tgc_result r = c->composite <= NCOMP ? judge_composite(c, pd, rd, detail, cap) : judge_grad(c, pd, rd, detail, cap);
    if (r == TGC_FAIL && tg_last_status() == TG_ERR_UNSUPPORTED) r = TGC_UNSUPPORTED;
    tg_device_close(pd);
    tg_device_close(rd);
    return r;
}
