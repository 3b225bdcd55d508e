"""Helpers of the benchmark pipelines: the results JSON (written atomically) and the README
blocks between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers."""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform()}


def write_results(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """Save a matplotlib figure atomically (a temporary file beside it, then a rename) and close it."""
    import matplotlib.pyplot as plt
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi)
    tmp.replace(path)
    plt.close(fig)


def update_readme(readme: Path, marker: str, table: str) -> bool:
    """Replace the block between the markers; True when the README changed."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    new = re.sub(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)",
                 lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    if new == text:
        return False
    readme.write_text(new)
    print(f"updated {readme}")
    return True


def mnist_test_set(limit: int):
    """(weights, classifier, images, labels): the shipped VAE and classifier and the first
    ``limit`` MNIST test images, which every image experiment evaluates on."""
    from dnastore.codecs.weights import load_weights
    from dnastore.data.mnist import load_mnist
    from dnastore.metrics.classifier import load_classifier
    x, y = load_mnist("test")
    return load_weights(), load_classifier(), x[:limit], y[:limit]


def quality(x, y, rec, clf) -> dict[str, float]:
    """Mean MS-SSIM and PSNR of reconstructions ``rec`` of ``x``, and the classifier's
    accuracy on them against the labels ``y``."""
    import numpy as np

    from dnastore.metrics import ms_ssim, psnr
    return {"ms_ssim": float(np.mean(ms_ssim(x, rec))), "psnr": float(np.mean(psnr(x, rec))),
            "acc": clf.accuracy(rec, y)}
