/* tg._C: the C extension under the `tg` Python package. A thin layer over
 * tg/tg.h, tg/nn.h and tg/dlpack.h: two handle types (a device, a tensor),
 * one function per C call, and tables for the ops that share a signature.
 * The Python API (tg/__init__.py, tg/nn.py) is written over it. Every
 * failure raises tg.Error with tg's message (tg_last_error). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <tg/dlpack.h>
#include <tg/nn.h>
#include <tg/runtime.h>
#include <tg/tg.h>

#ifndef TGPY_BUILD_DIR
#define TGPY_BUILD_DIR "" /* the meson build the package was built against, if any */
#endif

static PyObject *tgpy_error; /* tg.Error (a RuntimeError with .status) */

/* Raise tg.Error with the thread's last tg message and status name. */
static PyObject *tgpy_fail(tg_status st) {
    if (st == TG_OK) st = TG_ERR_INVALID;
    PyObject *e = PyObject_CallFunction(tgpy_error, "s", tg_last_error());
    if (!e) return NULL;
    PyObject *name = PyUnicode_FromString(tg_status_name(st));
    if (name) PyObject_SetAttrString(e, "status", name);
    Py_XDECREF(name);
    PyErr_SetObject(tgpy_error, e);
    Py_DECREF(e);
    return NULL;
}

/* ------------------------------------------------------------ handles */

typedef struct {
    PyObject_HEAD
    tg_dev *dev;
} tgpy_dev;

typedef struct {
    PyObject_HEAD
    tg_tensor *t;       /* NULL until set (tg.Tensor.__init__ adopts one) */
    PyObject *weakrefs; /* tg.Tensor may be weakly referenced */
} tgpy_tensor;

/* The class new handles are made as: tg.Tensor once tg/__init__.py has
 * called set_tensor_class (a subclass of T, so every op returns a
 * tg.Tensor with no Python wrapper around it), else T. */
static PyTypeObject *tensor_cls;

static void dev_dealloc(tgpy_dev *self) {
    tg_device_close(self->dev); /* tensors on it keep it open until they go */
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void tensor_dealloc(tgpy_tensor *self) {
    if (self->weakrefs) PyObject_ClearWeakRefs((PyObject *)self);
    tg_release(self->t);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* T() and tg.Tensor(...) start empty (whatever the arguments: the
 * subclass's __init__ reads them). */
static PyObject *tensor_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    return type->tp_alloc(type, 0);
}

/* x._t is x itself: the handle (for code written when tg.Tensor wrapped one). */
static PyObject *tensor_self(PyObject *self, void *closure) { return Py_NewRef(self); }
static PyGetSetDef tensor_getset[] = {{"_t", tensor_self, NULL, "the tensor itself", NULL}, {NULL}};

static PyTypeObject tgpy_dev_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tg._C.Dev",
    .tp_basicsize = sizeof(tgpy_dev),
    .tp_dealloc = (destructor)dev_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "an open tg device (tg_dev)",
};

static PyTypeObject tgpy_tensor_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tg._C.T",
    .tp_basicsize = sizeof(tgpy_tensor),
    .tp_dealloc = (destructor)tensor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "a tg tensor handle (one caller-owned reference); tg.Tensor's base",
    .tp_new = tensor_new,
    .tp_weaklistoffset = offsetof(tgpy_tensor, weakrefs),
    .tp_getset = tensor_getset,
};

/* A new tensor object owning t, or tg.Error when t is NULL (the op failed). */
static PyObject *wrap(tg_tensor *t) {
    if (!t) return tgpy_fail(tg_last_status());
    tgpy_tensor *o = (tgpy_tensor *)tensor_cls->tp_alloc(tensor_cls, 0);
    if (!o) {
        tg_release(t);
        return NULL;
    }
    o->t = t;
    return (PyObject *)o;
}

static PyObject *status(tg_status st) {
    if (st != TG_OK) return tgpy_fail(st);
    Py_RETURN_NONE;
}

/* Converters for PyArg_ParseTuple's O&. */
static int conv_t(PyObject *o, void *out) {
    if (!PyObject_TypeCheck(o, &tgpy_tensor_type)) {
        PyErr_Format(PyExc_TypeError, "expected a tg tensor, got %s", Py_TYPE(o)->tp_name);
        return 0;
    }
    if (!((tgpy_tensor *)o)->t) {
        PyErr_SetString(PyExc_ValueError, "a tg tensor that was never initialised (Tensor.__init__ not run)");
        return 0;
    }
    *(tg_tensor **)out = ((tgpy_tensor *)o)->t;
    return 1;
}

static int conv_t_opt(PyObject *o, void *out) { /* None: NULL */
    if (o == Py_None) return *(tg_tensor **)out = NULL, 1;
    return conv_t(o, out);
}

static int conv_dev(PyObject *o, void *out) {
    if (!PyObject_TypeCheck(o, &tgpy_dev_type)) {
        PyErr_Format(PyExc_TypeError, "expected a tg device handle, got %s", Py_TYPE(o)->tp_name);
        return 0;
    }
    *(tg_dev **)out = ((tgpy_dev *)o)->dev;
    return 1;
}

/* A sequence of ints (shape, axes, pads, perm); None gives n = -1. */
typedef struct {
    int n;
    int64_t v[2 * TG_MAX_DIMS];
    int axes[2 * TG_MAX_DIMS];
} ilist;

static int conv_ilist(PyObject *o, void *out) {
    ilist *l = out;
    l->n = -1;
    if (o == Py_None) return 1;
    PyObject *seq = PySequence_Fast(o, "expected a sequence of ints");
    if (!seq) return 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > 2 * TG_MAX_DIMS) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "%zd entries: at most %d", n, 2 * TG_MAX_DIMS);
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return 0;
        }
        l->v[i] = v;
        l->axes[i] = (int)v;
    }
    l->n = (int)n;
    Py_DECREF(seq);
    return 1;
}

/* A list of tensor handles, borrowed for the call. */
static tg_tensor **tensor_list(PyObject *o, size_t *n) {
    PyObject *seq = PySequence_Fast(o, "expected a sequence of tensors");
    if (!seq) return NULL;
    *n = (size_t)PySequence_Fast_GET_SIZE(seq);
    tg_tensor **ts = PyMem_Malloc((*n + 1) * sizeof *ts);
    for (size_t i = 0; ts && i < *n; i++)
        if (!conv_t(PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i), &ts[i])) PyMem_Free(ts), ts = NULL;
    if (!ts && !PyErr_Occurred()) PyErr_NoMemory();
    Py_DECREF(seq);
    return ts;
}

/* ----------------------------------------------------- ops by signature */

typedef tg_tensor *(*unary_fn)(tg_tensor *);
typedef tg_tensor *(*binary_fn)(tg_tensor *, tg_tensor *);
typedef tg_tensor *(*scalar_fn)(tg_tensor *, double);
typedef tg_tensor *(*unary_fn_i)(tg_tensor *, int);
typedef tg_tensor *(*reduce_fn)(tg_tensor *, int, const int *, bool);

static const struct { const char *name; unary_fn fn; } unary_ops[] = {
    {"neg", tg_neg}, {"abs", tg_abs}, {"sign", tg_sign}, {"reciprocal", tg_recip}, {"exp", tg_exp},
    {"log", tg_log}, {"exp2", tg_exp2}, {"log2", tg_log2}, {"sqrt", tg_sqrt}, {"rsqrt", tg_rsqrt},
    {"square", tg_square}, {"sin", tg_sin}, {"cos", tg_cos}, {"tan", tg_tan}, {"tanh", tg_tanh},
    {"sigmoid", tg_sigmoid}, {"relu", tg_relu}, {"gelu", tg_gelu}, {"silu", tg_silu},
    {"softplus", tg_softplus}, {"logical_not", tg_logical_not}, {"contiguous", tg_contiguous},
    {"detach", tg_detach}, {"zeros_like", tg_zeros_like}, {"ones_like", tg_ones_like}, {"erf", tg_erf},
    {"gelu_erf", tg_gelu_erf}, {"floor", tg_floor}, {"ceil", tg_ceil}, {"round", tg_round},
    {"trunc", tg_trunc}, {"frac", tg_frac}, {"asin", tg_asin}, {"acos", tg_acos}, {"atan", tg_atan},
    {"sinh", tg_sinh}, {"cosh", tg_cosh}, {"asinh", tg_asinh}, {"acosh", tg_acosh}, {"atanh", tg_atanh},
    {"isnan", tg_isnan}, {"isinf", tg_isinf}, {"isfinite", tg_isfinite}, {"selu", tg_selu},
    {"relu6", tg_relu6}, {"hardsigmoid", tg_hardsigmoid}, {"hardswish", tg_hardswish}, {"mish", tg_mish},
    {"softsign", tg_softsign}, {"logsigmoid", tg_logsigmoid}, {"quick_gelu", tg_quick_gelu},
    {"bitwise_not", tg_bitwise_not},
};
static const struct { const char *name; binary_fn fn; } binary_ops[] = {
    {"add", tg_add}, {"sub", tg_sub}, {"mul", tg_mul}, {"div", tg_div}, {"mod", tg_mod}, {"pow", tg_pow},
    {"maximum", tg_maximum}, {"minimum", tg_minimum}, {"lt", tg_lt}, {"gt", tg_gt}, {"le", tg_le},
    {"ge", tg_ge}, {"eq", tg_eq}, {"ne", tg_ne}, {"logical_and", tg_logical_and},
    {"logical_or", tg_logical_or}, {"logical_xor", tg_logical_xor}, {"matmul", tg_matmul},
    {"mse", tg_mse}, {"nll", tg_nll}, {"embedding", tg_embedding}, {"atan2", tg_atan2},
    {"bitwise_and", tg_bitwise_and}, {"bitwise_or", tg_bitwise_or}, {"bitwise_xor", tg_bitwise_xor},
};
static const struct { const char *name; scalar_fn fn; } scalar_ops[] = {
    {"adds", tg_adds}, {"subs", tg_subs}, {"rsubs", tg_rsubs}, {"muls", tg_muls}, {"divs", tg_divs},
    {"pows", tg_pows}, {"maximums", tg_maximums}, {"minimums", tg_minimums},
    {"leaky_relu", tg_leaky_relu}, {"full_like", tg_full_like}, {"elu", tg_elu}, {"celu", tg_celu},
};
static const struct { const char *name; reduce_fn fn; } reduce_ops[] = {
    {"sum", tg_sum}, {"mean", tg_mean}, {"max", tg_max}, {"min", tg_min}, {"prod", tg_prod},
    {"logsumexp", tg_logsumexp},
};
/* (x, int): shifts by a constant, scans along an axis */
static const struct { const char *name; unary_fn_i fn; } int_ops[] = {
    {"lshift", tg_lshift}, {"rshift", tg_rshift}, {"cumsum", tg_cumsum}, {"cumprod", tg_cumprod},
    {"cummax", tg_cummax}, {"cummin", tg_cummin}, {"logcumsumexp", tg_logcumsumexp},
};

/* `self` of each table function is its index (a Python int). */
static PyObject *unary_call(PyObject *self, PyObject *arg) {
    tg_tensor *x;
    if (!conv_t(arg, &x)) return NULL;
    return wrap(unary_ops[PyLong_AsLong(self)].fn(x));
}

/* Binary and scalar ops take their two arguments without a tuple or a
 * format string (METH_FASTCALL): they are the hot path of Python code. */
static int two_args(const char *name, Py_ssize_t nargs) {
    if (nargs == 2) return 1;
    PyErr_Format(PyExc_TypeError, "%s takes 2 arguments (%zd given)", name, nargs);
    return 0;
}

static PyObject *binary_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    tg_tensor *a, *b;
    size_t i = PyLong_AsSize_t(self);
    if (!two_args(binary_ops[i].name, nargs) || !conv_t(args[0], &a) || !conv_t(args[1], &b)) return NULL;
    return wrap(binary_ops[i].fn(a, b));
}

static PyObject *scalar_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    tg_tensor *x;
    size_t i = PyLong_AsSize_t(self);
    if (!two_args(scalar_ops[i].name, nargs) || !conv_t(args[0], &x)) return NULL;
    double v = PyFloat_AsDouble(args[1]);
    if (v == -1.0 && PyErr_Occurred()) return NULL;
    return wrap(scalar_ops[i].fn(x, v));
}

/* (x, axes or None, keepdim) */
static PyObject *reduce_call(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist ax;
    int keep;
    if (!PyArg_ParseTuple(args, "O&O&p", conv_t, &x, conv_ilist, &ax, &keep)) return NULL;
    return wrap(reduce_ops[PyLong_AsLong(self)].fn(x, ax.n < 0 ? 0 : ax.n, ax.n < 0 ? NULL : ax.axes, keep));
}

static PyObject *int_call(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int n;
    if (!PyArg_ParseTuple(args, "O&i", conv_t, &x, &n)) return NULL;
    return wrap(int_ops[PyLong_AsLong(self)].fn(x, n));
}

static PyMethodDef unary_def = {"unary", unary_call, METH_O, NULL};
static PyMethodDef binary_def = {"binary", (PyCFunction)(void (*)(void))binary_call, METH_FASTCALL, NULL};
static PyMethodDef scalar_def = {"scalar", (PyCFunction)(void (*)(void))scalar_call, METH_FASTCALL, NULL};
static PyMethodDef reduce_def = {"reduce", reduce_call, METH_VARARGS, NULL};
static PyMethodDef int_def = {"int_op", int_call, METH_VARARGS, NULL};

/* Add one module function per table entry, bound to its index. */
static int add_table(PyObject *m, PyMethodDef *def, size_t n, const char *(*name)(size_t)) {
    for (size_t i = 0; i < n; i++) {
        PyObject *idx = PyLong_FromSize_t(i);
        PyObject *f = idx ? PyCFunction_New(def, idx) : NULL;
        Py_XDECREF(idx);
        if (!f || PyModule_AddObject(m, name(i), f) < 0) {
            Py_XDECREF(f);
            return -1;
        }
    }
    return 0;
}
static const char *unary_name(size_t i) { return unary_ops[i].name; }
static const char *binary_name(size_t i) { return binary_ops[i].name; }
static const char *scalar_name(size_t i) { return scalar_ops[i].name; }
static const char *reduce_name(size_t i) { return reduce_ops[i].name; }
static const char *int_name(size_t i) { return int_ops[i].name; }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* set_tensor_class(cls): new tensors are made as cls (a subclass of T). */
static PyObject *py_set_tensor_class(PyObject *self, PyObject *cls) {
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &tgpy_tensor_type))
        return PyErr_Format(PyExc_TypeError, "set_tensor_class: %R is not a subclass of tg._C.T", cls);
    Py_INCREF(cls);
    Py_SETREF(tensor_cls, (PyTypeObject *)cls);
    Py_RETURN_NONE;
}

/* adopt(x, y): x (a new, empty tensor object) takes a reference to y's tensor. */
static PyObject *py_adopt(PyObject *self, PyObject *args) {
    PyObject *x;
    tg_tensor *y;
    if (!PyArg_ParseTuple(args, "O!O&", &tgpy_tensor_type, &x, conv_t, &y)) return NULL;
    tg_tensor *old = ((tgpy_tensor *)x)->t;
    ((tgpy_tensor *)x)->t = tg_retain(y);
    tg_release(old);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ devices */

static PyObject *py_device_open(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    tg_dev *dev;
    tg_status st = tg_device_open(name, &dev);
    if (st) return tgpy_fail(st);
    tgpy_dev *o = PyObject_New(tgpy_dev, &tgpy_dev_type);
    if (!o) {
        tg_device_close(dev);
        return NULL;
    }
    o->dev = dev;
    return (PyObject *)o;
}

static PyObject *py_device_info(PyObject *self, PyObject *args) {
    tg_dev *dev;
    if (!PyArg_ParseTuple(args, "O&", conv_dev, &dev)) return NULL;
    const tg_caps *c = tg_device_caps(dev);
    return Py_BuildValue("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:K,s:O,s:O}", "plugin", tg_device_name(dev), "name",
                         c->name ? c->name : "", "vendor", c->vendor ? c->vendor : "", "version",
                         c->version ? c->version : "", "driver", c->driver ? c->driver : "", "dtypes", c->dtypes,
                         "flags", c->flags, "memory_bytes", (unsigned long long)c->memory_bytes, "host_visible",
                         (c->flags & TG_CAP_HOST_VISIBLE) ? Py_True : Py_False, "unified",
                         (c->flags & TG_CAP_UNIFIED) ? Py_True : Py_False);
}

/* Every plugin found: [{name, path, ok, error, abi}] */
static PyObject *py_plugins(PyObject *self, PyObject *noargs) {
    tg_plugin_info *list;
    size_t n;
    tg_status st = tg_plugin_scan(&list, &n);
    if (st) return tgpy_fail(st);
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out && i < n; i++) {
        PyObject *d = Py_BuildValue("{s:s,s:s,s:O,s:s,s:(II)}", "name", list[i].name, "path", list[i].path, "ok",
                                    list[i].status == TG_OK ? Py_True : Py_False, "error", list[i].error, "abi",
                                    list[i].abi_major, list[i].abi_minor);
        if (!d || PyList_Append(out, d) < 0) Py_CLEAR(out);
        Py_XDECREF(d);
    }
    tg_plugin_scan_free(list, n);
    return out;
}

static PyObject *py_plugin_search_path(PyObject *self, PyObject *noargs) {
    return PyUnicode_FromString(tg_plugin_search_path());
}

/* ------------------------------------------------------ creation, host */

/* from_buffer(dev, dtype, shape, obj): copies a C-contiguous buffer. */
static PyObject *py_from_buffer(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype;
    ilist shape;
    PyObject *obj;
    if (!PyArg_ParseTuple(args, "O&iO&O", conv_dev, &dev, &dtype, conv_ilist, &shape, &obj)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    tg_tensor *t = NULL;
    int64_t n = 1; /* -1 for a negative or overflowing shape */
    for (int d = 0; d < shape.n && n >= 0; d++)
        if (shape.v[d] < 0 || __builtin_mul_overflow(n, shape.v[d], &n) || n > INT64_MAX / 8) n = -1;
    if (n < 0)
        PyErr_SetString(PyExc_ValueError, "from_buffer: a negative or too large shape");
    else if (dtype < 0 || dtype >= TG_DTYPE_COUNT || view.len != n * (int64_t)tg_dtype_size((tg_dtype)dtype))
        PyErr_Format(PyExc_ValueError, "from_buffer: %zd bytes for %lld elements of dtype %d", view.len,
                     (long long)n, dtype);
    else
        t = tg_from_data(dev, (tg_dtype)dtype, shape.n, shape.v, view.buf);
    PyBuffer_Release(&view);
    if (PyErr_Occurred()) return NULL;
    return wrap(t);
}

/* to_bytes(t): realizes t and copies its elements (C order). */
static PyObject *py_to_bytes(PyObject *self, PyObject *args) {
    tg_tensor *t;
    if (!PyArg_ParseTuple(args, "O&", conv_t, &t)) return NULL;
    size_t n = (size_t)tg_tensor_numel(t) * tg_dtype_size(tg_tensor_dtype(t));
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (!b) return NULL;
    tg_status st = tg_to_host(t, PyBytes_AS_STRING(b), n);
    if (st) {
        Py_DECREF(b);
        return tgpy_fail(st);
    }
    return b;
}

static PyObject *py_full(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype;
    ilist shape;
    double v;
    if (!PyArg_ParseTuple(args, "O&iO&d", conv_dev, &dev, &dtype, conv_ilist, &shape, &v)) return NULL;
    return wrap(tg_full(dev, (tg_dtype)dtype, shape.n, shape.v, v));
}

/* full_scalar(dev, dtype, shape, value): exact for every dtype (an int
 * value is read as an integer, not through a double). */
static PyObject *py_full_scalar(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype;
    ilist shape;
    PyObject *v;
    if (!PyArg_ParseTuple(args, "O&iO&O", conv_dev, &dev, &dtype, conv_ilist, &shape, &v)) return NULL;
    tg_scalar s = {0};
    if (dtype >= 0 && dtype < TG_DTYPE_COUNT && tg_dtype_is_float((tg_dtype)dtype))
        s.f = PyFloat_AsDouble(v);
    else if (dtype >= 0 && dtype < TG_DTYPE_COUNT && !tg_dtype_is_signed((tg_dtype)dtype) && dtype != TG_BOOL)
        s.u = PyLong_AsUnsignedLongLong(v);
    else
        s.i = PyLong_AsLongLong(v);
    if (PyErr_Occurred()) return NULL;
    return wrap(tg_full_scalar(dev, (tg_dtype)dtype, shape.n, shape.v, s));
}

/* variable(dev, dtype, value): a 0-d value kernels read at launch. */
static PyObject *py_variable(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype;
    double v;
    if (!PyArg_ParseTuple(args, "O&id", conv_dev, &dev, &dtype, &v)) return NULL;
    return wrap(tg_variable(dev, (tg_dtype)dtype, v));
}

static PyObject *py_variable_set(PyObject *self, PyObject *args) {
    tg_tensor *t;
    double v;
    if (!PyArg_ParseTuple(args, "O&d", conv_t, &t, &v)) return NULL;
    return status(tg_variable_set(t, v));
}

static PyObject *py_arange(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype;
    double start, stop, step;
    if (!PyArg_ParseTuple(args, "O&iddd", conv_dev, &dev, &dtype, &start, &stop, &step)) return NULL;
    return wrap(tg_arange(dev, (tg_dtype)dtype, start, stop, step));
}

static PyObject *py_eye(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype;
    long long n;
    if (!PyArg_ParseTuple(args, "O&iL", conv_dev, &dev, &dtype, &n)) return NULL;
    return wrap(tg_eye(dev, (tg_dtype)dtype, n));
}

/* random(dev, dtype, shape, seed, kind, lo, hi): kind 0 uniform, 1 normal */
static PyObject *py_random(PyObject *self, PyObject *args) {
    tg_dev *dev;
    int dtype, kind;
    ilist shape;
    unsigned long long seed;
    double lo, hi;
    if (!PyArg_ParseTuple(args, "O&iO&Kidd", conv_dev, &dev, &dtype, conv_ilist, &shape, &seed, &kind, &lo, &hi))
        return NULL;
    if (kind == 1) return wrap(tg_randn(dev, (tg_dtype)dtype, shape.n, shape.v, seed));
    return wrap(tg_uniform(dev, (tg_dtype)dtype, shape.n, shape.v, lo, hi, seed));
}

/* ---------------------------------------------------------- inspection */

static PyObject *py_shape(PyObject *self, PyObject *arg) {
    tg_tensor *t;
    if (!conv_t(arg, &t)) return NULL;
    int n = tg_tensor_ndim(t);
    const int64_t *s = tg_tensor_shape(t);
    PyObject *out = PyTuple_New(n);
    for (int d = 0; out && d < n; d++) {
        PyObject *v = PyLong_FromLongLong(s[d]);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, d, v);
    }
    return out;
}

static PyObject *py_numel(PyObject *self, PyObject *arg) {
    tg_tensor *t;
    if (!conv_t(arg, &t)) return NULL;
    return PyLong_FromLongLong(tg_tensor_numel(t));
}

static PyObject *py_dtype(PyObject *self, PyObject *arg) {
    tg_tensor *t;
    if (!conv_t(arg, &t)) return NULL;
    return PyLong_FromLong(tg_tensor_dtype(t));
}

static PyObject *py_device_name(PyObject *self, PyObject *arg) {
    tg_tensor *t;
    if (!conv_t(arg, &t)) return NULL;
    return PyUnicode_FromString(tg_device_name(tg_tensor_device(t)));
}

static PyObject *py_item(PyObject *self, PyObject *arg) {
    tg_tensor *t;
    double v;
    if (!conv_t(arg, &t)) return NULL;
    tg_status st = tg_item(t, &v);
    return st ? tgpy_fail(st) : PyFloat_FromDouble(v);
}

/* realize(t, ...): the tensors in one schedule (METH_FASTCALL: no tuple) */
static PyObject *py_realize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs == 1) { /* the common case: no list to build */
        tg_tensor *t;
        if (!conv_t(args[0], &t)) return NULL;
        return status(tg_realize(t));
    }
    tg_tensor **ts = PyMem_Malloc(((size_t)nargs + 1) * sizeof *ts);
    if (!ts) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < nargs; i++)
        if (!conv_t(args[i], &ts[i])) {
            PyMem_Free(ts);
            return NULL;
        }
    tg_status st = tg_realize_many((size_t)nargs, ts);
    PyMem_Free(ts);
    return status(st);
}

static PyObject *py_stats(PyObject *self, PyObject *noargs) {
    tg_stats s;
    tg_stats_get(&s);
    return Py_BuildValue("{s:L,s:L,s:L,s:L,s:L,s:L}", "live_tensors", (long long)s.live_tensors, "live_buffers",
                         (long long)s.live_buffers, "live_bytes", (long long)s.live_bytes, "kernels_launched",
                         (long long)s.kernels_launched, "programs_compiled", (long long)s.programs_compiled,
                         "realizes", (long long)s.realizes);
}

/* ------------------------------------------------------------- movement */

static PyObject *py_reshape(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist s;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &x, conv_ilist, &s)) return NULL;
    return wrap(tg_reshape(x, s.n, s.v));
}

static PyObject *py_expand(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist s;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &x, conv_ilist, &s)) return NULL;
    return wrap(tg_expand(x, s.n, s.v));
}

static PyObject *py_permute(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist p;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &x, conv_ilist, &p)) return NULL;
    if (p.n != tg_tensor_ndim(x))
        return PyErr_Format(PyExc_ValueError, "permute: %d axes given for a %d-d tensor", p.n, tg_tensor_ndim(x));
    return wrap(tg_permute(x, p.axes));
}

/* pad(x, pads, value): pads[2d], pads[2d+1] before/after dim d */
static PyObject *py_pad(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist p;
    double v;
    if (!PyArg_ParseTuple(args, "O&O&d", conv_t, &x, conv_ilist, &p, &v)) return NULL;
    if (p.n != 2 * tg_tensor_ndim(x))
        return PyErr_Format(PyExc_ValueError, "pad: %d numbers given for a %d-d tensor", p.n, tg_tensor_ndim(x));
    return wrap(tg_pad(x, p.v, v));
}

/* shrink(x, lo, hi): keep [lo[d], hi[d]) of each dim */
static PyObject *py_shrink(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist lo, hi;
    if (!PyArg_ParseTuple(args, "O&O&O&", conv_t, &x, conv_ilist, &lo, conv_ilist, &hi)) return NULL;
    if (lo.n != tg_tensor_ndim(x) || hi.n != tg_tensor_ndim(x))
        return PyErr_Format(PyExc_ValueError, "shrink: %d and %d bounds given for a %d-d tensor", lo.n, hi.n,
                            tg_tensor_ndim(x));
    return wrap(tg_shrink(x, lo.v, hi.v));
}

/* repeat(x, reps): tile, reps has ndim(x) entries */
static PyObject *py_repeat(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist r;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &x, conv_ilist, &r)) return NULL;
    if (r.n != tg_tensor_ndim(x))
        return PyErr_Format(PyExc_ValueError, "repeat: %d repeats given for a %d-d tensor", r.n, tg_tensor_ndim(x));
    return wrap(tg_repeat(x, r.v));
}

/* split(x, axis, size) -> [pieces of `size` along axis] */
static PyObject *py_split(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int axis;
    long long size;
    if (!PyArg_ParseTuple(args, "O&iL", conv_t, &x, &axis, &size)) return NULL;
    int n = tg_split(x, axis, size, NULL, 0);
    if (n < 0) return tgpy_fail(tg_last_status());
    tg_tensor **ts = PyMem_Calloc((size_t)n + 1, sizeof *ts);
    if (!ts) return PyErr_NoMemory();
    PyObject *out = NULL;
    if (tg_split(x, axis, size, ts, n) < 0) {
        tgpy_fail(tg_last_status());
    } else {
        out = PyList_New(n);
        for (int i = 0; out && i < n; i++) {
            PyObject *t = wrap(ts[i]);
            ts[i] = NULL;
            if (!t) Py_CLEAR(out);
            else PyList_SET_ITEM(out, i, t);
        }
    }
    for (int i = 0; i < n; i++) tg_release(ts[i]); /* those not handed over */
    PyMem_Free(ts);
    return out;
}

static PyObject *py_slice(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int axis;
    long long start, stop, step;
    if (!PyArg_ParseTuple(args, "O&iLLL", conv_t, &x, &axis, &start, &stop, &step)) return NULL;
    return wrap(tg_slice(x, axis, start, stop, step));
}

static PyObject *py_flip(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist ax;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &x, conv_ilist, &ax)) return NULL;
    return wrap(tg_flip(x, ax.n < 0 ? 0 : ax.n, ax.axes));
}

/* (x, int): squeeze, unsqueeze, softmax, log_softmax; (x, int, int): transpose, flatten */
static PyObject *py_axis_op(PyObject *args, tg_tensor *(*fn)(tg_tensor *, int)) {
    tg_tensor *x;
    int axis;
    if (!PyArg_ParseTuple(args, "O&i", conv_t, &x, &axis)) return NULL;
    return wrap(fn(x, axis));
}
static PyObject *py_squeeze(PyObject *s, PyObject *a) { return py_axis_op(a, tg_squeeze); }
static PyObject *py_unsqueeze(PyObject *s, PyObject *a) { return py_axis_op(a, tg_unsqueeze); }
static PyObject *py_softmax(PyObject *s, PyObject *a) { return py_axis_op(a, tg_softmax); }
static PyObject *py_log_softmax(PyObject *s, PyObject *a) { return py_axis_op(a, tg_log_softmax); }

static PyObject *py_transpose(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int a0, a1;
    if (!PyArg_ParseTuple(args, "O&ii", conv_t, &x, &a0, &a1)) return NULL;
    return wrap(tg_transpose(x, a0, a1));
}

static PyObject *py_flatten(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int a0, a1;
    if (!PyArg_ParseTuple(args, "O&ii", conv_t, &x, &a0, &a1)) return NULL;
    return wrap(tg_flatten(x, a0, a1));
}

/* cat(list, axis), stack(list, axis) */
static PyObject *py_join(PyObject *args, tg_tensor *(*fn)(size_t, tg_tensor *const *, int)) {
    PyObject *list;
    int axis;
    if (!PyArg_ParseTuple(args, "Oi", &list, &axis)) return NULL;
    size_t n;
    tg_tensor **ts = tensor_list(list, &n);
    if (!ts) return NULL;
    tg_tensor *r = fn(n, ts, axis);
    PyMem_Free(ts);
    return wrap(r);
}
static PyObject *py_cat(PyObject *s, PyObject *a) { return py_join(a, tg_cat); }
static PyObject *py_stack(PyObject *s, PyObject *a) { return py_join(a, tg_stack); }

static PyObject *py_gather(PyObject *self, PyObject *args) {
    tg_tensor *x, *idx;
    int axis;
    if (!PyArg_ParseTuple(args, "O&iO&", conv_t, &x, &axis, conv_t, &idx)) return NULL;
    return wrap(tg_gather(x, axis, idx));
}

/* --------------------------------------------------------- other ops */

static PyObject *py_where(PyObject *self, PyObject *args) {
    tg_tensor *c, *a, *b;
    if (!PyArg_ParseTuple(args, "O&O&O&", conv_t, &c, conv_t, &a, conv_t, &b)) return NULL;
    return wrap(tg_where(c, a, b));
}

static PyObject *py_cast(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int dtype;
    if (!PyArg_ParseTuple(args, "O&i", conv_t, &x, &dtype)) return NULL;
    return wrap(tg_cast(x, (tg_dtype)dtype));
}

static PyObject *py_clamp(PyObject *self, PyObject *args) {
    tg_tensor *x;
    double lo, hi;
    if (!PyArg_ParseTuple(args, "O&dd", conv_t, &x, &lo, &hi)) return NULL;
    return wrap(tg_clamp(x, lo, hi));
}

/* var/std(x, axes, keepdim, correction, is_std) */
static PyObject *py_var(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist ax;
    int keep, corr, is_std;
    if (!PyArg_ParseTuple(args, "O&O&pip", conv_t, &x, conv_ilist, &ax, &keep, &corr, &is_std)) return NULL;
    int n = ax.n < 0 ? 0 : ax.n;
    return wrap((is_std ? tg_std : tg_var)(x, n, ax.n < 0 ? NULL : ax.axes, keep, corr));
}

/* argmax/argmin(x, axis, keepdim, is_min) */
static PyObject *py_argmax(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int axis, keep, is_min;
    if (!PyArg_ParseTuple(args, "O&ipp", conv_t, &x, &axis, &keep, &is_min)) return NULL;
    return wrap((is_min ? tg_argmin : tg_argmax)(x, axis, keep));
}

static PyObject *py_linear(PyObject *self, PyObject *args) {
    tg_tensor *x, *w, *b;
    if (!PyArg_ParseTuple(args, "O&O&O&", conv_t, &x, conv_t, &w, conv_t_opt, &b)) return NULL;
    return wrap(tg_linear(x, w, b));
}

/* conv2d(x, w, b, stride, padding, dilation, groups, output_padding, transposed) */
static PyObject *py_conv2d(PyObject *self, PyObject *args) {
    tg_tensor *x, *w, *b;
    tg_conv_opts o = {0};
    int tr;
    if (!PyArg_ParseTuple(args, "O&O&O&(ii)(ii)(ii)i(ii)p", conv_t, &x, conv_t, &w, conv_t_opt, &b, &o.stride[0],
                          &o.stride[1], &o.padding[0], &o.padding[1], &o.dilation[0], &o.dilation[1], &o.groups,
                          &o.output_padding[0], &o.output_padding[1], &tr))
        return NULL;
    return wrap((tr ? tg_conv_transpose2d : tg_conv2d)(x, w, b, &o));
}

/* pool2d(x, (kh,kw), (sh,sw), (ph,pw), is_avg) */
static PyObject *py_pool2d(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int kh, kw, sh, sw, ph, pw, avg;
    if (!PyArg_ParseTuple(args, "O&(ii)(ii)(ii)p", conv_t, &x, &kh, &kw, &sh, &sw, &ph, &pw, &avg)) return NULL;
    return wrap((avg ? tg_avg_pool2d : tg_max_pool2d)(x, kh, kw, sh, sw, ph, pw));
}

static PyObject *py_cross_entropy(PyObject *self, PyObject *args) {
    tg_tensor *x, *y;
    double ls;
    if (!PyArg_ParseTuple(args, "O&O&d", conv_t, &x, conv_t, &y, &ls)) return NULL;
    return wrap(tg_cross_entropy(x, y, ls));
}

/* cross_entropy_ex(logits (..., C), target (...), label_smoothing, ignore_index) */
static PyObject *py_cross_entropy_ex(PyObject *self, PyObject *args) {
    tg_tensor *x, *y;
    double ls;
    long long ignore;
    if (!PyArg_ParseTuple(args, "O&O&dL", conv_t, &x, conv_t, &y, &ls, &ignore)) return NULL;
    return wrap(tg_cross_entropy_ex(x, y, ls, ignore));
}

/* topk(x, k) -> (values, indices) along the last axis, largest first */
static PyObject *py_topk(PyObject *self, PyObject *args) {
    tg_tensor *x, *v, *i;
    long long k;
    if (!PyArg_ParseTuple(args, "O&L", conv_t, &x, &k)) return NULL;
    tg_status st = tg_topk(x, k, &v, &i);
    if (st) return tgpy_fail(st);
    PyObject *pv = wrap(v), *pi = pv ? wrap(i) : (tg_release(i), NULL);
    return pi ? Py_BuildValue("(NN)", pv, pi) : (Py_XDECREF(pv), NULL);
}

static PyObject *py_multinomial(PyObject *self, PyObject *args) {
    tg_tensor *x;
    long long n;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "O&LK", conv_t, &x, &n, &seed)) return NULL;
    return wrap(tg_multinomial(x, n, seed));
}

static PyObject *py_layernorm(PyObject *self, PyObject *args) {
    tg_tensor *x, *w, *b;
    int n;
    double eps;
    if (!PyArg_ParseTuple(args, "O&iO&O&d", conv_t, &x, &n, conv_t_opt, &w, conv_t_opt, &b, &eps)) return NULL;
    return wrap(tg_layernorm(x, n, w, b, eps));
}

static PyObject *py_batchnorm(PyObject *self, PyObject *args) {
    tg_tensor *x, *w, *b, *rm, *rv;
    int train;
    double mom, eps;
    if (!PyArg_ParseTuple(args, "O&O&O&O&O&pdd", conv_t, &x, conv_t_opt, &w, conv_t_opt, &b, conv_t_opt, &rm,
                          conv_t_opt, &rv, &train, &mom, &eps))
        return NULL;
    return wrap(tg_batchnorm(x, w, b, rm, rv, train, mom, eps));
}

static PyObject *py_dropout(PyObject *self, PyObject *args) {
    tg_tensor *x;
    double p;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "O&dK", conv_t, &x, &p, &seed)) return NULL;
    return wrap(tg_dropout(x, p, seed));
}

static PyObject *py_sdpa(PyObject *self, PyObject *args) {
    tg_tensor *q, *k, *v, *mask;
    int causal;
    if (!PyArg_ParseTuple(args, "O&O&O&O&p", conv_t, &q, conv_t, &k, conv_t, &v, conv_t_opt, &mask, &causal))
        return NULL;
    return wrap(tg_sdpa(q, k, v, mask, causal));
}

static PyObject *py_to_device(PyObject *self, PyObject *args) {
    tg_tensor *x;
    tg_dev *dev;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &x, conv_dev, &dev)) return NULL;
    return wrap(tg_to_device(x, dev));
}

static PyObject *py_assign(PyObject *self, PyObject *args) {
    tg_tensor *dst, *src;
    if (!PyArg_ParseTuple(args, "O&O&", conv_t, &dst, conv_t, &src)) return NULL;
    return status(tg_assign(dst, src));
}

/* ------------------------------------------------------------ autograd */

static PyObject *py_set_requires_grad(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int on;
    if (!PyArg_ParseTuple(args, "O&p", conv_t, &x, &on)) return NULL;
    return status(tg_set_requires_grad(x, on));
}

static PyObject *py_requires_grad(PyObject *self, PyObject *arg) {
    tg_tensor *x;
    if (!conv_t(arg, &x)) return NULL;
    return PyBool_FromLong(tg_requires_grad(x));
}

static PyObject *py_backward(PyObject *self, PyObject *arg) {
    tg_tensor *x;
    if (!conv_t(arg, &x)) return NULL;
    return status(tg_backward(x));
}

static PyObject *py_grad(PyObject *self, PyObject *arg) { /* None if none */
    tg_tensor *x;
    if (!conv_t(arg, &x)) return NULL;
    tg_tensor *g = tg_tensor_grad(x);
    if (!g) Py_RETURN_NONE;
    return wrap(tg_retain(g));
}

static PyObject *py_zero_grad(PyObject *self, PyObject *arg) {
    tg_tensor *x;
    if (!conv_t(arg, &x)) return NULL;
    tg_zero_grad(x);
    Py_RETURN_NONE;
}

static PyObject *py_no_grad(PyObject *self, PyObject *arg) { /* no_grad(True) begins, (False) ends */
    if (PyObject_IsTrue(arg)) tg_no_grad_begin();
    else tg_no_grad_end();
    Py_RETURN_NONE;
}

static PyObject *py_grad_enabled(PyObject *self, PyObject *noargs) { return PyBool_FromLong(tg_grad_enabled()); }

/* -------------------------------------------------------------- DLPack */

static void capsule_delete(PyObject *cap) {
    /* A capsule nobody consumed still owns its tensor. */
    if (!PyCapsule_IsValid(cap, "dltensor")) return;
    DLManagedTensor *m = PyCapsule_GetPointer(cap, "dltensor");
    if (m && m->deleter) m->deleter(m);
}

static PyObject *py_to_dlpack(PyObject *self, PyObject *arg) {
    tg_tensor *x;
    if (!conv_t(arg, &x)) return NULL;
    DLManagedTensor *m;
    tg_status st = tg_tensor_to_dlpack(x, &m);
    if (st) return tgpy_fail(st);
    PyObject *cap = PyCapsule_New(m, "dltensor", capsule_delete);
    if (!cap) m->deleter(m);
    return cap;
}

/* from_dlpack(dev, capsule): consumes the capsule (renamed "used_dltensor"). */
static PyObject *py_from_dlpack(PyObject *self, PyObject *args) {
    tg_dev *dev;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O&O", conv_dev, &dev, &cap)) return NULL;
    DLManagedTensor *m = PyCapsule_GetPointer(cap, "dltensor");
    if (!m) return NULL;
    tg_tensor *t = tg_tensor_from_dlpack(dev, m);
    if (t && PyCapsule_SetName(cap, "used_dltensor") < 0) return NULL;
    return wrap(t);
}

/* ------------------------------------------------- safetensors, optim */

/* save_safetensors(path, [(name, t), ...]) */
static PyObject *py_save_safetensors(PyObject *self, PyObject *args) {
    const char *path;
    PyObject *items;
    if (!PyArg_ParseTuple(args, "sO", &path, &items)) return NULL;
    PyObject *seq = PySequence_Fast(items, "expected a list of (name, tensor)");
    if (!seq) return NULL;
    tg_params *p;
    tg_status st = tg_params_create(&p);
    for (Py_ssize_t i = 0; !st && i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *name;
        tg_tensor *t;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "sO&", &name, conv_t, &t)) break;
        st = tg_params_add(p, name, t);
    }
    if (!st && !PyErr_Occurred()) st = tg_params_save(p, path);
    tg_params_destroy(p);
    Py_DECREF(seq);
    if (PyErr_Occurred()) return NULL;
    return status(st);
}

/* load_safetensors(path, dev) -> [(name, t), ...] in the file's order */
static PyObject *py_load_safetensors(PyObject *self, PyObject *args) {
    const char *path;
    tg_dev *dev;
    if (!PyArg_ParseTuple(args, "sO&", &path, conv_dev, &dev)) return NULL;
    tg_params *p;
    tg_status st = tg_params_read(path, dev, &p);
    if (st) return tgpy_fail(st);
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out && i < tg_params_count(p); i++) {
        PyObject *t = wrap(tg_retain(tg_params_get(p, i)));
        PyObject *pair = t ? Py_BuildValue("(sN)", tg_params_name(p, i), t) : NULL;
        if (!pair || PyList_Append(out, pair) < 0) Py_CLEAR(out);
        Py_XDECREF(pair);
    }
    tg_params_destroy(p);
    return out;
}

typedef struct {
    PyObject_HEAD
    tg_optim *opt;
} tgpy_optim;

static void optim_dealloc(tgpy_optim *self) {
    tg_optim_destroy(self->opt);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject tgpy_optim_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tg._C.Optim",
    .tp_basicsize = sizeof(tgpy_optim),
    .tp_dealloc = (destructor)optim_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a tg optimiser (tg_optim)",
};

/* optim_create([t...], kind, lr, momentum, dampening, nesterov, beta1, beta2, eps, weight_decay) */
static PyObject *py_optim_create(PyObject *self, PyObject *args) {
    PyObject *list;
    tg_optim_opts o;
    int kind, nesterov;
    if (!PyArg_ParseTuple(args, "Oidddpdddd", &list, &kind, &o.lr, &o.momentum, &o.dampening, &nesterov, &o.beta1,
                          &o.beta2, &o.eps, &o.weight_decay))
        return NULL;
    o.kind = (tg_optim_kind)kind;
    o.nesterov = nesterov;
    size_t n;
    tg_tensor **ts = tensor_list(list, &n);
    if (!ts) return NULL;
    tg_params *p;
    tg_optim *opt = NULL;
    tg_status st = tg_params_create(&p);
    for (size_t i = 0; !st && i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%zu", i);
        st = tg_params_add(p, name, ts[i]);
    }
    if (!st) st = tg_optim_create(p, &o, &opt);
    tg_params_destroy(p);
    PyMem_Free(ts);
    if (st) return tgpy_fail(st);
    tgpy_optim *r = PyObject_New(tgpy_optim, &tgpy_optim_type);
    if (!r) {
        tg_optim_destroy(opt);
        return NULL;
    }
    r->opt = opt;
    return (PyObject *)r;
}

static int conv_optim(PyObject *o, void *out) {
    if (!PyObject_TypeCheck(o, &tgpy_optim_type)) {
        PyErr_SetString(PyExc_TypeError, "expected a tg optimiser handle");
        return 0;
    }
    *(tg_optim **)out = ((tgpy_optim *)o)->opt;
    return 1;
}

static PyObject *py_optim_step(PyObject *self, PyObject *arg) {
    tg_optim *o;
    if (!conv_optim(arg, &o)) return NULL;
    return status(tg_optim_step(o));
}

static PyObject *py_optim_zero_grad(PyObject *self, PyObject *arg) {
    tg_optim *o;
    if (!conv_optim(arg, &o)) return NULL;
    tg_optim_zero_grad(o);
    Py_RETURN_NONE;
}

static PyObject *py_optim_steps(PyObject *self, PyObject *arg) {
    tg_optim *o;
    if (!conv_optim(arg, &o)) return NULL;
    return PyLong_FromLongLong(tg_optim_steps(o));
}

static PyObject *py_optim_set_lr(PyObject *self, PyObject *args) {
    tg_optim *o;
    double lr;
    if (!PyArg_ParseTuple(args, "O&d", conv_optim, &o, &lr)) return NULL;
    return status(tg_optim_set_lr(o, lr));
}

/* ------------------------------------------------- issue 17 ops */

static PyObject *py_hardtanh(PyObject *self, PyObject *args) {
    tg_tensor *x;
    double lo, hi;
    if (!PyArg_ParseTuple(args, "O&dd", conv_t, &x, &lo, &hi)) return NULL;
    return wrap(tg_hardtanh(x, lo, hi));
}

static PyObject *py_lerp(PyObject *self, PyObject *args) {
    tg_tensor *a, *b, *w;
    if (!PyArg_ParseTuple(args, "O&O&O&", conv_t, &a, conv_t, &b, conv_t, &w)) return NULL;
    return wrap(tg_lerp(a, b, w));
}

static PyObject *py_bitcast(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int dtype;
    if (!PyArg_ParseTuple(args, "O&i", conv_t, &x, &dtype)) return NULL;
    return wrap(tg_bitcast(x, (tg_dtype)dtype));
}

/* sort(x, axis, descending) -> (values, indices) */
static PyObject *py_sort(PyObject *self, PyObject *args) {
    tg_tensor *x, *v, *i;
    int axis, desc;
    if (!PyArg_ParseTuple(args, "O&ip", conv_t, &x, &axis, &desc)) return NULL;
    tg_status st = tg_sort(x, axis, desc, &v, &i);
    if (st) return tgpy_fail(st);
    PyObject *pv = wrap(v), *pi = pv ? wrap(i) : (tg_release(i), NULL);
    return pi ? Py_BuildValue("(NN)", pv, pi) : (Py_XDECREF(pv), NULL);
}

static PyObject *py_argsort(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int axis, desc;
    if (!PyArg_ParseTuple(args, "O&ip", conv_t, &x, &axis, &desc)) return NULL;
    return wrap(tg_argsort(x, axis, desc));
}

static PyObject *py_randperm(PyObject *self, PyObject *args) {
    tg_dev *dev;
    long long n;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "O&LK", conv_dev, &dev, &n, &seed)) return NULL;
    return wrap(tg_randperm(dev, n, seed));
}

/* pad_mode(x, pads, mode): mode a tg_pad_kind */
static PyObject *py_pad_mode(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist p;
    int mode;
    if (!PyArg_ParseTuple(args, "O&O&i", conv_t, &x, conv_ilist, &p, &mode)) return NULL;
    if (p.n != 2 * tg_tensor_ndim(x))
        return PyErr_Format(PyExc_ValueError, "pad: %d numbers given for a %d-d tensor", p.n, tg_tensor_ndim(x));
    return wrap(tg_pad_mode(x, p.v, (tg_pad_kind)mode));
}

/* scatter(x, axis, index, src, reduce (-1: plain scatter, else a tg_scatter_op), include_self) */
static PyObject *py_scatter(PyObject *self, PyObject *args) {
    tg_tensor *x, *idx, *src;
    int axis, op, incl;
    if (!PyArg_ParseTuple(args, "O&iO&O&ip", conv_t, &x, &axis, conv_t, &idx, conv_t, &src, &op, &incl))
        return NULL;
    if (op < 0) return wrap(tg_scatter(x, axis, idx, src));
    return wrap(tg_scatter_reduce(x, axis, idx, src, (tg_scatter_op)op, incl));
}

static PyObject *py_index_add(PyObject *self, PyObject *args) {
    tg_tensor *x, *idx, *src;
    int axis;
    double alpha;
    if (!PyArg_ParseTuple(args, "O&iO&O&d", conv_t, &x, &axis, conv_t, &idx, conv_t, &src, &alpha)) return NULL;
    return wrap(tg_index_add(x, axis, idx, src, alpha));
}

/* setitem(x, starts, stops, steps, value) */
static PyObject *py_setitem(PyObject *self, PyObject *args) {
    tg_tensor *x, *v;
    ilist a, b, c;
    if (!PyArg_ParseTuple(args, "O&O&O&O&O&", conv_t, &x, conv_ilist, &a, conv_ilist, &b, conv_ilist, &c, conv_t,
                          &v))
        return NULL;
    if (a.n < 0 || a.n != b.n || a.n != c.n)
        return PyErr_Format(PyExc_ValueError, "setitem: starts, stops and steps differ in length");
    return wrap(tg_setitem(x, a.n, a.v, b.v, c.v, v));
}

static PyObject *py_masked_fill(PyObject *self, PyObject *args) {
    tg_tensor *x, *mask;
    double v;
    if (!PyArg_ParseTuple(args, "O&O&d", conv_t, &x, conv_t, &mask, &v)) return NULL;
    return wrap(tg_masked_fill(x, mask, v));
}

static PyObject *py_einsum(PyObject *self, PyObject *args) {
    const char *spec;
    PyObject *list;
    if (!PyArg_ParseTuple(args, "sO", &spec, &list)) return NULL;
    size_t n;
    tg_tensor **ts = tensor_list(list, &n);
    if (!ts) return NULL;
    tg_tensor *r = tg_einsum(spec, (int)n, ts);
    PyMem_Free(ts);
    return wrap(r);
}

/* interpolate(x, size or None, scale (floats) or None, linear, align_corners) */
static PyObject *py_interpolate(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist size;
    PyObject *scale;
    int linear, align;
    double sc[3];
    if (!PyArg_ParseTuple(args, "O&O&Opp", conv_t, &x, conv_ilist, &size, &scale, &linear, &align)) return NULL;
    int k = tg_tensor_ndim(x) - 2;
    if (size.n >= 0 && size.n != k)
        return PyErr_Format(PyExc_ValueError, "interpolate: %d sizes given for %d spatial dims", size.n, k);
    if (scale != Py_None) {
        if (!PyTuple_Check(scale) || PyTuple_GET_SIZE(scale) != k || k > 3)
            return PyErr_Format(PyExc_ValueError, "interpolate: scale must be a tuple of %d floats", k);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(scale); i++)
            if ((sc[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(scale, i))) == -1.0 && PyErr_Occurred()) return NULL;
    }
    return wrap(tg_interpolate(x, size.n < 0 ? NULL : size.v, scale == Py_None ? NULL : sc,
                               linear ? TG_INTERP_LINEAR : TG_INTERP_NEAREST, align));
}

/* Copies the k (1 to 3) ints of l into out. */
static int take3(const ilist *l, int k, int *out, const char *what) {
    if (l->n != k || k < 1 || k > 3) {
        PyErr_Format(PyExc_ValueError, "%s: %d numbers given for %d spatial dims (1 to 3)", what, l->n, k);
        return 0;
    }
    for (int i = 0; i < l->n; i++) out[i] = (int)l->v[i];
    return 1;
}

/* convnd(x, w, b, stride, padding, dilation, groups, output_padding, transposed): 1-d or 3-d by w's ndim */
static PyObject *py_convnd(PyObject *self, PyObject *args) {
    tg_tensor *x, *w, *b;
    ilist s, p, d, op;
    tg_convnd_opts o = {0};
    int tr;
    if (!PyArg_ParseTuple(args, "O&O&O&O&O&O&iO&p", conv_t, &x, conv_t, &w, conv_t_opt, &b, conv_ilist, &s,
                          conv_ilist, &p, conv_ilist, &d, &o.groups, conv_ilist, &op, &tr))
        return NULL;
    int k = tg_tensor_ndim(w) - 2;
    if (k != 1 && k != 3) return PyErr_Format(PyExc_ValueError, "convnd: weight is %d-d, not 3-d or 5-d", k + 2);
    if (!take3(&s, k, o.stride, "stride") || !take3(&p, k, o.padding, "padding") ||
        !take3(&d, k, o.dilation, "dilation") || !take3(&op, k, o.output_padding, "output_padding"))
        return NULL;
    bool three = k == 3;
    if (tr) return wrap((three ? tg_conv_transpose3d : tg_conv_transpose1d)(x, w, b, &o));
    return wrap((three ? tg_conv3d : tg_conv1d)(x, w, b, &o));
}

/* pool(x, kernel, stride, padding, dilation, ceil_mode, exclude_pad, is_avg) */
static PyObject *py_pool(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist k, s, p, d;
    tg_pool_opts o = {0};
    int ceil, excl, avg;
    if (!PyArg_ParseTuple(args, "O&O&O&O&O&ppp", conv_t, &x, conv_ilist, &k, conv_ilist, &s, conv_ilist, &p,
                          conv_ilist, &d, &ceil, &excl, &avg))
        return NULL;
    int n = tg_tensor_ndim(x) - 2;
    if (!take3(&k, n, o.kernel, "kernel_size") || !take3(&s, n, o.stride, "stride") ||
        !take3(&p, n, o.padding, "padding") || !take3(&d, n, o.dilation, "dilation"))
        return NULL;
    o.ceil_mode = ceil;
    o.exclude_pad = excl;
    return wrap((avg ? tg_avg_pool : tg_max_pool)(x, &o));
}

static PyObject *py_adaptive_pool(PyObject *self, PyObject *args) {
    tg_tensor *x;
    ilist size;
    int is_max;
    if (!PyArg_ParseTuple(args, "O&O&p", conv_t, &x, conv_ilist, &size, &is_max)) return NULL;
    if (size.n != tg_tensor_ndim(x) - 2)
        return PyErr_Format(PyExc_ValueError, "adaptive pool: %d sizes given for %d spatial dims", size.n,
                            tg_tensor_ndim(x) - 2);
    return wrap((is_max ? tg_adaptive_max_pool : tg_adaptive_avg_pool)(x, size.v));
}

static PyObject *py_unfold(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int axis;
    long long size, step;
    if (!PyArg_ParseTuple(args, "O&iLL", conv_t, &x, &axis, &size, &step)) return NULL;
    return wrap(tg_unfold(x, axis, size, step));
}

/* im2col(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw)) */
static PyObject *py_im2col(PyObject *self, PyObject *args) {
    tg_tensor *x;
    int kh, kw;
    tg_conv_opts o = {0};
    if (!PyArg_ParseTuple(args, "O&(ii)(ii)(ii)(ii)", conv_t, &x, &kh, &kw, &o.stride[0], &o.stride[1],
                          &o.padding[0], &o.padding[1], &o.dilation[0], &o.dilation[1]))
        return NULL;
    return wrap(tg_im2col(x, kh, kw, &o));
}

/* grad_of(outputs, seeds (entries may be None), inputs) -> [gradients] */
static PyObject *py_grad_of(PyObject *self, PyObject *args) {
    PyObject *outs_o, *seeds_o, *ins_o, *res = NULL;
    if (!PyArg_ParseTuple(args, "OOO", &outs_o, &seeds_o, &ins_o)) return NULL;
    size_t nout, nin;
    tg_tensor **outs = tensor_list(outs_o, &nout), **ins = outs ? tensor_list(ins_o, &nin) : NULL;
    tg_tensor **seeds = ins ? PyMem_Calloc(nout + 1, sizeof *seeds) : NULL;
    tg_tensor **grads = seeds ? PyMem_Calloc(nin + 1, sizeof *grads) : NULL;
    PyObject *seq = grads ? PySequence_Fast(seeds_o, "grad: seeds must be a sequence") : NULL;
    if (seq && (size_t)PySequence_Fast_GET_SIZE(seq) != nout)
        PyErr_Format(PyExc_ValueError, "grad: %zd seeds for %zu outputs", PySequence_Fast_GET_SIZE(seq), nout);
    else if (seq) {
        int ok = 1;
        for (size_t i = 0; ok && i < nout; i++) ok = conv_t_opt(PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i), &seeds[i]);
        tg_status st = ok ? tg_grad((int)nout, outs, seeds, (int)nin, ins, grads) : TG_OK;
        if (ok && st) tgpy_fail(st);
        else if (ok) {
            res = PyList_New((Py_ssize_t)nin);
            for (size_t i = 0; res && i < nin; i++) {
                PyObject *t = wrap(grads[i]);
                grads[i] = NULL;
                if (!t) Py_CLEAR(res);
                else PyList_SET_ITEM(res, (Py_ssize_t)i, t);
            }
        }
    }
    if (grads)
        for (size_t i = 0; i < nin; i++) tg_release(grads[i]);
    if (!PyErr_Occurred() && !res) PyErr_NoMemory();
    Py_XDECREF(seq);
    PyMem_Free(grads);
    PyMem_Free(seeds);
    PyMem_Free(ins);
    PyMem_Free(outs);
    return res;
}

/* -------------------------------------------------------------- module */

#define F(name, flags) {#name, (PyCFunction)(void (*)(void))py_##name, flags, NULL}
static PyMethodDef methods[] = {
    F(device_open, METH_VARARGS), F(device_info, METH_VARARGS), F(plugins, METH_NOARGS),
    F(plugin_search_path, METH_NOARGS), F(from_buffer, METH_VARARGS), F(to_bytes, METH_VARARGS),
    F(full, METH_VARARGS), F(arange, METH_VARARGS), F(eye, METH_VARARGS), F(random, METH_VARARGS),
    F(shape, METH_O), F(dtype, METH_O), F(device_name, METH_O), F(item, METH_O), F(realize, METH_FASTCALL),
    F(stats, METH_NOARGS), F(reshape, METH_VARARGS), F(expand, METH_VARARGS), F(permute, METH_VARARGS),
    F(pad, METH_VARARGS), F(slice, METH_VARARGS), F(flip, METH_VARARGS), F(squeeze, METH_VARARGS),
    F(unsqueeze, METH_VARARGS), F(softmax, METH_VARARGS), F(log_softmax, METH_VARARGS),
    F(transpose, METH_VARARGS), F(flatten, METH_VARARGS), F(cat, METH_VARARGS), F(stack, METH_VARARGS),
    F(gather, METH_VARARGS), F(where, METH_VARARGS), F(cast, METH_VARARGS), F(clamp, METH_VARARGS),
    F(var, METH_VARARGS), F(argmax, METH_VARARGS), F(linear, METH_VARARGS), F(conv2d, METH_VARARGS),
    F(pool2d, METH_VARARGS), F(cross_entropy, METH_VARARGS), F(layernorm, METH_VARARGS),
    F(batchnorm, METH_VARARGS), F(dropout, METH_VARARGS), F(sdpa, METH_VARARGS), F(to_device, METH_VARARGS),
    F(assign, METH_VARARGS), F(set_requires_grad, METH_VARARGS), F(requires_grad, METH_O), F(backward, METH_O),
    F(grad, METH_O), F(zero_grad, METH_O), F(no_grad, METH_O), F(grad_enabled, METH_NOARGS),
    F(to_dlpack, METH_O), F(from_dlpack, METH_VARARGS), F(save_safetensors, METH_VARARGS),
    F(load_safetensors, METH_VARARGS), F(optim_create, METH_VARARGS), F(optim_step, METH_O),
    F(optim_zero_grad, METH_O), F(optim_set_lr, METH_VARARGS), F(optim_steps, METH_O),
    F(set_tensor_class, METH_O), F(adopt, METH_VARARGS), F(full_scalar, METH_VARARGS), F(variable, METH_VARARGS),
    F(variable_set, METH_VARARGS), F(numel, METH_O), F(shrink, METH_VARARGS), F(repeat, METH_VARARGS),
    F(split, METH_VARARGS), F(cross_entropy_ex, METH_VARARGS), F(topk, METH_VARARGS), F(multinomial, METH_VARARGS),
    F(hardtanh, METH_VARARGS), F(lerp, METH_VARARGS), F(bitcast, METH_VARARGS), F(sort, METH_VARARGS),
    F(argsort, METH_VARARGS), F(randperm, METH_VARARGS), F(pad_mode, METH_VARARGS), F(scatter, METH_VARARGS),
    F(index_add, METH_VARARGS), F(setitem, METH_VARARGS), F(masked_fill, METH_VARARGS), F(einsum, METH_VARARGS),
    F(interpolate, METH_VARARGS), F(convnd, METH_VARARGS), F(pool, METH_VARARGS), F(adaptive_pool, METH_VARARGS),
    F(unfold, METH_VARARGS), F(im2col, METH_VARARGS), F(grad_of, METH_VARARGS), {NULL, NULL, 0, NULL}};
#undef F

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "tg._C", "tg's C API (see tg/__init__.py)", -1, methods};

PyMODINIT_FUNC PyInit__C(void) {
    if (PyType_Ready(&tgpy_dev_type) < 0 || PyType_Ready(&tgpy_tensor_type) < 0 ||
        PyType_Ready(&tgpy_optim_type) < 0)
        return NULL;
    Py_INCREF(&tgpy_tensor_type);
    Py_XSETREF(tensor_cls, &tgpy_tensor_type);
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    tgpy_error = PyErr_NewExceptionWithDoc("tg.Error", "a failure reported by tg (.status: its tg_status name)",
                                           PyExc_RuntimeError, NULL);
    Py_XINCREF(tgpy_error);
    if (!tgpy_error || PyModule_AddObject(m, "Error", tgpy_error) < 0 ||
        PyModule_AddStringConstant(m, "build_dir", TGPY_BUILD_DIR) < 0 ||
        PyModule_AddObjectRef(m, "T", (PyObject *)&tgpy_tensor_type) < 0 ||
        PyModule_AddObjectRef(m, "Dev", (PyObject *)&tgpy_dev_type) < 0 ||
        add_table(m, &unary_def, COUNT(unary_ops), unary_name) < 0 ||
        add_table(m, &binary_def, COUNT(binary_ops), binary_name) < 0 ||
        add_table(m, &scalar_def, COUNT(scalar_ops), scalar_name) < 0 ||
        add_table(m, &reduce_def, COUNT(reduce_ops), reduce_name) < 0 ||
        add_table(m, &int_def, COUNT(int_ops), int_name) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    /* ((name, size), ...) indexed by tg_dtype */
    PyObject *names = PyTuple_New(TG_DTYPE_COUNT);
    for (int i = 0; names && i < TG_DTYPE_COUNT; i++)
        PyTuple_SET_ITEM(names, i, Py_BuildValue("(sn)", tg_dtype_name((tg_dtype)i), (Py_ssize_t)tg_dtype_size((tg_dtype)i)));
    if (!names || PyModule_AddObject(m, "dtypes", names) < 0) {
        Py_XDECREF(names);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
