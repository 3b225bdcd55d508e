"""Reads from peer simulators decode back to the original bytes (skipped where a peer is not
installed; `make test-peers` installs them and runs these)."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dnastore import peers
from dnastore.cli import cli
from dnastore.io.seqio import read_fasta

pytestmark = pytest.mark.peers


def _run(args):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r


# both oligo codes; the dense code also at 150 nt, the length a 150-cycle run reads whole
CODES = [("goldman", 150), ("dense", 240), ("dense", 150)]


@pytest.fixture(params=CODES, ids=[f"{c}-{n}" for c, n in CODES])
def encoded(tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    code, length = request.param
    data = np.random.default_rng(11).integers(0, 256, 8000).astype(np.uint8).tobytes()
    Path("f.bin").write_bytes(data)
    _run(["oligo-encode", "f.bin", "-o", "x.fasta", "--outer-redundancy", "0.2", "--code", code,
          "--strand-length", length])
    return data


def _decode(reads, data):
    _run(["consensus", reads, "--manifest", "x.fasta.json", "-o", "c.fasta"])
    _run(["oligo-decode", "c.fasta", "-o", "f.out"])
    assert Path("f.out").read_bytes() == data


@pytest.mark.skipif(not peers.have_randomreads(), reason="BBMap randomreads not installed (make peers)")
@pytest.mark.parametrize("extra", [(), ("snprate=0.003", "insrate=0.0005", "delrate=0.0005", "maxinslen=2",
                                        "maxdellen=2")], ids=["default-model", "with-indels"])
def test_randomreads_reads_decode(encoded, extra):
    length = len(next(read_fasta("x.fasta"))[1])
    peers.randomreads("x.fasta", "rr.fq", coverage=10, length=length, extra=extra)
    _decode("rr.fq", encoded)


@pytest.mark.skipif(not peers.have_dt4dds(), reason="dt4dds not installed (make peers)")
def test_dt4dds_reads_decode(encoded, tmp_path):
    oligos = [s for _, s in read_fasta("x.fasta")]
    if len(oligos[0]) > 150:
        pytest.skip("dt4dds' iSeq100 model reads at most 158 cycles: a 240-nt oligo is not read whole")
    r1 = peers.dt4dds_reads(oligos, tmp_path, coverage=10)
    _decode(r1, encoded)
