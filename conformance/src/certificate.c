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

enum { NFIELDS = 13 };
static const char *const field_names[NFIELDS] = {
    "suite_version", "plugin_name", "plugin_version", "plugin_path", "plugin_sha256", "abi_version",
    "device_name", "device_vendor", "device_version", "driver", "host", "date", "shards"};

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
    int err = ferror(f);
    fclose(f);
    return err ? tg_error(TG_ERR_IO, "error writing '%s'", path) : TG_OK;
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
    snprintf(h->v[12], 512, "1");
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

tg_status tgc_report_merge(const char *const *inputs, int n, const char *out_path) {
    cert_header *h = calloc(1, sizeof *h);
    size_t count = 0, cap = 0;
    tgc_entry *e = NULL;
    char **ids = NULL;
    tg_status st = h ? TG_OK : tg_error(TG_ERR_NO_MEMORY, "out of memory");
    char line[4096], val[512];
    for (int i = 0; i < n && st == TG_OK; i++) {
        FILE *f = fopen(inputs[i], "r");
        if (!f) {
            st = tg_error(TG_ERR_IO, "cannot open certificate '%s'", inputs[i]);
            break;
        }
        int in_cases = 0, seen_suite = 0;
        while (st == TG_OK && fgets(line, sizeof line, f)) {
            if (strstr(line, "\"suite\": \"tg-conformance\"")) seen_suite = 1;
            if (strstr(line, "\"cases\": [")) { in_cases = 1; continue; }
            if (!in_cases) {
                for (int k = 0; k < NFIELDS; k++) {
                    if (!line_value(line, field_names[k], val, sizeof val)) continue;
                    if (i == 0) snprintf(h->v[k], sizeof h->v[k], "%s", val);
                    else if (k == 4 && strcmp(h->v[k], val))
                        st = tg_error(TG_ERR_INVALID, "'%s' certifies another plugin build (sha256 %s, not %s)", inputs[i], val, h->v[k]);
                }
                double s;
                if (sscanf(line, " \"seconds\": %lf", &s) == 1) h->seconds += s;
                if (i == 0 && strstr(line, "\"level_totals\": {"))
                    for (int l = 0; l < TGC_LEVEL_COUNT; l++) {
                        char key[48];
                        snprintf(key, sizeof key, "\"%s\": ", tgc_level_name(l));
                        const char *p = strstr(line, key);
                        if (p) h->level_total[l] = (size_t)strtoull(p + strlen(key), NULL, 10);
                    }
                continue;
            }
            char id[TGC_ID_LEN], row[32], dt[32], res[32];
            int levels = 0;
            if (!line_value(line, "id", id, sizeof id) || !line_value(line, "row", row, sizeof row) ||
                !line_value(line, "dtype", dt, sizeof dt) || !line_value(line, "result", res, sizeof res))
                continue;
            const char *lv = strstr(line, "\"levels\": ");
            if (lv) levels = atoi(lv + 10);
            int k = 0;
            while (k < TGC_RESULT_COUNT && strcmp(res, tgc_result_name((tgc_result)k))) k++;
            if (count == cap) {
                cap = cap ? 2 * cap : 1024;
                tgc_entry *ne = realloc(e, cap * sizeof *ne);
                char **ni = realloc(ids, cap * sizeof *ni);
                if (ne) e = ne;
                if (ni) ids = ni;
                if (!ne || !ni) { st = tg_error(TG_ERR_NO_MEMORY, "out of memory"); break; }
            }
            ids[count] = strdup(id);
            e[count] = (tgc_entry){ids[count], find_name(row, 1), find_name(dt, 0), levels, (tgc_result)k};
            count++;
        }
        fclose(f);
        if (st == TG_OK && !seen_suite) st = tg_error(TG_ERR_INVALID, "'%s' is not a tg conformance certificate", inputs[i]);
    }
    if (st == TG_OK) {
        snprintf(h->v[12], sizeof h->v[12], "%d", n);
        st = write_cert(out_path, h, e, count);
    }
    for (size_t i = 0; i < count; i++) free(ids[i]);
    free(ids);
    free(e);
    free(h);
    return st;
}
