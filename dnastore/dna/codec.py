r"""The oligo codec: bytes <-> strands, after Goldman et al. (2013) as used by the Generative
DNA paper (Franzese et al., section III).

Strand layout (5' -> 3')::

    [forward primer][sel 2][index I][payload T][check C][linker 1][reverse primer]
                    \_______ trits, mapped to bases by the rotating code _______/

- The payload is a chunk of ``B`` bytes turned into trits by a canonical ternary Huffman code
  (:mod:`dnastore.dna.huffman`) and zero-padded to ``T`` trits.
- ``index`` restores the order of strands; ``check`` is a CRC-32 of (index, payload) keyed by
  the encoding id, reduced to ``C`` trits. A strand that fails it is an erasure.
- index, payload and check are whitened by one of nine fixed pseudo-random trit masks; the two
  ``sel`` trits say which. Payload and check are further whitened by a mask keyed by the
  index, so that no two strands share their tails (the clustering anchors on them). The
  encoder picks, per strand, the first mask whose oligo has GC
  content inside the band, which keeps GC balanced whatever the data.
- The rotating code maps trit ``t`` after base ``b`` to base ``(b + 1 + t) mod 4``, so two
  neighbouring bases always differ; the linker base keeps the junction with the reverse
  primer free of repeats too.

Precise mode stores any file (optionally with an outer RS code across strands, see
:mod:`dnastore.dna.outer`); approximate mode stores a codes artifact so that each strand holds
whole codes and a lost strand becomes erased codes.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnastore.dna.huffman import TernaryHuffman
from dnastore.dna.outer import RSPlan, rs_decode, rs_encode
from dnastore.errors import DnastoreError
from dnastore.io.artifacts import OLIGOS_KIND
from dnastore.io.seqio import complement_codes, decode_bases, encode_bases

# 20-nt primers, 50% GC, no repeated neighbour, far from each other and from their reverse complements
DEFAULT_PRIMERS = ("CTACACGACGCTCAGTCGAT", "GATCGTAGCACTGTCAGTGC")
SEL_TRITS = 2
N_MASKS = 3 ** SEL_TRITS
MASK_SEED = 0x0D7A
DEFAULT_STRAND_LENGTH = 150
DEFAULT_CHECK_TRITS = 10
DEFAULT_GC_BAND = (0.40, 0.60)


def _masks(width: int, seed: int = MASK_SEED) -> np.ndarray:
    """The nine fixed whitening masks, (9, width) trits."""
    return np.stack([np.random.default_rng([seed, s]).integers(0, 3, width, dtype=np.uint8)
                     for s in range(N_MASKS)])


def _index_masks(index: np.ndarray, width: int, step: int = 2048, seed: int = MASK_SEED) -> np.ndarray:
    """(n, width) pseudo-random trits keyed by strand index (a splitmix64 hash of index and
    position). Whitening payload and check with them makes every strand's tail distinct,
    even where payload padding and short checks coincide. Computed ``step`` rows at a time,
    in place, so that the 64-bit temporaries stay in cache."""
    index = np.asarray(index, dtype=np.uint64)
    out = np.empty((len(index), width), dtype=np.uint8)
    col = np.arange(width, dtype=np.uint64)[None, :] * np.uint64(0xBF58476D1CE4E5B9) + np.uint64(seed)
    three = np.uint64(3)
    with np.errstate(over="ignore"):
        for lo in range(0, len(index), step):
            x = index[lo:lo + step, None] * np.uint64(0x9E3779B97F4A7C15) + col
            x ^= x >> np.uint64(30)
            x *= np.uint64(0xBF58476D1CE4E5B9)
            x ^= x >> np.uint64(27)
            x *= np.uint64(0x94D049BB133111EB)
            x ^= x >> np.uint64(31)
            # x mod 3 as x - 3 (x // 3): numpy divides by a scalar with a multiply and a
            # shift, three times faster than its remainder's hardware division
            q = x // three
            q *= three
            x -= q
            out[lo:lo + step] = x
    return out


def _sub3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) mod 3 for trits (0..2), in uint8: one add, one subtract and a conditional
    subtract, where int64 ``%`` divides (some ten times slower)."""
    x = np.asarray(a, dtype=np.uint8) + np.uint8(3)
    x -= np.asarray(b, dtype=np.uint8)
    np.subtract(x, np.uint8(3), out=x, where=x >= 3)
    return x


def to_trits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers -> (n, width) big-endian base-3 digits."""
    values = np.asarray(values, dtype=np.int64)
    out = np.zeros((len(values), width), dtype=np.uint8)
    v = values.copy()
    for d in range(width - 1, -1, -1):
        out[:, d] = v % 3
        v //= 3
    return out


def from_trits(trits: np.ndarray) -> np.ndarray:
    v = np.zeros(trits.shape[0], dtype=np.int64)
    for d in range(trits.shape[1]):
        v = v * 3 + trits[:, d]
    return v


def rotate_encode(trits: np.ndarray, prev: int) -> np.ndarray:
    """Rotating code: (S, n) trits -> (S, n) base codes, never repeating a base."""
    return ((prev + np.cumsum(trits.astype(np.int64) + 1, axis=1)) % 4).astype(np.uint8)


def rotate_decode(bases: np.ndarray, prev: int) -> tuple[np.ndarray, np.ndarray]:
    """(S, n) base codes -> (trits, ok); a repeated base or a non-ACGT letter is not ok."""
    b = np.asarray(bases, dtype=np.uint8)
    before = np.empty_like(b)
    before[:, :1] = prev
    before[:, 1:] = b[:, :-1]
    # uint8 arithmetic wraps modulo 256, a multiple of 4, so masking gives the residue mod 4
    t = (b - before - np.uint8(1)) & np.uint8(3)
    ok = (t < 3).all(axis=1) & (b < 4).all(axis=1)
    return np.minimum(t, np.uint8(2)), ok


def _check_values(encoding_id: str, body: np.ndarray, modulus: int) -> np.ndarray:
    seed = int(encoding_id[:8], 16)
    body = np.ascontiguousarray(body, dtype=np.uint8)
    return np.array([zlib.crc32(row.tobytes(), seed) % modulus for row in body], dtype=np.int64)


@dataclass
class Layout:
    """Where everything sits in a strand; all fields are recorded in the manifest."""

    strand_length: int = DEFAULT_STRAND_LENGTH
    primers: tuple[str, str] = DEFAULT_PRIMERS
    index_trits: int = 0  # 0: as few as the number of strands needs
    check_trits: int = DEFAULT_CHECK_TRITS
    gc_band: tuple[float, float] = DEFAULT_GC_BAND

    @property
    def core_trits(self) -> int:
        return self.strand_length - len(self.primers[0]) - len(self.primers[1]) - 1

    @property
    def payload_trits(self) -> int:
        return self.core_trits - SEL_TRITS - self.index_trits - self.check_trits

    @property
    def core_start(self) -> int:
        return len(self.primers[0])

    def validate(self) -> None:
        for p in self.primers:
            if p and set(p) - set("ACGT"):
                raise DnastoreError(f"primer {p!r} has letters other than ACGT")
        lo, hi = self.gc_band
        if not 0 <= lo < hi <= 1:
            raise DnastoreError(f"GC band must satisfy 0 <= low < high <= 1, got {lo}-{hi}")
        if self.check_trits < 4:
            raise DnastoreError("the per-strand check needs at least 4 trits")

    def to_json(self) -> dict:
        return {"strand_length": self.strand_length, "primers": list(self.primers),
                "index_trits": self.index_trits, "check_trits": self.check_trits,
                "selector_trits": SEL_TRITS, "payload_trits": self.payload_trits,
                "gc_band": list(self.gc_band)}

    @classmethod
    def from_json(cls, d: dict) -> "Layout":
        return cls(int(d["strand_length"]), tuple(d["primers"]), int(d["index_trits"]),
                   int(d["check_trits"]), tuple(d["gc_band"]))


@dataclass
class Encoded:
    strands: list[str]
    manifest: dict[str, Any]
    gc: np.ndarray = field(repr=False)


def _choose_bytes_per_strand(sym: np.ndarray, huff: TernaryHuffman, width: int, unit: int,
                             b_max: int | None = None) -> int:
    """Largest multiple of ``unit`` bytes, at most ``b_max``, whose every chunk fits in
    ``width`` trits (checked at that size: a smaller chunk is not bound to fit)."""
    lens = huff.lengths[sym]
    b = (width // int(huff.lengths.min())) // unit * unit
    if b_max is not None:
        b = min(b, b_max // unit * unit)
    while b >= unit:
        n = math.ceil(len(sym) / b)
        padded = np.zeros(n * b, dtype=np.int64)
        padded[:len(lens)] = lens
        padded[len(lens):] = huff.lengths[0]
        if padded.reshape(n, b).sum(axis=1).max() <= width:
            return b
        b -= unit
    raise DnastoreError(
        f"strands are too short: {width} payload trits cannot hold even one code; raise --strand-length")


def encode_payload(payload: bytes | np.ndarray, layout: Layout, *, unit: int = 1,
                   redundancy: float | None = None, extra: dict[str, Any] | None = None) -> Encoded:
    """Encode a byte payload into strands.

    ``unit``: bytes that must stay together in one strand (bytes per code in approximate mode).
    ``redundancy``: parity strands per data strand for the outer RS code (None: no outer code).
    ``extra``: more manifest fields (mode, file name, codes shape...).
    """
    layout.validate()
    sym = np.frombuffer(bytes(payload), dtype=np.uint8) if not isinstance(payload, np.ndarray) else payload.astype(np.uint8)
    if len(sym) == 0:
        raise DnastoreError("nothing to encode: the input is empty")
    huff = TernaryHuffman.from_data(sym)
    p1, p2 = layout.primers
    if layout.core_trits < SEL_TRITS + layout.check_trits + 4:
        raise DnastoreError(f"--strand-length {layout.strand_length} leaves no room for a payload beside the primers")
    auto_index = layout.index_trits == 0
    if auto_index:
        layout.index_trits = 1
    b_cap = None
    while True:
        width = layout.payload_trits
        if width < huff.lmax:
            raise DnastoreError(f"--strand-length {layout.strand_length} leaves only {width} payload trits; raise it")
        if b_cap is not None and b_cap < unit:
            raise DnastoreError("parity strands do not fit; raise --strand-length")
        b = _choose_bytes_per_strand(sym, huff, width, unit, b_cap)
        n_data = math.ceil(len(sym) / b)
        data = np.zeros(n_data * b, dtype=np.uint8)
        data[:len(sym)] = sym
        rows = data.reshape(n_data, b)
        plan = RSPlan.make(n_data, redundancy) if redundancy else None
        if plan is not None:
            parity = rs_encode(rows, plan)
            # parity bytes follow no histogram: shrink the chunk until they fit as well
            if huff.row_lengths(parity).max() > width:
                b_cap = b - unit
                continue
            rows = np.concatenate([rows, parity])
        need = max(1, math.ceil(math.log(rows.shape[0], 3))) if rows.shape[0] > 1 else 1
        if need <= layout.index_trits:
            break
        if not auto_index:
            raise DnastoreError(f"{rows.shape[0]} strands need {need} index trits; --index-trits is {layout.index_trits}")
        layout.index_trits = need
    n = rows.shape[0]
    meta = {"layout": layout.to_json(), "huffman_lengths": huff.lengths.tolist(), "bytes_per_strand": b,
            "unit": unit, "payload_bytes": int(len(sym)), "n_data_strands": n_data, "n_strands": n,
            "outer": plan.to_json() if plan else None, **(extra or {})}
    encoding_id = hashlib.sha256(json.dumps(meta, sort_keys=True).encode() + sym.tobytes()).hexdigest()[:16]

    idx = to_trits(np.arange(n), layout.index_trits)
    pay = huff.encode_rows(rows, width)
    body = np.concatenate([idx, pay, np.zeros((n, layout.check_trits), np.uint8)], axis=1)
    body[:, -layout.check_trits:] = to_trits(_check_values(encoding_id, body[:, :-layout.check_trits],
                                                           3 ** layout.check_trits), layout.check_trits)
    strands, gc_frac, _ = build_strands(body, np.arange(n), layout)
    bits = 8 * len(sym)
    total = layout.strand_length
    manifest = {"kind": OLIGOS_KIND, "encoding_id": encoding_id, **meta,
                "density": {"payload_bits": bits, "total_nt": n * total,
                            "bits_per_nt": bits / (n * total),
                            "bits_per_nt_without_primers": bits / (n * (total - len(p1) - len(p2)))}}
    return Encoded(strands, manifest, gc_frac)


def build_strands(body: np.ndarray, index: np.ndarray, layout: Layout, seed: int = MASK_SEED,
                  skip: np.ndarray | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Strands of trit rows ``body`` (n, W) = [index I][payload][check]: everything after the
    index whitened by masks keyed by ``index``, then by the first of the nine selector masks
    (seeded by ``seed``) that keeps the oligo's GC inside the band, mapped to bases by the
    rotating code, a linker base, and the primers. ``skip`` (n, 9) bool rules masks out for a
    strand. Returns the strands, their GC fractions and the mask each took."""
    n = len(body)
    p1, p2 = layout.primers
    I = layout.index_trits
    body = body.copy()
    body[:, I:] = (body[:, I:] + _index_masks(index, body.shape[1] - I, seed=seed)) % 3
    masks = _masks(body.shape[1], seed)
    prev = int(encode_bases(p1[-1])[0]) if p1 else 0
    p1c, p2c = encode_bases(p1), encode_bases(p2)
    prim_gc = int(np.isin(p1c, (1, 2)).sum() + np.isin(p2c, (1, 2)).sum())
    total = layout.strand_length
    lo, hi = layout.gc_band
    chosen = np.full(n, -1)
    cores = np.zeros((n, layout.core_trits + 1), dtype=np.uint8)
    gc_frac = np.zeros(n)
    for s in range(N_MASKS):
        trits = np.concatenate([np.broadcast_to(to_trits([s], SEL_TRITS), (n, SEL_TRITS)), (body + masks[s]) % 3], axis=1)
        bases = rotate_encode(trits, prev)
        gc = prim_gc + np.isin(bases, (1, 2)).sum(axis=1)
        last = bases[:, -1]
        # linker: differs from the last core base and the reverse primer's first base, GC toward half
        want_gc = gc + 1 <= total / 2
        linker = _pick_linker(last, int(p2c[0]) if p2 else -1, want_gc)
        gc = gc + np.isin(linker, (1, 2))
        frac = gc / total
        take = (chosen < 0) & (frac >= lo) & (frac <= hi)
        if skip is not None:
            take &= ~skip[:, s]
        chosen[take] = s
        cores[take] = np.concatenate([bases, linker[:, None]], axis=1)[take]
        gc_frac[take] = frac[take]
    if (chosen < 0).any():
        bad = int(np.flatnonzero(chosen < 0)[0])
        raise DnastoreError(f"strand {bad} cannot be kept inside the GC band {lo}-{hi}; widen --gc-band or lengthen strands")
    return [p1 + decode_bases(c) + p2 for c in cores], gc_frac, chosen


def read_bodies(codes: np.ndarray, layout: Layout, seed: int = MASK_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse of :func:`build_strands` on oriented strands (n, L) of base codes:
    (index, body trits with the whitening after the index removed, ok) where ``ok`` says the
    core is a valid rotating-code sequence with a known selector."""
    c0 = layout.core_start
    core = codes[:, c0:c0 + layout.core_trits]
    prev = int(encode_bases(layout.primers[0][-1])[0]) if layout.primers[0] else 0
    trits, ok_seq = rotate_decode(core, prev)
    sel = from_trits(trits[:, :SEL_TRITS])
    ok_seq &= sel < N_MASKS
    body = _sub3(trits[:, SEL_TRITS:], _masks(trits.shape[1] - SEL_TRITS, seed)[np.minimum(sel, N_MASKS - 1)])
    I = layout.index_trits
    index = from_trits(body[:, :I])
    body[:, I:] = _sub3(body[:, I:], _index_masks(index, body.shape[1] - I, seed=seed))
    return index, body, ok_seq


def _pick_linker(last: np.ndarray, first_p2: int, want_gc: np.ndarray) -> np.ndarray:
    """Per strand, a base unlike ``last`` and ``first_p2``, C/G first where GC is wanted."""
    gc_first = np.array([1, 2, 0, 3])
    at_first = np.array([0, 3, 1, 2])
    out = np.full(len(last), -1, dtype=np.int64)
    for i in range(4):
        cand = np.where(want_gc, gc_first[i], at_first[i])
        ok = (out < 0) & (cand != last) & (cand != first_p2)
        out[ok] = cand[ok]
    return out.astype(np.uint8)


@dataclass
class Decoded:
    rows: np.ndarray          # (n_strands, B) bytes, zero where missing
    present: np.ndarray       # (n_strands,) bool
    stats: dict[str, Any]


def _orient_rows(codes: np.ndarray, layout: Layout) -> np.ndarray:
    """Turn around the strands (rows of base codes) that match the primers better as reverse
    complements; without primers, the ones that only decode that way are found by the check."""
    p1, p2 = (encode_bases(p) for p in layout.primers)
    if not len(p1) and not len(p2):
        return codes
    rc = complement_codes(codes)[:, ::-1]

    def score(m: np.ndarray) -> np.ndarray:
        s = (m[:, :len(p1)] == p1).sum(axis=1)
        if len(p2):
            s = s + (m[:, m.shape[1] - len(p2):] == p2).sum(axis=1)
        return s
    flip = score(rc) > score(codes)
    return np.where(flip[:, None], rc, codes)


def decode_strands(strands: list[tuple[str, int]], manifest: dict[str, Any], executor=None,
                   piece: int = 1 << 16) -> Decoded:
    """Strands (sequence, weight such as cluster size) -> payload rows by index.

    Strands of the wrong length, with a repeated base, a failed check or an invalid Huffman
    codeword are erasures. Where two valid strands claim one index, the heavier wins (the
    earlier of equals). With an ``executor`` (:class:`dnastore.parallel.Executor`) groups of
    ``piece`` strands are checked by its scheduler; the result is the same.
    """
    n = int(manifest["n_strands"])
    b = int(manifest["bytes_per_strand"])
    groups = [strands[i:i + piece] for i in range(0, len(strands), piece)] or [[]]
    if executor is None or len(groups) == 1:
        parts = [check_strands(manifest, g) for g in groups]
    else:
        parts = executor.map(check_strands, [(g,) for g in groups], shared=(manifest,))
    index = np.concatenate([p[0] for p in parts])
    weights = np.concatenate([p[1] for p in parts])
    payload = np.concatenate([p[2] for p in parts]) if index.size else np.zeros((0, b), np.uint8)
    stats: dict[str, Any] = {}
    for p in parts:
        for k, v in p[3].items():
            stats[k] = stats.get(k, 0) + v
    rows = np.zeros((n, b), dtype=np.uint8)
    present = np.zeros(n, dtype=bool)
    # heaviest valid strand per index; lexsort is stable, so equals keep their input order
    order = np.lexsort((-weights, index))
    first = np.ones(len(order), dtype=bool)
    first[1:] = index[order][1:] != index[order][:-1]
    keep = order[first]
    rows[index[keep]] = payload[keep]
    present[index[keep]] = True
    stats.update(duplicates=int(len(index) - len(keep)), recovered=int(present.sum()))
    return Decoded(rows, present, stats)


def check_strands(manifest: dict[str, Any], strands: list[tuple[str, int]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """(index, weight, payload row) of each valid strand, in input order, and counts: one
    piece of :func:`decode_strands`."""
    layout = Layout.from_json(manifest["layout"])
    n = int(manifest["n_strands"])
    b = int(manifest["bytes_per_strand"])
    huff = TernaryHuffman(manifest["huffman_lengths"])
    enc_id = manifest["encoding_id"]
    L = layout.strand_length
    n_in = len(strands)
    lens = np.fromiter((len(r[0]) for r in strands), dtype=np.int64, count=n_in)
    keep_len = np.flatnonzero(lens == L)
    stats = {"strands_in": n_in, "wrong_length": int(n_in - len(keep_len)), "bad_sequence": 0, "failed_check": 0,
             "valid": 0}
    if not len(keep_len):
        return np.zeros(0, np.int64), np.zeros(0), np.zeros((0, b), np.uint8), stats
    codes = encode_bases("".join(strands[i][0] for i in keep_len)).reshape(len(keep_len), L)
    weights = np.asarray([strands[i][1] for i in keep_len], dtype=np.float64)
    codes = _orient_rows(codes, layout)
    index, body, ok_seq = read_bodies(codes, layout)
    I, C = layout.index_trits, layout.check_trits
    check = from_trits(body[:, -C:])
    ok_check = ok_seq & (_check_values(enc_id, body[:, :-C], 3 ** C) == check)
    ok_check &= index < n
    payload, ok_huff = huff.decode_rows(body[:, I:-C], b)
    valid = ok_check & ok_huff
    stats.update(bad_sequence=int((~ok_seq).sum()), failed_check=int((ok_seq & ~ok_check).sum()),
                 valid=int(valid.sum()))
    return index[valid].astype(np.int64), weights[valid], payload[valid], stats


def assemble_payload(dec: Decoded, manifest: dict[str, Any], *, allow_partial: bool = False) -> tuple[bytes, np.ndarray, dict]:
    """Rows -> payload bytes, through the outer code if there is one.

    Returns (payload, byte_erased mask, stats). Without ``allow_partial`` a payload with holes
    raises :class:`DnastoreError`.
    """
    n_data = int(manifest["n_data_strands"])
    b = int(manifest["bytes_per_strand"])
    stats = dict(dec.stats)
    data, ok = dec.rows[:n_data], dec.present[:n_data].copy()
    if manifest.get("outer"):
        plan = RSPlan.from_json(manifest["outer"])
        # with allow_partial, the blocks that can be repaired are, and the others keep the
        # strands they received
        data, rs_stats = rs_decode(data, dec.rows[n_data:], ok, dec.present[n_data:], plan, partial=allow_partial)
        ok = rs_stats.pop("rows_ok")
        stats["outer"] = rs_stats
    stats["data_strands_missing"] = int((~ok).sum())
    erased = np.repeat(~ok, b)[:int(manifest["payload_bytes"])]
    payload = data.reshape(-1)[:int(manifest["payload_bytes"])].tobytes()
    if erased.any() and not allow_partial:
        raise DnastoreError(
            f"{int((~ok).sum())} of {n_data} data strands are missing and the payload cannot be restored "
            "(sequence deeper, encode with --outer-redundancy, or pass --partial for a best-effort output)")
    return payload, erased, stats
