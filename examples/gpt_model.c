/* examples/gpt_model.c -- the GPT decoder of gpt_model.h. */
#include "gpt_model.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPT_LN_EPS 1e-5

/* One block tensor: its name after "transformer.h.N.", its shape in units
 * of n_embd (cols 0: a vector), and how it starts. */
enum { INIT_ZERO, INIT_ONE, INIT_NORMAL, INIT_PROJ };
static const struct {
    const char *name;
    int rows, cols, init;
} block_table[GPT_BLOCK_PARAMS] = {
    {"ln_1.weight", 1, 0, INIT_ONE},        {"ln_1.bias", 1, 0, INIT_ZERO},
    {"attn.c_attn.weight", 3, 1, INIT_NORMAL}, {"attn.c_attn.bias", 3, 0, INIT_ZERO},
    {"attn.c_proj.weight", 1, 1, INIT_PROJ},   {"attn.c_proj.bias", 1, 0, INIT_ZERO},
    {"ln_2.weight", 1, 0, INIT_ONE},        {"ln_2.bias", 1, 0, INIT_ZERO},
    {"mlp.c_fc.weight", 4, 1, INIT_NORMAL},    {"mlp.c_fc.bias", 4, 0, INIT_ZERO},
    {"mlp.c_proj.weight", 1, 4, INIT_PROJ},    {"mlp.c_proj.bias", 1, 0, INIT_ZERO},
};

/* splitmix64 and Box-Muller: host random numbers for the initialisation. */
static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double normal01(uint64_t *s) {
    double u = ((double)(mix(s) >> 11) + 0.5) / 9007199254740992.0, v = (double)(mix(s) >> 11) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* A float32 leaf that requires grad, owned by the model's params list. */
static tg_status add_param(gpt *m, const char *name, int ndim, const int64_t *shape, int init, uint64_t *rng,
                           tg_tensor **out) {
    int64_t n = ndim == 1 ? shape[0] : shape[0] * shape[1];
    float *v = malloc((size_t)n * sizeof *v + 1);
    if (!v) return tg_error(TG_ERR_NO_MEMORY, "gpt: out of memory for %s", name);
    double std = init == INIT_PROJ ? 0.02 / sqrt(2.0 * (double)m->cfg.n_layer) : 0.02;
    for (int64_t i = 0; i < n; i++) v[i] = init == INIT_ONE ? 1.0f : init == INIT_ZERO ? 0.0f : (float)(std * normal01(rng));
    tg_scope_begin(); /* whatever scope the caller has open, the list holds the only reference */
    tg_tensor *t = tg_from_data(m->dev, TG_FLOAT32, ndim, shape, v);
    free(v);
    tg_status st = t ? tg_set_requires_grad(t, true) : tg_last_status();
    if (!st) st = tg_params_add(m->params, name, t);
    tg_scope_end();
    *out = st ? NULL : tg_params_find(m->params, name);
    return st;
}

tg_status gpt_create(tg_dev *dev, const gpt_config *cfg, uint64_t seed, gpt **out_model) {
    if (!dev || !cfg || !out_model) return tg_error(TG_ERR_INVALID, "gpt_create: NULL argument");
    *out_model = NULL;
    if (cfg->n_layer < 1 || cfg->n_head < 1 || cfg->n_embd < 1 || cfg->n_embd % cfg->n_head || cfg->vocab < 1 ||
        cfg->block < 1)
        return tg_error(TG_ERR_INVALID, "gpt_create: bad config (layers %lld, heads %lld, width %lld, vocab %lld, "
                        "block %lld): all >= 1, width divisible by heads", (long long)cfg->n_layer,
                        (long long)cfg->n_head, (long long)cfg->n_embd, (long long)cfg->vocab, (long long)cfg->block);
    gpt *m = calloc(1, sizeof *m);
    if (m) m->h = calloc((size_t)cfg->n_layer, sizeof *m->h);
    if (!m || !m->h) {
        free(m);
        return tg_error(TG_ERR_NO_MEMORY, "gpt_create: out of memory");
    }
    m->cfg = *cfg;
    m->dev = dev;
    uint64_t rng = seed;
    int64_t C = cfg->n_embd;
    tg_status st = tg_params_create(&m->params);
    if (!st) st = add_param(m, "transformer.wte.weight", 2, (int64_t[]){cfg->vocab, C}, INIT_NORMAL, &rng, &m->wte);
    if (!st) st = add_param(m, "transformer.wpe.weight", 2, (int64_t[]){cfg->block, C}, INIT_NORMAL, &rng, &m->wpe);
    for (int64_t l = 0; !st && l < cfg->n_layer; l++)
        for (int i = 0; !st && i < GPT_BLOCK_PARAMS; i++) {
            char name[128];
            snprintf(name, sizeof name, "transformer.h.%lld.%s", (long long)l, block_table[i].name);
            int64_t shape[2] = {block_table[i].rows * C, block_table[i].cols * C};
            st = add_param(m, name, block_table[i].cols ? 2 : 1, shape, block_table[i].init, &rng, &m->h[l][i]);
        }
    if (!st) st = add_param(m, "transformer.ln_f.weight", 1, &C, INIT_ONE, &rng, &m->lnf_w);
    if (!st) st = add_param(m, "transformer.ln_f.bias", 1, &C, INIT_ZERO, &rng, &m->lnf_b);
    if (st) {
        gpt_destroy(m);
        return st;
    }
    *out_model = m;
    return TG_OK;
}

void gpt_destroy(gpt *m) {
    if (!m) return;
    tg_params_destroy(m->params);
    free(m->h);
    free(m);
}

/* (B, T, C) -> (B, H, T, D) */
static tg_tensor *heads(const gpt *m, tg_tensor *x) {
    int64_t B = tg_tensor_dim(x, 0), T = tg_tensor_dim(x, 1), H = m->cfg.n_head, D = m->cfg.n_embd / H;
    return tg_transpose(tg_reshape(x, TG_SHAPE(B, T, H, D)), 1, 2);
}

/* Can the device move views by an argument (tg_slice_at, tg_assign_at)?
 * Elsewhere the core would compile a program per position and token, so
 * decoding picks rows by comparing with the variables instead. */
static bool moves(const gpt *m) { return tg_device_caps(m->dev)->flags & TG_CAP_ARG_BOUNDS; }

/* One block on x (B, T, C). Without a cache: causal attention over x. With
 * one (B = T = 1): the new key and value are stored into row pos of the
 * layer's cache (this realizes x up to here), and attention reads the cache
 * up to pos. */
static tg_tensor *block(const gpt *m, int64_t l, tg_tensor *x, const gpt_cache *c, tg_status *st) {
    tg_tensor *const *p = m->h[l];
    int64_t B = tg_tensor_dim(x, 0), T = tg_tensor_dim(x, 1), C = m->cfg.n_embd;
    tg_tensor *qkv = tg_linear(tg_layernorm(x, 1, p[GPT_LN1_W], p[GPT_LN1_B], GPT_LN_EPS), p[GPT_ATTN_W], p[GPT_ATTN_B]);
    tg_tensor *q = heads(m, tg_slice(qkv, -1, 0, C, 1)), *k = heads(m, tg_slice(qkv, -1, C, 2 * C, 1));
    tg_tensor *v = heads(m, tg_slice(qkv, -1, 2 * C, 3 * C, 1)), *y;
    if (!c) {
        y = tg_sdpa(q, k, v, NULL, true);
    } else {
        int64_t N = m->cfg.block;
        if (moves(m)) { /* in place, one row each */
            if (!*st) *st = tg_assign_at(c->k[l], 2, c->pos, k);
            if (!*st) *st = tg_assign_at(c->v[l], 2, c->pos, v);
        } else { /* the whole cache again, the new row where the column is pos */
            tg_tensor *at = tg_eq(tg_reshape(c->col_t, TG_SHAPE(1, 1, N, 1)), c->pos);
            if (!*st) *st = tg_assign(c->k[l], tg_where(at, k, c->k[l]));
            if (!*st) *st = tg_assign(c->v[l], tg_where(at, v, c->v[l]));
        }
        tg_tensor *seen = tg_le(tg_reshape(c->col_t, TG_SHAPE(1, 1, 1, N)), c->pos);
        y = tg_sdpa(q, c->k[l], c->v[l], seen, false);
    }
    y = tg_reshape(tg_transpose(y, 1, 2), TG_SHAPE(B, T, C));
    x = tg_add(x, tg_linear(y, p[GPT_APROJ_W], p[GPT_APROJ_B]));
    tg_tensor *h = tg_linear(tg_layernorm(x, 1, p[GPT_LN2_W], p[GPT_LN2_B], GPT_LN_EPS), p[GPT_FC_W], p[GPT_FC_B]);
    /* the scheduler gives GELU's ~60 ops a kernel of their own rather than
     * running them once per output inside c_proj's matmul */
    return tg_add(x, tg_linear(tg_gelu_erf(h), p[GPT_MPROJ_W], p[GPT_MPROJ_B]));
}

static tg_tensor *head(const gpt *m, tg_tensor *x) {
    return tg_linear(tg_layernorm(x, 1, m->lnf_w, m->lnf_b, GPT_LN_EPS), m->wte, NULL);
}

tg_tensor *gpt_forward(const gpt *m, tg_tensor *idx) {
    char sa[64];
    if (!m || !idx) return tg_error(TG_ERR_INVALID, "gpt_forward: NULL argument"), NULL;
    int64_t T = tg_tensor_dim(idx, 1);
    if (tg_tensor_ndim(idx) != 2 || T > m->cfg.block)
        return tg_error(TG_ERR_SHAPE, "gpt_forward: tokens %s need (B, T) with T <= %lld",
                        tg_shape_format(tg_tensor_ndim(idx), tg_tensor_shape(idx), sa, sizeof sa),
                        (long long)m->cfg.block), NULL;
    tg_scope_begin();
    tg_tensor *x = tg_add(tg_embedding(m->wte, idx), tg_slice(m->wpe, 0, 0, T, 1));
    for (int64_t l = 0; l < m->cfg.n_layer; l++) x = block(m, l, x, NULL, NULL);
    tg_tensor *r = tg_keep(head(m, x));
    tg_scope_end();
    return r;
}

/* ------------------------------------------------------------ checkpoints */

tg_status gpt_save(const gpt *m, const char *path) {
    if (!m || !path) return tg_error(TG_ERR_INVALID, "gpt_save: NULL argument");
    return tg_params_save(m->params, path);
}

/* The checkpoint's tensor for one of ours: by nanoGPT's name, lm_head.weight
 * for the tied wte, or by GPT-2's own (Hugging Face) name, which lacks
 * "transformer." and keeps the blocks' Conv1D weights as (in, out): those
 * come back transposed (a view in the current scope). */
static tg_tensor *find_in(const tg_params *file, const char *name) {
    tg_tensor *t = tg_params_find(file, name);
    if (!t && !strcmp(name, "transformer.wte.weight")) t = tg_params_find(file, "lm_head.weight");
    if (t || strncmp(name, "transformer.", 12)) return t;
    t = tg_params_find(file, name + 12);
    size_t n = strlen(name);
    bool conv1d = n > 7 && !strcmp(name + n - 7, ".weight") && strstr(name, ".h.") && !strstr(name, ".ln_");
    return t && conv1d && tg_tensor_ndim(t) == 2 ? tg_transpose(t, 0, 1) : t;
}

tg_status gpt_load(gpt *m, const char *path) {
    if (!m || !path) return tg_error(TG_ERR_INVALID, "gpt_load: NULL argument");
    tg_params *file = NULL;
    tg_status st = tg_params_read(path, m->dev, &file);
    size_t n = tg_params_count(m->params);
    tg_scope_begin();
    for (size_t i = 0; !st && i < n; i++) { /* check everything before changing anything */
        const char *name = tg_params_name(m->params, i);
        tg_tensor *want = tg_params_get(m->params, i), *got = find_in(file, name);
        char sa[64], sb[64];
        if (!got) st = tg_error(TG_ERR_NOT_FOUND, "gpt_load: %s has no tensor %s", path, name);
        else if (!tg_dtype_is_float(tg_tensor_dtype(got)))
            st = tg_error(TG_ERR_DTYPE, "gpt_load: %s in %s is %s, not a float", name, path,
                          tg_dtype_name(tg_tensor_dtype(got)));
        else if (tg_tensor_ndim(got) != tg_tensor_ndim(want) ||
                 memcmp(tg_tensor_shape(got), tg_tensor_shape(want), sizeof(int64_t) * (size_t)tg_tensor_ndim(want)))
            st = tg_error(TG_ERR_SHAPE, "gpt_load: %s in %s is %s, the model needs %s", name, path,
                          tg_shape_format(tg_tensor_ndim(got), tg_tensor_shape(got), sa, sizeof sa),
                          tg_shape_format(tg_tensor_ndim(want), tg_tensor_shape(want), sb, sizeof sb));
    }
    tg_scope_end();
    for (size_t i = 0; !st && i < n; i++) {
        tg_scope_begin();
        tg_tensor *src = tg_cast(find_in(file, tg_params_name(m->params, i)), TG_FLOAT32);
        st = src ? tg_assign(tg_params_get(m->params, i), src) : tg_last_status();
        tg_scope_end();
    }
    tg_params_destroy(file);
    return st;
}

tg_status gpt_open(tg_dev *dev, const char *path, int64_t n_head, gpt **out_model) {
    if (!dev || !path || !out_model) return tg_error(TG_ERR_INVALID, "gpt_open: NULL argument");
    *out_model = NULL;
    tg_params *file = NULL;
    tg_status st = tg_params_read(path, dev, &file);
    if (st) return st;
    gpt_config cfg = {.n_head = n_head};
    tg_tensor *wte = find_in(file, "transformer.wte.weight"), *wpe = find_in(file, "transformer.wpe.weight");
    if (!wte || !wpe || tg_tensor_ndim(wte) != 2 || tg_tensor_ndim(wpe) != 2)
        st = tg_error(TG_ERR_NOT_FOUND, "gpt_open: %s lacks 2-d transformer.wte.weight and transformer.wpe.weight", path);
    if (!st) {
        cfg.vocab = tg_tensor_dim(wte, 0), cfg.n_embd = tg_tensor_dim(wte, 1), cfg.block = tg_tensor_dim(wpe, 0);
        char name[64];
        do snprintf(name, sizeof name, "transformer.h.%lld.ln_1.weight", (long long)cfg.n_layer);
        while (find_in(file, name) && ++cfg.n_layer);
    }
    tg_params_destroy(file);
    if (!st) st = gpt_create(dev, &cfg, 0, out_model);
    if (!st && (st = gpt_load(*out_model, path)) != TG_OK) {
        gpt_destroy(*out_model);
        *out_model = NULL;
    }
    return st;
}

/* -------------------------------------------------------------- decoding */

/* A realized tensor (a real buffer) of zeros: the caches start as buffers,
 * so the first step's kernels are the ones every later step runs. */
static tg_tensor *zeros_buffer(tg_dev *dev, int ndim, const int64_t *shape) {
    tg_scope_begin();
    tg_tensor *t = tg_contiguous(tg_zeros(dev, TG_FLOAT32, ndim, shape));
    t = t && tg_realize(t) == TG_OK ? tg_retain(t) : NULL; /* caller-owned */
    tg_scope_end();
    return t;
}

tg_status gpt_cache_create(const gpt *m, gpt_cache **out_cache) {
    if (!m || !out_cache) return tg_error(TG_ERR_INVALID, "gpt_cache_create: NULL argument");
    gpt_cache *c = calloc(1, sizeof *c);
    if (c) c->k = calloc((size_t)m->cfg.n_layer, sizeof *c->k), c->v = calloc((size_t)m->cfg.n_layer, sizeof *c->v);
    if (!c || !c->k || !c->v) {
        if (c) free(c->k), free(c->v);
        free(c);
        return tg_error(TG_ERR_NO_MEMORY, "gpt_cache_create: out of memory");
    }
    *out_cache = c;
    c->n_layer = m->cfg.n_layer;
    int64_t H = m->cfg.n_head, shape[4] = {1, H, m->cfg.block, m->cfg.n_embd / H};
    tg_scope_begin();
    c->pos = tg_retain(tg_variable(m->dev, TG_INT32, 0)); /* caller-owned, whatever scope is open */
    c->token = tg_retain(tg_variable(m->dev, TG_INT32, 0));
    c->col_t = tg_retain(tg_contiguous(tg_reshape(tg_arange(m->dev, TG_INT32, 0, (double)m->cfg.block, 1),
                                                TG_SHAPE(m->cfg.block, 1))));
    if (!moves(m))
        c->col_v = tg_retain(tg_contiguous(tg_reshape(tg_arange(m->dev, TG_INT32, 0, (double)m->cfg.vocab, 1),
                                                    TG_SHAPE(m->cfg.vocab, 1))));
    tg_scope_end();
    tg_status st = c->pos && c->token && c->col_t && (c->col_v || moves(m)) ? TG_OK : tg_last_status();
    if (!st) st = tg_realize(c->col_t);
    if (!st && c->col_v) st = tg_realize(c->col_v);
    for (int64_t l = 0; !st && l < m->cfg.n_layer; l++) {
        c->k[l] = zeros_buffer(m->dev, 4, shape);
        c->v[l] = zeros_buffer(m->dev, 4, shape);
        if (!c->k[l] || !c->v[l]) st = tg_last_status();
    }
    if (st) {
        gpt_cache_destroy(c);
        *out_cache = NULL;
    }
    return st;
}

void gpt_cache_destroy(gpt_cache *c) {
    if (!c) return;
    for (int64_t l = 0; l < c->n_layer; l++) {
        tg_release(c->k[l]);
        tg_release(c->v[l]);
    }
    tg_release(c->pos);
    tg_release(c->token);
    tg_release(c->col_t);
    tg_release(c->col_v);
    free(c->k);
    free(c->v);
    free(c);
}

void gpt_cache_reset(gpt_cache *c) {
    if (c) c->len = 0; /* positions past len are masked, so the old keys need no clearing */
}

tg_status gpt_decode_step(const gpt *m, gpt_cache *c, int32_t token, tg_tensor **out_logits) {
    if (!m || !c || !out_logits) return tg_error(TG_ERR_INVALID, "gpt_decode_step: NULL argument");
    *out_logits = NULL;
    if (c->len >= m->cfg.block)
        return tg_error(TG_ERR_INVALID, "gpt_decode_step: the cache is full (%lld tokens)", (long long)m->cfg.block);
    if (token < 0 || token >= m->cfg.vocab)
        return tg_error(TG_ERR_INVALID, "gpt_decode_step: token %d outside [0, %lld)", token, (long long)m->cfg.vocab);
    int64_t L = m->cfg.n_layer, C = m->cfg.n_embd;
    tg_status st = tg_variable_set(c->pos, (double)c->len);
    if (!st) st = tg_variable_set(c->token, token);
    tg_scope_begin();
    tg_no_grad_begin();
    /* the rows of wte and wpe at the variables: views moved at launch, one row read each,
     * or (see moves) picked by comparing every row with the variables */
    tg_tensor *tok, *pos;
    if (moves(m)) {
        tok = tg_slice_at(m->wte, 0, c->token, 1), pos = tg_slice_at(m->wpe, 0, c->pos, 1);
    } else {
        int axis0 = 0;
        tg_tensor *zero = tg_zeros(m->dev, TG_FLOAT32, TG_SHAPE(1));
        tok = tg_sum(tg_where(tg_eq(c->col_v, c->token), m->wte, zero), 1, &axis0, true);
        pos = tg_sum(tg_where(tg_eq(c->col_t, c->pos), m->wpe, zero), 1, &axis0, true);
    }
    tg_tensor *x = tg_reshape(tg_add(tok, pos), TG_SHAPE(1, 1, C));
    for (int64_t l = 0; l < L; l++) x = block(m, l, x, c, &st);
    tg_tensor *logits = tg_reshape(head(m, x), TG_SHAPE(m->cfg.vocab));
    if (!st) st = tg_realize(logits);
    tg_no_grad_end();
    if (!st) *out_logits = tg_retain(logits);
    tg_scope_end();
    if (!st) c->len++;
    return st;
}

tg_status gpt_pick(tg_tensor *logits, double temperature, int64_t top_k, uint64_t seed, int32_t *out_token) {
    if (!logits || !out_token) return tg_error(TG_ERR_INVALID, "gpt_pick: NULL argument");
    tg_scope_begin();
    tg_no_grad_begin();
    tg_tensor *pick;
    if (temperature <= 0) {
        pick = tg_argmax(logits, -1, false);
    } else {
        tg_tensor *l = tg_divs(logits, temperature), *vals = NULL, *idx = NULL;
        if (top_k > 0 && top_k < tg_tensor_dim(l, -1)) {
            if (tg_topk(l, top_k, &vals, &idx) != TG_OK) vals = NULL;
            tg_tensor *kth = tg_slice(vals, -1, top_k - 1, top_k, 1);
            l = tg_where(tg_lt(l, kth), tg_full_like(kth, -INFINITY), l);
        }
        pick = tg_multinomial(tg_softmax(l, -1), 1, seed);
    }
    double v = -1;
    tg_status st = pick ? tg_item(pick, &v) : tg_last_status();
    if (!st && v < 0) st = tg_error(TG_ERR_INVALID, "gpt_pick: the logits hold no valid distribution (NaN?)");
    tg_no_grad_end();
    tg_scope_end();
    *out_token = (int32_t)v;
    return st;
}
