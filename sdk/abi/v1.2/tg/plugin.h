/*
 * tg/plugin.h -- the tg plugin ABI, version 1.2 (what 1.1 and 1.2 added is
 * marked "1.1:" and "1.2:"; sdk/docs/ABI.md section 11 lists each and what
 * an older plugin gets instead).
 *
 * This is the only header a plugin includes. It needs nothing but C11's
 * <stdint.h>, <stddef.h> and <stdbool.h>, and works from C++.
 *
 * A plugin is a shared object that exports one symbol, TG_PLUGIN_ENTRY_NAME
 * (see tg_plugin_entry_fn at the end of this file). The core calls it with
 * the highest ABI version it speaks; the plugin answers with a constant
 * function table (tg_plugin_api) for the version it chose. Everything else
 * goes through that table.
 *
 * Rules that hold for the whole header (sdk/docs/ABI.md is the long form):
 *  - Enum values are explicit and never renumbered. Structs that cross the
 *    boundary are append-only; those that may grow carry a struct_size.
 *  - Fields of ABI structs use fixed-width types; enums travel as uint32_t.
 *  - Every function returns a tg_status (0 = TG_OK) unless it is a destroy.
 *    After a failure, last_error() gives a message.
 *  - Whoever creates a handle destroys it; destroy(NULL) is a no-op. Memory
 *    is never freed across the boundary by the side that did not allocate it.
 *  - A pointer passed into a call is borrowed for the duration of that call
 *    only, unless the slot says otherwise.
 *  - Threading: the core never calls into one device from two threads at
 *    once. Calls on different devices may run concurrently. Plugin-level
 *    calls (device_count, device_create, last_error(NULL)) are serialised by
 *    the core.
 */
#ifndef TG_PLUGIN_H
#define TG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- versions */

/* The ABI version this header describes. A major bump breaks compatibility;
 * a minor bump only appends (new slots, new struct fields, new enum values). */
#define TG_ABI_MAJOR 1
#define TG_ABI_MINOR 2

/* Maximum rank of a view or a kernel's iteration space in ABI 1. Arrays in
 * tg_view and tg_kernel have exactly this many entries; entries at and past
 * ndim are ignored by both sides and should be zero. */
#define TG_MAX_DIMS 8

/* ----------------------------------------------------------------- status */

/* Return value of every call. Values are frozen. A plugin may return any of
 * them; the core treats unknown non-zero values as TG_ERR_INTERNAL. */
typedef int32_t tg_status;
enum {
    TG_OK = 0,
    TG_ERR_INVALID = 1,       /* an argument breaks this header's rules      */
    TG_ERR_UNSUPPORTED = 2,   /* valid, but this plugin/device cannot do it  */
    TG_ERR_NO_MEMORY = 3,     /* host or device allocation failed            */
    TG_ERR_DEVICE = 4,        /* the driver or device failed (lost, fault)   */
    TG_ERR_COMPILE = 5,       /* code generation or compilation failed       */
    TG_ERR_VERSION = 6,       /* ABI version negotiation failed              */
    TG_ERR_NOT_FOUND = 7,     /* no such plugin, device, file or symbol      */
    TG_ERR_IO = 8,            /* a file or cache operation failed            */
    TG_ERR_INTERNAL = 9,      /* a bug: an invariant did not hold            */
    TG_ERR_SHAPE = 10,        /* shapes do not match (used by the core API)  */
    TG_ERR_DTYPE = 11,        /* dtypes do not match (used by the core API)  */
    TG_STATUS_COUNT = 12
};

/* ----------------------------------------------------------------- dtypes */

/* Element types. In memory every type is stored in host byte order
 * (little-endian on every supported host), tightly packed:
 *  TG_BOOL      1 byte, 0 or 1 (a plugin may read any non-zero byte as 1
 *               but must write only 0 or 1)
 *  TG_INTn/UINTn  two's complement / unsigned, n/8 bytes
 *  TG_FLOAT16   IEEE 754 binary16
 *  TG_BFLOAT16  the upper 16 bits of an IEEE 754 binary32
 *  TG_FLOAT32   IEEE 754 binary32
 *  TG_FLOAT64   IEEE 754 binary64                                          */
typedef enum tg_dtype {
    TG_BOOL = 0,
    TG_INT8 = 1,
    TG_UINT8 = 2,
    TG_INT16 = 3,
    TG_UINT16 = 4,
    TG_INT32 = 5,
    TG_UINT32 = 6,
    TG_INT64 = 7,
    TG_UINT64 = 8,
    TG_FLOAT16 = 9,
    TG_BFLOAT16 = 10,
    TG_FLOAT32 = 11,
    TG_FLOAT64 = 12,
    TG_DTYPE_COUNT = 13
} tg_dtype;

/* ------------------------------------------------------------------- ops */

/* The 25 primitive ops, then the three IR-only node kinds. sdk/docs/OPS.md
 * gives each op's result on each dtype and the tolerance conformance uses.
 *
 * Movement ops (RESHAPE..STRIDE) never appear in a kernel: the core folds
 * them into views (tg_view), and a plugin implements them by honouring the
 * views of every LOAD and STORE. They are numbered here so that results,
 * certificates and tools can name them.
 *
 * Operand order: src[0], src[1], src[2]. Result dtype is the node's dtype.
 *  unary    EXP2 LOG2 SQRT RECIP NEG SIN    dtype == src[0]'s dtype
 *           CAST                            any dtype -> node dtype
 *  binary   ADD SUB MUL DIV MOD MAX         both sources and result: one dtype
 *           CMPLT (src0 < src1)             result TG_BOOL, sources one dtype
 *  ternary  WHERE (src0 ? src1 : src2)      src0 TG_BOOL, src1/src2/result one dtype
 *           MULACC (src0 * src1 + src2)     all one dtype
 *  reduce   REDUCE_SUM REDUCE_MAX           over tg_kernel.reduce_axes; dtype == src's
 *  IR only  LOAD  (reads buffer[node.buffer] through its views)
 *           CONST (node.value, broadcast to every point)
 *           ARG   (1.1: the value of tg_kernel.args[node.buffer] that the
 *                  launch passes, broadcast to every point; usable wherever
 *                  a CONST is; node.dtype is the argument's dtype)
 *           STORE (writes src[0] to buffer[node.buffer] through its views;
 *                  nothing may use a STORE as a source)                     */
typedef enum tg_op {
    TG_OP_EXP2 = 0,
    TG_OP_LOG2 = 1,
    TG_OP_SQRT = 2,
    TG_OP_RECIP = 3,
    TG_OP_NEG = 4,
    TG_OP_SIN = 5,
    TG_OP_CAST = 6,
    TG_OP_ADD = 7,
    TG_OP_SUB = 8,
    TG_OP_MUL = 9,
    TG_OP_DIV = 10,
    TG_OP_MOD = 11,
    TG_OP_MAX = 12,
    TG_OP_CMPLT = 13,
    TG_OP_WHERE = 14,
    TG_OP_MULACC = 15,
    TG_OP_REDUCE_SUM = 16,
    TG_OP_REDUCE_MAX = 17,
    TG_OP_RESHAPE = 18,
    TG_OP_PERMUTE = 19,
    TG_OP_EXPAND = 20,
    TG_OP_SHRINK = 21,
    TG_OP_PAD = 22,
    TG_OP_FLIP = 23,
    TG_OP_STRIDE = 24,
    TG_OP_COUNT = 25, /* number of primitive ops */
    TG_OP_LOAD = 25,
    TG_OP_CONST = 26,
    TG_OP_STORE = 27,
    TG_OP_ARG = 28,       /* 1.1: only to devices with TG_CAP_ARG_VALUES      */
    TG_NODE_OP_COUNT = 29 /* number of node kinds a kernel may hold, +movement */
} tg_op;

/* ------------------------------------------------------------------ views */

/* A view maps a multi-index of its shape to an element index.
 *
 *   valid(i)  = !has_mask || for all d: mask_lo[d] <= i[d] < mask_hi[d]
 *   addr(i)   = offset + sum_d i[d] * strides[d]        (in elements)
 *
 * Strides may be negative (FLIP) or zero (EXPAND). A LOAD at an index that is
 * not valid yields zero of the load's dtype (false for TG_BOOL) and must not
 * touch memory. PAD produces masks; SHRINK and STRIDE change offset/strides.
 *
 * A view stack (views[0..n-1], n >= 1) expresses chains one view cannot:
 * views[n-1] is indexed with the point being computed; for k from n-1 down to
 * 1, the address that views[k] yields is read as a linear index into the
 * row-major (C order) layout of views[k-1]'s shape and unravelled into the
 * multi-index used for views[k-1]; the address that views[0] yields is the
 * element index in the buffer. If any view of the stack is not valid at its
 * index, the LOAD yields zero.
 *
 * The core guarantees (tg_kernel validation): every address a valid point
 * reaches lies in [0, count) of the buffer, every index into a lower view
 * lies within that view's shape, 0 <= ndim <= TG_MAX_DIMS, and a mask lies
 * within the shape: 0 <= mask_lo[d] <= mask_hi[d] <= shape[d] for each dim
 * (the core clamps the masks it builds, e.g. SHRINK of a padded view, into
 * that range; validation refuses any other).                              */
typedef struct tg_view {
    uint32_t ndim;
    uint32_t has_mask;             /* 0: mask_lo/mask_hi are ignored          */
    int64_t offset;                /* in elements                             */
    int64_t shape[TG_MAX_DIMS];    /* each >= 0                               */
    int64_t strides[TG_MAX_DIMS];  /* in elements, any sign                   */
    int64_t mask_lo[TG_MAX_DIMS];  /* valid region [mask_lo, mask_hi) per dim */
    int64_t mask_hi[TG_MAX_DIMS];
} tg_view;

/* -------------------------------------------------------------- kernel IR */

/* A constant. Which member is meaningful depends on the node's dtype:
 * .i for TG_BOOL (0 or 1) and signed integers, .u for unsigned integers,
 * .f for floating types (the core has already rounded it to the dtype, so it
 * converts exactly).                                                       */
typedef union tg_scalar {
    int64_t i;
    uint64_t u;
    double f;
} tg_scalar;

/* One node of a kernel. Nodes are topologically ordered: every src index is
 * smaller than the node's own index. Unused src entries are -1.            */
typedef struct tg_node {
    uint32_t op;       /* tg_op: an op other than a movement op              */
    uint32_t dtype;    /* tg_dtype of the result; for STORE, of the buffer    */
    int32_t src[3];    /* operand node indices, -1 where unused              */
    uint32_t buffer;   /* LOAD/STORE: index into tg_kernel.params;
                          ARG (1.1): index into tg_kernel.args               */
    uint32_t view;     /* LOAD/STORE: index of the first view of its stack   */
    uint32_t nviews;   /* LOAD/STORE: depth of the stack (>= 1)              */
    tg_scalar value;   /* CONST: the value                                   */
} tg_node;

/* Access flags of a kernel buffer parameter. */
enum {
    TG_ACCESS_READ = 1,  /* only LOADs refer to it  */
    TG_ACCESS_WRITE = 2  /* only STOREs refer to it */
};

/* A buffer parameter of a kernel. A buffer is read or written, never both,
 * and no two parameters of one launch alias the same memory.               */
typedef struct tg_param {
    uint32_t dtype;   /* tg_dtype of its elements                           */
    uint32_t access;  /* TG_ACCESS_READ or TG_ACCESS_WRITE                   */
    int64_t count;    /* elements the buffer holds at least (may be 0)       */
} tg_param;

/* 1.1: a kernel argument, a scalar whose value each launch passes
 * (tg_launch.args), so that a value that changes from call to call (a
 * learning rate, a position, a length) does not make a new kernel.
 * An argument is used by ARG nodes (its value at every point), by
 * tg_kernel.extent_arg (it bounds an axis) or by tg_kernel.offsets (it moves
 * a view); an argument that bounds or moves is an integer with
 * 0 <= value <= max, and the core checks each launch's values against
 * that, so validation (made at 0 and at max) holds for every launch.     */
typedef struct tg_arg {
    uint32_t dtype;    /* tg_dtype of the value                               */
    uint32_t reserved; /* 0                                                   */
    int64_t max;       /* bounding or moving arguments: the largest value a
                          launch may pass (>= 0); others: 0, any value        */
} tg_arg;

/* 1.1: a view whose offset moves with an argument: at a launch,
 * views[view].offset is offset + value(args[arg]) * stride. `view` is the
 * first (bottom) view of a LOAD's or STORE's stack, whose addresses are
 * buffer elements, so that a shift of the offset shifts every address.    */
typedef struct tg_arg_offset {
    uint32_t view;   /* index into tg_kernel.views                           */
    uint32_t arg;    /* index into tg_kernel.args                            */
    int64_t stride;  /* elements per unit of the argument, any sign          */
} tg_arg_offset;

/* A kernel: the unit the core compiles and launches.
 *
 * Iteration space: shape[0..ndim-1]. If the kernel holds a REDUCE_* node
 * (at most one), reduce_axes is a bitmask of the reduced axes and
 *   out_shape = shape with each reduced axis replaced by 1.
 * Without a reduction reduce_axes is 0 and out_shape == shape.
 *
 * Stages: the nodes the reduction's source depends on (transitively) form
 * its input cone and are evaluated at every point of shape; all other nodes
 * are evaluated at every point of out_shape (reduced axes at index 0),
 * after the reduction. Consequently:
 *  - a LOAD in the input cone has a top view (views[view+nviews-1]) of shape
 *    `shape`; every other LOAD and every STORE has a top view of out_shape;
 *  - CONSTs have no view and may be used in both stages; no other node is
 *    used by both (a node after the reduction uses only the REDUCE node,
 *    CONSTs, and nodes outside the input cone).
 * A REDUCE_SUM/REDUCE_MAX over an empty axis yields the identity: 0 for SUM;
 * for MAX -inf (floats), the minimum value (integers), false (bool).
 * A kernel with a 0 in out_shape stores nothing.
 *
 * Every kernel has at least one STORE; each written buffer is stored by
 * exactly one STORE, and every point of out_shape is stored to a distinct
 * element (store views have no mask and are one-to-one). Elements of a
 * written buffer that no point stores to keep their contents.
 *
 * 1.1, arguments (a device sees them only if its caps say it takes them:
 * TG_CAP_ARG_VALUES for ARG nodes, TG_CAP_ARG_BOUNDS for extent_arg and
 * offsets; for any other device the core binds each launch's values into
 * constants, shapes and offsets and compiles that kernel, as in 1.0):
 * extent_arg[d] = k > 0 makes axis d run over [0, value of args[k-1]) where
 * the kernel declares shape[d] (= args[k-1].max): the kernel computes
 * exactly what it would with shape[d], and the top view of every LOAD and
 * STORE, cut to that value. hash covers the declarations, never the values.
 *
 * Lifetime: the kernel and everything it points to are borrowed for the
 * duration of program_create (or program_create_batch) only.               */
typedef struct tg_kernel {
    uint32_t struct_size;         /* sizeof(tg_kernel) of the core's header  */
    uint32_t ndim;                /* rank of the iteration space, 0..8        */
    int64_t shape[TG_MAX_DIMS];   /* iteration space                          */
    uint32_t reduce_axes;         /* bit d set: axis d is reduced             */
    uint32_t nnodes;
    const tg_node *nodes;         /* [nnodes], topologically ordered          */
    uint32_t nviews;
    const tg_view *views;         /* [nviews], referenced by LOAD/STORE       */
    uint32_t nparams;
    const tg_param *params;       /* [nparams]; launch passes buffers in order*/
    uint64_t hash;                /* the core's hash of everything above; the
                                     core caches programs by it. A plugin may
                                     use it in cache keys, with care: it does
                                     not cover the plugin's own options.      */
    const char *name;             /* short readable name ("r_64_32_sum"), for
                                     logs and generated symbols; non-empty,
                                     [A-Za-z0-9_]                             */
    /* 1.1 (present when struct_size covers them; zero in a kernel without
       arguments): */
    uint32_t nargs;
    const tg_arg *args;           /* [nargs]                                  */
    uint32_t extent_arg[TG_MAX_DIMS]; /* 0: axis d is static; k: bounded by
                                     args[k-1] (see above)                    */
    uint32_t noffsets;
    const tg_arg_offset *offsets; /* [noffsets], at most one per view         */
} tg_kernel;

/* ----------------------------------------------------------- capabilities */

/* Fusion a device accepts in one kernel (tg_caps.fusion). Without a flag the
 * core splits the work into more kernels and buffers. Validation counts the
 * elementwise nodes (every op below TG_OP_COUNT except REDUCE_*, so CAST
 * counts; LOAD, CONST and STORE do not) in each stage, the reduction's input
 * cone and the rest (see tg_kernel), and requires:
 *  - more than one elementwise node in a stage: TG_FUSE_ELEMENTWISE;
 *  - any elementwise node in the input cone: TG_FUSE_REDUCE_INPUT;
 *  - any elementwise node after the reduction: TG_FUSE_REDUCE_OUTPUT;
 *  - more than one STORE: TG_FUSE_MULTI_OUTPUT.
 * A kernel that needs a flag the device lacks is refused as unsupported.   */
enum {
    TG_FUSE_ELEMENTWISE = 1u << 0,  /* chains of elementwise nodes           */
    TG_FUSE_REDUCE_INPUT = 1u << 1, /* elementwise nodes before a reduction  */
    TG_FUSE_REDUCE_OUTPUT = 1u << 2,/* elementwise nodes after a reduction   */
    TG_FUSE_MULTI_OUTPUT = 1u << 3  /* more than one STORE per kernel        */
};

/* Other capability flags (tg_caps.flags). */
enum {
    TG_CAP_ASYNC = 1u << 0,        /* launch may return before the work ends */
    TG_CAP_HOST_VISIBLE = 1u << 1, /* buffer_map works on every buffer       */
    TG_CAP_UNIFIED = 1u << 2,      /* device memory is host memory           */
    TG_CAP_ARG_VALUES = 1u << 3,   /* 1.1: takes ARG nodes (needs program_run) */
    TG_CAP_ARG_BOUNDS = 1u << 4    /* 1.1: takes extent_arg and offsets (needs
                                      program_run)                            */
};

/* What a device can do. The caller zeroes the struct, sets struct_size to its
 * sizeof(tg_caps) and passes it to device_caps; the plugin fills only the
 * fields that lie wholly within min(struct_size, its own sizeof(tg_caps)).
 * A field left 0 takes the default written beside it.                      */
typedef struct tg_caps {
    uint32_t struct_size;
    uint32_t dtypes;          /* bit (1u << tg_dtype) per dtype supported for
                                 storage and every op OPS.md defines on it;
                                 0 = none: the device can do no work          */
    uint32_t fusion;          /* TG_FUSE_* ; 0 = one op per kernel            */
    uint32_t flags;           /* TG_CAP_* ; 0 = synchronous, not mappable     */
    uint32_t max_dims;        /* 0 = TG_MAX_DIMS                              */
    uint32_t max_nodes;       /* per kernel; 0 = no limit                     */
    uint32_t max_params;      /* buffers per kernel; 0 = no limit (the core's
                                 scheduler itself puts at most 64 buffers and
                                 16 arguments in a kernel)                    */
    uint32_t max_view_depth;  /* views per LOAD/STORE stack; 0 = 1            */
    uint32_t vector_width;    /* preferred vector width in bytes; 0 = 4       */
    uint32_t reserved;
    uint64_t memory_bytes;    /* device memory; 0 = unknown                   */
    uint64_t max_buffer_bytes;/* largest buffer; 0 = no limit but memory      */
    const char *name;         /* device name, e.g. "llvmpipe (LLVM 15)"       */
    const char *vendor;       /* e.g. "Mesa"                                  */
    const char *version;      /* device/firmware version                      */
    const char *driver;       /* driver name and version                      */
    /* The four strings are borrowed until device_destroy; NULL = "".        */
    /* 1.1: */
    uint32_t compute_units;   /* cores / SMs / compute units; 0 = unknown     */
    uint32_t max_group_size;  /* work-items per work-group; 0 = not a grid
                                 device or unknown                            */
    uint64_t local_memory_bytes; /* shared memory per work-group; 0 = none   */
    uint32_t emulated_dtypes; /* bit per dtype of `dtypes` that the device
                                 computes in a wider type (float16 in float32,
                                 rounding each op's result): still within
                                 OPS.md, shown to users, slower than native   */
    uint32_t reserved2;       /* 0                                            */
} tg_caps;

/* 1.1: what one launch passes (program_run). The caller zeroes it and sets
 * struct_size to its sizeof(tg_launch); the plugin reads only the fields
 * that lie within it. Everything it points to is borrowed for the call.  */
typedef struct tg_launch {
    uint32_t struct_size;
    uint32_t nbuffers;
    struct tg_buffer *const *buffers; /* [nbuffers]: as for program_launch    */
    uint32_t nargs;                   /* == the kernel's nargs                */
    uint32_t reserved;                /* 0                                    */
    const tg_scalar *args;            /* [nargs]: each in its arg's dtype (as
                                         tg_scalar says); bounding and moving
                                         values already checked to [0, max]   */
} tg_launch;

/* 1.1: buffer_map_range flags. */
enum {
    TG_MAP_READ = 1,  /* the host reads: the mapping shows the buffer's data  */
    TG_MAP_WRITE = 2  /* the host writes: unmap makes the writes the data     */
};

/* ------------------------------------------------------------- the table */

typedef struct tg_device tg_device;   /* opaque, made by the plugin */
typedef struct tg_buffer tg_buffer;   /* opaque, made by the plugin */
typedef struct tg_program tg_program; /* opaque, made by the plugin */

/* The function table. The core reads a slot only if struct_size covers it.
 * Required slots must be non-NULL; the loader refuses a table without them.
 * Optional slots may be NULL; beside each is what the core does instead.   */
typedef struct tg_plugin_api {
    uint32_t abi_major;    /* must equal the core's TG_ABI_MAJOR              */
    uint32_t abi_minor;    /* the minor the table follows; fields appended in
                              later minors are read only if abi_minor and
                              struct_size both cover them                     */
    uint32_t struct_size;  /* sizeof(tg_plugin_api) of the plugin's header    */
    uint32_t reserved;     /* 0                                               */

    /* Identity: static strings, valid while the plugin is loaded. name is
     * [a-z0-9_]+ and is how users select the plugin ("ref", "cpu").         */
    const char *name;
    const char *version;     /* the plugin's own version, e.g. "0.3.1"       */
    const char *description; /* one line; may be NULL                        */

    /* Plugin-level last error: the message of the last failed plugin-level
     * call (device_count, device_create). Valid until the next plugin-level
     * call. Never NULL (return "" when there is none). Required.            */
    const char *(*plugin_error)(void);

    /* Number of devices this plugin can open on this host. 0 is a valid
     * answer (no driver, no hardware): set plugin_error to say why. Required. */
    tg_status (*device_count)(uint32_t *out_count);

    /* Open device `index` (< device_count). Required.                       */
    tg_status (*device_create)(uint32_t index, tg_device **out_device);

    /* Close a device. The core has destroyed its buffers and programs first.
     * Waits for outstanding work. NULL is a no-op. Required.                 */
    void (*device_destroy)(tg_device *device);

    /* Message for the last failed call on this device; valid until the next
     * call on the device. Never NULL ("" when there is none). Required.     */
    const char *(*device_error)(tg_device *device);

    /* Fill *caps (see tg_caps for the struct_size protocol). Required.     */
    tg_status (*device_caps)(tg_device *device, tg_caps *caps);

    /* Allocate `bytes` of device memory. Contents are undefined until
     * written. bytes may be 0: then any non-NULL handle will do (1.1; 1.0
     * said distinct), e.g. one static handle for every empty buffer, since
     * the core never reads, writes or maps 0 bytes; it still passes the
     * handle to buffer_destroy and, for a LOAD no point reaches, to a
     * launch. Required.                                                     */
    tg_status (*buffer_create)(tg_device *device, uint64_t bytes,
                               tg_buffer **out_buffer);

    /* Free a buffer. May be called while launched work that uses it has not
     * finished: the plugin must keep the memory alive until it has. NULL is
     * a no-op. Required.                                                     */
    void (*buffer_destroy)(tg_device *device, tg_buffer *buffer);

    /* Copy host memory into [offset, offset+bytes) of the buffer. Ordered
     * after all earlier calls on the device. `src` is borrowed for the call
     * only: when it returns the caller may reuse it. Required.              */
    tg_status (*buffer_write)(tg_device *device, tg_buffer *buffer,
                              uint64_t offset, const void *src, uint64_t bytes);

    /* Copy [offset, offset+bytes) of the buffer to host memory. Waits for
     * all earlier work on the device, so the data is final on return.
     * Required.                                                              */
    tg_status (*buffer_read)(tg_device *device, tg_buffer *buffer,
                             uint64_t offset, void *dst, uint64_t bytes);

    /* Compile a kernel (validated by the core, within this device's caps)
     * into a program. The kernel is borrowed for this call only. Return
     * TG_ERR_UNSUPPORTED (with a message) for a valid kernel the device
     * cannot run; conformance reports such cases as UNSUPPORTED. Required.  */
    tg_status (*program_create)(tg_device *device, const tg_kernel *kernel,
                                tg_program **out_program);

    /* Free a program. NULL is a no-op. May be called while launches of it
     * are in flight (as for buffer_destroy). Required.                      */
    void (*program_destroy)(tg_device *device, tg_program *program);

    /* Run a program on buffers: buffers[i] is the kernel's params[i] and
     * holds at least params[i].count elements. May return before the work
     * ends if caps.flags has TG_CAP_ASYNC; work on a device runs in call
     * order. A failure of the work itself may surface only at the next
     * call that waits for it (buffer_read, synchronize) or the next call on
     * the device. `buffers` is borrowed for the call only. Required.         */
    tg_status (*program_launch)(tg_device *device, tg_program *program,
                                tg_buffer *const *buffers, uint32_t nbuffers);

    /* Wait until all work submitted to the device has finished. Optional:
     * NULL means every call is complete when it returns.                    */
    tg_status (*synchronize)(tg_device *device);

    /* Copy bytes between two buffers of one device, ordered like a launch.
     * Optional: NULL makes the core copy through host memory.              */
    tg_status (*buffer_copy)(tg_device *device, tg_buffer *dst,
                             uint64_t dst_offset, tg_buffer *src,
                             uint64_t src_offset, uint64_t bytes);

    /* Host pointer to a buffer's memory, valid until buffer_destroy; the
     * core synchronises before it reads or writes through it. Optional, and
     * only called when caps.flags has TG_CAP_HOST_VISIBLE: NULL means the core
     * uses buffer_read/buffer_write.                                         */
    tg_status (*buffer_map)(tg_device *device, tg_buffer *buffer,
                            void **out_ptr);

    /* The generated code of a program (C, SPIR-V assembly, ...) as text, for
     * debugging (TG_DEBUG=4) and vendors' tools. The string is owned by the
     * program and valid until program_destroy. Optional: NULL, or a NULL
     * result, means there is no text to show.                               */
    const char *(*program_source)(tg_device *device, tg_program *program);

    /* ---- 1.1: read only when abi_minor >= 1 and struct_size covers them.
     * Every 1.1 slot is optional. */

    /* Run a program with arguments: as program_launch, with launch->buffers
     * and launch->args for the kernel's tg_kernel.args. The core calls it
     * (instead of program_launch) for every launch when the slot is there.
     * Optional: NULL means the core uses program_launch and ignores
     * TG_CAP_ARG_VALUES/TG_CAP_ARG_BOUNDS (it binds arguments itself).      */
    tg_status (*program_run)(tg_device *device, tg_program *program,
                             const tg_launch *launch);

    /* Compile n kernels in one call, so a compiler can amortise its start
     * over them (one invocation, one module). For each i it sets
     * out_programs[i] (NULL on failure), out_status[i] (TG_OK or why, as
     * program_create would return) and, on failure, out_messages[i] (a
     * string owned by the device, valid until the next call on it other
     * than device_error). One bad kernel must not fail the others. Returns
     * TG_OK when all compiled, else the first failing status. The core
     * calls it with the kernels of a plan that have no program yet (and
     * `tg conform` with a group of cases). Optional: NULL means the core
     * calls program_create for each kernel.                                 */
    tg_status (*program_create_batch)(tg_device *device, uint32_t n,
                                      const tg_kernel *const *kernels,
                                      tg_program **out_programs,
                                      tg_status *out_status,
                                      const char **out_messages);

    /* Map [offset, offset+bytes) of a buffer for the host. TG_MAP_READ
     * waits for all earlier work on the device (as buffer_read does: the
     * core counts it as a wait, see buffer_write_async); the pointer stays
     * valid until buffer_unmap, which with TG_MAP_WRITE makes what the host
     * wrote the buffer's contents, ordered before later work (earlier work
     * never sees it). With TG_MAP_WRITE alone the mapping starts undefined
     * and the host writes every byte of it (so a plugin need not read the
     * range first). The core never has two mappings of one buffer,
     * never launches work on a mapped buffer and never maps 0 bytes. For
     * devices that map around each access (OpenCL, pinned host views).
     * Optional, both or neither: NULL means the core uses buffer_map when
     * TG_CAP_HOST_VISIBLE, else buffer_read/buffer_write.                   */
    tg_status (*buffer_map_range)(tg_device *device, tg_buffer *buffer,
                                  uint64_t offset, uint64_t bytes,
                                  uint32_t flags, void **out_ptr);
    tg_status (*buffer_unmap)(tg_device *device, tg_buffer *buffer,
                              void *ptr);

    /* As buffer_write, but it may return before the copy has read `src`:
     * the caller keeps src alive and unchanged until the next call that
     * waits (buffer_read, synchronize, a TG_MAP_READ map) has returned, or
     * device_destroy. Later work sees the data (call order). The core uses
     * it for uploads from memory it owns (and frees after such a wait).
     * Optional: NULL means the core calls buffer_write.                     */
    tg_status (*buffer_write_async)(tg_device *device, tg_buffer *buffer,
                                    uint64_t offset, const void *src,
                                    uint64_t bytes);

    /* ---- 1.2: read only when abi_minor >= 2 and struct_size covers it.
     * Optional. */

    /* Make a buffer of `bytes` (> 0) bytes that aliases caller-owned host
     * memory [host_ptr, host_ptr + bytes) instead of allocating: the core
     * uses it to import another framework's host tensor without a copy
     * (tg/dlpack.h).
     *  - Ownership: the memory stays the caller's. The plugin never frees,
     *    reallocates or keeps a pointer to it past buffer_destroy; the
     *    handle is the plugin's and is destroyed with buffer_destroy like
     *    any other (once).
     *  - Lifetime: the caller keeps the memory alive and its size unchanged
     *    until buffer_destroy has returned. So buffer_destroy of a wrapped
     *    buffer waits for launched work that uses it (unlike other buffers,
     *    whose memory the plugin may keep alive past the call instead).
     *  - Alignment: the core passes host_ptr aligned to the element size of
     *    the data it holds (at least), never NULL, never 0 bytes. A plugin
     *    that needs more (a vector alignment, a page) refuses.
     *  - Meaning: every call treats the buffer as one whose memory *is*
     *    host_ptr. buffer_read/buffer_write/buffer_copy copy from/into
     *    host_ptr + offset; a launch reads and writes that memory while the
     *    work runs; buffer_map (with TG_CAP_HOST_VISIBLE) returns host_ptr
     *    itself, and buffer_map_range host_ptr + offset (with TG_MAP_WRITE
     *    the host's writes land in the caller's memory at unmap at the
     *    latest). The host may write the memory directly (the caller's own
     *    writes) only while no work on the buffer is in flight: the core
     *    synchronises first, as for buffer_map.
     *  - Refusal: a plugin that cannot alias this memory (alignment, a
     *    device that cannot reach host memory, a size past its limits)
     *    returns TG_ERR_UNSUPPORTED with a message and sets *out_buffer to
     *    NULL; the core then allocates with buffer_create and copies, as
     *    without the slot. Other failures return their status as usual.
     * Optional: NULL (every 1.0 and 1.1 plugin) means the core always
     * allocates and copies.                                                 */
    tg_status (*buffer_wrap)(tg_device *device, void *host_ptr,
                             uint64_t bytes, tg_buffer **out_buffer);
} tg_plugin_api;

/* ---------------------------------------------------------- entry point */

/* The one exported symbol. The core passes the highest version it speaks
 * (major, minor). The plugin returns its table for a version it chooses:
 * the same major, and a minor no higher than both sides speak is the safe
 * choice (a table with a higher minor still loads: the core ignores slots it
 * does not know). To refuse, return NULL and point *out_reason at a static
 * or plugin-owned string saying why (valid while the plugin is loaded).
 * The returned table is constant and owned by the plugin; the core never
 * frees or writes it. The entry may be called more than once: the loader
 * first loads the plugin in a short-lived child process (constructors, the
 * entry, device_count) to see that it neither crashes nor hangs, then loads
 * it again in the caller (ABI.md section 3).                               */
typedef const tg_plugin_api *(*tg_plugin_entry_fn)(uint32_t core_major,
                                                  uint32_t core_minor,
                                                  const char **out_reason);

#define TG_PLUGIN_ENTRY_NAME "tg_plugin_entry"

#if defined(_WIN32)
#define TG_PLUGIN_EXPORT __declspec(dllexport)
#else
#define TG_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* A plugin defines its entry as:
 *   TG_PLUGIN_EXPORT const tg_plugin_api *
 *   tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
 *                   const char **out_reason) { ... }                        */

#ifdef __cplusplus
}
#endif

#endif /* TG_PLUGIN_H */
