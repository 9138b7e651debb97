/* The benchmark harness: the C wrapper over Google Benchmark (a trivial
 * benchmark, its Google Benchmark JSON), scores, the ranking file round
 * trip, certificates, and the SVG plot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cert.h"
#include "plot.h"
#include "rank.h"
#include "select.h"
#include "tap.h"
#include "tgbench.h"
#include "wellformed.h"

static char dir[256];

static float data[4096];
static volatile float sink;

static void bm_sum(tgb_state *s, void *arg) {
    int *calls = arg;
    (*calls)++;
    while (tgb_keep_running(s)) {
        float acc = 0;
        for (int i = 0; i < 4096; i++) acc += data[i];
        sink = acc;
    }
    tgb_counter(s, "GB/s", 4096 * 4 * 1e-9, TGB_RATE);
    tgb_counter(s, "items", 4096, TGB_PLAIN);
}

static void bm_skip(tgb_state *s, void *arg) { tgb_skip(s, "not here"); }

static void test_wrapper(void) {
    char json[300];
    int calls = 0;
    tgb_result *res;
    size_t n;
    for (int i = 0; i < 4096; i++) data[i] = (float)i;
    snprintf(json, sizeof json, "%s/out.json", dir);
    tap_ok(tgb_register("", bm_sum, NULL) == -1, "empty name refused");
    tgb_register("test/sum_4096", bm_sum, &calls);
    tgb_register("test/skipped", bm_skip, NULL);
    tgb_register("other/excluded", bm_sum, &calls);
    tgb_options o = {"^test/", json, 0.01, 0, NULL, NULL};
    if (!tap_ok(tgb_run(&o, &res, &n) == 0, "tgb_run")) return;
    tap_ok(n == 2, "the filter keeps 2 of 3 benchmarks (%zu)", n);
    if (n == 2) {
        tap_ok(!strcmp(res[0].name, "test/sum_4096") && !res[0].error && res[0].iterations > 0 && res[0].real_ns > 0,
               "sum ran: %lld iterations, %.0f ns each", (long long)res[0].iterations, res[0].real_ns);
        double gbs = tgb_result_counter(&res[0], "GB/s", -1);
        /* the rate is bytes per iteration over the measured time per iteration */
        tap_ok(gbs > 0 && fabs(gbs - 16384 / res[0].real_ns) < 1e-6 * gbs + 1e-9,
               "GB/s counter is bytes / time per iteration (%.3f)", gbs);
        tap_ok(tgb_result_counter(&res[0], "items", -1) == 4096, "plain counter kept as given");
        tap_ok(res[1].error && !strcmp(res[1].message, "not here"), "a skipped benchmark carries its reason");
        tap_ok(calls >= 1, "the benchmark function was called (%d times)", calls);
    }
    tgb_results_free(res);
    char *s = bench_read_file(json);
    tap_ok(s && json_valid(s), "Google Benchmark JSON is valid JSON");
    tap_ok(s && strstr(s, "\"benchmarks\"") && strstr(s, "\"test/sum_4096/real_time\"") && strstr(s, "\"context\""),
           "JSON has context and the benchmark by name");
    free(s);
    remove(json);
}

/* Fake runs: ref, and "fast" at 2x in elementwise and 8x in matmul. */
static void fake_runs(bench_plugin_run *runs) {
    static tgb_result r[2][3];
    const char *names[3] = {"elementwise/add", "matmul/mm", "reduction/sum"};
    double t_ref[3] = {100, 800, 50}, t_fast[3] = {50, 100, 50};
    memset(runs, 0, 2 * sizeof *runs);
    for (int p = 0; p < 2; p++) {
        snprintf(runs[p].name, sizeof runs[p].name, "%s", p ? "fast" : "ref");
        runs[p].ok = 1;
        runs[p].results = r[p];
        runs[p].count = 3;
        for (int i = 0; i < 3; i++) {
            memset(&r[p][i], 0, sizeof r[p][i]);
            snprintf(r[p][i].name, sizeof r[p][i].name, "%s/%s", runs[p].name, names[i]);
            r[p][i].real_ns = p ? t_fast[i] : t_ref[i];
            r[p][i].iterations = 10;
            r[p][i].ncounters = 2;
            snprintf(r[p][i].counter_name[0], 24, "GFLOP/s");
            r[p][i].counter_value[0] = (i == 1 ? 2e6 : 1e4) / r[p][i].real_ns;
            snprintf(r[p][i].counter_name[1], 24, "GB/s");
            r[p][i].counter_value[1] = 4e4 / r[p][i].real_ns;
        }
    }
    r[1][2].error = 1; /* "fast" could not run the reduction */
}

static void test_scores_and_file(void) {
    bench_plugin_run runs[2];
    bench_score s[2];
    fake_runs(runs);
    bench_score_runs(runs, 2, 0, s);
    tap_ok(fabs(s[0].overall - 1) < 1e-12, "baseline scores 1");
    tap_ok(fabs(s[1].cls[0] - 2) < 1e-12 && fabs(s[1].cls[2] - 8) < 1e-12 && s[1].nwork[1] == 0,
           "class scores: elementwise 2, matmul 8, reduction not scored (skipped)");
    tap_ok(fabs(s[1].overall - 4) < 1e-12, "overall: geometric mean of classes = 4 (%g)", s[1].overall);
    bench_score_sort(s, 2);
    tap_ok(!strcmp(s[0].name, "fast"), "sorted best first");

    char path[300], fp[17];
    snprintf(path, sizeof path, "%s/sub/dir/ranking.txt", dir);
    memset(s[0].sha256, 'a', 64), s[0].sha256[64] = '\0';
    memset(s[1].sha256, 'b', 64), s[1].sha256[64] = '\0';
    bench_unranked u[2] = {{1, "bad", "", "3 FAIL"}, {0, "nocert", "", "no certificate"}};
    memset(u[0].sha256, 'c', 64), u[0].sha256[64] = '\0';
    tap_ok(bench_ranking_write(path, "ref", s, 2, u, 2) == TG_OK, "ranking written (directories created)");
    tg_ranking r;
    tg_host_fingerprint(fp, NULL, 0);
    tap_ok(tg_ranking_read(path, &r) == TG_OK, "ranking read back: %s", tg_last_error());
    tap_ok(r.count == 3 && !strcmp(r.host, fp) && !strcmp(r.baseline, "ref") && r.date[0], "header: host, baseline, date");
    tap_ok(!strcmp(r.entries[0].name, "fast") && fabs(r.entries[0].overall - 4) < 1e-3 && !r.entries[0].failed &&
               r.entries[0].sha256[0] == 'a',
           "first entry: fast, 4");
    tap_ok(!strcmp(r.entries[2].name, "bad") && r.entries[2].failed && r.entries[2].sha256[0] == 'c',
           "failed entry kept; 'unranked' lines ignored");
    remove(path);
    snprintf(path, sizeof path, "%s/sub/dir", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
}

static void test_cert(void) {
    char path[300];
    bench_cert c;
    snprintf(path, sizeof path, "%s/cert.json", dir);
    for (int fail = 0; fail < 2; fail++) {
        FILE *f = fopen(path, "w");
        fprintf(f, "{\n  \"suite\": \"tg-conformance\",\n  \"plugin_name\": \"cpu\",\n  \"plugin_sha256\": \"%064d\",\n"
                   "  \"date\": \"2026-01-01T00:00:00Z\",\n  \"totals\": {\"PASS\": 10, \"FAIL\": %d, \"CRASH\": 0, \"TIMEOUT\": 0},\n"
                   "  \"levels\": {\"core\": \"yes\"},\n  \"table\": {\"ADD\": {\"float32\": {\"PASS\": 10, \"FAIL\": 0}}}\n}\n", 7, fail * 2);
        fclose(f);
        tap_ok(bench_cert_read(path, &c) == 0 && !strcmp(c.plugin, "cpu") && c.sha256[63] == '7' && c.pass == 10 &&
                   c.fail == fail * 2 && c.passed == !fail,
               "certificate with %d FAIL: passed is %d", fail * 2, !fail);
    }
    for (int k = 0; k < 2; k++) { /* all PASS, but level core not reached (a shard, a filter; or no levels) */
        FILE *f = fopen(path, "w");
        fprintf(f, "{\n  \"suite\": \"tg-conformance\",\n  \"plugin_name\": \"cpu\",\n  \"plugin_sha256\": \"%064d\",\n"
                   "  \"totals\": {\"PASS\": 1, \"FAIL\": 0, \"CRASH\": 0, \"TIMEOUT\": 0},\n%s}\n", 7,
                k ? "" : "  \"levels\": {\"core\": \"partial\", \"full\": \"yes\"},\n");
        fclose(f);
        tap_ok(bench_cert_read(path, &c) == 0 && !c.passed, "a certificate whose core is %s has not passed",
               k ? "absent" : "partial");
    }
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"suite\": \"something else\"}\n");
    fclose(f);
    tap_ok(bench_cert_read(path, &c) == -1, "not a certificate: refused");
    remove(path);
}

static void test_plot(void) {
    bench_plugin_run runs[2];
    bench_score s[2];
    bench_peaks pk = {50.0, 10.0, 2};
    char path[300];
    fake_runs(runs);
    bench_score_runs(runs, 2, 0, s);
    snprintf(path, sizeof path, "%s/plot.svg", dir);
    tap_ok(bench_plot_write_scores(path, runs, 2, &pk, s, 2) == 0, "plot written");
    char *svg = bench_read_file(path);
    tap_ok(svg && xml_wellformed(svg), "plot is well-formed XML");
    tap_ok(svg && strstr(svg, "<svg xmlns='http://www.w3.org/2000/svg'"), "root element is svg");
    int points = 0;
    for (const char *p = svg; p && (p = strstr(p, "<title>")); p++) points++;
    /* 5 measured points (fast's skipped reduction is not drawn), 2 overall
     * bars, class bars: ref 3 (itself on every class), fast 2 */
    tap_ok(points == 12, "one titled mark per measured kernel and per bar (%d)", points);
    tap_ok(svg && strstr(svg, "peak 50.0 GFLOP/s, 10.0 GB/s"), "roof labelled with the peaks");
    free(svg);
    remove(path);
    tap_ok(bench_plot_write_scores("/nonexistent-dir/x.svg", runs, 2, &pk, s, 2) == -1 && tg_last_error()[0],
           "unwritable plot path: error, no crash");
    tap_ok(bench_plot_write_scores("/tmp/x.png", runs, 2, &pk, s, 2) == -1 && strstr(tg_last_error(), "SVG"),
           "a .png path is refused with a message");
    tap_ok(xml_wellformed("<svg><a x='1'/></svg>") && !xml_wellformed("<svg><a></svg>") && !xml_wellformed("<svg x=1/>"),
           "the XML checker itself rejects bad nesting and unquoted attributes");
    tap_ok(json_valid("{\"a\": [1, -2.5e3, true, null, \"x\"]}") && !json_valid("{\"a\": [1,]}") && !json_valid("{'a': 1}"),
           "the JSON checker itself rejects trailing commas and single quotes");
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/tg-test-bench-XXXXXX");
    if (!mkdtemp(dir)) return tap_ok(0, "mkdtemp"), tap_done();
    test_wrapper();
    test_scores_and_file();
    test_cert();
    test_plot();
    rmdir(dir);
    return tap_done();
}
