"""Photographs that ship with installed packages, for training and judging photo codecs
offline (nothing is downloaded): scikit-image's sample data and scikit-learn's two sample
images.

The split is fixed. **Held out** (every reported figure is measured on these, and no
training may see them): scikit-learn's ``china`` and ``flower`` (427x640) and scikit-image's
``coffee`` (400x600) and ``rocket`` (427x640). **Training**: scikit-image's ``astronaut``,
``chelsea``, ``hubble_deep_field``, ``immunohistochemistry``, ``retina``, the two views of
``stereo_motorcycle``, and the grey ``camera``, ``brick``, ``grass`` and ``gravel`` as
three equal channels.
"""

from __future__ import annotations

import numpy as np

from dnastore.errors import DnastoreError

HELD_OUT = ("china", "flower", "coffee", "rocket")
TRAIN = ("astronaut", "chelsea", "hubble_deep_field", "immunohistochemistry", "retina", "stereo_motorcycle_left",
         "stereo_motorcycle_right", "camera", "brick", "grass", "gravel")


def _load(name: str) -> np.ndarray:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name in ("china", "flower"):
            from sklearn.datasets import load_sample_image
            a = load_sample_image(f"{name}.jpg")
        else:
            import skimage.data as d
            if name.startswith("stereo_motorcycle"):
                left, right, _ = d.stereo_motorcycle()
                a = left if name.endswith("left") else right
            else:
                a = getattr(d, name)()
    a = np.asarray(a)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return np.ascontiguousarray(a[..., :3]).astype(np.uint8)


def photo_set(split: str) -> list[tuple[str, np.ndarray]]:
    """(name, RGB uint8 (H, W, 3)) of the ``held-out`` or ``train`` photos."""
    names = {"held-out": HELD_OUT, "train": TRAIN}.get(split)
    if names is None:
        raise DnastoreError(f"unknown photo split {split!r}; choose held-out or train")
    try:
        return [(n, _load(n)) for n in names]
    except (ImportError, ModuleNotFoundError) as e:
        raise DnastoreError(f"the sample photos need scikit-image and scikit-learn ({e})") from None
