"""Image metrics against hand-computed values and scikit-image."""

import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity
from skimage.transform import resize

from dnastore.metrics import MNIST_MS_SSIM, STANDARD_MS_SSIM, ms_ssim, psnr, ssim


def camera(size=256):
    return resize(data.camera().astype(np.float64) / 255.0, (size, size), anti_aliasing=True).astype(np.float32)


def test_psnr_of_a_known_mse():
    a = np.zeros((2, 8, 8), np.float32)
    b = a + np.float32(0.1)  # MSE 0.01 -> 20 dB
    b[1] = 0.5               # MSE 0.25 -> 6.02 dB
    assert np.allclose(psnr(a, b), [20.0, 10 * np.log10(4)], atol=1e-4)
    u = (np.arange(64, dtype=np.uint8).reshape(1, 8, 8))
    assert float(psnr(u, u)[0]) == 100.0


def test_ssim_of_identical_images_is_one_and_matches_scikit_image(rng):
    x = camera(128)[None]
    assert float(ssim(x, x)[0]) == pytest.approx(1.0, abs=1e-6)
    noisy = np.clip(x + rng.normal(0, 0.08, x.shape), 0, 1).astype(np.float32)
    ref = structural_similarity(x[0], noisy[0], data_range=1.0, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    assert float(ssim(x, noisy)[0]) == pytest.approx(ref, abs=2e-4)


def test_ms_ssim_scales_agree_with_scikit_image_ssim(rng):
    """Our per-scale SSIM at every scale of the standard setting is scikit-image's SSIM of the
    pooled images, and MS-SSIM is the weighted product of the per-scale terms."""
    x = camera(256)[None]
    y = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    a, b = x[0].astype(np.float64), y[0].astype(np.float64)
    for _ in range(STANDARD_MS_SSIM.scales):
        ours = float(ssim(a[None].astype(np.float32), b[None].astype(np.float32))[0])
        ref = structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        assert ours == pytest.approx(ref, abs=3e-4)
        a = a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean(axis=(1, 3))
        b = b.reshape(b.shape[0] // 2, 2, b.shape[1] // 2, 2).mean(axis=(1, 3))
    m = float(ms_ssim(x, y)[0])
    assert 0 < m < 1 and m > float(ssim(x, y)[0])  # coarse scales see less of the pixel noise


@pytest.mark.parametrize("setting,size", [(STANDARD_MS_SSIM, 256), (MNIST_MS_SSIM, 28)])
def test_ms_ssim_is_one_for_identical_and_falls_with_noise(rng, setting, size):
    x = camera(size)[None]
    assert float(ms_ssim(x, x, setting)[0]) == pytest.approx(1.0, abs=1e-5)
    vals = [float(ms_ssim(x, np.clip(x + rng.normal(0, s, x.shape), 0, 1).astype(np.float32), setting)[0])
            for s in (0.02, 0.05, 0.1, 0.2, 0.4)]
    assert all(a > b for a, b in zip(vals, vals[1:])), vals


def test_ms_ssim_refuses_images_too_small():
    x = np.zeros((1, 20, 20), np.float32)
    with pytest.raises(ValueError, match="at least 28"):
        ms_ssim(x, x)
    with pytest.raises(ValueError):
        ms_ssim(np.zeros((1, 100, 100), np.float32), np.zeros((1, 100, 100), np.float32), STANDARD_MS_SSIM)


def test_shipped_classifier_is_at_least_99_percent_on_clean_mnist_test():
    from dnastore.data.mnist import load_mnist
    from dnastore.metrics.classifier import load_classifier
    x, y = load_mnist("test")
    clf = load_classifier()
    acc = clf.accuracy(x, y)
    assert acc >= 0.99 and clf.meta["test_accuracy"] == pytest.approx(acc, abs=1e-9)
    assert clf.features(x[:5]).shape == (5, 128)
