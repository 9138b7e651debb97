/* Forward results of every op against numpy's (tests/core/golden/ops.txt,
 * made by gen_golden.py), on ref and on every other plugin that opens.
 * Usage: test_ops GOLDEN_FILE */
#include "golden.h"

static int iarg(const gcase *c, int i) { return (int)c->args[i]; }

static tg_tensor *run(const gcase *c, tg_tensor **in) {
    const char *op = c->op;
    tg_tensor *x = in[0];
    int axes[8];
    for (int i = 1; i < c->nargs && i < 9; i++) axes[i - 1] = iarg(c, i);
    int na = c->nargs > 0 ? c->nargs - 1 : 0;
    bool keep = c->nargs > 0 && c->args[0] != 0;
#define U(name) if (!strcmp(op, #name)) return tg_##name(x)
#define B(name) if (!strcmp(op, #name)) return tg_##name(in[0], in[1])
#define R(name) if (!strcmp(op, #name)) return tg_##name(x, na, na ? axes : NULL, keep)
    U(neg); U(abs); U(sign); U(exp); U(log); U(exp2); U(log2); U(sqrt); U(rsqrt); U(sin); U(cos); U(tan);
    U(tanh); U(sigmoid); U(relu); U(gelu); U(silu); U(softplus); U(square); U(recip); U(logical_not);
    B(add); B(sub); B(mul); B(div); B(mod); B(pow); B(maximum); B(minimum); B(lt); B(gt); B(le); B(ge); B(eq); B(ne);
    B(logical_and); B(logical_or); B(logical_xor); B(matmul); B(nll); B(mse); B(embedding);
    R(sum); R(mean); R(max); R(min); R(prod); R(logsumexp);
    if (!strcmp(op, "var")) return tg_var(x, na, na ? axes : NULL, keep, 1);
    if (!strcmp(op, "std")) return tg_std(x, na, na ? axes : NULL, keep, 1);
    if (!strcmp(op, "leaky_relu")) return tg_leaky_relu(x, c->args[0]);
    if (!strcmp(op, "clamp")) return tg_clamp(x, c->args[0], c->args[1]);
    if (!strcmp(op, "cast_i32")) return tg_cast(x, TG_INT32);
    if (!strcmp(op, "where")) return tg_where(in[0], in[1], in[2]);
    if (!strcmp(op, "argmax")) return tg_argmax(x, iarg(c, 0), iarg(c, 1));
    if (!strcmp(op, "argmin")) return tg_argmin(x, iarg(c, 0), iarg(c, 1));
    if (!strcmp(op, "reshape")) return tg_reshape(x, 2, (int64_t[]){iarg(c, 0), iarg(c, 1)});
    if (!strcmp(op, "permute")) return tg_permute(x, (int[]){iarg(c, 0), iarg(c, 1), iarg(c, 2)});
    if (!strcmp(op, "transpose")) return tg_transpose(x, iarg(c, 0), iarg(c, 1));
    if (!strcmp(op, "permute_reshape")) return tg_reshape(tg_permute(x, (int[]){1, 2, 0}), TG_SHAPE(12, 2));
    if (!strcmp(op, "expand")) return tg_expand(x, 3, (int64_t[]){iarg(c, 0), iarg(c, 1), iarg(c, 2)});
    if (!strcmp(op, "squeeze")) return tg_squeeze(x, iarg(c, 0));
    if (!strcmp(op, "unsqueeze")) return tg_unsqueeze(x, iarg(c, 0));
    if (!strcmp(op, "flatten")) return tg_flatten(x, iarg(c, 0), iarg(c, 1));
    if (!strcmp(op, "slice")) return tg_slice(x, iarg(c, 0), iarg(c, 1), iarg(c, 2), iarg(c, 3));
    if (!strcmp(op, "pad")) {
        int64_t p[6];
        for (int i = 0; i < 6; i++) p[i] = iarg(c, i);
        return tg_pad(x, p, c->args[6]);
    }
    if (!strcmp(op, "flip")) return tg_flip(x, na + 1, (int[]){iarg(c, 0), iarg(c, 1)});
    if (!strcmp(op, "cat")) return tg_cat((size_t)c->nin, in, iarg(c, 0));
    if (!strcmp(op, "stack")) return tg_stack((size_t)c->nin, in, iarg(c, 0));
    if (!strcmp(op, "split")) {
        tg_tensor *parts[8];
        int n = tg_split(x, iarg(c, 0), iarg(c, 1), parts, 8);
        return n > iarg(c, 2) ? parts[iarg(c, 2)] : NULL;
    }
    if (!strcmp(op, "repeat")) return tg_repeat(x, (int64_t[]){iarg(c, 0), iarg(c, 1)});
    if (!strcmp(op, "gather")) return tg_gather(x, iarg(c, 0), in[1]);
    if (!strcmp(op, "slice_of_pad"))
        return tg_slice(tg_slice(tg_pad(x, (int64_t[]){0, 0, 1, 1, 1, 1}, 0), 1, 0, 100, 2), 2, 1, 5, 3);
    if (!strcmp(op, "conv2d")) {
        tg_conv_opts o = {{iarg(c, 0), iarg(c, 1)}, {iarg(c, 2), iarg(c, 3)}, {iarg(c, 4), iarg(c, 5)}, iarg(c, 6), {0, 0}};
        return tg_conv2d(x, in[1], c->nin > 2 ? in[2] : NULL, &o);
    }
    if (!strcmp(op, "conv_transpose2d")) {
        tg_conv_opts o = {{iarg(c, 0), iarg(c, 1)}, {iarg(c, 2), iarg(c, 3)}, {iarg(c, 6), iarg(c, 7)}, iarg(c, 8),
                          {iarg(c, 4), iarg(c, 5)}};
        return tg_conv_transpose2d(x, in[1], NULL, &o);
    }
    if (!strcmp(op, "max_pool2d"))
        return tg_max_pool2d(x, iarg(c, 0), iarg(c, 1), iarg(c, 2), iarg(c, 3), iarg(c, 4), iarg(c, 5));
    if (!strcmp(op, "avg_pool2d"))
        return tg_avg_pool2d(x, iarg(c, 0), iarg(c, 1), iarg(c, 2), iarg(c, 3), iarg(c, 4), iarg(c, 5));
    if (!strcmp(op, "softmax")) return tg_softmax(x, iarg(c, 0));
    if (!strcmp(op, "log_softmax")) return tg_log_softmax(x, iarg(c, 0));
    if (!strcmp(op, "cross_entropy")) return tg_cross_entropy(x, in[1], c->args[0]);
    if (!strcmp(op, "layernorm")) return tg_layernorm(x, iarg(c, 0), in[1], in[2], c->args[1]);
    if (!strcmp(op, "batchnorm_train")) return tg_batchnorm(x, in[1], in[2], NULL, NULL, true, 0.1, c->args[0]);
    if (!strcmp(op, "batchnorm_eval")) return tg_batchnorm(x, in[1], in[2], in[3], in[4], false, 0.1, c->args[0]);
    if (!strcmp(op, "sdpa_causal")) return tg_sdpa(in[0], in[1], in[2], NULL, true);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        tap_ok(0, "usage: test_ops GOLDEN_FILE");
        return tap_done();
    }
    const char *names[] = {"ref", "cpu", "vulkan"};
    for (int p = 0; p < 3; p++) {
        tg_dev *dev;
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        int n = golden_file(dev, argv[1], run);
        tap_ok(n > 100, "%s: read %d golden cases", names[p], n);
        tg_device_close(dev);
    }
    return tap_done();
}
