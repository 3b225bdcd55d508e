"""Compiled kernels kept on disk, and run without importing JAX.

A kernel is a ``jax.jit`` function named by ``"module:function"``. The first run on a machine
traces and lowers it with JAX for the shapes at hand, compiles the lowering with jaxlib's XLA
client and writes the executable to the cache folder. Later processes load that executable
and run it through jaxlib's XLA runtime, the runtime JAX itself dispatches to, without
importing JAX: importing it cost about a second of the simulator's 1.7 (tracing and lowering
another half second), against 0.05 s for jaxlib's runtime.

With no cache folder set (library use, most tests) a kernel is the plain ``jax.jit`` function.

The cache key holds the kernel's name, the digests of the modules that define it, the JAX and
jaxlib versions, ``XLA_FLAGS``, this CPU's model and feature flags (XLA compiles for the host),
the static arguments and the argument shapes and dtypes. An entry is a small JSON header (key,
argument and result shapes) and the executable, behind the SHA-256 of both: a damaged, stale
or foreign entry is rebuilt, never run. The executable comes from our own compiler run on this
machine; like JAX's cache, the folder must not be writable by others. Nothing is pickled.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import platform
import sys
import tempfile
import threading
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

_DIR: Path | None = None
_MAGIC = b"dnastore-xla-1\n"


def cache_base() -> str:
    """dnastore's cache folder: $DNASTORE_CACHE, else $XDG_CACHE_HOME/dnastore (~/.cache/dnastore)."""
    return os.environ.get("DNASTORE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "dnastore")


def set_cache_dir(path: str | os.PathLike | None) -> None:
    """Keep compiled kernels under ``path`` (None: plain jit, nothing on disk)."""
    global _DIR
    _DIR = Path(path) if path is not None else None


def _resolve(target: str) -> Callable:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@lru_cache(maxsize=None)
def _file_digest(module: str) -> str:
    """The digest of a module's source, found without importing it (nor its package's
    ``__init__`` beyond what is already imported)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"no module {module}")
    return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=None)
def _environment() -> str:
    """What the compiled code depends on beyond the kernel: JAX and jaxlib (their version
    files, read without importing JAX), XLA's flags and the CPU (model and feature flags)."""
    parts = []
    for pkg in ("jax", "jaxlib"):
        spec = importlib.util.find_spec(pkg)
        parts.append(Path(spec.origin).with_name("version.py").read_bytes() if spec and spec.origin else b"")
    parts.append(os.environ.get("XLA_FLAGS", "").encode())
    cpu = platform.machine()  # (platform.processor() would start a `uname -p` process)
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read().split("\n\n")[0]
        cpu += "".join(line for line in info.splitlines()
                       if line.startswith(("vendor_id", "model name", "flags", "Features", "CPU part")))
    except OSError:
        pass
    parts.append(cpu.encode())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _spec(a) -> tuple[tuple[int, ...], str]:
    return tuple(int(d) for d in np.shape(a)), str(a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype)


_LOCK = threading.RLock()  # one client, and one load or compile of a kernel, across threads


def _client():
    """The XLA CPU client: JAX's own where JAX is loaded (so arrays pass between the two), else
    one of our own. One per process: a kernel's results pass to the next kernel only within it."""
    global _THE_CLIENT
    with _LOCK:
        if _THE_CLIENT is None:
            _THE_CLIENT = _new_client()
        return _THE_CLIENT


_THE_CLIENT = None


def _new_client():
    if "jax" in sys.modules:
        import jax
        try:
            return jax.devices("cpu")[0].client
        except Exception:  # JAX cannot give its CPU backend (JAX_PLATFORMS): a client of our own
            pass
    from jaxlib import _jax, utils
    utils.absl_set_min_log_level(1)  # as JAX does: no INFO lines from the runtime on stderr
    return _jax.get_tfrt_cpu_client(asynchronous=True)


class _Aval:
    """What the runtime reads of an abstract value (JAX's ShapedArray)."""

    __slots__ = ("shape", "dtype", "ndim", "weak_type")

    def __init__(self, shape: tuple[int, ...], dtype: str):
        self.shape, self.dtype, self.ndim, self.weak_type = tuple(shape), np.dtype(dtype), len(shape), False


@lru_cache(maxsize=None)
def _sharding_type():
    """A one-device sharding with the two methods the runtime asks of JAX's (the class JAX
    itself uses would import JAX)."""
    from jaxlib import _jax, xla_client
    replicated = xla_client.HloSharding.replicate()

    class OneDevice(_jax.SingleDeviceSharding):
        memory_kind = None

        def _to_xla_hlo_sharding(self, num_dimensions: int):
            return replicated
    return OneDevice


class _DLPack:
    __slots__ = ("capsule",)

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU, device 0


class Result:
    """A kernel's output on the device: pass it to another kernel as it is, or take it as a
    numpy array (``np.asarray``: waits for the kernel, then a read-only view, no copy)."""

    __slots__ = ("buffer", "shape", "dtype")

    def __init__(self, buffer, shape: tuple[int, ...], dtype: np.dtype):
        self.buffer, self.shape, self.dtype = buffer, shape, dtype

    def __array__(self, dtype=None, copy=None):
        from jaxlib import _jax
        self.buffer.block_until_ready()
        a = np.from_dlpack(_DLPack(_jax.buffer_to_dlpack_managed_tensor(self.buffer)))
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a


class Executable:
    """A compiled kernel loaded into the XLA runtime: numpy arrays (or :class:`Result`) in,
    :class:`Result` out. It goes through jaxlib's runtime the way JAX's own dispatch does,
    without JAX's Python layer."""

    def __init__(self, blob: bytes, inputs: list, outputs: list):
        from jaxlib import _jax
        client = _client()
        self._device = client.local_devices()[0]
        self._exe = client.deserialize_executable(blob, _jax.DeviceList((self._device,)))
        self._sharding = _sharding_type()(self._device)
        self._put = _jax.batched_device_put
        self.inputs = [(tuple(s), np.dtype(d)) for s, d in inputs]
        self.outputs = [(tuple(s), np.dtype(d)) for s, d in outputs]
        self._in_avals = [_Aval(s, d) for s, d in self.inputs]
        self._handlers = [_jax.array_result_handler(_Aval(s, d), self._sharding, True, _skip_checks=True)
                          for s, d in self.outputs]

    def __call__(self, *args) -> tuple[Result, ...]:
        if len(args) != len(self.inputs):
            raise TypeError(f"the kernel takes {len(self.inputs)} arguments, got {len(args)}")
        bufs = []
        for a, aval, (shape, dtype) in zip(args, self._in_avals, self.inputs):
            if isinstance(a, Result):
                bufs.append(a.buffer)
                continue
            a = np.asarray(a, dtype=dtype, order="C")
            if a.shape != shape:
                raise ValueError(f"the kernel was compiled for {shape}, got {a.shape}")
            # a copy, so that the caller may reuse its array while the kernel runs
            bufs.append(self._put(aval, self._sharding, [a], [self._device], committed=True, force_copy=True,
                                  enable_x64=False))
        outs = self._exe.execute_sharded(bufs).consume_with_handlers(self._handlers)
        return tuple(Result(o, s, d) for o, (s, d) in zip(outs, self.outputs))


_CALLS: dict[str, Callable] = {}


def _plain(target: str, static: dict[str, Any]) -> Callable:
    """The kernel as a plain jit call (outputs as a tuple, :class:`Result` inputs taken)."""
    fn = partial(_resolve(target), **static)

    def plain(*args):
        out = fn(*(np.asarray(a) if isinstance(a, Result) else a for a in args))
        return out if isinstance(out, tuple) else (out,)
    return plain


def kernel(target: str, name: str, static: dict[str, Any], depends: tuple[str, ...] = ()) -> Callable:
    """The jit-compiled function ``target`` ("module:function") with ``static`` keyword
    arguments bound; the returned callable takes the array arguments and returns a tuple of
    outputs (numpy-convertible). With a cache folder set it runs the cached executable;
    ``depends`` names further modules whose source the kernel's code depends on."""
    if _DIR is None:
        return _plain(target, static)

    def call(*args):
        sig = [_spec(a) for a in args]
        key = hashlib.sha256(repr((name, target, [_file_digest(m) for m in (target.partition(":")[0], *depends)],
                                   _environment(), sorted(static.items()), sig)).encode()).hexdigest()[:32]
        exe = _CALLS.get(key)
        if exe is None:
            with _LOCK:  # threads of a Dask scheduler: one of them loads or compiles
                exe = _CALLS.get(key)
                if exe is None:
                    path = _DIR / "aot" / f"{name}-{key}.xla"
                    try:
                        exe = _load(path, key, sig) or _compile(target, static, args, path, key)
                        out = exe(*args)
                    except _RUNTIME_API:  # a jaxlib whose runtime calls differ from the pinned one's
                        exe = _plain(target, static)
                        out = exe(*args)
                    _CALLS[key] = exe
                    return out
        return exe(*args)
    return call


# what a change in jaxlib's private runtime calls raises; the plain jit path then stands in
_RUNTIME_API = (AttributeError, TypeError, ImportError)


def _load(path: Path, key: str, sig: list) -> Executable | None:
    """The entry at ``path``, or None where it is missing, damaged or not the one asked for."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if len(data) < head or not data.startswith(_MAGIC) or \
            hashlib.sha256(data[head:]).digest() != data[len(_MAGIC):head]:
        return None
    body = data[head:]
    try:
        n = int.from_bytes(body[:4], "little")
        meta = json.loads(body[4:4 + n])
        if meta.get("key") != key or [(tuple(s), d) for s, d in meta["inputs"]] != sig:
            return None
        return Executable(body[4 + n:], meta["inputs"], meta["outputs"])
    except Exception:  # an entry from another runtime: rebuild it
        return None


def _compile(target: str, static: dict[str, Any], args: tuple, path: Path, key: str) -> Executable:
    """Trace, lower and compile the kernel with JAX, keep the executable at ``path`` (if the
    folder can be written) and load it."""
    import jax
    from jaxlib import _jax
    fn = _resolve(target)
    args = tuple(a if not isinstance(a, Result) else jax.ShapeDtypeStruct(a.shape, a.dtype) for a in args)
    lowered = fn.lower(*args, **static)
    # compiled here rather than by lowered.compile(): an executable that JAX took from its own
    # persistent cache (or from its in-memory copy of one) serialises without its code
    client = _client()
    compiled = client.compile_and_load(lowered.as_text(), _jax.DeviceList((client.local_devices()[0],)),
                                       _jax.CompileOptions())
    blob = compiled.serialize()
    outputs = [(list(o.shape), str(o.dtype)) for o in jax.tree.leaves(lowered.out_info)]
    meta = json.dumps({"key": key, "target": target, "static": {k: repr(v) for k, v in static.items()},
                       "jax": jax.__version__, "inputs": [(list(s), d) for s, d in map(_spec, args)],
                       "outputs": outputs}).encode()
    body = len(meta).to_bytes(4, "little") + meta + blob
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        from dnastore.io.atomic import scratch
        scratch(tmp)  # removed on Ctrl-C
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(body).digest() + body)
        os.replace(tmp, path)
    except OSError:  # a read-only or full cache is an optimisation lost, not an error
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    # the first run too goes through the serialised bytes: what runs is what later runs load
    return Executable(blob, json.loads(meta)["inputs"], outputs)
