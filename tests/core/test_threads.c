/* Two threads, each on its own device (plugin.h: calls on different devices
 * may run concurrently): every result right, and the process-wide state
 * they share (the tg_stats counters, the debug level, the plugin loader's
 * caches) free of data races. Built with ThreadSanitizer where the compiler
 * has it (tests/core/meson.build), which fails the test on any race. */
#include <pthread.h>
#include <tg/tg.h>
#include "tap.h"

#define ROUNDS 200

typedef struct job {
    tg_dev *dev;
    int ok;
    int64_t kernels;
} job;

static int64_t launched(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.kernels_launched;
}

static void *work(void *arg) {
    job *j = arg;
    j->ok = 1;
    for (int r = 0; r < ROUNDS; r++) {
        tg_scope_begin();
        float x[3] = {1, 2, (float)r};
        tg_tensor *a = tg_from_data(j->dev, TG_FLOAT32, TG_SHAPE(3), x);
        double sum = 0;
        int axes[1] = {0};
        j->ok &= tg_item(tg_sum(tg_muls(a, 2), 1, axes, false), &sum) == TG_OK && sum == 6 + 2.0 * r;
        j->kernels++;
        tg_scope_end();
    }
    return NULL;
}

int main(void) {
    job jobs[2] = {{0}};
    for (int i = 0; i < 2; i++)
        if (tg_device_open("ref", &jobs[i].dev) != TG_OK) return tap_ok(0, "open ref: %s", tg_last_error()), tap_done();
    int64_t k0 = launched();
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, work, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    tap_ok(jobs[0].ok && jobs[1].ok, "two threads on two devices: %d rounds each, every sum right", ROUNDS);
    tap_ok(launched() - k0 == jobs[0].kernels + jobs[1].kernels, "kernels_launched counted every launch of both threads "
           "(%lld)", (long long)(launched() - k0));
    for (int i = 0; i < 2; i++) tg_device_close(jobs[i].dev);
    return tap_done();
}
