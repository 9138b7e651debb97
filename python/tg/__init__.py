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
import json
import os
import shutil
import subprocess
import tempfile
import threading

from . import _C
from ._C import Error

__all__ = ["Tensor", "Device", "DType", "Error", "devices", "from_dlpack", "no_grad", "manual_seed",
           "zeros", "ones", "full", "arange", "eye", "rand", "randn", "uniform", "cat", "stack", "where",
           "conform", "bench", "stats"]


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


class Tensor:
    """A lazy tg tensor. Tensor(data, dtype=None, device=None, requires_grad=False):
    data is a nested list, a number, a numpy array, a buffer, or anything with
    __dlpack__; Python floats give float32, ints int32 (as tinygrad)."""
    __slots__ = ("_t", "__weakref__")
    __array_ufunc__ = None  # numpy defers to Tensor's operators: ndarray + Tensor is a Tensor

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        dev = Device(device) if device is not None else default_device()
        dtype = _dtype(dtype)
        if isinstance(data, Tensor):
            t = data.to(dev)._t
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
        self._t = t
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(t):
        out = Tensor.__new__(Tensor)
        out._t = t
        return out

    # --- inspection
    @property
    def shape(self):
        return _C.shape(self._t)

    @property
    def dtype(self):
        return DTYPES[_C.dtype(self._t)]

    @property
    def device(self):
        return Device(_C.device_name(self._t))

    @property
    def ndim(self):
        return len(self.shape)

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

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
                                                                 _C.device_name(self._t))

    __hash__ = object.__hash__

    # --- realize, host
    def realize(self):
        """Compute now (and return self)."""
        _C.realize(self._t)
        return self

    def item(self):
        """The one element as a Python number (integers exactly, not through a double)."""
        if self.dtype.is_float:
            return _C.item(self._t)
        if self.numel() != 1:
            _C.item(self._t)  # raises tg's error naming the element count
        return memoryview(self.tobytes()).cast(_FORMATS[self.dtype.name])[0]

    def tobytes(self):
        return _C.to_bytes(self._t)

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
        raise TypeError("tg tensors are immutable: build the new value (tg.where, .pad, tg.cat) and .assign it")

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
            t = Tensor._wrap(_C.to_device(t._t, Device(device)._h))
        if dtype is not None:
            t = t.cast(dtype)
        return t

    def cast(self, dtype):
        dtype = _dtype(dtype)
        return self if dtype is self.dtype else Tensor._wrap(_C.cast(self._t, dtype.id))

    def float(self):
        return self.cast("float32")

    def half(self):
        return self.cast("float16")

    def int(self):
        return self.cast("int32")

    def long(self):
        return self.cast("int64")

    def bool(self):
        return self.cast("bool")

    def contiguous(self):
        return Tensor._wrap(_C.contiguous(self._t))

    def detach(self):
        return Tensor._wrap(_C.detach(self._t))

    def clone(self):
        return self.contiguous()

    # --- autograd
    @property
    def requires_grad(self):
        return _C.requires_grad(self._t)

    @requires_grad.setter
    def requires_grad(self, on):
        _C.set_requires_grad(self._t, builtins.bool(on))

    def requires_grad_(self, on=True):
        self.requires_grad = on
        return self

    @property
    def grad(self):
        g = _C.grad(self._t)
        return None if g is None else Tensor._wrap(g)

    @grad.setter
    def grad(self, value):
        if value is not None:
            raise ValueError("tg: a gradient can only be cleared (set to None)")
        _C.zero_grad(self._t)

    def backward(self):
        """Accumulate d(self)/dx into x.grad for every x that requires grad
        (the seed gradient is ones, for any shape)."""
        _C.backward(self._t)

    def assign(self, other):
        """Make self hold other's values (same shape, dtype and device); self
        keeps its identity and requires_grad."""
        _C.assign(self._t, self._operand(other)._t)
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
                return Tensor._wrap(getattr(_C, scalar)(x._t, float(other)))
            other = full((), other, x.dtype, x.device)
        elif not isinstance(other, (Tensor, list, tuple)) and not _is_numpy(other) and \
                not hasattr(other, "__dlpack__"):
            return NotImplemented
        elif not isinstance(other, Tensor):
            other = Tensor(other, device=x.device)
        a, b = (other, x) if reverse else (x, other)
        dt = _promote(a.dtype, b.dtype)
        return Tensor._wrap(getattr(_C, op)(a.cast(dt)._t, b.cast(dt)._t))

    def _float_operands(self, other, reverse):
        """true division: integer operands go to float32 first."""
        x = self if self.dtype.is_float else self.cast(default_float)
        if isinstance(other, Tensor) and not other.dtype.is_float:
            other = other.cast(default_float)
        return x, other

    def __add__(self, o): return self._binary("add", o, scalar="adds")
    def __radd__(self, o): return self._binary("add", o, True)
    def __sub__(self, o): return self._binary("sub", o, scalar="subs")
    def __rsub__(self, o): return self._binary("sub", o, True)
    def __mul__(self, o): return self._binary("mul", o, scalar="muls")
    def __rmul__(self, o): return self._binary("mul", o, True)
    def __pow__(self, o): return self._binary("pow", o, scalar="pows")
    def __rpow__(self, o): return self._binary("pow", o, True)
    def __matmul__(self, o): return self._binary("matmul", o)
    def __rmatmul__(self, o): return self._binary("matmul", o, True)
    def __lt__(self, o): return self._binary("lt", o)
    def __gt__(self, o): return self._binary("gt", o)
    def __le__(self, o): return self._binary("le", o)
    def __ge__(self, o): return self._binary("ge", o)
    def __eq__(self, o): return self._binary("eq", o)  # noqa: elementwise, as torch
    def __ne__(self, o): return self._binary("ne", o)
    def __and__(self, o): return self._binary("logical_and", o)
    def __or__(self, o): return self._binary("logical_or", o)
    def __xor__(self, o): return self._binary("logical_xor", o)
    def __invert__(self): return Tensor._wrap(_C.logical_not(self._t))
    def __neg__(self): return Tensor._wrap(_C.neg(self._t))
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

    def floor(self):
        t = self.cast("int64").cast(self.dtype) if self.dtype.is_float else self
        return where(t > self, t - 1, t) if self.dtype.is_float else t

    def ceil(self):
        return -((-self).floor())

    def maximum(self, o): return self._binary("maximum", o, scalar="maximums")
    def minimum(self, o): return self._binary("minimum", o, scalar="minimums")

    def clamp(self, min=None, max=None):
        x = self
        if min is not None:
            x = x.maximum(min)
        if max is not None:
            x = x.minimum(max)
        return x

    clip = clamp

    def where(self, a, b):
        return where(self, a, b)

    def leaky_relu(self, slope=0.01):
        return Tensor._wrap(_C.leaky_relu(self._t, float(slope)))

    def logical_not(self):
        return ~self

    # --- reductions
    def _reduce(self, op, axis, keepdim):
        return Tensor._wrap(getattr(_C, op)(self._t, _axes(axis, self.ndim), keepdim))

    def sum(self, axis=None, keepdim=False, dim=None):
        return self._reduce("sum", dim if axis is None else axis, keepdim)

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
        return Tensor._wrap(_C.var(self._t, _axes(dim if axis is None else axis, self.ndim), keepdim, correction, False))

    def std(self, axis=None, keepdim=False, correction=1, dim=None):
        return Tensor._wrap(_C.var(self._t, _axes(dim if axis is None else axis, self.ndim), keepdim, correction, True))

    def argmax(self, axis=None, keepdim=False, dim=None):
        axis = dim if axis is None else axis
        if axis is None:
            return Tensor._wrap(_C.argmax(self.reshape(-1)._t, 0, False, False))
        return Tensor._wrap(_C.argmax(self._t, axis, keepdim, False))

    def argmin(self, axis=None, keepdim=False, dim=None):
        axis = dim if axis is None else axis
        if axis is None:
            return Tensor._wrap(_C.argmax(self.reshape(-1)._t, 0, False, True))
        return Tensor._wrap(_C.argmax(self._t, axis, keepdim, True))

    def softmax(self, axis=-1, dim=None):
        return Tensor._wrap(_C.softmax(self._t, axis if dim is None else dim))

    def log_softmax(self, axis=-1, dim=None):
        return Tensor._wrap(_C.log_softmax(self._t, axis if dim is None else dim))

    # --- movement
    def reshape(self, *shape):
        return Tensor._wrap(_C.reshape(self._t, _shape_args(shape)))

    view = reshape

    def permute(self, *dims):
        return Tensor._wrap(_C.permute(self._t, _shape_args(dims)))

    def expand(self, *shape):
        shape = _shape_args(shape)
        lead = len(shape) - self.ndim  # torch: -1 keeps the size
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
        return Tensor._wrap(_C.expand(self._t, shape))

    def transpose(self, dim0=-2, dim1=-1):
        return Tensor._wrap(_C.transpose(self._t, dim0, dim1))

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        return Tensor._wrap(_C.flatten(self._t, start_dim, end_dim))

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        return Tensor._wrap(_C.squeeze(self._t, dim))

    def unsqueeze(self, dim):
        return Tensor._wrap(_C.unsqueeze(self._t, dim))

    def flip(self, axis):
        return Tensor._wrap(_C.flip(self._t, _axes(axis, self.ndim)))

    def pad(self, padding, value=0.0):
        """padding: ((before, after), ...) per dim from the first (tinygrad),
        or flat (left, right, top, bottom, ...) from the last dim (torch's F.pad)."""
        padding = list(padding)
        pads = [0] * (2 * self.ndim)
        if padding and isinstance(padding[0], (tuple, list, type(None))):
            for d, p in enumerate(padding):
                pads[2 * d:2 * d + 2] = p if p is not None else (0, 0)
        else:
            for i in range(len(padding) // 2):
                d = self.ndim - 1 - i
                pads[2 * d], pads[2 * d + 1] = padding[2 * i], padding[2 * i + 1]
        return Tensor._wrap(_C.pad(self._t, pads, float(value)))

    def cat(self, *others, dim=0):
        return cat([self, *others], dim=dim)

    def stack(self, *others, dim=0):
        return stack([self, *others], dim=dim)

    def repeat(self, *reps):
        """Tile: reps per dim (more reps than dims add leading dims), as torch."""
        reps = _shape_args(reps)
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape)
        for d, r in enumerate(reps):
            if r != 1:
                x = cat([x] * r, d)
        return x

    def chunk(self, n, dim=0):
        size = -(-self.shape[dim] // n)
        return self.split(size, dim)

    def split(self, size, dim=0):
        dim = dim % self.ndim
        if isinstance(size, int):
            bounds = list(range(0, self.shape[dim], size)) + [self.shape[dim]]
        else:
            bounds = [0]
            for s in size:
                bounds.append(bounds[-1] + s)
        return [Tensor._wrap(_C.slice(self._t, dim, a, b, 1)) for a, b in zip(bounds, bounds[1:])]

    def gather(self, dim, index):
        return Tensor._wrap(_C.gather(self._t, dim, index._t))

    def __getitem__(self, idx):
        return _getitem(self, idx)

    # --- compositions
    def matmul(self, o):
        return self @ o

    dot = matmul

    def linear(self, weight, bias=None):
        return Tensor._wrap(_C.linear(self._t, weight._t, bias._t if bias is not None else None))

    def conv2d(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return Tensor._wrap(_C.conv2d(self._t, weight._t, None if bias is None else bias._t, _pair(stride),
                                      _pair(padding), _pair(dilation), groups, (0, 0), False))

    def conv_transpose2d(self, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        return Tensor._wrap(_C.conv2d(self._t, weight._t, None if bias is None else bias._t, _pair(stride),
                                      _pair(padding), _pair(dilation), groups, _pair(output_padding), True))

    def max_pool2d(self, kernel_size=2, stride=None, padding=0):
        k = _pair(kernel_size)
        return Tensor._wrap(_C.pool2d(self._t, k, _pair(stride or k), _pair(padding), False))

    def avg_pool2d(self, kernel_size=2, stride=None, padding=0):
        k = _pair(kernel_size)
        return Tensor._wrap(_C.pool2d(self._t, k, _pair(stride or k), _pair(padding), True))

    def cross_entropy(self, target, label_smoothing=0.0):
        """self: logits (N, C); target: (N) class ids; mean over N."""
        return Tensor._wrap(_C.cross_entropy(self._t, target._t, float(label_smoothing)))

    sparse_categorical_crossentropy = cross_entropy

    def nll_loss(self, target):
        return Tensor._wrap(_C.nll(self._t, target._t))

    def mse(self, other):
        return Tensor._wrap(_C.mse(self._t, self._operand(other)._t))

    def layernorm(self, axis=-1, eps=1e-5, weight=None, bias=None):
        n = 1 if isinstance(axis, int) else len(axis)
        return Tensor._wrap(_C.layernorm(self._t, n, weight._t if weight is not None else None,
                                         bias._t if bias is not None else None, eps))

    def dropout(self, p=0.5):
        return Tensor._wrap(_C.dropout(self._t, float(p), _next_seed()))

    def scaled_dot_product_attention(self, key, value, attn_mask=None, is_causal=False):
        return Tensor._wrap(_C.sdpa(self._t, key._t, value._t, attn_mask._t if attn_mask is not None else None,
                                    is_causal))

    def zeros_like(self):
        return Tensor._wrap(_C.zeros_like(self._t))

    def ones_like(self):
        return Tensor._wrap(_C.ones_like(self._t))

    def full_like(self, value):
        return Tensor._wrap(_C.full_like(self._t, float(value)))


def _make_unary(name):
    fn = getattr(_C, name)

    def op(self):
        return Tensor._wrap(fn(self._t))
    op.__name__ = name
    op.__doc__ = "elementwise %s (tg_%s)" % (name, name)
    return op


for _name in ("abs", "sign", "reciprocal", "exp", "log", "exp2", "log2", "sqrt", "rsqrt", "square", "sin",
              "cos", "tan", "tanh", "sigmoid", "relu", "gelu", "silu", "softplus"):
    setattr(Tensor, _name, _make_unary(_name))


# memoryview/struct formats of the dtypes that have one
_FORMATS = {"bool": "?", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i", "uint32": "I",
            "int64": "q", "uint64": "Q", "float32": "f", "float64": "d"}


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
            out = Tensor._wrap(_C.slice(out._t, d, start, stop, step))
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
            out = Tensor._wrap(_C.slice(out._t, d, k, k + 1, 1))
            squeeze.append(d)
            d += 1
    if squeeze:
        out = out.reshape(tuple(s for j, s in enumerate(out.shape) if j not in squeeze))
        if tensor_axis is not None:
            tensor_axis -= sum(1 for j in squeeze if j < tensor_axis)
    if tensor_idx is not None:
        out = _take(out, tensor_axis, tensor_idx)
    return out


def _take(x, axis, idx):
    """x indexed by an integer tensor along axis (numpy's take): the index's
    dims replace the axis. Negative indices count from the end."""
    n = x.shape[axis]
    if not idx.dtype.is_float and idx.dtype.name != "bool":
        idx = where(idx < 0, idx + n, idx)
    moved = x.permute(axis, *[d for d in range(x.ndim) if d != axis])
    rest = moved.shape[1:]
    rows = Tensor._wrap(_C.embedding(moved.reshape(n, -1)._t, idx._t))  # idx.shape + (prod(rest),)
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
    return Tensor._wrap(_C.full(_dev(device)._h, dtype.id, shape, float(value)))


def zeros(*shape, dtype=None, device=None):
    return full(_shape_args(shape), 0.0, dtype or default_float, device)


def ones(*shape, dtype=None, device=None):
    return full(_shape_args(shape), 1.0, dtype or default_float, device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = default_float if any(isinstance(v, float) for v in (start, stop, step)) else default_int
    return Tensor._wrap(_C.arange(_dev(device)._h, _dtype(dtype).id, start, stop, step))


def eye(n, dtype=None, device=None):
    return Tensor._wrap(_C.eye(_dev(device)._h, (_dtype(dtype) or default_float).id, n))


def uniform(*shape, low=0.0, high=1.0, dtype=None, device=None, seed=None):
    return Tensor._wrap(_C.random(_dev(device)._h, (_dtype(dtype) or default_float).id, _shape_args(shape),
                                  _next_seed() if seed is None else seed, 0, low, high))


def rand(*shape, dtype=None, device=None, seed=None):
    return uniform(*shape, dtype=dtype, device=device, seed=seed)


def randn(*shape, dtype=None, device=None, seed=None):
    return Tensor._wrap(_C.random(_dev(device)._h, (_dtype(dtype) or default_float).id, _shape_args(shape),
                                  _next_seed() if seed is None else seed, 1, 0.0, 0.0))


def cat(tensors, dim=0):
    return Tensor._wrap(_C.cat([t._t for t in tensors], dim))


def stack(tensors, dim=0):
    return Tensor._wrap(_C.stack([t._t for t in tensors], dim))


def where(cond, a, b):
    """cond ? a : b (broadcast); a or b may be Python numbers."""
    if not isinstance(cond, Tensor):
        raise TypeError("where: the condition must be a tg.Tensor")
    ref = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if ref is None:
        ref = Tensor(a, device=cond.device)
    a, b = ref._operand(a), ref._operand(b)
    dt = _promote(a.dtype, b.dtype)
    return Tensor._wrap(_C.where(cond.cast("bool")._t, a.cast(dt)._t, b.cast(dt)._t))


def from_dlpack(x, device=None):
    """A tg tensor from anything with __dlpack__ (numpy, torch, JAX, a tg
    Tensor) or a DLPack capsule. Zero-copy for tg's own exports on the same
    device; other memory (host memory only) is copied once (tg/dlpack.h)."""
    if device is None and isinstance(x, Tensor):
        device = x.device
    dev = _dev(device)
    cap = x.__dlpack__() if hasattr(x, "__dlpack__") else x
    return Tensor._wrap(_C.from_dlpack(dev._h, cap))


def realize(*tensors):
    """Realize several tensors in one schedule."""
    _C.realize([t._t for t in tensors])


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
