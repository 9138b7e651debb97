/* Run a kernel on a plugin's device: upload, compile, launch, read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>

tg_status tgc_device_open(const char *name_or_path, tgc_device *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name_or_path);
    tg_status st = tg_plugin_open(name_or_path, &out->plugin);
    if (st != TG_OK) return st;
    out->api = tg_plugin_get_api(out->plugin);
    char why[1024];
    st = tg_plugin_device_count(out->plugin, &out->ndevices);
    if (st != TG_OK || out->ndevices == 0) {
        snprintf(why, sizeof why, "%s", tg_last_error());
        st = st != TG_OK ? st : TG_ERR_UNSUPPORTED;
        return tg_error(st, "plugin '%s' has no device on this host: %s", out->api->name, why);
    }
    st = tg_plugin_device_create(out->plugin, 0, &out->dev);
    if (st != TG_OK) return st; /* the message names the plugin and device_create */
    out->caps.struct_size = sizeof out->caps;
    st = out->api->device_caps(out->dev, &out->caps);
    if (st != TG_OK)
        return tg_error(st, "plugin '%s': device_caps failed: %s", out->api->name,
                        tg_plugin_message(out->api->device_error(out->dev)));
    return TG_OK;
}

void tgc_device_close(tgc_device *d) {
    if (!d) return;
    if (d->dev) d->api->device_destroy(d->dev);
    tg_plugin_close(d->plugin);
    memset(d, 0, sizeof *d);
}

static tg_status fail(tgc_device *d, tg_status st, const char *what) {
    if (st == TG_ERR_UNSUPPORTED && strcmp(what, "program_create")) st = TG_ERR_DEVICE;
    return tg_error(st, "%s: %s: %s", what, tg_status_name(st), tg_plugin_message(d->api->device_error(d->dev)));
}

tg_status tgc_device_run(tgc_device *d, const tg_kernel *k, void *const *bufs) {
    const tg_plugin_api *api = d->api;
    tg_buffer *b[TGC_MAX_PARAMS + 8] = {0};
    tg_program *prog = NULL;
    tg_status st = TG_OK;
    if (k->nparams > TGC_MAX_PARAMS + 8) return tg_error(TG_ERR_INVALID, "too many params");
    for (uint32_t p = 0; p < k->nparams && st == TG_OK; p++) {
        uint64_t bytes = (uint64_t)k->params[p].count * tg_dtype_size((tg_dtype)k->params[p].dtype);
        st = api->buffer_create(d->dev, bytes, &b[p]);
        if (st != TG_OK) { st = fail(d, st, "buffer_create"); break; }
        if (bytes) st = api->buffer_write(d->dev, b[p], 0, bufs[p], bytes);
        if (st != TG_OK) st = fail(d, st, "buffer_write");
    }
    tgc_prepared *pre = d->next;
    d->next = NULL;
    if (st == TG_OK && pre && pre->set) { /* compiled ahead, in a batch */
        prog = pre->program;
        st = pre->status;
        pre->set = 0;
        if (st != TG_OK)
            st = tg_error(st, "program_create: %s: %s", tg_status_name(st), pre->message ? pre->message : "");
        else tg_plugin_debug_source(api, d->dev, prog, k->name);
    } else if (st == TG_OK) {
        st = api->program_create(d->dev, k, &prog);
        if (st != TG_OK) { prog = NULL; st = fail(d, st, "program_create"); }
        else tg_plugin_debug_source(api, d->dev, prog, k->name);
    }
    if (st == TG_OK) {
        st = api->program_launch(d->dev, prog, b, k->nparams);
        if (st != TG_OK) st = fail(d, st, "program_launch");
    }
    if (st == TG_OK && api->synchronize) {
        st = api->synchronize(d->dev);
        if (st != TG_OK) st = fail(d, st, "synchronize");
    }
    for (uint32_t p = 0; p < k->nparams && st == TG_OK; p++) {
        if (k->params[p].access != TG_ACCESS_WRITE) continue;
        uint64_t bytes = (uint64_t)k->params[p].count * tg_dtype_size((tg_dtype)k->params[p].dtype);
        if (bytes) st = api->buffer_read(d->dev, b[p], 0, bufs[p], bytes);
        if (st != TG_OK) st = fail(d, st, "buffer_read");
    }
    if (prog) api->program_destroy(d->dev, prog);
    for (uint32_t p = 0; p < k->nparams; p++)
        if (b[p]) api->buffer_destroy(d->dev, b[p]);
    return st;
}

void tgc_device_batch(tgc_device *d, uint32_t n, const tg_kernel *const *ks, tgc_prepared *out) {
    const tg_kernel **in = calloc(n ? n : 1, sizeof *in);
    tg_program **progs = calloc(n ? n : 1, sizeof *progs);
    tg_status *sts = calloc(n ? n : 1, sizeof *sts);
    const char **msgs = calloc(n ? n : 1, sizeof *msgs);
    uint32_t *at = calloc(n ? n : 1, sizeof *at), m = 0;
    for (uint32_t i = 0; i < n && in && at; i++)
        if (ks[i]) at[m] = i, in[m++] = ks[i];
    if (d->api->program_create_batch && m && progs && sts && msgs) {
        d->api->program_create_batch(d->dev, m, in, progs, sts, msgs);
        for (uint32_t j = 0; j < m; j++) {
            tgc_prepared *p = &out[at[j]];
            p->set = 1;
            p->status = sts[j];
            p->program = sts[j] == TG_OK ? progs[j] : NULL;
            p->message = sts[j] != TG_OK ? strdup(tg_plugin_message(msgs[j])) : NULL;
        }
    }
    free(in), free(progs), free(sts), free(msgs), free(at);
}

void tgc_prepared_clear(tgc_device *d, tgc_prepared *p) {
    if (p->set && p->program) d->api->program_destroy(d->dev, p->program);
    free(p->message);
    memset(p, 0, sizeof *p);
}
