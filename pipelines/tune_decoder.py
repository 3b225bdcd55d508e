"""Fine-tune the shipped VAE's decoder through a BSC: the weights ``vae-mnist-k16-bsc``.

    make train-bsc    # 2 epochs on the 50,000 MNIST training images, about 6 minutes here

The channel of every epoch: the encoder's μ → VAEN at 4 bits per code (binary) → the top 3
bits of every code protected by a BCH code (t = 10, :mod:`dnastore.codecs.protect`; 127
bits per image) → BSC with p = 0.05 (fresh flips each epoch) → BCH decoding → dequantization.
The decoder (its dense layer, up-convolutions and batch-norm scales) learns to reconstruct the
original images from what arrives; the encoder and the VAEN statistics are unchanged, so the
codes are the same as with the shipped weights. The result is measured by
``pipelines/bsc_levers.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--t", type=int, default=10)
    ap.add_argument("--p", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=50_000, help="Training images (the first N).")
    ap.add_argument("-o", "--out", type=Path,
                    default=ROOT / "dnastore" / "codecs" / "weights" / "vae-mnist-k16-bsc.msgpack")
    args = ap.parse_args()

    from common import tune_shipped_decoder, uep_channel

    def make_channel(w):
        channel = uep_channel(w, args.bits, args.top, args.t, args.p)
        tuned["bits_per_image"] = channel.bits
        return channel
    tuned = {"channel": "bsc", "p": args.p, "quantizer": "vaen", "n_bits": args.bits, "packing": "binary",
             "protect": {"top": args.top, "t": args.t}}
    tune_shipped_decoder(make_channel, lambda ch: f"{ch.failed} BCH failures", tuned, args)


if __name__ == "__main__":
    main()
