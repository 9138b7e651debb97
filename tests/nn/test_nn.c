/* nn layers (init, forward), parameter lists, save/load through safetensors,
 * a small training run that must learn, and a 1,000-step loop whose live
 * tensor and buffer counts stay flat.
 * argv[1]: a scratch folder; argv[2]: device (default "ref"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/nn.h>

#include "tap.h"

static tg_dev *dev;
static char scratch[4096];
static const char *devname;

static double *to_host(tg_tensor *t) {
    size_t n = (size_t)tg_tensor_numel(t);
    double *d = calloc(n ? n : 1, sizeof *d);
    if (tg_to_f64(t, d, n) != TG_OK) {
        free(d);
        return NULL;
    }
    return d;
}

static int shape_is(tg_tensor *t, int ndim, const int64_t *shape) {
    return t && tg_tensor_ndim(t) == ndim && memcmp(tg_tensor_shape(t), shape, (size_t)ndim * 8) == 0;
}

/* Every value in [-bound, bound), spread over it (min and max near the
 * ends, mean near 0), and not all equal. */
static int looks_uniform(const double *v, size_t n, double bound) {
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= -bound && v[i] < bound)) return 0;
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
        sum += v[i];
    }
    return lo < -0.8 * bound && hi > 0.8 * bound && fabs(sum / (double)n) < 0.2 * bound;
}

static void test_linear(void) {
    tg_nn_linear *a = NULL, *b = NULL, *c = NULL;
    tg_status st = tg_nn_linear_create(dev, TG_FLOAT32, 20, 7, true, 42, &a);
    tap_ok(st == TG_OK, "linear 20->7 created %s", st ? tg_last_error() : "");
    if (st) return;
    tg_nn_linear_create(dev, TG_FLOAT32, 20, 7, true, 42, &b);
    tg_nn_linear_create(dev, TG_FLOAT32, 20, 7, false, 43, &c);
    tap_ok(shape_is(a->weight, TG_SHAPE(7, 20)) && shape_is(a->bias, TG_SHAPE(7)), "linear shapes");
    tap_ok(tg_requires_grad(a->weight) && tg_requires_grad(a->bias), "linear parameters require grad");
    tap_ok(c && c->bias == NULL, "bias = false gives no bias");
    double *wa = to_host(a->weight), *wb = to_host(b->weight), *wc = to_host(c->weight), *ba = to_host(a->bias);
    double bound = 1 / sqrt(20.0);
    tap_ok(wa && looks_uniform(wa, 140, bound), "weight uniform in +-1/sqrt(fan_in)");
    int in_range = ba != NULL;
    for (int i = 0; in_range && i < 7; i++) in_range = ba[i] >= -bound && ba[i] < bound;
    tap_ok(in_range, "bias within +-1/sqrt(fan_in)");
    tap_ok(wa && wb && memcmp(wa, wb, 140 * sizeof *wa) == 0, "same seed, same weights");
    tap_ok(wa && wc && memcmp(wa, wc, 140 * sizeof *wa) != 0, "other seed, other weights");
    tap_ok(wa && ba && memcmp(wa, ba, 7 * sizeof *wa) != 0, "weight and bias use different streams");

    /* forward against a host computation from the same weights */
    double xs[3 * 20];
    for (int i = 0; i < 60; i++) xs[i] = sin(i * 0.7);
    tg_scope_begin();
    tg_tensor *x = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(3, 20), xs);
    tg_tensor *y = tg_nn_linear_forward(a, x);
    double *ys = y && shape_is(y, TG_SHAPE(3, 7)) ? to_host(y) : NULL;
    double err = ys ? 0 : INFINITY;
    for (int r = 0; ys && r < 3; r++)
        for (int o = 0; o < 7; o++) {
            double acc = ba[o];
            for (int k = 0; k < 20; k++) acc += (double)(float)xs[r * 20 + k] * wa[o * 20 + k];
            err = fmax(err, fabs(acc - ys[r * 7 + o]));
        }
    tap_ok(err < 1e-5, "linear forward = x @ w^T + b (max error %.3g)", err);
    free(ys);
    tg_scope_end();

    tg_nn_linear *bad = NULL;
    tap_ok(tg_nn_linear_create(dev, TG_FLOAT32, 0, 3, true, 1, &bad) == TG_ERR_INVALID, "zero features refused");
    tap_ok(tg_nn_linear_create(dev, TG_INT32, 2, 3, true, 1, &bad) == TG_ERR_DTYPE, "int parameters refused: %s",
           tg_last_error());
    free(wa);
    free(wb);
    free(wc);
    free(ba);
    tg_nn_linear_destroy(a);
    tg_nn_linear_destroy(b);
    tg_nn_linear_destroy(c);
}

static void test_conv(void) {
    tg_conv_opts opts = {.padding = {1, 1}};
    tg_nn_conv2d *l = NULL;
    tg_status st = tg_nn_conv2d_create(dev, TG_FLOAT32, 3, 4, 3, 3, &opts, true, 7, &l);
    tap_ok(st == TG_OK && shape_is(l->weight, TG_SHAPE(4, 3, 3, 3)) && shape_is(l->bias, TG_SHAPE(4)),
           "conv2d 3->4 3x3: shapes %s", st ? tg_last_error() : "");
    if (st) return;
    double *w = to_host(l->weight);
    tap_ok(w && looks_uniform(w, 108, 1 / sqrt(27.0)), "conv weight uniform in +-1/sqrt(cin*kh*kw)");
    free(w);
    tg_scope_begin();
    tg_tensor *x = tg_randn(dev, TG_FLOAT32, TG_SHAPE(2, 3, 8, 8), 5);
    tg_tensor *y = tg_nn_conv2d_forward(l, x);
    tap_ok(shape_is(y, TG_SHAPE(2, 4, 8, 8)) && tg_realize(y) == TG_OK, "conv forward with padding 1 keeps 8x8");
    tg_scope_end();
    tg_nn_conv2d_destroy(l);

    tg_conv_opts g = {.groups = 3};
    tap_ok(tg_nn_conv2d_create(dev, TG_FLOAT32, 4, 6, 3, 3, &g, true, 1, &l) == TG_ERR_INVALID &&
               strstr(tg_last_error(), "groups"), "groups must divide channels: %s", tg_last_error());
    g.groups = 2;
    st = tg_nn_conv2d_create(dev, TG_FLOAT32, 4, 6, 3, 3, &g, false, 1, &l);
    tap_ok(st == TG_OK && shape_is(l->weight, TG_SHAPE(6, 2, 3, 3)), "grouped conv weight is (6,2,3,3)");
    if (st == TG_OK) tg_nn_conv2d_destroy(l);
}

static void test_save_load(void) {
    tg_nn_linear *a = NULL, *b = NULL, *wrong = NULL;
    tg_nn_conv2d *conv = NULL;
    tg_params *pa = NULL, *pb = NULL, *pw = NULL, *read = NULL;
    tg_nn_linear_create(dev, TG_FLOAT32, 5, 3, true, 1, &a);
    tg_nn_linear_create(dev, TG_FLOAT32, 5, 3, true, 2, &b);
    tg_nn_linear_create(dev, TG_FLOAT32, 5, 4, true, 3, &wrong);
    tg_nn_conv2d_create(dev, TG_FLOAT32, 1, 2, 3, 3, NULL, true, 4, &conv);
    tg_params_create(&pa);
    tg_params_create(&pb);
    tg_params_create(&pw);
    tg_nn_linear_params(a, "fc", pa);
    tg_nn_conv2d_params(conv, "conv", pa);
    tg_nn_linear_params(b, "fc", pb);
    tg_nn_linear_params(wrong, "fc", pw);
    tap_ok(tg_params_count(pa) == 4 && strcmp(tg_params_name(pa, 0), "fc.weight") == 0 &&
               strcmp(tg_params_name(pa, 3), "conv.bias") == 0 && tg_params_numel(pa) == 15 + 3 + 18 + 2,
           "params: torch-style names and counts");
    tap_ok(tg_params_add(pa, "fc.weight", b->weight) == TG_ERR_INVALID, "a duplicate name is refused");

    char path[4200];
    snprintf(path, sizeof path, "%s/nn_params_%s.safetensors", scratch, devname); /* tests run in parallel */
    tg_status st = tg_params_save(pa, path);
    tap_ok(st == TG_OK, "save %s", st ? tg_last_error() : "");
    st = tg_params_read(path, dev, &read);
    int same = st == TG_OK && tg_params_count(read) == 4;
    for (size_t i = 0; same && i < 4; i++) {
        tg_tensor *orig = tg_params_get(pa, i), *back = tg_params_find(read, tg_params_name(pa, i));
        double *x = to_host(orig), *y = back ? to_host(back) : NULL;
        same = x && y && tg_tensor_numel(orig) == tg_tensor_numel(back) &&
               memcmp(x, y, (size_t)tg_tensor_numel(orig) * sizeof *x) == 0;
        free(x);
        free(y);
    }
    tap_ok(same, "read back: same names and values %s", st ? tg_last_error() : "");

    st = tg_params_load(pb, path, true);
    tap_ok(st == TG_ERR_INVALID && strstr(tg_last_error(), "'conv."), "strict load refuses extra tensors: %s",
           tg_last_error());
    double *before = to_host(b->weight);
    st = tg_params_load(pb, path, false);
    double *wa = to_host(a->weight), *wb = to_host(b->weight);
    tap_ok(st == TG_OK && wa && wb && memcmp(wa, wb, 15 * sizeof *wa) == 0 && memcmp(before, wb, 15 * sizeof *wa) != 0,
           "load replaces another model's weights %s", st ? tg_last_error() : "");
    tap_ok(tg_requires_grad(b->weight), "loaded parameters still require grad");
    st = tg_params_load(pw, path, false);
    tap_ok(st == TG_ERR_SHAPE && strstr(tg_last_error(), "(3,5)") && strstr(tg_last_error(), "(4,5)"),
           "a shape mismatch names both shapes: %s", tg_last_error());
    tg_nn_linear *f64 = NULL;
    tg_params *p64 = NULL;
    tg_nn_linear_create(dev, TG_FLOAT64, 5, 3, true, 5, &f64);
    tg_params_create(&p64);
    tg_nn_linear_params(f64, "fc", p64);
    st = tg_params_load(p64, path, false);
    tap_ok(st == TG_ERR_DTYPE && strstr(tg_last_error(), "float32") && strstr(tg_last_error(), "float64"),
           "a dtype mismatch names both dtypes: %s", tg_last_error());
    tg_params_destroy(p64);
    tg_nn_linear_destroy(f64);
    tg_params_add(pb, "missing", b->weight);
    st = tg_params_load(pb, path, false);
    tap_ok(st == TG_ERR_NOT_FOUND && strstr(tg_last_error(), "'missing'"), "a missing tensor is named: %s",
           tg_last_error());
    tap_ok(tg_params_load(pb, "/nonexistent/p.safetensors", false) == TG_ERR_NOT_FOUND, "a missing file is an error");
    remove(path);
    free(before);
    free(wa);
    free(wb);
    tg_params_destroy(read);
    tg_params_destroy(pa);
    tg_params_destroy(pb);
    tg_params_destroy(pw);
    tg_nn_linear_destroy(a);
    tg_nn_linear_destroy(b);
    tg_nn_linear_destroy(wrong);
    tg_nn_conv2d_destroy(conv);
}

/* Three Gaussian blobs in 4-d, 48 points; host-generated, deterministic. */
static void make_blobs(double *x, int32_t *y, int n) {
    uint64_t s = 12345;
    for (int i = 0; i < n; i++) {
        y[i] = i % 3;
        for (int k = 0; k < 4; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            x[i * 4 + k] = u + (k == y[i] ? 1.5 : 0.0);
        }
    }
}

typedef struct model {
    tg_nn_linear *l1, *l2;
    tg_params *params;
    tg_optim *opt;
} model;

static tg_status model_create(model *m, int hidden, tg_optim_opts opts) {
    memset(m, 0, sizeof *m);
    tg_status st = tg_nn_linear_create(dev, TG_FLOAT32, 4, hidden, true, 1, &m->l1);
    if (!st) st = tg_nn_linear_create(dev, TG_FLOAT32, hidden, 3, true, 2, &m->l2);
    if (!st) st = tg_params_create(&m->params);
    if (!st) st = tg_nn_linear_params(m->l1, "l1", m->params);
    if (!st) st = tg_nn_linear_params(m->l2, "l2", m->params);
    if (!st) st = tg_optim_create(m->params, &opts, &m->opt);
    return st;
}

static void model_destroy(model *m) {
    tg_optim_destroy(m->opt);
    tg_params_destroy(m->params);
    tg_nn_linear_destroy(m->l1);
    tg_nn_linear_destroy(m->l2);
}

static tg_status train_step(model *m, tg_tensor *x, tg_tensor *y, double *out_loss) {
    tg_scope_begin();
    tg_optim_zero_grad(m->opt);
    tg_tensor *h = tg_relu(tg_nn_linear_forward(m->l1, x));
    tg_tensor *loss = tg_cross_entropy(tg_nn_linear_forward(m->l2, h), y, 0);
    tg_status st = loss ? tg_backward(loss) : tg_last_status();
    if (st == TG_OK) st = tg_optim_step(m->opt);
    if (st == TG_OK && out_loss) st = tg_item(loss, out_loss);
    tg_scope_end();
    return st;
}

static void test_training(void) {
    double xs[48 * 4];
    int32_t ys[48];
    make_blobs(xs, ys, 48);
    tg_tensor *x = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(48, 4), xs);
    tg_tensor *y = tg_from_data(dev, TG_INT32, TG_SHAPE(48), ys);
    model m;
    tg_status st = model_create(&m, 16, tg_optim_defaults(TG_OPTIM_ADAM, 0.05));
    double first = 0, loss = 0;
    for (int i = 0; st == TG_OK && i < 60; i++) st = train_step(&m, x, y, i == 0 ? &first : &loss);
    tap_ok(st == TG_OK && loss < 0.25 * first, "60 Adam steps: loss %.4f -> %.4f %s", first, loss,
           st ? tg_last_error() : "");
    /* accuracy on the training set */
    int correct = 0;
    tg_scope_begin();
    tg_tensor *pred = tg_argmax(tg_nn_linear_forward(m.l2, tg_relu(tg_nn_linear_forward(m.l1, x))), 1, false);
    int32_t p[48];
    if (pred && tg_to_host(pred, p, sizeof p) == TG_OK)
        for (int i = 0; i < 48; i++) correct += p[i] == ys[i];
    tg_scope_end();
    tap_ok(correct >= 44, "the trained model classifies %d/48 points", correct);
    model_destroy(&m);

    /* 1,000 Adam steps: nothing accumulates, and the step-dependent bias
     * corrections do not make new kernels */
    st = model_create(&m, 8, tg_optim_defaults(TG_OPTIM_ADAMW, 0.01));
    tg_stats s10 = {0}, s500 = {0}, s1000 = {0};
    for (int i = 1; st == TG_OK && i <= 1000; i++) {
        st = train_step(&m, x, y, NULL);
        if (i == 10) tg_stats_get(&s10);
        if (i == 500) tg_stats_get(&s500);
        if (i == 1000) tg_stats_get(&s1000);
    }
    tap_ok(st == TG_OK, "1000 training steps ran %s", st ? tg_last_error() : "");
    tap_ok(st == TG_OK && s10.live_buffers == s1000.live_buffers && s500.live_buffers == s1000.live_buffers,
           "live buffers flat: %lld at step 10, %lld at 500, %lld at 1000", (long long)s10.live_buffers,
           (long long)s500.live_buffers, (long long)s1000.live_buffers);
    tap_ok(st == TG_OK && s10.live_tensors == s1000.live_tensors && s10.live_bytes == s1000.live_bytes,
           "live tensors and bytes flat: %lld/%lld tensors, %lld/%lld bytes", (long long)s10.live_tensors,
           (long long)s1000.live_tensors, (long long)s10.live_bytes, (long long)s1000.live_bytes);
    tap_ok(st == TG_OK && s1000.programs_compiled == s10.programs_compiled,
           "no program compiled after step 10 (%lld then %lld)", (long long)s10.programs_compiled,
           (long long)s1000.programs_compiled);
    model_destroy(&m);
    tg_release(x);
    tg_release(y);
}

int main(int argc, char **argv) {
    snprintf(scratch, sizeof scratch, "%s", argc > 1 ? argv[1] : ".");
    devname = argc > 2 ? argv[2] : "ref";
    tg_status st = tg_device_open(devname, &dev);
    if (st && strcmp(devname, "ref") != 0) { /* a plugin built without its device here */
        tap_skip(tg_last_error());
        return tap_done();
    }
    tap_ok(st == TG_OK, "open device %s %s", devname, st ? tg_last_error() : "");
    if (st) return tap_done();
    test_linear();
    test_conv();
    test_save_load();
    test_training();
    tg_stats s;
    tg_stats_get(&s);
    tap_ok(s.live_tensors == 0, "every tensor released at the end (%lld live)", (long long)s.live_tensors);
    tg_device_close(dev);
    return tap_done();
}
