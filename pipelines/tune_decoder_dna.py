"""Fine-tune the shipped VAE's decoder through the DNA channel's erasures: the weights
``vae-mnist-k16-dna`` (the Generative DNA paper names training through the channel as
future work; issue 21 asks for it).

    make train-dna    # 4 epochs on the 50,000 MNIST training images, about 2 minutes here

The channel of every epoch is what strand loss does to the default pipeline's codes: the
encoder's μ → VAEN at 8 bits per code → the codes packed in column order (element 0 of
every image, then element 1, ...) and cut into strands of 43 bytes (the dense code's
payload per strand) → every strand lost with probability p → lost codes become the prior's
centre → dequantization. The training set is cut into pools of ``--pool`` images, each with
its own p: 0 for a share ``--clean`` of them, else drawn uniformly from [0, ``--max-loss``]
(the strand loss between coverage 1 and high coverage), so the decoder sees every rate of
loss, none at all, and the real interleaving. The
encoder and the VAEN statistics are unchanged: the codes are the same as with the shipped
weights. ``make bench-dna-decoder`` (``pipelines/dna_decoder.py``) measures the result
through the simulated channel.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STRAND_BYTES = 43


def erasure_channel(w, n_bits: int, pool: int, max_loss: float, clean: float = 0.0,
                    strand_bytes: int = STRAND_BYTES):
    """channel(latents, rng) → received latents, for :func:`finetune_decoder`: quantize,
    erase the codes of lost strands (column-order packing, per pool of images; a share
    ``clean`` of the pools loses nothing), dequantize."""
    from dnastore.codecs.quant import dequantize, quantize
    k = w.config.latent
    mean, std = w.stats["mean"][:k], w.stats["std"][:k]

    def channel(mu, rng):
        codes = quantize(mu, "vaen", n_bits, mean, std, "binary")
        erased = np.zeros(codes.shape, bool)
        for i0 in range(0, len(codes), pool):
            n = min(pool, len(codes) - i0)
            p = 0.0 if rng.random() < clean else rng.uniform(0.0, max_loss)
            # byte j * n + i of the pool's payload is code (i, j); one strand holds strand_bytes of them
            n_strands = -(-n * k // strand_bytes)
            lost = rng.random(n_strands) < p
            pos = np.arange(k)[None, :] * n + np.arange(n)[:, None]
            erased[i0:i0 + n] = lost[pos // strand_bytes]
        channel.erased_share = float(erased.mean())
        return dequantize(codes, "vaen", n_bits, mean, std, "binary", erased)
    return channel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--pool", type=int, default=1000)
    ap.add_argument("--max-loss", type=float, default=0.6)
    ap.add_argument("--clean", type=float, default=0.3, help="Share of pools that lose no strand.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=50_000, help="Training images (the first N).")
    ap.add_argument("-o", "--out", type=Path,
                    default=ROOT / "dnastore" / "codecs" / "weights" / "vae-mnist-k16-dna.msgpack")
    args = ap.parse_args()

    from common import tune_shipped_decoder
    tuned = {"channel": "dna-erasures", "quantizer": "vaen", "n_bits": args.bits, "packing": "binary",
             "order": "column", "strand_bytes": STRAND_BYTES, "pool": args.pool, "max_loss": args.max_loss,
             "clean": args.clean}
    tune_shipped_decoder(lambda w: erasure_channel(w, args.bits, args.pool, args.max_loss, args.clean),
                         lambda ch: f"{ch.erased_share:.1%} of codes erased", tuned, args)


if __name__ == "__main__":
    main()
