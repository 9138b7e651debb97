/* The SVG charts of `tg bench --plot` (see plot.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "plot.h"
#include "select.h"
#include "suites.h"

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define NCOLORS 8

/* Roofline panel geometry: x = log2 FLOP/byte, y = log10 GFLOP/s. */
enum { W = 1060, H = 520, RX = 70, RY = 50, RW = 520, RH = 380, BX = 690, BW = 330 };
static const double AI_LO = 1.0 / 64, AI_HI = 256;

static double px(double ai) { return RX + RW * (log2(ai) - log2(AI_LO)) / (log2(AI_HI) - log2(AI_LO)); }
static double py(double g, double lo, double hi) { return RY + RH - RH * (log10(g) - log10(lo)) / (log10(hi) - log10(lo)); }

static void roofline(FILE *f, const bench_plugin_run *runs, int n, const bench_peaks *pk) {
    double lo = 1e-3, hi = pk->gflops > 0 ? pk->gflops * 4 : 100;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < runs[i].count; j++) {
            double g = tgb_result_counter(&runs[i].results[j], "GFLOP/s", 0);
            if (g > 0 && g * 4 > hi) hi = g * 4;
        }
    fprintf(f, "<text x='%d' y='%d' font-size='16' font-weight='bold'>Roofline: measured kernels vs. this host's peaks</text>\n", RX, RY - 22);
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", RX, RY, RW, RH);
    for (double ai = AI_LO; ai <= AI_HI * 1.001; ai *= 4) {
        fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>", px(ai), RY, px(ai), RY + RH);
        fprintf(f, "<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%g</text>\n", px(ai), RY + RH + 16, ai);
    }
    for (double g = 1e-3; g <= hi * 1.001; g *= 10) {
        if (g < lo) continue;
        fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>", RX, py(g, lo, hi), RX + RW, py(g, lo, hi));
        fprintf(f, "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%g</text>\n", RX - 4, py(g, lo, hi) + 4, g);
    }
    fprintf(f, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>arithmetic intensity (FLOP/byte)</text>\n", RX + RW / 2, RY + RH + 34);
    fprintf(f, "<text x='%d' y='%d' font-size='12' text-anchor='middle' transform='rotate(-90 %d %d)'>GFLOP/s</text>\n", RX - 48, RY + RH / 2, RX - 48, RY + RH / 2);
    if (pk->gflops > 0 && pk->gbps > 0) { /* the roof: min(peak, ai * bandwidth) */
        double knee = pk->gflops / pk->gbps, a0 = AI_LO, a1 = knee < AI_HI ? knee : AI_HI;
        double g0 = a0 * pk->gbps;
        if (g0 < lo) a0 = lo / pk->gbps, g0 = lo;
        fprintf(f, "<polyline fill='none' stroke='#000' stroke-width='2' points='%.1f,%.1f %.1f,%.1f %.1f,%.1f'/>\n",
                px(a0), py(g0, lo, hi), px(a1), py(a1 * pk->gbps, lo, hi), px(AI_HI), py(pk->gflops, lo, hi));
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='11'>peak %.1f GFLOP/s, %.1f GB/s (%d threads)</text>\n",
                px(a1) + 6, py(pk->gflops, lo, hi) - 6, pk->gflops, pk->gbps, pk->threads);
    }
    for (int i = 0; i < n; i++) {
        const char *col = colors[i % NCOLORS];
        for (size_t j = 0; j < runs[i].count; j++) {
            const tgb_result *r = &runs[i].results[j];
            double g = tgb_result_counter(r, "GFLOP/s", 0), b = tgb_result_counter(r, "GB/s", 0);
            if (r->error || g <= 0 || b <= 0) continue;
            double ai = g / b;
            if (ai < AI_LO || ai > AI_HI || g < lo) continue;
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s' fill-opacity='0.75'><title>%s: %.3g GFLOP/s, %.3g FLOP/B</title></circle>\n",
                    px(ai), py(g, lo, hi), col, r->name, g, ai);
        }
        fprintf(f, "<circle cx='%d' cy='%d' r='5' fill='%s'/><text x='%d' y='%d' font-size='12'>%s</text>\n",
                RX + 10 + 90 * i, H - 20, col, RX + 18 + 90 * i, H - 16, runs[i].name);
    }
}

static const char *const class_colors[RANK_CLASSES] = {"#9ecae1", "#a1d99b", "#fdae6b", "#bcbddc", "#d9d9d9"};

static double bar_top(double v, double lo, double hi) {
    return RY + RH - RH * (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
}

/* Per plugin: a wide bar for the overall score (its roofline colour) and a
 * thin bar per workload class it was scored on. */
static void bars(FILE *f, const bench_score *s, int n, const char *baseline) {
    double hi = 1, lo = 1;
    for (int i = 0; i < n; i++)
        for (int c = -1; c < RANK_CLASSES; c++) {
            double v = c < 0 ? s[i].overall : s[i].nwork[c] ? s[i].cls[c] : 0;
            if (v <= 0) continue;
            if (v > hi) hi = v;
            if (v < lo) lo = v;
        }
    lo /= 2, hi *= 2;
    fprintf(f, "<text x='%d' y='%d' font-size='16' font-weight='bold'>Ranking: speed relative to %s</text>\n", BX, RY - 22, baseline);
    fprintf(f, "<text x='%d' y='%d' font-size='11'>log scale; wide bar: overall, thin bars: per class</text>\n", BX, RY - 6);
    fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#444'/>\n", BX, RY + RH, BX + BW, RY + RH);
    if (n == 0) {
        fprintf(f, "<text x='%d' y='%d' font-size='12'>no ranking: run tg rank</text>\n", BX, RY + RH / 2);
        return;
    }
    double slot = (double)BW / n, base = RY + RH;
    for (int i = 0; i < n; i++) {
        double v = s[i].overall > 0 ? s[i].overall : lo;
        double top = bar_top(v, lo, hi);
        fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' fill-opacity='0.35'><title>%s overall: %.3g</title></rect>\n",
                BX + i * slot + slot * 0.1, top, slot * 0.8, base - top, colors[i % NCOLORS], s[i].name, s[i].overall);
        fprintf(f, "<text x='%.1f' y='%d' font-size='12' text-anchor='middle'>%s</text>\n", BX + (i + 0.5) * slot, RY + RH + 16, s[i].name);
        double label = top; /* the overall figure goes above the tallest bar */
        for (int c = 0; c < RANK_CLASSES; c++) {
            double x0 = BX + i * slot + slot * (0.15 + 0.14 * c);
            if (!s[i].nwork[c] || s[i].cls[c] <= 0) continue;
            double t = bar_top(s[i].cls[c], lo, hi);
            if (t < label) label = t;
            fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' stroke='#666' stroke-width='0.5'><title>%s %s: %.3g</title></rect>\n",
                    x0, t, slot * 0.12, base - t, class_colors[c], s[i].name, tg_bench_classes[c], s[i].cls[c]);
        }
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' font-weight='bold' text-anchor='middle'>%.3gx</text>\n",
                BX + (i + 0.5) * slot, label - 4, s[i].overall);
    }
    for (int c = 0; c < RANK_CLASSES; c++) /* legend: three to a row */
        fprintf(f, "<rect x='%d' y='%d' width='10' height='10' fill='%s' stroke='#666' stroke-width='0.5'/><text x='%d' y='%d' font-size='11'>%s</text>\n",
                BX + 100 * (c % 3), H - 34 + 14 * (c / 3), class_colors[c], BX + 100 * (c % 3) + 13, H - 25 + 14 * (c / 3),
                tg_bench_classes[c]);
    double y1 = bar_top(1, lo, hi);
    fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#888' stroke-dasharray='4 3'/>\n", BX, y1, BX + BW, y1);
}

int bench_plot_write_scores(const char *path, const bench_plugin_run *runs, int n, const bench_peaks *peaks,
                            const bench_score *scores, int nscores) {
    bench_peaks measured;
    size_t len = strlen(path);
    if (len < 4 || strcmp(path + len - 4, ".svg") != 0)
        return tg_error(TG_ERR_UNSUPPORTED, "plot '%s': only SVG is written (name it FILE.svg)", path), -1;
    if (!peaks) {
        bench_measure_peaks(0, &measured);
        peaks = &measured;
    }
    FILE *f = fopen(path, "w");
    if (!f) return tg_error(TG_ERR_IO, "cannot write '%s'", path), -1;
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n");
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' font-family='sans-serif'>\n", W, H, W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    roofline(f, runs, n, peaks);
    bars(f, scores, nscores, "ref");
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) return tg_error(TG_ERR_IO, "cannot write '%s'", path), -1;
    return 0;
}

int bench_plot_write(const char *path, const bench_plugin_run *runs, int n, const bench_peaks *peaks) {
    bench_score s[16];
    int ns = 0, base = -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(runs[i].name, "ref")) base = i;
    if (base >= 0) {
        ns = n < 16 ? n : 16;
        bench_score_runs(runs, ns, base, s);
        bench_score_sort(s, ns);
    } else {
        char rp[4096];
        tg_ranking r;
        if (tg_ranking_path(rp, sizeof rp) == TG_OK && tg_ranking_read(rp, &r) == TG_OK)
            for (size_t i = 0; i < r.count && ns < 16; i++)
                if (!r.entries[i].failed) {
                    memset(&s[ns], 0, sizeof s[ns]);
                    snprintf(s[ns].name, sizeof s[ns].name, "%s", r.entries[i].name);
                    s[ns++].overall = r.entries[i].overall;
                }
    }
    return bench_plot_write_scores(path, runs, n, peaks, s, ns);
}
