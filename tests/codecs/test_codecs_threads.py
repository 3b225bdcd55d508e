"""Threads share one loaded model: the jit-compiled inference calls read the model and never
write it back (``nnx.jit`` does, and a second thread then finds the model without its
attributes: "'VAE' object has no attribute 'hs'")."""

import threading

import numpy as np

from dnastore.codecs.infer import decode_latents, encode_images
from dnastore.codecs.weights import load_weights
from dnastore.data.batches import model_jit


def _in_threads(work, n=4):
    errors = []

    def guarded():
        try:
            work()
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))
    threads = [threading.Thread(target=guarded) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_vae_inference_in_threads_on_one_model_gives_the_single_thread_answer():
    w = load_weights()
    z = np.random.default_rng(0).normal(size=(32, w.latent)).astype(np.float32)
    images = np.random.default_rng(1).integers(0, 256, (32, 28, 28), dtype=np.uint8)
    want_x, want_mu = decode_latents(w.model, z, batch=8), encode_images(w.model, images, batch=8)[0]

    def work():
        for _ in range(60):
            assert np.array_equal(decode_latents(w.model, z, batch=8), want_x)
            assert np.array_equal(encode_images(w.model, images, batch=8)[0], want_mu)
    assert _in_threads(work) == []
    assert w.model.hs == [28, 14, 7, 4]


def test_model_jit_follows_the_models_state_and_drops_what_the_function_writes():
    from flax import nnx

    class Scale(nnx.Module):
        def __init__(self):
            self.w = nnx.Param(np.full((1,), 2.0, np.float32))

    @model_jit
    def apply(m, x):
        m.w[...] = m.w[...] * 10     # written inside the trace, dropped
        return m.w[...] * x

    m = Scale()
    assert float(apply(m, np.float32(3.0))[0]) == 60.0
    assert float(m.w[...][0]) == 2.0
    m.w[...] = np.full((1,), 5.0, np.float32)       # a new value is read on the next call
    assert float(apply(m, np.float32(3.0))[0]) == 150.0
