/* Allocation-failure injection (debug builds, TG_FAULT_NODE=n fails the
 * n-th node allocation): for every n in a training step's range, the step
 * either reports an error or computes the right gradient. Never TG_OK
 * with a gradient missing (issue 16: a failed seed allocation skipped the
 * step silently). Each n runs in a child process, the variable being read
 * once per process. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tg/tg.h>
#include "tap.h"

/* 0: an error was reported, or the step was right; 1: TG_OK and wrong. */
static int step(void) {
    tg_dev *dev;
    if (tg_device_open("ref", &dev) != TG_OK) return 0;
    tg_tensor *w = tg_from_f64(dev, TG_FLOAT32, 2, (int64_t[]){2, 1}, (double[]){1, 2});
    tg_tensor *x = tg_from_f64(dev, TG_FLOAT32, 2, (int64_t[]){1, 2}, (double[]){3, 4});
    if (!w || !x || tg_set_requires_grad(w, true) != TG_OK) return 0;
    tg_tensor *loss = tg_sum(tg_square(tg_matmul(x, w)), TG_ALL_AXES, false); /* (3 + 8)^2 */
    tg_status st = tg_backward(loss);
    if (st != TG_OK) return tg_last_status() != TG_OK ? 0 : 1;
    double g[2];
    tg_tensor *grad = tg_tensor_grad(w);
    if (!grad) return 1; /* TG_OK without a gradient: the silent loss */
    if (tg_to_f64(grad, g, 2) != TG_OK) return 0;
    return g[0] == 2 * 11 * 3 && g[1] == 2 * 11 * 4 ? 0 : 1;
}

int main(void) {
#ifdef NDEBUG
    tap_skip("fault injection needs a debug build");
    return tap_done();
#else
    int bad = 0, first = 0;
    for (int n = 1; n <= 120; n++) {
        pid_t pid = fork();
        if (pid == 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", n);
            setenv("TG_FAULT_NODE", v, 1);
            _exit(step());
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (!bad) first = n;
            bad++;
        }
    }
    tap_ok(bad == 0, "node allocation failures 1..120 in a training step: %d gave TG_OK with a wrong or missing "
           "gradient, or crashed (first at %d)", bad, first);
    return tap_done();
#endif
}
