/* Which code paths of the cpu plugin (a code-generating plugin) the suite's
 * kernels reach: every catalog case with a reduction or with 4096 points or
 * more runs on cpu (TG_THREADS=4) against ref and must pass, and the layout
 * each one got (the "plan: mode ..." line the lowering library writes into
 * its generated source, sdk/lower/render.c) is counted. Every CPU layout the
 * library can choose (sdk/lower/lower.c, plan_cpu) must be reached: FLAT reductions with 1, 8 and 16/32 lanes,
 * OUTER, MATMUL with A read in place and packed, on ragged tiles, both split
 * reductions run on several threads, and kernels big enough for -O3 with a
 * MUL feeding an ADD (where a contraction into FMA would show).
 * Environment: TG_CPU_PLUGIN, TG_PROXY_REF (paths); TG_THREADS (default:
 * the cpu plugin's, the number of processors, at least 2 so that reductions
 * split; so the kernel cache of conform_cpu serves most kernels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tg/conform.h>
#include "tap.h"

enum { CPU_SMALL_OPT = 4096, CPU_SMALL_WORK = 32768 }; /* plugins/cpu/plugin.c */

enum { L_EW_O3, L_EW_O3_MULADD, L_FLAT1, L_FLAT8, L_FLAT16, L_OUTER, L_MM_DIRECT, L_MM_PACKED, L_MM_RAGGED,
       L_SPLIT_FLAT, L_SPLIT_OUTER, L_COUNT };
static const char *const layout_names[L_COUNT] = {
    "elementwise at -O3", "elementwise at -O3, MUL into ADD", "FLAT reduction, 1 lane", "FLAT reduction, 8 lanes",
    "FLAT reduction, 16 or 32 lanes", "OUTER reduction", "MATMUL, A read in place", "MATMUL, A packed",
    "MATMUL, M % 6, N % 16 != 0, K odd", "split FLAT reduction on threads", "split OUTER reduction on threads"};

static int reduce_node(const tgc_case *c) {
    for (uint32_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i].op == TG_OP_REDUCE_SUM || c->nodes[i].op == TG_OP_REDUCE_MAX) return (int)i;
    return -1;
}

static int mul_into_add(const tgc_case *c) {
    for (uint32_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i].op == TG_OP_ADD && c->nodes[c->nodes[i].src[0]].op == TG_OP_MUL &&
            tg_dtype_is_float((tg_dtype)c->nodes[i].dtype))
            return 1;
    return 0;
}

/* The layout cpu chose for case c, from its generated source. */
static int layouts_of(const tgc_case *c, const char *src, int *out) {
    int mode, lanes, block, mr, nc, split, par, n = 0;
    const char *m = src ? strstr(src, "plan: mode ") : NULL;
    if (!m || sscanf(m, "plan: mode %d lanes %d block %d mr %d nc %d split %d par %d", &mode, &lanes, &block, &mr, &nc,
                     &split, &par) != 7)
        return -1;
    int64_t points = tgc_numel(c->ndim, c->shape);
    if (reduce_node(c) < 0) {
        if (points >= CPU_SMALL_OPT) out[n++] = L_EW_O3;
        if (points >= CPU_SMALL_OPT && mul_into_add(c)) out[n++] = L_EW_O3_MULADD;
        return n;
    }
    if (split && points >= CPU_SMALL_WORK) out[n++] = mode == 1 ? L_SPLIT_OUTER : L_SPLIT_FLAT;
    if (mode == 0 && !split) out[n++] = lanes >= 16 ? L_FLAT16 : lanes >= 8 ? L_FLAT8 : L_FLAT1;
    if (mode == 1 && !split) out[n++] = L_OUTER;
    if (mode == 2) {
        out[n++] = strstr(src, "*ap = NULL;") ? L_MM_DIRECT : L_MM_PACKED;
        if (c->ndim == 3 && c->shape[0] % 6 && c->shape[1] % 16 && c->shape[2] % 2) out[n++] = L_MM_RAGGED;
    }
    return n;
}

int main(void) {
    const char *cpu_path = getenv("TG_CPU_PLUGIN"), *ref_path = getenv("TG_PROXY_REF");
    if (!cpu_path || !ref_path) {
        tap_skip("TG_CPU_PLUGIN or TG_PROXY_REF not set");
        return tap_done();
    }
    if (!getenv("TG_THREADS") && sysconf(_SC_NPROCESSORS_ONLN) < 2) setenv("TG_THREADS", "2", 1);
    tgc_catalog cat;
    tgc_device cpu, ref;
    if (!tap_ok(tgc_catalog_build(&cat) == TG_OK, "the catalog builds")) return tap_done();
    if (!tap_ok(tgc_device_open(cpu_path, &cpu) == TG_OK && tgc_device_open(ref_path, &ref) == TG_OK,
                "cpu and ref open: %s", tg_last_error()))
        return tap_done();
    size_t count[L_COUNT] = {0}, ran = 0, bad = 0, unknown = 0;
    const char *first[L_COUNT] = {0};
    char *detail = malloc(1 << 16);
    for (size_t i = 0; i < cat.count; i++) {
        const tgc_case *c = &cat.cases[i];
        if (c->composite || c->nargs || c->abi || (reduce_node(c) < 0 && tgc_numel(c->ndim, c->shape) < CPU_SMALL_OPT)) continue;
        ran++;
        tgc_result r = tgc_case_run(c, &cpu, &ref, detail, 1 << 16);
        if (r != TGC_PASS && bad++ < 5) tap_diag("%s: %s\n%.400s", c->id, tgc_result_name(r), detail);
        tg_kernel k;
        tg_program *prog = NULL;
        tgc_case_kernel(c, &k);
        int got[4], n = -1;
        if (cpu.api->program_create(cpu.dev, &k, &prog) == TG_OK) {
            n = layouts_of(c, cpu.api->program_source(cpu.dev, prog), got);
            cpu.api->program_destroy(cpu.dev, prog);
        }
        if (n < 0 && unknown++ < 5) tap_diag("%s: no layout line in the generated source", c->id);
        for (int g = 0; g < n; g++) {
            if (!count[got[g]]++) first[got[g]] = c->id;
        }
    }
    tap_ok(ran > 100 && bad == 0, "cpu passes the %zu cases with a reduction or >= %d points (%zu do not)", ran,
           CPU_SMALL_OPT, bad);
    tap_ok(unknown == 0, "every program names its layout (%zu do not)", unknown);
    for (int l = 0; l < L_COUNT; l++)
        tap_ok(count[l] > 0, "layout reached: %s: %zu cases, e.g. %s", layout_names[l], count[l], first[l] ? first[l] : "-");
    free(detail);
    tgc_device_close(&cpu);
    tgc_device_close(&ref);
    tgc_catalog_free(&cat);
    return tap_done();
}
