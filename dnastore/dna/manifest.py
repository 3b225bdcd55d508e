"""The manifest of an encoding: what the decoder reads from it, checked before anything is
decoded (its digest, then every field with its type and range), and where it is found beside
a sequence artifact. The JSON itself is read and written by :mod:`dnastore.io.manifest`."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from dnastore.errors import DnastoreError
from dnastore.io.manifest import manifest_digest, manifest_in, read_json, sidecar_path

# the most strands, payload bytes and codes one manifest may describe: far above any real run,
# low enough that a corrupted count cannot ask for an absurd allocation
MAX_STRANDS = 10 ** 9
MAX_PAYLOAD = 1 << 30  # the largest input oligo-encode takes (dnastore.stages.files.MAX_SOURCE_BYTES)


def _int(man: dict, key: str, lo: int, hi: int, where: str) -> int:
    v = man.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise DnastoreError(f"{where}: {key} must be an integer in {lo}..{hi}, got {v!r}")
    return v


def validate_manifest(man: dict[str, Any], where: str | os.PathLike) -> dict[str, Any]:
    """Check a manifest before anything is decoded with it: its digest (so an edited or
    corrupted manifest is refused and the message says so), then every field the decoder
    reads, with its type and range."""
    where = str(where)
    try:
        digest = manifest_digest(man)
    except (TypeError, ValueError) as e:
        raise DnastoreError(f"{where}: the manifest holds values JSON cannot carry ({e})") from None
    if "digest" not in man:
        raise DnastoreError(f"{where}: the manifest carries no digest (written by another tool or an older dnastore); "
                            "re-encode the data")
    if man["digest"] != digest:
        raise DnastoreError(f"{where}: the manifest was altered after encoding (digest {str(man['digest'])[:19]}... "
                            f"recorded, {digest[:19]}... now)")
    if not isinstance(man.get("encoding_id"), str):
        raise DnastoreError(f"{where}: encoding_id must be a string")
    n = _int(man, "n_strands", 1, MAX_STRANDS, where)
    n_data = _int(man, "n_data_strands", 1, n, where)
    b = _int(man, "bytes_per_strand", 1, 1 << 16, where)
    payload = _int(man, "payload_bytes", 1, min(MAX_PAYLOAD, n_data * b), where)
    if n_data != math.ceil(payload / b):
        # the counts must follow from the payload: a corrupted count cannot ask for memory the data never needed
        raise DnastoreError(f"{where}: n_data_strands {n_data} does not follow from payload_bytes {payload} at "
                            f"{b} bytes per strand")
    _int(man, "unit", 1, 1 << 16, where)
    code = man.get("code", "goldman")
    if code == "dense":
        _validate_dense(man, where, b)
    elif code != "goldman":
        raise DnastoreError(f"{where}: unknown oligo code {code!r} (this dnastore knows goldman and dense)")
    else:
        _validate_goldman(man, where)
    outer = man.get("outer")
    if outer is not None:
        from dnastore.dna.outer import RSPlan
        try:
            plan = RSPlan.from_json(outer)
            ok = (plan.n_data == n_data and 1 <= plan.nsym < 255 and plan.blocks
                  and all(0 <= s and 1 <= k and k + plan.nsym <= 255 for s, k in plan.blocks)
                  and sum(k for _, k in plan.blocks) == n_data and n_data + plan.n_parity == n)
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise DnastoreError(f"{where}: bad outer-code plan ({type(e).__name__}: {e})") from None
        if not ok:
            raise DnastoreError(f"{where}: the outer-code plan does not fit the strand counts")
    elif n != n_data:
        raise DnastoreError(f"{where}: {n - n_data} parity strands but no outer-code plan")
    mode = man.get("mode", "file")
    if mode not in ("file", "codes", "folder"):
        raise DnastoreError(f"{where}: mode must be file, folder or codes, got {mode!r}")
    if mode == "codes":
        _validate_codes(man.get("codes"), where, man["payload_bytes"])
    if mode == "folder":
        _validate_files(man.get("files"), where, man["payload_bytes"])
    return man


def _validate_goldman(man: dict[str, Any], where: str) -> None:
    from dnastore.dna.huffman import LMAX, NSYM
    lengths = man.get("huffman_lengths")
    if (not isinstance(lengths, list) or len(lengths) != NSYM
            or not all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= LMAX for x in lengths)):
        raise DnastoreError(f"{where}: huffman_lengths must be {NSYM} integers in 1..{LMAX}")
    if sum(3.0 ** -x for x in lengths) > 1 + 1e-9:
        raise DnastoreError(f"{where}: huffman_lengths are not a prefix code (Kraft sum above 1)")
    from dnastore.dna.codec import Layout
    lay = man.get("layout")
    try:
        layout = Layout.from_json(lay)
        layout.validate()
        if not (isinstance(lay["strand_length"], int) and 8 <= layout.strand_length <= 100_000
                and 0 <= layout.index_trits <= 64 and 4 <= layout.check_trits <= 64
                and len(layout.primers) == 2 and all(isinstance(p, str) for p in layout.primers)
                and layout.payload_trits > 0):
            raise ValueError("field out of range")
    except DnastoreError as e:
        raise DnastoreError(f"{where}: bad layout ({e.message})") from None
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise DnastoreError(f"{where}: bad layout ({type(e).__name__}: {e})") from None


def _validate_dense(man: dict[str, Any], where: str, b: int) -> None:
    from dnastore.dna.dense import DenseLayout
    lay = man.get("layout")
    try:
        layout = DenseLayout.from_json(lay)
        c = layout.constraints
        if not (isinstance(lay["core_nt"], int) and 40 <= layout.core_nt <= 4 * 255 + 4
                and 1 <= layout.index_bytes <= 4 and 1 <= layout.inner_parity <= 32
                and len(layout.primers) == 2 and all(isinstance(p, str) and not set(p) - set("ACGT")
                                                     for p in layout.primers)
                and layout.strand_length == lay["strand_length"] and 1 <= layout.payload_bytes
                and layout.frame_bytes <= 255 and b <= layout.payload_bytes
                and 1 <= c.max_run <= 64 and 0 <= c.gc[0] < c.gc[1] <= 1 and 1 <= c.window <= 1000
                and 0 <= c.window_gc[0] < c.window_gc[1] <= 1):
            raise ValueError("field out of range")
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise DnastoreError(f"{where}: bad dense layout ({type(e).__name__}: {e})") from None
    if man["n_strands"] >= 256 ** layout.index_bytes:
        raise DnastoreError(f"{where}: {man['n_strands']} strands do not fit {layout.index_bytes} index bytes")


def safe_relative(path: Any) -> bool:
    """A relative POSIX path that stays inside its folder."""
    return (isinstance(path, str) and bool(path) and not path.startswith("/") and "\\" not in path and "\0" not in path
            and all(part not in ("", ".", "..") for part in path.split("/")))


def _validate_files(files: Any, where: str, payload_bytes: int) -> None:
    if not isinstance(files, list) or not files:
        raise DnastoreError(f"{where}: a folder manifest needs a non-empty 'files' list")
    total = 0
    seen = set()
    for f in files:
        if not (isinstance(f, list) and len(f) == 3 and safe_relative(f[0]) and isinstance(f[1], int)
                and not isinstance(f[1], bool) and f[1] >= 0 and isinstance(f[2], str) and len(f[2]) == 64):
            raise DnastoreError(f"{where}: each entry of 'files' must be [relative path, size, sha256], got {f!r:.80}")
        if f[0] in seen:
            raise DnastoreError(f"{where}: 'files' names {f[0]!r} twice")
        seen.add(f[0])
        total += f[1]
    if total != payload_bytes:
        raise DnastoreError(f"{where}: the sizes in 'files' add up to {total}, not payload_bytes {payload_bytes}")


def _validate_codes(c: Any, where: str, payload_bytes: int) -> None:
    import numpy as np
    if not isinstance(c, dict):
        raise DnastoreError(f"{where}: a codes manifest needs a 'codes' object")
    shape = c.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)):
        raise DnastoreError(f"{where}: codes.shape must be [images, codes per image], got {shape!r}")
    if c.get("dtype") not in ("uint8", "uint16", "uint32"):
        raise DnastoreError(f"{where}: codes.dtype must be uint8, uint16 or uint32, got {c.get('dtype')!r}")
    n_bits = c.get("n_bits", 8 * np.dtype(c["dtype"]).itemsize)
    if isinstance(n_bits, bool) or not isinstance(n_bits, int) or not 1 <= n_bits <= 8 * np.dtype(c["dtype"]).itemsize:
        raise DnastoreError(f"{where}: codes.n_bits must fit codes.dtype, got {n_bits!r}")
    if math.ceil(shape[0] * shape[1] * n_bits / 8) != payload_bytes:
        raise DnastoreError(f"{where}: codes.shape and n_bits do not match payload_bytes")
    if c.get("order", "column") not in ("column", "row"):
        raise DnastoreError(f"{where}: codes.order must be column or row")
    names = c.get("names")
    if names is not None and (not isinstance(names, list) or not all(isinstance(x, str) for x in names)):
        raise DnastoreError(f"{where}: codes.names must be a list of strings")
    if not isinstance(c.get("attrs", {}), dict) or not isinstance(c.get("arrays", {}), dict):
        raise DnastoreError(f"{where}: codes.attrs and codes.arrays must be objects")
    for k, v in c.get("arrays", {}).items():
        try:
            if not isinstance(v["dtype"], str) or np.dtype(v["dtype"]).kind not in "biuf":
                raise ValueError(f"dtype {v['dtype']!r}")
            np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"])
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise DnastoreError(f"{where}: codes.arrays.{k} is malformed ({type(e).__name__}: {e})") from None


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check an oligo manifest (or the one a reads or consensus sidecar carries)."""
    man = manifest_in(read_json(path, "manifest"))
    if man is None:
        raise DnastoreError(f"{path} is not a dnastore oligo manifest")
    return validate_manifest(man, path)


def carried_manifest(path: str | os.PathLike) -> dict[str, Any] | None:
    """The checked manifest a sidecar is or carries, or None if it carries none."""
    man = manifest_in(read_json(path))
    return None if man is None else validate_manifest(man, path)


def find_manifest(seq_path: str | os.PathLike, explicit: str | os.PathLike | None, optional: bool = False
                  ) -> tuple[dict[str, Any] | None, Path | None]:
    """The manifest for a sequence artifact: ``explicit`` if given (checked against the one
    beside the file, if any), else the sidecar beside the file; with ``optional``, (None,
    None) where there is neither."""
    beside = sidecar_path(seq_path)
    found = None
    if beside.exists():
        found = carried_manifest(beside)
    if explicit is not None:
        man = load_manifest(explicit)
        if found is not None and found["encoding_id"] != man["encoding_id"]:
            raise DnastoreError(
                f"manifest {explicit} is from another encoding ({man['encoding_id']}) than {seq_path} "
                f"({found['encoding_id']}, per {beside})")
        return man, Path(explicit)
    if found is None:
        if optional:
            return None, None
        raise DnastoreError(
            f"no manifest for {seq_path}: expected {beside} beside it, or pass --manifest x.fasta.json")
    return found, beside
