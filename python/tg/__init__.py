"""tg: a tiny lazy tensor library (C), from Python.

    import tg
    x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x * x + 1).sum()
    y.backward()
    print(y.item(), x.grad.numpy())

Tensors are lazy: ops record a graph, and work runs when a value is needed
(.numpy(), .item(), .realize(), .backward()). The C library does the work;
this package is a thin layer over it (tg._C). Errors raise tg.Error with tg's
own message. The default device is $TG_DEVICE, else "auto" (the fastest
certified plugin); tg.Device(name) opens another.
"""
import builtins
import functools
import json
import math
import os
import shutil
import subprocess
import tempfile
import threading

from . import _C
from ._C import Error

__all__ = ["Tensor", "Device", "DType", "Error", "devices", "from_dlpack", "no_grad", "manual_seed",
           "zeros", "ones", "full", "arange", "eye", "rand", "randn", "uniform", "cat", "stack", "where",
           "conform", "bench", "stats", "empty", "linspace", "normal", "randint", "glorot_uniform",
           "kaiming_uniform", "kaiming_normal", "scaled_uniform", "meshgrid", "variable", "realize",
           "randperm", "einsum", "grad", "im2col"]


# ------------------------------------------------------------------ dtypes

class DType:
    """A tg element type: tg.float32, tg.int32, tg.bool, ..."""
    __slots__ = ("id", "name", "itemsize")

    def __init__(self, id, name, itemsize):
        self.id, self.name, self.itemsize = id, name, itemsize

    @property
    def is_float(self):
        return self.name in ("float16", "bfloat16", "float32", "float64")

    @property
    def is_signed(self):
        return self.is_float or self.name.startswith("int")

    def __repr__(self):
        return "tg." + self.name

    def __reduce__(self):
        return (_dtype, (self.name,))


DTYPES = tuple(DType(i, name, size) for i, (name, size) in enumerate(_C.dtypes))
_BY_NAME = {d.name: d for d in DTYPES}
globals().update(_BY_NAME)  # tg.float32, tg.int32, tg.bool, ... (tg.bool hides the builtin here: use builtins.bool)
__all__ += list(_BY_NAME)
float_ = _BY_NAME["float32"]
default_float = _BY_NAME["float32"]
default_int = _BY_NAME["int32"]


def _dtype(d):
    """A DType from a DType, a name ("float32"), a numpy dtype or a Python type."""
    if d is None or isinstance(d, DType):
        return d
    if d is float:
        return default_float
    if d is int:
        return default_int
    if d is builtins.bool:
        return _BY_NAME["bool"]
    name = getattr(d, "name", None) or str(d)
    name = {"float": "float32", "half": "float16", "double": "float64", "long": "int64", "int": "int32"}.get(name, name)
    if name.startswith("torch."):
        name = name[6:]
    if name not in _BY_NAME:
        raise TypeError("tg has no dtype %r" % (d,))
    return _BY_NAME[name]


def _promote(a, b):
    """The dtype two operands meet in (torch's lattice, simplified)."""
    if a is b:
        return a
    if a.is_float != b.is_float:
        return a if a.is_float else b
    if a.name == "bool" or b.name == "bool":
        return b if a.name == "bool" else a
    if a.is_float:  # float16 with bfloat16 meets in float32
        if a.itemsize == b.itemsize:
            return _BY_NAME["float32"]
        return a if a.itemsize > b.itemsize else b
    if a.is_signed == b.is_signed:
        return a if a.itemsize >= b.itemsize else b
    s, u = (a, b) if a.is_signed else (b, a)
    if s.itemsize > u.itemsize:
        return s
    return _BY_NAME.get("int%d" % min(64, 16 * u.itemsize), s)


# ----------------------------------------------------------------- devices

class Device:
    """An open tg device: Device("cpu"), Device("ref"), Device("auto") (the
    fastest certified plugin). Devices are cached by name: Device("cpu")
    twice is one device."""
    _open = {}
    _lock = threading.Lock()

    def __new__(cls, name="auto"):
        if isinstance(name, Device):
            return name
        with cls._lock:
            dev = cls._open.get(name)
            if dev is None:  # "auto" may name a plugin already open: one device per plugin
                h = _C.device_open(name)
                info = _C.device_info(h)
                dev = cls._open.get(info["plugin"])
                if dev is None:
                    dev = object.__new__(cls)
                    dev._h, dev.info, dev.name = h, info, info["plugin"]
                    cls._open[dev.name] = dev
                cls._open[name] = dev
            return dev

    @property
    def host_visible(self):
        """True if its buffers are host memory (DLPack/numpy export is zero-copy)."""
        return self.info["host_visible"]

    def __repr__(self):
        return "tg.Device(%r)" % self.name

    def __eq__(self, other):
        return isinstance(other, Device) and other._h is self._h

    def __hash__(self):
        return id(self._h)


_default_device = None


def default_device():
    """The device tensors are made on when none is given: $TG_DEVICE, else "auto"."""
    global _default_device
    if _default_device is None:
        _default_device = Device(os.environ.get("TG_DEVICE") or "auto")
    return _default_device


def set_default_device(dev):
    global _default_device
    _default_device = Device(dev)


def devices():
    """Every plugin found: a list of dicts (name, path, ok, error, abi)."""
    return _C.plugins()


# ------------------------------------------------------------ random seeds

_seed = [0x5EED]


def manual_seed(seed):
    """Seed the generator behind rand/randn/uniform/dropout and nn's init."""
    _seed[0] = int(seed) * 1000003 + 1


def _next_seed():
    _seed[0] = (_seed[0] * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return _seed[0]


# ----------------------------------------------------------------- grad mode

class no_grad:
    """with tg.no_grad(): ops inside record no gradient links."""

    def __enter__(self):
        _C.no_grad(True)

    def __exit__(self, *exc):
        _C.no_grad(False)

    def __call__(self, fn):
        def wrapped(*a, **k):
            with no_grad():
                return fn(*a, **k)
        return wrapped


# ------------------------------------------------------------------ tensor

def _shape_args(shape):
    """(2, 3), [2, 3] or 2, 3 -> (2, 3)"""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _axes(axis, ndim):
    if axis is None:
        return None
    if isinstance(axis, int):
        return (axis,)
    return tuple(axis)


def _binop(op, scalar=None, reverse=False):
    """Tensor's operator `op`: two tensors of one dtype go straight to tg._C
    (the hot path); anything else through Tensor._binary (promotion, Python
    numbers, lists, arrays)."""
    fn, dtype = getattr(_C, op), _C.dtype

    def method(self, o):
        if type(o) is Tensor and dtype(self) == dtype(o):
            return fn(o, self) if reverse else fn(self, o)
        return self._binary(op, o, reverse, scalar)
    method.__name__ = "__%s%s__" % ("r" if reverse else "", op)
    return method


class Tensor(_C.T):
    """A lazy tg tensor. Tensor(data, dtype=None, device=None, requires_grad=False):
    data is a nested list, a number, a numpy array, a buffer, or anything with
    __dlpack__; Python floats give float32, ints int32 (as tinygrad)."""
    __slots__ = ()  # a tg.Tensor is the C handle itself (tg._C.T): ops return tg.Tensors
    __array_ufunc__ = None  # numpy defers to Tensor's operators: ndarray + Tensor is a Tensor

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        dev = Device(device) if device is not None else default_device()
        dtype = _dtype(dtype)
        if isinstance(data, Tensor):
            t = data.to(dev)
            if dtype is not None and dtype is not data.dtype:
                t = _C.cast(t, dtype.id)
        elif isinstance(data, _C.T):
            t = data
        elif hasattr(data, "__dlpack__") and not _is_numpy(data):
            t = _C.from_dlpack(dev._h, data.__dlpack__())
            if dtype is not None and _C.dtype(t) != dtype.id:
                t = _C.cast(t, dtype.id)
        else:
            t = _from_host(data, dtype, dev)
        _C.adopt(self, t)
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(t):  # ops return tg.Tensors already; kept for code that wrapped handles
        return t

    # --- inspection
    @property
    def shape(self):
        return _C.shape(self)

    @property
    def dtype(self):
        return DTYPES[_C.dtype(self)]

    @property
    def device(self):
        return Device(_C.device_name(self))

    @property
    def ndim(self):
        return len(self.shape)

    def numel(self):
        return _C.numel(self)

    def element_size(self):
        return self.dtype.itemsize

    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    def is_floating_point(self):
        return self.dtype.is_float

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        try:
            body = repr(self.numpy().tolist()) if self.numel() <= 64 else "..."
        except Exception:  # noqa: BLE001 -- repr must not raise
            body = "?"
        return "tg.Tensor(%s, shape=%s, dtype=%s, device=%s)" % (body, self.shape, self.dtype.name,
                                                                 _C.device_name(self))

    __hash__ = object.__hash__

    # --- realize, host
    def realize(self, *others):
        """Compute now (and return self); others are realized in the same schedule."""
        _C.realize(self, *others)
        return self

    def item(self):
        """The one element as a Python number (integers exactly, not through a double)."""
        if self.dtype.is_float:
            return _C.item(self)
        if self.numel() != 1:
            _C.item(self)  # raises tg's error naming the element count
        return memoryview(self.tobytes()).cast(_FORMATS[self.dtype.name])[0]

    def tobytes(self):
        return _C.to_bytes(self)

    def data(self):
        """The values as a memoryview of a host copy, shaped like the tensor
        (bfloat16 as float32, which memoryview lacks)."""
        t = self.cast("float32") if self.dtype.name == "bfloat16" else self
        view = memoryview(t.tobytes()).cast("B").cast(_FORMATS[t.dtype.name])
        return view.cast("B").cast(_FORMATS[t.dtype.name], t.shape) if t.ndim > 1 else view

    def numpy(self):
        """A numpy array of the values. Zero-copy (read-only, sharing tg's
        buffer) where the device's memory is host memory; else one copy (also
        for bool with numpy < 1.25). bfloat16 (which numpy lacks) comes back
        as float32."""
        import numpy as np
        t = self
        if t.dtype.name == "bfloat16":
            t = t.cast("float32")
        try:
            a = np.from_dlpack(t)
        except (BufferError, RuntimeError, TypeError):  # an older numpy without bool in DLPack
            a = np.frombuffer(t.tobytes(), dtype=t.dtype.name).reshape(t.shape)
        a.flags.writeable = False
        return a

    def tolist(self):
        """Nested lists of Python numbers (numpy not needed)."""
        t = self.cast("float32") if self.dtype.name in ("float16", "bfloat16") else self
        flat = memoryview(t.tobytes()).cast(_FORMATS[t.dtype.name]).tolist()

        def nest(start, dims):
            if not dims:
                return flat[start]
            step = 1
            for n in dims[1:]:
                step *= n
            return [nest(start + i * step, dims[1:]) for i in range(dims[0])]
        return nest(0, t.shape)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __setitem__(self, idx, value):
        """self[idx] = value for basic indices (ints, slices with steps, ...):
        tg_setitem builds the new value, which is then assigned into self."""
        _C.assign(self, _setitem(self, idx, value))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return builtins.bool(self.item())

    def __index__(self):
        if self.dtype.is_float:
            raise TypeError("only integer tensors convert to an index")
        return int(self.item())

    # --- DLPack
    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule: zero-copy where the device's memory is host
        memory, else a host copy; copy=True always copies, copy=False refuses
        to."""
        host = self.device.host_visible
        if copy is False and not host:
            raise BufferError("tg: device %s's memory is not host memory; it can only be copied" % self.device.name)
        if copy and host:  # a new buffer with the same values, exported without a copy
            return _C.to_dlpack(_C.from_buffer(self.device._h, self.dtype.id, self.shape, self.tobytes()))
        return _C.to_dlpack(self._t)

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU: exports are always host memory (tg/dlpack.h)

    # --- devices, dtypes
    def to(self, device=None, dtype=None):
        t = self
        if device is not None and Device(device) != t.device:
            t = _C.to_device(t, Device(device)._h)
        if dtype is not None:
            t = t.cast(dtype)
        return t

    def cast(self, dtype):
        dtype = _dtype(dtype)
        return self if dtype is self.dtype else _C.cast(self, dtype.id)

    def float(self):
        return self.cast("float32")

    def half(self):
        return self.cast("float16")

    def double(self):
        return self.cast("float64")

    def bfloat16(self):
        return self.cast("bfloat16")

    def short(self):
        return self.cast("int16")

    def int(self):
        return self.cast("int32")

    def long(self):
        return self.cast("int64")

    def bool(self):
        return self.cast("bool")

    def contiguous(self):
        return _C.contiguous(self)

    def detach(self):
        return _C.detach(self)

    def clone(self):
        return self.contiguous()

    # --- autograd
    @property
    def requires_grad(self):
        return _C.requires_grad(self)

    @requires_grad.setter
    def requires_grad(self, on):
        _C.set_requires_grad(self, builtins.bool(on))

    def requires_grad_(self, on=True):
        self.requires_grad = on
        return self

    @property
    def grad(self):
        return _C.grad(self)

    @grad.setter
    def grad(self, value):
        if value is not None:
            raise ValueError("tg: a gradient can only be cleared (set to None)")
        _C.zero_grad(self)

    def backward(self, gradient=None):
        """Accumulate d(self)/dx into x.grad for every x that requires grad
        (the seed gradient is ones, for any shape, or `gradient`)."""
        _C.backward(self if gradient is None else (self * gradient).sum())
        return self

    def gradient(self, *targets, gradient=None):
        """tinygrad's: [d(self)/d(t) for t in targets] (tg_grad; no .grad changes)."""
        return list(grad([self], list(targets), None if gradient is None else [gradient]))

    def variable_set(self, value):
        """Give a tg.variable a new value (nothing is compiled anew)."""
        _C.variable_set(self, float(value))

    def assign(self, other):
        """Make self hold other's values (same shape, dtype and device); self
        keeps its identity and requires_grad."""
        _C.assign(self, self._operand(other))
        return self

    # --- operands
    def _operand(self, x, dtype=None):
        if isinstance(x, Tensor):
            return x
        return Tensor(x, dtype=dtype or self.dtype, device=self.device)

    def _binary(self, op, other, reverse=False, scalar=None):
        """self OP other (other OP self when reverse), promoting dtypes; a
        Python number becomes a scalar op or a lazy constant (no buffer)."""
        x = self
        if isinstance(other, (builtins.bool, int, float)):
            if isinstance(other, float) and not x.dtype.is_float:
                x = x.cast(default_float)
            if scalar is not None and not reverse:
                return getattr(_C, scalar)(x, float(other))
            other = full((), other, x.dtype, x.device)
        elif not isinstance(other, (Tensor, list, tuple)) and not _is_numpy(other) and \
                not hasattr(other, "__dlpack__"):
            return NotImplemented
        elif not isinstance(other, Tensor):
            other = Tensor(other, device=x.device)
        a, b = (other, x) if reverse else (x, other)
        dt = _promote(a.dtype, b.dtype)
        return getattr(_C, op)(a.cast(dt), b.cast(dt))

    def _float_operands(self, other, reverse):
        """true division: integer operands go to float32 first."""
        x = self if self.dtype.is_float else self.cast(default_float)
        if isinstance(other, Tensor) and not other.dtype.is_float:
            other = other.cast(default_float)
        return x, other

    __add__ = _binop("add", "adds")
    __radd__ = _binop("add", reverse=True)
    __sub__ = _binop("sub", "subs")
    __rsub__ = _binop("sub", reverse=True)
    __mul__ = _binop("mul", "muls")
    __rmul__ = _binop("mul", reverse=True)
    __pow__ = _binop("pow", "pows")
    __rpow__ = _binop("pow", reverse=True)
    __matmul__ = _binop("matmul")
    __rmatmul__ = _binop("matmul", reverse=True)
    __lt__ = _binop("lt")
    __gt__ = _binop("gt")
    __le__ = _binop("le")
    __ge__ = _binop("ge")
    __eq__ = _binop("eq")  # elementwise, as torch
    __ne__ = _binop("ne")
    def __and__(self, o): return self._bitwise("logical_and", "bitwise_and", o)
    def __or__(self, o): return self._bitwise("logical_or", "bitwise_or", o)
    def __xor__(self, o): return self._bitwise("logical_xor", "bitwise_xor", o)
    def __rand__(self, o): return self._bitwise("logical_and", "bitwise_and", o)
    def __ror__(self, o): return self._bitwise("logical_or", "bitwise_or", o)
    def __rxor__(self, o): return self._bitwise("logical_xor", "bitwise_xor", o)
    def __invert__(self): return _C.logical_not(self) if self.dtype.name == "bool" else _C.bitwise_not(self)
    def __lshift__(self, n): return self.lshift(n)
    def __rshift__(self, n): return self.rshift(n)

    def _bitwise(self, logical, bitwise, o):
        """Two bool operands: the logical op; else the bitwise one (tg_bitwise_*)
        in the operands' integer dtype (a bool tensor meets an int one there)."""
        if self.dtype.name == "bool":
            if isinstance(o, builtins.bool) or (isinstance(o, Tensor) and o.dtype.name == "bool"):
                return self._binary(logical, o)
            if isinstance(o, Tensor):
                return self.cast(o.dtype)._binary(bitwise, o)
            if isinstance(o, int):
                return self.cast(default_int)._binary(bitwise, o)
        return self._binary(bitwise, o)

    def bitwise_and(self, x): return self & x
    def bitwise_or(self, x): return self | x
    def bitwise_xor(self, x): return self ^ x
    def bitwise_not(self): return ~self

    def lshift(self, x):
        return _C.lshift(self, int(x))

    def rshift(self, x):
        return _C.rshift(self, int(x))

    def bitcast(self, dtype):
        """The same bytes read as another dtype of the same size (tg_bitcast: realizes self)."""
        return _C.bitcast(self, _dtype(dtype).id)

    def __neg__(self): return _C.neg(self)
    def __pos__(self): return self
    def __abs__(self): return self.abs()

    def __truediv__(self, o):
        x, o = self._float_operands(o, False)
        return x._binary("div", o, scalar="divs")

    def __rtruediv__(self, o):
        x, o = self._float_operands(o, True)
        return x._binary("div", o, True)

    def __floordiv__(self, o):
        q = self._binary("div", o)
        if q.dtype.is_float:
            return q.floor()
        r = self._binary("mod", o)  # C truncation: step down where the signs differ and r != 0
        o = self._operand(o).cast(q.dtype)
        fix = (r != 0) & ((r < 0) ^ (o < 0))
        return where(fix, q - 1, q)

    def __mod__(self, o):
        r = self._binary("mod", o)  # C remainder: make it take the divisor's sign, as Python
        o = self._operand(o).cast(r.dtype)
        fix = (r != 0) & ((r < 0) ^ (o < 0))
        return where(fix, r + o, r)

    def isinf(self, detect_positive=True, detect_negative=True):
        out = _C.isinf(self)
        if not detect_positive:
            out = out & (self < 0)
        if not detect_negative:
            out = out & (self > 0)
        return out

    def atan2(self, other):
        x, o = self._float_operands(other, False)
        return x._binary("atan2", o)

    arctan2 = atan2

    def maximum(self, o): return self._binary("maximum", o, scalar="maximums")
    def minimum(self, o): return self._binary("minimum", o, scalar="minimums")

    def clamp(self, min_=None, max_=None, min=None, max=None):
        """Bounds may be numbers or tensors (tinygrad's min_/max_ or torch's min/max)."""
        lo, hi = (min_ if min is None else min), (max_ if max is None else max)
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
            return _C.clamp(self if self.dtype.is_float or (lo == int(lo) and hi == int(hi)) else
                            self.cast(default_float), float(lo), float(hi))
        x = self
        if lo is not None:
            x = x.maximum(lo)
        if hi is not None:
            x = x.minimum(hi)
        return x

    clip = clamp

    def where(self, a, b):
        return where(self, a, b)

    def leaky_relu(self, slope=0.01):
        return _C.leaky_relu(self, float(slope))

    def logical_not(self):
        return ~self

    # --- arithmetic by name (tinygrad's)
    def _as_tensor(self, x):
        """x as a tensor on self's device, its dtype its own (Python floats float32, ints int32)."""
        return x if isinstance(x, Tensor) else Tensor(x, device=self.device)

    def add(self, x, reverse=False):
        return self._binary("add", x, reverse, "adds")

    def sub(self, x, reverse=False):
        return self._binary("sub", x, reverse, "subs")

    def mul(self, x, reverse=False):
        return self._binary("mul", x, reverse, "muls")

    def pow(self, x, reverse=False):
        return self._binary("pow", x, reverse, "pows")

    def div(self, x, reverse=False, rounding_mode=None):
        """True division; rounding_mode "floor" (Python's //) or "trunc" (toward 0)."""
        a, b = (self._as_tensor(x), self) if reverse else (self, x)
        if rounding_mode is None:
            return a / b
        if rounding_mode == "floor":
            return a // b
        if rounding_mode == "trunc":
            q = a._binary("div", b)  # integers: C division truncates
            return q.cast("int64").cast(q.dtype) if q.dtype.is_float else q
        raise ValueError("div: rounding_mode must be None, 'floor' or 'trunc', not %r" % (rounding_mode,))

    def mod(self, x, reverse=False):
        """Python's %: the result takes the divisor's sign."""
        return self._as_tensor(x) % self if reverse else self % x

    def fmod(self, x):
        """C's fmod: the result takes the dividend's sign (tg_mod)."""
        return self._binary("mod", x)

    def eq(self, x):
        return self == x

    def ne(self, x):
        return self != x

    def neg(self):
        return -self

    def lerp(self, end, weight):
        """self + weight (end - self) (tg_lerp; floats)."""
        end = self._operand(end)
        return _C.lerp(self, end, self._operand(weight, dtype=self.dtype if self.dtype.is_float else None))

    def copysign(self, other):
        """|self| with other's sign (-0.0 counts as negative)."""
        o = self._operand(other)
        negative = (o < 0) | ((o == 0) & (o.reciprocal() < 0))
        return where(negative, -self.abs(), self.abs())

    def logaddexp(self, other):
        o = self._operand(other)
        shape = _broadcast_shape(self.shape, o.shape)
        return stack([self.expand(shape), o.expand(shape)]).logsumexp(0)

    def log10(self):
        return self.log2() * (1.0 / math.log2(10.0))

    # --- activations composed of tg ops
    def gelu(self, approximate="tanh"):
        """tinygrad's default (tanh, tg_gelu); approximate="none": the exact erf form (tg_gelu_erf)."""
        if approximate == "tanh":
            return _C.gelu(self)
        if approximate == "none":
            return _C.gelu_erf(self)
        raise ValueError("gelu: approximate must be 'tanh' or 'none', not %r" % (approximate,))

    def softplus(self, beta=1.0):
        return _C.softplus(self) if beta == 1 else (self * beta).softplus() * (1.0 / beta)

    def swish(self):
        return self.silu()

    def hardtanh(self, min_val=-1, max_val=1):
        return _C.hardtanh(self, float(min_val), float(max_val))

    def hardsigmoid(self, alpha=1 / 6, beta=0.5):
        if alpha == 1 / 6 and beta == 0.5:
            return _C.hardsigmoid(self)
        return (self * alpha + beta).clamp(0, 1)

    def elu(self, alpha=1.0):
        return _C.elu(self, float(alpha))

    def celu(self, alpha=1.0):
        return _C.celu(self, float(alpha))

    # --- scans, sorting (tg_cumsum ..., tg_sort)
    def cumsum(self, axis=0, dim=None):
        return _C.cumsum(self, axis if dim is None else dim)

    def cumprod(self, axis=0, dim=None):
        return _C.cumprod(self, axis if dim is None else dim)

    def cummax(self, axis=0, dim=None):
        """The running maximum (values only, as tinygrad)."""
        return _C.cummax(self, axis if dim is None else dim)

    def cummin(self, axis=0, dim=None):
        return _C.cummin(self, axis if dim is None else dim)

    def logcumsumexp(self, axis=0, dim=None):
        return _C.logcumsumexp(self, axis if dim is None else dim)

    def sort(self, dim=-1, descending=False):
        """(values, int32 indices), stable; NaN counts as the largest (tg_sort)."""
        return _C.sort(self, dim, descending)

    def argsort(self, dim=-1, descending=False):
        return _C.argsort(self, dim, descending)

    # --- logic, comparison
    def any(self, axis=None, keepdim=False):
        return self.bool().sum(axis, keepdim) > 0

    def all(self, axis=None, keepdim=False):
        return (~self.bool()).sum(axis, keepdim) == 0

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|self - other| <= atol + rtol * |other|, elementwise (equal infinities are close)."""
        o = self._operand(other)
        close = ((self - o).abs() <= (o.abs() * rtol + atol)) | (self == o)
        if equal_nan:
            close = close | ((self != self) & (o != o))
        return close

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Whether every element is close (a Python bool: realizes)."""
        return builtins.bool(self.isclose(other, rtol, atol, equal_nan).all().item())

    # --- reductions
    def _reduce(self, op, axis, keepdim):
        return getattr(_C, op)(self, _axes(axis, self.ndim), keepdim)

    def sum(self, axis=None, keepdim=False, dtype=None, dim=None):
        x = self if dtype is None else self.cast(dtype)
        return x._reduce("sum", dim if axis is None else axis, keepdim)

    def mean(self, axis=None, keepdim=False, dim=None):
        x = self if self.dtype.is_float else self.cast(default_float)
        return x._reduce("mean", dim if axis is None else axis, keepdim)

    def max(self, axis=None, keepdim=False, dim=None):
        return self._reduce("max", dim if axis is None else axis, keepdim)

    def min(self, axis=None, keepdim=False, dim=None):
        return self._reduce("min", dim if axis is None else axis, keepdim)

    def prod(self, axis=None, keepdim=False, dim=None):
        return self._reduce("prod", dim if axis is None else axis, keepdim)

    def logsumexp(self, axis=None, keepdim=False, dim=None):
        return self._reduce("logsumexp", dim if axis is None else axis, keepdim)

    def var(self, axis=None, keepdim=False, correction=1, dim=None):
        return _C.var(self, _axes(dim if axis is None else axis, self.ndim), keepdim, correction, False)

    def std(self, axis=None, keepdim=False, correction=1, dim=None):
        return _C.var(self, _axes(dim if axis is None else axis, self.ndim), keepdim, correction, True)

    def var_mean(self, axis=None, keepdim=False, correction=1):
        return self.var(axis, keepdim, correction), self.mean(axis, keepdim)

    def std_mean(self, axis=None, keepdim=False, correction=1):
        return self.std(axis, keepdim, correction), self.mean(axis, keepdim)

    def topk(self, k, dim=-1, largest=True, sorted_=True):
        """(values, int32 indices) of the k largest (smallest) entries along dim, in order (tg_topk)."""
        last = self.ndim - 1
        x = self if dim in (-1, last) else self.transpose(dim, -1)
        v, i = _C.topk(x if largest else -x, k)
        if not largest:
            v = -v
        return (v, i) if dim in (-1, last) else (v.transpose(dim, -1), i.transpose(dim, -1))

    def multinomial(self, num_samples=1, replacement=False):
        """num_samples class draws per row of weights (tg_multinomial; seeded by tg.manual_seed)."""
        if not replacement and num_samples > 1:
            raise ValueError("multinomial: without replacement only num_samples=1 is supported")
        return _C.multinomial(self, num_samples, _next_seed())

    def nonzero(self, size=None, fill_value=0):
        """int32 (n, ndim) indices of the non-zero elements. The count decides
        the shape, so this reads the values back (realizes self)."""
        flat = self.bool().reshape(-1).tolist()
        strides = [1] * self.ndim
        for d in range(self.ndim - 2, -1, -1):
            strides[d] = strides[d + 1] * self.shape[d + 1]
        rows = [[i // st % n for st, n in zip(strides, self.shape)] for i, v in enumerate(flat) if v]
        if size is not None:
            rows = (rows + [[fill_value] * self.ndim] * size)[:size]
        return Tensor(rows, dtype="int32", device=self.device).reshape(len(rows), self.ndim)

    def masked_select(self, mask, size=None, fill_value=0):
        """The elements where mask (broadcast) is true, 1-d; realizes mask."""
        shape = _broadcast_shape(self.shape, mask.shape)
        idx = [i for i, v in enumerate(mask.bool().expand(shape).reshape(-1).tolist()) if v]
        out = self.expand(shape).reshape(-1)[Tensor(idx, dtype="int32", device=self.device)] if idx else \
            self.reshape(-1)[:0]
        if size is not None:
            out = out[:size].pad(((0, max(0, size - len(idx))),), value=fill_value)
        return out

    def argmax(self, axis=None, keepdim=False, dim=None):
        axis = dim if axis is None else axis
        if axis is None:
            return _C.argmax(self.reshape(-1), 0, False, False)
        return _C.argmax(self, axis, keepdim, False)

    def argmin(self, axis=None, keepdim=False, dim=None):
        axis = dim if axis is None else axis
        if axis is None:
            return _C.argmax(self.reshape(-1), 0, False, True)
        return _C.argmax(self, axis, keepdim, True)

    def softmax(self, axis=-1, dtype=None, dim=None):
        x = self if dtype is None else self.cast(dtype)
        return _C.softmax(x, axis if dim is None else dim)

    def log_softmax(self, axis=-1, dtype=None, dim=None):
        x = self if dtype is None else self.cast(dtype)
        return _C.log_softmax(x, axis if dim is None else dim)

    def softmin(self, axis=-1, dtype=None):
        return (-self).softmax(axis, dtype)

    def normalize(self, p=2.0, dim=1, eps=1e-12):
        """self divided by its p-norm along dim (at least eps)."""
        norm = self.abs().pow(p).sum(dim, keepdim=True).pow(1.0 / p)
        return self / norm.maximum(eps)

    # --- movement
    def reshape(self, *shape):
        return _C.reshape(self, _shape_args(shape))

    view = reshape

    def permute(self, *dims):
        return _C.permute(self, _shape_args(dims))

    def expand(self, *shape):
        shape = _shape_args(shape)
        lead = len(shape) - self.ndim  # torch: -1 keeps the size
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
        return _C.expand(self, shape)

    def transpose(self, dim0=-2, dim1=-1):
        return _C.transpose(self, dim0, dim1)

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        return _C.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        return _C.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _C.unsqueeze(self, dim)

    def flip(self, axis, *args):
        return _C.flip(self, (axis, *args) if args else _axes(axis, self.ndim))

    def shrink(self, arg):
        """Keep [lo, hi) of each dim: arg has a (lo, hi) pair or None (all) per dim."""
        bounds = [(0, s) if a is None else a for a, s in zip(arg, self.shape)]
        return _C.shrink(self, [lo for lo, _ in bounds], [hi for _, hi in bounds])

    def shrink_to(self, shape, *args):
        """The leading corner of the given shape (None keeps a dim)."""
        shape = _shape_args((shape, *args) if args else (shape,))
        return self.shrink(tuple(None if s is None else (0, s) for s in shape))

    def pad_to(self, shape, *args, value=0):
        """Padded at the end of each dim to the given shape (None keeps a dim)."""
        shape = _shape_args((shape, *args) if args else (shape,))
        return self.pad(tuple(None if s is None else (0, s - n) for s, n in zip(shape, self.shape)), value=value)

    def unflatten(self, dim, sizes):
        dim %= self.ndim
        return self.reshape(self.shape[:dim] + tuple(sizes) + self.shape[dim + 1:])

    def roll(self, shifts, dims=None):
        """Elements shifted along dims (all of them flattened when None), wrapping round."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts, dims = (shifts,) if isinstance(shifts, int) else shifts, (dims,) if isinstance(dims, int) else dims
        x = self
        for s, d in zip(shifts, dims):
            n = x.shape[d]
            s = s % n if n else 0
            if s:
                x = cat([_C.slice(x, d, n - s, n, 1), _C.slice(x, d, 0, n - s, 1)], d)
        return x

    def repeat_interleave(self, repeats, dim=None):
        """Each element repeated `repeats` times along dim (the flattened tensor when None)."""
        x, dim = (self.reshape(-1), 0) if dim is None else (self, dim % self.ndim)
        shape = x.shape[:dim + 1] + (repeats,) + x.shape[dim + 1:]
        return x.unsqueeze(dim + 1).expand(shape).flatten(dim, dim + 1)

    def meshgrid(self, *args, indexing="ij"):
        return meshgrid(self, *args, indexing=indexing)

    def diag(self):
        """A 1-d tensor as the diagonal of a square matrix (a 2-d one: its diagonal)."""
        if self.ndim == 2:
            return self.diagonal()
        n = self.shape[0]
        return where(eye(n, dtype="bool", device=self.device), self.unsqueeze(0).expand(n, n), self.zeros_like()[None])

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal of the (dim1, dim2) planes, as a last dim."""
        d1, d2 = dim1 % self.ndim, dim2 % self.ndim
        x = self.permute(*[d for d in range(self.ndim) if d not in (d1, d2)], d1, d2)
        x = _C.slice(x, -1, offset, x.shape[-1], 1) if offset >= 0 else _C.slice(x, -2, -offset, x.shape[-2], 1)
        rows, cols = x.shape[-2:]
        k = max(0, min(rows, cols))
        flat = x.flatten(-2, -1) if x.ndim > 1 else x
        return _C.slice(flat, -1, 0, (k - 1) * (cols + 1) + 1 if k else 0, cols + 1)

    def _tri(self, diagonal, upper):
        n, m = self.shape[-2:]
        r = arange(n, device=self.device).unsqueeze(1)
        c = arange(m, device=self.device)
        keep = (c - r >= diagonal) if upper else (c - r <= diagonal)
        return where(keep, self, self.zeros_like())

    def tril(self, diagonal=0):
        return self._tri(diagonal, False)

    def triu(self, diagonal=0):
        return self._tri(diagonal, True)

    def one_hot(self, num_classes=-1):
        """(..., num_classes) int32, 1 at each value; num_classes -1: max + 1 (realizes)."""
        if num_classes == -1:
            num_classes = int(self.max().item()) + 1
        return (self.unsqueeze(-1) == arange(num_classes, dtype=self.dtype, device=self.device)).cast(default_int)

    def sequential(self, ll):
        """self passed through each callable of ll in turn."""
        return functools.reduce(lambda x, f: f(x), ll, self)

    def rearrange(self, formula, **sizes):
        """einops' rearrange: "b c h w -> b (h w) c"; the sizes of split dims
        ("(h w) -> h w") come from **sizes (one per group may be inferred)."""
        lhs, rhs = (_rearrange_groups(side) for side in formula.split("->"))
        if len(lhs) != self.ndim:
            raise ValueError("rearrange: %r has %d dims on the left, the tensor %d" % (formula, len(lhs), self.ndim))
        known = dict(sizes)
        for group, n in zip(lhs, self.shape):
            unknown = [a for a in group if a not in known]
            if len(unknown) > 1:
                raise ValueError("rearrange: give the sizes of %s" % unknown[1:])
            rest = math.prod(known[a] for a in group if a in known)
            if unknown:
                known[unknown[0]] = n // rest if rest else 0
        names = [a for g in lhs for a in g]
        if sorted(names) != sorted(a for g in rhs for a in g):
            raise ValueError("rearrange: %r names different dims on its two sides" % formula)
        x = self.reshape(tuple(known[a] for a in names))
        x = x.permute(*[names.index(a) for g in rhs for a in g])
        return x.reshape(tuple(math.prod(known[a] for a in g) for g in rhs))

    def pad(self, padding, mode="constant", value=0.0):
        """padding: ((before, after), ...) per dim from the first (tinygrad),
        or flat (left, right, top, bottom, ...) from the last dim (torch's F.pad)."""
        if not isinstance(mode, str):  # pad(padding, value), as before modes
            mode, value = "constant", mode
        modes = ("constant", "reflect", "replicate", "circular")
        if mode not in modes:
            raise ValueError("pad: mode must be one of %s, not %r" % (", ".join(modes), mode))
        padding = list(padding)
        pads = [0] * (2 * self.ndim)
        if padding and isinstance(padding[0], (tuple, list, type(None))):
            for d, p in enumerate(padding):
                pads[2 * d:2 * d + 2] = p if p is not None else (0, 0)
        else:
            for i in range(len(padding) // 2):
                d = self.ndim - 1 - i
                pads[2 * d], pads[2 * d + 1] = padding[2 * i], padding[2 * i + 1]
        if mode != "constant":
            return _C.pad_mode(self, pads, modes.index(mode))
        return _C.pad(self, pads, float(value))

    def cat(self, *others, dim=0):
        return cat([self, *others], dim=dim)

    def stack(self, *others, dim=0):
        return stack([self, *others], dim=dim)

    def repeat(self, *reps):
        """Tile: reps per dim (more reps than dims add leading dims), as torch (tg_repeat)."""
        reps = _shape_args(reps)
        return _C.repeat(self.reshape((1,) * (len(reps) - self.ndim) + self.shape), reps)

    def chunk(self, n, dim=0):
        size = -(-self.shape[dim] // n)
        return self.split(size, dim)

    def split(self, size, dim=0):
        dim = dim % self.ndim
        if isinstance(size, int):
            return _C.split(self, dim, size)
        else:
            bounds = [0]
            for s in size:
                bounds.append(bounds[-1] + s)
        return [_C.slice(self, dim, a, b, 1) for a, b in zip(bounds, bounds[1:])]

    def gather(self, dim, index):
        return _C.gather(self, dim, index)

    # --- indexing writes (new tensors; self is not changed)
    def _src(self, src, index):
        if isinstance(src, Tensor):
            return src.cast(self.dtype)
        return full(index.shape, src, self.dtype, self.device)

    def scatter(self, dim, index, src, reduce=None):
        """torch.scatter; reduce "add" / "multiply" as tinygrad (scatter_reduce with include_self)."""
        if reduce is not None:
            ops = {"add": "sum", "multiply": "prod"}
            if reduce not in ops:
                raise ValueError("scatter: reduce must be 'add' or 'multiply', not %r" % (reduce,))
            return self.scatter_reduce(dim, index, src, ops[reduce])
        return _C.scatter(self, dim, index, self._src(src, index), -1, True)

    def scatter_reduce(self, dim, index, src, reduce, include_self=True):
        """torch.scatter_reduce: reduce "sum", "prod", "mean", "amax" or "amin"."""
        ops = ("sum", "prod", "mean", "amax", "amin")
        if reduce not in ops:
            raise ValueError("scatter_reduce: reduce must be one of %s, not %r" % (", ".join(ops), reduce))
        return _C.scatter(self, dim, index, self._src(src, index), ops.index(reduce), builtins.bool(include_self))

    def index_add(self, dim, index, source, alpha=1):
        return _C.index_add(self, dim, index, source.cast(self.dtype), float(alpha))

    def masked_fill(self, mask, value):
        if isinstance(value, Tensor):
            return where(mask, value.cast(self.dtype), self)
        return _C.masked_fill(self, mask, float(value))

    def unfold(self, dim, size, step):
        """Windows of `size` every `step` along dim, as a new last axis (torch.Tensor.unfold)."""
        return _C.unfold(self, dim, size, step)

    def interpolate(self, size=None, mode="linear", align_corners=False, scale_factor=None):
        """Resize the spatial dims (all but the first two) to size, or by
        scale_factor (tg_interpolate). mode "nearest", or "linear"/"bilinear"/
        "trilinear" (one linear mode over every spatial dim)."""
        k = self.ndim - 2
        if mode not in ("nearest", "linear", "bilinear", "trilinear"):
            raise ValueError("interpolate: mode must be nearest, linear, bilinear or trilinear, not %r" % (mode,))
        if size is not None:
            size = (size,) * k if isinstance(size, int) else tuple(size)
            if len(size) == self.ndim and size[:2] == self.shape[:2]:
                size = size[2:]  # tinygrad gives the whole shape
            scale_factor = None
        elif scale_factor is not None:
            scale_factor = tuple(float(f) for f in ((scale_factor,) * k if isinstance(scale_factor, (int, float))
                                                    else scale_factor))
        else:
            raise ValueError("interpolate: give size or scale_factor")
        return _C.interpolate(self, size, scale_factor, mode != "nearest", builtins.bool(align_corners))

    def __getitem__(self, idx):
        return _getitem(self, idx)

    # --- compositions
    def matmul(self, x, reverse=False, dtype=None):
        a, b = (x, self) if reverse else (self, x)
        out = a @ b if isinstance(a, Tensor) else b.__rmatmul__(a)
        return out if dtype is None else out.cast(dtype)

    def dot(self, w, dtype=None):
        return self.matmul(w, dtype=dtype)

    def linear(self, weight, bias=None):
        return _C.linear(self, weight, bias)

    def conv2d(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        """torch.nn.functional.conv2d (keywords as tinygrad's); padding an int,
        (ph, pw), or tinygrad's (left, right, top, bottom). A 3-d or 5-d weight
        makes it conv1d / conv3d (as tinygrad's conv2d, which takes any)."""
        if weight.ndim != 4:
            return self._convnd(weight, bias, stride, padding, dilation, groups, 0, False)
        x, padding = self._conv_padding(padding)
        return _C.conv2d(x, weight, bias, _pair(stride), padding, _pair(dilation), groups, (0, 0), False)

    def _conv_padding(self, padding):
        """(input, (ph, pw)): an uneven 4-number padding is applied to the input."""
        if isinstance(padding, int) or len(padding) == 2:
            return self, _pair(padding)
        left, right, top, bottom = padding
        if left == right and top == bottom:
            return self, (top, left)
        return self.pad((left, right, top, bottom)), (0, 0)

    def _convnd(self, weight, bias, stride, padding, dilation, groups, output_padding, transposed):
        k = weight.ndim - 2
        if k not in (1, 3):
            raise ValueError("conv: weight must be 3-d, 4-d or 5-d, not %d-d" % weight.ndim)
        t = lambda v: (v,) * k if isinstance(v, int) else tuple(v)
        return _C.convnd(self, weight, bias, t(stride), t(padding), t(dilation), groups, t(output_padding), transposed)

    def conv1d(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return self._convnd(weight, bias, stride, padding, dilation, groups, 0, False)

    def conv3d(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return self._convnd(weight, bias, stride, padding, dilation, groups, 0, False)

    def conv_transpose1d(self, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        return self._convnd(weight, bias, stride, padding, dilation, groups, output_padding, True)

    def conv_transpose3d(self, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        return self._convnd(weight, bias, stride, padding, dilation, groups, output_padding, True)

    def conv_transpose2d(self, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        if weight.ndim != 4:
            return self._convnd(weight, bias, stride, padding, dilation, groups, output_padding, True)
        return _C.conv2d(self, weight, bias, _pair(stride), _pair(padding), _pair(dilation), groups,
                         _pair(output_padding), True)

    def _pool(self, avg, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad=True):
        """Pooling over the dims after (N, C): 1 to 3 of them (tg_max_pool, tg_avg_pool)."""
        t = lambda v: (v,) * (self.ndim - 2) if isinstance(v, int) else tuple(v)
        k = t(kernel_size)
        return _C.pool(self, k, t(stride or k), t(padding), t(dilation), builtins.bool(ceil_mode),
                       not count_include_pad, avg)

    def max_pool2d(self, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        if return_indices:
            raise NotImplementedError("max_pool2d: return_indices is not supported")
        return self._pool(False, kernel_size, stride, padding, dilation, ceil_mode)

    def avg_pool2d(self, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False, count_include_pad=True):
        return self._pool(True, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad)

    max_pool1d = max_pool3d = max_pool2d
    avg_pool1d = avg_pool3d = avg_pool2d

    def _adaptive(self, output_size, is_max):
        k = self.ndim - 2
        size = (output_size,) * k if isinstance(output_size, int) else tuple(output_size)
        size = tuple(self.shape[2 + i] if s is None else s for i, s in enumerate(size))
        return _C.adaptive_pool(self, size, is_max)

    def adaptive_avg_pool2d(self, output_size):
        """torch's adaptive pools, over 1 to 3 dims after (N, C) (the 1d/3d names are the same)."""
        return self._adaptive(output_size, False)

    def adaptive_max_pool2d(self, output_size):
        return self._adaptive(output_size, True)

    adaptive_avg_pool1d = adaptive_avg_pool3d = adaptive_avg_pool2d
    adaptive_max_pool1d = adaptive_max_pool3d = adaptive_max_pool2d

    def max_unpool2d(self, indices, kernel_size=2, stride=None, dilation=1, padding=0, output_size=None):
        """Each value put back at its index (flat over the output's last two dims) in
        zeros of the pooled-from size (or output_size). A composition: memory is
        (input size) x (output plane size)."""
        k, d, p = _pair(kernel_size), _pair(dilation), _pair(padding)
        s = _pair(stride or k)
        *lead, h, w = self.shape
        if output_size is None:
            oh, ow = [(n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i, n in enumerate((h, w))]
        else:
            oh, ow = output_size[-2:]
        hot = indices.reshape(*lead, h * w, 1) == arange(oh * ow, dtype=indices.dtype, device=self.device)
        x = self.reshape(*lead, h * w, 1)
        return where(hot, x, x.zeros_like()).sum(-2).reshape(*lead, oh, ow)

    def cross_entropy(self, Y, reduction="mean", label_smoothing=0.0):
        """self: logits (..., C); Y: class ids (...) or probabilities (..., C)."""
        if Y.dtype.is_float and Y.shape == self.shape:  # probabilities
            if label_smoothing:
                Y = Y * (1 - label_smoothing) + label_smoothing / self.shape[-1]
            return _reduce_loss(-(self.log_softmax(-1) * Y).sum(-1), reduction)
        if reduction == "mean" and self.ndim == 2:
            return _C.cross_entropy(self, Y, float(label_smoothing))
        return self.sparse_categorical_crossentropy(Y, -1, label_smoothing, reduction)

    def sparse_categorical_crossentropy(self, Y, ignore_index=-1, label_smoothing=0.0, reduction="mean"):
        """Mean (sum, none) over the targets that are not ignore_index (tg_cross_entropy[_ex])."""
        if self.ndim == 1:
            return self.unsqueeze(0).sparse_categorical_crossentropy(Y.reshape(1), ignore_index, label_smoothing,
                                                                     reduction).reshape(())
        if reduction == "mean":
            return _C.cross_entropy_ex(self, Y, float(label_smoothing), ignore_index)
        keep = Y != ignore_index
        logp = self.log_softmax(-1)
        loss = -logp.gather(-1, where(keep, Y, 0).cast(Y.dtype).unsqueeze(-1)).squeeze(-1)
        if label_smoothing:
            loss = loss * (1 - label_smoothing) - logp.mean(-1) * label_smoothing
        return _reduce_loss(where(keep, loss, loss.zeros_like()), reduction)

    def nll_loss(self, Y, weight=None, ignore_index=None, reduction="mean"):
        """self: log-probabilities (N, C, ...); Y: class ids (N, ...)."""
        if weight is None and ignore_index is None and reduction == "mean" and self.ndim == 2:
            return _C.nll(self, Y)
        keep = (Y != ignore_index) if ignore_index is not None else full(Y.shape, True, "bool", self.device)
        safe = where(keep, Y, 0).cast(Y.dtype)
        w = weight[safe] if weight is not None else full(Y.shape, 1.0, self.dtype, self.device)
        w = where(keep, w, w.zeros_like())
        loss = -self.gather(1, safe.unsqueeze(1)).squeeze(1) * w
        return loss.sum() / w.sum() if reduction == "mean" else _reduce_loss(loss, reduction)

    def binary_crossentropy(self, Y, reduction="mean"):
        """self: probabilities; log clamped at -100 (as torch)."""
        loss = -(Y * self.log().maximum(-100.0) + (1 - Y) * (1 - self).log().maximum(-100.0))
        return _reduce_loss(loss, reduction)

    def binary_crossentropy_logits(self, Y, reduction="mean", pos_weight=None):
        pos = Y if pos_weight is None else Y * pos_weight
        return _reduce_loss(-(pos * self.logsigmoid() + (1 - Y) * (-self).logsigmoid()), reduction)

    def mse(self, other):
        return _C.mse(self, self._operand(other))

    def layernorm(self, axis=-1, eps=1e-5, weight=None, bias=None):
        n = 1 if isinstance(axis, int) else len(axis)
        return _C.layernorm(self, n, weight, bias, eps)

    def batchnorm(self, weight, bias, mean, invstd, axis=1):
        """(self - mean) * weight * invstd + bias, the statistics given along axis (tinygrad's)."""
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        axes = tuple(a % self.ndim for a in axes)
        shape = tuple(s if d in axes else 1 for d, s in enumerate(self.shape))
        x = self - mean.reshape(shape)
        if weight is not None:
            x = x * weight.reshape(shape)
        x = x * (invstd.reshape(shape) if invstd.ndim == len(axes) else invstd)
        return x + bias.reshape(shape) if bias is not None else x

    def dropout(self, p=0.5):
        return _C.dropout(self, float(p), _next_seed())

    def scaled_dot_product_attention(self, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                     enable_gqa=False):
        """softmax(q k^T / sqrt(d) + mask) v (tg_sdpa); attn_mask bool (true = keep) or added to the scores."""
        if enable_gqa and key.shape[-3] != self.shape[-3]:
            key = key.repeat_interleave(self.shape[-3] // key.shape[-3], -3)
            value = value.repeat_interleave(self.shape[-3] // value.shape[-3], -3)
        if (attn_mask is None or attn_mask.dtype.name == "bool") and not dropout_p:
            return _C.sdpa(self, key, value, attn_mask, is_causal)
        scores = (self @ key.transpose(-2, -1)) * (1.0 / math.sqrt(self.shape[-1]))
        if is_causal:
            n, m = scores.shape[-2:]
            scores = where(full((n, m), True, "bool", self.device).tril(), scores, float("-inf"))
        if attn_mask is not None:
            scores = where(attn_mask, scores, float("-inf")) if attn_mask.dtype.name == "bool" else scores + attn_mask
        return scores.softmax(-1).dropout(dropout_p) @ value

    def newton_schulz(self, steps, params, eps=1e-7):
        """steps of X <- p0 X + p1 (X X^T) X + p2 (X X^T)^2 X + ... on the last two
        dims, X first scaled by its Frobenius norm (+ eps); tall inputs are
        transposed and back."""
        tall = self.shape[-2] > self.shape[-1]
        x = self.transpose(-2, -1) if tall else self
        x = x / (x.square().sum((-2, -1), keepdim=True).sqrt() + eps)
        for _ in range(steps):
            a, term = x @ x.transpose(-2, -1), x
            out = x * params[0]
            for p in params[1:]:
                term = a @ term
                out = out + term * p
            x = out
        return x.transpose(-2, -1) if tall else x

    def zeros_like(self, dtype=None, device=None):
        return _C.zeros_like(self) if dtype is None and device is None else \
            zeros(self.shape, dtype=dtype or self.dtype, device=device or self.device)

    def ones_like(self, dtype=None, device=None):
        return _C.ones_like(self) if dtype is None and device is None else \
            ones(self.shape, dtype=dtype or self.dtype, device=device or self.device)

    def full_like(self, fill_value, dtype=None, device=None):
        if dtype is None and device is None and self.dtype.is_float:
            return _C.full_like(self, float(fill_value))
        return full(self.shape, fill_value, dtype or self.dtype, device or self.device)

    def empty_like(self, dtype=None, device=None):
        """tg has no uninitialised memory: zeros."""
        return self.zeros_like(dtype, device)

    def rand_like(self, dtype=None, device=None):
        return rand(*self.shape, dtype=dtype or self.dtype, device=device or self.device)

    def randn_like(self, dtype=None, device=None):
        return randn(*self.shape, dtype=dtype or self.dtype, device=device or self.device)


_C.set_tensor_class(Tensor)  # tg._C's ops make tg.Tensors from here on


def _make_unary(name):
    fn = getattr(_C, name)

    def op(self):
        return fn(self)
    op.__name__ = name
    op.__doc__ = "elementwise %s (tg_%s)" % (name, name)
    return op


for _name in ("abs", "sign", "reciprocal", "exp", "log", "exp2", "log2", "sqrt", "rsqrt", "square", "sin",
              "cos", "tan", "tanh", "sigmoid", "relu", "silu", "erf", "floor", "ceil", "round", "trunc", "frac",
              "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "isnan", "isfinite", "selu",
              "relu6", "hardswish", "mish", "softsign", "logsigmoid", "quick_gelu"):
    setattr(Tensor, _name, _make_unary(_name))


# memoryview/struct formats of the dtypes that have one
_FORMATS = {"bool": "?", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i", "uint32": "I",
            "int64": "q", "uint64": "Q", "float32": "f", "float64": "d"}


def _broadcast_shape(a, b):
    """numpy's broadcast of two shapes."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError("shapes %s and %s do not broadcast" % (a, b))
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def _reduce_loss(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError("reduction must be 'mean', 'sum' or 'none', not %r" % (reduction,))


def _rearrange_groups(side):
    """"b (h w) c" -> [["b"], ["h", "w"], ["c"]]"""
    groups, open_ = [], None
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            open_ = []
        elif tok == ")":
            groups.append(open_)
            open_ = None
        elif open_ is not None:
            open_.append(tok)
        else:
            groups.append([tok])
    return groups


def _is_numpy(x):
    return type(x).__module__ == "numpy"


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _nested_shape(data):
    shape = []
    while isinstance(data, (list, tuple)):
        shape.append(len(data))
        data = data[0] if len(data) else None
    return tuple(shape)


def _from_host(data, dtype, dev):
    """A tensor from a number, nested lists, a numpy array or a buffer (one copy)."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        if not _is_numpy(data) or isinstance(data, np.generic):
            arr = np.asarray(data)
            if dtype is None and arr.dtype.kind == "f":
                arr = arr.astype(np.float32)  # Python floats give float32
            elif dtype is None and arr.dtype.kind in "iu" and not _is_numpy(data):
                arr = arr.astype(np.int32)
        else:
            arr = data
        if dtype is not None and dtype.name != "bfloat16":
            arr = arr.astype(dtype.name, copy=False)
        if dtype is not None and dtype.name == "bfloat16":
            return _C.cast(_from_host(arr.astype(np.float32), None, dev), dtype.id)
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        return _C.from_buffer(dev._h, _dtype(arr.dtype).id, arr.shape, arr)
    # without numpy: numbers and nested lists through float64
    import array
    shape = _nested_shape(data)
    flat = data
    for _ in shape:
        flat = [v for row in flat for v in (row if isinstance(row, (list, tuple)) else [row])] \
            if isinstance(flat, (list, tuple)) else flat
    flat = flat if isinstance(flat, list) else [flat]
    t = _C.from_buffer(dev._h, _BY_NAME["float64"].id, shape, array.array("d", [float(v) for v in flat]))
    if dtype is None:
        dtype = default_float if any(isinstance(v, float) for v in flat) else \
            _BY_NAME["bool"] if flat and all(isinstance(v, builtins.bool) for v in flat) else default_int
    return _C.cast(t, dtype.id)


def _getitem(x, idx):
    """Basic indexing (ints, slices, None, ...) and one integer tensor (or list)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    nfixed = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in idx):
        e = [j for j, i in enumerate(idx) if i is Ellipsis][0]
        idx = idx[:e] + (slice(None),) * (x.ndim - nfixed) + idx[e + 1:]
    if nfixed > x.ndim:
        raise IndexError("too many indices for a %d-d tensor" % x.ndim)
    out, d, squeeze, tensor_axis, tensor_idx = x, 0, [], None, None
    for i in idx:
        if i is None:
            out = out.unsqueeze(d)
            d += 1
        elif isinstance(i, slice):
            start, stop, step = i.start, i.stop, i.step or 1
            n = out.shape[d]
            if start is None:
                start = 0 if step > 0 else n - 1
            if stop is None:
                stop = n if step > 0 else -n - 1
            out = _C.slice(out, d, start, stop, step)
            d += 1
        elif isinstance(i, (Tensor, list)) or (_is_numpy(i) and i.ndim > 0):
            if tensor_idx is not None:
                raise NotImplementedError("tg: only one tensor index per subscript")
            tensor_axis, tensor_idx = d, i if isinstance(i, Tensor) else Tensor(i, dtype="int32", device=x.device)
            d += 1
        else:
            n = out.shape[d]
            k = int(i)
            if not -n <= k < n:
                raise IndexError("index %d is out of range for axis %d of size %d" % (k, d, n))
            k %= n
            out = _C.slice(out, d, k, k + 1, 1)
            squeeze.append(d)
            d += 1
    if squeeze:
        out = out.reshape(tuple(s for j, s in enumerate(out.shape) if j not in squeeze))
        if tensor_axis is not None:
            tensor_axis -= sum(1 for j in squeeze if j < tensor_axis)
    if tensor_idx is not None:
        out = _take(out, tensor_axis, tensor_idx)
    return out


_OPEN_LO, _OPEN_HI = -(1 << 63), (1 << 63) - 1  # tg_setitem's open ends


def _setitem(x, idx, value):
    """x with x[idx] replaced by value (tg_setitem): ints, slices (with steps), None
    and ...; or a bool mask shaped as x (where)."""
    if isinstance(idx, Tensor) and idx.dtype.name == "bool":
        v = value.cast(x.dtype) if isinstance(value, Tensor) else full((), value, x.dtype, x.device)
        return where(idx, v, x)
    if not isinstance(idx, tuple):
        idx = (idx,)
    idx = tuple(i for i in idx if i is not None)
    if any(i is Ellipsis for i in idx):
        e = idx.index(Ellipsis)
        idx = idx[:e] + (slice(None),) * (x.ndim - len(idx) + 1) + idx[e + 1:]
    if len(idx) > x.ndim:
        raise IndexError("too many indices for a %d-d tensor" % x.ndim)
    starts, stops, steps, region, picked = [], [], [], [], []
    for d, i in enumerate(idx):
        n = x.shape[d]
        if isinstance(i, slice):
            step = 1 if i.step is None else int(i.step)
            if step == 0:
                raise ValueError("setitem: slice step cannot be zero")
            lo, hi = (_OPEN_LO, _OPEN_HI) if step > 0 else (_OPEN_HI, _OPEN_LO)
            starts.append(lo if i.start is None else int(i.start))
            stops.append(hi if i.stop is None else int(i.stop))
            steps.append(step)
            region.append(len(range(n)[i]))
            picked.append(region[-1])
        elif isinstance(i, (Tensor, list)) or _is_numpy(i):
            raise NotImplementedError("setitem: tensor indices are not supported (use scatter or masked_fill)")
        else:
            k = int(i)
            if not -n <= k < n:
                raise IndexError("index %d is out of range for axis %d of size %d" % (k, d, n))
            k %= n
            starts.append(k), stops.append(k + 1), steps.append(1), region.append(1)
    rest = x.shape[len(idx):]
    v = value.cast(x.dtype) if isinstance(value, Tensor) else full((), value, x.dtype, x.device)
    v = v.expand(tuple(picked) + rest).reshape(tuple(region) + rest)
    return _C.setitem(x, starts, stops, steps, v)


def _take(x, axis, idx):
    """x indexed by an integer tensor along axis (numpy's take): the index's
    dims replace the axis. Negative indices count from the end."""
    n = x.shape[axis]
    if not idx.dtype.is_float and idx.dtype.name != "bool":
        idx = where(idx < 0, idx + n, idx)
    moved = x.permute(axis, *[d for d in range(x.ndim) if d != axis])
    rest = moved.shape[1:]
    rows = _C.embedding(moved.reshape(n, -1), idx)  # idx.shape + (prod(rest),)
    out = rows.reshape(idx.shape + rest)
    k = idx.ndim  # move the index dims to where the axis was
    order = list(range(k, k + axis)) + list(range(k)) + list(range(k + axis, out.ndim))
    return out.permute(*order)


# --------------------------------------------------------------- creation

def _dev(device):
    return Device(device) if device is not None else default_device()


def full(shape, value, dtype=None, device=None):
    dtype = _dtype(dtype) or (default_float if isinstance(value, float) else
                              _BY_NAME["bool"] if isinstance(value, builtins.bool) else default_int)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if isinstance(value, int) and not dtype.is_float:  # exact past 2^53
        return _C.full_scalar(_dev(device)._h, dtype.id, shape, value)
    return _C.full(_dev(device)._h, dtype.id, shape, float(value))


def zeros(*shape, dtype=None, device=None):
    return full(_shape_args(shape), 0.0, dtype or default_float, device)


def ones(*shape, dtype=None, device=None):
    return full(_shape_args(shape), 1.0, dtype or default_float, device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = default_float if any(isinstance(v, float) for v in (start, stop, step)) else default_int
    return _C.arange(_dev(device)._h, _dtype(dtype).id, start, stop, step)


def eye(n, m=None, dtype=None, device=None):
    out = _C.eye(_dev(device)._h, (_dtype(dtype) or default_float).id, n if m is None else max(n, m))
    return out if m is None or m == n else out.shrink(((0, n), (0, m)))


def empty(*shape, dtype=None, device=None):
    """tg has no uninitialised memory: zeros."""
    return zeros(*shape, dtype=dtype, device=device)


def linspace(start, stop, steps, dtype=None, device=None):
    dtype = _dtype(dtype) or default_float
    if steps == 1:
        return full((1,), start, dtype, device)
    step = (stop - start) / (steps - 1)
    return (arange(steps, dtype="float32", device=device) * step + start).cast(dtype)


def variable(value, dtype=None, device=None):
    """A 0-d tensor whose value can change (Tensor.variable_set) without
    compiling anything new: kernels read it at launch (tg_variable)."""
    dtype = _dtype(dtype) or (default_float if isinstance(value, float) else default_int)
    return _C.variable(_dev(device)._h, dtype.id, float(value))


def uniform(*shape, low=0.0, high=1.0, dtype=None, device=None, seed=None):
    return _C.random(_dev(device)._h, (_dtype(dtype) or default_float).id, _shape_args(shape),
                     _next_seed() if seed is None else seed, 0, low, high)


def rand(*shape, dtype=None, device=None, seed=None):
    return uniform(*shape, dtype=dtype, device=device, seed=seed)


def randn(*shape, dtype=None, device=None, seed=None):
    return _C.random(_dev(device)._h, (_dtype(dtype) or default_float).id, _shape_args(shape),
                     _next_seed() if seed is None else seed, 1, 0.0, 0.0)


def normal(*shape, mean=0.0, std=1.0, dtype=None, device=None, seed=None):
    return randn(*shape, dtype=dtype, device=device, seed=seed) * std + mean


def randint(*shape, low=0, high=10, dtype=None, device=None, seed=None):
    """Integers uniform in [low, high)."""
    x = uniform(*shape, low=low, high=high, dtype="float32", device=device, seed=seed)
    return x.floor().clamp(low, high - 1).cast(_dtype(dtype) or default_int)


def _fan_in(shape):
    return math.prod(shape[1:])


def glorot_uniform(*shape, **kwargs):
    shape = _shape_args(shape)
    bound = math.sqrt(6 / (shape[0] + _fan_in(shape)))
    return uniform(*shape, low=-bound, high=bound, **kwargs)


def kaiming_uniform(*shape, a=0.01, **kwargs):
    shape = _shape_args(shape)
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + a ** 2)) / math.sqrt(_fan_in(shape))
    return uniform(*shape, low=-bound, high=bound, **kwargs)


def kaiming_normal(*shape, a=0.01, **kwargs):
    shape = _shape_args(shape)
    return normal(*shape, std=math.sqrt(2.0 / (1 + a ** 2)) / math.sqrt(_fan_in(shape)), **kwargs)


def scaled_uniform(*shape, **kwargs):
    shape = _shape_args(shape)
    return uniform(*shape, low=-1.0, high=1.0, **kwargs) * (math.prod(shape) ** -0.5)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-d tensors ("ij": matrix indexing, "xy": the first two swapped)."""
    if indexing not in ("ij", "xy"):
        raise ValueError("meshgrid: indexing must be 'ij' or 'xy', not %r" % (indexing,))
    sizes = [t.numel() for t in tensors]
    if indexing == "xy" and len(sizes) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(tensors):
        at = (1 - i if i < 2 else i) if indexing == "xy" and len(sizes) > 1 else i
        shape = [1] * len(sizes)
        shape[at] = sizes[at]
        out.append(t.reshape(shape).expand(sizes))
    return tuple(out)


def cat(tensors, dim=0):
    return _C.cat(tensors, dim)


def stack(tensors, dim=0):
    return _C.stack(tensors, dim)


def where(cond, a, b):
    """cond ? a : b (broadcast); a or b may be Python numbers."""
    if not isinstance(cond, Tensor):
        raise TypeError("where: the condition must be a tg.Tensor")
    ref = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if ref is None:
        ref = Tensor(a, device=cond.device)
    a, b = ref._operand(a), ref._operand(b)
    dt = _promote(a.dtype, b.dtype)
    return _C.where(cond.cast("bool"), a.cast(dt), b.cast(dt))


def from_dlpack(x, device=None):
    """A tg tensor from anything with __dlpack__ (numpy, torch, JAX, a tg
    Tensor) or a DLPack capsule. Zero-copy for tg's own exports on the same
    device; other memory (host memory only) is copied once (tg/dlpack.h)."""
    if device is None and isinstance(x, Tensor):
        device = x.device
    dev = _dev(device)
    cap = x.__dlpack__() if hasattr(x, "__dlpack__") else x
    return Tensor._wrap(_C.from_dlpack(dev._h, cap))


def randperm(n, device=None, dtype=None, seed=None):
    """A random permutation of 0..n-1 (tg_randperm; int32, or dtype), seeded as rand."""
    out = _C.randperm(_dev(device)._h, n, _next_seed() if seed is None else seed)
    return out if dtype is None else out.cast(dtype)


def einsum(formula, *operands, dtype=None):
    """Einstein summation (tg_einsum): "ij,jk->ik", "bij,bjk", "ii->i", "ii".
    operands may also come as one list, as tinygrad allows."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    out = _C.einsum(formula.replace(" ", ""), list(operands))
    return out if dtype is None else out.cast(dtype)


def grad(outputs, inputs, grad_outputs=None):
    """torch.autograd.grad: [sum over o of d(o)/d(i) . grad_outputs[o] for i in inputs]
    (tg_grad; the default seeds are ones). No .grad changes; results may be
    differentiated again."""
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    seeds = [g if g is None or isinstance(g, Tensor) else Tensor(g, dtype=o.dtype, device=o.device)
             for o, g in zip(outputs, grad_outputs)]
    return tuple(_C.grad_of(outputs, seeds, inputs))


def im2col(x, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.unfold of x (N, C, H, W): (N, C*kh*kw, L) (tg_im2col)."""
    return _C.im2col(x, _pair(kernel_size), _pair(stride), _pair(padding), _pair(dilation))


# tinygrad's creation functions are Tensor's static methods too (Tensor.zeros(2, 3), Tensor.arange(5), ...)
for _f in (zeros, ones, full, arange, eye, empty, linspace, rand, randn, uniform, normal, randint, glorot_uniform,
           kaiming_uniform, kaiming_normal, scaled_uniform, manual_seed, randperm, einsum):
    setattr(Tensor, _f.__name__, staticmethod(_f))


def realize(*tensors):
    """Realize several tensors in one schedule."""
    _C.realize(*tensors)


def stats():
    """tg's counters: live tensors/buffers/bytes, kernels launched, ..."""
    return _C.stats()


# ------------------------------------------------------- the tg command

def _tg_command():
    """The tg CLI: $TG_CLI, else the build tree the package was built
    against, else `tg` on PATH."""
    for path in (os.environ.get("TG_CLI"), os.path.join(_C.build_dir, "cli", "tg") if _C.build_dir else None,
                 shutil.which("tg")):
        if path and os.access(path, os.X_OK):
            return path
    raise Error("tg: the tg command is not found (set TG_CLI, or put tg on PATH)")


def _run_json(args, timeout):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        proc = subprocess.run([_tg_command()] + args + ["--json", out], capture_output=True, text=True,
                              timeout=timeout)
        if not os.path.exists(out):
            raise Error("tg %s failed (exit %d): %s" % (args[0], proc.returncode, proc.stderr.strip()[-2000:]))
        with open(out) as f:
            return proc.returncode, json.load(f)


def conform(plugin="ref", filters=(), jobs=None, timeout=None):
    """Certify a plugin against ref (`tg conform`); returns the JSON
    certificate as a dict (its verdicts per case; "passed" says whether
    every case passed). filters: globs of case names."""
    args = ["conform", "--plugin", plugin, "--tap", os.devnull]
    for f in filters:
        args += ["--filter", f]
    if jobs:
        args += ["--jobs", str(jobs)]
    rc, cert = _run_json(args, timeout)
    if isinstance(cert, dict):
        cert.setdefault("passed", rc == 0)
    return cert


def bench(plugin="ref", quick=True, filter=None, suites=None, timeout=None):
    """Run `tg bench` on a plugin; returns Google Benchmark's JSON as a dict."""
    args = ["bench", "--plugin", plugin] + (["--quick"] if quick else [])
    if filter:
        args += ["--filter", filter]
    if suites:
        args += ["--suite", ",".join(suites)]
    return _run_json(args, timeout)[1]
