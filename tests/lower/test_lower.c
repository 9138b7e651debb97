/* tests/lower/test_lower.c -- the lowering library on its own: index
 * expressions (affine where the stack allows, div/mod only where it must, masks),
 * 32-bit index analysis, plans and their checks, and each dialect's text. */
#include <string.h>
#include <sys/stat.h>
#include <tg/dtype_util.h>
#include <tg/lower.h>

#include "tap.h"
#include "../cpu/kit.h"

static int count_kind(const tgl_prog *p, int32_t e, uint32_t kind) {
    if (e < 0) return 0;
    const tgl_expr *x = &p->expr[e];
    int n = x->kind == kind;
    if (x->kind >= TGL_E_ADD) n += count_kind(p, x->a, kind);
    if (x->kind == TGL_E_ADD || x->kind == TGL_E_AND) n += count_kind(p, x->b, kind);
    return n;
}

static tgl_target gpu(uint32_t index_bits) {
    tgl_target t = {0};
    t.kind = TGL_GPU;
    t.max_group = 256;
    t.local_bytes = 32768;
    t.index_bits = index_bits;
    return t;
}

/* out[i] = in(view stack)[i] + 1 over shape[0..ndim), float32. */
static void copy_kernel(kit_kernel *kk, uint32_t ndim, const int64_t *shape, uint32_t in_view, uint32_t in_nviews,
                        int64_t in_count) {
    int64_t out_count = 1;
    for (uint32_t d = 0; d < ndim; d++) out_count *= shape[d];
    kk->params[0] = (tg_param){TG_FLOAT32, TG_ACCESS_READ, in_count};
    kk->params[1] = (tg_param){TG_FLOAT32, TG_ACCESS_WRITE, out_count};
    kk->k.nparams = 2;
    uint32_t out_view = kit_view(kk, ndim, shape, NULL, 0);
    kk->nodes[0] = (tg_node){TG_OP_LOAD, TG_FLOAT32, {-1, -1, -1}, 0, in_view, in_nviews, {0}};
    kk->nodes[1] = (tg_node){TG_OP_CONST, TG_FLOAT32, {-1, -1, -1}, 0, 0, 0, {.f = 1.0}};
    kk->nodes[2] = (tg_node){TG_OP_ADD, TG_FLOAT32, {0, 1, -1}, 0, 0, 0, {0}};
    kk->nodes[3] = (tg_node){TG_OP_STORE, TG_FLOAT32, {2, -1, -1}, 1, out_view, 1, {0}};
    kk->k.nnodes = 4;
}

static void test_index(void) {
    char err[256];
    kit_kernel kk;
    tgl_prog *p;
    tgl_target t = gpu(32);
    /* a plain reshape (3,8) -> (3,8) through a stack: affine, no div/mod */
    int64_t s38[] = {3, 8}, s46[] = {4, 6}, s24[] = {24};
    kit_init(&kk, 2, s38, 0, "plain");
    uint32_t v0 = kit_view(&kk, 1, s24, NULL, 0);
    kit_view(&kk, 2, s38, NULL, 0);
    copy_kernel(&kk, 2, s38, v0, 2, 24);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK, "lower a reshape stack");
    tap_ok(count_kind(p, p->access[0].addr, TGL_E_DIV) + count_kind(p, p->access[0].addr, TGL_E_MOD) == 0,
       "a reshape that cannot carry is unravelled without div/mod");
    tap_ok(p->access[0].valid == -1 && p->index32, "no mask; 32-bit indices for 24 elements");
    tgl_prog_free(p);
    /* (4,6) read as a row-major (3,8): every row but the first carries: div/mod */
    kit_init(&kk, 2, s46, 0, "carry");
    v0 = kit_view(&kk, 2, s38, (int64_t[]){1, 3}, 0); /* a transposed (8,3) storage seen as (3,8) */
    kit_view(&kk, 2, s46, NULL, 0);
    copy_kernel(&kk, 2, s46, v0, 2, 24);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK, "lower a carrying stack");
    tap_ok(count_kind(p, p->access[0].addr, TGL_E_MOD) > 0, "a carrying reshape needs div/mod");
    tap_ok(count_kind(p, p->access[3].addr, TGL_E_MOD) == 0, "the plain store stays affine");
    tgl_prog_free(p);
    /* a padded view: mask predicates */
    int64_t s10[] = {10};
    kit_init(&kk, 1, s10, 0, "pad");
    v0 = kit_view(&kk, 1, s10, NULL, -2);
    kk.views[v0].has_mask = 1;
    kk.views[v0].mask_lo[0] = 2;
    kk.views[v0].mask_hi[0] = 7;
    copy_kernel(&kk, 1, s10, v0, 1, 5);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK, "lower a padded load");
    tap_ok(count_kind(p, p->access[0].valid, TGL_E_GE) == 1 && count_kind(p, p->access[0].valid, TGL_E_LT) == 1,
       "a mask on both sides gives one >= and one <");
    tgl_prog_free(p);
    /* 2^32 elements: range analysis keeps 64-bit indices */
    int64_t big[] = {(int64_t)1 << 32};
    kit_init(&kk, 1, big, 0, "big");
    v0 = kit_view(&kk, 1, big, NULL, 0);
    copy_kernel(&kk, 1, big, v0, 1, big[0]);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK && !p->index32, "2^32 points: 64-bit indices");
    tap_ok(p->pass[0].global == (uint64_t)1 << 32 && p->pass[0].local == 256, "launch geometry covers every point");
    tgl_prog_free(p);
    t.index_bits = 64;
    kit_init(&kk, 1, s10, 0, "wide");
    v0 = kit_view(&kk, 1, s10, NULL, 0);
    copy_kernel(&kk, 1, s10, v0, 1, 10);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK && !p->index32, "index_bits 64: never 32-bit");
    tgl_prog_free(p);
}

/* C[m, n] = sum_k A[m, k] * B[k, n] over iteration space (M, N, K). */
static void matmul_kernel(kit_kernel *kk, int64_t M, int64_t N, int64_t K, uint32_t dt) {
    int64_t sh[] = {M, N, K}, out[] = {M, N, 1};
    kit_init(kk, 3, sh, 4u, "matmul");
    kk->params[0] = (tg_param){dt, TG_ACCESS_READ, M * K};
    kk->params[1] = (tg_param){dt, TG_ACCESS_READ, K * N};
    kk->params[2] = (tg_param){dt, TG_ACCESS_WRITE, M * N};
    kk->k.nparams = 3;
    uint32_t va = kit_view(kk, 3, sh, (int64_t[]){K, 0, 1}, 0);
    uint32_t vb = kit_view(kk, 3, sh, (int64_t[]){0, 1, N}, 0);
    uint32_t vc = kit_view(kk, 3, out, NULL, 0);
    kk->nodes[0] = (tg_node){TG_OP_LOAD, dt, {-1, -1, -1}, 0, va, 1, {0}};
    kk->nodes[1] = (tg_node){TG_OP_LOAD, dt, {-1, -1, -1}, 1, vb, 1, {0}};
    kk->nodes[2] = (tg_node){TG_OP_MUL, dt, {0, 1, -1}, 0, 0, 0, {0}};
    kk->nodes[3] = (tg_node){TG_OP_REDUCE_SUM, dt, {2, -1, -1}, 0, 0, 0, {0}};
    kk->nodes[4] = (tg_node){TG_OP_STORE, dt, {3, -1, -1}, 2, vc, 1, {0}};
    kk->k.nnodes = 5;
}

static void test_plans(void) {
    char err[256];
    kit_kernel kk;
    tgl_prog *p;
    tgl_plan plans[64], o;
    tgl_target cpu = {TGL_CPU, 2, 32, 0, 0, 0, 0, 0, 0, 0, 0};
    matmul_kernel(&kk, 64, 64, 64, TG_FLOAT32);
    tgl_plan_default(&kk.k, &cpu, &o);
    tap_ok(o.mode == TGL_MATMUL, "a float32 product takes the MATMUL layout on a CPU");
    int n = tgl_plan_variants(&kk.k, &cpu, plans, 64);
    tap_ok(n > 10 && !memcmp(&plans[0], &o, sizeof o), "CPU variants: %d, the default first", n);
    int all = 1;
    for (int i = 0; i < n; i++) {
        all &= tgl_lower(&kk.k, &cpu, &plans[i], &p, err, sizeof err) == TG_OK;
        tgl_prog_free(p);
    }
    tap_ok(all, "every CPU variant lowers");
    tgl_target t = gpu(32);
    n = tgl_plan_variants(&kk.k, &t, plans, 64);
    int groups = 0, tiles = 0;
    all = 1;
    for (int i = 0; i < n; i++) {
        groups += plans[i].mode == TGL_GROUP;
        tiles += plans[i].mode == TGL_TILE;
        all &= tgl_lower(&kk.k, &t, &plans[i], &p, err, sizeof err) == TG_OK;
        tgl_prog_free(p);
    }
    tap_ok(all && groups > 0 && tiles > 0 && n > groups + tiles, "GPU variants lower: THREAD, GROUP and TILE (%d)", n);
    tap_ok(plans[0].mode == TGL_TILE && plans[0].group == 256, "a 64^3 product on a GPU: 64x64 tiles, 256 work-items");
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK && p->pass[0].global == 256,
           "one work-group for one 64x64 tile");
    tgl_prog_free(p);
    t.local_bytes = 1024;
    tgl_plan_default(&kk.k, &t, &o);
    tap_ok(o.mode != TGL_TILE, "no TILE without the local memory for it");
    t.local_bytes = 32768;
    o = plans[0];
    o.mode = TGL_FLAT;
    tap_ok(tgl_lower(&kk.k, &t, &o, &p, err, sizeof err) == TG_ERR_INVALID && strstr(err, "plan refused"),
       "a CPU layout on a GPU target is refused: %s", err);
    o.mode = TGL_GROUP;
    o.group = 100;
    tap_ok(tgl_lower(&kk.k, &t, &o, &p, err, sizeof err) == TG_ERR_INVALID, "a group of 100 is refused: %s", err);
    t.native = 1u << TG_INT64;
    matmul_kernel(&kk, 4, 4, 4, TG_FLOAT64);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_ERR_UNSUPPORTED && strstr(err, "float64"),
       "float64 on a device without it: %s", err);
    /* few outputs over a long reduction: a work-group per output */
    t = gpu(32);
    matmul_kernel(&kk, 2, 2, 4096, TG_FLOAT32);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK && p->plan.mode == TGL_GROUP &&
       p->pass[0].global == 4u * (uint64_t)p->plan.group, "a long reduction: GROUP, one group per output");
    tgl_prog_free(p);
    matmul_kernel(&kk, 1, 1, 1 << 20, TG_FLOAT32);
    tg_status st = tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err);
    tap_ok(st == TG_OK && p->plan.split >= 2 && p->npasses == 2 &&
       p->scratch_bytes == 4u * (uint64_t)p->plan.split && p->pass[1].global == (uint64_t)p->plan.group &&
       p->pass[0].global == p->pass[1].global * (uint64_t)p->plan.split, "one output over 2^20 points: split in %d parts, "
       "two passes, a scratch of partials", st == TG_OK ? p->plan.split : 0);
    tgl_prog_free(p);
    /* the target's knobs: outputs per work-item, most outputs of a GROUP */
    t.item_outputs = 8;
    int64_t shape[2] = {6, 16};
    kit_init(&kk, 2, shape, 0, "copy");
    copy_kernel(&kk, 2, shape, kit_view(&kk, 2, shape, NULL, 0), 1, 96);
    st = tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err); /* before the message's arguments read p */
    tap_ok(st == TG_OK && p->plan.mode == TGL_THREAD && p->plan.block == 8 && p->pass[0].global == 256,
       "item_outputs 8: an elementwise work-item computes 8 neighbours (block %d)", st == TG_OK ? p->plan.block : 0);
    tgl_prog_free(p);
    matmul_kernel(&kk, 8, 12, 32, TG_FLOAT32);
    t.local_bytes = 0;
    st = tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err);
    tap_ok(st == TG_OK && p->plan.mode == TGL_THREAD && p->plan.block == 4,
       "a reduction's work-item computes half as many, dividing its axis (block %d)", st == TG_OK ? p->plan.block : 0);
    tgl_prog_free(p);
    o = (tgl_plan){.mode = TGL_THREAD, .group = 64, .block = 8, .par_axis = -1};
    tap_ok(tgl_lower(&kk.k, &t, &o, &p, err, sizeof err) == TG_ERR_INVALID && strstr(err, "block"),
       "a THREAD block that does not divide the axis is refused: %s", err);
    t = gpu(32);
    t.group_outputs = 2;
    matmul_kernel(&kk, 2, 2, 4096, TG_FLOAT32);
    tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK && p->plan.mode == TGL_THREAD,
       "group_outputs 2: 4 outputs take no GROUP layout");
    tgl_prog_free(p);
    t = gpu(32);
    t.part_points = 256;
    matmul_kernel(&kk, 1, 1, 1 << 20, TG_FLOAT32);
    st = tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err);
    tap_ok(st == TG_OK && p->plan.split == 16,
       "part_points 256: 2^20 points split in 16 parts of 256 per work-item (%d)", st == TG_OK ? p->plan.split : 0);
    tgl_prog_free(p);
}

static void test_render(void) {
    char err[256];
    kit_kernel kk;
    tgl_prog *p;
    tgl_target t = gpu(32);
    matmul_kernel(&kk, 2, 2, 4096, TG_FLOAT16);
    const tgl_dialect *ds[] = {&tgl_dialect_opencl, &tgl_dialect_cuda};
    const char *heads[] = {"__kernel void tgk(", "extern \"C\" __global__ void tgk("};
    const char *sync[] = {"barrier(CLK_LOCAL_MEM_FENCE)", "__syncthreads()"};
    for (int i = 0; i < 2; i++) {
        tgl_sb sb = {0};
        tap_ok(tgl_lower(&kk.k, &t, NULL, &p, err, sizeof err) == TG_OK && tgl_render(p, ds[i], &sb) == TG_OK,
           "%s: render a float16 group reduction", ds[i]->name);
        tap_ok(sb.s && strstr(sb.s, heads[i]) && strstr(sb.s, sync[i]) && strstr(sb.s, "tg_rh("),
           "%s: kernel head, barrier and float16 rounding present", ds[i]->name);
        tgl_sb_free(&sb);
        tgl_prog_free(p);
    }
    /* the C dialect on a CPU target: the entry points the header promises */
    tgl_target cpu = {TGL_CPU, 2, 32, 0, 0, 0, 0, 0, 0, 0, 0};
    matmul_kernel(&kk, 1, 1, 1 << 16, TG_FLOAT32);
    tgl_sb sb = {0};
    tap_ok(tgl_lower(&kk.k, &cpu, NULL, &p, err, sizeof err) == TG_OK && p->plan.split && p->npasses == 2 &&
       tgl_render(p, &tgl_dialect_c, &sb) == TG_OK && strstr(sb.s, "void tgk_part(") && strstr(sb.s, "void tgk_fin("),
       "a split reduction renders tgk_part and tgk_fin");
    tgl_sb_free(&sb);
    tgl_prog_free(p);
}

/* 1.1: ARG nodes read the launch's words: through `a_` in C, one by-value
 * parameter each in OpenCL and CUDA; bounded axes are left to the core. */
static void test_args(void) {
    char err[256];
    kit_kernel kk;
    tgl_prog *p;
    int64_t s8[] = {8};
    kit_init(&kk, 1, s8, 0, "args");
    kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 8);
    kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 8);
    uint32_t v = kit_view(&kk, 1, s8, NULL, 0);
    int32_t x = kit_load(&kk, 0, v, 1);
    int32_t a = kit_arg(&kk, TG_FLOAT32);
    kit_store(&kk, 1, v, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, x, a, -1));
    tgl_target cpu = {TGL_CPU, 2, 32, 0, 0, 0, 0, 0, 0, 0, 0}, g = gpu(32);
    const tgl_target *ts[] = {&cpu, &g, &g};
    const tgl_dialect *ds[] = {&tgl_dialect_c, &tgl_dialect_opencl, &tgl_dialect_cuda};
    const char *param[] = {"const uint64_t *R a_, int64_t lo", "uint64_t a0_)", "uint64_t a0_)"};
    const char *read[] = {"tg_bitsf((uint32_t)a_[0])", "tg_bitsf((uint32_t)a0_)", "tg_bitsf((uint32_t)a0_)"};
    for (int i = 0; i < 3; i++) {
        tgl_sb sb = {0};
        tap_ok(tgl_lower(&kk.k, ts[i], NULL, &p, err, sizeof err) == TG_OK && tgl_render(p, ds[i], &sb) == TG_OK &&
                   strstr(sb.s, param[i]) && strstr(sb.s, read[i]),
               "%s: an argument is a parameter and its ARG node reads it", ds[i]->name);
        tgl_sb_free(&sb);
        tgl_prog_free(p);
    }
    tg_arg as[5] = {{TG_FLOAT32, 0, 0}, {TG_FLOAT64, 0, 0}, {TG_INT8, 0, 0}, {TG_BOOL, 0, 0}, {TG_FLOAT16, 0, 0}};
    tg_scalar vs[5] = {{.f = -0.0}, {.f = 0.1}, {.i = -1}, {.i = 1}, {.f = 1.5}};
    uint64_t w[5], d01;
    double tenth = 0.1;
    memcpy(&d01, &tenth, 8);
    tgl_args_pack(5, as, vs, w);
    tap_ok(w[0] == 0x80000000u && w[1] == d01 && w[2] == UINT64_MAX && w[3] == 1 && w[4] == 0x3fc00000u,
           "argument words: float bits (-0 kept), double bits, integers as they are, float16 as a float");
    /* axis 0 bounded by argument 1, the load moved by argument 1 * -1 from 10 */
    kk.args[kk.k.nargs++] = (tg_arg){TG_INT32, 0, 8};
    kk.k.extent_arg[0] = 2;
    kk.params[0].count = 20;
    kk.views[v].offset = 10;
    tg_arg_offset off = {v, 1, -1};
    kk.k.noffsets = 1;
    kk.k.offsets = &off;
    const char *bound[] = {"const int64_t x0_ = (int64_t)a_[1];", "const int32_t x0_ = (int32_t)a1_;"};
    const char *loop[] = {"if (hi > x0_) hi = x0_;", "if (!(i0 < x0_)) return;"};
    for (int i = 0; i < 2; i++) {
        tgl_sb sb = {0};
        tap_ok(tgl_lower(&kk.k, ts[i], NULL, &p, err, sizeof err) == TG_OK && tgl_render(p, ds[i], &sb) == TG_OK,
               "%s: a bounded axis and a moving view lower", ds[i]->name);
        int32_t e = p->access[x].addr;
        tap_ok(p->expr[e].kind == TGL_E_ADD && p->expr[p->expr[e].b].kind == TGL_E_MUL &&
                   p->expr[p->expr[p->expr[e].b].a].kind == TGL_E_ARG && p->expr[e].lo == 2 && p->expr[e].hi == 17,
               "%s: the moving load's address gains arg * stride; its range uses the max (2..17)", ds[i]->name);
        tap_ok(sb.s && strstr(sb.s, bound[i]) && strstr(sb.s, loop[i]), "%s: the extent is read at run time and bounds the axis",
               ds[i]->name);
        tgl_sb_free(&sb);
        tgl_prog_free(p);
    }
}

/* The SDK's struct_size helper never writes part of a field. */
static void test_caps_copy(void) {
    tg_caps src = {0}, dst;
    src.struct_size = sizeof src;
    src.dtypes = 7;
    src.memory_bytes = 0x1122334455667788ull;
    src.name = "x";
    memset(&dst, 0xab, sizeof dst);
    dst.struct_size = (uint32_t)(offsetof(tg_caps, memory_bytes) + 4); /* cuts memory_bytes */
    tgp_caps_copy(&dst, &src);
    uint64_t untouched;
    memset(&untouched, 0xab, sizeof untouched);
    tap_ok(dst.dtypes == 7 && dst.memory_bytes == untouched && dst.struct_size == offsetof(tg_caps, memory_bytes) + 4,
           "caps: a struct_size inside a field copies the fields before it and none of that one");
    dst.struct_size = sizeof dst;
    tgp_caps_copy(&dst, &src);
    tap_ok(dst.memory_bytes == src.memory_bytes && dst.name == src.name, "caps: a whole struct copies every field");
    tap_ok(!strcmp(tgp_dtype_name(TG_BFLOAT16), "bfloat16") && !strcmp(tgp_op_name(TG_OP_STORE), "STORE") &&
           !strcmp(tgp_dtype_name(99), "?"), "one name table for dtypes and ops");
}

/* The one cache-directory rule plugins share. */
static void test_cache_dir(void) {
    char base[] = "/tmp/tg-lower-cache-XXXXXX", dir[512], want[600];
    if (!mkdtemp(base)) return;
    setenv("XDG_CACHE_HOME", base, 1);
    snprintf(want, sizeof want, "%s/tg/x", base);
    struct stat st;
    tap_ok(tgp_cache_dir("x", dir, sizeof dir) == 1 && !strcmp(dir, want) && stat(want, &st) == 0,
           "cache dir: $XDG_CACHE_HOME/tg/SUB, created");
    chmod(want, 0777);
    tap_ok(tgp_cache_dir("x", dir, sizeof dir) == -1, "cache dir: one others can write is refused");
    setenv("XDG_CACHE_HOME", "relative", 1);
    setenv("HOME", base, 1);
    snprintf(want, sizeof want, "%s/.cache/tg/x", base);
    tap_ok(tgp_cache_dir("x", dir, sizeof dir) == 1 && !strcmp(dir, want), "cache dir: a relative XDG_CACHE_HOME is ignored");
    unsetenv("HOME");
    tap_ok(tgp_cache_dir("x", dir, sizeof dir) == 0 && !dir[0], "cache dir: none without an absolute base");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    tap_ok(system(cmd) == 0, "cache dir: cleaned up");
}

int main(void) {
    test_caps_copy();
    test_cache_dir();
    test_index();
    test_plans();
    test_render();
    test_args();
    return tap_done();
}
