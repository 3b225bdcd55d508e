"""Golden bytes: every stage, run on the shipped examples with fixed seeds, writes exactly the
recorded files (tests/golden/pipeline_sha256.json: the sha256 of each file). First recorded on
the code before the house moved (stages as library functions), which then wrote the same 180
files; regenerated deliberately when pools gained their header strands and default outer codes, and
when the dense code became the default (the Goldman-style code's rows were added then).
A change that alters any artifact fails here; when the change is meant, regenerate:

    DNASTORE_REGOLD=1 .venv/bin/python -m pytest tests/stages/test_stages_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from helpers import EXAMPLES, run

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pipeline_sha256.json"
STAGES = [
    ["compress", "img", "-o", "lat.zarr"],
    ["quantize", "lat.zarr", "-o", "codes.zarr", "--bits", "6"],
    ["oligo-encode", "codes.zarr", "-o", "x.fasta", "--outer-redundancy", "0.5"],
    ["simulate", "x.fasta", "--coverage", "3", "-o", "r.fastq", "--truth", "truth.tsv", "--seed", "5"],
    ["consensus", "r.fastq", "-o", "c.fasta"],
    ["oligo-decode", "c.fasta", "-o", "back.zarr"],
    ["dequantize", "back.zarr", "-o", "lat2.zarr"],
    ["reconstruct", "lat2.zarr", "-o", "recon", "--originals", "img"],
    ["encode", "img", "e.fasta"],
    ["simulate", "e.fasta", "--coverage", "3", "--seed", "1", "-o", "e.fastq"],
    ["decode", "e.fastq", "-o", "recon2", "--originals", "img"],
    ["encode", "img", "n.fasta", "--codec", "necst", "--outer-redundancy", "1"],
    ["simulate", "n.fasta", "--coverage", "2", "--seed", "2", "-o", "n.fastq", "--preset", "nanopore"],
    ["decode", "n.fastq", "-o", "recon3"],
    ["oligo-encode", "excerpt.txt", "-o", "f.fasta", "--outer-redundancy", "0.2"],
    ["simulate", "f.fasta", "--coverage", "10", "--seed", "1", "-o", "f.fastq"],
    ["consensus", "f.fastq", "-o", "f.consensus.fasta"],
    ["oligo-decode", "f.consensus.fasta", "-o", "f.out"],
    # the Goldman-style code, no longer the default, keeps its bytes too
    ["oligo-encode", "excerpt.txt", "-o", "g.fasta", "--code", "goldman", "--outer-redundancy", "0.2"],
    ["simulate", "g.fasta", "--coverage", "10", "--seed", "1", "-o", "g.fastq"],
    ["consensus", "g.fastq", "-o", "g.consensus.fastq"],
    ["oligo-decode", "g.consensus.fastq", "-o", "g.out"],
]


def test_every_stage_writes_the_recorded_bytes(tmp):
    shutil.copytree(EXAMPLES, tmp / "img")
    excerpt = EXAMPLES.parent / "dnastore-readme-excerpt.txt"
    shutil.copy(excerpt, tmp / "excerpt.txt")
    for stage in STAGES:
        run(stage + ["--no-progress"])
    got = {str(p.relative_to(tmp)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(tmp.rglob("*"))
           if p.is_file() and p.relative_to(tmp).parts[0] not in ("img", "excerpt.txt")}
    if os.environ.get("DNASTORE_REGOLD"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert (tmp / "f.out").read_bytes() == excerpt.read_bytes() == (tmp / "g.out").read_bytes()
    assert sorted(got) == sorted(want)
    differ = sorted(k for k in want if got[k] != want[k])
    assert not differ, differ
