/*
 * template.c -- a tg plugin that generates code through the SDK's lowering
 * library, ready to be made into yours.
 *
 * The library plans each kernel for a GPU-style grid (a work-item per output,
 * index arithmetic, reductions) and prints it in a C-family language given
 * by a dialect table. What stays here is your runtime: memory, copies, the
 * compiler, the launch. As shipped, the "device" is the host: the dialect
 * below prints plain C, the system C compiler builds it, and a launch walks
 * the grid on one thread. It passes `tg conform` untouched; replace the
 * pieces marked TODO(vendor) with your driver's calls and your language.
 *
 * <tg/lower.h> documents the library; sdk/docs/WRITING_A_PLUGIN.md walks
 * through a dialect table; sdk/docs/ABI.md is the contract.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tg/dtype_util.h>
#include <tg/lower.h>
#include <tg/plugin.h>

#define PLUGIN_NAME "template"
#define PLUGIN_VERSION "0.1.0"
#define GROUP 64 /* work-items per group: TODO(vendor): your device's limit */

/* TODO(vendor): your language. This table spells C for the host compiler:
 * the grid position comes from two globals a launch sets (a GPU language
 * names its built-ins instead, e.g. get_group_id(0) / blockIdx.x). */
static const tgl_dialect dialect = {
    .name = PLUGIN_NAME,
    .prelude = "#include <stdint.h>\n#include <string.h>\n#include <math.h>\n#define R restrict\n"
               "static inline uint32_t tg_fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }\n"
               "static inline float tg_bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }\n"
               "static inline double tg_bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }\n"
               "static inline int tg_clz64(uint64_t x) { return __builtin_clzll(x); }\n"
               "static uint64_t tg_group_id, tg_local_id;\n",
    .fn = "static inline",
    .kernel = "static",
    .global = "",
    .local = "static", /* unused: local_bytes is 0, so no group reductions */
    .barrier = "",
    .group_id = "tg_group_id",
    .local_id = "tg_local_id",
    .u64 = "ull",
};

/* ------------------------------------------------------------ errors */

struct tg_device {
    char error[4096];
};

static char plugin_message[256];

static const char *plugin_error(void) { return plugin_message; }

static tg_status fail(tg_device *dev, tg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dev->error, sizeof dev->error, fmt, ap);
    va_end(ap);
    return status;
}

static const char *device_error(tg_device *dev) { return dev ? dev->error : ""; }

/* ------------------------------------------------------------ devices */

static tg_status device_count(uint32_t *out_count) {
    *out_count = 1; /* TODO(vendor): count your devices; 0 with a message if none */
    return TG_OK;
}

static tg_status device_create(uint32_t index, tg_device **out_device) {
    if (index != 0) {
        snprintf(plugin_message, sizeof plugin_message, "no device %u", index);
        return TG_ERR_NOT_FOUND;
    }
    tg_device *dev = calloc(1, sizeof *dev); /* TODO(vendor): open the device */
    if (!dev) return TG_ERR_NO_MEMORY;
    *out_device = dev;
    return TG_OK;
}

static void device_destroy(tg_device *dev) { free(dev); }

/* TODO(vendor): what your device has; the lowering library plans for it. */
static void device_target(tgl_target *t) {
    memset(t, 0, sizeof *t);
    t->kind = TGL_GPU;
    t->max_group = GROUP;
    t->local_bytes = 0; /* no work-group memory: one work-item per output */
    t->index_bits = 32;
}

static tg_status device_caps(tg_device *dev, tg_caps *caps) {
    tg_caps mine = {0};
    mine.dtypes = (1u << TG_DTYPE_COUNT) - 1; /* declare only what passes conformance */
    mine.fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT | TG_FUSE_MULTI_OUTPUT;
    mine.max_dims = TG_MAX_DIMS;
    mine.max_params = 64;
    mine.max_view_depth = 16;
    mine.name = PLUGIN_NAME " (lowering library, host C)";
    mine.vendor = "unknown"; /* TODO(vendor) */
    mine.version = PLUGIN_VERSION;
    mine.driver = "cc";
    tgp_caps_copy(caps, &mine);
    (void)dev;
    return TG_OK;
}

/* ------------------------------------------------------------ buffers */

/* TODO(vendor): device memory and copies. Host memory stands in for it. */
struct tg_buffer {
    uint64_t bytes;
    unsigned char *data;
};

static tg_status buffer_create(tg_device *dev, uint64_t bytes, tg_buffer **out_buffer) {
    tg_buffer *b = calloc(1, sizeof *b);
    if (!b || !(b->data = malloc(bytes ? bytes : 1))) {
        free(b);
        return fail(dev, TG_ERR_NO_MEMORY, "cannot allocate %llu bytes", (unsigned long long)bytes);
    }
    b->bytes = bytes;
    *out_buffer = b;
    return TG_OK;
}

static void buffer_destroy(tg_device *dev, tg_buffer *b) {
    if (b) free(b->data);
    free(b);
    (void)dev;
}

static tg_status check_range(tg_device *dev, tg_buffer *b, uint64_t offset, uint64_t bytes) {
    if (offset > b->bytes || bytes > b->bytes - offset)
        return fail(dev, TG_ERR_INVALID, "range [%llu, +%llu) outside a buffer of %llu bytes",
                    (unsigned long long)offset, (unsigned long long)bytes, (unsigned long long)b->bytes);
    return TG_OK;
}

static tg_status buffer_write(tg_device *dev, tg_buffer *b, uint64_t offset, const void *src, uint64_t bytes) {
    tg_status s = check_range(dev, b, offset, bytes);
    if (s == TG_OK && bytes) memcpy(b->data + offset, src, bytes);
    return s;
}

static tg_status buffer_read(tg_device *dev, tg_buffer *b, uint64_t offset, void *dst, uint64_t bytes) {
    tg_status s = check_range(dev, b, offset, bytes);
    if (s == TG_OK && bytes) memcpy(dst, b->data + offset, bytes);
    return s;
}

/* ------------------------------------------------------------ programs */

typedef void (*grid_fn)(void *const *buffers, uint64_t groups);

struct tg_program {
    void *dl;          /* TODO(vendor): your compiled module */
    grid_fn run;
    uint64_t groups;   /* work-groups of one launch (0: nothing to do) */
    uint32_t nparams;
    char *source;
};

static void program_destroy(tg_device *dev, tg_program *p) {
    if (!p) return;
    if (p->dl) dlclose(p->dl);
    free(p->source);
    free(p);
    (void)dev;
}

/* The host's stand-in for a launch: every work-item of every group, in
 * order. TODO(vendor): your driver launches the kernel instead. */
static void append_grid(tgl_sb *sb, const tg_kernel *k) {
    tgl_sb_printf(sb, "void tgk_grid(void *const *b, uint64_t groups) {\n"
                      "  for (uint64_t g = 0; g < groups; g++)\n    for (uint64_t l = 0; l < %d; l++) {\n"
                      "      tg_group_id = g; tg_local_id = l;\n      tgk(", GROUP);
    for (uint32_t i = 0; i < k->nparams; i++) tgl_sb_printf(sb, "%sb[%u]", i ? ", " : "", i);
    tgl_sb_printf(sb, ");\n    }\n}\n");
}

/* TODO(vendor): your compiler. Here: cc into a temporary shared object. */
static tg_status compile(tg_device *dev, tg_program *p) {
    char dir[] = "/tmp/tg-" PLUGIN_NAME "-XXXXXX", src[64], so[64], cmd[512];
    if (!mkdtemp(dir)) return fail(dev, TG_ERR_IO, "cannot make a temporary directory");
    snprintf(src, sizeof src, "%s/k.c", dir);
    snprintf(so, sizeof so, "%s/k.so", dir);
    FILE *f = fopen(src, "w");
    int bad = !f || fputs(p->source, f) < 0;
    if (f && fclose(f) != 0) bad = 1;
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O1 -fPIC -shared -w -o %s %s -lm 2>%s/log", so, src, dir);
    if (!bad && system(cmd) == 0) p->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (p->dl) p->run = (grid_fn)dlsym(p->dl, "tgk_grid");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) { /* a leftover temporary directory is harmless */ }
    if (!p->run) return fail(dev, TG_ERR_COMPILE, "cc could not build the kernel (is a C compiler installed?)");
    return TG_OK;
}

static tg_status program_create(tg_device *dev, const tg_kernel *k, tg_program **out_program) {
    tgl_target t;
    device_target(&t);
    tgl_prog *lp = NULL;
    tg_status s = tgl_lower(k, &t, NULL, &lp, dev->error, sizeof dev->error);
    if (s != TG_OK) return s;
    tg_program *p = calloc(1, sizeof *p);
    tgl_sb sb = {0};
    if (p && tgl_render(lp, &dialect, &sb) == TG_OK) append_grid(&sb, k);
    if (p && !sb.oom) {
        p->source = sb.s;
        p->groups = lp->pass[0].global / GROUP;
        p->nparams = k->nparams;
    }
    tgl_prog_free(lp);
    if (!p || sb.oom) {
        tgl_sb_free(&sb);
        free(p);
        return fail(dev, TG_ERR_NO_MEMORY, "out of memory rendering %s", k->name);
    }
    s = compile(dev, p);
    if (s != TG_OK) {
        program_destroy(dev, p);
        return s;
    }
    *out_program = p;
    return TG_OK;
}

static tg_status program_launch(tg_device *dev, tg_program *p, tg_buffer *const *buffers, uint32_t nbuffers) {
    void *ptrs[64];
    if (nbuffers != p->nparams || nbuffers > 64)
        return fail(dev, TG_ERR_INVALID, "launch: %u buffers for %u parameters", nbuffers, p->nparams);
    for (uint32_t i = 0; i < nbuffers; i++) ptrs[i] = buffers[i]->data;
    if (p->groups) p->run(ptrs, p->groups); /* TODO(vendor): enqueue on your device */
    return TG_OK;
}

static const char *program_source(tg_device *dev, tg_program *p) {
    (void)dev;
    return p ? p->source : NULL;
}

/* ------------------------------------------------------------ the table */

static const tg_plugin_api api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = PLUGIN_NAME,
    .version = PLUGIN_VERSION,
    .description = "TODO(vendor): one line about your device (code generated by tg's lowering library)",
    .plugin_error = plugin_error,
    .device_count = device_count,
    .device_create = device_create,
    .device_destroy = device_destroy,
    .device_error = device_error,
    .device_caps = device_caps,
    .buffer_create = buffer_create,
    .buffer_destroy = buffer_destroy,
    .buffer_write = buffer_write,
    .buffer_read = buffer_read,
    .program_create = program_create,
    .program_destroy = program_destroy,
    .program_launch = program_launch,
    .program_source = program_source,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    (void)core_minor;
    if (core_major != TG_ABI_MAJOR) {
        *out_reason = PLUGIN_NAME " speaks ABI 1 only";
        return NULL;
    }
    return &api;
}
