/* The suite against plugins that are wrong on purpose (proxy_plugin.c): the
 * wrong one must fail exactly the cases its faults touch; the crashing and
 * hanging ones give CRASH and TIMEOUT and the run completes.
 * Environment: TG_PROXY_REF (tg-ref.so), TG_WRONG_PLUGIN, TG_CRASH_PLUGIN,
 * TG_HANG_PLUGIN (paths). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>
#include "tap.h"

/* tap_diag for text of several lines */
static void diag_lines(const char *text) {
    while (text && *text) {
        size_t len = strcspn(text, "\n");
        tap_diag("  %.*s", (int)len, text);
        text += len + (text[len] == '\n');
    }
}

static int has_node(const tgc_case *c, uint32_t op, uint32_t dt) {
    for (uint32_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i].op == op && c->nodes[i].dtype == dt) return 1;
    return 0;
}

/* A view with a negative stride on an axis longer than 1, on a LOAD or on a
 * STORE of computed (not constant) data. */
static int has_flip(const tgc_case *c) {
    for (uint32_t i = 0; i < c->nnodes; i++) {
        const tg_node *n = &c->nodes[i];
        if (n->op != TG_OP_LOAD && n->op != TG_OP_STORE) continue;
        if (n->op == TG_OP_STORE && c->nodes[n->src[0]].op == TG_OP_CONST) continue;
        for (uint32_t v = n->view; v < n->view + n->nviews; v++)
            for (uint32_t d = 0; d < c->views[v].ndim; d++)
                if (c->views[v].strides[d] < 0 && c->views[v].shape[d] > 1) return 1;
    }
    return 0;
}

/* Could the wrong plugin's faults change this case's result at all? */
static int touched(const tgc_case *c) {
    if (c->composite) return 1; /* tensor-API cases: too many kernels to predict */
    return has_node(c, TG_OP_SIN, TG_FLOAT32) || has_node(c, TG_OP_MAX, TG_FLOAT32) ||
           has_node(c, TG_OP_DIV, TG_INT32) || has_flip(c);
}

/* Must the fault show? (the inputs make it visible for sure) */
static int must_fail(const tgc_case *c) {
    const char *id = c->id;
    if (!strncmp(id, "op.SIN.float32.", 15)) return !strstr(id, "values=large") && !strstr(id, "shape=0") && !strstr(id, "shape=3x0");
    if (!strcmp(id, "op.MAX.float32.shape=61.values=special")) return 1;
    if (!strncmp(id, "op.DIV.int32.shape=17x3", 23) || !strcmp(id, "op.DIV.int32.shape=61.values=special")) return 1;
    /* constant data and any-of-many bools look the same flipped */
    if (strstr(id, "const_only") || !strncmp(id, "op.REDUCE_MAX.bool.", 19)) return 0;
    return strstr(id, "view=flip") || strstr(id, "store=flip") || strstr(id, "view=mixed") || !strncmp(id, "move.FLIP.", 10);
}

static int run(const tgc_catalog *cat, size_t *sel, size_t n, const char *plugin, double timeout, tgc_outcome *out) {
    /* never give up: every hanging case is waited for, so each is judged alone */
    tgc_options opt = {.plugin = plugin, .ref = getenv("TG_PROXY_REF"), .jobs = 2, .timeout_s = timeout,
                       .give_up_after = -1};
    return tgc_run(cat, sel, n, &opt, NULL, out) == TG_OK;
}

static void free_out(tgc_outcome *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(out[i].detail);
        free(out[i].xfail_reason);
    }
}

static void test_wrong(const tgc_catalog *cat) {
    /* every kernel case but the big one (time under sanitizers) */
    size_t n = 0, *sel = malloc(cat->count * sizeof *sel);
    tgc_outcome *out = calloc(cat->count, sizeof *out);
    for (size_t i = 0; i < cat->count; i++)
        if (!cat->cases[i].composite && !cat->cases[i].abi && !cat->cases[i].memory && !strstr(cat->cases[i].id, "shape=llc")) sel[n++] = i;
    tap_ok(run(cat, sel, n, getenv("TG_WRONG_PLUGIN"), 60, out), "wrong: the run completes");
    size_t fails = 0, untouched_bad = 0, missed = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        const tgc_case *c = &cat->cases[sel[i]];
        tgc_result r = out[i].result;
        fails += r == TGC_FAIL;
        if (r != TGC_PASS && r != TGC_FAIL) {
            if (other++ < 5) tap_diag("unexpected %s: %s", tgc_result_name(r), c->id), diag_lines(out[i].detail);
        } else if (r == TGC_FAIL && !touched(c)) {
            if (untouched_bad++ < 5) tap_diag("failed but untouched: %s", c->id), diag_lines(out[i].detail);
        } else if (r == TGC_PASS && must_fail(c)) {
            if (missed++ < 5) tap_diag("fault not caught: %s", c->id);
        }
    }
    tap_ok(other == 0, "wrong: every case PASS or FAIL (%zu others)", other);
    tap_ok(untouched_bad == 0, "wrong: no case the faults cannot touch fails (%zu did)", untouched_bad);
    tap_ok(missed == 0, "wrong: every case that must show a fault fails (%zu passed)", missed);
    tap_diag("wrong: %zu of %zu cases failed", fails, n);
    /* the report of one failure names the errors, the index, the values and the IR */
    long k = -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cat->cases[sel[i]].id, "op.SIN.float32.shape=17x3")) k = (long)i;
    const char *d = k >= 0 ? out[k].detail : NULL;
    tap_ok(d && strstr(d, "max error 5 ulp") && strstr(d, "first mismatch at point") && strstr(d, "expected") &&
               strstr(d, "kernel:"),
           "wrong: a SIN failure reports 5 ulp, the point, the values and the kernel");
    diag_lines(d);
    k = -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cat->cases[sel[i]].id, "op.MAX.float32.shape=61.values=special")) k = (long)i;
    d = k >= 0 ? out[k].detail : NULL;
    tap_ok(d && (strstr(d, "expected nan") || strstr(d, "expected -nan")), "wrong: the MAX failure shows a NaN expected");
    free_out(out, n);
    free(out);
    free(sel);
}

/* Cases whose ids match one of the globs. */
static size_t pick(const tgc_catalog *cat, const char *const *globs, size_t *sel) {
    size_t n = 0;
    for (size_t i = 0; i < cat->count; i++)
        for (const char *const *g = globs; *g; g++)
            if (tgc_glob(*g, cat->cases[i].id)) {
                sel[n++] = i;
                break;
            }
    return n;
}

static void test_crash_hang(const tgc_catalog *cat, const char *plugin, const char *op, tgc_result want, double timeout) {
    size_t *sel = malloc(cat->count * sizeof *sel);
    char g1[64], g2[64];
    snprintf(g1, sizeof g1, "op.%s.float32.shape=1*", op);
    snprintf(g2, sizeof g2, "op.%s.float32.shape=17x3", op);
    const char *globs[] = {"op.ADD.float32.shape=1*", g1, g2, "op.NEG.float32.shape=17x3", NULL};
    size_t n = pick(cat, globs, sel), hit = 0, pass = 0, target = 0;
    tgc_outcome *out = calloc(n, sizeof *out);
    tap_ok(run(cat, sel, n, plugin, timeout, out), "%s: the run completes", tgc_result_name(want));
    for (size_t i = 0; i < n; i++) {
        const char *id = cat->cases[sel[i]].id;
        int is_target = strstr(id, op) != NULL;
        target += is_target;
        if (is_target) hit += out[i].result == want;
        else pass += out[i].result == TGC_PASS;
        if (out[i].result != (is_target ? want : TGC_PASS))
            tap_diag("%s: %s", id, tgc_result_name(out[i].result)), diag_lines(out[i].detail);
    }
    tap_ok(target >= 2 && hit == target, "%s: every %s case is %s (%zu of %zu)", tgc_result_name(want), op,
           tgc_result_name(want), hit, target);
    tap_ok(pass == n - target, "%s: every other case passes (%zu of %zu)", tgc_result_name(want), pass, n - target);
    free_out(out, n);
    free(out);
    free(sel);
}

/* A plugin whose device_create hangs: two children time out, every other
 * case is settled without starting more children. */
static void test_open_hang(const tgc_catalog *cat) {
    const char *globs[] = {"op.ADD.*", "op.SUB.*", "op.MUL.*", NULL};
    size_t *sel = malloc(cat->count * sizeof *sel), n = pick(cat, globs, sel), timeouts = 0, groups = 0;
    tgc_outcome *out = calloc(n, sizeof *out);
    tgc_options opt = {.plugin = getenv("TG_OPENHANG_PLUGIN"), .ref = getenv("TG_PROXY_REF"), .jobs = 1, .timeout_s = 1};
    tap_ok(tgc_run(cat, sel, n, &opt, NULL, out) == TG_OK, "open hang: the run completes");
    for (size_t i = 0; i < n; i++) {
        timeouts += out[i].result == TGC_TIMEOUT && out[i].detail && strstr(out[i].detail, "while opening the devices");
        groups += i == 0 || cat->cases[sel[i]].group != cat->cases[sel[i - 1]].group;
    }
    tap_ok(timeouts == n && groups > 2, "open hang: all %zu cases of %zu groups TIMEOUT, said to be in the opening (%zu)", n,
           groups, timeouts);
    free_out(out, n);
    free(out);
    free(sel);
}

/* A plugin whose launches all hang: after 3 timeouts in a row the suite
 * gives up and settles the other cases as TIMEOUT with the reason, instead
 * of waiting out the timeout on each. */
static void test_give_up(const tgc_catalog *cat) {
    const char *globs[] = {"op.SUB.*", NULL};
    size_t *sel = malloc(cat->count * sizeof *sel), n = pick(cat, globs, sel), killed = 0, given_up = 0;
    tgc_outcome *out = calloc(n, sizeof *out);
    tgc_options opt = {.plugin = getenv("TG_HANG_PLUGIN"), .ref = getenv("TG_PROXY_REF"), .jobs = 1, .timeout_s = 1};
    tap_ok(tgc_run(cat, sel, n, &opt, NULL, out) == TG_OK, "give up: the run completes");
    for (size_t i = 0; i < n; i++) {
        killed += out[i].result == TGC_TIMEOUT && out[i].detail && strstr(out[i].detail, "the child was killed");
        given_up += out[i].result == TGC_TIMEOUT && out[i].detail && strstr(out[i].detail, "gave up");
    }
    tap_ok(n > 10 && killed == 3 && given_up == n - 3,
           "give up: 3 cases waited for, the other %zu settled as TIMEOUT without running (%zu, %zu)", n - 3, killed,
           given_up);
    free_out(out, n);
    free(out);
    free(sel);
}

/* A plugin without a device here: every case UNSUPPORTED with its reason. */
static void test_no_device(const tgc_catalog *cat) {
    const char *globs[] = {"op.ADD.float32.*", "fuse.mul_add.*", "composite.matmul.*", NULL};
    size_t *sel = malloc(cat->count * sizeof *sel), n = pick(cat, globs, sel), unsup = 0;
    tgc_outcome *out = calloc(n, sizeof *out);
    tgc_options opt = {.plugin = getenv("TG_NODEV_PLUGIN"), .ref = getenv("TG_PROXY_REF"), .jobs = 2, .timeout_s = 20};
    tap_ok(tgc_run(cat, sel, n, &opt, NULL, out) == TG_OK, "no device: the run completes");
    for (size_t i = 0; i < n; i++)
        unsup += out[i].result == TGC_UNSUPPORTED && out[i].detail && strstr(out[i].detail, "no such hardware here");
    tap_ok(n > 10 && unsup == n, "no device: all %zu cases UNSUPPORTED, with the plugin's reason (%zu)", n, unsup);
    free_out(out, n);
    free(out);
    free(sel);
}

/* Plugins with program_create_batch: one that dies in a batch holding a MUL
 * kernel still gets every case's result (the group runs again without a
 * batch); one that refuses SUB kernels in a batch fails exactly those cases,
 * with its message. */
static void test_batch(const tgc_catalog *cat) {
    const char *globs[] = {"op.ADD.float32.*", "op.MUL.float32.*", "op.SUB.float32.*", NULL};
    size_t *sel = malloc(cat->count * sizeof *sel), n = pick(cat, globs, sel), pass = 0, sub = 0, refused = 0;
    tgc_outcome *out = calloc(n, sizeof *out);
    tap_ok(run(cat, sel, n, getenv("TG_BATCHCRASH_PLUGIN"), 20, out), "batch crash: the run completes");
    for (size_t i = 0; i < n; i++) {
        pass += out[i].result == TGC_PASS;
        if (out[i].result != TGC_PASS)
            tap_diag("%s: %s", cat->cases[sel[i]].id, tgc_result_name(out[i].result)), diag_lines(out[i].detail);
    }
    tap_ok(n > 20 && pass == n, "batch crash: every case passes, the MUL groups run again without a batch (%zu of %zu)",
           pass, n);
    free_out(out, n);
    memset(out, 0, n * sizeof *out);
    tap_ok(run(cat, sel, n, getenv("TG_BATCHBAD_PLUGIN"), 20, out), "batch refusing SUB: the run completes");
    pass = 0;
    for (size_t i = 0; i < n; i++) {
        int is_sub = !strncmp(cat->cases[sel[i]].id, "op.SUB.", 7);
        sub += is_sub;
        if (is_sub) refused += out[i].result == TGC_FAIL && out[i].detail && strstr(out[i].detail, "SUB refused in a batch");
        else pass += out[i].result == TGC_PASS;
    }
    tap_ok(sub > 2 && refused == sub && pass == n - sub,
           "batch refusing SUB: the %zu SUB cases fail with its message (%zu), the %zu others pass (%zu)", sub, refused,
           n - sub, pass);
    free_out(out, n);
    free(out);
    free(sel);
}

int main(void) {
    if (!getenv("TG_PROXY_REF") || !getenv("TG_WRONG_PLUGIN") || !getenv("TG_CRASH_PLUGIN") || !getenv("TG_HANG_PLUGIN")) {
        tap_skip("TG_PROXY_REF/TG_WRONG_PLUGIN/TG_CRASH_PLUGIN/TG_HANG_PLUGIN not set");
        return tap_done();
    }
    tgc_catalog cat;
    if (!tap_ok(tgc_catalog_build(&cat) == TG_OK, "the catalog builds")) return tap_done();
    test_wrong(&cat);
    test_crash_hang(&cat, getenv("TG_CRASH_PLUGIN"), "MUL", TGC_CRASH, 20);
    test_crash_hang(&cat, getenv("TG_HANG_PLUGIN"), "SUB", TGC_TIMEOUT, 1);
    test_give_up(&cat);
    if (getenv("TG_OPENHANG_PLUGIN")) test_open_hang(&cat);
    if (getenv("TG_NODEV_PLUGIN")) test_no_device(&cat);
    if (getenv("TG_BATCHCRASH_PLUGIN") && getenv("TG_BATCHBAD_PLUGIN")) test_batch(&cat);
    tgc_catalog_free(&cat);
    return tap_done();
}
