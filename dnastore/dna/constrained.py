"""A constrained mapping at close to two bits per base: the first piece of the denser oligo
code (issue 19).

A frame of base symbols (0..3, two bits each) is added, base by base modulo 4, to one of 256
keystreams; the keystream's seed is written as the strand's first four bases. The encoder
takes, per strand, the first seed (starting from a place the strand's salt picks, so that
identical frames get different seeds) whose strand, primers around it included, meets the
constraints: no homopolymer longer than ``max_run``, GC content in ``gc`` over the strand,
and in ``window_gc`` over every ``window``-nt window that touches it. This is DNA
Fountain's screening (Erlich and Zielinski 2017) applied to a scrambler rather than to
droplets: it costs the four seed bases, so a 150-nt strand carries 292 bits raw, 1.95
bits/nt. With random frames one seed in eight passes at the defaults (12.2% of 200,000
random 150-nt strands between this project's primers), so the chance that none of the 256
passes is about 10^-14; should it happen, the encoder says so.

The keystream hashes (seed, salt, position): the salt is anything the decoder knows before
it needs the keystream (a constant, the encoding's id). A read with an error in its seed
bases descrambles to noise, which the inner code or check then refuses.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from dnastore.errors import DnastoreError

SEED_NT = 4                 # bases that write the seed (4^4 = 256 keystreams)
N_SEEDS = 4 ** SEED_NT
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_LITTLE = sys.byteorder == "little"


@dataclass(frozen=True)
class Constraints:
    max_run: int = 3
    gc: tuple[float, float] = (0.40, 0.60)
    window: int = 20
    window_gc: tuple[float, float] = (0.25, 0.75)

    def to_json(self) -> dict:
        return {"max_run": self.max_run, "gc": list(self.gc), "window": self.window, "window_gc": list(self.window_gc)}


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def keystream(seeds: np.ndarray, salts: np.ndarray, length: int) -> np.ndarray:
    """(N, length) base symbols 0..3 for each strand's seed and salt."""
    seeds = np.asarray(seeds, dtype=np.uint64)[:, None]
    salts = np.asarray(salts, dtype=np.uint64)[:, None]
    words = np.arange((length + 31) // 32, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        h = _mix(salts * np.uint64(0x9E3779B97F4A7C15) + seeds * np.uint64(0xD1B54A32D192ED03)
                 + words * np.uint64(0x8CB92BA72F3D8DD7))
    # 32 symbols of two bits from each 64-bit word, the lowest bits first: the word's bytes
    # (little-endian) give four symbols each, by one table lookup
    b = np.ascontiguousarray(h if _LITTLE else h.astype("<u8")).view(np.uint8)
    return _BYTE_SYMBOLS[b].reshape(len(h), -1)[:, :length]


# each byte's four two-bit symbols, lowest bits first
_BYTE_SYMBOLS = ((np.arange(256, dtype=np.uint8)[:, None] >> np.array([0, 2, 4, 6], dtype=np.uint8)) & 3).astype(np.uint8)


def _seed_bases(seeds: np.ndarray) -> np.ndarray:
    """The seed as SEED_NT base symbols, most significant first."""
    seeds = np.asarray(seeds, dtype=np.int64)
    return np.stack([(seeds >> (2 * (SEED_NT - 1 - k))) & 3 for k in range(SEED_NT)], axis=1).astype(np.uint8)


_SEED_BASES = _seed_bases(np.arange(N_SEEDS))


def satisfied(strands: np.ndarray, c: Constraints, left: np.ndarray | None = None,
              right: np.ndarray | None = None) -> np.ndarray:
    """Which strands ((N, L) base symbols) meet the constraints with the flanks (primers, as
    base symbols) around them."""
    n, L = strands.shape
    lf = np.zeros(0, np.uint8) if left is None else np.asarray(left, np.uint8)
    rf = np.zeros(0, np.uint8) if right is None else np.asarray(right, np.uint8)
    r = c.max_run
    # a run longer than r: r equal neighbours in a row; first within the strands (no copy with
    # the flanks), then across the joins with them
    ok = ~_has_run(strands, r) if L > r else np.ones(n, dtype=bool)
    keep = np.flatnonzero(ok)
    j = min(r, L)
    for flank, at_left in ((lf, True), (rf, False)):
        if len(flank) and len(keep):
            edge = (np.concatenate([np.broadcast_to(flank[-r:], (len(keep), min(r, len(flank)))), strands[keep, :j]], axis=1)
                    if at_left else
                    np.concatenate([strands[keep, L - j:], np.broadcast_to(flank[:r], (len(keep), min(r, len(flank))))], axis=1))
            bad = _has_run(edge, r)
            ok[keep[bad]] = False
            keep = keep[~bad]
    if not len(keep):
        return ok
    full = np.concatenate([np.broadcast_to(lf, (len(keep), len(lf))), strands[keep],
                           np.broadcast_to(rf, (len(keep), len(rf)))], axis=1)
    # the run limit refuses most candidates: the GC tests look only at the others
    ok[keep] = _gc_ok(strands[keep], full, c, len(lf), L)
    return ok


def _has_run(x: np.ndarray, r: int) -> np.ndarray:
    """Rows of ``x`` with more than ``r`` equal symbols in a row."""
    if x.shape[1] <= r:
        return np.zeros(len(x), dtype=bool)
    eq = x[:, 1:] == x[:, :-1]
    run = eq[:, :eq.shape[1] - r + 1].copy()
    for k in range(1, r):
        run &= eq[:, k:eq.shape[1] - r + 1 + k]
    return run.any(axis=1)


def _gc_ok(strands: np.ndarray, full: np.ndarray, c: Constraints, lf: int, L: int) -> np.ndarray:
    """The GC constraints of :func:`satisfied` (``full``: the strands with their flanks)."""
    n = len(strands)
    ok = np.ones(n, dtype=bool)
    gc = (strands == 1) | (strands == 2)
    frac = gc.mean(axis=1)
    ok &= (frac >= c.gc[0]) & (frac <= c.gc[1])
    w = c.window
    if full.shape[1] >= w:
        g = np.concatenate([np.zeros((n, 1), np.int32), np.cumsum((full == 1) | (full == 2), axis=1, dtype=np.int32)],
                           axis=1)
        counts = g[:, w:] - g[:, :-w]                       # window starting at j
        starts = np.arange(counts.shape[1])
        touch = (starts + w > lf) & (starts < lf + L)
        lo, hi = c.window_gc[0] * w, c.window_gc[1] * w
        ok &= ~(((counts < lo) | (counts > hi)) & touch[None, :]).any(axis=1)
    return ok


def encode(frames: np.ndarray, salts: np.ndarray, c: Constraints = Constraints(), left: np.ndarray | None = None,
           right: np.ndarray | None = None, keys=None) -> np.ndarray:
    """(N, SEED_NT + M) strands (base symbols) for (N, M) frames of base symbols: the seed's
    bases, then the frame plus the seed's keystream, each strand meeting the constraints.
    ``keys(seeds, rows)``, if given, makes the (len(rows), M) keystreams of those strands
    (the default: :func:`keystream` of the seed and the strand's salt)."""
    frames = np.asarray(frames, dtype=np.uint8)
    n, m = frames.shape
    salts = np.asarray(salts, dtype=np.uint64)
    if keys is None:
        def keys(seeds, rows):
            return keystream(seeds, salts[rows], m)
    start = (_mix(salts + np.uint64(0x5851F42D4C957F2D)) % np.uint64(N_SEEDS)).astype(np.int64)
    out = np.zeros((n, SEED_NT + m), dtype=np.uint8)
    todo = np.arange(n)
    for j in range(N_SEEDS):
        if not len(todo):
            break
        seeds = (start[todo] + j) % N_SEEDS
        cand = np.empty((len(todo), SEED_NT + m), dtype=np.uint8)
        cand[:, :SEED_NT] = _SEED_BASES[seeds]
        np.add(frames[todo], keys(seeds, todo), out=cand[:, SEED_NT:])
        cand[:, SEED_NT:] &= 3
        ok = satisfied(cand, c, left, right)
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    if len(todo):
        raise DnastoreError(f"{len(todo)} strand(s) meet the sequence constraints under none of the {N_SEEDS} "
                            "keystreams; loosen --gc-band or the homopolymer limit")
    return out


def seeds_of(strands: np.ndarray) -> np.ndarray:
    """The seed each strand's first SEED_NT bases write."""
    digits = np.asarray(strands, dtype=np.int64)[:, :SEED_NT]
    seeds = np.zeros(len(digits), dtype=np.int64)
    for k in range(SEED_NT):
        seeds = seeds * 4 + digits[:, k]
    return seeds


def decode(strands: np.ndarray, salts: np.ndarray) -> np.ndarray:
    """The frames back from (N, SEED_NT + M) strands (base symbols)."""
    strands = np.asarray(strands, dtype=np.uint8)
    seeds = seeds_of(strands)
    body = strands[:, SEED_NT:]
    return ((body.astype(np.int16) - keystream(seeds, salts, body.shape[1])) % 4).astype(np.uint8)


def raw_density(strand_nt: int) -> float:
    """Bits per base a strand of ``strand_nt`` bases carries before any index, check or code."""
    return 2.0 * (strand_nt - SEED_NT) / strand_nt
