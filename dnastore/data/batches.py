"""A jit-compiled function over fixed-size batches: the last batch is padded, so that one
compiled shape serves every batch."""

from __future__ import annotations

import numpy as np


def batch_slices(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


def pad_rows(x: np.ndarray, size: int) -> np.ndarray:
    """Pad the last batch to ``size`` rows so one compiled shape serves every batch."""
    if len(x) == size:
        return x
    return np.concatenate([x, np.repeat(x[-1:], size - len(x), axis=0)])


def map_batches(fn, model, rows: np.ndarray, batch: int = 500, pad_always: bool = False):
    """``fn(model, part)`` over fixed-size batches of ``rows`` (the last one padded, so one
    compiled shape serves every batch; a single short batch is padded only with
    ``pad_always``), outputs cut back and concatenated. ``fn`` returns an array or a tuple of
    arrays."""
    outs = []
    for s in batch_slices(len(rows), batch):
        n = s.stop - s.start
        r = fn(model, pad_rows(rows[s], batch) if len(rows) > batch or pad_always else rows[s])
        outs.append(tuple(np.asarray(v)[:n] for v in r) if isinstance(r, tuple) else np.asarray(r)[:n])
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate(c) for c in zip(*outs))
    return np.concatenate(outs)
