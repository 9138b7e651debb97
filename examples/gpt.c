/* gpt: a character-level GPT (examples/gpt_model.h) trained on a text file
 * every Debian machine has, then sampled with a KV cache.
 *
 *   ./gpt --device cpu                      train on the GPL-3 text, sample
 *   ./gpt --text FILE --steps 2000 --save gpt.safetensors
 *   ./gpt --text FILE --load gpt.safetensors --steps 0 --sample 500
 *   ./gpt --bench train --layers 6 --heads 6 --embd 384 --block 256 --batch 8
 *   ./gpt --bench decode --layers 12 --heads 12 --embd 768 --block 1024 --vocab 50257 --tokens 128
 *
 * The vocabulary is the sorted set of bytes of the text, so a checkpoint is
 * sampled with the text it was trained on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gpt_model.h"

typedef struct opts {
    const char *device, *text, *save, *load, *prompt, *bench;
    gpt_config cfg;
    long steps, batch, sample, tokens, eval_every;
    double lr, temperature, expect_loss;
    long top_k;
    uint64_t seed;
} opts;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t programs(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.programs_compiled;
}

static int usage(const char *prog, const opts *o) {
    printf("usage: %s [options] [TEXT]\n"
           "Trains a character-level GPT on TEXT (default %s) and samples from it.\n"
           "  --device NAME      ref, cpu, vulkan, ... or auto (default auto)\n"
           "  --text FILE        the training text (also the positional argument)\n"
           "  --layers N --heads N --embd N --block N   model shape (default %lld %lld %lld %lld)\n"
           "  --batch N          sequences per step (default %ld)\n"
           "  --steps N          optimiser steps (default %ld; 0 with --load: sample only)\n"
           "  --eval-every N     print the losses every N steps (default %ld)\n"
           "  --lr X             AdamW learning rate (default %g)\n"
           "  --seed N           initialisation, batches and sampling (default %llu)\n"
           "  --save FILE        write the weights (safetensors, nanoGPT names)\n"
           "  --load FILE        start from a checkpoint (its shape; --heads must match)\n"
           "  --sample N         characters to sample after training (default %ld)\n"
           "  --prompt STR       the start of the sample (default: a newline)\n"
           "  --temperature X    sampling temperature; 0: greedy (default %g)\n"
           "  --top-k N          sample among the N likeliest (default %ld; 0: all)\n"
           "  --expect-loss X    exit with status 3 unless the last training loss is below X\n"
           "  --bench train|decode  time training steps (--steps) or decoding (--tokens) on\n"
           "                     random tokens of --vocab N (default 65); prints per-step figures\n",
           prog, o->text, (long long)o->cfg.n_layer, (long long)o->cfg.n_head, (long long)o->cfg.n_embd,
           (long long)o->cfg.block, o->batch, o->steps, o->eval_every, o->lr, (unsigned long long)o->seed, o->sample,
           o->temperature, o->top_k);
    return 1;
}

static int parse(int argc, char **argv, opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(argv[0], o);
        if (a[0] != '-') {
            o->text = a;
            continue;
        }
        if (i + 1 == argc) return fprintf(stderr, "%s: %s lacks its value\n", argv[0], a), 2;
        const char *v = argv[++i];
        char *end = NULL;
        long long n = 0;
        if (!strcmp(a, "--device")) o->device = v;
        else if (!strcmp(a, "--text")) o->text = v;
        else if (!strcmp(a, "--save")) o->save = v;
        else if (!strcmp(a, "--load")) o->load = v;
        else if (!strcmp(a, "--prompt")) o->prompt = v;
        else if (!strcmp(a, "--bench")) o->bench = v;
        else if (!strcmp(a, "--lr")) o->lr = strtod(v, &end);
        else if (!strcmp(a, "--temperature")) o->temperature = strtod(v, &end);
        else if (!strcmp(a, "--expect-loss")) o->expect_loss = strtod(v, &end);
        else {
            n = strtoll(v, &end, 10);
            if (!strcmp(a, "--layers")) o->cfg.n_layer = n;
            else if (!strcmp(a, "--heads")) o->cfg.n_head = n;
            else if (!strcmp(a, "--embd")) o->cfg.n_embd = n;
            else if (!strcmp(a, "--block")) o->cfg.block = n;
            else if (!strcmp(a, "--vocab")) o->cfg.vocab = n;
            else if (!strcmp(a, "--batch")) o->batch = (long)n;
            else if (!strcmp(a, "--steps")) o->steps = (long)n;
            else if (!strcmp(a, "--sample")) o->sample = (long)n;
            else if (!strcmp(a, "--tokens")) o->tokens = (long)n;
            else if (!strcmp(a, "--eval-every")) o->eval_every = (long)n;
            else if (!strcmp(a, "--top-k")) o->top_k = (long)n;
            else if (!strcmp(a, "--seed")) o->seed = (uint64_t)n;
            else return fprintf(stderr, "%s: unknown option %s (see --help)\n", argv[0], a), 2;
            if (n < 0) return fprintf(stderr, "%s: %s must be >= 0\n", argv[0], a), 2;
        }
        if (end && (*end || end == v)) return fprintf(stderr, "%s: %s: not a number: %s\n", argv[0], a, v), 2;
    }
    if (o->bench && strcmp(o->bench, "train") && strcmp(o->bench, "decode"))
        return fprintf(stderr, "%s: --bench takes train or decode\n", argv[0]), 2;
    if (o->batch < 1 || o->eval_every < 1)
        return fprintf(stderr, "%s: --batch and --eval-every must be >= 1\n", argv[0]), 2;
    return 0;
}

/* The text as token ids over its sorted distinct bytes. */
typedef struct corpus {
    int32_t *ids;
    int64_t n;
    unsigned char chars[256];
    int vocab;
} corpus;

static tg_status corpus_read(const char *path, corpus *c) {
    FILE *f = fopen(path, "rb");
    if (!f) return tg_error(TG_ERR_IO, "cannot open %s", path);
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!nb) break;
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    if (n == 0) {
        free(buf);
        return tg_error(TG_ERR_INVALID, "%s is empty", path);
    }
    int index[256] = {0};
    c->ids = buf ? malloc(n * sizeof *c->ids + 1) : NULL;
    if (!c->ids) {
        free(buf);
        return tg_error(TG_ERR_NO_MEMORY, "out of memory for %s", path);
    }
    for (size_t i = 0; i < n; i++) index[buf[i]] = 1;
    c->vocab = 0;
    for (int b = 0; b < 256; b++)
        if (index[b]) c->chars[c->vocab] = (unsigned char)b, index[b] = c->vocab++;
    for (size_t i = 0; i < n; i++) c->ids[i] = index[buf[i]];
    c->n = (int64_t)n;
    free(buf);
    return TG_OK;
}

/* B windows of T + 1 tokens from ids[lo, hi): inputs and next-token targets. */
static tg_status batch_of(tg_dev *dev, const int32_t *ids, int64_t lo, int64_t hi, int64_t B, int64_t T, uint64_t *rng,
                          tg_tensor **x, tg_tensor **y) {
    int32_t *xb = malloc((size_t)(2 * B * T) * sizeof *xb);
    if (!xb) return tg_error(TG_ERR_NO_MEMORY, "out of memory for a batch");
    for (int64_t b = 0; b < B; b++) {
        int64_t s = lo + (int64_t)(rng_next(rng) % (uint64_t)(hi - lo - T));
        for (int64_t t = 0; t < T; t++) xb[b * T + t] = ids[s + t], xb[B * T + b * T + t] = ids[s + t + 1];
    }
    *x = tg_from_data(dev, TG_INT32, TG_SHAPE(B, T), xb);
    *y = tg_from_data(dev, TG_INT32, TG_SHAPE(B, T), xb + B * T);
    free(xb);
    return *x && *y ? TG_OK : tg_last_status();
}

static tg_status train_step(gpt *m, tg_optim *opt, tg_tensor *x, tg_tensor *y, double *loss_v) {
    tg_tensor *loss = tg_cross_entropy_ex(gpt_forward(m, x), y, 0, -1);
    tg_optim_zero_grad(opt);
    tg_status st = loss ? tg_backward(loss) : tg_last_status();
    if (!st) st = tg_optim_step(opt);
    if (!st) st = tg_item(loss, loss_v);
    return st;
}

static tg_status train(gpt *m, const corpus *c, const opts *o, double *last_loss) {
    tg_optim *opt = NULL;
    tg_optim_opts oo = tg_optim_defaults(TG_OPTIM_ADAMW, o->lr);
    tg_status st = tg_optim_create(m->params, &oo, &opt);
    int64_t split = c->n * 9 / 10, T = m->cfg.block;
    if (!st && (split - T < 2 || c->n - split - T < 2))
        st = tg_error(TG_ERR_INVALID, "the text (%lld bytes) is too short for a context of %lld", (long long)c->n,
                      (long long)T);
    uint64_t rng = o->seed * 7 + 3;
    double t0 = now_s(), sum = 0;
    int seen = 0;
    for (long step = 1; !st && step <= o->steps; step++) {
        tg_tensor *x, *y;
        double l = 0;
        tg_scope_begin();
        st = batch_of(m->dev, c->ids, 0, split, o->batch, T, &rng, &x, &y);
        if (!st) st = train_step(m, opt, x, y, &l);
        tg_scope_end();
        sum += l, seen++;
        *last_loss = l;
        if (!st && (step % o->eval_every == 0 || step == o->steps)) {
            double val = 0;
            tg_scope_begin();
            tg_no_grad_begin();
            st = batch_of(m->dev, c->ids, split, c->n, o->batch, T, &rng, &x, &y);
            tg_tensor *vl = st ? NULL : tg_cross_entropy_ex(gpt_forward(m, x), y, 0, -1);
            if (!st) st = vl ? tg_item(vl, &val) : tg_last_status();
            tg_no_grad_end();
            tg_scope_end();
            printf("step %5ld  train loss %.4f  val loss %.4f  %.1f s\n", step, sum / seen, val, now_s() - t0);
            fflush(stdout);
            sum = 0, seen = 0;
        }
    }
    tg_optim_destroy(opt);
    return st;
}

static tg_status sample(gpt *m, const corpus *c, const opts *o) {
    gpt_cache *cache = NULL;
    tg_status st = gpt_cache_create(m, &cache);
    const char *prompt = o->prompt ? o->prompt : "\n";
    int32_t tok = -1;
    int64_t produced = 0, p0 = programs();
    double t0 = now_s();
    printf("--- sample (temperature %g, top-k %ld, seed %llu)\n%s", o->temperature, o->top_k,
           (unsigned long long)o->seed, prompt);
    for (size_t i = 0; !st && prompt[i]; i++) { /* the prompt, one token at a time */
        tok = -1;
        for (int v = 0; v < c->vocab; v++)
            if (c->chars[v] == (unsigned char)prompt[i]) tok = v;
        if (tok < 0)
            st = tg_error(TG_ERR_INVALID, "the prompt's byte 0x%02x is not in the text", (unsigned)(unsigned char)prompt[i]);
        tg_tensor *logits = NULL;
        if (!st && prompt[i + 1]) st = gpt_decode_step(m, cache, tok, &logits);
        tg_release(logits);
    }
    for (long i = 0; !st && i < o->sample; i++) {
        if (cache->len == m->cfg.block) { /* full: start again from the last token */
            gpt_cache_reset(cache);
        }
        tg_tensor *logits = NULL;
        st = gpt_decode_step(m, cache, tok, &logits);
        if (!st) st = gpt_pick(logits, o->temperature, o->top_k, o->seed * 1000003 + (uint64_t)i, &tok);
        tg_release(logits);
        if (!st) putchar(c->chars[tok]), produced++;
        fflush(stdout);
    }
    printf("\n--- %lld characters, %.1f tokens/s, %lld programs compiled while sampling\n", (long long)produced,
           produced / (now_s() - t0), (long long)(programs() - p0));
    gpt_cache_destroy(cache);
    return st;
}

/* --bench: random tokens; the figures the peer script (bench/cpu/gpt_peers.py) reads. */
static tg_status bench(gpt *m, const opts *o) {
    uint64_t rng = o->seed;
    int64_t V = m->cfg.vocab, T = m->cfg.block;
    tg_status st = TG_OK;
    if (!strcmp(o->bench, "train")) {
        int32_t *ids = malloc((size_t)(4 * T + 16) * sizeof *ids);
        if (!ids) return tg_error(TG_ERR_NO_MEMORY, "out of memory");
        for (int64_t i = 0; i < 4 * T + 16; i++) ids[i] = (int32_t)(rng_next(&rng) % (uint64_t)V);
        tg_optim *opt = NULL;
        tg_optim_opts oo = tg_optim_defaults(TG_OPTIM_ADAMW, o->lr);
        st = tg_optim_create(m->params, &oo, &opt);
        double t0 = 0, l = 0;
        for (long step = -2; !st && step < o->steps; step++) { /* two warm-up steps compile */
            if (step == 0) t0 = now_s();
            tg_tensor *x, *y;
            tg_scope_begin();
            st = batch_of(m->dev, ids, 0, 4 * T + 16, o->batch, T, &rng, &x, &y);
            if (!st) st = train_step(m, opt, x, y, &l);
            tg_scope_end();
        }
        double dt = (now_s() - t0) / (double)(o->steps ? o->steps : 1);
        if (!st) printf("tg train: %.1f ms/step, %.3f steps/s (loss %.3f)\n", 1e3 * dt, 1 / dt, l);
        tg_optim_destroy(opt);
        free(ids);
        return st;
    }
    gpt_cache *cache = NULL;
    st = gpt_cache_create(m, &cache);
    int32_t tok = 0;
    tg_tensor *logits = NULL;
    if (!st) st = gpt_decode_step(m, cache, tok, &logits); /* the first step compiles */
    if (!st) st = gpt_pick(logits, 0, 0, 0, &tok);
    tg_release(logits);
    int64_t p0 = programs();
    double t0 = now_s();
    long n = 0;
    for (; !st && n < o->tokens && cache->len < T; n++) {
        st = gpt_decode_step(m, cache, tok, &logits);
        if (!st) st = gpt_pick(logits, 0, 0, 0, &tok);
        tg_release(logits);
    }
    double dt = now_s() - t0;
    if (!st) printf("tg decode: %ld tokens, %.2f ms/token, %.2f tokens/s, %lld programs compiled after the first\n", n,
                    1e3 * dt / (double)(n ? n : 1), (double)n / dt, (long long)(programs() - p0));
    gpt_cache_destroy(cache);
    return st;
}

int main(int argc, char **argv) {
    opts o = {.device = "auto", .text = "/usr/share/common-licenses/GPL-3",
              .cfg = {.n_layer = 4, .n_head = 4, .n_embd = 64, .vocab = 65, .block = 64},
              .steps = 300, .batch = 16, .sample = 300, .tokens = 128, .eval_every = 50, .lr = 2e-3,
              .temperature = 0.8, .top_k = 10, .seed = 1};
    int r = parse(argc, argv, &o);
    if (r) return r == 1 ? 0 : r;
    tg_dev *dev = NULL;
    gpt *m = NULL;
    corpus c = {0};
    double last = NAN;
    tg_status st = tg_device_open(o.device, &dev);
    if (!st && !o.bench) st = corpus_read(o.text, &c);
    if (!st && !o.bench) o.cfg.vocab = c.vocab;
    if (!st) st = o.load ? gpt_open(dev, o.load, o.cfg.n_head, &m) : gpt_create(dev, &o.cfg, o.seed, &m);
    if (!st && !o.bench && m->cfg.vocab != c.vocab)
        st = tg_error(TG_ERR_SHAPE, "%s has %lld tokens, the text %d distinct bytes", o.load,
                      (long long)m->cfg.vocab, c.vocab);
    if (!st) {
        printf("gpt on %s: %lld layers, %lld heads, width %lld, context %lld, vocabulary %lld; %lld parameters\n",
               tg_device_name(dev), (long long)m->cfg.n_layer, (long long)m->cfg.n_head, (long long)m->cfg.n_embd,
               (long long)m->cfg.block, (long long)m->cfg.vocab, (long long)tg_params_numel(m->params));
        if (!o.bench) printf("text %s: %lld bytes\n", o.text, (long long)c.n);
    }
    if (!st && o.bench) st = bench(m, &o);
    if (!st && !o.bench && o.steps) st = train(m, &c, &o, &last);
    if (!st && o.save) st = gpt_save(m, o.save);
    if (!st && !o.bench && o.sample) st = sample(m, &c, &o);
    if (st) fprintf(stderr, "gpt: %s\n", tg_last_error());
    gpt_destroy(m);
    tg_device_close(dev);
    free(c.ids);
    if (!st && o.expect_loss > 0 && !(last < o.expect_loss)) {
        fprintf(stderr, "gpt: last training loss %.4f is not below %.4f\n", last, o.expect_loss);
        return 3;
    }
    return st ? 1 : 0;
}
