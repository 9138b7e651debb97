/* mlp: a 2-64-64-3 ReLU network learns to tell the three arms of a noisy
 * 2-D spiral apart (1,500 training and 600 test points it makes itself),
 * with Adam. ./mlp --device cpu; ./mlp --device ref --steps 150 */
#include "common.h"

enum { CLASSES = 3, HIDDEN = 64, BATCH = 100 };

/* Points of class k lie along the arm angle(r) = 2*pi*k/3 + 5*r, r in [0, 1). */
static int make_spiral(dataset *d, int per_class, uint64_t *rng) {
    if (!dataset_alloc(d, CLASSES * per_class, TG_SHAPE(2))) return 0;
    for (int i = 0; i < d->n; i++) {
        int k = i % CLASSES;
        double r = rng_uniform(rng), t = 2.0943951 * k + 5.0 * r + 0.15 * rng_normal(rng);
        d->x[2 * i] = (float)(r * sin(t));
        d->x[2 * i + 1] = (float)(r * cos(t));
        d->y[i] = k;
    }
    return 1;
}

typedef struct mlp {
    tg_nn_linear *l1, *l2, *l3;
} mlp;

static tg_tensor *mlp_forward(void *self, tg_tensor *x) {
    mlp *m = self;
    tg_tensor *h = tg_relu(tg_nn_linear_forward(m->l1, x));
    h = tg_relu(tg_nn_linear_forward(m->l2, h));
    return tg_nn_linear_forward(m->l3, h);
}

static tg_status run(tg_dev *dev, const options *o, double *out_acc) {
    dataset train_set = {0}, test_set = {0};
    mlp net = {0};
    model m = {.self = &net, .forward = mlp_forward};
    tg_optim *opt = NULL;
    uint64_t rng = o->seed;
    tg_status st = TG_OK;
    if (!make_spiral(&train_set, 500, &rng) || !make_spiral(&test_set, 200, &rng))
        st = tg_error(TG_ERR_NO_MEMORY, "out of memory for the data");
    if (!st) st = tg_nn_linear_create(dev, TG_FLOAT32, 2, HIDDEN, true, o->seed + 1, &net.l1);
    if (!st) st = tg_nn_linear_create(dev, TG_FLOAT32, HIDDEN, HIDDEN, true, o->seed + 2, &net.l2);
    if (!st) st = tg_nn_linear_create(dev, TG_FLOAT32, HIDDEN, CLASSES, true, o->seed + 3, &net.l3);
    if (!st) st = tg_params_create(&m.params);
    if (!st) st = tg_nn_linear_params(net.l1, "l1", m.params);
    if (!st) st = tg_nn_linear_params(net.l2, "l2", m.params);
    if (!st) st = tg_nn_linear_params(net.l3, "l3", m.params);
    tg_optim_opts opts = tg_optim_defaults(TG_OPTIM_ADAM, 0.01);
    if (!st) st = tg_optim_create(m.params, &opts, &opt);
    double acc = 0;
    if (!st) {
        printf("spiral: %d training and %d test points, 3 classes; MLP 2-%d-%d-3, %lld parameters\n", train_set.n,
               test_set.n, HIDDEN, HIDDEN, (long long)tg_params_numel(m.params));
        st = train(&m, opt, dev, &train_set, &test_set, BATCH, o, &acc);
    }
    if (!st) printf("final test accuracy: %.2f%%\n", 100 * acc);
    *out_acc = acc;
    if (!st && o->save) st = tg_params_save(m.params, o->save);
    tg_optim_destroy(opt);
    tg_params_destroy(m.params);
    tg_nn_linear_destroy(net.l1);
    tg_nn_linear_destroy(net.l2);
    tg_nn_linear_destroy(net.l3);
    dataset_free(&train_set);
    dataset_free(&test_set);
    return st;
}

int main(int argc, char **argv) {
    options o = {.device = "auto", .epochs = 20, .seed = 1};
    int r = parse_options(argc, argv, &o, "Trains an MLP on a 3-arm spiral it generates; prints loss and accuracy per epoch.");
    if (r) return r == 1 ? 0 : r;
    return run_example(&o, run);
}
