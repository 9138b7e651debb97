"""Builds tg._C, the C extension, against libtg.

Where libtg and its headers come from, first that exists:
  1. $TG_BUILD_DIR: a meson build directory of the source tree ($TG_SOURCE_DIR,
     else the folder above this one);
  2. ../build: the build `./dev build` makes beside this folder;
  3. an installed tg, found with pkg-config (`pkg-config tg`).
The extension records libtg's folder as its rpath, so it loads without
LD_LIBRARY_PATH; libtg finds its plugins itself (the build tree's, or the
installed ones). Headers: tg/tg.h, tg/nn.h, tg/dlpack.h (and dlpack/dlpack.h
from libdlpack-dev).
"""
import os
import shlex
import subprocess

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def tg_flags():
    build = os.environ.get("TG_BUILD_DIR") or os.path.join(root, "build")
    build = os.path.abspath(build)
    if os.path.isdir(os.path.join(build, "core")):
        src = os.environ.get("TG_SOURCE_DIR") or root
        incs = [os.path.join(src, "core", "include"), os.path.join(src, "sdk", "include")]
        return incs, [os.path.join(build, "core")], build
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags-only-I", "tg"], text=True)
        libs = subprocess.check_output(["pkg-config", "--libs-only-L", "tg"], text=True)
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("tg: libtg not found: build it first (./dev build), set TG_BUILD_DIR to a meson build "
                         "directory, or install tg so that `pkg-config tg` finds it")
    incs = [f[2:] for f in shlex.split(cflags) if f.startswith("-I")]
    libdirs = [f[2:] for f in shlex.split(libs) if f.startswith("-L")]
    return incs, libdirs, ""


incs, libdirs, build_dir = tg_flags()
setup(ext_modules=[Extension(
    "tg._C", [os.path.join("src", "tgmodule.c")],
    include_dirs=incs, library_dirs=libdirs, runtime_library_dirs=libdirs, libraries=["tg"],
    define_macros=[("TGPY_BUILD_DIR", '"%s"' % build_dir.replace("\\", "/"))],
    extra_compile_args=["-std=c11", "-Wno-missing-field-initializers"])])
