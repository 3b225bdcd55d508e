"""Zarr v3 artifacts. The codes artifact is the contract between the image codecs and the
oligo codec:

``codes.zarr/``
  ``codes``   uint8 or uint16 (N, K): the integer code of each latent element
  ``erased``  bool (N, K), present after ``oligo-decode``: True where the code was lost
  other arrays (train statistics for a quantizer, ...) are carried through unchanged
  attrs: ``kind = "dnastore-codes"``, ``n_bits``, quantizer settings, ``provenance``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from dnastore.errors import DnastoreError

CODES_KIND = "dnastore-codes"


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


def write_group(path: str | os.PathLike, arrays: dict[str, np.ndarray], attrs: dict[str, Any],
                chunk_rows: int = 4096) -> None:
    """Write arrays (chunked along the first axis) and attributes as a new Zarr v3 group."""
    g = zarr.open_group(str(path), mode="w", zarr_format=3)
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        chunks = (max(1, min(chunk_rows, arr.shape[0])),) + arr.shape[1:] if arr.ndim else ()
        a = g.create_array(name, shape=arr.shape, dtype=arr.dtype, chunks=chunks)
        a[...] = arr
    g.attrs.update(attrs)


def read_codes(path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any], dict[str, np.ndarray]]:
    """(codes, attrs, other arrays) of a codes artifact."""
    g = open_group(path, CODES_KIND)
    if "codes" not in g.array_keys():
        raise DnastoreError(f"{path}: codes artifact has no 'codes' array")
    codes = np.asarray(g["codes"][...])
    if codes.dtype not in (np.uint8, np.uint16) or codes.ndim != 2:
        raise DnastoreError(f"{path}: 'codes' must be a 2-D uint8 or uint16 array, got {codes.dtype} {codes.shape}")
    if codes.size == 0:
        raise DnastoreError(f"{path}: 'codes' is empty {codes.shape}")
    extra = {k: np.asarray(g[k][...]) for k in g.array_keys() if k not in ("codes", "erased")}
    for k, a in extra.items():
        if a.dtype.kind not in "biuf" or (a.dtype.kind == "f" and not np.isfinite(a).all()):
            raise DnastoreError(f"{path}: array {k!r} must hold finite numbers, got {a.dtype} with NaN, inf or worse")
    attrs = dict(g.attrs)
    try:
        json.dumps(attrs, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise DnastoreError(f"{path}: attributes that JSON cannot carry ({e})") from None
    return codes, attrs, extra
