/* The side-by-side table of `tg bench` (see report.h). */
#include <string.h>
#include "report.h"

const char *bench_fmt_time(double ns, char *buf, size_t cap) {
    if (ns < 1e3) snprintf(buf, cap, "%.0f ns", ns);
    else if (ns < 1e6) snprintf(buf, cap, "%.1f us", ns / 1e3);
    else if (ns < 1e9) snprintf(buf, cap, "%.2f ms", ns / 1e6);
    else snprintf(buf, cap, "%.2f s", ns / 1e9);
    return buf;
}

static void cell(const tgb_result *r, char *buf, size_t cap) {
    char t[32];
    double gf, gb;
    if (!r) {
        snprintf(buf, cap, "-");
        return;
    }
    if (r->error) {
        snprintf(buf, cap, "skipped");
        return;
    }
    gf = tgb_result_counter(r, "GFLOP/s", -1);
    gb = tgb_result_counter(r, "GB/s", -1);
    bench_fmt_time(r->real_ns, t, sizeof t);
    if (gf >= 0) snprintf(buf, cap, "%9s %7.2f GF/s", t, gf);
    else if (gb >= 0) snprintf(buf, cap, "%9s %7.2f GB/s", t, gb);
    else snprintf(buf, cap, "%9s", t);
}

void bench_print_table(FILE *f, const bench_plugin_run *runs, int n) {
    const char *rows[512];
    int nrows = 0;
    size_t width = 8;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < runs[i].count; j++) {
            const char *w = bench_workload(runs[i].results[j].name);
            int seen = 0;
            for (int k = 0; k < nrows && !seen; k++) seen = !strcmp(rows[k], w);
            if (!seen && nrows < 512) {
                rows[nrows++] = w;
                if (strlen(w) > width) width = strlen(w);
            }
        }
    fprintf(f, "%-*s", (int)width, "workload");
    for (int i = 0; i < n; i++) fprintf(f, " | %-22s", runs[i].name);
    fprintf(f, "\n");
    for (size_t k = 0; k < width; k++) fputc('-', f);
    for (int i = 0; i < n; i++) fprintf(f, "-|-----------------------");
    fprintf(f, "\n");
    for (int k = 0; k < nrows; k++) {
        fprintf(f, "%-*s", (int)width, rows[k]);
        for (int i = 0; i < n; i++) {
            char c[64];
            cell(bench_find(&runs[i], rows[k]), c, sizeof c);
            fprintf(f, " | %-22s", c);
        }
        fprintf(f, "\n");
    }
    for (int i = 0; i < n; i++) {
        if (!runs[i].ok) fprintf(f, "%s: %s\n", runs[i].name, runs[i].error);
        for (size_t j = 0; j < runs[i].count; j++)
            if (runs[i].results[j].error)
                fprintf(f, "%s: %s skipped: %s\n", runs[i].name, bench_workload(runs[i].results[j].name),
                        runs[i].results[j].message);
    }
}
