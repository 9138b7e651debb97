/* Registration of the suites for one device (see suites.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suite_overhead.h"
#include "suites.h"

const char *const tg_bench_classes[5] = {"elementwise", "reduction", "matmul", "overhead", "model"};

#define MAX_ITEMS 256
static void *owned[MAX_ITEMS];  /* plan_case / overhead_case structs */
static plan *plans[MAX_ITEMS];
static int nowned, nplans;

static void keep(void *item) {
    if (nowned < MAX_ITEMS) owned[nowned++] = item;
    else free(item); /* never reached with the suites' sizes */
}

static int wants(const char *suites, const char *suite) {
    size_t n = strlen(suite);
    if (!suites || !*suites) return 1;
    for (const char *p = suites; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, suite, n)) return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* ref interprets every op in double: past this many FLOP per run a full-size
 * workload takes it minutes, so it is reported skipped instead. */
#define REF_MAX_FLOPS 3e8

static void skip_bench(tgb_state *s, void *arg) { tgb_skip(s, (const char *)arg); }

static int add_plans(bdev *d, plan **list, int n) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        char name[256];
        plan_case *c = calloc(1, sizeof *c);
        if (!c || nplans == MAX_ITEMS || nowned == MAX_ITEMS) {
            free(c);
            plan_free(list[i]);
            continue;
        }
        c->dev = d;
        c->plan = list[i];
        plans[nplans++] = list[i];
        owned[nowned++] = c;
        snprintf(name, sizeof name, "%s/%s", d->name, list[i]->name);
        if (!strcmp(d->name, "ref") && list[i]->flops > REF_MAX_FLOPS)
            count += tgb_register(name, skip_bench, "ref: over 0.3 GFLOP per run, too slow for the interpreter") == 0;
        else
            count += tgb_register(name, plan_bench, c) == 0;
    }
    return count;
}

static int add_overhead(bdev *d, const char *what, int kind, int64_t bytes) {
    char name[256];
    overhead_case *c = nowned < MAX_ITEMS ? calloc(1, sizeof *c) : NULL;
    if (!c) return 0;
    c->dev = d;
    c->kind = kind;
    c->bytes = bytes;
    owned[nowned++] = c;
    snprintf(name, sizeof name, "%s/overhead/%s", d->name, what);
    return tgb_register(name, overhead_bench, c) == 0;
}

int suites_register(bdev *d, const char *suites, int quick) {
    plan *list[64];
    int count = 0;
    if (wants(suites, "op")) count += add_plans(d, list, suite_ops(quick, list, 64));
    if (wants(suites, "overhead")) {
        int64_t mb = quick ? 4 : 64;
        char nm[64];
        count += add_overhead(d, "tiny_kernel_e2e", OVERHEAD_TINY_E2E, 0);
        count += add_overhead(d, "launch_sync", OVERHEAD_LAUNCH, 0);
        count += add_overhead(d, "compile", OVERHEAD_COMPILE, 0);
        snprintf(nm, sizeof nm, "host_to_device_%lldMB", (long long)mb);
        count += add_overhead(d, nm, OVERHEAD_H2D, mb << 20);
        snprintf(nm, sizeof nm, "device_to_host_%lldMB", (long long)mb);
        count += add_overhead(d, nm, OVERHEAD_D2H, mb << 20);
    }
    if (wants(suites, "model")) count += add_plans(d, list, suite_models(quick, list, 64));
    if (wants(suites, "tensor")) count += suite_tensor_register(d->name, d->path, quick, keep);
    return count;
}

void suites_release(void) {
    plan_bench_release();
    for (int i = 0; i < nplans; i++) plan_free(plans[i]);
    for (int i = 0; i < nowned; i++) free(owned[i]);
    nplans = nowned = 0;
}

const char *suite_class_of(const char *name, char *out, size_t cap) {
    const char *a = strchr(name, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    if (!b || cap == 0) {
        if (cap) out[0] = '\0';
        return out;
    }
    snprintf(out, cap, "%.*s", (int)(b - a - 1), a + 1);
    return out;
}
