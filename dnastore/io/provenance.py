"""Provenance records and content digests. Every artifact carries one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from dnastore import __version__

FORMAT_VERSION = 1


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file, or of every file under a folder (a Zarr store) in sorted order."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode())
            h.update(b"\0")
            h.update(_file_sha(p).encode())
        return "sha256:" + h.hexdigest()
    return "sha256:" + _file_sha(path)


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def provenance(stage: str, params: dict[str, Any], inputs: dict[str, str | os.PathLike] | None = None,
               parent: dict[str, Any] | None = None, digests: dict[str, str] | None = None) -> dict[str, Any]:
    """What wrote an artifact: stage, parameters, the digests of its inputs, tool and version.

    ``digests`` holds digests already computed (say, in a thread beside the work). No
    timestamps: the same inputs and seed give byte-identical artifacts.
    """
    digests = digests or {}
    rec: dict[str, Any] = {
        "tool": "dnastore",
        "version": __version__,
        "format_version": FORMAT_VERSION,
        "stage": stage,
        "params": params,
        "inputs": {k: {"path": Path(v).name, "digest": digests.get(k) or file_digest(v)}
                   for k, v in (inputs or {}).items()},
    }
    if parent is not None:
        rec["parent"] = parent
    return rec
