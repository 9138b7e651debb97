/*
 * tg/tg.h -- the application API: devices, lazy tensors, ops, autograd.
 *
 * Tensors are lazy: an op records a node and returns at once. Work runs when
 * a result is needed (tg_realize, tg_to_host, tg_item, tg_backward, ...):
 * the pending graph is scheduled into as few kernels as the device allows,
 * compiled once per kernel shape (programs are cached) and launched.
 *
 * OWNERSHIP (read this once; it holds for every function below)
 *  - tg_tensor is a reference-counted handle. Every function that returns a
 *    tg_tensor * returns a NEW reference, or NULL on failure.
 *  - Outside any scope the caller owns that reference and drops it with
 *    tg_release(). Inside a scope (tg_scope_begin .. tg_scope_end) the
 *    innermost scope owns it and tg_scope_end drops it, unless it was passed
 *    to tg_keep(), which moves it to the enclosing scope, or to the caller
 *    when there is none. Do not tg_release a scope-owned tensor.
 *  - Ops never consume their inputs: an op takes borrowed pointers, and the
 *    graph keeps its own references to whatever it still needs. Dropping a
 *    tensor that a pending result depends on is always safe.
 *  - tg_retain(t) adds one caller-owned reference (never scope-owned).
 *  - Pointers returned for inspection (shapes, names, grads, caps) are
 *    borrowed; the comment beside each says for how long.
 *  So a training step wrapped in tg_scope_begin/tg_scope_end leaves nothing
 *  behind, and a 1,000-step loop stays flat (see tg_stats_get).
 *
 * ERRORS
 *  - Nothing aborts. A failing op returns NULL and records a status and a
 *    message: tg_last_status() / tg_last_error() (per thread). A shape or
 *    dtype mismatch gives TG_ERR_SHAPE / TG_ERR_DTYPE with a message naming
 *    both shapes, e.g. "add: shapes (2,3) and (4,3) do not broadcast".
 *  - An op given a NULL tensor returns NULL WITHOUT overwriting the first
 *    message, so a chain fails cleanly and reports its first error:
 *        y = tg_relu(tg_add(tg_mul(a, b), c));
 *        if (!y) fprintf(stderr, "%s\n", tg_last_error());
 *  - Functions returning tg_status return TG_OK or an error (message set).
 *    A failed allocation (host or device) is always an error, never TG_OK.
 *    A failure is not sticky: later calls (tg_backward included) succeed or
 *    fail on their own, without tg_clear_error.
 *  - Debug builds (without NDEBUG) detect a tensor used after its last
 *    tg_release, and a second release: the call fails with TG_ERR_INVALID
 *    ("... already released"), within the last 256 releases.
 *
 * SHAPES AND AXES
 *  - Up to TG_MAX_DIMS (8) dims; a 0-d tensor is a scalar. Shapes are passed
 *    as (ndim, const int64_t *shape); TG_SHAPE(2, 3) expands to both.
 *    Sizes are >= 0 and the product of the sizes (size-0 dims counted as 1)
 *    is at most 2^60; other shapes are refused with TG_ERR_SHAPE. Size-0
 *    dims work through every op.
 *  - Axes may be negative (counted from the end); a 0-d tensor takes axis
 *    0 or -1. Axis lists are passed as
 *    (naxes, const int *axes); TG_AXES(0, 2) expands to both; naxes == 0
 *    with axes == NULL means "all axes" for reductions.
 *  - Binary ops broadcast numpy-style (align trailing dims, size-1 dims
 *    stretch). Both operands must have the same dtype (use tg_cast);
 *    The scalar variants (tg_adds, tg_muls, ...) take a double, rounded to
 *    x's dtype.
 *
 * THREADS: one thread at a time per device; scopes, grad mode and the last
 * error are per thread; the tg_stats counters are atomic.
 *
 * FLOATS: NaN propagates through arithmetic, maximum/minimum, max/min and
 * prod; comparisons are IEEE (a NaN operand makes lt, gt, le, ge and eq
 * false and ne true); argmax/argmin give the first NaN, as torch does.
 * float16/bfloat16 sums of products (matmul, linear, conv2d,
 * conv_transpose2d) form and add the products in float32 and round once;
 * tg_sum of those dtypes accumulates at least in float32 (OPS.md).
 * Accuracy targets of the composite float ops (ulp of the result's dtype;
 * results in the subnormal range: within a few of the smallest subnormal),
 * given plugins within OPS.md's bounds for the primitives:
 *  - exp, tanh, sigmoid, softplus, silu, log: 16 ulp at every argument
 *    (exp by a Cody-Waite reduction, tanh through an accurate expm1, so
 *    tanh(1e-8), sigmoid(-100) and softplus(-20) are not 0);
 *  - cos = sin(x + pi/2) with the shift done in float64 for float32 where
 *    the device has float64 (then as SIN), else within ulp(x)/2 absolute;
 *  - pow, prod: 16 ulp where the device has float64 for float32 (they
 *    compute in it); otherwise, and for float64, |log2 result| + 16 ulp;
 *  - float16/bfloat16: exp, cos, pow and prod compute in float32 and
 *    round once.
 * tests/core/test_edge.c holds them at extreme arguments.
 *
 * TG_DEBUG (environment): 1 prints each kernel launched (name, shape, time);
 * 2 adds GFLOP/s and GB/s per kernel and a summary at exit; 3 prints each
 * new kernel's IR; 4 also the plugin's generated source.
 * TG_FAULT_NODE=n (debug builds, for tests): the n-th graph node
 * allocation of the process fails as if out of memory.
 */
#ifndef TG_TG_H
#define TG_TG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tg/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_dev tg_dev;       /* an opened device (plugin + device) */
typedef struct tg_tensor tg_tensor; /* a lazy, ref-counted tensor handle  */

#define TG_SHAPE(...)                                                          \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),           \
        (const int64_t[]) { __VA_ARGS__ }
#define TG_AXES(...)                                                           \
    (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)), (const int[]) { __VA_ARGS__ }
#define TG_ALL_AXES 0, NULL

/* ------------------------------------------------------------- errors */

/* Status of the last failure on this thread (TG_OK if none since
 * tg_clear_error). The message is tg_last_error() from runtime.h. */
tg_status tg_last_status(void);
void tg_clear_error(void);

/* ------------------------------------------------------------ devices */

/* Open device 0 of a plugin by name ("ref", "cpu", "vulkan", ...), by path,
 * or "auto" (tg_plugin_pick_auto). The device is closed when tg_device_close
 * has been called AND the last tensor on it is released. */
tg_status tg_device_open(const char *name, tg_dev **out_dev);
void tg_device_close(tg_dev *dev); /* NULL is a no-op */
/* The plugin name ("ref"); borrowed, valid while dev is open. */
const char *tg_device_name(const tg_dev *dev);
/* The device's capabilities; borrowed, valid while dev is open. */
const tg_caps *tg_device_caps(const tg_dev *dev);
/* A copy of t on dev (realizes t). Returns a new tensor with no gradient
 * link to t. */
tg_tensor *tg_to_device(tg_tensor *t, tg_dev *dev);

/* -------------------------------------------------- references, scopes */

void tg_release(tg_tensor *t);        /* drop a caller-owned reference */
tg_tensor *tg_retain(tg_tensor *t);   /* add a caller-owned reference; returns t */
void tg_scope_begin(void);
/* Drops every reference the innermost scope owns. */
void tg_scope_end(void);
/* Moves t's scope-owned reference out of the innermost scope (to the
 * enclosing scope, or to the caller when there is none); returns t. If t is
 * not owned by the innermost scope, adds a reference owned by the enclosing
 * scope / the caller instead, so the kept tensor always needs exactly one
 * release (or the enclosing scope's end). Outside all scopes it does
 * nothing (the caller owns new tensors already). NULL gives NULL. */
tg_tensor *tg_keep(tg_tensor *t);

/* ----------------------------------------------------------- creation */

/* Copies `data` (ndim/shape elements of dtype, C order, raw bytes). */
tg_tensor *tg_from_data(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape,
                        const void *data);
/* Converts each double to dtype (rounded to nearest even). */
tg_tensor *tg_from_f64(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape,
                       const double *data);
tg_tensor *tg_const(tg_dev *dev, tg_dtype dtype, double value); /* 0-d scalar */
/* A 0-d scalar whose value may change between realizes without compiling
 * anything new (a learning rate, a position): kernels read it as an
 * argument at launch (ABI 1.1; a device without arguments gets it bound in
 * as a constant, one program per value, as tg_const). Reading is lazy: a
 * realize uses the value the variable holds then. tg_variable_set rounds `value` to
 * the dtype (integers must be whole and in range, else TG_ERR_INVALID). */
tg_tensor *tg_variable(tg_dev *dev, tg_dtype dtype, double value);
tg_status tg_variable_set(tg_tensor *variable, double value);
tg_tensor *tg_full(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, double value);
/* Exact for every dtype (int64 past 2^53 too): value is read as plugin.h's
 * tg_scalar says (.i for bool and signed, .u unsigned, .f floats, rounded). */
tg_tensor *tg_full_scalar(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, tg_scalar value);
tg_tensor *tg_zeros(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape);
tg_tensor *tg_ones(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape);
tg_tensor *tg_full_like(tg_tensor *x, double value);
tg_tensor *tg_zeros_like(tg_tensor *x);
tg_tensor *tg_ones_like(tg_tensor *x);
/* start, start+step, ... < stop (> stop for a negative step); 1-d. */
tg_tensor *tg_arange(tg_dev *dev, tg_dtype dtype, double start, double stop, double step);
tg_tensor *tg_eye(tg_dev *dev, tg_dtype dtype, int64_t n); /* n x n identity */
/* Seeded random numbers: element i of the result depends only on (seed, i)
 * (a counter-based hash), so the same seed gives the same numbers on every
 * device. Uniform in [lo, hi); normal with mean 0 and std 1. Float dtypes. */
tg_tensor *tg_rand(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, uint64_t seed);
tg_tensor *tg_uniform(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, double lo,
                      double hi, uint64_t seed);
tg_tensor *tg_randn(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, uint64_t seed);

/* --------------------------------------------------------- inspection */

tg_dtype tg_tensor_dtype(const tg_tensor *t);
int tg_tensor_ndim(const tg_tensor *t);
/* Borrowed; valid while t lives. */
const int64_t *tg_tensor_shape(const tg_tensor *t);
int64_t tg_tensor_dim(const tg_tensor *t, int axis); /* negative axis ok; -1 if bad */
int64_t tg_tensor_numel(const tg_tensor *t);
tg_dev *tg_tensor_device(const tg_tensor *t); /* borrowed */
/* Writes "(2,3,4)" into buf (always terminated); returns buf. */
char *tg_shape_format(int ndim, const int64_t *shape, char *buf, size_t cap);

/* ---------------------------------------------------- realize, to host */

/* Compute t (and everything it needs) now. */
tg_status tg_realize(tg_tensor *t);
/* Realize several tensors in one schedule (shared work is done once). */
tg_status tg_realize_many(size_t n, tg_tensor *const *ts);
/* Copy t's elements (C order, raw dtype bytes) into dst; `bytes` must be
 * numel * dtype size. Realizes t. */
tg_status tg_to_host(tg_tensor *t, void *dst, size_t bytes);
/* Convert to double: `count` must be numel. */
tg_status tg_to_f64(tg_tensor *t, double *dst, size_t count);
/* The single element of a 1-element tensor, as double. */
tg_status tg_item(tg_tensor *t, double *out);
/* Make dst hold src's values (same shape, dtype, device): realizes src and
 * gives dst its buffer. dst keeps its identity, requires_grad and grad, and
 * forgets its own graph. Used by optimisers and running statistics. */
tg_status tg_assign(tg_tensor *dst, tg_tensor *src);
/* A contiguous copy (forces a real buffer of t's shape when realized). */
tg_tensor *tg_contiguous(tg_tensor *x);

/* ------------------------------------------------ elementwise (lazy) */

tg_tensor *tg_add(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_sub(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_mul(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_div(tg_tensor *a, tg_tensor *b); /* ints: truncates toward 0 */
tg_tensor *tg_mod(tg_tensor *a, tg_tensor *b); /* C remainder / fmod */
/* floats; exp2(b*log2|a|) with C99 pow's special cases: x^0 = 1 and
 * 1^y = 1 (even for NaN), (-1)^(+-inf) = 1, (-0)^odd keeps the sign,
 * negative^non-integer = NaN. */
tg_tensor *tg_pow(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_maximum(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_minimum(tg_tensor *a, tg_tensor *b); /* exact on every dtype */
tg_tensor *tg_adds(tg_tensor *x, double v);
tg_tensor *tg_subs(tg_tensor *x, double v);
tg_tensor *tg_rsubs(tg_tensor *x, double v); /* v - x */
tg_tensor *tg_muls(tg_tensor *x, double v);
tg_tensor *tg_divs(tg_tensor *x, double v);
tg_tensor *tg_pows(tg_tensor *x, double v);
tg_tensor *tg_maximums(tg_tensor *x, double v);
tg_tensor *tg_minimums(tg_tensor *x, double v);
tg_tensor *tg_clamp(tg_tensor *x, double lo, double hi);

tg_tensor *tg_neg(tg_tensor *x);
tg_tensor *tg_abs(tg_tensor *x);
tg_tensor *tg_sign(tg_tensor *x);
tg_tensor *tg_recip(tg_tensor *x);
tg_tensor *tg_exp(tg_tensor *x);
tg_tensor *tg_log(tg_tensor *x);
tg_tensor *tg_exp2(tg_tensor *x);
tg_tensor *tg_log2(tg_tensor *x);
tg_tensor *tg_sqrt(tg_tensor *x);
tg_tensor *tg_rsqrt(tg_tensor *x);
tg_tensor *tg_square(tg_tensor *x);
tg_tensor *tg_sin(tg_tensor *x);
tg_tensor *tg_cos(tg_tensor *x);
tg_tensor *tg_tan(tg_tensor *x);
tg_tensor *tg_tanh(tg_tensor *x);
tg_tensor *tg_sigmoid(tg_tensor *x);
tg_tensor *tg_relu(tg_tensor *x); /* gradient 0 at 0, as torch; NaN stays NaN */
tg_tensor *tg_leaky_relu(tg_tensor *x, double slope);
tg_tensor *tg_gelu(tg_tensor *x); /* tanh approximation */
tg_tensor *tg_silu(tg_tensor *x);
tg_tensor *tg_softplus(tg_tensor *x);
/* Floats; computed in the wider dtype, relative error under 3e-8 (so float64
 * gets about 1e-8, not full precision). */
tg_tensor *tg_erf(tg_tensor *x);
tg_tensor *tg_gelu_erf(tg_tensor *x); /* exact: x/2 (1 + erf(x/sqrt 2)), torch's default */

/* Comparisons give TG_BOOL (IEEE with NaN: see FLOATS above). */
tg_tensor *tg_lt(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_gt(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_le(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_ge(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_eq(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_ne(tg_tensor *a, tg_tensor *b);
/* Logical ops take and give TG_BOOL. */
tg_tensor *tg_logical_not(tg_tensor *x);
tg_tensor *tg_logical_and(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_logical_or(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_logical_xor(tg_tensor *a, tg_tensor *b);
/* cond (TG_BOOL) ? a : b, all three broadcast together. */
tg_tensor *tg_where(tg_tensor *cond, tg_tensor *a, tg_tensor *b);
tg_tensor *tg_cast(tg_tensor *x, tg_dtype dtype);

/* ---- more math, bitwise, scans, sorting (issue 17) */

/* Rounding to an integral value in x's dtype (integer dtypes: x itself).
 * NaN, infs and -0 stay, and a zero result keeps x's sign (ceil(-0.5) is
 * -0). round: halves to even, as torch and numpy. No gradient (torch's
 * is 0). frac (floats) = x - trunc(x), gradient 1. */
tg_tensor *tg_floor(tg_tensor *x);
tg_tensor *tg_ceil(tg_tensor *x);
tg_tensor *tg_round(tg_tensor *x);
tg_tensor *tg_trunc(tg_tensor *x);
tg_tensor *tg_frac(tg_tensor *x);
/* Floats; computed in the wider dtype (float64 for float32 where the
 * device has it) and rounded once. NaN outside the domain (asin, acos:
 * |x| > 1; acosh: x < 1; atanh: |x| > 1), +-inf at its edge (atanh(+-1)). */
tg_tensor *tg_asin(tg_tensor *x);
tg_tensor *tg_acos(tg_tensor *x);
tg_tensor *tg_atan(tg_tensor *x);
/* The angle of the point (x, y) in [-pi, pi], with C's atan2 signed zeros
 * and infinities; y and x broadcast and share one float dtype. */
tg_tensor *tg_atan2(tg_tensor *y, tg_tensor *x);
tg_tensor *tg_sinh(tg_tensor *x);
tg_tensor *tg_cosh(tg_tensor *x);
tg_tensor *tg_asinh(tg_tensor *x);
tg_tensor *tg_acosh(tg_tensor *x);
tg_tensor *tg_atanh(tg_tensor *x);
/* TG_BOOL; for a non-float x: false (isnan, isinf), true (isfinite). */
tg_tensor *tg_isnan(tg_tensor *x);
tg_tensor *tg_isinf(tg_tensor *x);
tg_tensor *tg_isfinite(tg_tensor *x);
/* a + w (b - a) as torch.lerp (b - (b - a)(1 - w) from w = 0.5, so w = 1
 * gives b); all three broadcast, floats. */
tg_tensor *tg_lerp(tg_tensor *a, tg_tensor *b, tg_tensor *w);
/* Activations as torch defines them; floats. elu: x > 0 ? x : alpha
 * (exp(x) - 1); celu: the same with exp(x/alpha), alpha != 0; selu: elu
 * with torch's alpha and scale; hardtanh: clamp to [lo, hi] (lo <= hi);
 * relu6 = hardtanh(x, 0, 6); hardsigmoid = relu6(x + 3)/6; hardswish = x
 * hardsigmoid(x); mish = x tanh(softplus(x)); softsign = x/(1 + |x|);
 * logsigmoid = -softplus(-x); quick_gelu = x sigmoid(1.702 x). */
tg_tensor *tg_elu(tg_tensor *x, double alpha);
tg_tensor *tg_celu(tg_tensor *x, double alpha);
tg_tensor *tg_selu(tg_tensor *x);
tg_tensor *tg_hardtanh(tg_tensor *x, double lo, double hi);
tg_tensor *tg_relu6(tg_tensor *x);
tg_tensor *tg_hardsigmoid(tg_tensor *x);
tg_tensor *tg_hardswish(tg_tensor *x);
tg_tensor *tg_mish(tg_tensor *x);
tg_tensor *tg_softsign(tg_tensor *x);
tg_tensor *tg_logsigmoid(tg_tensor *x);
tg_tensor *tg_quick_gelu(tg_tensor *x);

/* Bitwise ops on integer dtypes (two's complement, exact for every value)
 * and bool (logical); both operands one dtype, broadcast. and/or/xor cost
 * one small reduction over the dtype's bits. */
tg_tensor *tg_bitwise_and(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_bitwise_or(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_bitwise_xor(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_bitwise_not(tg_tensor *x);
/* Integer dtypes, by a constant 0 <= n < bits: x << n wraps; x >> n is
 * arithmetic for signed dtypes (floor(x / 2^n), as torch), logical for
 * unsigned. */
tg_tensor *tg_lshift(tg_tensor *x, int n);
tg_tensor *tg_rshift(tg_tensor *x, int n);
/* The same bytes read as another dtype of the same size (float32 <->
 * int32/uint32, float16 <-> int16/bfloat16, ...; not bool): realizes x and
 * copies its memory through the host (not lazy, no gradient), so NaN
 * payloads, -0 and infs are kept exactly. */
tg_tensor *tg_bitcast(tg_tensor *x, tg_dtype dtype);

/* Inclusive scans along one axis (same shape): log2(size) steps of a
 * shifted op, O(size log size) work, memory of a few copies of x. cumsum of
 * bool counts (int32), as tg_sum; integer sums and products wrap; cumprod
 * is a chain of products (zeros and signs exact, as torch); cummax and
 * cummin propagate NaN; logcumsumexp (floats) = log(cumsum(exp(x)))
 * without overflow. Gradients through the ops. */
tg_tensor *tg_cumsum(tg_tensor *x, int axis);
tg_tensor *tg_cumprod(tg_tensor *x, int axis);
tg_tensor *tg_cummax(tg_tensor *x, int axis);
tg_tensor *tg_cummin(tg_tensor *x, int axis);
tg_tensor *tg_logcumsumexp(tg_tensor *x, int axis);
/* Sorted values along axis, and the TG_INT32 indices they came from
 * (either out may be NULL). Stable (equal values keep their index order,
 * torch's stable=True, also when descending); a NaN counts as the largest
 * (last ascending, first descending, as tg_topk). Any dtype; gradient to
 * the values. Ranks by comparing every pair: O(size^2) work along the
 * axis, meant for short axes. */
tg_status tg_sort(tg_tensor *x, int axis, bool descending, tg_tensor **out_values, tg_tensor **out_indices);
tg_tensor *tg_argsort(tg_tensor *x, int axis, bool descending);
/* A random permutation of 0..n-1 (TG_INT32, n < 2^31), made on the host:
 * the same seed gives the same permutation on every device. */
tg_tensor *tg_randperm(tg_dev *dev, int64_t n, uint64_t seed);
/* tg_pad's pads with the border filled from x: reflect (mirror without
 * the edge, pad < size), replicate (the edge repeated, size > 0),
 * circular (wrap around, pad <= size); constant is tg_pad with 0. */
typedef enum tg_pad_kind { TG_PAD_CONSTANT, TG_PAD_REFLECT, TG_PAD_REPLICATE, TG_PAD_CIRCULAR } tg_pad_kind;
tg_tensor *tg_pad_mode(tg_tensor *x, const int64_t *pads, tg_pad_kind mode);

/* ---------------------------------------------------------- reductions */

/* Over the listed axes (naxes == 0: all); keepdim keeps them as size 1.
 * sum of a bool tensor counts (int32); integer sums wrap; mean/var/std/
 * prod/logsumexp need a float dtype. Over an empty axis: sum 0, prod 1,
 * mean/var/std NaN, logsumexp -inf; max, min, argmax and argmin have no
 * value to give and fail with TG_ERR_SHAPE (as numpy), unless the result
 * is empty too. */
tg_tensor *tg_sum(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_mean(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_max(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_min(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_prod(tg_tensor *x, int naxes, const int *axes, bool keepdim); /* floats */
/* correction: 1 for the unbiased (n-1) estimate, 0 for the population one. */
tg_tensor *tg_var(tg_tensor *x, int naxes, const int *axes, bool keepdim, int correction);
tg_tensor *tg_std(tg_tensor *x, int naxes, const int *axes, bool keepdim, int correction);
tg_tensor *tg_logsumexp(tg_tensor *x, int naxes, const int *axes, bool keepdim);
/* The k largest entries along the last axis, largest first (as torch.topk:
 * a NaN counts as the largest; equal values in index order): values
 * (..., k) and their TG_INT32 indices (..., k), 0 <= k <= size. Floats.
 * Costs two reductions per k (meant for a small k, as in sampling). */
tg_status tg_topk(tg_tensor *x, int64_t k, tg_tensor **out_values, tg_tensor **out_indices);
/* Index (TG_INT32) of the first maximum / minimum along one axis. */
tg_tensor *tg_argmax(tg_tensor *x, int axis, bool keepdim);
tg_tensor *tg_argmin(tg_tensor *x, int axis, bool keepdim);

/* ------------------------------------------------ movement (views only) */

/* One entry of shape may be -1 (inferred). */
tg_tensor *tg_reshape(tg_tensor *x, int ndim, const int64_t *shape);
tg_tensor *tg_permute(tg_tensor *x, const int *perm); /* perm has ndim(x) entries */
tg_tensor *tg_transpose(tg_tensor *x, int axis0, int axis1);
/* Size-1 dims stretch; new leading dims may be added. */
tg_tensor *tg_expand(tg_tensor *x, int ndim, const int64_t *shape);
tg_tensor *tg_squeeze(tg_tensor *x, int axis); /* axis must have size 1 */
tg_tensor *tg_unsqueeze(tg_tensor *x, int axis);
tg_tensor *tg_flatten(tg_tensor *x, int start_axis, int end_axis);
/* Python's x[start:stop:step] on one axis (step != 0; negative ok;
 * out-of-range start/stop are clipped as Python does). */
tg_tensor *tg_slice(tg_tensor *x, int axis, int64_t start, int64_t stop, int64_t step);
/* Keep [lo[d], hi[d]) of each dim. */
tg_tensor *tg_shrink(tg_tensor *x, const int64_t *lo, const int64_t *hi);
/* pads[2*d], pads[2*d+1]: elements added before / after dim d; value fills. */
tg_tensor *tg_pad(tg_tensor *x, const int64_t *pads, double value);
tg_tensor *tg_flip(tg_tensor *x, int naxes, const int *axes);
tg_tensor *tg_cat(size_t n, tg_tensor *const *xs, int axis);
tg_tensor *tg_stack(size_t n, tg_tensor *const *xs, int axis);
/* Split into pieces of `size` along axis (the last may be smaller). Writes
 * up to `cap` new tensors to out; returns how many pieces there are (may
 * exceed cap), or -1 on error. */
int tg_split(tg_tensor *x, int axis, int64_t size, tg_tensor **out, int cap);
/* Tile: reps has ndim(x) entries. */
tg_tensor *tg_repeat(tg_tensor *x, const int64_t *reps);
/* out[..i..] = x[.. index[..i..] ..] along axis; index is integer, same
 * ndim as x, other dims no larger than x's (torch.gather).
 * INDEX CHECKS: gather, embedding, cross_entropy and nll realize their
 * index/target tensor at the call and read it back to check that every
 * value lies in [0, size); one outside gives TG_ERR_INVALID naming it (so
 * these calls are not lazy in the index, and cost a device-to-host read). */
tg_tensor *tg_gather(tg_tensor *x, int axis, tg_tensor *index);
/* Moving views: `length` elements of axis from the value of `start`, an
 * integer tg_variable of x's device, read at each launch (the kernel's view
 * offset moves; nothing is compiled per value, and only those elements are
 * read). x itself is read from a buffer (computed first if it is not one).
 * A launch with start outside [0, dim - length] fails with TG_ERR_INVALID
 * naming slice_at and the value. Its gradient pads g at the same start.
 * A device without TG_CAP_ARG_BOUNDS gets the start bound into the kernel
 * by the core: one program per start value. */
tg_tensor *tg_slice_at(tg_tensor *x, int axis, tg_tensor *start, int64_t length);
/* Store src into dst's own buffer at [start, start + src's size) of axis
 * (other dims equal), in one kernel; the rest of dst keeps its contents.
 * dst is realized first (a buffer shared with another tensor is copied
 * first); like tg_assign, dst forgets its graph, and lazy tensors that read
 * dst see the new contents. start is checked at the call. */
tg_status tg_assign_at(tg_tensor *dst, int axis, tg_tensor *start, tg_tensor *src);

/* -------------------------------------------------------- compositions */

/* (..., n, k) @ (..., k, m) with broadcast batch dims; 1-d operands as in
 * numpy. */
tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b);
/* x @ w^T + b, w is (out, in); b may be NULL. */
tg_tensor *tg_linear(tg_tensor *x, tg_tensor *w, tg_tensor *b);

typedef struct tg_conv_opts {
    int stride[2];         /* 0 means 1 */
    int padding[2];
    int dilation[2];       /* 0 means 1 */
    int groups;            /* 0 means 1 */
    int output_padding[2]; /* conv_transpose2d only */
} tg_conv_opts;
/* x (N,Cin,H,W), w (Cout,Cin/groups,kh,kw), bias (Cout) or NULL; opts NULL
 * means stride 1, no padding, dilation 1, one group. */
tg_tensor *tg_conv2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv_opts *opts);
/* w (Cin, Cout/groups, kh, kw), as torch. */
tg_tensor *tg_conv_transpose2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias,
                               const tg_conv_opts *opts);
/* Pools over (N,C,H,W); stride 0 means the kernel size; padding counts as
 * -inf (max) / 0 included in the average (avg). Float dtypes, padding at
 * most half the window (tg_max_pool/tg_avg_pool below). */
tg_tensor *tg_max_pool2d(tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw);
tg_tensor *tg_avg_pool2d(tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw);

tg_tensor *tg_softmax(tg_tensor *x, int axis);
tg_tensor *tg_log_softmax(tg_tensor *x, int axis);
/* logits (N,C), target (N) integer class ids in [0, C); mean over N.
 * Without label smoothing only logits[i, target[i]] and the row's
 * normaliser are read: a -inf logit elsewhere keeps the loss finite; a NaN
 * anywhere in a row makes it NaN (as torch). */
tg_tensor *tg_cross_entropy(tg_tensor *logits, tg_tensor *target, double label_smoothing);
/* The same over logits (..., C) and target (...) (a language model's
 * (B, T, V) and (B, T)), mean over the targets that are not ignore_index;
 * they must lie in [0, C) (pass -1 to ignore none). All ignored: NaN. */
tg_tensor *tg_cross_entropy_ex(tg_tensor *logits, tg_tensor *target, double label_smoothing,
                               int64_t ignore_index);
/* logp (N,C) log-probabilities, target (N); mean of -logp[i, target[i]]
 * (other entries are not read: NaN or -inf there does not matter). */
tg_tensor *tg_nll(tg_tensor *logp, tg_tensor *target);
tg_tensor *tg_mse(tg_tensor *a, tg_tensor *b); /* mean((a-b)^2) */
/* Normalise over the last `naxes` dims; weight/bias shaped like those dims
 * or NULL. */
tg_tensor *tg_layernorm(tg_tensor *x, int naxes, tg_tensor *weight, tg_tensor *bias, double eps);
/* x (N,C,...) normalised per channel. training: batch statistics (biased
 * variance), and running_mean/running_var (if not NULL) are updated with
 * tg_assign using momentum (torch's convention; unbiased var for the
 * running value). Eval: uses the running statistics. weight/bias may be
 * NULL. */
tg_tensor *tg_batchnorm(tg_tensor *x, tg_tensor *weight, tg_tensor *bias,
                        tg_tensor *running_mean, tg_tensor *running_var, bool training,
                        double momentum, double eps);
/* weight (V, D), idx integer of any shape, values in [0, V) -> idx.shape +
 * (D); only the picked rows are read (an inf elsewhere does not spread). */
tg_tensor *tg_embedding(tg_tensor *weight, tg_tensor *idx);
/* Zeroes each element with probability p (mask from seed, as tg_rand) and
 * scales the rest by 1/(1-p). p == 0 returns x (a new reference). */
tg_tensor *tg_dropout(tg_tensor *x, double p, uint64_t seed);
/* num_samples draws (with replacement) from each row of probs (..., n),
 * weights >= 0 not necessarily summing to 1 -> TG_INT32 (..., num_samples).
 * Seeded as tg_rand (the same seed gives the same draws on every device;
 * a new seed compiles nothing new). A row with a negative, NaN or inf weight
 * or summing to 0 gives -1. */
tg_tensor *tg_multinomial(tg_tensor *probs, int64_t num_samples, uint64_t seed);
/* q (..., Lq, D), k (..., Lk, D), v (..., Lk, Dv); mask (bool, true = keep,
 * broadcast to (..., Lq, Lk)) or NULL; causal masks j > i. */
tg_tensor *tg_sdpa(tg_tensor *q, tg_tensor *k, tg_tensor *v, tg_tensor *mask, bool causal);

/* ---- indexing writes, einsum, interpolation, N-d convolution and pooling (issue 17) */

/* Indexing writes return a new tensor (x is not changed). scatter,
 * scatter_reduce and index_add check their index as gather does (INDEX
 * CHECKS above: realized and read back at the call). */
typedef enum tg_scatter_op {
    TG_SCATTER_SUM, TG_SCATTER_PROD, TG_SCATTER_MEAN, TG_SCATTER_AMAX, TG_SCATTER_AMIN
} tg_scatter_op;
/* out = x, then out[.. index[p] ..] = src[p] along axis (torch.scatter):
 * index integer, same ndim as x and src, no larger than src in any dim nor
 * than x off the axis. Of duplicate indices the last along axis writes. */
tg_tensor *tg_scatter(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src);
/* torch.scatter_reduce: every src[p] with the same target is reduced
 * (duplicates all count), with x's value when include_self; targets no
 * index hits keep x. PROD and MEAN need a float dtype; ties of AMAX/AMIN
 * share the gradient evenly. */
tg_tensor *tg_scatter_reduce(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src, tg_scatter_op reduce,
                             bool include_self);
/* x[.., index[i], ..] += alpha * src[.., i, ..] along axis: index 1-d
 * integer, src shaped as x with index's length on the axis; duplicates add. */
tg_tensor *tg_index_add(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src, double alpha);
/* x with x[starts[0]:stops[0]:steps[0], ..] replaced by value (same dtype,
 * broadcast to the region): Python slicing of the first naxes axes (clipped
 * as tg_slice; INT64_MAX / INT64_MIN stand for an open end), later axes
 * whole. steps NULL means 1 on every axis. */
tg_tensor *tg_setitem(tg_tensor *x, int naxes, const int64_t *starts, const int64_t *stops, const int64_t *steps,
                      tg_tensor *value);
/* where(mask, value, x); mask (bool) broadcasts to x's shape. */
tg_tensor *tg_masked_fill(tg_tensor *x, tg_tensor *mask, double value);

/* Einstein summation over n operands of one dtype: "ij,jk->ik", "bij,bjk",
 * "ii->i" (a label repeated in a term takes the diagonal), "ii" (trace).
 * Labels are letters; without "->" the output is the labels used once, in
 * alphabetical order. A label's dims must agree or be 1 (broadcast). No
 * "..."; at most 8 distinct labels (the product is formed in one view). */
tg_tensor *tg_einsum(const char *spec, int n, tg_tensor *const *operands);

/* x (N, C, d1..dk), k = 1..3 spatial dims. size (k entries) gives the
 * output's spatial size; else (size NULL) scale does, floor(d * scale),
 * and maps coordinates by 1/scale as torch. NEAREST is torch's "nearest";
 * LINEAR is "linear", "bilinear" or "trilinear" by k. Float dtypes. */
typedef enum tg_interp_mode { TG_INTERP_NEAREST, TG_INTERP_LINEAR } tg_interp_mode;
tg_tensor *tg_interpolate(tg_tensor *x, const int64_t *size, const double *scale, tg_interp_mode mode,
                          bool align_corners);

/* Convolution over k = 1 or 3 spatial dims (conv2d above is the same code):
 * x (N, Cin, d1..dk), w (Cout, Cin/groups, k1..kk), bias (Cout) or NULL;
 * entry i of each array is spatial dim i; opts NULL as for conv2d. */
typedef struct tg_convnd_opts {
    int stride[3];         /* 0 means 1 */
    int padding[3];
    int dilation[3];       /* 0 means 1 */
    int groups;            /* 0 means 1 */
    int output_padding[3]; /* conv_transpose only */
} tg_convnd_opts;
tg_tensor *tg_conv1d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts);
tg_tensor *tg_conv3d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts);
/* w (Cin, Cout/groups, k1..kk), as torch. */
tg_tensor *tg_conv_transpose1d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts);
tg_tensor *tg_conv_transpose3d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts);

/* Pooling over x (N, C, d1..dk), k = 1..3 (x's ndim - 2); float dtypes.
 * Output size floor((d + 2p - dilation*(kernel-1) - 1) / stride) + 1, or
 * rounded up with ceil_mode (a last window must start in the input or the
 * left padding). Max pools pad with -inf. Average pools divide by the taps
 * inside the padded input (torch's count_include_pad), or only by those
 * inside the input with exclude_pad. max_pool2d/avg_pool2d above are these. */
typedef struct tg_pool_opts {
    int kernel[3];   /* window per spatial dim, >= 1 */
    int stride[3];   /* 0 means the kernel size */
    int padding[3];  /* at most half the dilated window */
    int dilation[3]; /* 0 means 1 */
    bool ceil_mode;
    bool exclude_pad; /* avg only: torch's count_include_pad=False */
} tg_pool_opts;
tg_tensor *tg_max_pool(tg_tensor *x, const tg_pool_opts *opts);
tg_tensor *tg_avg_pool(tg_tensor *x, const tg_pool_opts *opts);
/* torch's adaptive pools: out_size has k entries (>= 1); window i of a dim
 * of size d is [floor(i*d/out), ceil((i+1)*d/out)). Float dtypes. */
tg_tensor *tg_adaptive_avg_pool(tg_tensor *x, const int64_t *out_size);
tg_tensor *tg_adaptive_max_pool(tg_tensor *x, const int64_t *out_size);
/* torch.Tensor.unfold: windows of `size` every `step` along axis, which
 * becomes their count; the window is a new last axis. */
tg_tensor *tg_unfold(tg_tensor *x, int axis, int64_t size, int64_t step);
/* torch.nn.functional.unfold for x (N, C, H, W): (N, C*kh*kw, L), L the
 * windows in row order; stride, padding, dilation from opts (NULL: 1, 0, 1;
 * groups and output_padding unused). */
tg_tensor *tg_im2col(tg_tensor *x, int kh, int kw, const tg_conv_opts *opts);

/* ------------------------------------------------------------ autograd */

/* Mark a (float) tensor as a leaf whose gradient tg_backward computes. */
tg_status tg_set_requires_grad(tg_tensor *t, bool requires_grad);
bool tg_requires_grad(const tg_tensor *t);
/* Reverse mode from `loss` (any shape; the seed gradient is ones). Adds
 * (accumulates) into the grad of every tensor marked requires_grad that
 * loss depends on, and realizes those grads and the loss in one schedule. */
tg_status tg_backward(tg_tensor *loss);
/* The accumulated gradient, or NULL if none. Borrowed: valid until
 * tg_zero_grad(t), the next tg_backward that touches t, or t's release;
 * tg_retain it to keep it longer. */
tg_tensor *tg_tensor_grad(tg_tensor *t);
void tg_zero_grad(tg_tensor *t); /* forget the gradient */
/* No-grad mode (nests): ops record no gradient links inside. */
void tg_no_grad_begin(void);
void tg_no_grad_end(void);
bool tg_grad_enabled(void);
/* The same data with no gradient link. */
tg_tensor *tg_detach(tg_tensor *x);
/* Gradients of outputs[0..nout) with respect to inputs[0..nin) (as
 * torch.autograd.grad): out_grads[i] = sum over o of d(outputs[o])/d(inputs[i])
 * applied to seeds[o] (shaped as outputs[o]; seeds NULL or seeds[o] NULL:
 * ones). Inputs may be any float tensors, leaves or not, requires_grad or
 * not; .grad of no tensor changes. Gradients flow through every recorded op
 * (also those made in no-grad mode), never through tg_detach; a tensor
 * realized without requires_grad upstream forgets its graph. The results
 * are lazy new tensors owned as op results are, and may be differentiated
 * again (second derivatives by a second tg_grad); an input no output reaches
 * fails the call (TG_ERR_INVALID, naming it) and out_grads are all NULL. */
tg_status tg_grad(int nout, tg_tensor *const *outputs, tg_tensor *const *seeds, int nin, tg_tensor *const *inputs,
                  tg_tensor **out_grads);

/* ------------------------------------------------------- statistics */

typedef struct tg_stats {
    int64_t live_tensors;     /* tensor handles alive                     */
    int64_t live_buffers;     /* device buffers alive                     */
    int64_t live_bytes;       /* bytes in those buffers                   */
    int64_t kernels_launched; /* since start                              */
    int64_t programs_compiled;/* since start (cache misses)               */
    int64_t realizes;         /* schedules run                            */
} tg_stats;
void tg_stats_get(tg_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* TG_TG_H */
