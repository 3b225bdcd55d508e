"""The bandwidth-limited channel (seed 002, eq. 5), differentiable.

A code ``y`` of ``T·d`` numbers is read as a sequence of ``T`` parts of ``d``. A bandwidth
``B ∈ {1, …, T}`` is drawn from ``P(B)``; parts ``1..B`` pass through an AWGN channel (the
Gaussian module's power-normalised convention, applied to each part: every band has unit
average power), and parts ``B+1..T`` are lost and replaced by
samples ``fill`` from a prior over channel inputs. The receiver is not told ``B``: a filled
part must look like a real one, which is why the prior matters.

The fill comes from the caller, so the same kernel serves both priors of the experiments: a
standard Gaussian (``gaussian_fill``), or the learned autoregressive Gaussian of
``dnastore.codecs.jscc`` (which conditions each lost part on the parts before it).

``B`` is marginalised either by sampling (one ``B`` per message, ``sample_bandwidth``) or
exactly over its support (``expand_bandwidths`` repeats each message once per ``B`` and
returns the weights ``P(B)``); both give the same expected loss.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dnastore.channel.gaussian import noise_sigma, normalize_power


def uniform_bandwidth(n_parts: int) -> np.ndarray:
    """P(B) uniform over 1..T."""
    return np.full(n_parts, 1.0 / n_parts)


def sample_bandwidth(key: jax.Array, n: int, probs) -> jax.Array:
    """``n`` bandwidths in 1..T drawn from ``probs`` (P(B = 1), …, P(B = T))."""
    p = jnp.asarray(probs)
    return jax.random.choice(key, p.shape[0], (n,), p=p) + 1


def expand_bandwidths(n: int, probs) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Exact marginalisation: (message index, bandwidth, weight P(B)) for every message and
    every B in the support, message-major, so row i·T + (b−1) is message i at bandwidth b."""
    p = jnp.asarray(probs)
    t = p.shape[0]
    idx = jnp.repeat(jnp.arange(n), t)
    b = jnp.tile(jnp.arange(1, t + 1), n)
    return idx, b, jnp.tile(p, n)


def part_mask(b: jax.Array, n_parts: int, part_dim: int) -> jax.Array:
    """Boolean mask (N, T·d): True where a number is in a part that passes (part < B)."""
    part = jnp.arange(n_parts * part_dim) // part_dim
    return part[None, :] < jnp.asarray(b)[:, None]


def normalize_parts(y: jax.Array, n_parts: int) -> jax.Array:
    """Scale each part of each message to unit average power (each band has its own power
    budget; one budget for the whole message would let an encoder pour its power into part 1,
    which always passes, and make the bandwidth irrelevant)."""
    shape = y.shape
    return normalize_power(y.reshape(shape[:-1] + (n_parts, shape[-1] // n_parts))).reshape(shape)


def gaussian_fill(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """The standard Gaussian prior's samples for lost parts."""
    return jax.random.normal(key, shape, dtype)


def _limited(key: jax.Array, y: jax.Array, b: jax.Array, fill: jax.Array, snr_db: float,
             n_parts: int) -> tuple[jax.Array, jax.Array]:
    """(received z, mask): ``y`` power-normalised per message, AWGN at ``snr_db`` on the parts
    below ``b``, ``fill`` on the rest."""
    d = y.shape[-1] // n_parts
    mask = part_mask(b, n_parts, d)
    y = normalize_parts(y, n_parts)
    z = y + noise_sigma(snr_db) * jax.random.normal(key, y.shape, y.dtype)
    return jnp.where(mask, z, fill), mask


bandwidth_limited = jax.jit(_limited, static_argnames=("n_parts",))
