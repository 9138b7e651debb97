/* plugins/ref/ref.c -- the reference plugin's table: version negotiation,
 * one host device, buffers in host memory, programs run synchronously by the
 * interpreter in ref_eval.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"
#include <tg/dtype_util.h>

#define REF_VERSION "1.0.0"

struct tg_device {
    char error[512];
    char (*batch_msgs)[512]; /* the last program_create_batch's messages */
};

struct tg_buffer {
    uint64_t bytes;
    unsigned char *data;
    void *mapped; /* buffer_map_range's pointer until buffer_unmap, or NULL */
    bool wrapped; /* data is the caller's (buffer_wrap): never freed here */
};

struct tg_program {
    ref_program *prog;
};

static char plugin_error_msg[256];

static tg_status device_fail(tg_device *dev, tg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dev->error, sizeof dev->error, fmt, ap);
    va_end(ap);
    return st;
}

static const char *ref_plugin_error(void) { return plugin_error_msg; }

static tg_status ref_device_count(uint32_t *out_count) {
    plugin_error_msg[0] = '\0';
    if (!out_count) {
        snprintf(plugin_error_msg, sizeof plugin_error_msg, "device_count: out_count is NULL");
        return TG_ERR_INVALID;
    }
    *out_count = 1;
    return TG_OK;
}

static tg_status ref_device_create(uint32_t index, tg_device **out_device) {
    plugin_error_msg[0] = '\0';
    if (!out_device) {
        snprintf(plugin_error_msg, sizeof plugin_error_msg, "device_create: out_device is NULL");
        return TG_ERR_INVALID;
    }
    *out_device = NULL;
    if (index != 0) {
        snprintf(plugin_error_msg, sizeof plugin_error_msg, "device_create: no device %u (ref has one)", index);
        return TG_ERR_NOT_FOUND;
    }
    tg_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        snprintf(plugin_error_msg, sizeof plugin_error_msg, "device_create: out of memory");
        return TG_ERR_NO_MEMORY;
    }
    *out_device = dev;
    return TG_OK;
}

static void ref_device_destroy(tg_device *dev) {
    if (dev) free(dev->batch_msgs);
    free(dev);
}

static const char *ref_device_error(tg_device *dev) { return dev ? dev->error : "device is NULL"; }

static tg_status ref_device_caps(tg_device *dev, tg_caps *caps) {
    dev->error[0] = '\0';
    if (!caps) return device_fail(dev, TG_ERR_INVALID, "device_caps: caps is NULL");
    tg_caps mine = {0};
    mine.struct_size = sizeof mine;
    mine.dtypes = (1u << TG_DTYPE_COUNT) - 1;
    mine.fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT | TG_FUSE_MULTI_OUTPUT;
    mine.flags = TG_CAP_HOST_VISIBLE | TG_CAP_UNIFIED | TG_CAP_ARG_VALUES | TG_CAP_ARG_BOUNDS;
    mine.max_dims = TG_MAX_DIMS;
    mine.max_view_depth = 64;
    mine.vector_width = 8;
    mine.compute_units = 1;
    mine.name = "ref (reference interpreter)";
    mine.vendor = "tg";
    mine.version = REF_VERSION;
    mine.driver = "ref " REF_VERSION;
    tgp_caps_copy(caps, &mine);
    return TG_OK;
}

static tg_status ref_buffer_create(tg_device *dev, uint64_t bytes, tg_buffer **out_buffer) {
    dev->error[0] = '\0';
    if (!out_buffer) return device_fail(dev, TG_ERR_INVALID, "buffer_create: out_buffer is NULL");
    *out_buffer = NULL;
    if (bytes > SIZE_MAX - 1) return device_fail(dev, TG_ERR_NO_MEMORY, "buffer_create: %llu bytes is too large", (unsigned long long)bytes);
    tg_buffer *b = calloc(1, sizeof *b);
    unsigned char *data = malloc(bytes ? (size_t)bytes : 1);
    if (!b || !data) {
        free(b);
        free(data);
        return device_fail(dev, TG_ERR_NO_MEMORY, "buffer_create: cannot allocate %llu bytes", (unsigned long long)bytes);
    }
    b->bytes = bytes;
    b->data = data;
    *out_buffer = b;
    return TG_OK;
}

/* Any host pointer will do: the interpreter reads elements with memcpy. */
static tg_status ref_buffer_wrap(tg_device *dev, void *host, uint64_t bytes, tg_buffer **out_buffer) {
    dev->error[0] = '\0';
    if (!out_buffer || !host || !bytes)
        return device_fail(dev, TG_ERR_INVALID, "buffer_wrap: %s",
                           !out_buffer ? "out_buffer is NULL" : !host ? "host_ptr is NULL" : "0 bytes");
    *out_buffer = calloc(1, sizeof **out_buffer);
    if (!*out_buffer) return device_fail(dev, TG_ERR_NO_MEMORY, "buffer_wrap: out of host memory");
    **out_buffer = (tg_buffer){.bytes = bytes, .data = host, .wrapped = true};
    return TG_OK;
}

static void ref_buffer_destroy(tg_device *dev, tg_buffer *b) {
    if (!b) return;
    if (!b->wrapped) free(b->data);
    free(b);
}

static tg_status check_range(tg_device *dev, const char *what, tg_buffer *b, uint64_t offset, const void *host, uint64_t bytes) {
    if (!b) return device_fail(dev, TG_ERR_INVALID, "%s: buffer is NULL", what);
    if (!host && bytes) return device_fail(dev, TG_ERR_INVALID, "%s: host pointer is NULL", what);
    if (offset > b->bytes || bytes > b->bytes - offset)
        return device_fail(dev, TG_ERR_INVALID, "%s: range [%llu, +%llu) outside the buffer's %llu bytes", what,
                           (unsigned long long)offset, (unsigned long long)bytes, (unsigned long long)b->bytes);
    return TG_OK;
}

static tg_status ref_buffer_write(tg_device *dev, tg_buffer *b, uint64_t offset, const void *src, uint64_t bytes) {
    dev->error[0] = '\0';
    tg_status st = check_range(dev, "buffer_write", b, offset, src, bytes);
    if (st == TG_OK && bytes) memcpy(b->data + offset, src, (size_t)bytes);
    return st;
}

static tg_status ref_buffer_read(tg_device *dev, tg_buffer *b, uint64_t offset, void *dst, uint64_t bytes) {
    dev->error[0] = '\0';
    tg_status st = check_range(dev, "buffer_read", b, offset, dst, bytes);
    if (st == TG_OK && bytes) memcpy(dst, b->data + offset, (size_t)bytes);
    return st;
}

static tg_status ref_buffer_copy(tg_device *dev, tg_buffer *dst, uint64_t dst_offset, tg_buffer *src,
                                 uint64_t src_offset, uint64_t bytes) {
    dev->error[0] = '\0';
    if (!src) return device_fail(dev, TG_ERR_INVALID, "buffer_copy: source buffer is NULL");
    tg_status st = check_range(dev, "buffer_copy (source)", src, src_offset, src->data, bytes);
    if (st == TG_OK) st = check_range(dev, "buffer_copy (destination)", dst, dst_offset, src->data, bytes);
    if (st == TG_OK && bytes) memmove(dst->data + dst_offset, src->data + src_offset, (size_t)bytes);
    return st;
}

static tg_status ref_buffer_map(tg_device *dev, tg_buffer *b, void **out_ptr) {
    dev->error[0] = '\0';
    if (!b || !out_ptr) return device_fail(dev, TG_ERR_INVALID, "buffer_map: buffer or out_ptr is NULL");
    *out_ptr = b->data;
    return TG_OK;
}

static tg_status ref_buffer_map_range(tg_device *dev, tg_buffer *b, uint64_t offset, uint64_t bytes, uint32_t flags,
                                      void **out_ptr) {
    dev->error[0] = '\0';
    if (!out_ptr) return device_fail(dev, TG_ERR_INVALID, "buffer_map_range: out_ptr is NULL");
    tg_status st = check_range(dev, "buffer_map_range", b, offset, out_ptr, bytes);
    if (st != TG_OK) return st;
    if (!flags || (flags & ~(uint32_t)(TG_MAP_READ | TG_MAP_WRITE)))
        return device_fail(dev, TG_ERR_INVALID, "buffer_map_range: flags %u are not TG_MAP_READ/TG_MAP_WRITE", flags);
    if (b->mapped) return device_fail(dev, TG_ERR_INVALID, "buffer_map_range: the buffer is mapped already");
    *out_ptr = b->mapped = b->data + offset;
    return TG_OK;
}

static tg_status ref_buffer_unmap(tg_device *dev, tg_buffer *b, void *ptr) {
    dev->error[0] = '\0';
    if (!b || !ptr || b->mapped != ptr)
        return device_fail(dev, TG_ERR_INVALID, "buffer_unmap: %s", !b ? "buffer is NULL" : "not a pointer buffer_map_range gave");
    b->mapped = NULL;
    return TG_OK;
}

static tg_status ref_program_create(tg_device *dev, const tg_kernel *kernel, tg_program **out_program) {
    dev->error[0] = '\0';
    if (!out_program) return device_fail(dev, TG_ERR_INVALID, "program_create: out_program is NULL");
    *out_program = NULL;
    tg_program *prog = calloc(1, sizeof *prog);
    if (!prog) return device_fail(dev, TG_ERR_NO_MEMORY, "program_create: out of memory");
    char msg[400];
    tg_status st = ref_program_build(kernel, &prog->prog, msg, sizeof msg);
    if (st != TG_OK) {
        free(prog);
        return device_fail(dev, st, "program_create%s%s: %s", kernel && kernel->name ? " " : "",
                           kernel && kernel->name ? kernel->name : "", msg);
    }
    *out_program = prog;
    return TG_OK;
}

/* A loop over program_create: ref compiles nothing. Each message is kept
 * until the next batch. */
static tg_status ref_program_create_batch(tg_device *dev, uint32_t n, const tg_kernel *const *kernels,
                                          tg_program **out_programs, tg_status *out_status, const char **out_messages) {
    dev->error[0] = '\0';
    if (n && (!kernels || !out_programs || !out_status || !out_messages))
        return device_fail(dev, TG_ERR_INVALID, "program_create_batch: a NULL array");
    free(dev->batch_msgs);
    dev->batch_msgs = calloc(n ? n : 1, sizeof *dev->batch_msgs);
    if (!dev->batch_msgs) return device_fail(dev, TG_ERR_NO_MEMORY, "program_create_batch: out of memory");
    tg_status first = TG_OK;
    for (uint32_t i = 0; i < n; i++) {
        out_status[i] = ref_program_create(dev, kernels[i], &out_programs[i]);
        snprintf(dev->batch_msgs[i], sizeof dev->batch_msgs[i], "%s", dev->error);
        out_messages[i] = dev->batch_msgs[i];
        if (first == TG_OK && out_status[i] != TG_OK) first = out_status[i];
    }
    return first;
}

static void ref_program_destroy(tg_device *dev, tg_program *prog) {
    if (!prog) return;
    ref_program_free(prog->prog);
    free(prog);
}

static tg_status ref_program_run_args(tg_device *dev, tg_program *prog, tg_buffer *const *buffers, uint32_t nbuffers,
                                      const tg_scalar *args) {
    dev->error[0] = '\0';
    if (!prog) return device_fail(dev, TG_ERR_INVALID, "program_launch: program is NULL");
    const tg_kernel *k = &prog->prog->k;
    if (nbuffers != k->nparams || (nbuffers && !buffers))
        return device_fail(dev, TG_ERR_INVALID, "program_launch: %u buffers given, the kernel has %u", nbuffers, k->nparams);
    void **mem = calloc(nbuffers + 1, sizeof *mem);
    uint64_t *bytes = calloc(nbuffers + 1, sizeof *bytes);
    tg_status st = TG_OK;
    char msg[400] = "";
    if (!mem || !bytes) st = TG_ERR_NO_MEMORY, snprintf(msg, sizeof msg, "out of memory");
    for (uint32_t i = 0; st == TG_OK && i < nbuffers; i++) {
        if (!buffers[i]) st = TG_ERR_INVALID, snprintf(msg, sizeof msg, "buffer %u is NULL", i);
        else mem[i] = buffers[i]->data, bytes[i] = buffers[i]->bytes;
    }
    if (st == TG_OK) st = ref_program_run(prog->prog, mem, bytes, args, msg, sizeof msg);
    free(mem);
    free(bytes);
    if (st != TG_OK) return device_fail(dev, st, "program_launch: %s", msg);
    return TG_OK;
}

static tg_status ref_program_launch(tg_device *dev, tg_program *prog, tg_buffer *const *buffers, uint32_t nbuffers) {
    return ref_program_run_args(dev, prog, buffers, nbuffers, NULL);
}

static tg_status ref_run(tg_device *dev, tg_program *prog, const tg_launch *launch) {
    if (!launch || launch->struct_size < sizeof *launch) return device_fail(dev, TG_ERR_INVALID, "program_run: no tg_launch");
    if (prog && launch->nargs != prog->prog->k.nargs)
        return device_fail(dev, TG_ERR_INVALID, "program_run: %u arguments given, the kernel has %u", launch->nargs,
                           prog->prog->k.nargs);
    return ref_program_run_args(dev, prog, launch->buffers, launch->nbuffers, launch->args);
}

static const char *ref_program_source(tg_device *dev, tg_program *prog) {
    return prog ? prog->prog->source : NULL;
}

static const tg_plugin_api ref_api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = "ref",
    .version = REF_VERSION,
    .description = "reference interpreter: the op semantics of sdk/docs/OPS.md, slow and exact",
    .plugin_error = ref_plugin_error,
    .device_count = ref_device_count,
    .device_create = ref_device_create,
    .device_destroy = ref_device_destroy,
    .device_error = ref_device_error,
    .device_caps = ref_device_caps,
    .buffer_create = ref_buffer_create,
    .buffer_destroy = ref_buffer_destroy,
    .buffer_write = ref_buffer_write,
    .buffer_read = ref_buffer_read,
    .program_create = ref_program_create,
    .program_destroy = ref_program_destroy,
    .program_launch = ref_program_launch,
    .synchronize = NULL,
    .buffer_copy = ref_buffer_copy,
    .buffer_map = ref_buffer_map,
    .program_source = ref_program_source,
    .program_run = ref_run,
    .program_create_batch = ref_program_create_batch,
    .buffer_map_range = ref_buffer_map_range,
    .buffer_unmap = ref_buffer_unmap,
    .buffer_wrap = ref_buffer_wrap,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    static char reason[160];
    (void)core_minor; /* any 1.x core reads our table: a 1.0 core ignores the 1.1 slots */
    if (core_major != TG_ABI_MAJOR) {
        snprintf(reason, sizeof reason, "ref speaks plugin ABI %d.%d; the core speaks %u.%u (major differs)",
                 TG_ABI_MAJOR, TG_ABI_MINOR, core_major, core_minor);
        if (out_reason) *out_reason = reason;
        return NULL;
    }
    return &ref_api;
}
