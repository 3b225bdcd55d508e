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

from dnastore.codecs.photo import PACKET_BYTES

ROOT = Path(__file__).resolve().parent.parent
CODECS = ("jpeg", "webp", "jp2", "avif")
PHOTO_QUALITIES = (1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
PHOTO_REDUNDANCIES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
PHOTO_WEIGHTS = {"photo": "photo-dna", "photo-plain": "photo-plain"}  # row name: shipped weights
PACKET = PACKET_BYTES  # the photo codec's packet: one 240-nt dense strand's payload
QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
REDUNDANCIES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)


def metrics(orig: list[np.ndarray], rec: list[np.ndarray]) -> tuple[float, float]:
    from dnastore.metrics.image import ms_ssim, psnr
    ps = [float(psnr(a[None], b[None])[0]) for a, b in zip(orig, rec)]
    ms = [float(ms_ssim(a[None], b[None])[0]) for a, b in zip(orig, rec)]
    return float(np.mean(ps)), float(np.mean(ms))


def rd_curves(photos, codecs=CODECS, verbose: bool = True) -> list[dict]:
    from dnastore.codecs.classical import decode_image, encode_image
    rows = []
    orig = [a for _, a in photos]
    pixels = sum(a.shape[0] * a.shape[1] for a in orig)
    for codec in codecs:
        for q in QUALITIES:
            files = [encode_image(a, codec, q) for a in orig]
            rec = [decode_image(f, a.shape) for f, a in zip(files, orig)]
            p, m = metrics(orig, rec)
            rows.append({"codec": codec, "quality": q, "bpp": 8 * sum(map(len, files)) / pixels, "psnr": p,
                         "ms_ssim": m, "bytes": [len(f) for f in files]})
            if verbose:
                print(f"{codec:5s} q{q:3d}: {rows[-1]['bpp']:.3f} bpp  PSNR {p:.2f}  MS-SSIM {m:.4f}", flush=True)
    return rows


def pool_nt(n_bytes: int, r: float, per_strand: int = 43, length: int = 240) -> int:
    """Nucleotides of a dense pool of ``n_bytes`` at outer redundancy ``r`` (header strands
    left out, as in every nt-per-image figure)."""
    from dnastore.dna.outer import RSPlan
    n = max(1, math.ceil(n_bytes / per_strand))
    return (n + (RSPlan.make(n, r).n_parity if r > 0 else 0)) * length


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


# ----------------------------------------------------------------------------- the photo codec
def photo_codec(name: str, quality: float = 50):
    from dnastore.codecs.photo import PhotoCodec
    return PhotoCodec(weights=PHOTO_WEIGHTS[name], quality=quality)


def photo_rd(orig, name: str) -> list[dict]:
    """Error-free RD of a photo codec: bits per pixel are its packets' bytes (padding and
    starts included) x 8 over the pixels."""
    rows = []
    pixels = sum(a.shape[0] * a.shape[1] for a in orig)
    for q in PHOTO_QUALITIES:
        c = photo_codec(name, q)
        packets = [c.encode_image(a) for a in orig]
        rec = [c.decode_image(pk, a.shape[:2])[0] for pk, a in zip(packets, orig)]
        p, m = metrics(orig, rec)
        rows.append({"codec": name, "quality": q, "bpp": 8 * PACKET * sum(map(len, packets)) / pixels, "psnr": p,
                     "ms_ssim": m, "packets": [len(pk) for pk in packets]})
        print(f"{name:11s} q{q:3d}: {rows[-1]['bpp']:.3f} bpp  PSNR {p:.2f}  MS-SSIM {m:.4f}", flush=True)
    return rows


def residual_loss(n_packets: int, r: float, p: float, rng, draws: int = 400) -> float:
    """Expected share of packets still lost after the outer code, strands lost independently
    with probability ``p`` (a block that loses more than its parity keeps its losses)."""
    from dnastore.dna.outer import RSPlan
    if r <= 0:
        return p
    plan = RSPlan.make(n_packets, r)
    lost = 0.0
    for _, k in plan.blocks:
        d = rng.binomial(k, p, draws)
        par = rng.binomial(plan.nsym, p, draws)
        lost += float(np.mean(np.where(d + par > plan.nsym, d, 0)))
    return lost / n_packets


_FITS: dict = {}


def fit_photo(name: str, orig, budget_total: float, r: float):
    """(quality, packets per photo) of the highest quality whose pool fits ``budget_total`` nt
    at outer redundancy ``r`` (bisection on the continuous quality), or None."""
    key = (name, round(budget_total), r, len(orig))
    if key not in _FITS:
        _FITS[key] = _fit_photo(name, orig, budget_total, r)
    return _FITS[key]


def _fit_photo(name: str, orig, budget_total: float, r: float):
    def packets(q):
        c = photo_codec(name, q)
        return [c.encode_image(a) for a in orig]
    lo, hi = 1.0, 100.0
    best = None
    pk = packets(lo)
    if pool_nt(PACKET * sum(map(len, pk)), r, PACKET) > budget_total:
        return None
    best = (lo, pk)
    pk = packets(hi)
    if pool_nt(PACKET * sum(map(len, pk)), r, PACKET) <= budget_total:
        return hi, pk
    for _ in range(8):
        mid = (lo + hi) / 2
        pk = packets(mid)
        if pool_nt(PACKET * sum(map(len, pk)), r, PACKET) <= budget_total:
            lo, best = mid, (mid, pk)
        else:
            hi = mid
    return best


def decode_with_loss(name: str, q: float, packets, orig, frac: float, rng):
    c = photo_codec(name, q)
    rec = []
    for pk, a in zip(packets, orig):
        got = [None if rng.random() < frac else x for x in pk]
        rec.append(c.decode_image(got, a.shape[:2])[0])
    return metrics(orig, rec)


def choose_photo(name: str, orig, budget_total: float, loss: float, seed: int = 99) -> dict | None:
    """The (quality, redundancy) of a photo codec with the best expected MS-SSIM at strand
    ``loss``: for each redundancy the highest quality that fits, scored by decoding with the
    packets lost at the expected residual rate (a private random draw, not the DNA run's)."""
    rng = np.random.default_rng(seed)
    best = None
    for r in PHOTO_REDUNDANCIES:
        fit = fit_photo(name, orig, budget_total, r)
        if fit is None:
            continue
        q, pk = fit
        frac = residual_loss(sum(map(len, pk)), r, loss, rng)
        p, m = decode_with_loss(name, q, pk, orig, frac, rng)
        if best is None or m > best["expected_ms_ssim"]:
            best = {"quality": round(q, 2), "redundancy": r, "expected_ms_ssim": m, "expected_psnr": p,
                    "residual_loss": frac, "packets": [len(x) for x in pk], "_pk": pk}
    return best


def photo_through_dna(name: str, pick: dict, orig, cov: float, seed: int) -> dict:
    from dnastore.channel.dna import preset_params
    from dnastore.codecs.base import Codes
    from dnastore.dna.approx import codes_from_payload, codes_payload
    from dnastore.stages.roundtrip import encode, transmit
    c = photo_codec(name, pick["quality"])
    codes = c.encode_images(orig)
    payload, extra = codes_payload(codes.codes, codes.attrs, codes.arrays)
    enc = encode(payload, extra, redundancy=pick["redundancy"], code="dense")
    got = transmit(enc, preset_params("illumina", coverage=cov), seed)
    cc, erased, side, attrs = codes_from_payload(got.payload, got.erased, enc.manifest)
    dec = c.decode(Codes(cc, attrs, side, erased))
    rec = [img[0] for _, img in dec.pieces]
    p, m = metrics(orig, rec)
    return {"nt_per_image": enc.manifest["n_strands"] * 240 / len(orig), "packets_lost": float(dec.erased.sum()),
            "packets": int(len(cc)), "psnr": p, "ms_ssim": m}


def photo_dna_rows(orig, pixels, budgets, covs, loss, seed, names=("photo",)) -> list[dict]:
    rows = []
    for b in budgets:
        budget = b * float(np.mean(pixels)) / 1.6
        for cov in covs:
            for name in names:
                pick = choose_photo(name, orig, budget * len(orig), loss[cov])
                if pick is None:
                    rows.append({"budget_bpp": b, "budget_nt": budget, "coverage": cov, "codec": name, "fits": False})
                    continue
                pick.pop("_pk")
                got = photo_through_dna(name, pick, orig, cov, seed)
                rows.append({"budget_bpp": b, "budget_nt": budget, "coverage": cov, "codec": name, "fits": True,
                             "failed": 0, **pick, **got})
                print(f"{b} bpp ({budget:,.0f} nt/photo), coverage {cov:g}, {name} q{pick['quality']} "
                      f"r{pick['redundancy']:g}: {got['nt_per_image']:,.0f} nt/photo, "
                      f"{got['packets_lost']:.0f}/{got['packets']} packets lost, PSNR {got['psnr']:.2f}, "
                      f"MS-SSIM {got['ms_ssim']:.4f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budgets", default="0.25,0.5,1.0", help="nt budgets, as bits per pixel at 1.6 bits/nt")
    ap.add_argument("--coverages", default="2,3,5,10")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_photos.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--replot", action="store_true", help="Redraw the plot and README block from --out only.")
    ap.add_argument("--photo-only", action="store_true",
                    help="Rerun the photo codec's rows only, keeping the classical ones of --out.")
    ap.add_argument("--channel-coverages", default="1,2,3", help="coverages of channel-trained against plain")
    ap.add_argument("--channel-budgets", default="0.25,0.5")
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
    covs = [float(c) for c in args.coverages.split(",")]
    ccovs = [float(c) for c in args.channel_coverages.split(",")]
    budgets = [float(x) for x in args.budgets.split(",")]
    ch = Channel(code="dense")
    if args.photo_only:
        import json
        old = json.loads(args.out.read_text())
        rd = [r for r in old["rd"] if r["codec"] in CODECS]
        dna = [r for r in old["dna"] if r["codec"] in CODECS]
        loss = {float(k): v for k, v in old["strand_loss"].items()}
        missing = sorted(set(ccovs) - set(loss))
        if missing:
            loss.update(ch.measure(missing, probe=2000))
    else:
        rd = rd_curves(photos)
        loss = ch.measure(sorted(set(covs) | set(ccovs)), probe=2000)
        dna = []
    print("strand loss:", {k: round(v, 4) for k, v in loss.items()}, flush=True)
    for b in budgets if not args.photo_only else ():
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
    for name in PHOTO_WEIGHTS:
        rd += photo_rd(orig, name)
    dna += photo_dna_rows(orig, pixels, budgets, covs, loss, args.seed)
    channel = photo_dna_rows(orig, pixels, [float(x) for x in args.channel_budgets.split(",")], ccovs, loss,
                             args.seed, names=tuple(PHOTO_WEIGHTS))
    from dnastore.codecs.weights import load_weights
    res = {"benchmark": "bench_photos", "version": __version__, "photos": [n for n, _ in photos],
           "strand_loss": {str(k): v for k, v in loss.items()}, "rd": rd, "dna": dna, "channel": channel,
           "weights": {n: {"digest": load_weights(w, build=False).digest,
                           **{k: v for k, v in load_weights(w, build=False).meta.items() if k not in ("log",)}}
                       for n, w in PHOTO_WEIGHTS.items()},
           "machine": machine(), "seconds": time.time() - t0}
    write_results(args.out, res)

    _outputs(res, args, save_figure, update_readme)


def _outputs(res: dict, args, save_figure, update_readme) -> None:
    """The plot (and its copy in examples/figures) and the README block of a results JSON."""
    rd, dna, channel = res["rd"], res["dna"], res.get("channel", [])
    covs = [float(c) for c in args.coverages.split(",")]
    names = [n for n in (*CODECS, *PHOTO_WEIGHTS) if any(r["codec"] == n for r in rd)]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in zip(axes, ("psnr", "ms_ssim"), ("PSNR (dB)", "MS-SSIM")):
        for codec in names:
            rs = sorted((r for r in rd if r["codec"] == codec), key=lambda r: r["bpp"])
            style = "s-" if codec.startswith("photo") else "o-"
            ax.plot([r["bpp"] for r in rs], [r[key] for r in rs], style, ms=3, label=codec,
                    lw=2 if codec == "photo" else 1, ls="--" if codec == "photo-plain" else "-")
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

    lines = [f"Held-out photos ({', '.join(res['photos'])}), error-free: PSNR and MS-SSIM at the quality "
             "closest to each rate (interpolated in bits per pixel). The photo codec's bits are its packets' "
             "bytes, starts and padding included.", "",
             "| codec | " + " | ".join(f"{b:g} bpp" for b in (0.25, 0.5, 1.0)) + " |", "| --- | --- | --- | --- |"]
    for codec in names:
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

    def cell(r):
        if not r["fits"]:
            return "does not fit"
        q = r["quality"]
        lost = (f", {r['packets_lost']:.0f}/{r['packets']} packets lost" if r.get("packets_lost") else "")
        return (f"{r['psnr']:.2f} ({r['ms_ssim']:.3f}), q{q:g} r{r['redundancy']:g}"
                + (f", {r['failed']} failed" if r.get("failed") else "") + lost)

    lines += ["", f"Through DNA (the dense code, default Illumina preset, seed {args.seed}), each codec at its best "
              "quality and outer redundancy for the coverage within the budget: PSNR (MS-SSIM), failed photos "
              "black; the photo codec's lost packets leave their latents at 0. The best MS-SSIM of each column "
              "is in bold.", "",
              "| budget | codec | " + " | ".join(f"coverage {c:g}" for c in covs) + " |",
              "| --- | --- | " + " | ".join("---" for _ in covs) + " |"]
    for b in sorted({d["budget_bpp"] for d in dna}):
        rows_b = [d for d in dna if d["budget_bpp"] == b]
        best = {cov: max((d["ms_ssim"] for d in rows_b if d["coverage"] == cov and d["fits"]), default=None)
                for cov in covs}
        for codec in [n for n in (*CODECS, "photo") if any(d["codec"] == n for d in rows_b)]:
            cells = []
            for cov in covs:
                r = next(d for d in rows_b if d["coverage"] == cov and d["codec"] == codec)
                c = cell(r)
                cells.append(f"**{c}**" if r["fits"] and r["ms_ssim"] == best[cov] else c)
            lines.append(f"| {b:g} bpp ({rows_b[0]['budget_nt']:,.0f} nt) | {codec} | " + " | ".join(cells) + " |")
    if channel:
        ccovs = sorted({d["coverage"] for d in channel})
        lines += ["", "The photo codec trained through the channel (`photo-dna`: latents erased as lost strands "
                  "erase them) against the same base model fine-tuned as long without it (`photo-plain`), at equal "
                  "nt, each at its best quality and redundancy for the coverage:", "",
                  "| budget | weights | " + " | ".join(f"coverage {c:g}" for c in ccovs) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in ccovs) + " |"]
        for b in sorted({d["budget_bpp"] for d in channel}):
            for name in PHOTO_WEIGHTS:
                cells = [cell(next(d for d in channel if d["budget_bpp"] == b and d["coverage"] == cov
                                   and d["codec"] == name)) for cov in ccovs]
                lines.append(f"| {b:g} bpp | {PHOTO_WEIGHTS[name]} | " + " | ".join(cells) + " |")
    update_readme(args.readme, "bench-photos", "\n".join(lines))


if __name__ == "__main__":
    main()
