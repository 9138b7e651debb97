/*
 * tg/conform.h -- the conformance suite as a library: the case catalog, the
 * judge, the isolated runner and its reports. Used by `tg conform`, `tg fuzz`
 * and tests/conformance. Not installed; not part of the plugin SDK.
 *
 * A case is one kernel in the plugin IR with recipes for its inputs and the
 * rule that judges its outputs. The plugin under test and `ref` run the same
 * kernel on the same inputs; the judge compares the two outputs.
 */
#ifndef TG_CONFORM_H
#define TG_CONFORM_H

#include <stdio.h>
#include <tg/runtime.h>

#define TGC_SUITE_VERSION "1.0.0"
#define TGC_MAX_NODES 24
#define TGC_MAX_VIEWS 12
#define TGC_MAX_PARAMS 6
#define TGC_ID_LEN 112
#define TGC_MAX_ARGS 2     /* 1.1 kernel arguments of a case (args.c)  */
#define TGC_MAX_LAUNCHES 4 /* launches of an argument case            */

/* Table rows beyond the 25 primitive ops (tgc_case.row). */
enum { TGC_ROW_FUSION = TG_OP_COUNT, TGC_ROW_COMPOSITE, TGC_ROW_AUTODIFF, TGC_ROW_ABI, TGC_ROW_MEMORY, TGC_ROW_COUNT };

/* Input value classes (tgc_case.values[param]). */
enum {
    TGC_V_RANDOM = 0,  /* floats in about [-4, 4] with varied exponents; ints: all bits  */
    TGC_V_SPECIAL,     /* NaN, +-inf, +-0, extremes, +-1 ... mixed with random values  */
    TGC_V_SUBNORMAL,   /* subnormals of the dtype (and a few tiny normals)              */
    TGC_V_POSITIVE,    /* floats in [0.5, 2]; ints in [1, 9]: well-conditioned chains  */
    TGC_V_LARGE,       /* floats with |x| up to 1e6 (SIN's large-argument rule)        */
    TGC_V_BOUNDARY,    /* floats around the integer types' limits (CAST)               */
    TGC_V_SMALL,       /* ints in [-20, 20], floats small integers: exact chains        */
    TGC_V_PAIRS_A,     /* special value i % n (n specials): with PAIRS_B, every pair    */
    TGC_V_PAIRS_B,     /* special value (i / n) % n                                     */
    TGC_V_WIDE,        /* floats of large magnitude, half in the top binades (DIV)      */
    TGC_V_TIES,        /* at and beside the rounding ties of narrower formats (CAST)    */
    TGC_V_COUNT
};

/* How outputs are judged (tgc_case.rule). */
enum {
    TGC_RULE_NODE = 0, /* the rule of OPS.md for node `judge` (which feeds the STORE) */
    TGC_RULE_CHAIN     /* within tol_ulp ULPs (0: bit-exact), NaN where ref has NaN  */
};

/* Certification levels (bits of tgc_case.levels; conformance/README.md). */
enum {
    TGC_LEVEL_CORE = 1u << 0,   /* every op on float32/int32/bool, every view     */
    TGC_LEVEL_FULL = 1u << 1,   /* every op on every dtype (all non-fusion cases) */
    TGC_LEVEL_FUSION = 1u << 2, /* fused kernels                                  */
    TGC_LEVEL_COMPOSITE = 1u << 3, /* matmul, conv2d, ... through the tensor API  */
    TGC_LEVEL_AUTODIFF = 1u << 4,  /* gradients of every op, an MLP's backward    */
    TGC_LEVEL_COUNT = 5
};

typedef struct tgc_case {
    char id[TGC_ID_LEN];
    uint16_t row;     /* tg_op of the table row, or TGC_ROW_FUSION */
    uint8_t dtype;    /* table column */
    uint8_t rule;     /* TGC_RULE_* */
    uint8_t tol_ulp;  /* TGC_RULE_CHAIN: allowed ULPs */
    uint8_t judge;    /* TGC_RULE_NODE: the judged node */
    uint8_t levels;   /* TGC_LEVEL_* bits */
    uint8_t composite; /* 0: a kernel case; else a tensor-API case (composite.c) */
    uint8_t abi;      /* 0, or a case of the ABI's optional calls (abi.c) */
    uint8_t host_only; /* in the catalog only on some hosts (memory): a certificate may lack it */
    uint8_t memory;   /* 0, or a map/unmap or asynchronous-write case (memory.c) */
    uint32_t group;   /* isolation group (cases of one group share a child) */
    uint32_t ndim;
    int64_t shape[TG_MAX_DIMS];
    uint32_t reduce_axes;
    uint32_t nnodes, nviews, nparams;
    tg_node nodes[TGC_MAX_NODES];
    tg_view views[TGC_MAX_VIEWS];
    tg_param params[TGC_MAX_PARAMS];
    uint8_t values[TGC_MAX_PARAMS]; /* TGC_V_* per READ param */
    uint64_t seed;
    /* 1.1 kernel arguments (args.c): nargs > 0 runs the kernel once per
       launch with launch_args[launch]; the rest as in tg_kernel. */
    uint32_t nargs, nlaunches, noffsets;
    tg_arg args[TGC_MAX_ARGS];
    uint32_t extent_arg[TG_MAX_DIMS];
    tg_arg_offset offsets[TGC_MAX_ARGS];
    tg_scalar launch_args[TGC_MAX_LAUNCHES][TGC_MAX_ARGS];
} tgc_case;

/* Point a tg_kernel at the case's arrays (valid while the case lives). */
void tgc_case_kernel(const tgc_case *c, tg_kernel *out_kernel);

/* ------------------------------------------------------------ catalog */

typedef struct tgc_catalog {
    tgc_case *cases;
    size_t count, cap;
} tgc_catalog;

/* Build every case of the suite (those this host can run). */
tg_status tgc_catalog_build(tgc_catalog *cat);
/* The same with the host_only cases every host may have (what a certificate
 * from any host is checked against). */
tg_status tgc_catalog_build_every_host(tgc_catalog *cat);
/* The shard (1..n) of `--shard I/n` that runs the case with this id: a hash
 * of the id alone, whatever the catalog's order, content or host. */
int tgc_shard_of(const char *id, int n);
void tgc_catalog_free(tgc_catalog *cat);
/* Append one case (copied); assigns no group. */
tg_status tgc_catalog_add(tgc_catalog *cat, const tgc_case *c);
/* Case index by exact id, or -1. */
long tgc_catalog_find(const tgc_catalog *cat, const char *id);

/* Case files: a text form of cases (conformance/README.md). */
tg_status tgc_casefile_write(FILE *f, const tgc_case *c);
tg_status tgc_casefile_read(const char *path, tgc_catalog *cat);

/* ------------------------------------------------------------ builder */

/* Assemble a case's kernel node by node. View kinds: 0 = contiguous; others
 * in conformance/src/build.h. */
void tgc_b_init(tgc_case *c, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes);
/* A new READ param of `dt` read through a view of kind `vk` of shape `vshape`
 * (ndim = c->ndim); returns the LOAD node. */
int tgc_b_load(tgc_case *c, tg_dtype dt, int vk, const int64_t *vshape, int values);
int tgc_b_const(tgc_case *c, tg_dtype dt, tg_scalar v);
int tgc_b_op(tgc_case *c, tg_op op, tg_dtype dt, int s0, int s1, int s2);
/* A new WRITE param stored through a view of kind `vk` of shape `vshape`. */
void tgc_b_store(tgc_case *c, int src, int vk, const int64_t *vshape);
/* The kernel's out_shape. */
void tgc_b_out_shape(const tgc_case *c, int64_t *out);
/* Evaluate a view stack at a point; returns 1 if valid and sets *addr. */
int tgc_view_addr(const tg_view *views, uint32_t n, const int64_t *point, int64_t *addr);
int64_t tgc_numel(uint32_t ndim, const int64_t *shape);


/* ------------------------------------------------------------- values */

/* Fill n elements of dtype `dt` from value class `cls` and a seed. */
void tgc_fill(void *buf, tg_dtype dt, int64_t n, int cls, uint64_t seed);
/* Element i as a double (exact for floats, bool and ints up to 2^53). */
double tgc_get(const void *buf, tg_dtype dt, int64_t i);
/* Raw bits of element i, zero-extended. */
uint64_t tgc_bits(const void *buf, tg_dtype dt, int64_t i);
/* Round a double to the dtype (nearest even) and store it as element i. */
void tgc_set(void *buf, tg_dtype dt, int64_t i, double v);
/* Distance in ULPs between two values of a float dtype (ordered bit patterns;
 * +0 and -0 are 0 apart). */
uint64_t tgc_ulp_distance(tg_dtype dt, uint64_t a_bits, uint64_t b_bits);
/* The ULP of the float dtype at |x| (spacing of representable values). */
double tgc_ulp(tg_dtype dt, double x);
/* Print element i in a readable form ("1.5 (0x3fc00000)"). */
void tgc_format(char *out, size_t cap, const void *buf, tg_dtype dt, int64_t i);

/* --------------------------------------------------------------- exec */

/* A program compiled ahead in a batch, or why it failed. */
typedef struct tgc_prepared {
    int set;            /* 0: none (the kernel compiles when it runs)   */
    tg_program *program;
    tg_status status;
    char *message;      /* malloc'd, when status is not TG_OK           */
} tgc_prepared;

/* A device of a loaded plugin. */
typedef struct tgc_device {
    tg_plugin *plugin;
    const tg_plugin_api *api;
    tg_device *dev;
    tg_caps caps;
    uint32_t ndevices;
    char name[1024]; /* as given to tgc_device_open */
    tgc_prepared *next; /* if set: the next tgc_device_run uses (and takes)
                           this program instead of calling program_create */
} tgc_device;

/* Load a plugin and open its device 0. A plugin without devices gives
 * TG_ERR_UNSUPPORTED (with the plugin's reason in tg_last_error()). */
tg_status tgc_device_open(const char *name_or_path, tgc_device *out);
void tgc_device_close(tgc_device *d);
/* Run a kernel: bufs[p] is host memory of params[p].count elements; READ
 * params are uploaded, WRITE params are uploaded too (their initial content
 * must survive where nothing is stored) and read back. */
tg_status tgc_device_run(tgc_device *d, const tg_kernel *k, void *const *bufs);
/* Compile ks[i] (NULL: skipped) in one program_create_batch call into
 * out[i]; without the slot, nothing (out stays unset). */
void tgc_device_batch(tgc_device *d, uint32_t n, const tg_kernel *const *ks, tgc_prepared *out);
/* Destroy a prepared program not taken, free its message; unset it. */
void tgc_prepared_clear(tgc_device *d, tgc_prepared *p);

/* -------------------------------------------------------------- judge */

/* Judge the outputs of case c: `inputs`/`expected`/`actual` are host buffers
 * per param (inputs: READ params; expected/actual: WRITE params). For
 * TGC_RULE_NODE cases that need the judged node's operands, `ref` runs a
 * probe kernel. Returns 1 on pass, 0 on fail (then `detail` says why), -1
 * when the probe could not run (detail says why). */
int tgc_judge(const tgc_case *c, tgc_device *ref, void *const *inputs,
              void *const *expected, void *const *actual, char *detail, size_t cap);

/* ------------------------------------------------------------- runner */

typedef enum tgc_result {
    TGC_PASS = 0,
    TGC_FAIL,
    TGC_UNSUPPORTED,
    TGC_XFAIL,
    TGC_XPASS, /* listed in the expectations file but passed: flagged */
    TGC_CRASH,
    TGC_TIMEOUT,
    TGC_NOTRUN,
    TGC_RESULT_COUNT
} tgc_result;
const char *tgc_result_name(tgc_result r);

/* Run one case in this process: returns the result and fills `detail`. */
tgc_result tgc_case_run(const tgc_case *c, tgc_device *plug, tgc_device *ref,
                        char *detail, size_t cap);
/* The ABI cases (abi.c): appended to the catalog; run one. */
tg_status tgc_abi_cases(tgc_catalog *cat);
tgc_result tgc_abi_run(const tgc_case *c, tgc_device *plug, tgc_device *ref, char *detail, size_t cap);
/* 1 when the case would have plug compile a kernel (set in *out), which
 * may then be compiled ahead (tgc_device_batch). */
int tgc_case_compilable(const tgc_case *c, const tgc_device *plug, tg_kernel *out);

typedef struct tgc_outcome {
    tgc_result result;
    char *detail; /* malloc'd, may be NULL */
    char *xfail_reason; /* from the expectations file, or NULL */
    double seconds;
} tgc_outcome;

typedef struct tgc_options {
    const char *plugin;     /* name or path */
    const char *ref;        /* default "ref" */
    int jobs;               /* parallel children (>= 1) */
    double timeout_s;       /* per group */
    int progress;           /* draw a progress bar on stderr */
    FILE *tap;              /* TAP 14 stream, or NULL */
    size_t tap_offset;      /* test points already printed on it */
    int give_up_after;      /* consecutive timeouts after which the cases not yet run are
                               settled as TIMEOUT without running; 0: 3, < 0: never */
} tgc_options;

/* Cores this process may use: its CPU affinity, or its cgroup's CPU quota
 * (a container's limit) where that is smaller. */
int tgc_cores(void);
/* `--jobs auto`: one child per two cores (at least one). */
int tgc_jobs_auto(void);
/* TG_THREADS for each of `jobs` children on `cores` cores, unless the user
 * set it: max(2, cores / jobs). With jobs <= cores / 2 (`auto`) children
 * times threads stays within the cores, and a threaded plugin still runs
 * its code split over threads. */
int tgc_child_threads(int jobs, int cores);

/* What the plugin says about itself (gathered in a child process). */
typedef struct tgc_plugin_facts {
    char name[64], version[64], path[512], sha256[65];
    char device[128], vendor[128], dev_version[128], driver[128];
    uint32_t abi_major, abi_minor, ndevices, dtypes, fusion;
    int loaded;          /* 1 if it loaded */
    char error[256];     /* why not */
} tgc_plugin_facts;
tg_status tgc_plugin_facts_get(const char *name_or_path, tgc_plugin_facts *out);

/* Expectations: lines "GLOB reason..."; '#' comments. */
typedef struct tgc_expect {
    char **globs, **reasons;
    size_t count;
} tgc_expect;
tg_status tgc_expect_load(const char *path, tgc_expect *out);
void tgc_expect_free(tgc_expect *e);
const char *tgc_expect_match(const tgc_expect *e, const char *id);

/* Run the selected cases (sel[i] indexes cat) in forked children, `jobs` at
 * a time, one child per group, a crashed or hung child's remaining cases
 * rerun in a fresh one. out[i] receives sel[i]'s outcome. */
tg_status tgc_run(const tgc_catalog *cat, const size_t *sel, size_t nsel,
                  const tgc_options *opt, const tgc_expect *expect, tgc_outcome *out);

/* ------------------------------------------------------------ arguments */

/* Cases of 1.1 kernel arguments: values of every dtype, bounded axes,
 * moving views, each launched several times. */
tg_status tgc_args_cases(tgc_catalog *cat);
/* Run one on the plugin and on ref: one program and a launch per value set
 * where the device takes arguments, else bound per launch (tg_kernel_bind,
 * as the core does); every launch's outputs judged against ref's. */
tgc_result tgc_args_run(const tgc_case *c, tgc_device *plug, tgc_device *ref, char *detail, size_t cap);

/* ---------------------------------------------------------- composites */

/* Composite and autodiff cases through the tensor API (tg.h). */
tg_status tgc_composite_cases(tgc_catalog *cat);
/* Run one on the plugin and on ref (opened by name with tg_device_open). */
tgc_result tgc_composite_run(const tgc_case *c, const tgc_device *plug, const tgc_device *ref, char *detail,
                             size_t cap);

/* Memory cases: buffer_map_range/buffer_unmap, buffer_write_async (ABI 1.1). */
tg_status tgc_memory_cases(tgc_catalog *cat);
tgc_result tgc_memory_run(const tgc_case *c, tgc_device *plug, char *detail, size_t cap);

/* --------------------------------------------------------------- fuzz */

/* A random valid kernel case from a seed (tg fuzz); see fuzz.c for which
 * ops may appear where so that judging stays exact. */
tg_status tgc_fuzz_case(uint64_t seed, tgc_case *out);
/* Shrink a failing case in place: fewer nodes, plain views, a smaller
 * iteration space, plain values, one output; each step is kept only if
 * still_fails(candidate) says it still fails. Returns the steps kept. */
typedef int (*tgc_fail_fn)(const tgc_case *c, void *ctx);
int tgc_fuzz_shrink(tgc_case *c, tgc_fail_fn still_fails, void *ctx);

/* ------------------------------------------------------------ reports */

typedef struct tgc_report {
    const tgc_catalog *cat;
    const size_t *sel;
    size_t nsel;
    const tgc_outcome *out;
    const tgc_plugin_facts *facts;
    double seconds;
    int shard_i, shard_n; /* which --shard I/N this is; 0/0 means the whole (1/1) */
} tgc_report;

/* One TAP test point; `plugin` goes into the line that reproduces a failure. */
void tgc_report_tap_line(FILE *f, size_t n, const tgc_case *c, const tgc_outcome *o, const char *plugin);
void tgc_report_summary(FILE *f, const tgc_report *r);
tg_status tgc_report_junit(const char *path, const tgc_report *r);
tg_status tgc_report_json(const char *path, const tgc_report *r);
tg_status tgc_report_merge(const char *const *inputs, int n, const char *out_path);

/* "core", "full", ... for level bit index 0..TGC_LEVEL_COUNT-1; "?" else. */
const char *tgc_level_name(int level);

/* What tgc_cert_verify read and found. */
typedef struct tgc_cert_info {
    char plugin[64], sha256[65], suite[32], date[40]; /* set once a certificate was read */
    int shards;                                 /* the run's shard count N */
    size_t cases, totals[TGC_RESULT_COUNT];     /* set when verified */
    const char *levels[TGC_LEVEL_COUNT];        /* "yes", "partial", "no", "not-run"; NULL unless verified */
} tgc_cert_info;

/* Checks the certificates of one run (a whole or merged one, or all its
 * shards) against this tg: each shard 1..N exactly once, the suite version
 * is TGC_SUITE_VERSION, the plugin loaded by `plugin` (a name or path; NULL:
 * the certificate's plugin name) has the certificate's SHA-256, and every
 * case of the catalog is there exactly once (a host_only case may be
 * absent), none from elsewhere. Then out->levels are recomputed from the
 * results. TG_ERR_INVALID / _VERSION / _NOT_FOUND with the reason else.
 * `tg conform verify` and `tg rank` use it. */
tg_status tgc_cert_verify(const char *const *paths, int n, const char *plugin, tgc_cert_info *out);

/* Glob match with '*' and '?'. */
int tgc_glob(const char *pattern, const char *s);

#endif
