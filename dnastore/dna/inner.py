"""The inner code of the denser oligo code (issue 19, second piece): a Reed-Solomon code over
GF(2^8) along each strand, decoded for all strands in one batch, with erasures where the
consensus is unsure (the soft part) and repair of a single insertion or deletion.

- **Encode**: ``parity = P @ data`` for every strand at once, with the outer code's parity
  matrix (:mod:`dnastore.dna.outer`); here the code runs along a strand, not across strands.
  It is reedsolo's code, so reedsolo decodes it.
- **Decode**: the syndromes ``H @ c`` of every strand in one matrix product; a zero syndrome
  is a valid strand as read. The rest go to reedsolo's errors-and-erasures decoder, whose
  answer counts only within a margin: 2 x errors + erasures <= nsym - ``margin``, so that a
  parity symbol is left to tell a miscorrection (a garbage word) from a repair.
- **Indels**: a consensus one base short of the design is tried with each of the four bases
  inserted at each position, one base long with each base deleted, every candidate in one
  batch; the repair stands when exactly one candidate's codeword checks.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import reedsolo

from dnastore.dna.outer import _EXP, _LOG, _parity_check, _parity_matrix, gf_matmul


def encode(data: np.ndarray, nsym: int) -> np.ndarray:
    """(N, k) bytes -> (N, k + nsym) codewords, data first."""
    data = np.asarray(data, dtype=np.uint8)
    n, k = data.shape
    if k + nsym > 255:
        raise ValueError(f"a codeword of {k + nsym} bytes is longer than GF(2^8) allows (255)")
    parity = gf_matmul(_parity_matrix(k, nsym), data.T.astype(np.int64)).T
    return np.concatenate([data, parity.astype(np.uint8)], axis=1)


def syndromes(code: np.ndarray, nsym: int) -> np.ndarray:
    """(N, nsym) syndromes; all zero for a codeword."""
    code = np.asarray(code, dtype=np.int64)
    return gf_matmul(_parity_check(code.shape[1], nsym), code.T).T


def decode(code: np.ndarray, nsym: int, erasures: np.ndarray | None = None,
           margin: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(data (N, k), ok (N,), repaired symbols (N,)) from (N, n) received words; ``erasures``
    (N, n) marks symbols known to be unsure."""
    code = np.asarray(code, dtype=np.uint8)
    n_words, n = code.shape
    k = n - nsym
    out = code[:, :k].copy()
    ok = ~syndromes(code, nsym).any(axis=1)
    fixed = np.zeros(n_words, dtype=np.int64)
    rs = reedsolo.RSCodec(nsym, nsize=n)
    for i in np.flatnonzero(~ok):
        erase = [] if erasures is None else np.flatnonzero(erasures[i]).tolist()
        if len(erase) > nsym - margin:
            continue
        try:
            msg, _, errata = rs.decode(bytearray(code[i].tobytes()), erase_pos=erase or None)
        except reedsolo.ReedSolomonError:
            continue
        n_err = len(set(errata) - set(erase))
        if 2 * n_err + len(erase) > nsym - margin:
            continue
        out[i] = np.frombuffer(bytes(msg), dtype=np.uint8)
        ok[i] = True
        fixed[i] = len(errata)
    return out, ok, fixed


def single_error(code: np.ndarray, nsym: int) -> tuple[np.ndarray, np.ndarray]:
    """(ok, repaired words) for (M, n) words: ok where the word is a codeword or one byte away
    from one (its syndromes are those of one error: S_i = e X^i, X = alpha^(n-1-j) for an
    error e at byte j), which leaves nsym - 2 syndromes to check the repair. Needs nsym >= 3."""
    code = np.asarray(code, dtype=np.uint8)
    m, n = code.shape
    syn = syndromes(code, nsym)
    zero = ~syn.any(axis=1)
    out = code.copy()
    if nsym < 3:
        return zero, out
    s0, s1 = syn[:, 0], syn[:, 1]
    cand = (s0 != 0) & (s1 != 0)
    # X = S1 / S0 in logs; the error sits at j = n - 1 - log X
    logx = np.where(cand, (_LOG[s1] - _LOG[s0]) % 255, 0)
    j = n - 1 - logx
    cand &= (j >= 0) & (j < n)
    for i in range(2, nsym):
        want = np.where(cand, _EXP[(_LOG[s0] + i * logx) % 255], 0)
        cand &= syn[:, i] == want
    rows = np.flatnonzero(cand)
    out[rows, j[rows]] ^= s0[rows].astype(np.uint8)
    return zero | cand, out


def repair_indel(symbols: np.ndarray, length: int, to_code: Callable[[np.ndarray], np.ndarray],
                 nsym: int, one_error: bool = False) -> np.ndarray | None:
    """The codeword (bytes) of a symbol row one symbol short or long of ``length``, or None: every single
    insertion (4 symbols x each place) or deletion (each place) is tried at once, and the fix
    stands when exactly one candidate's codeword (``to_code``: (M, length) symbols -> (M, n)
    bytes) has zero syndromes, or with ``one_error`` is one byte from a codeword (an indel and
    a substitution; the byte is repaired). Repairs that give the same codeword count once."""
    symbols = np.asarray(symbols, dtype=np.uint8)
    m = len(symbols)
    if m == length - 1:
        pos = np.repeat(np.arange(length), 4)
        base = np.tile(np.arange(4, dtype=np.uint8), length)
        cand = np.empty((len(pos), length), dtype=np.uint8)
        cols = np.arange(length)[None, :]
        src = cols - (cols > pos[:, None])
        cand[:] = symbols[np.clip(src, 0, m - 1)]
        cand[np.arange(len(pos)), pos] = base
    elif m == length + 1:
        keep = ~np.eye(m, dtype=bool)
        cand = np.broadcast_to(symbols, (m, m))[keep].reshape(m, length)
    else:
        return None
    code = to_code(cand)
    good = ~syndromes(code, nsym).any(axis=1)
    if one_error and not good.any():
        good, code = single_error(code, nsym)
    words = np.unique(code[good], axis=0)
    return words[0] if len(words) == 1 else None


def repair_edits(symbols: np.ndarray, length: int, to_code: Callable[[np.ndarray], np.ndarray], nsym: int,
                 places: np.ndarray) -> np.ndarray | None:
    """The codeword of a row that is two edits from a design-length one, the edits at
    ``places`` (the consensus's least sure positions): two deletions (a row two symbols
    long), two insertions of any bases (two short), or a deletion and an insertion (the
    design length, a base shifted). Every candidate is built by index arithmetic and checked
    in one batch; the repair stands when exactly one candidate's codeword has zero
    syndromes."""
    symbols = np.asarray(symbols, dtype=np.uint8)
    m = len(symbols)
    places = np.unique(np.clip(np.asarray(places, dtype=np.int64), 0, m))
    at = places[places < m]
    t = np.arange(length)[None, :]
    if m == length + 2:
        i, j = np.triu_indices(len(at), 1)
        p, r = at[i][:, None], at[j][:, None]
        # the source of output t: skip p, then r
        src = t + (t >= p)
        src = src + (src >= r)
        cand = symbols[src]
    elif m == length - 2:
        i, j = np.triu_indices(len(places))
        p = np.repeat(places[i], 16)[:, None]
        q = np.repeat(places[j], 16)[:, None] + 1          # the second insertion, after the first
        a = np.tile(np.repeat(np.arange(4), 4), len(i))[:, None]
        b = np.tile(np.arange(4), 4 * len(i))[:, None]
        src = t - (t > p) - (t > q)
        cand = symbols[np.clip(src, 0, m - 1)]
        cand = np.where(t == p, a, np.where(t == q, b, cand)).astype(np.uint8)
    elif m == length:
        pp, qq = np.meshgrid(at, places, indexing="ij")
        keep = pp != qq
        p = np.repeat(pp[keep], 4)[:, None]
        q = np.repeat(qq[keep] - (qq[keep] > pp[keep]), 4)[:, None]   # the insertion, in the shortened row
        a = np.tile(np.arange(4), int(keep.sum()))[:, None]
        short = t - (t > q)
        src = short + (short >= p)
        cand = np.where(t == q, a, symbols[np.clip(src, 0, m - 1)]).astype(np.uint8)
    else:
        return None
    if not len(cand):
        return None
    code = to_code(cand)
    good = ~syndromes(code, nsym).any(axis=1)
    words = np.unique(code[good], axis=0)
    return words[0] if len(words) == 1 else None


def to_bytes(symbols: np.ndarray) -> np.ndarray:
    """(M, 4B) base symbols (two bits each, the first the high bits) -> (M, B) bytes."""
    s = np.asarray(symbols, dtype=np.uint8).reshape(len(symbols), -1, 4)
    return (s[..., 0] << 6) | (s[..., 1] << 4) | (s[..., 2] << 2) | s[..., 3]


def to_symbols(data: np.ndarray) -> np.ndarray:
    """(M, B) bytes -> (M, 4B) base symbols."""
    d = np.asarray(data, dtype=np.uint8)
    return np.stack([(d >> 6) & 3, (d >> 4) & 3, (d >> 2) & 3, d & 3], axis=2).reshape(len(d), -1)
