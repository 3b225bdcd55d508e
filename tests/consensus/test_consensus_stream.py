"""Streaming consensus: a read file larger than one chunk is trimmed chunk by chunk into
shards on disk and called shard by shard; the file still comes back byte-identical, the
result matches the in-memory one, and the shard folder is gone afterwards."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from helpers import run

from dnastore.consensus.call import Design
from dnastore.consensus.stream import iter_read_chunks, stream_consensus
from dnastore.dna.manifest import load_manifest
from dnastore.io.seqio import read_reads


@pytest.fixture
def reads(tmp):
    Path("f.bin").write_bytes(np.random.default_rng(2).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    run(["oligo-encode", "f.bin", "-o", "x.fasta", "--outer-redundancy", "0.2"])
    run(["simulate", "x.fasta", "--coverage", "8", "-o", "r.fastq", "--no-progress"])
    return Path("r.fastq")


def test_chunks_cover_every_read_once(reads):
    whole = read_reads(reads)
    chunks = list(iter_read_chunks(reads, 1 << 16))
    assert len(chunks) > 5 and sum(len(c) for c in chunks) == len(whole)
    seqs = [c.seq(i) for c in chunks for i in range(len(c))]
    assert seqs == [whole.seq(i) for i in range(len(whole))]
    Path("r.fastq.gz").write_bytes(gzip.compress(reads.read_bytes(), mtime=0))
    assert sum(len(c) for c in iter_read_chunks("r.fastq.gz", 1 << 16)) == len(whole)
    Path("crlf.fastq").write_bytes(reads.read_bytes().replace(b"\n", b"\r\n"))
    assert sum(len(c) for c in iter_read_chunks("crlf.fastq", 1 << 16)) == len(whole)


def test_sharded_consensus_matches_in_memory_and_cleans_up(reads):
    design = Design.from_manifest(load_manifest("x.fasta.json"))
    mem, _, _ = stream_consensus(reads, design)
    with tempfile.TemporaryDirectory() as spill:
        sharded, tstats, cstats = stream_consensus(reads, design, chunk_bytes=1 << 16, tmp_dir=spill)
        assert not list(Path(spill).iterdir())  # the shard folder is removed
    assert cstats["shards"] > 2 and tstats["reads"] == len(read_reads(reads))
    good_mem = {r[0] for r in mem if r[1] >= 3}
    good_sharded = {r[0] for r in sharded if r[1] >= 3}
    assert len(good_mem & good_sharded) >= 0.98 * len(good_mem)


def test_cli_round_trip_through_shards(reads, monkeypatch):
    monkeypatch.setenv("DNASTORE_CHUNK_BYTES", str(1 << 16))
    s = json.loads(run(["consensus", "r.fastq", "-o", "c.fasta", "--json", "--no-progress"]).stdout)
    assert s["reads"] == len(read_reads(reads))
    run(["oligo-decode", "c.fasta", "-o", "f.out"])
    assert Path("f.out").read_bytes() == Path("f.bin").read_bytes()
