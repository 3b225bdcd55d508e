"""Approximate mode of the oligo codec: a codes artifact in, bytes for the strands out, and
back, with an erasure mask where strands were lost.

The codes are packed ``n_bits`` per code (the quantizer's width, not the array's dtype) in
column order (element k of every image, then element k+1, ...), so a lost strand takes one
element from each of many images rather than a whole image. The manifest's ``codes`` entry
records shape, dtype, n_bits, order, the codes' attributes and small side arrays (quantizer
statistics), so that the decoder can rebuild the artifact from the strands alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnastore.codecs.quant import pack_bits, unpack_bits
from dnastore.errors import DnastoreError

MAX_SIDE_VALUES = 1 << 16  # side arrays travel in the JSON manifest: keep them small


def codes_payload(codes: np.ndarray, attrs: dict[str, Any], arrays: dict[str, np.ndarray],
                  order: str = "column") -> tuple[bytes, dict[str, Any]]:
    n_bits = attrs.get("n_bits", 8 * codes.dtype.itemsize)
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)) or not 1 <= n_bits <= 8 * codes.dtype.itemsize:
        raise DnastoreError(f"codes attribute n_bits={n_bits} does not fit the {codes.dtype} codes")
    if codes.size and int(codes.max()) >> n_bits:
        raise DnastoreError(f"a code exceeds n_bits={n_bits} (max {int(codes.max())})")
    if codes.size == 0:
        raise DnastoreError("the codes artifact holds no codes")
    for k, v in arrays.items():
        if v.size > MAX_SIDE_VALUES:
            raise DnastoreError(f"side array {k!r} has {v.size} values; at most {MAX_SIDE_VALUES} travel in the manifest")
    extra = {"mode": "codes", "codes": {
        "shape": list(codes.shape), "dtype": str(codes.dtype), "n_bits": int(n_bits), "order": order,
        "attrs": {k: v for k, v in attrs.items() if k not in ("provenance", "kind")},
        "source_provenance": attrs.get("provenance"),
        "arrays": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.ravel().tolist()}
                   for k, v in arrays.items()}}}
    return pack_bits(codes, n_bits, order), extra


def codes_from_payload(payload: bytes, erased_bytes: np.ndarray, man: dict[str, Any]
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    """(codes, erased, side arrays, attrs) from the assembled payload of a codes manifest."""
    c = man["codes"]
    shape = tuple(int(v) for v in c["shape"])
    dtype = np.dtype(c["dtype"])
    n_bits = int(c.get("n_bits", 8 * dtype.itemsize))
    codes, erased = unpack_bits(payload, erased_bytes, shape, n_bits, c.get("order", "column"))
    codes = np.where(erased, 0, codes).astype(dtype)
    arrays = {k: np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in c.get("arrays", {}).items()}
    return codes, erased, arrays, dict(c.get("attrs", {}))
