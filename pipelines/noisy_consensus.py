"""Benchmark: consensus on indel-rich reads, strands recovered without the outer code
against coverage (issue 20's targets).

    make bench-noisy          # = python pipelines/noisy_consensus.py --out results/noisy_consensus.json

A random file (``--size`` bytes, 20 kB by default: 1,177 data strands of 150 nt, no outer
code) goes through ``simulate`` at each coverage (10, 20, 30, 50 and 100) on two channels,
for three seeds:

- ``nanopore``: the preset as it ships (3% substitutions, 2% insertions, 2.5% deletions,
  homopolymer-dependent indels, per-read accuracy spread, end profile, Twist synthesis);
- ``minion``: the same preset at MinION-like rates, 2.2% substitutions, 1.7% insertions
  and 2.0% deletions per base.

Then consensus as ``dnastore consensus`` runs it (library call, same code). A data strand
is recovered when a consensus sequence equals it exactly (so the figure owes nothing to the
outer code or to the strand check). Figures: recovered share, clusters per distinct strand
read, consensus time. Writes the results JSON, a plot beside it, and the README block
between the noisy-consensus markers.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = {
    "nanopore": {},
    "minion": {"sub": 0.022, "ins": 0.017, "dele": 0.020},
}


def run_one(enc, data_set: set[str], channel: str, coverage: float, seed: int) -> dict:
    from dnastore.channel.dna import format_fastq, preset_params, simulate_reads
    from dnastore.io.seqio import encode_bases
    from dnastore.stages.files import call_strands

    params = preset_params("nanopore", coverage=coverage, **CHANNELS[channel])
    lens = np.array([len(s) for s in enc.strands])
    mat = encode_bases("".join(enc.strands)).reshape(len(enc.strands), int(lens.max()))
    n_reads, weights, batches = simulate_reads(mat, lens, params, seed)
    read_src = []
    with tempfile.TemporaryDirectory(prefix="dnastore-noisy-") as tmp:
        fq = Path(tmp) / "reads.fastq"
        with open(fq, "wb") as f:
            for b in batches:
                f.write(format_fastq(b))
                read_src.append(b.source)
        t = time.perf_counter()
        called = call_strands(fq, enc.manifest)
        secs = time.perf_counter() - t
    src = np.concatenate(read_src)
    distinct_read = len({enc.strands[i] for i in np.unique(src)})
    data_read = len({enc.strands[i] for i in np.unique(src)} & data_set)
    got = {r[0] for r in called.strands}
    rec = len(got & data_set)
    return {"channel": channel, "coverage": coverage, "seed": seed, "reads": int(n_reads),
            "clusters": len(called.strands), "distinct_strands_read": distinct_read,
            "clusters_per_strand": len(called.strands) / max(distinct_read, 1),
            "data_strands": len(data_set), "data_strands_read": data_read, "recovered": rec,
            "recovered_share": rec / len(data_set), "missing": len(data_set) - rec, "consensus_s": secs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--coverages", default="10,20,30,50,100")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--channels", default="nanopore,minion")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "noisy_consensus.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--replot", type=Path, help="Render the table and plot from this results JSON, running nothing.")
    args = ap.parse_args()

    from common import machine, save_figure, update_readme, write_results

    from dnastore import __version__
    from dnastore.stages.roundtrip import encode

    covs = [float(c) for c in args.coverages.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.replot:
        old = json.loads(args.replot.read_text())
        rows, n_data, covs, seeds, args.size = old["rows"], old["data_strands"], old["coverages"], old["seeds"], old["size"]
        args.channels = ",".join(dict.fromkeys(r["channel"] for r in rows))
    else:
        payload = np.random.default_rng(20).integers(0, 256, args.size).astype(np.uint8).tobytes()
        enc = encode(payload, {})
        n_data = enc.manifest["n_data_strands"]
        data_set = set(enc.strands[:n_data])
        rows = []
        for ch in args.channels.split(","):
            for seed in seeds:
                for c in covs:
                    r = run_one(enc, data_set, ch, c, seed)
                    rows.append(r)
                    print(f"{ch:9s} seed {seed} coverage {c:5g}: {r['recovered']:5d}/{r['data_strands']} recovered "
                          f"({100 * r['recovered_share']:.2f}%), {r['clusters_per_strand']:.3f} clusters/strand, "
                          f"{r['consensus_s']:.1f} s", flush=True)
    res = old if args.replot else {"size": args.size, "data_strands": n_data, "coverages": covs, "seeds": seeds, "rows": rows,
           "machine": machine(), "version": __version__,
           "targets": {"recovered_share_at_20": 0.99, "non_decreasing_10_to_100": True,
                       "clusters_per_strand_at_20_nanopore": 1.1}}
    checks = {}
    for ch in args.channels.split(","):
        per_seed = {s: [r["recovered_share"] for r in rows if r["channel"] == ch and r["seed"] == s] for s in seeds}
        at20 = [r["recovered_share"] for r in rows if r["channel"] == ch and r["coverage"] == 20]
        cps20 = [r["clusters_per_strand"] for r in rows if r["channel"] == ch and r["coverage"] == 20]
        checks[ch] = {"min_recovered_at_20": min(at20) if at20 else None,
                      "non_decreasing": all(all(b >= a for a, b in zip(v, v[1:])) for v in per_seed.values()),
                      "max_clusters_per_strand_at_20": max(cps20) if cps20 else None}
    res["checks"] = checks
    write_results(args.out, res)
    print(json.dumps(checks, indent=1))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ch, color in zip(args.channels.split(","), ("tab:blue", "tab:orange")):
        for s in seeds:
            pts = [(r["coverage"], r) for r in rows if r["channel"] == ch and r["seed"] == s]
            axes[0].plot([c for c, _ in pts], [100 * r["recovered_share"] for _, r in pts], "o-", color=color,
                         alpha=0.7, label=f"{ch}" if s == seeds[0] else None)
            axes[1].plot([c for c, _ in pts], [r["clusters_per_strand"] for _, r in pts], "o-", color=color,
                         alpha=0.7, label=f"{ch}" if s == seeds[0] else None)
    axes[0].axhline(99, color="grey", ls="--", lw=1)
    axes[0].set(xscale="log", xlabel="mean coverage", ylabel="data strands recovered, no outer code (%)",
                title=f"{args.size // 1000} kB file, {len(seeds)} seeds")
    axes[1].axhline(1.1, color="grey", ls="--", lw=1)
    axes[1].set(xscale="log", xlabel="mean coverage", ylabel="clusters per distinct strand read")
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, args.out.with_suffix(".png"))

    lines = [f"`make bench-noisy`: a {args.size // 1000} kB random file ({n_data:,} data strands, no outer code), "
             f"seeds {', '.join(map(str, seeds))}; recovered = a consensus equals the strand exactly. "
             f"Plot: `examples/figures/{args.out.with_suffix('.png').name}`.", "",
             "| channel | coverage | recovered (min-max over seeds) | clusters per strand (max) | consensus time |",
             "| --- | --- | --- | --- | --- |"]
    for ch in args.channels.split(","):
        for c in covs:
            rs = [r for r in rows if r["channel"] == ch and r["coverage"] == c]
            lo, hi = min(r["recovered_share"] for r in rs), max(r["recovered_share"] for r in rs)
            lines.append(f"| {ch} | {c:g} | {100 * lo:.2f}-{100 * hi:.2f}% | "
                         f"{max(r['clusters_per_strand'] for r in rs):.3f} | "
                         f"{np.mean([r['consensus_s'] for r in rs]):.1f} s |")
    update_readme(args.readme, "noisy-consensus", "\n".join(lines))


if __name__ == "__main__":
    main()
