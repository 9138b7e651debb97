/* examples/gpt (issue 15): golden logits of a nanoGPT-layout checkpoint
 * written by tests/gpt/gen_golden.py (numpy), a save/load round trip, a
 * short training run that lowers the loss, KV-cache decoding equal to
 * recomputing the whole sequence, and no program compiled per decoded token.
 * usage: test_gpt GOLDEN_DIR SCRATCH_DIR DEVICE */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gpt_model.h"
#include "tap.h"

enum { B = 2, T = 8, V = 11 };

static tg_dev *dev;
static const char *dname;

static tg_stats stats(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s;
}

/* golden tokens (B*T) and logits (B*T*V) */
static int read_golden(const char *dir, int32_t *tokens, double *logits) {
    char path[1024], word[64];
    snprintf(path, sizeof path, "%s/tiny_logits.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fscanf(f, "%*[^\n]\n%63s", word) == 1 && !strcmp(word, "tokens");
    for (int i = 0; ok && i < B * T; i++) ok = fscanf(f, "%d", &tokens[i]) == 1;
    for (int i = 0; ok && i < B * T * V; i++) ok = fscanf(f, "%lf", &logits[i]) == 1;
    fclose(f);
    return ok;
}

static tg_status logits_of(gpt *m, const int32_t *tokens, int64_t b, int64_t t, float *out) {
    tg_scope_begin();
    tg_no_grad_begin();
    tg_tensor *l = gpt_forward(m, tg_from_data(dev, TG_INT32, TG_SHAPE(b, t), tokens));
    tg_status st = l ? tg_to_host(l, out, (size_t)(b * t * m->cfg.vocab) * sizeof *out) : tg_last_status();
    tg_no_grad_end();
    tg_scope_end();
    return st;
}

static void test_golden_and_roundtrip(const char *golden, const char *scratch) {
    char path[1024], saved[1024];
    int32_t tokens[B * T];
    static double want[B * T * V];
    static float got[B * T * V], again[B * T * V];
    gpt *m = NULL, *m2 = NULL;
    snprintf(path, sizeof path, "%s/tiny.safetensors", golden);
    snprintf(saved, sizeof saved, "%s/gpt-%s.safetensors", scratch, dname);
    if (!tap_ok(read_golden(golden, tokens, want), "%s: read the golden logits in %s", dname, golden)) return;
    tg_status st = gpt_open(dev, path, 2, &m);
    if (!st) st = logits_of(m, tokens, B, T, got);
    double worst = st ? INFINITY : 0;
    for (int i = 0; !st && i < B * T * V; i++) worst = fmax(worst, fabs(got[i] - want[i]));
    tap_ok(!st && m->cfg.n_layer == 2 && m->cfg.vocab == V && m->cfg.block == T && worst < 1e-4,
           "%s: a nanoGPT checkpoint (lm_head.weight tied, attn.bias buffers) loads; logits of (2,8) tokens match "
           "numpy's to %.2g (< 1e-4) %s", dname, worst, st ? tg_last_error() : "");

    /* the same weights in GPT-2's own layout */
    gpt *g2 = NULL;
    snprintf(path, sizeof path, "%s/tiny_gpt2.safetensors", golden);
    tg_status st2 = st ? st : gpt_open(dev, path, 2, &g2);
    if (!st2) st2 = logits_of(g2, tokens, B, T, again);
    tap_ok(!st2 && g2->cfg.n_layer == 2 && !memcmp(got, again, sizeof got),
           "%s: the same weights in GPT-2's layout (no transformer. prefix, Conv1D (in, out)) give the same logits %s",
           dname, st2 ? tg_last_error() : "");
    gpt_destroy(g2);
    snprintf(path, sizeof path, "%s/tiny.safetensors", golden);

    /* our file has transformer.wte.weight instead; loads back bit for bit */
    if (!st) st = gpt_save(m, saved);
    if (!st) st = gpt_open(dev, saved, 2, &m2);
    if (!st) st = logits_of(m2, tokens, B, T, again);
    tap_ok(!st && !memcmp(got, again, sizeof got), "%s: save and load again: identical logits %s", dname,
           st ? tg_last_error() : "");

    /* a checkpoint of another shape is refused, naming the tensor, and changes nothing */
    gpt *other = NULL;
    gpt_config cfg = {.n_layer = 2, .n_head = 2, .n_embd = 16, .vocab = 12, .block = T};
    st = gpt_create(dev, &cfg, 5, &other);
    tg_scope_begin();
    float lnf[16], lnf2[16];
    int ok = !st && tg_to_host(other->h[1][GPT_LN2_W], lnf, sizeof lnf) == TG_OK;
    tg_status lst = ok ? gpt_load(other, path) : TG_OK;
    ok &= lst == TG_ERR_SHAPE && strstr(tg_last_error(), "transformer.wte.weight") != NULL;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", tg_last_error());
    ok &= tg_to_host(other->h[1][GPT_LN2_W], lnf2, sizeof lnf2) == TG_OK && !memcmp(lnf, lnf2, sizeof lnf);
    tg_scope_end();
    tap_ok(ok, "%s: a checkpoint for vocabulary 11 into a model of 12 is refused and changes nothing: %s", dname, msg);
    tg_clear_error();
    gpt_destroy(other);
    gpt_destroy(m2);
    gpt_destroy(m);
}

/* 30 AdamW steps on a sequence with structure (next = 3 * this + 1 mod 11,
 * with a twist every 5) lower the loss. Batch 4, or 2 on ref (an
 * interpreter: about a second a step at batch 4 on a busy machine). */
static void test_training(void) {
    gpt_config cfg = {.n_layer = 2, .n_head = 2, .n_embd = 16, .vocab = V, .block = T};
    gpt *m = NULL;
    tg_optim *opt = NULL;
    tg_status st = gpt_create(dev, &cfg, 3, &m);
    tg_optim_opts oo = tg_optim_defaults(TG_OPTIM_ADAMW, 1e-2);
    if (!st) st = tg_optim_create(m->params, &oo, &opt);
    int32_t seq[64];
    seq[0] = 0;
    for (int i = 1; i < 64; i++) seq[i] = (3 * seq[i - 1] + 1 + (i % 5 == 0)) % V;
    double first = 0, last = 0;
    enum { STEPS = 30, MAX_BATCH = 4 };
    const int BATCH = strcmp(dname, "ref") ? MAX_BATCH : 2;
    for (int step = 0; !st && step < STEPS; step++) {
        int32_t x[MAX_BATCH * T], y[MAX_BATCH * T];
        for (int b = 0; b < BATCH; b++)
            for (int t = 0; t < T; t++) {
                int s = (step * 7 + b * 13) % (64 - T - 1);
                x[b * T + t] = seq[s + t], y[b * T + t] = seq[s + t + 1];
            }
        double l = NAN;
        tg_scope_begin();
        tg_tensor *loss = tg_cross_entropy_ex(gpt_forward(m, tg_from_data(dev, TG_INT32, TG_SHAPE(BATCH, T), x)),
                                              tg_from_data(dev, TG_INT32, TG_SHAPE(BATCH, T), y), 0, -1);
        tg_optim_zero_grad(opt);
        st = loss ? tg_backward(loss) : tg_last_status();
        if (!st) st = tg_optim_step(opt);
        if (!st) st = tg_item(loss, &l);
        tg_scope_end();
        if (step < 5) first += l / 5;
        if (step >= STEPS - 5) last += l / 5;
    }
    tap_ok(!st && last < 0.7 * first, "%s: 30 training steps, batch %d: mean loss of the first 5 %.3f, of the last 5 %.3f "
           "(< 70%%) %s", dname, BATCH, first, last, st ? tg_last_error() : "");
    tg_optim_destroy(opt);
    gpt_destroy(m);
}

/* Greedy decoding with the cache against one forward pass over the
 * sequence it produced: the same logits at every position. */
static void test_decode(const char *golden) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny.safetensors", golden);
    gpt *m = NULL;
    gpt_cache *c = NULL;
    tg_status st = gpt_open(dev, path, 2, &m);
    if (!st) st = gpt_cache_create(m, &c);
    int32_t seq[T] = {3};
    static float step_logits[T * V], full[T * V];
    for (int i = 0; !st && i < T; i++) {
        tg_tensor *l = NULL;
        st = gpt_decode_step(m, c, seq[i], &l);
        if (!st) st = tg_to_host(l, step_logits + i * V, V * sizeof(float));
        if (!st && i + 1 < T) st = gpt_pick(l, 0, 0, 0, &seq[i + 1]);
        tg_release(l);
    }
    if (!st) st = logits_of(m, seq, 1, T, full);
    double worst = st ? INFINITY : 0;
    int same = 1;
    for (int i = 0; !st && i < T; i++) {
        int best = 0;
        for (int v = 0; v < V; v++) {
            worst = fmax(worst, fabs(step_logits[i * V + v] - full[i * V + v]));
            if (full[i * V + v] > full[i * V + best]) best = v;
        }
        if (i + 1 < T) same &= best == seq[i + 1];
    }
    tap_ok(!st && worst < 1e-4 && same, "%s: 8 greedy steps with the KV cache (%d %d %d %d %d %d %d %d) equal a full "
           "forward pass: logits within %.2g, the same tokens %s", dname, seq[0], seq[1], seq[2], seq[3], seq[4],
           seq[5], seq[6], seq[7], worst, st ? tg_last_error() : "");
    tg_tensor *l = NULL;
    tap_ok(gpt_decode_step(m, c, 1, &l) == TG_ERR_INVALID && !l && strstr(tg_last_error(), "full"),
           "%s: a ninth token into a cache of 8 is refused: %s", dname, tg_last_error());
    gpt_cache_reset(c);
    tap_ok(gpt_decode_step(m, c, V, &l) == TG_ERR_INVALID && strstr(tg_last_error(), "token 11"),
           "%s: token 11 of a vocabulary of 11 is refused: %s", dname, tg_last_error());
    tg_clear_error();
    gpt_cache_destroy(c);
    gpt_destroy(m);
}

/* Sampling (top-k, multinomial) with the cache: no program compiled after
 * the first token, whether 8 or 24 follow; no buffer kept per token. All
 * inside a scope, which must not take the model's or the cache's tensors:
 * afterwards as many tensors live as before. */
static void test_decode_programs(void) {
    int64_t live0 = stats().live_tensors;
    tg_scope_begin();
    gpt_config cfg = {.n_layer = 2, .n_head = 2, .n_embd = 16, .vocab = V, .block = 40};
    gpt *m = NULL;
    gpt_cache *c = NULL;
    tg_status st = gpt_create(dev, &cfg, 9, &m);
    if (!st) st = gpt_cache_create(m, &c);
    int32_t tok = 1;
    int64_t compiled[2] = {-1, -1}, buffers[2] = {-1, -1};
    const int counts[2] = {8, 24};
    for (int round = 0; !st && round < 2; round++) {
        gpt_cache_reset(c);
        int64_t p0 = 0;
        for (int i = 0; !st && i <= counts[round]; i++) {
            if (i == 1) p0 = stats().programs_compiled; /* after the first step */
            tg_tensor *l = NULL;
            st = gpt_decode_step(m, c, tok, &l);
            if (!st) st = gpt_pick(l, 1.0, 3, 100 + (uint64_t)i, &tok);
            tg_release(l);
        }
        compiled[round] = stats().programs_compiled - p0;
        buffers[round] = stats().live_buffers;
    }
    tap_ok(!st && compiled[0] == 0 && compiled[1] == 0 && buffers[0] == buffers[1],
           "%s: sampling (top-k 3, temperature 1) 8 and 24 tokens after the first compiles %lld and %lld programs; "
           "live buffers %lld and %lld %s", dname, (long long)compiled[0], (long long)compiled[1],
           (long long)buffers[0], (long long)buffers[1], st ? tg_last_error() : "");
    gpt_cache_destroy(c);
    gpt_destroy(m);
    tg_scope_end();
    tap_ok(stats().live_tensors == live0, "%s: model and cache made inside a scope, then destroyed: %lld tensors "
           "live, as before", dname, (long long)stats().live_tensors);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s GOLDEN_DIR SCRATCH_DIR DEVICE\n", argv[0]);
        return 2;
    }
    dname = argv[3];
    if (tg_device_open(dname, &dev) != TG_OK) {
        tap_ok(0, "open %s: %s", dname, tg_last_error());
        return tap_done();
    }
    test_golden_and_roundtrip(argv[1], argv[2]);
    test_training();
    test_decode(argv[1]);
    test_decode_programs();
    tg_device_close(dev);
    return tap_done();
}
