"""The VAE decoder trained through the DNA channel against the shipped one, at equal nt.

    make bench-dna-decoder    # python pipelines/dna_decoder.py --out results/dna_decoder.json

The same VAEN 8-bit codes of ``--limit`` MNIST test images (the encoder is shared, so the
pools are the same strands) go through the simulated channel (``simulate``'s Illumina
preset, Twist synthesis), consensus and decode at coverage 1, 2 and 3, in three pools: the
Goldman-style code at 150 nt per image without an outer code (the paper's setting), and the
dense code without an outer code and with its default one. The codes that come back, with
their erasures, are decoded by the shipped VAE (``vae-mnist-k16``) and by the decoder
fine-tuned through the channel's erasures (``vae-mnist-k16-dna``, ``make train-dna``).
Classifier accuracy, PSNR and MS-SSIM, as in ``make bench-coverage``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--coverages", default="1,2,3")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--tuned", default="vae-mnist-k16-dna")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "dna_decoder.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, mnist_test_set, quality, update_readme, write_results

    from dnastore import __version__
    from dnastore.channel.dna import preset_params
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.codecs.weights import load_weights
    from dnastore.dna.approx import codes_from_payload, codes_payload
    from dnastore.stages.roundtrip import encode, transmit

    w, clf, x, y = mnist_test_set(args.limit)
    tuned = load_weights(args.tuned)
    n = len(x)
    mu, lv = compress(w, x)
    codes, attrs, side = quantize_latents(mu, lv, w, "vaen", 8, "mu", "binary")
    payload, extra = codes_payload(codes, attrs, side)
    pools = {"goldman, no outer code": encode(payload, extra, redundancy=0),
             "dense, no outer code": encode(payload, extra, redundancy=0, code="dense"),
             "dense, default outer code": encode(payload, extra, code="dense")}
    decoders = {"shipped": w, "through the channel": tuned}
    rows = []
    for pname, enc in pools.items():
        m = enc.manifest
        nt = m["n_strands"] * m["layout"]["strand_length"] / n
        for cov in (float(c) for c in args.coverages.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                got = transmit(enc, preset_params("illumina", coverage=cov), seed)
                c2, erased, sd, at = codes_from_payload(got.payload, got.erased, m)
                for dname, ww in decoders.items():
                    rec = reconstruct(ww, dequantize_codes(c2, at, sd, erased, ww)[0])
                    q = quality(x, y, rec, clf)
                    rows.append({"pool": pname, "nt_per_image": nt, "coverage": cov, "seed": seed, "decoder": dname,
                                 "erased": float(erased.mean()), **q})
                    print(f"{pname:27s} {nt:6.1f} nt/img  cov {cov:g} seed {seed}  erased {erased.mean():.3f}  "
                          f"{dname:20s} ACC {q['acc']:.3f}  PSNR {q['psnr']:.2f}  MS-SSIM {q['ms_ssim']:.3f}",
                          flush=True)
    res = {"benchmark": "dna_decoder", "version": __version__, "images": n, "tuned": tuned.digest,
           "tuned_meta": tuned.meta.get("decoder_tuned"), "rows": rows, "machine": machine()}
    write_results(args.out, res)
    covs = [float(c) for c in args.coverages.split(",")]
    lines = [f"VAEN 8-bit codes of {n:,} MNIST test images through the DNA channel (Illumina, Twist bias), the same "
             f"pools for both decoders; mean over seeds {args.seeds}: ACC / PSNR dB / MS-SSIM (share of codes erased).",
             "", "| pool | nt/image | decoder | " + " | ".join(f"coverage {c:g}" for c in covs) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in covs) + " |"]
    import numpy as np
    for pname in pools:
        for dname in decoders:
            cells = []
            for c in covs:
                rs = [r for r in rows if r["pool"] == pname and r["decoder"] == dname and r["coverage"] == c]
                cells.append(f"{np.mean([r['acc'] for r in rs]):.3f} / {np.mean([r['psnr'] for r in rs]):.2f} / "
                             f"{np.mean([r['ms_ssim'] for r in rs]):.3f} ({np.mean([r['erased'] for r in rs]):.0%})")
            nt = next(r["nt_per_image"] for r in rows if r["pool"] == pname)
            lines.append(f"| {pname} | {nt:.0f} | {dname} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if n >= 1000:
        update_readme(args.readme, "dna-decoder", table)


if __name__ == "__main__":
    main()
