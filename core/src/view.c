/* Views: movement ops folded into (shape, strides, offset, mask); a stack of
 * views where one view cannot express a reshape. */
#include <string.h>
#include "tensor_internal.h"

void tg_view_contiguous(tg_view *v, int ndim, const int64_t *shape) {
    memset(v, 0, sizeof *v);
    v->ndim = (uint32_t)ndim;
    int64_t st = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        v->shape[d] = shape[d];
        v->strides[d] = shape[d] == 1 ? 0 : st;
        st *= shape[d];
    }
}

/* Is strides row-major for the shape (size-1 dims ignored)? */
static bool row_major(const tg_view *v) {
    int64_t st = 1;
    for (int d = (int)v->ndim - 1; d >= 0; d--) {
        if (v->shape[d] != 1 && v->strides[d] != st) return false;
        st *= v->shape[d];
    }
    return true;
}

static int64_t numel(const tg_view *v) { return tg__numel((int)v->ndim, v->shape); }

/* Drop a mask that covers everything; an empty mask stays. */
static void mask_tidy(tg_view *v) {
    if (!v->has_mask) return;
    for (uint32_t d = 0; d < v->ndim; d++)
        if (v->mask_lo[d] != 0 || v->mask_hi[d] != v->shape[d]) return;
    v->has_mask = 0;
}

bool tg_view_is_identity(const tg_view *v) { return !v->has_mask && v->offset == 0 && row_major(v); }

/* Reshape one view if that is exact; false when it needs a new view. */
static bool view_reshape(const tg_view *v, int ndim, const int64_t *shape, tg_view *out) {
    tg_view r;
    memset(&r, 0, sizeof r);
    r.ndim = (uint32_t)ndim;
    r.offset = v->offset;
    for (int d = 0; d < ndim; d++) r.shape[d] = shape[d];
    if (numel(v) == 0) { /* nothing is ever read */
        tg_view_contiguous(out, ndim, shape);
        return true;
    }
    if (v->has_mask) {
        /* Only when the reshape inserts or removes size-1 dims. */
        int i = 0, j = 0;
        r.has_mask = 1;
        while (i < (int)v->ndim || j < ndim) {
            if (i < (int)v->ndim && j < ndim && v->shape[i] == shape[j]) {
                r.strides[j] = v->strides[i], r.mask_lo[j] = v->mask_lo[i], r.mask_hi[j] = v->mask_hi[i];
                i++, j++;
            } else if (j < ndim && shape[j] == 1) {
                r.strides[j] = 0, r.mask_lo[j] = 0, r.mask_hi[j] = 1;
                j++;
            } else if (i < (int)v->ndim && v->shape[i] == 1) {
                if (v->mask_hi[i] <= v->mask_lo[i]) return false; /* empty: keep the stack */
                r.offset += v->mask_lo[i] * v->strides[i];
                i++;
            } else {
                return false;
            }
        }
        *out = r;
        mask_tidy(out);
        return true;
    }
    /* No mask: match groups of old dims to groups of new dims by product;
     * each old group must be mergeable (one stride progression). */
    int i = 0, j = 0;
    while (i < (int)v->ndim || j < ndim) {
        /* size-1 dims on either side map to nothing */
        if (j < ndim && shape[j] == 1) { r.strides[j++] = 0; continue; }
        if (i < (int)v->ndim && v->shape[i] == 1) { i++; continue; }
        if (i >= (int)v->ndim || j >= ndim) return false;
        int i0 = i, j0 = j;
        int64_t po = v->shape[i++], pn = shape[j++];
        while (po != pn) {
            if (po < pn) {
                if (i >= (int)v->ndim) return false;
                if (v->shape[i] != 1) po *= v->shape[i];
                i++;
            } else {
                if (j >= ndim) return false;
                pn *= shape[j++];
            }
        }
        /* old dims [i0, i) must progress: stride[d] == stride[d+1]*shape[d+1] */
        int last = -1;
        for (int d = i0; d < i; d++) {
            if (v->shape[d] == 1) continue;
            if (last >= 0 && v->strides[last] != v->strides[d] * v->shape[d]) return false;
            last = d;
        }
        int64_t st = v->strides[last];
        for (int d = j - 1; d >= j0; d--) {
            r.strides[d] = shape[d] == 1 ? 0 : st;
            st *= shape[d];
        }
    }
    *out = r;
    return true;
}

bool tg_vstack_reshape(tg_vstack *s, int ndim, const int64_t *shape) {
    tg_view *top = &s->v[s->n - 1], r;
    if (view_reshape(top, ndim, shape, &r)) {
        *top = r;
        return true;
    }
    if (s->n >= TG_MAX_STACK) return false;
    tg_view_contiguous(&s->v[s->n++], ndim, shape);
    return true;
}

void tg_vstack_permute(tg_vstack *s, const int64_t *perm) {
    tg_view *v = &s->v[s->n - 1], o = *v;
    for (uint32_t d = 0; d < v->ndim; d++) {
        v->shape[d] = o.shape[perm[d]];
        v->strides[d] = o.strides[perm[d]];
        v->mask_lo[d] = o.mask_lo[perm[d]];
        v->mask_hi[d] = o.mask_hi[perm[d]];
    }
}

void tg_vstack_expand(tg_vstack *s, const int64_t *shape) {
    tg_view *v = &s->v[s->n - 1];
    for (uint32_t d = 0; d < v->ndim; d++) {
        if (v->shape[d] == shape[d]) continue;
        /* size 1 -> n */
        v->strides[d] = 0;
        if (v->has_mask) v->mask_hi[d] = v->mask_hi[d] > v->mask_lo[d] ? shape[d] : 0, v->mask_lo[d] = 0;
        v->shape[d] = shape[d];
    }
}

void tg_vstack_shrink(tg_vstack *s, const int64_t *lo, const int64_t *hi) {
    tg_view *v = &s->v[s->n - 1];
    for (uint32_t d = 0; d < v->ndim; d++) {
        int64_t n = hi[d] - lo[d];
        v->offset += lo[d] * v->strides[d];
        if (v->has_mask) {
            int64_t a = v->mask_lo[d] - lo[d], b = v->mask_hi[d] - lo[d];
            a = a < 0 ? 0 : a > n ? n : a;
            b = b < a ? a : b > n ? n : b;
            v->mask_lo[d] = a, v->mask_hi[d] = b;
        }
        v->shape[d] = n;
    }
    mask_tidy(v);
}

void tg_vstack_pad(tg_vstack *s, const int64_t *lo, const int64_t *hi) {
    tg_view *v = &s->v[s->n - 1];
    bool any = false;
    for (uint32_t d = 0; d < v->ndim; d++) any |= lo[d] != 0 || hi[d] != 0;
    if (!any) return;
    if (!v->has_mask) {
        v->has_mask = 1;
        for (uint32_t d = 0; d < v->ndim; d++) v->mask_lo[d] = 0, v->mask_hi[d] = v->shape[d];
    }
    for (uint32_t d = 0; d < v->ndim; d++) {
        v->offset -= lo[d] * v->strides[d];
        v->mask_lo[d] += lo[d];
        v->mask_hi[d] += lo[d];
        v->shape[d] += lo[d] + hi[d];
    }
}

void tg_vstack_flip(tg_vstack *s, const int64_t *flip) {
    tg_view *v = &s->v[s->n - 1];
    for (uint32_t d = 0; d < v->ndim; d++) {
        if (!flip[d]) continue;
        int64_t n = v->shape[d];
        if (n > 0) v->offset += (n - 1) * v->strides[d];
        v->strides[d] = -v->strides[d];
        if (v->has_mask) {
            int64_t a = n - v->mask_hi[d], b = n - v->mask_lo[d];
            v->mask_lo[d] = a, v->mask_hi[d] = b;
        }
    }
}

void tg_vstack_stride(tg_vstack *s, const int64_t *step) {
    tg_view *v = &s->v[s->n - 1];
    for (uint32_t d = 0; d < v->ndim; d++) {
        int64_t k = step[d];
        v->shape[d] = (v->shape[d] + k - 1) / k;
        v->strides[d] *= k;
        if (v->has_mask) v->mask_lo[d] = (v->mask_lo[d] + k - 1) / k, v->mask_hi[d] = (v->mask_hi[d] + k - 1) / k;
    }
    mask_tidy(v);
}

static int64_t div_floor(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static int64_t div_ceil(int64_t a, int64_t b) { return -div_floor(-a, b); }

/* Fold view U (on top) into view L (below) when the linear index U yields
 * unravels into L's shape without carries over U's valid range: then the
 * pair is one affine view. L's mask carries over when each masked digit of
 * L moves with at most one dim of U. */
static bool view_merge(const tg_view *L, const tg_view *U, tg_view *out) {
    int nl = (int)L->ndim, nu = (int)U->ndim;
    int64_t R[TG_MAX_DIMS], lo[TG_MAX_DIMS], span[TG_MAX_DIMS], base[TG_MAX_DIMS], dmin[TG_MAX_DIMS],
        dmax[TG_MAX_DIMS], delta[TG_MAX_DIMS][TG_MAX_DIMS];
    if (nl == 0) return false;
    int64_t place = 1;
    for (int d = nl - 1; d >= 0; d--) {
        if (L->shape[d] <= 0) return false;
        R[d] = place;
        if (__builtin_mul_overflow(place, L->shape[d], &place)) return false;
    }
    int64_t first = U->offset; /* linear index of the first valid point */
    for (int j = 0; j < nu; j++) {
        lo[j] = U->has_mask ? U->mask_lo[j] : 0;
        span[j] = (U->has_mask ? U->mask_hi[j] : U->shape[j]) - lo[j] - 1;
        if (span[j] < 0) return false;
        first += lo[j] * U->strides[j];
    }
    if (first < 0) return false;
    for (int d = 0; d < nl; d++) {
        base[d] = d == 0 ? first / R[0] : (first / R[d]) % L->shape[d];
        dmin[d] = dmax[d] = base[d];
    }
    for (int j = 0; j < nu; j++) {
        int64_t st = U->strides[j], a = st < 0 ? -st : st;
        for (int d = 0; d < nl; d++) {
            int64_t digit = d == 0 ? a / R[0] : (a / R[d]) % L->shape[d];
            delta[j][d] = st < 0 ? -digit : digit;
            int64_t v = delta[j][d] * span[j];
            if (v < 0) dmin[d] += v;
            else dmax[d] += v;
        }
    }
    for (int d = 0; d < nl; d++)
        if (dmin[d] < 0 || dmax[d] >= L->shape[d]) return false;
    tg_view m = *U;
    if (L->has_mask) { /* digit d valid iff L.mask_lo[d] <= digit < L.mask_hi[d] */
        if (!m.has_mask) {
            m.has_mask = 1;
            for (int j = 0; j < nu; j++) m.mask_lo[j] = 0, m.mask_hi[j] = m.shape[j];
        }
        for (int d = 0; d < nl; d++) {
            int64_t mlo = L->mask_lo[d], mhi = L->mask_hi[d];
            if (mlo == 0 && mhi == L->shape[d]) continue;
            int jj = -1;
            for (int j = 0; j < nu; j++)
                if (delta[j][d] != 0 && span[j] > 0) {
                    if (jj >= 0) return false;
                    jj = j;
                }
            if (jj < 0) {
                if (base[d] < mlo || base[d] >= mhi) return false; /* all invalid: keep the stack */
                continue;
            }
            int64_t dl = delta[jj][d], t0, t1; /* offsets t = i - lo with mlo <= base + t*dl < mhi */
            if (dl > 0) t0 = div_ceil(mlo - base[d], dl), t1 = div_floor(mhi - 1 - base[d], dl);
            else t0 = div_ceil(mhi - 1 - base[d], dl), t1 = div_floor(mlo - base[d], dl);
            int64_t a = lo[jj] + t0, b = lo[jj] + t1 + 1;
            if (a > m.mask_lo[jj]) m.mask_lo[jj] = a;
            if (b < m.mask_hi[jj]) m.mask_hi[jj] = b;
            if (m.mask_hi[jj] < m.mask_lo[jj]) m.mask_hi[jj] = m.mask_lo[jj];
        }
        mask_tidy(&m);
    }
    m.offset = L->offset;
    for (int d = 0; d < nl; d++) {
        int64_t digit0 = base[d];
        for (int j = 0; j < nu; j++) digit0 -= lo[j] * delta[j][d];
        m.offset += digit0 * L->strides[d];
    }
    for (int j = 0; j < nu; j++) {
        m.strides[j] = 0;
        for (int d = 0; d < nl; d++) m.strides[j] += delta[j][d] * L->strides[d];
    }
    *out = m;
    return true;
}

void tg_vstack_simplify(tg_vstack *s) {
    bool changed = true;
    while (changed && s->n > 1) {
        changed = false;
        if (tg_view_is_identity(&s->v[0])) {
            memmove(&s->v[0], &s->v[1], (size_t)(s->n - 1) * sizeof(tg_view));
            s->n--;
            changed = true;
            continue;
        }
        for (int k = s->n - 1; k >= 1 && !changed; k--) {
            tg_view m;
            if (!view_merge(&s->v[k - 1], &s->v[k], &m)) continue;
            s->v[k - 1] = m;
            memmove(&s->v[k], &s->v[k + 1], (size_t)(s->n - k - 1) * sizeof(tg_view));
            s->n--;
            changed = true;
        }
    }
}

bool tg_vstack_apply(tg_vstack *s, int op, const int64_t *arg, int ndim, const int64_t *shape) {
    switch (op) {
    case TG_OP_RESHAPE: return tg_vstack_reshape(s, ndim, shape);
    case TG_OP_PERMUTE: tg_vstack_permute(s, arg); return true;
    case TG_OP_EXPAND: tg_vstack_expand(s, shape); return true;
    case TG_OP_SHRINK: tg_vstack_shrink(s, arg, arg + TG_MAX_DIMS); return true;
    case TG_OP_PAD: tg_vstack_pad(s, arg, arg + TG_MAX_DIMS); return true;
    case TG_OP_FLIP: tg_vstack_flip(s, arg); return true;
    case TG_OP_STRIDE: tg_vstack_stride(s, arg); return true;
    default: return false;
    }
}
