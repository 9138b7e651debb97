/* suite_overhead.h -- the overhead benchmarks (not plans: they time the
 * plugin calls themselves). */
#ifndef TG_BENCH_SUITE_OVERHEAD_H
#define TG_BENCH_SUITE_OVERHEAD_H

#include "plan.h"

enum { OVERHEAD_TINY_E2E, OVERHEAD_LAUNCH, OVERHEAD_COMPILE, OVERHEAD_H2D, OVERHEAD_D2H };

typedef struct overhead_case {
    bdev *dev;
    int kind;
    int64_t bytes; /* copies: bytes per transfer */
} overhead_case;

void overhead_bench(tgb_state *s, void *arg);

#endif
