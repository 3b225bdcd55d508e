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
seed; the per-base noise comes from the JAX key of the seed with ``fold_in(key, batch)`` per
batch, derived inside the compiled kernel.
The output is byte-identical for a seed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial
from typing import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from dnastore.errors import DnastoreError

PAD = 4


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


def root_key(seed: int) -> jax.Array:
    """The root key of a run. XLA's RngBitGenerator ('rbg') is several times faster on the
    CPU than threefry for the volume of draws a sequencing run needs."""
    return jax.random.key(seed, impl="rbg")


def copy_numbers(rng: np.random.Generator, n: int, params: SimParams) -> np.ndarray:
    """Relative copy number of each designed strand after synthesis (0 where it dropped out)."""
    if params.copy_dist == "negbin":
        shape = 1.0 / max(params.bias, 1e-3) ** 2
        w = rng.gamma(shape, 1.0 / shape, n)
    else:
        w = np.exp(params.bias * rng.standard_normal(n))
    w[rng.random(n) < params.dropout] = 0.0
    return w


_U24 = 1.0 / (1 << 24)


NAME_DIGITS = 8


def read_name(i: int) -> str:
    """The name the simulator gives read ``i`` (built the same way inside the kernel)."""
    return f"r{i:0{NAME_DIGITS}d}"
_ASCII = np.frombuffer(b"ACGTN", dtype=np.uint8)


def _records(out, out_len, q, first):
    """FASTQ record bytes, one row per read: ``@rNNNNNNNN\\n SEQ \\n+\\n QUAL \\n`` with
    zeros where a read is shorter than the row; dropping the zeros gives the file's text."""
    B, lout = out.shape
    num = first + jnp.arange(B, dtype=jnp.int32)
    pw = jnp.asarray([10 ** (NAME_DIGITS - 1 - d) for d in range(NAME_DIGITS)], dtype=jnp.int32)
    digits = (48 + (num[:, None] // pw[None, :]) % 10).astype(jnp.uint8)
    head = jnp.concatenate([jnp.full((B, 1), ord("@"), jnp.uint8), jnp.full((B, 1), ord("r"), jnp.uint8),
                            digits, jnp.full((B, 1), 10, jnp.uint8)], axis=1)
    inside = jnp.arange(lout)[None, :] < out_len[:, None]
    seq = jnp.where(inside, jnp.asarray(_ASCII)[out], 0).astype(jnp.uint8)
    qual = jnp.where(inside, q + 33, 0).astype(jnp.uint8)
    plus = jnp.broadcast_to(jnp.asarray([10, ord("+"), 10], jnp.uint8), (B, 3))
    return jnp.concatenate([head, seq, plus, qual, jnp.full((B, 1), 10, jnp.uint8)], axis=1)


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


def _hash32(x):
    """A 32-bit integer mix (lowbias32): cheap per-element pseudo-randomness."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


@partial(jax.jit, static_argnames=("lout", "k_max"))
def _reads_kernel(seed, batch_index, src, lens, p_sub, p_ins, p_del, s_sub, s_del, slope, rc_fraction, first,
                  lout, k_max):
    """One batch of reads. src: (B, L) base codes padded with 4; lens: (B,).

    Events are sparse, so they are drawn as events rather than per base: each read gets a
    Poisson number (at most ``k_max``) of candidate positions at rate -ln(1 - p_max) per base,
    so that after merging repeats a base holds a candidate with probability p_max; a candidate
    at column j becomes a deletion, insertion or substitution with probabilities
    p_del(j), p_ins(j), p_sub(j) over p_max (thinning), else nothing. Sequencing rates rise
    along the read (``slope``); the synthesis rates ``s_sub``, ``s_del`` do not. The read is then built
    by a gather: output column o copies source column o - C(o), where C counts the insertions
    minus deletions placed at or before o."""
    B, L = src.shape
    K = k_max
    key = jax.random.fold_in(root_key(seed), batch_index)
    k_rc, k_ev = jax.random.split(key, 2)
    pos = jnp.arange(L)[None, :]
    rc = jax.random.bernoulli(k_rc, rc_fraction, (B,))
    rev = jnp.clip(lens[:, None] - 1 - pos, 0, L - 1)
    seq = jnp.where(rc[:, None], 3 - jnp.take_along_axis(src, rev, axis=1), src).astype(jnp.int32)
    seq = jnp.where(pos < lens[:, None], seq, PAD)
    # candidate events
    p_tot = p_sub + p_ins + p_del
    p_max = jnp.minimum(p_tot * (1.0 + slope) + s_sub + s_del, 0.999)
    lam = lens.astype(jnp.float32) * -jnp.log1p(-p_max)
    w = jax.random.bits(k_ev, (B, K + 1, 3), dtype=jnp.uint32)
    u_n = (w[:, 0, 0] >> 8).astype(jnp.float32) * _U24
    ks = jnp.arange(K + 1, dtype=jnp.float32)
    log_pmf = ks[None, :] * jnp.log(jnp.maximum(lam, 1e-30))[:, None] - lam[:, None] - jax.lax.lgamma(ks + 1.0)[None, :]
    cdf = jnp.cumsum(jnp.exp(log_pmf), axis=1)
    n_ev = jnp.minimum((u_n[:, None] > cdf).sum(axis=1), K)
    w = w[:, 1:]
    slot = jnp.arange(K)[None, :]
    at = jnp.minimum((((w[..., 0] >> 8).astype(jnp.float32) * _U24) * lens[:, None]).astype(jnp.int32), lens[:, None] - 1)
    at = jnp.where(slot < n_ev[:, None], at, L)              # inactive slots sort last
    order = jnp.argsort(at, axis=1)
    at = jnp.take_along_axis(at, order, axis=1)
    w1 = jnp.take_along_axis(w[..., 1], order, axis=1)
    w2 = jnp.take_along_axis(w[..., 2], order, axis=1)
    first_here = jnp.concatenate([jnp.ones((B, 1), bool), at[:, 1:] != at[:, :-1]], axis=1)
    live = (at < L) & first_here                              # one candidate per base
    frac = at / jnp.maximum(lens[:, None] - 1, 1)
    mult = 1.0 + slope * (2.0 * frac - 1.0)
    u = (w1 >> 8).astype(jnp.float32) * _U24 * p_max
    t_del = p_del * mult + s_del
    t_ins = t_del + p_ins * mult
    dele = live & (u < t_del)
    ins = live & ~dele & (u < t_ins)
    sub = live & ~dele & ~ins & (u < t_ins + p_sub * mult + s_sub)
    # substitutions change the base in place
    rows = jnp.arange(B)[:, None]
    at_c = jnp.minimum(at, L - 1)
    old = jnp.take_along_axis(seq, at_c, axis=1)
    new = (old + 1 + ((w1 & 0xFF) % 3).astype(jnp.int32)) % 4
    # a substituted base carries bit 3 as its error flag, so one gather moves both
    seq = seq.at[rows, jnp.where(sub, at, L)].set(new + 8, mode="drop")
    # output column of each event: its source column plus the insertions minus deletions before it
    step = ins.astype(jnp.int32) - dele.astype(jnp.int32)
    before = jnp.cumsum(step, axis=1) - step
    opos = at + before
    delta = jnp.zeros((B, lout + 1), jnp.int32).at[rows, jnp.where(ins | dele, jnp.minimum(opos, lout), lout)].add(
        step, mode="drop")
    shift = jax.lax.associative_scan(jnp.add, delta[:, :lout], axis=1)
    ocol = jnp.arange(lout)[None, :]
    src_col = jnp.clip(ocol - shift, 0, L - 1)
    v = jnp.take_along_axis(seq, src_col, axis=1)
    ins_at = jnp.where(ins, jnp.minimum(opos, lout), lout)
    v = v.at[rows, ins_at].set((w2 & 3).astype(jnp.int32) + 8, mode="drop")
    out, err = jnp.where(v == PAD, PAD, v & 7), (v >= 8) & (v != PAD)
    n_ins, n_del = ins.sum(1), dele.sum(1)
    out_len = jnp.minimum(lens + n_ins - n_del, lout)
    inside = ocol < out_len[:, None]
    out = jnp.where(inside, out, PAD).astype(jnp.uint8)
    # Phred: the local error rate per column, with noise (two hashed bytes: triangular, unit
    # variance), and low where an error sits
    ofrac = jnp.arange(lout) / max(L - 1, 1)
    p_loc = p_tot * (1.0 + slope * (2.0 * jnp.minimum(ofrac, 1.0) - 1.0)) + s_sub + s_del
    h = _hash32((first + rows).astype(jnp.uint32) * jnp.uint32(0x9E3779B1) + ocol.astype(jnp.uint32)
                + seed.astype(jnp.uint32) * jnp.uint32(0x85EBCA77))
    z = ((h & 0xFF) + ((h >> 8) & 0xFF)).astype(jnp.float32) * (1.0 / 104.5) - (255.0 / 104.5)
    q = (-10.0 * jnp.log10(jnp.maximum(p_loc, 1e-4)))[None, :] + jnp.where((p_loc > 0)[None, :], 2.0 * z, 0.0)
    q = jnp.where(err, q - 15.0 + z, q)
    q = jnp.clip(jnp.round(q), 2, 40).astype(jnp.uint8)
    counts = jnp.stack([sub.sum(1), n_ins, n_del], axis=1)
    return out, out_len, q, rc, counts, _records(out, out_len, q, first)


def format_fastq(batch: "ReadBatch") -> bytes:
    """The batch's FASTQ text (reads named ``r`` + 8 digits, numbered across batches)."""
    rec = np.asarray(batch.records)
    if rec.ndim == 1:  # already text (a batch computed by reads_batch)
        return rec.tobytes()
    flat = rec[:batch.n].ravel()
    return flat[flat != 0].tobytes()


@dataclass
class ReadBatch:
    seqs: np.ndarray    # (B, W) uint8 base codes, PAD beyond length
    lens: np.ndarray    # (B,)
    quals: np.ndarray   # (B, W) Phred
    source: np.ndarray  # (B,) strand number
    rc: np.ndarray      # (B,) bool
    errors: np.ndarray  # (B, 3): substitutions, insertions, deletions
    records: jax.Array = dataclasses.field(repr=False, default=None)  # FASTQ bytes per read, see _records
    n: int = 0


def _launch(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int, lout: int, k_max: int,
            batch: int, bi: int, start: int, idx: np.ndarray):
    """Dispatch the kernel on batch ``bi`` (padded to ``batch`` rows; JAX returns at once)."""
    pad_idx = np.zeros(batch, dtype=idx.dtype)
    pad_idx[:len(idx)] = idx
    return _reads_kernel(np.uint32(seed & 0xFFFFFFFF), np.int32(bi + 1), strands[pad_idx], lens[pad_idx],
                         np.float32(params.sub), np.float32(params.ins), np.float32(params.dele),
                         np.float32(params.synth_sub), np.float32(params.synth_del), np.float32(params.slope),
                         np.float32(params.rc_fraction), np.int32(start), lout, k_max)


def reads_batch(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int, lout: int, k_max: int,
                batch: int, bi: int, start: int, idx: np.ndarray) -> ReadBatch:
    """Read batch ``bi`` (reads ``start``..) from source strands ``idx``, all in numpy with the
    FASTQ text in ``records``: a piece of work any scheduler can run. The same arguments give
    the same bytes as the in-process pipeline of :func:`simulate_reads`."""
    out, out_len, q, rc, counts, rec = _launch(strands, lens, params, seed, lout, k_max, batch, bi, start, idx)
    m = len(idx)
    b = ReadBatch(np.asarray(out)[:m], np.asarray(out_len)[:m], np.asarray(q)[:m], idx, np.asarray(rc)[:m],
                  np.asarray(counts)[:m], rec, m)
    b.records = np.frombuffer(format_fastq(b), dtype=np.uint8)  # text, not a device array, to travel
    return b


def simulate_reads(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int,
                   batch: int = 32768, executor=None) -> tuple[int, np.ndarray, Iterator[ReadBatch]]:
    """Simulate synthesis and sequencing of padded strands.

    Returns (number of reads, copy-number weights, iterator over read batches). With an
    ``executor`` (:class:`dnastore.parallel.Executor`) the batches are computed by its
    scheduler, a few per worker at a time, and come back in order; the bytes are the same.
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

    def launch(bi: int, start: int):
        idx = src_idx[start:start + batch]
        return idx, _launch(strands, lens, params, seed, lout, k_max, batch, bi, start, idx)

    def distributed() -> Iterator[ReadBatch]:
        starts = list(range(0, n_reads, batch))
        wave = max(2, 2 * executor.workers)  # bounded: at most a wave of batches in memory
        for w0 in range(0, len(starts), wave):
            pieces = [(bi, starts[bi], src_idx[starts[bi]:starts[bi] + batch])
                      for bi in range(w0, min(len(starts), w0 + wave))]
            yield from executor.map(reads_batch, pieces, shared=(strands, lens, params, seed, lout, k_max, batch))

    def batches() -> Iterator[ReadBatch]:
        # JAX dispatches asynchronously: the next batch computes while the caller formats this one
        starts = list(range(0, n_reads, batch))
        pending = launch(0, 0)
        for bi in range(len(starts)):
            idx, (out, out_len, q, rc, counts, rec) = pending
            if bi + 1 < len(starts):
                pending = launch(bi + 1, starts[bi + 1])
            m = len(idx)
            yield ReadBatch(np.asarray(out)[:m], np.asarray(out_len)[:m], np.asarray(q)[:m], idx,
                            np.asarray(rc)[:m], np.asarray(counts)[:m], rec, m)
    return n_reads, weights, (batches() if executor is None or executor.spec == "sync" else distributed())


def params_dict(params: SimParams) -> dict:
    return dataclasses.asdict(params)
