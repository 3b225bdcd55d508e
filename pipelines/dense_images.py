"""The image half of the dense code (issue 19): learned codes through the DNA channel at the
same nucleotides per image, the Goldman-style code against the dense code.

    make bench-dense-images    # python pipelines/dense_images.py --out results/dense_images.json

The shipped VAE, VAEN 8 bits per code, mu only (128 bits per image), on ``--limit`` MNIST
test images, codes packed in column order. Each budget of nt per image (primers, index,
checks and parity included; header strands left out, as in ``make bench-coverage``) is
spent two ways:

- ``goldman``: the Goldman-style code at 150 nt per strand; at 150 nt/image it has no room
  for an outer code (the README's VAEN row), at 196 nt/image 30% parity strands (VAEN+RS30);
- ``dense``: the dense code at 240 nt per strand, which carries the same codes in fewer
  strands and spends the rest of the budget on its outer code (the redundancy that comes
  closest to the budget without passing it).

Both go through the same simulated channel (``simulate``'s Illumina preset with Twist-like
synthesis bias, and the same without the bias), consensus and decode, at coverage 1 to 10;
lost codes are the prior's centre. Metrics as in ``make bench-coverage``: classifier accuracy,
PSNR, MS-SSIM.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"illumina": ("illumina", "twist"), "unbiased": ("illumina", "ideal")}


def matched_dense(payload: bytes, extra: dict, n_images: int, budget: float):
    """The dense code's encoding with the largest outer redundancy whose nt per image stays
    within ``budget``."""
    from dnastore.stages.roundtrip import encode
    best = encode(payload, extra, redundancy=0, code="dense")
    lo, hi = 0.0, 4.0
    for _ in range(30):          # bisection on the redundancy: nt grows with it
        mid = (lo + hi) / 2
        enc = encode(payload, extra, redundancy=mid, code="dense")
        if enc.manifest["n_strands"] * 240 / n_images <= budget:
            best, lo = enc, mid
        else:
            hi = mid
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--coverages", default="1,2,3,4,5,6,7,8,9,10")
    ap.add_argument("--settings", default="illumina,unbiased")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "dense_images.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import (
        machine,
        mnist_test_set,
        quality,
        save_figure,
        update_readme,
        write_results,
    )

    from dnastore import __version__
    from dnastore.channel.dna import preset_params
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.dna.approx import codes_from_payload, codes_payload
    from dnastore.stages.roundtrip import encode, transmit

    w, clf, x, y = mnist_test_set(args.limit)
    n = len(x)
    covs = [float(c) for c in args.coverages.split(",")]
    mu, lv = compress(w, x)
    codes, attrs, side = quantize_latents(mu, lv, w, "vaen", 8, "mu", "binary")
    payload, extra = codes_payload(codes, attrs, side)
    clean = quality(x, y, reconstruct(w, dequantize_codes(codes, attrs, side, None, w)[0]), clf)
    methods = {}
    for label, red in (("VAEN goldman", None), ("VAEN+RS30 goldman", 0.3)):
        g = encode(payload, extra, redundancy=red)
        budget = g.manifest["n_strands"] * 150 / n
        methods[label] = g
        d = matched_dense(payload, extra, n, budget)
        methods[f"VAEN dense ({budget:.0f} nt budget)"] = d
    for name, enc in methods.items():
        m = enc.manifest
        print(f"{name}: {m['n_strands']} strands of {m['layout']['strand_length']} nt, "
              f"{m['n_strands'] * m['layout']['strand_length'] / n:.1f} nt/image, outer "
              f"{(m['outer'] or {}).get('nsym', 0)} parity per block", flush=True)

    rows = []
    for sname in args.settings.split(","):
        preset, synth = SETTINGS[sname]
        for cov in covs:
            params = preset_params(preset, synth, coverage=cov)
            for mname, enc in methods.items():
                t = time.perf_counter()
                got = transmit(enc, params, args.seed)
                c2, erased, sd, at = codes_from_payload(got.payload, got.erased, enc.manifest)
                rec = reconstruct(w, dequantize_codes(c2, at, sd, erased, w)[0])
                m = enc.manifest
                row = {"setting": sname, "coverage": cov, "method": mname, "code": m.get("code", "goldman"),
                       "nt_per_image": m["n_strands"] * m["layout"]["strand_length"] / n,
                       "lost_fraction": float(erased.mean()), **quality(x, y, rec, clf),
                       "seconds": time.perf_counter() - t}
                rows.append(row)
                print(f"{sname:9s} cov {cov:4.1f} {mname:28s} {row['nt_per_image']:6.1f} nt/img  lost "
                      f"{row['lost_fraction']:.3f}  ACC {row['acc']:.3f}  PSNR {row['psnr']:.2f}", flush=True)
    res = {"benchmark": "dense_images", "version": __version__, "images": n, "seed": args.seed, "error_free": clean,
           "machine": machine(), "rows": rows}
    write_results(args.out, res)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(args.settings.split(",")), figsize=(11, 4), squeeze=False)
    for ax, sname in zip(axes[0], args.settings.split(",")):
        for mname in methods:
            rs = [r for r in rows if r["setting"] == sname and r["method"] == mname]
            ax.plot([r["coverage"] for r in rs], [r["acc"] for r in rs], "o-" if "dense" in mname else "s--",
                    ms=4, label=mname)
        ax.set(xlabel="mean coverage", ylabel="classifier accuracy", title=sname)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, args.out.with_suffix(".png"))

    lines = [f"VAEN 8-bit codes of {n:,} MNIST test images (error-free ACC {clean['acc']:.3f}, PSNR "
             f"{clean['psnr']:.1f} dB) through the DNA channel, seed {args.seed}: ACC (and PSNR in dB) per coverage, "
             "each code at the same nt per image.", ""]
    for sname in args.settings.split(","):
        lines += [f"**{sname}** ({' + '.join(SETTINGS[sname])} synthesis)", "",
                  "| method | nt/image | " + " | ".join(f"{c:g}x" for c in covs) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in covs) + " |"]
        for mname in methods:
            rs = [r for r in rows if r["setting"] == sname and r["method"] == mname]
            lines.append(f"| {mname} | {rs[0]['nt_per_image']:.0f} | "
                         + " | ".join(f"{r['acc']:.3f} ({r['psnr']:.1f})" for r in rs) + " |")
        lines.append("")
    table = "\n".join(lines).rstrip()
    print(table)
    if n >= 1000:
        update_readme(args.readme, "dense-images", table)


if __name__ == "__main__":
    main()
