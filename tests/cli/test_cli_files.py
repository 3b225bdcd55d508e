"""End-to-end CLI tests: the precise round trip, approximate mode, determinism and bad input."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from helpers import artifacts as _artifacts
from helpers import one_line_error as _one_line_error
from helpers import run

from dnastore.io.artifacts import CODES_KIND
from dnastore.io.zarrio import write_group


def test_precise_round_trip_illumina_coverage_10_with_outer_code(tmp):
    data = np.random.default_rng(0).integers(0, 256, 12_000).astype(np.uint8).tobytes()
    Path("f.bin").write_bytes(data)
    run(["oligo-encode", "f.bin", "-o", "x.fasta", "--outer-redundancy", "0.2"])
    man = json.loads(Path("x.fasta.json").read_text())
    assert man["provenance"]["stage"] == "oligo-encode" and man["outer"]["kind"] == "rs"
    run(["simulate", "x.fasta", "--coverage", "10", "--preset", "illumina", "-o", "r.fastq"])
    run(["consensus", "r.fastq", "-o", "c.fasta"])
    r = run(["oligo-decode", "c.fasta", "-o", "f.out", "--json"])
    summary = json.loads(r.stdout)
    assert summary["sha256_verified"] is True
    assert Path("f.out").read_bytes() == data


def test_same_seed_gives_byte_identical_reads(tmp):
    Path("f.bin").write_bytes(b"determinism " * 200)
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    for name, seed in (("a.fastq", 3), ("b.fastq", 3), ("c.fastq", 4)):
        run(["simulate", "x.fasta", "--coverage", "4", "--preset", "nanopore", "--seed", seed, "-o", name])
    assert Path("a.fastq").read_bytes() == Path("b.fastq").read_bytes()
    assert Path("a.fastq").read_bytes() != Path("c.fastq").read_bytes()
    assert Path("a.fastq.json").read_bytes() == Path("b.fastq.json").read_bytes()


def test_codes_mode_missing_strands_become_an_erasure_mask(tmp):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (40, 32)).astype(np.uint8)
    stats = rng.normal(size=32).astype(np.float32)
    write_group("codes.zarr", {"codes": codes, "mu_mean": stats},
                {"kind": CODES_KIND, "n_bits": 8, "quantizer": "uniform"})
    run(["oligo-encode", "codes.zarr", "-o", "x.fasta", "--outer-redundancy", "0"])
    lines = Path("x.fasta").read_text().splitlines()
    kept = lines[:2] + lines[6:]  # drop the 2nd and 3rd strand
    Path("y.fasta").write_text("\n".join(kept) + "\n")
    r = run(["oligo-decode", "y.fasta", "--manifest", "x.fasta.json", "-o", "out.zarr", "--json"])
    s = json.loads(r.stdout)
    import zarr
    g = zarr.open_group("out.zarr", mode="r")
    erased = g["erased"][...]
    assert s["codes_erased"] == int(erased.sum()) > 0
    out = g["codes"][...]
    assert (out[~erased] == codes[~erased]).all()
    assert np.allclose(g["mu_mean"][...], stats)
    assert g.attrs["quantizer"] == "uniform" and g.attrs["provenance"]["stage"] == "oligo-decode"


def test_simulate_without_input_uses_the_newest_encoding(tmp):
    Path("f.bin").write_bytes(b"newest " * 100)
    run(["oligo-encode", "f.bin", "-o", "old.fasta"])
    os.utime("old.fasta", (1, 1))
    run(["oligo-encode", "f.bin", "-o", "new.fasta", "--strand-length", "120"])
    r = run(["simulate", "--coverage", "2", "-o", "r.fastq"])
    assert "new.fasta" in r.output
    assert json.loads(Path("r.fastq.json").read_text())["provenance"]["inputs"]["oligos"]["path"] == "new.fasta"


def test_existing_output_needs_force(tmp):
    Path("f.bin").write_bytes(b"x" * 100)
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    r = run(["oligo-encode", "f.bin", "-o", "x.fasta"], ok=False)
    assert r.exit_code == 2 and "--force" in r.output
    run(["oligo-encode", "f.bin", "-o", "x.fasta", "--force"])


@pytest.fixture
def encoded(tmp):
    Path("f.bin").write_bytes(b"bad input tests " * 50)
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    run(["simulate", "x.fasta", "--coverage", "5", "-o", "r.fastq"])
    return tmp


def test_bad_empty_file(encoded):
    Path("empty.bin").write_bytes(b"")
    before = _artifacts(encoded)
    _one_line_error(run(["oligo-encode", "empty.bin", "-o", "e.fasta"], ok=False))
    _one_line_error(run(["simulate", "empty.bin", "-o", "e.fastq"], ok=False))
    _one_line_error(run(["consensus", "empty.bin", "-o", "e2.fasta"], ok=False))
    assert _artifacts(encoded) == before


def test_bad_non_acgt_fasta(encoded):
    text = Path("x.fasta").read_text().splitlines()
    text[3] = text[3][:10] + "N" + text[3][11:]
    Path("n.fasta").write_text("\n".join(text) + "\n")
    before = _artifacts(encoded)
    r = run(["simulate", "n.fasta", "-o", "n.fastq"], ok=False)
    _one_line_error(r)
    assert "non-ACGT" in r.output and "record 2" in r.output
    assert _artifacts(encoded) == before


def test_bad_truncated_fastq(encoded):
    lines = Path("r.fastq").read_text().splitlines()
    Path("t.fastq").write_text("\n".join(lines[:-2]) + "\n")
    before = _artifacts(encoded)
    r = run(["consensus", "t.fastq", "-o", "t.fasta"], ok=False)
    _one_line_error(r)
    assert "malformed FASTQ" in r.output
    assert _artifacts(encoded) == before


def test_bad_missing_manifest(encoded):
    """Without its manifest a pool decodes from its header strands; without those too (here
    cut from the consensus FASTA) the error says to pass the manifest."""
    run(["consensus", "r.fastq", "-o", "c.fasta"])
    os.rename("c.fasta.json", "moved.json")
    assert json.loads(run(["oligo-decode", "c.fasta", "-o", "f.out", "--json"]).stdout)["manifest_from"] == \
        "header strands"
    man = json.loads(Path("x.fasta.json").read_text())
    heads = {s for name, s in _records(Path("x.fasta")) if name.startswith("h")}
    assert len(heads) == man["header"]["unique"] > 0
    Path("nohead.fasta").write_text("".join(f">{n}\n{s}\n" for n, s in _records(Path("c.fasta")) if s not in heads))
    before = _artifacts(encoded)
    r = run(["oligo-decode", "nohead.fasta", "-o", "g.out"], ok=False)
    _one_line_error(r)
    assert "no header strands" in r.output and "--manifest" in r.output
    assert _artifacts(encoded) == before
    run(["oligo-decode", "nohead.fasta", "-o", "g.out", "--manifest", "x.fasta.json"])  # the manifest still rescues it


def _records(path: Path):
    lines = path.read_text().split()
    return [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines), 2)]


def test_bad_manifest_from_another_encoding(encoded):
    Path("g.bin").write_bytes(b"another file entirely " * 40)
    run(["oligo-encode", "g.bin", "-o", "other.fasta"])
    run(["consensus", "r.fastq", "-o", "c.fasta"])
    before = _artifacts(encoded)
    r = run(["oligo-decode", "c.fasta", "--manifest", "other.fasta.json", "-o", "f.out"], ok=False)
    _one_line_error(r)
    assert "another encoding" in r.output
    # and with no manifest beside the strands to compare with, the pool's header strands give it away
    os.remove("c.fasta.json")
    r = run(["oligo-decode", "c.fasta", "--manifest", "other.fasta.json", "-o", "f.out"], ok=False)
    _one_line_error(r)
    assert "another encoding" in r.output and "header strands" in r.output
    assert _artifacts(encoded) == before - {"c.fasta.json"}


@pytest.mark.parametrize("cov", ["0", "-1"])
def test_bad_coverage(encoded, cov):
    before = _artifacts(encoded)
    r = run(["simulate", "x.fasta", "--coverage", cov, "-o", "z.fastq"], ok=False)
    _one_line_error(r)
    assert "coverage" in r.output
    assert _artifacts(encoded) == before


def test_gzip_reads_and_foreign_reads_without_manifest(encoded):
    import gzip
    run(["simulate", "x.fasta", "--coverage", "10", "-o", "r10.fastq"])
    Path("r.fastq.gz").write_bytes(gzip.compress(Path("r10.fastq").read_bytes()))
    run(["consensus", "r.fastq.gz", "-o", "c.fasta"])  # no sidecar: design inferred
    r = run(["oligo-decode", "c.fasta", "--manifest", "x.fasta.json", "-o", "f.out", "--json"])
    assert json.loads(r.stdout)["sha256_verified"] is True


def test_help_has_examples():
    for cmd in ("oligo-encode", "simulate", "consensus", "oligo-decode"):
        r = run([cmd, "--help"])
        assert "Example" in r.output and "--seed" in r.output and "--force" in r.output


def test_the_file_commands_start_without_the_image_stack():
    """simulate, consensus and oligo-decode import neither Zarr nor JAX, Flax, Pillow or SciPy
    (about 0.15 s of start-up when io.manifest pulled Zarr in through io.artifacts)."""
    import subprocess
    import sys
    code = ("import sys; from dnastore.cli import cli; import dnastore.stages.files, dnastore.dna.manifest, "
            "dnastore.dna.codec, dnastore.consensus.stream, dnastore.channel.dna, dnastore.io.artifacts; "
            "print(sorted(m for m in ('zarr', 'jax', 'flax', 'PIL', 'scipy', 'optax') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_help_names_the_oligo_code_that_is_used_by_default():
    import re

    from dnastore.dna.codes import DEFAULT_CODE
    for cmd in ("oligo-encode", "encode", "plan"):
        text = " ".join(run([cmd, "--help"]).output.split())
        m = re.search(r"--code \[goldman\|dense\] (.*?)(?= --[a-z])", text)
        assert m and f"[{DEFAULT_CODE}" in m.group(1), (cmd, m and m.group(1))


def test_simulate_warns_where_unread_strands_alone_will_lose_a_file(tmp):
    from dnastore.stages.files import unread_failure
    Path("f.bin").write_bytes(np.random.default_rng(5).integers(0, 256, 30_000, dtype=np.uint8).tobytes())
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    man = json.loads(Path("x.fasta.json").read_text())
    fails = [unread_failure(man, p) for p in (0.0, 0.002, 0.02, 0.1)]
    assert fails[0] == 0.0 and fails[1] < 1e-3 and fails == sorted(fails) and fails[3] > 0.99
    quiet = run(["simulate", "x.fasta", "-o", "a.fastq"])  # the default channel and coverage
    assert "never read" not in quiet.output
    loud = run(["simulate", "x.fasta", "--coverage", "2", "-o", "b.fastq"])
    assert "never read on this channel" in loud.output and "dnastore plan" in loud.output
    run(["consensus", "b.fastq", "-o", "b.fasta"])
    _one_line_error(run(["oligo-decode", "b.fasta", "-o", "f.out"], ok=False))  # as warned
