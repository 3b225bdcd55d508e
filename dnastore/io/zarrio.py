"""Zarr v3 groups: opening one of a given kind, and the one writer every artifact uses
(:class:`GroupWriter`: arrays chunked along the first axis, created whole or filled piece by
piece). Which kinds exist and what they hold is in :mod:`dnastore.io.artifacts`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from dnastore.errors import DnastoreError


def open_group(path: str | os.PathLike, kind: str) -> zarr.Group:
    path = Path(path)
    if not path.exists():
        raise DnastoreError(f"{path}: no such Zarr artifact")
    try:
        g = zarr.open_group(str(path), mode="r")
    except Exception as e:  # zarr raises several types for a non-group path
        raise DnastoreError(f"{path} is not a Zarr group ({type(e).__name__})") from None
    if g.attrs.get("kind") != kind:
        raise DnastoreError(f"{path} is not a {kind} artifact (kind={g.attrs.get('kind')!r})")
    return g


class GroupWriter:
    """A new Zarr v3 group whose arrays are chunked along the first axis (``chunk_rows`` rows
    a chunk): created at their full shape and filled slice by slice (:meth:`create`,
    :meth:`put`), or written whole (:meth:`write`)."""

    def __init__(self, path: str | os.PathLike, attrs: dict[str, Any], chunk_rows: int = 4096):
        self.g = zarr.open_group(str(path), mode="w", zarr_format=3)
        self.g.attrs.update(attrs)
        self.chunk_rows = chunk_rows
        self.arrays: dict[str, Any] = {}

    def create(self, name: str, shape: tuple[int, ...], dtype) -> None:
        chunks = (max(1, min(self.chunk_rows, shape[0])),) + tuple(shape[1:]) if len(shape) else ()
        self.arrays[name] = self.g.create_array(name, shape=shape, dtype=dtype, chunks=chunks)

    def put(self, name: str, i0: int, values: np.ndarray) -> None:
        self.arrays[name][i0:i0 + len(values)] = values

    def write(self, name: str, values: np.ndarray) -> None:
        """A whole array at once."""
        values = np.asarray(values)
        self.create(name, values.shape, values.dtype)
        if values.size:
            self.arrays[name][...] = values


def write_group(path: str | os.PathLike, arrays: dict[str, np.ndarray], attrs: dict[str, Any],
                chunk_rows: int = 4096) -> None:
    """Write arrays (chunked along the first axis) and attributes as a new Zarr v3 group."""
    gw = GroupWriter(path, attrs, chunk_rows)
    for name, arr in arrays.items():
        gw.write(name, arr)


def encode_names(names: list[str]) -> np.ndarray:
    """Names as a uint8 (N, W) array of UTF-8 bytes, zero-padded."""
    raw = [s.encode("utf-8") for s in names]
    out = np.zeros((len(raw), max(1, max((len(b) for b in raw), default=1))), np.uint8)
    for i, b in enumerate(raw):
        out[i, :len(b)] = np.frombuffer(b, np.uint8)
    return out


def decode_names(arr: np.ndarray) -> list[str]:
    arr = np.asarray(arr)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise DnastoreError(f"'names' must be a uint8 (N, W) array, got {arr.dtype} {arr.shape}")
    try:
        return [bytes(r).rstrip(b"\0").decode("utf-8") for r in arr]
    except UnicodeDecodeError:
        raise DnastoreError("'names' holds bytes that are not UTF-8") from None
