/* Reports: TAP 14 lines, the op x dtype summary table, JUnit XML. The JSON
 * certificate and shard merging live in certificate.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "report.h"

void tgc_report_tap_line(FILE *f, size_t n, const tgc_case *c, const tgc_outcome *o, const char *plugin) {
    const char *detail = o->detail ? o->detail : "";
    switch (o->result) {
    case TGC_PASS: fprintf(f, "ok %zu - %s\n", n, c->id); break;
    case TGC_UNSUPPORTED: {
        char why[200];
        snprintf(why, sizeof why, "%s", detail);
        why[strcspn(why, "\n#")] = '\0';
        fprintf(f, "ok %zu - %s # SKIP unsupported: %s\n", n, c->id, why);
        break;
    }
    case TGC_XFAIL: fprintf(f, "not ok %zu - %s # TODO %s\n", n, c->id, o->xfail_reason ? o->xfail_reason : ""); break;
    case TGC_XPASS: fprintf(f, "ok %zu - %s # TODO unexpected pass (expected to fail: %s)\n", n, c->id, o->xfail_reason ? o->xfail_reason : ""); break;
    default: {
        fprintf(f, "not ok %zu - %s\n  ---\n  result: %s\n  reproduce: tg conform --plugin %s --case '%s'\n  message: |\n", n,
                c->id, tgc_result_name(o->result), plugin ? plugin : "ref", c->id);
        const char *p = detail;
        while (*p) {
            size_t len = strcspn(p, "\n");
            fprintf(f, "    %.*s\n", (int)len, p);
            p += len + (p[len] == '\n');
        }
        fprintf(f, "  ...\n");
        break;
    }
    }
    fflush(f);
}

tg_status tgc_close_output(FILE *f, const char *path) {
    int err = ferror(f) || fflush(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !err) {
        err = 1;
        saved = errno;
    }
    return err ? tg_error(TG_ERR_IO, "error writing '%s': %s (the file is incomplete)", path, strerror(saved))
               : TG_OK;
}

const char *tgc_row_name(int row) {
    if (row == TGC_ROW_FUSION) return "FUSION";
    if (row == TGC_ROW_COMPOSITE) return "COMPOSITE";
    if (row == TGC_ROW_AUTODIFF) return "AUTODIFF";
    if (row == TGC_ROW_ABI) return "ABI";
    if (row == TGC_ROW_MEMORY) return "MEMORY";
    return tg_op_name((tg_op)row);
}

void tgc_table_fill(tgc_table *t, const tgc_entry *e, size_t n) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        if (e[i].row < 0 || e[i].row >= TGC_ROW_COUNT || e[i].dtype < 0 || e[i].dtype >= TG_DTYPE_COUNT) continue;
        t->cell[e[i].row][e[i].dtype][e[i].result]++;
        t->totals[e[i].result]++;
        for (int l = 0; l < TGC_LEVEL_COUNT; l++) {
            if (!(e[i].levels >> l & 1)) continue;
            t->level_cases[l]++;
            if (e[i].result == TGC_PASS) t->level_pass[l]++;
        }
    }
}

static const char *const level_names[TGC_LEVEL_COUNT] = {"core", "full", "fusion", "composite", "autodiff"};
const char *tgc_level_name(int l) { return l >= 0 && l < TGC_LEVEL_COUNT ? level_names[l] : "?"; }

void tgc_level_totals(const tgc_report *r, size_t *totals) {
    for (int l = 0; l < TGC_LEVEL_COUNT; l++) totals[l] = 0;
    for (size_t i = 0; i < r->cat->count; i++)
        for (int l = 0; l < TGC_LEVEL_COUNT; l++) totals[l] += r->cat->cases[i].levels >> l & 1;
}

const char *tgc_level_status(const tgc_table *t, int l) {
    if (!t->level_cases[l]) return "not-run";
    if (t->level_pass[l] < t->level_cases[l]) return "no";
    return t->level_cases[l] < t->level_total[l] ? "partial" : "yes";
}

void tgc_report_summary(FILE *f, const tgc_report *r) {
    tgc_entry *e = tgc_entries(r);
    if (!e) return;
    tgc_table t;
    tgc_table_fill(&t, e, r->nsel);
    tgc_level_totals(r, t.level_total);
    free(e);
    fprintf(f, "\n%-11s", "op");
    for (int d = 0; d < TG_DTYPE_COUNT; d++) fprintf(f, " %8s", tg_dtype_name((tg_dtype)d));
    fprintf(f, "\n");
    for (int row = 0; row < TGC_ROW_COUNT; row++) {
        size_t any = 0;
        for (int d = 0; d < TG_DTYPE_COUNT; d++)
            for (int k = 0; k < TGC_RESULT_COUNT; k++) any += t.cell[row][d][k];
        if (!any) continue;
        fprintf(f, "%-11s", tgc_row_name(row));
        for (int d = 0; d < TG_DTYPE_COUNT; d++) {
            const size_t *c = t.cell[row][d];
            size_t total = 0;
            for (int k = 0; k < TGC_RESULT_COUNT; k++) total += c[k];
            size_t bad = c[TGC_FAIL] + c[TGC_CRASH] + c[TGC_TIMEOUT];
            char cell[32];
            if (!total) snprintf(cell, sizeof cell, ".");
            else if (bad) snprintf(cell, sizeof cell, "FAIL %zu", bad);
            else if (c[TGC_UNSUPPORTED] == total) snprintf(cell, sizeof cell, "unsup");
            else snprintf(cell, sizeof cell, "%zu/%zu", c[TGC_PASS] + c[TGC_XPASS], total);
            fprintf(f, " %8s", cell);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    for (int k = 0; k < TGC_RESULT_COUNT; k++)
        if (k != TGC_NOTRUN) fprintf(f, "%s %zu  ", tgc_result_name((tgc_result)k), t.totals[k]);
    fprintf(f, "\nlevels:");
    for (int l = 0; l < TGC_LEVEL_COUNT; l++)
        fprintf(f, " %s=%s", level_names[l], tgc_level_status(&t, l));
    fprintf(f, "  (%.1f s)\n", r->seconds);
}

tgc_entry *tgc_entries(const tgc_report *r) {
    tgc_entry *e = calloc(r->nsel ? r->nsel : 1, sizeof *e);
    for (size_t i = 0; e && i < r->nsel; i++) {
        const tgc_case *c = &r->cat->cases[r->sel[i]];
        e[i] = (tgc_entry){c->id, c->row, c->dtype, c->levels, r->out[i].result};
    }
    return e;
}

static void xml_escape(FILE *f, const char *s) {
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '<') fputs("&lt;", f);
        else if (ch == '>') fputs("&gt;", f);
        else if (ch == '&') fputs("&amp;", f);
        else if (ch == '"') fputs("&quot;", f);
        else if (ch < 0x20 && ch != '\n' && ch != '\t') fprintf(f, "&#%u;", ch);
        else fputc(ch, f);
    }
}

tg_status tgc_report_junit(const char *path, const tgc_report *r) {
    FILE *f = fopen(path, "w");
    if (!f) return tg_error(TG_ERR_IO, "cannot write '%s'", path);
    size_t fails = 0, errors = 0, skipped = 0;
    for (size_t i = 0; i < r->nsel; i++) {
        tgc_result k = r->out[i].result;
        fails += k == TGC_FAIL;
        errors += k == TGC_CRASH || k == TGC_TIMEOUT;
        skipped += k == TGC_UNSUPPORTED || k == TGC_XFAIL;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"tg-conform.");
    xml_escape(f, r->facts ? r->facts->name : "plugin");
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", r->nsel, fails, errors,
            skipped, r->seconds);
    for (size_t i = 0; i < r->nsel; i++) {
        const tgc_case *c = &r->cat->cases[r->sel[i]];
        const tgc_outcome *o = &r->out[i];
        fprintf(f, "<testcase classname=\"%s.%s\" name=\"", tgc_row_name(c->row), tg_dtype_name((tg_dtype)c->dtype));
        xml_escape(f, c->id);
        fprintf(f, "\" time=\"%.4f\">", o->seconds);
        switch (o->result) {
        case TGC_PASS: break;
        case TGC_XPASS: fprintf(f, "<system-out>unexpected pass</system-out>"); break;
        case TGC_UNSUPPORTED:
        case TGC_XFAIL:
            fprintf(f, "<skipped message=\"%s: ", tgc_result_name(o->result));
            xml_escape(f, o->result == TGC_XFAIL ? o->xfail_reason : o->detail);
            fprintf(f, "\"/>");
            break;
        default:
            fprintf(f, "<%s message=\"%s\">", o->result == TGC_FAIL ? "failure" : "error", tgc_result_name(o->result));
            xml_escape(f, o->detail);
            fprintf(f, "</%s>", o->result == TGC_FAIL ? "failure" : "error");
        }
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    return tgc_close_output(f, path);
}
