"""Neural communication over Gaussian and bandwidth-limited channels (seed 002), in Flax NNX.

One set of networks serves both systems the paper compares, so "same architectures" holds
by construction:

    x ─ source encoder ─ y' ~ N(μ(x), σ²(x)) ─ channel encoder ─ u ─ channel ─ z
      ─ channel decoder ─ source decoder (+ auxiliary latent v) ─ x̂

- **Joint** (``joint_loss``): everything is trained together through the channel, on
  ``Σ (x − x̂)² + β·KL(q(y'|x) ‖ N(0, I))`` (a Gaussian observation model; β is the usual
  rate weight, 2σ_x² in nats).
- **Separate** (``source_loss`` then ``channel_loss``): a source β-VAE (source encoder and
  decoder, standard normal prior) on the images, and a channel autoencoder (channel encoder
  and decoder) trained to carry samples y' ~ N(0, I) of that prior through the channel with
  squared error. ``train_channel_ae`` takes no data argument at all: the channel coder never
  sees the source, as separation demands.

The channel: ``channel = "relaxed-bsc"`` is the relaxed binary channel of
``dnastore.channel.relaxed`` in training (the channel encoder's outputs are the bits' logits)
and a hard BSC on the bits u > 0 at test time. Otherwise ``n_parts = 1`` is the AWGN channel
of ``dnastore.channel.gaussian``; with
``n_parts = T > 1`` it is the bandwidth-limited channel of ``dnastore.channel.bandwidth``, the
code's ``channel_dims`` read as T parts, B ~ P(B) (uniform over 1..T unless given), lost parts
filled from a prior:

- ``prior = "gaussian"``: standard normal samples;
- ``prior = "learned"``: an autoregressive conditional Gaussian over parts,
  p(y_t | z_<t) = N(μ_t, σ_t²) with (μ_t, log σ_t) from one MLP fed the earlier received
  parts (the rest zeroed) and a one-hot of t. It stands in for the paper's ConvDraw prior
  over channel inputs P_Y. It is fitted by maximum likelihood to the (power-normalised)
  channel inputs given fully received codes, with the codes held fixed, so it never shapes
  the encoder; lost parts are filled by ancestral sampling, each conditioned on the received
  parts and the parts filled before it.

``aux > 0`` gives the decoder auxiliary latents V (eq. 9): the source decoder reads [h, v],
a posterior q(v | x, y, z) (an MLP of the image, the channel input and the received code)
is used in training,
with ``aux_beta·KL(q ‖ N(0, I))`` added, and at test time v is drawn from the prior N(0, I).

All networks are MLPs (ReLU, ``hidden`` units), so any image shape works: MNIST (28×28) or a
user's colour folder (32×32×3); the paper used ResNets on CelebA.

This module holds the networks and their inference (``communicate``); the losses and the
training, a whole epoch in one jit-compiled ``lax.scan`` (Adam, Optax), are in
:mod:`dnastore.codecs.jscc_train`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from dnastore.channel.bandwidth import bandwidth_limited, uniform_bandwidth
from dnastore.channel.gaussian import awgn
from dnastore.channel.relaxed import relaxed_bsc
from dnastore.codecs.necst import MLP
from dnastore.codecs.vae import reparam
from dnastore.codecs.weights import load_model_arrays, model_arrays
from dnastore.data.batches import model_jit
from dnastore.io.artifacts import JSCC_FORMAT
from dnastore.io.msgpack import read_msgpack, write_msgpack

PRIORS = ("gaussian", "learned")
MARGINALS = ("sample", "exact")
CHANNELS = ("awgn", "relaxed-bsc")


@dataclasses.dataclass(frozen=True)
class JSCCConfig:
    image_shape: tuple[int, ...] = (28, 28)  # (H, W) grey or (H, W, C) colour
    latent: int = 20  # k, the source code
    channel_dims: int = 20  # n channel uses (T parts of n/T)
    n_parts: int = 1  # T; > 1 makes the channel bandwidth-limited
    snr_db: float = 0.0
    hidden: int = 256
    beta: float = 0.1
    prior: str = "gaussian"  # fill of lost parts
    aux: int = 0  # dimensions of the auxiliary latent V (0: none)
    aux_beta: float = 1.0  # weight of KL(q(v | x, y, z) ‖ N(0, I))
    bandwidth_probs: tuple[float, ...] | None = None  # P(B = 1..T); None: uniform
    marginal: str = "sample"  # how B is marginalised in training
    channel: str = "awgn"  # or "relaxed-bsc" (appendix C; one part only)
    eps: float = 0.1  # flip probability of the binary channel
    temperature: float = 0.5  # of the binary concrete relaxation (training only)

    def __post_init__(self):
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {', '.join(PRIORS)}, got {self.prior!r}")
        if self.marginal not in MARGINALS:
            raise ValueError(f"marginal must be one of {', '.join(MARGINALS)}, got {self.marginal!r}")
        if min(self.latent, self.channel_dims, self.n_parts, self.hidden) < 1 or self.aux < 0:
            raise ValueError("latent, channel_dims, n_parts and hidden must be >= 1 and aux >= 0")
        if self.channel_dims % self.n_parts:
            raise ValueError(f"channel_dims {self.channel_dims} is not a multiple of n_parts {self.n_parts}")
        if not (self.beta >= 0 and self.aux_beta >= 0) or not math.isfinite(self.snr_db):
            raise ValueError("beta and aux_beta must be >= 0 and snr_db finite")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {self.channel!r}")
        if self.channel == "relaxed-bsc" and (self.n_parts != 1 or not 0 < self.eps < 0.5 or not self.temperature > 0):
            raise ValueError("relaxed-bsc wants n_parts 1, 0 < eps < 0.5 and temperature > 0")
        if self.bandwidth_probs is not None:
            p = np.asarray(self.bandwidth_probs, float)
            if p.shape != (self.n_parts,) or (p < 0).any() or abs(p.sum() - 1.0) > 1e-6:
                raise ValueError(f"bandwidth_probs must be {self.n_parts} probabilities summing to 1")

    @property
    def pixels(self) -> int:
        return int(np.prod(self.image_shape))

    @property
    def part_dim(self) -> int:
        return self.channel_dims // self.n_parts

    @property
    def probs(self) -> np.ndarray:
        return np.asarray(self.bandwidth_probs) if self.bandwidth_probs is not None else uniform_bandwidth(self.n_parts)

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "JSCCConfig":
        d = dict(d)
        d["image_shape"] = tuple(d["image_shape"])
        if d.get("bandwidth_probs") is not None:
            d["bandwidth_probs"] = tuple(d["bandwidth_probs"])
        return cls(**d)


class JSCC(nnx.Module):
    """Source and channel encoders and decoders, the optional learned prior over channel
    parts and the optional auxiliary-latent posterior."""

    def __init__(self, cfg: JSCCConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        h, k, n, d = cfg.hidden, cfg.latent, cfg.channel_dims, cfg.pixels
        self.src_enc = MLP([d, h, h, 2 * k], rngs)
        self.ch_enc = MLP([k, h, n], rngs)
        self.ch_dec = MLP([n, h, k], rngs)
        self.src_dec = MLP([k + cfg.aux, h, h, d], rngs)
        self.prior_net = MLP([n + cfg.n_parts, h, 2 * cfg.part_dim], rngs) if cfg.prior == "learned" else None
        self.aux_post = MLP([d + 2 * n, h, 2 * cfg.aux], rngs) if cfg.aux else None

    # --- pieces -------------------------------------------------------------------------
    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Posterior mean and log variance of the source code y' for images in [0, 1]."""
        mu, logvar = jnp.split(self.src_enc(x.reshape(x.shape[0], -1)), 2, axis=-1)
        return mu, jnp.clip(logvar, -12.0, 8.0)

    def decode(self, h: jax.Array, v: jax.Array | None = None) -> jax.Array:
        """Image means in [0, 1] from a source code (and auxiliary latents)."""
        if self.cfg.aux:
            h = jnp.concatenate([h, v if v is not None else jnp.zeros((h.shape[0], self.cfg.aux), h.dtype)], -1)
        return jax.nn.sigmoid(self.src_dec(h)).reshape((h.shape[0],) + tuple(self.cfg.image_shape))

    def prior_params(self, z: jax.Array, t: int) -> tuple[jax.Array, jax.Array]:
        """(μ, log σ) of part t given the parts before it (later parts are zeroed here)."""
        cfg = self.cfg
        keep = (jnp.arange(cfg.channel_dims) // cfg.part_dim) < t
        onehot = jnp.broadcast_to(jax.nn.one_hot(t, cfg.n_parts, dtype=z.dtype), (z.shape[0], cfg.n_parts))
        mu, log_sigma = jnp.split(self.prior_net(jnp.concatenate([z * keep, onehot], -1)), 2, axis=-1)
        return mu, jnp.clip(log_sigma, -7.0, 3.0)

    def prior_nll(self, received: jax.Array, target: jax.Array) -> jax.Array:
        """−log p(target) per message under the learned autoregressive prior, part t
        conditioned on the ``received`` parts before it (teacher forcing)."""
        cfg, d = self.cfg, self.cfg.part_dim
        total = 0.0
        for t in range(cfg.n_parts):
            mu, ls = self.prior_params(received, t)
            yt = target[:, t * d:(t + 1) * d]
            total = total + jnp.sum(0.5 * jnp.square((yt - mu) * jnp.exp(-ls)) + ls + 0.5 * math.log(2 * math.pi), -1)
        return total

    def fill_lost(self, key: jax.Array, z: jax.Array, mask: jax.Array) -> jax.Array:
        """Replace the lost numbers of ``z`` (``mask`` False) by prior samples, part by part."""
        cfg, d = self.cfg, self.cfg.part_dim
        if cfg.prior == "gaussian":
            return jnp.where(mask, z, jax.random.normal(key, z.shape, z.dtype))
        keys = jax.random.split(key, cfg.n_parts)
        for t in range(cfg.n_parts):
            mu, ls = self.prior_params(z, t)
            sample = jax.lax.stop_gradient(mu + jnp.exp(ls) * jax.random.normal(keys[t], mu.shape, mu.dtype))
            zt = jnp.where(mask[:, t * d:(t + 1) * d], z[:, t * d:(t + 1) * d], sample)
            z = z.at[:, t * d:(t + 1) * d].set(zt)
        return z

    def transmit(self, key: jax.Array, u: jax.Array, b: jax.Array | None = None, hard: bool = False) -> jax.Array:
        """The channel: AWGN (one part), bandwidth-limited at bandwidths ``b`` (one per
        message), or the binary channel on the logits ``u``: relaxed in training, and with
        ``hard`` the real thing (the bits u > 0 through a BSC)."""
        cfg = self.cfg
        kn, kf = jax.random.split(key)
        if cfg.channel == "relaxed-bsc":
            if hard:
                return jnp.logical_xor(u > 0, jax.random.bernoulli(kn, cfg.eps, u.shape)).astype(u.dtype)
            return relaxed_bsc(kn, u, cfg.eps, cfg.temperature)
        if cfg.n_parts == 1:
            return awgn(kn, u, cfg.snr_db)
        z, mask = bandwidth_limited(kn, u, b, jnp.zeros_like(u), cfg.snr_db, n_parts=cfg.n_parts)
        return self.fill_lost(kf, z, mask)

    def aux_sample(self, key: jax.Array, x: jax.Array, y: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(v ~ q(v | x, y, z), KL(q ‖ N(0, I)) per message): eq. 9's posterior, fed the image,
        the power-normalised channel input and the received code."""
        mu, logvar = jnp.split(self.aux_post(jnp.concatenate([x.reshape(x.shape[0], -1), y, z], -1)), 2, axis=-1)
        logvar = jnp.clip(logvar, -12.0, 8.0)
        return reparam(key, mu, logvar), gaussian_kl(mu, logvar)

    # --- the systems ----------------------------------------------------------------------
    def send(self, key: jax.Array, x: jax.Array, b: jax.Array | None = None, sample_code: bool = False,
             v: jax.Array | None = None, hard: bool = True) -> jax.Array:
        """Test-time communication: x → (μ or a sample) → channel → decoder mean, v ~ N(0, I)
        when the decoder has auxiliary latents and ``v`` is not given."""
        ke, kc, kv = jax.random.split(key, 3)
        mu, logvar = self.encode(x)
        y = reparam(ke, mu, logvar) if sample_code else mu
        z = self.transmit(kc, self.ch_enc(y), b, hard=hard)
        if self.cfg.aux and v is None:
            v = jax.random.normal(kv, (x.shape[0], self.cfg.aux))
        return self.decode(self.ch_dec(z), v)

    def source_only(self, x: jax.Array) -> jax.Array:
        """The source VAE's own reconstruction from μ, no channel (the separate system's source half)."""
        return self.decode(self.encode(x)[0])


def gaussian_kl(mu: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(μ, e^logvar) ‖ N(0, I)) summed over the last axis."""
    return 0.5 * jnp.sum(jnp.square(mu) + jnp.exp(logvar) - 1.0 - logvar, -1)


def to_unit(x) -> jax.Array:
    """uint8 images to float32 in [0, 1] (float input is taken as already in [0, 1])."""
    x = jnp.asarray(x)
    return x.astype(jnp.float32) / 255.0 if x.dtype == jnp.uint8 else x.astype(jnp.float32)


@model_jit(static_argnames=("sample_code", "hard"))
def _send(model: JSCC, x: jax.Array, key: jax.Array, b: jax.Array | None, sample_code: bool = False,
          hard: bool = True) -> jax.Array:
    return model.send(key, to_unit(x), b, sample_code, hard=hard)


@model_jit
def _source_only(model: JSCC, x: jax.Array) -> jax.Array:
    return model.source_only(to_unit(x))


def communicate(model: JSCC, images: np.ndarray, seed: int = 0, bandwidth: int | None = None,
                batch: int = 1000, hard: bool = True) -> np.ndarray:
    """Reconstructions in [0, 1] of ``images`` sent through the model's channel (at a fixed
    ``bandwidth`` for a bandwidth-limited one; default: the full bandwidth). ``hard=False``
    keeps the binary channel relaxed, as in training."""
    cfg = model.cfg
    out = []
    for i in range(0, len(images), batch):
        x = images[i:i + batch]
        b = None if cfg.n_parts == 1 else jnp.full((len(x),), bandwidth or cfg.n_parts, jnp.int32)
        key = jax.random.fold_in(jax.random.key(seed), i)
        out.append(np.asarray(_send(model, x, key, b, hard=hard)))
    return np.concatenate(out)


def reconstruct_source(model: JSCC, images: np.ndarray, batch: int = 1000) -> np.ndarray:
    """The source VAE's own reconstructions in [0, 1] (no channel), in batches."""
    return np.concatenate([np.asarray(_source_only(model, images[i:i + batch])) for i in range(0, len(images), batch)])


def mse(images: np.ndarray, rec: np.ndarray) -> float:
    """Mean squared error per pixel in [0, 1] units (the L2 distortion we report)."""
    x = np.asarray(images, np.float64)
    x = x / 255.0 if np.asarray(images).dtype == np.uint8 else x
    return float(np.mean((x - rec) ** 2))


def save_jscc(path: Path, model: JSCC, meta: dict[str, Any]) -> None:
    """Weights as msgpack of flat arrays plus the JSON config (never a pickle), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write_msgpack(tmp, {"format": JSCC_FORMAT, "config": json.dumps(model.cfg.to_json()),
                        "params": model_arrays(model)[0],
                        "meta": json.dumps(meta, sort_keys=True)})
    tmp.replace(path)


def load_jscc(path: Path) -> JSCC:
    obj = read_msgpack(path, JSCC_FORMAT)
    model = JSCC(JSCCConfig.from_json(json.loads(obj["config"])), nnx.Rngs(0))
    load_model_arrays(model, obj["params"], {}, str(path))
    return model
