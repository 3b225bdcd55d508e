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
                assert (got == to_bytes(sym[i][None])[0]).all()
                fixed += 1
    assert fixed >= 110                      # nearly all of 120; none wrong


def test_an_indel_with_a_substitution_is_repaired_with_one_error_allowed(rng):
    data = rng.integers(0, 256, (60, 32)).astype(np.uint8)
    words = encode(data, 4)
    sym = to_symbols(words)
    L = sym.shape[1]
    fixed = 0
    for i in range(60):
        row = sym[i].copy()
        q = int(rng.integers(0, L))
        row[q] = (row[q] + 1) % 4                                   # a substitution
        row = np.delete(row, int(rng.integers(0, L)))               # and a deletion
        plain = repair_indel(row, L, to_bytes, 4)        # only where the two errors meet
        assert plain is None or (plain == words[i]).all()
        got = repair_indel(row, L, to_bytes, 4, one_error=True)
        if got is not None:
            assert (got == words[i]).all()
            fixed += 1
    assert fixed >= 50


def test_single_error_finds_and_repairs_one_byte(rng):
    from dnastore.dna.inner import single_error
    words = encode(rng.integers(0, 256, (200, 40)).astype(np.uint8), 4)
    bad = words.copy()
    j = rng.integers(0, words.shape[1], 200)
    bad[np.arange(200), j] ^= rng.integers(1, 256, 200).astype(np.uint8)
    ok, rep = single_error(bad, 4)
    assert ok.all() and (rep == words).all()
    two = bad.copy()
    two[np.arange(200), (j + 3) % words.shape[1]] ^= 0x5A
    ok, _ = single_error(two, 4)
    assert ok.mean() < 0.02


def test_two_edits_at_unsure_places_are_repaired(rng):
    """Two deletions, two insertions, or a shifted base (a deletion and an insertion), with
    the consensus unsure at the edits and at a few other places."""
    from dnastore.dna.inner import repair_edits
    words = encode(rng.integers(0, 256, (40, 30)).astype(np.uint8), 4)
    sym = to_symbols(words)
    L = sym.shape[1]
    fixed = 0
    for i in range(40):
        for kind in ("two short", "two long", "shifted"):
            p, q = sorted(rng.choice(L, 2, replace=False))
            if kind == "two short":
                bad, places = np.delete(sym[i], [p, q]), [p, q - 1]
            elif kind == "two long":
                bad, places = np.insert(sym[i], [p, q], [1, 2]), [p, q + 1]
            else:
                bad, places = np.insert(np.delete(sym[i], p), q - 1, 3), [p, q - 1]
            got = repair_edits(bad, L, to_bytes, 4, np.concatenate([places, rng.choice(len(bad), 6)]))
            if got is not None:
                assert (got == words[i]).all()
                fixed += 1
    assert fixed >= 110
