"""Regular LDPC codes for the VAE + LDPC baseline of NECST (Gallager 1962; the NECST paper's
settings: column weight 3, no cycles of length 4, rate 1/2, 50 iterations of belief
propagation).

The parity-check matrix is built here (random, each column of weight ``col_weight`` with
rows as even as the no-4-cycle rule allows, no two columns sharing two rows, full rank); the generator is its
null space over GF(2) from ``galois``, brought to reduced row-echelon form so the message
bits sit unchanged at the pivot positions. Decoding is the ``ldpc`` package's C++
belief-propagation decoder (``BpDecoder``, product-sum) on the received word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnastore.errors import DnastoreError


def regular_pcm(n: int, m: int, col_weight: int = 3, seed: int = 0, tries: int = 200) -> np.ndarray:
    """An (m, n) parity-check matrix with ``col_weight`` ones per column, row weights within
    near n·col_weight/m, no 4-cycles, and rank m."""
    import galois
    for t in range(tries):
        rng = np.random.default_rng([seed, t])
        h = np.zeros((m, n), np.uint8)
        deg = np.zeros(m, int)
        pairs: set[tuple[int, int]] = set()
        ok = True
        for c in range(n):
            rows: list[int] = []
            for r in np.argsort(deg + rng.random(m), kind="stable"):
                if all((min(r, s), max(r, s)) not in pairs for s in rows):
                    rows.append(int(r))
                    if len(rows) == col_weight:
                        break
            if len(rows) < col_weight:
                ok = False
                break
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    pairs.add((min(a, b), max(a, b)))
            h[rows, c] = 1
            deg[rows] += 1
        if ok and np.linalg.matrix_rank(galois.GF2(h)) == m:
            return h
    raise DnastoreError(f"no regular ({n}, {m}) LDPC code with column weight {col_weight} found in {tries} tries")


@dataclass
class LDPC:
    """A rate-k/n systematic LDPC code."""
    h: np.ndarray  # (n - k, n)
    g: np.ndarray  # (k, n), reduced row-echelon form
    info: np.ndarray  # (k,) positions of the message bits in a codeword

    @classmethod
    def regular(cls, n: int, k: int, col_weight: int = 3, seed: int = 0) -> "LDPC":
        import galois
        h = regular_pcm(n, n - k, col_weight, seed)
        g = np.asarray(galois.GF2(h).null_space().row_reduce(), np.uint8)
        if g.shape != (k, n):
            raise DnastoreError(f"LDPC generator has shape {g.shape}, expected ({k}, {n})")
        info = np.array([int(np.flatnonzero(row)[0]) for row in g])
        return cls(h, g, info)

    @property
    def n(self) -> int:
        return self.h.shape[1]

    @property
    def k(self) -> int:
        return self.g.shape[0]

    def encode(self, msg: np.ndarray) -> np.ndarray:
        """Codewords (B, n) of messages (B, k) in {0, 1}."""
        msg = np.asarray(msg, np.int64)
        return ((msg @ self.g) % 2).astype(np.uint8)

    def decode(self, received: np.ndarray, eps: float, max_iter: int = 50) -> np.ndarray:
        """Messages (B, k) from received hard bits (B, n) of a BSC with flip probability
        ``eps``, by belief propagation (product-sum, ``max_iter`` iterations)."""
        from ldpc import BpDecoder
        dec = BpDecoder(self.h, error_rate=float(min(max(eps, 1e-6), 0.499)), max_iter=max_iter,
                        bp_method="product_sum", input_vector_type="received_vector")
        r = np.asarray(received, np.uint8)
        out = np.empty((len(r), self.k), np.uint8)
        for i, word in enumerate(r):
            out[i] = np.asarray(dec.decode(word), np.uint8)[self.info]
        return out
