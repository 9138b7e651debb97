/* Scores and the ranking file (see rank.h; the format is in core/src/select.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "rank.h"
#include "select.h"
#include "suites.h"

static int class_index(const char *workload) {
    for (int c = 0; c < RANK_CLASSES; c++) {
        size_t n = strlen(tg_bench_classes[c]);
        if (!strncmp(workload, tg_bench_classes[c], n) && workload[n] == '/') return c;
    }
    return -1;
}

void bench_score_runs(const bench_plugin_run *runs, int n, int baseline, bench_score *out) {
    for (int i = 0; i < n; i++) {
        double logsum[RANK_CLASSES] = {0}, total = 0;
        int classes = 0;
        memset(&out[i], 0, sizeof out[i]);
        snprintf(out[i].name, sizeof out[i].name, "%s", runs[i].name);
        for (size_t j = 0; j < runs[i].count; j++) {
            const tgb_result *r = &runs[i].results[j];
            const char *w = bench_workload(r->name);
            const tgb_result *b = bench_find(&runs[baseline], w);
            int c = class_index(w);
            if (c < 0 || r->error || !b || b->error || r->real_ns <= 0 || b->real_ns <= 0) continue;
            logsum[c] += log(b->real_ns / r->real_ns);
            out[i].nwork[c]++;
        }
        for (int c = 0; c < RANK_CLASSES; c++) {
            if (!out[i].nwork[c]) continue;
            out[i].cls[c] = exp(logsum[c] / out[i].nwork[c]);
            total += log(out[i].cls[c]);
            classes++;
        }
        out[i].overall = classes ? exp(total / classes) : 0;
    }
}

static int by_overall(const void *a, const void *b) {
    double x = ((const bench_score *)a)->overall, y = ((const bench_score *)b)->overall;
    return x < y ? 1 : x > y ? -1 : strcmp(((const bench_score *)a)->name, ((const bench_score *)b)->name);
}

void bench_score_sort(bench_score *s, int n) { qsort(s, (size_t)n, sizeof *s, by_overall); }

int bench_make_parent_dirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

tg_status bench_ranking_write(const char *path, const char *baseline, const bench_score *s, int n,
                              const bench_unranked *failed, int nfailed) {
    char fp[17], desc[512], tmp[4200], date[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    tg_host_fingerprint(fp, desc, sizeof desc);
    if (bench_make_parent_dirs(path) != 0) return tg_error(TG_ERR_IO, "cannot create the directory of '%s'", path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return tg_error(TG_ERR_IO, "cannot write '%s'", tmp);
    fprintf(f, "# tg ranking: written by `tg rank`, read by device \"auto\". Scores are speed\n"
               "# relative to the baseline (geometric means per class, then overall).\n");
    fprintf(f, "tg-ranking 1\nhost %s %s\ndate %s\nbaseline %s\n", fp, desc, date, baseline);
    for (int i = 0; i < n; i++) {
        fprintf(f, "rank %s %s %.4g", s[i].name, s[i].sha256, s[i].overall);
        for (int c = 0; c < RANK_CLASSES; c++)
            if (s[i].nwork[c]) fprintf(f, " %s=%.4g", tg_bench_classes[c], s[i].cls[c]);
        fprintf(f, "\n");
    }
    for (int i = 0; i < nfailed; i++)
        fprintf(f, "%s %s %s %s\n", failed[i].failed ? "failed" : "unranked", failed[i].name,
                failed[i].sha256[0] ? failed[i].sha256 : "-", failed[i].reason);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return tg_error(TG_ERR_IO, "cannot write '%s'", path);
    }
    return TG_OK;
}

void bench_print_ranking(FILE *f, const char *baseline, const bench_score *s, int n) {
    fprintf(f, "ranking (speed relative to %s; geometric means):\n", baseline);
    fprintf(f, "  #  %-10s %8s", "plugin", "overall");
    for (int c = 0; c < RANK_CLASSES; c++) fprintf(f, " %11s", tg_bench_classes[c]);
    fprintf(f, "\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "  %d  %-10s %8.3g", i + 1, s[i].name, s[i].overall);
        for (int c = 0; c < RANK_CLASSES; c++) {
            if (s[i].nwork[c]) fprintf(f, " %11.3g", s[i].cls[c]);
            else fprintf(f, " %11s", "-");
        }
        fprintf(f, "\n");
    }
}
