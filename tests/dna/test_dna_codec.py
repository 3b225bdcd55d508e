import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dnastore.dna.codec import Layout, assemble_payload, decode_strands, encode_payload
from dnastore.errors import DnastoreError


def _no_homopolymer(s: str) -> bool:
    return all(a != b for a, b in zip(s, s[1:]))


def _gc(s: str) -> float:
    return (s.count("G") + s.count("C")) / len(s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=1, max_size=600),
       strand_length=st.sampled_from([100, 150, 200]),
       redundancy=st.sampled_from([None, 0.2]))
# skewed bytes whose parity forces smaller chunks than the data alone would take
@example(data=bytes([1] * 8 + [2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16]), strand_length=100, redundancy=0.2)
def test_constraints_and_identity(data, strand_length, redundancy):
    enc = encode_payload(data, Layout(strand_length=strand_length), redundancy=redundancy)
    lo, hi = enc.manifest["layout"]["gc_band"]
    for s in enc.strands:
        assert len(s) == strand_length
        assert set(s) <= set("ACGT")
        assert _no_homopolymer(s)
        assert lo <= _gc(s) <= hi
    dec = decode_strands([(s, 1) for s in enc.strands], enc.manifest)
    payload, erased, _ = assemble_payload(dec, enc.manifest)
    assert payload == data and not erased.any()


@settings(max_examples=15, deadline=None)
@given(data=st.binary(min_size=1, max_size=300))
def test_no_primers_layout_keeps_constraints(data):
    enc = encode_payload(data, Layout(strand_length=80, primers=("", "")))
    assert all(_no_homopolymer(s) and 0.4 <= _gc(s) <= 0.6 for s in enc.strands)
    dec = decode_strands([(s, 1) for s in enc.strands], enc.manifest)
    assert assemble_payload(dec, enc.manifest)[0] == data


def test_skewed_payload_compresses_below_random(rng):
    skewed = np.minimum(rng.geometric(0.4, 5000), 255).astype(np.uint8).tobytes()
    flat = rng.integers(0, 256, 5000).astype(np.uint8).tobytes()
    a = encode_payload(skewed, Layout())
    b = encode_payload(flat, Layout())
    assert a.manifest["n_strands"] < b.manifest["n_strands"] / 2


def test_corrupted_strand_is_an_erasure_never_misplaced(rng):
    data = rng.integers(0, 256, 3000).astype(np.uint8).tobytes()
    enc = encode_payload(data, Layout(), redundancy=0.2)
    strands = list(enc.strands)
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    bad = []
    for i in range(0, len(strands), 7):
        s = strands[i]
        j = 40 + (i % 60)
        strands[i] = s[:j] + swap[s[j]] + s[j + 1:]
        bad.append(i)
    dec = decode_strands([(s, 1) for s in strands], enc.manifest)
    assert not dec.present[bad].any()
    good = np.setdiff1d(np.arange(len(strands)), bad)
    assert dec.present[good].all()
    payload, _, stats = assemble_payload(dec, enc.manifest)
    assert payload == data and stats["outer"]["rows_recovered"] > 0


def test_missing_strands_without_outer_code(rng):
    data = rng.integers(0, 256, 2000).astype(np.uint8).tobytes()
    enc = encode_payload(data, Layout())
    dec = decode_strands([(s, 1) for s in enc.strands[1:]], enc.manifest)
    with pytest.raises(DnastoreError, match="missing"):
        assemble_payload(dec, enc.manifest)
    payload, erased, _ = assemble_payload(dec, enc.manifest, allow_partial=True)
    b = enc.manifest["bytes_per_strand"]
    assert erased[:b].all() and not erased[b:].any()
    assert payload[b:] == data[b:]


def test_codes_mode_keeps_whole_codes_per_strand(rng):
    codes = rng.integers(0, 1024, 900).astype(">u2").tobytes()
    enc = encode_payload(codes, Layout(), unit=2)
    assert enc.manifest["bytes_per_strand"] % 2 == 0


def test_reverse_complemented_strands_decode():
    from dnastore.io.seqio import revcomp
    data = b"approximate storage in DNA " * 20
    enc = encode_payload(data, Layout())
    dec = decode_strands([(revcomp(s), 1) for s in enc.strands], enc.manifest)
    assert assemble_payload(dec, enc.manifest)[0] == data


def test_density_is_reported():
    enc = encode_payload(bytes(range(256)) * 8, Layout())
    d = enc.manifest["density"]
    assert 0 < d["bits_per_nt"] < d["bits_per_nt_without_primers"] < np.log2(3)
    assert d["payload_bits"] == 8 * 2048
