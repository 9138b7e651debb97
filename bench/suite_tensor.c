/* The tensor suite: workloads through the application API (tg.h, nn.h), so
 * the core's scheduling, fusion, program cache and autograd are timed along
 * with the plugin. Names "<plugin>/<class>/tensor_...". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/nn.h>
#include <tg/tg.h>
#include "suites.h"

enum { T_TINY, T_MATMUL, T_MLP, T_CNN };

typedef struct tensor_case {
    const char *plugin;   /* as given: a name or a path (borrowed from the command line) */
    int kind;
    int64_t a, b, c; /* sizes, by kind */
} tensor_case;

static int64_t peak_bytes(int64_t peak) {
    tg_stats s;
    tg_stats_get(&s);
    return s.live_bytes > peak ? s.live_bytes : peak;
}

static void fail(tgb_state *s, const char *what) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", what, tg_last_error());
    tgb_skip(s, msg);
}

/* x + 1 over 16 floats, read back: the core's cost per tiny op. */
static int bm_tiny(tgb_state *s, tg_dev *dev) {
    int64_t n = 16;
    float host[16];
    tg_tensor *x = tg_ones(dev, TG_FLOAT32, 1, &n);
    int ok = x != NULL;
    for (int warm = 1; ok && (warm || tgb_keep_running(s)); warm = 0) { /* an untimed first run compiles */
        tg_tensor *y = tg_adds(x, 1.0);
        ok = y && tg_to_host(y, host, sizeof host) == TG_OK;
        tg_release(y);
    }
    tg_release(x);
    return ok ? 0 : -1;
}

static int bm_matmul(tgb_state *s, tg_dev *dev, int64_t n, int64_t *peak) {
    int64_t shape[2] = {n, n};
    float *host = malloc((size_t)(n * n) * sizeof *host);
    tg_tensor *a = tg_rand(dev, TG_FLOAT32, 2, shape, 1), *b = tg_rand(dev, TG_FLOAT32, 2, shape, 2);
    int ok = host && a && b && tg_realize(a) == TG_OK && tg_realize(b) == TG_OK;
    for (int warm = 1; ok && (warm || tgb_keep_running(s)); warm = 0) {
        tg_tensor *c = tg_matmul(a, b);
        ok = c && tg_to_host(c, host, (size_t)(n * n) * sizeof *host) == TG_OK;
        *peak = peak_bytes(*peak);
        tg_release(c);
    }
    tgb_counter(s, "GFLOP/s", 2.0 * n * n * n * 1e-9, TGB_RATE);
    tg_release(a);
    tg_release(b);
    free(host);
    return ok ? 0 : -1;
}

/* One SGD step of a model on a fixed batch: forward, cross-entropy,
 * backward, update; the loss read back each step. */
static int train_steps(tgb_state *s, tg_tensor *(*fwd)(void *, tg_tensor *), void *net, tg_params *params,
                       tg_tensor *x, tg_tensor *y, int64_t *peak) {
    tg_optim_opts oo = tg_optim_defaults(TG_OPTIM_SGD, 0.01);
    tg_optim *opt = NULL;
    int ok = tg_optim_create(params, &oo, &opt) == TG_OK;
    for (int warm = 1; ok && (warm || tgb_keep_running(s)); warm = 0) {
        double loss_v;
        tg_scope_begin();
        tg_tensor *loss = tg_cross_entropy(fwd(net, x), y, 0);
        tg_optim_zero_grad(opt);
        ok = loss && tg_backward(loss) == TG_OK && tg_optim_step(opt) == TG_OK && tg_item(loss, &loss_v) == TG_OK;
        *peak = peak_bytes(*peak);
        tg_scope_end();
    }
    tg_optim_destroy(opt);
    return ok ? 0 : -1;
}

typedef struct mlp_net {
    tg_nn_linear *l1, *l2;
} mlp_net;

static tg_tensor *mlp_fwd(void *self, tg_tensor *x) {
    mlp_net *m = self;
    return tg_nn_linear_forward(m->l2, tg_relu(tg_nn_linear_forward(m->l1, x)));
}

typedef struct cnn_net {
    tg_nn_conv2d *c1, *c2;
    tg_nn_linear *fc;
    int64_t feat;
} cnn_net;

static tg_tensor *cnn_fwd(void *self, tg_tensor *x) {
    cnn_net *m = self;
    tg_tensor *h = tg_relu(tg_nn_conv2d_forward(m->c1, x));
    h = tg_relu(tg_nn_conv2d_forward(m->c2, h));
    int64_t shape[2] = {tg_tensor_dim(x, 0), m->feat};
    return tg_nn_linear_forward(m->fc, tg_reshape(h, 2, shape));
}

static tg_tensor *labels(tg_dev *dev, int64_t n) {
    int64_t shape[1] = {n};
    int32_t *v = malloc((size_t)n * sizeof *v);
    if (!v) return NULL;
    for (int64_t i = 0; i < n; i++) v[i] = (int32_t)((i * 7) % 10);
    tg_tensor *t = tg_from_data(dev, TG_INT32, 1, shape, v);
    free(v);
    return t;
}

static int bm_mlp(tgb_state *s, tg_dev *dev, int64_t batch, int64_t in, int64_t hid, int64_t *peak) {
    mlp_net m = {0};
    tg_params *params = NULL;
    int64_t xs[2] = {batch, in};
    tg_tensor *x = tg_rand(dev, TG_FLOAT32, 2, xs, 3), *y = labels(dev, batch);
    int ok = x && y && tg_nn_linear_create(dev, TG_FLOAT32, in, hid, true, 1, &m.l1) == TG_OK &&
             tg_nn_linear_create(dev, TG_FLOAT32, hid, 10, true, 2, &m.l2) == TG_OK &&
             tg_params_create(&params) == TG_OK && tg_nn_linear_params(m.l1, "l1", params) == TG_OK &&
             tg_nn_linear_params(m.l2, "l2", params) == TG_OK;
    if (ok) ok = train_steps(s, mlp_fwd, &m, params, x, y, peak) == 0;
    /* forward 2*b*(in*hid + hid*10), backward about twice that */
    tgb_counter(s, "GFLOP/s", 6.0 * batch * (in * hid + hid * 10) * 1e-9, TGB_RATE);
    tg_params_destroy(params);
    tg_nn_linear_destroy(m.l1);
    tg_nn_linear_destroy(m.l2);
    tg_release(x);
    tg_release(y);
    return ok ? 0 : -1;
}

static int bm_cnn(tgb_state *s, tg_dev *dev, int64_t batch, int64_t hw, int64_t ch, int64_t *peak) {
    cnn_net m = {0};
    tg_params *params = NULL;
    tg_conv_opts co = {0};
    co.padding[0] = co.padding[1] = 1;
    int64_t xs[4] = {batch, 3, hw, hw};
    m.feat = ch * hw * hw;
    tg_tensor *x = tg_rand(dev, TG_FLOAT32, 4, xs, 3), *y = labels(dev, batch);
    int ok = x && y && tg_nn_conv2d_create(dev, TG_FLOAT32, 3, ch, 3, 3, &co, true, 1, &m.c1) == TG_OK &&
             tg_nn_conv2d_create(dev, TG_FLOAT32, ch, ch, 3, 3, &co, true, 2, &m.c2) == TG_OK &&
             tg_nn_linear_create(dev, TG_FLOAT32, m.feat, 10, true, 3, &m.fc) == TG_OK &&
             tg_params_create(&params) == TG_OK && tg_nn_conv2d_params(m.c1, "c1", params) == TG_OK &&
             tg_nn_conv2d_params(m.c2, "c2", params) == TG_OK && tg_nn_linear_params(m.fc, "fc", params) == TG_OK;
    if (ok) ok = train_steps(s, cnn_fwd, &m, params, x, y, peak) == 0;
    tgb_counter(s, "GFLOP/s", 6.0 * batch * hw * hw * 9 * (3 * ch + ch * ch) * 1e-9 + 6.0 * batch * m.feat * 10 * 1e-9, TGB_RATE);
    tg_params_destroy(params);
    tg_nn_conv2d_destroy(m.c1);
    tg_nn_conv2d_destroy(m.c2);
    tg_nn_linear_destroy(m.fc);
    tg_release(x);
    tg_release(y);
    return ok ? 0 : -1;
}

void tensor_bench(tgb_state *s, void *arg) {
    tensor_case *c = arg;
    tg_dev *dev = NULL;
    int64_t peak = 0;
    int rc;
    tg_stats before, after;
    plan_bench_release();
    if (tg_device_open(c->plugin, &dev) != TG_OK) {
        fail(s, "tg_device_open");
        return;
    }
    tg_stats_get(&before); /* includes the warm-up run: compiles land there */
    switch (c->kind) {
    case T_TINY: rc = bm_tiny(s, dev); break;
    case T_MATMUL: rc = bm_matmul(s, dev, c->a, &peak); break;
    case T_MLP: rc = bm_mlp(s, dev, c->a, c->b, c->c, &peak); break;
    default: rc = bm_cnn(s, dev, c->a, c->b, c->c, &peak); break;
    }
    tg_stats_get(&after);
    /* the core's program cache at work: compiles per iteration should be 0 */
    if (tgb_iterations(s) > 0) {
        double it = (double)tgb_iterations(s) + 1; /* + the warm-up */
        tgb_counter(s, "compiles", (double)(after.programs_compiled - before.programs_compiled) / it, TGB_PLAIN);
        tgb_counter(s, "kernels", (double)(after.kernels_launched - before.kernels_launched) / it, TGB_PLAIN);
    }
    if (rc != 0) fail(s, "tensor workload");
    else if (peak > 0) tgb_counter(s, "peak_MB", (double)peak / 1048576.0, TGB_PLAIN);
    tg_device_close(dev);
}

static void tensor_skip(tgb_state *s, void *arg) { tgb_skip(s, (const char *)arg); }

/* Register the tensor suite for plugin `name`; cases are malloc'd and
 * handed to keep() for release. Returns the number registered. */
int suite_tensor_register(const char *name, const char *path, int quick, void (*keep)(void *)) {
    struct {
        const char *fmt;
        int kind;
        int64_t a, b, c;
    } list[] = {
        {"%s/overhead/tensor_tiny_e2e", T_TINY, 0, 0, 0},
        {"%s/matmul/tensor_matmul_%lld", T_MATMUL, quick ? 128 : 1024, 0, 0},
        {"%s/model/tensor_mlp_train_b%lld_%lld_%lld_10", T_MLP, quick ? 16 : 128, quick ? 64 : 784, quick ? 32 : 256},
        {"%s/model/tensor_cnn_train_b%lld_%lld_c%lld", T_CNN, quick ? 2 : 16, quick ? 8 : 32, quick ? 4 : 16},
    };
    int count = 0;
    for (size_t i = 0; i < sizeof list / sizeof *list; i++) {
        char nm[160];
        tensor_case *c = calloc(1, sizeof *c);
        if (!c) continue;
        c->plugin = path;
        c->kind = list[i].kind, c->a = list[i].a, c->b = list[i].b, c->c = list[i].c;
        snprintf(nm, sizeof nm, list[i].fmt, name, (long long)c->a, (long long)c->b, (long long)c->c);
        keep(c);
        if (!strcmp(name, "ref") && c->kind == T_MATMUL && c->a > 256) /* minutes on the interpreter */
            count += tgb_register(nm, tensor_skip, "ref: over 0.3 GFLOP per run, too slow for the interpreter") == 0;
        else
            count += tgb_register(nm, tensor_bench, c) == 0;
    }
    return count;
}
