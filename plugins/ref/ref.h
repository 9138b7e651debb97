/* plugins/ref/ref.h -- internals of the reference plugin.
 *
 * ref is the op semantics of sdk/docs/OPS.md made executable: a plain
 * interpreter, one output point at a time, every float op computed in double
 * and rounded once to its dtype, every integer op exact with wraparound. */
#ifndef TG_REF_H
#define TG_REF_H

#include <stddef.h>
#include <stdint.h>
#include <tg/plugin.h>

/* One value of any dtype. Floats: .f holds a double that is exactly
 * representable in the dtype. Integers: .u holds the value sign-extended
 * (signed dtypes) or zero-extended (unsigned) to 64 bits. Bool: .u is 0/1. */
typedef union ref_value {
    double f;
    uint64_t u;
} ref_value;

/* A reduction in progress: the value, plus a compensation term for float sums. */
typedef struct ref_acc {
    ref_value v;
    double comp;
} ref_acc;

/* ref_ops.c: scalar semantics */
const char *ref_op_name(uint32_t op);
const char *ref_dtype_name(uint32_t dtype);
ref_value ref_load(uint32_t dtype, const void *p);
void ref_store(uint32_t dtype, void *p, ref_value v);
ref_value ref_zero(uint32_t dtype);                 /* a masked-out load */
ref_value ref_const(uint32_t dtype, tg_scalar s);
ref_value ref_cast(uint32_t from, uint32_t to, ref_value v);
/* Elementwise ops; `dtype` is the operands' dtype (for CMPLT the result is
 * bool; for WHERE it is src1's and src2's, a the bool condition). */
ref_value ref_unary(uint32_t op, uint32_t dtype, ref_value a);
ref_value ref_binary(uint32_t op, uint32_t dtype, ref_value a, ref_value b);
ref_value ref_ternary(uint32_t op, uint32_t dtype, ref_value a, ref_value b, ref_value c);
void ref_acc_init(ref_acc *acc, uint32_t op, uint32_t dtype);
void ref_acc_add(ref_acc *acc, uint32_t op, uint32_t dtype, ref_value x);
ref_value ref_acc_result(const ref_acc *acc, uint32_t op, uint32_t dtype);

/* ref_eval.c: a program is a private deep copy of the kernel. */
typedef struct ref_program {
    tg_kernel k;            /* pointers below point into this struct's copies */
    tg_node *nodes;
    tg_view *views;
    tg_param *params;
    tg_arg *args;           /* 1.1: [k.nargs], k.args points here; NULL if none */
    tg_arg_offset *offsets; /* 1.1: [k.noffsets]                              */
    int32_t reduce;         /* index of the REDUCE node, -1 if none           */
    unsigned char *in_cone; /* [nnodes] 1: evaluated at every point of shape  */
    unsigned char *after;   /* [nnodes] 1: evaluated at every point of out_shape */
    char *source;           /* textual dump for program_source                */
} ref_program;

/* Check the kernel enough that running it cannot crash, and copy it.
 * Returns TG_ERR_INVALID / TG_ERR_UNSUPPORTED / TG_ERR_NO_MEMORY with a
 * message in err. */
tg_status ref_program_build(const tg_kernel *kernel, ref_program **out, char *err, size_t errsz);
void ref_program_free(ref_program *p);
/* Run on host memory: mem[i] holds bytes[i] bytes for params[i]; args are
 * the launch's argument values (ABI 1.1; NULL when the kernel has none). */
tg_status ref_program_run(const ref_program *p, void *const *mem, const uint64_t *bytes,
                          const tg_scalar *args, char *err, size_t errsz);

#endif
