"""The layer rules of pyproject.toml ([tool.importlinter]) hold: io at the bottom knows nothing
above it, dna nothing of the codecs, the channel nothing of consensus or dna, only the command
line knows Click, inference never imports training, nothing imports the command line."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    if importlib.util.find_spec("importlinter") is None:
        pytest.skip("import-linter is not installed (make install installs it)")
    r = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                        "sys.argv = ['lint-imports', '--no-cache']; lint_imports_command()"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "4 kept, 0 broken" in r.stdout
