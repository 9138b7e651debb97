/* plugins/cuda/cu_plugin.c -- the cuda plugin's table: NVIDIA GPUs through
 * the CUDA driver API. libcuda.so.1 and libnvrtc are opened with dlopen at
 * run time (cuda.h gives only types and constants), so the plugin loads on
 * any host and reports 0 devices, with the reason, where either is missing.
 * A program is the kernel lowered by the SDK's lowering library (tg/lower.h)
 * for a GPU target filled from the device's attributes, rendered as CUDA C,
 * compiled with NVRTC for the device's compute capability (cu_compile.c,
 * cached on disk) and launched with cuLaunchKernel on the device's one
 * stream. Launches, writes and copies are asynchronous; reads wait. */
#include <cuda.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tg/lower.h>
#include "cu.h"

#define CU_MAX_PARAMS 256          /* 8-byte pointers, well inside CUDA's 4 KiB of parameters */
#define CU_STAGE ((size_t)4 << 20) /* bytes of each of the two pinned staging slots       */

/* libcuda's functions, resolved by the names cuda.h maps its calls to
 * (cuMemAlloc is cuMemAlloc_v2), typed by cuda.h's own declarations. */
#define CU_FNS(X)                                                                                           \
    X(Init) X(DriverGetVersion) X(GetErrorName) X(GetErrorString) X(DeviceGetCount) X(DeviceGet)            \
    X(DeviceGetName) X(DeviceGetAttribute) X(DeviceTotalMem) X(DevicePrimaryCtxRetain)                      \
    X(DevicePrimaryCtxRelease) X(CtxSetCurrent) X(StreamCreate) X(StreamDestroy) X(StreamSynchronize)       \
    X(EventCreate) X(EventDestroy) X(EventRecord) X(EventSynchronize) X(MemAlloc) X(MemFree) X(MemAllocHost) \
    X(MemFreeHost) X(MemcpyHtoDAsync) X(MemcpyDtoHAsync) X(MemcpyDtoDAsync) X(ModuleLoadData)             \
    X(ModuleUnload) X(ModuleGetFunction) X(LaunchKernel)
#define CU_STR(x) #x
#define CU_NAME(x) CU_STR(x) /* after macro expansion */
static struct cu_driver {
    void *dl;
    int version; /* cuDriverGetVersion: 13000 = 13.0 */
#define CU_DECL(f) __typeof__(cu##f) *f;
    CU_FNS(CU_DECL)
} drv;
static cu_nvrtc nvrtc;
static tg_status load_status = -1; /* -1: not tried yet */
static char load_err[512], plugin_err[512];

struct tg_device {
    CUdevice dev;
    CUcontext ctx;
    CUstream stream;
    CUevent ev[2];     /* recorded after the last copy through stage[i]          */
    void *stage[2];    /* pinned staging slots, CU_STAGE bytes each               */
    int slot;          /* the slot the next transfer uses                         */
    int cc, shared, threads, warp, max_grid, sms;
    size_t memory;
    char name[256], version[16], driver[64], cache[PATH_MAX];
    int have_cache;
    char error[8192];
};

struct tg_buffer {
    CUdeviceptr ptr; /* 0 for the zero-byte buffer */
    uint64_t bytes;
    void *host;      /* buffer_map_range's pinned copy of [moff, moff + mbytes) */
    uint64_t moff, mbytes;
    uint32_t mflags;
};

static tg_buffer cu_empty; /* every zero-byte buffer (ABI 1.1) */

struct tg_program {
    CUmodule mod;
    CUfunction fn[2];
    unsigned grid[2], block[2];
    uint32_t npasses, nparams;
    CUdeviceptr scratch; /* a split reduction's partials (tgl_prog.scratch_bytes), 0 if none */
    char *source;
};

static tg_status cu_fail(char *buf, size_t cap, tg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return st;
}
#define dev_fail(d, ...) cu_fail((d)->error, sizeof (d)->error, __VA_ARGS__)

/* A failed driver call as a status and a message naming the call. */
static tg_status cu_check(char *buf, size_t cap, CUresult r, const char *what) {
    if (r == CUDA_SUCCESS) return TG_OK;
    const char *name = "?", *text = "?";
    if (drv.GetErrorName) drv.GetErrorName(r, &name);
    if (drv.GetErrorString) drv.GetErrorString(r, &text);
    tg_status st = r == CUDA_ERROR_OUT_OF_MEMORY ? TG_ERR_NO_MEMORY : TG_ERR_DEVICE;
    return cu_fail(buf, cap, st, "cuda: %s: %s (%s)", what, name, text);
}
#define dev_check(d, r, what) cu_check((d)->error, sizeof (d)->error, (r), (what))

static tg_status cu_load_driver(void) {
    drv.dl = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!drv.dl) return cu_fail(load_err, sizeof load_err, TG_ERR_NOT_FOUND, "cuda: no driver: %s", dlerror());
#define CU_SYM(f) {(void **)&drv.f, CU_NAME(cu##f)},
    struct { void **fn; const char *name; } syms[] = {CU_FNS(CU_SYM)};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].fn = dlsym(drv.dl, syms[i].name)))
            return cu_fail(load_err, sizeof load_err, TG_ERR_NOT_FOUND, "cuda: libcuda.so.1 lacks %s", syms[i].name);
    tg_status st = cu_check(load_err, sizeof load_err, drv.Init(0), "cuInit");
    if (st == TG_OK) st = cu_check(load_err, sizeof load_err, drv.DriverGetVersion(&drv.version), "cuDriverGetVersion");
    return st;
}

/* Open the driver and NVRTC once; the outcome (and its reason) stays. */
static tg_status cu_load(void) {
    char why[256] = "";
    if (load_status != -1) return load_status;
    load_status = cu_load_driver();
    if (load_status == TG_OK && (load_status = cu_nvrtc_open(&nvrtc, why, sizeof why)) != TG_OK)
        snprintf(load_err, sizeof load_err, "cuda: no NVRTC (the CUDA compiler library): %s", why);
    return load_status;
}

static const char *cu_plugin_error(void) { return plugin_err; }

static tg_status cu_device_count(uint32_t *out) {
    plugin_err[0] = 0;
    if (!out) return cu_fail(plugin_err, sizeof plugin_err, TG_ERR_INVALID, "device_count: out is NULL");
    *out = 0;
    int n = 0;
    if (cu_load() != TG_OK) {
        snprintf(plugin_err, sizeof plugin_err, "%s", load_err);
        return TG_OK;
    }
    if (cu_check(plugin_err, sizeof plugin_err, drv.DeviceGetCount(&n), "cuDeviceGetCount") != TG_OK) return TG_OK;
    if (n == 0) snprintf(plugin_err, sizeof plugin_err, "cuda: the driver sees no CUDA device");
    *out = (uint32_t)n;
    return TG_OK;
}

static void cu_device_destroy(tg_device *d) {
    if (!d) return;
    if (d->ctx) {
        drv.CtxSetCurrent(d->ctx);
        if (d->stream) drv.StreamSynchronize(d->stream);
        for (int i = 0; i < 2; i++) {
            if (d->ev[i]) drv.EventDestroy(d->ev[i]);
            if (d->stage[i]) drv.MemFreeHost(d->stage[i]);
        }
        if (d->stream) drv.StreamDestroy(d->stream);
        drv.DevicePrimaryCtxRelease(d->dev);
    }
    free(d);
}

static tg_status cu_device_create(uint32_t index, tg_device **out) {
    plugin_err[0] = 0;
    uint32_t n = 0;
    if (!out) return cu_fail(plugin_err, sizeof plugin_err, TG_ERR_INVALID, "device_create: out is NULL");
    *out = NULL;
    cu_device_count(&n);
    if (index >= n) {
        if (n == 0) return TG_ERR_NOT_FOUND; /* plugin_err says why */
        return cu_fail(plugin_err, sizeof plugin_err, TG_ERR_NOT_FOUND, "cuda: no device %u (there are %u)", index, n);
    }
    tg_device *d = calloc(1, sizeof *d);
    if (!d) return cu_fail(plugin_err, sizeof plugin_err, TG_ERR_NO_MEMORY, "device_create: out of memory");
    const char *step = "cuDeviceGet";
    int minor = 0;
    CUresult r = drv.DeviceGet(&d->dev, (int)index);
    if (r == CUDA_SUCCESS && (step = "cuDevicePrimaryCtxRetain", r = drv.DevicePrimaryCtxRetain(&d->ctx, d->dev)) != CUDA_SUCCESS)
        d->ctx = NULL;
    if (r == CUDA_SUCCESS) step = "cuCtxSetCurrent", r = drv.CtxSetCurrent(d->ctx);
    if (r == CUDA_SUCCESS) step = "cuStreamCreate", r = drv.StreamCreate(&d->stream, CU_STREAM_NON_BLOCKING);
    for (int i = 0; i < 2 && r == CUDA_SUCCESS; i++) {
        step = "cuEventCreate", r = drv.EventCreate(&d->ev[i], CU_EVENT_DISABLE_TIMING);
        if (r == CUDA_SUCCESS) step = "cuMemAllocHost", r = drv.MemAllocHost(&d->stage[i], CU_STAGE);
    }
    struct { int *out; CUdevice_attribute a; } attrs[] = {
        {&d->shared, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK},
        {&d->threads, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK}, {&d->warp, CU_DEVICE_ATTRIBUTE_WARP_SIZE},
        {&d->max_grid, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X}, {&d->cc, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR},
        {&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR}, {&d->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT}};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && r == CUDA_SUCCESS; i++)
        step = "cuDeviceGetAttribute", r = drv.DeviceGetAttribute(attrs[i].out, attrs[i].a, d->dev);
    if (r == CUDA_SUCCESS) step = "cuDeviceTotalMem", r = drv.DeviceTotalMem(&d->memory, d->dev);
    if (r == CUDA_SUCCESS) step = "cuDeviceGetName", r = drv.DeviceGetName(d->name, sizeof d->name, d->dev);
    tg_status st = cu_check(plugin_err, sizeof plugin_err, r, step);
    if (st != TG_OK) {
        cu_device_destroy(d);
        return st;
    }
    d->cc = d->cc * 10 + minor;
    snprintf(d->version, sizeof d->version, "sm_%d", d->cc);
    snprintf(d->driver, sizeof d->driver, "CUDA driver %d.%d, NVRTC %d.%d", drv.version / 1000,
             drv.version % 1000 / 10, nvrtc.major, nvrtc.minor);
    d->have_cache = cu_cache_dir(d->cache, sizeof d->cache);
    *out = d;
    return TG_OK;
}

static const char *cu_device_error(tg_device *d) { return d ? d->error : ""; }

static tg_status cu_device_caps(tg_device *d, tg_caps *caps) {
    if (!caps) return dev_fail(d, TG_ERR_INVALID, "device_caps: caps is NULL");
    tg_caps c;
    memset(&c, 0, sizeof c);
    c.dtypes = (1u << TG_DTYPE_COUNT) - 1;
    c.fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT | TG_FUSE_MULTI_OUTPUT;
    c.flags = TG_CAP_ASYNC;
    c.max_dims = TG_MAX_DIMS;
    c.max_params = CU_MAX_PARAMS;
    c.max_view_depth = 16;
    c.vector_width = 16;
    c.memory_bytes = d->memory;
    c.compute_units = (uint32_t)d->sms;
    c.max_group_size = (uint32_t)d->threads;
    c.local_memory_bytes = (uint64_t)d->shared;
    c.emulated_dtypes = 1u << TG_FLOAT16 | 1u << TG_BFLOAT16; /* rendered in float (sdk/lower) */
    c.name = d->name;
    c.vendor = "NVIDIA";
    c.version = d->version;
    c.driver = d->driver;
    size_t n = caps->struct_size < sizeof c ? caps->struct_size : sizeof c;
    uint32_t keep = caps->struct_size;
    memcpy(caps, &c, n);
    caps->struct_size = keep;
    return TG_OK;
}

static tg_status cu_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out) {
    if (!out) return dev_fail(d, TG_ERR_INVALID, "buffer_create: out is NULL");
    *out = bytes ? NULL : &cu_empty;
    if (!bytes) return TG_OK;
    tg_buffer *b = calloc(1, sizeof *b);
    if (!b) return dev_fail(d, TG_ERR_NO_MEMORY, "buffer_create: out of memory");
    b->bytes = bytes;
    drv.CtxSetCurrent(d->ctx);
    tg_status st = dev_check(d, drv.MemAlloc(&b->ptr, (size_t)bytes), "cuMemAlloc");
    if (st != TG_OK) {
        free(b);
        return st;
    }
    *out = b;
    return TG_OK;
}

/* Work still queued may use the memory: the stream is drained first. */
static void cu_buffer_destroy(tg_device *d, tg_buffer *b) {
    if (!b || b == &cu_empty) return;
    drv.CtxSetCurrent(d->ctx);
    drv.StreamSynchronize(d->stream);
    drv.MemFree(b->ptr);
    if (b->host) drv.MemFreeHost(b->host);
    free(b);
}

static tg_status cu_range(tg_device *d, const tg_buffer *b, uint64_t off, uint64_t bytes, const char *what) {
    if (!b) return dev_fail(d, TG_ERR_INVALID, "%s: buffer is NULL", what);
    if (off > b->bytes || bytes > b->bytes - off)
        return dev_fail(d, TG_ERR_INVALID, "%s: range [%llu, +%llu) outside a buffer of %llu bytes", what,
                        (unsigned long long)off, (unsigned long long)bytes, (unsigned long long)b->bytes);
    drv.CtxSetCurrent(d->ctx);
    return TG_OK;
}

/* Through the staging slots in turn: a slot is reused once its last copy
 * has ended, so the call returns while the copies run. */
static tg_status cu_buffer_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    tg_status st = cu_range(d, b, off, bytes, "buffer_write");
    if (st == TG_OK && bytes && !src) st = dev_fail(d, TG_ERR_INVALID, "buffer_write: src is NULL");
    for (uint64_t done = 0; st == TG_OK && done < bytes;) {
        size_t n = bytes - done < CU_STAGE ? (size_t)(bytes - done) : CU_STAGE;
        int s = d->slot;
        d->slot ^= 1;
        st = dev_check(d, drv.EventSynchronize(d->ev[s]), "buffer_write: cuEventSynchronize");
        if (st != TG_OK) break;
        memcpy(d->stage[s], (const char *)src + done, n);
        st = dev_check(d, drv.MemcpyHtoDAsync(b->ptr + off + done, d->stage[s], n, d->stream), "cuMemcpyHtoDAsync");
        if (st == TG_OK) st = dev_check(d, drv.EventRecord(d->ev[s], d->stream), "cuEventRecord");
        done += n;
    }
    return st;
}

/* Each chunk waits on its slot's event, which follows all earlier work. */
static tg_status cu_buffer_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t bytes) {
    tg_status st = cu_range(d, b, off, bytes, "buffer_read");
    if (st == TG_OK && bytes && !dst) st = dev_fail(d, TG_ERR_INVALID, "buffer_read: dst is NULL");
    for (uint64_t done = 0; st == TG_OK && done < bytes;) {
        size_t n = bytes - done < CU_STAGE ? (size_t)(bytes - done) : CU_STAGE;
        int s = d->slot;
        d->slot ^= 1;
        st = dev_check(d, drv.MemcpyDtoHAsync(d->stage[s], b->ptr + off + done, n, d->stream), "cuMemcpyDtoHAsync");
        if (st == TG_OK) st = dev_check(d, drv.EventRecord(d->ev[s], d->stream), "cuEventRecord");
        if (st == TG_OK) st = dev_check(d, drv.EventSynchronize(d->ev[s]), "buffer_read: the device's work");
        if (st == TG_OK) memcpy((char *)dst + done, d->stage[s], n);
        done += n;
    }
    return st;
}

/* Through a pinned host copy: read at map (after all earlier work), written
 * back at unmap (which waits for the copy, so the copy can be freed). */
static tg_status cu_buffer_map_range(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags,
                                     void **out) {
    void *h = NULL;
    tg_status st = cu_range(d, b, off, bytes, "buffer_map_range");
    if (st == TG_OK && (!out || !bytes || b->host || !flags || flags > (TG_MAP_READ | TG_MAP_WRITE)))
        return dev_fail(d, TG_ERR_INVALID, "buffer_map_range: no out, 0 bytes, flags %u or mapped already", flags);
    if (st == TG_OK) st = dev_check(d, drv.MemAllocHost(&h, (size_t)bytes), "cuMemAllocHost");
    if (st == TG_OK && (flags & TG_MAP_READ))
        st = dev_check(d, drv.MemcpyDtoHAsync(h, b->ptr + off, (size_t)bytes, d->stream), "cuMemcpyDtoHAsync");
    if (st == TG_OK && (flags & TG_MAP_READ))
        st = dev_check(d, drv.StreamSynchronize(d->stream), "buffer_map_range: the device's work");
    if (st != TG_OK && h) drv.MemFreeHost(h);
    if (st != TG_OK) return st;
    *out = b->host = h;
    b->moff = off, b->mbytes = bytes, b->mflags = flags;
    return TG_OK;
}

static tg_status cu_buffer_unmap(tg_device *d, tg_buffer *b, void *ptr) {
    if (!b || !ptr || ptr != b->host) return dev_fail(d, TG_ERR_INVALID, "buffer_unmap: not this buffer's mapping");
    drv.CtxSetCurrent(d->ctx);
    tg_status st = TG_OK;
    if (b->mflags & TG_MAP_WRITE)
        st = dev_check(d, drv.MemcpyHtoDAsync(b->ptr + b->moff, b->host, (size_t)b->mbytes, d->stream), "cuMemcpyHtoDAsync");
    if (st == TG_OK && (b->mflags & TG_MAP_WRITE))
        st = dev_check(d, drv.StreamSynchronize(d->stream), "buffer_unmap: the copy");
    drv.MemFreeHost(b->host);
    b->host = NULL;
    return st;
}

static tg_status cu_buffer_copy(tg_device *d, tg_buffer *dst, uint64_t doff, tg_buffer *src, uint64_t soff,
                                uint64_t bytes) {
    tg_status st = cu_range(d, dst, doff, bytes, "buffer_copy");
    if (st == TG_OK) st = cu_range(d, src, soff, bytes, "buffer_copy");
    if (st != TG_OK || bytes == 0) return st;
    if (dst == src && doff < soff + bytes && soff < doff + bytes)
        return dev_fail(d, TG_ERR_UNSUPPORTED, "buffer_copy: overlapping ranges of one buffer");
    return dev_check(d, drv.MemcpyDtoDAsync(dst->ptr + doff, src->ptr + soff, bytes, d->stream), "cuMemcpyDtoDAsync");
}

static tg_status cu_synchronize(tg_device *d) {
    drv.CtxSetCurrent(d->ctx);
    return dev_check(d, drv.StreamSynchronize(d->stream), "synchronize: the device's work");
}

static void cu_program_destroy(tg_device *d, tg_program *p) {
    if (!p) return;
    if (p->mod || p->scratch) {
        drv.CtxSetCurrent(d->ctx);
        drv.StreamSynchronize(d->stream);
    }
    if (p->mod) drv.ModuleUnload(p->mod);
    if (p->scratch) drv.MemFree(p->scratch);
    free(p->source);
    free(p);
}

/* Lower for this device, render CUDA C, then check the launch geometry. */
static tg_status cu_render(tg_device *d, const tg_kernel *k, tg_program *p, tgl_prog **out_lp) {
    tgl_target t = {.kind = TGL_GPU, .vector_bytes = 16, .local_bytes = (uint32_t)d->shared,
                    .max_group = (uint32_t)d->threads, .warp = (uint32_t)d->warp, .native = 0, .index_bits = 32};
    tg_status st = tgl_lower(k, &t, NULL, out_lp, d->error, sizeof d->error);
    if (st != TG_OK) return st;
    const tgl_prog *lp = *out_lp;
    tgl_sb sb = {0};
    if (tgl_render(lp, &tgl_dialect_cuda, &sb) != TG_OK || sb.oom || !sb.s) {
        tgl_sb_free(&sb);
        return dev_fail(d, TG_ERR_NO_MEMORY, "program_create: out of memory rendering %s", k->name);
    }
    p->source = sb.s;
    p->npasses = lp->npasses;
    for (uint32_t i = 0; i < lp->npasses && i < 2; i++) {
        uint64_t groups = lp->pass[i].local ? lp->pass[i].global / lp->pass[i].local : 0;
        if (lp->pass[i].local == 0 || lp->pass[i].local > (uint32_t)d->threads || groups > (uint64_t)d->max_grid)
            return dev_fail(d, TG_ERR_UNSUPPORTED, "program_create: %s needs %llu groups of %u, beyond the device",
                            k->name, (unsigned long long)groups, lp->pass[i].local);
        p->grid[i] = (unsigned)groups;
        p->block[i] = lp->pass[i].local;
    }
    return TG_OK;
}

static tg_status cu_program_create(tg_device *d, const tg_kernel *k, tg_program **out) {
    if (!k || !out) return dev_fail(d, TG_ERR_INVALID, "program_create: NULL argument");
    *out = NULL;
    if (k->nparams > CU_MAX_PARAMS)
        return dev_fail(d, TG_ERR_UNSUPPORTED, "program_create: %u buffers, at most %d", k->nparams, CU_MAX_PARAMS);
    tg_program *p = calloc(1, sizeof *p);
    if (!p) return dev_fail(d, TG_ERR_NO_MEMORY, "program_create: out of memory");
    p->nparams = k->nparams;
    tgl_prog *lp = NULL;
    tg_status st = cu_render(d, k, p, &lp);
    char *bin = NULL;
    size_t size = 0;
    int hit = 0;
    cu_key key = {k->hash, d->cc, drv.version};
    if (st == TG_OK && p->npasses > 0)
        st = cu_cubin(&nvrtc, d->have_cache ? d->cache : NULL, &key, p->source, &bin, &size, &hit, d->error,
                      sizeof d->error);
    drv.CtxSetCurrent(d->ctx);
    if (st == TG_OK && p->npasses > 0) st = dev_check(d, drv.ModuleLoadData(&p->mod, bin), "cuModuleLoadData");
    for (uint32_t i = 0; i < p->npasses && st == TG_OK; i++)
        st = dev_check(d, drv.ModuleGetFunction(&p->fn[i], p->mod, lp->pass[i].fn), "cuModuleGetFunction");
    if (st == TG_OK && lp->scratch_bytes) st = dev_check(d, drv.MemAlloc(&p->scratch, lp->scratch_bytes), "cuMemAlloc");
    free(bin);
    tgl_prog_free(lp);
    if (st != TG_OK) {
        cu_program_destroy(d, p);
        return st;
    }
    *out = p;
    return TG_OK;
}

static tg_status cu_program_launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t nbufs) {
    if (!p || (!bufs && nbufs)) return dev_fail(d, TG_ERR_INVALID, "program_launch: NULL argument");
    if (nbufs != p->nparams)
        return dev_fail(d, TG_ERR_INVALID, "program_launch: %u buffers given, kernel has %u", nbufs, p->nparams);
    void *args[CU_MAX_PARAMS + 1];
    for (uint32_t i = 0; i < nbufs; i++) {
        if (!bufs[i]) return dev_fail(d, TG_ERR_INVALID, "program_launch: buffer %u is NULL", i);
        args[i] = (void *)&bufs[i]->ptr;
    }
    args[nbufs] = &p->scratch; /* read by split reductions only */
    drv.CtxSetCurrent(d->ctx);
    tg_status st = TG_OK;
    for (uint32_t i = 0; i < p->npasses && st == TG_OK; i++)
        if (p->grid[i] > 0)
            st = dev_check(d, drv.LaunchKernel(p->fn[i], p->grid[i], 1, 1, p->block[i], 1, 1, 0, d->stream, args, NULL),
                           "cuLaunchKernel");
    return st;
}

static const char *cu_program_source(tg_device *d, tg_program *p) {
    (void)d;
    return p ? p->source : NULL;
}

static const tg_plugin_api cu_api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = "cuda",
    .version = "0.1.0",
    .description = "NVIDIA GPUs: kernels rendered as CUDA C, compiled with NVRTC, run with the driver API",
    .plugin_error = cu_plugin_error,
    .device_count = cu_device_count,
    .device_create = cu_device_create,
    .device_destroy = cu_device_destroy,
    .device_error = cu_device_error,
    .device_caps = cu_device_caps,
    .buffer_create = cu_buffer_create,
    .buffer_destroy = cu_buffer_destroy,
    .buffer_write = cu_buffer_write,
    .buffer_read = cu_buffer_read,
    .program_create = cu_program_create,
    .program_destroy = cu_program_destroy,
    .program_launch = cu_program_launch,
    .synchronize = cu_synchronize,
    .buffer_copy = cu_buffer_copy,
    .buffer_map = NULL,
    .program_source = cu_program_source,
    .buffer_map_range = cu_buffer_map_range,
    .buffer_unmap = cu_buffer_unmap,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    (void)core_minor;
    if (core_major != TG_ABI_MAJOR) {
        if (out_reason) *out_reason = "cuda plugin speaks ABI 1.x only";
        return NULL;
    }
    return &cu_api;
}
