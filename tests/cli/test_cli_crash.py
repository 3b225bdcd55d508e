"""Crash safety: a stage killed with SIGKILL in the middle of writing leaves no artifact (and
no half one) at its output path, an existing artifact replaced with --force survives whole,
and a rerun succeeds and clears the killed run's temporaries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

CLI = [sys.executable, "-m", "dnastore.cli"]


def cli(*args, cwd):
    r = subprocess.run(CLI + [str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def kill_while_writing(args, cwd: Path, target: str, timeout: float = 120.0) -> None:
    """Start the stage, wait until its temporary output exists and is growing, then SIGKILL it."""
    p = subprocess.Popen(CLI + [str(a) for a in args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    tmp = None
    while time.monotonic() - t0 < timeout:
        for q in cwd.glob(f".{target}.tmp-{p.pid}-*"):
            try:
                if q.is_dir() and any(q.rglob("c/*")) or q.is_file() and q.stat().st_size > 0:
                    tmp = q  # a folder with chunks in it, or a file with bytes in it
            except OSError:  # renamed into place meanwhile
                pass
        if tmp is not None:
            break
        if p.poll() is not None:
            break
        time.sleep(0.002)
    if tmp is None:
        p.kill()
        pytest.fail(f"the stage ended (rc {p.returncode}) before its temporary output was seen: {p.stderr.read()}")
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL


@pytest.fixture
def oligos(tmp_path):
    rng = np.random.default_rng(3)
    (tmp_path / "f.bin").write_bytes(rng.integers(0, 256, 150_000, dtype=np.uint8).tobytes())
    cli("oligo-encode", "f.bin", "-o", "x.fasta", cwd=tmp_path)
    return tmp_path


def test_sigkill_mid_write_leaves_nothing_and_a_rerun_succeeds(oligos):
    d = oligos
    kill_while_writing(["simulate", "x.fasta", "--coverage", "60", "-o", "r.fastq", "--no-progress"], d, "r.fastq")
    assert not (d / "r.fastq").exists() and not (d / "r.fastq.json").exists()
    assert list(d.glob(".r.fastq.tmp-*"))  # the killed run's temporary is there, out of the way
    cli("simulate", "x.fasta", "--coverage", "2", "-o", "r.fastq", "--no-progress", cwd=d)
    assert (d / "r.fastq").stat().st_size > 0 and (d / "r.fastq.json").exists()
    assert not list(d.glob(".r.fastq*tmp-*"))  # and the rerun cleared it


def test_sigkill_during_force_keeps_the_old_artifact_whole(oligos):
    d = oligos
    cli("simulate", "x.fasta", "--coverage", "2", "-o", "r.fastq", "--no-progress", cwd=d)
    before = (d / "r.fastq").read_bytes(), (d / "r.fastq.json").read_bytes()
    kill_while_writing(["simulate", "x.fasta", "--coverage", "60", "-o", "r.fastq", "--force", "--no-progress",
                        "--seed", "5"], d, "r.fastq")
    assert ((d / "r.fastq").read_bytes(), (d / "r.fastq.json").read_bytes()) == before


def test_sigkill_while_a_zarr_folder_is_written_over(tmp_path):
    d = tmp_path
    cli("dataset", "mnist", "--split", "test", "--limit", "50", "-o", "m.zarr", cwd=d)
    before = sorted((p.relative_to(d / "m.zarr"), p.read_bytes()) for p in (d / "m.zarr").rglob("*") if p.is_file())
    kill_while_writing(["dataset", "mnist", "--split", "train", "-o", "m.zarr", "--force"], d, "m.zarr")
    after = sorted((p.relative_to(d / "m.zarr"), p.read_bytes()) for p in (d / "m.zarr").rglob("*") if p.is_file())
    assert after == before
    cli("dataset", "mnist", "--split", "test", "--limit", "20", "-o", "m.zarr", "--force", cwd=d)
    assert not list(d.glob(".m.zarr.*"))


def test_the_cli_process_exit_keeps_its_output_and_exit_code(oligos):
    """main() leaves through os._exit once the work is done: the JSON summary, the artifacts
    and the exit codes must all be there as with a normal exit."""
    import json
    d = oligos
    r = cli("simulate", "x.fasta", "--coverage", "2", "-o", "r.fastq", "--no-progress", "--json", cwd=d)
    summary = json.loads(r.stdout)
    assert summary["reads"] == sum(1 for _ in open(d / "r.fastq")) // 4
    assert json.loads((d / "r.fastq.json").read_text())["kind"] == "dnastore-reads"
    bad = subprocess.run(CLI + ["simulate", "x.fasta", "--coverage", "-1", "-o", "s.fastq"], cwd=d,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("Error:") and not (d / "s.fastq").exists()
