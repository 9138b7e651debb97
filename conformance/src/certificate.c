/* The JSON certificate and `tg conform merge`. The writer puts each scalar
 * field and each case on a line of its own; merge reads certificates this
 * writer made (not arbitrary JSON) and recomputes the table and levels from
 * the union of their cases. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "report.h"

enum { NFIELDS = 14 };
enum { F_SUITE = 0, F_SHA = 4, F_SHARDS = 12, F_SHARD = 13 };
static const char *const field_names[NFIELDS] = {
    "suite_version", "plugin_name", "plugin_version", "plugin_path", "plugin_sha256", "abi_version",
    "device_name", "device_vendor", "device_version", "driver", "host", "date", "shards", "shard"};

typedef struct cert_header {
    char v[NFIELDS][512];
    double seconds;
    size_t level_total[TGC_LEVEL_COUNT];
} cert_header;

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static tg_status write_cert(const char *path, const cert_header *h, const tgc_entry *e, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f) return tg_error(TG_ERR_IO, "cannot write '%s'", path);
    tgc_table *t = malloc(sizeof *t);
    if (!t) {
        fclose(f);
        return tg_error(TG_ERR_NO_MEMORY, "out of memory");
    }
    tgc_table_fill(t, e, n);
    memcpy(t->level_total, h->level_total, sizeof t->level_total);
    fprintf(f, "{\n  \"suite\": \"tg-conformance\",\n");
    for (int i = 0; i < NFIELDS; i++) {
        fprintf(f, "  \"%s\": ", field_names[i]);
        json_string(f, h->v[i]);
        fprintf(f, ",\n");
    }
    fprintf(f, "  \"seconds\": %.3f,\n  \"totals\": {", h->seconds);
    for (int k = 0; k < TGC_NOTRUN; k++) fprintf(f, "%s\"%s\": %zu", k ? ", " : "", tgc_result_name((tgc_result)k), t->totals[k]);
    fprintf(f, "},\n  \"levels\": {");
    for (int l = 0; l < TGC_LEVEL_COUNT; l++)
        fprintf(f, "%s\"%s\": \"%s\"", l ? ", " : "", tgc_level_name(l), tgc_level_status(t, l));
    fprintf(f, "},\n  \"level_totals\": {");
    for (int l = 0; l < TGC_LEVEL_COUNT; l++) fprintf(f, "%s\"%s\": %zu", l ? ", " : "", tgc_level_name(l), h->level_total[l]);
    fprintf(f, "},\n  \"table\": {");
    int first_row = 1;
    for (int row = 0; row < TGC_ROW_COUNT; row++) {
        int first_dt = 1;
        for (int d = 0; d < TG_DTYPE_COUNT; d++) {
            const size_t *c = t->cell[row][d];
            size_t total = 0;
            for (int k = 0; k < TGC_RESULT_COUNT; k++) total += c[k];
            if (!total) continue;
            if (first_dt) fprintf(f, "%s\n    \"%s\": {", first_row ? "" : ",", tgc_row_name(row));
            fprintf(f, "%s\n      \"%s\": {", first_dt ? "" : ",", tg_dtype_name((tg_dtype)d));
            for (int k = 0; k < TGC_NOTRUN; k++) fprintf(f, "%s\"%s\": %zu", k ? ", " : "", tgc_result_name((tgc_result)k), c[k]);
            fprintf(f, "}");
            first_dt = 0;
            first_row = 0;
        }
        if (!first_dt) fprintf(f, "}");
    }
    fprintf(f, "\n  },\n  \"cases\": [\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    {\"id\": ");
        json_string(f, e[i].id);
        fprintf(f, ", \"row\": \"%s\", \"dtype\": \"%s\", \"levels\": %d, \"result\": \"%s\"}%s\n", tgc_row_name(e[i].row),
                tg_dtype_name((tg_dtype)e[i].dtype), e[i].levels, tgc_result_name(e[i].result), i + 1 < n ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    free(t);
    return tgc_close_output(f, path);
}

tg_status tgc_report_json(const char *path, const tgc_report *r) {
    cert_header *h = calloc(1, sizeof *h);
    tgc_entry *e = tgc_entries(r);
    if (!h || !e) {
        free(h), free(e);
        return tg_error(TG_ERR_NO_MEMORY, "out of memory");
    }
    const tgc_plugin_facts *p = r->facts;
    snprintf(h->v[0], 512, "%s", TGC_SUITE_VERSION);
    if (p) {
        snprintf(h->v[1], 512, "%s", p->name);
        snprintf(h->v[2], 512, "%s", p->version);
        snprintf(h->v[3], 512, "%s", p->path);
        snprintf(h->v[4], 512, "%s", p->sha256);
        snprintf(h->v[5], 512, "%u.%u", p->abi_major, p->abi_minor);
        snprintf(h->v[6], 512, "%s", p->device);
        snprintf(h->v[7], 512, "%s", p->vendor);
        snprintf(h->v[8], 512, "%s", p->dev_version);
        snprintf(h->v[9], 512, "%s", p->driver);
    }
    struct utsname u;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (uname(&u) == 0) snprintf(h->v[10], 512, "%s (%s %s %s)", host, u.sysname, u.release, u.machine);
    time_t now = time(NULL);
    strftime(h->v[11], 512, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(h->v[F_SHARDS], 512, "1");
    snprintf(h->v[F_SHARD], 512, "%d/%d", r->shard_n > 0 ? r->shard_i : 1, r->shard_n > 0 ? r->shard_n : 1);
    h->seconds = r->seconds;
    tgc_level_totals(r, h->level_total);
    tg_status st = write_cert(path, h, e, r->nsel);
    free(h);
    free(e);
    return st;
}

/* ------------------------------------------------------------ merge */

/* The string value of `"key": "..."` on this line, unescaped; 0 if absent. */
static int line_value(const char *line, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    if (!p) return 0;
    p += strlen(pat);
    size_t n = 0;
    for (; *p && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            out[n++] = *p == 'n' ? '\n' : *p;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return 1;
}

static int find_name(const char *s, int is_row) {
    if (is_row) {
        for (int r = 0; r < TGC_ROW_COUNT; r++)
            if (!strcmp(s, tgc_row_name(r))) return r;
    } else {
        for (int d = 0; d < TG_DTYPE_COUNT; d++)
            if (!strcmp(s, tg_dtype_name((tg_dtype)d))) return d;
    }
    return -1;
}

/* "I/N" with 1 <= I <= N; an old certificate without the field is 1/1. */
static int parse_shard(const char *s, int *i, int *n) {
    char tail;
    if (!s[0]) {
        *i = *n = 1;
        return 1;
    }
    return sscanf(s, "%d/%d%c", i, n, &tail) == 2 && *n >= 1 && *i >= 1 && *i <= *n;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* What merge learns from one input certificate. */
typedef struct merge_state {
    cert_header *h;           /* fields of the first input; seconds summed */
    tgc_entry *e;
    char **ids;
    size_t count, cap;
    unsigned char *shard_seen; /* [shard count + 1] */
    int shards;
} merge_state;

/* One case line: {"id": ..., "row": ..., "dtype": ..., "levels": N, "result": ...}. */
static tg_status merge_case(merge_state *m, const char *path, int lineno, const char *line) {
    char id[TGC_ID_LEN], row[32], dt[32], res[32];
    if (!line_value(line, "id", id, sizeof id) || !line_value(line, "row", row, sizeof row) ||
        !line_value(line, "dtype", dt, sizeof dt) || !line_value(line, "result", res, sizeof res) ||
        !strstr(line, "\"levels\": "))
        return tg_error(TG_ERR_INVALID, "%s:%d: a malformed case line", path, lineno);
    char *end;
    long levels = strtol(strstr(line, "\"levels\": ") + 10, &end, 10);
    int k = 0;
    while (k < TGC_RESULT_COUNT && strcmp(res, tgc_result_name((tgc_result)k))) k++;
    int r = find_name(row, 1), d = find_name(dt, 0);
    if (k == TGC_RESULT_COUNT)
        return tg_error(TG_ERR_INVALID, "%s:%d: case '%s' has the unknown result '%s'", path, lineno, id, res);
    if (r < 0 || d < 0)
        return tg_error(TG_ERR_INVALID, "%s:%d: case '%s' has the unknown %s '%s'", path, lineno, id,
                        r < 0 ? "row" : "dtype", r < 0 ? row : dt);
    if (end == strstr(line, "\"levels\": ") + 10 || levels < 0 || levels >= 1L << TGC_LEVEL_COUNT)
        return tg_error(TG_ERR_INVALID, "%s:%d: case '%s' has bad levels", path, lineno, id);
    if (m->count == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        tgc_entry *ne = realloc(m->e, cap * sizeof *ne);
        if (ne) m->e = ne;
        char **ni = ne ? realloc(m->ids, cap * sizeof *ni) : NULL;
        if (ni) m->ids = ni;
        if (!ne || !ni) return tg_error(TG_ERR_NO_MEMORY, "out of memory");
        m->cap = cap;
    }
    if (!(m->ids[m->count] = strdup(id))) return tg_error(TG_ERR_NO_MEMORY, "out of memory");
    m->e[m->count] = (tgc_entry){m->ids[m->count], r, d, (int)levels, (tgc_result)k};
    m->count++;
    return TG_OK;
}

/* A header field of input `idx`: the first input sets them; the others must
 * agree on the suite, the plugin build, the shard count and level totals. */
static tg_status merge_field(merge_state *m, const char *path, int idx, int k, const char *val) {
    cert_header *h = m->h;
    if (idx == 0 && k != F_SHARD) snprintf(h->v[k], sizeof h->v[k], "%s", val);
    if (k == F_SUITE && strcmp(val, h->v[k]))
        return tg_error(TG_ERR_INVALID, "'%s' was made by suite version %s, the first certificate by %s", path,
                        val, h->v[k]);
    if (k == F_SHA && strcmp(h->v[k], val))
        return tg_error(TG_ERR_INVALID, "'%s' certifies another plugin build (sha256 %s, not %s)", path, val,
                        h->v[k]);
    return TG_OK;
}

/* Shard I/N of input `idx`: one N for all, each I once. */
static tg_status merge_shard(merge_state *m, const char *path, int idx, const char *val) {
    int i, n;
    if (!parse_shard(val, &i, &n)) return tg_error(TG_ERR_INVALID, "'%s': bad shard '%s'", path, val);
    if (idx == 0) {
        m->shards = n;
        m->shard_seen = calloc((size_t)n + 1, 1);
        if (!m->shard_seen) return tg_error(TG_ERR_NO_MEMORY, "out of memory");
    } else if (n != m->shards) {
        return tg_error(TG_ERR_INVALID, "'%s' is shard %d of %d, but the first certificate is one of %d", path, i,
                        n, m->shards);
    }
    if (m->shard_seen[i]) return tg_error(TG_ERR_INVALID, "'%s': shard %d/%d is given twice", path, i, n);
    m->shard_seen[i] = 1;
    return TG_OK;
}

static tg_status merge_file(merge_state *m, const char *path, int idx) {
    FILE *f = fopen(path, "r");
    if (!f) return tg_error(TG_ERR_IO, "cannot open certificate '%s'", path);
    char line[4096], val[512];
    int in_cases = 0, seen_suite = 0, lineno = 0, seen_shard = 0;
    size_t totals[TGC_LEVEL_COUNT] = {0};
    tg_status st = TG_OK;
    while (st == TG_OK && fgets(line, sizeof line, f)) {
        lineno++;
        if (strstr(line, "\"suite\": \"tg-conformance\"")) seen_suite = 1;
        if (strstr(line, "\"cases\": [")) {
            in_cases = 1;
            continue;
        }
        if (in_cases) {
            if (strstr(line, "{\"id\": ")) st = merge_case(m, path, lineno, line);
            continue;
        }
        for (int k = 0; st == TG_OK && k < NFIELDS; k++) {
            if (!line_value(line, field_names[k], val, sizeof val)) continue;
            if (k == F_SHARD) {
                seen_shard = 1;
                st = merge_shard(m, path, idx, val);
            } else {
                st = merge_field(m, path, idx, k, val);
            }
        }
        double s;
        if (sscanf(line, " \"seconds\": %lf", &s) == 1) m->h->seconds += s;
        if (strstr(line, "\"level_totals\": {"))
            for (int l = 0; l < TGC_LEVEL_COUNT; l++) {
                char key[48];
                snprintf(key, sizeof key, "\"%s\": ", tgc_level_name(l));
                const char *p = strstr(line, key);
                if (p) totals[l] = (size_t)strtoull(p + strlen(key), NULL, 10);
            }
    }
    fclose(f);
    if (st) return st;
    if (!seen_suite) return tg_error(TG_ERR_INVALID, "'%s' is not a tg conformance certificate", path);
    if (!seen_shard) st = merge_shard(m, path, idx, "");
    if (st) return st;
    if (idx == 0) memcpy(m->h->level_total, totals, sizeof totals);
    else if (memcmp(m->h->level_total, totals, sizeof totals))
        return tg_error(TG_ERR_INVALID, "'%s' counts the levels' cases differently from the first certificate"
                        " (another catalog)", path);
    return TG_OK;
}

/* Reads the certificates of one run into m: each I of the shard count N
 * once, every shard present, no case twice. */
static tg_status merge_read(merge_state *m, const char *const *inputs, int n) {
    m->h = calloc(1, sizeof *m->h);
    tg_status st = m->h ? TG_OK : tg_error(TG_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n && st == TG_OK; i++) st = merge_file(m, inputs[i], i);
    for (int i = 1; st == TG_OK && i <= m->shards; i++)
        if (!m->shard_seen[i]) st = tg_error(TG_ERR_INVALID, "shard %d/%d is missing", i, m->shards);
    char **sorted = st == TG_OK ? malloc((m->count ? m->count : 1) * sizeof *sorted) : NULL;
    if (st == TG_OK && !sorted) st = tg_error(TG_ERR_NO_MEMORY, "out of memory");
    if (sorted) {
        memcpy(sorted, m->ids, m->count * sizeof *sorted);
        if (m->count > 1) qsort(sorted, m->count, sizeof *sorted, cmp_str);
        for (size_t i = 1; st == TG_OK && i < m->count; i++)
            if (!strcmp(sorted[i - 1], sorted[i]))
                st = tg_error(TG_ERR_INVALID, "case '%s' appears twice in the certificates", sorted[i]);
        free(sorted);
    }
    return st;
}

static void merge_free(merge_state *m) {
    for (size_t i = 0; i < m->count; i++) free(m->ids[i]);
    free(m->ids);
    free(m->e);
    free(m->shard_seen);
    free(m->h);
}

tg_status tgc_report_merge(const char *const *inputs, int n, const char *out_path) {
    merge_state m = {0};
    tg_status st = merge_read(&m, inputs, n);
    if (st == TG_OK) {
        snprintf(m.h->v[F_SHARDS], sizeof m.h->v[F_SHARDS], "%d", n);
        snprintf(m.h->v[F_SHARD], sizeof m.h->v[F_SHARD], "1/1");
        st = write_cert(out_path, m.h, m.e, m.count);
    }
    merge_free(&m);
    return st;
}

/* ------------------------------------------------------------ verify */

static int cmp_case_id(const void *a, const void *b) {
    return strcmp((*(const tgc_case *const *)a)->id, (*(const tgc_case *const *)b)->id);
}

/* The case with this id among `n` sorted by id, or -1. */
static long find_sorted(const tgc_case *const *sorted, size_t n, const char *id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sorted[mid]->id, id);
        if (!c) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* Every case of this suite's catalog exactly once (duplicates were refused
 * when reading; a host_only case may be absent), none from elsewhere, each
 * with the catalog's levels; then the levels from the results. */
static tg_status check_cases(const merge_state *m, tgc_cert_info *out) {
    tgc_catalog cat;
    tg_status st = tgc_catalog_build_every_host(&cat);
    if (st) return st;
    const tgc_case **sorted = malloc((cat.count ? cat.count : 1) * sizeof *sorted);
    unsigned char *seen = calloc(cat.count ? cat.count : 1, 1);
    if (!sorted || !seen) st = tg_error(TG_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == TG_OK && i < cat.count; i++) sorted[i] = &cat.cases[i];
    if (st == TG_OK) qsort(sorted, cat.count, sizeof *sorted, cmp_case_id);
    for (size_t i = 0; st == TG_OK && i < m->count; i++) {
        long k = find_sorted(sorted, cat.count, m->e[i].id);
        if (k < 0)
            st = tg_error(TG_ERR_INVALID, "case '%s' is not in the catalog of suite version %s", m->e[i].id,
                          TGC_SUITE_VERSION);
        else if (sorted[k]->levels != m->e[i].levels)
            st = tg_error(TG_ERR_INVALID, "case '%s' has levels %d, the catalog %d (another catalog)", m->e[i].id,
                          m->e[i].levels, sorted[k]->levels);
        else
            seen[k] = 1;
    }
    size_t missing = 0, first = 0;
    tgc_table *t = st == TG_OK ? calloc(1, sizeof *t) : NULL;
    if (st == TG_OK && !t) st = tg_error(TG_ERR_NO_MEMORY, "out of memory");
    for (size_t k = 0; st == TG_OK && k < cat.count; k++) {
        if (!seen[k] && !sorted[k]->host_only && missing++ == 0) first = k;
        for (int l = 0; l < TGC_LEVEL_COUNT; l++) /* the levels' totals: host_only cases if present */
            t->level_total[l] += (seen[k] || !sorted[k]->host_only) && (sorted[k]->levels >> l & 1);
    }
    if (st == TG_OK && missing)
        st = tg_error(TG_ERR_INVALID, "incomplete: %zu of the suite's cases are missing (the first: '%s')", missing,
                      sorted[first]->id);
    if (st == TG_OK) {
        size_t totals[TGC_LEVEL_COUNT];
        memcpy(totals, t->level_total, sizeof totals);
        tgc_table_fill(t, m->e, m->count);
        memcpy(t->level_total, totals, sizeof totals);
        out->cases = m->count;
        memcpy(out->totals, t->totals, sizeof out->totals);
        for (int l = 0; l < TGC_LEVEL_COUNT; l++) out->levels[l] = tgc_level_status(t, l);
    }
    free(t);
    free(seen);
    free(sorted);
    tgc_catalog_free(&cat);
    return st;
}

/* The plugin installed here (a name or a path) is the build certified. */
static tg_status check_build(const char *plugin, const char *want) {
    tg_plugin *p = NULL;
    char sha[65], path[1024];
    if (tg_plugin_open(plugin, &p) != TG_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", tg_last_error());
        return tg_error(TG_ERR_NOT_FOUND, "plugin '%s' does not load here: %s", plugin, why);
    }
    snprintf(path, sizeof path, "%s", tg_plugin_get_path(p));
    tg_status st = tg_sha256_file(path, sha);
    tg_plugin_close(p);
    if (st) return st;
    if (strcmp(sha, want))
        return tg_error(TG_ERR_INVALID, "%s is not the build certified: its sha256 is %.16s..., the certificate's "
                        "%.16s... (changed since, or another plugin)", path, sha, want);
    return TG_OK;
}

tg_status tgc_cert_verify(const char *const *paths, int n, const char *plugin, tgc_cert_info *out) {
    memset(out, 0, sizeof *out);
    if (!paths || n < 1) return tg_error(TG_ERR_INVALID, "tgc_cert_verify: no certificate given");
    merge_state m = {0};
    tg_status st = merge_read(&m, paths, n);
    if (m.h) {
        snprintf(out->plugin, sizeof out->plugin, "%.63s", m.h->v[1]);
        snprintf(out->sha256, sizeof out->sha256, "%.64s", m.h->v[F_SHA]);
        snprintf(out->suite, sizeof out->suite, "%.31s", m.h->v[F_SUITE]);
        snprintf(out->date, sizeof out->date, "%.39s", m.h->v[11]);
        out->shards = n == 1 && atoi(m.h->v[F_SHARDS]) > 1 ? atoi(m.h->v[F_SHARDS]) : m.shards;
    }
    if (st == TG_OK && strcmp(m.h->v[F_SUITE], TGC_SUITE_VERSION))
        st = tg_error(TG_ERR_VERSION, "the certificate was made by suite version %s; this tg ships %s",
                      m.h->v[F_SUITE], TGC_SUITE_VERSION);
    if (st == TG_OK) st = check_build(plugin ? plugin : m.h->v[1], m.h->v[F_SHA]);
    if (st == TG_OK) st = check_cases(&m, out);
    merge_free(&m);
    return st;
}
