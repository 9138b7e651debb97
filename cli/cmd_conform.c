/* tg conform: certify a plugin against ref with the conformance suite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tg/conform.h>
#include "commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tg conform [--plugin NAME|PATH] [--all] [--filter GLOB]... [--case ID]...\n"
            "                  [--case-file F] [--shard I/N] [--jobs N|auto] [--timeout S]\n"
            "                  [--tap FILE] [--junit FILE] [--json FILE] [--expectations FILE]\n"
            "                  [--ref NAME|PATH] [--list]\n"
            "       tg conform merge A.json B.json... -o OUT.json\n"
            "       tg conform verify CERT.json... [--plugin NAME|PATH]\n\n"
            "Runs the conformance suite on a plugin (default: ref), judging it against ref.\n"
            "TAP 14 goes to stdout (or --tap FILE); a progress bar and a summary table go to\n"
            "stderr when it is a terminal. --all certifies every plugin found (outputs get the\n"
            "plugin's name before their extension). A GLOB without '*' or '?' matches as a\n"
            "substring. --shard I/N runs the I-th of N parts (1-based): a case's part is a hash\n"
            "of its id. --jobs N: N children at a time; auto: one per two cores. Each child\n"
            "gets TG_THREADS = max(2, cores / N) unless TG_THREADS is set.\n"
            "--timeout: seconds a group's child may go without finishing a case (default 20);\n"
            "after 3 timeouts in a row the cases not yet run are settled as TIMEOUT unrun.\n"
            "Exit status: 0 all passed, 1 a FAIL/CRASH/TIMEOUT or no case executed, 2 usage.\n"
            "verify: checks a certificate (or a run's shards) against this tg: every shard and\n"
            "case once, this suite version, the installed plugin's SHA-256; prints the levels;\n"
            "exit 0 if it certifies one, 1 with the reason otherwise.\n");
}

typedef struct conform_args {
    const char *plugin, *ref, *tap, *junit, *json, *expectations, *case_file;
    const char **filters, **ids;
    int nfilters, nids, all, list, jobs, shard_i, shard_n;
    double timeout;
} conform_args;

static int selected(const conform_args *a, const tgc_case *c) {
    if (a->nids) {
        int hit = 0;
        for (int i = 0; i < a->nids; i++) hit |= !strcmp(a->ids[i], c->id);
        if (!hit) return 0;
    }
    if (a->nfilters) {
        int hit = 0;
        for (int i = 0; i < a->nfilters && !hit; i++) {
            const char *g = a->filters[i];
            if (strpbrk(g, "*?")) hit = tgc_glob(g, c->id);
            else hit = strstr(c->id, g) != NULL;
        }
        if (!hit) return 0;
    }
    if (a->shard_n > 1 && tgc_shard_of(c->id, a->shard_n) != a->shard_i) return 0;
    return 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* "cert.json" + "cpu" -> "cert.cpu.json" (only with --all). */
static const char *per_plugin(const char *path, const char *name, int all, char *buf, size_t cap) {
    if (!path || !all) return path;
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) snprintf(buf, cap, "%s.%s", path, name);
    else snprintf(buf, cap, "%.*s.%s%s", (int)(dot - path), path, name, dot);
    return buf;
}

/* Certify one plugin; *points counts the TAP test points printed so far.
 * Returns the exit status. */
static int conform_one(const conform_args *a, const char *plugin, const tgc_catalog *cat, const tgc_expect *ex,
                       FILE *tap, size_t *points) {
    tgc_plugin_facts facts;
    if (tgc_plugin_facts_get(plugin, &facts) != TG_OK || !facts.loaded) {
        fprintf(stderr, "tg conform: plugin '%s' does not load: %s\n", plugin, facts.error[0] ? facts.error : tg_last_error());
        return 1;
    }
    size_t *sel = malloc((cat->count ? cat->count : 1) * sizeof *sel), nsel = 0;
    tgc_outcome *out = NULL;
    if (!sel) return 1;
    for (size_t i = 0; i < cat->count; i++)
        if (selected(a, &cat->cases[i])) sel[nsel++] = i;
    if (nsel == 0) {
        fprintf(stderr, "tg conform: no case matches the selection\n");
        free(sel);
        return 1;
    }
    out = calloc(nsel, sizeof *out);
    if (!out) {
        free(sel);
        return 1;
    }
    fprintf(tap, "# tg conform: plugin %s %s (%s), %zu cases, device: %s\n", facts.name,
            facts.version, facts.path, nsel, facts.ndevices ? facts.device : "none on this host");
    tgc_options opt = {.plugin = plugin, .ref = a->ref, .jobs = a->jobs, .timeout_s = a->timeout,
                       .progress = isatty(2), .tap = tap, .tap_offset = *points};
    double t0 = now();
    tg_status st = tgc_run(cat, sel, nsel, &opt, ex, out);
    tgc_report rep = {cat, sel, nsel, out, &facts, now() - t0, a->shard_n ? a->shard_i : 1, a->shard_n ? a->shard_n : 1};
    *points += nsel;
    size_t bad = 0, executed = 0, counts[TGC_RESULT_COUNT] = {0};
    for (size_t i = 0; i < nsel; i++) {
        tgc_result r = out[i].result;
        counts[r]++;
        bad += r == TGC_FAIL || r == TGC_CRASH || r == TGC_TIMEOUT || r == TGC_NOTRUN;
        executed += r != TGC_UNSUPPORTED && r != TGC_NOTRUN;
    }
    fprintf(tap, "# %s: %zu pass, %zu fail, %zu unsupported, %zu xfail, %zu xpass, %zu crash, %zu timeout in %.1f s\n",
            facts.name, counts[TGC_PASS], counts[TGC_FAIL], counts[TGC_UNSUPPORTED], counts[TGC_XFAIL],
            counts[TGC_XPASS], counts[TGC_CRASH], counts[TGC_TIMEOUT], rep.seconds);
    if (isatty(2)) tgc_report_summary(stderr, &rep);
    char buf[1024];
    if (a->junit && tgc_report_junit(per_plugin(a->junit, facts.name, a->all, buf, sizeof buf), &rep) != TG_OK)
        fprintf(stderr, "tg conform: %s\n", tg_last_error()), bad++;
    if (a->json && tgc_report_json(per_plugin(a->json, facts.name, a->all, buf, sizeof buf), &rep) != TG_OK)
        fprintf(stderr, "tg conform: %s\n", tg_last_error()), bad++;
    if (st != TG_OK) fprintf(stderr, "tg conform: %s\n", tg_last_error()), bad++;
    if (!executed) {
        fprintf(stderr, "tg conform: plugin %s executed no case (%s)\n", facts.name,
                facts.ndevices ? "every case unsupported" : facts.error);
        fprintf(tap, "# no case executed: this run fails\n");
    }
    for (size_t i = 0; i < nsel; i++) {
        free(out[i].detail);
        free(out[i].xfail_reason);
    }
    free(out);
    free(sel);
    return bad || !executed ? 1 : 0;
}

static int cmd_merge(int argc, char **argv) {
    const char *outp = NULL;
    const char **in = calloc((size_t)argc, sizeof *in);
    int n = 0;
    for (int i = 1; in && i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) outp = argv[++i];
        else in[n++] = argv[i];
    }
    if (!outp || n == 0) {
        fprintf(stderr, "usage: tg conform merge A.json B.json... -o OUT.json\n");
        free(in);
        return 2;
    }
    tg_status st = tgc_report_merge(in, n, outp);
    free(in);
    if (st != TG_OK) {
        fprintf(stderr, "tg conform merge: %s\n", tg_last_error());
        return 1;
    }
    return 0;
}

/* tg conform verify CERT... [--plugin NAME|PATH]: exit 0 when the
 * certificate checks and certifies at least one level. */
static int cmd_verify(int argc, char **argv) {
    const char *plugin = NULL;
    const char **in = calloc((size_t)argc, sizeof *in);
    int n = 0;
    for (int i = 1; in && i < argc; i++) {
        if (!strcmp(argv[i], "--plugin") && i + 1 < argc) plugin = argv[++i];
        else if (argv[i][0] == '-') n = -argc; /* an unknown option: usage */
        else in[n++] = argv[i];
    }
    if (n <= 0) {
        fprintf(stderr, "usage: tg conform verify CERT.json... [--plugin NAME|PATH]\n"
                        "  (several certificates: the shards of one run, checked as merged)\n");
        free(in);
        return 2;
    }
    tgc_cert_info info;
    tg_status st = tgc_cert_verify(in, n, plugin, &info);
    free(in);
    if (st != TG_OK) {
        fprintf(stderr, "tg conform verify: refused: %s\n", tg_last_error());
        return 1;
    }
    printf("certificate of plugin %s (sha256 %.16s...), suite %s, %d shard%s, %zu cases: %zu pass, %zu fail, "
           "%zu unsupported, %zu xfail, %zu crash, %zu timeout\n", info.plugin, info.sha256, info.suite, info.shards,
           info.shards == 1 ? "" : "s", info.cases, info.totals[TGC_PASS] + info.totals[TGC_XPASS], info.totals[TGC_FAIL],
           info.totals[TGC_UNSUPPORTED], info.totals[TGC_XFAIL], info.totals[TGC_CRASH], info.totals[TGC_TIMEOUT]);
    int certified = 0;
    for (int l = 0; l < TGC_LEVEL_COUNT; l++) {
        int yes = !strcmp(info.levels[l], "yes");
        certified += yes;
        printf("  %-10s %s\n", tgc_level_name(l), yes ? "certified" : info.levels[l]);
    }
    if (!certified) fprintf(stderr, "tg conform verify: the certificate certifies no level\n");
    return certified ? 0 : 1;
}

static int parse_args(int argc, char **argv, conform_args *a) {
    a->ref = "ref";
    a->jobs = 1;
    a->timeout = 20;
    a->filters = calloc((size_t)argc, sizeof *a->filters);
    a->ids = calloc((size_t)argc, sizeof *a->ids);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(o, "--all")) { a->all = 1; takes = 0; }
        else if (!strcmp(o, "--list")) { a->list = 1; takes = 0; }
        else if (!v) { fprintf(stderr, "tg conform: '%s' needs a value (or is unknown)\n", o); return 2; }
        else if (!strcmp(o, "--plugin")) a->plugin = v;
        else if (!strcmp(o, "--ref")) a->ref = v;
        else if (!strcmp(o, "--filter")) a->filters[a->nfilters++] = v;
        else if (!strcmp(o, "--case")) a->ids[a->nids++] = v;
        else if (!strcmp(o, "--case-file")) a->case_file = v;
        else if (!strcmp(o, "--tap")) a->tap = v;
        else if (!strcmp(o, "--junit")) a->junit = v;
        else if (!strcmp(o, "--json")) a->json = v;
        else if (!strcmp(o, "--expectations")) a->expectations = v;
        else if (!strcmp(o, "--jobs")) {
            a->jobs = strcmp(v, "auto") ? atoi(v) : tgc_jobs_auto();
            if (a->jobs < 1) { fprintf(stderr, "tg conform: --jobs wants a number >= 1 or 'auto'\n"); return 2; }
        }
        else if (!strcmp(o, "--timeout")) { a->timeout = atof(v); if (a->timeout <= 0) { fprintf(stderr, "tg conform: --timeout wants seconds > 0\n"); return 2; } }
        else if (!strcmp(o, "--shard")) {
            if (sscanf(v, "%d/%d", &a->shard_i, &a->shard_n) != 2 || a->shard_n < 1 || a->shard_i < 1 || a->shard_i > a->shard_n) {
                fprintf(stderr, "tg conform: --shard wants I/N with 1 <= I <= N\n");
                return 2;
            }
        } else { fprintf(stderr, "tg conform: unknown option '%s' (see 'tg conform --help')\n", o); return 2; }
        i += takes;
    }
    return -1;
}

/* Closes the --tap file; -1 (said on stderr) if any write to it failed. */
static int tap_close(FILE *tap, const char *path) {
    int err = ferror(tap) || fflush(tap) != 0;
    if (fclose(tap) != 0) err = 1;
    if (err) fprintf(stderr, "tg conform: error writing '%s': %s (the TAP stream is incomplete)\n", path, strerror(errno));
    return err ? -1 : 0;
}

int tg_cmd_conform(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "merge")) return cmd_merge(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "verify")) return cmd_verify(argc - 1, argv + 1);
    conform_args a = {0};
    int rc = parse_args(argc, argv, &a);
    tgc_catalog cat = {0};
    tgc_expect ex = {0};
    FILE *tap = stdout;
    if (rc >= 0) goto done;
    rc = 1;
    tg_status st = a.case_file ? tgc_casefile_read(a.case_file, &cat) : tgc_catalog_build(&cat);
    if (st != TG_OK) {
        fprintf(stderr, "tg conform: %s\n", tg_last_error());
        goto done;
    }
    if (a.list) {
        for (size_t i = 0; i < cat.count; i++)
            if (selected(&a, &cat.cases[i])) printf("%s\n", cat.cases[i].id);
        rc = 0;
        goto done;
    }
    for (int i = 0; i < a.nids; i++)
        if (tgc_catalog_find(&cat, a.ids[i]) < 0) {
            fprintf(stderr, "tg conform: no case '%s' (see 'tg conform --list')\n", a.ids[i]);
            rc = 2;
            goto done;
        }
    if (a.expectations && tgc_expect_load(a.expectations, &ex) != TG_OK) {
        fprintf(stderr, "tg conform: %s\n", tg_last_error());
        goto done;
    }
    if (a.tap && !(tap = fopen(a.tap, "w"))) {
        fprintf(stderr, "tg conform: cannot write '%s'\n", a.tap);
        tap = stdout;
        goto done;
    }
    size_t points = 0;
    fprintf(tap, "TAP version 14\n");
    if (!a.all) {
        rc = conform_one(&a, a.plugin ? a.plugin : "ref", &cat, &ex, tap, &points);
    } else {
        tg_plugin_info *list = NULL;
        size_t n = 0;
        if (tg_plugin_scan(&list, &n) != TG_OK) {
            fprintf(stderr, "tg conform: %s\n", tg_last_error());
            goto done;
        }
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            if (list[i].status != TG_OK) {
                fprintf(tap, "# plugin %s (%s) does not load: %s\n", list[i].name, list[i].path, list[i].error);
                continue;
            }
            tgc_plugin_facts facts;
            if (tgc_plugin_facts_get(list[i].path, &facts) == TG_OK && facts.loaded && facts.ndevices == 0) {
                fprintf(tap, "# plugin %s: no device on this host (%s): not certified here\n", facts.name, facts.error);
                continue;
            }
            if (conform_one(&a, list[i].path, &cat, &ex, tap, &points) != 0) rc = 1;
        }
        tg_plugin_scan_free(list, n);
    }
    fprintf(tap, "1..%zu\n", points);
    if (!points) rc = 1; /* nothing ran */
done:
    if (tap != stdout && tap_close(tap, a.tap) != 0) rc = 1;
    tgc_expect_free(&ex);
    tgc_catalog_free(&cat);
    free(a.filters);
    free(a.ids);
    return rc;
}
