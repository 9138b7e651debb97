/*
 * tg/nn.h -- layers, parameter lists, optimisers, saving and loading.
 *
 * Built on tg/tg.h; the same ownership and error rules hold. Objects here
 * (layers, parameter lists, optimisers) hold their own caller-owned
 * references to the tensors they keep, so creating them inside a scope is
 * safe: tg_scope_end does not take their tensors away.
 *
 * A training step:
 *
 *     tg_scope_begin();
 *     tg_tensor *h = tg_relu(tg_nn_linear_forward(l1, x));
 *     tg_tensor *loss = tg_cross_entropy(tg_nn_linear_forward(l2, h), y, 0);
 *     tg_optim_zero_grad(opt);
 *     tg_backward(loss);
 *     tg_optim_step(opt);
 *     tg_scope_end();
 */
#ifndef TG_NN_H
#define TG_NN_H

#include <tg/safetensors.h>
#include <tg/tg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ parameters */

/* An ordered list of named tensors (a model's "state dict"). Holds one
 * reference to each tensor. Names are unique. */
typedef struct tg_params tg_params;

tg_status tg_params_create(tg_params **out_params);
void tg_params_destroy(tg_params *params); /* NULL is a no-op */
/* Append `t` under `name` (copied); adds a reference to t. */
tg_status tg_params_add(tg_params *params, const char *name, tg_tensor *t);
size_t tg_params_count(const tg_params *params);
/* Borrowed; valid while params lives. NULL if i is out of range. */
tg_tensor *tg_params_get(const tg_params *params, size_t i);
const char *tg_params_name(const tg_params *params, size_t i);
tg_tensor *tg_params_find(const tg_params *params, const char *name);
/* Forget every tensor's gradient (tg_zero_grad). */
void tg_params_zero_grad(tg_params *params);
/* Total number of elements. */
int64_t tg_params_numel(const tg_params *params);

/* Write every tensor (realized, copied to the host) to a safetensors file,
 * readable by safetensors.torch.load_file / safetensors.numpy.load_file. */
tg_status tg_params_save(const tg_params *params, const char *path);
/* Read a safetensors file into the existing tensors, matched by name (each
 * tensor is tg_assign'ed, so it keeps its identity and requires_grad). Every tensor in `params` must be in the file with the same
 * dtype and shape, else TG_ERR_NOT_FOUND / TG_ERR_DTYPE / TG_ERR_SHAPE naming
 * it; with `strict`, a tensor in the file that `params` lacks is an error
 * too (TG_ERR_INVALID). Nothing is changed unless everything matches. */
tg_status tg_params_load(tg_params *params, const char *path, bool strict);
/* Every tensor of a safetensors file, as new tensors on dev, in the file's
 * data order. */
tg_status tg_params_read(const char *path, tg_dev *dev, tg_params **out_params);

/* ---------------------------------------------------------------- layers */

/* Initialisation, as torch.nn's defaults: weight and bias uniform in
 * [-1/sqrt(fan_in), 1/sqrt(fan_in)) (Kaiming-uniform with a = sqrt(5)),
 * fan_in = in_features (linear) or in_channels/groups*kh*kw (conv2d).
 * Random numbers come from tg_uniform, so the same seed gives the same
 * weights on every device. Weight and bias require grad. */

/* y = x @ weight^T + bias; x (..., in_features). */
typedef struct tg_nn_linear {
    tg_tensor *weight; /* (out_features, in_features) */
    tg_tensor *bias;   /* (out_features), or NULL     */
    int64_t in_features, out_features;
} tg_nn_linear;

tg_status tg_nn_linear_create(tg_dev *dev, tg_dtype dtype, int64_t in_features, int64_t out_features,
                              bool bias, uint64_t seed, tg_nn_linear **out_layer);
void tg_nn_linear_destroy(tg_nn_linear *layer); /* NULL is a no-op */
tg_tensor *tg_nn_linear_forward(const tg_nn_linear *layer, tg_tensor *x);
/* Adds "<prefix>.weight" and "<prefix>.bias" (as torch names them). */
tg_status tg_nn_linear_params(const tg_nn_linear *layer, const char *prefix, tg_params *params);

/* y = conv2d(x, weight, bias, opts); x (N, in_channels, H, W). */
typedef struct tg_nn_conv2d {
    tg_tensor *weight; /* (out_channels, in_channels/groups, kh, kw) */
    tg_tensor *bias;   /* (out_channels), or NULL                    */
    int64_t in_channels, out_channels;
    int kh, kw;
    tg_conv_opts opts;
} tg_nn_conv2d;

/* opts NULL: stride 1, no padding, dilation 1, one group. */
tg_status tg_nn_conv2d_create(tg_dev *dev, tg_dtype dtype, int64_t in_channels, int64_t out_channels,
                              int kh, int kw, const tg_conv_opts *opts, bool bias, uint64_t seed,
                              tg_nn_conv2d **out_layer);
void tg_nn_conv2d_destroy(tg_nn_conv2d *layer); /* NULL is a no-op */
tg_tensor *tg_nn_conv2d_forward(const tg_nn_conv2d *layer, tg_tensor *x);
tg_status tg_nn_conv2d_params(const tg_nn_conv2d *layer, const char *prefix, tg_params *params);

/* ------------------------------------------------------------ optimisers */

typedef enum tg_optim_kind {
    TG_OPTIM_SGD = 0,
    TG_OPTIM_ADAM = 1,
    TG_OPTIM_ADAMW = 2
} tg_optim_kind;

/* The update rules are torch.optim's (SGD, Adam, AdamW without amsgrad).
 *  SGD:   g = grad + weight_decay*p; with momentum: buf = g on the first
 *         step, else buf = momentum*buf + (1-dampening)*g; g = nesterov ?
 *         g + momentum*buf : buf.  p -= lr*g.
 *  Adam:  g = grad + weight_decay*p; m = b1*m + (1-b1)*g;
 *         v = b2*v + (1-b2)*g^2; p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps).
 *  AdamW: p *= 1 - lr*weight_decay, then Adam with weight_decay 0. */
typedef struct tg_optim_opts {
    tg_optim_kind kind;
    double lr;
    double momentum, dampening; /* SGD                        */
    bool nesterov;              /* SGD; needs momentum > 0, dampening 0 */
    double beta1, beta2, eps;   /* Adam, AdamW                */
    double weight_decay;
} tg_optim_opts;

/* torch's defaults for `kind` with learning rate lr: momentum 0, betas
 * (0.9, 0.999), eps 1e-8, weight_decay 0 (AdamW: 0.01). */
tg_optim_opts tg_optim_defaults(tg_optim_kind kind, double lr);

typedef struct tg_optim tg_optim;

/* Optimises the float tensors of `params` (the list is copied; its tensors
 * are referenced). Bad hyper-parameters give TG_ERR_INVALID naming them. */
tg_status tg_optim_create(const tg_params *params, const tg_optim_opts *opts, tg_optim **out_optim);
void tg_optim_destroy(tg_optim *optim); /* NULL is a no-op */
/* One update of every parameter that has a gradient (others are skipped),
 * computed with tensor ops on the parameters' device and realized together
 * in one schedule. Runs in no-grad mode. */
tg_status tg_optim_step(tg_optim *optim);
void tg_optim_zero_grad(tg_optim *optim);
tg_status tg_optim_set_lr(tg_optim *optim, double lr);
int64_t tg_optim_steps(const tg_optim *optim); /* steps taken so far */

#ifdef __cplusplus
}
#endif

#endif /* TG_NN_H */
