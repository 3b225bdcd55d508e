"""Downstream classification on NECST's 100-bit codes (the NECST paper's Table 1).

    make bench-necst-downstream   # after make bench-necst, whose models it reuses

The NECST models trained at ε = 0, 0.1 and 0.2 (``pipelines/necst_distortion.py``) encode
binarized MNIST; the eight classifiers of :mod:`dnastore.metrics.downstream` are trained on
the codes of the first ``--train`` training images and tested on the codes of the test images.
Then the same, frozen, models encode "noisy MNIST": the binarized images plus Gaussian noise
of standard deviation 0.5 on every pixel (the paper's "ε ~ N(0, 0.5)"; we read 0.5 as the
standard deviation, and the pixels are not clipped), for both the classifiers' training and
test images. The codes are the stored bits, without channel noise.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

QDA_REG = 1e-3  # QDA's reg_param where its default (0) meets a singular class covariance

PAPER = {  # Table 1: MNIST / noisy MNIST
    0.0: {"KNN": (0.95, 0.86), "DT": (0.65, 0.54), "RF": (0.71, 0.59), "MLP": (0.93, 0.87), "AdaB": (0.72, 0.65),
          "NB": (0.75, 0.65), "QDA": (0.56, 0.28), "SVM": (0.88, 0.81)},
    0.1: {"KNN": (0.95, 0.86), "DT": (0.65, 0.59), "RF": (0.74, 0.65), "MLP": (0.934, 0.88), "AdaB": (0.74, 0.72),
          "NB": (0.83, 0.77), "QDA": (0.94, 0.90), "SVM": (0.92, 0.84)},
    0.2: {"KNN": (0.94, 0.86), "DT": (0.78, 0.69), "RF": (0.81, 0.76), "MLP": (0.93, 0.89), "AdaB": (0.78, 0.80),
          "NB": (0.87, 0.81), "QDA": (0.93, 0.90), "SVM": (0.93, 0.86)},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eps", default="0,0.1,0.2")
    ap.add_argument("--epochs", type=int, default=20, help="Epochs of the NECST models (as bench-necst).")
    ap.add_argument("--train", type=int, default=10_000, help="Training images of the classifiers.")
    ap.add_argument("--limit-train", type=int, help="Training images of the NECST models (as bench-necst's).")
    ap.add_argument("--limit-test", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models-dir", type=Path, default=ROOT / "results" / "necst_models")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "necst_downstream.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    import warnings

    from common import load_data, machine, train_model, update_readme, write_results

    from dnastore import __version__
    from dnastore.codecs.infer import necst_codes
    from dnastore.codecs.necst import NECSTConfig
    from dnastore.data.mnist import load_mnist
    from dnastore.metrics.downstream import downstream_classifiers

    train_bin, test_bin = load_data("mnist", args.limit_train, args.limit_test, args.seed)
    n_train = min(args.train, len(train_bin))
    y_train = load_mnist("train")[1][:n_train]
    y_test = load_mnist("test")[1][:len(test_bin)]
    rng = np.random.default_rng([args.seed, 77])
    clean = {"train": train_bin[:n_train].astype(np.float32), "test": test_bin.astype(np.float32)}
    noisy = {k: v + 255.0 * rng.normal(0, 0.5, v.shape).astype(np.float32) for k, v in clean.items()}
    rows = []
    t0 = time.perf_counter()
    for eps in (float(e) for e in args.eps.split(",")):
        model = train_model(NECSTConfig(bits=100, image_shape=(28, 28), eps=eps), train_bin, args.epochs, args.seed,
                            print, args.models_dir, f"mnist-necst-eps{eps:.2f}")
        for data_name, data in (("mnist", clean), ("noisy mnist", noisy)):
            codes = {k: necst_codes(model, v).astype(np.float64) for k, v in data.items()}
            for name, clf in downstream_classifiers(args.seed).items():
                t = time.perf_counter()
                regularized = False
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # QDA's collinearity and MLP's iteration warnings
                    try:
                        acc = float(clf.fit(codes["train"], y_train).score(codes["test"], y_test))
                    except np.linalg.LinAlgError:
                        # QDA on codes with bits that never change within a class: the class
                        # covariance is singular, which scikit-learn now refuses
                        clf.set_params(reg_param=QDA_REG)
                        acc = float(clf.fit(codes["train"], y_train).score(codes["test"], y_test))
                        regularized = True
                paper = PAPER.get(eps, {}).get(name)
                rows.append({"eps": eps, "data": data_name, "classifier": name, "acc": acc,
                             "regularized": regularized,
                             "paper": paper[0 if data_name == "mnist" else 1] if paper else None,
                             "seconds": time.perf_counter() - t})
                print(f"eps {eps:.1f} {data_name:11s} {name:5s} ACC {acc:.3f} (paper {rows[-1]['paper']})", flush=True)
    write_results(args.out, {"benchmark": "necst_downstream", "version": __version__, "seed": args.seed,
                             "train_images": n_train, "test_images": len(test_bin), "epochs": args.epochs,
                             "noise_std": 0.5, "rows": rows, "seconds": time.perf_counter() - t0,
                             "machine": machine()})
    names = list(downstream_classifiers())
    lines = [f"Accuracy of each classifier on the 100-bit codes, MNIST / noisy MNIST (ours, then the paper's Table 1); "
             f"classifiers trained on {n_train:,} codes, tested on {len(test_bin):,}.", "",
             "| ε | " + " | ".join(names) + " |", "| --- | " + " | ".join("---" for _ in names) + " |"]
    for eps in sorted({r["eps"] for r in rows}):
        def acc(name, data):
            return next(r["acc"] for r in rows if r["eps"] == eps and r["classifier"] == name and r["data"] == data)
        def reg(name):
            return "*" if any(r["regularized"] for r in rows if r["eps"] == eps and r["classifier"] == name) else ""
        lines.append(f"| {eps:.1f} | " + " | ".join(f"{acc(n, 'mnist'):.2f} / {acc(n, 'noisy mnist'):.2f}{reg(n)}"
                                                 for n in names) + " |")
        if eps in PAPER:
            lines.append("| paper | " + " | ".join(f"{PAPER[eps][n][0]:.2f} / {PAPER[eps][n][1]:.2f}" for n in names) + " |")
    if any(r["regularized"] for r in rows):
        lines += ["", f"\\* QDA with reg_param {QDA_REG}: with the default 0, a class whose codes never change in "
                  "some bit has a singular covariance, which scikit-learn refuses."]
    table = "\n".join(lines)
    print(table)
    if args.limit_test is None and args.limit_train is None:
        update_readme(args.readme, "necst-downstream", table)


if __name__ == "__main__":
    main()
