/* End to end: `tg rank` with certificates (ref's from tg conform, passed;
 * cpu's made from it, failed) ranks only ref, and device "auto" then picks ref, never cpu;
 * `tg bench` writes valid Google Benchmark JSON and a well-formed SVG.
 * argv[1] is the tg executable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tg/runtime.h>
#include "select.h"
#include "cert.h"
#include "tap.h"
#include "wellformed.h"

static char dir[256];

/* Run tg with arguments; stdout goes to `to` (NULL: dir/out.txt), stderr
 * to dir/out.txt. Exit status. */
static int run_tg_to(char *const argv[], const char *to) {
    char out[300];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || dup2(1, 2) < 0) _exit(127);
        if (to && !freopen(to, "w", stdout)) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int run_tg(char *const argv[]) { return run_tg_to(argv, NULL); }

/* certs/ref.json from `tg conform` on ref (`filter`: only the cases it
 * matches); 0 if it ran. */
static int conform_ref(const char *tg, const char *filter) {
    char path[300];
    snprintf(path, sizeof path, "%s/certs/ref.json", dir);
    char *all[] = {(char *)tg, "conform", "--plugin", "ref", "--jobs", "2", "--timeout", "120", "--json", path, NULL};
    char *some[] = {(char *)tg, "conform", "--plugin", "ref", "--filter", (char *)filter, "--json", path, NULL};
    return run_tg(filter ? some : all);
}

/* certs/cpu.json: ref's certificate made cpu's (name, hash) with one core
 * case failed. */
static void fake_cpu_cert(const char *sha_ref, const char *sha_cpu) {
    char in[300], out[300];
    snprintf(in, sizeof in, "%s/certs/ref.json", dir);
    snprintf(out, sizeof out, "%s/certs/cpu.json", dir);
    char *text = bench_read_file(in), *p;
    FILE *f = fopen(out, "w");
    if (!text || !f) return;
    if ((p = strstr(text, "\"plugin_name\": \"ref\""))) memcpy(p + 16, "cpu", 3);
    if ((p = strstr(text, sha_ref))) memcpy(p, sha_cpu, 64);
    if ((p = strstr(text, "\"levels\": 3, \"result\": \"PASS\""))) {
        *p = '\0';
        fprintf(f, "%s\"levels\": 3, \"result\": \"FAIL\"%s", text, p + strlen("\"levels\": 3, \"result\": \"PASS\""));
    }
    fclose(f);
    free(text);
}

int main(int argc, char **argv) {
    char sha_ref[65], sha_cpu[65], certs[300], rankpath[4096], name[64], json[300], svg[300];
    tg_plugin *p = NULL;
    if (argc < 2) return tap_ok(0, "usage: test_rank_cli TG"), tap_done();
    snprintf(dir, sizeof dir, "/tmp/tg-test-rank-XXXXXX");
    if (!mkdtemp(dir)) return tap_ok(0, "mkdtemp"), tap_done();
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("TG_DEVICE");
    snprintf(certs, sizeof certs, "%s/certs", dir);
    mkdir(certs, 0755);
    if (tg_plugin_open("cpu", &p) != TG_OK) {
        tap_skip("no cpu plugin here: the failed-plugin case needs one");
        return tap_done();
    }
    tg_plugin_close(p);
    tg_plugin_sha256("ref", sha_ref);
    tg_plugin_sha256("cpu", sha_cpu);
    /* a one-case certificate (a filter, a shard) certifies nothing: tg rank
       checks certificates as `tg conform verify` does */
    conform_ref(argv[1], "op.ADD.float32.shape=17x3");
    char *rank1[] = {argv[1], "rank", "--plugin", "ref", "--plugin", "cpu", "--no-conform", "--certs", certs,
                     "--filter", "elementwise/copy", NULL};
    int rc1 = run_tg(rank1);
    char out1[300];
    snprintf(out1, sizeof out1, "%s/out.txt", dir);
    char *text1 = bench_read_file(out1);
    tap_ok(text1 && !strstr(text1, "1  ref") && strstr(text1, "unranked ref: not certified: ") &&
               strstr(text1, "incomplete: "),
           "a one-case certificate (incomplete) does not rank ref (rc %d)", rc1);
    if (text1 && !strstr(text1, "incomplete")) tap_diag("%s", text1);
    free(text1);
    tg_ranking r1;
    tg_ranking_path(rankpath, sizeof rankpath);
    int ranked = tg_ranking_read(rankpath, &r1) == TG_OK;
    for (size_t i = 0; ranked && i < r1.count; i++)
        if (!strcmp(r1.entries[i].name, "ref") && !r1.entries[i].failed) ranked = 2;
    tap_ok(ranked != 2, "so the ranking file does not rank it either");
    tap_ok(conform_ref(argv[1], NULL) == 0, "tg conform certifies ref");
    fake_cpu_cert(sha_ref, sha_cpu);

    char *rank[] = {argv[1], "rank", "--plugin", "ref", "--plugin", "cpu", "--no-conform", "--certs", certs,
                    "--filter", "elementwise/copy", NULL};
    int rc = run_tg(rank);
    char out[300];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    char *text = bench_read_file(out);
    tap_ok(rc == 0, "tg rank exits 0 (%d)", rc);
    tap_ok(text && strstr(text, "1  ref") && strstr(text, "unranked cpu: failed conformance"),
           "ref ranked, cpu left out as failed");
    if (rc != 0 && text) tap_diag("%s", text);
    free(text);

    tg_ranking r;
    tg_ranking_path(rankpath, sizeof rankpath);
    tap_ok(tg_ranking_read(rankpath, &r) == TG_OK && r.count == 2 && !strcmp(r.entries[0].name, "ref") &&
               !r.entries[0].failed && !strcmp(r.entries[0].sha256, sha_ref) && !strcmp(r.entries[1].name, "cpu") &&
               r.entries[1].failed,
           "ranking file: rank ref (its hash), failed cpu");
    tap_ok(tg_plugin_pick_auto(name, sizeof name) == TG_OK && !strcmp(name, "ref"),
           "device auto picks ref, not the failed cpu (got %s)", name);

    snprintf(json, sizeof json, "%s/bench.json", dir);
    snprintf(svg, sizeof svg, "%s/bench.svg", dir);
    char *bench[] = {argv[1], "bench", "--plugin", "ref", "--quick", "--filter", "elementwise/copy|overhead/launch",
                     "--json", json, "--plot", svg, NULL};
    rc = run_tg(bench);
    tap_ok(rc == 0, "tg bench exits 0 (%d)", rc);
    text = bench_read_file(json);
    tap_ok(text && json_valid(text) && strstr(text, "\"ref/elementwise/copy_1024k/real_time\"") &&
               strstr(text, "\"ref/overhead/launch_sync/real_time\""),
           "tg bench --json: valid JSON with both benchmarks");
    free(text);
    text = bench_read_file(svg);
    tap_ok(text && xml_wellformed(text) && strstr(text, "<svg"), "tg bench --plot: well-formed SVG");
    free(text);
    char *one_bad[] = {argv[1], "bench", "--plugin", "ref", "--plugin", "nosuch-plugin", "--quick", "--filter",
                       "overhead/launch", NULL};
    tap_ok(run_tg(one_bad) == 1, "tg bench exits 1 when one of its plugins fails");
    char *full_json[] = {argv[1], "bench", "--plugin", "ref", "--quick", "--filter", "overhead/launch", "--json",
                         "/dev/full", NULL};
    tap_ok(run_tg(full_json) == 1, "tg bench --json on a full disk exits 1");
    char *full_out[] = {argv[1], "bench", "--plugin", "ref", "--quick", "--filter", "overhead/launch", NULL};
    tap_ok(run_tg_to(full_out, "/dev/full") == 1, "tg bench with its table to a full disk exits 1");
    char *bad[] = {argv[1], "bench", "--suite", "nosuch", NULL};
    tap_ok(run_tg(bad) == 2, "unknown suite: usage error");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) tap_diag("could not remove %s", dir);
    return tap_done();
}
