"""Helpers shared by the CLI tests."""

import contextlib
import shutil
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from dnastore.cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "images"


def run(args, ok=True):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert r.exit_code == 0, r.output
    return r


def one_line_error(r):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.output
    assert "Traceback" not in r.output


def artifacts(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def images_folder(folder: Path, n: int = 8) -> Path:
    folder.mkdir(exist_ok=True)
    for p in sorted(EXAMPLES.iterdir())[:n]:
        (folder / p.name).write_bytes(p.read_bytes())
    return folder


def recon_images(folder):
    import zarr
    g = zarr.open_group(str(Path(folder) / "images.zarr"), mode="r")
    assert g.attrs["kind"] == "dnastore-reconstruction"
    return np.asarray(g["images"][...])


def copy_into(src: Path, dst: Path) -> Path:
    """Every file and folder of ``src`` copied into ``dst``."""
    for p in src.iterdir():
        (shutil.copytree if p.is_dir() else shutil.copy)(p, dst / p.name)
    return dst


@contextlib.contextmanager
def fresh(tmp_path_factory, base: Path):
    """A new case folder holding a copy of the base artifacts, removed afterwards (a fuzz run
    makes thousands)."""
    d = copy_into(base, tmp_path_factory.mktemp("case"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
