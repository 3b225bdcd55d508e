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
