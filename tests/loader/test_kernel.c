/* tg_kernel_validate on valid kernels and on one broken kernel per rule;
 * tg_kernel_hash; tg_kernel_to_string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tg/runtime.h>
#include "tap.h"

typedef struct kb {
    tg_kernel k;
    tg_node nodes[16];
    tg_view views[8];
    tg_param params[4];
    tg_arg args[4];
    tg_arg_offset offsets[2];
} kb;

static void finish(kb *b, uint32_t nnodes, uint32_t nviews, uint32_t nparams) {
    b->k.struct_size = sizeof b->k;
    b->k.nodes = b->nodes;
    b->k.nnodes = nnodes;
    b->k.views = b->views;
    b->k.nviews = nviews;
    b->k.params = b->params;
    b->k.nparams = nparams;
    b->k.name = "test_kernel";
}

static tg_view view(uint32_t ndim, const int64_t *shape, const int64_t *strides, int64_t offset) {
    tg_view v = {.ndim = ndim, .offset = offset};
    memcpy(v.shape, shape, ndim * sizeof *shape);
    memcpy(v.strides, strides, ndim * sizeof *strides);
    return v;
}

static tg_node node(uint32_t op, uint32_t dtype, int s0, int s1, int s2) {
    return (tg_node){.op = op, .dtype = dtype, .src = {s0, s1, s2}};
}

static tg_node memnode(uint32_t op, uint32_t dtype, int src, uint32_t buffer, uint32_t view) {
    return (tg_node){.op = op, .dtype = dtype, .src = {src, -1, -1}, .buffer = buffer, .view = view, .nviews = 1};
}

/* sum(x * 2, axis 1) over a [4, 3] float32 input: the base of most cases.
 * n0 LOAD p0 v0, n1 CONST 2, n2 MUL, n3 REDUCE_SUM, n4 STORE p1 v1. */
static void make_reduce(kb *b) {
    memset(b, 0, sizeof *b);
    b->k.ndim = 2;
    b->k.shape[0] = 4, b->k.shape[1] = 3;
    b->k.reduce_axes = 1u << 1;
    b->params[0] = (tg_param){TG_FLOAT32, TG_ACCESS_READ, 12};
    b->params[1] = (tg_param){TG_FLOAT32, TG_ACCESS_WRITE, 4};
    b->views[0] = view(2, (int64_t[]){4, 3}, (int64_t[]){3, 1}, 0);
    b->views[1] = view(2, (int64_t[]){4, 1}, (int64_t[]){1, 0}, 0);
    b->nodes[0] = memnode(TG_OP_LOAD, TG_FLOAT32, -1, 0, 0);
    b->nodes[1] = node(TG_OP_CONST, TG_FLOAT32, -1, -1, -1);
    b->nodes[1].value.f = 2.0;
    b->nodes[2] = node(TG_OP_MUL, TG_FLOAT32, 0, 1, -1);
    b->nodes[3] = node(TG_OP_REDUCE_SUM, TG_FLOAT32, 2, -1, -1);
    b->nodes[4] = memnode(TG_OP_STORE, TG_FLOAT32, 3, 1, 1);
    finish(b, 5, 2, 2);
}

/* out = op(a[, b[, c]]) over shape [5]; every operand a LOAD of `src` dtype
 * (WHERE: a is bool), the result `dst`. Params: one per operand, then out. */
static void make_elementwise(kb *b, uint32_t op, uint32_t src, uint32_t dst, int arity) {
    memset(b, 0, sizeof *b);
    b->k.ndim = 1;
    b->k.shape[0] = 5;
    b->views[0] = view(1, (int64_t[]){5}, (int64_t[]){1}, 0);
    for (int i = 0; i < arity; i++) {
        uint32_t dt = op == TG_OP_WHERE && i == 0 ? TG_BOOL : src;
        b->params[i] = (tg_param){dt, TG_ACCESS_READ, 5};
        b->nodes[i] = memnode(TG_OP_LOAD, dt, -1, (uint32_t)i, 0);
    }
    b->params[arity] = (tg_param){dst, TG_ACCESS_WRITE, 5};
    b->nodes[arity] = node(op, dst, 0, arity > 1 ? 1 : -1, arity > 2 ? 2 : -1);
    b->nodes[arity + 1] = memnode(TG_OP_STORE, dst, arity, (uint32_t)arity, 0);
    finish(b, (uint32_t)arity + 2, 1, (uint32_t)arity + 1);
}

static tg_caps all_caps(void) {
    return (tg_caps){.struct_size = sizeof(tg_caps), .dtypes = (1u << TG_DTYPE_COUNT) - 1,
                     .fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT |
                               TG_FUSE_MULTI_OUTPUT,
                     .max_view_depth = 4};
}

/* Validate b (hash refreshed) and expect `want` with `part` in the message. */
static void expect(kb *b, const tg_caps *caps, tg_status want, const char *part, const char *what) {
    b->k.hash = tg_kernel_hash(&b->k);
    tg_status st = tg_kernel_validate(&b->k, caps);
    const char *msg = st ? tg_last_error() : "";
    if (!tap_ok(st == want && strstr(msg, part), "%s -> %s", what, tg_status_name(want)))
        tap_diag("got %s: %s", tg_status_name(st), msg);
}

static void test_rules(void) {
    kb b;
    tg_caps caps = all_caps();
    make_reduce(&b);
    expect(&b, NULL, TG_OK, "", "valid reduce kernel, no caps");
    expect(&b, &caps, TG_OK, "", "valid reduce kernel, every cap");
    make_reduce(&b);
    b.k.hash ^= 1;
    tap_ok(tg_kernel_validate(&b.k, NULL) == TG_ERR_INVALID && strstr(tg_last_error(), "hash"), "stale hash");
    tap_ok(tg_kernel_validate(NULL, NULL) == TG_ERR_INVALID, "NULL kernel");

    /* Header and params. */
    make_reduce(&b), b.k.struct_size = 8, expect(&b, NULL, TG_ERR_INVALID, "struct_size", "small struct_size");
    make_reduce(&b), b.k.ndim = 9, expect(&b, NULL, TG_ERR_INVALID, "ndim 9", "ndim past TG_MAX_DIMS");
    /* Views that no LOAD/STORE uses are still checked: a plugin may walk them all. */
    make_reduce(&b), b.views[2] = b.views[0], b.views[2].ndim = 64, b.k.nviews = 3;
    expect(&b, NULL, TG_ERR_INVALID, "view 2: ndim 64", "an unused view with 64 dims");
    make_reduce(&b), b.views[2] = b.views[0], b.views[2].shape[1] = -3, b.k.nviews = 3;
    expect(&b, NULL, TG_ERR_INVALID, "view 2: shape[1]", "an unused view with a negative size");
    make_reduce(&b), b.views[1].strides[1] = INT64_MIN;
    expect(&b, NULL, TG_ERR_INVALID, "INT64_MIN", "a STORE view with stride INT64_MIN");
    make_reduce(&b), b.views[0].strides[0] = INT64_MIN;
    expect(&b, NULL, TG_ERR_INVALID, "INT64_MIN", "a LOAD view with stride INT64_MIN");
    {
        tg_caps small = all_caps();
        small.max_buffer_bytes = 1024;
        make_reduce(&b), b.params[0].dtype = TG_FLOAT64, b.params[0].count = (int64_t)1 << 61;
        b.nodes[0].dtype = b.nodes[1].dtype = b.nodes[2].dtype = b.nodes[3].dtype = b.nodes[4].dtype = TG_FLOAT64;
        b.params[1].dtype = TG_FLOAT64;
        expect(&b, &small, TG_ERR_INVALID, "overflows", "a 2^61-element float64 buffer (2^64 bytes)");
        make_reduce(&b), b.params[0].count = (int64_t)1 << 40;
        expect(&b, &small, TG_ERR_UNSUPPORTED, "largest buffer is 1024", "a 2^40-element buffer past a 1 KiB limit");
    }
    make_reduce(&b), b.k.shape[0] = -1, expect(&b, NULL, TG_ERR_INVALID, "shape[0]", "negative shape");
    make_reduce(&b), b.k.reduce_axes = 1u << 2, expect(&b, NULL, TG_ERR_INVALID, "reduce_axes", "axis past ndim");
    make_reduce(&b), b.k.nnodes = 0, expect(&b, NULL, TG_ERR_INVALID, "no nodes", "no nodes");
    make_reduce(&b), b.k.name = "bad-name", expect(&b, NULL, TG_ERR_INVALID, "name", "name charset");
    make_reduce(&b), b.k.name = NULL, expect(&b, NULL, TG_ERR_INVALID, "no name", "no name");
    make_reduce(&b), b.params[0].access = 3, expect(&b, NULL, TG_ERR_INVALID, "param 0: access", "access flags");
    make_reduce(&b), b.params[0].count = -1, expect(&b, NULL, TG_ERR_INVALID, "param 0: count", "negative count");
    make_reduce(&b), b.params[0].dtype = 99, expect(&b, NULL, TG_ERR_INVALID, "param 0: dtype", "param dtype");

    /* Nodes: op, dtype, operands. */
    make_reduce(&b), b.nodes[2].op = TG_OP_PERMUTE, expect(&b, NULL, TG_ERR_INVALID, "node 2: op 19", "movement op");
    make_reduce(&b), b.nodes[2].op = 40, expect(&b, NULL, TG_ERR_INVALID, "node 2: op 40", "unknown op");
    make_reduce(&b), b.nodes[1].dtype = 13, expect(&b, NULL, TG_ERR_INVALID, "node 1 (CONST): dtype 13", "bad dtype");
    make_reduce(&b), b.nodes[2].src[1] = 2, expect(&b, NULL, TG_ERR_INVALID, "node 2 (MUL): src[1] is 2", "self src");
    make_reduce(&b), b.nodes[2].src[1] = 3, expect(&b, NULL, TG_ERR_INVALID, "earlier node", "forward src");
    make_reduce(&b), b.nodes[2].src[2] = 0, expect(&b, NULL, TG_ERR_INVALID, "must be -1", "extra operand");
    make_reduce(&b), b.nodes[2].src[1] = -1, expect(&b, NULL, TG_ERR_INVALID, "src[1] is -1", "missing operand");
    make_reduce(&b), b.nodes[1].dtype = TG_FLOAT64, b.nodes[1].value.f = 2,
        expect(&b, NULL, TG_ERR_INVALID, "node 2 (MUL): src[1] is float64", "operand dtype mismatch");
    make_reduce(&b), b.nodes[3].dtype = TG_FLOAT64,
        expect(&b, NULL, TG_ERR_INVALID, "node 3 (REDUCE_SUM)", "reduce dtype mismatch");
    make_reduce(&b), b.nodes[5] = node(TG_OP_NEG, TG_FLOAT32, 4, -1, -1), b.k.nnodes = 6,
        expect(&b, NULL, TG_ERR_INVALID, "node 5 (NEG): src[0] is a STORE", "STORE used as a source");
    make_elementwise(&b, TG_OP_CMPLT, TG_INT32, TG_INT32, 2);
    expect(&b, NULL, TG_ERR_INVALID, "must be bool", "CMPLT result not bool");
    make_elementwise(&b, TG_OP_CMPLT, TG_INT32, TG_BOOL, 2), b.params[1].dtype = b.nodes[1].dtype = TG_INT64;
    expect(&b, NULL, TG_ERR_INVALID, "operands of different dtypes", "CMPLT operands differ");
    make_elementwise(&b, TG_OP_WHERE, TG_FLOAT32, TG_FLOAT32, 3), b.params[0].dtype = b.nodes[0].dtype = TG_INT8;
    expect(&b, NULL, TG_ERR_INVALID, "condition src[0] is int8", "WHERE condition not bool");
    make_elementwise(&b, TG_OP_WHERE, TG_FLOAT32, TG_FLOAT32, 3), b.params[2].dtype = b.nodes[2].dtype = TG_FLOAT16;
    expect(&b, NULL, TG_ERR_INVALID, "share one dtype", "WHERE branches differ");
    make_elementwise(&b, TG_OP_CAST, TG_FLOAT32, TG_FLOAT32, 1), b.params[1].dtype = TG_INT8;
    expect(&b, NULL, TG_ERR_INVALID, "node 2 (STORE): dtype float32, param 1 holds int8", "STORE into other dtype");
    make_elementwise(&b, TG_OP_CAST, TG_FLOAT32, TG_UINT8, 1), b.nodes[2].dtype = b.params[1].dtype = TG_INT8;
    expect(&b, NULL, TG_ERR_INVALID, "stores uint8 into a int8 buffer", "STORE src dtype");

    /* CONST values. */
    make_reduce(&b), b.nodes[1].value.f = 0.1,
        expect(&b, NULL, TG_ERR_INVALID, "node 1 (CONST): value", "float32 CONST not rounded");
    make_reduce(&b), b.nodes[1].value.f = 0.1f, expect(&b, NULL, TG_OK, "", "float32 CONST rounded");
    make_reduce(&b), b.nodes[1].value.f = 1e-45, expect(&b, NULL, TG_ERR_INVALID, "CONST", "below float32 subnormal");
    make_reduce(&b), b.nodes[1].value.f = 0x1p-149, expect(&b, NULL, TG_OK, "", "float32 smallest subnormal");
    make_reduce(&b), b.nodes[1].value.f = 1e39, expect(&b, NULL, TG_ERR_INVALID, "CONST", "float32 overflow");
    make_elementwise(&b, TG_OP_ADD, TG_INT8, TG_INT8, 2), b.nodes[1] = node(TG_OP_CONST, TG_INT8, -1, -1, -1),
        b.nodes[1].value.i = 300, expect(&b, NULL, TG_ERR_INVALID, "CONST", "int8 CONST 300");
    b.nodes[1].value.i = -128, expect(&b, NULL, TG_OK, "", "int8 CONST -128");
    make_elementwise(&b, TG_OP_ADD, TG_FLOAT16, TG_FLOAT16, 2), b.nodes[1] = node(TG_OP_CONST, TG_FLOAT16, -1, -1, -1),
        b.nodes[1].value.f = 65504, expect(&b, NULL, TG_OK, "", "float16 CONST 65504");
    b.nodes[1].value.f = 65505, expect(&b, NULL, TG_ERR_INVALID, "CONST", "float16 CONST 65505");
    b.nodes[1].value.f = 0x1p-24, expect(&b, NULL, TG_OK, "", "float16 CONST smallest subnormal");
    b.nodes[1].value.f = 0x1p-25, expect(&b, NULL, TG_ERR_INVALID, "CONST", "float16 CONST below subnormals");
    make_elementwise(&b, TG_OP_MAX, TG_BOOL, TG_BOOL, 2), b.nodes[1] = node(TG_OP_CONST, TG_BOOL, -1, -1, -1),
        b.nodes[1].value.i = 2, expect(&b, NULL, TG_ERR_INVALID, "CONST", "bool CONST 2");

    /* Buffers and access. */
    make_reduce(&b), b.nodes[0].buffer = 1, b.params[1].dtype = TG_FLOAT32,
        expect(&b, NULL, TG_ERR_INVALID, "node 0 (LOAD): param 1 is written", "LOAD of a written param");
    make_reduce(&b), b.nodes[4].buffer = 0, expect(&b, NULL, TG_ERR_INVALID, "node 4 (STORE): param 0 is read-only",
                                                    "STORE to a read param");
    make_reduce(&b), b.nodes[0].buffer = 7, expect(&b, NULL, TG_ERR_INVALID, "buffer 7", "buffer out of range");
    make_reduce(&b), b.params[0].dtype = TG_INT32, expect(&b, NULL, TG_ERR_INVALID, "param 0 holds int32",
                                                          "LOAD dtype differs from param");
    make_reduce(&b), b.k.nnodes = 4, expect(&b, NULL, TG_ERR_INVALID, "no STORE", "no STORE");
    make_reduce(&b), b.params[2] = (tg_param){TG_FLOAT32, TG_ACCESS_WRITE, 4}, b.k.nparams = 3,
        expect(&b, NULL, TG_ERR_INVALID, "param 2: written, but no STORE", "written param never stored");
    make_reduce(&b), b.nodes[5] = memnode(TG_OP_STORE, TG_FLOAT32, 3, 1, 1), b.k.nnodes = 6,
        expect(&b, NULL, TG_ERR_INVALID, "stored by 2 STOREs", "param stored twice");
    make_reduce(&b), b.params[2] = (tg_param){TG_FLOAT32, TG_ACCESS_READ, 0}, b.k.nparams = 3,
        expect(&b, NULL, TG_OK, "", "unused read param");

    /* Reductions and stages. */
    make_reduce(&b), b.nodes[4] = node(TG_OP_REDUCE_MAX, TG_FLOAT32, 3, -1, -1),
        b.nodes[5] = memnode(TG_OP_STORE, TG_FLOAT32, 4, 1, 1), b.k.nnodes = 6,
        expect(&b, NULL, TG_ERR_INVALID, "node 4 (REDUCE_MAX): a second reduction", "two reductions");
    make_elementwise(&b, TG_OP_NEG, TG_FLOAT32, TG_FLOAT32, 1), b.k.reduce_axes = 1,
        expect(&b, NULL, TG_ERR_INVALID, "no node reduces", "reduce_axes without a reduction");
    make_reduce(&b), b.nodes[4] = node(TG_OP_ADD, TG_FLOAT32, 3, 2, -1),
        b.nodes[5] = memnode(TG_OP_STORE, TG_FLOAT32, 4, 1, 1), b.k.nnodes = 6,
        expect(&b, NULL, TG_ERR_INVALID, "node 4 (ADD): src[1] is node 2, which feeds the reduction",
               "post-reduce node reads the input cone");
    make_reduce(&b), b.nodes[4] = node(TG_OP_ADD, TG_FLOAT32, 3, 1, -1),
        b.nodes[5] = memnode(TG_OP_STORE, TG_FLOAT32, 4, 1, 1), b.k.nnodes = 6,
        expect(&b, NULL, TG_OK, "", "CONST shared by both stages");
    make_reduce(&b), b.nodes[4] = memnode(TG_OP_LOAD, TG_FLOAT32, -1, 2, 1), b.params[2] = (tg_param){TG_FLOAT32, TG_ACCESS_READ, 4},
        b.nodes[5] = node(TG_OP_ADD, TG_FLOAT32, 3, 4, -1), b.nodes[6] = memnode(TG_OP_STORE, TG_FLOAT32, 5, 1, 1),
        b.k.nnodes = 7, b.k.nparams = 3, expect(&b, NULL, TG_OK, "", "LOAD after the reduction has out_shape");
    b.nodes[4].view = 0, expect(&b, NULL, TG_ERR_INVALID, "node 4 (LOAD): top view's shape[1] is 3, out_shape has 1",
                                "LOAD after the reduction with the input shape");
    make_reduce(&b), b.nodes[0].view = 1,
        expect(&b, NULL, TG_ERR_INVALID, "node 0 (LOAD): top view's shape[1] is 1, the kernel's shape has 3",
               "cone LOAD with out_shape");
    make_reduce(&b), b.nodes[4].view = 0, expect(&b, NULL, TG_ERR_INVALID, "node 4 (STORE): top view's shape[1]",
                                                  "STORE of the input shape");
    make_reduce(&b), b.views[0].ndim = 1, expect(&b, NULL, TG_ERR_INVALID, "top view has 1 dims", "view rank");

    /* Views. */
    make_reduce(&b), b.nodes[0].view = 5, expect(&b, NULL, TG_ERR_INVALID, "outside the kernel's 2 views", "view index");
    make_reduce(&b), b.nodes[0].nviews = 0, expect(&b, NULL, TG_ERR_INVALID, "nviews is 0", "empty stack");
    make_reduce(&b), b.params[0].count = 11, expect(&b, NULL, TG_ERR_INVALID, "view 0 reaches addresses [0, 11], outside [0, 11)",
                                                     "LOAD past the buffer's end");
    make_reduce(&b), b.views[0].strides[1] = -1, expect(&b, NULL, TG_ERR_INVALID, "[-2, 9]", "negative address");
    make_reduce(&b), b.views[0].strides[1] = -1, b.views[0].offset = 2, expect(&b, NULL, TG_OK, "", "flipped view");
    make_reduce(&b), b.views[0].strides[0] = 0, expect(&b, NULL, TG_OK, "", "expanded (stride 0) LOAD");
    /* Padding: offset -1 would read index -1 at point (0,0), masked out. */
    make_reduce(&b), b.views[0].offset = -1, expect(&b, NULL, TG_ERR_INVALID, "[-1, 10]", "unmasked pad");
    b.views[0].has_mask = 1, b.views[0].mask_lo[1] = 1, b.views[0].mask_hi[0] = 4, b.views[0].mask_hi[1] = 3;
    expect(&b, NULL, TG_OK, "", "masked pad");
    b.views[0].mask_hi[1] = 4, expect(&b, NULL, TG_ERR_INVALID, "mask [1, 4) on dim 1", "mask past the shape");
    b.views[0].mask_hi[1] = 1, expect(&b, NULL, TG_OK, "", "empty mask reaches nothing");
    make_reduce(&b), b.views[0].shape[0] = -4, b.k.shape[0] = -4, expect(&b, NULL, TG_ERR_INVALID, "< 0", "negative view dim");
    /* A stack: [4, 3] reshaped from a flat [12] view of the buffer. */
    make_reduce(&b), b.views[2] = b.views[1], b.views[1] = b.views[0];
    b.views[0] = view(1, (int64_t[]){12}, (int64_t[]){1}, 0), b.k.nviews = 3, b.nodes[0].nviews = 2, b.nodes[4].view = 2;
    expect(&b, NULL, TG_OK, "", "stack of two views");
    expect(&b, &caps, TG_OK, "", "stack of two views, max_view_depth 4");
    caps.max_view_depth = 0;
    expect(&b, &caps, TG_ERR_UNSUPPORTED, "a stack of 2 views, the device takes 1", "stack deeper than the device takes");
    caps = all_caps();
    b.views[0].shape[0] = 10, expect(&b, NULL, TG_ERR_INVALID, "view 1 reaches addresses [0, 11], outside [0, 10) of the view below",
                                     "upper view past the lower view");
    b.views[0].shape[0] = 12, b.views[0].offset = 1,
        expect(&b, NULL, TG_ERR_INVALID, "view 0 reaches addresses [1, 12], outside [0, 12) of its buffer", "lower view past the buffer");

    /* Store views. */
    make_reduce(&b), b.views[1].has_mask = 1, b.views[1].mask_hi[0] = 4, b.views[1].mask_hi[1] = 1,
        expect(&b, NULL, TG_ERR_INVALID, "store view 1 has a mask", "masked STORE");
    make_elementwise(&b, TG_OP_NEG, TG_FLOAT32, TG_FLOAT32, 1), b.views[1] = view(1, (int64_t[]){5}, (int64_t[]){0}, 0),
        b.nodes[2].view = 1, b.k.nviews = 2, expect(&b, NULL, TG_ERR_INVALID, "not one-to-one", "STORE with stride 0");
    b.views[1].strides[0] = -1, b.views[1].offset = 4, expect(&b, NULL, TG_OK, "", "flipped STORE");
    make_elementwise(&b, TG_OP_NEG, TG_FLOAT32, TG_FLOAT32, 1), b.k.ndim = 2, b.k.shape[0] = 2, b.k.shape[1] = 3;
    b.params[0].count = b.params[1].count = 6;
    b.views[0] = view(2, (int64_t[]){2, 3}, (int64_t[]){3, 1}, 0), expect(&b, NULL, TG_OK, "", "2-d elementwise");
    b.views[1] = view(2, (int64_t[]){2, 3}, (int64_t[]){2, 1}, 0), b.nodes[2].view = 1, b.k.nviews = 2;
    expect(&b, NULL, TG_ERR_INVALID, "not one-to-one", "STORE with overlapping rows");
    b.views[1] = view(2, (int64_t[]){2, 3}, (int64_t[]){1, 2}, 0), expect(&b, NULL, TG_OK, "", "transposed STORE");
    make_elementwise(&b, TG_OP_NEG, TG_FLOAT32, TG_FLOAT32, 1), b.k.ndim = 0, b.views[0].ndim = 0;
    b.views[0].offset = 4, expect(&b, NULL, TG_OK, "", "scalar (0-d) kernel");
    b.views[0].offset = 5, expect(&b, NULL, TG_ERR_INVALID, "[5, 5]", "scalar view past the buffer");
    make_elementwise(&b, TG_OP_NEG, TG_FLOAT32, TG_FLOAT32, 1), b.k.shape[0] = 0, b.views[0].shape[0] = 0;
    b.params[0].count = b.params[1].count = 0, expect(&b, NULL, TG_OK, "", "empty kernel on empty buffers");

    /* Caps. */
    make_reduce(&b);
    caps.dtypes = 1u << TG_FLOAT64, expect(&b, &caps, TG_ERR_UNSUPPORTED, "does not support float32", "dtype not in caps");
    caps = all_caps(), caps.max_dims = 1, expect(&b, &caps, TG_ERR_UNSUPPORTED, "the device takes 1", "max_dims");
    caps = all_caps(), caps.max_nodes = 4, expect(&b, &caps, TG_ERR_UNSUPPORTED, "5 nodes", "max_nodes");
    caps = all_caps(), caps.max_params = 1, expect(&b, &caps, TG_ERR_UNSUPPORTED, "2 params", "max_params");
    caps = all_caps(), caps.max_buffer_bytes = 40, expect(&b, &caps, TG_ERR_UNSUPPORTED, "48 bytes", "max_buffer_bytes");
    caps = all_caps(), caps.fusion = TG_FUSE_ELEMENTWISE,
        expect(&b, &caps, TG_ERR_UNSUPPORTED, "before the reduction", "no reduce-input fusion");
    make_reduce(&b), b.nodes[2] = node(TG_OP_REDUCE_SUM, TG_FLOAT32, 0, -1, -1),
        b.nodes[3] = node(TG_OP_MUL, TG_FLOAT32, 2, 1, -1);
    expect(&b, &caps, TG_ERR_UNSUPPORTED, "after the reduction", "no reduce-output fusion");
    caps.fusion = 0, make_elementwise(&b, TG_OP_ADD, TG_FLOAT32, TG_FLOAT32, 2);
    expect(&b, &caps, TG_OK, "", "one op per kernel without fusion");
    b.nodes[4] = b.nodes[3], b.nodes[3] = node(TG_OP_NEG, TG_FLOAT32, 2, -1, -1), b.nodes[4].src[0] = 3, b.k.nnodes = 5;
    expect(&b, &caps, TG_ERR_UNSUPPORTED, "elementwise", "a chain without elementwise fusion");
    caps = all_caps(), caps.fusion &= ~(uint32_t)TG_FUSE_MULTI_OUTPUT;
    b.params[3] = (tg_param){TG_FLOAT32, TG_ACCESS_WRITE, 5}, b.nodes[5] = memnode(TG_OP_STORE, TG_FLOAT32, 2, 3, 0);
    b.k.nnodes = 6, b.k.nparams = 4, expect(&b, &caps, TG_ERR_UNSUPPORTED, "2 STOREs", "multi-output without the cap");
    caps = all_caps(), expect(&b, &caps, TG_OK, "", "multi-output with the cap");
}

/* Which dtypes each op is defined on, as sdk/docs/OPS.md lists them. */
static int op_defined(uint32_t op, uint32_t dt) {
    int is_bool = dt == TG_BOOL, is_float = dt >= TG_FLOAT16 && dt <= TG_FLOAT64;
    switch (op) {
    case TG_OP_EXP2: case TG_OP_LOG2: case TG_OP_SQRT: case TG_OP_RECIP: case TG_OP_SIN: return is_float;
    case TG_OP_CAST: case TG_OP_CMPLT: case TG_OP_MAX: case TG_OP_MUL: case TG_OP_WHERE: return 1;
    default: return !is_bool; /* NEG ADD SUB DIV MOD MULACC */
    }
}

static void test_op_dtypes(void) {
    int wrong = 0, checked = 0;
    for (uint32_t op = 0; op <= TG_OP_MULACC; op++)
        for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) {
            kb b;
            int arity = op <= TG_OP_CAST ? 1 : op <= TG_OP_CMPLT ? 2 : 3;
            make_elementwise(&b, op, dt, op == TG_OP_CMPLT ? TG_BOOL : dt, arity);
            b.k.hash = tg_kernel_hash(&b.k);
            tg_status st = tg_kernel_validate(&b.k, NULL);
            int want = op_defined(op, dt);
            if ((st == TG_OK) != want) {
                wrong++;
                tap_diag("%s on %s: %s (%s)", tg_op_name((tg_op)op), tg_dtype_name((tg_dtype)dt),
                         tg_status_name(st), tg_last_error());
            }
            checked++;
        }
    tap_ok(wrong == 0 && checked == 16 * 13, "every op x dtype accepted exactly where OPS.md defines it");
    kb b;
    make_elementwise(&b, TG_OP_CAST, TG_FLOAT16, TG_UINT64, 1), expect(&b, NULL, TG_OK, "", "CAST float16 -> uint64");
    make_elementwise(&b, TG_OP_CAST, TG_BOOL, TG_BFLOAT16, 1), expect(&b, NULL, TG_OK, "", "CAST bool -> bfloat16");
    make_reduce(&b), b.params[0].dtype = b.params[1].dtype = TG_BOOL;
    for (int i = 0; i < 5; i++) b.nodes[i].dtype = TG_BOOL;
    b.nodes[1].value.i = 1, b.nodes[3].op = TG_OP_REDUCE_MAX, expect(&b, NULL, TG_OK, "", "REDUCE_MAX (any) on bool");
    b.nodes[3].op = TG_OP_REDUCE_SUM, expect(&b, NULL, TG_ERR_INVALID, "not defined on bool", "REDUCE_SUM on bool");
}

static void test_hash(void) {
    kb a, b;
    make_reduce(&a), make_reduce(&b);
    uint64_t h = tg_kernel_hash(&a.k);
    tap_ok(h == tg_kernel_hash(&b.k), "equal content, equal hash");
    b.k.name = "other", b.k.hash = 12345, b.k.shape[5] = 77, b.nodes[0].value.i = 9, b.nodes[2].buffer = 3;
    b.views[0].mask_lo[0] = 5, b.views[0].strides[4] = 8;
    tap_ok(h == tg_kernel_hash(&b.k), "name, hash and unused fields do not enter the hash");
    int differ = 0, total = 0;
#define DIFFERS(stmt)                                   \
    do {                                                \
        make_reduce(&b);                                \
        stmt;                                           \
        total++;                                        \
        if (tg_kernel_hash(&b.k) != h) differ++;        \
        else tap_diag("same hash after: %s", #stmt);   \
    } while (0)
    DIFFERS(b.k.shape[0] = 5);
    DIFFERS(b.k.ndim = 3);
    DIFFERS(b.k.reduce_axes = 1);
    DIFFERS(b.k.nnodes = 4);
    DIFFERS(b.nodes[2].op = TG_OP_ADD);
    DIFFERS(b.nodes[2].dtype = TG_FLOAT64);
    DIFFERS(b.nodes[2].src[1] = 0);
    DIFFERS(b.nodes[0].buffer = 1);
    DIFFERS(b.nodes[0].view = 1);
    DIFFERS(b.nodes[0].nviews = 2);
    DIFFERS(b.nodes[1].value.f = 3.0);
    DIFFERS(b.nodes[1].value.f = -0.0 * 0 + 2.0000000000000004);
    DIFFERS(b.k.nviews = 1);
    DIFFERS(b.views[0].offset = 1);
    DIFFERS(b.views[0].shape[1] = 2);
    DIFFERS(b.views[0].strides[1] = 2);
    DIFFERS(b.views[0].has_mask = 1);
    DIFFERS(b.views[0].has_mask = 1; b.views[0].mask_hi[1] = 1);
    DIFFERS(b.views[1].ndim = 1);
    DIFFERS(b.k.nparams = 1);
    DIFFERS(b.params[0].dtype = TG_INT32);
    DIFFERS(b.params[0].access = TG_ACCESS_WRITE);
    DIFFERS(b.params[0].count = 13);
#undef DIFFERS
    tap_ok(differ == total, "each of %d field changes changes the hash (%d did)", total, differ);
    kb c;
    make_reduce(&c);
    c.views[0].has_mask = 1, c.views[0].mask_hi[0] = 4, c.views[0].mask_hi[1] = 3;
    make_reduce(&b);
    b.views[0].has_mask = 1, b.views[0].mask_hi[0] = 4, b.views[0].mask_hi[1] = 2;
    tap_ok(tg_kernel_hash(&b.k) != tg_kernel_hash(&c.k), "mask bounds enter the hash");
}

static void test_print(void) {
    kb b;
    make_reduce(&b);
    b.k.hash = tg_kernel_hash(&b.k);
    char *s = tg_kernel_to_string(&b.k);
    int ok = s && strstr(s, "kernel test_kernel") && strstr(s, "shape [4, 3] reduce axes {1} -> out [4, 1]") &&
             strstr(s, "p0: float32 read count 12") && strstr(s, "p1: float32 write count 4") &&
             strstr(s, "n2 = MUL float32 n0 n1") && strstr(s, "n1 = CONST float32 2") &&
             strstr(s, "n4 = STORE float32 n3 p1") && strstr(s, "v0: shape [4, 3] strides [3, 1] offset 0");
    if (!tap_ok(ok, "tg_kernel_to_string shows shape, params, nodes and views") && s) tap_diag("%s", s);
    free(s);
    b.views[0].has_mask = 1, b.views[0].mask_lo[1] = 1, b.views[0].mask_hi[0] = 4, b.views[0].mask_hi[1] = 3;
    b.nodes[0].view = 9;
    s = tg_kernel_to_string(&b.k);
    tap_ok(s && strstr(s, "v9: (out of range)"), "tg_kernel_to_string prints a broken kernel");
    free(s);
    make_reduce(&b);
    b.nodes[0].nviews = 4000000000u; /* claims 4 billion views; the kernel has 2 */
    s = tg_kernel_to_string(&b.k);
    tap_ok(s && strlen(s) < 4096 && strstr(s, "(out of range: the kernel has 2 views)"),
           "a node claiming 4 billion views prints one line for them (%zu bytes)", s ? strlen(s) : 0);
    free(s);
    s = tg_kernel_to_string(NULL);
    tap_ok(s && strstr(s, "null"), "tg_kernel_to_string(NULL)");
    free(s);
}

/* ABI 1.1 arguments: ARG nodes, bounded axes, moving views; binding. */
static void test_args(void) {
    kb b;
    tg_caps caps = all_caps(), with = all_caps();
    with.flags = TG_CAP_ARG_VALUES | TG_CAP_ARG_BOUNDS;
    make_reduce(&b); /* n1 CONST 2 becomes ARG 0 */
    b.k.nargs = 1, b.k.args = b.args;
    b.args[0] = (tg_arg){.dtype = TG_FLOAT32};
    b.nodes[1] = node(TG_OP_ARG, TG_FLOAT32, -1, -1, -1);
    expect(&b, &with, TG_OK, "", "an ARG node on a device that takes them");
    expect(&b, NULL, TG_OK, "", "an ARG node, no caps");
    expect(&b, &caps, TG_ERR_UNSUPPORTED, "takes arguments (ARG nodes)", "an ARG node on a device without them");
    b.nodes[1].buffer = 1;
    expect(&b, NULL, TG_ERR_INVALID, "argument 1 of 1", "an ARG node past nargs");
    b.nodes[1].buffer = 0, b.args[0].dtype = TG_INT32;
    expect(&b, NULL, TG_ERR_INVALID, "not of the node's dtype", "an ARG node of another dtype than its arg");
    b.args[0] = (tg_arg){.dtype = TG_FLOAT32, .max = 3};
    expect(&b, NULL, TG_OK, "", "a float arg with a max (unused) is valid");

    make_reduce(&b); /* the reduced axis runs to arg 0 */
    b.k.nargs = 1, b.k.args = b.args;
    b.args[0] = (tg_arg){.dtype = TG_INT32, .max = 3};
    b.k.extent_arg[1] = 1;
    expect(&b, &with, TG_OK, "", "axis 1 bounded by an int32 arg with max 3");
    expect(&b, &caps, TG_ERR_UNSUPPORTED, "bounded axes", "a bounded axis on a device without them");
    tg_scalar two = {.i = 2}, four = {.i = 4};
    tg_kernel_bound bound;
    b.k.hash = tg_kernel_hash(&b.k);
    tg_status st = tg_kernel_bind(&b.k, &two, TG_CAP_ARG_BOUNDS, &bound);
    tap_ok(st == TG_OK && bound.kernel.shape[1] == 2 && bound.views[0].shape[1] == 2 && bound.views[1].shape[1] == 1 &&
               bound.kernel.extent_arg[1] == 0 && bound.kernel.nargs == 0 && tg_kernel_validate(&bound.kernel, &caps) == TG_OK,
           "bind at 2: the axis and the input's top view end at 2, the store view keeps 1, no argument is left, "
           "valid without caps");
    tg_kernel_bound_free(&bound);
    tap_ok(tg_kernel_bind(&b.k, &four, TG_CAP_ARG_BOUNDS, &bound) == TG_ERR_INVALID &&
               strstr(tg_last_error(), "outside [0, 3]") && tg_kernel_check_args(&b.k, &four) == TG_ERR_INVALID,
           "a value past max is refused at bind and launch: %s", tg_last_error());
    tg_kernel_bound_free(&bound);
    b.args[0].max = 2;
    expect(&b, NULL, TG_ERR_INVALID, "max == shape[1]", "a bounded axis whose arg's max is not its shape");
    b.args[0] = (tg_arg){.dtype = TG_FLOAT32, .max = 3};
    expect(&b, NULL, TG_ERR_INVALID, "must be an integer", "a bounded axis with a float arg");
    b.args[0].dtype = TG_INT32, b.k.extent_arg[1] = 0, b.k.extent_arg[2] = 1;
    expect(&b, NULL, TG_ERR_INVALID, "extent_arg[2]", "extent_arg past ndim");

    make_reduce(&b); /* the input moves by arg 0 through a 15-element buffer */
    b.k.nargs = 1, b.k.args = b.args;
    b.args[0] = (tg_arg){.dtype = TG_UINT8, .max = 3};
    b.params[0].count = 15;
    b.k.noffsets = 1, b.k.offsets = b.offsets;
    b.offsets[0] = (tg_arg_offset){.view = 0, .arg = 0, .stride = 1};
    expect(&b, &with, TG_OK, "", "a LOAD view moving 0..3 inside its buffer");
    b.args[0].max = 4;
    expect(&b, &with, TG_ERR_INVALID, "at its max", "a LOAD view moving past its buffer at max");
    b.args[0].max = 3, b.offsets[0].view = 2;
    b.views[2] = b.views[0], b.k.nviews = 3;
    expect(&b, NULL, TG_ERR_INVALID, "not the first view", "an offset on a view no LOAD or STORE starts with");
    b.offsets[0].view = 0, b.k.noffsets = 2, b.offsets[1] = b.offsets[0];
    expect(&b, NULL, TG_ERR_INVALID, "already moves", "two offsets on one view");

    make_reduce(&b); /* a kernel of ABI 1.0's size still validates */
    b.k.struct_size = (uint32_t)offsetof(tg_kernel, nargs);
    expect(&b, &caps, TG_OK, "", "a kernel with 1.0's struct_size");
    uint64_t h10 = tg_kernel_hash(&b.k);
    b.k.struct_size = sizeof b.k;
    tap_ok(tg_kernel_hash(&b.k) == h10, "a 1.1 kernel without arguments hashes as its 1.0 form");
    b.k.nargs = 1, b.k.args = b.args, b.args[0] = (tg_arg){.dtype = TG_INT32, .max = 3};
    uint64_t h3 = tg_kernel_hash(&b.k);
    b.args[0].max = 2;
    tap_ok(h3 != h10 && tg_kernel_hash(&b.k) != h3, "declared arguments and their max enter the hash");
}

int main(void) {
    test_rules();
    test_args();
    test_op_dtypes();
    test_hash();
    test_print();
    return tap_done();
}
