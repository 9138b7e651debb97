/* plugins/vulkan/spv_emit.c -- the low level of the SPIR-V text emitter:
 * a string buffer, ids, types, constants and single instructions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spv_gen.h"

const char *const ct_name[CT_COUNT] = {"bool", "u8", "u16", "u32", "u64", "f16", "f32", "f64"};

int ct_bits(ct t) {
    static const int bits[CT_COUNT] = {1, 8, 16, 32, 64, 16, 32, 64};
    return bits[t];
}

bool ct_is_float(ct t) { return t == CT_F16 || t == CT_F32 || t == CT_F64; }

void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    if (b->oom) return;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = true; return; }
        if (b->s && (size_t)n < room) { b->n += (size_t)n; return; }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = true; return; }
        b->s = s;
        b->cap = cap;
    }
}

int gen_id(gen *g) { return g->next++; }

void gen_use(gen *g, ct t) { g->used[t] = true; }

int gen_label(gen *g) {
    int l = gen_id(g);
    gen_label_at(g, l);
    return l;
}

void gen_label_at(gen *g, int label) {
    sb_printf(&g->body, "%%v%d = OpLabel\n", label);
    g->cur = label;
}

/* A float literal SPIRV-Tools' assembler reads back exactly. */
static void float_literal(char *buf, size_t cap, ct t, uint64_t bits) {
    double d;
    int maxexp = t == CT_F64 ? 1024 : t == CT_F32 ? 128 : 16;
    if (t == CT_F64) {
        memcpy(&d, &bits, 8);
    } else if (t == CT_F32) {
        uint32_t u = (uint32_t)bits;
        float f;
        memcpy(&f, &u, 4);
        d = f;
    } else { /* binary16 */
        uint32_t h = (uint32_t)bits, e = (h >> 10) & 31, m = h & 1023;
        d = e == 31 ? (m ? NAN : INFINITY) : e ? ldexp(1024 + m, (int)e - 25) : ldexp(m, -24);
        if (h & 0x8000) d = -d;
    }
    if (isnan(d)) snprintf(buf, cap, "0x1.8p+%d", maxexp);
    else if (isinf(d)) snprintf(buf, cap, "%s0x1p+%d", d < 0 ? "-" : "", maxexp);
    else snprintf(buf, cap, "%a", d);
}

int gen_const_bits(gen *g, ct t, uint64_t bits) {
    if (t == CT_BOOL) return gen_const_bool(g, bits != 0);
    if (ct_bits(t) < 64) bits &= (UINT64_C(1) << ct_bits(t)) - 1;
    for (int i = 0; i < g->ncache; i++)
        if (g->cache[i].t == t && g->cache[i].bits == bits) return g->cache[i].id;
    int id = gen_id(g);
    gen_use(g, t);
    if (ct_is_float(t)) {
        char lit[64];
        float_literal(lit, sizeof lit, t, bits);
        sb_printf(&g->consts, "%%v%d = OpConstant %%%s %s\n", id, ct_name[t], lit);
    } else {
        sb_printf(&g->consts, "%%v%d = OpConstant %%%s %llu\n", id, ct_name[t], (unsigned long long)bits);
    }
    if (g->ncache < GEN_NCONST) {
        g->cache[g->ncache].t = t;
        g->cache[g->ncache].bits = bits;
        g->cache[g->ncache].id = id;
        g->ncache++;
    }
    return id;
}

int gen_const_f(gen *g, ct t, double v) {
    uint64_t bits;
    if (t == CT_F64) {
        memcpy(&bits, &v, 8);
    } else if (t == CT_F32) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        bits = u;
    } else {
        return -1; /* f16 constants are never needed: f16 is computed in f32 */
    }
    return gen_const_bits(g, t, bits);
}

int gen_const_bool(gen *g, bool v) {
    uint64_t key = v ? 1 : 0;
    for (int i = 0; i < g->ncache; i++)
        if (g->cache[i].t == CT_BOOL && g->cache[i].bits == key) return g->cache[i].id;
    int id = gen_id(g);
    sb_printf(&g->consts, "%%v%d = OpConstant%s %%bool\n", id, v ? "True" : "False");
    if (g->ncache < GEN_NCONST) {
        g->cache[g->ncache].t = CT_BOOL;
        g->cache[g->ncache].bits = key;
        g->cache[g->ncache].id = id;
        g->ncache++;
    }
    return id;
}

static int gen_opv(gen *g, const char *prefix, const char *op, ct t, int n, va_list ap) {
    int id = gen_id(g);
    gen_use(g, t);
    sb_printf(&g->body, "%%v%d = %s %%%s%s", id, op, ct_name[t], prefix);
    for (int i = 0; i < n; i++) sb_printf(&g->body, " %%v%d", va_arg(ap, int));
    sb_printf(&g->body, "\n");
    return id;
}

int gen_op(gen *g, const char *op, ct t, int n, ...) {
    va_list ap;
    va_start(ap, n);
    int id = gen_opv(g, "", op, t, n, ap);
    va_end(ap);
    return id;
}

int gen_glsl(gen *g, const char *fn, ct t, int n, ...) {
    char prefix[64];
    va_list ap;
    g->glsl = true;
    snprintf(prefix, sizeof prefix, " %%glsl %s", fn);
    va_start(ap, n);
    int id = gen_opv(g, prefix, "OpExtInst", t, n, ap);
    va_end(ap);
    return id;
}

int gen_fvar(gen *g, ct t) {
    int id = gen_id(g);
    gen_use(g, t);
    sb_printf(&g->fvars, "%%v%d = OpVariable %%pf_%s Function\n", id, ct_name[t]);
    return id;
}

int gen_select(gen *g, ct t, int cond, int a, int b) { return gen_op(g, "OpSelect", t, 3, cond, a, b); }

/* Numeric conversion between computation types (bool excluded). */
int gen_convert(gen *g, ct to, ct from, bool from_signed, bool to_signed, int v) {
    if (to == from) return v;
    bool fi = ct_is_float(from), ti = ct_is_float(to);
    if (fi && ti) return gen_op(g, "OpFConvert", to, 1, v);
    if (fi) return gen_op(g, to_signed ? "OpConvertFToS" : "OpConvertFToU", to, 1, v);
    if (ti) return gen_op(g, from_signed ? "OpConvertSToF" : "OpConvertUToF", to, 1, v);
    if (ct_bits(to) < ct_bits(from)) return gen_op(g, "OpUConvert", to, 1, v);
    return gen_op(g, from_signed ? "OpSConvert" : "OpUConvert", to, 1, v);
}
