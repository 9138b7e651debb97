/* tests/ref/test_ref_kernels.c -- the kernel IR in ref: views (negative,
 * zero and offset strides, masks, view stacks), reductions with stages
 * before and after, empty reductions, 0-size and 0-dim kernels, several
 * STOREs, reduction accuracy and identities, and malformed kernels that must
 * fail cleanly. Expected values are worked out by hand in the comments. */
#include <stdint.h>

#include "ref_harness.h"

static const int64_t S1[1] = {1};

/* One LOAD through views[first..] of a float32 buffer of n, stored to a
 * contiguous output of shape (ndim, shape). */
static tg_status copy_through(refh *r, kb *b, uint32_t first, uint32_t nviews, const float *in, int64_t n,
                              float *out) {
    tg_view top = b->views[first + nviews - 1];
    uint32_t pin = kb_param(b, TG_FLOAT32, TG_ACCESS_READ, n);
    int64_t count = 1;
    for (uint32_t d = 0; d < top.ndim; d++) count *= top.shape[d];
    uint32_t pout = kb_param(b, TG_FLOAT32, TG_ACCESS_WRITE, count);
    uint32_t vout = kb_view(b, top.ndim, top.shape, NULL, 0);
    int32_t ld = kb_load(b, TG_FLOAT32, pin, first, nviews);
    kb_store(b, TG_FLOAT32, pout, vout, ld);
    void *host[2] = {(void *)in, out};
    return refh_run(r, &b->k, host);
}

static int feq(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static void test_views(refh *r) {
    const float in[8] = {10, 11, 12, 13, 14, 15, 16, 17};
    float out[16];
    kb b;

    /* FLIP: shape 5, stride -1, offset 4 -> 14 13 12 11 10 */
    int64_t s5[1] = {5}, m1[1] = {-1};
    kb_init(&b, 1, s5, 0);
    uint32_t v = kb_view(&b, 1, s5, m1, 4);
    float flip[5] = {14, 13, 12, 11, 10};
    tap_ok(copy_through(r, &b, v, 1, in, 5, out) == TG_OK && feq(out, flip, 5), "negative stride (FLIP)");

    /* PERMUTE of a 2x3 row-major buffer: shape (3,2), strides (1,3) */
    int64_t s32[2] = {3, 2}, t13[2] = {1, 3};
    kb_init(&b, 2, s32, 0);
    v = kb_view(&b, 2, s32, t13, 0);
    float perm[6] = {10, 13, 11, 14, 12, 15};
    tap_ok(copy_through(r, &b, v, 1, in, 6, out) == TG_OK && feq(out, perm, 6), "transposed view (PERMUTE)");

    /* SHRINK + STRIDE: offset 1, stride 2, shape 3 -> 11 13 15 */
    int64_t s3[1] = {3}, two[1] = {2};
    kb_init(&b, 1, s3, 0);
    v = kb_view(&b, 1, s3, two, 1);
    float strided[3] = {11, 13, 15};
    tap_ok(copy_through(r, &b, v, 1, in, 7, out) == TG_OK && feq(out, strided, 3), "offset and stride 2 (SHRINK, STRIDE)");

    /* EXPAND: shape (2,3), strides (0,1): both rows read 10 11 12 */
    int64_t s23[2] = {2, 3}, t01[2] = {0, 1};
    kb_init(&b, 2, s23, 0);
    v = kb_view(&b, 2, s23, t01, 0);
    float bcast[6] = {10, 11, 12, 10, 11, 12};
    tap_ok(copy_through(r, &b, v, 1, in, 3, out) == TG_OK && feq(out, bcast, 6), "zero stride (EXPAND)");

    /* PAD: shape 6, offset -1, mask [1,4) over a buffer of 3: 0 10 11 12 0 0.
     * The masked points address -1, 3 and 4: outside the buffer, never read. */
    int64_t s6[1] = {6}, lo[1] = {1}, hi[1] = {4};
    kb_init(&b, 1, s6, 0);
    v = kb_view(&b, 1, s6, NULL, -1);
    kb_mask(&b, v, lo, hi);
    float pad[6] = {0, 10, 11, 12, 0, 0};
    tap_ok(copy_through(r, &b, v, 1, in, 3, out) == TG_OK && feq(out, pad, 6), "mask yields 0 and reads nothing (PAD)");

    /* PAD of a flipped 2-D view: shape (3,3) over a 2x2 buffer, strides
     * (2,-1), offset 0, mask [1,3) x [1,3): valid (i,j) reads 2i - j */
    int64_t s33[2] = {3, 3}, t2m1[2] = {2, -1}, lo2[2] = {1, 1}, hi2[2] = {3, 3};
    kb_init(&b, 2, s33, 0);
    v = kb_view(&b, 2, s33, t2m1, 0);
    kb_mask(&b, v, lo2, hi2);
    /* (1,1) = 1 -> 11, (1,2) = 0 -> 10, (2,1) = 3 -> 13, (2,2) = 2 -> 12 */
    float pad2[9] = {0, 0, 0, 0, 11, 10, 0, 13, 12};
    tap_ok(copy_through(r, &b, v, 1, in, 4, out) == TG_OK && feq(out, pad2, 9), "2-D mask with a negative stride");

    /* View stack of 2: views[0] = transpose (3,2) strides (1,3) of a 2x3
     * buffer; views[1] = reshape to (6). Point k indexes views[0] at
     * (k/2, k%2), address k/2 + 3*(k%2): 10 13 11 14 12 15 */
    kb_init(&b, 1, s6, 0);
    v = kb_view(&b, 2, s32, t13, 0);
    kb_view(&b, 1, s6, NULL, 0);
    tap_ok(copy_through(r, &b, v, 2, in, 6, out) == TG_OK && feq(out, perm, 6), "view stack: reshape of a transpose");

    /* View stack of 3 with masks at two levels:
     *  views[0]: shape 4, offset -1, mask [1,3) over a buffer of 2 -> 0 10 11 0
     *  views[1]: shape (2,2), strides (2,-1), offset 1: (i,j) -> 2i+1-j
     *  views[2]: shape 4 contiguous, mask [0,3)
     * k=0 -> (0,0) -> 1 -> 10;  k=1 -> (0,1) -> 0 -> masked 0;
     * k=2 -> (1,0) -> 3 -> masked 0;  k=3 masked at the top -> 0 */
    int64_t s4[1] = {4}, s22[2] = {2, 2}, t2m[2] = {2, -1}, lo3[1] = {1}, hi3[1] = {3}, lo4[1] = {0}, hi4[1] = {3};
    kb_init(&b, 1, s4, 0);
    v = kb_view(&b, 1, s4, NULL, -1);
    kb_mask(&b, v, lo3, hi3);
    kb_view(&b, 2, s22, t2m, 1);
    uint32_t vt = kb_view(&b, 1, s4, NULL, 0);
    kb_mask(&b, vt, lo4, hi4);
    float stack3[4] = {10, 0, 0, 0};
    tap_ok(copy_through(r, &b, v, 3, in, 2, out) == TG_OK && feq(out, stack3, 4), "view stack of 3 with masks");

    /* The same views, top unmasked: k=3 -> (1,1) -> 2 -> valid below -> 11 */
    b.views[vt].has_mask = 0;
    b.k.nviews = 3, b.k.nnodes = 0, b.k.nparams = 0; /* drop the first run's output view, nodes, params */
    tap_ok(copy_through(r, &b, v, 3, in, 2, out) == TG_OK && out[0] == 10 && out[1] == 0 && out[2] == 0 && out[3] == 11,
           "view stack: masks in a lower view only");

    /* A STORE through a reversed view: out[4-i] = in[i] */
    kb_init(&b, 1, s5, 0);
    uint32_t vin = kb_view(&b, 1, s5, NULL, 0), vrev = kb_view(&b, 1, s5, m1, 4);
    uint32_t pin = kb_param(&b, TG_FLOAT32, TG_ACCESS_READ, 5), pout = kb_param(&b, TG_FLOAT32, TG_ACCESS_WRITE, 5);
    kb_store(&b, TG_FLOAT32, pout, vrev, kb_load(&b, TG_FLOAT32, pin, vin, 1));
    void *host[2] = {(void *)in, out};
    tap_ok(refh_run(r, &b.k, host) == TG_OK && feq(out, flip, 5), "STORE through a negative stride");
}

/* shape (2,3), reduce axis 1:
 *   pre:  y = x*x + 1            (every point of (2,3))
 *   red:  s = sum y              (per row)
 *   post: z = sqrt(s) + c[row]   (every point of (2,1))
 * stores z and s (two outputs).
 * x = [[1,2,3],[0,-1,-2]], c = [10, 20]:
 *   row 0: y = 2,5,10 -> s = 17; row 1: y = 1,2,5 -> s = 8
 *   z = sqrt(17)+10, sqrt(8)+20 */
static void test_stages(refh *r) {
    kb b;
    int64_t shape[2] = {2, 3}, oshape[2] = {2, 1};
    kb_init(&b, 2, shape, 1u << 1);
    uint32_t vin = kb_view(&b, 2, shape, NULL, 0), vout = kb_view(&b, 2, oshape, NULL, 0);
    uint32_t px = kb_param(&b, TG_FLOAT64, TG_ACCESS_READ, 6), pc = kb_param(&b, TG_FLOAT64, TG_ACCESS_READ, 2);
    uint32_t pz = kb_param(&b, TG_FLOAT64, TG_ACCESS_WRITE, 2), ps = kb_param(&b, TG_FLOAT64, TG_ACCESS_WRITE, 2);
    int32_t one = kb_const(&b, TG_FLOAT64, (tg_scalar){.f = 1.0});
    int32_t x = kb_load(&b, TG_FLOAT64, px, vin, 1);
    int32_t y = kb_node(&b, TG_OP_MULACC, TG_FLOAT64, x, x, one);
    int32_t s = kb_node(&b, TG_OP_REDUCE_SUM, TG_FLOAT64, y, -1, -1);
    int32_t q = kb_node(&b, TG_OP_SQRT, TG_FLOAT64, s, -1, -1);
    int32_t c = kb_load(&b, TG_FLOAT64, pc, vout, 1);
    int32_t z = kb_node(&b, TG_OP_ADD, TG_FLOAT64, q, c, -1);
    kb_store(&b, TG_FLOAT64, pz, vout, z);
    kb_store(&b, TG_FLOAT64, ps, vout, s);
    double xs[6] = {1, 2, 3, 0, -1, -2}, cs[2] = {10, 20}, zs[2], ss[2];
    void *host[4] = {xs, cs, zs, ss};
    tap_ok(refh_run(r, &b.k, host) == TG_OK && ss[0] == 17 && ss[1] == 8 && zs[0] == sqrt(17.0) + 10 &&
               zs[1] == sqrt(8.0) + 20,
           "reduction with stages before and after, two STOREs");

    /* reduce axis 0 instead (column sums of y: 3, 7, 15), stored as int32 via CAST */
    int64_t oshape0[2] = {1, 3};
    kb_init(&b, 2, shape, 1u << 0);
    vin = kb_view(&b, 2, shape, NULL, 0);
    vout = kb_view(&b, 2, oshape0, NULL, 0);
    px = kb_param(&b, TG_FLOAT64, TG_ACCESS_READ, 6);
    uint32_t pi = kb_param(&b, TG_INT32, TG_ACCESS_WRITE, 3);
    one = kb_const(&b, TG_FLOAT64, (tg_scalar){.f = 1.0});
    x = kb_load(&b, TG_FLOAT64, px, vin, 1);
    y = kb_node(&b, TG_OP_MULACC, TG_FLOAT64, x, x, one);
    s = kb_node(&b, TG_OP_REDUCE_SUM, TG_FLOAT64, y, -1, -1);
    kb_store(&b, TG_INT32, pi, vout, kb_node(&b, TG_OP_CAST, TG_INT32, s, -1, -1));
    int32_t cols[3];
    void *host2[2] = {xs, cols};
    tap_ok(refh_run(r, &b.k, host2) == TG_OK && cols[0] == 3 && cols[1] == 7 && cols[2] == 15,
           "reduction over axis 0, CAST after it");
}

/* A reduction of one dtype over a 1-D input of n: result in out (1 element). */
static tg_status reduce1(refh *r, uint32_t op, uint32_t dt, int64_t n, const void *in, void *out) {
    kb b;
    int64_t shape[1] = {n};
    kb_init(&b, 1, shape, 1u);
    uint32_t vin = kb_view(&b, 1, shape, NULL, 0), vout = kb_view(&b, 1, S1, NULL, 0);
    uint32_t pin = kb_param(&b, dt, TG_ACCESS_READ, n), pout = kb_param(&b, dt, TG_ACCESS_WRITE, 1);
    int32_t red = kb_node(&b, op, dt, kb_load(&b, dt, pin, vin, 1), -1, -1);
    kb_store(&b, dt, pout, vout, red);
    void *host[2] = {(void *)in, out};
    return refh_run(r, &b.k, host);
}

static void test_reductions(refh *r) {
    /* float32 sum: exact 2, naive float32 left to right gives 1 */
    float f[4] = {1e8f, 1.0f, -1e8f, 1.0f}, fo = 0;
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_FLOAT32, 4, f, &fo) == TG_OK && fo == 2.0f,
           "float32 REDUCE_SUM is the exact sum rounded once (1e8+1-1e8+1 = 2)");
    /* float16: 2048 + 1 + 1 = 2050 (0x6801); f16 accumulation would stay at 2048 */
    uint16_t h[3] = {0x6800, 0x3c00, 0x3c00}, ho = 0;
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_FLOAT16, 3, h, &ho) == TG_OK && ho == 0x6801,
           "float16 REDUCE_SUM accumulates wider: 2048+1+1 = 2050");
    float fn[3] = {1.0f, NAN, 3.0f}, fi[3] = {INFINITY, 1.0f, -INFINITY}, fp[3] = {-INFINITY, 1.0f, -5.0f};
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_FLOAT32, 3, fn, &fo) == TG_OK && isnan(fo), "REDUCE_SUM with a NaN is NaN");
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_FLOAT32, 3, fi, &fo) == TG_OK && isnan(fo), "REDUCE_SUM of inf and -inf is NaN");
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_FLOAT32, 3, fp, &fo) == TG_OK && fo == -INFINITY, "REDUCE_SUM with -inf is -inf");
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_FLOAT32, 3, fn, &fo) == TG_OK && isnan(fo), "REDUCE_MAX with a NaN is NaN");
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_FLOAT32, 3, fp, &fo) == TG_OK && fo == 1.0f, "REDUCE_MAX float32");
    int8_t i8[3] = {100, 100, 1}, i8o = 0;
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_INT8, 3, i8, &i8o) == TG_OK && i8o == -55, "int8 REDUCE_SUM wraps: 201 -> -55");
    int64_t i64[3] = {-5, INT64_MIN, -7}, i64o = 0;
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_INT64, 3, i64, &i64o) == TG_OK && i64o == -5, "int64 REDUCE_MAX");
    uint32_t u32[3] = {5, 0xfffffff0u, 7}, u32o = 0;
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_UINT32, 3, u32, &u32o) == TG_OK && u32o == 0xfffffff0u,
           "uint32 REDUCE_MAX compares unsigned");
    uint8_t bl[4] = {0, 0, 1, 0}, bo = 0;
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_BOOL, 4, bl, &bo) == TG_OK && bo == 1, "bool REDUCE_MAX is any");

    /* empty reductions give the identity */
    float fe = 7;
    int16_t i16e = 7;
    uint8_t u8e = 7, be = 7;
    int32_t i32e = 7;
    double de = 7;
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_FLOAT32, 0, f, &fe) == TG_OK && fe == 0.0f, "empty float32 SUM = 0");
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_FLOAT64, 0, f, &de) == TG_OK && de == -INFINITY, "empty float64 MAX = -inf");
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_INT16, 0, f, &i16e) == TG_OK && i16e == INT16_MIN, "empty int16 MAX = -32768");
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_UINT8, 0, f, &u8e) == TG_OK && u8e == 0, "empty uint8 MAX = 0");
    tap_ok(reduce1(r, TG_OP_REDUCE_MAX, TG_BOOL, 0, f, &be) == TG_OK && be == 0, "empty bool MAX = false");
    tap_ok(reduce1(r, TG_OP_REDUCE_SUM, TG_INT32, 0, f, &i32e) == TG_OK && i32e == 0, "empty int32 SUM = 0");

    /* an empty reduction with a stage after it: shape (2,0), reduce axis 1,
     * out = max(x) + 1 in float32: -inf + 1 = -inf for both rows */
    kb b;
    int64_t shape[2] = {2, 0}, oshape[2] = {2, 1};
    kb_init(&b, 2, shape, 1u << 1);
    uint32_t vin = kb_view(&b, 2, shape, NULL, 0), vout = kb_view(&b, 2, oshape, NULL, 0);
    uint32_t pin = kb_param(&b, TG_FLOAT32, TG_ACCESS_READ, 0), pout = kb_param(&b, TG_FLOAT32, TG_ACCESS_WRITE, 2);
    int32_t red = kb_node(&b, TG_OP_REDUCE_MAX, TG_FLOAT32, kb_load(&b, TG_FLOAT32, pin, vin, 1), -1, -1);
    int32_t sum = kb_node(&b, TG_OP_ADD, TG_FLOAT32, red, kb_const(&b, TG_FLOAT32, (tg_scalar){.f = 1.0}), -1);
    kb_store(&b, TG_FLOAT32, pout, vout, sum);
    float eo[2] = {0, 0};
    void *host[2] = {f, eo};
    tap_ok(refh_run(r, &b.k, host) == TG_OK && eo[0] == -INFINITY && eo[1] == -INFINITY,
           "empty reduction followed by an ADD");
}

static void test_shapes(refh *r) {
    kb b;
    /* 0-size: shape (0,3); nothing stored, buffers of 0 elements */
    int64_t z[2] = {0, 3};
    kb_init(&b, 2, z, 0);
    uint32_t v = kb_view(&b, 2, z, NULL, 0);
    uint32_t pin = kb_param(&b, TG_FLOAT32, TG_ACCESS_READ, 0), pout = kb_param(&b, TG_FLOAT32, TG_ACCESS_WRITE, 0);
    int32_t ld = kb_load(&b, TG_FLOAT32, pin, v, 1);
    kb_store(&b, TG_FLOAT32, pout, v, kb_node(&b, TG_OP_EXP2, TG_FLOAT32, ld, -1, -1));
    float dummy[1];
    void *host[2] = {dummy, dummy};
    tap_ok(refh_run(r, &b.k, host) == TG_OK, "0-size kernel runs and stores nothing");

    /* reduction whose out_shape has a 0: shape (3,0) reduce axis 0 -> (1,0) */
    int64_t z2[2] = {3, 0}, oz[2] = {1, 0};
    kb_init(&b, 2, z2, 1u);
    v = kb_view(&b, 2, z2, NULL, 0);
    uint32_t vo = kb_view(&b, 2, oz, NULL, 0);
    pin = kb_param(&b, TG_INT32, TG_ACCESS_READ, 0);
    pout = kb_param(&b, TG_INT32, TG_ACCESS_WRITE, 0);
    int32_t red = kb_node(&b, TG_OP_REDUCE_SUM, TG_INT32, kb_load(&b, TG_INT32, pin, v, 1), -1, -1);
    kb_store(&b, TG_INT32, pout, vo, red);
    tap_ok(refh_run(r, &b.k, host) == TG_OK, "reduction with a 0 in out_shape stores nothing");

    /* 0-dim kernel: one point; CONSTs of several dtypes stored to scalars */
    kb_init(&b, 0, NULL, 0);
    v = kb_view(&b, 0, NULL, NULL, 0);
    uint32_t p8 = kb_param(&b, TG_INT8, TG_ACCESS_WRITE, 1), pu = kb_param(&b, TG_UINT64, TG_ACCESS_WRITE, 1);
    uint32_t ph = kb_param(&b, TG_FLOAT16, TG_ACCESS_WRITE, 1), pb = kb_param(&b, TG_BOOL, TG_ACCESS_WRITE, 1);
    kb_store(&b, TG_INT8, p8, v, kb_const(&b, TG_INT8, (tg_scalar){.i = -5}));
    kb_store(&b, TG_UINT64, pu, v, kb_const(&b, TG_UINT64, (tg_scalar){.u = UINT64_MAX}));
    int32_t c = kb_const(&b, TG_FLOAT16, (tg_scalar){.f = 0.5});
    kb_store(&b, TG_FLOAT16, ph, v, kb_node(&b, TG_OP_RECIP, TG_FLOAT16, c, -1, -1));
    kb_store(&b, TG_BOOL, pb, v, kb_const(&b, TG_BOOL, (tg_scalar){.i = 1}));
    int8_t o8 = 0;
    uint64_t ou = 0;
    uint16_t oh = 0;
    uint8_t ob = 0;
    void *host4[4] = {&o8, &ou, &oh, &ob};
    tap_ok(refh_run(r, &b.k, host4) == TG_OK && o8 == -5 && ou == UINT64_MAX && oh == 0x4000 && ob == 1,
           "0-dim kernel with four STOREs of CONSTs (int8, uint64, RECIP float16, bool)");

    /* elements no STORE reaches keep their contents: store 2 of 4 */
    int64_t s2[1] = {2};
    kb_init(&b, 1, s2, 0);
    v = kb_view(&b, 1, s2, (const int64_t[]){2}, 1);
    pout = kb_param(&b, TG_INT32, TG_ACCESS_WRITE, 4);
    kb_store(&b, TG_INT32, pout, v, kb_const(&b, TG_INT32, (tg_scalar){.i = 9}));
    tg_program *prog = NULL;
    tg_buffer *buf = NULL;
    int32_t init[4] = {1, 2, 3, 4}, res[4] = {0};
    const tg_plugin_api *a = r->api;
    int ok = a->program_create(r->dev, &b.k, &prog) == TG_OK && a->buffer_create(r->dev, 16, &buf) == TG_OK &&
             a->buffer_write(r->dev, buf, 0, init, 16) == TG_OK && a->program_launch(r->dev, prog, &buf, 1) == TG_OK &&
             a->buffer_read(r->dev, buf, 0, res, 16) == TG_OK;
    tap_ok(ok && res[0] == 1 && res[1] == 9 && res[2] == 3 && res[3] == 9, "STORE writes only its elements");
    a->buffer_destroy(r->dev, buf);
    a->program_destroy(r->dev, prog);
}

/* Malformed launches fail with a message, never crash. */
static void test_errors(refh *r) {
    const tg_plugin_api *a = r->api;
    kb b;
    int64_t s3[1] = {3};
    tg_program *prog = NULL;
#define BASE()                                                                  \
    kb_init(&b, 1, s3, 0);                                                      \
    kb_view(&b, 1, s3, NULL, 0);                                                \
    kb_param(&b, TG_FLOAT32, TG_ACCESS_READ, 3);                                \
    kb_param(&b, TG_FLOAT32, TG_ACCESS_WRITE, 3);                               \
    kb_store(&b, TG_FLOAT32, 1, 0, kb_load(&b, TG_FLOAT32, 0, 0, 1))

    /* kernels that break plugin.h's rules never reach a plugin: the core's
     * validator refuses them (tests/loader/test_kernel.c) */
    /* an address outside the buffer is caught at launch */
    BASE();
    b.views[0].offset = 10;
    float in[3] = {1, 2, 3}, out[3];
    void *host[2] = {in, out};
    tap_ok(refh_run(r, &b.k, host) == TG_ERR_INVALID, "address outside the buffer: %s", a->device_error(r->dev));

    /* a launch with the wrong number of buffers */
    BASE();
    tg_buffer *buf = NULL;
    a->buffer_create(r->dev, 12, &buf);
    int ok = a->program_create(r->dev, &b.k, &prog) == TG_OK;
    tap_ok(ok && a->program_launch(r->dev, prog, &buf, 1) == TG_ERR_INVALID, "launch with 1 of 2 buffers: %s",
           a->device_error(r->dev));
    /* a buffer too small for its param */
    tg_buffer *two[2] = {buf, buf};
    tg_buffer *small = NULL;
    a->buffer_create(r->dev, 4, &small);
    two[1] = small;
    tap_ok(ok && a->program_launch(r->dev, prog, two, 2) == TG_ERR_INVALID, "buffer smaller than count: %s",
           a->device_error(r->dev));
    a->buffer_destroy(r->dev, small);
    a->buffer_destroy(r->dev, buf);
    a->program_destroy(r->dev, prog);
    tap_ok(a->program_create(r->dev, NULL, &prog) == TG_ERR_INVALID, "NULL kernel");
#undef BASE
}

int main(void) {
    refh r;
    if (refh_open(&r)) {
        test_views(&r);
        test_stages(&r);
        test_reductions(&r);
        test_shapes(&r);
        test_errors(&r);
    }
    refh_close(&r);
    return tap_done();
}
