"""The JSON sidecars that travel beside sequence artifacts.

- an oligo FASTA ``x.fasta`` has ``x.fasta.json``: the manifest, with every parameter the
  decoder needs and the provenance of the encoding;
- a reads FASTQ ``r.fastq`` has ``r.fastq.json``: the simulator's provenance and a copy of
  the manifest of the oligos it was made from, so that ``consensus`` needs no extra flags;
- a consensus FASTA ``c.fasta`` has ``c.fasta.json``: the same manifest with the
  consensus provenance added, so that ``oligo-decode c.fasta`` finds it.

What a manifest must hold, and its checks, belong to the oligo code
(:mod:`dnastore.dna.manifest`); this module reads and writes the JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dnastore.errors import DnastoreError
from dnastore.io.artifacts import OLIGOS_KIND as MANIFEST_KIND


def manifest_digest(man: dict[str, Any]) -> str:
    """sha256 of everything the decoder reads (all but provenance, the header strands' own
    record, and the digest itself)."""
    body = {k: v for k, v in man.items() if k not in ("provenance", "digest", "header")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def seal_manifest(man: dict[str, Any]) -> dict[str, Any]:
    """Record the manifest's digest in it (done once, when the oligos are written)."""
    man["digest"] = manifest_digest(man)
    return man


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
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError, oversized ints
        raise DnastoreError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise DnastoreError(f"{path}: expected a JSON object")
    return obj


def manifest_in(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The oligo manifest a sidecar is or carries (reads and consensus sidecars may carry none)."""
    if obj.get("kind") == MANIFEST_KIND:
        return obj
    man = obj.get("manifest")
    return man if isinstance(man, dict) and man.get("kind") == MANIFEST_KIND else None
