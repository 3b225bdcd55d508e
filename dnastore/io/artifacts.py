"""Every artifact kind, with its reader and writer, in one place.

Zarr v3 groups (all written with :class:`dnastore.io.zarrio.GroupWriter`):

``dataset.zarr``  kind ``dnastore-dataset``
  ``images`` uint8 (N, H, W) grey or (N, H, W, C) colour, chunked along N; ``labels`` int16
  (N,), -1 where unknown; ``names`` uint8 (N, W), UTF-8 zero-padded (Zarr v3 has no stable
  string type yet). attrs: ``source``, ``provenance``.

``latents.zarr``  kind ``dnastore-latents``
  ``mu`` float32 (N, K); ``logvar`` float32 (N, K) where known; ``erased`` bool (N, K) after
  decoding; ``names``/``labels`` where known. attrs: ``codec``, ``weights_digest``,
  ``weights_name``, ``latent``, ``image_shape``, ``channels``, ``provenance``.

``codes.zarr``  kind ``dnastore-codes``: the contract between the image codecs and the oligo code
  ``codes`` uint8 or uint16 (N, D); ``erased`` bool (N, D) after ``oligo-decode``; small side
  arrays (quantizer statistics, file lengths) carried through unchanged. attrs: ``codec``,
  ``n_bits`` and the codec's settings, ``provenance``.

``recon/images.zarr``  kind ``dnastore-reconstruction``
  ``images``, ``names``, ``codes_erased`` per image after decoding, per-image metrics where the
  originals were given. attrs: ``provenance``, ``weights_digest``.

Model files (msgpack, :mod:`dnastore.io.msgpack`): ``dnastore-weights`` (a codec's weights and
statistics), ``dnastore-checkpoint`` (a training run, resumable), ``dnastore-jscc`` (seed 002's
systems), ``dnastore-classifier`` (the MNIST classifier).

Sequence artifacts (FASTA/FASTQ in :mod:`dnastore.io.seqio`) carry a JSON sidecar
(:mod:`dnastore.io.manifest`) of kind ``dnastore-oligos`` (the manifest of an encoding),
``dnastore-reads`` (a simulator's reads) or ``dnastore-consensus`` (called strands).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from dnastore.errors import DnastoreError

if TYPE_CHECKING:
    import numpy as np

    from dnastore.io.zarrio import GroupWriter

DATASET_KIND = "dnastore-dataset"
LATENTS_KIND = "dnastore-latents"
CODES_KIND = "dnastore-codes"
RECON_KIND = "dnastore-reconstruction"
OLIGOS_KIND = "dnastore-oligos"
READS_KIND = "dnastore-reads"
CONSENSUS_KIND = "dnastore-consensus"
# model files: msgpack of flat arrays plus JSON text (dnastore.io.msgpack), told apart by ``format``
WEIGHTS_FORMAT = "dnastore-weights"
CHECKPOINT_FORMAT = "dnastore-checkpoint"
JSCC_FORMAT = "dnastore-jscc"
CLASSIFIER_FORMAT = "dnastore-classifier"


# ---- dataset
def write_dataset(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray | None, names: list[str],
                  attrs: dict[str, Any]) -> None:
    import numpy as np

    from dnastore.io.zarrio import encode_names, write_group
    n = len(images)
    labels = np.full(n, -1, np.int16) if labels is None else np.asarray(labels).astype(np.int16)
    write_group(path, {"images": images, "labels": labels, "names": encode_names(names)},
                {"kind": DATASET_KIND, **attrs}, chunk_rows=1024)


def open_dataset(path: str | os.PathLike) -> tuple[Any, np.ndarray, list[str], dict[str, Any]]:
    """(images as a lazy Zarr array, labels int16, names, attrs) of a dataset artifact,
    checked without reading the pixels."""
    import numpy as np

    from dnastore.io.zarrio import decode_names, open_group
    g = open_group(path, DATASET_KIND)
    keys = set(g.array_keys())
    if "images" not in keys:
        raise DnastoreError(f"{path}: dataset artifact has no 'images' array")
    arr = g["images"]
    shape, dtype = tuple(arr.shape), np.dtype(arr.dtype)
    if dtype != np.uint8 or len(shape) not in (3, 4) or shape[0] == 0:
        raise DnastoreError(f"{path}: 'images' must be a non-empty uint8 (N,H,W[,C]) array, got {dtype} {shape}")
    n = shape[0]
    labels = np.asarray(g["labels"][...]) if "labels" in keys else np.full(n, -1, np.int16)
    names = decode_names(g["names"][...]) if "names" in keys else [f"image-{i:06d}" for i in range(n)]
    if labels.shape != (n,) or len(names) != n:
        raise DnastoreError(f"{path}: 'labels' and 'names' must have one entry per image ({n})")
    return arr, labels.astype(np.int16), names, dict(g.attrs)


def read_dataset(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, Any]]:
    """(images uint8, labels int16, names, attrs) of a dataset artifact, checked."""
    import numpy as np
    arr, labels, names, attrs = open_dataset(path)
    return np.asarray(arr[...]), labels, names, attrs


# ---- latents
def latents_writer(path: str | os.PathLike, attrs: dict[str, Any], chunk_rows: int) -> GroupWriter:
    """A latents group to fill piece by piece (``mu``, ``logvar``, then ``names``/``labels``)."""
    from dnastore.io.zarrio import GroupWriter
    return GroupWriter(path, {"kind": LATENTS_KIND, **attrs}, chunk_rows)


def write_latents(path: str | os.PathLike, mu: np.ndarray, logvar: np.ndarray | None, attrs: dict[str, Any],
                  names: list[str] | None = None, labels: np.ndarray | None = None,
                  erased: np.ndarray | None = None) -> None:
    from dnastore.io.zarrio import encode_names, write_group
    arrays = {"mu": mu}
    if logvar is not None:
        arrays["logvar"] = logvar
    if erased is not None:
        arrays["erased"] = erased
    if names is not None:
        arrays["names"] = encode_names(names)
    if labels is not None:
        arrays["labels"] = labels
    write_group(path, arrays, {"kind": LATENTS_KIND, **attrs})


def read_latents(path: str | os.PathLike):
    """(mu, logvar or None, erased or None, names or None, attrs) of a latents artifact, checked."""
    import numpy as np

    from dnastore.io.zarrio import decode_names, open_group
    g = open_group(path, LATENTS_KIND)
    keys = set(g.array_keys())
    if "mu" not in keys:
        raise DnastoreError(f"{path}: latents artifact has no 'mu' array")
    mu = np.asarray(g["mu"][...])
    if mu.ndim != 2 or mu.dtype != np.float32:
        raise DnastoreError(f"{path}: 'mu' must be float32 (N, K), got {mu.dtype} {mu.shape}")
    if mu.size == 0 or not np.isfinite(mu).all():
        raise DnastoreError(f"{path}: 'mu' is empty or holds NaN or infinite values")
    arr = {k: np.asarray(g[k][...]) for k in keys if k not in ("mu", "names")}
    for k in ("logvar", "erased"):
        if k in arr and arr[k].shape != mu.shape:
            raise DnastoreError(f"{path}: '{k}' has shape {arr[k].shape}, 'mu' has {mu.shape}")
    if "logvar" in arr and (arr["logvar"].dtype.kind != "f" or not np.isfinite(arr["logvar"]).all()):
        raise DnastoreError(f"{path}: 'logvar' must hold finite floats")
    names = decode_names(g["names"][...]) if "names" in keys else None
    return mu, arr.get("logvar"), arr.get("erased"), names, dict(g.attrs)


# ---- codes
def write_codes(path: str | os.PathLike, codes: np.ndarray, attrs: dict[str, Any],
                arrays: dict[str, np.ndarray] | None = None, erased: np.ndarray | None = None) -> None:
    """A codes artifact: ``codes``, then ``erased`` (where known), then the side arrays; the
    attributes in the order given (``kind`` first unless the caller placed it)."""
    from dnastore.io.zarrio import write_group
    out = {"codes": codes}
    if erased is not None:
        out["erased"] = erased
    write_group(path, {**out, **(arrays or {})}, attrs if "kind" in attrs else {"kind": CODES_KIND, **attrs})


def read_codes(path: str | os.PathLike, with_erased: bool = False):
    """(codes, attrs, side arrays) of a codes artifact, checked; with ``with_erased`` also its
    erasure mask (None where the artifact has none)."""
    import numpy as np

    from dnastore.io.zarrio import open_group
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
    if not with_erased:
        return codes, attrs, extra
    erased = np.asarray(g["erased"][...], bool) if "erased" in g.array_keys() else None
    if erased is not None and erased.shape != codes.shape:
        raise DnastoreError(f"{path}: 'erased' has shape {erased.shape}, 'codes' has {codes.shape}")
    return codes, attrs, extra, erased


# ---- reconstruction
def recon_writer(path: str | os.PathLike, attrs: dict[str, Any], chunk_rows: int) -> GroupWriter:
    from dnastore.io.zarrio import GroupWriter
    return GroupWriter(path, {"kind": RECON_KIND, **attrs}, chunk_rows)
