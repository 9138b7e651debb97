/* Internal structures of the tensor core: devices, buffers, lazy nodes,
 * views. Shared by the core's tensor files only. */
#ifndef TG_TENSOR_INTERNAL_H
#define TG_TENSOR_INTERNAL_H

#include <tg/tg.h>

#define TG_MAX_STACK 16 /* deepest view stack the core builds */
#define TG_PENDING_MAX 32 /* asynchronous uploads in flight before a synchronize */

/* Node kinds beyond tg_op: a realized leaf, a constant, an identity that
 * forces a contiguous buffer, an identity that stops gradients (fused like
 * any elementwise node), a variable; a moving slice (src: x, the variable;
 * arg: axis, length, base, sign: it starts at base + sign * value, a view
 * of x's buffer whose offset the variable moves) and a store into a moving
 * slice of a realized tensor's own buffer (src: value, variable, target;
 * arg[0]: axis; tg_assign_at). */
enum { TG_N_BUFFER = 100, TG_N_CONST = 101, TG_N_CONTIG = 102, TG_N_DETACH = 103, TG_N_ARG = 104,
       TG_N_SLICE_AT = 105, TG_N_STORE_AT = 106 };

/* Limits of the kernels the scheduler builds (past them it splits). */
#define TG_KERNEL_MAX_PARAMS 64
#define TG_KERNEL_MAX_ARGS 16

typedef struct tg_prog_entry {
    uint64_t hash;
    tg_program *program;
} tg_prog_entry;

struct tg_dev {
    int refs;              /* 1 for the opener + 1 per live tensor/buffer */
    bool closed;           /* tg_device_close was called */
    tg_plugin *plugin;
    const tg_plugin_api *api;
    tg_device *device;
    tg_caps caps;
    char name[64];
    tg_prog_entry *progs;  /* program cache, open addressing by hash */
    size_t nprogs, cap_progs;
    /* small buffers no tensor holds any more (refs 0), kept for reuse: a
     * plugin's buffer contents are undefined until written anyway */
    struct tg_buf *spare[8];
    int nspare;
    struct tg_plan_cache *plans; /* plans seen before (plans.c) */
    /* host memory of uploads by buffer_write_async, freed at the next wait */
    void *pending[TG_PENDING_MAX];
    int npending;
};

#define TG_SPARE_MAX_BYTES 65536 /* larger buffers go back to the plugin */

/* A device buffer with a reference count (tensors may share one). */
typedef struct tg_buf {
    int refs;
    tg_dev *dev;
    tg_buffer *handle;
    uint64_t bytes;
    bool wrapped;            /* aliases memory tg does not own (buffer_wrap): never spare */
    void (*on_free)(void *); /* a wrapped buffer's: on_free(ctx) after buffer_destroy */
    void *ctx;
} tg_buf;

#define TG_MAX_NUMEL ((int64_t)1 << 60) /* elements, size-0 dims counted as 1 */

struct tg_tensor {
    uint32_t magic;            /* live or released (checked in debug builds) */
    int refs;
    tg_dev *dev;
    tg_dtype dtype;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int op;                    /* tg_op or TG_N_* */
    int nsrc;
    tg_tensor *src[3];         /* owned references */
    int64_t arg[2 * TG_MAX_DIMS]; /* movement args; reduce: axes mask in arg[0] */
    tg_scalar value;           /* TG_N_CONST, TG_N_ARG: the value in dtype's member of
                                  tg_scalar (plugin.h), exact for every dtype */
    tg_buf *buf;               /* when realized: contiguous data of shape */
    bool requires_grad;        /* gradients flow through this node */
    bool is_param;             /* the user asked for its gradient */
    tg_tensor *grad;           /* owned */
    /* scratch for one schedule / backward pass */
    uint64_t mark;
    int consumers;
    int walk;                  /* schedule: the next source to visit */
    bool mat;
    bool planned;              /* its kernel is in the plan */
    tg_tensor *red;            /* the unmaterialised reduce in its cone */
    tg_tensor *bgrad;          /* backward: the gradient flowing in */
};

/* ---------------------------------------------------------------- views */

/* A view stack: views[0] addresses the buffer, views[n-1] the point. */
typedef struct tg_vstack {
    int n;
    tg_view v[TG_MAX_STACK];
} tg_vstack;

void tg_view_contiguous(tg_view *v, int ndim, const int64_t *shape);
bool tg_view_is_identity(const tg_view *v);
/* Movement on a stack; return false only when the stack would overflow. */
bool tg_vstack_reshape(tg_vstack *s, int ndim, const int64_t *shape);
void tg_vstack_permute(tg_vstack *s, const int64_t *perm);
void tg_vstack_expand(tg_vstack *s, const int64_t *shape);
void tg_vstack_shrink(tg_vstack *s, const int64_t *lo, const int64_t *hi);
void tg_vstack_pad(tg_vstack *s, const int64_t *lo, const int64_t *hi);
void tg_vstack_flip(tg_vstack *s, const int64_t *flip);
void tg_vstack_stride(tg_vstack *s, const int64_t *step);
/* Drop identity views at the bottom. */
void tg_vstack_simplify(tg_vstack *s);
/* Apply movement node op/arg (result shape ndim/shape) to a stack. */
bool tg_vstack_apply(tg_vstack *s, int op, const int64_t *arg, int ndim, const int64_t *shape);

/* --------------------------------------------------------------- errors */

/* Record a failure: status and message. Returns NULL (for op returns). */
void *tg__fail(tg_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A NULL operand: keeps the first message. Returns NULL. */
void *tg__null_arg(const char *op);
/* After a runtime call failed with the message already set by tg_error. */
tg_status tg__set_status(tg_status s);
/* Set the thread's status, returning the old one (a pass that detects its
 * own failures by the status starts from TG_OK and restores it after). */
tg_status tg__swap_status(tg_status s);
const char *tg__shape_str(const tg_tensor *t, char *buf, size_t cap);

/* ------------------------------------------------------------- tensors */

/* A new node (a new reference, registered in the current scope); takes its
 * own references on the sources. */
tg_tensor *tg__node(tg_dev *dev, int op, tg_dtype dtype, int ndim, const int64_t *shape, int nsrc,
                    tg_tensor *const *src);
void tg__drop_sources(tg_tensor *t);
/* Another reference to t, owned by the current scope (or the caller). */
tg_tensor *tg__ref(tg_tensor *t);
void tg__buf_release(tg_buf *b);
tg_buf *tg__buf_retain(tg_buf *b);
tg_status tg__buf_create(tg_dev *dev, uint64_t bytes, tg_buf **out);
/* A buffer aliasing caller-owned host memory (buffer_wrap, ABI 1.2), or
 * TG_ERR_UNSUPPORTED with no error set where the plugin has no slot or
 * refuses: the caller copies instead. */
tg_status tg__buf_wrap(tg_dev *dev, void *host, uint64_t bytes, tg_buf **out);
/* Copy between host memory and b's first `bytes`: buffer_map_range and
 * buffer_unmap where the plugin has them, else buffer_map when
 * TG_CAP_HOST_VISIBLE, else buffer_write/buffer_read. An upload of `owned`
 * (malloc'd by the core, == host) goes through buffer_write_async where the
 * plugin has it; owned is freed, now or after the next wait on the device. */
tg_status tg__buf_transfer(tg_buf *b, void *host, uint64_t bytes, bool upload, void *owned);
/* tg_from_data from malloc'd memory, which it takes (see tg__buf_transfer). */
tg_tensor *tg__from_owned(tg_dev *dev, tg_dtype dtype, int ndim, const int64_t *shape, void *data);
int64_t tg__numel(int ndim, const int64_t *shape); /* -1 past TG_MAX_NUMEL */
/* Dims in [0, TG_MAX_DIMS], sizes >= 0, at most TG_MAX_NUMEL; else fails. */
bool tg__shape_ok(const char *op, int ndim, const int64_t *shape);
/* False (and an error naming op) for a released tensor (debug builds). */
bool tg__live(const tg_tensor *t, const char *op);
bool tg__is_movement(int op);
bool tg__is_reduce(int op);
int tg__norm_axis(int axis, int ndim, const char *op, bool *ok);
bool tg__dtype_has_op(tg_dtype dtype, int op);
double tg__round_to_dtype(double v, tg_dtype dtype);
/* Host conversions between raw dtype elements and doubles. */
double tg__load_elem(const void *p, tg_dtype dt, int64_t i);
void tg__store_elem(void *p, tg_dtype dt, int64_t i, double v);
extern int tg__debug_level;
void tg__stats_kernel(void);
void tg__stats_compiled(void);
void tg__stats_realize(void);

/* ------------------------------------------------ primitives (graph.c) */

tg_tensor *tg__unary(int op, tg_tensor *x);
tg_tensor *tg__binary(int op, tg_tensor *a, tg_tensor *b); /* same shape */
tg_tensor *tg__where(tg_tensor *c, tg_tensor *a, tg_tensor *b);
tg_tensor *tg__cast(tg_tensor *x, tg_dtype dtype);
tg_tensor *tg__reduce(int op, tg_tensor *x, uint32_t axes); /* keepdim */
tg_tensor *tg__reshape(tg_tensor *x, int ndim, const int64_t *shape);
tg_tensor *tg__permute(tg_tensor *x, const int64_t *perm);
tg_tensor *tg__expand(tg_tensor *x, const int64_t *shape); /* same ndim */
tg_tensor *tg__shrink(tg_tensor *x, const int64_t *lo, const int64_t *hi);
tg_tensor *tg__pad(tg_tensor *x, const int64_t *lo, const int64_t *hi); /* zeros */
tg_tensor *tg__flip(tg_tensor *x, const int64_t *flip);
tg_tensor *tg__stride(tg_tensor *x, const int64_t *step); /* every step-th element */
tg_tensor *tg__const_like(tg_tensor *x, double v); /* x's dtype, device, shape */
/* x[base + sign * start : ... + length] on axis (a TG_N_SLICE_AT node). */
tg_tensor *tg__slice_at(tg_tensor *x, tg_tensor *start, int axis, int64_t length, int64_t base, int64_t sign);
tg_tensor *tg__const_dt(tg_tensor *x, tg_dtype dt, double v);
/* Broadcast a and b to one shape (new references in *oa, *ob). */
tg_status tg__broadcast(const char *op, tg_tensor *a, tg_tensor *b, tg_tensor **oa, tg_tensor **ob);

/* Composites shared between the op files. */
tg_tensor *tg__isnan(tg_tensor *x);
/* The dtype a float composite computes in: float32 for float16/bfloat16,
 * float64 for float32 where the device has it, else x's own. */
tg_dtype tg__wider(const tg_tensor *x);       /* bool; false for non-float dtypes */
tg_tensor *tg__flip_order(tg_tensor *x);  /* exact order-reversing involution */
/* tg_max without the empty-axis check (an empty slice gives the identity). */
tg_tensor *tg__max(tg_tensor *x, int naxes, const int *axes, bool keepdim);
/* sum(a * b) over axes, float16/bfloat16 products formed and summed in
 * float32 (matmul, convolution, einsum). */
tg_tensor *tg__sum_products(tg_tensor *a, tg_tensor *b, int naxes, const int *axes);

/* ------------------------------------------------- schedule / realize */

tg_status tg__schedule_run(size_t n, tg_tensor *const *ts);

/* One kernel of a plan: the scheduler fills it, realize.c compiles and
 * launches it. tensors[i] gives params[i]'s buffer (0: the output, which
 * the launch allocates); values are args' values at planning time. */
typedef struct tg_planned {
    tg_dev *dev;
    tg_kernel k; /* points into the arrays here */
    tg_node *nodes;
    tg_view *views;
    tg_kernel_bound bound; /* k with the arguments the device does not take bound */
    const tg_kernel *run;  /* &k or &bound.kernel: what the device compiles */
    tg_program *program;
    tg_param params[TG_KERNEL_MAX_PARAMS]; /* the scheduler zeroes what lies before */
    tg_tensor *tensors[TG_KERNEL_MAX_PARAMS];
    int32_t where[TG_KERNEL_MAX_PARAMS];  /* each tensor's place in the graph's signature:
                                             a node's index, or -1 - a leaf's number */
    int32_t argpos[TG_KERNEL_MAX_ARGS];   /* the variable of each arg: as `where` */
    tg_arg args[TG_KERNEL_MAX_ARGS];
    tg_scalar values[TG_KERNEL_MAX_ARGS];
    tg_arg_offset offsets[TG_KERNEL_MAX_ARGS];
    char name[1 + TG_MAX_DIMS * 21 + 5]; /* 8 dims of up to 20 digits */
} tg_planned;
/* Programs for every kernel of a plan, from the cache or compiled: the new
 * ones of each device in one program_create_batch where the plugin has it. */
tg_status tg__plan_compile(tg_planned *const *plan, size_t n);
/* Launch a compiled kernel; sets tensors[0]->buf. */
tg_status tg__plan_launch(tg_planned *k);
void tg__planned_free(tg_planned *k); /* frees k too */

/* Plans seen before (plans.c): the signature of a graph (the scheduler's
 * node list) and a per-device store of plans by signature. */
typedef struct tg_graph_sig {
    uint64_t *w, hash;
    size_t n, cap;
    tg_tensor **leaves; /* realized inputs, by first use */
    size_t nleaves, cap_leaves;
    bool ok;            /* false: the graph spans devices, no plan is kept */
} tg_graph_sig;
tg_status tg__sig_make(tg_tensor *const *order, size_t n, uint64_t mark, tg_graph_sig *out);
void tg__sig_free(tg_graph_sig *s);
/* The kept plan for s (owned by the store), with this graph's tensors and
 * argument values filled in; NULL if none. */
tg_planned **tg__plans_find(tg_dev *dev, const tg_graph_sig *s, tg_tensor *const *order, size_t *out_n);
/* Keep plan[0..n) for s: true if kept (the store owns plan and its
 * kernels from then on), false if it cannot be (the caller frees it). */
bool tg__plans_keep(tg_dev *dev, tg_graph_sig *s, tg_planned **plan, size_t n);
void tg__plans_free(tg_dev *dev);
tg_scalar tg__scalar_of(tg_dtype dt, double v); /* v converted to dt (as a cast), as a kernel holds it */
/* Realize an integer index tensor and check every value lies in [0, n). */
tg_status tg__check_index(const char *op, tg_tensor *idx, int64_t n);
/* Backward rules (autograd.c). */
tg_status tg__backward_node(tg_tensor *n, tg_tensor *g, tg_tensor **out_grads);

/* A public op's body: its temporaries live in a scope of their own, and the
 * result moves out to the caller's scope. */
#define OP_BEGIN tg_scope_begin()
#define OP_END(r)                                                                                  \
    do {                                                                                           \
        tg_tensor *r_ = tg_keep(r);                                                                \
        tg_scope_end();                                                                            \
        return r_;                                                                                 \
    } while (0)

#endif
