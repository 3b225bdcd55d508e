"""The binary datasets of the NECST experiments.

- Statically binarized images: each pixel becomes 1 with probability equal to its intensity
  (value/255), drawn once from a seed, as in the static binarized MNIST of Salakhutdinov &
  Murray (2008) that NECST uses (through Burda et al. 2015). Stored as 0/255 uint8 images.
- Random bits: Bern(0.5) strings (NECST's synthetic set: 5k/1k/1k strings of 100 bits),
  stored as (N, 1, length) 0/255 uint8 "images" so every stage reads them like images.
"""

from __future__ import annotations

import numpy as np

SPLIT_SIZES = {"train": 5000, "valid": 1000, "test": 1000}


def binarize(images: np.ndarray, seed: int = 0, stream: int = 0) -> np.ndarray:
    """0/255 images; ``stream`` separates the draws of different splits (train 0, valid 1,
    test 2) made with the same seed."""
    rng = np.random.default_rng([seed, 0xB1, stream])
    return np.where(rng.random(images.shape) < images / 255.0, 255, 0).astype(np.uint8)


def random_bits(split: str, length: int = 100, seed: int = 0, limit: int | None = None) -> np.ndarray:
    n = SPLIT_SIZES[split] if not limit else min(limit, SPLIT_SIZES[split])
    rng = np.random.default_rng([seed, list(SPLIT_SIZES).index(split)])
    return (rng.random((n, 1, length)) < 0.5).astype(np.uint8) * 255
