/* tg_kernel_to_string: a kernel as readable text, for TG_DEBUG=3 and for
 * conformance failure reports. Prints whatever it is given, valid or not. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/runtime.h>

typedef struct text {
    char *s;
    size_t len, cap;
    int failed;
} text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...) {
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 256;
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

static void put_dims(text *t, const int64_t *a, uint32_t n) {
    put(t, "[");
    for (uint32_t d = 0; d < n && d < TG_MAX_DIMS; d++) put(t, "%s%" PRId64, d ? ", " : "", a[d]);
    put(t, "]");
}

static void put_view(text *t, uint32_t index, const tg_view *v) {
    put(t, "      v%u: shape ", index);
    put_dims(t, v->shape, v->ndim);
    put(t, " strides ");
    put_dims(t, v->strides, v->ndim);
    put(t, " offset %" PRId64, v->offset);
    if (v->has_mask) {
        put(t, " mask");
        for (uint32_t d = 0; d < v->ndim && d < TG_MAX_DIMS; d++)
            put(t, " [%" PRId64 ",%" PRId64 ")", v->mask_lo[d], v->mask_hi[d]);
    }
    put(t, "\n");
}

static void put_value(text *t, uint32_t dtype, tg_scalar v) {
    if (dtype == TG_FLOAT16 || dtype == TG_BFLOAT16 || dtype == TG_FLOAT32 || dtype == TG_FLOAT64)
        put(t, "%.17g", v.f);
    else if (dtype == TG_UINT8 || dtype == TG_UINT16 || dtype == TG_UINT32 || dtype == TG_UINT64)
        put(t, "%" PRIu64, v.u);
    else
        put(t, "%" PRId64, v.i);
}

char *tg_kernel_to_string(const tg_kernel *k) {
    text t = {0};
    if (!k) {
        put(&t, "kernel (null)\n");
        return t.failed ? (free(t.s), NULL) : t.s;
    }
    put(&t, "kernel %s hash 0x%016" PRIx64 "\n", k->name ? k->name : "(unnamed)", k->hash);
    put(&t, "  shape ");
    put_dims(&t, k->shape, k->ndim);
    if (k->reduce_axes) {
        int64_t out[TG_MAX_DIMS];
        put(&t, " reduce axes {");
        for (uint32_t d = 0, first = 1; d < 32; d++)
            if (k->reduce_axes & (1u << d)) {
                put(&t, "%s%u", first ? "" : ", ", d);
                first = 0;
            }
        for (uint32_t d = 0; d < k->ndim && d < TG_MAX_DIMS; d++)
            out[d] = (k->reduce_axes & (1u << d)) ? 1 : k->shape[d];
        put(&t, "} -> out ");
        put_dims(&t, out, k->ndim);
    }
    put(&t, "\n  params:\n");
    for (uint32_t i = 0; k->params && i < k->nparams; i++) {
        const tg_param *p = &k->params[i];
        put(&t, "    p%u: %s %s count %" PRId64 "\n", i, tg_dtype_name((tg_dtype)p->dtype),
            p->access == TG_ACCESS_READ ? "read" : p->access == TG_ACCESS_WRITE ? "write" : "access?", p->count);
    }
    for (uint32_t i = 0; k->struct_size >= sizeof *k && k->args && i < k->nargs; i++)
        put(&t, "    a%u: %s arg max %" PRId64 "\n", i, tg_dtype_name((tg_dtype)k->args[i].dtype), k->args[i].max);
    for (uint32_t d = 0; k->struct_size >= sizeof *k && d < TG_MAX_DIMS; d++)
        if (k->extent_arg[d]) put(&t, "    axis %u runs to a%u\n", d, k->extent_arg[d] - 1);
    for (uint32_t i = 0; k->struct_size >= sizeof *k && k->offsets && i < k->noffsets; i++)
        put(&t, "    v%u offset += a%u * %" PRId64 "\n", k->offsets[i].view, k->offsets[i].arg, k->offsets[i].stride);
    put(&t, "  nodes:\n");
    for (uint32_t i = 0; k->nodes && i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        put(&t, "    n%u = %s %s", i, tg_op_name((tg_op)n->op), tg_dtype_name((tg_dtype)n->dtype));
        for (int s = 0; s < 3; s++)
            if (n->src[s] >= 0) put(&t, " n%d", n->src[s]);
        if (n->op == TG_OP_CONST) {
            put(&t, " ");
            put_value(&t, n->dtype, n->value);
        }
        if (n->op == TG_OP_ARG) put(&t, " a%u", n->buffer);
        if (n->op != TG_OP_LOAD && n->op != TG_OP_STORE) {
            put(&t, "\n");
            continue;
        }
        put(&t, " p%u views %u..%u\n", n->buffer, n->view, n->view + n->nviews - 1);
        /* Only the views that exist: a node may claim 4 billion of them. */
        uint32_t have = k->views && n->view < k->nviews ? k->nviews - n->view : 0;
        uint32_t first = n->view + have, last = n->view + n->nviews - 1;
        if (n->nviews > have && first == last) put(&t, "      v%u: (out of range)\n", first);
        else if (n->nviews > have)
            put(&t, "      v%u..v%u: (out of range: the kernel has %u views)\n", first, last, k->nviews);
        for (uint32_t v = n->nviews < have ? n->nviews : have; v-- > 0;) put_view(&t, n->view + v, &k->views[n->view + v]);
    }
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
