"""Paper Table III: a binary symmetric channel with p = 0.05 on the stored bits.

    make bench-table3        # all 10,000 MNIST test images
    make bench-table3-quick  # the first 1,000

Writes the results JSON and a bar chart beside it (``table3_bsc.png``).

The VAE rows store the quantized latents (VAEN or VAEU, 8 bits per code): μ and log σ², as
the paper does (256 bits per image), or μ only (128 bits). The classical rows store each
image as its own PNG or JPEG file, headers included. Every bit goes through our jit BSC
kernel with the same seed. A classical file that no longer decodes is a failed image: it
counts as a black image in PSNR and MS-SSIM and as wrong in ACC (see
:mod:`dnastore.codecs.classical`).

Metrics: MS-SSIM (the MNIST setting of :mod:`dnastore.metrics`), PSNR (dB, mean over
images) and ACC (the shipped classifier on the reconstructions against the true labels).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAPER = {"VAEN": {"ms_ssim": 0.863, "psnr": 15.000, "acc": 0.752},
         "VAEU": {"ms_ssim": 0.775, "psnr": 12.881, "acc": 0.422}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=10_000)
    ap.add_argument("--p", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "table3_bsc.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import (
        bsc_bits,
        bsc_files,
        machine,
        mnist_test_set,
        quality,
        update_readme,
        write_results,
    )

    from dnastore import __version__
    from dnastore.codecs.classical import decode_images, encode_images
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.dna.approx import pack_bits, unpack_bits

    w, clf, x, y = mnist_test_set(args.limit)
    n = len(x)
    rows = []

    def add(method, setting, bits_per_image, m, failed=0):
        rows.append({"method": method, "setting": setting, "bits_per_image": bits_per_image,
                     "bpp": bits_per_image / (28 * 28), "p": args.p, "failed_images": int(failed), **m})
        print(f"{method:5s} {setting:28s} {bits_per_image:8.1f} bits/img  MS-SSIM {m['ms_ssim']:.3f}  "
              f"PSNR {m['psnr']:6.2f}  ACC {m['acc']:.3f}  failed {failed}", flush=True)

    add("clean", "originals", 8 * 28 * 28, {"ms_ssim": 1.0, "psnr": 100.0, "acc": clf.accuracy(x, y)})
    mu, lv = compress(w, x)
    add("VAE", "no quantization, no channel", float("nan"), quality(x, y, reconstruct(w, mu), clf))
    for kind in ("vaen", "vaeu"):
        for store in ("mu-logvar", "mu"):
            for packing in ("binary", "gray"):
                codes, attrs, side = quantize_latents(mu, lv, w, kind, 8, store, packing)
                nb = 8
                payload = pack_bits(codes, nb, "row")
                bits = np.unpackbits(np.frombuffer(payload, np.uint8))
                noisy = np.packbits(bsc_bits(bits, args.p, args.seed)).tobytes()
                back, _ = unpack_bits(noisy, np.zeros(len(noisy), bool), codes.shape, nb, "row")
                rec = reconstruct(w, dequantize_codes(back, attrs, side, None, w)[0])
                add(kind.upper(), f"8 bits, {store}, {packing}", codes.shape[1] * nb, quality(x, y, rec, clf))
    for fmt, q in (("png", None), ("jpeg", 50), ("jpeg", 90), ("webp", 50)):
        files = encode_images(x, fmt, q)
        bits_img = 8 * sum(len(f) for f in files) / n
        rec, failed = decode_images(bsc_files(files, args.p, args.seed), x.shape[1:])
        add(fmt.upper(), f"quality {q}" if q else "lossless", bits_img, quality(x, y, rec, clf),
            failed.sum())

    result = {"benchmark": "table3_bsc", "version": __version__, "seed": args.seed, "test_images": n,
              "p": args.p, "weights": w.digest, "classifier": clf.digest, "paper": PAPER, "rows": rows,
              "machine": machine()}
    write_results(args.out, result)
    plot(rows, Path(f"{args.out.with_suffix('')}.png"), args.p)

    lines = [f"BSC p = {args.p} on the stored bits, {n:,} MNIST test images, seed {args.seed}. Paper values "
             "(Table III) beside ours where the paper has them.", "",
             "| method | setting | bits/image | MS-SSIM | PSNR (dB) | ACC | failed images | paper MS-SSIM / PSNR / ACC |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        paper = PAPER.get(r["method"]) if "mu-logvar" in r["setting"] else None
        pv = f"{paper['ms_ssim']:.3f} / {paper['psnr']:.3f} / {paper['acc']:.3f}" if paper else ""
        bits = "" if r["bits_per_image"] != r["bits_per_image"] else f"{r['bits_per_image']:.0f}"
        lines.append(f"| {r['method']} | {r['setting']} | {bits} | {r['ms_ssim']:.3f} | {r['psnr']:.2f} | "
                     f"{r['acc']:.3f} | {r['failed_images']} | {pv} |")
    table = "\n".join(lines)
    print(table)
    if n >= 10_000:  # the README shows full runs only
        update_readme(args.readme, "table3", table)


def plot(rows: list[dict], path: Path, p: float) -> None:
    """Bars of MS-SSIM, PSNR and ACC per row, the paper's Table III values beside ours."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [r for r in rows if r["method"] not in ("clean",)]
    labels = [f"{r['method']}\n{r['setting']}".replace(", ", "\n", 1) for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(12, 9), sharex=True)
    xs = np.arange(len(rows))
    for ax, key, name in zip(axes, ("ms_ssim", "psnr", "acc"), ("MS-SSIM", "PSNR (dB)", "ACC")):
        ax.bar(xs - 0.2, [r[key] for r in rows], 0.4, label="dnastore")
        paper = [PAPER[r["method"]][key] if r["method"] in PAPER and "mu-logvar" in r["setting"] else np.nan
                 for r in rows]
        ax.bar(xs + 0.2, paper, 0.4, label="paper (Table III)")
        ax.set_ylabel(name)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    axes[-1].set_xticks(xs, labels, fontsize=7)
    fig.suptitle(f"BSC p = {p} on the stored bits (failed classical files count as black images)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
