"""FASTA/FASTQ reading and writing.

Reading goes through Biopython's streaming parsers (``SimpleFastaParser`` and
``FastqGeneralIterator``), record by record, with gzip detected from the magic bytes.
Whole read sets for consensus (:func:`read_reads`) and strand sets for decoding
(:func:`read_strands`) take a numpy fast path for the plain layouts sequencers and dnastore
write (four-line FASTQ, two-line FASTA) and hand anything else to Biopython, which is imported
only then.
Malformed input becomes a one-line :class:`DnastoreError` naming the file and record.
Writing formats records directly (two-line FASTA, four-line FASTQ); a ``.gz`` target is
written with gzip and a zero mtime so that outputs stay byte-identical across runs.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

import numpy as np

from dnastore.errors import DnastoreError

ACGT = b"ACGT"
_ACGT_RE = re.compile(r"[^ACGT]")
# byte -> base code (A=0, C=1, G=2, T=3, other=4)
_ENC = np.full(256, 4, dtype=np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _ENC[_c] = _i
    _ENC[ord(chr(_c).lower())] = _i


def encode_bases(seq: str | bytes) -> np.ndarray:
    """'ACGT' text -> uint8 codes 0..3 (4 for anything else)."""
    if isinstance(seq, str):
        seq = seq.encode("ascii", "replace")
    # bytes.translate: some five times faster than a numpy table gather; bytearray: writable
    return np.frombuffer(bytearray(bytes(seq).translate(_ENC_TABLE)), dtype=np.uint8)


_COMP = np.full(256, 4, dtype=np.uint8)
_COMP[:4] = [3, 2, 1, 0]
_COMP_TABLE = _COMP.tobytes()


def complement_codes(codes: np.ndarray) -> np.ndarray:
    """Complement of base codes (A<->T, C<->G), leaving non-ACGT (4) as it is; same shape,
    C order. Through ``bytes.translate``: one pass, where arithmetic takes four."""
    codes = np.asarray(codes, dtype=np.uint8)
    return np.frombuffer(codes.tobytes().translate(_COMP_TABLE), dtype=np.uint8).reshape(codes.shape)


_DEC_TABLE = b"ACGT" + b"N" * 252  # bytes.translate table: base code -> letter (N beyond 3)


def decode_bases(codes: np.ndarray) -> str:
    """Base codes -> 'ACGT' text (N for 4 and above)."""
    return np.ascontiguousarray(codes, dtype=np.uint8).tobytes().translate(_DEC_TABLE).decode("ascii")


def conserved_columns(codes: np.ndarray, share: float = 0.9) -> int:
    """How many leading columns of base codes (n, L) hold one base in at least ``share`` of
    the rows (a primer's extent, seen from the reads)."""
    n = 0
    for c in codes.T:
        if np.bincount(c, minlength=5).max() < share * len(c):
            break
        n += 1
    return n


def majority_bases(codes: np.ndarray) -> str:
    """The commonest base of each column of base codes (n, L)."""
    return decode_bases(np.array([np.bincount(c, minlength=5).argmax() for c in codes.T], np.uint8))


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
    """Stream (name, sequence) pairs from a FASTA file, uppercased.

    Two-line FASTA (what dnastore and most tools write) is split directly; anything else
    (wrapped sequences, blank lines, CRLF) goes through Biopython's parser."""
    path = Path(path)
    _check_nonempty(path, "FASTA")
    if sniff_format(path) != "fasta":
        raise DnastoreError(f"{path}: not a FASTA file (it does not start with '>')")
    plain = _plain_fasta(path)
    if plain is not None and not require_acgt:  # names and upper case in bulk
        yield from zip(_names([t for t, _ in plain]), "\n".join(q for _, q in plain).upper().split("\n"))
        return
    records = plain if plain is not None else _biopython_fasta(path)
    n = 0
    for n, (title, seq) in enumerate(records, 1):
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


def read_fasta_matrix(path: str | os.PathLike) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, base codes (n, longest) padded with 4, and lengths of an ACGT FASTA file.

    Two-line FASTA is split whole and translated with ``bytes.translate``; anything else, and any
    file with a bad record (which :func:`read_fasta` then names), goes record by record."""
    path = Path(path)
    _check_nonempty(path, "FASTA")
    if sniff_format(path) != "fasta":
        raise DnastoreError(f"{path}: not a FASTA file (it does not start with '>')")
    plain = _plain_fasta(path)
    fast = _codes_matrix(plain) if plain is not None else None
    if fast is not None:
        return fast
    names, seqs = [], []
    for name, seq in read_fasta(path):
        names.append(name)
        seqs.append(seq)
    lens = np.array([len(q) for q in seqs], dtype=np.int64)
    width = int(lens.max())
    return names, encode_bases("".join(q.ljust(width, "N") for q in seqs)).reshape(len(seqs), width), lens


_ENC_TABLE = _ENC.tobytes()  # bytes.translate table: byte -> base code


def _names(titles: list[str]) -> list[str]:
    """Record names: the first word of each title, or ``record<n>`` for an empty one."""
    return [t.split(None, 1)[0] if t else f"record{n}" for n, t in enumerate(titles, 1)]


def _codes_matrix(records: list[tuple[str, str]]) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """:func:`read_fasta_matrix` for the records of :func:`_plain_fasta`, or None if one holds
    a letter other than ACGT. One join and one :func:`encode_bases` do the encoding."""
    seqs = [q for _, q in records]
    lens = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    width = int(lens.max())
    if not (lens == width).all():
        seqs = [q.ljust(width, "N") for q in seqs]
    mat = encode_bases("".join(seqs)).reshape(len(seqs), width)
    unknown = mat == 4  # a non-ACGT letter, or the padding of a shorter record
    if unknown.any() and unknown[np.arange(width)[None, :] < lens[:, None]].any():
        return None
    return _names([t for t, _ in records]), mat, lens


def _read_bytes(path: Path) -> bytes:
    """The whole file, decompressed if it is gzip."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    import zlib
    try:
        return gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DnastoreError(f"{path}: corrupt or truncated gzip ({e})") from None


def _plain_fasta(path: Path) -> list[tuple[str, str]] | None:
    """(title, sequence) of a two-line FASTA file, or None if it is laid out otherwise."""
    raw = _read_bytes(path)
    if b"\r" in raw:
        return None
    lines = raw.decode("ascii", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    heads, seqs = lines[0::2], lines[1::2]
    if len(lines) % 2 or not all(h[:1] == ">" for h in heads) or any(q[:1] == ">" or not q for q in seqs):
        return None
    return [(h[1:].strip(), q) for h, q in zip(heads, seqs)]


_NOT_SEQUENCE = re.compile(r"[^A-Za-z*.\-]")


def _biopython_fasta(path: Path) -> Iterator[tuple[str, str]]:
    from Bio.SeqIO.FastaIO import SimpleFastaParser
    with _open_text(path) as handle:
        for n, (title, seq) in enumerate(SimpleFastaParser(handle), 1):
            m = _NOT_SEQUENCE.search(seq)
            if m:
                what = " (FASTQ records inside a FASTA file?)" if m.group() in "@+" else ""
                raise DnastoreError(f"{path}: record {n} ({title.split(None, 1)[0] if title else '?'}) has "
                                    f"{m.group()!r} in its sequence{what}")
            yield title, seq


def read_fastq(path: str | os.PathLike) -> Iterator[tuple[str, str, str]]:
    """Stream (name, sequence, quality) triples from a FASTQ file."""
    path = Path(path)
    _check_nonempty(path, "FASTQ")
    n = 0
    with _open_text(path) as handle:
        try:
            from Bio.SeqIO.QualityIO import FastqGeneralIterator
            for title, seq, qual in FastqGeneralIterator(handle):
                n += 1
                yield title.split(None, 1)[0], seq.upper(), qual
        except ValueError as e:
            raise DnastoreError(f"{path}: malformed FASTQ at record {n + 1} (line {4 * n + 1}): {e}") from None
    if n == 0:
        raise DnastoreError(f"{path}: no FASTQ records found")


@dataclass
class ReadSet:
    """Reads held as one byte buffer with offsets: no Python string per read, so that whole
    runs are sliced into matrices by numpy. Sequences are ASCII (any case); qualities are
    Phred+33 or Phred+64 (``offset``, see :func:`detect_phred_offset`), or absent (FASTA)."""

    buf: np.ndarray                  # uint8
    seq_start: np.ndarray            # (n,) offsets into buf
    lens: np.ndarray                 # (n,)
    qual_start: np.ndarray | None    # (n,) offsets, or None
    offset: int = 33

    def __len__(self) -> int:
        return len(self.lens)

    def seq(self, i: int) -> str:
        s = int(self.seq_start[i])
        return self.buf[s:s + int(self.lens[i])].tobytes().upper().decode("latin-1")  # one char per byte, any byte

    def phred(self, i: int) -> np.ndarray:
        n = int(self.lens[i])
        if self.qual_start is None:
            return np.full(n, 30, dtype=np.uint8)
        s = int(self.qual_start[i])
        return self._scores(self.buf[s:s + n])

    def _scores(self, chars: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Quality characters to Phred scores (characters below the offset count as 0),
        into ``out`` if given."""
        out = np.maximum(chars, np.uint8(self.offset), out=out)
        out -= np.uint8(self.offset)
        return out

    def phred_windows(self, rows: np.ndarray, starts: np.ndarray, length: int, reverse: np.ndarray) -> np.ndarray:
        """(n, length) Phred scores of reads ``rows`` from position ``starts`` on, each row
        reversed where ``reverse`` is set."""
        if self.qual_start is None:
            return np.full((len(rows), length), 30, dtype=np.uint8)
        from numpy.lib.stride_tricks import sliding_window_view
        q = sliding_window_view(self.buf, length)[self.qual_start[rows] + starts]
        return self._scores(np.where(reverse[:, None], q[:, ::-1], q))

    def matrices(self, rows: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Base codes and Phred scores of reads ``rows``, all of length ``length``.

        Rows are copied whole from a sliding-window view of the buffer (one contiguous copy per
        read, some 30 times faster than an element-wise gather), a block of rows at a time so
        that the temporaries stay small; the letters become codes by ``bytes.translate``."""
        from numpy.lib.stride_tricks import sliding_window_view
        n = len(rows)
        codes = np.empty((n, length), dtype=np.uint8)
        phred = np.empty((n, length), dtype=np.uint8)
        if n == 0 or length == 0:
            return codes, phred
        qs = self.qual_start
        # plain FASTQ puts the quality 3 bytes after the sequence ("\n+\n"): one copy takes both
        span = qs is not None and bool((qs[rows] - self.seq_start[rows] == length + 3).all())
        view = sliding_window_view(self.buf, 2 * length + 3 if span else length)
        qview = sliding_window_view(self.buf, length) if qs is not None and not span else None
        for lo in range(0, n, 1 << 16):
            r = rows[lo:lo + (1 << 16)]
            block = view[self.seq_start[r]]
            codes[lo:lo + len(r)] = np.frombuffer(block[:, :length].tobytes().translate(_ENC_TABLE),
                                                  dtype=np.uint8).reshape(len(r), length)
            if qs is not None:
                raw_q = block[:, length + 3:] if span else qview[qs[r]]
                self._scores(raw_q, out=phred[lo:lo + len(r)])
        if qs is None:
            phred[...] = np.where(codes < 4, 30, 0)
        return codes, phred

    @classmethod
    def from_strings(cls, seqs: list[str], quals: list[str | None] | None = None) -> "ReadSet":
        lens = np.fromiter((len(x) for x in seqs), dtype=np.int64, count=len(seqs))
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        text = "".join(seqs)
        if quals is not None and len(quals) and all(q is not None for q in quals):
            text += "".join(quals)
            qstart = starts + int(lens.sum())
        else:
            qstart = None
        return cls(np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8), starts, lens, qstart)


PHRED_SAMPLE = 10_000


def detect_phred_offset(reads: ReadSet, path: Path | str = "reads") -> int:
    """33 or 64, from the quality characters of the first reads.

    Phred+64 (Illumina 1.3-1.7, and Solexa's ';' for -5) never uses characters below ';'
    (59) and goes up to 'h' (104); Phred+33 starts at '!' (33) and rarely passes 'J' (74).
    So: characters from ';' up, some above 'K' (75), means +64; anything else +33.
    Characters outside '!'..'~' are refused."""
    if reads.qual_start is None or not len(reads):
        return 33
    m = min(len(reads), PHRED_SAMPLE)
    lens = reads.lens[:m].astype(np.int64)
    if not lens.sum():
        return 33
    idx = np.repeat(reads.qual_start[:m].astype(np.int64) - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) \
        + np.arange(int(lens.sum()))
    q = reads.buf[idx]
    lo, hi = int(q.min()), int(q.max())
    if lo < 33 or hi > 126:
        raise DnastoreError(f"{path}: quality characters outside '!'..'~' (byte {lo if lo < 33 else hi}): "
                            "not a FASTQ quality string")
    return 64 if lo >= 59 and hi > 75 else 33


def read_reads(path: str | os.PathLike) -> ReadSet:
    """All reads of a FASTQ or FASTA file (gzip read transparently) as a :class:`ReadSet`.

    Plain four-line FASTQ is split with numpy in one pass over the bytes; anything else (FASTA,
    wrapped or broken FASTQ) goes through Biopython's parsers, which read the general format
    and name the bad record."""
    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "fastq":
        reads = _split_fastq(_read_bytes(path))
        if reads is None:
            seqs, quals = [], []
            for _, sq, q in read_fastq(path):
                seqs.append(sq)
                quals.append(q)
            reads = ReadSet.from_strings(seqs, quals)
        reads.offset = detect_phred_offset(reads, path)
        return reads
    seqs = [sq for _, sq in read_fasta(path, require_acgt=False)]
    return ReadSet.from_strings(seqs)


def read_strands(path: str | os.PathLike) -> list[tuple[str, str]]:
    """(name, sequence) of every record of a FASTA file (or the reads of a FASTQ file)."""
    if sniff_format(path) == "fasta":
        return list(read_fasta(path, require_acgt=False))
    return [(name, seq) for name, seq, _ in read_fastq(path)]


def read_strands_scored(path: str | os.PathLike) -> list[tuple[str, str, np.ndarray | None]]:
    """(name, sequence, per-base score or None) of every record: a FASTQ's qualities (offset
    33) are the scores, a FASTA has none."""
    if sniff_format(path) == "fasta":
        return [(n, s, None) for n, s in read_fasta(path, require_acgt=False)]
    out = []
    for name, seq, qual in read_fastq(path):
        q = np.frombuffer(qual.encode("ascii", "replace"), np.uint8).astype(np.int16) - 33
        out.append((name, seq, np.clip(q, 0, 93).astype(np.uint8)))
    return out


def write_fastq(path: str | os.PathLike, records: Iterable[tuple[str, str, np.ndarray]],
                target_name: str | None = None) -> int:
    """Write four-line FASTQ records (scores 0..93 as offset-33 characters); returns the count."""
    def text():
        for name, seq, q in records:
            qual = (np.minimum(np.asarray(q, np.uint8), 93) + 33).astype(np.uint8).tobytes().decode("ascii")
            yield f"@{name}\n{seq}\n+\n{qual}\n"
    n = 0
    with FastqWriter(path, target_name) as w:
        buf: list[str] = []
        for rec in text():
            buf.append(rec)
            n += 1
            if len(buf) >= 4096:
                w.write_text("".join(buf).encode("ascii"), len(buf))
                buf.clear()
        w.write_text("".join(buf).encode("ascii"), len(buf))
    return n


def _split_fastq(raw: bytes) -> ReadSet | None:
    """Offsets of plain four-line FASTQ records, or None if the text is anything else."""
    if not raw or b"\r" in raw:
        return None
    if not raw.endswith(b"\n"):
        raw += b"\n"
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    if len(starts) % 4 or not len(starts):
        return None
    lens = ends[1::4] - starts[1::4]
    if not ((buf[starts[0::4]] == 64).all() and (buf[np.minimum(starts[2::4], len(buf) - 1)] == 43).all()
            and (lens == ends[3::4] - starts[3::4]).all()):
        return None
    return ReadSet(buf, starts[1::4].astype(np.int64), lens.astype(np.int64), starts[3::4].astype(np.int64))


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
