"""Weights, checkpoints and other model files in a safe format: msgpack (Flax's
serialization) of flat ``{"path/to/leaf": array}`` maps plus JSON text. Never pickle."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from dnastore.errors import DnastoreError


def flat_arrays(tree: Any) -> dict[str, np.ndarray]:
    leaves = _tree_util().tree_flatten_with_path(tree)[0]
    return {_tree_util().keystr(p, simple=True, separator="/"): np.asarray(v) for p, v in leaves}


def unflatten_into(template: Any, flat: dict[str, np.ndarray], what: str) -> Any:
    def pick(path, leaf):
        k = _tree_util().keystr(path, simple=True, separator="/")
        if k not in flat:
            raise DnastoreError(f"{what}: missing array {k}")
        v = np.asarray(flat[k])
        if v.shape != np.shape(leaf):
            raise DnastoreError(f"{what}: array {k} has shape {v.shape}, the model wants {np.shape(leaf)}")
        import jax.numpy as jnp
        return jnp.asarray(v, dtype=leaf.dtype if hasattr(leaf, "dtype") else None)
    return _tree_util().tree_map_with_path(pick, template)


def write_msgpack(path: Path, obj: dict[str, Any]) -> None:
    from flax import serialization
    Path(path).write_bytes(serialization.msgpack_serialize(obj))


def read_msgpack(path: Path, fmt: str) -> dict[str, Any]:
    from flax import serialization
    try:
        obj = serialization.msgpack_restore(Path(path).read_bytes())
    except FileNotFoundError:
        raise DnastoreError(f"{path}: no such file") from None
    except Exception as e:
        raise DnastoreError(f"{path} is not a dnastore {fmt} file ({type(e).__name__})") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise DnastoreError(f"{path} is not a dnastore {fmt} file")
    return obj


def file_sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _tree_util():
    import jax
    return jax.tree_util
