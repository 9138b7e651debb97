/* Variables (tg_variable, ABI 1.1 kernel arguments): a value that changes
 * between realizes gives the right results and compiles nothing new, on a
 * device that takes arguments (ref) and on one that does not (the core then
 * keeps the value in a 0-d buffer); an optimiser whose learning rate
 * changes every step compiles no program after its first step; bad values
 * and misuse are refused with a message. */
#include <math.h>
#include <string.h>
#include <tg/nn.h>
#include <tg/tg.h>
#include "tap.h"

static tg_dev *dev;

static int64_t compiled(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.programs_compiled;
}

static int64_t launched(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.kernels_launched;
}

static double item(tg_tensor *t) {
    double v = NAN;
    return tg_item(t, &v) == TG_OK ? v : NAN;
}

static void test_values(const char *d) {
    tg_scope_begin();
    float x[4] = {1, 2, 3, 4};
    tg_tensor *a = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(4), x);
    tg_tensor *v = tg_variable(dev, TG_FLOAT32, 1.5);
    int axes[1] = {0};
    /* sum(a * v + v): 10 v + 4 v */
    double first = item(tg_sum(tg_add(tg_mul(a, v), v), 1, axes, false));
    int64_t c0 = compiled();
    int ok = first == 21;
    const double vals[] = {-2, 0.25, 1e30, -0.0, 7};
    for (int i = 0; i < 5; i++) {
        ok &= tg_variable_set(v, vals[i]) == TG_OK;
        double got = item(tg_sum(tg_add(tg_mul(a, v), v), 1, axes, false));
        ok &= got == (double)(float)(14 * (float)vals[i]);
    }
    tap_ok(ok && compiled() == c0, "%s (%s): sum(a*v+v) follows 5 new values of v and compiles nothing new (%g)", d,
           tg_device_caps(dev)->flags & TG_CAP_ARG_VALUES ? "arguments" : "a 0-d buffer", first);

    /* the value is read when the graph is realized, not when it is built */
    tg_tensor *lazy = tg_mul(a, v);
    tg_variable_set(v, 3);
    double l3 = tg_realize(lazy) == TG_OK ? item(tg_sum(lazy, 1, axes, false)) : NAN;
    tap_ok(l3 == 30,
           "%s: a graph built before variable_set reads the new value (%g)", d, l3);

    /* a variable realized on its own, then changed */
    tap_ok(item(v) == 3 && tg_variable_set(v, 5) == TG_OK && item(v) == 5 && item(tg_adds(v, 1)) == 6,
           "%s: a variable realized on its own still follows variable_set", d);

    /* integers: whole values in range only; float16 rounds */
    tg_tensor *iv = tg_variable(dev, TG_INT32, -7);
    int32_t xi[3] = {1, -2, 3};
    tg_tensor *ai = tg_from_data(dev, TG_INT32, TG_SHAPE(3), xi);
    double s = item(tg_sum(tg_mul(ai, iv), 1, axes, false));
    tap_ok(s == -14 && tg_variable_set(iv, 2147483647) == TG_OK &&
               item(tg_max(tg_mul(tg_reshape(iv, TG_SHAPE(1)), tg_ones(dev, TG_INT32, TG_SHAPE(1))), 1, axes, false)) ==
                   2147483647,
           "%s: an int32 variable: -7 then INT32_MAX (%g)", d, s);
    tap_ok(tg_variable_set(iv, 0.5) == TG_ERR_INVALID && strstr(tg_last_error(), "int32"),
           "%s: 0.5 into an int32 variable is refused: %s", d, tg_last_error());
    tap_ok(tg_variable_set(iv, 4294967296.0) == TG_ERR_INVALID, "%s: 2^32 into an int32 variable is refused", d);
    tg_clear_error();
    tap_ok(tg_variable_set(a, 1) == TG_ERR_INVALID && strstr(tg_last_error(), "tg_variable"),
           "%s: variable_set on a tensor that is not a variable is refused: %s", d, tg_last_error());
    tap_ok(tg_variable_set(NULL, 1) == TG_ERR_INVALID, "%s: variable_set(NULL) is refused", d);
    tg_clear_error();
    tg_scope_end();
}

/* Constants are exact for every dtype: int64 and uint64 past 2^53. */
static void test_exact(const char *d) {
    tg_scope_begin();
    tg_tensor *big = tg_full_scalar(dev, TG_INT64, TG_SHAPE(2), (tg_scalar){.i = ((int64_t)1 << 60) + 1});
    int64_t one[2] = {1, -3}, got[2] = {0};
    tg_tensor *sum = tg_add(big, tg_from_data(dev, TG_INT64, TG_SHAPE(2), one));
    tg_status st = tg_to_host(sum, got, sizeof got);
    tap_ok(st == TG_OK && got[0] == ((int64_t)1 << 60) + 2 && got[1] == ((int64_t)1 << 60) - 2,
           "%s: 2^60+1 (int64) + {1, -3} is exact: %lld %lld", d, (long long)got[0], (long long)got[1]);
    uint64_t u = 0;
    tap_ok(tg_to_host(tg_full_scalar(dev, TG_UINT64, 0, NULL, (tg_scalar){.u = UINT64_MAX}), &u, 8) == TG_OK &&
               u == UINT64_MAX,
           "%s: a uint64 constant 2^64-1 is exact", d);
    tap_ok(!tg_full_scalar(dev, TG_INT8, 0, NULL, (tg_scalar){.i = 300}) && tg_last_status() == TG_ERR_INVALID &&
               strstr(tg_last_error(), "int8"),
           "%s: 300 as an int8 constant is refused: %s", d, tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* loss = sum(w * x): grad = x, so plain SGD gives w = w0 - x * sum(lr). */
static void test_schedule(const char *d, tg_optim_kind kind) {
    tg_scope_begin();
    float w0[3] = {1, -1, 0.5f}, xs[3] = {2, 3, -4};
    tg_tensor *w = tg_keep(tg_from_data(dev, TG_FLOAT32, TG_SHAPE(3), w0));
    tg_tensor *x = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(3), xs);
    tg_set_requires_grad(w, true);
    tg_params *ps = NULL;
    tg_optim *opt = NULL;
    tg_params_create(&ps);
    tg_params_add(ps, "w", w);
    tg_optim_opts o = tg_optim_defaults(kind, 0.1);
    int ok = tg_optim_create(ps, &o, &opt) == TG_OK;
    int axes[1] = {0};
    int64_t after_first = 0, step_kernels = -1;
    double lr_sum = 0;
    for (int step = 0; ok && step < 8; step++) {
        double lr = 0.1 / (step + 1);
        lr_sum += (double)(float)lr;
        ok &= tg_optim_set_lr(opt, lr) == TG_OK;
        tg_optim_zero_grad(opt);
        tg_scope_begin();
        ok &= tg_backward(tg_sum(tg_mul(w, x), 1, axes, false)) == TG_OK;
        int64_t k0 = launched();
        ok &= tg_optim_step(opt) == TG_OK;
        step_kernels = launched() - k0;
        tg_scope_end();
        if (step == 0) after_first = compiled();
    }
    double got[3] = {0};
    ok &= tg_to_f64(w, got, 3) == TG_OK;
    if (kind == TG_OPTIM_SGD)
        for (int i = 0; i < 3; i++) ok &= fabs(got[i] - (w0[i] - xs[i] * lr_sum)) < 1e-5;
    else /* Adam's first steps move each weight by about lr against the sign of its gradient */
        for (int i = 0; i < 3; i++) ok &= fabs(got[i] - (w0[i] - (xs[i] > 0 ? 1 : -1) * lr_sum)) < 1e-3;
    tap_ok(ok && compiled() == after_first, "%s: %s with a new learning rate every step: right weights "
           "(%.5f %.5f %.5f), no program compiled after step 1 (%lld)", d, kind == TG_OPTIM_SGD ? "SGD" : "Adam",
           got[0], got[1], got[2], (long long)(compiled() - after_first));
    /* SGD: p - lr*g; Adam: m, v and p from g, m, v, p: one kernel with three
     * STOREs where the device fuses outputs (was three kernels) */
    bool multi = tg_device_caps(dev)->fusion & TG_FUSE_MULTI_OUTPUT;
    tap_ok(step_kernels == (multi || kind == TG_OPTIM_SGD ? 1 : 3), "%s: %s updates one parameter in %lld kernel(s)",
           d, kind == TG_OPTIM_SGD ? "SGD" : "Adam", (long long)step_kernels);
    tg_optim_destroy(opt);
    tg_params_destroy(ps);
    tg_release(w);
    tg_scope_end();
}

int main(void) {
    const char *names[] = {"ref", "cpu", "vulkan"};
    for (int p = 0; p < 3; p++) {
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        test_values(names[p]);
        test_exact(names[p]);
        test_schedule(names[p], TG_OPTIM_SGD);
        test_schedule(names[p], TG_OPTIM_ADAM);
        tg_device_close(dev);
    }
    return tap_done();
}
