"""The constrained mapping (issue 19's first piece): every strand meets the constraints, the
frames come back, and the mapping carries more than 1.9 raw bits per base."""

import numpy as np
import pytest

from dnastore.dna.constrained import (
    SEED_NT,
    Constraints,
    decode,
    encode,
    raw_density,
    satisfied,
)
from dnastore.errors import DnastoreError
from dnastore.io.seqio import encode_bases


def _runs_ok(s, r):
    for row in s:
        run = 1
        for a, b in zip(row[:-1], row[1:]):
            run = run + 1 if a == b else 1
            if run > r:
                return False
    return True


def test_random_frames_round_trip_and_meet_the_constraints(rng):
    frames = rng.integers(0, 4, (3000, 146)).astype(np.uint8)
    salts = np.arange(3000)
    left, right = encode_bases("CTACACGACGCTCAGTCGAT"), encode_bases("GATCGTAGCACTGTCAGTGC")
    s = encode(frames, salts, Constraints(), left, right)
    assert s.shape == (3000, 150)
    assert satisfied(s, Constraints(), left, right).all()
    full = np.concatenate([np.broadcast_to(left, (3000, 20)), s, np.broadcast_to(right, (3000, 20))], axis=1)
    assert _runs_ok(full[:200], 3)
    gc = ((s == 1) | (s == 2)).mean(axis=1)
    assert gc.min() >= 0.40 and gc.max() <= 0.60
    win = np.lib.stride_tricks.sliding_window_view((s == 1) | (s == 2), 20, axis=1).sum(axis=2)
    assert win.min() >= 5 and win.max() <= 15
    assert (decode(s, salts) == frames).all()
    assert raw_density(150) > 1.9


def test_constant_frames_give_distinct_strands(rng):
    """A file of zeros: identical frames must not make identical (or near-identical) strands,
    which clustering would merge."""
    frames = np.zeros((500, 146), dtype=np.uint8)
    s = encode(frames, np.arange(500))
    assert len({r.tobytes() for r in s}) == 500
    same = (s[:-1, SEED_NT:] == s[1:, SEED_NT:]).mean(axis=1)
    assert same.max() < 0.5                      # about a quarter by chance
    assert (decode(s, np.arange(500)) == 0).all()


def test_a_wrong_seed_descrambles_to_noise(rng):
    frames = rng.integers(0, 4, (200, 100)).astype(np.uint8)
    s = encode(frames, np.zeros(200, np.uint64))
    s[:, 0] = (s[:, 0] + 1) % 4
    assert (decode(s, np.zeros(200, np.uint64)) == frames).mean() < 0.4


def test_impossible_constraints_are_refused_in_one_line(rng):
    with pytest.raises(DnastoreError, match="none of the 256"):
        encode(rng.integers(0, 4, (5, 60)).astype(np.uint8), np.arange(5), Constraints(gc=(0.9, 1.0)))
