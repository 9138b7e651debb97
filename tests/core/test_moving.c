/* Moving views (tg_slice_at, tg_assign_at): a slice whose start is an
 * integer tg_variable becomes a kernel view offset the argument moves at
 * launch (ABI 1.1 tg_kernel.offsets). Checked on every plugin that opens,
 * and on ref made to look like a device without argument bounds (the core
 * binds the offset, as for vulkan), like one without arguments at all
 * (the variable lives in a 0-d buffer) and like one that moves views but
 * takes no values (a 0-d buffer whose value moves the view): values against the host for every
 * start, nothing compiled per start where the device takes bounds, one
 * kernel when fused with elementwise work, a start out of range refused at
 * the launch with the op and the value, assign_at leaving the other rows as
 * they were, and the gradient. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <tg/tg.h>
#include "tap.h"

#define R 7 /* rows and columns of the table */
#define C 5

static tg_dev *dev;
static bool bounds; /* the device takes moving views itself */

static tg_stats stats(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s;
}

/* Every element of t equals want[i] (exactly: movement and one add/mul). */
static bool equals(tg_tensor *t, const double *want, size_t n) {
    double got[R * C];
    if (n > R * C || tg_to_f64(t, got, n) != TG_OK) return false;
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i]) return false;
    return true;
}

/* The table x[r][c] = 10 r + c. */
static tg_tensor *table(void) {
    double x[R * C];
    for (int i = 0; i < R * C; i++) x[i] = 10 * (i / C) + i % C;
    return tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(R, C), x);
}

static void test_slice(const char *d) {
    tg_scope_begin();
    tg_tensor *x = table(), *v = tg_variable(dev, TG_INT32, 0);
    tg_realize(x);
    for (int axis = 0; axis < 2; axis++) {
        int64_t dim = axis ? C : R, len = axis ? 2 : 3;
        bool ok = true;
        int64_t c0 = 0;
        for (int64_t s = 0; s <= dim - len && ok; s++) {
            tg_variable_set(v, (double)s);
            double want[R * C];
            int n = 0;
            for (int r = 0; r < (axis ? R : len); r++)
                for (int c = 0; c < (axis ? len : C); c++)
                    want[n++] = axis ? 10 * r + (c + s) : 10 * (r + s) + c;
            ok = equals(tg_slice_at(x, axis, v, len), want, (size_t)n);
            if (s == 0) c0 = stats().programs_compiled;
        }
        int64_t extra = stats().programs_compiled - c0;
        tap_ok(ok && (!bounds || extra == 0), "%s: slice_at(x (%d,%d), axis %d, start, %lld) for every start in [0, %lld] "
               "equals the host's; %lld programs compiled after the first start", d, R, C, axis, (long long)len,
               (long long)(dim - len), (long long)extra);
    }

    /* fused: a view over the moving slice and elementwise work, one kernel */
    tg_variable_set(v, 2);
    tg_tensor *y = tg_adds(tg_muls(tg_transpose(tg_slice_at(x, 0, v, 2), 0, 1), 2), 1);
    int64_t k0 = stats().kernels_launched;
    double want[2 * C];
    for (int c = 0; c < C; c++)
        for (int r = 0; r < 2; r++) want[c * 2 + r] = 2 * (10 * (r + 2) + c) + 1;
    bool ok = equals(y, want, 2 * C);
    int64_t kernels = stats().kernels_launched - k0;
    tap_ok(ok && kernels == 1, "%s: transpose(slice_at(x, 0, 2, 2)) * 2 + 1 is right in %lld kernel(s)", d,
           (long long)kernels);

    /* lazy: a graph built before variable_set reads the value at realize */
    tg_tensor *lazy = tg_slice_at(x, 0, v, 1);
    tg_variable_set(v, 6);
    double row6[C] = {60, 61, 62, 63, 64};
    tap_ok(equals(lazy, row6, C), "%s: a slice built before variable_set(6) reads row 6", d);

    /* out of range at the launch: refused, named, and nothing breaks */
    const double bad[2] = {5, -1};
    for (int i = 0; i < 2; i++) {
        tg_variable_set(v, bad[i]);
        char val[32];
        snprintf(val, sizeof val, "start %g", bad[i]);
        tg_status st = tg_realize(tg_slice_at(x, 0, v, 3));
        tap_ok(st == TG_ERR_INVALID && strstr(tg_last_error(), "slice_at") && strstr(tg_last_error(), val),
               "%s: slice_at(x, 0, %g, 3) of 7 rows is refused: %s", d, bad[i], tg_last_error());
        tg_clear_error();
    }
    tg_variable_set(v, 4);
    double rows46[3 * C];
    for (int i = 0; i < 3 * C; i++) rows46[i] = 10 * (4 + i / C) + i % C;
    tap_ok(equals(tg_slice_at(x, 0, v, 3), rows46, 3 * C), "%s: then start 4 works again", d);

    /* a computed source is read from a buffer of its own */
    tap_ok(equals(tg_slice_at(tg_adds(x, 0), 0, v, 3), rows46, 3 * C), "%s: slice_at of a computed tensor", d);
    tg_scope_end();
}

static void test_assign(const char *d) {
    tg_scope_begin();
    tg_tensor *dst = tg_contiguous(tg_zeros(dev, TG_FLOAT32, TG_SHAPE(R, C)));
    tg_tensor *v = tg_variable(dev, TG_INT32, 0);
    tg_realize(dst);
    double host[R * C] = {0};
    bool ok = true;
    int64_t c0 = 0, k0 = 0, kernels = 0;
    const int order[] = {3, 0, 5, 1, 5}; /* rows of 2, some twice */
    for (int i = 0; i < 5 && ok; i++) {
        int s = order[i];
        double src[2 * C];
        for (int j = 0; j < 2 * C; j++) src[j] = 100 * (i + 1) + j;
        tg_tensor *t = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(2, C), src);
        tg_realize(t);
        tg_variable_set(v, s);
        if (i == 1) c0 = stats().programs_compiled;
        k0 = stats().kernels_launched;
        ok = tg_assign_at(dst, 0, v, tg_muls(t, 2)) == TG_OK; /* the * 2 fused into the store */
        kernels = stats().kernels_launched - k0;
        for (int j = 0; j < 2 * C; j++) host[s * C + j] = 2 * src[j];
        ok = ok && kernels == 1 && equals(dst, host, R * C);
    }
    int64_t extra = stats().programs_compiled - c0;
    tap_ok(ok && (!bounds || extra == 0), "%s: assign_at(dst (7,5), 0, start, src * 2) at starts 3 0 5 1 5: one kernel "
           "each, the other rows untouched; %lld programs compiled after the second", d, (long long)extra);

    /* along the last axis, from a source computed from dst itself */
    tg_variable_set(v, 3);
    tg_status st = tg_assign_at(dst, 1, v, tg_adds(tg_slice(dst, 1, 0, 2, 1), 1));
    double before[R * C];
    memcpy(before, host, sizeof host);
    for (int r = 0; r < R; r++)
        for (int c = 0; c < 2; c++) host[r * C + 3 + c] = before[r * C + c] + 1;
    tap_ok(!st && equals(dst, host, R * C), "%s: assign_at(dst, 1, 3, dst[:, 0:2] + 1) reads dst before it writes", d);

    /* out of range: refused at the call, dst unchanged */
    tg_variable_set(v, 6);
    st = tg_assign_at(dst, 0, v, tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2, C)));
    tap_ok(st == TG_ERR_INVALID && strstr(tg_last_error(), "assign_at") && strstr(tg_last_error(), "start 6") &&
               equals(dst, host, R * C),
           "%s: assign_at of 2 rows at 6 of 7 is refused, dst unchanged: %s", d, tg_last_error());
    tg_clear_error();

    /* a buffer shared by tg_assign is copied first: the other tensor keeps its values */
    tg_tensor *other = tg_contiguous(tg_zeros(dev, TG_FLOAT32, TG_SHAPE(R, C)));
    tg_assign(other, dst);
    tg_variable_set(v, 0);
    st = tg_assign_at(other, 0, v, tg_full(dev, TG_FLOAT32, TG_SHAPE(1, C), -1));
    tap_ok(!st && equals(dst, host, R * C), "%s: assign_at into a tensor sharing dst's buffer leaves dst as it was", d);
    tg_scope_end();
}

static void test_errors(const char *d) {
    tg_scope_begin();
    tg_tensor *x = table();
    tap_ok(!tg_slice_at(x, 0, tg_const(dev, TG_INT32, 1), 2) && strstr(tg_last_error(), "tg_variable"),
           "%s: a constant start is refused: %s", d, tg_last_error());
    tg_clear_error();
    tap_ok(!tg_slice_at(x, 0, tg_variable(dev, TG_FLOAT32, 1), 2) && strstr(tg_last_error(), "integer"),
           "%s: a float start is refused: %s", d, tg_last_error());
    tg_clear_error();
    tap_ok(!tg_slice_at(x, 1, tg_variable(dev, TG_INT32, 0), 6) && tg_last_status() == TG_ERR_SHAPE,
           "%s: length 6 on an axis of 5 is refused: %s", d, tg_last_error());
    tg_clear_error();
    tap_ok(tg_assign_at(x, 0, tg_variable(dev, TG_INT32, 0), tg_zeros(dev, TG_FLOAT32, TG_SHAPE(1, 4))) ==
               TG_ERR_SHAPE,
           "%s: assign_at of a (1,4) into (7,5) along axis 0 is refused: %s", d, tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* d/dx sum(slice_at(x, 0, s, 2) * w) is w in rows s, s+1 and 0 elsewhere. */
static void test_grad(const char *d) {
    tg_scope_begin();
    tg_tensor *x = table(), *v = tg_variable(dev, TG_INT32, 0);
    tg_set_requires_grad(x, true);
    double w[2 * C];
    for (int i = 0; i < 2 * C; i++) w[i] = i + 1;
    tg_tensor *wt = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(2, C), w);
    bool ok = true;
    const int starts[] = {0, 4, 5};
    for (int i = 0; i < 3 && ok; i++) {
        tg_zero_grad(x);
        tg_variable_set(v, starts[i]);
        int axes[2] = {0, 1};
        ok = tg_backward(tg_sum(tg_mul(tg_slice_at(x, 0, v, 2), wt), 2, axes, false)) == TG_OK;
        double want[R * C] = {0};
        for (int j = 0; j < 2 * C; j++) want[starts[i] * C + j] = w[j];
        ok = ok && equals(tg_tensor_grad(x), want, R * C);
    }
    tap_ok(ok, "%s: the gradient of slice_at is g in the rows it read (starts 0, 4, 5), 0 elsewhere", d);
    tg_scope_end();
}

static void run(const char *d) {
    test_slice(d);
    test_assign(d);
    test_errors(d);
    test_grad(d);
}

int main(void) {
    const char *names[] = {"ref", "cpu", "vulkan", "opencl", "cuda"};
    for (int p = 0; p < 5; p++) {
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p < 2) tap_ok(0, "open %s: %s", names[p], tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        bounds = tg_device_caps(dev)->flags & TG_CAP_ARG_BOUNDS;
        run(names[p]);
        if (p == 0) { /* ref as a device without bounds (the core binds them), without arguments, and
                       * with bounds but without values (variables in 0-d buffers, plans kept) */
            tg_caps *caps = (tg_caps *)tg_device_caps(dev), saved = *caps;
            caps->flags &= ~(uint32_t)TG_CAP_ARG_BOUNDS;
            bounds = false;
            run("ref without bounds");
            caps->flags &= ~(uint32_t)TG_CAP_ARG_VALUES;
            run("ref without arguments");
            caps->flags |= TG_CAP_ARG_BOUNDS;
            bounds = true;
            run("ref with bounds, without values");
            *caps = saved;
        }
        tg_device_close(dev);
    }
    return tap_done();
}
