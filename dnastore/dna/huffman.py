"""Canonical ternary Huffman code over bytes (Goldman et al. 2013 map bytes to trits with a
Huffman code; we build it from the payload's own byte histogram).

Code lengths are capped at ``LMAX`` trits by flattening the histogram (adding a floor to every
count) until the Huffman tree is shallow enough, so that a table of ``3**LMAX`` entries decodes
any codeword in one lookup. Encoding and decoding are vectorised across strands.
"""

from __future__ import annotations

import heapq

import numpy as np

LMAX = 8
NSYM = 256


def _huffman_lengths(weights: np.ndarray) -> np.ndarray:
    """Ternary Huffman code lengths for positive ``weights`` (deterministic tie-breaking)."""
    n = len(weights)
    heap: list[tuple[float, int]] = [(float(w), i) for i, w in enumerate(weights)]
    parent = list(range(n))
    next_id = n
    # a full ternary tree needs (leaves - 1) divisible by 2: pad with zero-weight dummies
    while (len(heap) - 1) % 2:
        heap.append((0.0, next_id))
        parent.append(next_id)
        next_id += 1
    heapq.heapify(heap)
    while len(heap) > 1:
        kids = [heapq.heappop(heap) for _ in range(3)]
        parent.append(next_id)
        for _, k in kids:
            parent[k] = next_id
        heapq.heappush(heap, (sum(w for w, _ in kids), next_id))
        next_id += 1
    root = heap[0][1]
    depth = np.zeros(n, dtype=np.int64)
    for i in range(n):
        d, j = 0, i
        while j != root:
            j = parent[j]
            d += 1
        depth[i] = d
    return depth


def code_lengths(counts: np.ndarray, lmax: int = LMAX) -> np.ndarray:
    """Length-limited ternary Huffman lengths for the 256 byte values from their counts."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    floor = total / (NSYM * 4096) if total > 0 else 1.0
    while True:
        lengths = _huffman_lengths(counts + floor)
        if lengths.max() <= lmax:
            return lengths
        floor *= 4


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical codeword values (base-3 integers) for the given lengths."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = sorted(range(len(lengths)), key=lambda s: (lengths[s], s))
    codes = np.zeros(len(lengths), dtype=np.int64)
    code, prev_len = 0, int(lengths[order[0]])
    for rank, s in enumerate(order):
        ln = int(lengths[s])
        if rank:
            code = (code + 1) * 3 ** (ln - prev_len)
        codes[s] = code
        prev_len = ln
    if code >= 3 ** prev_len:
        raise ValueError("code lengths violate the Kraft inequality")
    return codes


class TernaryHuffman:
    """A canonical ternary prefix code over byte values."""

    def __init__(self, lengths):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.shape != (NSYM,) or self.lengths.min() < 1:
            raise ValueError("need a positive code length for each of the 256 byte values")
        self.lmax = int(self.lengths.max())
        self.codes = canonical_codes(self.lengths)
        # digits[s, d]: d-th trit of symbol s's codeword (only d < lengths[s] is meaningful)
        self.digits = np.zeros((NSYM, self.lmax), dtype=np.uint8)
        for d in range(self.lmax):
            shift = self.lengths - 1 - d
            self.digits[:, d] = np.where(shift >= 0, (self.codes // 3 ** np.maximum(shift, 0)) % 3, 0)
        # decode table indexed by the next lmax trits read as a base-3 number
        size = 3 ** self.lmax
        self.table_sym = np.zeros(size, dtype=np.uint8)
        self.table_len = np.zeros(size, dtype=np.int64)  # 0 marks an invalid prefix
        for s in range(NSYM):
            span = 3 ** (self.lmax - self.lengths[s])
            lo = self.codes[s] * span
            self.table_sym[lo:lo + span] = s
            self.table_len[lo:lo + span] = self.lengths[s]

    @classmethod
    def from_data(cls, data: np.ndarray, lmax: int = LMAX) -> "TernaryHuffman":
        counts = np.bincount(np.asarray(data, dtype=np.uint8).ravel(), minlength=NSYM)
        return cls(code_lengths(counts, lmax))

    def row_lengths(self, sym: np.ndarray) -> np.ndarray:
        """Trits needed for each row of a (S, B) symbol matrix."""
        return self.lengths[sym].sum(axis=1)

    def encode_rows(self, sym: np.ndarray, width: int) -> np.ndarray:
        """(S, B) bytes -> (S, width) trits, zero-padded. Every row must fit."""
        sym = np.asarray(sym, dtype=np.uint8)
        S, B = sym.shape
        lens = self.lengths[sym]
        used = lens.sum(axis=1)
        if S and used.max() > width:
            raise ValueError(f"a row needs {used.max()} trits, more than the {width} available")
        out = np.zeros((S, width), dtype=np.uint8)
        start = np.cumsum(lens, axis=1) - lens
        rows = np.broadcast_to(np.arange(S)[:, None], (S, B))
        for d in range(self.lmax):
            m = d < lens
            out[rows[m], (start + d)[m]] = self.digits[sym, d][m]
        return out

    def decode_rows(self, trits: np.ndarray, n_sym: int) -> tuple[np.ndarray, np.ndarray]:
        """(S, T) trits -> ((S, n_sym) bytes, ok mask). A row is not ok if a codeword is
        invalid or runs past the end."""
        trits = np.asarray(trits)
        S, T = trits.shape
        # the codeword value starting at each position (3^lmax fits 16 bits for lmax <= 10)
        dt = np.uint16 if 3 ** self.lmax <= 1 << 16 else np.int64
        padded = np.zeros((S, T + self.lmax), dtype=dt)
        padded[:, :T] = trits
        win = padded[:, :T + 1].copy()
        for d in range(1, self.lmax):
            win *= dt(3)
            win += padded[:, d:d + T + 1]
        pos = np.zeros(S, dtype=np.int64)
        ok = np.ones(S, dtype=bool)
        out = np.zeros((S, n_sym), dtype=np.uint8)
        rows = np.arange(S)
        for i in range(n_sym):
            v = win[rows, np.minimum(pos, T)]
            out[:, i] = self.table_sym[v]
            ln = self.table_len[v]
            ok &= ln > 0
            pos += ln
        ok &= pos <= T
        return out, ok
