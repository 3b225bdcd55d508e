"""Reads as other tools write them: gzip, Windows line endings, lowercase bases, N bases and
Phred+64 qualities are read, and a file still makes the round trip byte-identical; quality
characters no FASTQ uses are refused in one line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from helpers import one_line_error, run

from dnastore.io.seqio import ReadSet, detect_phred_offset


@pytest.fixture
def reads(tmp):
    Path("f.bin").write_bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    run(["oligo-encode", "f.bin", "-o", "x.fasta", "--outer-redundancy", "0.3"])
    run(["simulate", "x.fasta", "--coverage", "10", "-o", "r.fastq", "--no-progress"])
    return Path("r.fastq").read_bytes()


def _to_phred64(data: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[3::4] = [bytes(min(c + 31, 104) for c in q) for q in lines[3::4]]
    return b"\n".join(lines)


def _with_n(data: bytes, rate: float, seed: int = 0) -> bytes:
    lines = data.split(b"\n")
    rng = np.random.default_rng(seed)
    out = []
    for s in lines[1::4]:
        a = np.frombuffer(s, np.uint8).copy()
        a[rng.random(len(a)) < rate] = ord("N")
        out.append(a.tobytes())
    lines[1::4] = out
    return b"\n".join(lines)


@pytest.mark.parametrize("variant", ["gzip", "crlf", "lower", "phred64", "n-bases", "all"])
def test_peer_layouts_make_the_round_trip(reads, variant):
    data = reads
    if variant in ("phred64", "all"):
        data = _to_phred64(data)
    if variant in ("n-bases", "all"):
        data = _with_n(data, 0.01)
    if variant in ("lower", "all"):
        lines = data.split(b"\n")
        lines[1::4] = [s.lower() for s in lines[1::4]]
        data = b"\n".join(lines)
    if variant in ("crlf", "all"):
        data = data.replace(b"\n", b"\r\n")
    name = "p.fastq.gz" if variant in ("gzip", "all") else "p.fastq"
    Path(name).write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    run(["consensus", name, "--manifest", "x.fasta.json", "-o", "c.fasta", "--no-progress"])
    run(["oligo-decode", "c.fasta", "-o", "f.out"])
    assert Path("f.out").read_bytes() == Path("f.bin").read_bytes()


def test_phred_offset_is_detected():
    seqs = ["ACGT" * 10] * 3
    q33 = ["".join(chr(33 + q) for q in range(2, 42))] * 3
    q64 = ["".join(chr(64 + q) for q in range(2, 42))] * 3
    high33 = ["J" * 40] * 3  # Phred+33 at Q41 throughout: still +33
    assert detect_phred_offset(ReadSet.from_strings(seqs, q33)) == 33
    assert detect_phred_offset(ReadSet.from_strings(seqs, high33)) == 33
    r = ReadSet.from_strings(seqs, q64)
    r.offset = detect_phred_offset(r)
    assert r.offset == 64 and list(r.phred(0)[:3]) == [2, 3, 4]
    assert (r.matrices(np.arange(3), 40)[1][0] == np.arange(2, 42)).all()


def test_quality_characters_outside_the_fastq_range_are_refused(reads):
    lines = reads.split(b"\n")
    lines[3] = b"\x1f" * len(lines[3])
    Path("bad.fastq").write_bytes(b"\n".join(lines))
    r = run(["consensus", "bad.fastq", "--manifest", "x.fasta.json", "-o", "c.fasta"], ok=False)
    one_line_error(r)
    assert "quality characters" in r.output and not Path("c.fasta").exists()
