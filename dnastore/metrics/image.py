"""Image quality metrics in JAX: PSNR, SSIM and MS-SSIM, per image.

Images are float arrays in [0, 1] of shape (N, H, W) or (N, H, W, C), or uint8 (scaled by
1/255 first).

- **PSNR** = 10 log10(1 / MSE), per image (an exact copy is capped at 100 dB).
- **SSIM** (Wang et al. 2004): Gaussian window (11 taps, σ = 1.5 by default), C1 = 0.01²,
  C2 = 0.03², means over the "valid" region where the whole window lies inside the image.
  This is what scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1)`` computes (it filters the whole image and then
  crops the border), and the tests check the two agree.
- **MS-SSIM** (Wang et al. 2003): contrast-structure at each scale, luminance at the last,
  2×2 average pooling between scales, combined as Π cs_j^w_j · l_M^w_M (negative terms
  clipped to 0, as TensorFlow does). The standard setting (5 scales, 11-tap window σ 1.5,
  weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333) needs images of at least 176 pixels a side.
  For MNIST's 28×28 we use :data:`MNIST_MS_SSIM`: 3 scales (28, 14, 7), a 7-tap Gaussian
  window with σ = 1.0, and the first three standard weights renormalised to sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

STANDARD_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


@dataclass(frozen=True)
class MSSSIMSetting:
    scales: int
    win: int
    sigma: float
    weights: tuple[float, ...]

    def min_size(self) -> int:
        return self.win * 2 ** (self.scales - 1)


STANDARD_MS_SSIM = MSSSIMSetting(5, 11, 1.5, STANDARD_WEIGHTS)
_w3 = np.array(STANDARD_WEIGHTS[:3]) / sum(STANDARD_WEIGHTS[:3])
MNIST_MS_SSIM = MSSSIMSetting(3, 7, 1.0, tuple(float(v) for v in _w3))
SSIM_WIN = 11  # SSIM's window, pixels a side: the smallest image it measures


def _as_float(x) -> jax.Array:
    x = jnp.asarray(x)
    if x.dtype == jnp.uint8:
        x = x.astype(jnp.float32) / 255.0
    x = x.astype(jnp.float32)
    return x[..., None] if x.ndim == 3 else x  # (N, H, W, C)


def psnr(a, b) -> jax.Array:
    """Per-image PSNR in dB for images on [0, 1] (uint8 is scaled by 1/255)."""
    a, b = _as_float(a), _as_float(b)
    mse = jnp.mean((a - b) ** 2, axis=(1, 2, 3))
    return jnp.minimum(10.0 * jnp.log10(1.0 / jnp.maximum(mse, 1e-10)), 100.0)


def _gauss(win: int, sigma: float) -> jax.Array:
    r = (win - 1) / 2
    g = np.exp(-0.5 * ((np.arange(win) - r) / sigma) ** 2)
    return jnp.asarray(g / g.sum(), jnp.float32)


def _filter(x: jax.Array, g: jax.Array) -> jax.Array:
    """Separable valid-mode Gaussian filter of (N, H, W, C), channel by channel."""
    n, h, w, c = x.shape
    k = g.shape[0]
    y = x.transpose(0, 3, 1, 2).reshape(n * c, 1, h, w)
    y = jax.lax.conv_general_dilated(y, g.reshape(1, 1, k, 1), (1, 1), "VALID")
    y = jax.lax.conv_general_dilated(y, g.reshape(1, 1, 1, k), (1, 1), "VALID")
    return y.reshape(n, c, h - k + 1, w - k + 1).transpose(0, 2, 3, 1)


def _ssim_parts(a: jax.Array, b: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per image: mean luminance term and mean contrast-structure term over the valid region."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ma, mb = _filter(a, g), _filter(b, g)
    saa = _filter(a * a, g) - ma * ma
    sbb = _filter(b * b, g) - mb * mb
    sab = _filter(a * b, g) - ma * mb
    lum = (2 * ma * mb + c1) / (ma * ma + mb * mb + c1)
    cs = (2 * sab + c2) / (saa + sbb + c2)
    return lum, cs


@partial(jax.jit, static_argnames=("win", "sigma"))
def _ssim(a, b, win: int, sigma: float):
    lum, cs = _ssim_parts(a, b, _gauss(win, sigma))
    return jnp.mean(lum * cs, axis=(1, 2, 3))


def ssim(a, b, win: int = SSIM_WIN, sigma: float = 1.5) -> jax.Array:
    """Per-image SSIM (mean over channels for colour)."""
    a, b = _as_float(a), _as_float(b)
    if min(a.shape[1:3]) < win:
        raise ValueError(f"SSIM with a {win}-pixel window needs images of at least {win}x{win}, got {a.shape[1:3]}")
    return _ssim(a, b, win, sigma)


def _pool(x: jax.Array) -> jax.Array:
    n, h, w, c = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


@partial(jax.jit, static_argnames=("setting", "floor"))
def _ms_ssim(a, b, setting: MSSSIMSetting, floor: float = 0.0):
    """MS-SSIM with each scale's term floored at ``floor`` (above 0: finite gradients)."""
    g = _gauss(setting.win, setting.sigma)
    w = jnp.asarray(setting.weights, jnp.float32)
    out = jnp.ones(a.shape[0], jnp.float32)
    for j in range(setting.scales):
        lum, cs = _ssim_parts(a, b, g)
        cs_m = jnp.maximum(jnp.mean(cs, axis=(1, 2, 3)), floor)
        if j < setting.scales - 1:
            out = out * cs_m ** w[j]
            a, b = _pool(a), _pool(b)
        else:
            ls = jnp.maximum(jnp.mean(lum * cs, axis=(1, 2, 3)), floor)
            out = out * ls ** w[j]
    return out


def ms_ssim(a, b, setting: MSSSIMSetting | None = None) -> jax.Array:
    """Per-image MS-SSIM; the setting defaults to the standard one where the images are
    large enough and to :data:`MNIST_MS_SSIM` below that."""
    a, b = _as_float(a), _as_float(b)
    if setting is None:
        setting = STANDARD_MS_SSIM if min(a.shape[1:3]) >= STANDARD_MS_SSIM.min_size() else MNIST_MS_SSIM
    if min(a.shape[1:3]) < setting.min_size():
        raise ValueError(f"MS-SSIM with {setting.scales} scales and a {setting.win}-pixel window needs images of "
                         f"at least {setting.min_size()} pixels a side, got {a.shape[1:3]}")
    return _ms_ssim(a, b, setting)


def quality(originals, images) -> dict[str, np.ndarray]:
    """Per-image PSNR, SSIM (for images of at least 11 pixels a side, its window) and MS-SSIM
    (at least 28 pixels a side) of uint8 images; a metric the images are too small for is
    left out."""
    out = {"psnr": np.asarray(psnr(originals, images))}
    if min(np.shape(originals)[1:3]) >= SSIM_WIN:
        out["ssim"] = np.asarray(ssim(originals, images))
    if min(np.shape(originals)[1:3]) >= MNIST_MS_SSIM.min_size():
        out["ms_ssim"] = np.asarray(ms_ssim(originals, images))
    return out


TRAIN_MS_SSIM = MSSSIMSetting(4, 11, 1.5, tuple(float(v) for v in np.array(STANDARD_WEIGHTS[:4]) / sum(STANDARD_WEIGHTS[:4])))


def ms_ssim_float(a: jax.Array, b: jax.Array, setting: MSSSIMSetting = TRAIN_MS_SSIM) -> jax.Array:
    """Per-image MS-SSIM of float images (N, H, W, C) on [0, 1], differentiable, for training
    losses (no checks; the terms are floored at 1e-6 so that gradients stay finite).
    :data:`TRAIN_MS_SSIM` (the first four standard scales) fits 128-pixel training crops."""
    return _ms_ssim(a, b, setting, 1e-6)
