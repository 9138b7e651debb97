/* tests/core/golden.h -- the golden-file reader and checker of the core's
 * forward tests (the format gen_golden.py and gen_golden_more.py write):
 * read_case() one case at a time, check_case() runs it through a mapping
 * from op names to tg calls and compares with the generator's values;
 * golden_file() does a whole file on one device. */
#ifndef TG_TESTS_CORE_GOLDEN_H
#define TG_TESTS_CORE_GOLDEN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/tg.h>
#include "tap.h"

#define MAXIN 6

typedef struct arrayv {
    tg_dtype dt;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t n;
    double *v;
} arrayv;

typedef struct gcase {
    char name[64], op[64];
    double args[24];
    int nargs, nin;
    arrayv in[MAXIN], out;
    double atol, rtol;
} gcase;

static int read_array(FILE *f, arrayv *a) {
    char dt[16];
    if (fscanf(f, "%15s %d", dt, &a->ndim) != 2 || tg_dtype_parse(dt, &a->dt)) return 0;
    a->n = 1;
    for (int d = 0; d < a->ndim; d++) {
        long long s;
        if (fscanf(f, "%lld", &s) != 1) return 0;
        a->shape[d] = s, a->n *= s;
    }
    a->v = malloc((size_t)(a->n + 1) * sizeof *a->v);
    for (int64_t i = 0; i < a->n; i++) {
        char tok[64];
        if (fscanf(f, "%63s", tok) != 1) return 0;
        a->v[i] = strcmp(tok, "inf") == 0 ? INFINITY : strcmp(tok, "-inf") == 0 ? -INFINITY
                  : strcmp(tok, "nan") == 0 ? NAN : strtod(tok, NULL);
    }
    return 1;
}

static int read_case(FILE *f, gcase *c) {
    char key[32];
    memset(c, 0, sizeof *c);
    if (fscanf(f, " case %63s %63s", c->name, c->op) != 2) return 0;
    while (fscanf(f, "%31s", key) == 1) {
        if (strcmp(key, "args") == 0) {
            char line[512], *p = line, *end;
            if (!fgets(line, sizeof line, f)) return 0;
            for (double v = strtod(p, &end); end != p && c->nargs < 24; v = strtod(p, &end)) {
                c->args[c->nargs++] = v;
                p = end;
            }
        } else if (strcmp(key, "in") == 0) {
            if (c->nin == MAXIN || !read_array(f, &c->in[c->nin++])) return 0;
        } else if (strcmp(key, "out") == 0) {
            if (!read_array(f, &c->out)) return 0;
        } else if (strcmp(key, "tol") == 0) {
            if (fscanf(f, "%lf %lf", &c->atol, &c->rtol) != 2) return 0;
        } else if (strcmp(key, "end") == 0) {
            return 1;
        }
    }
    return 0;
}

static void free_case(gcase *c) {
    for (int i = 0; i < c->nin; i++) free(c->in[i].v);
    free(c->out.v);
}

typedef tg_tensor *(*golden_run_fn)(const gcase *c, tg_tensor **in);

static void check_case(tg_dev *dev, const gcase *c, golden_run_fn run) {
    const char *dn = tg_device_name(dev);
    tg_tensor *in[MAXIN] = {0};
    tg_scope_begin();
    for (int i = 0; i < c->nin; i++) {
        const arrayv *a = &c->in[i];
        in[i] = tg_from_f64(dev, a->dt, a->ndim, a->shape, a->v);
    }
    tg_tensor *y = run(c, in);
    double *got = malloc((size_t)(c->out.n + 1) * sizeof *got);
    if (!y || tg_to_f64(y, got, (size_t)c->out.n) != TG_OK) {
        tap_ok(0, "%s: %s: %s", dn, c->name, tg_last_error());
        tg_clear_error();
    } else {
        bool shape_ok = tg_tensor_ndim(y) == c->out.ndim && tg_tensor_dtype(y) == c->out.dt;
        for (int d = 0; shape_ok && d < c->out.ndim; d++) shape_ok = tg_tensor_shape(y)[d] == c->out.shape[d];
        int64_t bad = -1;
        for (int64_t i = 0; shape_ok && i < c->out.n && bad < 0; i++) {
            double e = c->out.v[i], g = got[i];
            bool ok = (isnan(e) && isnan(g)) || e == g || fabs(g - e) <= c->atol + c->rtol * fabs(e);
            if (!ok) bad = i;
        }
        if (!shape_ok) tap_ok(0, "%s: %s: wrong shape or dtype (%s)", dn, c->name, tg_dtype_name(tg_tensor_dtype(y)));
        else if (bad >= 0)
            tap_ok(0, "%s: %s: element %lld is %.9g, the golden value is %.9g", dn, c->name, (long long)bad, got[bad], c->out.v[bad]);
        else tap_ok(1, "%s: %s", dn, c->name);
    }
    free(got);
    tg_scope_end();
}

/* Every case of a golden file on dev; how many were read (-1: no file). */
static int golden_file(tg_dev *dev, const char *path, golden_run_fn run) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    gcase c;
    int n = 0;
    memset(&c, 0, sizeof c);
    if (fgets(line, sizeof line, f)) /* header comment */
        for (; read_case(f, &c); n++) {
            check_case(dev, &c, run);
            free_case(&c);
        }
    free_case(&c);
    fclose(f);
    return n;
}

#endif
