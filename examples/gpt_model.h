/* examples/gpt_model.h -- a GPT-style decoder on tg's public API (nanoGPT's
 * model): token and position embeddings, pre-norm blocks (layernorm, causal
 * self-attention, an MLP with the exact GELU), a final layernorm and an
 * output head tied to the token embedding. Weights carry nanoGPT's names and
 * layouts (linear weights (out, in)), so a nanoGPT checkpoint written with
 * safetensors loads unchanged, and ours loads in nanoGPT; GPT-2's released
 * safetensors load as well.
 *
 * Decoding keeps a key/value cache of the full context length per layer and
 * the current position in a tg_variable: every step has the same shapes and
 * reads the position as a kernel argument, so no step after the first
 * compiles anything. The embedding rows are read through views the token
 * and position variables move (tg_slice_at), and each step writes one row
 * of each cache in place (tg_assign_at) on a device that moves views by
 * arguments (TG_CAP_ARG_BOUNDS); elsewhere a step compares every row with
 * the variables and rewrites the caches. */
#ifndef TG_EXAMPLES_GPT_MODEL_H
#define TG_EXAMPLES_GPT_MODEL_H

#include <tg/nn.h>

typedef struct gpt_config {
    int64_t n_layer, n_head, n_embd; /* n_embd divisible by n_head */
    int64_t vocab, block;            /* vocabulary size, longest context */
} gpt_config;

/* The parameters of one block, in nanoGPT's order. */
enum {
    GPT_LN1_W, GPT_LN1_B, GPT_ATTN_W, GPT_ATTN_B, GPT_APROJ_W, GPT_APROJ_B,
    GPT_LN2_W, GPT_LN2_B, GPT_FC_W, GPT_FC_B, GPT_MPROJ_W, GPT_MPROJ_B, GPT_BLOCK_PARAMS
};

typedef struct gpt {
    gpt_config cfg;
    tg_dev *dev;
    tg_tensor *wte, *wpe, *lnf_w, *lnf_b; /* lm_head.weight is wte */
    tg_tensor *(*h)[GPT_BLOCK_PARAMS];    /* n_layer blocks */
    tg_params *params;                    /* every tensor, by nanoGPT name */
} gpt;

/* nanoGPT's initialisation (normal(0, 0.02) weights, c_proj weights
 * 0.02/sqrt(2 n_layer), zero biases, unit layernorm weights) from `seed`,
 * made on the host: the same seed gives the same model on every device. */
tg_status gpt_create(tg_dev *dev, const gpt_config *cfg, uint64_t seed, gpt **out_model);
void gpt_destroy(gpt *m); /* NULL is a no-op */

/* idx (B, T) int32 token ids, T <= block -> logits (B, T, vocab). */
tg_tensor *gpt_forward(const gpt *m, tg_tensor *idx);

/* Safetensors with nanoGPT's names (lm_head.weight, being wte, is not
 * written: safetensors keeps no shared tensors; PyTorch's load_model ties it). */
tg_status gpt_save(const gpt *m, const char *path);
/* Loads every tensor by name (float dtypes are converted; lm_head.weight
 * stands for a missing transformer.wte.weight; other names in the file,
 * such as nanoGPT's attn.bias mask buffers, are ignored). GPT-2's own
 * safetensors (Hugging Face's: names without "transformer.", Conv1D weights
 * stored (in, out)) load too, transposed as nanoGPT's from_pretrained does. Nothing changes
 * unless every tensor is there with the right shape. */
tg_status gpt_load(gpt *m, const char *path);
/* A model shaped after a checkpoint (layers, width, vocabulary and context
 * from its tensors; n_head is not in the file), loaded from it. */
tg_status gpt_open(tg_dev *dev, const char *path, int64_t n_head, gpt **out_model);

/* ------------------------------------------------------------ decoding */

typedef struct gpt_cache {
    tg_tensor **k, **v;   /* per layer (1, n_head, block, head size) */
    tg_tensor *pos;       /* int32 variable: where the next token goes */
    tg_tensor *token;     /* int32 variable: the token fed next */
    tg_tensor *col_t, *col_v; /* arange(block) and (on a device without moving
                                 views, else NULL) arange(vocab) as columns */
    int64_t len;          /* tokens in the cache */
    int64_t n_layer;
} gpt_cache;

tg_status gpt_cache_create(const gpt *m, gpt_cache **out_cache);
void gpt_cache_destroy(gpt_cache *c); /* NULL is a no-op */
void gpt_cache_reset(gpt_cache *c);  /* forget the tokens (keeps the buffers) */
/* Feeds `token` at position c->len (< block) of one sequence: updates every
 * layer's cache and gives the next token's logits (vocab), realized, in a
 * new caller-owned tensor (tg_release it). */
tg_status gpt_decode_step(const gpt *m, gpt_cache *c, int32_t token, tg_tensor **out_logits);

/* The next token from logits (vocab): argmax when temperature <= 0, else a
 * draw from softmax(logits / temperature) limited to the top_k largest
 * (top_k <= 0: all), seeded. */
tg_status gpt_pick(tg_tensor *logits, double temperature, int64_t top_k, uint64_t seed, int32_t *out_token);

#endif
