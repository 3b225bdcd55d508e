"""The photo codec's network, in Flax NNX: a fully convolutional transform coder for colour
images of any size (after Ballé et al., "End-to-end optimized image compression", ICLR 2017),
with a continuous rate knob (gain units, after Cui et al., "Asymmetric gained deep image
compression", CVPR 2021) and a factorized Laplace prior per latent channel.

- **Analysis** ``g_a``: four 5x5 convolutions of stride 2 with GDN between them: an RGB image
  (H, W) becomes M latent channels at (H/16, W/16). Images are padded (edge values) to a
  multiple of 16 and cropped back after decoding; the network is convolutional throughout, so
  there are no tiles and no seams.
- **Synthesis** ``g_s``: four ×2 upsamplings, each a 3x3 convolution to 4× the channels and a
  pixel shuffle (faster than a transposed convolution on XLA's CPU backend), with inverse GDN
  between them.
- **Rate knob**: ``levels`` quality levels, each a gain vector (M,) that scales the latents
  before rounding, its inverse after, and a Laplace scale per channel. A quality between two
  levels interpolates them geometrically, so any rate between the lowest and the highest
  level is reachable with one set of weights.
- **Prior**: the rounded latent ``q`` of channel ``c`` at level ``l`` has probability
  F(q + 1/2) − F(q − 1/2), F the Laplace CDF of scale ``b[l, c]`` centred on 0. Each latent
  is coded on its own, so any subset of them (a strand's worth) decodes without the others;
  a lost one is decoded as 0, the prior's mode.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from dnastore.codecs.vae import pixel_shuffle

STRIDE = 16  # the analysis transform's total downsampling
SCALE_FLOOR = 0.02  # the least Laplace scale: a latent of such a channel is 0 with probability 1 - 1e-11


@dataclasses.dataclass(frozen=True)
class PhotoConfig:
    hidden: int = 64       # N: channels of the hidden layers
    latent: int = 96       # M: latent channels
    levels: int = 4        # shipped quality levels (gain vectors)
    max_symbol: int = 63   # rounded latents are clipped to [-max_symbol, max_symbol]

    def __post_init__(self):
        if not (8 <= self.hidden <= 512 and 4 <= self.latent <= 512 and 1 <= self.levels <= 16
                and 7 <= self.max_symbol <= 1023):
            raise ValueError(f"bad photo codec config {self}")

    def to_json(self) -> dict[str, Any]:
        return {"model": "photo", **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, d: dict[str, Any], where: str = "photo codec config") -> "PhotoConfig":
        from dnastore.io.schema import Field, check_fields
        schema = {"hidden": Field("int", 8, 512), "latent": Field("int", 4, 512), "levels": Field("int", 1, 16),
                  "max_symbol": Field("int", 7, 1023)}
        return cls(**check_fields(d, schema, where, ignore=("model",)))

    def key(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


class GDN(nnx.Module):
    """Generalized divisive normalization (Ballé et al. 2016): y_i = x_i / sqrt(β_i + Σ_j
    γ_ij x_j²), or its inverse (multiplying). β and γ are kept positive by squaring."""

    def __init__(self, ch: int, inverse: bool = False):
        self.inverse = inverse
        self.beta = nnx.Param(jnp.ones((ch,), jnp.float32))
        self.gamma = nnx.Param(jnp.sqrt(0.1) * jnp.eye(ch, dtype=jnp.float32))

    def __call__(self, x):
        beta = self.beta[...] ** 2 + 1e-6
        gamma = self.gamma[...] ** 2
        norm = jnp.sqrt(jnp.einsum("...j,ij->...i", x * x, gamma) + beta)
        return x * norm if self.inverse else x / norm


class PhotoNet(nnx.Module):
    def __init__(self, cfg: PhotoConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        n, m = cfg.hidden, cfg.latent
        conv = lambda i, o, k, s: nnx.Conv(i, o, (k, k), strides=(s, s), padding="SAME", rngs=rngs)  # noqa: E731
        self.enc = nnx.List([conv(3, n, 5, 2), conv(n, n, 5, 2), conv(n, n, 5, 2), conv(n, m, 5, 2)])
        self.enc_gdn = nnx.List([GDN(n), GDN(n), GDN(n)])
        self.dec = nnx.List([conv(m, 4 * n, 3, 1), conv(n, 4 * n, 3, 1), conv(n, 4 * n, 3, 1), conv(n, 12, 3, 1)])
        self.dec_gdn = nnx.List([GDN(n, True), GDN(n, True), GDN(n, True)])
        lv = cfg.levels
        # log gains: level 0 the coarsest; spaced so that the levels start apart in rate
        base = np.linspace(-1.0, 1.0, lv)[:, None] * np.ones((1, m))
        self.log_gain = nnx.Param(jnp.asarray(base, jnp.float32))
        self.log_igain = nnx.Param(jnp.asarray(-base, jnp.float32))
        self.log_scale = nnx.Param(jnp.zeros((lv, m), jnp.float32))

    def analysis(self, x):
        """(B, H, W, 3) in [0, 1], H and W multiples of 16 → (B, H/16, W/16, M)."""
        y = x - 0.5
        for i, c in enumerate(self.enc):
            y = c(y)
            if i < 3:
                y = self.enc_gdn[i](y)
        return y

    def synthesis(self, y):
        x = y
        for i, c in enumerate(self.dec):
            x = pixel_shuffle(c(x))
            if i < 3:
                x = self.dec_gdn[i](x)
        return x + 0.5

    def level_params(self, quality):
        """(gain, inverse gain, Laplace scale), each (B, M), for qualities (B,) in [0, levels-1]."""
        q = jnp.clip(jnp.asarray(quality, jnp.float32), 0.0, self.cfg.levels - 1)
        lo = jnp.clip(jnp.floor(q).astype(jnp.int32), 0, max(0, self.cfg.levels - 2))
        hi = jnp.minimum(lo + 1, self.cfg.levels - 1)
        t = (q - lo)[:, None]
        mix = lambda p: jnp.exp((1 - t) * p[lo] + t * p[hi])  # noqa: E731
        return mix(self.log_gain[...]), mix(self.log_igain[...]), mix(self.log_scale[...]) + SCALE_FLOOR


def laplace_bits(q, scale):
    """-log2 P(q) of (noisy or integer) latents under the zero-mean Laplace of ``scale``,
    integrated over [q - 1/2, q + 1/2] (each side's tail computed where it is accurate)."""
    aq = jnp.abs(q)
    a = jnp.maximum(aq - 0.5, 0.0)
    tail = 0.5 * (jnp.exp(-a / scale) - jnp.exp(-(aq + 0.5) / scale))
    centre = 1.0 - 0.5 * (jnp.exp(-(0.5 + aq) / scale) + jnp.exp(-jnp.maximum(0.5 - aq, 0.0) / scale))
    p = jnp.where(aq < 0.5, centre, tail)
    return -jnp.log2(jnp.maximum(p, 1e-9))


def pad_to_stride(x: np.ndarray) -> np.ndarray:
    """(B, H, W, 3) padded with edge values to multiples of :data:`STRIDE`."""
    h, w = x.shape[1:3]
    ph, pw = -h % STRIDE, -w % STRIDE
    return np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge") if ph or pw else x
