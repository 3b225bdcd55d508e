"""Header strands: the manifest written into the pool and read back from strands alone."""

import json

import numpy as np
import pytest

from dnastore.dna.codec import DEFAULT_PRIMERS, Layout, check_strands, encode_payload
from dnastore.dna.header import (
    _pack_manifest,
    _unpack_manifest,
    compare,
    header_strands,
    read_header,
)
from dnastore.errors import DnastoreError
from dnastore.io.manifest import manifest_digest, seal_manifest


def _pool(n_bytes=3000, seed=0, primers=DEFAULT_PRIMERS, redundancy=0.3):
    data = np.random.default_rng(seed).integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
    enc = encode_payload(data, Layout(primers=primers), redundancy=redundancy,
                         extra={"mode": "file", "file_name": "x.bin", "sha256": "0" * 64})
    man = seal_manifest(enc.manifest)
    return enc, man


def test_the_frame_rebuilds_the_very_manifest():
    _, man = _pool()
    back = _unpack_manifest(_pack_manifest(man))
    assert back is not None and manifest_digest(back) == manifest_digest(man)
    assert json.dumps(back, sort_keys=True) == json.dumps(man, sort_keys=True)
    frame = bytearray(_pack_manifest(man))
    frame[30] ^= 1
    assert _unpack_manifest(bytes(frame)) is None


@pytest.mark.parametrize("primers", [DEFAULT_PRIMERS, ("ACACGACGCTCTTCCGATCT", "AGATCGGAAGAGCACACGTC"), ("", "")])
def test_header_strands_come_back_without_the_manifest_and_with_half_of_them_lost(primers):
    enc, man = _pool(primers=primers)
    heads, info = header_strands(man, Layout(primers=primers), copies=1)
    assert info["unique"] == len(heads) and info["chunks"] <= info["unique"] // 2 + 1
    rng = np.random.default_rng(1)
    keep = rng.permutation(len(heads))[:len(heads) - info["chunks"] // 2]  # lose a quarter of them
    data = [(s, 5.0) for s in enc.strands]
    strands = data + [(heads[i], 10.0) for i in keep]
    rng.shuffle(strands)
    got, is_header, stats = read_header(strands)  # no primers given: the split is searched
    assert got is not None and manifest_digest(got) == manifest_digest(man)
    assert is_header.sum() == len(keep) and stats["header_strands_found"] == len(keep)
    assert all(strands[i][0] in heads for i in np.flatnonzero(is_header))


def test_too_many_lost_header_strands_give_no_manifest():
    enc, man = _pool()
    heads, info = header_strands(man, Layout(), copies=1)
    got, _, _ = read_header([(s, 1.0) for s in enc.strands] + [(s, 1.0) for s in heads[:info["chunks"] - 1]])
    assert got is None


def test_header_strands_never_pass_the_data_check():
    enc, man = _pool()
    heads, _ = header_strands(man, Layout(), copies=1, data_check=lambda ss: _valid(man, ss))
    idx, _, _, stats = check_strands(man, [(s, 1.0) for s in heads])
    assert stats["valid"] == 0 and len(idx) == 0


def _valid(man, strands):
    _, pos, _, _ = check_strands(man, [(s, float(i)) for i, s in enumerate(strands)])
    out = np.zeros(len(strands), bool)
    out[pos.astype(int)] = True
    return out


def test_two_pools_mixed_the_preferred_or_the_heavier_wins():
    enc_a, man_a = _pool(seed=1)
    enc_b, man_b = _pool(seed=2)
    ha, _ = header_strands(man_a, Layout(), copies=1)
    hb, _ = header_strands(man_b, Layout(), copies=1)
    strands = [(s, 3.0) for s in ha] + [(s, 9.0) for s in hb]
    assert read_header(strands)[0]["encoding_id"] == man_b["encoding_id"]
    assert read_header(strands, prefer=man_a["encoding_id"])[0]["encoding_id"] == man_a["encoding_id"]


def test_a_manifest_that_disagrees_with_the_header_is_refused_by_field():
    _, man = _pool()
    other = seal_manifest(dict(man, file_name="y.bin"))
    with pytest.raises(DnastoreError, match="'file_name'"):
        compare(other, man, "m.json")
    with pytest.raises(DnastoreError, match="another encoding"):
        compare(dict(man, encoding_id="0" * 16), man, "m.json")
    compare(dict(man, provenance={"x": 1}), man, "m.json")  # provenance is not the header's business


def test_a_header_strand_the_data_decoder_would_take_is_rewritten_with_another_mask():
    enc, man = _pool()
    plain, _ = header_strands(man, Layout(), copies=1)
    calls = []

    def clash_first(strands):
        calls.append(list(strands))
        out = np.zeros(len(strands), bool)
        out[0] = len(calls) == 1  # strand 0 "passes the data check" once
        return out
    heads, _ = header_strands(man, Layout(), copies=1, data_check=clash_first)
    assert len(calls) == 2 and heads[0] != plain[0] and heads[1:] == plain[1:]
    got, _, _ = read_header([(s, 1.0) for s in heads])
    assert got is not None and got["encoding_id"] == man["encoding_id"]


def test_strands_called_in_reverse_complement_still_give_the_header():
    """Consensus of reads whose design was guessed may call every strand reversed."""
    from dnastore.io.seqio import revcomp
    enc, man = _pool()
    heads, _ = header_strands(man, Layout(), copies=1)
    strands = [(revcomp(s), 4.0) for s in enc.strands + heads]
    got, is_header, _ = read_header(strands)
    assert got is not None and got["encoding_id"] == man["encoding_id"] and is_header.sum() == len(heads)


def test_a_manifest_with_ten_thousand_names_fits_the_header():
    """10,000 image names (the MNIST test set's size) need more header strands than a 7-trit
    header index could number."""
    from dnastore.dna.approx import codes_payload
    codes = np.random.default_rng(0).integers(0, 256, (10_000, 16), dtype=np.uint8)
    payload, extra = codes_payload(codes, {"n_bits": 8, "codec": "vae"}, {},
                                   names=[f"photos/img-{i:05d}-{i % 10}.png" for i in range(10_000)])
    enc = encode_payload(payload, Layout(), redundancy=0.5, extra=extra)
    man = seal_manifest(enc.manifest)
    heads, info = header_strands(man, Layout(), copies=1)
    assert info["unique"] > 3 ** 7
    got, _, _ = read_header([(s, 1.0) for s in heads], primers=DEFAULT_PRIMERS)
    assert got is not None and got["codes"]["names"][-1] == "photos/img-09999-9.png"
