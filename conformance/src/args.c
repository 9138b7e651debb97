/* Cases of 1.1 kernel arguments (plugin.h, tg_arg): ARG values of every
 * dtype (special ones included) in elementwise kernels and a reduction,
 * axes bounded at 0, 1 and their max (an output axis, a reduced axis),
 * views of a LOAD and a STORE moved to 0 and their max. Each case is one
 * program launched with several value sets. A device that does not take
 * arguments gets them bound per launch, as the core does (tg_kernel_bind),
 * so every plugin runs every case; each launch is judged against ref's
 * (bit for bit, any NaN for a NaN). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build.h"

/* ------------------------------------------------------------- catalog */

/* Special values of a dtype for launch l (0..3): NaN, -0, -inf, 1.5 for
 * floats; min, max, -1, 0 for signed and 0, max, 1, a pattern unsigned. */
static tg_scalar special(tg_dtype dt, int l) {
    tg_scalar v = {0};
    if (tg_dtype_is_float(dt)) {
        const double f[4] = {NAN, -0.0, -INFINITY, 1.5};
        v.f = f[l];
    } else if (dt == TG_BOOL) {
        v.i = l % 2 == 0;
    } else {
        int bits = (int)tg_dtype_size(dt) * 8;
        uint64_t max = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
        if (tg_dtype_is_signed(dt)) {
            const int64_t s[4] = {-(int64_t)(max >> 1) - 1, (int64_t)(max >> 1), -1, 0};
            v.i = s[l];
        } else {
            const uint64_t u[4] = {0, max, 1, 0x5555555555555555ull & max};
            v.u = u[l];
        }
    }
    return v;
}

static int add_arg(tgc_case *c, tg_dtype dt, int64_t max) {
    c->args[c->nargs] = (tg_arg){.dtype = dt, .max = max};
    return (int)c->nargs++;
}

static int arg_node(tgc_case *c, int a) {
    int n = tgc_b_const(c, (tg_dtype)c->args[a].dtype, (tg_scalar){0});
    c->nodes[n].op = TG_OP_ARG;
    c->nodes[n].buffer = (uint32_t)a;
    return n;
}

static tg_status add(tgc_catalog *cat, tgc_case *c, tg_dtype dt, const char *fmt, const char *name) {
    snprintf(c->id, sizeof c->id, fmt, name);
    c->row = TGC_ROW_FUSION;
    c->dtype = (uint8_t)dt;
    c->rule = TGC_RULE_CHAIN;
    c->levels = TGC_LEVEL_FULL | (dt == TG_FLOAT32 || dt == TG_INT32 || dt == TG_BOOL ? TGC_LEVEL_CORE : 0);
    c->seed = 6007u * (uint64_t)cat->count + 1;
    return tgc_catalog_add(cat, c);
}

/* Every dtype: WHERE(mask, a, x), x + a (not bool), and the reduction
 * REDUCE_MAX(MAX(x, a)) over a 5x13 space's last axis, a special value per
 * launch. */
static tg_status value_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    for (int d = 0; d < TG_DTYPE_COUNT && st == TG_OK; d++) {
        tg_dtype dt = (tg_dtype)d;
        const char *name = tg_dtype_name(dt);
        for (int kind = 0; kind < 3 && st == TG_OK; kind++) {
            if (kind == 1 && dt == TG_BOOL) continue;
            tgc_case c;
            int64_t s1[1] = {61}, s2[2] = {5, 13};
            tgc_b_init(&c, kind == 2 ? 2 : 1, kind == 2 ? s2 : s1, kind == 2 ? 2u : 0u);
            int a = add_arg(&c, dt, 0);
            int m = kind == 0 ? tgc_b_load(&c, TG_BOOL, TGC_VK_CONTIG, c.shape, TGC_V_RANDOM) : -1;
            int x = tgc_b_load(&c, dt, TGC_VK_CONTIG, c.shape, TGC_V_SPECIAL);
            int an = arg_node(&c, a), y;
            if (kind == 0) y = tgc_b_op(&c, TG_OP_WHERE, dt, m, an, x);
            else if (kind == 1) y = tgc_b_op(&c, TG_OP_ADD, dt, x, an, -1);
            else y = tgc_b_op(&c, TG_OP_REDUCE_MAX, dt, tgc_b_op(&c, TG_OP_MAX, dt, x, an, -1), -1, -1);
            int64_t out[TG_MAX_DIMS];
            tgc_b_out_shape(&c, out);
            tgc_b_store(&c, y, TGC_VK_CONTIG, out);
            c.nlaunches = 4;
            for (int l = 0; l < 4; l++) c.launch_args[l][0] = special(dt, l);
            const char *fmt[3] = {"args.value.WHERE.%s", "args.value.ADD.%s", "args.value.REDUCE_MAX.%s"};
            st = add(cat, &c, dt, fmt[kind], name);
        }
    }
    return st;
}

/* Axis 1 of a 3x8 int32 space bounded by an argument at 0, 1 and 8: an
 * output axis (out = x + x) and a reduced one (out = sum of x). */
static tg_status extent_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    for (int reduced = 0; reduced < 2 && st == TG_OK; reduced++) {
        tgc_case c;
        int64_t s[2] = {3, 8}, out[TG_MAX_DIMS];
        tgc_b_init(&c, 2, s, reduced ? 2u : 0u);
        c.extent_arg[1] = (uint32_t)add_arg(&c, TG_INT32, 8) + 1;
        int x = tgc_b_load(&c, TG_INT32, TGC_VK_CONTIG, s, TGC_V_SMALL);
        int y = reduced ? tgc_b_op(&c, TG_OP_REDUCE_SUM, TG_INT32, x, -1, -1) : tgc_b_op(&c, TG_OP_ADD, TG_INT32, x, x, -1);
        tgc_b_out_shape(&c, out);
        tgc_b_store(&c, y, TGC_VK_CONTIG, out);
        c.nlaunches = 3;
        c.launch_args[0][0].i = 0;
        c.launch_args[1][0].i = 1;
        c.launch_args[2][0].i = 8;
        st = add(cat, &c, TG_INT32, "args.extent.%s.int32", reduced ? "reduced" : "output");
    }
    return st;
}

/* A view moved by an argument at 0, its max and between: a LOAD forwards
 * (stride 1), a LOAD backwards (stride -2) and a STORE (stride 3). */
static tg_status offset_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    const char *names[3] = {"LOAD", "LOAD_BACK", "STORE"};
    const int64_t stride[3] = {1, -2, 3}, max[3] = {5, 4, 4};
    for (int k = 0; k < 3 && st == TG_OK; k++) {
        tgc_case c;
        int64_t s[1] = {8};
        tgc_b_init(&c, 1, s, 0);
        int a = add_arg(&c, TG_INT32, max[k]), y;
        if (k < 2) {
            tg_view v = {.ndim = 1, .shape = {8}, .strides = {1}, .offset = k == 1 ? 2 * max[k] : 0};
            y = tgc_b_load_view(&c, TG_FLOAT32, &v, 8 + (k == 1 ? 2 : 1) * max[k], TGC_V_RANDOM);
        } else {
            y = tgc_b_load(&c, TG_FLOAT32, TGC_VK_CONTIG, s, TGC_V_RANDOM);
        }
        y = tgc_b_op(&c, TG_OP_NEG, TG_FLOAT32, y, -1, -1);
        tgc_b_store(&c, y, TGC_VK_CONTIG, s);
        const tg_node *moved = &c.nodes[k < 2 ? 0 : c.nnodes - 1];
        if (k == 2) c.params[moved->buffer].count += stride[k] * max[k];
        c.offsets[c.noffsets++] = (tg_arg_offset){.view = moved->view, .arg = (uint32_t)a, .stride = stride[k]};
        c.nlaunches = 3;
        c.launch_args[0][0].i = 0;
        c.launch_args[1][0].i = max[k];
        c.launch_args[2][0].i = 1;
        st = add(cat, &c, TG_FLOAT32, "args.offset.%s.float32", names[k]);
    }
    return st;
}

tg_status tgc_args_cases(tgc_catalog *cat) {
    tg_status st = value_cases(cat);
    if (st == TG_OK) st = extent_cases(cat);
    if (st == TG_OK) st = offset_cases(cat);
    return st;
}

/* ----------------------------------------------------------------- run */

static size_t param_bytes(const tg_param *p) {
    size_t n = (size_t)p->count * tg_dtype_size((tg_dtype)p->dtype);
    return n ? n : 1;
}

static tg_status dev_fail(tgc_device *d, tg_status st, const char *what) {
    return tg_error(st, "%s: %s: %s", what, tg_status_name(st), tg_plugin_message(d->api->device_error(d->dev)));
}

/* Compile what device d runs for launch l: the kernel itself (once, l < 0)
 * where it takes every argument use the kernel has, else (per launch) the
 * kernel with the rest bound to launch l's values. */
static tg_status compile(tgc_device *d, const tgc_case *c, const tg_kernel *k, uint32_t lacks, int l,
                         tg_kernel_bound *b, tg_program **out) {
    const tg_kernel *run = k;
    if (lacks) {
        tg_status st = tg_kernel_bind(k, c->launch_args[l], lacks, b);
        if (st) return st;
        run = &b->kernel;
    }
    tg_status st = tg_kernel_validate(run, &d->caps);
    if (st) return st;
    st = d->api->program_create(d->dev, run, out);
    if (st) {
        *out = NULL;
        return dev_fail(d, st, "program_create");
    }
    tg_plugin_debug_source(d->api, d->dev, *out, run->name);
    return TG_OK;
}

/* Run every launch of case c on device d: out[l][p] receives WRITE param
 * p after launch l (it holds the sentinel before). */
static tg_status device_runs(tgc_device *d, const tgc_case *c, const tg_kernel *k, void *const *in,
                             void *out[TGC_MAX_LAUNCHES][TGC_MAX_PARAMS]) {
    const tg_plugin_api *api = d->api;
    uint32_t lacks = tg_kernel_arg_needs(k) & ~(api->program_run ? d->caps.flags : 0u);
    tg_buffer *b[TGC_MAX_PARAMS] = {0};
    tg_program *prog = NULL;
    tg_status st = TG_OK;
    for (uint32_t p = 0; p < c->nparams && st == TG_OK; p++) {
        uint64_t bytes = (uint64_t)c->params[p].count * tg_dtype_size((tg_dtype)c->params[p].dtype);
        st = api->buffer_create(d->dev, bytes, &b[p]);
        if (st) st = dev_fail(d, st, "buffer_create");
        else if (bytes && c->params[p].access == TG_ACCESS_READ && (st = api->buffer_write(d->dev, b[p], 0, in[p], bytes)))
            st = dev_fail(d, st, "buffer_write");
    }
    if (st == TG_OK && !lacks) st = compile(d, c, k, 0, -1, NULL, &prog);
    for (uint32_t l = 0; l < c->nlaunches && st == TG_OK; l++) {
        tg_kernel_bound bound = {0};
        if (lacks) st = compile(d, c, k, lacks, (int)l, &bound, &prog);
        for (uint32_t p = 0; p < c->nparams && st == TG_OK; p++) {
            uint64_t bytes = (uint64_t)c->params[p].count * tg_dtype_size((tg_dtype)c->params[p].dtype);
            if (bytes && c->params[p].access == TG_ACCESS_WRITE && (st = api->buffer_write(d->dev, b[p], 0, out[l][p], bytes)))
                st = dev_fail(d, st, "buffer_write");
        }
        const tg_kernel *run = lacks ? &bound.kernel : k;
        if (st == TG_OK && api->program_run) {
            tg_launch launch = {.struct_size = sizeof launch, .nbuffers = c->nparams, .buffers = b,
                                .nargs = run->nargs, .args = run->nargs ? c->launch_args[l] : NULL};
            if ((st = api->program_run(d->dev, prog, &launch))) st = dev_fail(d, st, "program_run");
        } else if (st == TG_OK && (st = api->program_launch(d->dev, prog, b, c->nparams))) {
            st = dev_fail(d, st, "program_launch");
        }
        if (st == TG_OK && api->synchronize && (st = api->synchronize(d->dev))) st = dev_fail(d, st, "synchronize");
        for (uint32_t p = 0; p < c->nparams && st == TG_OK; p++) {
            uint64_t bytes = (uint64_t)c->params[p].count * tg_dtype_size((tg_dtype)c->params[p].dtype);
            if (bytes && c->params[p].access == TG_ACCESS_WRITE && (st = api->buffer_read(d->dev, b[p], 0, out[l][p], bytes)))
                st = dev_fail(d, st, "buffer_read");
        }
        if (lacks) {
            if (prog) api->program_destroy(d->dev, prog);
            prog = NULL;
            tg_kernel_bound_free(&bound);
        }
    }
    if (prog) api->program_destroy(d->dev, prog);
    for (uint32_t p = 0; p < c->nparams; p++)
        if (b[p]) api->buffer_destroy(d->dev, b[p]);
    return st;
}

/* Bit for bit, or both NaN. */
static int same(tg_dtype dt, const void *e, const void *a, int64_t i) {
    if (tgc_bits(e, dt, i) == tgc_bits(a, dt, i)) return 1;
    return tg_dtype_is_float(dt) && isnan(tgc_get(e, dt, i)) && isnan(tgc_get(a, dt, i));
}

static int judge(const tgc_case *c, void *exp[TGC_MAX_LAUNCHES][TGC_MAX_PARAMS],
                 void *act[TGC_MAX_LAUNCHES][TGC_MAX_PARAMS], char *detail, size_t cap) {
    for (uint32_t l = 0; l < c->nlaunches; l++)
        for (uint32_t p = 0; p < c->nparams; p++) {
            if (c->params[p].access != TG_ACCESS_WRITE) continue;
            tg_dtype dt = (tg_dtype)c->params[p].dtype;
            for (int64_t i = 0; i < c->params[p].count; i++) {
                if (same(dt, exp[l][p], act[l][p], i)) continue;
                char e[96], a[96];
                tgc_format(e, sizeof e, exp[l][p], dt, i);
                tgc_format(a, sizeof a, act[l][p], dt, i);
                snprintf(detail, cap, "launch %u (argument 0 = 0x%llx): param %u element %lld: expected %s, got %s\n", l,
                         (unsigned long long)c->launch_args[l][0].u, p, (long long)i, e, a);
                return 0;
            }
        }
    return 1;
}

static void append_ir(char *detail, size_t cap, const tg_kernel *k) {
    char *ir = tg_kernel_to_string(k);
    size_t len = strlen(detail);
    if (ir && len < cap) snprintf(detail + len, cap - len, "kernel:\n%s", ir);
    free(ir);
}

tgc_result tgc_args_run(const tgc_case *c, tgc_device *plug, tgc_device *ref, char *detail, size_t cap) {
    tg_kernel k;
    tgc_case_kernel(c, &k);
    detail[0] = '\0';
    if (tg_kernel_validate(&k, NULL) != TG_OK || c->nlaunches > TGC_MAX_LAUNCHES) {
        snprintf(detail, cap, "suite bug: invalid kernel: %s\n", tg_last_error());
        append_ir(detail, cap, &k);
        return TGC_FAIL;
    }
    uint32_t used = 0;
    for (uint32_t p = 0; p < c->nparams; p++) used |= 1u << c->params[p].dtype;
    for (uint32_t a = 0; a < c->nargs; a++) used |= 1u << c->args[a].dtype;
    if ((used & plug->caps.dtypes) != used) {
        snprintf(detail, cap, "dtypes not in the device's caps");
        return TGC_UNSUPPORTED;
    }
    void *in[TGC_MAX_PARAMS] = {0}, *exp[TGC_MAX_LAUNCHES][TGC_MAX_PARAMS] = {{0}}, *act[TGC_MAX_LAUNCHES][TGC_MAX_PARAMS] = {{0}};
    int ok = 1;
    for (uint32_t p = 0; p < c->nparams && ok; p++) {
        size_t bytes = param_bytes(&c->params[p]);
        ok = (in[p] = malloc(bytes)) != NULL;
        if (ok && c->params[p].access == TG_ACCESS_READ)
            tgc_fill(in[p], (tg_dtype)c->params[p].dtype, c->params[p].count, c->values[p], c->seed * 31 + p);
        for (uint32_t l = 0; ok && l < c->nlaunches && c->params[p].access == TG_ACCESS_WRITE; l++) {
            ok = (exp[l][p] = malloc(bytes)) && (act[l][p] = malloc(bytes));
            if (ok) memset(exp[l][p], 0xa5, bytes), memset(act[l][p], 0xa5, bytes); /* untouched elements stay */
        }
    }
    tgc_result res = TGC_FAIL;
    tg_status st;
    if (!ok) {
        snprintf(detail, cap, "harness: out of host memory for the case's buffers");
    } else if (device_runs(ref, c, &k, in, exp) != TG_OK) {
        snprintf(detail, cap, "ref failed on this case: %s\n", tg_last_error());
        append_ir(detail, cap, &k);
    } else if ((st = device_runs(plug, c, &k, in, act)) == TG_ERR_UNSUPPORTED) {
        snprintf(detail, cap, "%s", tg_last_error());
        res = TGC_UNSUPPORTED;
    } else if (st != TG_OK) {
        snprintf(detail, cap, "the plugin failed: %s\n", tg_last_error());
        append_ir(detail, cap, &k);
    } else if (judge(c, exp, act, detail, cap)) {
        res = TGC_PASS;
    } else {
        append_ir(detail, cap, &k);
    }
    for (uint32_t p = 0; p < c->nparams; p++) {
        free(in[p]);
        for (uint32_t l = 0; l < TGC_MAX_LAUNCHES; l++) free(exp[l][p]), free(act[l][p]);
    }
    return res;
}
