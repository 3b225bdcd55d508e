"""DNA synthesis, aging, PCR and sequencing simulator, as jit-compiled JAX kernels over
padded batches of strands (no Python loop over bases). Presets and the measured tables, each
with its published source, are in :mod:`dnastore.channel.presets`.

Synthesis
    every designed strand gets a copy number from a lognormal (sigma = the bias; dt4dds
    measured 0.30 for Twist, 1.30 for CustomArray, 0.44 for photolithographic arrays;
    Gimpel et al. 2023) or a gamma (negative-binomial reads) distribution; a strand drops out
    with probability ``dropout``. Each molecule carries its own synthesis substitutions
    (with a base spectrum), insertions and deletions (with a base bias), all raised in
    homopolymer runs, and may be a truncated product (a table of missing lengths).
Aging
    breakage weighted by base (depurination) and deamination substitutions, by half-lives.
    Where PCR follows, broken molecules are not amplified (the strand keeps its unbroken
    share); otherwise a read comes from one fragment.
PCR
    optional sampling of template molecules, then cycles with a per-strand efficiency (so
    the coverage spread grows with the cycles) and polymerase substitutions.
Sequencing
    reads are drawn from the pool in proportion to copy number until the mean coverage per
    designed strand is reached; each read is the molecule or, with probability
    ``rc_fraction``, its reverse complement, with per-base substitutions (with a spectrum),
    insertions and deletions whose rates follow a per-cycle profile (and a linear
    ``slope``), homopolymer runs and the read's own accuracy factor, and Phred qualities that
    follow the read's expected error at each cycle and drop at the errors themselves.

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
from math import lgamma
from statistics import NormalDist
from typing import Any, Iterator

import numpy as np

from dnastore import aot
from dnastore.channel.presets import PRESETS, SYNTHESIS, resolve, table
from dnastore.errors import DnastoreError

PAD = 4
# the kernels (dna_kernels.py imports JAX; a run with cached executables never loads it) and
# the module whose constants they use, for the cache key
_KERNELS = "dnastore.channel.dna_kernels:"
_DEPENDS = ("dnastore.channel.dna",)


# thinning categories of an event (the kernels' order): three sequencing kinds (position
# profile, per-read factor, homopolymer), then the molecule's: synthesis deletion, insertion,
# substitution, polymerase substitution, aging substitution
N_CAT = 8
HP_MAX = 16        # homopolymer runs longer than this count as this long
PROFILE_LEN = 512  # per-cycle profile entries (later cycles use the last)
_TABLES = {"trunc": "trunc", "profile": "profile", "synth_sub_bias": "matrix", "pcr_sub_bias": "matrix",
           "seq_sub_bias": "matrix", "synth_del_bias": "deletion", "synth_del_burst": "burst"}


@dataclass(frozen=True)
class SimParams:
    coverage: float = 10.0
    # synthesis: copy numbers, per-base errors (x (1 + synth_hp (run - 1)) in a homopolymer
    # run), truncated products (``trunc``: probability of 0, 1, 2.. nt missing, taken from
    # the start, the end or split at random ``even``-ly)
    copy_dist: str = "lognormal"  # or "negbin"
    bias: float = 0.30
    dropout: float = 0.0
    synth_sub: float = 0.0
    synth_ins: float = 0.0
    synth_del: float = 0.0
    synth_hp: float = 0.0
    synth_sub_bias: Any = "uniform"
    synth_del_bias: Any = "uniform"
    synth_del_burst: Any = "none"  # bases each synthesis deletion removes: chance of 1, 2, 3, ..
    trunc: Any = "none"
    trunc_at: str = "even"
    # aging: half-lives of decay; breakage per nt weighted by base (A, C, G, T); deamination
    # substitutions per base per half-life
    halflives: float = 0.0
    breakage_bias: Any = (0.3902, 0.0488, 0.4878, 0.0732)
    deamination: float = 1.64e-4
    # PCR: cycles, mean efficiency and its per-strand spread (relative sd of 1 + efficiency),
    # polymerase substitutions per base per cycle; template molecules per strand sampled into
    # it (0: the whole pool)
    pcr_cycles: int = 0
    pcr_eff: float = 0.9
    pcr_eff_sd: float = 0.0051
    polymerase: str = "taq"
    pcr_sub: float = 1.09e-4
    pcr_sub_bias: Any = "taq"
    copies: float = 0.0
    # sequencing, per base, at the middle of the read
    sub: float = 0.0
    ins: float = 0.0
    dele: float = 0.0
    slope: float = 0.0  # rate multiplier runs from 1 - slope at the first base to 1 + slope at the last
    profile: Any = "flat"  # per-cycle multiplier of the sequencing rates
    seq_sub_bias: Any = "uniform"
    hp_sub: float = 0.0
    hp_ins: float = 0.0
    hp_del: float = 0.0
    read_sd: float = 0.0  # per-read error factor: lognormal sigma (capped at exp(2 sigma))
    rc_fraction: float = 0.0

    def validate(self) -> None:
        if not 0 < self.coverage <= 1e6:  # also refuses NaN and infinity
            raise DnastoreError(f"--coverage must be in (0, 1e6], got {self.coverage}")
        for name in ("dropout", "synth_sub", "synth_ins", "synth_del", "sub", "ins", "dele", "rc_fraction",
                     "deamination", "pcr_sub", "pcr_eff", "pcr_eff_sd"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise DnastoreError(f"{_flag(name)} must be a probability in [0, 1], got {v}")
        ranges = {"slope": (0, 1, True), "bias": (0, 10, False), "synth_hp": (0, 10, False), "hp_sub": (0, 10, False),
                  "hp_ins": (0, 10, False), "hp_del": (0, 10, False), "read_sd": (0, 2, False),
                  "halflives": (0, 30, False), "copies": (0, 1e9, False)}
        for name, (lo, hi, open_hi) in ranges.items():
            v = getattr(self, name)
            if not (lo <= v < hi if open_hi else lo <= v <= hi):
                raise DnastoreError(f"{_flag(name)} must be in [{lo:g}, {hi:g}{')' if open_hi else ']'}, got {v}")
        if isinstance(self.pcr_cycles, bool) or not (isinstance(self.pcr_cycles, int) and 0 <= self.pcr_cycles <= 60):
            raise DnastoreError(f"--pcr-cycles must be a whole number in [0, 60], got {self.pcr_cycles}")
        if self.copy_dist not in ("lognormal", "negbin"):
            raise DnastoreError(f"--copy-dist must be lognormal or negbin, got {self.copy_dist}")
        if self.trunc_at not in ("start", "end", "even"):
            raise DnastoreError(f"--trunc-at must be start, end or even, got {self.trunc_at}")
        for name, kind in _TABLES.items():
            table(kind, getattr(self, name))
        table("deletion", self.breakage_bias)
        total = ((1 + self.slope) * (self.sub + self.ins + self.dele) + self.synth_sub + self.synth_ins + self.synth_del
                 + self.pcr_sub * self.pcr_cycles + self.deamination * self.halflives)
        if total > 1:
            raise DnastoreError("the substitution, insertion and deletion rates add up to more than one per base")
        peak = _Model(self, 1).bound()
        if peak > 1:  # (a homopolymer's factor may still push a base past one: there the rates saturate)
            raise DnastoreError(f"the error rates reach {peak:.2f} per base where the per-cycle profile, the slope "
                                "and the per-read factor peak; lower them (at most 1)")


def _flag(name: str) -> str:
    return "--" + {"dele": "del"}.get(name, name).replace("_", "-")


def _norm4(x) -> np.ndarray:
    """Four per-base weights rescaled to mean one (a uniform composition keeps the rate)."""
    x = np.asarray(x, dtype=np.float64)
    return x / x.mean()


class _Model:
    """The kernels' tables for a run whose strands hold homopolymers of at most ``max_run``."""

    def __init__(self, params: SimParams, max_run: int):
        p = params
        mats = [np.array(table("matrix", m), dtype=np.float64)
                for m in (p.seq_sub_bias, p.synth_sub_bias, p.pcr_sub_bias, "aging")]
        for m in mats:
            np.fill_diagonal(m, 0.0)
        self.rates = np.array([p.dele, p.ins, p.sub, p.synth_del, p.synth_ins, p.synth_sub,
                               p.pcr_sub * p.pcr_cycles, p.deamination * p.halflives], dtype=np.float64)
        bm = np.ones((N_CAT, 4))
        bm[2], bm[5], bm[6], bm[7] = (_norm4(m.sum(1)) if m.sum() > 0 else np.ones(4) for m in mats)
        bm[3] = _norm4(table("deletion", p.synth_del_bias))
        # homopolymer factor of each category: 1 + hps[c] x (run - 1)
        self.hps = np.array([p.hp_del, p.hp_ins, p.hp_sub, p.synth_hp, p.synth_hp, p.synth_hp, 0.0, 0.0])
        r = np.arange(HP_MAX)
        hp = 1 + self.hps[:, None] * r[None, :]
        prof = np.asarray(table("profile", p.profile), dtype=np.float64)
        prof = np.concatenate([prof, np.full(max(0, PROFILE_LEN - len(prof)), prof[-1])])[:PROFILE_LEN]
        prof = prof / prof[:150].mean()
        rows = [m / np.maximum(m.sum(1, keepdims=True), 1e-30) for m in mats]
        self.subt = np.cumsum(np.stack(rows), axis=2).astype(np.float32)
        self.subt[..., 3] = 1.0
        self.bm, self.hp, self.prof = bm, hp, prof
        runs = min(max(1, max_run), HP_MAX)
        peak = self.rates * bm.max(1) * hp[:, :runs].max(1)
        self.seq_peak = float(peak[:3].sum() * prof.max() * (1 + p.slope))
        self.mol_peak = float(peak[3:].sum())
        self.rcap = math.exp(2 * p.read_sd) if p.read_sd > 0 else 1.0
        tr = np.asarray(table("trunc", p.trunc), dtype=np.float64)
        self.trunc_cdf = np.cumsum(tr / tr.sum()).astype(np.float32)
        self.trunc_cdf[-1] = 1.0
        self.trunc_mode = np.int32({"start": 0, "end": 1, "even": 2}[p.trunc_at])
        # breakage truncates reads only where no PCR follows (a broken molecule loses a primer
        # site and is not amplified: there it lowers the strand's copy number instead)
        self.cut = cut_rates(p) if p.halflives > 0 and p.pcr_cycles == 0 else np.zeros(4)
        self.window = bool(len(tr) > 1 and tr[1:].sum() > 0)
        bt = np.asarray(table("burst", p.synth_del_burst), dtype=np.float64)
        self.burst_cdf = np.cumsum(bt / bt.sum()).astype(np.float32)
        self.burst_cdf[-1] = 1.0
        self.bursts = bool(len(bt) > 1 and bt[1:].sum() > 0 and self.rates[3] > 0)
        self.breaks = bool(self.cut.any())
        self.homopolymer = bool(self.hps.any()) and max_run > 1
        # the categories with a rate: (category, rate depends on the base, on the run)
        self.cats = tuple((c, bool(np.ptp(bm[c]) > 0), bool(self.homopolymer and self.hps[c] > 0))
                          for c in range(N_CAT) if self.rates[c] > 0)

    def event_slots(self, length: int, tail: float = 1e-7) -> int:
        """Event slots per read: a read's candidate count exceeds it with probability below
        ``tail``, over the spread of the reads' own factors (a lognormal with sigma
        ``read_sd``, capped; a read past the slots keeps its first ones). Without a spread,
        the plain Poisson bound of :func:`max_events` at a tail of 1e-9."""
        if self.rcap == 1.0:
            return max_events(length, min(0.999, self.bound()))
        z = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)])
        sd = math.log(self.rcap) / 2
        r = np.minimum(np.exp(sd * z - 0.5 * sd * sd), self.rcap)
        lam = length * -np.log1p(-np.minimum(0.999, self.mol_peak + r * self.seq_peak))
        k = max(4, int(lam.max() * 0.5))
        while True:
            # P(Poisson(lam) > k), averaged over the reads' factors
            terms = np.exp(k * np.log(lam) - lam - lgamma(k + 1))
            tail_k, pmf = terms.copy(), terms.copy()
            for j in range(k + 1, k + 200):
                pmf = pmf * lam / j
                tail_k += pmf
                if pmf.max() < 1e-16:
                    break
            if tail_k.mean() < tail:
                return k
            k += 1

    def bound(self) -> float:
        """The most any base of any read can err (the thinning bound)."""
        return self.mol_peak + self.rcap * self.seq_peak

    def quality_columns(self, lout: int, L: int, slope: float) -> np.ndarray:
        """The sequencing error rate per output column (before the read's factor), for Phred."""
        o = np.arange(lout)
        frac = np.minimum(o / max(L - 1, 1), 1.0)
        return (self.rates[:3].sum() * self.prof[np.minimum(o, PROFILE_LEN - 1)]
                * (1 + slope * (2 * frac - 1))).astype(np.float32)


def cut_rates(p: SimParams) -> np.ndarray:
    """Breaks per nt at A, C, G, T: 1 - 2^(-halflives / 150) on average, the rate that leaves
    2^-halflives of 150-nt molecules whole (dt4dds' reference length), weighted by base
    (depurination at G and A)."""
    mean = 1.0 - 2.0 ** (-p.halflives / 150.0)
    return np.minimum(mean * _norm4(table("deletion", p.breakage_bias)), 1.0)


def homopolymer_runs(strands: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The length of the homopolymer run each base sits in, capped at HP_MAX (n, L) uint8."""
    n, L = strands.shape
    out = np.ones((n, L), dtype=np.uint8)
    if L == 0:
        return out
    inside = np.arange(L)[None, :] < np.asarray(lens)[:, None]
    same = (strands[:, 1:] == strands[:, :-1]) & inside[:, 1:]
    left = np.ones((n, L), dtype=np.int32)    # bases of the run up to here
    for j in range(1, L):
        left[:, j] = np.where(same[:, j - 1], left[:, j - 1] + 1, 1)
    right = np.ones((n, L), dtype=np.int32)   # bases of the run from here on
    for j in range(L - 2, -1, -1):
        right[:, j] = np.where(same[:, j], right[:, j + 1] + 1, 1)
    np.minimum(left + right - 1, HP_MAX, out=out, casting="unsafe")
    return out


def preset_params(preset: str | None = "illumina", synthesis: str | None = None, polymerase: str | None = None,
                  file: dict[str, Any] | None = None, **overrides) -> SimParams:
    """The run's parameters: a preset, its synthesis profile and polymerase, a preset file's
    values (:func:`dnastore.channel.presets.load_preset_file`), then ``overrides``."""
    p = resolve(preset, synthesis, polymerase, file, overrides)
    p = {k: (tuple(tuple(r) if isinstance(r, list) else r for r in v) if isinstance(v, list) else v)
         for k, v in p.items()}
    if isinstance(p.get("pcr_cycles"), float) and float(p["pcr_cycles"]).is_integer():
        p["pcr_cycles"] = int(p["pcr_cycles"])
    try:
        params = SimParams(**p)
    except TypeError as e:
        raise DnastoreError(f"bad simulator setting: {e}") from None
    params.validate()
    return params


__all__ = ["PRESETS", "SYNTHESIS", "SimParams", "preset_params", "simulate_reads"]


def copy_numbers(rng: np.random.Generator, n: int, params: SimParams, strands: np.ndarray | None = None) -> np.ndarray:
    """Relative copy number of each designed strand in the pool that is sequenced (0 where it
    dropped out): synthesis (lognormal or gamma spread, dropout), then aging (where PCR
    follows, only unbroken molecules amplify, so a strand keeps its unbroken fraction), then
    an optional sample of ``copies`` template molecules per strand (Poisson), then PCR (each
    strand its own efficiency; binomial cycles on sampled molecules)."""
    p = params
    if p.copy_dist == "negbin":
        shape = 1.0 / max(p.bias, 1e-3) ** 2
        w = rng.gamma(shape, 1.0 / shape, n)
    else:
        w = np.exp(p.bias * rng.standard_normal(n))
    w[rng.random(n) < p.dropout] = 0.0
    synthesized = max(float(w.mean()), 1e-300)
    if p.halflives > 0 and p.pcr_cycles > 0 and strands is not None:
        cut = cut_rates(p)
        counts = np.stack([(strands == b).sum(axis=1) for b in range(4)], axis=1)
        w = w * np.exp(counts @ np.log1p(-np.minimum(cut, 1 - 1e-12)))
    if p.copies > 0:
        w = rng.poisson(p.copies * w / synthesized).astype(np.float64)
    if p.pcr_cycles > 0:
        eff = np.clip((1.0 + p.pcr_eff) * (1.0 + p.pcr_eff_sd * rng.standard_normal(n)) - 1.0, 0.0, 1.0)
        if p.copies > 0:
            c = w.astype(np.int64)
            for cycle in range(p.pcr_cycles):
                if c.max(initial=0) >= 1 << 40:  # far past the noisy first cycles: the mean is exact enough
                    w = c * (1.0 + eff) ** (p.pcr_cycles - cycle)
                    break
                c = c + rng.binomial(c, eff)
            else:
                w = c.astype(np.float64)
        else:
            w = w * (1.0 + eff) ** p.pcr_cycles
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
            batch: int, start: int, idx: np.ndarray, runs: np.ndarray | None = None, m: _Model | None = None):
    """Dispatch the kernels on reads ``start``.. from strands ``idx`` (they return at once;
    the results are waited for when read). ``runs``: :func:`homopolymer_runs` of the strands
    (None: no run longer than one); ``m``: the run's tables (made here when not given)."""
    if m is None:
        m = _Model(params, int(runs.max(initial=1)) if runs is not None else 1)
    pad_idx = np.zeros(batch, dtype=idx.dtype)
    pad_idx[:len(idx)] = idx
    f32 = np.float32
    seed32, first, lens_b, src = np.uint32(seed & 0xFFFFFFFF), np.int32(start), lens[pad_idx], strands[pad_idx]
    events = aot.kernel(_KERNELS + "events_kernel", "sim-events",
                        {"k_max": k_max, "window": m.window, "breaks": m.breaks, "cats": m.cats,
                         "per_read": params.read_sd > 0, "bursts": m.bursts}, _DEPENDS)
    runs_b = runs[pad_idx] if m.homopolymer else np.ones((1, 1), dtype=np.uint8)
    window = m.window or m.breaks
    build = aot.kernel(_KERNELS + "build_kernel", "sim-build",
                       {"lout": lout, "window": window, "per_read": params.read_sd > 0,
                        "max_shift": k_max * len(m.burst_cdf) if m.bursts else 0}, _DEPENDS)
    rc, opos, step, code, new_len, counts, rmult, win = events(
        seed32, src, runs_b, lens_b, m.rates.astype(f32), m.bm.astype(f32), m.hps.astype(f32), m.prof.astype(f32), m.subt,
        m.trunc_cdf, m.trunc_mode, m.cut.astype(f32), f32(m.seq_peak), f32(m.mol_peak), f32(params.read_sd),
        f32(m.rcap), f32(params.slope), f32(params.rc_fraction), m.burst_cdf, first)
    rec, n = build(seed32, src, lens_b, rc, opos, step, code, new_len, rmult, win,
                   m.quality_columns(lout, strands.shape[1], params.slope), f32(m.rates[3:].sum()), first)
    return rec, n, rc, counts


def _batch(idx: np.ndarray, pending) -> ReadBatch:
    rec, new_len, rc, counts = pending
    m = len(idx)
    lout = _row_lout(rec.shape[1])
    return ReadBatch(np.asarray(rec)[:m], np.minimum(np.asarray(new_len)[:m], lout), idx, np.asarray(rc)[:m],
                     np.asarray(counts)[:m])


def reads_batch(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int, lout: int, k_max: int,
                batch: int, runs: np.ndarray | None, model: _Model | None, start: int, idx: np.ndarray) -> ReadBatch:
    """Reads ``start``.. from source strands ``idx``, all in numpy: a piece of work any
    scheduler can run. The same arguments give the same bytes as :func:`simulate_reads`."""
    return _batch(idx, _launch(strands, lens, params, seed, lout, k_max, batch, start, idx, runs, model))


def simulate_reads(strands: np.ndarray, lens: np.ndarray, params: SimParams, seed: int,
                   batch: int = 32768, executor=None) -> tuple[int, np.ndarray, Iterator[ReadBatch]]:
    """Simulate synthesis, aging, PCR and sequencing of padded strands.

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
    strands = np.ascontiguousarray(strands, dtype=np.uint8)
    lens = np.asarray(lens, dtype=np.int32)
    # the pool (O(strands) work) from a numpy generator on the same seed; the per-base noise
    # (O(reads x length)) in the JAX kernel below
    rng = np.random.default_rng([seed, 0x5EED])
    weights = copy_numbers(rng, n, params, strands)
    if not weights.sum() > 0:
        raise DnastoreError("every strand dropped out (or no molecule survived aging and sampling): "
                            "lower --dropout or --halflives, or raise --copies")
    cdf = np.cumsum(weights)
    src_idx = np.minimum(np.searchsorted(cdf, rng.random(n_reads) * cdf[-1], side="right"), n - 1)
    L = strands.shape[1]
    # homopolymer runs only where some rate depends on them
    hp_used = any(getattr(params, f) > 0 for f in ("hp_sub", "hp_ins", "hp_del", "synth_hp"))
    runs = homopolymer_runs(strands, lens) if hp_used else None
    max_run = int(runs.max(initial=1)) if runs is not None else 1
    runs = runs if max_run > 1 else None
    model = _Model(params, max_run)
    ins_peak = float((model.rates[[1, 4]] * model.hp[[1, 4], :min(max_run, HP_MAX)].max(1)).sum()
                     * model.prof.max() * model.rcap)
    lout = L + max(8, int(np.ceil(L * (ins_peak * 6 + 0.02))))
    k_max = model.event_slots(L)
    batch = _batch_rows(n_reads, batch)
    starts = list(range(0, n_reads, batch))

    def distributed() -> Iterator[ReadBatch]:
        wave = max(2, 2 * executor.workers)  # bounded: at most a wave of batches in memory
        for w0 in range(0, len(starts), wave):
            pieces = [(s, src_idx[s:s + batch]) for s in starts[w0:w0 + wave]]
            yield from executor.map(reads_batch, pieces,
                                    shared=(strands, lens, params, seed, lout, k_max, batch, runs, model))

    def batches() -> Iterator[ReadBatch]:
        # JAX dispatches asynchronously: the next batch computes while the caller writes this one
        def launch(start: int):
            idx = src_idx[start:start + batch]
            return idx, _launch(strands, lens, params, seed, lout, k_max, batch, start, idx, runs, model)
        pending = launch(0)
        for i in range(len(starts)):
            idx, out = pending
            if i + 1 < len(starts):
                pending = launch(starts[i + 1])
            yield _batch(idx, out)
    return n_reads, weights, (batches() if executor is None or executor.spec == "sync" else distributed())


def params_dict(params: SimParams) -> dict:
    return dataclasses.asdict(params)
