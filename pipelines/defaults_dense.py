"""Defaults that keep the data, for the dense code (the default oligo code): its outer code is
sized to a strand loss, and this measures that the loss it covers is the channel's.

    make bench-defaults-dense   # python pipelines/defaults_dense.py --out results/defaults_dense.json

On the default channel (``simulate``'s Illumina preset with Twist-like synthesis bias):

1. Strand loss without an outer code: a random file of ``--probe-bytes`` in the dense code
   through simulate, consensus and decode at each coverage, ``--seeds`` seeds; the fraction
   of data strands that do not come back.
2. Files: the outer code the dense code writes by default (each RS block gets the fewest
   parity strands for which losing more, at ``DENSE_FILE_LOSS`` per strand, has probability
   below ``DENSE_EPS``, and below ``DENSE_EPS_FILE`` over the whole file), and the chance that some block of a 1 kB to 10 MB file loses more
   strands than its parity, from the binomial law at the worst loss measured at coverage 5
   and at 1.25 times it.
3. End to end with the default: files of 1 kB to 1 MB at coverage 5, 6, 8 and 10, and
   ``--max-bytes`` (10 MB) at coverage 5, ``--seeds`` seeds each, must come back
   byte-identical.
4. Images: the VAE (VAEN 8-bit, mu) on ``--images`` MNIST test images at coverage 2,
   ``--seeds`` seeds, with outer codes sized to strand losses of ``--image-losses``;
   classifier accuracy against the error-free codes. The default is the smallest loss within
   0.01 ACC of error-free in every seed.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def encode(data: bytes, extra: dict, loss: float | None = None, redundancy: float | None = None):
    """The dense code at 240 nt: its default outer code (sized to ``loss`` where given), or a
    share ``redundancy`` (0: none)."""
    from dnastore.dna.codec import DEFAULT_PRIMERS
    from dnastore.dna.codes import get_code
    return get_code("dense").encode(data, strand_length=240, primers=DEFAULT_PRIMERS, unit=1, redundancy=redundancy,
                                    extra=extra, precise=extra.get("mode") == "file", loss=loss)


def block_failure(n_data: int, loss: float, p: float) -> float:
    """Chance that some block of the default plan for ``n_data`` strands (sized to ``loss``)
    loses more than its parity when each strand is lost with probability ``p``."""
    from dnastore.dna.outer import DENSE_EPS, DENSE_EPS_FILE, binom_tail, plan_for_loss
    plan = plan_for_loss(n_data, loss, DENSE_EPS, DENSE_EPS_FILE)
    ok = 1.0
    for _, k in plan.blocks:
        ok *= 1.0 - binom_tail(plan.nsym, k + plan.nsym, p)
    return max(0.0, 1.0 - ok)


def readme_tables(res: dict) -> str:
    covs = sorted(res["strand_loss"], key=float)
    out = ["Dense code, strand loss without an outer code (a 1 MB random file, "
           f"{len(next(iter(res['strand_loss'].values())))} seeds):", "",
           "| coverage | " + " | ".join(f"{float(c):g}" for c in covs) + " |",
           "| --- | " + " | ".join("---" for _ in covs) + " |",
           "| data strands lost | " + " | ".join(
               f"{min(res['strand_loss'][c]):.2%}-{max(res['strand_loss'][c]):.2%}" for c in covs) + " |", "",
           f"The default outer code covers {res['file_loss']:.1%} lost strands, each block failing below {res['eps']:g} "
           f"and the file below {res.get('eps_file', 0):g}; "
           f"the chance that a file loses a block, at the worst loss measured at coverage 5 "
           f"({res['p5']:.2%}) and at 1.25 times it:", "",
           "| file | data strands | parity strands | at the measured loss | at 1.25 x |", "| --- | --- | --- | --- | --- |"]
    for row in res["file_model"]:
        out.append(f"| {row['bytes']:,} bytes | {row['data']:,} | {row['parity']:,} | {row['failure']:.2g} | "
                   f"{row['failure_125']:.2g} |")
    out += ["", "| file | coverage 5 | 6 | 8 | 10 |", "| --- | --- | --- | --- | --- |"]
    for size in sorted({e["bytes"] for e in res["file_end_to_end"]}):
        cells = []
        for cov in (5.0, 6.0, 8.0, 10.0):
            runs = [e for e in res["file_end_to_end"] if e["bytes"] == size and e["coverage"] == cov]
            cells.append(f"{sum(e['identical'] for e in runs)}/{len(runs)} identical" if runs else "-")
        out.append(f"| {size:,} bytes | " + " | ".join(cells) + " |")
    im = res["images"]
    out += ["", f"Images: {im['count']:,} MNIST test images, the VAE with VAEN 8-bit codes, dense code, coverage 2, "
            f"error-free ACC {im['error_free_acc']:.4f}:", "",
            "| outer code sized to a loss of | strands | nt per image | ACC at coverage 2 (per seed) |",
            "| --- | --- | --- | --- |"]
    for r, row in im["rows"].items():
        out.append(f"| {float(r):.0%} | {row['strands']:,} | {row['nt_per_image']:.0f} | "
                   + ", ".join(f"{a:.4f}" for a in row["acc"]) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--probe-bytes", type=int, default=1_000_000)
    ap.add_argument("--probe-coverages", default="3,4,5,6,8,10")
    ap.add_argument("--max-bytes", type=int, default=10_000_000)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--image-losses", default="0.05,0.1,0.15,0.2,0.3")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "defaults_dense.json")
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
    from dnastore.dna.outer import (
        DENSE_EPS,
        DENSE_EPS_FILE,
        DENSE_FILE_LOSS,
        plan_for_loss,
    )

    t0 = time.time()
    res: dict = {"version": __version__, "machine": machine(), "channel": "illumina preset, twist synthesis",
                 "file_loss": DENSE_FILE_LOSS, "eps": DENSE_EPS, "eps_file": DENSE_EPS_FILE}
    rng = np.random.default_rng(0)
    probe = rng.integers(0, 256, args.probe_bytes, dtype=np.uint8).tobytes()
    enc = encode(probe, {"mode": "file"}, redundancy=0)
    loss = strand_loss(enc, [float(c) for c in args.probe_coverages.split(",")], args.seeds)
    res["strand_loss"] = loss
    p5 = max(loss.get("5.0", [DENSE_FILE_LOSS]))
    res["p5"] = p5
    per_strand = enc.manifest["bytes_per_strand"]
    model = []
    for size in (1_000, 10_000, 100_000, 1_000_000, 10_000_000):
        n = max(1, math.ceil(size / per_strand))
        plan = plan_for_loss(n, DENSE_FILE_LOSS, DENSE_EPS, DENSE_EPS_FILE)
        model.append({"bytes": size, "data": n, "parity": plan.n_parity,
                      "failure": block_failure(n, DENSE_FILE_LOSS, p5),
                      "failure_125": block_failure(n, DENSE_FILE_LOSS, min(0.49, 1.25 * p5))})
        print(f"{size:,} bytes: {n} data + {plan.n_parity} parity strands; failure at {p5:.2%} loss "
              f"{model[-1]['failure']:.2g}, at 1.25x {model[-1]['failure_125']:.2g}", flush=True)
    res["file_model"] = model

    ends = files_end_to_end(lambda data: encode(data, {"mode": "file"}), rng, args.max_bytes, args.seeds,
                            lambda size: (5.0, 6.0, 8.0, 10.0) if size <= 1_000_000 else (5.0,))
    res["file_end_to_end"] = ends

    w, clf, y, clean, payload, extra = mnist_codes(args.images)
    rows = {}
    for lo in (float(v) for v in args.image_losses.split(",")):
        e = encode(payload, extra, loss=lo)
        accs = accuracy_through(e, w, clf, y, 2.0, args.seeds)
        n = e.manifest["n_strands"]
        rows[str(lo)] = {"acc": accs, "strands": n, "nt_per_image": n * 240 / args.images}
        print(f"images, loss {lo}: {n} strands, ACC {', '.join(f'{a:.4f}' for a in accs)} (error-free {clean:.4f})",
              flush=True)
    image_default = next((lo for lo in rows if clean - min(rows[lo]["acc"]) <= 0.01), None)
    res["images"] = {"count": args.images, "error_free_acc": clean, "coverage": 2.0, "rows": rows,
                     "image_default_loss": image_default}
    res["seconds"] = time.time() - t0
    print(f"image default loss: {image_default}", flush=True)
    write_results(args.out, res)
    print(f"wrote {args.out}")
    update_readme(args.readme, "defaults-dense", readme_tables(res))


if __name__ == "__main__":
    main()
