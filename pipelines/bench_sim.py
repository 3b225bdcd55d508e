"""Benchmark: the DNA simulator against peers, and consensus + decode throughput.

    make bench-sim        # = python pipelines/bench_sim.py --out results/bench_sim.json

20,000 oligos of 150 nt (a random payload, no outer code) are sequenced to coverage 10
(200,000 reads) by ``dnastore simulate`` (Illumina preset), by dt4dds (Twist array synthesis
then iSeq100 sequencing) and by BBMap's randomreads, each as a whole command timed in the
same run, so the ratios hold on a shared, noisy machine. Each command runs ``--repeats``
times (3) and its best time counts, the same for every tool; all times go to the JSON. Then
``dnastore consensus`` and ``dnastore oligo-decode`` run on our reads, timed the same way;
their wall time gives reads per second.

The figures go to the results JSON and into README.md between the bench-sim markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# the console script users run (``python -m dnastore.cli`` imports the CLI module twice)
_SCRIPT = Path(sys.executable).with_name("dnastore")
DNASTORE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "dnastore.cli"]


def sh(cmd: list[str], **kw) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    return time.perf_counter() - t


def best(res: dict, name: str, fn, repeats: int) -> float:
    """Run ``fn`` (which returns seconds) ``repeats`` times; keep every time, return the best."""
    runs = [fn() for _ in range(repeats)]
    res.setdefault("runs", {})[name] = runs
    return min(runs)


def make_oligos(work: Path, n_strands: int, seed: int) -> Path:
    """A random payload sized so that the encoding has exactly ``n_strands`` strands."""
    from dnastore.dna.codec import Layout, encode_payload
    rng = np.random.default_rng(seed)
    size = n_strands * 16
    for _ in range(8):
        data = rng.integers(0, 256, size).astype(np.uint8).tobytes()
        man = encode_payload(data, Layout()).manifest
        if man["n_strands"] == n_strands:
            break
        size = n_strands * man["bytes_per_strand"]
    else:
        raise SystemExit("could not size the payload to the strand count")
    (work / "payload.bin").write_bytes(data)
    sh(DNASTORE + ["oligo-encode", str(work / "payload.bin"), "-o", str(work / "oligos.fasta"), "--force",
                    "--outer-redundancy", "0"])  # the bench times 20,000 data strands (and the ~80 header strands)
    return work / "oligos.fasta"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strands", type=int, default=20_000)
    ap.add_argument("--coverage", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each timed command; the best counts")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_sim.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    # byte-compile the package, as pip does when it installs one: an editable install under
    # PYTHONDONTWRITEBYTECODE (set on the development machine) would otherwise recompile every
    # dnastore module in every command, some 50 ms each time
    import dnastore
    from dnastore import peers
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(dnastore.__file__).parent)], check=True)
    res: dict = {"strands": args.strands, "strand_length": 150, "coverage": args.coverage,
                 "reads": int(round(args.strands * args.coverage)),
                 "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform()}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fasta = make_oligos(work, args.strands, args.seed)
        env = dict(os.environ, DNASTORE_CACHE=str(work / "cache"))
        sim = DNASTORE + ["simulate", str(fasta), "--coverage", str(args.coverage), "--preset", "illumina",
                          "--seed", str(args.seed), "-o", str(work / "ours.fastq"), "--force", "--no-progress"]
        res["ours_cold_s"] = sh(sim, env=env)      # JIT compilation included
        # the compiled kernels from the cache (dnastore.aot): JAX itself is not imported
        res["ours_s"] = best(res, "ours", lambda: sh(sim, env=env), args.repeats)
        print(f"dnastore simulate: {res['ours_s']:.2f} s ({res['ours_cold_s']:.2f} s with compilation)")
        if peers.have_randomreads():
            rr = work / "rr"
            rr.mkdir()
            def one_rr() -> float:
                t = time.perf_counter()
                peers.randomreads(fasta, rr / "reads.fq", coverage=args.coverage, length=150, seed=args.seed)
                return time.perf_counter() - t
            res["randomreads_s"] = best(res, "randomreads", one_rr, args.repeats)
            res["speedup_vs_randomreads"] = res["randomreads_s"] / res["ours_s"]
            print(f"randomreads: {res['randomreads_s']:.2f} s -> dnastore is {res['speedup_vs_randomreads']:.1f}x faster")
        else:
            print("randomreads not installed: skipped (make peers)")
        if peers.have_dt4dds():
            code = ("import sys; from dnastore import peers; from dnastore.io.seqio import read_fasta; "
                    f"peers.dt4dds_reads([s for _, s in read_fasta({str(fasta)!r})], {str(work)!r}, "
                    f"coverage={args.coverage}, seed={args.seed})")
            res["dt4dds_s"] = best(res, "dt4dds", lambda: sh([sys.executable, "-c", code]), args.repeats)
            res["speedup_vs_dt4dds"] = res["dt4dds_s"] / res["ours_s"]
            print(f"dt4dds: {res['dt4dds_s']:.2f} s -> dnastore is {res['speedup_vs_dt4dds']:.1f}x faster")
        else:
            print("dt4dds not installed: skipped (make peers)")
        # every effect on: photolithographic synthesis (truncated products, its spectra),
        # homopolymer factors, per-read accuracy spread, the Illumina per-cycle profile, aging
        # (with PCR after it, breakage lowers copy numbers; without, it truncates reads: both
        # are timed and the slower counts), template sampling and PCR
        allfx = sim[:-4] + ["-o", str(work / "all.fastq"), "--force", "--no-progress", "--synthesis",
                            "photolithographic", "--synth-hp", "0.2", "--read-sd", "0.2", "--hp-ins", "0.1",
                            "--hp-del", "0.2", "--halflives", "1"]
        sh(allfx + ["--pcr-cycles", "20", "--copies", "50"], env=env)   # compile
        sh(allfx, env=env)
        t_pcr = best(res, "ours_all_pcr", lambda: sh(allfx + ["--pcr-cycles", "20", "--copies", "50"], env=env),
                     args.repeats)
        t_brk = best(res, "ours_all_breakage", lambda: sh(allfx, env=env), args.repeats)
        res["ours_all_s"] = max(t_pcr, t_brk)
        print(f"dnastore simulate, every effect on: {t_pcr:.2f} s (aging then PCR), {t_brk:.2f} s (aging, reads of "
              "broken molecules)")
        if peers.have_dt4dds():
            code = ("import sys; sys.path.insert(0, " + repr(str(ROOT / "pipelines")) + "); "
                    "from validate_sim import dt4dds_reads; from dnastore.io.seqio import read_fasta; from pathlib import Path; "
                    f"dt4dds_reads([s for _, s in read_fasta({str(fasta)!r})], Path({str(work)!r}), "
                    f"{res['reads']}, {args.seed}, 'Photolithographic', copies=50, pcr_cycles=20, halflives=1.0)")
            # one run: it takes minutes, and one run can only flatter it less than a best of three
            res["dt4dds_all_s"] = best(res, "dt4dds_all", lambda: sh([sys.executable, "-c", code]), 1)
            res["speedup_vs_dt4dds_all"] = res["dt4dds_all_s"] / res["ours_all_s"]
            print(f"dt4dds, the same workflow: {res['dt4dds_all_s']:.1f} s -> dnastore is "
                  f"{res['speedup_vs_dt4dds_all']:.1f}x faster")
        t_c = best(res, "consensus", lambda: sh(DNASTORE + ["consensus", str(work / "ours.fastq"), "-o",
                                                            str(work / "c.fasta"), "--force", "--no-progress"],
                                                 env=env), args.repeats)
        decode = DNASTORE + ["oligo-decode", str(work / "c.fasta"), "-o", str(work / "out.bin"), "--force",
                             "--partial", "--json"]
        t_d = best(res, "oligo_decode", lambda: sh(decode, env=env), args.repeats)
        dec = json.loads(subprocess.run(decode, env=env, check=True, capture_output=True, text=True).stdout)
        # the same work in one process through the library (imports before the clock starts)
        from dnastore.consensus.call import Design, call_consensus, orient_and_trim
        from dnastore.dna.codec import assemble_payload, decode_strands
        from dnastore.dna.manifest import load_manifest
        from dnastore.io.seqio import read_reads
        man = load_manifest(str(fasta) + ".json")
        def library() -> float:
            t = time.perf_counter()
            design = Design.from_manifest(man)
            cores, _ = orient_and_trim(read_reads(work / "ours.fastq"), None, design)
            strands, _ = call_consensus(cores, design)
            lib_dec = decode_strands(strands, man)
            assemble_payload(lib_dec, man, allow_partial=True)
            return time.perf_counter() - t
        res["library_s"] = best(res, "library", library, args.repeats)
        res["library_reads_per_s"] = res["reads"] / res["library_s"]
        print(f"the same in one process (library): {res['library_s']:.2f} s, {res['library_reads_per_s']:,.0f} reads/s")
        res.update(consensus_s=t_c, decode_s=t_d, consensus_decode_reads_per_s=res["reads"] / (t_c + t_d),
                   strands_recovered=dec["strands_recovered"],
                   strands_recovered_fraction=dec["strands_recovered"] / args.strands)
        print(f"consensus {t_c:.2f} s + oligo-decode {t_d:.2f} s: "
              f"{res['consensus_decode_reads_per_s']:,.0f} reads/s, "
              f"{dec['strands_recovered']}/{args.strands} strands recovered")
    res["repeats"] = args.repeats
    res["targets"] = {"vs_dt4dds": 5, "vs_dt4dds_every_effect": 10, "vs_randomreads": 10,
                      "consensus_decode_reads_per_s": 100_000}
    from common import update_readme, write_results
    write_results(args.out, res)
    print(f"wrote {args.out}")
    if args.readme.exists():
        table = "\n".join([
            f"Best of {args.repeats} runs of each command.",
            "",
            "| measure | dnastore | peer | ratio | target |",
            "| --- | --- | --- | --- | --- |",
            f"| simulate {res['reads']:,} reads vs dt4dds (Twist + iSeq100) | {res['ours_s']:.1f} s | "
            + (f"{res['dt4dds_s']:.1f} s | {res['speedup_vs_dt4dds']:.1f}x |" if "dt4dds_s" in res else "n/a | n/a |")
            + " >= 5x |",
            f"| simulate {res['reads']:,} reads, every effect on, vs dt4dds (photolithographic, aging, PCR, "
            f"iSeq100; one dt4dds run) | {res['ours_all_s']:.1f} s | "
            + (f"{res['dt4dds_all_s']:.1f} s | {res['speedup_vs_dt4dds_all']:.1f}x |" if "dt4dds_all_s" in res
               else "n/a | n/a |") + " >= 10x |",
            f"| simulate {res['reads']:,} reads vs randomreads | {res['ours_s']:.1f} s | "
            + (f"{res['randomreads_s']:.1f} s | {res['speedup_vs_randomreads']:.1f}x |" if "randomreads_s" in res
               else "n/a | n/a |") + " >= 10x |",
            f"| simulate, first run (JIT compilation) | {res['ours_cold_s']:.1f} s | | | |",
            f"| consensus + oligo-decode, two CLI commands | {res['consensus_decode_reads_per_s']:,.0f} reads/s | | | >= 100,000 reads/s |",
            f"| consensus + decode in one process (library calls) | {res['library_reads_per_s']:,.0f} reads/s | | | >= 100,000 reads/s |",
            f"| strands recovered (no outer code) | {res['strands_recovered']:,} / {res['strands']:,} | | | |",
        ])
        update_readme(args.readme, "bench-sim", table)

if __name__ == "__main__":
    main()
