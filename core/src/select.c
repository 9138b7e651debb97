/* Device "auto": TG_DEVICE, else this host's fresh ranking, else a fixed order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <tg/runtime.h>
#include "select.h"

static const char *const fixed_order[] = {"cpu", "vulkan", "opencl", "cuda", "ref"};

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ '|') * 0x100000001b3ull;
}

/* The first "model name" of /proc/cpuinfo, or "" where there is none. */
static void cpu_model(char *out, size_t cap) {
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    out[0] = '\0';
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, cap, "%s", colon);
        break;
    }
    fclose(f);
}

void tg_host_fingerprint(char out_hex[17], char *out_desc, size_t desc_cap) {
    struct utsname u;
    char model[256], ncpu[32];
    if (uname(&u) != 0) memset(&u, 0, sizeof u);
    cpu_model(model, sizeof model);
    snprintf(ncpu, sizeof ncpu, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, u.machine);
    h = fnv1a(h, u.nodename);
    h = fnv1a(h, model);
    h = fnv1a(h, ncpu);
    snprintf(out_hex, 17, "%016llx", (unsigned long long)h);
    if (out_desc && desc_cap)
        snprintf(out_desc, desc_cap, "%s %s, %s cpus, %s", u.sysname, u.machine, ncpu,
                 model[0] ? model : "unknown cpu");
}

tg_status tg_cache_dir(char *out_path, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out_path, cap, "%s/tg", xdg);
    else if (home && home[0])
        n = snprintf(out_path, cap, "%s/.cache/tg", home);
    else
        return tg_error(TG_ERR_NOT_FOUND, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
    if (n < 0 || (size_t)n >= cap) return tg_error(TG_ERR_INVALID, "cache directory path too long");
    return TG_OK;
}

tg_status tg_ranking_path(char *out_path, size_t cap) {
    char dir[4096], fp[17];
    tg_status st = tg_cache_dir(dir, sizeof dir);
    if (st) return st;
    tg_host_fingerprint(fp, NULL, 0);
    int n = snprintf(out_path, cap, "%s/ranking-%s.txt", dir, fp);
    if (n < 0 || (size_t)n >= cap) return tg_error(TG_ERR_INVALID, "ranking file path too long");
    return TG_OK;
}

static int is_hex64(const char *s) {
    if (strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s)) return 0;
    return 1;
}

/* A plugin name ([a-z0-9_]+), never a path: a ranking line naming
 * "./x.so" must not make device "auto" load that file. */
static int is_plugin_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
    return 1;
}

/* One "rank NAME SHA OVERALL ..." or "failed NAME SHA ..." line. */
static tg_status parse_entry(char *rest, int failed, tg_ranking_entry *e) {
    char *name = strtok(rest, " \t"), *sha = strtok(NULL, " \t"), *score = strtok(NULL, " \t");
    if (!name || !sha || strlen(name) >= sizeof e->name || !is_plugin_name(name) || !is_hex64(sha))
        return TG_ERR_INVALID;
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    memcpy(e->sha256, sha, 65);
    e->failed = failed;
    if (!failed) {
        char *end;
        if (!score) return TG_ERR_INVALID;
        e->overall = strtod(score, &end);
        if (end == score) return TG_ERR_INVALID;
    }
    return TG_OK;
}

tg_status tg_ranking_read(const char *path, tg_ranking *r) {
    char line[1024];
    int lineno = 0, magic = 0;
    FILE *f = fopen(path, "r");
    memset(r, 0, sizeof *r);
    if (!f) return tg_error(TG_ERR_NOT_FOUND, "no ranking file '%s'", path);
    while (fgets(line, sizeof line, f)) {
        char *key, *rest;
        tg_status bad = TG_OK;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        key = line + strspn(line, " \t");
        if (!*key || *key == '#') continue;
        rest = key + strcspn(key, " \t");
        if (*rest) *rest++ = '\0';
        rest += strspn(rest, " \t");
        if (!strcmp(key, "tg-ranking")) {
            magic = atoi(rest);
            if (magic != 1) bad = TG_ERR_VERSION;
        } else if (!magic) {
            bad = TG_ERR_INVALID;
        } else if (!strcmp(key, "host")) {
            snprintf(r->host, sizeof r->host, "%.*s", (int)strcspn(rest, " \t"), rest);
        } else if (!strcmp(key, "date")) {
            snprintf(r->date, sizeof r->date, "%s", rest);
        } else if (!strcmp(key, "baseline")) {
            snprintf(r->baseline, sizeof r->baseline, "%s", rest);
        } else if (!strcmp(key, "rank") || !strcmp(key, "failed")) {
            if (r->count == TG_RANKING_MAX) continue; /* ignore what does not fit */
            bad = parse_entry(rest, key[0] == 'f', &r->entries[r->count]);
            if (!bad) r->count++;
        } /* other keys: later versions' additions, ignored */
        if (bad) {
            fclose(f);
            return tg_error(bad == TG_ERR_VERSION ? TG_ERR_VERSION : TG_ERR_INVALID,
                            "%s:%d: %s", path, lineno,
                            bad == TG_ERR_VERSION ? "unknown ranking file version"
                            : magic ? "malformed line" : "not a tg ranking file (no 'tg-ranking 1' first)");
        }
    }
    fclose(f);
    if (!magic) return tg_error(TG_ERR_INVALID, "%s: not a tg ranking file (empty)", path);
    return TG_OK;
}

tg_status tg_plugin_sha256(const char *name, char out_hex[65]) {
    tg_plugin *p = NULL;
    tg_status st = tg_plugin_open(name, &p);
    if (st) return st;
    st = tg_sha256_file(tg_plugin_get_path(p), out_hex);
    tg_plugin_close(p);
    return st;
}

/* Whether a plugin loads and has at least one device. */
static int plugin_usable(const char *name) {
    tg_plugin *p = NULL;
    uint32_t n = 0;
    if (tg_plugin_open(name, &p)) return 0;
    int ok = tg_plugin_device_count(p, &n) == TG_OK && n > 0;
    tg_plugin_close(p);
    return ok;
}

static tg_status put_name(const char *name, char *out, size_t cap) {
    if (!out || strlen(name) >= cap)
        return tg_error(TG_ERR_INVALID, "tg_plugin_pick_auto: output buffer too small for '%s'", name);
    memcpy(out, name, strlen(name) + 1);
    return TG_OK;
}

tg_status tg_plugin_pick_auto(char *out_name, size_t cap) {
    const char *env = getenv("TG_DEVICE");
    char path[4096], fp[17], sha[65];
    int fresh[TG_RANKING_MAX] = {0}, all_fresh = 0;
    tg_ranking r;

    if (env && env[0] && strcmp(env, "auto") != 0) return put_name(env, out_name, cap);

    memset(&r, 0, sizeof r);
    if (tg_ranking_path(path, sizeof path) == TG_OK) {
        tg_status st = tg_ranking_read(path, &r);
        tg_host_fingerprint(fp, NULL, 0);
        if (st == TG_OK && strcmp(r.host, fp) != 0) {
            fprintf(stderr, "tg: ranking %s was written for host %s, not this one (%s); using the fixed order\n",
                    path, r.host[0] ? r.host : "?", fp);
            r.count = 0;
        } else if (st != TG_OK && st != TG_ERR_NOT_FOUND) {
            fprintf(stderr, "tg: ignoring ranking: %s; using the fixed order\n", tg_last_error());
            r.count = 0;
        }
    }
    if (r.count > 0) {
        const char *stale = NULL;
        for (size_t i = 0; i < r.count; i++) {
            fresh[i] = tg_plugin_sha256(r.entries[i].name, sha) == TG_OK && !strcmp(sha, r.entries[i].sha256);
            if (!fresh[i] && !stale) stale = r.entries[i].name;
        }
        all_fresh = stale == NULL;
        if (stale)
            fprintf(stderr, "tg: ranking %s is stale (plugin '%s' changed since `tg rank`); using the fixed order\n",
                    path, stale);
    }
    if (all_fresh)
        for (size_t i = 0; i < r.count; i++)
            if (!r.entries[i].failed && plugin_usable(r.entries[i].name))
                return put_name(r.entries[i].name, out_name, cap);

    /* The fixed order, skipping plugins whose very build failed conformance here. */
    for (size_t k = 0; k < sizeof fixed_order / sizeof *fixed_order; k++) {
        int failed = 0;
        for (size_t i = 0; i < r.count; i++)
            if (r.entries[i].failed && fresh[i] && !strcmp(r.entries[i].name, fixed_order[k])) failed = 1;
        if (!failed && plugin_usable(fixed_order[k])) return put_name(fixed_order[k], out_name, cap);
    }
    return tg_error(TG_ERR_NOT_FOUND, "device \"auto\": no plugin with a device found (searched %s)",
                    tg_plugin_search_path());
}
