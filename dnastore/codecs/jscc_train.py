"""Training of the neural communication systems of :mod:`dnastore.codecs.jscc` (seed 002):
the joint objective, the separate system's source and channel objectives, and
:class:`Fitter`, Adam on one part of a model with a whole epoch in one jit-compiled
``lax.scan``."""

from __future__ import annotations

from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from dnastore.channel.bandwidth import (
    bandwidth_limited,
    expand_bandwidths,
    normalize_parts,
    sample_bandwidth,
)
from dnastore.codecs.jscc import JSCC, JSCCConfig, gaussian_kl, to_unit
from dnastore.codecs.vae import reparam


def _sq(x: jax.Array, xhat: jax.Array) -> jax.Array:
    return jnp.sum(jnp.square(xhat - x).reshape(x.shape[0], -1), -1)


def joint_loss(m: JSCC, x: jax.Array, key: jax.Array, use_aux: bool = True) -> tuple[jax.Array, dict[str, jax.Array]]:
    """The joint system's objective (eq. 8, plus eq. 9's term with auxiliary latents), per
    message averaged; B is sampled or marginalised exactly per ``cfg.marginal``. With
    ``use_aux`` False the decoder gets v = 0 (the warm-up of an auxiliary-latent model)."""
    cfg = m.cfg
    ke, kb, kc, kv, kn = jax.random.split(key, 5)
    mu, logvar = m.encode(x)
    u = m.ch_enc(reparam(ke, mu, logvar))
    kl = gaussian_kl(mu, logvar)
    weight = None
    if cfg.n_parts == 1:
        b = None
    elif cfg.marginal == "sample":
        b = sample_bandwidth(kb, x.shape[0], cfg.probs)
    else:
        idx, b, weight = expand_bandwidths(x.shape[0], cfg.probs)
        x, u = x[idx], u[idx]
    z = m.transmit(kc, u, b)
    v, kl_v = (None, jnp.zeros(x.shape[0]))
    if cfg.aux and use_aux:
        sent = normalize_parts(u, cfg.n_parts) if cfg.channel == "awgn" else u
        v, kl_v = m.aux_sample(kv, x, jax.lax.stop_gradient(sent), z)
    sq = _sq(x, m.decode(m.ch_dec(z), v))
    per = sq + cfg.aux_beta * kl_v
    if weight is not None:  # exact: Σ_B P(B)·loss(B) per message
        per = (per * weight).reshape(-1, cfg.n_parts).sum(-1)
        sq = (sq * weight).reshape(-1, cfg.n_parts).sum(-1)
    loss = jnp.mean(per + cfg.beta * kl)
    aux = {"sq": jnp.mean(sq), "kl": jnp.mean(kl)}
    if cfg.prior == "learned" and cfg.n_parts > 1:
        # fit P(Y_t | Z_<t) to the channel inputs given fully received codes, codes held fixed
        full = jax.lax.stop_gradient(bandwidth_limited(kn, u, jnp.full((u.shape[0],), cfg.n_parts), u, cfg.snr_db,
                                                       n_parts=cfg.n_parts)[0])
        nll = jnp.mean(m.prior_nll(full, jax.lax.stop_gradient(normalize_parts(u, cfg.n_parts))))
        loss, aux["prior_nll"] = loss + nll, nll
    return loss, aux


def source_loss(m: JSCC, x: jax.Array, key: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
    """The separate system's source β-VAE: Σ (x − x̂)² + β·KL, no channel."""
    mu, logvar = m.encode(x)
    sq, kl = _sq(x, m.decode(reparam(key, mu, logvar))), gaussian_kl(mu, logvar)
    return jnp.mean(sq + m.cfg.beta * kl), {"sq": jnp.mean(sq), "kl": jnp.mean(kl)}


def channel_loss(m: JSCC, batch: int, key: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
    """The separate system's channel autoencoder on y' ~ N(0, I): squared error of y'."""
    ky, kc, kb = jax.random.split(key, 3)
    y = jax.random.normal(ky, (batch, m.cfg.latent))
    b = sample_bandwidth(kb, batch, m.cfg.probs) if m.cfg.n_parts > 1 else None
    err = jnp.sum(jnp.square(m.ch_dec(m.transmit(kc, m.ch_enc(y), b)) - y), -1)
    return jnp.mean(err), {"sq": jnp.mean(err)}


def _subset(model: JSCC, names: tuple[str, ...]):
    """The filter of the parameters under the named sub-networks."""
    return nnx.All(nnx.Param, nnx.Any(*[nnx.PathContains(n) for n in names]))


PARTS = {"joint": ("src_enc", "ch_enc", "ch_dec", "src_dec", "prior_net", "aux_post"),
         "source": ("src_enc", "src_dec"),
         "channel": ("ch_enc", "ch_dec")}


class Fitter:
    """Adam on one part of a model (``joint``, ``source`` or ``channel``), an epoch per call.

    A step's batch comes from the data (joint, source) or only from the key (channel)."""

    def __init__(self, model: JSCC, part: str, lr: float = 1e-3, batch: int = 100, seed: int = 0):
        self.model, self.part, self.batch, self.seed, self.epoch = model, part, batch, seed, 0
        self.wrt = _subset(model, PARTS[part])
        self.opt = nnx.Optimizer(model, optax.adam(lr), wrt=self.wrt)
        loss = {"joint": joint_loss, "source": source_loss, "channel": channel_loss}[part]
        self._epoch = _make_epoch(loss, self.wrt, part == "channel")
        self._warm = _make_epoch(partial(joint_loss, use_aux=False), self.wrt, False) if part == "joint" else None

    def train_epoch(self, images: np.ndarray | None = None, steps: int | None = None,
                    use_aux: bool = True) -> dict[str, float]:
        """One epoch; ``use_aux=False`` trains a joint model with v = 0 (the warm-up that lets
        the decoder learn to read the channel before the noise-free path through q(v | x, y, z)
        opens)."""
        key = jax.random.key(self.seed)
        key = jax.random.fold_in(key, self.epoch)
        batch = self.batch
        if self.part == "channel":
            if images is not None:
                raise TypeError("the channel autoencoder is trained on prior samples only, never on source data")
            xs = jnp.zeros((steps or 100, 0))
        else:
            if len(images) == 0:
                raise ValueError("no training images")
            batch = min(batch, len(images))  # a set smaller than a batch is one batch
            n = len(images) // batch
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(images))[:n * batch]
            xs = jnp.asarray(images[order].reshape((n, batch) + images.shape[1:]))
        self.epoch += 1
        run = self._epoch if use_aux or self._warm is None else self._warm
        losses, aux = run(self.model, self.opt, xs, key, batch)
        return {"loss": float(jnp.mean(losses)), **{k: float(jnp.mean(v)) for k, v in aux.items()}}


def _make_epoch(loss_fn: Callable, wrt, keyed_only: bool):
    @partial(nnx.jit, static_argnums=(4,))
    def run(model, opt, xs, key, batch):
        def step(carry, inp):
            model, opt = carry
            x, i = inp
            k = jax.random.fold_in(key, i)

            def lf(m):
                return loss_fn(m, batch, k) if keyed_only else loss_fn(m, to_unit(x), k)
            (loss, aux), grads = nnx.value_and_grad(lf, argnums=nnx.DiffState(0, wrt), has_aux=True)(model)
            opt.update(model, grads)
            return (model, opt), (loss, aux)
        _, (losses, aux) = nnx.scan(step, in_axes=(nnx.Carry, 0), out_axes=(nnx.Carry, 0))(
            (model, opt), (xs, jnp.arange(xs.shape[0])))
        return losses, aux
    return run


def train_separate_channel(cfg: JSCCConfig, epochs: int, steps: int = 500, seed: int = 0,
                           model: JSCC | None = None) -> JSCC:
    """Train only the channel autoencoder of ``model`` (a new one by default) on prior samples."""
    model = model or JSCC(cfg, nnx.Rngs(seed))
    fit = Fitter(model, "channel", seed=seed)
    for _ in range(epochs):
        fit.train_epoch(steps=steps)
    return model


def train_separate(cfg: JSCCConfig, images: np.ndarray, epochs: int, seed: int = 0, batch: int = 100,
                   source: JSCC | None = None, channel: JSCC | None = None) -> JSCC:
    """The separate system: a source β-VAE trained on ``images`` and a channel autoencoder
    trained on prior samples only (as many steps as the source gets), joined into one model
    for testing. Either half can be given already trained."""
    steps = max(1, len(images) // batch)
    if source is None:
        source = JSCC(cfg, nnx.Rngs(seed))
        fit = Fitter(source, "source", batch=batch, seed=seed)
        for _ in range(epochs):
            fit.train_epoch(images)
    if channel is None:
        channel = train_separate_channel(cfg, epochs, steps, seed)
    return join_halves(cfg, source, channel)


def join_halves(cfg: JSCCConfig, source: JSCC, channel: JSCC) -> JSCC:
    """A model of ``cfg`` with the source coder of ``source`` and the channel coder of ``channel``."""
    model = JSCC(cfg, nnx.Rngs(0))
    nnx.update(model, nnx.state(source, _subset(source, PARTS["source"])))
    nnx.update(model, nnx.state(channel, _subset(channel, PARTS["channel"])))
    return model
