"""Fréchet distance between feature distributions (the FID of Heusel et al. 2017).

    FID = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)

the Fréchet (2-Wasserstein) distance between two Gaussians fitted to feature sets. The
standard FID uses Inception-v3 pool features; those weights cannot be downloaded here, so
dnastore computes it on the 128 penultimate activations of the shipped MNIST classifier
(``dnastore.metrics.classifier``). The numbers are therefore comparable between our own runs
and not with published Inception FIDs.

The matrix square root is taken in the symmetric form Σ₁^½ Σ₂ Σ₁^½, which is positive
semi-definite, through symmetric eigendecompositions (no complex parts to discard).
"""

from __future__ import annotations

import numpy as np


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (mu1.size, mu1.size):
        raise ValueError("the two Gaussians must have the same dimension")
    s1 = _sqrt_psd(cov1)
    cross = _sqrt_psd(s1 @ cov2 @ s1)
    d = float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(cross))
    return max(d, 0.0)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of features (N, D)."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError("need at least two feature vectors")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    return frechet_distance(*feature_stats(a), *feature_stats(b))


def mnist_fid(real: np.ndarray, fake: np.ndarray, classifier=None) -> float:
    """FID between two sets of uint8 MNIST-shaped images on the shipped classifier's features."""
    from dnastore.metrics.classifier import load_classifier
    clf = classifier or load_classifier()
    return fid_from_features(clf.features(real), clf.features(fake))
