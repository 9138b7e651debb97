/* tests/lower/test_lower_opencl.c -- every GPU plan of the lowering library,
 * run on a real OpenCL device (PoCL on CI): for a set of kernels, each plan
 * tgl_plan_variants lists (work-item per output, work-group trees, tiled
 * products of several tile sizes) is rendered as OpenCL C, built and run, and
 * its outputs are compared with the ref plugin's. Skips (77) without an
 * OpenCL device.   test_lower_opencl REF_PLUGIN */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <tg/dtype_util.h>
#include <tg/lower.h>

#include "tap.h"
#include "../cpu/kit.h"

static cl_context ctx;
static cl_command_queue queue;
static cl_device_id dev;
static uint32_t native = ~0u;

/* Build and run one plan; outputs into data[] (write params). 0 on success. */
static int run_cl(const tg_kernel *k, const tgl_plan *plan, void *const *data, const uint64_t *words, char *err,
                  size_t errcap) {
    tgl_target t = {.kind = TGL_GPU, .max_group = 256, .local_bytes = 16384, .native = native, .index_bits = 32};
    tgl_prog *lp = NULL;
    tgl_sb src = {0};
    cl_mem mem[17] = {0};
    cl_program prog = NULL;
    cl_kernel kern[2] = {NULL, NULL};
    int rc = -1;
    if (tgl_lower(k, &t, plan, &lp, err, errcap) != TG_OK || tgl_render(lp, &tgl_dialect_opencl, &src) != TG_OK) goto out;
    const char *text = src.s;
    cl_int e;
    prog = clCreateProgramWithSource(ctx, 1, &text, NULL, &e);
    if (e || clBuildProgram(prog, 1, &dev, "", NULL, NULL)) {
        size_t n = 0;
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, errcap, err, &n);
        goto out;
    }
    e = CL_SUCCESS;
    for (uint32_t i = 0; i <= k->nparams && !e; i++) { /* the buffers, then the scratch of a split */
        size_t bytes = i < k->nparams ? (size_t)k->params[i].count * tgp_dtype_size(k->params[i].dtype) : lp->scratch_bytes;
        int rd = i < k->nparams && k->params[i].access == TG_ACCESS_READ;
        if (i == k->nparams && !bytes) break;
        int host = i < k->nparams && bytes; /* outputs start as the caller's data: unstored elements keep it */
        mem[i] = clCreateBuffer(ctx, (rd ? CL_MEM_READ_ONLY : CL_MEM_READ_WRITE) | (host ? CL_MEM_COPY_HOST_PTR : 0),
                                bytes ? bytes : 1, host ? data[i] : NULL, &e);
    }
    for (uint32_t ps = 0; ps < lp->npasses && !e; ps++) {
        kern[ps] = clCreateKernel(prog, lp->pass[ps].fn, &e);
        uint32_t na = k->nargs; /* the buffers, the argument words, the scratch */
        for (uint32_t i = 0; i < na && !e; i++) e = clSetKernelArg(kern[ps], k->nparams + i, 8, &words[i]);
        for (uint32_t i = 0; i <= k->nparams && !e && mem[i]; i++)
            e = clSetKernelArg(kern[ps], i < k->nparams ? i : i + na, sizeof mem[i], &mem[i]);
        size_t global = lp->pass[ps].global, local = lp->pass[ps].local;
        if (!e && global) e = clEnqueueNDRangeKernel(queue, kern[ps], 1, NULL, &global, &local, 0, NULL, NULL);
    }
    for (uint32_t i = 0; i < k->nparams && !e; i++)
        if (k->params[i].access == TG_ACCESS_WRITE)
            e = clEnqueueReadBuffer(queue, mem[i], CL_TRUE, 0, (size_t)k->params[i].count * tgp_dtype_size(k->params[i].dtype),
                                    data[i], 0, NULL, NULL);
    if (e) snprintf(err, errcap, "OpenCL error %d", (int)e);
    else rc = 0;
out:
    for (uint32_t i = 0; i <= k->nparams; i++)
        if (mem[i]) clReleaseMemObject(mem[i]);
    for (int ps = 0; ps < 2; ps++)
        if (kern[ps]) clReleaseKernel(kern[ps]);
    if (prog) clReleaseProgram(prog);
    tgl_sb_free(&src);
    tgl_prog_free(lp);
    return rc;
}

static double value(const void *p, uint32_t dt, int64_t i) {
    switch (dt) {
    case TG_FLOAT16: return tgp_half_to_float(((const uint16_t *)p)[i]);
    case TG_BFLOAT16: return tgp_bf16_to_float(((const uint16_t *)p)[i]);
    case TG_FLOAT32: return ((const float *)p)[i];
    case TG_FLOAT64: return ((const double *)p)[i];
    case TG_INT8: return ((const int8_t *)p)[i];
    case TG_INT32: return ((const int32_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

static void fill(void *p, uint32_t dt, int64_t n, unsigned seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        double x = (double)(seed >> 8 & 0xffff) / 32768.0 - 1.0;
        switch (dt) {
        case TG_FLOAT16: ((uint16_t *)p)[i] = tgp_float_to_half((float)x); break;
        case TG_FLOAT32: ((float *)p)[i] = (float)x; break;
        case TG_FLOAT64: ((double *)p)[i] = x; break;
        case TG_INT8: ((int8_t *)p)[i] = (int8_t)(x * 100); break;
        case TG_INT32: ((int32_t *)p)[i] = (int32_t)(x * 1000); break;
        default: ((uint8_t *)p)[i] = x > 0; break;
        }
    }
}

/* 1.1: what ref runs for the arguments `vals` of kernel kk (kk itself when
 * it has none): ARG nodes as CONSTs, bounded axes and their top views cut,
 * moving views moved (the test kernels' top views have the iteration shape). */
static void bind(const kit_kernel *kk, const tg_scalar *vals, kit_kernel *out) {
    *out = *kk;
    out->k.nodes = out->nodes, out->k.views = out->views, out->k.params = out->params, out->k.args = out->args;
    for (uint32_t n = 0; n < kk->k.nnodes; n++)
        if (out->nodes[n].op == TG_OP_ARG) out->nodes[n].op = TG_OP_CONST, out->nodes[n].value = vals[out->nodes[n].buffer];
    for (uint32_t o = 0; o < kk->k.noffsets; o++) out->views[kk->k.offsets[o].view].offset += vals[kk->k.offsets[o].arg].i * kk->k.offsets[o].stride;
    for (uint32_t d = 0; d < kk->k.ndim; d++) {
        if (!kk->k.extent_arg[d]) continue;
        out->k.shape[d] = vals[kk->k.extent_arg[d] - 1].i;
        for (uint32_t n = 0; n < kk->k.nnodes; n++) {
            const tg_node *nd = &kk->nodes[n];
            if (nd->op != TG_OP_LOAD && nd->op != TG_OP_STORE) continue;
            tg_view *top = &out->views[nd->view + nd->nviews - 1];
            if (top->shape[d] == kk->k.shape[d]) top->shape[d] = out->k.shape[d];
        }
        out->k.extent_arg[d] = 0;
    }
    out->k.nargs = 0, out->k.noffsets = 0;
}

/* Every plan of kernel kk against ref; tol: relative tolerance for floats;
 * vals: the kernel's argument values (NULL: none); live: the leading
 * elements of each output that are stored (the rest are undefined). */
static void check_all_plans_args(kit_plugin *ref, kit_kernel *kk, const char *what, double tol, const tg_scalar *vals,
                                 int64_t live) {
    const tg_kernel *k = &kk->k;
    void *in[16] = {0}, *want[16] = {0}, *got[16] = {0};
    char err[8192];
    for (uint32_t i = 0; i < k->nparams; i++) {
        size_t bytes = (size_t)k->params[i].count * tgp_dtype_size(k->params[i].dtype) + 1;
        in[i] = calloc(1, bytes);
        want[i] = calloc(1, bytes);
        got[i] = calloc(1, bytes);
        if (k->params[i].access == TG_ACCESS_READ) {
            fill(in[i], k->params[i].dtype, k->params[i].count, 7u + i);
            memcpy(want[i], in[i], bytes);
            memcpy(got[i], in[i], bytes);
        }
    }
    kit_kernel *bound = malloc(sizeof *bound);
    uint64_t words[8] = {0};
    bind(kk, vals, bound);
    if (vals) tgl_args_pack(k->nargs, k->args, vals, words);
    tap_ok(kit_run(ref, &bound->k, want, 1, err, sizeof err) == 0, "%s: ref runs it", what);
    free(bound);
    tgl_target t = {.kind = TGL_GPU, .max_group = 256, .local_bytes = 16384, .native = native, .index_bits = 32,
                    .item_outputs = 8};
    tgl_plan plans[32];
    int n = tgl_plan_variants(k, &t, plans, 32);
    for (int v = 0; v < n; v++) {
        for (uint32_t i = 0; i < k->nparams; i++)
            if (k->params[i].access == TG_ACCESS_WRITE) memset(got[i], 0xa5, (size_t)k->params[i].count * tgp_dtype_size(k->params[i].dtype));
        int good = run_cl(k, &plans[v], got, words, err, sizeof err) == 0;
        int64_t bad = -1;
        for (uint32_t i = 0; i < k->nparams && good; i++) {
            if (k->params[i].access != TG_ACCESS_WRITE) continue;
            size_t es = tgp_dtype_size(k->params[i].dtype);
            for (int64_t j = live; j < k->params[i].count && bad < 0; j++) /* not stored: untouched */
                for (size_t b = 0; b < es; b++) bad = ((unsigned char *)got[i])[(size_t)j * es + b] != 0xa5 ? j : bad;
            for (int64_t j = 0; j < k->params[i].count && j < live && bad < 0; j++) {
                double a = value(got[i], k->params[i].dtype, j), b = value(want[i], k->params[i].dtype, j);
                if (!(a == b || fabs(a - b) <= tol * (1 + fabs(b)))) bad = j;
            }
        }
        tap_ok(good && bad < 0, "%s: plan mode %d group %d block %d mr %d nc %d split %d matches ref%s%s", what,
               plans[v].mode, plans[v].group, plans[v].block, plans[v].mr, plans[v].nc, plans[v].split, good ? "" : ": ",
               good ? "" : err);
    }
    for (uint32_t i = 0; i < k->nparams; i++) free(in[i]), free(want[i]), free(got[i]);
}

static void check_all_plans(kit_plugin *ref, kit_kernel *kk, const char *what, double tol) {
    check_all_plans_args(ref, kk, what, tol, NULL, INT64_MAX);
}

/* 1.1: out[j] = sum_{i < n} x[j, i + m] + c over j < r: both axes bounded
 * (n, r), the load moved by m, c an ARG; every plan, several values. */
static void check_args(kit_plugin *ref, int64_t rows, int64_t len) {
    kit_kernel kk;
    int64_t sh[] = {rows, len}, out[] = {rows, 1};
    kit_init(&kk, 2, sh, 2u, "args");
    uint32_t px = kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, rows * len + 3), po = kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, rows);
    int32_t x = kit_load(&kk, px, kit_view(&kk, 2, sh, NULL, 0), 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, x, -1, -1);
    int32_t c = kit_arg(&kk, TG_FLOAT32);
    kit_store(&kk, po, kit_view(&kk, 2, out, NULL, 0), kit_node(&kk, TG_OP_ADD, TG_FLOAT32, r, c, -1));
    kk.args[kk.k.nargs++] = (tg_arg){TG_INT32, 0, len};  /* n */
    kk.args[kk.k.nargs++] = (tg_arg){TG_UINT16, 0, 3};   /* m */
    kk.args[kk.k.nargs++] = (tg_arg){TG_INT64, 0, rows}; /* r */
    kk.k.extent_arg[1] = 2;
    kk.k.extent_arg[0] = 4;
    static tg_arg_offset off = {0, 2, 1};
    kk.k.noffsets = 1;
    kk.k.offsets = &off;
    const tg_scalar vals[3][4] = {{{.f = 0.5}, {.i = len}, {.u = 0}, {.i = rows}},
                                  {{.f = -1.0}, {.i = 0}, {.u = 3}, {.i = 1}},
                                  {{.f = 2.0}, {.i = len / 3}, {.u = 1}, {.i = rows - 1}}};
    for (int v = 0; v < 3; v++) {
        char what[96];
        snprintf(what, sizeof what, "args %lldx%lld: n %lld, m %llu, rows %lld", (long long)rows, (long long)len,
                 (long long)vals[v][1].i, (unsigned long long)vals[v][2].u, (long long)vals[v][3].i);
        check_all_plans_args(ref, &kk, what, 1e-4, vals[v], vals[v][3].i);
    }
}

/* out[b, m, n] = relu(sum_k A[b, m, k] * B(k, n)) (+ B transposed when bt). */
static void matmul(kit_kernel *kk, uint32_t dt, int64_t bs, int64_t M, int64_t N, int64_t K, int bt) {
    int64_t sh[] = {bs, M, N, K}, out[] = {bs, M, N, 1};
    kit_init(kk, 4, sh, 8u, "mm");
    uint32_t pa = kit_param(kk, dt, TG_ACCESS_READ, bs * M * K), pb = kit_param(kk, dt, TG_ACCESS_READ, K * N);
    uint32_t pc = kit_param(kk, dt, TG_ACCESS_WRITE, bs * M * N);
    int32_t a = kit_load(kk, pa, kit_view(kk, 4, sh, (int64_t[]){M * K, K, 0, 1}, 0), 1);
    int32_t b = kit_load(kk, pb, kit_view(kk, 4, sh, bt ? (int64_t[]){0, 0, K, 1} : (int64_t[]){0, 0, 1, N}, 0), 1);
    int32_t r = kit_node(kk, TG_OP_REDUCE_SUM, dt, kit_node(kk, TG_OP_MUL, dt, a, b, -1), -1, -1);
    int32_t z = kit_const(kk, dt, (tg_scalar){.f = 0});
    kit_store(kk, pc, kit_view(kk, 4, out, NULL, 0), kit_node(kk, TG_OP_MAX, dt, r, z, -1));
}

/* out[i] = reduce over a padded, permuted view of x (a view stack). */
static void reduction(kit_kernel *kk, uint32_t op, uint32_t dt, int64_t rows, int64_t len) {
    int64_t sh[] = {rows, len}, out[] = {rows, 1}, flat[] = {rows * len}, low[] = {len, rows};
    kit_init(kk, 2, sh, 2u, "red");
    uint32_t px = kit_param(kk, dt, TG_ACCESS_READ, rows * len), po = kit_param(kk, dt, TG_ACCESS_WRITE, rows);
    uint32_t v0 = kit_view(kk, 1, flat, NULL, 0);
    kit_view(kk, 2, low, (int64_t[]){rows, 1}, 0); /* x seen transposed */
    kit_view(kk, 2, sh, (int64_t[]){1, rows}, 0);
    kit_mask(kk, v0 + 2, (int64_t[]){0, 1}, (int64_t[]){rows, len - 1}); /* the ends padded */
    int32_t x = kit_load(kk, px, v0, 3);
    kit_store(kk, po, kit_view(kk, 2, out, NULL, 0), kit_node(kk, op, dt, x, -1, -1));
}

int main(int argc, char **argv) {
    cl_platform_id plats[8];
    cl_uint np = 0;
    if (argc < 2 || clGetPlatformIDs(8, plats, &np) != CL_SUCCESS || np == 0 ||
        clGetDeviceIDs(plats[0], CL_DEVICE_TYPE_ALL, 1, &dev, NULL) != CL_SUCCESS) {
        printf("1..0 # SKIP no OpenCL device\n");
        return 77;
    }
    char ext[4096] = "";
    clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, sizeof ext, ext, NULL);
    if (!strstr(ext, "cl_khr_fp64")) native = ~(1u << TG_FLOAT64);
    cl_int e;
    ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
    queue = clCreateCommandQueue(ctx, dev, 0, &e);
    kit_plugin ref;
    if (kit_open(&ref, argv[1]) != 0) return 1;
    kit_kernel kk;
    matmul(&kk, TG_FLOAT32, 2, 67, 45, 33, 0);
    check_all_plans(&ref, &kk, "f32 matmul 2x67x45x33, ragged tiles", 1e-5);
    matmul(&kk, TG_FLOAT32, 1, 64, 64, 64, 1);
    check_all_plans(&ref, &kk, "f32 matmul 64^3, B transposed", 1e-5);
    if (native >> TG_FLOAT64 & 1u) {
        matmul(&kk, TG_FLOAT64, 1, 40, 36, 20, 0);
        check_all_plans(&ref, &kk, "f64 matmul 40x36x20", 1e-12);
    }
    reduction(&kk, TG_OP_REDUCE_SUM, TG_FLOAT16, 3, 1000);
    check_all_plans(&ref, &kk, "f16 sum of a padded transposed view", 2e-2);
    reduction(&kk, TG_OP_REDUCE_MAX, TG_INT32, 70, 37);
    check_all_plans(&ref, &kk, "int32 max of a padded transposed view", 0);
    reduction(&kk, TG_OP_REDUCE_SUM, TG_INT8, 5, 300);
    check_all_plans(&ref, &kk, "int8 wrapping sum", 0);
    reduction(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, 2, 200000);
    check_all_plans(&ref, &kk, "f32 long sums, split in parts", 1e-4);
    reduction(&kk, TG_OP_REDUCE_MAX, TG_BOOL, 1, 40000);
    check_all_plans(&ref, &kk, "bool any over a long axis", 0);
    check_args(&ref, 3, 1000);
    check_args(&ref, 2, 200000);
    kit_close(&ref);
    clReleaseCommandQueue(queue);
    clReleaseContext(ctx);
    return tap_done();
}
