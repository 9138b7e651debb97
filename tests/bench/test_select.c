/* Device "auto" (tg_plugin_pick_auto): TG_DEVICE, a fresh ranking file, a
 * stale one (plugin hash changed), failed plugins, the fixed order. Uses a
 * temporary XDG_CACHE_HOME and hand-written ranking files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tg/runtime.h>
#include <tg/tg.h>
#include "select.h"
#include "tap.h"

static char dir[256], rankpath[4096], errpath[300];
static char sha_ref[65], sha_cpu[65];
static const char *bogus = "0000000000000000000000000000000000000000000000000000000000000000";

/* Run pick_auto with stderr captured; returns the pick ("" on failure). */
static const char *pick(char *notice, size_t cap) {
    static char name[128];
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(errpath, "w+");
    dup2(fileno(f), 2);
    tg_status st = tg_plugin_pick_auto(name, sizeof name);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(notice, 1, cap - 1, f);
    notice[n] = '\0';
    fclose(f);
    if (st != TG_OK) name[0] = '\0';
    return name;
}

static void write_ranking(const char *host, const char *body) {
    FILE *f = fopen(rankpath, "w");
    fprintf(f, "tg-ranking 1\nhost %s test host\ndate 2026-01-01T00:00:00Z\nbaseline ref\n%s", host, body);
    fclose(f);
}

static int usable(const char *name) {
    tg_plugin *p = NULL;
    uint32_t n = 0;
    if (tg_plugin_open(name, &p) != TG_OK) return 0;
    int ok = tg_plugin_get_api(p)->device_count(&n) == TG_OK && n > 0;
    tg_plugin_close(p);
    return ok;
}

int main(void) {
    char fp[17], body[1024], notice[2048], cache[4096];
    const char *got;
    snprintf(dir, sizeof dir, "/tmp/tg-test-select-XXXXXX");
    if (!mkdtemp(dir)) return tap_ok(0, "mkdtemp"), tap_done();
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("TG_DEVICE");
    tg_host_fingerprint(fp, NULL, 0);
    tap_ok(tg_cache_dir(cache, sizeof cache) == TG_OK && !strncmp(cache, dir, strlen(dir)), "cache dir under XDG_CACHE_HOME: %s", cache);
    tap_ok(tg_ranking_path(rankpath, sizeof rankpath) == TG_OK && strstr(rankpath, fp), "ranking path names the host: %s", rankpath);
    if (mkdir(cache, 0755) != 0) tap_diag("mkdir %s failed", cache);

    int have_cpu = usable("cpu");
    if (!tap_ok(tg_plugin_sha256("ref", sha_ref) == TG_OK && strlen(sha_ref) == 64, "hash of the ref plugin"))
        return tap_done();
    if (have_cpu) tg_plugin_sha256("cpu", sha_cpu);

    /* TG_DEVICE overrides everything. */
    setenv("TG_DEVICE", "ref", 1);
    write_ranking(fp, "garbage line\n");
    tap_ok(!strcmp(pick(notice, sizeof notice), "ref"), "TG_DEVICE=ref picks ref");
    setenv("TG_DEVICE", "auto", 1);
    remove(rankpath);

    /* No ranking: the fixed order (cpu first where it works). */
    char fixed[128];
    snprintf(fixed, sizeof fixed, "%s", pick(notice, sizeof notice));
    tap_ok(fixed[0] != '\0' && notice[0] == '\0', "no ranking file: picks '%s' silently", fixed);
    if (have_cpu) tap_ok(!strcmp(fixed, "cpu"), "the fixed order starts with cpu");
    else tap_skip("cpu plugin not usable here");

    /* A fresh ranking with ref on top is followed over the fixed order. */
    snprintf(body, sizeof body, "rank ref %s 3.5 elementwise=3\n%s%s%s", sha_ref, have_cpu ? "rank cpu " : "",
             have_cpu ? sha_cpu : "", have_cpu ? " 1.0\n" : "");
    write_ranking(fp, body);
    got = pick(notice, sizeof notice);
    tap_ok(!strcmp(got, "ref") && notice[0] == '\0', "fresh ranking: picks its top entry 'ref' (got '%s')", got);

    /* The core's device "auto" goes through the same choice. */
    tg_dev *dev = NULL;
    tap_ok(tg_device_open("auto", &dev) == TG_OK && !strcmp(tg_device_name(dev), "ref"),
           "tg_device_open(\"auto\") opens the ranked plugin 'ref'");
    tg_device_close(dev);

    /* Stale: ref's hash does not match its file any more. */
    snprintf(body, sizeof body, "rank ref %s 3.5\n", bogus);
    write_ranking(fp, body);
    got = pick(notice, sizeof notice);
    tap_ok(!strcmp(got, fixed), "stale ranking: falls back to the fixed order '%s' (got '%s')", fixed, got);
    tap_ok(strstr(notice, "stale") && strstr(notice, "'ref'") && strchr(notice, '\n') == notice + strlen(notice) - 1,
           "stale ranking: a one-line notice naming the plugin: %.*s", (int)strcspn(notice, "\n"), notice);

    /* A ranked plugin that no longer exists makes the file stale too. */
    snprintf(body, sizeof body, "rank nosuchplugin %s 9\nrank ref %s 1\n", bogus, sha_ref);
    write_ranking(fp, body);
    got = pick(notice, sizeof notice);
    tap_ok(!strcmp(got, fixed) && strstr(notice, "nosuchplugin"), "ranking naming a missing plugin: stale, fixed order");

    if (have_cpu) {
        /* cpu failed conformance (this very build): never picked, even by the fallback. */
        snprintf(body, sizeof body, "rank ref %s 1\nfailed cpu %s 3 FAIL\n", sha_ref, sha_cpu);
        write_ranking(fp, body);
        got = pick(notice, sizeof notice);
        tap_ok(!strcmp(got, "ref"), "fresh ranking, cpu failed: picks ref (got '%s')", got);
        snprintf(body, sizeof body, "rank nosuchplugin %s 9\nfailed cpu %s 3 FAIL\n", bogus, sha_cpu);
        write_ranking(fp, body);
        got = pick(notice, sizeof notice);
        tap_ok(got[0] && strcmp(got, "cpu") != 0, "stale ranking, cpu failed: fallback skips cpu (got '%s')", got);
        /* A failure of an older build says nothing about the current one. */
        snprintf(body, sizeof body, "failed cpu %s 3 FAIL\n", bogus);
        write_ranking(fp, body);
        got = pick(notice, sizeof notice);
        tap_ok(!strcmp(got, "cpu") && strstr(notice, "stale"), "failure of an older cpu build: stale, cpu may be picked");
        /* A ranking whose only entry failed: nothing ranked, fallback skips it. */
        snprintf(body, sizeof body, "failed cpu %s 3 FAIL\n", sha_cpu);
        write_ranking(fp, body);
        got = pick(notice, sizeof notice);
        tap_ok(got[0] && strcmp(got, "cpu") != 0 && notice[0] == '\0', "only cpu, failed: not picked (got '%s')", got);
    } else {
        for (int i = 0; i < 4; i++) tap_skip("cpu plugin not usable here");
    }

    /* Written for another host: ignored with a notice. */
    snprintf(body, sizeof body, "rank ref %s 1\n", sha_ref);
    write_ranking("0123456789abcdef", body);
    got = pick(notice, sizeof notice);
    tap_ok(!strcmp(got, fixed) && strstr(notice, "host"), "ranking of another host: ignored (got '%s')", got);

    /* A ranking line naming a file (a copy of ref, so its hash matches) is
     * malformed: device "auto" never loads a path from the ranking. */
    {
        char copy[700], cmd[1600], here[4096];
        tg_plugin *refp = NULL;
        snprintf(copy, sizeof copy, "%s/x.so", dir);
        if (tg_plugin_open("ref", &refp) == TG_OK) {
            snprintf(cmd, sizeof cmd, "cp '%s' '%s'", tg_plugin_get_path(refp), copy);
            if (system(cmd) != 0) tap_diag("cp failed");
            tg_plugin_close(refp);
        }
        int moved = getcwd(here, sizeof here) && chdir(dir) == 0;
        const char *names[2] = {"./x.so", copy};
        for (int k = 0; k < 2; k++) {
            snprintf(body, sizeof body, "rank %s %s 9\n", names[k], sha_ref);
            write_ranking(fp, body);
            got = pick(notice, sizeof notice);
            tap_ok(moved && !strcmp(got, fixed) && strstr(notice, ":5:"),
                   "a ranking line naming the file %s is refused (got '%s')", k ? "<abs>/x.so" : "./x.so", got);
        }
        if (moved && chdir(here) != 0) tap_diag("chdir back failed");
        remove(copy);
    }

    /* Malformed: a notice, the fixed order, no crash. */
    FILE *f = fopen(rankpath, "w");
    fprintf(f, "tg-ranking 1\nhost %s\nrank ref not-a-hash x\n", fp);
    fclose(f);
    got = pick(notice, sizeof notice);
    tap_ok(!strcmp(got, fixed) && strstr(notice, ":3:"), "malformed ranking: notice names line 3, fixed order");
    f = fopen(rankpath, "w");
    fprintf(f, "tg-ranking 7\n");
    fclose(f);
    tg_ranking r;
    tap_ok(tg_ranking_read(rankpath, &r) == TG_ERR_VERSION, "unknown ranking version refused");

    /* A small output buffer is an error, not an overflow. */
    char tiny[2];
    remove(rankpath);
    tap_ok(tg_plugin_pick_auto(tiny, sizeof tiny) == TG_ERR_INVALID, "too small output buffer: TG_ERR_INVALID");

    remove(rankpath);
    remove(errpath);
    rmdir(cache);
    rmdir(dir);
    return tap_done();
}
