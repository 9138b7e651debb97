/* Kernel counts and times for the notes: relu(a*b+c) on 16M float32, and an
 * MLP 784-128-10 training step (SGD) at batch 128. Not a test (no
 * assertions); run with TG_DEBUG=2:  TG_DEBUG=2 ./core_measure ref */
#include <stdio.h>
#include <time.h>
#include <tg/tg.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int64_t launched(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.kernels_launched;
}

int main(int argc, char **argv) {
    tg_dev *dev;
    if (tg_device_open(argc > 1 ? argv[1] : "ref", &dev) != TG_OK) {
        fprintf(stderr, "%s\n", tg_last_error());
        return 1;
    }
    tg_scope_begin();
    int64_t n = 16 << 20;
    tg_tensor *a = tg_rand(dev, TG_FLOAT32, 1, &n, 1), *b = tg_rand(dev, TG_FLOAT32, 1, &n, 2);
    tg_tensor *c = tg_rand(dev, TG_FLOAT32, 1, &n, 3);
    fprintf(stderr, "== relu(a*b+c), 16M float32 on %s\n", tg_device_name(dev));
    int64_t k0 = launched();
    double t0 = now();
    tg_realize(tg_relu(tg_add(tg_mul(a, b), c)));
    fprintf(stderr, "== %lld kernel(s), %.1f ms wall\n", (long long)(launched() - k0), (now() - t0) * 1e3);
    tg_scope_end();

    tg_scope_begin();
    tg_tensor *x = tg_rand(dev, TG_FLOAT32, TG_SHAPE(128, 784), 4);
    tg_tensor *w1 = tg_uniform(dev, TG_FLOAT32, TG_SHAPE(784, 128), -0.036, 0.036, 5);
    tg_tensor *b1 = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(128));
    tg_tensor *w2 = tg_uniform(dev, TG_FLOAT32, TG_SHAPE(128, 10), -0.088, 0.088, 6);
    tg_tensor *b2 = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(10));
    tg_tensor *y = tg_cast(tg_argmax(tg_rand(dev, TG_FLOAT32, TG_SHAPE(128, 10), 7), 1, false), TG_INT32);
    tg_tensor *p[4] = {w1, b1, w2, b2};
    tg_realize(y);
    for (int i = 0; i < 4; i++) tg_set_requires_grad(p[i], true), tg_realize(p[i]);
    for (int step = 1; step <= 3; step++) {
        fprintf(stderr, "== MLP 784-128-10 SGD step %d, batch 128 on %s\n", step, tg_device_name(dev));
        k0 = launched();
        t0 = now();
        tg_scope_begin();
        tg_tensor *h = tg_relu(tg_add(tg_matmul(x, w1), b1));
        tg_tensor *loss = tg_cross_entropy(tg_add(tg_matmul(h, w2), b2), y, 0);
        if (tg_backward(loss) != TG_OK) fprintf(stderr, "%s\n", tg_last_error());
        tg_no_grad_begin();
        for (int i = 0; i < 4; i++) {
            tg_assign(p[i], tg_sub(p[i], tg_muls(tg_tensor_grad(p[i]), 0.1)));
            tg_zero_grad(p[i]);
        }
        tg_no_grad_end();
        double l;
        tg_item(loss, &l);
        tg_scope_end();
        fprintf(stderr, "== step %d: loss %.4f, %lld kernels, %.1f ms wall\n", step, l, (long long)(launched() - k0),
                (now() - t0) * 1e3);
    }
    tg_scope_end();
    tg_device_close(dev);
    return 0;
}
