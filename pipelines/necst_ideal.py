"""How many bits WebP or JPEG plus an ideal channel code need to match NECST's distortion
(the NECST paper's Fig. 2 and supplement B.1), on binarized MNIST.

    make bench-necst-ideal        # 10,000 test images (after make bench-necst, whose models it reuses)

For every test image and every ε, NECST's distortion d is the squared error per pixel of its
decoder mean, its 100 stored bits through a BSC(ε) (the models of
``pipelines/necst_distortion.py``, trained at that ε). The image is then compressed with
WebP (quality 0, 5, ..., 100, and lossless) and JPEG (quality 5, ..., 100); the smallest file
whose error is at most d is kept, its size counted without headers
(:func:`dnastore.codecs.classical.payload_bytes`), and divided by the BSC's capacity
1 − H_b(ε): the bits an ideal code would need. An image that no setting matches (JPEG on a
binary image can miss at every quality) is counted apart. Means over images are reported
beside NECST's 100 bits.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def candidates(img: np.ndarray) -> dict[str, list[tuple[int, float]]]:
    """(payload bits, squared error per pixel) of every WebP and JPEG setting of one image."""
    from PIL import Image

    from dnastore.codecs.classical import payload_bytes
    x = img.astype(np.float64) / 255.0
    out: dict[str, list[tuple[int, float]]] = {"webp": [], "jpeg": []}
    im = Image.fromarray(img)
    for fmt, settings in (("webp", [dict(quality=q, method=6) for q in range(0, 101, 5)] + [dict(lossless=True)]),
                          ("jpeg", [dict(quality=q) for q in range(5, 101, 5)])):
        for kw in settings:
            buf = io.BytesIO()
            im.save(buf, format=fmt.upper(), **kw)
            data = buf.getvalue()
            back = np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.float64) / 255.0
            out[fmt].append((8 * payload_bytes(data), float(((back - x) ** 2).mean())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eps", default="0,0.1,0.2,0.3,0.4")
    ap.add_argument("--epochs", type=int, default=20, help="Epochs of the NECST models (as bench-necst).")
    ap.add_argument("--limit-train", type=int, help="Training images of the NECST models (as bench-necst's).")
    ap.add_argument("--limit-test", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models-dir", type=Path, default=ROOT / "results" / "necst_models")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "necst_ideal.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import load_data, machine, train_model, update_readme, write_results

    from dnastore import __version__
    from dnastore.channel.bits import bsc_capacity, ideal_code_bits
    from dnastore.codecs.infer import necst_codes, necst_decode
    from dnastore.codecs.necst import NECSTConfig, channel_bits, distortion

    train, test = load_data("mnist", args.limit_train, args.limit_test, args.seed)
    x = test.astype(np.float64) / 255.0
    cands = [candidates(img) for img in test]
    rows = []
    for eps in (float(e) for e in args.eps.split(",")):
        model = train_model(NECSTConfig(bits=100, image_shape=(28, 28), eps=eps), train, args.epochs, args.seed,
                            print, args.models_dir, f"mnist-necst-eps{eps:.2f}")
        rng = np.random.default_rng([args.seed, int(round(eps * 1000))])
        d = distortion(x, necst_decode(model, channel_bits(necst_codes(model, test), "bsc", eps, rng)))["mse"]
        row = {"eps": eps, "necst_bits": 100, "necst_mse": float(d.mean()), "capacity": bsc_capacity(eps)}
        for fmt in ("webp", "jpeg"):
            need, missed = [], 0
            for di, c in zip(d, cands):
                ok = [b for b, err in c[fmt] if err <= di + 1e-12]
                if ok:
                    need.append(ideal_code_bits(min(ok), eps))
                else:
                    missed += 1
            row[f"{fmt}_bits"] = float(np.mean(need)) if need else None
            row[f"{fmt}_unmatched"] = missed
        rows.append(row)
        print(f"eps {eps:.1f}: NECST 100 bits at MSE {row['necst_mse']:.4f}; WebP + ideal code {row['webp_bits']:.1f} bits "
              f"({row['webp_unmatched']} unmatched), JPEG + ideal code {row['jpeg_bits'] or float('nan'):.1f} bits "
              f"({row['jpeg_unmatched']} unmatched)", flush=True)
    n = len(test)
    write_results(args.out, {"benchmark": "necst_ideal", "version": __version__, "seed": args.seed, "test_images": n,
                             "epochs": args.epochs, "rows": rows, "machine": machine()})
    lines = [f"Binarized MNIST, {n:,} test images, seed {args.seed}: bits per image that WebP or JPEG (headers left "
             "out) plus an ideal channel code need to match NECST's squared error at each ε, against NECST's 100.", "",
             "| ε | capacity 1 − H_b(ε) | NECST squared error | NECST bits | WebP + ideal code | JPEG + ideal code |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        def cell(fmt):
            v, u = r[f"{fmt}_bits"], r[f"{fmt}_unmatched"]
            return ("n/a" if v is None else f"{v:.0f}") + (f" ({u:,} images unmatched)" if u else "")
        lines.append(f"| {r['eps']:.1f} | {r['capacity']:.3f} | {r['necst_mse']:.4f} | 100 | {cell('webp')} | {cell('jpeg')} |")
    table = "\n".join(lines)
    print(table)
    if args.limit_test is None and args.limit_train is None:
        update_readme(args.readme, "necst-ideal", table)


if __name__ == "__main__":
    main()
