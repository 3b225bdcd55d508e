"""Bit channels for the experiments that skip DNA. Pure functions of a key and an array."""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.jit
def bsc(key: jax.Array, bits: jax.Array, p: float) -> jax.Array:
    """Binary symmetric channel: flip each bit independently with probability ``p``."""
    flips = jax.random.bernoulli(key, p, bits.shape)
    return jnp.where(flips, 1 - bits, bits).astype(bits.dtype)


@jax.jit
def bec(key: jax.Array, bits: jax.Array, p: float) -> tuple[jax.Array, jax.Array]:
    """Binary erasure channel: erase each bit with probability ``p``.

    Returns (bits with erased positions set to 0, erasure mask)."""
    erased = jax.random.bernoulli(key, p, bits.shape)
    return jnp.where(erased, 0, bits).astype(bits.dtype), erased


def binary_entropy(p: float) -> float:
    """H_b(p) in bits."""
    import math
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def bsc_capacity(p: float) -> float:
    """Capacity of a BSC with flip probability ``p``: 1 − H_b(p) bits per channel use."""
    return 1.0 - binary_entropy(p)


def ideal_code_bits(source_bits: float, p: float) -> float:
    """Channel bits an ideal code (at capacity) needs to carry ``source_bits`` through a
    BSC(p): source_bits / (1 − H_b(p)); infinite at p = 0.5."""
    c = bsc_capacity(p)
    return float("inf") if c <= 0 else source_bits / c
