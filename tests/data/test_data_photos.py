"""The offline photo sets: a fixed split, nothing shared between held-out and training photos."""

import numpy as np
import pytest

from dnastore.data.photos import HELD_OUT, TRAIN, photo_set
from dnastore.errors import DnastoreError


def test_the_held_out_photos_load_offline_and_stay_out_of_training():
    assert not set(HELD_OUT) & set(TRAIN)
    held = photo_set("held-out")
    assert [n for n, _ in held] == list(HELD_OUT)
    for _, a in held:
        assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and min(a.shape[:2]) >= 300
    train = photo_set("train")
    assert len(train) == len(TRAIN)
    # no training photo is a held-out one under another name
    digests = {a.tobytes()[:4096] for _, a in held}
    assert not any(a.tobytes()[:4096] in digests for _, a in train)
    with pytest.raises(DnastoreError, match="unknown photo split"):
        photo_set("test")
