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

from dnastore.errors import DnastoreError

MAX_SIDE_VALUES = 1 << 16  # side arrays travel in the JSON manifest: keep them small


def codes_payload(codes: np.ndarray, attrs: dict[str, Any], arrays: dict[str, np.ndarray],
                  order: str | None = None, names: list[str] | None = None) -> tuple[bytes, dict[str, Any]]:
    """(payload, manifest fields) of a codes array; ``names`` (one per image) travel in the
    manifest, and so in the pool's header strands. The order is the codes' own ``order``
    attribute where they have one ("row": each row's bytes together, for codecs whose rows
    are packets that each fill a strand, with ``unit`` their length so that no strand splits
    one), else "column"."""
    order = order or str(attrs.get("order", "column"))
    if order not in ("row", "column"):
        raise DnastoreError(f"codes attribute order={order!r} is neither row nor column")
    unit = attrs.get("unit", 1)
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 1 <= unit <= 1 << 16:
        raise DnastoreError(f"codes attribute unit={unit!r} is not a whole number of bytes")
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
    if unit != 1:  # packets that must not straddle strands (recorded only where they exist)
        extra["codes"]["unit"] = int(unit)
    if names is not None:
        extra["codes"]["names"] = [str(x) for x in names]
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


def pack_bits(codes: np.ndarray, n_bits: int, order: str = "column") -> bytes:
    """Codes (N, D) → bytes, ``n_bits`` per code, most significant bit first.

    ``order = "column"`` writes element 0 of every image, then element 1, ...: each strand
    then carries one element of many images, so a lost strand costs each of those images one
    element (filled with the prior's centre) instead of costing one image everything.
    """
    c = np.asarray(codes)
    vals = (c.T if order == "column" else c).ravel().astype(np.uint32)
    shifts = np.arange(n_bits - 1, -1, -1, dtype=np.uint32)
    bits = ((vals[:, None] >> shifts[None, :]) & 1).astype(np.uint8).ravel()
    return np.packbits(bits).tobytes()


def unpack_bits(payload: bytes, erased_bytes: np.ndarray, shape: tuple[int, int], n_bits: int,
                order: str = "column") -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pack_bits`: (codes, erased) of ``shape``; a code is erased when any
    of its bits lies in an erased byte."""
    n, d = shape
    total = n * d * n_bits
    bits = np.unpackbits(np.frombuffer(payload, np.uint8))[:total]
    ebits = np.repeat(np.asarray(erased_bytes, bool), 8)[:total]
    if len(bits) < total:  # a short payload: the tail is erased
        bits = np.concatenate([bits, np.zeros(total - len(bits), np.uint8)])
        ebits = np.concatenate([ebits, np.ones(total - len(ebits), bool)])
    bits = bits.reshape(-1, n_bits).astype(np.uint32)
    vals = (bits << np.arange(n_bits - 1, -1, -1, dtype=np.uint32)[None, :]).sum(axis=1)
    er = ebits.reshape(-1, n_bits).any(axis=1)
    dt = np.dtype(np.uint8 if n_bits <= 8 else np.uint16)
    if order == "column":
        return vals.reshape(d, n).T.astype(dt), er.reshape(d, n).T
    return vals.reshape(n, d).astype(dt), er.reshape(n, d)
