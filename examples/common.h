/* examples/common.h -- what the examples share: options, a host RNG for
 * making data, a training loop with per-epoch loss and accuracy. */
#ifndef TG_EXAMPLES_COMMON_H
#define TG_EXAMPLES_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tg/nn.h>

typedef struct options {
    const char *device;
    long epochs, steps; /* steps: stop after this many (0: no limit) */
    uint64_t seed;
    const char *save;   /* safetensors file for the trained weights, or NULL */
    double expect;      /* exit with status 3 if the final test accuracy is lower */
} options;

static int bad_option(const char *prog, const char *what) {
    fprintf(stderr, "%s: %s (see --help)\n", prog, what);
    return 2;
}

/* Parses --device NAME --epochs N --steps N --seed N --save FILE --expect A into o
 * (which holds the defaults); returns 0, 1 after --help, 2 on a bad one. */
static int parse_options(int argc, char **argv, options *o, const char *about) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: %s [--device NAME] [--epochs N] [--steps N] [--seed N] [--save FILE] [--expect A]\n%s\n"
                   "  --device NAME  ref, cpu, vulkan, ... or auto (default %s)\n"
                   "  --epochs N     passes over the training set (default %ld)\n"
                   "  --steps N      stop after N optimiser steps (default: no limit)\n"
                   "  --seed N       data and initialisation seed (default %llu)\n"
                   "  --save FILE    write the trained weights as safetensors\n"
                   "  --expect A     exit with status 3 if the final test accuracy is below A (0..1)\n",
                   argv[0], about, o->device, o->epochs, (unsigned long long)o->seed);
            return 1;
        }
        if (i + 1 == argc) return bad_option(argv[0], "an option lacks its value");
        const char *v = argv[++i];
        char *end = NULL;
        if (!strcmp(a, "--device")) o->device = v;
        else if (!strcmp(a, "--save")) o->save = v;
        else if (!strcmp(a, "--epochs")) o->epochs = strtol(v, &end, 10);
        else if (!strcmp(a, "--steps")) o->steps = strtol(v, &end, 10);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, &end, 10);
        else if (!strcmp(a, "--expect")) o->expect = strtod(v, &end);
        else return bad_option(argv[0], "unknown option");
        if (end && (*end || end == v)) return bad_option(argv[0], "not a number");
    }
    if (o->epochs < 1 || o->steps < 0) return bad_option(argv[0], "epochs must be >= 1, steps >= 0");
    return 0;
}

/* splitmix64: a small, good host RNG for making data. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_uniform(uint64_t *s) { return (double)(rng_next(s) >> 11) / 9007199254740992.0; }
static double rng_normal(uint64_t *s) {
    double u = rng_uniform(s), v = rng_uniform(s);
    return sqrt(-2 * log(1 - u)) * cos(6.283185307179586 * v);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A labelled data set on the host: n samples of `dim` floats. */
typedef struct dataset {
    int n, ndim;                  /* ndim: rank of one sample */
    int64_t sample_shape[3];
    float *x;
    int32_t *y;
} dataset;

static int64_t sample_size(const dataset *d) {
    int64_t s = 1;
    for (int i = 0; i < d->ndim; i++) s *= d->sample_shape[i];
    return s;
}

static int dataset_alloc(dataset *d, int n, int ndim, const int64_t *shape) {
    d->n = n;
    d->ndim = ndim;
    memcpy(d->sample_shape, shape, (size_t)ndim * sizeof *shape);
    d->x = malloc((size_t)n * (size_t)sample_size(d) * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    return d->x && d->y;
}

static void dataset_free(dataset *d) {
    free(d->x);
    free(d->y);
}

/* Samples idx[0..b) as tensors (b, sample...) and (b). */
static tg_status dataset_batch(const dataset *d, tg_dev *dev, const int *idx, int b, tg_tensor **x, tg_tensor **y) {
    int64_t s = sample_size(d), shape[4] = {b};
    float *xb = malloc((size_t)b * (size_t)s * sizeof *xb);
    int32_t *yb = malloc((size_t)b * sizeof *yb);
    if (!xb || !yb) {
        free(xb);
        free(yb);
        return tg_error(TG_ERR_NO_MEMORY, "out of memory for a batch");
    }
    for (int i = 0; i < b; i++) {
        memcpy(xb + i * s, d->x + (int64_t)idx[i] * s, (size_t)s * sizeof *xb);
        yb[i] = d->y[idx[i]];
    }
    memcpy(shape + 1, d->sample_shape, (size_t)d->ndim * sizeof *shape);
    *x = tg_from_data(dev, TG_FLOAT32, d->ndim + 1, shape, xb);
    *y = tg_from_data(dev, TG_INT32, TG_SHAPE(b), yb);
    free(xb);
    free(yb);
    return *x && *y ? TG_OK : tg_last_status();
}

/* The model as the training loop sees it. */
typedef struct model {
    void *self;
    tg_tensor *(*forward)(void *self, tg_tensor *x); /* logits (N, classes) */
    tg_params *params;
} model;

/* Fraction of d that the model classifies correctly (in chunks of `batch`). */
static tg_status evaluate(model *m, tg_dev *dev, const dataset *d, int batch, double *out_acc) {
    int *idx = malloc((size_t)batch * sizeof *idx), correct = 0, seen = 0;
    int32_t *pred = malloc((size_t)batch * sizeof *pred);
    tg_status st = idx && pred ? TG_OK : tg_error(TG_ERR_NO_MEMORY, "out of memory");
    tg_no_grad_begin();
    for (int start = 0; st == TG_OK && start + batch <= d->n; start += batch) {
        tg_tensor *x, *y;
        for (int i = 0; i < batch; i++) idx[i] = start + i;
        tg_scope_begin();
        st = dataset_batch(d, dev, idx, batch, &x, &y);
        tg_tensor *p = st ? NULL : tg_argmax(m->forward(m->self, x), 1, false);
        if (st == TG_OK) st = p ? tg_to_host(p, pred, (size_t)batch * sizeof *pred) : tg_last_status();
        for (int i = 0; st == TG_OK && i < batch; i++) correct += pred[i] == d->y[start + i];
        seen += batch;
        tg_scope_end();
    }
    tg_no_grad_end();
    free(idx);
    free(pred);
    *out_acc = seen ? (double)correct / seen : 0;
    return st;
}

/* Minibatch training with per-epoch output; the final test accuracy in
 * *out_acc. Partial batches are dropped so that every step has one shape. */
static tg_status train(model *m, tg_optim *opt, tg_dev *dev, const dataset *train_set, const dataset *test_set,
                       int batch, const options *o, double *out_acc) {
    int *order = malloc((size_t)train_set->n * sizeof *order);
    if (!order) return tg_error(TG_ERR_NO_MEMORY, "out of memory");
    uint64_t rng = o->seed * 31 + 7;
    long step = 0;
    tg_status st = TG_OK;
    double t0 = now_s(), acc = 0;
    for (int i = 0; i < train_set->n; i++) order[i] = i;
    for (long epoch = 1; st == TG_OK && epoch <= o->epochs && (!o->steps || step < o->steps); epoch++) {
        for (int i = train_set->n - 1; i > 0; i--) { /* shuffle */
            int j = (int)(rng_next(&rng) % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double loss_sum = 0;
        int batches = 0;
        for (int b = 0; st == TG_OK && b + batch <= train_set->n && (!o->steps || step < o->steps); b += batch) {
            tg_tensor *x, *y;
            double loss_v = 0;
            tg_scope_begin();
            st = dataset_batch(train_set, dev, order + b, batch, &x, &y);
            tg_tensor *loss = st ? NULL : tg_cross_entropy(m->forward(m->self, x), y, 0);
            tg_optim_zero_grad(opt);
            if (st == TG_OK) st = loss ? tg_backward(loss) : tg_last_status();
            if (st == TG_OK) st = tg_optim_step(opt);
            if (st == TG_OK) st = tg_item(loss, &loss_v);
            tg_scope_end();
            loss_sum += loss_v;
            batches++;
            step++;
        }
        if (st == TG_OK) st = evaluate(m, dev, test_set, batch, &acc);
        if (st == TG_OK)
            printf("epoch %3ld  steps %5ld  loss %.4f  test accuracy %6.2f%%  %.1f s\n", epoch, step,
                   batches ? loss_sum / batches : 0.0, 100 * acc, now_s() - t0);
        fflush(stdout);
    }
    free(order);
    *out_acc = acc;
    return st;
}

/* Opens the device, runs `run` (which gives the final test accuracy),
 * reports errors; the program's exit status. */
static int run_example(const options *o, tg_status (*run)(tg_dev *dev, const options *o, double *out_acc)) {
    tg_dev *dev = NULL;
    double acc = 0;
    tg_status st = tg_device_open(o->device, &dev);
    if (st == TG_OK) {
        printf("device: %s\n", tg_device_name(dev));
        st = run(dev, o, &acc);
    }
    if (st) fprintf(stderr, "error: %s: %s\n", tg_status_name(st), tg_last_error());
    tg_device_close(dev);
    if (st) return 1;
    if (acc < o->expect) {
        fprintf(stderr, "test accuracy %.2f%% is below the expected %.2f%%\n", 100 * acc, 100 * o->expect);
        return 3;
    }
    return 0;
}

#endif
