/* Cases of the ABI's optional calls (abi.NAME, row ABI, no level): what a
 * plugin that has the slot must do with it; without the slot a case is
 * UNSUPPORTED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>

typedef tgc_result (*abi_fn)(tgc_device *plug, tgc_device *ref, char *detail, size_t cap);

/* A kernel case: out = a OP b on int32 [17, 3] (exact everywhere). */
static void int_case(tgc_case *c, tg_op op, uint64_t seed) {
    int64_t shape[2] = {17, 3};
    tgc_b_init(c, 2, shape, 0);
    int a = tgc_b_load(c, TG_INT32, 0, shape, TGC_V_RANDOM);
    int b = tgc_b_load(c, TG_INT32, 0, shape, TGC_V_RANDOM);
    tgc_b_store(c, tgc_b_op(c, op, TG_INT32, a, b, -1), 0, shape);
    c->seed = seed;
}

/* Run case c on plug with a program it made already (taken) and on ref: 1
 * when the outputs are the same bits. */
static int same_as_ref(const tgc_case *c, tgc_device *plug, tgc_device *ref, tg_program *prog, char *detail,
                       size_t cap) {
    tg_kernel k;
    tgc_case_kernel(c, &k);
    size_t bytes[3];
    void *eb[3], *ab[3];
    for (int p = 0; p < 3; p++) { /* a, b: READ; then the output (the views may pad them) */
        bytes[p] = (size_t)c->params[p].count * sizeof(int32_t);
        eb[p] = malloc(bytes[p] + 1);
        ab[p] = p < 2 ? eb[p] : malloc(bytes[p] + 1);
    }
    tgc_prepared pre = {.set = 1, .program = prog, .status = TG_OK};
    int ok = 0;
    if (!eb[0] || !eb[1] || !eb[2] || !ab[2]) {
        snprintf(detail, cap, "harness: out of host memory");
    } else {
        tgc_fill(eb[0], TG_INT32, c->params[0].count, TGC_V_RANDOM, c->seed * 31);
        tgc_fill(eb[1], TG_INT32, c->params[1].count, TGC_V_RANDOM, c->seed * 31 + 1);
        memset(eb[2], 0xa5, bytes[2]); /* a sentinel: untouched elements must stay */
        memset(ab[2], 0xa5, bytes[2]);
        if (tgc_device_run(ref, &k, eb) != TG_OK) {
            snprintf(detail, cap, "ref failed: %s", tg_last_error());
        } else {
            plug->next = &pre;
            if (tgc_device_run(plug, &k, ab) != TG_OK)
                snprintf(detail, cap, "running a program of the batch failed: %s", tg_last_error());
            else if (memcmp(eb[2], ab[2], bytes[2]))
                snprintf(detail, cap, "a program of the batch (%s) computed other values than ref", tg_op_name(c->nodes[2].op));
            else ok = 1;
        }
    }
    plug->next = NULL;
    tgc_prepared_clear(plug, &pre);
    for (int p = 0; p < 3; p++) free(eb[p]);
    free(ab[2]);
    return ok;
}

/* abi.batch.bad_kernel: program_create_batch of {ADD, NULL, MAX}: the NULL
 * kernel fails alone with a status and a message, the call returns that
 * status, and the other two compile and compute what ref does. */
static tgc_result batch_bad_kernel(tgc_device *plug, tgc_device *ref, char *detail, size_t cap) {
    if (!plug->api->program_create_batch) {
        snprintf(detail, cap, "the plugin has no program_create_batch (ABI 1.1)");
        return TGC_UNSUPPORTED;
    }
    if (!(plug->caps.dtypes >> TG_INT32 & 1)) {
        snprintf(detail, cap, "dtypes not in the device's caps");
        return TGC_UNSUPPORTED;
    }
    tgc_case good[2];
    int_case(&good[0], TG_OP_ADD, 5);
    int_case(&good[1], TG_OP_MAX, 6);
    tg_kernel ka, kb;
    tgc_case_kernel(&good[0], &ka);
    tgc_case_kernel(&good[1], &kb);
    const tg_kernel *ks[3] = {&ka, NULL, &kb};
    tg_program *progs[3] = {0};
    tg_status sts[3] = {TG_OK, TG_OK, TG_OK};
    const char *msgs[3] = {0};
    tg_status st = plug->api->program_create_batch(plug->dev, 3, ks, progs, sts, msgs);
    tgc_result res = TGC_FAIL;
    if (sts[1] == TG_OK || progs[1] || !msgs[1] || !msgs[1][0])
        snprintf(detail, cap, "the NULL kernel (the second of three) was not refused with a status, no program and "
                 "a message (status %s)", tg_status_name(sts[1]));
    else if (st != sts[1])
        snprintf(detail, cap, "the batch returned %s, not its first failing status %s", tg_status_name(st),
                 tg_status_name(sts[1]));
    else if (sts[0] != TG_OK || sts[2] != TG_OK || !progs[0] || !progs[2])
        snprintf(detail, cap, "a good kernel failed in the batch with the NULL one: %s", tg_plugin_message(
                 sts[0] != TG_OK ? msgs[0] : msgs[2]));
    else {
        int ok = same_as_ref(&good[0], plug, ref, progs[0], detail, cap);
        progs[0] = NULL; /* taken */
        if (ok) ok = same_as_ref(&good[1], plug, ref, progs[2], detail, cap), progs[2] = NULL;
        if (ok) res = TGC_PASS;
    }
    for (int i = 0; i < 3; i++) /* what the case did not run */
        if (progs[i]) plug->api->program_destroy(plug->dev, progs[i]);
    return res;
}

static const struct { const char *name; tg_dtype dtype; abi_fn fn; } abi_cases[] = {
    {"batch.bad_kernel", TG_INT32, batch_bad_kernel},
};
enum { NABI = sizeof abi_cases / sizeof abi_cases[0] };

tg_status tgc_abi_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    for (int i = 0; i < NABI && st == TG_OK; i++) {
        tgc_case c;
        memset(&c, 0, sizeof c);
        c.abi = (uint8_t)(1 + i);
        c.row = TGC_ROW_ABI;
        c.dtype = (uint8_t)abi_cases[i].dtype;
        snprintf(c.id, sizeof c.id, "abi.%s", abi_cases[i].name);
        st = tgc_catalog_add(cat, &c);
    }
    return st;
}

tgc_result tgc_abi_run(const tgc_case *c, tgc_device *plug, tgc_device *ref, char *detail, size_t cap) {
    detail[0] = '\0';
    if (c->abi < 1 || c->abi > NABI) {
        snprintf(detail, cap, "suite bug: no ABI case %d", c->abi);
        return TGC_FAIL;
    }
    return abi_cases[c->abi - 1].fn(plug, ref, detail, cap);
}
