/* overhead_c.c: the C side of bench/python/overhead.py. Times the same call
 * the Python side times, c = a + b; realize c; release c, on two cached
 * n-element float32 tensors (steady state: the kernel is compiled and its
 * plan kept after the warm-up).
 * usage: overhead_c DEVICE N ITERS   (prints "ns_per_call <float>") */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <tg/tg.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One call as the Python side makes it: an op, a realize, the handle dropped. */
static int add_realize(tg_tensor *a, tg_tensor *b) {
    tg_tensor *c = tg_add(a, b);
    tg_status st = tg_realize(c);
    tg_release(c);
    return st == TG_OK ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DEVICE N ITERS\n", argv[0]);
        return 2;
    }
    int64_t n = atoll(argv[2]);
    long iters = atol(argv[3]);
    tg_dev *dev;
    if (tg_device_open(argv[1], &dev) != TG_OK) {
        fprintf(stderr, "%s\n", tg_last_error());
        return 1;
    }
    tg_tensor *a = tg_full(dev, TG_FLOAT32, 1, &n, 1.0), *b = tg_full(dev, TG_FLOAT32, 1, &n, 2.0);
    tg_tensor *ac = tg_contiguous(a), *bc = tg_contiguous(b); /* real buffers, as Python's tg.Tensor(list) */
    if (!ac || !bc || tg_realize(ac) || tg_realize(bc)) {
        fprintf(stderr, "%s\n", tg_last_error());
        return 1;
    }
    for (int i = 0; i < 100; i++) /* warm-up: compile, keep the plan */
        if (add_realize(ac, bc)) {
            fprintf(stderr, "%s\n", tg_last_error());
            return 1;
        }
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        if (add_realize(ac, bc)) {
            fprintf(stderr, "%s\n", tg_last_error());
            return 1;
        }
    printf("ns_per_call %.1f\n", (now_ns() - t0) / (double)iters);
    tg_release(a);
    tg_release(b);
    tg_release(ac);
    tg_release(bc);
    tg_device_close(dev);
    return 0;
}
