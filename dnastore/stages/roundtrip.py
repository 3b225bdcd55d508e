"""A payload through the whole DNA channel in one call, for experiments: oligo-encode ->
synthesis and sequencing -> consensus -> oligo-decode, with the functions the stages run.

Reads pass through a temporary FASTQ file (the simulator writes FASTQ records in its kernel
and the reader has a fast path for them), so the experiment sees exactly what a user's
chained commands see.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dnastore.channel.dna import SimParams, format_fastq, simulate_reads
from dnastore.dna.codec import Encoded, Layout, encode_payload
from dnastore.io.seqio import encode_bases
from dnastore.stages.files import call_strands, payload_from_strands


@dataclass
class Received:
    payload: bytes
    erased: np.ndarray  # bool per payload byte
    stats: dict[str, Any]


def encode(payload: bytes, extra: dict[str, Any], layout: Layout | None = None,
           redundancy: float | None = None, code: str = "goldman", **settings) -> Encoded:
    """Strands of a payload in the named oligo code (``layout`` is the Goldman-style code's;
    ``settings`` go to the code, such as the dense code's ``inner_parity``)."""
    if code == "goldman" and not settings:
        return encode_payload(payload, layout or Layout(), unit=1, redundancy=redundancy or None, extra=extra)
    from dnastore.dna.codec import DEFAULT_PRIMERS
    from dnastore.dna.codes import get_code
    c = get_code(code)
    length = settings.pop("strand_length", None) or c.default_length
    return c.encode(payload, strand_length=length, primers=settings.pop("primers", DEFAULT_PRIMERS),
                    unit=int(extra.get("codes", {}).get("unit", 1)) if extra.get("mode") == "codes" else 1,
                    redundancy=redundancy, extra=extra, **settings)


def transmit(enc: Encoded, params: SimParams, seed: int, method: str = "vote") -> Received:
    """The encoded strands through the simulated wet lab and back to payload bytes."""
    man = enc.manifest
    lens = np.array([len(s) for s in enc.strands])
    width = int(lens.max())
    mat = encode_bases("".join(s.ljust(width, "N") for s in enc.strands)).reshape(len(enc.strands), width)
    n_reads, _, batches = simulate_reads(mat, lens, params, seed)
    with tempfile.TemporaryDirectory(prefix="dnastore-rt-") as tmp:
        fq = Path(tmp) / "reads.fastq"
        with open(fq, "wb") as f:
            for b in batches:
                f.write(format_fastq(b))
        strands = call_strands(fq, man, method=method).strands if n_reads else []
    p = payload_from_strands(strands, man, partial=True)
    return Received(p.data, np.asarray(p.erased, bool),
                    {"reads": int(n_reads), "strands": man["n_strands"], "valid": p.strands["valid"],
                     "data_strands_missing": p.outer["data_strands_missing"]})
