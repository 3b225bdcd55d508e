"""The inner code (issue 19's second piece): repairs within its margin, tells garbage from a
codeword, uses erasures, and repairs one insertion or deletion."""

import numpy as np

from dnastore.dna.inner import (
    decode,
    encode,
    repair_indel,
    syndromes,
    to_bytes,
    to_symbols,
)


def test_codewords_check_and_single_errors_are_repaired(rng):
    data = rng.integers(0, 256, (500, 32)).astype(np.uint8)
    code = encode(data, 4)
    assert not syndromes(code, 4).any()
    bad = code.copy()
    pos = rng.integers(0, 36, 500)
    bad[np.arange(500), pos] ^= rng.integers(1, 256, 500).astype(np.uint8)
    out, ok, fixed = decode(bad, 4)
    assert ok.all() and (out == data).all() and (fixed == 1).all()


def test_two_errors_are_refused_unless_marked_as_erasures(rng):
    data = rng.integers(0, 256, (200, 32)).astype(np.uint8)
    bad = encode(data, 4)
    er = np.zeros(bad.shape, bool)
    for i in range(200):
        p = rng.choice(36, 2, replace=False)
        bad[i, p] ^= rng.integers(1, 256, 2).astype(np.uint8)
        er[i, p] = True
    _, ok, _ = decode(bad, 4)
    assert not ok.any()                       # 2 x 2 errors > 4 - 1: refused, never miscorrected
    out, ok, _ = decode(bad, 4, erasures=er)
    assert ok.all() and (out == data).all()


def test_garbage_is_not_taken_for_a_codeword(rng):
    junk = rng.integers(0, 256, (3000, 36)).astype(np.uint8)
    _, ok, _ = decode(junk, 4)
    assert ok.mean() < 0.01


def test_one_insertion_or_deletion_is_repaired(rng):
    data = rng.integers(0, 256, (60, 32)).astype(np.uint8)
    sym = to_symbols(encode(data, 4))
    assert (to_bytes(sym) == encode(data, 4)).all()
    L = sym.shape[1]

    def code_of(rows):
        return to_bytes(rows)
    fixed = 0
    for i in range(60):
        p = int(rng.integers(0, L))
        short = np.delete(sym[i], p)
        long = np.insert(sym[i], p, int(rng.integers(0, 4)))
        for row in (short, long):
            got = repair_indel(row, L, code_of, 4)
            if got is not None:
                assert (got == sym[i]).all()
                fixed += 1
    assert fixed >= 110                      # nearly all of 120; none wrong
