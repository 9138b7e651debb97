/* cnn: a small convolutional network tells four kinds of shape apart in
 * noisy 1x16x16 images it draws itself (horizontal bar, vertical bar,
 * hollow square, filled disc; random size, place and brightness), with
 * Adam. ./cnn --device cpu; ./cnn --device ref --steps 160 */
#include "common.h"

enum { CLASSES = 4, SIDE = 16, BATCH = 50 };

static void draw(float *img, int k, uint64_t *rng) {
    int a = 4 + (int)(rng_uniform(rng) * 8);            /* size: 4..11 */
    int x0 = (int)(rng_uniform(rng) * (SIDE - a + 1));   /* top-left corner */
    int y0 = (int)(rng_uniform(rng) * (SIDE - a + 1));
    int thick = 1 + (rng_uniform(rng) < 0.5);
    float v = (float)(0.6 + 0.4 * rng_uniform(rng));
    double c = (a - 1) / 2.0;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            int in = x >= x0 && x < x0 + a && y >= y0 && y < y0 + a, on = 0;
            int dx = x - x0, dy = y - y0;
            if (k == 0) on = in && dy >= (a - thick) / 2 && dy < (a - thick) / 2 + thick;
            else if (k == 1) on = in && dx >= (a - thick) / 2 && dx < (a - thick) / 2 + thick;
            else if (k == 2) on = in && (dx == 0 || dy == 0 || dx == a - 1 || dy == a - 1);
            else on = in && (dx - c) * (dx - c) + (dy - c) * (dy - c) <= c * c + 0.5;
            img[y * SIDE + x] = (float)(on * v + 0.15 * rng_normal(rng));
        }
}

static int make_shapes(dataset *d, int n, uint64_t *rng) {
    if (!dataset_alloc(d, n, TG_SHAPE(1, SIDE, SIDE))) return 0;
    for (int i = 0; i < n; i++) {
        d->y[i] = i % CLASSES;
        draw(d->x + i * SIDE * SIDE, d->y[i], rng);
    }
    return 1;
}

typedef struct cnn {
    tg_nn_conv2d *c1, *c2;
    tg_nn_linear *fc;
} cnn;

/* conv 1->8 3x3, relu, max pool 2; conv 8->16 3x3 stride 2, relu; linear 256->4 */
static tg_tensor *cnn_forward(void *self, tg_tensor *x) {
    cnn *m = self;
    tg_tensor *h = tg_max_pool2d(tg_relu(tg_nn_conv2d_forward(m->c1, x)), 2, 2, 2, 2, 0, 0);
    h = tg_relu(tg_nn_conv2d_forward(m->c2, h));
    return tg_nn_linear_forward(m->fc, tg_flatten(h, 1, -1));
}

static tg_status run(tg_dev *dev, const options *o, double *out_acc) {
    dataset train_set = {0}, test_set = {0};
    cnn net = {0};
    model m = {.self = &net, .forward = cnn_forward};
    tg_optim *opt = NULL;
    uint64_t rng = o->seed;
    tg_conv_opts same = {.padding = {1, 1}}, half = {.stride = {2, 2}, .padding = {1, 1}};
    tg_status st = TG_OK;
    if (!make_shapes(&train_set, 4000, &rng) || !make_shapes(&test_set, 400, &rng))
        st = tg_error(TG_ERR_NO_MEMORY, "out of memory for the data");
    if (!st) st = tg_nn_conv2d_create(dev, TG_FLOAT32, 1, 8, 3, 3, &same, true, o->seed + 1, &net.c1);
    if (!st) st = tg_nn_conv2d_create(dev, TG_FLOAT32, 8, 16, 3, 3, &half, true, o->seed + 2, &net.c2);
    if (!st) st = tg_nn_linear_create(dev, TG_FLOAT32, 16 * 4 * 4, CLASSES, true, o->seed + 3, &net.fc);
    if (!st) st = tg_params_create(&m.params);
    if (!st) st = tg_nn_conv2d_params(net.c1, "conv1", m.params);
    if (!st) st = tg_nn_conv2d_params(net.c2, "conv2", m.params);
    if (!st) st = tg_nn_linear_params(net.fc, "fc", m.params);
    tg_optim_opts opts = tg_optim_defaults(TG_OPTIM_ADAM, 0.01);
    if (!st) st = tg_optim_create(m.params, &opts, &opt);
    double acc = 0;
    if (!st) {
        printf("shapes: %d training and %d test images 1x%dx%d, %d classes; CNN, %lld parameters\n", train_set.n,
               test_set.n, SIDE, SIDE, CLASSES, (long long)tg_params_numel(m.params));
        st = train(&m, opt, dev, &train_set, &test_set, BATCH, o, &acc);
    }
    if (!st) printf("final test accuracy: %.2f%%\n", 100 * acc);
    *out_acc = acc;
    if (!st && o->save) st = tg_params_save(m.params, o->save);
    tg_optim_destroy(opt);
    tg_params_destroy(m.params);
    tg_nn_conv2d_destroy(net.c1);
    tg_nn_conv2d_destroy(net.c2);
    tg_nn_linear_destroy(net.fc);
    dataset_free(&train_set);
    dataset_free(&test_set);
    return st;
}

int main(int argc, char **argv) {
    options o = {.device = "auto", .epochs = 4, .seed = 1};
    int r = parse_options(argc, argv, &o, "Trains a CNN on 16x16 images of shapes it draws; prints loss and accuracy per epoch.");
    if (r) return r == 1 ? 0 : r;
    return run_example(&o, run);
}
