"""The oligo code's interface with its two codes: the dense code behind ``oligo-encode
--code dense``, its manifest in the pool's header strands, and its soft decoding from the
consensus's per-base confidence."""

import json

import numpy as np
import pytest

from dnastore.dna import dense
from dnastore.dna.codes import code_names, code_of, get_code
from dnastore.dna.header import header_strands, read_header
from dnastore.dna.manifest import validate_manifest
from dnastore.errors import DnastoreError
from dnastore.io.manifest import seal_manifest


def _dense(data, **kw):
    return get_code("dense").encode(data, strand_length=240, primers=dense.DenseLayout().primers, unit=1,
                                    redundancy=kw.pop("redundancy", 0.07), extra={"mode": "file"}, **kw)


def test_both_codes_round_trip_through_one_interface(rng):
    data = rng.integers(0, 256, 5000).astype(np.uint8).tobytes()
    assert code_names() == ["goldman", "dense"]
    for name in code_names():
        c = get_code(name)
        enc = c.encode(data, strand_length=c.default_length, primers=("CTACACGACGCTCAGTCGAT", "GATCGTAGCACTGTCAGTGC"),
                       unit=1, redundancy=0.1, extra={"mode": "file"})
        man = seal_manifest(enc.manifest)
        assert code_of(man).name == name
        validate_manifest(man, "test")
        r = c.decode([(s, 1) for s in enc.strands], man)
        assert r.data == data and not r.erased.any() and r.strands["valid"] == man["n_strands"]
    with pytest.raises(DnastoreError, match="unknown oligo code"):
        get_code("fountain")


def test_dense_manifest_travels_in_header_strands_and_is_checked(rng):
    data = rng.integers(0, 256, 8000).astype(np.uint8).tobytes()
    enc = _dense(data)
    man = seal_manifest(enc.manifest)
    c = get_code("dense")
    heads, info = header_strands(man, c.header_layout(man), data_check=lambda ss: c.valid_as_data(man, ss))
    assert info["strands"] > 0 and all(len(h) == 240 for h in heads)
    assert not c.valid_as_data(man, heads).any()
    pool = [(s, 1.0) for s in enc.strands] + [(h, 2.0) for h in heads]
    got, is_header, _ = read_header(pool)
    assert got["digest"] == man["digest"] and is_header.sum() == len(heads)
    bad = json.loads(json.dumps(man))
    bad["layout"]["inner_parity"] = 99
    with pytest.raises(DnastoreError, match="altered"):
        validate_manifest(bad, "m.json")
    bad = seal_manifest({k: v for k, v in bad.items() if k != "digest"})
    with pytest.raises(DnastoreError, match="bad dense layout"):
        validate_manifest(bad, "m.json")


def test_confidence_lets_the_inner_code_repair_two_errors(rng):
    """Two substituted bases in two bytes are beyond the hard decoder (it repairs one error
    with a parity byte left to check it); marked unsure by the consensus, they are erasures
    and the strand is repaired, as a risky repair the outer code erases when it can."""
    data = rng.integers(0, 256, 3000).astype(np.uint8).tobytes()
    strands, man = dense.encode(data, redundancy=0)
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    hard, soft = [], []
    for s in strands:
        conf = np.full(len(s), 40, np.uint8)
        for j in (20 + 4 + 60, 20 + 4 + 120):         # two bases of two different bytes of the codeword
            s = s[:j] + swap[s[j]] + s[j + 1:]
            conf[j] = 5
        hard.append((s, 1))
        soft.append((s, 1, conf))
    back, erased, st = dense.decode(hard, man, partial=True)
    assert erased.all() and st["valid"] == 0
    back, erased, st = dense.decode(soft, man, partial=True)
    assert back == data and not erased.any() and st["soft_repaired"] == len(strands)


def test_risky_repairs_give_way_to_parity(rng):
    data = rng.integers(0, 256, 6000).astype(np.uint8).tobytes()
    strands, man = dense.encode(data, redundancy=0.2)
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    recs = []
    for i, s in enumerate(strands):
        conf = np.full(len(s), 40, np.uint8)
        if i % 10 == 0:
            for j in (100, 160):
                s = s[:j] + swap[s[j]] + s[j + 1:]
                conf[j] = 3
        recs.append((s, 3, conf))
    back, erased, st = dense.decode(recs, man)
    assert back == data and st["soft_repaired"] > 0 and st["risky_erased"] == st["soft_repaired"]


def run_cli(args):
    from click.testing import CliRunner

    from dnastore.cli import cli
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_cli_dense_pool_decodes_from_its_reads_alone(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(np.random.default_rng(4).integers(0, 256, 12000).astype(np.uint8).tobytes())
    out = run_cli(["oligo-encode", str(src), "-o", str(tmp_path / "f.fasta"), "--code", "dense"])
    assert "code: dense" in out
    run_cli(["simulate", str(tmp_path / "f.fasta"), "--coverage", "5", "--seed", "2", "-o", str(tmp_path / "r.fastq")])
    run_cli(["consensus", str(tmp_path / "r.fastq")])
    cons = tmp_path / "r.consensus.fastq"
    assert cons.read_text()[0] == "@"
    (tmp_path / "r.consensus.fastq.json").unlink()   # the reads alone: the header strands give the manifest
    out = run_cli(["oligo-decode", str(cons), "-o", str(tmp_path / "back.bin")])
    assert "manifest_from: header strands" in out and "sha256_verified: True" in out
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()


def test_a_strand_of_the_other_code_or_encoding_is_an_erasure(rng):
    data = rng.integers(0, 256, 4000).astype(np.uint8).tobytes()
    g = get_code("goldman").encode(data, strand_length=240, primers=dense.DenseLayout().primers, unit=1,
                                   redundancy=0.2, extra={"mode": "file"})
    d = _dense(data)
    other = _dense(data[::-1])
    man = seal_manifest(d.manifest)
    for strands in (g.strands, other.strands):
        r = get_code("dense").decode([(s, 1) for s in strands], man)
        assert r.strands["valid"] == 0 and r.erased.all()
    gman = seal_manifest(g.manifest)
    assert get_code("goldman").decode([(s, 1) for s in d.strands], gman).strands["valid"] == 0


def test_the_outer_code_is_sized_to_a_strand_loss():
    """Each block fails below eps at the loss, the whole payload below eps_file; a small
    payload gets a larger share of parity, and the plan's blocks cover every data strand."""
    from dnastore.dna.outer import binom_tail, plan_for_loss
    shares = []
    for n in (3, 24, 233, 23256, 232559):
        plan = plan_for_loss(n, 0.025, 1e-4, 1e-2)
        assert sum(k for _, k in plan.blocks) == n and all(k + plan.nsym <= 255 for _, k in plan.blocks)
        fails = [binom_tail(plan.nsym, k + plan.nsym, 0.025) for _, k in plan.blocks]
        assert max(fails) < 1e-4 and 1 - np.prod([1 - f for f in fails]) < 1e-2
        assert binom_tail(plan.nsym - 1, max(k for _, k in plan.blocks) + plan.nsym - 1, 0.025) >= \
            min(1e-4, 1e-2 / len(plan.blocks))                      # one parity strand fewer would not do
        shares.append(plan.n_parity / n)
    assert shares[0] > shares[1] > shares[3] and shares[3] < 0.075
