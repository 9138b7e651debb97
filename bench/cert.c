/* Reading conformance certificates (see cert.h). Not a general JSON parser:
 * it finds the few top-level keys the certificate is known to hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cert.h"

char *bench_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL)
        buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return buf;
}

/* The string value of "key": "..." after `from` into out (no escapes needed
 * for the fields read here); 0 if found. */
static int get_string(const char *from, const char *key, char *out, size_t cap) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(from, pat);
    if (!p) return -1;
    p += strlen(pat);
    p += strspn(p, " \t\r\n");
    if (*p != '"') return -1;
    size_t n = strcspn(p + 1, "\"");
    snprintf(out, cap, "%.*s", (int)n, p + 1);
    return 0;
}

static long get_count(const char *totals, const char *key) {
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(totals, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

int bench_cert_read(const char *path, bench_cert *c) {
    char suite[64];
    char *s = bench_read_file(path), *totals;
    memset(c, 0, sizeof *c);
    if (!s) return -1;
    if (get_string(s, "suite", suite, sizeof suite) || strcmp(suite, "tg-conformance") ||
        get_string(s, "plugin_name", c->plugin, sizeof c->plugin) ||
        get_string(s, "plugin_sha256", c->sha256, sizeof c->sha256) || !(totals = strstr(s, "\"totals\":"))) {
        free(s);
        return -1;
    }
    get_string(s, "date", c->date, sizeof c->date);
    char *levels = strstr(s, "\"levels\": {");
    if (!levels || get_string(levels, "core", c->core, sizeof c->core)) snprintf(c->core, sizeof c->core, "absent");
    char *end = strchr(totals, '}');
    if (end) *end = '\0';
    c->pass = get_count(totals, "PASS");
    c->fail = get_count(totals, "FAIL");
    c->crash = get_count(totals, "CRASH");
    c->timeout = get_count(totals, "TIMEOUT");
    c->passed = c->pass > 0 && c->fail == 0 && c->crash == 0 && c->timeout == 0 && !strcmp(c->core, "yes");
    free(s);
    return 0;
}
