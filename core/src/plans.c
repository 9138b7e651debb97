/* Plans seen before: a realize whose graph has the shape of an earlier one
 * on the same device (a training step, a decode step) reuses that plan
 * whole: no decisions, no kernel building, no program lookups. The shape of
 * a graph is a list of words (its signature), compared exactly. */
#include <stdlib.h>
#include <string.h>
#include "tensor_internal.h"

#define PLANS_PER_DEVICE 8

typedef struct plan_entry {
    uint64_t hash, used;
    uint64_t *sig;
    size_t nsig;
    tg_planned **ks;
    size_t nk;
} plan_entry;

struct tg_plan_cache {
    plan_entry e[PLANS_PER_DEVICE];
    uint64_t clock;
};

static bool sig_push(tg_graph_sig *s, uint64_t w) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *p = realloc(s->w, cap * sizeof *p);
        if (!p) return false;
        s->w = p, s->cap = cap;
    }
    s->w[s->n++] = w;
    s->hash = (s->hash ^ w) * 0x100000001b3ull;
    return true;
}

static bool sig_leaf(tg_graph_sig *s, tg_tensor *t, uint64_t mark) {
    if (t->mark == mark) return sig_push(s, (uint64_t)1 << 63 | (uint64_t)t->walk);
    if (s->nleaves == s->cap_leaves) {
        size_t cap = s->cap_leaves ? s->cap_leaves * 2 : 64;
        tg_tensor **p = realloc(s->leaves, cap * sizeof *p);
        if (!p) return false;
        s->leaves = p, s->cap_leaves = cap;
    }
    t->mark = mark, t->walk = (int)s->nleaves;
    s->leaves[s->nleaves++] = t;
    bool ok = sig_push(s, (uint64_t)1 << 63 | (uint64_t)t->walk) && sig_push(s, (uint64_t)t->dtype << 8 | (uint64_t)t->ndim);
    for (int d = 0; d < t->ndim; d++) ok &= sig_push(s, (uint64_t)t->shape[d]);
    return ok;
}

/* The device's planning caps, then per node: op, dtype, shape, movement
 * args or constant, sources. Nodes are numbered by their place in `order`
 * (t->walk), leaves by first use; `mat` marks the targets. A graph that mixes devices has no
 * signature (s->ok false). */
tg_status tg__sig_make(tg_tensor *const *order, size_t n, uint64_t mark, tg_graph_sig *s) {
    memset(s, 0, sizeof *s);
    s->hash = 0xcbf29ce484222325ull;
    bool ok = true, one_device = true;
    tg_dev *dev = n ? order[0]->dev : NULL;
    if (dev) { /* what planning reads of the device (tests change caps) */
        const tg_caps *c = &dev->caps;
        ok &= sig_push(s, c->fusion | (uint64_t)c->flags << 32) && sig_push(s, c->max_params | (uint64_t)c->max_nodes << 32);
        ok &= sig_push(s, c->max_view_depth | (uint64_t)c->max_dims << 32) && sig_push(s, c->dtypes);
    }
    for (size_t i = 0; i < n && ok && one_device; i++) {
        tg_tensor *t = order[i];
        t->walk = (int)i;
        one_device &= t->dev == dev;
        ok &= sig_push(s, (uint64_t)(uint32_t)t->op << 32 | (uint64_t)t->dtype << 8 | (uint64_t)t->ndim);
        ok &= sig_push(s, (uint64_t)t->nsrc << 1 | t->mat);
        for (int d = 0; d < t->ndim && ok; d++) ok &= sig_push(s, (uint64_t)t->shape[d]);
        bool args = t->op < TG_OP_COUNT || t->op == TG_N_SLICE_AT || t->op == TG_N_STORE_AT;
        for (int d = 0; d < 2 * TG_MAX_DIMS && ok && args; d++) ok &= sig_push(s, (uint64_t)t->arg[d]);
        if (t->op == TG_N_CONST) {
            uint64_t bits;
            memcpy(&bits, &t->value, sizeof bits);
            ok &= sig_push(s, bits);
        }
        for (int j = 0; j < t->nsrc && ok; j++) {
            tg_tensor *c = t->src[j];
            one_device &= c->dev == dev;
            ok &= c->buf ? sig_leaf(s, c, mark) : sig_push(s, (uint64_t)c->walk);
        }
    }
    s->ok = ok && one_device && n > 0;
    return ok ? TG_OK : tg_error(TG_ERR_NO_MEMORY, "schedule: out of host memory");
}

void tg__sig_free(tg_graph_sig *s) {
    free(s->w);
    free(s->leaves);
    memset(s, 0, sizeof *s);
}

static void entry_free(plan_entry *e) {
    for (size_t i = 0; i < e->nk; i++) tg__planned_free(e->ks[i]);
    free(e->ks);
    free(e->sig);
    memset(e, 0, sizeof *e);
}

void tg__plans_free(tg_dev *dev) {
    if (!dev->plans) return;
    for (int i = 0; i < PLANS_PER_DEVICE; i++) entry_free(&dev->plans->e[i]);
    free(dev->plans);
    dev->plans = NULL;
}

tg_planned **tg__plans_find(tg_dev *dev, const tg_graph_sig *s, tg_tensor *const *order, size_t *out_n) {
    for (int i = 0; dev->plans && s->ok && i < PLANS_PER_DEVICE; i++) {
        plan_entry *e = &dev->plans->e[i];
        if (!e->ks || e->hash != s->hash || e->nsig != s->n || memcmp(e->sig, s->w, s->n * sizeof *s->w)) continue;
        e->used = ++dev->plans->clock;
        for (size_t k = 0; k < e->nk; k++) { /* this graph's tensors and values */
            tg_planned *p = e->ks[k];
            for (uint32_t j = 0; j < p->k.nparams; j++)
                p->tensors[j] = p->where[j] < 0 ? s->leaves[-p->where[j] - 1] : order[p->where[j]];
            for (uint32_t a = 0; a < p->k.nargs; a++)
                p->values[a] = (p->argpos[a] < 0 ? s->leaves[-p->argpos[a] - 1] : order[p->argpos[a]])->value;
        }
        *out_n = e->nk;
        return e->ks;
    }
    return NULL;
}

bool tg__plans_keep(tg_dev *dev, tg_graph_sig *s, tg_planned **plan, size_t n) {
    if (!s->ok || !n) return false;
    for (size_t k = 0; k < n; k++) /* a kernel bound to its arguments' values is no plan for other values */
        if (plan[k]->dev != dev || plan[k]->run != &plan[k]->k) return false;
    if (!dev->plans && !(dev->plans = calloc(1, sizeof *dev->plans))) return false;
    plan_entry *e = &dev->plans->e[0];
    for (int i = 1; i < PLANS_PER_DEVICE; i++)
        if (dev->plans->e[i].used < e->used) e = &dev->plans->e[i];
    entry_free(e);
    e->sig = s->w, e->nsig = s->n, e->hash = s->hash;
    s->w = NULL, s->n = s->cap = 0;
    e->ks = plan, e->nk = n, e->used = ++dev->plans->clock;
    return true;
}
