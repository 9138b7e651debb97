/* tests/cpu/test_cpu_args.c -- kernel arguments (ABI 1.1) on the cpu
 * plugin: one program launched with several values follows them (in an
 * elementwise kernel, a reduction, and a reduction split over threads whose
 * combining pass reads them too) and compiles nothing more; axes bounded and
 * views moved by arguments.
 * usage: test_cpu_args CPU_PLUGIN.so */
#include "../tap.h"
#include "kit.h"

typedef void (*stats_fn)(tg_device *, uint64_t *, uint64_t *, const char **);
static kit_plugin P;

static tg_buffer *buffer(uint64_t bytes, const void *data) {
    tg_buffer *b = NULL;
    if (P.api->buffer_create(P.dev, bytes, &b) != TG_OK) return NULL;
    if (data) P.api->buffer_write(P.dev, b, 0, data, bytes);
    return b;
}

static uint64_t compiles(void) {
    stats_fn st = (stats_fn)dlsym(P.dl, "tg_cpu_cache_stats");
    uint64_t c = 0, h = 0;
    const char *dir = "";
    if (st) st(P.dev, &c, &h, &dir);
    return c;
}

static tg_status run(tg_program *prog, tg_buffer **bufs, uint32_t nb, const tg_scalar *vals, uint32_t nargs) {
    tg_launch l = {.struct_size = sizeof l, .nbuffers = nb, .buffers = bufs, .nargs = nargs, .args = vals};
    return P.api->program_run(P.dev, prog, &l);
}

/* out[i] = in[i] * a0 + (float)a1, a0 float32, a1 int32. */
static void test_elementwise(void) {
    kit_kernel kk;
    int64_t s[1] = {100};
    kit_init(&kk, 1, s, 0, "args_ew");
    uint32_t v = kit_view(&kk, 1, s, NULL, 0);
    int32_t x = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 100), v, 1);
    int32_t a0 = kit_arg(&kk, TG_FLOAT32), a1 = kit_arg(&kk, TG_INT32);
    int32_t y = kit_node(&kk, TG_OP_MUL, TG_FLOAT32, x, a0, -1);
    y = kit_node(&kk, TG_OP_ADD, TG_FLOAT32, y, kit_node(&kk, TG_OP_CAST, TG_FLOAT32, a1, -1, -1), -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 100), v, y);
    float in[100], out[100];
    for (int i = 0; i < 100; i++) in[i] = (float)i - 50.0f;
    tg_buffer *b[2] = {buffer(sizeof in, in), buffer(sizeof out, NULL)};
    tg_program *prog = NULL;
    tap_ok(P.api->program_create(P.dev, &kk.k, &prog) == TG_OK, "elementwise kernel with two arguments compiles");
    uint64_t before = compiles();
    const tg_scalar vals[3][2] = {{{.f = 2.0}, {.i = 0}}, {{.f = -0.5}, {.i = 7}}, {{.f = 0.25}, {.i = -100000}}};
    for (int r = 0; r < 3 && prog; r++) {
        int ok = run(prog, b, 2, vals[r], 2) == TG_OK && P.api->buffer_read(P.dev, b[1], 0, out, sizeof out) == TG_OK;
        for (int i = 0; ok && i < 100; i++) ok = out[i] == in[i] * (float)vals[r][0].f + (float)vals[r][1].i;
        tap_ok(ok, "launch %d: out = in * %g + %lld", r, vals[r][0].f, (long long)vals[r][1].i);
    }
    tap_ok(compiles() == before, "the launches compiled nothing");
    tap_ok(prog && run(prog, b, 2, vals[0], 1) == TG_ERR_INVALID && strstr(P.api->device_error(P.dev), "argument"),
           "a launch with the wrong number of values is refused: %s", P.api->device_error(P.dev));
    tg_program *again = NULL;
    tap_ok(P.api->program_create(P.dev, &kk.k, &again) == TG_OK && compiles() == before,
           "the same kernel again is a cache hit (values are not in it)");
    P.api->program_destroy(P.dev, again);
    P.api->program_destroy(P.dev, prog);
    for (int i = 0; i < 2; i++) P.api->buffer_destroy(P.dev, b[i]);
}

/* out[j] = sum_i(in[j, i] * a0) + a1 in int32 over `rows` x `cols`. */
static void test_reduce(int64_t rows, int64_t cols) {
    kit_kernel kk;
    int64_t s[2] = {rows, cols}, o[2] = {rows, 1};
    kit_init(&kk, 2, s, 2u, "args_red");
    int32_t x = kit_load(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_READ, rows * cols), kit_view(&kk, 2, s, NULL, 0), 1);
    int32_t a0 = kit_arg(&kk, TG_INT32), a1 = kit_arg(&kk, TG_INT32);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_INT32, kit_node(&kk, TG_OP_MUL, TG_INT32, x, a0, -1), -1, -1);
    kit_store(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_WRITE, rows), kit_view(&kk, 2, o, NULL, 0),
              kit_node(&kk, TG_OP_ADD, TG_INT32, r, a1, -1));
    int32_t *in = malloc((size_t)(rows * cols) * 4), out[4];
    for (int64_t i = 0; i < rows * cols; i++) in[i] = (int32_t)(i % 7) - 3;
    tg_buffer *b[2] = {buffer((uint64_t)(rows * cols) * 4, in), buffer((uint64_t)rows * 4, NULL)};
    tg_program *prog = NULL;
    tap_ok(P.api->program_create(P.dev, &kk.k, &prog) == TG_OK, "reduction %lldx%lld with arguments compiles",
           (long long)rows, (long long)cols);
    const char *src = P.api->program_source(P.dev, prog);
    const tg_scalar vals[3][2] = {{{.i = 1}, {.i = 0}}, {{.i = -3}, {.i = 5}}, {{.i = INT32_MAX}, {.i = INT32_MIN}}};
    for (int k = 0; k < 3 && prog; k++) {
        int ok = run(prog, b, 2, vals[k], 2) == TG_OK && P.api->buffer_read(P.dev, b[1], 0, out, (size_t)rows * 4) == TG_OK;
        for (int64_t j = 0; ok && j < rows; j++) {
            uint32_t want = 0;
            for (int64_t i = 0; i < cols; i++) want += (uint32_t)in[j * cols + i] * (uint32_t)vals[k][0].i;
            ok = (uint32_t)out[j] == want + (uint32_t)vals[k][1].i;
        }
        tap_ok(ok, "%s reduction, launch %d: sum(in * %lld) + %lld", src && strstr(src, "tgk_fin") ? "split" : "plain", k,
               (long long)vals[k][0].i, (long long)vals[k][1].i);
    }
    P.api->program_destroy(P.dev, prog);
    for (int i = 0; i < 2; i++) P.api->buffer_destroy(P.dev, b[i]);
    free(in);
}

/* Bounded axes: out[j] = sum_{i < n} in[j, i] with axis 1 bounded by n (max
 * cols), then out2[i] = -in2[i + m] over a bounded axis of `len` points read
 * through a view moved by m: layouts with lanes, split over threads, a
 * thread axis cut short. */
static void test_bounds(int64_t rows, int64_t cols, int64_t len) {
    kit_kernel kk;
    int64_t s[2] = {rows, cols}, o[2] = {rows, 1};
    kit_init(&kk, 2, s, 2u, "args_bound");
    int32_t x = kit_load(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_READ, rows * cols), kit_view(&kk, 2, s, NULL, 0), 1);
    kk.args[kk.k.nargs++] = (tg_arg){TG_INT64, 0, cols};
    kk.k.extent_arg[1] = 1;
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_INT32, x, -1, -1);
    kit_store(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_WRITE, rows), kit_view(&kk, 2, o, NULL, 0), r);
    int32_t *in = malloc((size_t)(rows * cols) * 4), *out = malloc((size_t)rows * 4);
    for (int64_t i = 0; i < rows * cols; i++) in[i] = (int32_t)(i % 7) - 3;
    tg_buffer *b[2] = {buffer((uint64_t)(rows * cols) * 4, in), buffer((uint64_t)rows * 4, NULL)};
    tg_program *prog = NULL;
    tap_ok(P.api->program_create(P.dev, &kk.k, &prog) == TG_OK, "%lldx%lld sum over a bounded axis compiles",
           (long long)rows, (long long)cols);
    const char *src = prog ? P.api->program_source(P.dev, prog) : NULL;
    if (rows == 1) tap_ok(src && strstr(src, "tgk_fin") && strstr(src, "if (hi > x1_)"), "split over threads, cut short");
    const int64_t ns[4] = {0, 1, cols / 3, cols};
    for (int t = 0; t < 4 && prog; t++) {
        tg_scalar v = {.i = ns[t]};
        int ok = run(prog, b, 2, &v, 1) == TG_OK && P.api->buffer_read(P.dev, b[1], 0, out, (size_t)rows * 4) == TG_OK;
        for (int64_t j = 0; ok && j < rows; j++) {
            int32_t want = 0;
            for (int64_t i = 0; i < ns[t]; i++) want += in[j * cols + i];
            ok = out[j] == want;
        }
        tap_ok(ok, "sum over the first %lld of %lld points", (long long)ns[t], (long long)cols);
    }
    P.api->program_destroy(P.dev, prog);
    for (int i = 0; i < 2; i++) P.api->buffer_destroy(P.dev, b[i]);
    free(in);
    free(out);

    int64_t l1[1] = {len}, m = 5;
    kit_init(&kk, 1, l1, 0, "args_move");
    x = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, len + m), kit_view(&kk, 1, l1, NULL, 0), 1);
    kk.args[kk.k.nargs++] = (tg_arg){TG_INT32, 0, len};
    kk.args[kk.k.nargs++] = (tg_arg){TG_UINT8, 0, m};
    kk.k.extent_arg[0] = 1;
    tg_arg_offset off = {0, 1, 1};
    kk.k.noffsets = 1;
    kk.k.offsets = &off;
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, len), kit_view(&kk, 1, l1, NULL, 0),
              kit_node(&kk, TG_OP_NEG, TG_FLOAT32, x, -1, -1));
    float *fin = malloc((size_t)(len + m) * 4), *fout = malloc((size_t)len * 4);
    for (int64_t i = 0; i < len + m; i++) fin[i] = (float)i;
    tg_buffer *c[2] = {buffer((uint64_t)(len + m) * 4, fin), buffer((uint64_t)len * 4, NULL)};
    tap_ok(P.api->program_create(P.dev, &kk.k, &prog) == TG_OK, "a bounded axis of %lld read through a moving view",
           (long long)len);
    src = prog ? P.api->program_source(P.dev, prog) : NULL;
    if (len > 50000) tap_ok(src && strstr(src, "if (hi > x0_)"), "a bounded thread axis is cut short");
    const int64_t vs[3][2] = {{len, 0}, {len / 2 + 1, m}, {0, 2}};
    for (int t = 0; t < 3 && prog; t++) {
        for (int64_t i = 0; i < len; i++) fout[i] = 7.0f;
        P.api->buffer_write(P.dev, c[1], 0, fout, (size_t)len * 4);
        tg_scalar v[2] = {{.i = vs[t][0]}, {.u = (uint64_t)vs[t][1]}};
        int ok = run(prog, c, 2, v, 2) == TG_OK && P.api->buffer_read(P.dev, c[1], 0, fout, (size_t)len * 4) == TG_OK;
        for (int64_t i = 0; ok && i < len; i++) ok = fout[i] == (i < vs[t][0] ? -(float)(i + vs[t][1]) : 7.0f);
        tap_ok(ok, "the first %lld points from offset %lld; the rest untouched", (long long)vs[t][0], (long long)vs[t][1]);
    }
    P.api->program_destroy(P.dev, prog);
    for (int i = 0; i < 2; i++) P.api->buffer_destroy(P.dev, c[i]);
    free(fin);
    free(fout);
}

int main(int argc, char **argv) {
    if (argc < 2 || kit_open(&P, argv[1]) != 0) {
        tap_ok(0, "open the cpu plugin");
        return tap_done();
    }
    tg_caps caps = {.struct_size = sizeof caps};
    tap_ok(P.api->abi_minor >= 1 && P.api->program_run && P.api->device_caps(P.dev, &caps) == TG_OK &&
               (caps.flags & TG_CAP_ARG_VALUES) && (caps.flags & TG_CAP_ARG_BOUNDS),
           "a 1.1 table with program_run; caps take argument values, bounded axes and moving views");
    test_elementwise();
    test_reduce(4, 300);
    test_reduce(1, 1 << 17);
    test_bounds(4, 300, 100);
    test_bounds(64, 40, 1 << 16);
    test_bounds(1, 1 << 17, 3);
    kit_close(&P);
    return tap_done();
}
