/* The suite's edge-case families against plugins with the faults they are
 * there to catch (proxy_plugin.c): each faulty plugin must fail every case
 * of its family, and pass the controls (cases the fault cannot touch, or
 * that OPS.md lets it pass).
 * Environment: TG_PROXY_REF (tg-ref.so) and TG_<MODE>_PLUGIN (paths). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>
#include "tap.h"

typedef struct family {
    const char *env;           /* the faulty plugin's path variable */
    const char *fault;         /* what it does wrong */
    const char *fail[12];      /* globs: every matching case must FAIL (at least one must exist) */
    const char *pass[6];       /* globs: every matching case must PASS */
} family;

static const family families[] = {
    {"TG_ULP1_PLUGIN", "float32 EXP2 LOG2 SQRT RECIP DIV one ulp off (inside the tolerance)",
     {"op.EXP2.float32.shape=61.values=special", "op.LOG2.float32.shape=61.values=special",
      "op.SQRT.float32.shape=61.values=special", "op.RECIP.float32.shape=61.values=special",
      "op.DIV.float32.shape=293.values=pairs", NULL},
     {"op.LOG2.float32.shape=61.values=wide", "op.SQRT.float32.shape=61.values=wide", NULL}},
    {"TG_RCPDIV_PLUGIN", "float32 DIV as a * RECIP(b)",
     {"op.DIV.float32.shape=293.values=wide", NULL},
     {"op.DIV.float32.shape=17x3", "op.DIV.float16.shape=293.values=wide", NULL}},
    {"TG_DROUND_PLUGIN", "casts rounding twice",
     {"op.CAST.int16>bfloat16.shape=61.values=ties", "op.CAST.uint16>bfloat16.shape=61.values=ties",
      "op.CAST.int32>bfloat16.shape=61.values=ties", "op.CAST.uint32>bfloat16.shape=61.values=ties",
      "op.CAST.int64>bfloat16.shape=61.values=ties", "op.CAST.int64>float32.shape=61.values=ties",
      "op.CAST.uint64>bfloat16.shape=61.values=ties", "op.CAST.uint64>float32.shape=61.values=ties",
      "op.CAST.float64>float16.shape=61.values=ties", "op.CAST.float64>bfloat16.shape=61.values=ties", NULL},
     {"op.CAST.int64>float32.shape=17x3", "op.CAST.float64>float16.shape=17x3", "op.CAST.float32>float16.*", NULL}},
    {"TG_DROP_PLUGIN", "reductions of 4096 points or more drop their last element",
     {"op.REDUCE_SUM.*.shape=4099.axes=0.values=small", "op.REDUCE_SUM.int32.shape=4099.axes=0",
      "op.REDUCE_SUM.*.shape=3x11001.axes=1.values=small", "op.REDUCE_SUM.int32.shape=3x11001.axes=1",
      "op.REDUCE_SUM.float32.shape=11001x3.axes=0.values=small", NULL},
     /* the old sums of 4099 random values: the bound hides a dropped element */
     {"op.REDUCE_SUM.float32.shape=17x3.axes=1", "op.REDUCE_SUM.float16.shape=4099.axes=0",
      "op.REDUCE_SUM.bfloat16.shape=4099.axes=0", "op.REDUCE_SUM.float32.shape=4099.axes=0", NULL}},
    {"TG_WRAP24_PLUGIN", "indices of big buffers wrap at 2^24",
     {"move.FLIP.uint8.shape=16777259", NULL},
     {"move.FLIP.uint8.shape=4x3x5", NULL}},
    {"TG_WRAP31_PLUGIN", "indices of big buffers wrap at 2^31",
     {"move.SHRINK.int8.shape=2x64.index=2^31", NULL},
     {"move.SHRINK.int8.shape=4x3x5", NULL}},
    {"TG_STRAY_PLUGIN", "one write past each output's stored region (element 0 when nothing is stored)",
     {"op.ADD.float32.shape=0", "op.ADD.int8.shape=3x0", "op.ADD.float32.shape=17x3", "move.FLIP.int8.shape=4x3x5",
      "op.REDUCE_SUM.float32.shape=4x5x6.axes=0,1,2", NULL},
     {NULL}},
    {"TG_CANON_PLUGIN", "every NaN of an output canonical (payloads lost)",
     {"move.FLIP.float*.shape=4x3x5", "move.PERMUTE.float*.shape=4x3x5", "move.RESHAPE.float*.shape=4x3x5",
      "op.WHERE.float*.shape=61.values=special", "op.WHERE.float*.shape=293.values=pairs", NULL},
     {"op.ADD.float32.shape=61.values=special", "op.MAX.float32.shape=61.values=special",
      "op.CAST.float64>float32.shape=61.values=special", NULL}},
    {"TG_HALFUP_PLUGIN", "float32 -> float16/bfloat16 casts round ties away from zero",
     {"op.CAST.float32>float16.shape=61.values=ties", "op.CAST.float32>bfloat16.shape=61.values=ties", NULL},
     {"op.CAST.float32>float16.shape=17x3", "op.CAST.float32>bfloat16.shape=17x3",
      "op.CAST.float32>float16.shape=61.values=special", "op.CAST.float32>bfloat16.shape=61.values=special", NULL}},
    {"TG_FMA_PLUGIN", "a*b+c contracted into a fused multiply-add",
     {"fuse.mul_add.shape=64x67.*", NULL},
     {"op.MULACC.float32.shape=17x3", NULL}},
};

static void diag_lines(const char *text) {
    int lines = 0;
    while (text && *text && lines++ < 6) {
        size_t len = strcspn(text, "\n");
        tap_diag("  %.*s", (int)len, text);
        text += len + (text[len] == '\n');
    }
}

static int matches(const char *const *globs, const char *id) {
    for (const char *const *g = globs; *g; g++)
        if (tgc_glob(*g, id)) return 1;
    return 0;
}

static void run_family(const tgc_catalog *cat, const family *f) {
    const char *plugin = getenv(f->env);
    if (!plugin) {
        tap_skip(f->env);
        return;
    }
    size_t *sel = malloc(cat->count * sizeof *sel), n = 0, nfail = 0, npass = 0, missed = 0, wrong = 0;
    for (size_t i = 0; i < cat->count; i++)
        if (matches(f->fail, cat->cases[i].id) || matches(f->pass, cat->cases[i].id)) sel[n++] = i;
    tgc_outcome *out = calloc(n ? n : 1, sizeof *out);
    tgc_options opt = {.plugin = plugin, .ref = getenv("TG_PROXY_REF"), .jobs = 2, .timeout_s = 120};
    int ran = tgc_run(cat, sel, n, &opt, NULL, out) == TG_OK;
    for (size_t i = 0; i < n; i++) {
        const char *id = cat->cases[sel[i]].id;
        if (matches(f->fail, id)) {
            nfail++;
            if (out[i].result != TGC_FAIL && missed++ < 5)
                tap_diag("%s: fault not caught by %s (%s)", f->env, id, tgc_result_name(out[i].result)), diag_lines(out[i].detail);
        } else {
            npass++;
            if (out[i].result != TGC_PASS && wrong++ < 5)
                tap_diag("%s: control %s is %s", f->env, id, tgc_result_name(out[i].result)), diag_lines(out[i].detail);
        }
    }
    if (!strcmp(f->env, "TG_WRAP31_PLUGIN") && nfail == 0) {
        tap_skip("no case past 2^31 in the catalog (a host with less than 16 GiB of memory)");
    } else {
        tap_ok(ran && nfail > 0 && missed == 0, "%s (%s): all %zu cases of the family fail", f->env, f->fault, nfail);
        if (npass) tap_ok(wrong == 0, "%s: the %zu controls pass", f->env, npass);
    }
    for (size_t i = 0; i < n; i++) {
        free(out[i].detail);
        free(out[i].xfail_reason);
    }
    free(out);
    free(sel);
}

int main(void) {
    if (!getenv("TG_PROXY_REF")) {
        tap_skip("TG_PROXY_REF not set");
        return tap_done();
    }
    tgc_catalog cat;
    if (!tap_ok(tgc_catalog_build(&cat) == TG_OK, "the catalog builds")) return tap_done();
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) run_family(&cat, &families[f]);
    tgc_catalog_free(&cat);
    return tap_done();
}
