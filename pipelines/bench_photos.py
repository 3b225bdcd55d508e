"""Photos through DNA, the classical baselines (issue 21's first part; the learned photo codec
joins these tables when it ships).

    make bench-photos        # python pipelines/bench_photos.py --out results/bench_photos.json

On the four held-out photos of :mod:`dnastore.data.photos` (scikit-learn's china and flower,
scikit-image's coffee and rocket; 400-427 x 600-640, colour):

1. **Error-free rate-distortion**: JPEG, WebP, JPEG 2000 and AVIF (Pillow) over their quality
   range; bits per pixel are the files' bytes (headers included) x 8 over the pixels; PSNR
   and MS-SSIM (5 scales) on RGB, the mean over the photos.
2. **Through DNA at equal nt per image**: each budget of nucleotides per photo (set as the nt
   that ``--budgets`` bits per pixel take at 1.6 bits/nt, the dense code's density) is spent
   by each codec on its best setting for the coverage: for every outer redundancy of
   ``REDUNDANCIES``, the highest quality whose pool fits the budget, and of those the one with
   the best expected PSNR under the binomial law at the strand loss measured at that
   coverage (a file with any block lost fails whole: the photo comes back black). The
   chosen pool then goes through ``simulate`` (the default Illumina preset, Twist synthesis),
   consensus and decode at coverage 2, 3, 5 and 10; measured PSNR and MS-SSIM, failed photos
   black.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CODECS = ("jpeg", "webp", "jp2", "avif")
QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
REDUNDANCIES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)


def metrics(orig: list[np.ndarray], rec: list[np.ndarray]) -> tuple[float, float]:
    from dnastore.metrics.image import ms_ssim, psnr
    ps = [float(psnr(a[None], b[None])[0]) for a, b in zip(orig, rec)]
    ms = [float(ms_ssim(a[None], b[None])[0]) for a, b in zip(orig, rec)]
    return float(np.mean(ps)), float(np.mean(ms))


def rd_curves(photos) -> list[dict]:
    from dnastore.codecs.classical import decode_image, encode_image
    rows = []
    orig = [a for _, a in photos]
    pixels = sum(a.shape[0] * a.shape[1] for a in orig)
    for codec in CODECS:
        for q in QUALITIES:
            files = [encode_image(a, codec, q) for a in orig]
            rec = [decode_image(f, a.shape) for f, a in zip(files, orig)]
            p, m = metrics(orig, rec)
            rows.append({"codec": codec, "quality": q, "bpp": 8 * sum(map(len, files)) / pixels, "psnr": p,
                         "ms_ssim": m, "bytes": [len(f) for f in files]})
            print(f"{codec:5s} q{q:3d}: {rows[-1]['bpp']:.3f} bpp  PSNR {p:.2f}  MS-SSIM {m:.4f}", flush=True)
    return rows


def pool_nt(n_bytes: int, r: float, per_strand: int = 43, length: int = 240) -> int:
    """Nucleotides of a dense pool of ``n_bytes`` at outer redundancy ``r`` (header strands
    left out, as in every nt-per-image figure)."""
    from dnastore.dna.outer import RSPlan
    n = max(1, math.ceil(n_bytes / per_strand))
    return (n + RSPlan.make(n, r).n_parity) * length


def choose(rd: list[dict], codec: str, budget_nt: float, n_photos: int, loss: float) -> dict | None:
    """The (quality, redundancy) of ``codec`` that fits ``n_photos x budget_nt`` with the best
    expected PSNR at strand ``loss`` (a failed block fails the photos it holds: counted as
    failing the pool, pessimistically)."""
    from dnastore.stages.plan import file_failure
    best = None
    for row in (r for r in rd if r["codec"] == codec):
        size = sum(row["bytes"])
        for red in REDUNDANCIES:
            if pool_nt(size, red) > budget_nt * n_photos:
                continue
            n_data = max(1, math.ceil(size / 43))
            fail = file_failure(n_data, red, min(1.0, loss))
            black = 10.0 * math.log10(1.0 / 0.25)   # about what a black photo scores; the ranking only needs an order
            exp = (1 - fail) * row["psnr"] + fail * black
            if best is None or exp > best["expected_psnr"]:
                best = {"quality": row["quality"], "redundancy": red, "expected_psnr": exp, "failure": fail,
                        "error_free_psnr": row["psnr"], "bytes": size}
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budgets", default="0.25,0.5,1.0", help="nt budgets, as bits per pixel at 1.6 bits/nt")
    ap.add_argument("--coverages", default="2,3,5,10")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_photos.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--replot", action="store_true", help="Redraw the plot and README block from --out only.")
    args = ap.parse_args()

    from common import machine, save_figure, update_readme, write_results
    if args.replot:
        import json
        _outputs(json.loads(args.out.read_text()), args, save_figure, update_readme)
        return

    from dnastore import __version__
    from dnastore.channel.dna import preset_params
    from dnastore.codecs.classical import (
        decode_image,
        encode_image,
        pack_files,
        unpack_files,
    )
    from dnastore.data.photos import photo_set
    from dnastore.stages.plan import Channel
    from dnastore.stages.roundtrip import encode, transmit

    t0 = time.time()
    photos = photo_set("held-out")
    orig = [a for _, a in photos]
    pixels = [a.shape[0] * a.shape[1] for a in orig]
    rd = rd_curves(photos)
    covs = [float(c) for c in args.coverages.split(",")]
    ch = Channel(code="dense")
    loss = ch.measure(covs, probe=2000)
    print("strand loss:", {k: round(v, 4) for k, v in loss.items()}, flush=True)
    dna = []
    for b in (float(x) for x in args.budgets.split(",")):
        budget = b * float(np.mean(pixels)) / 1.6
        for cov in covs:
            for codec in CODECS:
                pick = choose(rd, codec, budget, len(orig), loss[cov])
                if pick is None:
                    dna.append({"budget_bpp": b, "budget_nt": budget, "coverage": cov, "codec": codec, "fits": False})
                    print(f"{b} bpp, coverage {cov:g}, {codec}: no setting fits", flush=True)
                    continue
                files = [encode_image(a, codec, pick["quality"]) for a in orig]
                payload, lengths = pack_files(files)
                enc = encode(payload, {"mode": "file", "file_lengths": lengths}, redundancy=pick["redundancy"],
                             code="dense")
                got = transmit(enc, preset_params("illumina", coverage=cov), args.seed)
                back = unpack_files(got.payload, got.erased, lengths)
                rec = [decode_image(f, a.shape) if f is not None else None for f, a in zip(back, orig)]
                failed = sum(r is None for r in rec)
                rec = [r if r is not None else np.zeros_like(a) for r, a in zip(rec, orig)]
                p, m = metrics(orig, rec)
                nt = enc.manifest["n_strands"] * 240 / len(orig)
                dna.append({"budget_bpp": b, "budget_nt": budget, "coverage": cov, "codec": codec, "fits": True,
                            **pick, "nt_per_image": nt, "failed": failed, "psnr": p, "ms_ssim": m})
                print(f"{b} bpp ({budget:,.0f} nt/photo), coverage {cov:g}, {codec} q{pick['quality']} "
                      f"r{pick['redundancy']:g}: {nt:,.0f} nt/photo, {failed} failed, PSNR {p:.2f}, MS-SSIM {m:.4f}",
                      flush=True)
    res = {"benchmark": "bench_photos", "version": __version__, "photos": [n for n, _ in photos],
           "strand_loss": {str(k): v for k, v in loss.items()}, "rd": rd, "dna": dna, "machine": machine(),
           "seconds": time.time() - t0}
    write_results(args.out, res)

    _outputs(res, args, save_figure, update_readme)


def _outputs(res: dict, args, save_figure, update_readme) -> None:
    """The plot (and its copy in examples/figures) and the README block of a results JSON."""
    rd, dna = res["rd"], res["dna"]
    covs = [float(c) for c in args.coverages.split(",")]
    photos = [(n, None) for n in res["photos"]]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in zip(axes, ("psnr", "ms_ssim"), ("PSNR (dB)", "MS-SSIM")):
        for codec in CODECS:
            rs = sorted((r for r in rd if r["codec"] == codec), key=lambda r: r["bpp"])
            ax.plot([r["bpp"] for r in rs], [r[key] for r in rs], "o-", ms=3, label=codec)
        ax.set(xlabel="bits per pixel", ylabel=label, xscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("held-out photos, error-free")
    fig.tight_layout()
    save_figure(fig, args.out.with_suffix(".png"))
    figures = ROOT / "examples" / "figures"
    if figures.is_dir():
        import shutil
        shutil.copy(args.out.with_suffix(".png"), figures / "photos_rd.png")

    lines = [f"Held-out photos ({', '.join(n for n, _ in photos)}), error-free: PSNR and MS-SSIM at the quality "
             "closest to each rate (interpolated in bits per pixel).", "",
             "| codec | " + " | ".join(f"{b:g} bpp" for b in (0.25, 0.5, 1.0)) + " |", "| --- | --- | --- | --- |"]
    for codec in CODECS:
        rs = sorted((r for r in rd if r["codec"] == codec), key=lambda r: r["bpp"])
        x = [r["bpp"] for r in rs]
        cells = []
        for b in (0.25, 0.5, 1.0):
            if b < x[0] or b > x[-1]:
                cells.append("out of range")
            else:
                cells.append(f"{np.interp(b, x, [r['psnr'] for r in rs]):.2f} dB, "
                             f"{np.interp(b, x, [r['ms_ssim'] for r in rs]):.4f}")
        lines.append(f"| {codec} | " + " | ".join(cells) + " |")
    lines += ["", f"Through DNA (the dense code, default Illumina preset, seed {args.seed}), each codec at its best "
              "quality and outer redundancy for the coverage within the budget: PSNR (MS-SSIM), failed photos "
              "black.", "",
              "| budget | codec | " + " | ".join(f"coverage {c:g}" for c in covs) + " |",
              "| --- | --- | " + " | ".join("---" for _ in covs) + " |"]
    for b in (float(x) for x in args.budgets.split(",")):
        for codec in CODECS:
            cells = []
            for cov in covs:
                r = next(d for d in dna if d["budget_bpp"] == b and d["coverage"] == cov and d["codec"] == codec)
                cells.append("does not fit" if not r["fits"] else
                             f"{r['psnr']:.2f} ({r['ms_ssim']:.3f}), q{r['quality']} r{r['redundancy']:g}"
                             + (f", {r['failed']} failed" if r["failed"] else ""))
            lines.append(f"| {b:g} bpp ({next(d['budget_nt'] for d in dna if d['budget_bpp'] == b):,.0f} nt) | "
                         f"{codec} | " + " | ".join(cells) + " |")
    update_readme(args.readme, "bench-photos", "\n".join(lines))




if __name__ == "__main__":
    main()
