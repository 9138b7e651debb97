/* report.h -- the side-by-side table of `tg bench`. */
#ifndef TG_BENCH_REPORT_H
#define TG_BENCH_REPORT_H

#include <stdio.h>
#include "runner.h"

/* One row per workload, one column per plugin: time per run and the
 * workload's rate (GFLOP/s where it counts flops, else GB/s). */
void bench_print_table(FILE *f, const bench_plugin_run *runs, int n);
/* "12.3 us" etc. into buf. */
const char *bench_fmt_time(double ns, char *buf, size_t cap);

#endif
