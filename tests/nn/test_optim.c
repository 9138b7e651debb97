/* Optimisers against trajectories computed by numpy (tests/nn/gen_golden.py)
 * and against a hand-written first step; hyper-parameter checks; skipped
 * parameters. argv[1]: the golden folder; argv[2]: device (default "ref"). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <tg/nn.h>

#include "tap.h"

static const tg_safetensors_entry *golden;
static size_t golden_count;

static const double *gold(const char *name, size_t numel) {
    const tg_safetensors_entry *e = tg_safetensors_find(golden, golden_count, name);
    if (!e || e->dtype != TG_FLOAT64 || e->nbytes != numel * sizeof(double)) return NULL;
    return e->data;
}

/* sum(0.5 * w * p^2 + c * p): grad = w*p + c. */
static tg_tensor *loss_of(tg_tensor *p, tg_tensor *w, tg_tensor *c) {
    tg_tensor *q = tg_mul(tg_muls(tg_square(p), 0.5), w);
    return tg_sum(tg_add(q, tg_mul(c, p)), TG_ALL_AXES, false);
}

static double max_err(const double *a, const double *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs(a[i] - b[i]));
    return e;
}

typedef struct config {
    const char *name;
    tg_optim_opts opts;
} config;

static void run_config(tg_dev *dev, const config *cfg) {
    const double *p0 = gold("p0", 6), *w0 = gold("w", 6), *c0 = gold("c", 6), *want = gold(cfg->name, 30);
    if (!p0 || !w0 || !c0 || !want) {
        tap_ok(0, "%s: golden data present", cfg->name);
        return;
    }
    tg_tensor *p = tg_from_f64(dev, TG_FLOAT64, TG_SHAPE(2, 3), p0);
    tg_tensor *w = tg_from_f64(dev, TG_FLOAT64, TG_SHAPE(2, 3), w0);
    tg_tensor *c = tg_from_f64(dev, TG_FLOAT64, TG_SHAPE(2, 3), c0);
    tg_params *params = NULL;
    tg_optim *opt = NULL;
    tg_status st = p && w && c ? tg_set_requires_grad(p, true) : tg_last_status();
    if (st == TG_OK) st = tg_params_create(&params);
    if (st == TG_OK) st = tg_params_add(params, "p", p);
    if (st == TG_OK) st = tg_optim_create(params, &cfg->opts, &opt);
    double err = INFINITY;
    for (int step = 0; st == TG_OK && step < 5; step++) {
        tg_scope_begin();
        tg_optim_zero_grad(opt);
        tg_tensor *loss = loss_of(p, w, c);
        st = loss ? tg_backward(loss) : tg_last_status();
        if (st == TG_OK) st = tg_optim_step(opt);
        tg_scope_end();
        double got[6];
        if (st == TG_OK) st = tg_to_f64(p, got, 6);
        if (st == TG_OK) err = step ? fmax(err, max_err(got, want + 6 * step, 6)) : max_err(got, want, 6);
    }
    tap_ok(st == TG_OK && err < 1e-12, "%s: 5 steps match numpy (max error %.3g) %s", cfg->name, err,
           st ? tg_last_error() : "");
    tap_ok(st == TG_OK && tg_optim_steps(opt) == 5, "%s: step count", cfg->name);
    tg_optim_destroy(opt);
    tg_params_destroy(params);
    tg_release(p);
    tg_release(w);
    tg_release(c);
}

/* One SGD step written out by hand: p1 = p0 - lr * (w*p0 + c). */
static void test_hand_step(tg_dev *dev) {
    const double p0[3] = {1.0, -2.0, 0.5}, w0[3] = {2.0, 1.0, 4.0}, c0[3] = {0.5, 0.0, -1.0};
    const double lr = 0.25;
    double want[3];
    for (int i = 0; i < 3; i++) want[i] = p0[i] - lr * (w0[i] * p0[i] + c0[i]);
    tg_tensor *p = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(3), p0);
    tg_tensor *w = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(3), w0);
    tg_tensor *c = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(3), c0);
    tg_tensor *frozen = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(3), p0); /* requires grad, gets none */
    tg_params *params = NULL;
    tg_optim *opt = NULL;
    tg_set_requires_grad(p, true);
    tg_set_requires_grad(frozen, true);
    tg_params_create(&params);
    tg_params_add(params, "p", p);
    tg_params_add(params, "frozen", frozen);
    tg_optim_opts o = tg_optim_defaults(TG_OPTIM_SGD, lr);
    tg_status st = tg_optim_create(params, &o, &opt);
    tg_scope_begin();
    tg_tensor *loss = loss_of(p, w, c);
    if (st == TG_OK) st = loss ? tg_backward(loss) : tg_last_status();
    if (st == TG_OK) st = tg_optim_step(opt);
    tg_scope_end();
    double got[3] = {0}, fz[3] = {0};
    if (st == TG_OK) st = tg_to_f64(p, got, 3);
    if (st == TG_OK) st = tg_to_f64(frozen, fz, 3);
    tap_ok(st == TG_OK && max_err(got, want, 3) < 1e-6, "float32 SGD step by hand: %g %g %g (want %g %g %g)",
           got[0], got[1], got[2], want[0], want[1], want[2]);
    tap_ok(st == TG_OK && max_err(fz, p0, 3) == 0, "a parameter without a gradient is left alone");
    tap_ok(tg_tensor_grad(p) != NULL, "step keeps the gradient");
    tg_optim_zero_grad(opt);
    tap_ok(tg_tensor_grad(p) == NULL, "zero_grad forgets it");
    tg_optim_destroy(opt);
    tg_params_destroy(params);
    tg_release(p);
    tg_release(w);
    tg_release(c);
    tg_release(frozen);
}

static void test_bad_opts(tg_dev *dev) {
    tg_tensor *p = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2));
    tg_tensor *ip = tg_zeros(dev, TG_INT32, TG_SHAPE(2));
    tg_params *params = NULL, *iparams = NULL;
    tg_optim *opt = NULL;
    tg_params_create(&params);
    tg_params_add(params, "p", p);
    tg_params_create(&iparams);
    tg_params_add(iparams, "ip", ip);
    tg_optim_opts o = tg_optim_defaults(TG_OPTIM_SGD, -1);
    tap_ok(tg_optim_create(params, &o, &opt) == TG_ERR_INVALID && strstr(tg_last_error(), "lr"),
           "negative lr refused: %s", tg_last_error());
    o = tg_optim_defaults(TG_OPTIM_SGD, 0.1);
    o.nesterov = true;
    tap_ok(tg_optim_create(params, &o, &opt) == TG_ERR_INVALID && strstr(tg_last_error(), "nesterov"),
           "nesterov without momentum refused: %s", tg_last_error());
    o = tg_optim_defaults(TG_OPTIM_ADAM, 0.1);
    o.beta2 = 1.0;
    tap_ok(tg_optim_create(params, &o, &opt) == TG_ERR_INVALID && strstr(tg_last_error(), "beta2"),
           "beta2 = 1 refused: %s", tg_last_error());
    o = tg_optim_defaults(TG_OPTIM_ADAMW, 0.1);
    tap_ok(tg_optim_create(iparams, &o, &opt) == TG_ERR_DTYPE && strstr(tg_last_error(), "'ip'"),
           "an int parameter refused: %s", tg_last_error());
    tap_ok(o.weight_decay == 0.01 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8,
           "AdamW defaults are torch's");
    tg_params_destroy(params);
    tg_params_destroy(iparams);
    tg_release(p);
    tg_release(ip);
}

int main(int argc, char **argv) {
    char path[4096];
    snprintf(path, sizeof path, "%s/optim.safetensors", argc > 1 ? argv[1] : "tests/nn/golden");
    const char *devname = argc > 2 ? argv[2] : "ref";
    tg_safetensors_entry *es = NULL;
    tg_status st = tg_safetensors_read(path, &es, &golden_count);
    golden = es;
    tap_ok(st == TG_OK, "read %s %s", path, st ? tg_last_error() : "");
    tg_dev *dev = NULL;
    st = tg_device_open(devname, &dev);
    if (st && strcmp(devname, "ref") != 0) { /* a plugin built without its device here */
        tap_skip(tg_last_error());
        tg_safetensors_free(es, golden_count);
        return tap_done();
    }
    tap_ok(st == TG_OK, "open device %s %s", devname, st ? tg_last_error() : "");
    if (st) return tap_done();

    config cfgs[6];
    cfgs[0] = (config){"sgd", tg_optim_defaults(TG_OPTIM_SGD, 0.1)};
    cfgs[1] = (config){"sgd_momentum", tg_optim_defaults(TG_OPTIM_SGD, 0.1)};
    cfgs[1].opts.momentum = 0.9;
    cfgs[1].opts.dampening = 0.1;
    cfgs[1].opts.weight_decay = 0.01;
    cfgs[2] = (config){"sgd_nesterov", tg_optim_defaults(TG_OPTIM_SGD, 0.05)};
    cfgs[2].opts.momentum = 0.8;
    cfgs[2].opts.nesterov = true;
    cfgs[2].opts.weight_decay = 0.05;
    cfgs[3] = (config){"adam", tg_optim_defaults(TG_OPTIM_ADAM, 0.05)};
    cfgs[4] = (config){"adam_wd", tg_optim_defaults(TG_OPTIM_ADAM, 0.02)};
    cfgs[4].opts.beta1 = 0.8;
    cfgs[4].opts.beta2 = 0.99;
    cfgs[4].opts.eps = 1e-6;
    cfgs[4].opts.weight_decay = 0.1;
    cfgs[5] = (config){"adamw", tg_optim_defaults(TG_OPTIM_ADAMW, 0.05)};
    cfgs[5].opts.weight_decay = 0.1;
    for (int i = 0; i < 6; i++) run_config(dev, &cfgs[i]);
    test_hand_step(dev);
    test_bad_opts(dev);

    tg_device_close(dev);
    tg_safetensors_free(es, golden_count);
    return tap_done();
}
