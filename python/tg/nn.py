"""tg.nn: layers, optimisers and safetensors state dicts, torch-style.

    model = tg.nn.Sequential(tg.nn.Linear(2, 32), tg.nn.ReLU(), tg.nn.Linear(32, 3))
    opt = tg.nn.Adam(model.parameters(), lr=1e-2)
    loss = model(x).cross_entropy(y)
    opt.zero_grad(); loss.backward(); opt.step()
    tg.nn.safe_save(model.state_dict(), "model.safetensors")

Layers initialise as torch.nn's defaults (uniform in +-1/sqrt(fan_in)); the
optimisers are tg's (tg/nn.h: torch.optim's update rules), stepping every
parameter in one schedule.
"""
import math

from . import Device, Tensor, _C, default_device, ones, randn, uniform, zeros

__all__ = ["Module", "Sequential", "Linear", "Conv2d", "LayerNorm", "Embedding", "BatchNorm2d", "ReLU",
           "Dropout", "SGD", "Adam", "AdamW", "safe_save", "safe_load", "state_dict", "load_state_dict",
           "parameters"]


class Module:
    """A layer: its Tensor attributes (and those of its sub-modules, lists of
    modules included) are its state, named as torch names them."""
    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def named_tensors(self, prefix=""):
        for name, v in vars(self).items():
            if isinstance(v, Tensor):
                yield prefix + name, v
            elif isinstance(v, Module):
                yield from v.named_tensors(prefix + name + ".")
            elif isinstance(v, (list, tuple)):
                for i, m in enumerate(v):
                    if isinstance(m, Module):
                        yield from m.named_tensors("%s%s.%d." % (prefix, name, i))
                    elif isinstance(m, Tensor):
                        yield "%s%s.%d" % (prefix, name, i), m

    def state_dict(self):
        return dict(self.named_tensors())

    def parameters(self):
        return [t for _, t in self.named_tensors() if t.requires_grad]

    def load_state_dict(self, sd, strict=True):
        load_state_dict(self, sd, strict)

    def train(self, on=True):
        for m in [self] + [v for v in vars(self).values() if isinstance(v, Module)]:
            m.training = on
        for v in vars(self).values():
            if isinstance(v, (list, tuple)):
                for m in v:
                    if isinstance(m, Module):
                        m.train(on)
        return self

    def eval(self):
        return self.train(False)


def _param(shape, bound, dtype, device):
    return uniform(*shape, low=-bound, high=bound, dtype=dtype, device=device).requires_grad_()


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, dtype=None, device=None):
        bound = 1 / math.sqrt(in_features) if in_features else 0
        self.weight = _param((out_features, in_features), bound, dtype, device)
        self.bias = _param((out_features,), bound, dtype, device) if bias else None

    def forward(self, x):
        return x.linear(self.weight, self.bias)


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, dtype=None, device=None):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        fan_in = in_channels // groups * kh * kw
        bound = 1 / math.sqrt(fan_in) if fan_in else 0
        self.weight = _param((out_channels, in_channels // groups, kh, kw), bound, dtype, device)
        self.bias = _param((out_channels,), bound, dtype, device) if bias else None

    def forward(self, x):
        return x.conv2d(self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype=None, device=None):
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.naxes, self.eps = len(shape), eps
        self.weight = ones(*shape, dtype=dtype, device=device).requires_grad_() if elementwise_affine else None
        self.bias = zeros(*shape, dtype=dtype, device=device).requires_grad_() if elementwise_affine else None

    def forward(self, x):
        return _C.layernorm(x, self.naxes, self.weight, self.bias, self.eps)


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, dtype=None, device=None):
        self.weight = randn(num_embeddings, embedding_dim, dtype=dtype, device=device).requires_grad_()

    def forward(self, idx):
        if not isinstance(idx, Tensor):
            idx = Tensor(idx, dtype="int32", device=self.weight.device)
        return _C.embedding(self.weight, idx)


class BatchNorm2d(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, dtype=None, device=None):
        self.eps, self.momentum = eps, momentum
        self.weight = ones(num_features, dtype=dtype, device=device).requires_grad_() if affine else None
        self.bias = zeros(num_features, dtype=dtype, device=device).requires_grad_() if affine else None
        self.running_mean = zeros(num_features, dtype=dtype, device=device)
        self.running_var = ones(num_features, dtype=dtype, device=device)
        self.running_mean.realize()
        self.running_var.realize()

    def forward(self, x):
        return _C.batchnorm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training,
                            self.momentum, self.eps)


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Dropout(Module):
    def __init__(self, p=0.5):
        self.p = p

    def forward(self, x):
        return x.dropout(self.p) if self.training and self.p > 0 else x


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for f in self.layers:
            x = f(x)
        return x

    def named_tensors(self, prefix=""):  # torch names them "0.weight", "1.bias", ...
        for i, m in enumerate(self.layers):
            if isinstance(m, Module):
                yield from m.named_tensors("%s%d." % (prefix, i))


# ------------------------------------------------------------ optimisers

class _Optimizer:
    _KIND = None

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0.0):
        self.params = list(params)
        self._lr = lr
        self._h = _C.optim_create(self.params, self._KIND, lr, momentum, dampening, nesterov,
                                  betas[0], betas[1], eps, weight_decay)

    def step(self):
        """One update of every parameter that has a gradient (one schedule)."""
        _C.optim_step(self._h)

    def zero_grad(self):
        _C.optim_zero_grad(self._h)

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, lr):
        _C.optim_set_lr(self._h, lr)
        self._lr = lr


class SGD(_Optimizer):
    _KIND = 0

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr, momentum, dampening, nesterov, weight_decay=weight_decay)


class Adam(_Optimizer):
    _KIND = 1

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)


class AdamW(_Optimizer):
    _KIND = 2

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ------------------------------------------------------------ state dicts

def state_dict(model):
    return model.state_dict()


def parameters(model):
    return model.parameters()


def load_state_dict(model, sd, strict=True):
    """Assign each tensor of sd into the model's tensor of that name (same
    shape and dtype); strict: every name must match both ways."""
    mine = model.state_dict()
    if strict:
        missing, extra = sorted(set(mine) - set(sd)), sorted(set(sd) - set(mine))
        if missing or extra:
            raise KeyError("load_state_dict: missing %s, unexpected %s" % (missing, extra))
    for name, t in mine.items():
        if name in sd:
            src = sd[name] if isinstance(sd[name], Tensor) else Tensor(sd[name], device=t.device)
            if src.shape != t.shape or src.dtype is not t.dtype:
                raise ValueError("load_state_dict: %s is %s %s in the state dict, %s %s in the model" %
                                 (name, src.dtype.name, src.shape, t.dtype.name, t.shape))
            t.assign(src.to(t.device))


def safe_save(sd, path):
    """Write a {name: Tensor} dict as a safetensors file (readable by
    safetensors.torch/numpy load_file)."""
    _C.save_safetensors(str(path), list(sd.items()))


def safe_load(path, device=None):
    """A safetensors file as {name: Tensor} on device (the default one)."""
    dev = Device(device) if device is not None else default_device()
    return dict(_C.load_safetensors(str(path), dev._h))
