"""The relaxed binary symmetric channel of the bandwidth-limited paper's appendix C.

The channel input is a relaxed Bernoulli (binary concrete, Maddison et al. 2016) sample
``y = σ((L + log α)/T)`` with ``L ~ Logistic(0, 1)`` and ``log α`` the encoder's logit; the
channel's noise ``w`` is a relaxed Bernoulli too, with ``P(w = 1) = 1 − ε`` (1 = keep the bit).
The output is the relaxed XNOR of the two:

    z = ((2w − 1)(2y − 1) + 1) / 2.

The paper's eq. 21 writes ``(2w − 1) / (2(2y − 1)) + 1/2``. For hard bits (±1 after the affine
map) division and multiplication by ``2y − 1`` agree, but for relaxed values the division
explodes as ``y → 1/2``, so we multiply. As ``T → 0`` both samples become hard bits and the
channel is exactly a BSC(ε).

SNR. The paper's eq. 22 is garbled in our copy, so we state our own: in the ±1 domain the
signal has unit power and the noise ``z − y`` is −2y with probability ε, so
``SNR = 1 / (4ε)`` (``binary_snr_db``); ``measured_snr_db`` of the Gaussian module measures
it on ±1 samples.

When it trains badly (the paper's appendix C found the same): at low temperature the
sigmoid saturates and the reparameterised gradient vanishes almost everywhere, while at high
temperature the relaxed channel leaks information a hard BSC does not (a relaxed sample near
0.5 is neither kept nor flipped), so the model learns a code that fails on the hard channel.
Choi et al. (2019) side-step this with VIMCO's score-function gradients on hard bits, which
is what our NECST model does.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def binary_concrete(key: jax.Array, logit: jax.Array, temperature: float) -> jax.Array:
    """Relaxed Bernoulli samples σ((L + logit)/T), L ~ Logistic, of ``logit``'s shape."""
    u = jax.random.uniform(key, jnp.shape(logit), minval=1e-6, maxval=1.0 - 1e-6)
    return jax.nn.sigmoid((jnp.log(u) - jnp.log1p(-u) + logit) / temperature)


def binary_concrete_logpdf(s: jax.Array, logit: jax.Array, temperature: float) -> jax.Array:
    """Log density of the pre-sigmoid value s = (L + log α)/T (the paper's eq. 20), which
    stays finite where the sigmoid saturates."""
    a = logit - temperature * s
    return math.log(temperature) + a - 2.0 * jax.nn.softplus(a)


@jax.jit
def relaxed_bsc(key: jax.Array, y_logit: jax.Array, eps: float, temperature: float) -> jax.Array:
    """Relaxed channel output in [0, 1] for the input logits ``y_logit`` and flip probability ``eps``."""
    ky, kw = jax.random.split(key)
    y = binary_concrete(ky, y_logit, temperature)
    keep_logit = jnp.log1p(-eps) - jnp.log(eps)
    w = binary_concrete(kw, jnp.broadcast_to(keep_logit, jnp.shape(y_logit)), temperature)
    return ((2.0 * w - 1.0) * (2.0 * y - 1.0) + 1.0) / 2.0


def binary_snr_db(eps: float) -> float:
    """SNR of a BSC(ε) in the ±1 domain: 1 / (4ε), in dB."""
    return 10.0 * math.log10(1.0 / (4.0 * eps))
