/* plugins/opencl/opencl.c -- the opencl plugin: OpenCL 1.2+ devices through
 * the ICD loader (every device of every platform, TG_OPENCL_DEVICE to pick
 * one), caps read from the device, buffers, and programs: a kernel lowered
 * by the SDK (tgl_lower), rendered to OpenCL C (tgl_render), built with
 * clBuildProgram with its binary cached on disk, launched on the device's
 * in-order queue (asynchronous; synchronize is clFinish).
 *
 * Cache entry <cache_dir>/<key>.bin, key: two 64-bit FNV-1a hashes (of
 * different seeds) of the kernel's hash, the source, the device's name and
 * version, the driver's version and the build options. The file holds
 * "tgocl1" magic (8 bytes), the key (16), the binary's size (8), the binary
 * and an FNV-1a checksum of everything before it (8). It is written under a
 * temporary name and renamed into place; an entry that is short, corrupt,
 * refused by the driver or without the kernel is rebuilt from source.
 * A program's kernels are named by their key (tgk_<key>, tgk_<key>_part...),
 * so a batch builds many in one program (program_create_batch), whose entry
 * is hard-linked under each kernel's key (the header holds the first's). */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tg/dtype_util.h>
#include <tg/lower.h>
#include <tg/plugin.h>
#include <unistd.h>

#define OCL_MAX_PARAMS 64

struct tg_device {
    cl_device_id dev;
    cl_context ctx;
    cl_command_queue queue;        /* in order: launches run in call order   */
    tgl_target target;             /* what tgl_lower is told of the device   */
    tg_caps caps;                  /* filled once at device_create           */
    char name[256], vendor[256], version[256], driver[256];
    char options[128];             /* clBuildProgram options                 */
    char cache_dir[1024];          /* "" = no binary cache                   */
    char *batch_msgs;              /* program_create_batch's, 512 bytes each */
    int probe;                     /* build only from the cache, else NOT_FOUND */
    char error[8192];
};

struct tg_buffer {
    cl_mem mem;                    /* NULL for the zero-byte buffer          */
    uint64_t bytes;
};

#define OCL_MAX_ARGS 16
static tg_buffer ocl_empty;        /* every zero-byte buffer (ABI 1.1)       */

struct tg_program {
    cl_program prog;
    cl_kernel kern[2];             /* one per pass                           */
    tgl_pass pass[2];              /* fn is not kept (it points into a freed
                                      tgl_prog)                              */
    uint32_t npasses, nparams;
    uint32_t nargs;                /* 1.1: kernel arguments, a cl_ulong word each
                                      after the buffers (tgl_args_pack)       */
    tg_arg args[OCL_MAX_ARGS];
    char name[40];                 /* tgk_<key>: its kernels' names' stem    */
    cl_mem scratch;                /* the passes' scratch buffer, or NULL     */
    char *source;                  /* the rendered OpenCL C                  */
};

#define OCL_MAX_DEVICES 64

static char plugin_err[512];

static tg_status ocl_fail(tg_device *d, tg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    return st;
}

static const char *ocl_plugin_error(void) { return plugin_err; }

static void dev_str(cl_device_id dev, cl_device_info what, char *out, size_t cap) {
    if (clGetDeviceInfo(dev, what, cap, out, NULL) != CL_SUCCESS) out[0] = 0;
    out[cap - 1] = 0;
}

/* A numeric device property of `size` bytes (cl_bool, cl_uint, cl_ulong,
 * size_t), widened: read into the low bytes of a zeroed uint64_t, which is
 * right on the little-endian hosts tg supports. 0 when the query fails.  */
static uint64_t dev_num(cl_device_id dev, cl_device_info what, size_t size) {
    uint64_t v = 0;
    if (clGetDeviceInfo(dev, what, size, &v, NULL) != CL_SUCCESS) return 0;
    return v;
}

/* A device tg can use: OpenCL 1.2 or later, the full profile (64-bit
 * integers), with a compiler. */
static int usable(cl_device_id dev) {
    char ver[128], profile[32];
    int major = 0, minor = 0;
    dev_str(dev, CL_DEVICE_VERSION, ver, sizeof ver);
    dev_str(dev, CL_DEVICE_PROFILE, profile, sizeof profile);
    if (sscanf(ver, "OpenCL %d.%d", &major, &minor) != 2 || strcmp(profile, "FULL_PROFILE") != 0) return 0;
    return (major > 1 || (major == 1 && minor >= 2)) && dev_num(dev, CL_DEVICE_COMPILER_AVAILABLE, sizeof(cl_bool));
}

/* The usable devices of all platforms, in platform order; TG_OPENCL_DEVICE=i
 * keeps only the i-th. 0 devices: plugin_err says why. */
static uint32_t list_devices(cl_device_id *out) {
    cl_platform_id plats[16];
    cl_uint np = 0;
    cl_int e = clGetPlatformIDs(16, plats, &np);
    if (e != CL_SUCCESS || np == 0) {
        snprintf(plugin_err, sizeof plugin_err, "opencl: no OpenCL platform (clGetPlatformIDs: error %d); an ICD "
                 "such as pocl-opencl-icd is needed", (int)e);
        return 0;
    }
    uint32_t n = 0, seen = 0;
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_device_id devs[OCL_MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, OCL_MAX_DEVICES, devs, &nd) != CL_SUCCESS) continue;
        for (cl_uint i = 0; i < nd && i < OCL_MAX_DEVICES && n < OCL_MAX_DEVICES; i++, seen++)
            if (usable(devs[i])) out[n++] = devs[i];
    }
    if (n == 0) {
        snprintf(plugin_err, sizeof plugin_err, "opencl: %u platform(s), %u device(s), none with OpenCL 1.2, the full "
                 "profile and a compiler", (unsigned)np, seen);
        return 0;
    }
    const char *sel = getenv("TG_OPENCL_DEVICE");
    if (sel && *sel) {
        char *end;
        long i = strtol(sel, &end, 10);
        if (*end || i < 0 || i >= (long)n) {
            snprintf(plugin_err, sizeof plugin_err, "opencl: TG_OPENCL_DEVICE=%s: no such device (%u usable, "
                     "numbered from 0)", sel, n);
            return 0;
        }
        out[0] = out[i];
        n = 1;
    }
    return n;
}

static tg_status ocl_device_count(uint32_t *out_count) {
    cl_device_id devs[OCL_MAX_DEVICES];
    plugin_err[0] = 0;
    if (!out_count) {
        snprintf(plugin_err, sizeof plugin_err, "device_count: out_count is NULL");
        return TG_ERR_INVALID;
    }
    *out_count = list_devices(devs);
    return TG_OK;
}

/* tg/opencl in the SDK's cache directory; "" (no disk cache) when there is
 * none or it is not private. */
static void cache_dir(char *out, size_t cap) {
    if (tgp_cache_dir("opencl", out, cap) != 1) out[0] = 0;
}

/* Read what the device is into d->target and d->caps. */
static void describe(tg_device *d) {
    cl_device_id dev = d->dev;
    char ext[16384];
    dev_str(dev, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    dev_str(dev, CL_DEVICE_NAME, d->name, sizeof d->name);
    dev_str(dev, CL_DEVICE_VENDOR, d->vendor, sizeof d->vendor);
    dev_str(dev, CL_DEVICE_VERSION, d->version, sizeof d->version);
    dev_str(dev, CL_DRIVER_VERSION, d->driver, sizeof d->driver);
    int fp64 = strstr(ext, "cl_khr_fp64") != NULL || dev_num(dev, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof(cl_ulong)) != 0;
    uint32_t vec = (uint32_t)dev_num(dev, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof(cl_uint)) * 4;
    uint64_t group = dev_num(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(size_t));
    uint64_t local = dev_num(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(cl_ulong));
    if (dev_num(dev, CL_DEVICE_LOCAL_MEM_TYPE, sizeof(cl_device_local_mem_type)) == CL_NONE) local = 0;

    d->target.kind = TGL_GPU;
    d->target.vector_bytes = vec;
    d->target.local_bytes = local > UINT32_MAX ? UINT32_MAX : (uint32_t)local;
    d->target.max_group = group > 1024 ? 1024 : (uint32_t)group;
    d->target.native = (fp64 ? 1u << TG_FLOAT64 : 0) | 1u << TG_INT64 | 1u << TG_UINT64; /* full profile */
    d->target.index_bits = 32;

    tg_caps *c = &d->caps;
    c->dtypes = (1u << TG_DTYPE_COUNT) - 1;
    if (!fp64) c->dtypes &= ~(1u << TG_FLOAT64);
    c->fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT | TG_FUSE_MULTI_OUTPUT;
    c->flags = TG_CAP_ASYNC | TG_CAP_ARG_VALUES | TG_CAP_ARG_BOUNDS;
    if (dev_num(dev, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof(cl_bool))) c->flags |= TG_CAP_UNIFIED;
    c->max_dims = TG_MAX_DIMS;
    uint64_t params = dev_num(dev, CL_DEVICE_MAX_PARAMETER_SIZE, sizeof(size_t)) / sizeof(cl_mem);
    c->max_params = params < OCL_MAX_PARAMS ? (uint32_t)params : OCL_MAX_PARAMS;
    c->max_view_depth = 16;
    c->vector_width = vec;
    c->memory_bytes = dev_num(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
    c->max_buffer_bytes = dev_num(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
    c->compute_units = (uint32_t)dev_num(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cl_uint));
    c->max_group_size = (uint32_t)group;
    c->local_memory_bytes = local;
    c->emulated_dtypes = 1u << TG_FLOAT16 | 1u << TG_BFLOAT16; /* rendered in float (sdk/lower) */
    c->name = d->name;
    c->vendor = d->vendor;
    c->version = d->version;
    c->driver = d->driver;

    /* -w: PoCL's clang prints "N warnings generated" to stderr otherwise.
     * Correctly rounded division and sqrt where the device offers them. */
    cl_device_fp_config fp = dev_num(dev, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(cl_device_fp_config));
    snprintf(d->options, sizeof d->options, "-w%s",
             fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
}

static void ocl_device_destroy(tg_device *d) {
    if (!d) return;
    if (d->queue) {
        clFinish(d->queue);
        clReleaseCommandQueue(d->queue);
    }
    if (d->ctx) clReleaseContext(d->ctx);
    free(d->batch_msgs);
    free(d);
}

static tg_status ocl_device_create(uint32_t index, tg_device **out_device) {
    cl_device_id devs[OCL_MAX_DEVICES];
    plugin_err[0] = 0;
    if (!out_device) {
        snprintf(plugin_err, sizeof plugin_err, "device_create: out_device is NULL");
        return TG_ERR_INVALID;
    }
    uint32_t n = list_devices(devs);
    if (index >= n) {
        if (n > 0) snprintf(plugin_err, sizeof plugin_err, "opencl: no device %u (there are %u)", index, n);
        return TG_ERR_NOT_FOUND;
    }
    tg_device *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(plugin_err, sizeof plugin_err, "opencl: out of memory");
        return TG_ERR_NO_MEMORY;
    }
    d->dev = devs[index];
    cl_int e;
    d->ctx = clCreateContext(NULL, 1, &d->dev, NULL, NULL, &e);
    if (d->ctx) d->queue = clCreateCommandQueue(d->ctx, d->dev, 0, &e);
    if (!d->queue) {
        snprintf(plugin_err, sizeof plugin_err, "opencl: cannot open device %u: OpenCL error %d", index, (int)e);
        ocl_device_destroy(d);
        return TG_ERR_DEVICE;
    }
    describe(d);
    cache_dir(d->cache_dir, sizeof d->cache_dir);
    *out_device = d;
    return TG_OK;
}

static const char *ocl_device_error(tg_device *d) { return d ? d->error : ""; }

static tg_status ocl_device_caps(tg_device *d, tg_caps *caps) {
    if (!caps) return ocl_fail(d, TG_ERR_INVALID, "device_caps: caps is NULL");
    tgp_caps_copy(caps, &d->caps); /* the struct_size protocol */
    return TG_OK;
}

static tg_status ocl_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out_buffer) {
    if (!out_buffer) return ocl_fail(d, TG_ERR_INVALID, "buffer_create: out_buffer is NULL");
    *out_buffer = bytes ? NULL : &ocl_empty;
    if (bytes == 0) return TG_OK;
    tg_buffer *b = calloc(1, sizeof *b);
    if (!b) return ocl_fail(d, TG_ERR_NO_MEMORY, "buffer_create: out of memory");
    cl_int e;
    b->mem = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &e);
    if (!b->mem) {
        free(b);
        return ocl_fail(d, TG_ERR_NO_MEMORY, "buffer_create: clCreateBuffer of %llu bytes (at most %llu): OpenCL "
                        "error %d", (unsigned long long)bytes, (unsigned long long)d->caps.max_buffer_bytes, (int)e);
    }
    b->bytes = bytes;
    *out_buffer = b;
    return TG_OK;
}

/* The runtime keeps the memory alive until queued work that uses it ends. */
static void ocl_buffer_destroy(tg_device *d, tg_buffer *b) {
    if (!b || b == &ocl_empty) return;
    clReleaseMemObject(b->mem);
    free(b);
}

static tg_status range_ok(tg_device *d, const tg_buffer *b, uint64_t off, uint64_t bytes, const char *what) {
    if (!b) return ocl_fail(d, TG_ERR_INVALID, "%s: buffer is NULL", what);
    if (off > b->bytes || bytes > b->bytes - off)
        return ocl_fail(d, TG_ERR_INVALID, "%s: range [%llu, +%llu) outside a buffer of %llu bytes", what,
                        (unsigned long long)off, (unsigned long long)bytes, (unsigned long long)b->bytes);
    return TG_OK;
}

static tg_status cl_status(tg_device *d, cl_int e, const char *what) {
    if (e == CL_SUCCESS) return TG_OK;
    tg_status st = e == CL_OUT_OF_HOST_MEMORY || e == CL_MEM_OBJECT_ALLOCATION_FAILURE ? TG_ERR_NO_MEMORY
                                                                                        : TG_ERR_DEVICE;
    return ocl_fail(d, st, "%s: OpenCL error %d", what, (int)e);
}

/* Blocking (`src` is borrowed for the call only), or not (async). */
static tg_status write_buffer(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes, cl_bool block) {
    tg_status st = range_ok(d, b, off, bytes, "buffer_write");
    if (st || bytes == 0) return st;
    if (!src) return ocl_fail(d, TG_ERR_INVALID, "buffer_write: src is NULL");
    cl_int e = clEnqueueWriteBuffer(d->queue, b->mem, block, (size_t)off, (size_t)bytes, src, 0, NULL, NULL);
    return cl_status(d, e, "buffer_write: clEnqueueWriteBuffer");
}

static tg_status ocl_buffer_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    return write_buffer(d, b, off, src, bytes, CL_TRUE);
}

static tg_status ocl_buffer_write_async(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    return write_buffer(d, b, off, src, bytes, CL_FALSE);
}

/* A blocking map: on the in-order queue it follows all earlier work. */
static tg_status ocl_buffer_map_range(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags,
                                      void **out) {
    tg_status st = range_ok(d, b, off, bytes, "buffer_map_range");
    if (st || !out || !bytes || !flags || flags > (TG_MAP_READ | TG_MAP_WRITE))
        return st ? st : ocl_fail(d, TG_ERR_INVALID, "buffer_map_range: no out, 0 bytes or flags %u", flags);
    cl_map_flags f = (flags & TG_MAP_READ ? CL_MAP_READ : 0) | (flags & TG_MAP_WRITE ? CL_MAP_WRITE : 0);
    cl_int e;
    *out = clEnqueueMapBuffer(d->queue, b->mem, CL_TRUE, f, (size_t)off, (size_t)bytes, 0, NULL, NULL, &e);
    return cl_status(d, e, "buffer_map_range: clEnqueueMapBuffer");
}

static tg_status ocl_buffer_unmap(tg_device *d, tg_buffer *b, void *ptr) {
    if (!b || !ptr) return ocl_fail(d, TG_ERR_INVALID, "buffer_unmap: NULL argument");
    return cl_status(d, clEnqueueUnmapMemObject(d->queue, b->mem, ptr, 0, NULL, NULL), "buffer_unmap: clEnqueueUnmapMemObject");
}

static tg_status ocl_buffer_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t bytes) {
    tg_status st = range_ok(d, b, off, bytes, "buffer_read");
    if (st) return st;
    if (bytes == 0) return cl_status(d, clFinish(d->queue), "buffer_read: clFinish");
    if (!dst) return ocl_fail(d, TG_ERR_INVALID, "buffer_read: dst is NULL");
    cl_int e = clEnqueueReadBuffer(d->queue, b->mem, CL_TRUE, (size_t)off, (size_t)bytes, dst, 0, NULL, NULL);
    return cl_status(d, e, "buffer_read: clEnqueueReadBuffer");
}

static tg_status ocl_buffer_copy(tg_device *d, tg_buffer *dst, uint64_t doff, tg_buffer *src, uint64_t soff,
                                 uint64_t bytes) {
    tg_status st = range_ok(d, dst, doff, bytes, "buffer_copy");
    if (!st) st = range_ok(d, src, soff, bytes, "buffer_copy");
    if (st || bytes == 0) return st;
    cl_int e = CL_SUCCESS;
    cl_mem from = src->mem;
    if (dst == src && (doff < soff ? soff - doff : doff - soff) < bytes) { /* overlap: through a temporary */
        from = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &e);
        if (from) e = clEnqueueCopyBuffer(d->queue, src->mem, from, (size_t)soff, 0, (size_t)bytes, 0, NULL, NULL);
        soff = 0;
    }
    if (e == CL_SUCCESS)
        e = clEnqueueCopyBuffer(d->queue, from, dst->mem, (size_t)soff, (size_t)doff, (size_t)bytes, 0, NULL, NULL);
    if (from && from != src->mem) clReleaseMemObject(from);
    return cl_status(d, e, "buffer_copy: clEnqueueCopyBuffer");
}

static tg_status ocl_synchronize(tg_device *d) { return cl_status(d, clFinish(d->queue), "synchronize: clFinish"); }

#define OCL_FNV_SEED 0xcbf29ce484222325ull
#define OCL_MAGIC "tgocl1\n"
#define OCL_HEAD 32 /* magic, key, size */
#define OCL_MAX_BINARY (256u << 20)

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void make_key(const tg_device *d, const tg_kernel *k, const char *src, uint64_t key[2]) {
    const char *parts[] = {src, d->name, d->version, d->driver, d->options};
    for (int i = 0; i < 2; i++) {
        uint64_t h = fnv(OCL_FNV_SEED + (uint64_t)i * 0x9e3779b97f4a7c15ull, &k->hash, sizeof k->hash);
        for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) h = fnv(h, parts[j], strlen(parts[j]) + 1);
        key[i] = h;
    }
}

static void make_head(unsigned char head[OCL_HEAD], const uint64_t key[2], uint64_t size) {
    memcpy(head, OCL_MAGIC, 8);
    memcpy(head + 8, key, 16);
    memcpy(head + 24, &size, 8);
}

/* The cached binary at path, or NULL (absent or unusable). */
static unsigned char *cache_load(const char *path, size_t *out_size) {
    FILE *f = fopen(path, "rb");
    unsigned char head[OCL_HEAD], *bin = NULL;
    uint64_t size = 0, sum = 0;
    if (f && fread(head, 1, OCL_HEAD, f) == OCL_HEAD) { /* the key inside may be another's of its batch */
        memcpy(&size, head + 24, 8);
        if (memcmp(head, OCL_MAGIC, 8) == 0 && size > 0 && size <= OCL_MAX_BINARY) bin = malloc((size_t)size);
    }
    if (bin && (fread(bin, 1, (size_t)size, f) != size || fread(&sum, 1, 8, f) != 8 ||
                fnv(fnv(OCL_FNV_SEED, head, OCL_HEAD), bin, (size_t)size) != sum)) {
        free(bin);
        bin = NULL;
    }
    if (f) fclose(f);
    *out_size = (size_t)size;
    return bin;
}

static int make_dirs(const char *dir) { /* mkdir -p */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *s = buf + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        if (!c) return 0;
        *s = c;
    }
}

/* Best effort: a cache that cannot be written only costs rebuilds. The
 * entry goes to paths[0], and is hard-linked as paths[1..n). */
static void cache_store(const tg_device *d, char (*paths)[1100], uint32_t n, const uint64_t key[2], cl_program prog) {
    const char *path = paths[0];
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0 ||
        size > OCL_MAX_BINARY || make_dirs(d->cache_dir) != 0)
        return;
    unsigned char head[OCL_HEAD], *bin = malloc(size);
    char tmp[1200];
    FILE *f = NULL;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (bin && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        f = fopen(tmp, "wbx"); /* exists: another thread is writing this entry */
    if (f) {
        make_head(head, key, size);
        uint64_t sum = fnv(fnv(OCL_FNV_SEED, head, OCL_HEAD), bin, size);
        int ok = fwrite(head, 1, OCL_HEAD, f) == OCL_HEAD && fwrite(bin, 1, size, f) == size &&
                 fwrite(&sum, 1, 8, f) == 8;
        if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) unlink(tmp);
        for (uint32_t i = 1; ok && i < n; i++) { /* in place whole or not at all */
            snprintf(tmp, sizeof tmp, "%s.%ld.tmp", paths[i], (long)getpid());
            if (link(path, tmp) == 0) rename(tmp, paths[i]);
            unlink(tmp); /* left if the rename did nothing (the same kernel twice) */
        }
    }
    free(bin);
}

/* The code with its functions renamed tgk_<key>... (p->name). */
static void put_renamed(tgl_sb *sb, const char *code, const char *name) {
    tgl_sb_printf(sb, "#define tgk %s\n#define tgk_part %s_part\n#define tgk_fin %s_fin\n%s\n#undef tgk\n"
                  "#undef tgk_part\n#undef tgk_fin\n", name, name, name, code);
}

/* A built cl_program for the program's source: from the cache, else compiled. */
static tg_status build(tg_device *d, const tg_kernel *k, tg_program *pr, const char *fn0, cl_program *out) {
    uint64_t key[2];
    char path[1][1100] = {""};
    make_key(d, k, pr->source, key);
    if (d->cache_dir[0])
        snprintf(path[0], sizeof path[0], "%s/%016llx%016llx.bin", d->cache_dir, (unsigned long long)key[0],
                 (unsigned long long)key[1]);
    size_t size = 0;
    unsigned char *bin = path[0][0] ? cache_load(path[0], &size) : NULL;
    cl_int e, bst;
    if (bin) {
        const unsigned char *b = bin;
        cl_program p = clCreateProgramWithBinary(d->ctx, 1, &d->dev, &size, &b, &bst, &e);
        free(bin);
        cl_kernel probe = p && clBuildProgram(p, 1, &d->dev, d->options, NULL, NULL) == CL_SUCCESS
                              ? clCreateKernel(p, fn0, &e) : NULL; /* the entry holds this kernel */
        if (probe) {
            clReleaseKernel(probe);
            *out = p;
            return TG_OK;
        }
        if (p) clReleaseProgram(p);
    }
    if (d->probe) return TG_ERR_NOT_FOUND;
    tgl_sb src = {0};
    put_renamed(&src, pr->source, pr->name);
    cl_program p = src.oom ? NULL : clCreateProgramWithSource(d->ctx, 1, (const char **)&src.s, NULL, &e);
    tgl_sb_free(&src);
    if (!p) return cl_status(d, e, "program_create: clCreateProgramWithSource");
    e = clBuildProgram(p, 1, &d->dev, d->options, NULL, NULL);
    if (e != CL_SUCCESS) {
        size_t n = 0;
        char *log = NULL;
        if (clGetProgramBuildInfo(p, d->dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) == CL_SUCCESS && (log = calloc(n + 1, 1)))
            clGetProgramBuildInfo(p, d->dev, CL_PROGRAM_BUILD_LOG, n, log, NULL);
        ocl_fail(d, e == CL_BUILD_PROGRAM_FAILURE ? TG_ERR_COMPILE : TG_ERR_DEVICE,
                 "program_create: %s: clBuildProgram: OpenCL error %d; build log:\n%s", k->name, (int)e,
                 log ? log : "(none)");
        free(log);
        clReleaseProgram(p);
        return e == CL_BUILD_PROGRAM_FAILURE ? TG_ERR_COMPILE : TG_ERR_DEVICE;
    }
    if (path[0][0]) cache_store(d, path, 1, key, p);
    *out = p;
    return TG_OK;
}

static void ocl_program_destroy(tg_device *d, tg_program *p) {
    if (!p) return;
    for (uint32_t i = 0; i < 2; i++)
        if (p->kern[i]) clReleaseKernel(p->kern[i]);
    if (p->prog) clReleaseProgram(p->prog);
    if (p->scratch) clReleaseMemObject(p->scratch);
    free(p->source);
    free(p);
}

/* Lower, render and build for a target into *out (set even on failure).
 * *out_group > 0 on return: a pass wants larger work-groups than the built
 * kernel allows (registers).                                               */
static tg_status make_program(tg_device *d, const tg_kernel *k, const tgl_target *t, tg_program **out,
                              uint32_t *out_group) {
    tg_program *p = *out = calloc(1, sizeof *p);
    if (!p) return ocl_fail(d, TG_ERR_NO_MEMORY, "program_create: out of memory");
    p->nparams = k->nparams;
    p->nargs = k->struct_size >= offsetof(tg_kernel, args) + sizeof k->args ? k->nargs : 0;
    if (p->nargs > OCL_MAX_ARGS) return ocl_fail(d, TG_ERR_UNSUPPORTED, "program_create: %u arguments, at most %d", p->nargs, OCL_MAX_ARGS);
    if (p->nargs) memcpy(p->args, k->args, p->nargs * sizeof *p->args);
    tgl_prog *lp = NULL;
    tgl_sb src = {0};
    char err[512];
    tg_status st = tgl_lower(k, t, NULL, &lp, err, sizeof err);
    if (st != TG_OK) return ocl_fail(d, st, "program_create: %s: %s", k->name, err);
    if (tgl_render(lp, &tgl_dialect_opencl, &src) != TG_OK || src.oom) {
        tgl_sb_free(&src);
        tgl_prog_free(lp);
        return ocl_fail(d, TG_ERR_NO_MEMORY, "program_create: %s: out of memory rendering it", k->name);
    }
    p->source = src.s;
    p->npasses = lp->npasses < 2 ? lp->npasses : 2;
    uint64_t key[2];
    make_key(d, k, p->source, key);
    snprintf(p->name, sizeof p->name, "tgk_%016llx%016llx", (unsigned long long)key[0], (unsigned long long)key[1]);
    char fn[2][64] = {{0}};
    for (uint32_t i = 0; i < p->npasses; i++) snprintf(fn[i], sizeof fn[i], "%s%s", p->name, lp->pass[i].fn + 3);
    st = build(d, k, p, fn[0], &p->prog);
    cl_int e = CL_SUCCESS;
    if (st == TG_OK && lp->scratch_bytes > 0 &&
        !(p->scratch = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, (size_t)lp->scratch_bytes, NULL, &e)))
        st = cl_status(d, e, "program_create: clCreateBuffer for the scratch buffer");
    for (uint32_t i = 0; st == TG_OK && i < p->npasses; i++) {
        size_t most = 0;
        p->pass[i] = lp->pass[i];
        p->pass[i].fn = NULL;
        p->kern[i] = clCreateKernel(p->prog, fn[i], &e);
        if (!p->kern[i])
            st = ocl_fail(d, TG_ERR_COMPILE, "program_create: %s: clCreateKernel(%s): OpenCL error %d", k->name,
                          fn[i], (int)e);
        else if (clGetKernelWorkGroupInfo(p->kern[i], d->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof most, &most,
                                          NULL) == CL_SUCCESS && most < p->pass[i].local)
            *out_group = (uint32_t)most;
    }
    tgl_prog_free(lp);
    return st;
}

static tg_status ocl_program_create(tg_device *d, const tg_kernel *k, tg_program **out) {
    if (!k || !out) return ocl_fail(d, TG_ERR_INVALID, "program_create: NULL argument");
    tgl_target t = d->target;
    tg_program *p = NULL;
    uint32_t group = 0;
    tg_status st = make_program(d, k, &t, &p, &group);
    if (st == TG_OK && group > 0) { /* again, within the kernel's own work-group limit */
        ocl_program_destroy(d, p);
        t.max_group = group;
        group = 0;
        st = make_program(d, k, &t, &p, &group);
        if (st == TG_OK && group > 0)
            st = ocl_fail(d, TG_ERR_UNSUPPORTED, "program_create: %s: work-groups of at most %u items are too "
                          "small for its lowering", k->name, group);
    }
    if (st != TG_OK) ocl_program_destroy(d, p);
    else *out = p;
    return st;
}

/* PoCL's cost is per program, not per kernel: the kernels of a batch not
 * in the cache are built as one program first (one prelude, then each
 * body, renamed), whose entry serves each of them; then each is created as
 * by program_create, from the cache, or built alone if the batch failed. */
static tg_status ocl_program_create_batch(tg_device *d, uint32_t n, const tg_kernel *const *ks, tg_program **out,
                                          tg_status *out_st, const char **out_msg) {
    char (*paths)[1100] = d->cache_dir[0] ? calloc(n ? n : 1, sizeof *paths) : NULL;
    tgl_sb all = {0};
    size_t head = 0; /* the shared prelude: all.s[0, head) */
    uint32_t m = 0;
    uint64_t key0[2] = {0, 0};
    for (uint32_t i = 0; paths && i < n; i++) {
        tg_program *p = NULL;
        uint32_t group = 0;
        d->probe = 1; /* lowered and rendered, but only found in the cache, never built */
        tg_status st = ks[i] ? make_program(d, ks[i], &d->target, &p, &group) : TG_ERR_INVALID;
        d->probe = 0;
        const char *src = st == TG_ERR_NOT_FOUND ? p->source : NULL; /* else cached, or failing before a build */
        const char *nl = src ? strchr(src, '\n') : NULL, *plan = nl ? strstr(nl, "\n/" "* plan: ") : NULL;
        size_t len = plan ? (size_t)(plan - nl) : 0;
        for (uint32_t j = 0; j < m && len; j++) len = strstr(paths[j], p->name + 4) ? 0 : len; /* twice: once */
        if (len && !strstr(plan, "\n#") && (!m || (len == head && !strncmp(all.s, nl + 1, len)))) {
            if (!m) tgl_sb_printf(&all, "%.*s", (int)len, nl + 1), head = len, make_key(d, ks[i], p->source, key0);
            put_renamed(&all, plan + 1, p->name);
            snprintf(paths[m++], sizeof paths[0], "%s/%s.bin", d->cache_dir, p->name + 4);
        }
        ocl_program_destroy(d, p);
    }
    cl_program prog = m > 1 && !all.oom ? clCreateProgramWithSource(d->ctx, 1, (const char **)&all.s, NULL, NULL) : NULL;
    if (prog && clBuildProgram(prog, 1, &d->dev, d->options, NULL, NULL) == CL_SUCCESS) cache_store(d, paths, m, key0, prog);
    if (prog) clReleaseProgram(prog);
    tgl_sb_free(&all);
    free(paths);
    free(d->batch_msgs);
    if (!(d->batch_msgs = calloc(n ? n : 1, 512))) return ocl_fail(d, TG_ERR_NO_MEMORY, "program_create_batch: out of memory");
    tg_status first = TG_OK;
    for (uint32_t i = 0; i < n; i++) {
        out_st[i] = ocl_program_create(d, ks[i], &out[i]);
        out_msg[i] = d->batch_msgs + 512 * (size_t)i;
        if (out_st[i] != TG_OK) snprintf(d->batch_msgs + 512 * (size_t)i, 512, "%.500s", d->error);
        if (first == TG_OK) first = out_st[i];
    }
    return first;
}

/* A launch; words: the arguments' words (tgl_args_pack), NULL for zeros. */
static tg_status launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t nbufs, const uint64_t *words) {
    if (!p || (!bufs && nbufs)) return ocl_fail(d, TG_ERR_INVALID, "program_launch: NULL argument");
    if (nbufs != p->nparams)
        return ocl_fail(d, TG_ERR_INVALID, "program_launch: %u buffers given, the kernel has %u", nbufs, p->nparams);
    for (uint32_t i = 0; i < nbufs; i++)
        if (!bufs[i]) return ocl_fail(d, TG_ERR_INVALID, "program_launch: buffer %u is NULL", i);
    for (uint32_t i = 0; i < p->npasses; i++) {
        size_t global = (size_t)p->pass[i].global, local = p->pass[i].local;
        cl_int e = CL_SUCCESS;
        for (uint32_t j = 0; j < nbufs && e == CL_SUCCESS; j++)
            e = clSetKernelArg(p->kern[i], j, sizeof(cl_mem), &bufs[j]->mem);
        for (uint32_t a = 0; a < p->nargs && e == CL_SUCCESS; a++) {
            cl_ulong w = words ? words[a] : 0;
            e = clSetKernelArg(p->kern[i], nbufs + a, sizeof w, &w);
        }
        if (e == CL_SUCCESS && p->scratch) e = clSetKernelArg(p->kern[i], nbufs + p->nargs, sizeof(cl_mem), &p->scratch);
        if (e == CL_SUCCESS && global > 0) /* 0: nothing to store */
            e = clEnqueueNDRangeKernel(d->queue, p->kern[i], 1, NULL, &global, local ? &local : NULL, 0, NULL, NULL);
        if (e != CL_SUCCESS) return cl_status(d, e, "program_launch: clSetKernelArg or clEnqueueNDRangeKernel");
    }
    return TG_OK;
}

static tg_status ocl_program_launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t nbufs) {
    return launch(d, p, bufs, nbufs, NULL);
}

static tg_status ocl_program_run(tg_device *d, tg_program *p, const tg_launch *l) { /* 1.1 */
    if (!p || !l || l->struct_size < offsetof(tg_launch, args) + sizeof l->args || l->nargs != p->nargs ||
        (p->nargs && !l->args))
        return ocl_fail(d, TG_ERR_INVALID, "program_run: a short launch, or argument values that do not match the kernel's %u",
                        p ? p->nargs : 0);
    uint64_t words[OCL_MAX_ARGS];
    tgl_args_pack(p->nargs, p->args, l->args, words);
    return launch(d, p, l->buffers, l->nbuffers, words);
}

static const char *ocl_program_source(tg_device *d, tg_program *p) { return p ? p->source : NULL; }

static const tg_plugin_api ocl_api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = "opencl",
    .version = "0.1.0",
    .description = "OpenCL 1.2+ devices: kernels lowered by the SDK, rendered to OpenCL C, binaries cached",
    .plugin_error = ocl_plugin_error,
    .device_count = ocl_device_count,
    .device_create = ocl_device_create,
    .device_destroy = ocl_device_destroy,
    .device_error = ocl_device_error,
    .device_caps = ocl_device_caps,
    .buffer_create = ocl_buffer_create,
    .buffer_destroy = ocl_buffer_destroy,
    .buffer_write = ocl_buffer_write,
    .buffer_read = ocl_buffer_read,
    .program_create = ocl_program_create,
    .program_destroy = ocl_program_destroy,
    .program_launch = ocl_program_launch,
    .synchronize = ocl_synchronize,
    .buffer_copy = ocl_buffer_copy,
    .buffer_map = NULL, /* see README.md: a map cannot stay valid while kernels run (OpenCL 1.2) */
    .program_source = ocl_program_source,
    .program_run = ocl_program_run,
    .program_create_batch = ocl_program_create_batch,
    .buffer_map_range = ocl_buffer_map_range,
    .buffer_unmap = ocl_buffer_unmap,
    .buffer_write_async = ocl_buffer_write_async,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    (void)core_minor;
    if (core_major != TG_ABI_MAJOR) {
        if (out_reason) *out_reason = "opencl plugin speaks ABI 1.x only";
        return NULL;
    }
    return &ocl_api;
}
