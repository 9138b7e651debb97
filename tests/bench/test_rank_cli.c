/* End to end: `tg rank` with hand-written certificates (ref passed, cpu
 * failed) ranks only ref, and device "auto" then picks ref, never cpu;
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

/* Run tg with arguments; stdout and stderr go to dir/out.txt. Exit status. */
static int run_tg(char *const argv[]) {
    char out[300];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || dup2(1, 2) < 0) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void write_cert(const char *plugin, const char *sha, int fails) {
    char path[300];
    snprintf(path, sizeof path, "%s/certs/%s.json", dir, plugin);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\n  \"suite\": \"tg-conformance\",\n  \"plugin_name\": \"%s\",\n  \"plugin_sha256\": \"%s\",\n"
               "  \"date\": \"2026-01-01T00:00:00Z\",\n  \"totals\": {\"PASS\": 100, \"FAIL\": %d, \"CRASH\": 0, \"TIMEOUT\": 0}\n}\n",
            plugin, sha, fails);
    fclose(f);
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
    write_cert("ref", sha_ref, 0);
    write_cert("cpu", sha_cpu, 3);

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
    char *bad[] = {argv[1], "bench", "--suite", "nosuch", NULL};
    tap_ok(run_tg(bad) == 2, "unknown suite: usage error");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) tap_diag("could not remove %s", dir);
    return tap_done();
}
