/* ref against the golden vectors of conformance/golden/vectors.txt (made by
 * gen.py from Python's exact arithmetic and numpy): each case runs on ref
 * and is judged by the suite's own rules with the golden values as the
 * expected output. argv[1]: the vectors file; TG_PROXY_REF: tg-ref.so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>
#include "tap.h"

enum { MAXN = 64 };

typedef struct golden {
    char op[32], dt[16];
    int rows, cols, axes, nin;
    tg_dtype in_dt[3], out_dt;
    uint64_t in[3][MAXN], out[MAXN];
    int nout;
} golden;

static void put(void *buf, tg_dtype dt, int i, uint64_t bits) {
    memcpy((char *)buf + (size_t)i * tg_dtype_size(dt), &bits, tg_dtype_size(dt)); /* little-endian */
}

/* Parse "in|out DTYPE HEX..." into dt/vals; returns the count or -1. */
static int parse_values(char *line, tg_dtype *dt, uint64_t *vals) {
    char *tok = strtok(line, " \n");
    tok = strtok(NULL, " \n");
    if (!tok || tg_dtype_parse(tok, dt) != TG_OK) return -1;
    int n = 0;
    while ((tok = strtok(NULL, " \n")) && n < MAXN) vals[n++] = strtoull(tok, NULL, 16);
    return n;
}

static int run_case(tgc_device *ref, const golden *g, char *detail, size_t cap) {
    tgc_case *c = calloc(1, sizeof *c);
    int64_t shape[2] = {g->rows, g->cols}, out[TG_MAX_DIMS];
    tgc_b_init(c, 2, shape, (uint32_t)g->axes);
    tgc_b_out_shape(c, out);
    int src[3] = {-1, -1, -1};
    for (int k = 0; k < g->nin; k++) src[k] = tgc_b_load(c, g->in_dt[k], 0, c->shape, TGC_V_RANDOM);
    int opn = -1;
    for (int o = 0; o < TG_OP_COUNT; o++)
        if (!strcmp(g->op, tg_op_name((tg_op)o)) || (!strncmp(g->op, "CAST>", 5) && o == TG_OP_CAST)) opn = o;
    int n = tgc_b_op(c, (tg_op)opn, g->out_dt, src[0], src[1], src[2]);
    tgc_b_store(c, n, 0, out);
    c->rule = TGC_RULE_NODE;
    c->judge = (uint8_t)n;
    void *in[TGC_MAX_PARAMS] = {0}, *exp[TGC_MAX_PARAMS] = {0}, *act[TGC_MAX_PARAMS] = {0};
    for (uint32_t p = 0; p < c->nparams; p++) {
        size_t bytes = (size_t)c->params[p].count * tg_dtype_size((tg_dtype)c->params[p].dtype) + 1;
        in[p] = calloc(1, bytes);
        if (c->params[p].access == TG_ACCESS_READ) {
            for (int i = 0; i < c->params[p].count; i++) put(in[p], (tg_dtype)c->params[p].dtype, i, g->in[p][i]);
            exp[p] = act[p] = in[p];
        } else {
            exp[p] = calloc(1, bytes);
            act[p] = in[p];
            /* the stored region is contiguous, after the guard elements */
            int64_t at = c->views[c->nodes[c->nnodes - 1].view].offset;
            for (int i = 0; i < g->nout; i++) put(exp[p], g->out_dt, at + i, g->out[i]);
        }
    }
    tg_kernel k;
    tgc_case_kernel(c, &k);
    int verdict;
    if (tgc_device_run(ref, &k, act) != TG_OK) {
        snprintf(detail, cap, "ref failed: %s", tg_last_error());
        verdict = 0;
    } else {
        verdict = tgc_judge(c, ref, in, exp, act, detail, cap) == 1;
    }
    for (uint32_t p = 0; p < c->nparams; p++) {
        if (exp[p] != in[p]) free(exp[p]);
        free(in[p]);
    }
    free(c);
    return verdict;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : NULL;
    FILE *f = path ? fopen(path, "r") : NULL;
    tgc_device ref;
    if (!f || !getenv("TG_PROXY_REF") || tgc_device_open(getenv("TG_PROXY_REF"), &ref) != TG_OK) {
        tap_ok(0, "open the golden vectors (argv[1]) and ref (TG_PROXY_REF): %s", tg_last_error());
        return tap_done();
    }
    static char line[1 << 16], detail[8192];
    golden *g = calloc(1, sizeof *g);
    int have = 0, ncases = 0;
    for (;;) {
        char *l = fgets(line, sizeof line, f);
        if (!l || !strncmp(line, "case ", 5)) {
            if (have) {
                int ok = run_case(&ref, g, detail, sizeof detail);
                ncases++;
                if (!tap_ok(ok, "golden %s %s", g->op, g->dt))
                    for (char *l = strtok(detail, "\n"); l; l = strtok(NULL, "\n")) tap_diag("  %s", l);
            }
            if (!l) break;
            memset(g, 0, sizeof *g);
            have = sscanf(line, "case %31s %15s %d %d %d", g->op, g->dt, &g->rows, &g->cols, &g->axes) == 5;
            if (!have) tap_ok(0, "parse '%s'", line);
        } else if (!strncmp(line, "in ", 3) && have && g->nin < 3) {
            int n = parse_values(line, &g->in_dt[g->nin], g->in[g->nin]);
            if (n != g->rows * g->cols) have = tap_ok(0, "input count of %s %s", g->op, g->dt) && 0;
            g->nin++;
        } else if (!strncmp(line, "out ", 4) && have) {
            g->nout = parse_values(line, &g->out_dt, g->out);
        }
    }
    fclose(f);
    free(g);
    tap_ok(ncases > 300, "the golden file holds every op x dtype and every cast (%d cases)", ncases);
    tgc_device_close(&ref);
    return tap_done();
}
