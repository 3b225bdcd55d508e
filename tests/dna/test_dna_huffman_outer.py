import numpy as np
import pytest
import reedsolo

from dnastore.dna.huffman import LMAX, TernaryHuffman, canonical_codes, code_lengths
from dnastore.dna.outer import RSPlan, rs_decode, rs_encode
from dnastore.errors import DnastoreError


def test_huffman_lengths_obey_kraft_and_cap(rng):
    skewed = np.minimum(rng.geometric(0.05, 20000), 255)
    lengths = code_lengths(np.bincount(skewed, minlength=256))
    assert lengths.max() <= LMAX
    assert np.sum(3.0 ** -lengths) <= 1 + 1e-12
    # frequent symbols get short codes
    assert lengths[1] < lengths[200]


def test_canonical_codes_are_prefix_free():
    lengths = code_lengths(np.arange(256) + 1)
    codes = canonical_codes(lengths)
    strs = []
    for c, l in zip(codes, lengths):
        digits = []
        for _ in range(l):
            digits.append(str(c % 3))
            c //= 3
        strs.append("".join(reversed(digits)))
    assert len(set(strs)) == 256
    for a in strs:
        for b in strs:
            assert a == b or not b.startswith(a)


def test_huffman_rows_round_trip_and_flag_corruption(rng):
    data = rng.integers(0, 256, (300, 17)).astype(np.uint8)
    h = TernaryHuffman.from_data(data)
    width = int(h.row_lengths(data).max()) + 4
    trits = h.encode_rows(data, width)
    out, ok = h.decode_rows(trits, 17)
    assert ok.all() and (out == data).all()
    # random uniform bytes cost about 5.05 trits each (3^5 = 243 < 256)
    assert 5.0 < h.row_lengths(data).mean() / 17 < 5.2


def test_rs_parity_matches_reedsolo(rng):
    plan = RSPlan.make(600, 0.1)
    data = rng.integers(0, 256, (600, 9)).astype(np.uint8)
    parity = rs_encode(data, plan)
    for b, (start, k) in enumerate(plan.blocks):
        for col in (0, 8):
            ref = reedsolo.RSCodec(plan.nsym).encode(bytearray(data[start:start + k, col].tobytes()))[k:]
            assert bytes(ref) == parity[b * plan.nsym:(b + 1) * plan.nsym, col].tobytes()


def test_rs_recovers_erasures_and_an_unflagged_error(rng):
    plan = RSPlan.make(500, 0.2)
    data = rng.integers(0, 256, (500, 11)).astype(np.uint8)
    parity = rs_encode(data, plan)
    ok = np.ones(500, bool)
    lost = rng.choice(500, 40, replace=False)
    ok[lost] = False
    garbled = data.copy()
    garbled[lost] = 0
    keep = np.flatnonzero(ok)[0]
    garbled[keep, 3] ^= 0x5A  # a strand that passed its check with a wrong byte
    out, stats = rs_decode(garbled, parity, ok, np.ones(len(parity), bool), plan)
    assert (out == data).all()
    assert stats["columns_fallback"] >= 1


def test_rs_refuses_a_block_beyond_repair(rng):
    plan = RSPlan.make(100, 0.1)
    data = rng.integers(0, 256, (100, 4)).astype(np.uint8)
    parity = rs_encode(data, plan)
    ok = np.ones(100, bool)
    ok[:plan.nsym + 1] = False
    with pytest.raises(DnastoreError, match="lost"):
        rs_decode(data, parity, ok, np.ones(len(parity), bool), plan)


def test_rs_partial_repairs_the_blocks_it_can_and_keeps_what_the_others_received(rng):
    plan = RSPlan.make(600, 0.2)  # several blocks
    assert len(plan.blocks) >= 3
    data = rng.integers(0, 256, (600, 5)).astype(np.uint8)
    parity = rs_encode(data, plan)
    ok = np.ones(600, bool)
    (s0, k0), (s1, k1) = plan.blocks[0], plan.blocks[1]
    ok[s0:s0 + plan.nsym + 3] = False  # block 0: beyond repair
    ok[s1:s1 + 2] = False              # block 1: repairable
    garbled = np.where(ok[:, None], data, 0).astype(np.uint8)
    out, stats = rs_decode(garbled, parity, ok, np.ones(len(parity), bool), plan, partial=True)
    rows_ok = stats["rows_ok"]
    assert stats["blocks_failed"] == 1
    assert (rows_ok == np.concatenate([ok[:s1], np.ones(600 - s1, bool)])).all()
    assert (out[rows_ok] == data[rows_ok]).all()
