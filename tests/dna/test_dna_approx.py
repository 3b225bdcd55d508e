"""Approximate mode of the oligo code: codes packed n_bits each and back, with erasures."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dnastore.dna.approx import pack_bits, unpack_bits


def code_dtype(n_bits):
    return np.uint8 if n_bits <= 8 else np.uint16


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 20), d=st.integers(1, 12), n_bits=st.integers(1, 16), order=st.sampled_from(["column", "row"]),
       seed=st.integers(0, 2**31))
def test_bit_packing_round_trip_and_erasures(n, d, n_bits, order, seed):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 1 << n_bits, (n, d)).astype(code_dtype(n_bits))
    payload = pack_bits(codes, n_bits, order)
    assert len(payload) == -(-n * d * n_bits // 8)
    none = np.zeros(len(payload), bool)
    back, er = unpack_bits(payload, none, (n, d), n_bits, order)
    assert (back == codes).all() and not er.any()
    lost = none.copy()
    lost[rng.integers(0, len(payload))] = True
    back, er = unpack_bits(payload, lost, (n, d), n_bits, order)
    assert er.any() and (back[~er] == codes[~er]).all()
