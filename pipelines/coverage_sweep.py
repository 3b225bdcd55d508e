"""Paper Fig. 2d: image quality against 1/coverage through the full DNA channel.

    make bench-coverage        # 1,000 MNIST test images, coverage 1..10, two channel settings
    make bench-coverage-quick  # 200 images, coverage 1, 2, 3, 5, 10

Methods, all through the same oligo codec (150 nt, 20-nt primers, no outer code) and the
same simulated channel:

- VAEN and VAEU: the shipped VAE, μ only, 8 bits per code (128 bits per image), codes packed
  in column order; lost codes become the prior's centre.
- VAEN+RS30, VAEN+RS60: the same codes with the outer Reed-Solomon code across strands at 30%
  and 60% parity strands (``--outer``), the lever for low coverage.
- VAEN-3b, VAEN-3b+RS30, VAEN-3b+RS150: 3 bits per code (48 bits per image, ``--low-bits``),
  the rate lever, alone, with 30% parity strands and with 1.5 parity strands per data strand
  (``--low-outer``), the lever for coverage 1, where about half the strands are lost.
- NECST and VAEN-6b (``--necst WEIGHTS``): NECST's 100 stored bits per image (the shipped
  model trained through BSC ε = 0.1 on binarized MNIST; lost bits reach its decoder as 0.5)
  beside VAEN at 6 bits per code (96 bits per image), the same nucleotides per image.
- PNG, JPEG (quality 50) and WebP (quality 50): each image as its own file (headers
  included), all files of the set concatenated into one payload; their lengths travel in the
  manifest (see :func:`dnastore.codecs.classical.pack_files`). An image any of whose bytes
  were lost is a failed image: black in PSNR and MS-SSIM, wrong in ACC.

Channel settings: ``illumina`` (the Illumina preset with Twist-like synthesis bias) and
``unbiased`` (the same errors without synthesis bias, like randomreads, which the paper
used). Metrics: MS-SSIM (MNIST setting), PSNR and ACC, as in the Table III pipeline.
Writes results JSON, a PNG plot per setting (MS-SSIM, PSNR and ACC against 1/coverage) and,
at coverage 3 and 10, image grids as in the paper's Figs. 1 and 3: the first 16 originals,
then VAEN, VAEU, JPEG and PNG.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"illumina": ("illumina", "twist"), "unbiased": ("illumina", "ideal")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--coverages", default="1,2,3,4,5,6,7,8,9,10")
    ap.add_argument("--settings", default="illumina,unbiased")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--outer", type=lambda v: [float(t) for t in v.split(",") if t], default=[0.3, 0.6],
                    help="Outer-code redundancies for extra VAEN rows (comma-separated; empty for none).")
    ap.add_argument("--low-bits", type=int, default=3, help="Extra VAEN rows at this many bits per code (0: none).")
    ap.add_argument("--low-outer", type=lambda v: [float(t) for t in v.split(",") if t], default=[0.3, 1.5],
                    help="Outer-code redundancies of the low-bit rows (comma-separated).")
    ap.add_argument("--no-classical", action="store_true", help="Leave out the PNG/JPEG/WebP rows.")
    ap.add_argument("--necst", default="necst-mnist-b100-bsc0.1",
                    help="NECST weights for the NECST and VAEN-6b rows ('' for none; skipped when not shipped).")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "coverage_sweep.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, mnist_test_set, quality, update_readme, write_results

    from dnastore import __version__
    from dnastore.channel.dna import preset_params
    from dnastore.codecs.classical import (
        decode_image,
        encode_images,
        pack_files,
        unpack_files,
    )
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

    methods = {}
    for kind in ("vaen", "vaeu"):
        codes, attrs, side = quantize_latents(mu, lv, w, kind, 8, "mu", "binary")
        payload, extra = codes_payload(codes, attrs, side)
        methods[kind.upper()] = ("vae", encode(payload, extra))
        if kind == "vaen":  # the erasure-code lever: parity strands across strands
            for red in args.outer:
                methods[f"VAEN+RS{round(100 * red)}"] = ("vae", encode(payload, extra, redundancy=red))
    if args.low_bits:  # the rate lever: fewer bits per code (48 bits/image at 3 bits)
        nb = args.low_bits
        codes, attrs, side = quantize_latents(mu, lv, w, "vaen", nb, "mu", "binary")
        payload, extra = codes_payload(codes, attrs, side)
        methods[f"VAEN-{nb}b"] = ("vae", encode(payload, extra))
        for red in args.low_outer:
            methods[f"VAEN-{nb}b+RS{round(100 * red)}"] = ("vae", encode(payload, extra, redundancy=red))
    necst_w = None
    if args.necst:
        from dnastore.codecs.learned import necst_codes_attrs, necst_reconstruct
        from dnastore.codecs.weights import load_weights
        from dnastore.errors import DnastoreError
        try:
            necst_w = load_weights(args.necst)
        except DnastoreError as e:
            print(f"no NECST rows: {e}")
    if necst_w is not None:
        codes, attrs = necst_codes_attrs(necst_w, x)
        payload, extra = codes_payload(codes, attrs, {})
        methods["NECST"] = ("necst", encode(payload, extra))
        codes, attrs, side = quantize_latents(mu, lv, w, "vaen", 6, "mu", "binary")
        payload, extra = codes_payload(codes, attrs, side)
        methods["VAEN-6b"] = ("vae", encode(payload, extra))
    for fmt, q in () if args.no_classical else (("png", None), ("jpeg", 50), ("webp", 50)):
        payload, lengths = pack_files(encode_images(x, fmt, q))
        methods[fmt.upper()] = ("file", encode(payload, {"mode": "file", "file_name": f"mnist.{fmt}",
                                                         "file_lengths": lengths}))

    rows = []
    grids: dict[tuple[str, float], dict[str, np.ndarray]] = {}
    for sname in args.settings.split(","):
        preset, synth = SETTINGS[sname]
        for cov in covs:
            params = preset_params(preset, synth, coverage=cov)
            for mname, (family, enc) in methods.items():
                t = time.perf_counter()
                got = transmit(enc, params, args.seed)
                if family == "vae":
                    codes, erased, side, cattrs = codes_from_payload(got.payload, got.erased, enc.manifest)
                    rec = reconstruct(w, dequantize_codes(codes, cattrs, side, erased, w)[0])
                    failed, lost = 0, float(erased.mean())
                elif family == "necst":
                    codes, erased, _, _ = codes_from_payload(got.payload, got.erased, enc.manifest)
                    rec = necst_reconstruct(necst_w, codes, erased)
                    failed, lost = 0, float(erased.mean())
                else:
                    files = unpack_files(got.payload, got.erased, enc.manifest["file_lengths"])
                    rec = np.zeros_like(x)
                    failed = 0
                    for i, f in enumerate(files):
                        img = decode_image(f, x.shape[1:]) if f is not None else None
                        if img is None:
                            failed += 1
                        else:
                            rec[i] = img
                    lost = failed / n
                row = {"setting": sname, "coverage": cov, "method": mname,
                       "nt_per_image": enc.manifest["n_strands"] * enc.manifest["layout"]["strand_length"] / n,
                       "bits_per_image": 8 * enc.manifest["payload_bytes"] / n, "failed_images": failed,
                       "lost_fraction": lost, **quality(x, y, rec, clf), **got.stats, "seconds": time.perf_counter() - t}
                rows.append(row)
                if cov in (3.0, 10.0):
                    grids.setdefault((sname, cov), {})[mname] = rec[:16]
                print(f"{sname:9s} cov {cov:4.1f} {mname:5s} {row['nt_per_image']:8.1f} nt/img  MS-SSIM "
                      f"{row['ms_ssim']:.3f}  PSNR {row['psnr']:6.2f}  ACC {row['acc']:.3f}  failed {failed}", flush=True)

    result = {"benchmark": "coverage_sweep", "version": __version__, "seed": args.seed, "test_images": n,
              "weights": w.digest, "necst_weights": necst_w.digest if necst_w is not None else None, "classifier": clf.digest, "machine": machine(), "rows": rows}
    write_results(args.out, result)
    plot(rows, args.out.with_suffix(""))
    from dnastore.data.render import grid, save_png
    for (sname, cov), recs in grids.items():  # paper Figs. 1 and 3: originals, VAEN, VAEU, JPEG, PNG
        order = [m for m in ("VAEN", "VAEU", "JPEG", "PNG") if m in recs]
        save_png(Path(f"{args.out.with_suffix('')}-grid-{sname}-cov{cov:g}.png"),
                 grid([x[:16]] + [recs[m] for m in order]))

    lines = [f"Full DNA channel, {n:,} MNIST test images, seed {args.seed}: ACC (and PSNR in dB) against coverage. "
             "nt/image counts primers, index and check.", ""]
    for sname in args.settings.split(","):
        sub = [r for r in rows if r["setting"] == sname]
        names = list(dict.fromkeys(r["method"] for r in sub))
        lines += [f"**{sname}** ({' + '.join(SETTINGS[sname])} synthesis)", "",
                  "| method | nt/image | " + " | ".join(f"{c:g}x" for c in covs) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in covs) + " |"]
        for m in names:
            rs = [r for r in sub if r["method"] == m]
            lines.append(f"| {m} | {rs[0]['nt_per_image']:.0f} | " +
                         " | ".join(f"{r['acc']:.3f} ({r['psnr']:.1f})" for r in rs) + " |")
        lines.append("")
    table = "\n".join(lines).rstrip()
    print(table)
    if n >= 1000 and len(covs) >= 10:
        update_readme(args.readme, "coverage", table)


def plot(rows: list[dict], stem: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for sname in dict.fromkeys(r["setting"] for r in rows):
        sub = [r for r in rows if r["setting"] == sname]
        fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
        methods = list(dict.fromkeys(r["method"] for r in sub))
        colours = plt.get_cmap("tab20").colors  # twelve and more methods: no colour repeats
        for ax, key, label in zip(axes, ("ms_ssim", "psnr", "acc"), ("MS-SSIM", "PSNR (dB)", "ACC")):
            for i, m in enumerate(methods):
                rs = [r for r in sub if r["method"] == m]
                classical = m in ("PNG", "JPEG", "WEBP")  # files stored precisely: dashed, squares
                ax.plot([1 / r["coverage"] for r in rs], [r[key] for r in rs], marker="s" if classical else "o",
                        ms=4, ls="--" if classical else "-", color=colours[(2 * i) % 20 + (2 * i) // 20], label=m)
            ax.set_xlabel("1 / coverage")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axes[2].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
        fig.suptitle(f"dnastore, full DNA channel ({sname})")
        fig.tight_layout()
        fig.savefig(f"{stem}-{sname}.png", dpi=100)
        plt.close(fig)


if __name__ == "__main__":
    main()
