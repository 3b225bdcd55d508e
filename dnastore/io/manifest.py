"""The JSON sidecars that travel beside sequence artifacts.

- an oligo FASTA ``x.fasta`` has ``x.fasta.json``: the manifest, with every parameter the
  decoder needs and the provenance of the encoding;
- a reads FASTQ ``r.fastq`` has ``r.fastq.json``: the simulator's provenance and a copy of
  the manifest of the oligos it was made from, so that ``consensus`` needs no extra flags;
- a consensus FASTA ``c.fasta`` has ``c.fasta.json``: the same manifest with the
  consensus provenance added, so that ``oligo-decode c.fasta`` finds it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dnastore.errors import DnastoreError

MANIFEST_KIND = "dnastore-oligos"


def sidecar_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


def write_json(path: str | os.PathLike, obj: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def read_json(path: str | os.PathLike, what: str = "JSON sidecar") -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise DnastoreError(f"{what} {path} not found")
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DnastoreError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise DnastoreError(f"{path}: expected a JSON object")
    return obj


def _manifest_in(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The oligo manifest a sidecar is or carries (reads and consensus sidecars may carry none)."""
    if obj.get("kind") == MANIFEST_KIND:
        return obj
    man = obj.get("manifest")
    return man if isinstance(man, dict) and man.get("kind") == MANIFEST_KIND else None


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read and sanity-check an oligo manifest."""
    man = _manifest_in(read_json(path, "manifest"))
    if man is None:
        raise DnastoreError(f"{path} is not a dnastore oligo manifest")
    return man


def find_manifest(seq_path: str | os.PathLike, explicit: str | os.PathLike | None) -> tuple[dict[str, Any], Path]:
    """The manifest for a sequence artifact: ``explicit`` if given (checked against the one
    beside the file, if any), else the sidecar beside the file."""
    beside = sidecar_path(seq_path)
    found = None
    if beside.exists():
        found = _manifest_in(read_json(beside))
    if explicit is not None:
        man = load_manifest(explicit)
        if found is not None and found["encoding_id"] != man["encoding_id"]:
            raise DnastoreError(
                f"manifest {explicit} is from another encoding ({man['encoding_id']}) than {seq_path} "
                f"({found['encoding_id']}, per {beside})")
        return man, Path(explicit)
    if found is None:
        raise DnastoreError(
            f"no manifest for {seq_path}: expected {beside} beside it, or pass --manifest x.fasta.json")
    return found, beside
