/* Case files: cases as text, written by `tg fuzz`, replayed by
 * `tg conform --case-file`. Format (one case; a file may hold several):
 *
 *   case ID
 *   meta ROW DTYPE RULE JUDGE TOL LEVELS SEED     (RULE: node|chain)
 *   kernel NDIM D0..D{NDIM-1} reduce MASK
 *   param DTYPE read|write COUNT VALUECLASS
 *   view NDIM MASKED OFFSET SHAPE.. STRIDES.. [LO.. HI..]
 *   node OP DTYPE SRC0 SRC1 SRC2 BUFFER VIEW NVIEWS VALUEBITS(hex)
 *   end
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>

static int op_parse(const char *s) {
    for (int i = 0; i < TG_NODE_OP_COUNT; i++)
        if (!strcmp(s, tg_op_name((tg_op)i))) return i;
    if (!strcmp(s, "FUSION")) return TGC_ROW_FUSION;
    return -1;
}

static const char *row_name(int row) { return row == TGC_ROW_FUSION ? "FUSION" : tg_op_name((tg_op)row); }

tg_status tgc_casefile_write(FILE *f, const tgc_case *c) {
    if (c->composite) return tg_error(TG_ERR_INVALID, "case %s runs through the tensor API: no case file form", c->id);
    if (c->nargs) return tg_error(TG_ERR_INVALID, "case %s takes kernel arguments: no case file form", c->id);
    if (c->abi) return tg_error(TG_ERR_INVALID, "case %s tests a call of the ABI: no case file form", c->id);
    if (c->memory) return tg_error(TG_ERR_INVALID, "case %s runs through the plugin's memory slots: no case file form", c->id);
    fprintf(f, "case %s\n", c->id);
    fprintf(f, "meta %s %s %s %u %u %u %llu\n", row_name(c->row), tg_dtype_name((tg_dtype)c->dtype),
            c->rule == TGC_RULE_NODE ? "node" : "chain", c->judge, c->tol_ulp, c->levels, (unsigned long long)c->seed);
    fprintf(f, "kernel %u", c->ndim);
    for (uint32_t d = 0; d < c->ndim; d++) fprintf(f, " %lld", (long long)c->shape[d]);
    fprintf(f, " reduce %u\n", c->reduce_axes);
    for (uint32_t p = 0; p < c->nparams; p++)
        fprintf(f, "param %s %s %lld %u\n", tg_dtype_name((tg_dtype)c->params[p].dtype),
                c->params[p].access == TG_ACCESS_READ ? "read" : "write", (long long)c->params[p].count, c->values[p]);
    for (uint32_t v = 0; v < c->nviews; v++) {
        const tg_view *w = &c->views[v];
        fprintf(f, "view %u %u %lld", w->ndim, w->has_mask, (long long)w->offset);
        for (uint32_t d = 0; d < w->ndim; d++) fprintf(f, " %lld", (long long)w->shape[d]);
        for (uint32_t d = 0; d < w->ndim; d++) fprintf(f, " %lld", (long long)w->strides[d]);
        if (w->has_mask) {
            for (uint32_t d = 0; d < w->ndim; d++) fprintf(f, " %lld", (long long)w->mask_lo[d]);
            for (uint32_t d = 0; d < w->ndim; d++) fprintf(f, " %lld", (long long)w->mask_hi[d]);
        }
        fprintf(f, "\n");
    }
    for (uint32_t i = 0; i < c->nnodes; i++) {
        const tg_node *n = &c->nodes[i];
        fprintf(f, "node %s %s %d %d %d %u %u %u %llx\n", tg_op_name((tg_op)n->op), tg_dtype_name((tg_dtype)n->dtype),
                n->src[0], n->src[1], n->src[2], n->buffer, n->view, n->nviews, (unsigned long long)n->value.u);
    }
    fprintf(f, "end\n");
    return ferror(f) ? tg_error(TG_ERR_IO, "cannot write the case file") : TG_OK;
}

/* Read whitespace-separated int64s from *s into out[0..n). */
static int read_ints(char **s, long long *out, int n) {
    for (int i = 0; i < n; i++) {
        char *end;
        out[i] = strtoll(*s, &end, 10);
        if (end == *s) return -1;
        *s = end;
    }
    return 0;
}

static tg_status parse_line(tgc_case *c, char *line, const char *path, int lineno) {
    char kw[16], a[40], b[40], r[16];
    if (sscanf(line, "%15s", kw) != 1) return TG_OK;
    char *rest = line + strspn(line, " \t") + strlen(kw);
    long long v[4 * TG_MAX_DIMS + 3];
    if (!strcmp(kw, "meta")) {
        unsigned judge, tol, levels;
        unsigned long long seed;
        int row = -1;
        tg_dtype dt;
        if (sscanf(rest, "%39s %39s %15s %u %u %u %llu", a, b, r, &judge, &tol, &levels, &seed) != 7 ||
            (row = op_parse(a)) < 0 || tg_dtype_parse(b, &dt) != TG_OK)
            goto bad;
        c->row = (uint16_t)row, c->dtype = (uint8_t)dt, c->rule = strcmp(r, "node") ? TGC_RULE_CHAIN : TGC_RULE_NODE;
        c->judge = (uint8_t)judge, c->tol_ulp = (uint8_t)tol, c->levels = (uint8_t)levels, c->seed = seed;
    } else if (!strcmp(kw, "kernel")) {
        if (read_ints(&rest, v, 1) || v[0] < 0 || v[0] > TG_MAX_DIMS || read_ints(&rest, v + 1, (int)v[0])) goto bad;
        c->ndim = (uint32_t)v[0];
        for (int d = 0; d < v[0]; d++) c->shape[d] = v[1 + d];
        unsigned mask;
        if (sscanf(rest, " reduce %u", &mask) != 1) goto bad;
        c->reduce_axes = mask;
    } else if (!strcmp(kw, "param")) {
        long long count;
        unsigned cls;
        tg_dtype dt;
        if (c->nparams >= TGC_MAX_PARAMS || sscanf(rest, "%39s %39s %lld %u", a, b, &count, &cls) != 4 ||
            tg_dtype_parse(a, &dt) != TG_OK || cls >= TGC_V_COUNT)
            goto bad;
        c->values[c->nparams] = (uint8_t)cls;
        c->params[c->nparams++] = (tg_param){.dtype = dt, .access = strcmp(b, "read") ? TG_ACCESS_WRITE : TG_ACCESS_READ, .count = count};
    } else if (!strcmp(kw, "view")) {
        if (c->nviews >= TGC_MAX_VIEWS || read_ints(&rest, v, 3) || v[0] < 0 || v[0] > TG_MAX_DIMS) goto bad;
        tg_view *w = &c->views[c->nviews++];
        memset(w, 0, sizeof *w);
        int nd = (int)v[0];
        w->ndim = (uint32_t)nd, w->has_mask = v[1] != 0, w->offset = v[2];
        if (read_ints(&rest, v, (w->has_mask ? 4 : 2) * nd)) goto bad;
        for (int d = 0; d < nd; d++) {
            w->shape[d] = v[d], w->strides[d] = v[nd + d];
            if (w->has_mask) w->mask_lo[d] = v[2 * nd + d], w->mask_hi[d] = v[3 * nd + d];
        }
    } else if (!strcmp(kw, "node")) {
        int s0, s1, s2, op;
        unsigned buf, view, nviews;
        unsigned long long bits;
        tg_dtype dt;
        if (c->nnodes >= TGC_MAX_NODES ||
            sscanf(rest, "%39s %39s %d %d %d %u %u %u %llx", a, b, &s0, &s1, &s2, &buf, &view, &nviews, &bits) != 9 ||
            (op = op_parse(a)) < 0 || tg_dtype_parse(b, &dt) != TG_OK)
            goto bad;
        tg_node *n = &c->nodes[c->nnodes++];
        memset(n, 0, sizeof *n);
        n->op = (uint32_t)op, n->dtype = dt, n->src[0] = s0, n->src[1] = s1, n->src[2] = s2;
        n->buffer = buf, n->view = view, n->nviews = nviews, n->value.u = bits;
    } else {
        goto bad;
    }
    return TG_OK;
bad:
    return tg_error(TG_ERR_INVALID, "%s:%d: cannot parse '%s'", path, lineno, line);
}

tg_status tgc_casefile_read(const char *path, tgc_catalog *cat) {
    FILE *f = fopen(path, "r");
    if (!f) return tg_error(TG_ERR_IO, "cannot open case file '%s'", path);
    char line[4096];
    tgc_case *c = calloc(1, sizeof *c);
    int in_case = 0, lineno = 0;
    tg_status st = TG_OK;
    while (st == TG_OK && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[strspn(line, " \t")] == '\0') continue;
        if (!strncmp(line, "case ", 5)) {
            memset(c, 0, sizeof *c);
            snprintf(c->id, sizeof c->id, "%.*s", TGC_ID_LEN - 1, line + 5);
            c->levels = TGC_LEVEL_FUSION;
            in_case = 1;
        } else if (!strcmp(line, "end")) {
            if (!in_case) st = tg_error(TG_ERR_INVALID, "%s:%d: 'end' without 'case'", path, lineno);
            else {
                c->group = (uint32_t)cat->count + 1000000u;
                st = tgc_catalog_add(cat, c);
            }
            in_case = 0;
        } else if (!in_case) {
            st = tg_error(TG_ERR_INVALID, "%s:%d: expected 'case ID'", path, lineno);
        } else {
            st = parse_line(c, line, path, lineno);
        }
    }
    if (st == TG_OK && in_case) st = tg_error(TG_ERR_INVALID, "%s: the last case has no 'end'", path);
    free(c);
    fclose(f);
    return st;
}
