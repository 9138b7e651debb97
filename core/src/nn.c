/* Layers: linear and conv2d with torch's default initialisation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <tg/nn.h>

/* Independent seeds for a layer's weight and bias (splitmix64). */
static uint64_t derive_seed(uint64_t seed, uint64_t k) {
    uint64_t z = seed * 2 + k + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A realized leaf, uniform in [-bound, bound), that requires grad; one
 * caller-owned reference whatever scope is open. */
static tg_status make_param(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, double bound,
                            uint64_t seed, tg_tensor **out) {
    tg_status st = TG_OK;
    *out = NULL;
    tg_scope_begin();
    tg_tensor *t = tg_uniform(dev, dtype, ndim, shape, -bound, bound, seed);
    if (!t) st = tg_last_status();
    if (st == TG_OK) st = tg_realize(t);
    if (st == TG_OK) {
        *out = tg_retain(t);
        st = tg_set_requires_grad(*out, true);
    }
    tg_scope_end();
    if (st) {
        tg_release(*out);
        *out = NULL;
    }
    return st;
}

static tg_status add_pair(tg_tensor *w, tg_tensor *b, const char *prefix, tg_params *params) {
    char name[512];
    if (!params || !prefix) return tg_error(TG_ERR_INVALID, "layer params: %s is NULL", params ? "prefix" : "params");
    snprintf(name, sizeof name, "%s%sweight", prefix, prefix[0] ? "." : "");
    tg_status st = tg_params_add(params, name, w);
    if (st == TG_OK && b) {
        snprintf(name, sizeof name, "%s%sbias", prefix, prefix[0] ? "." : "");
        st = tg_params_add(params, name, b);
    }
    return st;
}

static tg_status check_float(tg_dtype dtype, const char *who) {
    if (!tg_dtype_is_float(dtype))
        return tg_error(TG_ERR_DTYPE, "%s: parameters must be a float dtype, not %s", who, tg_dtype_name(dtype));
    return TG_OK;
}

/* ----------------------------------------------------------------- linear */

tg_status tg_nn_linear_create(tg_dev *dev, tg_dtype dtype, int64_t in_features, int64_t out_features, bool bias,
                              uint64_t seed, tg_nn_linear **out_layer) {
    if (!dev || !out_layer)
        return tg_error(TG_ERR_INVALID, "tg_nn_linear_create: %s is NULL", dev ? "out_layer" : "dev");
    if (in_features <= 0 || out_features <= 0)
        return tg_error(TG_ERR_INVALID, "tg_nn_linear_create: features must be positive (in %lld, out %lld)",
                        (long long)in_features, (long long)out_features);
    tg_status st = check_float(dtype, "tg_nn_linear_create");
    if (st) return st;
    tg_nn_linear *l = calloc(1, sizeof *l);
    if (!l) return tg_error(TG_ERR_NO_MEMORY, "tg_nn_linear_create: out of memory");
    l->in_features = in_features;
    l->out_features = out_features;
    double bound = 1.0 / sqrt((double)in_features);
    st = make_param(dev, dtype, TG_SHAPE(out_features, in_features), bound, derive_seed(seed, 0), &l->weight);
    if (st == TG_OK && bias) st = make_param(dev, dtype, TG_SHAPE(out_features), bound, derive_seed(seed, 1), &l->bias);
    if (st) {
        tg_nn_linear_destroy(l);
        return st;
    }
    *out_layer = l;
    return TG_OK;
}

void tg_nn_linear_destroy(tg_nn_linear *layer) {
    if (!layer) return;
    tg_release(layer->weight);
    tg_release(layer->bias);
    free(layer);
}

tg_tensor *tg_nn_linear_forward(const tg_nn_linear *layer, tg_tensor *x) {
    if (!layer) {
        tg_error(TG_ERR_INVALID, "tg_nn_linear_forward: layer is NULL");
        return NULL;
    }
    return tg_linear(x, layer->weight, layer->bias);
}

tg_status tg_nn_linear_params(const tg_nn_linear *layer, const char *prefix, tg_params *params) {
    if (!layer) return tg_error(TG_ERR_INVALID, "tg_nn_linear_params: layer is NULL");
    return add_pair(layer->weight, layer->bias, prefix, params);
}

/* ----------------------------------------------------------------- conv2d */

tg_status tg_nn_conv2d_create(tg_dev *dev, tg_dtype dtype, int64_t in_channels, int64_t out_channels, int kh,
                              int kw, const tg_conv_opts *opts, bool bias, uint64_t seed,
                              tg_nn_conv2d **out_layer) {
    if (!dev || !out_layer)
        return tg_error(TG_ERR_INVALID, "tg_nn_conv2d_create: %s is NULL", dev ? "out_layer" : "dev");
    int groups = opts && opts->groups ? opts->groups : 1;
    if (in_channels <= 0 || out_channels <= 0 || kh <= 0 || kw <= 0 || groups <= 0)
        return tg_error(TG_ERR_INVALID,
                        "tg_nn_conv2d_create: channels (%lld, %lld), kernel (%d, %d) and groups (%d) must be positive",
                        (long long)in_channels, (long long)out_channels, kh, kw, groups);
    if (in_channels % groups || out_channels % groups)
        return tg_error(TG_ERR_INVALID, "tg_nn_conv2d_create: groups %d must divide in_channels %lld and out_channels %lld",
                        groups, (long long)in_channels, (long long)out_channels);
    tg_status st = check_float(dtype, "tg_nn_conv2d_create");
    if (st) return st;
    tg_nn_conv2d *l = calloc(1, sizeof *l);
    if (!l) return tg_error(TG_ERR_NO_MEMORY, "tg_nn_conv2d_create: out of memory");
    l->in_channels = in_channels;
    l->out_channels = out_channels;
    l->kh = kh;
    l->kw = kw;
    if (opts) l->opts = *opts;
    int64_t cin = in_channels / groups;
    double bound = 1.0 / sqrt((double)(cin * kh * kw));
    st = make_param(dev, dtype, TG_SHAPE(out_channels, cin, kh, kw), bound, derive_seed(seed, 0), &l->weight);
    if (st == TG_OK && bias) st = make_param(dev, dtype, TG_SHAPE(out_channels), bound, derive_seed(seed, 1), &l->bias);
    if (st) {
        tg_nn_conv2d_destroy(l);
        return st;
    }
    *out_layer = l;
    return TG_OK;
}

void tg_nn_conv2d_destroy(tg_nn_conv2d *layer) {
    if (!layer) return;
    tg_release(layer->weight);
    tg_release(layer->bias);
    free(layer);
}

tg_tensor *tg_nn_conv2d_forward(const tg_nn_conv2d *layer, tg_tensor *x) {
    if (!layer) {
        tg_error(TG_ERR_INVALID, "tg_nn_conv2d_forward: layer is NULL");
        return NULL;
    }
    return tg_conv2d(x, layer->weight, layer->bias, &layer->opts);
}

tg_status tg_nn_conv2d_params(const tg_nn_conv2d *layer, const char *prefix, tg_params *params) {
    if (!layer) return tg_error(TG_ERR_INVALID, "tg_nn_conv2d_params: layer is NULL");
    return add_pair(layer->weight, layer->bias, prefix, params);
}
