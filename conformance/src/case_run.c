/* Run one case in this process: check it against the plugin's caps, run ref
 * and the plugin on the same inputs, judge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build.h"

static const char *const result_names[TGC_RESULT_COUNT] = {
    "PASS", "FAIL", "UNSUPPORTED", "XFAIL", "XPASS", "CRASH", "TIMEOUT", "NOTRUN"};

const char *tgc_result_name(tgc_result r) { return (unsigned)r < TGC_RESULT_COUNT ? result_names[r] : "?"; }

/* The host bytes of a param (at least 1), or 0 if count * size does not
 * fit a size_t: the harness then refuses the case instead of overrunning a
 * buffer (which would be reported as the plugin's crash). */
static size_t buf_bytes(const tg_param *p) {
    size_t size = tg_dtype_size((tg_dtype)p->dtype), n;
    if (p->count < 0 || __builtin_mul_overflow((size_t)p->count, size, &n)) return 0;
    return n ? n : 1;
}

static void append_ir(char *detail, size_t cap, const tg_kernel *k) {
    char *ir = tg_kernel_to_string(k);
    size_t len = strlen(detail);
    if (ir && len < cap) snprintf(detail + len, cap - len, "kernel:\n%s", ir);
    free(ir);
}

/* The checks before a kernel case runs: TGC_NOTRUN when it runs (*k set),
 * else its result (detail says why). */
static tgc_result case_check(const tgc_case *c, const tgc_device *plug, tg_kernel *out, char *detail, size_t cap) {
    tgc_case_kernel(c, out);
    if (tg_kernel_validate(out, NULL) != TG_OK) {
        snprintf(detail, cap, "suite bug: invalid kernel: %s\n", tg_last_error());
        append_ir(detail, cap, out);
        return TGC_FAIL;
    }
    uint32_t used = 0;
    for (uint32_t i = 0; i < c->nnodes; i++) used |= 1u << c->nodes[i].dtype;
    for (uint32_t p = 0; p < c->nparams; p++) used |= 1u << c->params[p].dtype;
    if ((used & plug->caps.dtypes) != used) {
        snprintf(detail, cap, "dtypes not in the device's caps");
        return TGC_UNSUPPORTED;
    }
    tg_status vs = tg_kernel_validate(out, &plug->caps);
    if (vs == TG_ERR_UNSUPPORTED) {
        snprintf(detail, cap, "beyond the device's caps: %s", tg_last_error());
        return TGC_UNSUPPORTED;
    }
    if (vs != TG_OK) {
        snprintf(detail, cap, "kernel refused against caps: %s", tg_last_error());
        return TGC_FAIL;
    }
    return TGC_NOTRUN;
}

int tgc_case_compilable(const tgc_case *c, const tgc_device *plug, tg_kernel *out) {
    char detail[1024];
    return !c->composite && !c->abi && !c->memory && !c->nargs && case_check(c, plug, out, detail, sizeof detail) == TGC_NOTRUN;
}

tgc_result tgc_case_run(const tgc_case *c, tgc_device *plug, tgc_device *ref, char *detail, size_t cap) {
    tg_kernel k;
    detail[0] = '\0';
    if (c->composite) return tgc_composite_run(c, plug, ref, detail, cap);
    if (c->abi) return tgc_abi_run(c, plug, ref, detail, cap);
    if (c->memory) return tgc_memory_run(c, plug, detail, cap);
    if (c->nargs) return tgc_args_run(c, plug, ref, detail, cap);
    tgc_result checked = case_check(c, plug, &k, detail, cap);
    if (checked != TGC_NOTRUN) return checked;
    void *in[TGC_MAX_PARAMS] = {0}, *exp[TGC_MAX_PARAMS] = {0}, *act[TGC_MAX_PARAMS] = {0};
    tgc_result res = TGC_FAIL;
    int ok = 1;
    for (uint32_t p = 0; p < c->nparams && ok; p++) {
        size_t bytes = buf_bytes(&c->params[p]);
        if (!bytes) {
            snprintf(detail, cap, "harness: param %u's %lld elements do not fit in host memory (a suite bug)", p,
                     (long long)c->params[p].count);
            ok = -1;
            break;
        }
        in[p] = malloc(bytes);
        if (!in[p]) { ok = 0; break; }
        if (c->params[p].access == TG_ACCESS_READ) {
            tgc_fill(in[p], (tg_dtype)c->params[p].dtype, c->params[p].count, c->values[p], c->seed * 31 + p);
            exp[p] = act[p] = in[p];
        } else {
            exp[p] = malloc(bytes);
            act[p] = malloc(bytes);
            if (!exp[p] || !act[p]) { ok = 0; break; }
            memset(exp[p], 0xa5, bytes); /* a sentinel: untouched elements must stay */
            memset(act[p], 0xa5, bytes);
        }
    }
    if (ok < 0) {
        /* detail says why */
    } else if (!ok) {
        snprintf(detail, cap, "harness: out of host memory for the case's buffers");
    } else if (tgc_device_run(ref, &k, exp) != TG_OK) {
        snprintf(detail, cap, "ref failed on this case: %s\n", tg_last_error());
        append_ir(detail, cap, &k);
    } else {
        tg_status st = tgc_device_run(plug, &k, act);
        if (st == TG_ERR_UNSUPPORTED) {
            snprintf(detail, cap, "%s", tg_last_error());
            res = TGC_UNSUPPORTED;
        } else if (st != TG_OK) {
            snprintf(detail, cap, "the plugin failed: %s\n", tg_last_error());
            append_ir(detail, cap, &k);
        } else {
            int v = tgc_judge(c, ref, in, exp, act, detail, cap);
            if (v == 1) res = TGC_PASS;
            else append_ir(detail, cap, &k);
        }
    }
    for (uint32_t p = 0; p < c->nparams; p++) {
        if (c->params[p].access == TG_ACCESS_WRITE) {
            free(exp[p]);
            free(act[p]);
        }
        free(in[p]);
    }
    return res;
}
