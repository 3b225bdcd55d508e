"""Training, evaluation and checkpoints of the VAE and NECST (one loop for both), and the
decoder fine-tuning through a channel. Inference lives in :mod:`dnastore.codecs.infer`.

Adam (Optax), batch 64, learning rate 1e-3 as in the paper. Every epoch ends with a
validation pass and two checkpoints written atomically into the run folder:
``last.msgpack`` (to resume) and ``best.msgpack`` (lowest validation loss). A checkpoint is
msgpack of flat arrays (model, optimizer) plus JSON text (config, history), never a pickle.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from dnastore.codecs.infer import encode_images, necst_codes
from dnastore.codecs.vae import VAE, optax_bce
from dnastore.codecs.weights import load_model_arrays, model_arrays
from dnastore.data.batches import batch_slices, pad_rows
from dnastore.errors import DnastoreError
from dnastore.io.artifacts import CHECKPOINT_FORMAT
from dnastore.io.msgpack import flat_arrays, read_msgpack, unflatten_into, write_msgpack


@nnx.jit
def _train_step(model: VAE, opt: nnx.Optimizer, x: jax.Array, key: jax.Array) -> tuple[jax.Array, dict]:
    def lf(m):
        return m.loss(jnp.asarray(x, jnp.float32) / 255.0, key, train=True)
    (loss, aux), grads = nnx.value_and_grad(lf, has_aux=True)(model)
    opt.update(model, grads)
    return loss, aux


@nnx.jit
def _eval_batch(model: VAE, x: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Per image: negative ELBO (one posterior sample), squared error of the μ reconstruction, μ, log σ²."""
    xf = jnp.asarray(x, jnp.float32) / 255.0
    t = model.elbo_terms(xf, key)
    mse = jnp.mean((model.decode(t["mu"]) - xf) ** 2, axis=tuple(range(1, xf.ndim)))
    return t["rec"] + t["kl"], mse, t["mu"], t["logvar"]


def evaluate(model: VAE, images: np.ndarray, seed: int = 0, batch: int = 500) -> dict[str, float]:
    """Test ELBO (nats per image, one posterior sample) and PSNR (dB, mean over images) of
    the reconstruction from μ."""
    key = jax.random.key(seed)
    nelbo, mse = [], []
    for i, s in enumerate(batch_slices(len(images), batch)):
        n = s.stop - s.start
        e, m, _, _ = _eval_batch(model, pad_rows(images[s], batch), jax.random.fold_in(key, i))
        nelbo.append(np.asarray(e)[:n])
        mse.append(np.asarray(m)[:n])
    nelbo, mse = np.concatenate(nelbo), np.concatenate(mse)
    psnr = 10 * np.log10(1.0 / np.maximum(mse, 1e-10))
    return {"elbo": float(-nelbo.mean()), "psnr": float(psnr.mean()), "mse": float(mse.mean())}


def encoder_stats(model: VAE, images: np.ndarray) -> dict[str, np.ndarray]:
    """Element-wise mean and std of the encoder outputs (μ then log σ²) over ``images``: the
    VAEN statistics."""
    mu, lv = encode_images(model, images)
    out = np.concatenate([mu, lv], axis=1).astype(np.float64)
    return {"mean": out.mean(0).astype(np.float32), "std": np.maximum(out.std(0), 1e-6).astype(np.float32)}


def build_model(cfg, rngs: nnx.Rngs) -> nnx.Module:
    """The model of a config: the VAE or NECST."""
    from dnastore.codecs.necst import NECST, NECSTConfig
    return NECST(cfg, rngs) if isinstance(cfg, NECSTConfig) else VAE(cfg, rngs)


@nnx.jit
def _necst_eval_batch(model, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    xf = jnp.asarray(x, jnp.float32) / 255.0
    logits = model.decode_logits(y)
    return model.log_lik(logits, xf), jax.nn.sigmoid(logits)


def necst_evaluate(model, images: np.ndarray, eps: float | None = None, seed: int = 0,
                   batch: int = 500) -> dict[str, float]:
    """The stored bits of ``images`` through the model's channel at ``eps`` (default: its
    training noise), decoded: mean log p(x | y) per image, PSNR of the decoder mean, and the
    per-pixel distortions of :func:`dnastore.codecs.necst.distortion`."""
    from dnastore.codecs.necst import channel_bits, distortion
    cfg = model.cfg
    eps = cfg.eps if eps is None else eps
    y = channel_bits(necst_codes(model, images, batch), cfg.channel, eps, np.random.default_rng(seed))
    lls, ps = [], []
    for s in batch_slices(len(images), batch):
        n = s.stop - s.start
        ll, p = _necst_eval_batch(model, pad_rows(images[s], batch), pad_rows(y[s], batch))
        lls.append(np.asarray(ll)[:n])
        ps.append(np.asarray(p, np.float64)[:n])
    ll, p = np.concatenate(lls), np.concatenate(ps)
    x = images.astype(np.float64) / 255.0
    d = distortion(x, p)
    mse = ((p.reshape(len(p), -1) - x.reshape(len(x), -1)) ** 2).mean(1)
    return {"loglik": float(ll.mean()), "psnr": float((10 * np.log10(1.0 / np.maximum(mse, 1e-10))).mean()),
            "bce": float(d["bce"].mean()), "mse": float(d["mse"].mean()), "wrong": float(d["wrong"].mean()),
            "eps": float(eps)}


class Trainer:
    """Training of the VAE or NECST, with checkpoints.

    ``devices`` > 1 trains data-parallel over that many JAX devices: a 1-D mesh with axis
    ``data``; parameters and optimizer state are replicated (``NamedSharding(mesh, P())``) and
    every batch is split along the mesh (``NamedSharding(mesh, P("data"))``). The compiled
    step is the same function: XLA partitions it and inserts the all-reduce of the gradients
    (and of the batch-norm statistics), so the run follows the one-device run up to the
    order of floating-point sums. On the CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=N``
    makes N devices."""

    def __init__(self, cfg, *, lr: float = 1e-3, batch: int = 64, seed: int = 0, devices: int = 1):
        self.cfg, self.lr, self.batch, self.seed = cfg, lr, batch, seed
        self.model = build_model(cfg, nnx.Rngs(seed))
        self.opt = nnx.Optimizer(self.model, optax.adam(lr), wrt=nnx.Param)
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best = math.inf
        self.devices = devices
        self._data_sharding = None
        if devices > 1:
            self._shard_state(devices)

    def _shard_state(self, devices: int) -> None:
        from jax.sharding import NamedSharding, PartitionSpec
        have = jax.device_count()
        if devices > have:
            raise DnastoreError(f"--devices {devices}: only {have} JAX device(s) here (on the CPU, set "
                                f"XLA_FLAGS=--xla_force_host_platform_device_count={devices})")
        if self.batch % devices:
            raise DnastoreError(f"the batch size {self.batch} does not split over {devices} devices")
        mesh = jax.make_mesh((devices,), ("data",), devices=jax.devices()[:devices],
                             axis_types=(jax.sharding.AxisType.Auto,))  # XLA partitions the step
        self._data_sharding = NamedSharding(mesh, PartitionSpec("data"))
        self._replicated = NamedSharding(mesh, PartitionSpec())
        state = nnx.state((self.model, self.opt))
        nnx.update((self.model, self.opt), jax.device_put(state, self._replicated))

    # ---- checkpoints
    def _run_key(self) -> dict[str, Any]:
        return {"config": self.cfg.to_json(), "lr": self.lr, "batch": self.batch, "seed": self.seed}

    def save(self, path: Path) -> None:
        params, bstats = model_arrays(self.model)
        opt_state = flat_arrays(nnx.to_pure_dict(nnx.state(self.opt)))
        from dnastore.io.atomic import scratch
        tmp = scratch(path.with_name(f".{path.name}.tmp-{os.getpid()}"))  # removed on Ctrl-C
        write_msgpack(tmp, {"format": CHECKPOINT_FORMAT, "run": json.dumps(self._run_key(), sort_keys=True),
                            "epoch": self.epoch, "best": self.best if math.isfinite(self.best) else -1.0,
                            "history": json.dumps(self.history), "params": params, "batch_stats": bstats,
                            "opt": opt_state})
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        obj = read_msgpack(path, CHECKPOINT_FORMAT)
        run = json.loads(obj["run"])
        if run != json.loads(json.dumps(self._run_key())):
            raise DnastoreError(f"{path} was written by a run with other settings ({run}); "
                                "resume with the same config, batch size, learning rate and seed")
        load_model_arrays(self.model, obj["params"], obj["batch_stats"], str(path))
        st = nnx.state(self.opt)
        pure = unflatten_into(nnx.to_pure_dict(st), obj["opt"], str(path))
        nnx.replace_by_pure_dict(st, pure)
        nnx.update(self.opt, st)
        if self.devices > 1:  # loaded arrays live on one device: replicate them again
            self._shard_state(self.devices)
        self.epoch = int(obj["epoch"])
        self.best = float(obj["best"]) if float(obj["best"]) >= 0 else math.inf
        self.history = json.loads(obj["history"])

    # ---- one epoch
    def train_epoch(self, images: np.ndarray, on_step: Callable[[int, float], None] | None = None) -> float:
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(images))
        n_steps = len(images) // self.batch  # drop the ragged last batch: one compiled shape
        key = jax.random.fold_in(jax.random.key(self.seed), self.epoch)
        total, ema = 0.0, None
        for i in range(n_steps):
            idx = order[i * self.batch:(i + 1) * self.batch]
            x = images[idx] if self._data_sharding is None else jax.device_put(images[idx], self._data_sharding)
            loss, _ = _train_step(self.model, self.opt, x, jax.random.fold_in(key, i))
            if on_step is not None and (i % 20 == 0 or i == n_steps - 1):
                lv = float(loss)
                ema = lv if ema is None else 0.9 * ema + 0.1 * lv
                on_step(i + 1, ema)
            total += loss
        self.epoch += 1
        return float(total) / max(1, n_steps)


# ---- decoder fine-tuning through a channel -----------------------------------------------------
@nnx.jit
def _decoder_step(model: VAE, opt: nnx.Optimizer, z: jax.Array, x: jax.Array) -> jax.Array:
    def lf(m):
        logits = m.decode_logits(z, train=False)  # batch-norm statistics stay as trained
        xf = jnp.asarray(x, jnp.float32) / 255.0
        axes = tuple(range(1, xf.ndim))
        if m.cfg.likelihood == "bernoulli":
            return jnp.mean(jnp.sum(optax_bce(logits, xf), axis=axes))
        return jnp.mean(jnp.sum((jax.nn.sigmoid(logits) - xf) ** 2, axis=axes)) / (2 * m.cfg.sigma ** 2)
    loss, grads = nnx.value_and_grad(lf)(model)
    opt.update(model, grads)
    return loss


def finetune_decoder(model: VAE, images: np.ndarray, latents: np.ndarray,
                     channel: Callable[[np.ndarray, np.random.Generator], np.ndarray], *, epochs: int = 2,
                     lr: float = 3e-4, batch: int = 64, seed: int = 0,
                     on_epoch: Callable[[int, float], None] | None = None) -> VAE:
    """Train the decoder (in place) on what arrives through a channel.

    ``latents`` are the encoder's μ of ``images``; every epoch sends all of them through
    ``channel(latents, rng)`` (for example quantize → protect → flip bits → decode →
    dequantize) and fits the decoder's likelihood of the original images given the received
    latents, so the decoder learns the channel's errors. The encoder is not touched, so the
    codes of an image are the same as before and the VAEN statistics stay valid."""
    decoder = nnx.All(nnx.Param, nnx.Any(*(nnx.PathContains(n) for n in ("dfc", "d1", "d2", "d3", "dbn1", "dbn2"))))
    opt = nnx.Optimizer(model, optax.adam(lr), wrt=decoder)
    n_steps = len(images) // batch
    for e in range(epochs):
        rng = np.random.default_rng([seed, e])
        z = np.asarray(channel(latents, rng), np.float32)
        order = rng.permutation(len(images))
        total = 0.0
        for i in range(n_steps):
            idx = order[i * batch:(i + 1) * batch]
            total += _decoder_step(model, opt, z[idx], images[idx])
        if on_epoch is not None:
            on_epoch(e + 1, float(total) / max(1, n_steps))
    return model
