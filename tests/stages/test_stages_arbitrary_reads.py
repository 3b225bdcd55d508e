"""Arbitrary reads never crash decode: random sequences, reads of another project's oligos,
or a mix with real reads. decode reports what it could not recover and writes every image
(best effort: lost codes are the prior's centre)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"


def _random_fastq(path: Path, n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(n):
        ln = int(rng.integers(20, 300))
        seq = "".join(rng.choice(list("ACGTN"), ln, p=[0.24, 0.24, 0.24, 0.24, 0.04]))
        recs.append(f"@junk{i}\n{seq}\n+\n{'I' * ln}\n")
    data = "".join(recs).encode()
    path.write_bytes(data)
    return data


@pytest.fixture
def project(tmp):
    Path("img").mkdir()
    for p in sorted(EXAMPLES.iterdir())[:6]:
        shutil.copy(p, Path("img") / p.name)
    run(["encode", "img", "mine.fasta", "--no-progress"])
    run(["simulate", "mine.fasta", "--coverage", "8", "-o", "mine.fastq", "--no-progress"])
    # another project: other data, other primers
    Path("other.bin").write_bytes(np.random.default_rng(9).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    run(["oligo-encode", "other.bin", "-o", "other.fasta", "--primers", "ACACGACGCTCTTCCGATCT,AGATCGGAAGAGCACACGTC"])
    run(["simulate", "other.fasta", "--coverage", "5", "-o", "other.fastq", "--no-progress"])


@pytest.mark.parametrize("kind", ["random", "other-project", "mix"])
def test_decode_survives_arbitrary_reads_and_reports_the_losses(project, kind):
    junk = _random_fastq(Path("junk.fastq"), 400, 1)
    data = {"random": junk, "other-project": Path("other.fastq").read_bytes(),
            "mix": Path("mine.fastq").read_bytes() + junk + Path("other.fastq").read_bytes()}[kind]
    Path("in.fastq").write_bytes(data)
    r = run(["decode", "in.fastq", "--manifest", "mine.fasta.json", "-o", "recon", "--json", "--no-progress"])
    s = json.loads(r.stdout)
    assert s["images"] == 6 and len([p for p in Path("recon").glob("*.png") if p.name != "grid.png"]) == 6
    if kind == "mix":  # the real reads still decode every image
        assert s["codes_erased"] == 0 and s["data_strands_missing"] == 0 and s["images_damaged"] == 0
    else:
        assert s["strands_valid"] == 0 and s["codes_erased"] == s["codes_total"] and s["images_lost"] == 6
        assert "no strand could be decoded" in r.output
