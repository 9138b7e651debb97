/* Errors and names: the thread's last error (status and message), status/dtype/op names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tg/dtype_util.h>
#include "tensor_internal.h"

/* The thread's one error: the status and message of its last failure. */
static _Thread_local struct {
    tg_status status;
    char message[1024];
} last;

const char *tg_last_error(void) { return last.message; }
tg_status tg_last_status(void) { return last.status; }

static tg_status verror(tg_status status, const char *fmt, va_list ap) {
    char msg[sizeof last.message]; /* fmt's arguments may point into last.message */
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(last.message, msg, sizeof msg);
    last.status = status;
    return status;
}

tg_status tg_error(tg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(status, fmt, ap);
    va_end(ap);
    return status;
}

void *tg__fail(tg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(status, fmt, ap);
    va_end(ap);
    return NULL;
}

void tg_clear_error(void) { tg_error(TG_OK, "%s", ""); }

tg_status tg__swap_status(tg_status s) {
    tg_status old = last.status;
    last.status = s;
    return old;
}

static const char *const status_names[TG_STATUS_COUNT] = {
    "TG_OK", "TG_ERR_INVALID", "TG_ERR_UNSUPPORTED", "TG_ERR_NO_MEMORY",
    "TG_ERR_DEVICE", "TG_ERR_COMPILE", "TG_ERR_VERSION", "TG_ERR_NOT_FOUND",
    "TG_ERR_IO", "TG_ERR_INTERNAL", "TG_ERR_SHAPE", "TG_ERR_DTYPE"};

static const char *const dtype_short[TG_DTYPE_COUNT] = {
    "b", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f16", "bf16", "f32", "f64"};


const char *tg_status_name(tg_status s) {
    return s >= 0 && s < TG_STATUS_COUNT ? status_names[s] : "?";
}

const char *tg_dtype_name(tg_dtype d) { return tgp_dtype_name((uint32_t)d); }

const char *tg_op_name(tg_op op) { return tgp_op_name((uint32_t)op); }

tg_status tg_dtype_parse(const char *name, tg_dtype *out_dtype) {
    for (int d = 0; name && d < TG_DTYPE_COUNT; d++) {
        if (strcmp(name, tgp_dtype_name((uint32_t)d)) == 0 || strcmp(name, dtype_short[d]) == 0) {
            *out_dtype = (tg_dtype)d;
            return TG_OK;
        }
    }
    return tg_error(TG_ERR_INVALID, "unknown dtype '%s'", name ? name : "(null)");
}

size_t tg_dtype_size(tg_dtype d) { return tgp_dtype_size((uint32_t)d); }

bool tg_dtype_is_float(tg_dtype d) { return d >= TG_FLOAT16 && d <= TG_FLOAT64; }

bool tg_dtype_is_signed(tg_dtype d) {
    return d == TG_INT8 || d == TG_INT16 || d == TG_INT32 || d == TG_INT64 || tg_dtype_is_float(d);
}
