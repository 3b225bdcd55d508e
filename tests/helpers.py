"""Helpers shared by the CLI tests."""

from pathlib import Path

from click.testing import CliRunner

from dnastore.cli import cli


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
