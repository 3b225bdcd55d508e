"""Training the photo codec (:mod:`dnastore.codecs.photo_model`): random crops of photos,
a rate-distortion loss over a continuum of qualities, and, for the channel-trained codec,
the erasures that lost strands cause.

Loss per crop, at a quality ``t`` drawn uniformly from [0, levels - 1]:

    bits per pixel + λ(t) · ((1 − MS-SSIM) + MSE_WEIGHT · MSE)

with λ interpolated geometrically between :data:`LAMBDAS`. The rate is the Laplace prior's
bits of the latents plus uniform noise; the synthesis sees the rounded latents (straight
through). Trained through the channel (``erasure > 0``), half the crops lose nothing and the others draw a loss
rate p from [0, erasure]; each latent is then erased (set to 0, as the decoder fills a lost one) with
probability p: the photo codec spreads each image's latents over many strands in a
pseudo-random order, so a lost strand erases latents scattered over the image.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from dnastore.codecs.photo_model import PhotoConfig, PhotoNet, laplace_bits
from dnastore.metrics.image import ms_ssim_float

LAMBDAS = (2.0, 7.0, 24.0, 80.0)
MSE_WEIGHT = 20.0
FAST_LR = 20.0
CROP = 128  # training crops are CROP x CROP pixels: a photo must be at least this large
CLEAN_SHARE = 0.5  # channel training: the share of crops that lose no latent


class Crops:
    """Random ``size``-pixel crops of RGB photos (uint8 (H, W, 3) each) at scales 1, 3/4 and
    1/2, with flips; each photo is drawn in proportion to its area."""

    def __init__(self, photos: list[np.ndarray], size: int = CROP, seed: int = 0):
        from skimage.transform import rescale
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.images: list[np.ndarray] = []
        for p in photos:
            for s in (1.0, 0.75, 0.5):
                a = p if s == 1.0 else np.clip(np.rint(rescale(p, s, channel_axis=2, anti_aliasing=True,
                                                                preserve_range=True)), 0, 255).astype(np.uint8)
                if min(a.shape[:2]) >= size:
                    self.images.append(a)
        if not self.images:
            raise ValueError(f"no photo is at least {size} pixels a side")
        area = np.array([a.shape[0] * a.shape[1] for a in self.images], float)
        self.p = area / area.sum()

    def batch(self, n: int) -> np.ndarray:
        out = np.empty((n, self.size, self.size, 3), np.float32)
        for i, k in enumerate(self.rng.choice(len(self.images), n, p=self.p)):
            a = self.images[k]
            y = self.rng.integers(0, a.shape[0] - self.size + 1)
            x = self.rng.integers(0, a.shape[1] - self.size + 1)
            c = a[y:y + self.size, x:x + self.size]
            if self.rng.random() < 0.5:
                c = c[:, ::-1]
            if self.rng.random() < 0.5:
                c = c[::-1]
            out[i] = c / 255.0
        return out


def lambdas(quality, levels: int):
    lam = np.log(np.asarray(LAMBDAS[:levels] if levels <= len(LAMBDAS) else
                            np.geomspace(LAMBDAS[0], LAMBDAS[-1], levels), np.float32))
    q = jnp.clip(quality, 0, levels - 1)
    return jnp.exp(jnp.interp(q, jnp.arange(levels, dtype=jnp.float32), jnp.asarray(lam)))


def rd_terms(model: PhotoNet, x, quality, key, erasure: float = 0.0):
    """(bits per pixel, 1 − MS-SSIM, MSE), each (B,), of crops ``x`` at ``quality`` (B,)."""
    k1, k2, k3 = jax.random.split(key, 3)
    g, ig, s = model.level_params(quality)
    y = model.analysis(x) * g[:, None, None, :]
    noisy = y + jax.random.uniform(k1, y.shape, minval=-0.5, maxval=0.5)
    bits = laplace_bits(noisy, s[:, None, None, :]).sum(axis=(1, 2, 3))
    m = model.cfg.max_symbol
    yq = y + jax.lax.stop_gradient(jnp.clip(jnp.round(y), -m, m) - y)
    if erasure > 0:
        # half the crops lose nothing (what a well-read pool gives), the rest up to ``erasure``
        ka, kb = jax.random.split(k2)
        p = jax.random.uniform(ka, (x.shape[0], 1, 1, 1), maxval=erasure)
        p = jnp.where(jax.random.uniform(kb, p.shape) < CLEAN_SHARE, 0.0, p)
        yq = jnp.where(jax.random.uniform(k3, yq.shape) < p, 0.0, yq)
    xh = model.synthesis(yq * ig[:, None, None, :])
    bpp = bits / (x.shape[1] * x.shape[2])
    mse = jnp.mean((xh - x) ** 2, axis=(1, 2, 3))
    return bpp, 1.0 - ms_ssim_float(x, jnp.clip(xh, 0.0, 1.0)), mse


def make_step(erasure: float, levels: int):
    @nnx.jit
    def step(model, opt, x, quality, key):
        def loss_fn(model):
            bpp, dms, mse = rd_terms(model, x, quality, key, erasure)
            lam = lambdas(quality, levels)
            return jnp.mean(bpp + lam * (dms + MSE_WEIGHT * mse)), (bpp.mean(), dms.mean(), mse.mean())
        (loss, aux), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        opt.update(model, grads)
        return loss, aux
    return step


def train_photo(photos: list[np.ndarray], out: Path, *, cfg: PhotoConfig | None = None, steps: int = 6000,
                batch: int = 8, size: int = CROP, lr: float = 3e-4, erasure: float = 0.0, seed: int = 0,
                init: Any = None, train_only: str = "all", checkpoint_every: int = 250,
                meta: dict[str, Any] | None = None, on_step: Callable[[int, float, tuple], None] | None = None,
                time_limit: float | None = None) -> dict[str, Any]:
    """Train (or fine-tune ``init``, a :class:`~dnastore.codecs.weights.Weights`) and save the
    weights to ``out`` (atomically) every ``checkpoint_every`` steps and at the end. ``train_only``:
    "all" or "synthesis" (the decoder alone, the encoder and prior frozen)."""
    from dnastore.codecs.weights import save_weights
    from dnastore.io.atomic import scratch
    if init is not None:  # a copy: the loaded weights are shared (cached by digest) and stay as they are
        cfg, model = init.config, nnx.clone(init.model)
    else:
        cfg = cfg or PhotoConfig()
        model = PhotoNet(cfg, nnx.Rngs(seed))
    crops = Crops(photos, size, seed)
    sched = optax.warmup_cosine_decay_schedule(lr * 0.1, lr, min(200, steps // 10 + 1), steps, lr * 0.05)
    # the per-level gains and prior scales learn FAST_LR times faster: they set each level's
    # rate, and at the base rate they would take thousands of steps to spread the levels apart
    def labels(params):
        return jax.tree_util.tree_map_with_path(
            lambda path, _: "fast" if any("log_" in str(k) for k in path) else "slow", params)
    tx = optax.multi_transform(
        {"slow": optax.chain(optax.clip_by_global_norm(1.0), optax.adam(sched)),
         "fast": optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lambda i: FAST_LR * sched(i)))}, labels)
    wrt = nnx.Param
    if train_only == "synthesis":
        wrt = nnx.All(nnx.Param, nnx.PathContains("dec"))
    opt = nnx.Optimizer(model, tx, wrt=wrt)
    step = make_step(erasure, cfg.levels)
    key = jax.random.key(seed)
    rng = np.random.default_rng(seed + 1)
    log: list[dict[str, float]] = []
    t0 = time.time()
    acc = np.zeros(4)
    info = dict(meta or {})

    def save(i):
        info.update(steps=i, seconds=round(time.time() - t0, 1), erasure=erasure, batch=batch, crop=size,
                    lambdas=list(LAMBDAS[:cfg.levels]), mse_weight=MSE_WEIGHT, log=log[-40:])
        tmp = scratch(out.with_name(f".{out.name}.tmp-{os.getpid()}"))  # removed on Ctrl-C
        save_weights(tmp, cfg, model, {}, info)
        os.replace(tmp, out)  # atomic: a crash leaves the last checkpoint whole

    for i in range(1, steps + 1):
        key, k = jax.random.split(key)
        q = rng.uniform(0, cfg.levels - 1, batch).astype(np.float32)
        loss, aux = step(model, opt, jnp.asarray(crops.batch(batch)), jnp.asarray(q), k)
        acc += np.array([float(loss), *map(float, aux)])
        if on_step:
            on_step(i, float(loss), aux)
        if i % 50 == 0:
            log.append({"step": i, "loss": acc[0] / 50, "bpp": acc[1] / 50, "1-msssim": acc[2] / 50,
                        "mse": acc[3] / 50, "t": round(time.time() - t0, 1)})
            acc[:] = 0
        if i % checkpoint_every == 0 or i == steps:
            save(i)
        if time_limit is not None and time.time() - t0 > time_limit:
            save(i)
            break
    return info


def photo_log_line(entry: dict[str, float]) -> str:
    return json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in entry.items()})
