"""Paper Figs. 2a-c: MS-SSIM, PSNR and ACC against bits per pixel (log axis), error-free.

    make bench-rate        # all 10,000 MNIST test images
    make bench-rate-quick  # the first 1,000

Varies the bits per code of VAEN and VAEU (1-8, μ only, as stored: codes packed n bits each)
and the quality of JPEG and WebP (5-95), with PNG as the lossless point. Bits per pixel are
the bits actually written: the packed codes for the VAE, the whole files (headers included)
for the classical formats. The latent size varies through the shipped weights: K = 16 (the
default, 30 epochs) and K = 8 and K = 32 (``make train-latents``, 10 epochs each), VAEN at
1-8 bits per code for each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "rate_sweep.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, mnist_test_set, quality, update_readme, write_results

    from dnastore import __version__
    from dnastore.codecs.classical import decode_images, encode_images
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.dna.approx import pack_bits

    w, clf, x, y = mnist_test_set(args.limit)
    n, pixels = len(x), x.shape[1] * x.shape[2]
    mu, lv = compress(w, x)
    rows = []

    def add(method, setting, bits_total, rec, failed=0):
        r = {"method": method, "setting": setting, "bpp": bits_total / n / pixels, "bits_per_image": bits_total / n,
             **quality(x, y, rec, clf), "failed_images": int(failed)}
        rows.append(r)
        print(f"{method:5s} {setting:12s} bpp {r['bpp']:.4f}  MS-SSIM {r['ms_ssim']:.3f}  PSNR {r['psnr']:6.2f}  "
              f"ACC {r['acc']:.3f}", flush=True)

    for kind in ("vaen", "vaeu"):
        for nb in range(1, 9):
            codes, attrs, side = quantize_latents(mu, lv, w, kind, nb, "mu", "binary")
            bits = 8 * len(pack_bits(codes, nb, "row"))
            add(kind.upper(), f"{nb} bits", bits, reconstruct(w, dequantize_codes(codes, attrs, side, None, w)[0]))
    files = encode_images(x, "png")
    add("PNG", "lossless", 8 * sum(map(len, files)), *decode_images(files, x.shape[1:])[:1])
    from dnastore.codecs.weights import load_weights
    for lk in (8, 32):
        wk = load_weights(f"vae-mnist-k{lk}")
        mk, lvk = compress(wk, x)
        for nb in range(1, 9):
            codes, attrs, side = quantize_latents(mk, lvk, wk, "vaen", nb, "mu", "binary")
            bits = 8 * len(pack_bits(codes, nb, "row"))
            add(f"VAEN K={lk}", f"{nb} bits", bits, reconstruct(wk, dequantize_codes(codes, attrs, side, None, wk)[0]))
    for fmt in ("jpeg", "webp"):
        for q in (5, 10, 25, 50, 75, 95):
            files = encode_images(x, fmt, q)
            rec, failed = decode_images(files, x.shape[1:])
            add(fmt.upper(), f"quality {q}", 8 * sum(map(len, files)), rec, failed.sum())

    result = {"benchmark": "rate_sweep", "version": __version__, "seed": args.seed, "test_images": n,
              "weights": w.digest, "classifier": clf.digest, "machine": machine(), "rows": rows}
    write_results(args.out, result)
    plot(rows, Path(f"{args.out.with_suffix('')}.png"))

    def best(method, acc):
        ok = [r for r in rows if r["method"] == method and r["acc"] >= acc]
        return min(ok, key=lambda r: r["bpp"]) if ok else None
    lines = [f"Error-free rate sweep, {n:,} MNIST test images: the fewest bits per pixel at which each method "
             "reaches a classifier accuracy.", "",
             "| ACC at least | VAEN (K=16) | VAEU (K=16) | VAEN K=8 | VAEN K=32 | JPEG | WebP | PNG |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for acc in (0.90, 0.95, 0.96, 0.97):
        cells = []
        for m in ("VAEN", "VAEU", "VAEN K=8", "VAEN K=32", "JPEG", "WEBP", "PNG"):
            b = best(m, acc)
            cells.append(f"{b['bpp']:.3f} ({b['setting']})" if b else "not reached")
        lines.append(f"| {acc:.2f} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if n >= 10_000:
        update_readme(args.readme, "rate", table)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, label in zip(axes, ("ms_ssim", "psnr", "acc"), ("MS-SSIM", "PSNR (dB)", "ACC")):
        for m in dict.fromkeys(r["method"] for r in rows):
            rs = sorted((r for r in rows if r["method"] == m), key=lambda r: r["bpp"])
            ax.plot([r["bpp"] for r in rs], [min(r[key], 60) if key == "psnr" else r[key] for r in rs],
                    marker="o", label=m)
        ax.set_xscale("log")
        ax.set_xlabel("bits per pixel")
        ax.set_ylabel(label + (" (capped at 60)" if key == "psnr" else ""))
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("dnastore: quality against rate, error-free")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
