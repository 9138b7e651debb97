/* Named parameter lists, and moving them to and from safetensors files. */
#include <stdlib.h>
#include <string.h>
#include <tg/nn.h>
#include "tensor_internal.h"

struct tg_params {
    char **names;
    tg_tensor **tensors; /* one caller-owned reference each */
    size_t count, cap;
};

tg_status tg_params_create(tg_params **out_params) {
    if (!out_params) return tg_error(TG_ERR_INVALID, "tg_params_create: out_params is NULL");
    tg_params *p = calloc(1, sizeof *p);
    if (!p) return tg_error(TG_ERR_NO_MEMORY, "tg_params_create: out of memory");
    *out_params = p;
    return TG_OK;
}

void tg_params_destroy(tg_params *params) {
    if (!params) return;
    for (size_t i = 0; i < params->count; i++) {
        free(params->names[i]);
        tg_release(params->tensors[i]);
    }
    free(params->names);
    free(params->tensors);
    free(params);
}

tg_status tg_params_add(tg_params *params, const char *name, tg_tensor *t) {
    if (!params || !name || !t)
        return tg_error(TG_ERR_INVALID, "tg_params_add: %s is NULL", !params ? "params" : !name ? "name" : "tensor");
    if (tg_params_find(params, name))
        return tg_error(TG_ERR_INVALID, "tg_params_add: name '%s' is already in the list", name);
    if (params->count == params->cap) {
        size_t cap = params->cap ? params->cap * 2 : 8;
        char **names = realloc(params->names, cap * sizeof *names);
        if (names) params->names = names;
        tg_tensor **ts = names ? realloc(params->tensors, cap * sizeof *ts) : NULL;
        if (!ts) return tg_error(TG_ERR_NO_MEMORY, "tg_params_add: out of memory");
        params->tensors = ts;
        params->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return tg_error(TG_ERR_NO_MEMORY, "tg_params_add: out of memory");
    params->names[params->count] = copy;
    params->tensors[params->count] = tg_retain(t);
    params->count++;
    return TG_OK;
}

size_t tg_params_count(const tg_params *params) { return params ? params->count : 0; }

tg_tensor *tg_params_get(const tg_params *params, size_t i) {
    return params && i < params->count ? params->tensors[i] : NULL;
}

const char *tg_params_name(const tg_params *params, size_t i) {
    return params && i < params->count ? params->names[i] : NULL;
}

tg_tensor *tg_params_find(const tg_params *params, const char *name) {
    for (size_t i = 0; params && name && i < params->count; i++)
        if (strcmp(params->names[i], name) == 0) return params->tensors[i];
    return NULL;
}

void tg_params_zero_grad(tg_params *params) {
    for (size_t i = 0; params && i < params->count; i++) tg_zero_grad(params->tensors[i]);
}

int64_t tg_params_numel(const tg_params *params) {
    int64_t n = 0;
    for (size_t i = 0; params && i < params->count; i++) n += tg_tensor_numel(params->tensors[i]);
    return n;
}

/* --------------------------------------------------------- safetensors */

static void free_host(tg_safetensors_entry *es, size_t count) {
    for (size_t i = 0; i < count; i++) free(es[i].data);
    free(es);
}

tg_status tg_params_save(const tg_params *params, const char *path) {
    if (!params || !path) return tg_error(TG_ERR_INVALID, "tg_params_save: %s is NULL", params ? "path" : "params");
    size_t n = params->count;
    tg_safetensors_entry *es = calloc(n ? n : 1, sizeof *es);
    if (!es) return tg_error(TG_ERR_NO_MEMORY, "tg_params_save: out of memory");
    tg_status st = n ? tg_realize_many(n, params->tensors) : TG_OK; /* an empty model saves an empty file */
    for (size_t i = 0; st == TG_OK && i < n; i++) {
        tg_tensor *t = params->tensors[i];
        tg_safetensors_entry *e = &es[i];
        e->name = params->names[i];
        e->dtype = tg_tensor_dtype(t);
        e->ndim = tg_tensor_ndim(t);
        memcpy(e->shape, tg_tensor_shape(t), (size_t)e->ndim * sizeof e->shape[0]);
        e->nbytes = (size_t)tg_tensor_numel(t) * tg_dtype_size(e->dtype);
        e->data = malloc(e->nbytes ? e->nbytes : 1);
        if (!e->data)
            st = tg_error(TG_ERR_NO_MEMORY, "tg_params_save: out of memory for '%s'", e->name);
        else
            st = tg_to_host(t, e->data, e->nbytes);
    }
    if (st == TG_OK) st = tg_safetensors_write(path, es, n);
    free_host(es, n);
    return st;
}

/* The file's entry for params' tensor i, checked for dtype and shape. */
static tg_status match(const tg_params *params, size_t i, const tg_safetensors_entry *es, size_t count,
                       const char *path, const tg_safetensors_entry **out) {
    const char *name = params->names[i];
    tg_tensor *t = params->tensors[i];
    const tg_safetensors_entry *e = tg_safetensors_find(es, count, name);
    if (!e) return tg_error(TG_ERR_NOT_FOUND, "%s: no tensor named '%s'", path, name);
    if (e->dtype != tg_tensor_dtype(t))
        return tg_error(TG_ERR_DTYPE, "%s: '%s' is %s in the file but %s in the model", path, name,
                        tg_dtype_name(e->dtype), tg_dtype_name(tg_tensor_dtype(t)));
    int nd = tg_tensor_ndim(t);
    if (e->ndim != nd || memcmp(e->shape, tg_tensor_shape(t), (size_t)nd * sizeof e->shape[0]) != 0) {
        char a[128], b[128];
        return tg_error(TG_ERR_SHAPE, "%s: '%s' has shape %s in the file but %s in the model", path, name,
                        tg_shape_format(e->ndim, e->shape, a, sizeof a),
                        tg_shape_format(nd, tg_tensor_shape(t), b, sizeof b));
    }
    *out = e;
    return TG_OK;
}

tg_status tg_params_load(tg_params *params, const char *path, bool strict) {
    if (!params || !path) return tg_error(TG_ERR_INVALID, "tg_params_load: %s is NULL", params ? "path" : "params");
    tg_safetensors_entry *es = NULL;
    size_t count = 0;
    tg_status st = tg_safetensors_read(path, &es, &count);
    if (st) return st;
    const tg_safetensors_entry *e;
    for (size_t i = 0; st == TG_OK && i < params->count; i++) st = match(params, i, es, count, path, &e);
    for (size_t j = 0; st == TG_OK && strict && j < count; j++)
        if (!tg_params_find(params, es[j].name))
            st = tg_error(TG_ERR_INVALID, "%s: tensor '%s' is not in the model (strict load)", path, es[j].name);
    for (size_t i = 0; st == TG_OK && i < params->count; i++) {
        tg_tensor *t = params->tensors[i];
        match(params, i, es, count, path, &e);
        tg_scope_begin();
        tg_tensor *src = tg__from_owned(tg_tensor_device(t), e->dtype, e->ndim, e->shape, e->data);
        es[e - es].data = NULL; /* the upload has it now */
        st = src ? tg_assign(t, src) : tg_last_status();
        tg_scope_end();
    }
    tg_safetensors_free(es, count);
    return st;
}

tg_status tg_params_read(const char *path, tg_dev *dev, tg_params **out_params) {
    if (!path || !dev || !out_params)
        return tg_error(TG_ERR_INVALID, "tg_params_read: %s is NULL", !path ? "path" : !dev ? "dev" : "out_params");
    tg_safetensors_entry *es = NULL;
    size_t count = 0;
    tg_params *params = NULL;
    tg_status st = tg_safetensors_read(path, &es, &count);
    if (st == TG_OK) st = tg_params_create(&params);
    for (size_t i = 0; st == TG_OK && i < count; i++) {
        tg_scope_begin();
        tg_tensor *t = tg__from_owned(dev, es[i].dtype, es[i].ndim, es[i].shape, es[i].data);
        es[i].data = NULL; /* the upload has it now */
        st = t ? tg_params_add(params, es[i].name, t) : tg_last_status();
        tg_scope_end();
    }
    tg_safetensors_free(es, count);
    if (st) {
        tg_params_destroy(params);
        return st;
    }
    *out_params = params;
    return TG_OK;
}
