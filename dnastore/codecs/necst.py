"""NECST: a neural joint source and channel code (Choi et al., ICML 2019), in Flax NNX.

The encoder gives Bernoulli probabilities σ(f_φ(x)) for ``bits`` code bits. The channel is
part of the model, as its marginal over the code:

- ``bsc``: q_noisy(y = 1 | x) = σ(f)(1 − 2ε) + ε;
- ``bec``: a 3-way categorical, y = 0 with (1 − σ)(1 − ε), 1 with σ(1 − ε), erased with ε.
  An erased bit reaches the decoder as 0.5, so "erased" and "unknown" are the same input.

The decoder p_θ(x | y) is Bernoulli for binary data and Gaussian with a fixed standard
deviation for grey images. Training maximises the K-sample bound
E[log (1/K) Σ_k p(x | y_k)], y_k ~ q_noisy(y | x), with VIMCO's leave-one-out control variates
(Mnih & Rezende 2016) for the encoder's score-function gradient, plus an L2 penalty on the
encoder weights (0.001 in the NECST supplement).

``prior = "uniform"`` turns the same model into the discrete VAE of the VAE + LDPC baseline:
the bound gets the term −KL(q_noisy(y|x) ‖ Bern(0.5)^m), the paper's "uniform prior over
the latent codes". ``beta`` weighs that term. On data without structure (random bits) a
stored bit saves at most log 2 nats of reconstruction and costs up to log 2 nats of KL, so
at ``beta = 1`` the bound's optimum is a code that carries nothing.

Architectures (``arch``): ``mlp``, the supplement's MNIST, Omniglot and random-bits model
(encoder one hidden layer, decoder two, all of ``hidden`` units, ReLU), and ``cnn-svhn``,
``cnn-cifar``, ``cnn-celeba`` after the supplement's convolutional models for 32×32 and 64×64
colour images.

The stored code of an image is the encoder's most likely bits, round(σ(f)), so it is a
deterministic function of the image; the channel then acts on those bits.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from dnastore.codecs.vae import optax_bce

ARCHS = ("mlp", "cnn-svhn", "cnn-cifar", "cnn-celeba")


@dataclasses.dataclass(frozen=True)
class NECSTConfig:
    bits: int = 100
    image_shape: tuple[int, int] = (28, 28)
    channels: int = 1
    arch: str = "mlp"
    hidden: int = 500
    channel: str = "bsc"  # or "bec"
    eps: float = 0.1  # training noise: flip (bsc) or erasure (bec) probability
    likelihood: str = "bernoulli"  # or "gaussian"
    sigma: float = 0.1
    samples: int = 5  # VIMCO K
    l2: float = 0.001  # penalty on the encoder weights
    prior: str = "none"  # or "uniform": the discrete VAE of the VAE + LDPC baseline
    beta: float = 1.0  # weight of the prior term (uniform prior only)

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        if self.channel not in ("bsc", "bec"):
            raise ValueError(f"channel must be bsc or bec, got {self.channel!r}")
        if not 0.0 <= self.eps < 1.0 or (self.channel == "bsc" and self.eps > 0.5):
            raise ValueError(f"eps must be in [0, 0.5] for bsc and [0, 1) for bec, got {self.eps}")
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be bernoulli or gaussian, got {self.likelihood!r}")
        if self.prior not in ("none", "uniform"):
            raise ValueError(f"prior must be none or uniform, got {self.prior!r}")
        if not 1 <= self.bits <= 65536 or self.samples < 2 or self.hidden < 1:
            raise ValueError("bits must be in 1..65536, samples >= 2 and hidden >= 1")
        need = {"cnn-svhn": (32, 32), "cnn-cifar": (32, 32), "cnn-celeba": (64, 64)}.get(self.arch)
        if need and tuple(self.image_shape) != need:
            raise ValueError(f"arch {self.arch} wants {need[0]}x{need[1]} images, got {tuple(self.image_shape)}")

    @property
    def latent(self) -> int:  # the code size, under the name the VAE uses
        return self.bits

    @property
    def size(self) -> int:
        return int(np.prod(self.image_shape)) * self.channels

    def to_json(self) -> dict[str, Any]:
        return {"model": "necst", **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, d: dict[str, Any], where: str = "NECST config") -> "NECSTConfig":
        from dnastore.io.schema import Field, check_fields
        schema = {
            "bits": Field("int", 1, 65536), "image_shape": Field("seq", item=Field("int", 1, 4096), length=2),
            "channels": Field("int", 1, 4), "arch": Field("str", choices=ARCHS), "hidden": Field("int", 1, 65536),
            "channel": Field("str", choices=("bsc", "bec")), "eps": Field("float", 0.0, 1.0, hi_open=True),
            "likelihood": Field("str", choices=("bernoulli", "gaussian")), "sigma": Field("float", 1e-4, 10.0),
            "samples": Field("int", 2, 256), "l2": Field("float", 0.0, 100.0), "prior": Field("str", choices=("none", "uniform")),
            "beta": Field("float", 0.0, 1000.0),
        }
        return cls(**check_fields(d, schema, where, ignore=("model",)))

    def key(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


# ---- the channel as the model sees it -------------------------------------------------------
def noisy_probs(p1: jax.Array, channel: str, eps: float) -> jax.Array:
    """Marginal channel-output probabilities given the encoder's P(bit = 1) ``p1``.

    bsc: P(y = 1), shape of ``p1``; bec: P(y = 0), P(y = 1), P(erased) on a new last axis."""
    if channel == "bsc":
        return p1 * (1.0 - 2.0 * eps) + eps
    return jnp.stack([(1.0 - p1) * (1.0 - eps), p1 * (1.0 - eps), jnp.full_like(p1, eps)], axis=-1)


def sample_channel(key: jax.Array, logits: jax.Array, channel: str, eps: float, shape=()) -> tuple[jax.Array, jax.Array]:
    """Samples y ~ q_noisy(y | x) as the decoder input (0, 1, or 0.5 for an erasure) and
    their log-probabilities log q_noisy(y | x) summed over bits (differentiable in ``logits``)."""
    p1 = jax.nn.sigmoid(logits)
    if channel == "bsc":
        q = noisy_probs(p1, "bsc", eps)
        y = jax.random.bernoulli(key, jax.lax.stop_gradient(q), shape + q.shape).astype(jnp.float32)
        tiny = 1e-7
        logq = jnp.sum(y * jnp.log(q + tiny) + (1.0 - y) * jnp.log(1.0 - q + tiny), axis=-1)
        return y, logq
    probs = noisy_probs(p1, "bec", eps)
    sym = jax.random.categorical(key, jnp.log(jax.lax.stop_gradient(probs) + 1e-12), shape=shape + p1.shape)
    logq = jnp.sum(jnp.log(jnp.take_along_axis(jnp.broadcast_to(probs, shape + probs.shape),
                                               sym[..., None], axis=-1)[..., 0] + 1e-12), axis=-1)
    y = jnp.where(sym == 2, 0.5, sym.astype(jnp.float32))
    return y, logq


def vimco_surrogate(logf: jax.Array, logq: jax.Array) -> tuple[jax.Array, jax.Array]:
    """VIMCO for K samples. ``logf`` (K, B): log f(y_k) (here log p(x | y_k), plus the prior
    terms for a VAE); ``logq`` (K, B): log q(y_k | x).

    Returns (bound, surrogate), each (B,): the bound log (1/K) Σ_k f(y_k), and a surrogate
    whose gradient is VIMCO's estimator: the bound's own gradient (through log f) plus
    Σ_k [L − L_{−k}] ∇ log q(y_k | x), where L_{−k} replaces f(y_k) by the geometric mean of
    the other samples' f."""
    k = logf.shape[0]
    bound = jax.nn.logsumexp(logf, axis=0) - math.log(k)
    lf = jax.lax.stop_gradient(logf)
    others = (jnp.sum(lf, axis=0, keepdims=True) - lf) / (k - 1)  # (K, B)
    eye = jnp.eye(k, dtype=bool)[:, :, None]  # [k, j]: replace j == k
    rep = jnp.where(eye, others[:, None, :], lf[None, :, :])  # (K, K, B)
    loo = jax.nn.logsumexp(rep, axis=1) - math.log(k)  # (K, B)
    signal = jax.lax.stop_gradient(jax.lax.stop_gradient(bound)[None] - loo)
    return bound, bound + jnp.sum(signal * logq, axis=0)


# ---- the networks -----------------------------------------------------------------------------
def _act(arch: str):
    return nnx.elu if arch == "cnn-celeba" else nnx.relu


class MLP(nnx.Module):
    """Linear layers of ``sizes`` with ReLU between them (none after the last)."""

    def __init__(self, sizes: list[int], rngs: nnx.Rngs):
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])

    def __call__(self, x: jax.Array) -> jax.Array:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = nnx.relu(x)
        return x


# (filters, kernel, stride, padding) per encoder layer, and the decoder's final layer
_CNN = {
    "cnn-svhn": ([(128, 2, 2, "VALID"), (256, 2, 2, "VALID"), (512, 2, 2, "VALID")], 4),
    "cnn-cifar": ([(64, 3, 1, "SAME"), (32, 3, 1, "SAME"), (16, 3, 1, "SAME")], 4),
    "cnn-celeba": ([(32, 4, 2, "SAME"), (32, 4, 2, "SAME"), (64, 4, 2, "SAME"), (64, 4, 2, "SAME"),
                    (256, 4, 2, "VALID")], 1),
}


class _ConvEncoder(nnx.Module):
    """SVHN: three stride-2 kernel-2 convolutions to 4×4×512; CIFAR-10: three 'SAME'
    convolutions, each with batch norm, ReLU and 2×2 max pooling, to 4×4×16; CelebA: five
    stride-2 kernel-4 convolutions with ELU to 1×1×256. Then a linear layer to the bits."""

    def __init__(self, cfg: NECSTConfig, rngs: nnx.Rngs):
        self.arch = cfg.arch
        layers, side = _CNN[cfg.arch]
        cin, convs, bns = cfg.channels, [], []
        for f, k, s, pad in layers:
            convs.append(nnx.Conv(cin, f, kernel_size=(k, k), strides=(s, s), padding=pad, rngs=rngs))
            bns.append(nnx.BatchNorm(f, rngs=rngs))
            cin = f
        self.convs, self.bns = nnx.List(convs), nnx.List(bns)
        self.fc = nnx.Linear(side * side * cin, cfg.bits, rngs=rngs)

    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        act = _act(self.arch)
        for conv, bn in zip(self.convs, self.bns):
            x = conv(x)
            if self.arch == "cnn-cifar":
                x = nnx.max_pool(act(bn(x, use_running_average=not train)), (2, 2), (2, 2))
            else:
                x = act(x)
        return self.fc(x.reshape(x.shape[0], -1))


class _ConvDecoder(nnx.Module):
    """The encoder in reverse: a linear layer back to the smallest feature map, then ×2
    upsampling stages (resize + convolution, which XLA's CPU backend runs faster than a
    transposed convolution) and a final convolution to the image channels."""

    def __init__(self, cfg: NECSTConfig, rngs: nnx.Rngs):
        self.arch = cfg.arch
        layers, side = _CNN[cfg.arch]
        widths = [f for f, *_ in layers][::-1]
        self.side, self.w0 = side, widths[0]
        self.fc = nnx.Linear(cfg.bits, side * side * widths[0], rngs=rngs)
        n_up = int(round(math.log2(cfg.image_shape[0] / side)))
        chans = [widths[min(i, len(widths) - 1)] for i in range(n_up + 1)]
        self.ups = nnx.List([nnx.Conv(a, b, kernel_size=(3, 3), padding="SAME", rngs=rngs)
                             for a, b in zip(chans[:-1], chans[1:])])
        self.bns = nnx.List([nnx.BatchNorm(b, rngs=rngs) for b in chans[1:]])
        self.out = nnx.Conv(chans[-1], cfg.channels, kernel_size=(3, 3), padding="SAME", rngs=rngs)

    def __call__(self, y: jax.Array, train: bool) -> jax.Array:
        act = _act(self.arch)
        h = act(self.fc(y)).reshape(y.shape[0], self.side, self.side, self.w0)
        for conv, bn in zip(self.ups, self.bns):
            b, hh, ww, c = h.shape
            h = jax.image.resize(h, (b, 2 * hh, 2 * ww, c), "nearest")
            h = act(bn(conv(h), use_running_average=not train))
        return self.out(h)


class NECST(nnx.Module):
    def __init__(self, cfg: NECSTConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        if cfg.arch == "mlp":
            self.encoder = MLP([cfg.size, cfg.hidden, cfg.bits], rngs)
            self.decoder = MLP([cfg.bits, cfg.hidden, cfg.hidden, cfg.size], rngs)
        else:
            self.encoder = _ConvEncoder(cfg, rngs)
            self.decoder = _ConvDecoder(cfg, rngs)

    # images are float32 in [0, 1]: (B, H, W) or (B, H, W, C)
    def _shape_in(self, x: jax.Array) -> jax.Array:
        if self.cfg.arch == "mlp":
            return x.reshape(x.shape[0], -1)
        return x[..., None] if x.ndim == 3 else x

    def encode_logits(self, x: jax.Array, train: bool = False) -> jax.Array:
        h = self._shape_in(x)
        return self.encoder(h) if self.cfg.arch == "mlp" else self.encoder(h, train)

    def encode(self, x: jax.Array) -> jax.Array:
        """The stored code: the most likely bits, (B, bits) in {0, 1}."""
        return (self.encode_logits(x) > 0).astype(jnp.float32)

    def decode_logits(self, y: jax.Array, train: bool = False) -> jax.Array:
        """Logits of the image given received bits y (0, 1, or 0.5 for unknown), image-shaped."""
        lead = y.shape[:-1]
        flat = y.reshape(-1, y.shape[-1])
        h = self.decoder(flat) if self.cfg.arch == "mlp" else self.decoder(flat, train)
        shape = tuple(self.cfg.image_shape) + ((self.cfg.channels,) if self.cfg.channels > 1 else ())
        return h.reshape(lead + shape)

    def decode(self, y: jax.Array) -> jax.Array:
        """Decoder mean in [0, 1]: the reconstruction."""
        return jax.nn.sigmoid(self.decode_logits(y))

    def log_lik(self, logits: jax.Array, x: jax.Array) -> jax.Array:
        """log p(x | y) per image from decoder logits (any leading axes)."""
        axes = tuple(range(logits.ndim - x.ndim + 1, logits.ndim))
        if self.cfg.likelihood == "bernoulli":
            return -jnp.sum(optax_bce(logits, x), axis=axes)
        s = self.cfg.sigma
        return -jnp.sum(0.5 * ((jax.nn.sigmoid(logits) - x) / s) ** 2 + math.log(s) + 0.5 * math.log(2 * math.pi),
                        axis=axes)

    def objective(self, x: jax.Array, key: jax.Array, train: bool = True) -> tuple[jax.Array, jax.Array]:
        """(bound, surrogate) per image for a batch of images in [0, 1]."""
        cfg = self.cfg
        logits = self.encode_logits(x, train)
        y, logq = sample_channel(key, logits, cfg.channel, cfg.eps, (cfg.samples,))
        logf = self.log_lik(self.decode_logits(y, train), x)  # (K, B)
        if cfg.prior == "uniform":
            # log p(y) - log q(y|x) per sample: a uniform prior over the codes
            logf = logf - cfg.beta * (cfg.bits * math.log(2.0) + logq)
        return vimco_surrogate(logf, logq)

    def encoder_l2(self) -> jax.Array:
        leaves = jax.tree_util.tree_leaves(nnx.state(self.encoder, nnx.Param))
        return sum(jnp.sum(v ** 2) for v in leaves if v.ndim > 1)  # weights, not biases

    def loss(self, x: jax.Array, key: jax.Array, train: bool = True) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Negative surrogate averaged over the batch plus the encoder's L2 penalty."""
        bound, surrogate = self.objective(x, key, train)
        l2 = self.encoder_l2()
        return -jnp.mean(surrogate) + self.cfg.l2 * l2, {"bound": jnp.mean(bound), "l2": l2}


# ---- test-time channel and distortion -------------------------------------------------------
def channel_bits(bits: np.ndarray, channel: str, eps: float, rng: np.random.Generator) -> np.ndarray:
    """The stored bits through a BSC (flips) or BEC (0.5 where erased), float32."""
    b = np.asarray(bits, np.float32)
    hit = rng.random(b.shape) < eps
    if channel == "bsc":
        return np.where(hit, 1.0 - b, b).astype(np.float32)
    return np.where(hit, 0.5, b).astype(np.float32)


def distortion(x: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Per example: binary cross-entropy per pixel (nats), squared error per pixel, and the
    fraction of wrong pixels (the decoder's mean rounded), with x and p in [0, 1]."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    p = np.clip(np.asarray(p, np.float64).reshape(len(p), -1), 1e-7, 1 - 1e-7)
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).mean(1)
    return {"bce": bce, "mse": ((p - x) ** 2).mean(1), "wrong": (np.round(p) != np.round(x)).mean(1)}
