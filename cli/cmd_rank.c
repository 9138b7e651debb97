/* tg rank: certify (or read certificates), benchmark, score and save this
 * host's ranking, which device "auto" then follows. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tg/conform.h>
#include <tg/runtime.h>
#include "cert.h"
#include "plot.h"
#include "rank.h"
#include "runner.h"
#include "select.h"

int tg_cmd_rank(int argc, char **argv);

#define MAX_PLUGINS 16
#define MAX_CERTS 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: tg rank [--plugin NAME]... [--cert FILE]... [--certs DIR] [--no-conform]\n"
            "               [--full] [--filter REGEX] [--baseline NAME] [--plot FILE.svg] [--show]\n\n"
            "Ranks the plugins that pass conformance on this host, by benchmark speed relative\n"
            "to the baseline (default ref): a score per workload class and overall (geometric\n"
            "means), saved in this host's ranking file, which device \"auto\" follows.\n"
            "A plugin counts as certified by a `tg conform --json` certificate that passes\n"
            "`tg conform verify` (complete, this suite version, the plugin's SHA-256 of today)\n"
            "and certifies level core: given with --cert/--certs, or kept in the\n"
            "cache; otherwise tg rank runs `tg conform` on it (not with --no-conform: then it\n"
            "is left unranked). Benchmarks: the --quick suites unless --full.\n"
            "--show prints the saved ranking and what \"auto\" picks, and runs nothing.\n");
}

typedef struct cert_list {
    bench_cert c[MAX_CERTS]; /* what the certificate says of itself, to find it */
    char path[MAX_CERTS][4400];
    int n;
} cert_list;

static void add_cert(cert_list *l, const char *path) {
    if (l->n < MAX_CERTS && bench_cert_read(path, &l->c[l->n]) == 0)
        snprintf(l->path[l->n++], sizeof l->path[0], "%s", path);
}

static void add_cert_dir(cert_list *l, const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char path[4096];
        if (n < 5 || strcmp(e->d_name + n - 5, ".json")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        add_cert(l, path);
    }
    closedir(d);
}

/* The verdict of the newest certificate for this build, checked as
 * `tg conform verify` checks it (complete, this suite version, this build):
 * 1 certifies level core, 0 does not (reason filled), -1 none, or the
 * newest is refused (reason filled: incomplete, another suite version...),
 * which tells nothing about the plugin, so tg conform runs afresh. */
static int cert_verdict(const cert_list *l, const char *name, const char *sha, char *reason, size_t cap) {
    int best = -1;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->c[i].plugin, name) && !strcmp(l->c[i].sha256, sha) &&
            (best < 0 || strcmp(l->c[i].date, l->c[best].date) > 0))
            best = i;
    if (best < 0) return -1;
    const char *path = l->path[best];
    tgc_cert_info info;
    if (tgc_cert_verify(&path, 1, name, &info) != TG_OK) {
        snprintf(reason, cap, "not certified: %s: %s", path, tg_last_error());
        return -1;
    }
    if (strcmp(info.levels[0], "yes")) {
        snprintf(reason, cap, "failed conformance: level core is '%s' (%zu FAIL, %zu CRASH, %zu TIMEOUT, %zu PASS; "
                 "certificate of %s)", info.levels[0], info.totals[TGC_FAIL], info.totals[TGC_CRASH],
                 info.totals[TGC_TIMEOUT], info.totals[TGC_PASS], info.date);
        return 0;
    }
    return 1;
}

/* Run `tg conform --plugin NAME --json OUT` as a child; returns its exit status. */
static int run_conform(const char *name, const char *out) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = '\0';
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execl(self, "tg", "conform", "--plugin", name, "--json", out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int show(void) {
    char path[4096], name[128];
    tg_ranking r;
    if (tg_ranking_path(path, sizeof path) != TG_OK) {
        fprintf(stderr, "tg rank: %s\n", tg_last_error());
        return 1;
    }
    if (tg_ranking_read(path, &r) != TG_OK) {
        printf("no ranking for this host: %s\n", tg_last_error());
    } else {
        printf("%s (%s, baseline %s):\n", path, r.date, r.baseline);
        for (size_t i = 0; i < r.count; i++)
            if (r.entries[i].failed) printf("  unranked %s\n", r.entries[i].name);
            else printf("  %zu. %-10s %.3g\n", i + 1, r.entries[i].name, r.entries[i].overall);
    }
    if (tg_plugin_pick_auto(name, sizeof name) == TG_OK) printf("device \"auto\" picks: %s\n", name);
    else printf("device \"auto\": %s\n", tg_last_error());
    return 0;
}

int tg_cmd_rank(int argc, char **argv) {
    static cert_list certs;
    char *plugins[MAX_PLUGINS], cache[4096], certdir[4200], rankpath[4096];
    const char *baseline = "ref", *plot_path = NULL;
    int nplugins = 0, conform = 1;
    bench_opts o = {0};
    o.quick = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout), 0;
        else if (!strcmp(a, "--show")) return show();
        else if (!strcmp(a, "--full")) o.quick = 0;
        else if (!strcmp(a, "--no-conform")) conform = 0;
        else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) o.verbose = 1;
        else if (!strcmp(a, "--plugin") && has_val) {
            if (nplugins < MAX_PLUGINS) plugins[nplugins++] = strdup(argv[++i]);
        } else if (!strcmp(a, "--cert") && has_val) {
            const char *p = argv[++i];
            int before = certs.n;
            add_cert(&certs, p);
            if (certs.n == before) {
                fprintf(stderr, "tg rank: '%s' is not a readable tg conformance certificate\n", p);
                return 2;
            }
        } else if (!strcmp(a, "--certs") && has_val) add_cert_dir(&certs, argv[++i]);
        else if (!strcmp(a, "--filter") && has_val) o.filter = argv[++i];
        else if (!strcmp(a, "--baseline") && has_val) baseline = argv[++i];
        else if (!strcmp(a, "--plot") && has_val) plot_path = argv[++i];
        else {
            fprintf(stderr, "tg rank: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (tg_cache_dir(cache, sizeof cache) != TG_OK || tg_ranking_path(rankpath, sizeof rankpath) != TG_OK) {
        fprintf(stderr, "tg rank: %s\n", tg_last_error());
        return 1;
    }
    snprintf(certdir, sizeof certdir, "%s/certs", cache);
    add_cert_dir(&certs, certdir);
    if (nplugins == 0) nplugins = bench_all_plugins(plugins, MAX_PLUGINS);

    /* Who is certified: the baseline is benchmarked in any case (run 0). */
    const char *bench_list[MAX_PLUGINS + 1];
    int nbench = 0, base_ranked = 0;
    bench_unranked unranked[MAX_PLUGINS];
    char shas[MAX_PLUGINS][65];
    int nunranked = 0;
    bench_list[nbench++] = baseline;
    for (int i = 0; i < nplugins; i++) {
        char reason[256] = "", out[4400];
        int v;
        if (tg_plugin_sha256(plugins[i], shas[i]) != TG_OK) {
            fprintf(stderr, "tg rank: skipping %s: %s\n", plugins[i], tg_last_error());
            shas[i][0] = '\0';
            continue;
        }
        v = cert_verdict(&certs, plugins[i], shas[i], reason, sizeof reason);
        if (v < 0 && conform) {
            if (reason[0]) fprintf(stderr, "tg rank: %s: %s\n", plugins[i], reason);
            snprintf(out, sizeof out, "%s/%s-%.12s.json", certdir, plugins[i], shas[i]);
            bench_make_parent_dirs(out);
            fprintf(stderr, "tg rank: no usable certificate for %s (sha256 %.12s); running tg conform...\n", plugins[i], shas[i]);
            int rc = run_conform(plugins[i], out);
            int before = certs.n;
            add_cert(&certs, out);
            v = certs.n > before ? cert_verdict(&certs, plugins[i], shas[i], reason, sizeof reason) : -1;
            if (certs.n == before)
                snprintf(reason, sizeof reason, "tg conform exited with %d and wrote no certificate", rc);
        } else if (v < 0 && !reason[0]) {
            snprintf(reason, sizeof reason, "no certificate for this build (sha256 %.12s)", shas[i]);
        }
        if (v == 1) {
            if (!strcmp(plugins[i], baseline)) base_ranked = 1;
            else if (nbench <= MAX_PLUGINS) bench_list[nbench++] = plugins[i];
        } else if (nunranked < MAX_PLUGINS) {
            bench_unranked *u = &unranked[nunranked++];
            u->failed = v == 0;
            snprintf(u->name, sizeof u->name, "%.63s", plugins[i]);
            snprintf(u->sha256, sizeof u->sha256, "%.64s", shas[i]);
            snprintf(u->reason, sizeof u->reason, "%s", reason[0] ? reason : "not certified");
            fprintf(stderr, "tg rank: not ranking %s: %s\n", plugins[i], u->reason);
        }
    }

    bench_plugin_run runs[MAX_PLUGINS + 1];
    o.timeout_s = o.quick ? 120 : 0;
    bench_run_plugins(bench_list, nbench, &o, runs);
    if (!runs[0].ok || runs[0].count == 0) {
        fprintf(stderr, "tg rank: the baseline %s did not run: %s\n", baseline, runs[0].error);
        bench_plugin_run_free(runs, nbench);
        return 1;
    }
    bench_score scores[MAX_PLUGINS + 1];
    bench_score_runs(runs, nbench, 0, scores);
    int nscores = 0;
    for (int i = 0; i < nbench; i++) { /* the baseline only if it is itself certified */
        if (i == 0 && !base_ranked) continue;
        if (!runs[i].ok) {
            if (nunranked < MAX_PLUGINS) {
                bench_unranked *u = &unranked[nunranked++];
                u->failed = 1;
                snprintf(u->name, sizeof u->name, "%.63s", runs[i].name);
                tg_plugin_sha256(runs[i].name, u->sha256);
                snprintf(u->reason, sizeof u->reason, "benchmark failed: %.200s", runs[i].error);
            }
            continue;
        }
        scores[nscores] = scores[i];
        tg_plugin_sha256(scores[nscores].name, scores[nscores].sha256);
        nscores++;
    }
    bench_score_sort(scores, nscores);
    bench_print_ranking(stdout, baseline, scores, nscores);
    for (int i = 0; i < nunranked; i++) printf("  unranked %s: %s\n", unranked[i].name, unranked[i].reason);
    int rc = 0;
    if (bench_ranking_write(rankpath, baseline, scores, nscores, unranked, nunranked) != TG_OK) {
        fprintf(stderr, "tg rank: %s\n", tg_last_error());
        rc = 1;
    } else {
        printf("saved %s\n", rankpath);
    }
    if (plot_path && bench_plot_write_scores(plot_path, runs, nbench, NULL, scores, nscores) != 0) {
        fprintf(stderr, "tg rank: %s\n", tg_last_error());
        rc = 1;
    }
    bench_plugin_run_free(runs, nbench);
    for (int i = 0; i < nplugins; i++) free(plugins[i]);
    return rc;
}
