"""The image-side stages as library functions: compress, quantize, dequantize, reconstruct.

The CLI stage commands and the ``encode``/``decode`` composites both call these, so the
composites give exactly what the chained stages give.

Artifacts (Zarr v3 groups):

``latents.zarr``  kind ``dnastore-latents``
  ``mu`` float32 (N, K); ``logvar`` float32 (N, K) where known; ``erased`` bool (N, K) after
  decoding; ``names`` and ``labels`` when they came from a dataset.
  attrs: ``codec``, ``weights_digest``, ``weights_name``, ``latent``, ``image_shape``,
  ``channels``, ``provenance``.

``codes.zarr``  kind ``dnastore-codes`` (see :mod:`dnastore.io.zarrio`)
  ``codes`` (N, K) for ``store = mu`` or (N, 2K) for ``mu-logvar`` (μ first);
  ``stat_mean``/``stat_std`` (VAEN statistics of the stored elements).
  attrs: ``quantizer``, ``n_bits``, ``packing``, ``store``, ``range`` (VAEU) and the
  weights attributes above.
"""

from __future__ import annotations

import functools

from typing import Any

import numpy as np

from dnastore.codecs.quant import PACKINGS, QUANTIZERS, STORES, VAEU_RANGE, dequantize, quantize
from dnastore.codecs.weights import Weights
from dnastore.errors import DnastoreError

LATENTS_KIND = "dnastore-latents"
RECON_KIND = "dnastore-reconstruction"


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


def check_images(images: np.ndarray, w: Weights, what: str) -> None:
    want = tuple(w.config.image_shape)
    chans = 1 if images.ndim == 3 else images.shape[3]
    if tuple(images.shape[1:3]) != want or chans != w.config.channels:
        raise DnastoreError(f"{what} holds {images.shape[2]}x{images.shape[1]}x{chans} images but the model expects "
                            f"{want[1]}x{want[0]}x{w.config.channels}; pass --resize {want[1]}x{want[0]}")


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
    from dnastore.codecs.train import encode_images
    return encode_images(model or _worker_weights(path, digest).model, images, pad_always=True)


def reconstruct_piece(path: str, digest: str, mu: np.ndarray, model=None) -> np.ndarray:
    from dnastore.codecs.train import decode_latents
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
    from dnastore.codecs.train import necst_codes
    attrs = {"quantizer": "necst", "n_bits": 1, "packing": "binary", "store": "bits", **weights_attrs(w),
             "channel": w.config.channel, "train_eps": w.config.eps}
    return necst_codes(w.model, images), attrs


def necst_reconstruct(w: Weights, codes: np.ndarray, erased: np.ndarray | None = None) -> np.ndarray:
    """uint8 images from NECST bits; erased bits reach the decoder as 0.5 ("unknown", the
    BEC's erasure symbol; for a BSC-trained model the value halfway between its inputs)."""
    from dnastore.codecs.train import necst_decode
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


def quality(originals: np.ndarray, images: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image PSNR, SSIM and MS-SSIM (see :mod:`dnastore.metrics`) of uint8 images."""
    from dnastore.metrics import ms_ssim, psnr, ssim
    out = {"psnr": np.asarray(psnr(originals, images)), "ssim": np.asarray(ssim(originals, images))}
    if min(originals.shape[1:3]) >= 28:
        out["ms_ssim"] = np.asarray(ms_ssim(originals, images))
    return out
