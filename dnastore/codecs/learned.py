"""The learned codecs behind the :class:`~dnastore.codecs.base.Codec` interface: ``vae`` (the
Generative DNA paper's VAE with the VAEN/VAEU quantizers) and ``necst`` (NECST's bits), and
the steps the VAE's stages expose on their own: compress, quantize, dequantize, reconstruct.

What they read and write (see :mod:`dnastore.io.artifacts`):

``latents.zarr``  kind ``dnastore-latents``
  ``mu`` float32 (N, K); ``logvar`` float32 (N, K) where known; ``erased`` bool (N, K) after
  decoding; ``names`` and ``labels`` when they came from a dataset.
  attrs: ``codec``, ``weights_digest``, ``weights_name``, ``latent``, ``image_shape``,
  ``channels``, ``provenance``.

``codes.zarr``  kind ``dnastore-codes``
  ``codes`` (N, K) for ``store = mu`` or (N, 2K) for ``mu-logvar`` (μ first);
  ``stat_mean``/``stat_std`` (VAEN statistics of the stored elements).
  attrs: ``quantizer``, ``n_bits``, ``packing``, ``store``, ``range`` (VAEU) and the
  weights attributes above.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from dnastore.codecs.base import Codec, Codes, Decoded, register
from dnastore.codecs.quant import (
    PACKINGS,
    QUANTIZERS,
    STORES,
    VAEU_RANGE,
    dequantize,
    quantize,
)
from dnastore.codecs.weights import Weights
from dnastore.errors import DnastoreError


def weights_attrs(w: Weights) -> dict[str, Any]:
    return {"codec": w.config.to_json()["model"], "weights_digest": w.digest, "weights_name": w.path.rsplit("/", 1)[-1],
            "latent": w.config.latent, "image_shape": list(w.config.image_shape), "channels": w.config.channels}


def check_weights(attrs: dict[str, Any], w: Weights, what: str) -> None:
    """Refuse to decode codes or latents with weights other than the ones that made them."""
    want = attrs.get("weights_digest")
    if not isinstance(want, str):
        raise DnastoreError(f"{what} records no weights digest: it was not made by a dnastore image codec")
    if want != w.digest:
        raise DnastoreError(f"{what} was made with weights {want[:19]}… ({attrs.get('weights_name', '?')}) but the "
                            f"weights given are {w.digest[:19]}… ({w.path.rsplit('/', 1)[-1]}); decoding with other "
                            "weights would give wrong images: pass the weights that encoded it with --weights")


# compress and reconstruct work in pieces of PIECE_ROWS images (eight compiled batches of 500,
# the last one padded), whatever runs them, so every scheduler gives the same bits
PIECE_ROWS = 4000


@functools.lru_cache(maxsize=4)
def _worker_weights(path: str, digest: str) -> Weights:
    """Weights loaded once per worker process, checked against the client's digest."""
    from dnastore.codecs.weights import load_weights
    w = load_weights(path)
    if w.digest != digest:
        raise DnastoreError(f"the weights at {path} on a worker ({w.digest[:19]}…) are not the client's ({digest[:19]}…)")
    return w


def compress_piece(path: str, digest: str, images: np.ndarray, model=None) -> tuple[np.ndarray, np.ndarray]:
    from dnastore.codecs.infer import encode_images
    return encode_images(model or _worker_weights(path, digest).model, images, pad_always=True)


def reconstruct_piece(path: str, digest: str, mu: np.ndarray, model=None) -> np.ndarray:
    from dnastore.codecs.infer import decode_latents
    x = decode_latents(model or _worker_weights(path, digest).model, mu, pad_always=True)
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def stream_pieces(fn, w: Weights, n: int, load, executor=None):
    """Yield (i0, fn(piece)) for the PIECE_ROWS pieces of ``n`` rows in order; ``load(i0, i1)``
    reads a piece's input. One piece at a time in this process, or waves of two pieces per
    worker on a scheduler, so that memory holds a wave, not the input."""
    bounds = [(i0, min(n, i0 + PIECE_ROWS)) for i0 in range(0, n, PIECE_ROWS)]
    local = executor is None or executor.spec == "sync"
    wave = 1 if local else max(2, 2 * executor.workers)
    for k in range(0, len(bounds), wave):
        part = bounds[k:k + wave]
        if local:
            (i0, i1), = part
            yield i0, fn(w.path, w.digest, load(i0, i1), model=w.model)
        else:
            outs = executor.map(fn, [(load(i0, i1),) for i0, i1 in part], shared=(w.path, w.digest))
            yield from zip((i0 for i0, _ in part), outs)


def compress(w: Weights, images: np.ndarray, executor=None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior μ and log σ² (float32, (N, K) each) of uint8 images."""
    out = [o for _, o in stream_pieces(compress_piece, w, len(images), lambda i0, i1: images[i0:i1], executor)]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def quantize_latents(mu: np.ndarray, logvar: np.ndarray | None, w: Weights, quantizer: str = "vaen",
                     n_bits: int = 8, store: str = "mu", packing: str = "binary"
                     ) -> tuple[np.ndarray, dict[str, Any], dict[str, np.ndarray]]:
    """(codes, attrs, side arrays) of latents."""
    if quantizer not in QUANTIZERS or store not in STORES or packing not in PACKINGS:
        raise DnastoreError(f"bad quantizer settings {quantizer}/{store}/{packing}")
    if not 1 <= n_bits <= 16:
        raise DnastoreError(f"--bits must be in 1..16, got {n_bits}")
    k = mu.shape[1]
    if store == "mu-logvar":
        if logvar is None:
            raise DnastoreError("--store mu-logvar needs latents with a 'logvar' array")
        x = np.concatenate([mu, logvar], axis=1)
        idx = np.arange(2 * k)
    else:
        x, idx = mu, np.arange(k)
    mean, std = w.stats["mean"][idx], w.stats["std"][idx]
    codes = quantize(x, quantizer, n_bits, mean, std, packing)
    attrs = {"quantizer": quantizer, "n_bits": n_bits, "packing": packing, "store": store, **weights_attrs(w)}
    side: dict[str, np.ndarray] = {}
    if quantizer == "vaen":
        side = {"stat_mean": mean.astype(np.float32), "stat_std": std.astype(np.float32)}
    else:
        attrs["range"] = list(VAEU_RANGE)
    return codes, attrs, side


def dequantize_codes(codes: np.ndarray, attrs: dict[str, Any], side: dict[str, np.ndarray],
                     erased: np.ndarray | None, w: Weights) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(μ, log σ² or None, erased (N, K)) from codes; erased codes become the prior's centre."""
    for key in ("quantizer", "n_bits", "packing", "store"):
        if key not in attrs:
            raise DnastoreError(f"the codes artifact lacks the attribute {key!r}: it was not written by `quantize`")
    kind, n_bits, packing, store = attrs["quantizer"], attrs["n_bits"], attrs["packing"], attrs["store"]
    if (not all(isinstance(v, str) for v in (kind, packing, store)) or isinstance(n_bits, bool)
            or not isinstance(n_bits, int) or kind not in QUANTIZERS or packing not in PACKINGS
            or store not in STORES or not 1 <= n_bits <= 16):
        raise DnastoreError(f"unknown quantizer settings in the codes artifact: {kind}/{n_bits}/{packing}/{store}")
    if codes.size and int(codes.max()) >= 1 << n_bits:
        raise DnastoreError(f"the codes hold the value {int(codes.max())}, more than {n_bits} bits can carry")
    k = w.config.latent
    d = 2 * k if store == "mu-logvar" else k
    if codes.shape[1] != d:
        raise DnastoreError(f"the codes have {codes.shape[1]} elements per image; {store} with K={k} needs {d}")
    mean = std = None
    if kind == "vaen":
        # the statistics travel with the model; the copy in the artifact must agree
        idx = np.arange(d)
        mean, std = w.stats["mean"][idx], w.stats["std"][idx]
        for name, ref in (("stat_mean", mean), ("stat_std", std)):
            if name in side and (np.shape(side[name]) != ref.shape or not np.allclose(side[name], ref, atol=1e-6)):
                raise DnastoreError(f"the VAEN statistics in the codes ({name}) differ from those of the weights "
                                    f"{w.path.rsplit('/', 1)[-1]}: the codes were quantized with other statistics")
    er = np.zeros(codes.shape, bool) if erased is None else np.asarray(erased, bool)
    x = dequantize(codes, kind, n_bits, mean, std, packing, er)
    mu = x[:, :k]
    logvar = x[:, k:] if store == "mu-logvar" else None
    return mu, logvar, er[:, :k]


def necst_codes_attrs(w: Weights, images: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """NECST's stored bits of uint8 images as a codes array (N, bits) of 1-bit codes, and its
    attributes."""
    from dnastore.codecs.infer import necst_codes
    attrs = {"quantizer": "necst", "n_bits": 1, "packing": "binary", "store": "bits", **weights_attrs(w),
             "channel": w.config.channel, "train_eps": w.config.eps}
    return necst_codes(w.model, images), attrs


def necst_reconstruct(w: Weights, codes: np.ndarray, erased: np.ndarray | None = None) -> np.ndarray:
    """uint8 images from NECST bits; erased bits reach the decoder as 0.5 ("unknown", the
    BEC's erasure symbol; for a BSC-trained model the value halfway between its inputs)."""
    from dnastore.codecs.infer import necst_decode
    y = np.asarray(codes, np.float32)
    if erased is not None:
        y = np.where(erased, 0.5, y).astype(np.float32)
    x = necst_decode(w.model, y)
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def reconstruct(w: Weights, mu: np.ndarray, executor=None) -> np.ndarray:
    """uint8 images from latents (the decoder mean, rounded)."""
    mu = np.asarray(mu, np.float32)
    return np.concatenate([o for _, o in stream_pieces(reconstruct_piece, w, len(mu), lambda i0, i1: mu[i0:i1],
                                                       executor)])


# ---- the codecs
def _shipped_name(attrs: dict[str, Any]) -> str | None:
    """The shipped weights whose file name the codes record, if any (so that decoding needs
    no --weights for codes made with any shipped model)."""
    from dnastore.codecs.weights import shipped_weights
    name = str(attrs.get("weights_name", "")).removesuffix(".msgpack")
    return name if name in shipped_weights() else None


def load_model_weights(weights, model: str, default: str | None = None, build: bool = True) -> Weights:
    """Weights of ``model`` ("vae" or "necst"), refusing the other kind (``build=False``: no
    model, see :func:`~dnastore.codecs.weights.load_weights`)."""
    from dnastore.codecs.weights import load_weights
    w = load_weights(weights or default, build)
    got = w.config.to_json()["model"]
    if got != model:
        raise DnastoreError(f"{w.path} holds {got.upper()} weights; the {model} codec needs {model.upper()} weights")
    return w


@register
class VAECodec(Codec):
    """The VAE's posterior mean (or mean and log-variance) quantized with VAEN or VAEU.
    Lost codes decode to the prior's centre."""

    name = "vae"

    def __init__(self, weights=None, quantizer: str = "vaen", n_bits: int = 8, store: str = "mu",
                 packing: str = "binary", _w: Weights | None = None):
        self.w = _w or load_model_weights(weights, "vae")
        if not all(isinstance(v, str) for v in (quantizer, store, packing)) or quantizer not in QUANTIZERS \
                or store not in STORES or packing not in PACKINGS:
            raise DnastoreError(f"bad quantizer settings {quantizer!r}/{store!r}/{packing!r}")
        from dnastore.io.schema import Field, check
        n_bits = check("bits per code (--bits, or the codes' n_bits)", n_bits, Field("int", 1, 16))
        self.quantizer, self.n_bits, self.store, self.packing = quantizer, int(n_bits), store, packing
        self.channels, self.image_shape = self.w.config.channels, tuple(self.w.config.image_shape)

    def describe(self) -> dict[str, Any]:
        return {"quantizer": self.quantizer, "n_bits": self.n_bits, "store": self.store, "packing": self.packing,
                "weights": self.w.digest}

    def compress(self, source, executor=None):
        """Yield (first row, (μ, log σ²)) of the pieces of ``source``."""
        return stream_pieces(compress_piece, self.w, source.n, source.piece, executor)

    def encode(self, source, executor=None) -> Codes:
        parts = [out for _, out in self.compress(source, executor)]
        mu, logvar = np.concatenate([m for m, _ in parts]), np.concatenate([lv for _, lv in parts])
        return Codes(*quantize_latents(mu, logvar, self.w, self.quantizer, self.n_bits, self.store, self.packing))

    def latents(self, codes: Codes) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(μ, log σ² or None, erased) of codes: the dequantize step."""
        return dequantize_codes(codes.codes, codes.attrs, codes.arrays, codes.erased, self.w)

    def images(self, mu: np.ndarray, erased: np.ndarray | None = None, executor=None) -> Decoded:
        """The reconstruct step: images from latents."""
        mu = np.asarray(mu, np.float32)
        er = np.zeros(mu.shape, bool) if erased is None else np.asarray(erased, bool)
        pieces = stream_pieces(reconstruct_piece, self.w, len(mu), lambda i0, i1: mu[i0:i1], executor)
        return Decoded(len(mu), pieces, er, self.channels, self.image_shape, self.w.digest)

    def decode(self, codes: Codes, executor=None) -> Decoded:
        mu, _, er = self.latents(codes)
        return self.images(mu, er, executor)

    @classmethod
    def for_codes(cls, attrs, weights=None, what="the codes", build: bool = True) -> "VAECodec":
        """The codec that wrote codes with ``attrs`` (``build=False``: for their latents only)."""
        w = load_model_weights(weights, "vae", _shipped_name(attrs), build)
        check_weights(attrs, w, what)
        return cls(_w=w, quantizer=attrs.get("quantizer", "vaen"), n_bits=attrs.get("n_bits", 8),
                   store=attrs.get("store", "mu"), packing=attrs.get("packing", "binary"))


@register
class NECSTCodec(Codec):
    """NECST's bits, one per code. Lost bits reach its decoder as 0.5 ("unknown")."""

    name = "necst"

    def __init__(self, weights=None, _w: Weights | None = None):
        self.w = _w or load_model_weights(weights, "necst", "necst-mnist-b100-bsc0.1")
        self.channels, self.image_shape = self.w.config.channels, tuple(self.w.config.image_shape)

    def describe(self) -> dict[str, Any]:
        return {"codec": "necst", "weights": self.w.digest}

    def encode(self, source, executor=None) -> Codes:
        parts = [necst_codes_attrs(self.w, source.piece(i0, i1)) for i0, i1 in source.pieces(PIECE_ROWS)]
        return Codes(np.concatenate([c for c, _ in parts]), parts[0][1])

    def decode(self, codes: Codes, executor=None) -> Decoded:
        c = codes.codes
        er = np.zeros(c.shape, bool) if codes.erased is None else np.asarray(codes.erased, bool)
        pieces = ((i0, necst_reconstruct(self.w, c[i0:i0 + PIECE_ROWS], er[i0:i0 + PIECE_ROWS]))
                  for i0 in range(0, len(c), PIECE_ROWS))
        return Decoded(len(c), pieces, er, self.channels, self.image_shape, self.w.digest)

    @classmethod
    def for_codes(cls, attrs, weights=None, what="the codes") -> "NECSTCodec":
        w = load_model_weights(weights, "necst", _shipped_name(attrs) or "necst-mnist-b100-bsc0.1")
        check_weights(attrs, w, what)
        return cls(_w=w)
