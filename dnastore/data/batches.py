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



def model_jit(fn=None, *, static_argnames: tuple[str, ...] = ()):
    """``jax.jit`` of ``fn(model, *args)`` that leaves ``model`` alone, so that threads may share
    one model: the model's state is read on each call and merged with its graph afresh inside
    the trace. (``nnx.jit`` writes the model back after every call, clearing its attributes for
    a moment, and a second thread that reads the model then fails.) For inference only: a
    change the function makes to the model's state is dropped."""
    import functools
    import threading
    import weakref

    import jax
    from flax import nnx

    def wrap(f):
        compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        lock = threading.Lock()

        def jitted(model):
            graphdef, state = nnx.split(model)
            with lock:
                for g, j in compiled.get(model, ()):
                    if g == graphdef:
                        return j, state
                j = jax.jit(lambda st, *a, **k: f(nnx.merge(graphdef, st), *a, **k),
                            static_argnames=static_argnames)
                compiled.setdefault(model, []).append((graphdef, j))
                return j, state

        @functools.wraps(f)
        def call(model, *args, **kwargs):
            j, state = jitted(model)
            return j(state, *args, **kwargs)
        return call
    return wrap(fn) if fn is not None else wrap
