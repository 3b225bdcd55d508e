"""FASTA/FASTQ reading and writing.

Reading goes through Biopython's streaming parsers (``SimpleFastaParser`` and
``FastqGeneralIterator``), record by record, with gzip detected from the magic bytes.
Malformed input becomes a one-line :class:`DnastoreError` naming the file and record.
Writing formats records directly (two-line FASTA, four-line FASTQ); a ``.gz`` target is
written with gzip and a zero mtime so that outputs stay byte-identical across runs.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path
from typing import IO, Iterable, Iterator

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser
from Bio.SeqIO.QualityIO import FastqGeneralIterator

from dnastore.errors import DnastoreError

ACGT = b"ACGT"
_ACGT_RE = re.compile(r"[^ACGT]")
# byte -> base code (A=0, C=1, G=2, T=3, other=4)
_ENC = np.full(256, 4, dtype=np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _ENC[_c] = _i
    _ENC[ord(chr(_c).lower())] = _i
_DEC = np.frombuffer(b"ACGTN", dtype=np.uint8)


def encode_bases(seq: str | bytes) -> np.ndarray:
    """'ACGT' text -> uint8 codes 0..3 (4 for anything else)."""
    if isinstance(seq, str):
        seq = seq.encode("ascii", "replace")
    return _ENC[np.frombuffer(seq, dtype=np.uint8)]


def decode_bases(codes: np.ndarray) -> str:
    return _DEC[np.asarray(codes, dtype=np.uint8)].tobytes().decode("ascii")


def revcomp(seq: str) -> str:
    return seq.translate(str.maketrans("ACGTacgt", "TGCAtgca"))[::-1]


def _open_text(path: str | os.PathLike) -> IO[str]:
    path = Path(path)
    if not path.exists():
        raise DnastoreError(f"{path}: no such file")
    if path.is_dir():
        raise DnastoreError(f"{path} is a folder, not a sequence file")
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="ascii", errors="replace")
    return open(path, "r", encoding="ascii", errors="replace")


def _check_nonempty(path: Path, kind: str) -> None:
    if path.exists() and path.is_file() and path.stat().st_size == 0:
        raise DnastoreError(f"{path} is empty: expected {kind} records")


def read_fasta(path: str | os.PathLike, *, require_acgt: bool = True) -> Iterator[tuple[str, str]]:
    """Stream (name, sequence) pairs from a FASTA file, uppercased."""
    path = Path(path)
    _check_nonempty(path, "FASTA")
    n = 0
    if sniff_format(path) != "fasta":
        raise DnastoreError(f"{path}: not a FASTA file (it does not start with '>')")
    with _open_text(path) as handle:
        for title, seq in SimpleFastaParser(handle):
            n += 1
            name = title.split(None, 1)[0] if title else f"record{n}"
            seq = seq.upper()
            if require_acgt:
                m = _ACGT_RE.search(seq)
                if m:
                    raise DnastoreError(
                        f"{path}: record {n} ({name}) has the non-ACGT letter {m.group()!r} at position {m.start() + 1}")
                if not seq:
                    raise DnastoreError(f"{path}: record {n} ({name}) has an empty sequence")
            yield name, seq
    if n == 0:
        raise DnastoreError(f"{path}: no FASTA records found")


def read_fastq(path: str | os.PathLike) -> Iterator[tuple[str, str, str]]:
    """Stream (name, sequence, quality) triples from a FASTQ file."""
    path = Path(path)
    _check_nonempty(path, "FASTQ")
    n = 0
    with _open_text(path) as handle:
        try:
            for title, seq, qual in FastqGeneralIterator(handle):
                n += 1
                yield title.split(None, 1)[0], seq.upper(), qual
        except ValueError as e:
            raise DnastoreError(f"{path}: malformed FASTQ at record {n + 1} (line {4 * n + 1}): {e}") from None
    if n == 0:
        raise DnastoreError(f"{path}: no FASTQ records found")


def read_fastq_arrays(path: str | os.PathLike, block: int = 1 << 24) -> Iterator[tuple[list[str], list[str]]]:
    """Batches of (sequences, qualities) from a FASTQ file.

    Plain four-line records (what sequencers and simulators write) are split in bulk, a block
    at a time; a block that is not plain four-line FASTQ (wrapped lines, a broken record) goes
    through Biopython's parser instead, which reads the general format and reports errors
    with the record number."""
    path = Path(path)
    _check_nonempty(path, "FASTQ")
    if sniff_format(path) != "fastq":
        raise DnastoreError(f"{path}: not a FASTQ file (it does not start with '@')")
    n = 0
    with _open_text(path) as handle:
        carry = ""
        while True:
            chunk = handle.read(block)
            text = carry + chunk
            if not chunk:
                lines = text.split("\n")
                if lines and lines[-1] == "":
                    lines.pop()
                carry = ""
            else:
                lines = text.split("\n")
                keep = (len(lines) - 1) // 4 * 4
                carry = "\n".join(lines[keep:])
                lines = lines[:keep]
            if lines:
                heads, seqs, plus, quals = lines[0::4], lines[1::4], lines[2::4], lines[3::4]
                plain = (len(lines) % 4 == 0 and all(h[:1] == "@" for h in heads) and all(p[:1] == "+" for p in plus)
                         and all(len(a) == len(b) for a, b in zip(seqs, quals)))
                if not plain:
                    # let Biopython read this stretch: it handles the general format and names the bad record
                    recs = _parse_fastq_text("\n".join(lines) + "\n", path, n)
                    seqs = [r[0] for r in recs]
                    quals = [r[1] for r in recs]
                else:
                    seqs = [x.rstrip("\r").upper() for x in seqs]
                    quals = [x.rstrip("\r") for x in quals]
                n += len(seqs)
                yield seqs, quals
            if not chunk:
                break
    if n == 0:
        raise DnastoreError(f"{path}: no FASTQ records found")


def _parse_fastq_text(text: str, path: Path, before: int) -> list[tuple[str, str]]:
    out = []
    try:
        for _, seq, qual in FastqGeneralIterator(io.StringIO(text)):
            out.append((seq.upper(), qual))
    except ValueError as e:
        k = before + len(out) + 1
        raise DnastoreError(f"{path}: malformed FASTQ at record {k} (line {4 * (k - 1) + 1}): {e}") from None
    return out


def sniff_format(path: str | os.PathLike) -> str:
    """'fasta' or 'fastq', from the first character of the (possibly gzipped) file."""
    path = Path(path)
    _check_nonempty(path, "sequence")
    with _open_text(path) as handle:
        c = handle.read(1)
    if c == ">":
        return "fasta"
    if c == "@":
        return "fastq"
    raise DnastoreError(f"{path}: neither FASTA nor FASTQ (first character {c!r})")


def read_sequences(path: str | os.PathLike) -> Iterator[tuple[str, str, str | None]]:
    """Reads from FASTA or FASTQ alike: (name, sequence, quality-or-None)."""
    if sniff_format(path) == "fasta":
        for name, seq in read_fasta(path, require_acgt=False):
            yield name, seq, None
    else:
        yield from read_fastq(path)


def _open_out(path: Path, target_name: str) -> IO[bytes]:
    if target_name.endswith(".gz"):
        raw = open(path, "wb")
        return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="")  # type: ignore[return-value]
    return open(path, "wb")


def write_fasta(path: str | os.PathLike, records: Iterable[tuple[str, str]], target_name: str | None = None) -> int:
    """Write two-line FASTA records; returns the count. ``target_name`` decides gzip."""
    path = Path(path)
    n = 0
    f = _open_out(path, target_name or path.name)
    try:
        buf = []
        for name, seq in records:
            buf.append(f">{name}\n{seq}\n")
            n += 1
            if len(buf) >= 4096:
                f.write("".join(buf).encode("ascii"))
                buf.clear()
        f.write("".join(buf).encode("ascii"))
    finally:
        f.close()
        if isinstance(f, gzip.GzipFile) and f.fileobj is not None:  # pragma: no cover
            f.fileobj.close()
    return n


class FastqWriter:
    """Streaming FASTQ writer for batches of records formatted elsewhere (gzip by name)."""

    def __init__(self, path: str | os.PathLike, target_name: str | None = None):
        path = Path(path)
        self._f = _open_out(path, target_name or path.name)
        self._raw = getattr(self._f, "fileobj", None)
        self.count = 0

    def write_text(self, text: bytes, n_records: int) -> None:
        """Append records already formatted as FASTQ text."""
        self._f.write(text)
        self.count += n_records

    def close(self) -> None:
        self._f.close()
        if self._raw is not None:
            self._raw.close()

    def __enter__(self) -> "FastqWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
