/* Compositions of views and reductions: matmul, linear (convolution and
 * pooling: ops_conv.c). No new primitives, so gradients come free. */
#include <math.h>
#include "tensor_internal.h"

/* sum(a * b) over axes; float16/bfloat16 products are formed and summed in
 * float32 and the sum rounded once (as every peer does). */
tg_tensor *tg__sum_products(tg_tensor *a, tg_tensor *b, int naxes, const int *axes) {
    if (!a || !b) return tg__null_arg("sum");
    tg_dtype dt = a->dtype;
    if (dt != TG_FLOAT16 && dt != TG_BFLOAT16) return tg_sum(tg_mul(a, b), naxes, axes, false);
    return tg_cast(tg_sum(tg_mul(tg_cast(a, TG_FLOAT32), tg_cast(b, TG_FLOAT32)), naxes, axes, false), dt);
}

/* (..., n, k) @ (..., k, m): broadcast multiply over (..., n, m, k) and sum
 * the last axis. 1-d operands as numpy. */
tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b) {
    char sa[128], sb[128];
    if (!a || !b) return tg__null_arg("matmul");
    if (a->ndim == 0 || b->ndim == 0)
        return tg__fail(TG_ERR_SHAPE, "matmul: shapes %s and %s: operands must have at least 1 dim",
                        tg__shape_str(a, sa, sizeof sa), tg__shape_str(b, sb, sizeof sb));
    int64_t ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim >= 2 ? b->ndim - 2 : 0];
    if (ka != kb)
        return tg__fail(TG_ERR_SHAPE, "matmul: shapes %s and %s do not match (%lld != %lld)",
                        tg__shape_str(a, sa, sizeof sa), tg__shape_str(b, sb, sizeof sb), (long long)ka, (long long)kb);
    if (a->ndim > TG_MAX_DIMS - 1 || b->ndim > TG_MAX_DIMS - 1)
        return tg__fail(TG_ERR_SHAPE, "matmul: shapes %s and %s: at most %d dims", tg__shape_str(a, sa, sizeof sa),
                        tg__shape_str(b, sb, sizeof sb), TG_MAX_DIMS - 1);
    for (int i = 3; i <= a->ndim && i <= b->ndim; i++) { /* batch dims broadcast */
        int64_t da = a->shape[a->ndim - i], db = b->shape[b->ndim - i];
        if (da != db && da != 1 && db != 1)
            return tg__fail(TG_ERR_SHAPE, "matmul: batch dims of %s and %s do not broadcast",
                            tg__shape_str(a, sa, sizeof sa), tg__shape_str(b, sb, sizeof sb));
    }
    OP_BEGIN;
    tg_tensor *x = a->ndim == 1 ? tg_unsqueeze(a, 0) : a;                /* (.., n, k) */
    tg_tensor *y = b->ndim == 1 ? tg_unsqueeze(b, 1) : b;                /* (.., k, m) */
    tg_tensor *xe = tg_unsqueeze(x, -2);                                 /* (.., n, 1, k) */
    tg_tensor *ye = tg_unsqueeze(tg_transpose(y, -1, -2), -3);           /* (.., 1, m, k) */
    tg_tensor *r = tg__sum_products(xe, ye, TG_AXES(-1));                    /* (.., n, m) */
    if (r && b->ndim == 1) r = tg_squeeze(r, -1);
    if (r && a->ndim == 1) r = tg_squeeze(r, r->ndim - (b->ndim == 1 ? 1 : 2));
    OP_END(r);
}

tg_tensor *tg_linear(tg_tensor *x, tg_tensor *w, tg_tensor *b) {
    if (!x || !w) return tg__null_arg("linear");
    OP_BEGIN;
    tg_tensor *r = tg_matmul(x, tg_transpose(w, 0, 1));
    OP_END(b ? tg_add(r, b) : r);
}
