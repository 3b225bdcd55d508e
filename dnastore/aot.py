"""Ahead-of-time kernels: a jit-compiled function, traced and lowered once per shape and kept
on disk as a serialized ``jax.export`` module, so that a later process skips JAX's tracing
and lowering (about half a second for the simulator's kernels, more than the simulation of
200,000 reads itself) and, with JAX's persistent compilation cache, the XLA compilation too.

With no cache folder set (library use, the tests) a kernel is the plain ``jax.jit`` function.
The cache key holds the kernel's name, the digest of the module that defines it, the JAX
version, the static arguments and the argument shapes and dtypes; a stale or unreadable entry
is rebuilt, never trusted. The files are flatbuffers written by JAX (no pickle).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np

_DIR: Path | None = None


def set_cache_dir(path: str | os.PathLike | None) -> None:
    """Keep exported kernels under ``path`` (None: plain jit, nothing on disk)."""
    global _DIR
    _DIR = Path(path) if path is not None else None


@lru_cache(maxsize=None)
def _module_digest(module: str) -> str:
    src = inspect.getsourcefile(sys.modules[module])
    return hashlib.sha256(Path(src).read_bytes()).hexdigest()[:16]


def _dtype(a) -> np.dtype:
    return np.dtype(a.dtype) if hasattr(a, "dtype") else np.asarray(a).dtype


def _signature(args: tuple) -> str:
    return ";".join(f"{np.shape(a)}:{_dtype(a)}" for a in args)


@contextmanager
def _no_lapack_setup():
    """Lowering a call to an exported module first registers the CPU LAPACK kernels, which
    imports scipy.linalg (about 0.4 s). The kernels exported here call no LAPACK routine, so
    the step is skipped while they lower (only then: other exported modules keep it)."""
    try:
        from jax._src.export import _export
        saved = _export._ensure_backends_initialized
    except (ImportError, AttributeError):  # another JAX: pay the import
        yield
        return
    _export._ensure_backends_initialized = lambda platforms: None
    try:
        yield
    finally:
        _export._ensure_backends_initialized = saved


_CALLS: dict[str, Callable] = {}


def kernel(fn: Callable, name: str, static: dict[str, Any]) -> Callable:
    """``fn`` jit-compiled with ``static`` keyword arguments bound; the returned callable
    takes the array arguments. With a cache folder set it runs through an exported module."""
    if _DIR is None:
        return partial(fn, **static)

    def call(*args):
        key = hashlib.sha256(repr((name, _module_digest(fn.__module__), jax.__version__, sorted(static.items()),
                                   _signature(args))).encode()).hexdigest()[:32]
        f = _CALLS.get(key)
        if f is not None:
            return f(*args)
        try:
            f = jax.jit(_load_or_export(fn, static, args, _DIR / "aot" / f"{name}-{key}.jaxexport").call)
        except ImportError:  # no flatbuffers: the plain jit path
            f = partial(fn, **static)
        with _no_lapack_setup():
            out = f(*args)  # the first call lowers
        _CALLS[key] = f
        return out
    return call


def _load_or_export(fn: Callable, static: dict[str, Any], args: tuple, path: Path):
    from jax import export
    try:
        exp = export.deserialize(bytearray(path.read_bytes()))
        if [(tuple(a.shape), a.dtype) for a in exp.in_avals] == [(np.shape(a), _dtype(a)) for a in args]:
            return exp
    except OSError:  # not there yet
        pass
    except Exception:  # a damaged entry (flatbuffers raises assorted errors): rebuild it
        pass
    exp = export.export(jax.jit(partial(fn, **static)))(*args)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(exp.serialize())
        os.replace(tmp, path)
    except OSError:  # a read-only or full cache is an optimisation lost, not an error
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return exp
