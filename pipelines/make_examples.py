"""Write the demo images: the first 32 MNIST test images as PNG, named by index and label.

    python pipelines/make_examples.py examples/images
"""

import sys
from pathlib import Path

from PIL import Image

from dnastore.data.mnist import load_mnist


def main(out: str, n: int = 32) -> None:
    images, labels = load_mnist("test")
    Path(out).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(images[i]).save(Path(out) / f"mnist-test-{i:05d}-{labels[i]}.png", optimize=True)


if __name__ == "__main__":
    main(*sys.argv[1:2])
