"""Defaults that keep the data: how much outer code precise mode and images get by default.

    make bench-defaults        # python pipelines/defaults.py --out results/defaults.json

On the default channel (`simulate`'s Illumina preset with Twist-like synthesis bias):

1. Strand loss without an outer code: a random file of ``--probe-bytes`` through
   oligo-encode, simulate, consensus and oligo-decode at each coverage, ``--seeds`` seeds; the
   fraction of data strands that do not come back.
2. Files: for each candidate redundancy, the chance that some Reed-Solomon block of a file
   (:func:`dnastore.stages.plan.file_failure`, 16 bytes a strand)
   loses more strands than it has parity, from the binomial law at the worst measured loss
   rate at coverage 5 (times 1.5, for margin), for files of 1 kB to 10 MB. The default is
   the smallest candidate that keeps that chance under 1e-6 at every size.
3. End to end with that default: files of 1 kB to ``--max-bytes`` at coverage 5, 6, 8 and 10,
   ``--seeds`` seeds each, must come back byte-identical.
4. Images: the default image codec (the VAE, VAEN 8-bit, mu) on ``--images`` MNIST test
   images at coverage 2, ``--seeds`` seeds, for each candidate redundancy; classifier
   accuracy against the error-free codes. The default is the smallest candidate within 0.01
   ACC of error-free in every seed.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FILE_CANDIDATES = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]
IMAGE_CANDIDATES = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]


def readme_tables(res: dict) -> dict[str, str]:
    """The README blocks of a results JSON."""
    covs = sorted(res["strand_loss"], key=float)
    loss = "\n".join(["| coverage | " + " | ".join(f"{float(c):g}" for c in covs) + " |",
                      "| --- | " + " | ".join("---" for _ in covs) + " |",
                      "| data strands lost (3 seeds) | " + " | ".join(
                          f"{min(res['strand_loss'][c]):.2%}-{max(res['strand_loss'][c]):.2%}" for c in covs) + " |"])
    rows = ["| file | coverage 5 | 6 | 8 | 10 |", "| --- | --- | --- | --- | --- |"]
    for size in sorted({e["bytes"] for e in res["file_end_to_end"]}):
        cells = []
        for cov in (5.0, 6.0, 8.0, 10.0):
            runs = [e for e in res["file_end_to_end"] if e["bytes"] == size and e["coverage"] == cov]
            cells.append(f"{sum(e['identical'] for e in runs)}/{len(runs)} identical")
        rows.append(f"| {size:,} bytes, redundancy {res['file_default']:g} | " + " | ".join(cells) + " |")
    im = res["images"]
    rows += ["", f"Images: {im['count']:,} MNIST test images, the VAE with VAEN 8-bit codes, coverage 2, "
             f"error-free ACC {im['error_free_acc']:.4f}:", "",
             "| outer redundancy | strands | ACC at coverage 2 (3 seeds) |", "| --- | --- | --- |"]
    for r, row in im["rows"].items():
        rows.append(f"| {float(r):g} | {row['strands']:,} | " + ", ".join(f"{a:.4f}" for a in row["acc"]) + " |")
    return {"defaults-loss": loss, "defaults-end-to-end": "\n".join(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--probe-bytes", type=int, default=1_000_000)
    ap.add_argument("--probe-coverages", default="3,4,5,6,8,10")
    ap.add_argument("--max-bytes", type=int, default=10_000_000)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "defaults.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import (
        accuracy_through,
        files_end_to_end,
        machine,
        mnist_codes,
        strand_loss,
        update_readme,
        write_results,
    )

    from dnastore import __version__
    from dnastore.dna.codec import Layout
    from dnastore.stages.roundtrip import encode

    t0 = time.time()
    res: dict = {"version": __version__, "machine": machine(), "channel": "illumina preset, twist synthesis"}
    rng = np.random.default_rng(0)
    probe = rng.integers(0, 256, args.probe_bytes, dtype=np.uint8).tobytes()
    enc = encode(probe, {"mode": "file"}, Layout())
    loss = strand_loss(enc, [float(c) for c in args.probe_coverages.split(",")], args.seeds)
    res["strand_loss"] = loss
    p5 = 1.5 * max(loss["5.0"]) if "5.0" in loss else None
    sizes = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    from dnastore.stages.plan import file_failure
    table = {str(r): {str(s): file_failure(max(1, math.ceil(s / 16)), r, p5) for s in sizes} for r in FILE_CANDIDATES}
    res["file_failure_model"] = {"p": p5, "table": table}
    file_default = next(r for r in FILE_CANDIDATES if max(table[str(r)].values()) < 1e-6)
    res["file_default"] = file_default
    print(f"file default: {file_default} (model, p = {p5:.4%} at coverage 5)", flush=True)

    # end to end with the default
    ends = files_end_to_end(lambda data: encode(data, {"mode": "file"}, Layout(), redundancy=file_default), rng,
                            args.max_bytes, args.seeds, lambda size: (5.0, 6.0, 8.0, 10.0))
    res["file_end_to_end"] = ends

    # images
    w, clf, y, clean, payload, extra = mnist_codes(args.images)
    rows = {}
    for r in IMAGE_CANDIDATES:
        e = encode(payload, extra, Layout(), redundancy=r or None)
        accs = accuracy_through(e, w, clf, y, 2.0, args.seeds)
        rows[str(r)] = {"acc": accs, "strands": e.manifest["n_strands"]}
        print(f"images, redundancy {r}: ACC {', '.join(f'{a:.4f}' for a in accs)} (error-free {clean:.4f})",
              flush=True)
    image_default = next(r for r in IMAGE_CANDIDATES if clean - min(rows[str(r)]["acc"]) <= 0.01)
    res["images"] = {"count": args.images, "error_free_acc": clean, "coverage": 2.0, "rows": rows,
                     "image_default": image_default}
    res["image_default"] = image_default
    res["seconds"] = time.time() - t0
    print(f"image default: {image_default}", flush=True)
    write_results(args.out, res)
    print(f"wrote {args.out}")
    for marker, text in readme_tables(res).items():
        update_readme(args.readme, marker, text)


if __name__ == "__main__":
    main()
