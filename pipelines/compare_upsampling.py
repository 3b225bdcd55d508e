"""Transposed convolution (the paper's DC layers) against conv + pixel shuffle in the decoder.

    make compare-upsampling   # = python pipelines/compare_upsampling.py --out results/upsampling.json

Both variants train from the same seed on the same MNIST training images for the same
number of epochs, in the same run, alternating epoch by epoch so that the machine's load
hits both alike. Reports seconds per epoch and the validation ELBO and PSNR after each epoch.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-images", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "upsampling.json")
    args = ap.parse_args()

    from common import write_results

    from dnastore.codecs.train import Trainer, evaluate
    from dnastore.codecs.vae import VAEConfig
    from dnastore.data.mnist import load_mnist

    x, _ = load_mnist("train")
    x = x[:args.train_images]
    v, _ = load_mnist("valid")
    trainers = {k: Trainer(VAEConfig(upsample=k), seed=args.seed) for k in ("transpose", "shuffle")}
    out = {k: [] for k in trainers}
    for ep in range(args.epochs):
        for k, tr in trainers.items():
            t = time.perf_counter()
            loss = tr.train_epoch(x)
            dt = time.perf_counter() - t
            ev = evaluate(tr.model, v, seed=args.seed)
            out[k].append({"epoch": ep + 1, "seconds": dt, "train_loss": loss, "valid_elbo": ev["elbo"],
                           "valid_psnr": ev["psnr"]})
            print(f"{k:9s} epoch {ep + 1}: {dt:.1f} s, valid ELBO {ev['elbo']:.2f}, PSNR {ev['psnr']:.2f} dB", flush=True)
    # the first epoch includes compilation: compare the later ones where there are some
    def rate(k):
        rows = out[k][1:] or out[k]
        return sum(r["seconds"] for r in rows) / len(rows)
    res = {"benchmark": "upsampling", "seed": args.seed, "train_images": len(x), "epochs": args.epochs,
           "runs": out, "speedup_shuffle_vs_transpose": rate("transpose") / rate("shuffle")}
    print(f"pixel shuffle is {res['speedup_shuffle_vs_transpose']:.2f}x faster per epoch")
    write_results(args.out, res)


if __name__ == "__main__":
    main()
