"""A new user's first hour, timed: what the first commands cost, cold (an empty kernel cache,
as on a fresh machine) and warm, with the peak memory of each, and where the time of a run
goes (Python imports, XLA compiling, the work).

    python pipelines/first_hour.py --out results/first_hour.json      (make bench-first-hour)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import update_readme, write_results

ROOT = Path(__file__).resolve().parent.parent
DNASTORE = [sys.executable, "-m", "dnastore"]
TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall time and peak RSS (MB, from /usr/bin/time where there is one) of one command."""
    cmd = ([TIME, "-f", "%M"] if TIME else []) + args
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {r.stderr[-500:]}")
    rss = None
    if TIME:
        last = r.stderr.strip().splitlines()[-1]
        rss = int(last) / 1024 if last.isdigit() else None
    return {"seconds": round(wall, 2), "peak_mb": round(rss) if rss else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "results" / "first_hour.json"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dnastore-first-hour-"))
    env = dict(os.environ, DNASTORE_CACHE=str(work / "cache"), JAX_PLATFORMS="cpu")
    d = DNASTORE
    try:
        shutil.copytree(ROOT / "examples" / "images", work / "img")
        (work / "four").mkdir()
        for p in sorted((work / "img").iterdir())[:4]:
            shutil.copy(p, work / "four" / p.name)
        rows: dict[str, dict] = {}
        imports = {}
        for mod in ("click", "numpy", "zarr", "jax", "flax.nnx", "dnastore.stages.images"):
            imports[mod] = timed([sys.executable, "-c", f"import {mod}"], work, env)["seconds"]
        # cold: the first run on a fresh machine compiles the kernels (kept in the cache after)
        rows["encode, 32 images (cold cache)"] = timed(d + ["encode", "img", "e.fasta", "--no-progress"], work, env)
        rows["encode, 32 images (warm)"] = timed(d + ["encode", "img", "e.fasta", "--force", "--no-progress"], work,
                                                 env)
        rows["compress, 4 images"] = timed(d + ["compress", "four", "-o", "lat.zarr", "--no-progress"], work, env)
        rows["quantize, 4 images"] = timed(d + ["quantize", "lat.zarr", "-o", "codes.zarr"], work, env)
        rows["dequantize, 4 images"] = timed(d + ["dequantize", "codes.zarr", "-o", "back.zarr"], work, env)
        rows["dataset mnist --limit 256"] = timed(d + ["dataset", "mnist", "--limit", "256", "-o", "m256.zarr"],
                                                  work, env)
        rows["dataset mnist --limit 1000"] = timed(d + ["dataset", "mnist", "--limit", "1000", "-o", "m.zarr"],
                                                   work, env)
        rows["encode, 1,000 MNIST images"] = timed(d + ["encode", "m.zarr", "m.fasta", "--no-progress"], work, env)
        rows["simulate, coverage 5 (cold cache)"] = timed(d + ["simulate", "m.fasta", "-o", "m.fastq", "--coverage",
                                                               "5", "--no-progress"], work, env)
        shutil.rmtree(work / "cache", ignore_errors=True)
        rows["decode, 1,000 images (cold cache)"] = timed(d + ["decode", "m.fastq", "-o", "rec", "--no-progress"],
                                                          work, env)
        rows["decode, 1,000 images (warm)"] = timed(d + ["decode", "m.fastq", "-o", "rec", "--force",
                                                         "--no-progress"], work, env)
        # where a warm decode's time goes, in-process
        probe = ("import time; t0 = time.perf_counter(); import dnastore.stages.images as s; "
                 "from dnastore.cli._options import jax_cache; jax_cache(); t1 = time.perf_counter(); "
                 "s.decode('m.fastq', 'rec2', force=True); t2 = time.perf_counter(); "
                 "print(round(t1 - t0, 2), round(t2 - t1, 2))")
        r = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True)
        imp, work_s = (float(x) for x in r.stdout.split()) if r.returncode == 0 else (None, None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"commands": rows, "imports_seconds": imports, "warm_decode_split": {"imports": imp, "decode": work_s}}
    write_results(Path(args.out), res)
    lines = ["| command | wall time | peak RSS |", "| --- | --- | --- |"]
    for k, v in rows.items():
        lines.append(f"| `{k}` | {v['seconds']:.1f} s | {v['peak_mb'] if v['peak_mb'] is not None else '-'} MB |")
    table = "\n".join([
        "Measured by `make bench-first-hour` (`pipelines/first_hour.py`) on this 2-core machine, one run each, "
        "a fresh kernel cache at the start and again before the cold decode.", "", *lines, "",
        "Imports alone (`python -c 'import X'`, seconds): " + ", ".join(f"{k} {v:.2f}" for k, v in imports.items())
        + f". A warm decode of the 1,000 images in one process: {imp} s of imports, {work_s} s of work."])
    print(table)
    update_readme(ROOT / "README.md", "first-hour", table)


if __name__ == "__main__":
    main()
