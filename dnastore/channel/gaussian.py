"""The additive white Gaussian noise (AWGN) channel with a fixed signal-to-noise ratio.

Convention (average power constraint): each message's code ``y`` (the last axis) is first
scaled to unit average power, ``y ← y / sqrt(mean(y²))``, then ``z = y + σ·w`` with
``w ~ N(0, 1)`` and ``σ² = 10^(−SNR_dB/10)``. The SNR is therefore exactly the ratio of the
mean signal power (1) to the noise variance, and the capacity is ½·log2(1 + SNR) bits per
channel use (Cover & Thomas, ch. 9).

The bandwidth-limited paper (seed 002, eq. 4) writes the channel as ``Z = Y + (μ_Y / s)·W``:
noise proportional to the mean of the encoder's Gaussian. We do not implement that form. Its
noise vanishes wherever μ_Y → 0, so an encoder can carry information in the spread around a
zero mean without ever meeting noise, and its "SNR" then differs per component and from the
textbook quantity the capacity formula is stated for. The power-normalised channel has no
such escape, and both the joint and the separate systems see the same channel.

Everything here is a pure, jit-compiled function of a PRNG key and arrays, differentiable in
``y`` (the normalisation and the added noise are smooth; the noise does not depend on ``y``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def noise_sigma(snr_db: float) -> float:
    """Standard deviation of the noise for unit signal power at ``snr_db``."""
    return 10.0 ** (-snr_db / 20.0)


def normalize_power(y: jax.Array, eps: float = 1e-12) -> jax.Array:
    """Scale each message (last axis) to unit average power."""
    return y * jax.lax.rsqrt(jnp.mean(jnp.square(y), axis=-1, keepdims=True) + eps)


@jax.jit
def awgn(key: jax.Array, y: jax.Array, snr_db: float) -> jax.Array:
    """Power-normalise ``y`` per message and add Gaussian noise at ``snr_db``."""
    y = normalize_power(y)
    return y + noise_sigma(snr_db) * jax.random.normal(key, y.shape, y.dtype)


def measured_snr_db(sent: jax.Array, received: jax.Array) -> float:
    """10·log10(mean power of ``sent`` / mean power of ``received − sent``)."""
    sent = jnp.asarray(sent)
    noise = jnp.asarray(received) - sent
    return float(10.0 * jnp.log10(jnp.mean(jnp.square(sent)) / jnp.mean(jnp.square(noise))))


def awgn_capacity(snr_db: float) -> float:
    """Capacity of the power-limited Gaussian channel, bits per channel use."""
    return 0.5 * math.log2(1.0 + 10.0 ** (snr_db / 10.0))
