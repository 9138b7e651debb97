/* plot.h -- `tg bench --plot`: an SVG with a roofline of each plugin's
 * measured kernels against this host's measured peaks, and a bar chart of
 * the ranking. Hand-written SVG, no dependencies. */
#ifndef TG_BENCH_PLOT_H
#define TG_BENCH_PLOT_H

#include "peak.h"
#include "rank.h"
#include "runner.h"

/* Scores: NULL to compute them from the runs against "ref" (or, without a
 * ref run, to read this host's ranking file). Peaks: NULL to measure them.
 * Returns 0, or -1 with tg_last_error() set. */
int bench_plot_write(const char *path, const bench_plugin_run *runs, int n, const bench_peaks *peaks);
int bench_plot_write_scores(const char *path, const bench_plugin_run *runs, int n, const bench_peaks *peaks,
                            const bench_score *scores, int nscores);

#endif
