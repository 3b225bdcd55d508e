"""Consensus over read files of any size, in bounded memory.

A file that fits in one chunk (``chunk_bytes`` of FASTQ text: 64 MB, about 200,000 reads of
150 nt, or ``DNASTORE_CHUNK_BYTES``) is read, trimmed, clustered and called in memory, as
:func:`~dnastore.consensus.call.call_consensus` does. A larger one takes two passes:

1. **Trim and spill.** The file is read chunk by chunk (whole records only; gzip streamed).
   Each chunk's reads are oriented and trimmed to cores, and every core goes to one of
   ``P`` shard files on disk by a hash of its first ``SHARD_PREFIX`` bases. Those bases
   hold the strand's selector and index, so all the reads of one strand land in the same
   shard. ``P`` is chosen from the file size so that a shard is about one chunk.
2. **Cluster and call per shard.** Each shard is read back and called on its own; the
   strands of all shards are the result.

A read with an error in its first ``SHARD_PREFIX`` bases lands in another shard (about 2% of
reads at Illumina rates). There it joins no cluster of its strand: it makes a cluster of its
own, whose consensus fails the per-strand check and is dropped as an erasure, never
misplaced. Its strand is called from the other reads. The price is that read's vote.

Shard files are raw bytes (no pickles) in a temporary folder that is removed afterwards,
even on an error. The chunk reader also gives :mod:`dnastore.cli` its streaming input.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from dnastore.consensus.call import (
    Cores,
    Design,
    call_consensus,
    orient_and_trim,
    stable_order,
)
from dnastore.errors import DnastoreError
from dnastore.io.seqio import (
    ReadSet,
    _split_fastq,
    detect_phred_offset,
    encode_bases,
    read_fastq,
    read_reads,
    sniff_format,
)


def _chunk_bytes() -> int:
    """64 MB of FASTQ text per chunk, or DNASTORE_CHUNK_BYTES (for machines with little memory)."""
    try:
        return max(1 << 16, int(os.environ.get("DNASTORE_CHUNK_BYTES", 1 << 26)))
    except ValueError:
        raise DnastoreError("DNASTORE_CHUNK_BYTES must be a whole number of bytes") from None


SHARD_PREFIX = 12
MAX_SHARDS = 4096


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def iter_read_chunks(path: str | os.PathLike, chunk_bytes: int | None = None) -> Iterator[ReadSet]:
    """The reads of a FASTQ or FASTA file as :class:`ReadSet` chunks of whole records (see
    :func:`_chunks`); a corrupt or cut-off gzip stream is a one-line error naming the file."""
    import zlib
    try:
        yield from _chunks(path, chunk_bytes)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DnastoreError(f"{path}: corrupt or truncated gzip ({e})") from None


def _chunks(path: str | os.PathLike, chunk_bytes: int | None = None) -> Iterator[ReadSet]:
    """The reads of a FASTQ or FASTA file as :class:`ReadSet` chunks of whole records.

    Plain four-line FASTQ is cut at record boundaries and split with numpy; other layouts
    (wrapped, CRLF, FASTA) go through the Biopython parsers in batches. Qualities take the
    Phred offset detected on the first chunk."""
    path = Path(path)
    chunk_bytes = chunk_bytes or _chunk_bytes()
    fmt = sniff_format(path)
    offset = None
    if fmt == "fasta":
        yield read_reads(path)  # FASTA reads are consensus input rarely, and small
        return
    plain = True
    done = 0
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as f:
        rest = b""
        while True:
            data = f.read(chunk_bytes)
            buf = rest + data if rest else data
            if not buf:
                break
            last = len(data) < chunk_bytes  # a short read is the end of the file
            if not last:
                ends = np.flatnonzero(np.frombuffer(buf, np.uint8) == 10)
                n_lines = len(ends) - len(ends) % 4
                if n_lines == 0:
                    rest = buf
                    continue
                cut = int(ends[n_lines - 1]) + 1
                piece, rest = buf[:cut], buf[cut:]
            else:
                piece, rest = buf, b""
            reads = _split_fastq(piece)
            if reads is None:
                if offset is not None:  # plain records so far, then not
                    raise DnastoreError(f"{path}: malformed FASTQ after record {done:,}: not a four-line record "
                                        "(a truncated file, or a layout change part way)")
                plain = False
                break
            done += len(reads)
            if offset is None:
                offset = detect_phred_offset(reads, path)
            reads.offset = offset
            yield reads
            if last:
                break
    if plain:
        return
    # another layout: Biopython's streaming parser (it also names a malformed record), in
    # batches of about a chunk
    batch_reads = max(1000, chunk_bytes // 320)
    seqs: list[str] = []
    quals: list[str] = []
    for _, s, q in read_fastq(path):
        seqs.append(s)
        quals.append(q)
        if len(seqs) >= batch_reads:
            reads = ReadSet.from_strings(seqs, quals)
            offset = detect_phred_offset(reads, path) if offset is None else offset
            reads.offset = offset
            yield reads
            seqs, quals = [], []
    if seqs:
        reads = ReadSet.from_strings(seqs, quals)
        reads.offset = detect_phred_offset(reads, path) if offset is None else offset
        yield reads


def first_reads(path: str | os.PathLike, chunk_bytes: int = 1 << 22) -> ReadSet:
    """The reads of about the first ``chunk_bytes`` of a file (to infer a design from)."""
    reads = next(iter_read_chunks(path, chunk_bytes), None)
    if reads is None:
        raise DnastoreError(f"{path}: no reads")
    return reads


def _shard_of(prefix_codes: np.ndarray, n_shards: int) -> np.ndarray:
    """Shard of each row of base codes (n, SHARD_PREFIX): a multiplicative hash of the bases."""
    h = np.zeros(len(prefix_codes), dtype=np.uint64)
    for j in range(prefix_codes.shape[1]):
        h = h * np.uint64(5) + prefix_codes[:, j].astype(np.uint64)
    h = h * np.uint64(0x9E3779B97F4A7C15)
    return ((h >> np.uint64(40)) % np.uint64(n_shards)).astype(np.int64)


class _Spill:
    """Per-shard files of cores: design-length rows as fixed-width bytes (bases then Phred),
    the others as length-prefixed records (core, Phred, whole read)."""

    def __init__(self, folder: Path, n_shards: int, L: int):
        self.folder, self.n, self.L = folder, n_shards, L
        self.mat = [open(folder / f"{i}.mat", "wb") for i in range(n_shards)]
        self.var = [open(folder / f"{i}.var", "wb") for i in range(n_shards)]

    def add(self, cores: Cores) -> None:
        if cores.mat.shape[0]:
            rows = np.concatenate([cores.mat, cores.qmat], axis=1)
            shard = _shard_of(cores.mat[:, :SHARD_PREFIX], self.n)
            order = stable_order(shard)
            bounds = np.searchsorted(shard[order], np.arange(self.n + 1))
            for i in range(self.n):
                if bounds[i + 1] > bounds[i]:
                    self.mat[i].write(rows[order[bounds[i]:bounds[i + 1]]].tobytes())
        if cores.var:
            pre = np.full((len(cores.var), SHARD_PREFIX), 4, np.uint8)
            for j, c in enumerate(cores.var):
                p = encode_bases(c[:SHARD_PREFIX])
                pre[j, :len(p)] = p
            shard = _shard_of(pre, self.n)
            for j, (c, q, w) in enumerate(zip(cores.var, cores.varq, cores.varfull)):
                cb, wb = c.encode(), w.encode()
                self.var[shard[j]].write(struct.pack("<II", len(cb), len(wb)) + cb
                                         + np.asarray(q, np.uint8).tobytes() + wb)

    def close(self) -> None:
        for f in self.mat + self.var:
            f.close()


def read_shard(folder: str | os.PathLike, i: int, L: int) -> Cores:
    """The cores spilled to shard ``i``."""
    folder = Path(folder)
    raw = np.fromfile(folder / f"{i}.mat", dtype=np.uint8)
    rows = raw.reshape(-1, 2 * L)
    var, varq, varfull = [], [], []
    data = (folder / f"{i}.var").read_bytes()
    pos = 0
    while pos < len(data):
        lc, lw = struct.unpack_from("<II", data, pos)
        pos += 8
        var.append(data[pos:pos + lc].decode())
        varq.append(np.frombuffer(data, np.uint8, lc, pos + lc).copy())
        varfull.append(data[pos + 2 * lc:pos + 2 * lc + lw].decode())
        pos += 2 * lc + lw
    return Cores(np.ascontiguousarray(rows[:, :L]), np.ascontiguousarray(rows[:, L:]), var, varq, varfull)


def call_shard(folder: str, L: int, design: Design, method: str, min_size: int, i: int
               ) -> tuple[list[tuple[str, int]], dict]:
    """(strands, stats) of shard ``i``: a piece of work for any scheduler."""
    cores = read_shard(folder, i, L)
    if not cores.n:
        return [], {}
    return call_consensus(cores, design, method=method, min_size=min_size)


def _add_stats(total: dict, part: dict) -> None:
    for k, v in part.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            total.setdefault(k, v)
        else:
            total[k] = total.get(k, 0) + int(v)


def stream_consensus(path: str | os.PathLike, design: Design, *, method: str = "vote", min_size: int = 1,
                     chunk_bytes: int | None = None, tmp_dir: str | os.PathLike | None = None,
                     progress=None, executor=None) -> tuple[list[tuple[str, int]], dict, dict]:
    """(strands, trim stats, call stats) of a read file, in memory bounded by the chunk size."""
    path = Path(path)
    chunk_bytes = chunk_bytes or _chunk_bytes()
    chunks = iter_read_chunks(path, chunk_bytes)
    first = next(chunks, None)
    if first is None:
        raise DnastoreError(f"{path}: no reads")
    second = next(chunks, None)
    if second is None:  # one chunk: all in memory
        cores, tstats = orient_and_trim(first, None, design)
        if progress:
            progress("trimmed")
        strands, cstats = call_consensus(cores, design, method=method, min_size=min_size)
        if progress:
            progress("called")
        return strands, tstats, cstats
    size = path.stat().st_size * (4 if _is_gzip(path) else 1)
    n_shards = int(min(MAX_SHARDS, max(2, math.ceil(size / chunk_bytes))))
    # an absolute path: the workers of a cluster do not share this process's folder
    from dnastore.io.atomic import scratch
    folder = scratch(Path(tempfile.mkdtemp(prefix="dnastore-consensus-", dir=tmp_dir)).resolve())  # gone on Ctrl-C
    try:
        spill = _Spill(folder, n_shards, design.core_len)
        tstats: dict = {}
        for reads in _chain(first, second, chunks):
            cores, st = orient_and_trim(reads, None, design)
            _add_stats(tstats, st)
            spill.add(cores)
            del cores, reads
        spill.close()
        if progress:
            progress("trimmed")
        strands: list[tuple[str, int]] = []
        cstats: dict = {}
        results = (executor.map(call_shard, [(i,) for i in range(n_shards)],
                                shared=(str(folder), design.core_len, design, method, min_size))
                   if executor is not None else
                   (call_shard(str(folder), design.core_len, design, method, min_size, i) for i in range(n_shards)))
        for got, st in results:  # in shard order, whatever ran them
            strands.extend(got)
            _add_stats(cstats, st)
        if progress:
            progress("called")
        strands.sort(key=lambda t: -t[1])
        cstats.update(kept=len(strands), shards=n_shards)
        for k in ("clusters", "spoa_clusters", "projected_reads"):
            cstats.setdefault(k, 0)
        cstats.setdefault("indel_rich", False)
        cstats.setdefault("method", method)
        return strands, tstats, cstats
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _chain(a, b, rest):
    yield a
    yield b
    yield from rest
