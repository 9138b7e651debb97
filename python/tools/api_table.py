"""api_table.py: writes python/API.md, tinygrad's Tensor API against tg's.

    python python/tools/api_table.py           # rewrite python/API.md
    python python/tools/api_table.py --tinygrad-python /path/to/venv/bin/python
    python python/tools/api_table.py --check   # API.md tells the truth (tests/python runs this)

Both need the tg package importable (pip install ./python, or build/pyenv's
python). Writing reads the list of names from tinygrad when tinygrad is
importable, else from the API.md already there, so the table can be rewritten
without tinygrad after tg gains a method: rerun it and commit API.md. A name
that is now present maps to tg_<name> when tgmodule.c calls a C function of
that name, else needs its C functions in C_FUNCS below (the script says so).

"Model-relevant" names: the public methods and properties of tinygrad's
Tensor (dir(Tensor) without a leading underscore) minus EXCLUDED: its UOp
and scheduling machinery, multi-device sharding, device-specific image ops,
and hashing, none of which a model's code calls.

--check fails when a name marked present is not on tg.Tensor, when one
marked missing or in progress is (rerun the script), when a C function the
table names is not declared in core/include/tg or not called by
python/src/tgmodule.c, or when the header's counts disagree with the rows.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
API_MD = os.path.join(ROOT, "python", "API.md")
HEADERS = [os.path.join(ROOT, "core", "include", "tg", h) for h in ("tg.h", "nn.h")]
MODULE_C = os.path.join(ROOT, "python", "src", "tgmodule.c")

EXCLUDED = {
    "UOp and scheduling machinery": "alu as_param call callify const const_like contiguous_backward custom_kernel "
                                    "invalids is_param is_param_ linear_with_vars max_numel max_shape random_bits "
                                    "replace schedule_linear threefry ufix uop uprod usum",
    "devices and sharding": "device to_ shard shard_ shard_like from_blob from_url decode_hevc_frame",
    "device-specific image ops": "image_conv2d image_dot",
    "hashing": "hash keccak",
}
EXCLUDED_NAMES = {n for names in EXCLUDED.values() for n in names.split()}

# Names waiting on a C op in tg.h (issue 17); none now: its ops landed and are wrapped.
IN_PROGRESS = set()

# The C functions (tg.h, nn.h) each present name reaches; "composition:" when
# Python composes the name of them.
C_FUNCS = {
    "T": "tg_permute", "abs": "tg_abs", "add": "tg_add, tg_adds", "all": "composition: tg_logical_not, tg_sum, tg_eq",
    "allclose": "composition: tg_sub, tg_abs, tg_le, tg_sum", "any": "composition: tg_sum, tg_gt",
    "arange": "tg_arange", "argmax": "tg_argmax", "argmin": "tg_argmin", "assign": "tg_assign",
    "avg_pool2d": "tg_avg_pool", "backward": "tg_backward", "batchnorm": "composition: tg_sub, tg_mul, tg_add",
    "bfloat16": "tg_cast", "binary_crossentropy": "composition: tg_log, tg_maximums, tg_mean",
    "binary_crossentropy_logits": "composition: tg_softplus, tg_mean", "bool": "tg_cast", "cast": "tg_cast",
    "cat": "tg_cat", "ceil": "tg_ceil", "chunk": "tg_split", "clamp": "tg_clamp",
    "clip": "tg_clamp", "clone": "tg_contiguous", "contiguous": "tg_contiguous", "conv2d": "tg_conv2d, tg_conv1d, tg_conv3d",
    "conv_transpose2d": "tg_conv_transpose2d, tg_conv_transpose1d, tg_conv_transpose3d", "copysign": "composition: tg_abs, tg_lt, tg_where",
    "cos": "tg_cos", "cross_entropy": "tg_cross_entropy, tg_cross_entropy_ex",
    "data": "tg_to_host", "detach": "tg_detach", "diag": "composition: tg_eye, tg_where",
    "diagonal": "composition: tg_permute, tg_flatten, tg_slice", "div": "tg_div, tg_divs", "dot": "tg_matmul",
    "double": "tg_cast", "dropout": "tg_dropout", "dtype": "tg_tensor_dtype", "element_size": "tg_tensor_dtype",
    "empty": "tg_full", "empty_like": "tg_zeros_like", "eq": "tg_eq", "erf": "tg_erf", "exp": "tg_exp",
    "exp2": "tg_exp2", "expand": "tg_expand", "eye": "tg_eye", "flatten": "tg_flatten", "flip": "tg_flip",
    "float": "tg_cast", "floor": "tg_floor", "fmod": "tg_mod", "full": "tg_full, tg_full_scalar",
    "full_like": "tg_full_like", "gather": "tg_gather", "gelu": "tg_gelu, tg_gelu_erf",
    "glorot_uniform": "tg_uniform", "grad": "tg_tensor_grad", "half": "tg_cast", "int": "tg_cast",
    "is_floating_point": "tg_tensor_dtype", "isclose": "composition: tg_sub, tg_abs, tg_le, tg_eq",
    "item": "tg_item", "kaiming_normal": "tg_randn", "kaiming_uniform": "tg_uniform", "layernorm": "tg_layernorm",
    "leaky_relu": "tg_leaky_relu", "lerp": "tg_lerp", "linear": "tg_linear",
    "linspace": "composition: tg_arange, tg_muls, tg_adds", "log": "tg_log", "log10": "composition: tg_log2, tg_muls",
    "log2": "tg_log2", "log_softmax": "tg_log_softmax", "logaddexp": "composition: tg_stack, tg_logsumexp",
    "logical_not": "tg_logical_not", "logsigmoid": "tg_logsigmoid", "logsumexp": "tg_logsumexp",
    "long": "tg_cast", "manual_seed": "(seeds passed to tg_uniform, tg_randn, tg_dropout, tg_multinomial)",
    "masked_select": "composition: tg_to_host, tg_embedding", "matmul": "tg_matmul", "max": "tg_max",
    "max_pool2d": "tg_max_pool", "max_unpool2d": "composition: tg_arange, tg_eq, tg_where, tg_sum", "maximum": "tg_maximum, tg_maximums", "mean": "tg_mean",
    "meshgrid": "composition: tg_reshape, tg_expand", "min": "tg_min", "minimum": "tg_minimum, tg_minimums",
    "mod": "composition: tg_mod, tg_where", "mul": "tg_mul, tg_muls", "multinomial": "tg_multinomial",
    "ndim": "tg_tensor_ndim", "ne": "tg_ne", "neg": "tg_neg", "newton_schulz": "composition: tg_matmul, tg_add",
    "nll_loss": "tg_nll", "nonzero": "composition: tg_to_host", "normal": "tg_randn",
    "normalize": "composition: tg_pows, tg_sum, tg_div", "numel": "tg_tensor_numel", "numpy": "tg_to_host",
    "one_hot": "composition: tg_arange, tg_eq", "ones": "tg_full", "ones_like": "tg_ones_like", "pad": "tg_pad, tg_pad_mode",
    "pad_to": "tg_pad", "permute": "tg_permute", "pow": "tg_pow, tg_pows", "prod": "tg_prod",
    "quick_gelu": "tg_quick_gelu", "rand": "tg_uniform", "rand_like": "tg_uniform",
    "randint": "composition: tg_uniform, tg_clamp, tg_cast", "randn": "tg_randn", "randn_like": "tg_randn",
    "realize": "tg_realize, tg_realize_many", "rearrange": "composition: tg_reshape, tg_permute",
    "reciprocal": "tg_recip", "relu": "tg_relu", "relu6": "tg_relu6", "repeat": "tg_repeat",
    "repeat_interleave": "composition: tg_expand, tg_flatten", "reshape": "tg_reshape",
    "roll": "composition: tg_slice, tg_cat", "rsqrt": "tg_rsqrt",
    "scaled_dot_product_attention": "tg_sdpa", "scaled_uniform": "tg_uniform", "sequential": "(Python)",
    "shape": "tg_tensor_shape", "shrink": "tg_shrink", "shrink_to": "tg_shrink", "short": "tg_cast",
    "sigmoid": "tg_sigmoid", "sign": "tg_sign", "silu": "tg_silu", "sin": "tg_sin", "size": "tg_tensor_shape",
    "softmax": "tg_softmax", "softmin": "composition: tg_neg, tg_softmax", "softplus": "tg_softplus",
    "softsign": "tg_softsign", "sparse_categorical_crossentropy": "tg_cross_entropy_ex",
    "split": "tg_split, tg_slice", "sqrt": "tg_sqrt", "square": "tg_square", "squeeze": "tg_squeeze, tg_reshape",
    "stack": "tg_stack", "std": "tg_std", "std_mean": "tg_std, tg_mean", "sub": "tg_sub, tg_subs", "sum": "tg_sum",
    "swish": "tg_silu", "tan": "tg_tan", "tanh": "tg_tanh", "to": "tg_to_device, tg_cast", "tolist": "tg_to_host",
    "topk": "tg_topk", "transpose": "tg_transpose", "tril": "composition: tg_arange, tg_where",
    "triu": "composition: tg_arange, tg_where", "uniform": "tg_uniform", "unflatten": "tg_reshape",
    "unsqueeze": "tg_unsqueeze", "var": "tg_var", "var_mean": "tg_var, tg_mean", "view": "tg_reshape",
    "where": "tg_where", "zeros": "tg_full", "zeros_like": "tg_zeros_like", "hardsigmoid": "tg_hardsigmoid, tg_clamp",
    "hardtanh": "tg_hardtanh", "nbytes": "tg_tensor_numel, tg_tensor_dtype",
    "gradient": "tg_grad", "scatter": "tg_scatter, tg_scatter_reduce", "isinf": "tg_isinf, tg_lt, tg_gt",
    "bitwise_and": "tg_bitwise_and, tg_logical_and", "bitwise_or": "tg_bitwise_or, tg_logical_or",
    "bitwise_xor": "tg_bitwise_xor, tg_logical_xor", "bitwise_not": "tg_bitwise_not, tg_logical_not",
    "masked_fill": "tg_masked_fill, tg_where", "interpolate": "tg_interpolate",
}

# Partial coverage, said in the note column.
NOTES = {
    "max_pool2d": "1 to 3 spatial dims; no return_indices",
    "avg_pool2d": "1 to 3 spatial dims",
    "cummax": "values only (as tinygrad)",
    "interpolate": "modes nearest, linear (bi-, trilinear by the dims); no nearest-exact",
    "multinomial": "without replacement only num_samples=1 (as tinygrad)",
    "nonzero": "reads the values back (the count decides the shape)",
    "masked_select": "reads the mask back (the count decides the shape)",
    "empty": "zeros: tg has no uninitialised memory",
    "empty_like": "zeros: tg has no uninitialised memory",
    "conv2d": "positional order torch's (stride, padding, dilation, groups); keywords as tinygrad",
    "transpose": "default dims (-2, -1), as torch (tinygrad: 1, 0)",
    "allclose": "returns a Python bool",
    "max_unpool2d": "a composition of size input x output plane",
}

# C functions of tg.h / nn.h that tg._C does not call, and why.
C_NOT_WRAPPED = {
    "tg_clear_error": "errors raise tg.Error; nothing to clear",
    "tg_scope_begin": "Python's reference counting drops each handle", "tg_scope_end": "as tg_scope_begin",
    "tg_keep": "as tg_scope_begin", "tg_from_f64": "tg_from_data takes any dtype's bytes",
    "tg_const": "tg_full with shape ()", "tg_zeros": "tg_full", "tg_ones": "tg_full", "tg_rand": "tg_uniform",
    "tg_tensor_dim": "Tensor.shape", "tg_shape_format": "Tensor.shape", "tg_to_f64": "tg_to_host",
    "tg_params_find": "Python dicts (state_dict)", "tg_params_zero_grad": "the optimiser's zero_grad",
    "tg_params_numel": "Python sums Tensor.numel()", "tg_params_load": "nn.load_state_dict assigns by name",
    "tg_nn_linear_create": "tg.nn.Linear composes tg_linear with the same initialisation",
    "tg_nn_linear_destroy": "as tg_nn_linear_create", "tg_nn_linear_forward": "as tg_nn_linear_create",
    "tg_nn_linear_params": "as tg_nn_linear_create",
    "tg_nn_conv2d_create": "tg.nn.Conv2d composes tg_conv2d with the same initialisation",
    "tg_nn_conv2d_destroy": "as tg_nn_conv2d_create", "tg_nn_conv2d_forward": "as tg_nn_conv2d_create",
    "tg_nn_conv2d_params": "as tg_nn_conv2d_create", "tg_optim_defaults": "the defaults are tg.nn's keywords",
}

STATUS_PRESENT, STATUS_IN_PROGRESS, STATUS_MISSING = "present", "C op in progress (issue 17)", "missing"
ROW = re.compile(r"^\| `([A-Za-z_0-9]+)` \| ([^|]+) \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$")


LIST_TINYGRAD = """
import importlib.metadata
from tinygrad import Tensor
print(importlib.metadata.version("tinygrad"))
print(" ".join(n for n in dir(Tensor) if not n.startswith("_")))
"""


def tinygrad_names(python):
    """(names, where they came from): from tinygrad, imported by `python`
    (another interpreter, e.g. a venv with tinygrad) or by this one."""
    out = subprocess.run([python or sys.executable, "-c", LIST_TINYGRAD], capture_output=True, text=True)
    if out.returncode == 0:
        version, names = out.stdout.splitlines()[-2:]
        return sorted(n for n in names.split() if n not in EXCLUDED_NAMES), "tinygrad %s's Tensor" % version
    if python:
        sys.exit("api_table: %s cannot import tinygrad:\n%s" % (python, out.stderr[-2000:]))
    rows = read_rows()
    if not rows:
        sys.exit("api_table: tinygrad is not importable and %s has no rows to take the names from" % API_MD)
    with open(API_MD) as f:
        m = re.search(r"names of (tinygrad [^ ]+'s Tensor)", f.read())
    return sorted(r[0] for r in rows), m.group(1) if m else "tinygrad's Tensor (names kept from API.md)"


def read_rows():
    if not os.path.exists(API_MD):
        return []
    with open(API_MD) as f:
        return [tuple(c.strip() for c in m.groups()) for m in map(ROW.match, f.read().splitlines()) if m]


def resolve(path):
    """'tg.Tensor.add' -> the object, or None."""
    import tg
    obj = tg
    for part in path.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def declared_functions():
    """The functions tg.h and nn.h declare, in order."""
    out = []
    for h in HEADERS:
        with open(h) as f:
            out += re.findall(r"^(?:const\s+)?\w+\s*\**\s*(tg_\w+)\(", f.read(), re.M)
    return out


def called_in_module():
    with open(MODULE_C) as f:
        return set(re.findall(r"\b(tg_\w+)\b", f.read()))


def c_names(cell):
    return re.findall(r"\btg_\w+", cell)


def write(tinygrad_python):
    import tg  # noqa: F401 -- fail early when tg is not importable
    names, source = tinygrad_names(tinygrad_python)
    declared, called = declared_functions(), called_in_module()
    rows, problems = [], []
    for n in names:
        py, cfun = "tg.Tensor." + n, C_FUNCS.get(n, "")
        if resolve(py) is not None:
            status = STATUS_PRESENT
            if not cfun and "tg_" + n in declared and "tg_" + n in called:
                cfun = "tg_" + n  # a C op of the same name, wrapped
            if not cfun:
                problems.append("%s is present: add its C functions to C_FUNCS" % n)
        else:
            status = STATUS_IN_PROGRESS if n in IN_PROGRESS else STATUS_MISSING
            py, cfun = "", ""
        rows.append((n, status, py, cfun, NOTES.get(n, "")))
    if problems:
        sys.exit("api_table: " + "\n  ".join(problems))
    count = {s: sum(1 for r in rows if r[1] == s) for s in (STATUS_PRESENT, STATUS_IN_PROGRESS, STATUS_MISSING)}
    lines = [
        "# tg's Python API against tinygrad's Tensor",
        "",
        "Written by `python/tools/api_table.py` (rerun it after adding to `tg.Tensor`;",
        "`--check`, run by tests/python/test_api_table.py, fails when this file is out of date).",
        "The rows are the model-relevant names of %s: its public methods and" % source,
        "properties minus its UOp and scheduling machinery, sharding, image ops and hashing",
        "(the script's EXCLUDED lists them).",
        "",
        "**%d of %d present** in `tg.Tensor`; %d have a C op in progress (issue 17); %d missing." %
        (count[STATUS_PRESENT], len(rows), count[STATUS_IN_PROGRESS], count[STATUS_MISSING]),
        "",
        "Creation functions are also module functions (`tg.zeros`, `tg.arange`, ...). The C",
        "column names the functions of `core/include/tg/tg.h` a name reaches (\"composition:\"",
        "when Python composes it of them).",
        "",
        "| tinygrad | status | tg (Python) | C | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += ["| `%s` | %s | %s | %s | %s |" % r for r in rows]
    reached = [f for f in declared if f in called]
    lines += [
        "",
        "## The C API from Python",
        "",
        "**%d of the %d functions** of `tg.h` and `nn.h` are called by `python/src/tgmodule.c`;" %
        (len(reached), len(declared)),
        "the others, and why:",
        "",
        "| C function | why not wrapped |",
        "| --- | --- |",
    ]
    lines += ["| `%s` | %s |" % (f, C_NOT_WRAPPED.get(f, "not wrapped yet")) for f in declared if f not in called]
    with open(API_MD, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("api_table: wrote %s (%d of %d present)" % (API_MD, count[STATUS_PRESENT], len(rows)))


def check():
    rows = read_rows()
    declared, called = set(declared_functions()), called_in_module()
    errors = []
    if not rows:
        errors.append("%s has no rows" % API_MD)
    for name, status, py, cfun, _ in rows:
        present = resolve("tg.Tensor." + name) is not None
        if status == STATUS_PRESENT:
            if not py or resolve(py) is None:
                errors.append("%s is marked present but %s does not exist" % (name, py or "its Python name"))
            for fn in c_names(cfun):
                if fn not in declared:
                    errors.append("%s names %s, which tg.h/nn.h do not declare" % (name, fn))
                elif fn not in called:
                    errors.append("%s names %s, which tgmodule.c does not call" % (name, fn))
        elif present:
            errors.append("%s is marked '%s' but tg.Tensor.%s exists: rerun api_table.py" % (name, status, name))
    with open(API_MD) as f:
        m = re.search(r"\*\*(\d+) of (\d+) present\*\*", f.read())
    n_present = sum(1 for r in rows if r[1] == STATUS_PRESENT)
    if not m or (int(m.group(1)), int(m.group(2))) != (n_present, len(rows)):
        errors.append("the header's count is not the rows' (%d of %d): rerun api_table.py" % (n_present, len(rows)))
    if errors:
        sys.exit("api_table --check:\n  " + "\n  ".join(errors))
    print("api_table --check: %d rows, %d present, all true" % (len(rows), n_present))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify API.md instead of writing it")
    ap.add_argument("--tinygrad-python", metavar="PYTHON",
                    help="an interpreter that imports tinygrad (default: this one, else the names in API.md)")
    args = ap.parse_args()
    check() if args.check else write(args.tinygrad_python)


if __name__ == "__main__":
    main()
