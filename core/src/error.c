/* Errors and names: the thread's last error message, status/dtype/op names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tg/runtime.h>

static _Thread_local char last_error[1024];

const char *tg_last_error(void) { return last_error; }

tg_status tg_error(tg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

static const char *const status_names[TG_STATUS_COUNT] = {
    "TG_OK", "TG_ERR_INVALID", "TG_ERR_UNSUPPORTED", "TG_ERR_NO_MEMORY",
    "TG_ERR_DEVICE", "TG_ERR_COMPILE", "TG_ERR_VERSION", "TG_ERR_NOT_FOUND",
    "TG_ERR_IO", "TG_ERR_INTERNAL", "TG_ERR_SHAPE", "TG_ERR_DTYPE"};

static const char *const dtype_names[TG_DTYPE_COUNT] = {
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
    "int64", "uint64", "float16", "bfloat16", "float32", "float64"};

static const char *const dtype_short[TG_DTYPE_COUNT] = {
    "b", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f16", "bf16", "f32", "f64"};

static const unsigned char dtype_sizes[TG_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8};

static const char *const op_names[TG_NODE_OP_COUNT] = {
    "EXP2", "LOG2", "SQRT", "RECIP", "NEG", "SIN", "CAST",
    "ADD", "SUB", "MUL", "DIV", "MOD", "MAX", "CMPLT",
    "WHERE", "MULACC", "REDUCE_SUM", "REDUCE_MAX",
    "RESHAPE", "PERMUTE", "EXPAND", "SHRINK", "PAD", "FLIP", "STRIDE",
    "LOAD", "CONST", "STORE", "ARG"};

const char *tg_status_name(tg_status s) {
    return s >= 0 && s < TG_STATUS_COUNT ? status_names[s] : "?";
}

const char *tg_dtype_name(tg_dtype d) {
    return (unsigned)d < TG_DTYPE_COUNT ? dtype_names[d] : "?";
}

const char *tg_op_name(tg_op op) {
    return (unsigned)op < TG_NODE_OP_COUNT ? op_names[op] : "?";
}

tg_status tg_dtype_parse(const char *name, tg_dtype *out_dtype) {
    for (int d = 0; name && d < TG_DTYPE_COUNT; d++) {
        if (strcmp(name, dtype_names[d]) == 0 || strcmp(name, dtype_short[d]) == 0) {
            *out_dtype = (tg_dtype)d;
            return TG_OK;
        }
    }
    return tg_error(TG_ERR_INVALID, "unknown dtype '%s'", name ? name : "(null)");
}

size_t tg_dtype_size(tg_dtype d) { return (unsigned)d < TG_DTYPE_COUNT ? dtype_sizes[d] : 0; }

bool tg_dtype_is_float(tg_dtype d) { return d >= TG_FLOAT16 && d <= TG_FLOAT64; }

bool tg_dtype_is_signed(tg_dtype d) {
    return d == TG_INT8 || d == TG_INT16 || d == TG_INT32 || d == TG_INT64 || tg_dtype_is_float(d);
}
