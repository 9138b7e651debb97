/* sdk/lower/lower.c -- what a kernel is (stages, counts, matrix products),
 * its plans (default and variants) and the lowered program: the launch
 * geometry and the checks a plan must pass. Index expressions: index.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

static int is_reduce(uint32_t op) { return op == TG_OP_REDUCE_SUM || op == TG_OP_REDUCE_MAX; }

uint32_t tgl_acc_bytes(uint32_t op, uint32_t dt) {
    if (tgp_dtype_is_float(dt)) return dt == TG_FLOAT64 ? 8 : 4;
    if (op == TG_OP_REDUCE_SUM) return tgp_dtype_size(dt) == 8 ? 8 : 4; /* wraps in uint32/uint64 */
    return (uint32_t)tgp_dtype_size(dt);
}

/* Counts and axes every plan needs. */
static void analyze(const tg_kernel *k, tgl_prog *p) {
    p->reduce_node = -1;
    p->mm_m = p->mm_n = p->mm_a = p->mm_b = -1;
    p->oin = p->rin = -1;
    for (uint32_t n = 0; n < k->nnodes; n++)
        if (is_reduce(k->nodes[n].op)) p->reduce_node = (int32_t)n;
    p->out_count = 1;
    p->red_count = 1;
    for (uint32_t d = 0; d < k->ndim; d++) {
        int red = p->reduce_node >= 0 && (k->reduce_axes >> d & 1u);
        if (red) p->red_count *= k->shape[d];
        else p->out_count *= k->shape[d];
        if (k->shape[d] > 1) {
            if (red) p->rin = (int32_t)d;
            else p->oin = (int32_t)d;
        }
    }
    if (p->reduce_node >= 0) {
        const tg_node *r = &k->nodes[p->reduce_node];
        p->acc_size = tgl_acc_bytes(r->op, r->dtype);
        p->cone[r->src[0]] = 1;
        for (int n = p->reduce_node; n >= 0; n--)
            for (int s = 0; s < 3 && p->cone[n]; s++)
                if (k->nodes[n].src[s] >= 0) p->cone[k->nodes[n].src[s]] = 1;
        for (uint32_t n = 0; n < k->nnodes; n++)
            if (k->nodes[n].op == TG_OP_CONST || k->nodes[n].op == TG_OP_ARG) p->cone[n] = 0;
    }
}

/* Bit d set: node n's value may change along axis d (a LOAD through its top
 * view's stride or mask; an ALU node through its sources). */
static void node_axes(const tg_kernel *k, uint32_t *axes) {
    for (uint32_t n = 0; n < k->nnodes; n++) {
        const tg_node *nd = &k->nodes[n];
        axes[n] = 0;
        if (nd->op == TG_OP_LOAD) {
            const tg_view *v = &k->views[nd->view + nd->nviews - 1];
            for (uint32_t d = 0; d < v->ndim; d++)
                if (v->strides[d] != 0 || (v->has_mask && (v->mask_lo[d] > 0 || v->mask_hi[d] < v->shape[d])))
                    axes[n] |= 1u << d;
        }
        for (int s = 0; s < 3; s++)
            if (nd->src[s] >= 0 && nd->op != TG_OP_LOAD && nd->op != TG_OP_CONST) axes[n] |= axes[nd->src[s]];
    }
}

/* Stride of a plain A along the flattened reduce axes (one unmasked view whose
 * reduce strides nest like a row-major array), else 0: A is then packed. */
static int64_t flat_stride(const tg_kernel *k, const tgl_prog *p, int ia) {
    const tg_node *a = &k->nodes[ia];
    const tg_view *va = &k->views[a->view];
    if (a->op != TG_OP_LOAD || a->nviews != 1 || va->has_mask) return 0;
    int64_t expect = 0;
    for (int d = (int)k->ndim - 1; d >= 0; d--) {
        if (!(k->reduce_axes >> d & 1u) || k->shape[d] == 1) continue;
        if (expect == 0) expect = va->strides[d];
        else if (va->strides[d] != expect) return 0;
        expect *= k->shape[d];
    }
    return expect != 0 ? va->strides[p->rin] : 0;
}

/* A product C[.., m, n] = sum_k A(.., m, k) * B(.., k, n) in float32/64: the
 * reduce's source is MUL(A, B) with A constant along n and B along m (both
 * any expression of loads). Of the two ways to read MUL's operands, prefer A
 * read in place and B contiguous along n. */
static void detect_matmul(const tg_kernel *k, tgl_prog *p) {
    if (p->reduce_node < 0 || p->rin < 0 || k->nnodes > 1024 || tgl_arg_bounds(k)) return;
    const tg_node *r = &k->nodes[p->reduce_node];
    if (r->op != TG_OP_REDUCE_SUM || (r->dtype != TG_FLOAT32 && r->dtype != TG_FLOAT64)) return;
    const tg_node *mul = &k->nodes[r->src[0]];
    if (mul->op != TG_OP_MUL) return;
    uint32_t axes[1024];
    node_axes(k, axes);
    int best = -1;
    for (int swap = 0; swap < 2; swap++) {
        int ia = mul->src[swap], ib = mul->src[1 - swap];
        int m = -1, n = -1;
        for (uint32_t d = 0; d < k->ndim; d++) {
            if ((k->reduce_axes >> d & 1u) || k->shape[d] == 1) continue;
            int va = axes[ia] >> d & 1u, vb = axes[ib] >> d & 1u;
            if (va && !vb && (m < 0 || k->shape[d] > k->shape[m])) m = (int)d;
            if (!va && vb) n = (int)d;
        }
        if (m < 0 || n < 0) continue;
        int64_t sak = flat_stride(k, p, ia);
        const tg_node *b = &k->nodes[ib];
        int contiguous = b->op == TG_OP_LOAD && k->views[b->view + b->nviews - 1].strides[n] == 1;
        int score = (sak != 0) * 2 + contiguous;
        if (score <= best) continue;
        best = score;
        p->mm_a = ia;
        p->mm_b = ib;
        p->mm_m = m;
        p->mm_n = n;
        p->mm_sak = sak;
    }
}

static int target_threads(const tgl_target *t) { return t->threads ? (int)t->threads : 1; }
static uint32_t target_group(const tgl_target *t) { return t->max_group ? t->max_group : 64; }

static void plan_cpu(const tg_kernel *k, const tgl_target *t, const tgl_prog *p, tgl_plan *o) {
    int nthreads = target_threads(t);
    o->mode = TGL_FLAT;
    o->par_axis = -1;
    o->block = 256;
    o->mr = 4;
    o->nc = 256;
    int oin = p->oin, rin = p->rin;
    if (p->reduce_node >= 0) {
        int wide = p->acc_size == 8;
        o->lanes = rin < 0 ? 1 : k->shape[rin] >= 64 ? (wide ? 16 : 32) : k->shape[rin] >= 16 ? 8 : 1;
        /* which layout keeps the loads of the input cone contiguous? */
        int c_o = 0, c_r = 0;
        for (uint32_t n = 0; n < k->nnodes; n++) {
            const tg_node *nd = &k->nodes[n];
            if (nd->op != TG_OP_LOAD) continue;
            const tg_view *top = &k->views[nd->view + nd->nviews - 1];
            if (oin >= 0 && (top->strides[oin] == 1 || top->strides[oin] == -1)) c_o++;
            if (rin >= 0 && (top->strides[rin] == 1 || top->strides[rin] == -1)) c_r++;
        }
        if (oin >= 0 && (rin < 0 || c_o > c_r)) o->mode = TGL_OUTER;
        if (p->mm_m >= 0 && k->shape[p->mm_n] >= 16) {
            int64_t kbytes = k->shape[p->rin] * (int64_t)p->acc_size;
            o->mode = TGL_MATMUL;
            o->mr = 6; /* 6 rows x `block` vectors of accumulators */
            o->block = t->vector_bytes >= 64 ? 4 : 2;
            o->nc = (int)(512 * 1024 / (kbytes > 0 ? kbytes : 1)) / 64 * 64;
            if (o->nc < 64) o->nc = 64;
        }
    }
    /* threads: the outermost output axis with enough work, else the largest */
    int64_t best = 1;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (p->reduce_node >= 0 && (k->reduce_axes >> d & 1u)) continue;
        if (o->mode == TGL_MATMUL && ((int)d == p->mm_n || ((int)d != p->mm_m && k->shape[d] < 4 * nthreads)))
            continue;
        if (k->shape[d] >= 4 * nthreads) { o->par_axis = (int)d; break; }
        if (k->shape[d] > best) { best = k->shape[d]; o->par_axis = (int)d; }
    }
    if (o->mode == TGL_MATMUL && o->par_axis < 0) o->mode = TGL_OUTER;
    /* a small output over a large reduction: split the reduction */
    int64_t par = o->par_axis >= 0 ? k->shape[o->par_axis] : 1;
    if (p->reduce_node >= 0 && nthreads > 1 && par < 2 * nthreads && p->red_count >= 4096) {
        int64_t big = 1;
        int ax = -1;
        for (uint32_t d = 0; d < k->ndim; d++)
            if ((k->reduce_axes >> d & 1u) && k->shape[d] > big) { big = k->shape[d]; ax = (int)d; }
        if (ax >= 0 && big >= 2 * nthreads) {
            o->split = 1;
            o->par_axis = ax;
            if (o->mode == TGL_MATMUL) o->mode = TGL_OUTER;
        }
    }
}

/* Largest power of two <= x (x >= 1). */
static uint32_t pow2_floor(uint64_t x) {
    uint32_t g = 1;
    while ((uint64_t)g * 2 <= x && g < (1u << 30)) g *= 2;
    return g;
}

/* TILE with B x B tiles and R x R register tiles, if the target holds them. */
static int tile_fits(const tgl_target *t, const tgl_prog *p, int B, int R, int BK) {
    uint32_t items = (uint32_t)(B / R) * (uint32_t)(B / R);
    return p->mm_m >= 0 && items <= target_group(t) && (uint64_t)2 * B * BK * p->acc_size <= t->local_bytes;
}

static void plan_tile(tgl_plan *o, int B, int R, int BK) {
    o->mode = TGL_TILE;
    o->block = B;
    o->mr = R;
    o->nc = BK;
    o->group = (B / R) * (B / R);
}

static void plan_gpu(const tg_kernel *k, const tgl_target *t, const tgl_prog *p, tgl_plan *o) {
    uint32_t gmax = pow2_floor(target_group(t));
    o->mode = TGL_THREAD;
    o->par_axis = -1;
    o->group = (int32_t)(gmax < 256 ? gmax : 256);
    if (p->mm_m >= 0 && k->shape[p->mm_m] >= 32 && k->shape[p->mm_n] >= 32 && p->red_count >= 16) {
        if (tile_fits(t, p, 64, 4, 16)) { plan_tile(o, 64, 4, 16); return; }
        if (tile_fits(t, p, 32, 4, 16)) { plan_tile(o, 32, 4, 16); return; }
    }
    /* few outputs, long reductions: a work-group per output */
    int64_t most = t->group_outputs ? t->group_outputs : 16383;
    if (p->reduce_node >= 0 && p->red_count >= 256 && p->out_count <= most && t->local_bytes) {
        uint32_t g = gmax < 256 ? gmax : 256;
        while (g > 1 && (uint64_t)g * p->acc_size > t->local_bytes) g /= 2;
        if (g >= 16) {
            o->mode = TGL_GROUP;
            o->group = (int32_t)g;
        }
        /* few outputs over long reductions: split each into parts, so that
         * enough work-groups fill the device, then combine */
        int64_t parts = p->red_count / ((int64_t)g * (t->part_points ? t->part_points : 64));
        if (o->mode == TGL_GROUP && p->out_count <= 64 && parts >= 2)
            o->split = (int32_t)(parts > 1024 ? 1024 : parts);
    }
    /* neighbouring outputs per work-item (they share the reduction's loop) */
    int32_t b = p->reduce_node < 0 ? (int32_t)t->item_outputs : p->red_count >= 16 ? (int32_t)t->item_outputs / 2 : 1;
    while (b > 1 && (p->oin < 0 || k->shape[p->oin] % b || tgl_arg_bounds(k))) b /= 2;
    if (o->mode == TGL_THREAD && b > 1) o->block = b;
}

/* Scratch for analysis: a tgl_prog with a cone array. */
static tgl_prog *prog_new(const tg_kernel *k, const tgl_target *t) {
    tgl_prog *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cone = calloc(k->nnodes ? k->nnodes : 1, 1);
    p->access = calloc(k->nnodes ? k->nnodes : 1, sizeof *p->access);
    if (!p->cone || !p->access) {
        tgl_prog_free(p);
        return NULL;
    }
    p->kernel = k;
    p->target = *t;
    analyze(k, p);
    detect_matmul(k, p);
    return p;
}

void tgl_prog_free(tgl_prog *p) {
    if (!p) return;
    free(p->cone);
    free(p->access);
    free(p->expr);
    free(p);
}

/* The default plan of an analysed kernel (p NULL: out of memory; the zero
 * plan, FLAT or THREAD, is always valid). */
static void plan_default_of(const tgl_prog *p, const tg_kernel *k, const tgl_target *t, tgl_plan *o) {
    memset(o, 0, sizeof *o);
    o->par_axis = -1;
    if (!p) return;
    if (t->kind == TGL_GPU) plan_gpu(k, t, p, o);
    else plan_cpu(k, t, p, o);
}

void tgl_plan_default(const tg_kernel *k, const tgl_target *t, tgl_plan *o) {
    tgl_prog *p = prog_new(k, t);
    plan_default_of(p, k, t, o);
    tgl_prog_free(p);
}

static int plan_seen(const tgl_plan *plans, int n, const tgl_plan *o) {
    for (int j = 0; j < n; j++)
        if (!memcmp(&plans[j], o, sizeof *o)) return 1;
    return 0;
}

static int push(tgl_plan *out, int n, int max, const tgl_plan *o) {
    if (n < max && !plan_seen(out, n, o)) out[n++] = *o;
    return n;
}

int tgl_plan_variants(const tg_kernel *k, const tgl_target *t, tgl_plan *out, int max) {
    if (max <= 0) return 0;
    tgl_plan def;
    tgl_prog *p = prog_new(k, t);
    plan_default_of(p, k, t, &def);
    int n = push(out, 0, max, &def);
    if (!p) return n;
    if (t->kind == TGL_GPU) {
        static const int tiles[][3] = {{64, 4, 16}, {32, 4, 16}, {64, 8, 8}, {32, 2, 16}, {64, 4, 8}};
        for (size_t i = 0; i < sizeof tiles / sizeof *tiles; i++) {
            tgl_plan o = def;
            plan_tile(&o, tiles[i][0], tiles[i][1], tiles[i][2]);
            if (tile_fits(t, p, tiles[i][0], tiles[i][1], tiles[i][2])) n = push(out, n, max, &o);
        }
        static const int groups[] = {32, 64, 128, 256, 512, 1024};
        for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
            if ((uint32_t)groups[g] > target_group(t)) break;
            tgl_plan o = def;
            o.group = groups[g];
            o.mode = TGL_THREAD;
            o.block = o.mr = o.nc = o.split = 0;
            n = push(out, n, max, &o);
            if (p->reduce_node >= 0 && t->local_bytes >= (uint64_t)groups[g] * p->acc_size) {
                o.mode = TGL_GROUP;
                o.split = 0;
                n = push(out, n, max, &o);
                o.split = p->red_count >= 2 * groups[g] ? 4 : 0;
                if (o.split) n = push(out, n, max, &o);
            }
        }
    } else if (p->reduce_node >= 0) {
        if (def.mode == TGL_MATMUL) {
            static const int tiles[][2] = {{6, 4}, {8, 2}, {4, 4}, {8, 3}, {12, 2}, {6, 2}, {4, 2}};
            static const int ncs[] = {64, 128, 256, 512};
            for (size_t i = 0; i < sizeof tiles / sizeof *tiles; i++)
                for (size_t c = 0; c < sizeof ncs / sizeof *ncs; c++) {
                    tgl_plan o = def;
                    o.mr = tiles[i][0];
                    o.block = tiles[i][1];
                    o.nc = ncs[c];
                    n = push(out, n, max, &o);
                }
        }
        static const int lanes[] = {8, 16, 32, 64};
        static const int blocks[] = {64, 128, 256, 512, 1024};
        for (int mode = TGL_FLAT; mode <= TGL_OUTER; mode++) {
            if (mode == TGL_OUTER && p->oin < 0) continue;
            for (int split = 0; split <= def.split; split++)
                for (int i = 0; i < (mode == TGL_FLAT ? 4 : 5); i++) {
                    tgl_plan o = def;
                    o.mode = mode;
                    o.split = split;
                    if (!split && def.split) o.par_axis = -1;
                    if (mode == TGL_FLAT) o.lanes = p->rin >= 0 && k->shape[p->rin] >= 2 * lanes[i] ? lanes[i] : 1;
                    else o.block = blocks[i];
                    n = push(out, n, max, &o);
                }
        }
    }
    tgl_prog_free(p);
    return n;
}

/* Does the target compute every dtype the kernel needs? */
static const char *missing_dtype(const tg_kernel *k, const tgl_target *t) {
    if (!t->native) return NULL;
    for (uint32_t n = 0; n < k->nnodes; n++) {
        uint32_t dt = k->nodes[n].dtype;
        if ((dt == TG_FLOAT64 || dt == TG_INT64 || dt == TG_UINT64) && !(t->native >> dt & 1u))
            return dt == TG_FLOAT64 ? "float64" : dt == TG_INT64 ? "int64" : "uint64";
    }
    return NULL;
}

/* Is the plan one this kernel can take on this target? */
static const char *plan_problem(const tgl_prog *p, const tgl_plan *o) {
    const tg_kernel *k = p->kernel;
    int gpu = p->target.kind == TGL_GPU;
    if (gpu != (o->mode >= TGL_THREAD) || o->mode < 0 || o->mode > TGL_TILE)
        return "layout does not fit the target";
    if (gpu) {
        if (o->group < 1 || (o->group & (o->group - 1)) || (uint32_t)o->group > target_group(&p->target))
            return "work-group size is not a power of two within the device's limit";
        if (o->mode == TGL_GROUP && (p->reduce_node < 0 || (uint64_t)o->group * p->acc_size > p->target.local_bytes))
            return "group reduction without a reduction or local memory for it";
        if (o->mode == TGL_THREAD && o->block > 1 &&
            (p->oin < 0 || k->shape[p->oin] % o->block || tgl_arg_bounds(k)))
            return "THREAD block does not divide the innermost output axis";
        if (o->split && (o->mode != TGL_GROUP || o->split < 2 || o->split > 65536))
            return "a split reduction is a GROUP layout of 2 to 65536 parts";
        if (o->mode == TGL_TILE && (o->mr < 1 || o->nc < 1 || o->block % o->mr || o->group != (o->block / o->mr) * (o->block / o->mr) ||
                                    !tile_fits(&p->target, p, o->block, o->mr, o->nc)))
            return "tiled product on a kernel that is not one, or tiles the device cannot hold";
        return NULL;
    }
    if (o->par_axis < -1 || o->par_axis >= (int)k->ndim) return "thread axis out of range";
    if (o->mode != TGL_FLAT && p->reduce_node < 0) return "reduction layout without a reduction";
    if (o->mode == TGL_OUTER && p->oin < 0) return "OUTER layout without an output axis";
    if (o->mode == TGL_OUTER && (o->block < 1 || o->block > 4096)) return "OUTER block out of range";
    if (o->mode == TGL_FLAT && (o->lanes < 0 || o->lanes > 256)) return "lanes out of range";
    if (o->mode == TGL_MATMUL && (p->mm_m < 0 || o->split || o->par_axis == p->mm_n || o->mr < 1 || o->mr > 16 ||
                                  o->block < 1 || o->block > 8 || o->nc < 1))
        return "MATMUL layout on a kernel that is not a product";
    if (o->split && (p->reduce_node < 0 || o->par_axis < 0 || !(k->reduce_axes >> o->par_axis & 1u)))
        return "split without a reduced thread axis";
    if (!o->split && o->par_axis >= 0 && p->reduce_node >= 0 && (k->reduce_axes >> o->par_axis & 1u))
        return "thread axis is reduced";
    return NULL;
}

static void geometry(tgl_prog *p) {
    const tgl_plan *o = &p->plan;
    if (p->target.kind == TGL_CPU) {
        p->npasses = o->split ? 2 : 1;
        p->pass[0].fn = o->split ? "tgk_part" : "tgk";
        p->pass[1].fn = "tgk_fin";
        return;
    }
    p->npasses = o->split ? 2 : 1;
    p->pass[0].fn = o->split ? "tgk_part" : "tgk";
    p->pass[0].local = p->pass[1].local = (uint32_t)o->group;
    if (o->split) {
        p->pass[1].fn = "tgk_fin";
        p->pass[1].global = (uint64_t)p->out_count * (uint64_t)o->group;
        p->pass[0].global = p->pass[1].global * (uint64_t)o->split;
        p->scratch_bytes = (uint64_t)p->out_count * (uint64_t)o->split * p->acc_size;
        return;
    }
    uint64_t items = o->mode == TGL_GROUP ? (uint64_t)p->out_count * (uint64_t)o->group : (uint64_t)p->out_count;
    if (o->mode == TGL_THREAD && o->block > 1) items /= (uint64_t)o->block;
    if (o->mode == TGL_TILE) { /* a group per tile of every batch point */
        const tg_kernel *k = p->kernel;
        int64_t M = k->shape[p->mm_m], N = k->shape[p->mm_n];
        uint64_t batch = M * N > 0 ? (uint64_t)(p->out_count / (M * N)) : 0;
        items = batch * (uint64_t)((M + o->block - 1) / o->block) * (uint64_t)((N + o->block - 1) / o->block) * (uint64_t)o->group;
    }
    p->pass[0].global = (items + (uint64_t)o->group - 1) / (uint64_t)o->group * (uint64_t)o->group;
}

int tgl_arg_bounds(const tg_kernel *k) {
    if (k->struct_size < offsetof(tg_kernel, offsets) + sizeof k->offsets) return 0;
    int any = k->noffsets != 0;
    for (uint32_t d = 0; d < k->ndim; d++) any |= k->extent_arg[d] != 0;
    return any;
}

void tgl_args_pack(uint32_t nargs, const tg_arg *args, const tg_scalar *values, uint64_t *out) {
    for (uint32_t i = 0; i < nargs; i++) {
        uint32_t dt = args[i].dtype;
        if (dt == TG_FLOAT64) {
            memcpy(&out[i], &values[i].f, 8);
        } else if (tgp_dtype_is_float(dt)) { /* float16/bfloat16 live in float */
            float f = (float)values[i].f;
            uint32_t u;
            memcpy(&u, &f, 4);
            out[i] = u;
        } else {
            out[i] = dt == TG_BOOL ? values[i].i != 0 : values[i].u;
        }
    }
}

tg_status tgl_lower(const tg_kernel *k, const tgl_target *t, const tgl_plan *plan, tgl_prog **out, char *err,
                    size_t errcap) {
    *out = NULL;
    const char *miss = missing_dtype(k, t);
    if (miss) {
        snprintf(err, errcap, "%s: the device does not compute %s", k->name, miss);
        return TG_ERR_UNSUPPORTED;
    }
    tgl_prog *p = prog_new(k, t);
    if (!p) {
        snprintf(err, errcap, "%s: out of memory lowering the kernel", k->name);
        return TG_ERR_NO_MEMORY;
    }
    if (plan) p->plan = *plan;
    else plan_default_of(p, k, t, &p->plan);
    const char *why = plan_problem(p, &p->plan);
    if (why) {
        snprintf(err, errcap, "%s: plan refused: %s", k->name, why);
        tgl_prog_free(p);
        return TG_ERR_INVALID;
    }
    geometry(p);
    if (tgl_index_build(p) != TG_OK) {
        snprintf(err, errcap, "%s: out of memory building index expressions", k->name);
        tgl_prog_free(p);
        return TG_ERR_NO_MEMORY;
    }
    *out = p;
    return TG_OK;
}
