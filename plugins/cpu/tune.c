/* plugins/cpu/tune.c -- TG_BEAM=N: try up to N layouts of a kernel (tile
 * sizes, accumulator lanes, output blocks, loop order, thread split), time each
 * on random inputs, keep only those whose outputs match the plain (untuned)
 * rendering within the op tolerances, and cache the fastest per host in
 * <cache dir>/tune-<key>.txt. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include <tg/dtype_util.h>

#define MAX_CAND 48

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill_random(void *p, uint32_t dt, int64_t count, uint64_t seed) {
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (int64_t i = 0; i < count; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x = (double)(s >> 11) * (1.0 / 9007199254740992.0) * 2 - 1;
        switch (dt) {
        case TG_FLOAT32: ((float *)p)[i] = (float)x; break;
        case TG_FLOAT64: ((double *)p)[i] = x; break;
        case TG_FLOAT16: ((uint16_t *)p)[i] = tgp_float_to_half((float)x); break;
        case TG_BFLOAT16: ((uint16_t *)p)[i] = tgp_float_to_bf16((float)x); break;
        case TG_BOOL: ((uint8_t *)p)[i] = x > 0; break;
        default: { /* small integers: sums stay exact and comparable */
            int64_t v = (int64_t)(x * 50);
            memcpy((char *)p + i * tgp_dtype_size(dt), &v, tgp_dtype_size(dt));
        }
        }
    }
}

static double as_double(const void *p, uint32_t dt, int64_t i) {
    switch (dt) {
    case TG_FLOAT32: return ((const float *)p)[i];
    case TG_FLOAT64: return ((const double *)p)[i];
    case TG_FLOAT16: return tgp_half_to_float(((const uint16_t *)p)[i]);
    case TG_BFLOAT16: return tgp_bf16_to_float(((const uint16_t *)p)[i]);
    default: return 0;
    }
}

/* Outputs of a candidate against the plain rendering's: integers exact; floats
 * within a reduction's reassociation bound (inputs are in [-1, 1]), NaN where NaN. */
static int outputs_match(const tg_kernel *k, int64_t red_count, tg_buffer **got, void **want) {
    double n = (double)(red_count > 0 ? red_count : 1);
    for (uint32_t p = 0; p < k->nparams; p++) {
        if (k->params[p].access != TG_ACCESS_WRITE) continue;
        uint32_t dt = k->params[p].dtype;
        const void *g = cpu_buffer_data(got[p]);
        size_t sz = tgp_dtype_size(dt);
        if (!tgp_dtype_is_float(dt) || k->reduce_axes == 0) {
            if (memcmp(g, want[p], (size_t)k->params[p].count * sz)) return 0;
            continue;
        }
        double u = dt == TG_FLOAT64 ? ldexp(1, -52) : dt == TG_FLOAT32 ? ldexp(1, -23) : ldexp(1, -7);
        for (int64_t i = 0; i < k->params[p].count; i++) {
            double a = as_double(g, dt, i), b = as_double(want[p], dt, i);
            if (isnan(a) || isnan(b)) {
                if (isnan(a) != isnan(b)) return 0;
                continue;
            }
            if (a != b && !(fabs(a - b) <= 2 * n * u * (n + fabs(b)))) return 0;
        }
    }
    return 1;
}

/* A tuning record: the beam it was searched with, then the options. */
static void opts_write(FILE *f, int beam, const tgl_plan *o) {
    fprintf(f, "%d %d %d %d %d %d %d %d\n", beam, o->mode, o->lanes, o->block, o->mr, o->nc, o->split, o->par_axis);
}

static int opts_read(FILE *f, int *beam, tgl_plan *o) {
    int v[7];
    if (fscanf(f, "%d %d %d %d %d %d %d %d", beam, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 8) return 0;
    o->mode = v[0], o->lanes = v[1], o->block = v[2], o->mr = v[3], o->nc = v[4], o->split = v[5], o->par_axis = v[6];
    return 1;
}

tg_status cpu_tune(tg_device *d, const tg_kernel *k, tgl_plan *opts, int beam) {
    tgl_plan cand[MAX_CAND];
    memset(cand, 0, sizeof cand); /* compared with memcmp */
    tgl_target t;
    cpu_target(cpu_device_threads(d), &t);
    int nc = tgl_plan_variants(k, &t, cand, MAX_CAND);
    if (nc <= 1) return TG_OK;
    /* the key: the plain rendering (exact shapes, strides, dtypes) and the host */
    char err[256];
    tgl_prog *lp = NULL;
    tgl_sb sb = {0};
    if (tgl_lower(k, &t, opts, &lp, err, sizeof err) != TG_OK || tgl_render(lp, &tgl_dialect_c, &sb) != TG_OK) {
        tgl_sb_free(&sb);
        tgl_prog_free(lp);
        return TG_OK;
    }
    int64_t red_count = lp->red_count;
    tgl_prog_free(lp);
    uint64_t key = cpu_hash(cpu_jit_ident(cpu_device_jit(d)), sb.s, sb.len);
    tgl_sb_free(&sb);
    char path[4200];
    snprintf(path, sizeof path, "%s/tune-%016" PRIx64 ".txt", cpu_jit_cache_dir(cpu_device_jit(d)), key);
    FILE *f = cpu_jit_open_record(path);
    if (f) { /* a winner found earlier with at least this beam: use it */
        tgl_plan o = *opts;
        int had = 0, ok = opts_read(f, &had, &o);
        fclose(f);
        /* only a layout this plugin would try for this kernel (a garbled or foreign
         * record must not pick, say, a partial reduction) */
        int known = 0;
        for (int c = 0; c < nc && !known; c++) known = !memcmp(&cand[c], &o, sizeof o);
        if (ok && had >= beam && known) {
            *opts = o;
            return TG_OK;
        }
    }
    if (beam <= 0) return TG_OK;
    if (nc > beam + 1) nc = beam + 1; /* the default plus `beam` others */
    /* inputs, and the plain rendering's outputs */
    tg_buffer *bufs[64] = {0};
    void *want[64] = {0};
    tg_status st = TG_OK;
    for (uint32_t p = 0; p < k->nparams && st == TG_OK; p++) {
        uint64_t bytes = (uint64_t)k->params[p].count * tgp_dtype_size(k->params[p].dtype);
        st = cpu_buffer_new(d, bytes, &bufs[p]);
        if (st == TG_OK && k->params[p].access == TG_ACCESS_READ)
            fill_random(cpu_buffer_data(bufs[p]), k->params[p].dtype, k->params[p].count, p + 1);
        if (st == TG_OK && k->params[p].access == TG_ACCESS_WRITE && !(want[p] = malloc(bytes ? bytes : 1)))
            st = TG_ERR_NO_MEMORY;
    }
    double best = 1e30;
    int winner = 0;
    for (int c = 0; c < nc && st == TG_OK; c++) {
        tg_program *prog = NULL;
        if (cpu_program_build(d, k, &cand[c], &prog) != TG_OK) continue; /* a layout that fails is skipped */
        double t = 1e30;
        for (int r = 0; r < 3; r++) {
            double t0 = now();
            if (cpu_program_run(d, prog, bufs, k->nparams) != TG_OK) { t = 1e30; break; }
            double dt = now() - t0;
            if (dt < t) t = dt;
        }
        int ok = 1;
        if (c == 0) {
            for (uint32_t p = 0; p < k->nparams; p++)
                if (want[p])
                    memcpy(want[p], cpu_buffer_data(bufs[p]),
                           (size_t)k->params[p].count * tgp_dtype_size(k->params[p].dtype));
        } else {
            ok = outputs_match(k, red_count, bufs, want);
        }
        cpu_program_free(d, prog);
        if (ok && t < best) {
            best = t;
            winner = c;
        }
    }
    for (uint32_t p = 0; p < k->nparams; p++) {
        cpu_buffer_free(d, bufs[p]);
        free(want[p]);
    }
    if (st != TG_OK) return TG_OK; /* tuning is best effort: keep the default */
    *opts = cand[winner];
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)clock());
    f = fopen(tmp, "w");
    if (f) {
        opts_write(f, beam, opts);
        if (fclose(f) != 0 || rename(tmp, path) != 0) remove(tmp);
    }
    return TG_OK;
}
