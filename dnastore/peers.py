"""Runners for peer simulators, used by the interop tests and the benchmarks. The peers are
optional extras (``make peers``): BBMap's randomreads (Debian package ``bbmap``) and dt4dds
(PyPI). Nothing here is imported by the pipeline itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

RANDOMREADS = "/usr/share/bbmap/randomreads.sh"
# Illumina TruSeq adapters around each oligo, as in a real library: dt4dds' sequencing step
# finds its read primers in them.
ADAPTER_5 = "ACACTCTTTCCCTACACGACGCTCTTCCGATCT"
ADAPTER_3 = "GTGACTGGAGTTCAGACGTGTGCTCTTCCGATCT"


def have_randomreads() -> bool:
    return Path(RANDOMREADS).exists() and shutil.which("java") is not None


def have_dt4dds() -> bool:
    try:
        import dt4dds  # noqa: F401
    except ImportError:
        return False
    return True


def randomreads(fasta: str | os.PathLike, out_fastq: str | os.PathLike, coverage: float, length: int,
                seed: int = 1, extra: tuple[str, ...] = ()) -> None:
    """Run randomreads in a temporary folder (it writes ``ref/`` where it runs)."""
    fasta, out_fastq = Path(fasta).resolve(), Path(out_fastq).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [RANDOMREADS, f"ref={fasta}", f"out={out_fastq}", f"length={length}", f"coverage={coverage}",
               f"seed={seed}", "simplenames=t", "overwrite=t", *extra]
        subprocess.run(cmd, cwd=tmp, check=True, capture_output=True)


def dt4dds_reads(oligos: list[str], out_dir: str | os.PathLike, coverage: float, seed: int = 1) -> Path:
    """Twist array synthesis then iSeq100 single-end sequencing; returns the R1 FASTQ path."""
    import random

    import dt4dds
    import numpy as np
    from dt4dds.helpers import config
    config.show_progressbars = False
    random.seed(seed)
    np.random.seed(seed)

    from dnastore.io.seqio import revcomp
    seqs = [dt4dds.datastructures.Seq(ADAPTER_5 + o + revcomp(ADAPTER_3)) for o in oligos]
    syn = dt4dds.processes.ArraySynthesis(dt4dds.settings.defaults.ArraySynthesis_Twist())
    syn.process(seqs)
    pool = syn.sample_by_counts(len(oligos) * 200)
    seq = dt4dds.processes.SBSSequencing(dt4dds.settings.defaults.iSeq100(
        output_directory=str(out_dir), n_reads=int(len(oligos) * coverage), read_length=len(oligos[0]),
        read_mode="single-end"))
    seq.process(pool)
    return Path(out_dir) / "R1.fq.gz"
