/* Expectations files ("GLOB reason" per line) and glob matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>

int tgc_glob(const char *p, const char *s) {
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            mark = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (*p == '*') p++;
    return *p == '\0';
}

tg_status tgc_expect_load(const char *path, tgc_expect *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) return tg_error(TG_ERR_IO, "cannot open expectations file '%s'", path);
    char line[1024];
    int lineno = 0;
    tg_status st = TG_OK;
    while (st == TG_OK && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *g = line + strspn(line, " \t");
        if (*g == '#' || *g == '\0') continue;
        char *end = g + strcspn(g, " \t");
        char *reason = end + strspn(end, " \t");
        if (*reason == '\0') {
            st = tg_error(TG_ERR_INVALID, "%s:%d: '%s' needs a reason after the glob", path, lineno, g);
            break;
        }
        *end = '\0';
        char **gs = realloc(out->globs, (out->count + 1) * sizeof *gs);
        if (gs) out->globs = gs;
        char **rs = realloc(out->reasons, (out->count + 1) * sizeof *rs);
        if (rs) out->reasons = rs;
        if (!gs || !rs) {
            st = tg_error(TG_ERR_NO_MEMORY, "out of memory");
            break;
        }
        out->globs[out->count] = strdup(g);
        out->reasons[out->count] = strdup(reason);
        out->count++;
    }
    fclose(f);
    if (st != TG_OK) tgc_expect_free(out);
    return st;
}

void tgc_expect_free(tgc_expect *e) {
    if (!e) return;
    for (size_t i = 0; i < e->count; i++) {
        free(e->globs[i]);
        free(e->reasons[i]);
    }
    free(e->globs);
    free(e->reasons);
    memset(e, 0, sizeof *e);
}

const char *tgc_expect_match(const tgc_expect *e, const char *id) {
    for (size_t i = 0; e && i < e->count; i++)
        if (tgc_glob(e->globs[i], id)) return e->reasons[i];
    return NULL;
}
