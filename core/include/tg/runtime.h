/*
 * tg/runtime.h -- the core's plugin-level API: find and load plugins, check
 * kernels before a plugin sees them. Used by the tensor core (tg.h), the
 * conformance suite, the benchmark harness and the `tg` command.
 *
 * Errors: functions return a tg_status; the message of the last failure on
 * the calling thread is tg_last_error() (valid until the next failing call
 * on that thread). Nothing here aborts or exits.
 */
#ifndef TG_RUNTIME_H
#define TG_RUNTIME_H

#include <tg/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Message of the last failure on this thread; "" if none. */
const char *tg_last_error(void);
/* Set the thread's error, status and message (printf-style), and return
 * `status`; for core modules. tg_last_status() (tg.h) reads the status. */
tg_status tg_error(tg_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Static name of a status ("TG_ERR_SHAPE"), of a dtype ("float32"), an op
 * ("ADD"). Unknown values give "?". */
const char *tg_status_name(tg_status status);
const char *tg_dtype_name(tg_dtype dtype);
const char *tg_op_name(tg_op op);
/* Parse a dtype name ("float32", "f32", "bool", ...); TG_ERR_INVALID if none. */
tg_status tg_dtype_parse(const char *name, tg_dtype *out_dtype);
/* Bytes per element. */
size_t tg_dtype_size(tg_dtype dtype);
bool tg_dtype_is_float(tg_dtype dtype);
bool tg_dtype_is_signed(tg_dtype dtype); /* signed ints and floats */

/* Lower-case hex SHA-256 of a memory block or a file (certificates and the
 * ranking name plugin builds by it). */
void tg_sha256_hex(const void *data, size_t n, char out_hex[65]);
tg_status tg_sha256_file(const char *path, char out_hex[65]);

/* ------------------------------------------------------------- plugins */

/* A loaded plugin: the dlopen handle and its negotiated table. */
typedef struct tg_plugin tg_plugin;

/* Load a plugin by name ("ref": searched in TG_PLUGIN_PATH, the build tree,
 * the install prefix's plugin directory, in that order) or by path (any
 * argument containing '/'). Every failure names the file and the reason.
 * Before the file is dlopen()ed here it is loaded in a forked child (dlopen,
 * entry, the table checks, device_count): a plugin that crashes there fails
 * with TG_ERR_INTERNAL "crashed with SIGSEGV while loading", one that takes
 * longer than $TG_PLUGIN_PROBE_TIMEOUT seconds (default 10; 0 = no probe)
 * with "did not answer within 10 s". The verdict is cached per file (path,
 * mtime, size) for the life of the process. See ABI.md section 3. */
tg_status tg_plugin_open(const char *name_or_path, tg_plugin **out_plugin);
void tg_plugin_close(tg_plugin *plugin); /* NULL is a no-op */
/* The core's copy of the plugin's table, owned by `plugin` and valid until
 * tg_plugin_close: every slot of the core's tg_plugin_api may be read, and
 * optional slots past the plugin's struct_size read as NULL. abi_minor and
 * struct_size are the plugin's own. NULL for a NULL plugin. */
const tg_plugin_api *tg_plugin_get_api(const tg_plugin *plugin);
/* The path it was loaded from, as given or found; owned by `plugin`. */
const char *tg_plugin_get_path(const tg_plugin *plugin);

/* Plugin-level calls made through the core, serialised as plugin.h
 * promises (one lock for every plugin). On failure the last error names
 * the plugin and the call and quotes plugin_error() (cut to 512 bytes); a
 * status outside tg_status becomes TG_ERR_INTERNAL; device_create returning
 * TG_OK without a device is TG_ERR_INTERNAL. device_count with no device
 * returns TG_OK and 0, and leaves the plugin's reason in tg_last_error(). */
tg_status tg_plugin_device_count(tg_plugin *plugin, uint32_t *out_count);
tg_status tg_plugin_device_create(tg_plugin *plugin, uint32_t index, tg_device **out_device);
/* With TG_DEBUG >= 4 in the environment, print a program's generated source
 * (program_source, where the plugin has it) to stderr, headed by the
 * kernel's name: what the core does for every program it creates, for
 * callers that create programs themselves (conformance, bench). */
void tg_plugin_debug_source(const tg_plugin_api *api, tg_device *device, tg_program *program, const char *kernel_name);
/* A plugin's message as safe to print: "(the plugin gave no message)" for
 * NULL or "", a copy cut to 512 bytes (thread-local) for a longer one. */
const char *tg_plugin_message(const char *message);

/* Every plugin file found in the search path, loaded or not. */
typedef struct tg_plugin_info {
    char *name;          /* plugin name (from the table, else the file name) */
    char *path;          /* the file                                         */
    tg_status status;    /* TG_OK if it loads                                */
    char *error;         /* why it did not load, without the path; "" if it did */
    uint32_t abi_major, abi_minor;
} tg_plugin_info;
tg_status tg_plugin_scan(tg_plugin_info **out_list, size_t *out_count);
void tg_plugin_scan_free(tg_plugin_info *list, size_t count);
/* The directories searched, ':'-separated, in order (for messages). */
const char *tg_plugin_search_path(void);

/* The plugin name that device "auto" opens: $TG_DEVICE if set; else the
 * top entry of this host's ranking file (written by `tg rank`) if it is
 * fresh (every plugin hash matches); else the first plugin that loads and
 * has a device, in the fixed order cpu, vulkan, opencl, cuda, ref. A stale
 * ranking is refused with a one-line notice on stderr. */
tg_status tg_plugin_pick_auto(char *out_name, size_t cap);

/* -------------------------------------------------------------- kernels */

/* Check every rule of plugin.h's tg_kernel against `caps` (NULL: no caps
 * limits), and also: struct_size >= sizeof(tg_kernel), name non-empty and
 * [A-Za-z0-9_], hash == tg_kernel_hash(kernel). On failure returns
 * TG_ERR_INVALID (or TG_ERR_UNSUPPORTED when only caps are exceeded) with a
 * message naming the node and the rule. */
tg_status tg_kernel_validate(const tg_kernel *kernel, const tg_caps *caps);
/* A stable 64-bit hash of the kernel's content (not of hash or name). */
uint64_t tg_kernel_hash(const tg_kernel *kernel);
/* 1.1, arguments. What a kernel needs a device to take: TG_CAP_ARG_VALUES
 * (it has ARG nodes) and/or TG_CAP_ARG_BOUNDS (bounded axes, moving views). */
uint32_t tg_kernel_arg_needs(const tg_kernel *kernel);
/* Are a launch's values within [0, max] where an argument bounds or moves? */
tg_status tg_kernel_check_args(const tg_kernel *kernel, const tg_scalar *values);
/* The kernel with the argument uses in `what` (TG_CAP_ARG_* flags) replaced
 * by `values`: ARG nodes become CONSTs, bounded axes and the top views take
 * their value as extent, moving views their offset; its hash is set. What a
 * device gets when its caps lack those flags (and what validation checks at
 * the arguments' max). out owns copies of nodes and views; free it with
 * tg_kernel_bound_free, which takes NULL and a zeroed or failed bind. */
typedef struct tg_kernel_bound {
    tg_kernel kernel;
    tg_node *nodes;
    tg_view *views;
} tg_kernel_bound;
tg_status tg_kernel_bind(const tg_kernel *kernel, const tg_scalar *values, uint32_t what, tg_kernel_bound *out);
void tg_kernel_bound_free(tg_kernel_bound *bound);
/* Print a kernel in readable text; returns a malloc'd string, NULL on OOM. */
char *tg_kernel_to_string(const tg_kernel *kernel);

#ifdef __cplusplus
}
#endif

#endif /* TG_RUNTIME_H */
