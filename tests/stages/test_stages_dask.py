"""Stages on Dask: simulate, consensus, oligo-decode, compress and reconstruct give
byte-identical artifacts on a dask.distributed LocalCluster with two worker processes, on
Dask's local schedulers, and in one process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import one_line_error, run

pytest.importorskip("distributed")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _stages(folder: Path, scheduler: str | None) -> dict[str, bytes]:
    folder.mkdir()
    shutil.copytree(EXAMPLES, folder / "img")
    (folder / "f.bin").write_bytes(np.random.default_rng(4).integers(0, 256, 30_000, dtype=np.uint8).tobytes())
    extra = ["--scheduler", scheduler] if scheduler else []
    old = os.getcwd()
    os.chdir(folder)
    try:
        run(["oligo-encode", "f.bin", "-o", "x.fasta", "--outer-redundancy", "0.2"])
        run(["simulate", "x.fasta", "--coverage", "6", "-o", "r.fastq", "--no-progress"] + extra)
        run(["consensus", "r.fastq", "-o", "c.fasta", "--no-progress", "--tmp-dir", "."] + extra)
        run(["oligo-decode", "c.fasta", "-o", "f.out"] + extra)
        run(["compress", "img", "-o", "lat.zarr", "--no-progress"] + extra)
        run(["reconstruct", "lat.zarr", "-o", "recon", "--no-progress"] + extra)
    finally:
        os.chdir(old)
    assert (folder / "f.out").read_bytes() == (folder / "f.bin").read_bytes()
    return _files(folder)


def test_a_local_cluster_gives_the_single_process_bytes(tmp, monkeypatch):
    from distributed import LocalCluster
    # small chunks: the reads are trimmed into shards and the shards are called on the workers
    monkeypatch.setenv("DNASTORE_CHUNK_BYTES", str(1 << 17))
    one = _stages(tmp / "one", None)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_cluster = _stages(tmp / "cluster", cluster.scheduler_address)
    assert one.keys() == on_cluster.keys()
    assert [k for k in one if one[k] != on_cluster[k]] == []
    threads = _stages(tmp / "threads", "threads")
    assert [k for k in one if one[k] != threads[k]] == []


def test_an_unreachable_scheduler_is_one_line(tmp):
    Path("f.bin").write_bytes(b"x" * 500)
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    r = run(["simulate", "x.fasta", "-o", "r.fastq", "--scheduler", "tcp://127.0.0.1:9"], ok=False)
    one_line_error(r)
    assert "cannot reach the Dask scheduler" in r.output and not Path("r.fastq").exists()
    one_line_error(run(["simulate", "x.fasta", "-o", "r.fastq", "--scheduler", "nonsense"], ok=False))


def test_image_stages_stream_in_pieces_and_match_across_schedulers(tmp):
    """8,100 images: three pieces of up to 4,000; compress and reconstruct give the same bytes
    in one process and on Dask threads, and the grid shows the first 256 only."""
    from PIL import Image
    run(["dataset", "mnist", "--split", "test", "--limit", "8100", "-o", "m.zarr"])
    run(["compress", "m.zarr", "-o", "a.zarr", "--no-progress"])
    run(["compress", "m.zarr", "-o", "b.zarr", "--no-progress", "--scheduler", "threads"])
    assert _files(Path("a.zarr")) == _files(Path("b.zarr"))
    run(["reconstruct", "a.zarr", "-o", "ra", "--originals", "m.zarr", "--no-progress"])
    run(["reconstruct", "a.zarr", "-o", "rb", "--originals", "m.zarr", "--no-progress", "--scheduler", "threads"])
    assert _files(Path("ra")) == _files(Path("rb"))
    assert len(list(Path("ra").glob("*.png"))) == 8101
    w, h = Image.open("ra/grid.png").size
    assert h < 40 * 28 * 2  # 16 rows of originals and 16 of reconstructions at most
