"""Scale benchmark: `dnastore decode` on 10 million reads in bounded memory.

    make bench-scale     # = python pipelines/bench_scale.py --out results/bench_scale.json

66,000 MNIST images (train, then valid and test) are encoded at the demo settings (VAE,
VAEN 8 bits, μ only: one 150-nt strand per image), and simulated with the Illumina preset at
the coverage that gives 10 million reads (about 150). Then ``dnastore decode`` turns the
reads back into 66,000 images, run under /usr/bin/time, whose peak resident set size is the
figure (target: below 2 GB). Then ``dnastore consensus`` runs on the same reads in one
process and on a ``dask.distributed`` LocalCluster of two worker processes (reads/s of each,
and whether the two outputs are the same bytes). Every step is its own CLI command; the work
folder (about 3.5 GB of FASTQ) is removed at the end unless --keep.

The figures go to the results JSON and into README.md between the bench-scale markers.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DNASTORE = [sys.executable, "-m", "dnastore.cli"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, dict]:
    """(wall seconds, peak RSS bytes, JSON summary) of one CLI command under /usr/bin/time."""
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd + ["--json", "--no-progress"], cwd=cwd, capture_output=True,
                       text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    summary = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
    return wall, int(m.group(1)) * 1024 if m else -1, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=66_000)
    ap.add_argument("--reads", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, help="Work folder [a temporary one].")
    ap.add_argument("--keep", action="store_true", help="Keep the work folder.")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_scale.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, update_readme, write_results

    from dnastore import __version__
    from dnastore.data.mnist import load_mnist
    from dnastore.io.artifacts import write_dataset

    work = args.work or Path(tempfile.mkdtemp(prefix="dnastore-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"benchmark": "bench_scale", "version": __version__, "seed": args.seed, "images": args.images,
                 "target_peak_rss_bytes": 2 * 10 ** 9}
    try:
        images = np.concatenate([load_mnist(s)[0] for s in ("train", "valid", "test")])[:args.images]
        write_dataset(work / "images.zarr", images, None, [f"m{i:06d}" for i in range(len(images))],
                      {"source": "mnist train+valid+test", "limit": args.images})
        t, rss, s = timed(DNASTORE + ["encode", "images.zarr", "oligos.fasta", "--force"], work)
        res.update(encode_s=t, encode_peak_rss=rss, strands=s["strands"], nt_per_image=s["nt_per_image"])
        coverage = args.reads / s["strands"]
        print(f"encode: {len(images):,} images -> {s['strands']:,} strands in {t:.1f} s; coverage {coverage:.1f}")
        t, rss, s = timed(DNASTORE + ["simulate", "oligos.fasta", "--coverage", f"{coverage:.6f}", "--seed",
                                      str(args.seed), "-o", "reads.fastq", "--force"], work)
        res.update(simulate_s=t, simulate_peak_rss=rss, coverage=coverage, reads=s["reads"],
                   fastq_bytes=(work / "reads.fastq").stat().st_size)
        print(f"simulate: {s['reads']:,} reads ({res['fastq_bytes'] / 1e9:.2f} GB) in {t:.1f} s, peak RSS "
              f"{rss / 1e9:.2f} GB")
        t, rss, s = timed(DNASTORE + ["decode", "reads.fastq", "-o", "recon", "--force"], work)
        res.update(decode_s=t, decode_peak_rss=rss, decode_reads_per_s=res["reads"] / t,
                   decoded_images=s["images"], codes_erased=s["codes_erased"], codes_total=s["codes_total"],
                   images_damaged=s["images_damaged"], strands_valid=s["strands_valid"])
        print(f"decode: {res['reads']:,} reads -> {s['images']:,} images in {t:.1f} s "
              f"({res['decode_reads_per_s']:,.0f} reads/s), peak RSS {rss / 1e9:.2f} GB; "
              f"{s['codes_erased']:,} of {s['codes_total']:,} codes erased")
        # consensus alone, one process against a dask.distributed cluster of two worker processes
        # on this machine (same run, same reads); the two outputs must be the same bytes
        from distributed import LocalCluster
        t, rss, s = timed(DNASTORE + ["consensus", "reads.fastq", "-o", "c1.fasta", "--force", "--tmp-dir", "."], work)
        res.update(consensus_single_s=t, consensus_single_reads_per_s=res["reads"] / t, consensus_single_peak_rss=rss)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            t, rss, s = timed(DNASTORE + ["consensus", "reads.fastq", "-o", "c2.fasta", "--force", "--tmp-dir", ".",
                                          "--scheduler", cluster.scheduler_address], work)
        res.update(consensus_dask_s=t, consensus_dask_reads_per_s=res["reads"] / t, consensus_dask_client_peak_rss=rss,
                   dask_workers=2, dask_identical=(work / "c1.fasta").read_bytes() == (work / "c2.fasta").read_bytes())
        print(f"consensus: {res['consensus_single_reads_per_s']:,.0f} reads/s in one process, "
              f"{res['consensus_dask_reads_per_s']:,.0f} reads/s on Dask with 2 workers; "
              f"identical output: {res['dask_identical']}")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    res["machine"] = machine()
    write_results(args.out, res)
    gb = 1e9
    table = "\n".join([
        f"{res['images']:,} MNIST images at the demo settings ({res['strands']:,} strands of 150 nt), Illumina "
        f"preset at coverage {res['coverage']:.0f}: {res['reads']:,} reads, {res['fastq_bytes'] / gb:.1f} GB of "
        f"FASTQ; one run, {machine().get('cpus', '?')} cores.", "",
        "| command | wall time | peak RSS | target |", "| --- | --- | --- | --- |",
        f"| `dnastore encode` | {res['encode_s']:.0f} s | {res['encode_peak_rss'] / gb:.2f} GB | |",
        f"| `dnastore simulate` | {res['simulate_s']:.0f} s | {res['simulate_peak_rss'] / gb:.2f} GB | |",
        f"| `dnastore decode` ({res['decode_reads_per_s']:,.0f} reads/s; {res['images_damaged']:,} of "
        f"{res['decoded_images']:,} images with a lost code) | {res['decode_s']:.0f} s | "
        f"{res['decode_peak_rss'] / gb:.2f} GB | < 2 GB |",
        f"| `dnastore consensus`, one process | {res['consensus_single_s']:.0f} s "
        f"({res['consensus_single_reads_per_s']:,.0f} reads/s) | {res['consensus_single_peak_rss'] / gb:.2f} GB | |",
        f"| `dnastore consensus --scheduler` (LocalCluster, 2 worker processes; same bytes: "
        f"{'yes' if res['dask_identical'] else 'NO'}) | {res['consensus_dask_s']:.0f} s "
        f"({res['consensus_dask_reads_per_s']:,.0f} reads/s) | {res['consensus_dask_client_peak_rss'] / gb:.2f} GB "
        "(client) | |"])
    print(table)
    update_readme(args.readme, "bench-scale", table)


if __name__ == "__main__":
    main()
