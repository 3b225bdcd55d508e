"""Train the MNIST classifier behind the ACC metric and write its weights.

    make train-classifier   # = python pipelines/train_classifier.py --out dnastore/metrics/weights/mnist-cnn.msgpack

50k MNIST training images, the epoch with the best accuracy on the 10k validation images
kept; the accuracy on the 10k test images is recorded in the weights' metadata.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from dnastore.data.mnist import MNIST_SHA256, load_mnist
    from dnastore.metrics.classifier import save_classifier, train_classifier

    x, y = load_mnist("train")
    vx, vy = load_mnist("valid")
    tx, ty = load_mnist("test")
    t = time.perf_counter()
    clf, history = train_classifier(x, y, vx, vy, epochs=args.epochs, seed=args.seed)
    test_acc = clf.accuracy(tx, ty)
    print(f"test accuracy {test_acc:.4f} ({time.perf_counter() - t:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    save_classifier(tmp, clf, {"epochs": args.epochs, "seed": args.seed, "history": history,
                               "valid_accuracy": max(h["valid_accuracy"] for h in history),
                               "test_accuracy": test_acc, "data": "sha256:" + MNIST_SHA256})
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
