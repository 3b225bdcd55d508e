"""Image metrics (PSNR, SSIM, MS-SSIM) in JAX."""

from dnastore.metrics.image import (
    MNIST_MS_SSIM,
    STANDARD_MS_SSIM,
    ms_ssim,
    psnr,
    quality,
    ssim,
)

__all__ = ["MNIST_MS_SSIM", "STANDARD_MS_SSIM", "ms_ssim", "psnr", "quality", "ssim"]
