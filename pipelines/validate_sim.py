"""Validation: ``dnastore simulate`` against dt4dds on the same oligos, preset by preset.

    make validate-sim        # = python pipelines/validate_sim.py --out results/validate_sim.json

dt4dds (Gimpel et al. 2023) is the peer whose parameters were fitted to wet-lab runs; our
presets take its values. Here both simulators run the same workflow on the same oligos (a
random file's 150-nt strands, ``--strands`` of them, coverage ``--coverage``), and one
analyser measures both read sets the same way:

- each read is mapped to its source strand by 12-mer votes (no truth file is used, so the
  two sets are treated alike), cut where the 3' adapter starts (dt4dds reads run past the
  molecule into the adapter and then random padding; ours end with the molecule), and
  aligned to the source (edlib, global);
- **error mix**: substitutions, insertions and deletions per reference base;
- **per-position profile**: each kind's rate at each reference position;
- **coverage**: reads per strand over the mean (coefficient of variation, shares of strands under
  half and over 1.5 times the mean) and dropout (strands with no read);
- **length**: the molecule part of each read (its length after the adapter cut).

Workflows (ours: the options shown; dt4dds: its settings of the same name):

- ``twist``: Twist synthesis, iSeq100 read 1 (``--preset iseq100``);
- ``photolithographic``: photolithographic synthesis (truncated products, 2% substitutions,
  1.4% insertions, 6.8% deletions), iSeq100 (``--synthesis photolithographic``);
- ``pcr``: Twist, 20 template molecules per strand, 30 cycles of Taq PCR, iSeq100
  (``--copies 20 --pcr-cycles 30``);
- ``aging``: Twist, 50 molecules per strand, two half-lives of decay (breakage), 20 cycles
  of PCR, iSeq100 (``--copies 50 --halflives 2 --pcr-cycles 20``). dt4dds breaks the
  adapters too (its molecules carry them through aging), ours only the oligo: its intact
  share is lower, the same for every strand.

Each figure must lie within the tolerance stated in ``TOLERANCE``; the JSON records every
figure and check, the plot shows the two side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dnastore.io.seqio import revcomp as rc
from dnastore.peers import (  # the Illumina adapters the peers run with
    ADAPTER_3,
    ADAPTER_5,
)

ROOT = Path(__file__).resolve().parent.parent
TAIL = 8  # bases a read runs on into the 3' adapter (dt4dds' iSeq100 profile ends at cycle 158)

CASES = {
    "twist": dict(ours=dict(), dt=dict(synthesis="Twist")),
    "photolithographic": dict(ours=dict(synthesis="photolithographic"), dt=dict(synthesis="Photolithographic")),
    "pcr": dict(ours=dict(copies=20, pcr_cycles=30), dt=dict(synthesis="Twist", copies=20, pcr_cycles=30)),
    "aging": dict(ours=dict(copies=50, halflives=2.0, pcr_cycles=20),
                  dt=dict(synthesis="Twist", copies=50, halflives=2.0, pcr_cycles=20)),
}
# |ours - dt4dds| allowed: relative share of dt4dds' figure plus an absolute floor
TOLERANCE = {
    "rate": (0.20, 2e-4),        # substitutions, insertions, deletions per base
    "profile_bin": (0.25, 5e-4),  # total error rate in each tenth of the strand
    "coverage_cv": (0.15, 0.02),
    "coverage_low": (0.15, 0.02),   # share of strands under half the mean coverage
    "coverage_high": (0.15, 0.02),  # share over 1.5 times the mean
    "dropout": (0.0, 0.01),
    "length_mean": (0.0, 1.5),
    "length_sd": (0.25, 0.5),
}


def dt4dds_reads(oligos: list[str], work: Path, n_reads: int, seed: int, synthesis: str, copies: float = 200,
                 pcr_cycles: int = 0, halflives: float = 0.0) -> list[str]:
    import dt4dds
    from dt4dds.helpers import config, tools
    config.show_progressbars = False
    random.seed(seed)
    np.random.seed(seed)
    tools.rng = np.random.default_rng(seed)
    dt4dds.properties.set_property_settings(dt4dds.settings.defaults.SequenceProperties(
        efficiency_distribution="normal", efficiency_params={"loc": 1.0, "scale": 0.0051}))
    L = len(oligos[0])
    syn = dt4dds.processes.ArraySynthesis(getattr(dt4dds.settings.defaults, f"ArraySynthesis_{synthesis}")())
    # the adapters (with the PCR primer sites) are part of the molecule from synthesis on only
    # where PCR or aging needs them; else they are ligated after synthesis, so that synthesis
    # errors and truncation hit the oligo as in our model
    with_adapters = pcr_cycles > 0
    seqs = [ADAPTER_5 + o + rc(ADAPTER_3) if with_adapters else o for o in oligos]
    syn.process([dt4dds.datastructures.Seq(s) for s in seqs])
    pool = syn.sample_by_counts(len(oligos) * copies)
    if halflives > 0:
        pool.is_doublestranded = False
        aging = dt4dds.processes.Aging(dt4dds.settings.defaults.Aging(
            breakage_enabled=True, breakage_ref_length=L), n_halflives=halflives)
        pool = aging.process(pool)
    if not with_adapters:
        from dt4dds.helpers.generators import attach_primers_to_pool
        pool = attach_primers_to_pool(pool, ADAPTER_5, ADAPTER_3)
    if pcr_cycles > 0:
        pcr = dt4dds.processes.PCR(dt4dds.settings.defaults.PCR_Taq(primers=[ADAPTER_5, ADAPTER_3],
                                                                     n_cycles=pcr_cycles, template_volume=None))
        pool = pcr.process(pool)
    # dt4dds 1.1.0 scales a read's substitution rate by the mean of its per-cycle profile
    # after normalising the profile to sum one (helpers/errorgenerator.py, lines 95-96 and
    # 165-166), so iSeq100's fitted 0.1123% comes out as 0.1123% / 158 = 0.0007%; it gets the
    # rate times the profile's length, so that it applies the fitted rate the paper reports
    iseq = dt4dds.settings.defaults.iSeq100()
    scale = len(iseq.substitution_length_bias[0])
    seq = dt4dds.processes.SBSSequencing(dt4dds.settings.defaults.iSeq100(
        output_directory=str(work), n_reads=n_reads, read_length=L + TAIL, read_mode="single-end",
        substitution_rates=[r * scale for r in iseq.substitution_rates]))
    seq.process(pool)
    import gzip
    with gzip.open(work / "R1.fq.gz", "rt") as f:
        lines = f.read().split("\n")
    return [lines[i] for i in range(1, len(lines), 4) if lines[i]]


def ours_reads(oligos: list[str], coverage: float, seed: int, **kw) -> list[str]:
    from dnastore.channel.dna import preset_params, simulate_reads
    from dnastore.io.seqio import encode_bases
    params = preset_params("iseq100", coverage=coverage, **kw)
    lens = np.array([len(o) for o in oligos])
    mat = encode_bases("".join(oligos)).reshape(len(oligos), int(lens.max()))
    _, _, batches = simulate_reads(mat, lens, params, seed)
    out = []
    for b in batches:
        seqs = b.seqs
        for j in range(len(b.lens)):
            # a sequencer reads on into the adapter past the molecule's end, as dt4dds' reads do
            out.append("".join("ACGTN"[c] for c in seqs[j, :b.lens[j]]) + rc(ADAPTER_3)[:TAIL])
    return out


def analyse(reads: list[str], oligos: list[str], k: int = 12) -> dict:
    """The figures of a read set against its oligos (see the module text)."""
    import edlib
    index: dict[str, int] = {}
    for i, o in enumerate(oligos):
        for j in range(0, len(o) - k + 1):
            index.setdefault(o[j:j + k], i)
    L = len(oligos[0])
    n = len(oligos)
    cover = np.zeros(n, dtype=np.int64)
    prof = np.zeros((3, L))            # sub, ins, del per reference position
    bases = 0
    lengths = []
    unmapped = 0
    tail = rc(ADAPTER_3)[:TAIL]
    for r in reads:
        votes: dict[int, int] = {}
        for j in range(0, len(r) - k + 1, 4):
            s = index.get(r[j:j + k])
            if s is not None:
                votes[s] = votes.get(s, 0) + 1
        if not votes:
            unmapped += 1
            continue
        src = max(votes, key=votes.get)
        cover[src] += 1
        ref = oligos[src]
        # the strand and the adapter's first bases against the read, whose end (the random
        # padding dt4dds adds past the adapter) is free
        a = edlib.align(ref + tail, r, mode="SHW", task="path")
        i = jj = 0
        mol = None  # read bases up to the strand's end: the molecule's length
        for num, op in _ops(a["cigar"]):
            if op in "=X":
                take = max(0, min(num, L - jj))
                if op == "X":
                    prof[0, jj:jj + take] += 1
                if mol is None and jj + num >= L:
                    mol = i + (L - jj)
                i += num
                jj += num
            elif op == "D":   # a read base the strand lacks: an insertion
                if jj < L:
                    prof[1, jj] += num
                i += num
            else:             # "I": strand bases the read lacks: deletions
                take = max(0, min(num, L - jj))
                prof[2, jj:jj + take] += 1
                if mol is None and jj + num >= L:
                    mol = i
                jj += num
        if mol is None:
            mol = i
        lengths.append(mol)
        bases += L
    mapped = max(len(reads) - unmapped, 1)
    rel = cover / max(cover.mean(), 1e-12)
    lengths = np.array(lengths)
    per_pos = prof / max(mapped, 1)
    return {"reads": len(reads), "unmapped": unmapped,
            "rates": {"sub": prof[0].sum() / max(bases, 1), "ins": prof[1].sum() / max(bases, 1),
                      "del": prof[2].sum() / max(bases, 1)},
            "profile": per_pos.tolist(),
            "profile_bins": [float(x) for x in per_pos.sum(0).reshape(10, -1).mean(1)] if L % 10 == 0 else
            [float(x.mean()) for x in np.array_split(per_pos.sum(0), 10)],
            "coverage_cv": float(rel.std()), "coverage_low": float((rel < 0.5).mean()),
            "coverage_high": float((rel > 1.5).mean()), "dropout": float((cover == 0).mean()),
            "coverage_hist": np.histogram(rel, bins=30, range=(0, 3))[0].tolist(),
            "length_mean": float(lengths.mean()) if len(lengths) else 0.0,
            "length_sd": float(lengths.std()) if len(lengths) else 0.0,
            "length_hist": np.bincount(np.clip(lengths, L - 40, L + 10) - (L - 40), minlength=51).tolist()}


def _ops(cigar: str | None):
    import re
    return [(int(n), op) for n, op in re.findall(r"(\d+)([=XID])", cigar or "")]


def check(ours: dict, dt: dict) -> dict:
    out = {}

    def ok(name: str, a: float, b: float) -> dict:
        rel, floor = TOLERANCE[name]
        lim = rel * abs(b) + floor
        return {"ours": a, "dt4dds": b, "limit": lim, "pass": bool(abs(a - b) <= lim)}
    for t in ("sub", "ins", "del"):
        out[f"rate_{t}"] = ok("rate", ours["rates"][t], dt["rates"][t])
    for i, (a, b) in enumerate(zip(ours["profile_bins"], dt["profile_bins"])):
        out[f"profile_bin_{i}"] = ok("profile_bin", a, b)
    for name in ("coverage_cv", "coverage_low", "coverage_high", "dropout", "length_mean", "length_sd"):
        out[name] = ok(name, ours[name], dt[name])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strands", type=int, default=2000)
    ap.add_argument("--coverage", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "validate_sim.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, save_figure, update_readme, write_results

    from dnastore import __version__, peers
    if not peers.have_dt4dds():
        sys.exit("dt4dds is not installed: run `make peers` first")
    rng = np.random.default_rng(args.seed)
    # strands as the oligo code writes them: no homopolymer (each base differs from the last)
    mat = np.zeros((args.strands, 150), dtype=np.int64)
    mat[:, 0] = rng.integers(0, 4, args.strands)
    for j in range(1, 150):
        mat[:, j] = (mat[:, j - 1] + 1 + rng.integers(0, 3, args.strands)) % 4
    oligos = ["".join("ACGT"[c] for c in row) for row in mat]
    n_reads = int(args.strands * args.coverage)
    res = {"strands": args.strands, "coverage": args.coverage, "seed": args.seed, "tolerance": TOLERANCE,
           "cases": {}, "machine": machine(), "version": __version__}
    for name in args.cases.split(","):
        case = CASES[name]
        t = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="dnastore-val-") as tmp:
            dreads = dt4dds_reads(oligos, Path(tmp), n_reads, args.seed, **case["dt"])
        t_dt = time.perf_counter() - t
        t = time.perf_counter()
        oreads = ours_reads(oligos, args.coverage, args.seed, **case["ours"])
        t_ours = time.perf_counter() - t
        a_ours, a_dt = analyse(oreads, oligos), analyse(dreads, oligos)
        checks = check(a_ours, a_dt)
        passed = sum(c["pass"] for c in checks.values())
        res["cases"][name] = {"ours": a_ours, "dt4dds": a_dt, "checks": checks, "passed": passed,
                              "total": len(checks), "seconds": {"ours": t_ours, "dt4dds": t_dt}}
        print(f"{name}: {passed}/{len(checks)} within tolerance "
              f"(ours {t_ours:.1f} s, dt4dds {t_dt:.1f} s)", flush=True)
        for cname, c in checks.items():
            if not c["pass"]:
                print(f"   {cname}: ours {c['ours']:.5g} dt4dds {c['dt4dds']:.5g} (limit {c['limit']:.3g})")
    write_results(args.out, res)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(res["cases"])
    fig, axes = plt.subplots(len(names), 3, figsize=(14, 3.2 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        c = res["cases"][name]
        for who, style in (("ours", "-"), ("dt4dds", "--")):
            p = np.array(c[who]["profile"])
            for t, color in zip(range(3), ("tab:blue", "tab:orange", "tab:green")):
                row[0].plot(p[t], style, color=color, lw=1,
                            label=f"{who} {('sub', 'ins', 'del')[t]}")
            row[1].step(np.linspace(0, 3, 31)[:-1], c[who]["coverage_hist"], style, where="post", label=who)
            lo = len(oligos[0]) - 40
            row[2].step(np.arange(lo, lo + 51), c[who]["length_hist"], style, where="mid", label=who)
        row[0].set(title=f"{name}: error per position", xlabel="reference position", ylabel="rate", yscale="log")
        row[1].set(title="reads per strand / mean", xlabel="relative coverage", ylabel="strands")
        row[2].set(title="molecule length in reads", xlabel="nt", ylabel="reads", yscale="log")
        for ax in row:
            ax.legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, args.out.with_suffix(".png"))

    lines = [f"`make validate-sim`: {args.strands:,} strands of 150 nt at coverage {args.coverage:g}, seed {args.seed}; "
             f"plot `examples/figures/{args.out.with_suffix('.png').name}`. Tolerances: rates 20% + 2e-4, profile tenths "
             "25% + 5e-4, coverage CV and the shares under 0.5x and over 1.5x the mean 15% + 0.02, dropout 1 point, length mean 1.5 nt, "
             "sd 25% + 0.5.", "",
             "| workflow | sub / ins / del per base, ours | dt4dds | coverage CV ours / dt4dds | dropout ours / dt4dds "
             "| length mean ours / dt4dds | checks passed |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        c = res["cases"][name]
        o, d = c["ours"], c["dt4dds"]

        def r3(a):
            return " / ".join(f"{100 * a['rates'][t]:.3f}%" for t in ("sub", "ins", "del"))
        lines.append(f"| {name} | {r3(o)} | {r3(d)} | {o['coverage_cv']:.3f} / {d['coverage_cv']:.3f} | "
                     f"{100 * o['dropout']:.2f}% / {100 * d['dropout']:.2f}% | {o['length_mean']:.1f} / "
                     f"{d['length_mean']:.1f} | {c['passed']}/{c['total']} |")
    update_readme(args.readme, "validate-sim", "\n".join(lines))
    print(json.dumps({n: f"{res['cases'][n]['passed']}/{res['cases'][n]['total']}" for n in names}))


if __name__ == "__main__":
    main()
