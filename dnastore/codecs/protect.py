"""Unequal error protection of the codes against bit flips (the BSC of the paper's Table III).

A flipped top bit moves a VAEN latent by half its range; a flipped bottom bit moves it by
less than a quantization step. So each image's codes are split by significance:

- the ``top`` most significant bits of every code (``top * K`` bits per image) form the
  message of one binary BCH code per image, shortened from length 127 (galois' systematic
  BCH encoder and its Berlekamp-Massey decoder), which corrects up to ``t`` flips;
- the remaining ``n_bits - top`` bits of every code are stored as they are.

A codeword with more than ``t`` flips cannot be corrected; its received message bits are then
used as they are, and :func:`decode` reports the image as failed. The layout of one image's
bits is [BCH message | BCH parity | unprotected bits], each group ordered latent by latent,
most significant bit first. Measured levers and the settings chosen are in README.md
("BSC levers").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dnastore.errors import DnastoreError

MOTHER_N = 127  # BCH length 2^7 - 1


@lru_cache(maxsize=8)
def _bch(t: int):
    import galois  # numba-compiled on first use: import only when protection is asked for
    return galois.BCH(MOTHER_N, d=2 * t + 1)


def code_bits(codes: np.ndarray, n_bits: int) -> np.ndarray:
    """(..., n_bits) uint8 bits of integer codes, most significant first."""
    c = np.asarray(codes).astype(np.int64)
    return ((c[..., None] >> np.arange(n_bits - 1, -1, -1)) & 1).astype(np.uint8)


def bits_code(bits: np.ndarray) -> np.ndarray:
    n = bits.shape[-1]
    return (bits.astype(np.int64) << np.arange(n - 1, -1, -1)).sum(-1)


@dataclass(frozen=True)
class UEP:
    """BCH protection of the ``top`` most significant of ``n_bits`` bits per code."""
    n_bits: int
    top: int
    t: int

    def __post_init__(self):
        if not 1 <= self.n_bits <= 16:
            raise DnastoreError(f"bits per code must be in 1..16, got {self.n_bits}")
        if not 0 <= self.top <= self.n_bits:
            raise DnastoreError(f"protected bits must be in 0..{self.n_bits}, got {self.top}")
        if self.top and not 1 <= self.t <= 31:
            raise DnastoreError(f"the BCH code corrects 1..31 errors, got t={self.t}")

    def parity(self) -> int:
        return (MOTHER_N - _bch(self.t).k) if self.top else 0

    def check(self, k: int) -> None:
        if self.top and self.top * k > _bch(self.t).k:
            raise DnastoreError(f"{self.top * k} protected bits per image exceed the {_bch(self.t).k} message "
                                f"bits of BCH({MOTHER_N}, t={self.t}); protect fewer bits or correct fewer errors")

    def length(self, k: int) -> int:
        """Stored bits per image for K codes."""
        self.check(k)
        return k * self.n_bits + self.parity()

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """(N, L) uint8 bits of codes (N, K)."""
        import galois
        n, k = codes.shape
        self.check(k)
        b = code_bits(codes, self.n_bits)
        parts = []
        if self.top:
            msg = b[:, :, :self.top].reshape(n, -1)
            cw = np.asarray(_bch(self.t).encode(galois.GF2(msg)), np.uint8)
            parts.append(cw)
        parts.append(b[:, :, self.top:].reshape(n, -1))
        return np.concatenate(parts, axis=1)

    def decode(self, bits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(codes (N, K), ok (N,)) from received bits (N, L); ``ok`` is False where the BCH
        decoder found more errors than it corrects (its message bits are then used as read)."""
        import galois
        n = len(bits)
        if bits.shape[1] != self.length(k):
            raise DnastoreError(f"{bits.shape[1]} bits per image; this protection of {k} codes stores {self.length(k)}")
        ok = np.ones(n, bool)
        top = np.zeros((n, k, 0), np.uint8)
        if self.top:
            m = self.top * k
            cw = bits[:, :m + self.parity()]
            msg, nerr = _bch(self.t).decode(galois.GF2(np.asarray(cw, np.uint8)), errors=True)
            ok = np.asarray(nerr) >= 0
            top = np.where(ok[:, None], np.asarray(msg, np.uint8), cw[:, :m]).reshape(n, k, self.top)
        low = bits[:, self.length(k) - k * (self.n_bits - self.top):].reshape(n, k, self.n_bits - self.top)
        return bits_code(np.concatenate([top, low], axis=2)), ok
