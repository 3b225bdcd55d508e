"""Benchmark: the shipped VAE and its quantizers on the MNIST test set.

    make bench-codec      # = python pipelines/bench_codec.py --out results/bench_codec.json

Measures, with the shipped weights:

1. the model itself: test ELBO (nats per image, one posterior sample) and the PSNR/SSIM of
   the reconstruction from μ without quantization;
2. each quantizer setting (VAEN/VAEU, μ only or μ and log σ², Gray or binary packing, bits
   per code): bits per image, and PSNR after a binary symmetric channel with p = 0, 0.001,
   0.01 and 0.05 applied to the packed bits (our jit BSC kernel, seeded);
3. μ only against μ and log σ² through the full DNA channel (encode → simulate Illumina with
   Twist bias → decode) at coverage 3 on the first 1,000 test images: nucleotides per
   image and PSNR.

PSNR is per image on [0, 1] pixels, averaged over images. The figures go to the results
JSON and into README.md between the bench-codec markers.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def dna_run(folder: Path, store: str, coverage: float, seed: int) -> dict:
    """The images through encode, simulate and decode, with the stages' own functions."""
    from dnastore.stages import decode, encode, simulate
    with tempfile.TemporaryDirectory(prefix="bench-codec-") as tmp:
        work = Path(tmp)
        fa, fq = work / "x.fasta", work / "x.fastq"
        enc = encode(folder, fa, codec="vae", codec_settings={"store": store})
        simulate(fa, fq, coverage=coverage, seed=seed)
        dec = decode(fq, work / "recon", originals=folder)
    return {"store": store, "coverage": coverage, "bits_per_image": enc["bits_per_image"],
            "nt_per_image": enc["nt_per_image"], "strands": enc["strands"], "psnr": dec["psnr"], "ssim": dec["ssim"],
            "ms_ssim": dec["ms_ssim"],
            "codes_erased_fraction": dec["codes_erased"] / dec["codes_total"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=10_000, help="Test images used (default: all 10,000).")
    ap.add_argument("--dna-images", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_codec.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import bsc_codes, machine, update_readme, write_results
    from PIL import Image

    from dnastore import __version__
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.codecs.train import evaluate
    from dnastore.codecs.weights import load_weights
    from dnastore.data.mnist import load_mnist
    from dnastore.metrics import ms_ssim, psnr, ssim

    w = load_weights()
    x, _ = load_mnist("test")
    x = x[:args.limit]
    ev = evaluate(w.model, x, seed=args.seed)
    mu, lv = compress(w, x)
    clean = reconstruct(w, mu)
    model = {"test_elbo": ev["elbo"], "psnr": float(psnr(x, clean).mean()), "ssim": float(ssim(x, clean).mean()),
             "ms_ssim": float(ms_ssim(x, clean).mean()),
             "latent": w.config.latent, "epochs": w.meta.get("epochs"), "weights": w.digest}
    print(f"model: test ELBO {model['test_elbo']:.2f} nats, PSNR {model['psnr']:.2f} dB, SSIM {model['ssim']:.3f}, "
          f"MS-SSIM {model['ms_ssim']:.3f} "
          f"(unquantized, {len(x)} test images)")

    rows = []
    ps = [0.0, 0.001, 0.01, 0.05]
    settings = [("vaen", 8, "mu", "gray"), ("vaen", 8, "mu", "binary"), ("vaeu", 8, "mu", "gray"),
                ("vaeu", 8, "mu", "binary"), ("vaen", 8, "mu-logvar", "binary"), ("vaeu", 8, "mu-logvar", "gray"),
                ("vaen", 6, "mu", "binary"), ("vaen", 4, "mu", "binary"), ("vaen", 2, "mu", "binary")]
    for kind, n_bits, store, packing in settings:
        codes, attrs, side = quantize_latents(mu, lv, w, kind, n_bits, store, packing)
        row = {"quantizer": kind, "n_bits": n_bits, "store": store, "packing": packing,
               "bits_per_image": int(codes.shape[1] * n_bits), "psnr": {}}
        for i, p in enumerate(ps):
            noisy = bsc_codes(codes, n_bits, p, args.seed + i)
            rec = reconstruct(w, dequantize_codes(noisy, attrs, side, None, w)[0])
            row["psnr"][str(p)] = float(psnr(x, rec).mean())
        rows.append(row)
        print(f"{kind} {n_bits}b {store:9s} {packing:6s} {row['bits_per_image']:4d} bits/img  PSNR " +
              "  ".join(f"p={p}: {row['psnr'][str(p)]:.2f}" for p in ps))

    dna = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "img"
        folder.mkdir()
        for i in range(args.dna_images):
            Image.fromarray(x[i]).save(folder / f"{i:05d}.png")
        for store in ("mu", "mu-logvar"):
            r = dna_run(folder, store, 3.0, args.seed)
            dna.append(r)
            print(f"DNA coverage 3, {store:9s}: {r['nt_per_image']:.1f} nt/image, PSNR {r['psnr']:.2f} dB, "
                  f"{100 * r['codes_erased_fraction']:.1f}% codes erased")

    result = {"benchmark": "codec", "version": __version__, "seed": args.seed, "test_images": len(x),
              "machine": machine(),
              "model": model, "quantizers": rows, "dna_coverage3": dna}
    write_results(args.out, result)

    lines = [f"Shipped model (K={model['latent']}, {model['epochs']} epochs), {len(x):,} MNIST test images: "
             f"test ELBO **{model['test_elbo']:.1f}** nats/image, PSNR **{model['psnr']:.2f} dB**, "
             f"SSIM {model['ssim']:.3f}, MS-SSIM {model['ms_ssim']:.3f} without quantization.", "",
             "| quantizer | bits/code | stored | packing | bits/image | PSNR p=0 | p=0.001 | p=0.01 | p=0.05 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['quantizer'].upper()} | {r['n_bits']} | {r['store']} | {r['packing']} | {r['bits_per_image']} | "
                     + " | ".join(f"{r['psnr'][str(p)]:.2f}" for p in ps) + " |")
    lines += ["", f"| DNA channel, coverage 3 (Illumina, Twist bias), {args.dna_images:,} images | nt/image | PSNR (dB) | MS-SSIM | codes erased |",
              "| --- | --- | --- | --- | --- |"]
    for r in dna:
        lines.append(f"| {r['store']} | {r['nt_per_image']:.1f} | {r['psnr']:.2f} | {r['ms_ssim']:.3f} | {100 * r['codes_erased_fraction']:.1f}% |")
    table = "\n".join(lines)
    print(table)
    update_readme(args.readme, "bench-codec", table)

if __name__ == "__main__":
    main()
