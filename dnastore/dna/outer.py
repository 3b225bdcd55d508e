"""Outer Reed-Solomon erasure code across strands.

Strands are the rows of a byte matrix. Rows are split into blocks of at most 255 (data rows
``k`` plus ``nsym`` parity rows); every byte column of a block is one RS(k + nsym, k)
codeword over GF(2^8), the same code as ``reedsolo.RSCodec(nsym)`` (primitive polynomial
0x11d, generator 2, first consecutive root 0), which the tests check byte for byte.

Because all columns of a block share their erasure pattern (a lost strand erases one byte in
every column), erasure decoding solves one small linear system per block and applies it to
all columns at once with numpy. Where a column's remaining syndromes show an error that the
per-strand check let through, that column falls back to reedsolo's errors-and-erasures
decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import reedsolo

from dnastore.errors import DnastoreError

MAX_REDUNDANCY = 4.0  # parity strands per data strand: rate 1/5 at most, for coverage near 1
# The defaults, measured by pipelines/defaults.py (make bench-defaults, results/defaults.json) on
# the default channel (Illumina preset, Twist-like synthesis bias): a file comes back
# byte-identical from coverage 5 up (1 kB to 10 MB, 3 seeds); the default image codec keeps
# its accuracy within 0.01 of error-free at coverage 2.
FILE_REDUNDANCY = 0.25
IMAGE_REDUNDANCY = 0.5
# The dense code's (dnastore.dna.dense): its inner code repairs most strands with an error, so
# the outer code covers little more than the strands that got no read. Its default is not a
# share but a loss to cover (plan_for_loss): 2.5% of strands, each block failing with
# probability below 1e-4 and the whole payload below 1e-2 (measured at coverage 5 on the default channel: 1.7% of strands get no
# read, 0.4-1% more fail their repair; 1 MB gets 17 parity strands per 238, 7.1%, and comes back
# byte-identical, make bench-codes, 3 seeds). Codes of a learned codec: 15% (coverage 3).
DENSE_FILE_LOSS = 0.025
DENSE_IMAGE_LOSS = 0.15
DENSE_EPS = 1e-4
DENSE_EPS_FILE = 1e-2   # and the whole payload below 1% at that loss: a 10 MB file's 983 blocks get 1e-5 each

_PRIM = 0x11D
_EXP = np.zeros(512, dtype=np.int64)
_LOG = np.zeros(256, dtype=np.int64)
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= _PRIM
_EXP[255:510] = _EXP[:255]


def gf_mul(a, b):
    """Element-wise product in GF(2^8) of integer arrays (broadcasting)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    r = _EXP[(_LOG[a] + _LOG[b]) % 255]
    return np.where((a == 0) | (b == 0), 0, r)


def gf_inv(a: int) -> int:
    if a == 0:
        raise ZeroDivisionError("0 has no inverse in GF(2^8)")
    return int(_EXP[255 - _LOG[a]])


# the whole multiplication table (64 kB): a product is one lookup
_MUL = np.where((np.arange(256)[:, None] == 0) | (np.arange(256)[None, :] == 0), 0,
                _EXP[(_LOG[np.arange(256)][:, None] + _LOG[np.arange(256)][None, :]) % 255]).astype(np.uint8)


def gf_matmul(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(r, n) x (n, c) matrix product over GF(2^8): one table lookup and one XOR per term,
    a row of ``x`` at a time, in bytes."""
    m = np.asarray(m)
    x = np.asarray(x)
    out = np.zeros((m.shape[0], x.shape[1]), dtype=np.uint8)
    if m.shape[1] == 0:
        return out.astype(np.int64)
    mi = m.astype(np.intp)
    xi = x.astype(np.uint8)
    if m.shape[0] < m.shape[1]:
        # few rows (parity or syndromes of a long word): one row of the product at a time
        for i in range(m.shape[0]):
            out[i] = np.bitwise_xor.reduce(_MUL[mi[i][:, None], xi], axis=0)
    else:
        for j in range(m.shape[1]):
            out ^= _MUL[mi[:, j][:, None], xi[j][None, :]]
    return out.astype(np.int64)


def gf_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a @ x = b over GF(2^8) for square, invertible ``a`` (Gauss-Jordan)."""
    a = a.copy().astype(np.int64)
    b = b.copy().astype(np.int64)
    n = a.shape[0]
    for col in range(n):
        piv = next((r for r in range(col, n) if a[r, col]), None)
        if piv is None:
            raise np.linalg.LinAlgError("singular system")
        if piv != col:
            a[[col, piv]] = a[[piv, col]]
            b[[col, piv]] = b[[piv, col]]
        inv = gf_inv(int(a[col, col]))
        a[col] = gf_mul(a[col], inv)
        b[col] = gf_mul(b[col], inv)
        for r in range(n):
            if r != col and a[r, col]:
                f = int(a[r, col])
                a[r] ^= gf_mul(a[col], f)
                b[r] ^= gf_mul(b[col], f)
    return b


@dataclass(frozen=True)
class RSPlan:
    """How data rows are grouped into RS blocks."""

    n_data: int
    nsym: int
    blocks: tuple[tuple[int, int], ...]  # (first data row, k) per block

    @property
    def n_parity(self) -> int:
        return self.nsym * len(self.blocks)

    def to_json(self) -> dict:
        return {"kind": "rs", "nsym": self.nsym, "n_data": self.n_data, "blocks": [list(b) for b in self.blocks]}

    @classmethod
    def from_json(cls, d: dict) -> "RSPlan":
        return cls(int(d["n_data"]), int(d["nsym"]), tuple((int(a), int(b)) for a, b in d["blocks"]))

    @classmethod
    def make(cls, n_data: int, redundancy: float) -> "RSPlan":
        """Blocks of at most 255 rows with about ``redundancy`` parity rows per data row."""
        if not 0 < redundancy <= MAX_REDUNDANCY:
            raise DnastoreError(f"outer-code redundancy must be in (0, {MAX_REDUNDANCY:g}], got {redundancy}")
        kmax = max(1, int(255 / (1 + redundancy)))
        n_blocks = max(1, math.ceil(n_data / kmax))
        base, extra = divmod(n_data, n_blocks)
        ks = [base + (i < extra) for i in range(n_blocks)]
        nsym = max(1, math.ceil(max(ks) * redundancy))
        while max(ks) + nsym > 255:
            n_blocks += 1
            base, extra = divmod(n_data, n_blocks)
            ks = [base + (i < extra) for i in range(n_blocks)]
            nsym = max(1, math.ceil(max(ks) * redundancy))
        starts = np.concatenate([[0], np.cumsum(ks)[:-1]]).astype(int)
        return cls(n_data, nsym, tuple((int(s), int(k)) for s, k in zip(starts, ks)))


def binom_tail(s: int, n: int, p: float) -> float:
    """P(X > s) for X ~ Binomial(n, p), summed in logs (no scipy at run time)."""
    if s >= n:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lp + (n - k) * lq
             for k in range(s + 1, n + 1)]
    top = max(terms)
    return math.exp(top) * sum(math.exp(t - top) for t in terms)


def plan_for_loss(n_data: int, loss: float, eps: float, eps_file: float | None = None) -> RSPlan:
    """Blocks of at most 255 rows whose parity covers a share ``loss`` of strands lost
    independently, each block failing with probability below ``eps`` and, with
    ``eps_file``, the whole payload below it too (a large payload's blocks each get
    ``eps_file / blocks``): the fewest blocks that fit, then the fewest parity rows per
    block. A small payload gets a larger share of parity than a large one (a block of 19
    strands needs 5 parity strands at 2.5% loss, one of 238 needs 17), so its risk is no
    larger."""
    if not 0 < loss < 0.5:
        raise DnastoreError(f"a strand loss of {loss} is outside (0, 0.5)")
    for n_blocks in range(max(1, math.ceil(n_data / 254)), n_data + 1):
        base, extra = divmod(n_data, n_blocks)
        k = base + (extra > 0)
        eps_b = min(eps, eps_file / n_blocks) if eps_file else eps
        s = 1
        while k + s <= 255 and binom_tail(s, k + s, loss) >= eps_b:
            s += 1
        if k + s <= 255:
            ks = [base + (i < extra) for i in range(n_blocks)]
            starts = np.concatenate([[0], np.cumsum(ks)[:-1]]).astype(int)
            return RSPlan(n_data, s, tuple((int(a), int(b)) for a, b in zip(starts, ks)))
    raise DnastoreError(f"no outer code of blocks within 255 strands covers a strand loss of {loss}")


def _parity_check(n: int, nsym: int) -> np.ndarray:
    """H[i, j] = alpha^(i * (n - 1 - j)): c is a codeword iff H c = 0 (reedsolo order:
    the first byte is the highest-degree coefficient)."""
    i = np.arange(nsym)[:, None]
    j = np.arange(n)[None, :]
    return _EXP[(i * (n - 1 - j)) % 255]


_PARITY_CACHE: dict[tuple[int, int], np.ndarray] = {}


def _parity_matrix(k: int, nsym: int) -> np.ndarray:
    """(nsym, k) matrix P with parity = P @ data, taken from reedsolo's encoder applied to
    the unit messages so that the two encoders agree by construction."""
    key = (k, nsym)
    if key not in _PARITY_CACHE:
        rs = reedsolo.RSCodec(nsym)
        p = np.zeros((nsym, k), dtype=np.int64)
        for j in range(k):
            msg = bytearray(k)
            msg[j] = 1
            p[:, j] = np.frombuffer(bytes(rs.encode(msg)[k:]), dtype=np.uint8)
        _PARITY_CACHE[key] = p
    return _PARITY_CACHE[key]


def rs_encode(data: np.ndarray, plan: RSPlan) -> np.ndarray:
    """(n_data, B) uint8 -> (n_parity, B) uint8 parity rows, block by block."""
    data = np.asarray(data, dtype=np.int64)
    out = []
    for start, k in plan.blocks:
        out.append(gf_matmul(_parity_matrix(k, plan.nsym), data[start:start + k]))
    return np.concatenate(out).astype(np.uint8) if out else np.zeros((0, data.shape[1]), np.uint8)


def rs_decode(data: np.ndarray, parity: np.ndarray, data_ok: np.ndarray, parity_ok: np.ndarray,
              plan: RSPlan, partial: bool = False) -> tuple[np.ndarray, dict]:
    """Fill erased data rows. Returns (data, stats); raises DnastoreError when a block lost
    more rows than it has parity, unless ``partial``: then such blocks keep the rows they
    received, every other block is repaired, and ``stats["rows_ok"]`` says which data rows
    are good."""
    data = np.asarray(data, dtype=np.int64).copy()
    parity = np.asarray(parity, dtype=np.int64)
    rows_ok = np.ones(len(data), dtype=bool)
    stats = {"blocks": len(plan.blocks), "rows_recovered": 0, "columns_fallback": 0, "blocks_failed": 0}
    for b, (start, k) in enumerate(plan.blocks):
        try:
            _repair_block(data, parity, data_ok, parity_ok, plan, b, start, k, stats)
        except DnastoreError:
            if not partial:
                raise
            stats["blocks_failed"] += 1
            rows_ok[start:start + k] = data_ok[start:start + k]
    stats["rows_ok"] = rows_ok
    return data.astype(np.uint8), stats


def _repair_block(data: np.ndarray, parity: np.ndarray, data_ok: np.ndarray, parity_ok: np.ndarray,
                  plan: RSPlan, b: int, start: int, k: int, stats: dict) -> None:
    """Repair one block of ``data`` in place (raises DnastoreError when it cannot)."""
    nsym = plan.nsym
    n = k + nsym
    cw = np.concatenate([data[start:start + k], parity[b * nsym:(b + 1) * nsym]])
    ok = np.concatenate([data_ok[start:start + k], parity_ok[b * nsym:(b + 1) * nsym]])
    erased = np.flatnonzero(~ok)
    if len(erased) == 0:
        return
    if len(erased) > nsym:
        raise DnastoreError(
            f"outer code block {b} lost {len(erased)} of {n} strands but has only {nsym} parity strands; "
            "sequence deeper or encode with more --outer-redundancy")
    cw[erased] = 0
    h = _parity_check(n, nsym)
    synd = gf_matmul(h, cw)  # (nsym, B): syndromes of the zero-filled word
    e = len(erased)
    vals = gf_solve(h[:e][:, erased], synd[:e])
    cw[erased] = vals
    # a clean solution leaves every syndrome at zero; otherwise a strand passed its check
    # with a wrong payload, and reedsolo's errors-and-erasures decoder takes that column
    bad_cols = np.flatnonzero(gf_matmul(h, cw).any(axis=0)) if e < nsym else []
    for c in bad_cols:
        col = bytearray(int(v) for v in np.concatenate([data[start:start + k, c], parity[b * nsym:(b + 1) * nsym, c]]))
        for p in erased:
            col[p] = 0
        try:
            fixed = reedsolo.RSCodec(nsym).decode(col, erase_pos=[int(p) for p in erased])[1]
        except reedsolo.ReedSolomonError:
            raise DnastoreError(f"outer code block {b} column {c} is beyond repair") from None
        cw[:, c] = np.frombuffer(bytes(fixed), dtype=np.uint8)
        stats["columns_fallback"] += 1
    data[start:start + k] = cw[:k]
    stats["rows_recovered"] += int((erased < k).sum())
