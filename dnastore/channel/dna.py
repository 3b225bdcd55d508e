"""DNA synthesis and sequencing simulator, as jit-compiled JAX kernels over padded batches
of strands (no Python loop over bases).

Synthesis
    every designed strand gets a copy number from a lognormal (sigma = the bias; dt4dds
    measured 0.30 for Twist and 1.30 for CustomArray, Gimpel et al. 2023) or a gamma
    (negative-binomial reads) distribution; a strand drops out with probability ``dropout``.
    Each molecule carries its own synthesis substitutions and deletions.
Sequencing
    reads are drawn from the pool in proportion to copy number until the mean coverage per
    designed strand is reached; each read is the molecule or, with probability
    ``rc_fraction``, its reverse complement, with per-base substitutions, insertions and
    deletions whose rates rise linearly along the read (``slope``), and Phred qualities that
    follow the local error rate and drop at the errors themselves.

Copy numbers and the source strand of each read come from a numpy generator seeded with the
seed; the per-base noise is counter-based inside the compiled kernel (a hash of the seed, the
read number and the draw), so a read does not depend on how the run is cut into batches.
The output is byte-identical for a seed. The kernels themselves are in
:mod:`dnastore.channel.dna_kernels`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from dnastore import aot
from dnastore.errors import DnastoreError

PAD = 4
# the kernels (dna_kernels.py imports JAX; a run with cached executables never loads it) and
# the module whose constants they use, for the cache key
_KERNELS = "dnastore.channel.dna_kernels:"
_DEPENDS = ("dnastore.channel.dna",)


@dataclass(frozen=True)
class SimParams:
    coverage: float = 10.0
    # synthesis
    copy_dist: str = "lognormal"  # or "negbin"
    bias: float = 0.30
    dropout: float = 0.0
    synth_sub: float = 0.0
    synth_del: float = 0.0
    # sequencing, per base, at the middle of the read
    sub: float = 0.0
    ins: float = 0.0
    dele: float = 0.0
    slope: float = 0.0  # rate multiplier runs from 1 - slope at the first base to 1 + slope at the last
    rc_fraction: float = 0.0

    def validate(self) -> None:
        if not 0 < self.coverage <= 1e6:  # also refuses NaN and infinity
            raise DnastoreError(f"--coverage must be in (0, 1e6], got {self.coverage}")
        for name in ("dropout", "synth_sub", "synth_del", "sub", "ins", "dele", "rc_fraction"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise DnastoreError(f"{name.replace('_', '-')} must be a probability in [0, 1], got {v}")
        if not 0 <= self.slope < 1:
            raise DnastoreError(f"--slope must be in [0, 1), got {self.slope}")
        if not 0 <= self.bias <= 10:  # a lognormal sigma of 10 already spans 10^4 in copy number
            raise DnastoreError(f"--bias must be in [0, 10], got {self.bias}")
        if self.copy_dist not in ("lognormal", "negbin"):
            raise DnastoreError(f"--copy-dist must be lognormal or negbin, got {self.copy_dist}")
        if (1 + self.slope) * (self.sub + self.dele + self.ins) + self.synth_sub + self.synth_del > 1:
            raise DnastoreError("the substitution, insertion and deletion rates add up to more than one per base")


# Synthesis profiles (copy-number bias and per-base synthesis errors from dt4dds' Twist and
# CustomArray settings) and sequencing presets.
SYNTHESIS = {
    "twist": dict(bias=0.30, synth_sub=0.0, synth_del=0.00057, dropout=0.0),
    "customarray": dict(bias=1.30, synth_sub=0.0, synth_del=0.0156, dropout=0.0),
    "ideal": dict(bias=0.0, synth_sub=0.0, synth_del=0.0, dropout=0.0),
}
PRESETS = {
    # Illumina: 0.1-0.3% substitutions, rising along the read; indels an order rarer
    "illumina": dict(synthesis="twist", sub=0.002, ins=0.0001, dele=0.0002, slope=0.5, rc_fraction=0.5),
    # Nanopore: 5-10% errors, many of them indels
    "nanopore": dict(synthesis="twist", sub=0.03, ins=0.02, dele=0.025, slope=0.0, rc_fraction=0.5),
    "ideal": dict(synthesis="ideal", sub=0.0, ins=0.0, dele=0.0, slope=0.0, rc_fraction=0.0),
}


def preset_params(preset: str, synthesis: str | None = None, **overrides) -> SimParams:
    if preset not in PRESETS:
        raise DnastoreError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    p = dict(PRESETS[preset])
    syn = synthesis or p.pop("synthesis")
    p.pop("synthesis", None)
    if syn not in SYNTHESIS:
        raise DnastoreError(f"unknown synthesis profile {syn!r}; choose one of {', '.join(SYNTHESIS)}")
    p.update(SYNTHESIS[syn])
    p.update({k: v for k, v in overrides.items() if v is not None})
    params = SimParams(**p)
    params.validate()
    return params


def copy_numbers(rng: np.random.Generator, n: int, params: SimParams) -> np.ndarray:
    """Relative copy number of each designed strand after synthesis (0 where it dropped out)."""
    if params.copy_dist == "negbin":
        shape = 1.0 / max(params.bias, 1e-3) ** 2
        w = rng.gamma(shape, 1.0 / shape, n)
    else:
        w = np.exp(params.bias * rng.standard_normal(n))
    w[rng.random(n) < params.dropout] = 0.0
    return w


NAME_DIGITS = 8
HEAD = NAME_DIGITS + 3  # "@r" + digits + newline


def read_name(i: int) -> str:
    """The name the simulator gives read ``i`` (built the same way inside the kernel)."""
    return f"r{i:0{NAME_DIGITS}d}"


def max_events(length: int, p_max: float, tail: float = 1e-9) -> int:
    """Event slots per read: the Poisson count of candidate events exceeds it with
    probability below ``tail``."""
    lam = length * -math.log1p(-min(p_max, 0.999))
    k, pmf = 0, math.exp(-lam)
    cdf = pmf
    while 1.0 - cdf > tail:
        k += 1
        pmf *= lam / k
        cdf += pmf
    return max(4, k)


def _row_lout(width: int) -> int:
    """The read columns of a record row of ``width`` bytes (header, read, "+" line, qualities)."""
    return (width - HEAD - 4) // 2


_CODE = np.full(256, PAD, dtype=np.uint8)
_CODE[np.frombuffer(b"ACGT", dtype=np.uint8)] = np.arange(4, dtype=np.uint8)


@dataclass
class ReadBatch:
    """A batch of simulated reads. ``records`` holds each read's FASTQ record, zero-padded to
    one row width; the base codes and Phred scores are views decoded from it."""
    records: np.ndarray  # (B, HEAD + 2 * lout + 4) uint8
    lens: np.ndarray     # (B,)
    source: np.ndarray   # (B,) strand number
    rc: np.ndarray       # (B,) bool
    errors: np.ndarray   # (B, 3): substitutions, insertions, deletions

    @property
    def lout(self) -> int:
        return _row_lout(self.records.shape[1])

    @property
    def seqs(self) -> np.ndarray:
        """(B, lout) base codes, PAD beyond each read's length."""
        return _CODE[self.records[:, HEAD:HEAD + self.lout]]

    @property
    def quals(self) -> np.ndarray:
        """(B, lout) Phred scores, 0 beyond each read's length."""
        q = self.records[:, HEAD + self.lout + 3:HEAD + 2 * self.lout + 3]
        return np.where(q > 0, q - 33, 0).astype(np.uint8)


def format_fastq(batch: ReadBatch) -> bytes:
    """The batch's FASTQ text (reads named ``r`` + 8 digits, numbered across the run)."""
    return batch.records.tobytes().replace(b"\0", b"")


def _batch_rows(n_reads: int, batch: int) -> int:
    """Rows per kernel call. A run uses one shape (its last batch padded), so it compiles, or
    loads, each kernel once: a small run the power of two (at least 1024) that holds it, a
    larger one the fewest batches of at most ``batch`` rows, evened out and rounded up to an
    eighth of ``batch`` (so at most eight shapes ever, and 200,000 reads pad to 200,704, not
    229,376)."""
    if n_reads <= batch:
        return min(batch, max(1024, 1 << max(0, n_reads - 1).bit_length()))
    n_batches = -(-n_reads // batch)
    quantum = max(1024, batch // 8)
    return min(batch, -(-(-(-n_reads // n_batches)) // quantum) * quantum)


def _launch(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int, lout: int, k_max: int,
            batch: int, start: int, idx: np.ndarray):
    """Dispatch the kernels on reads ``start``.. from strands ``idx`` (they return at once;
    the results are waited for when read)."""
    pad_idx = np.zeros(batch, dtype=idx.dtype)
    pad_idx[:len(idx)] = idx
    f32 = np.float32
    seed32, first, lens_b = np.uint32(seed & 0xFFFFFFFF), np.int32(start), lens[pad_idx]
    events = aot.kernel(_KERNELS + "events_kernel", "sim-events", {"k_max": k_max}, _DEPENDS)
    build = aot.kernel(_KERNELS + "build_kernel", "sim-build", {"lout": lout}, _DEPENDS)
    rc, opos, step, code, new_len, counts = events(
        seed32, lens_b, f32(params.sub), f32(params.ins), f32(params.dele), f32(params.synth_sub),
        f32(params.synth_del), f32(params.slope), f32(params.rc_fraction), first)
    rec, = build(seed32, strands[pad_idx], lens_b, rc, opos, step, code, new_len,
                 f32(params.sub + params.ins + params.dele), f32(params.synth_sub + params.synth_del),
                 f32(params.slope), first)
    return rec, new_len, rc, counts


def _batch(idx: np.ndarray, pending) -> ReadBatch:
    rec, new_len, rc, counts = pending
    m = len(idx)
    lout = _row_lout(rec.shape[1])
    return ReadBatch(np.asarray(rec)[:m], np.minimum(np.asarray(new_len)[:m], lout), idx, np.asarray(rc)[:m],
                     np.asarray(counts)[:m])


def reads_batch(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int, lout: int, k_max: int,
                batch: int, start: int, idx: np.ndarray) -> ReadBatch:
    """Reads ``start``.. from source strands ``idx``, all in numpy: a piece of work any
    scheduler can run. The same arguments give the same bytes as :func:`simulate_reads`."""
    return _batch(idx, _launch(strands, lens, params, seed, lout, k_max, batch, start, idx))


def simulate_reads(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int,
                   batch: int = 32768, executor=None) -> tuple[int, np.ndarray, Iterator[ReadBatch]]:
    """Simulate synthesis and sequencing of padded strands.

    Returns (number of reads, copy-number weights, iterator over read batches). With an
    ``executor`` (:class:`dnastore.parallel.Executor`) the batches are computed by its
    scheduler, a few per worker at a time, and come back in order; the bytes are the same,
    as they are for any ``batch``.
    """
    params.validate()
    n = strands.shape[0]
    n_reads = max(1, int(round(params.coverage * n)))
    if n_reads >= 10 ** NAME_DIGITS:
        raise DnastoreError(f"{n_reads:,} reads is more than one run can name (read names have {NAME_DIGITS} digits); "
                            "lower --coverage or simulate the oligos in parts")
    # the pool (O(strands) work) from a numpy generator on the same seed; the per-base noise
    # (O(reads x length)) in the JAX kernel below
    rng = np.random.default_rng([seed, 0x5EED])
    weights = copy_numbers(rng, n, params)
    if not weights.sum() > 0:
        raise DnastoreError("every strand dropped out: lower --dropout")
    cdf = np.cumsum(weights)
    src_idx = np.minimum(np.searchsorted(cdf, rng.random(n_reads) * cdf[-1], side="right"), n - 1)
    L = strands.shape[1]
    lout = L + max(8, int(np.ceil(L * (params.ins * 6 + 0.02))))
    k_max = max_events(L, min(0.999, (params.sub + params.ins + params.dele) * (1 + params.slope)
                              + params.synth_sub + params.synth_del))
    strands = np.ascontiguousarray(strands, dtype=np.uint8)
    lens = np.asarray(lens, dtype=np.int32)
    batch = _batch_rows(n_reads, batch)
    starts = list(range(0, n_reads, batch))

    def distributed() -> Iterator[ReadBatch]:
        wave = max(2, 2 * executor.workers)  # bounded: at most a wave of batches in memory
        for w0 in range(0, len(starts), wave):
            pieces = [(s, src_idx[s:s + batch]) for s in starts[w0:w0 + wave]]
            yield from executor.map(reads_batch, pieces, shared=(strands, lens, params, seed, lout, k_max, batch))

    def batches() -> Iterator[ReadBatch]:
        # JAX dispatches asynchronously: the next batch computes while the caller writes this one
        def launch(start: int):
            idx = src_idx[start:start + batch]
            return idx, _launch(strands, lens, params, seed, lout, k_max, batch, start, idx)
        pending = launch(0)
        for i in range(len(starts)):
            idx, out = pending
            if i + 1 < len(starts):
                pending = launch(starts[i + 1])
            yield _batch(idx, out)
    return n_reads, weights, (batches() if executor is None or executor.spec == "sync" else distributed())


def params_dict(params: SimParams) -> dict:
    return dataclasses.asdict(params)
