"""Unequal error protection of the codes (BCH on the top bits) and decoder fine-tuning."""

import numpy as np
import pytest
from flax import nnx

from dnastore.codecs.protect import UEP, bits_code, code_bits
from dnastore.errors import DnastoreError


def test_bits_round_trip(rng):
    c = rng.integers(0, 16, (5, 16))
    b = code_bits(c, 4)
    assert b.shape == (5, 16, 4) and set(np.unique(b)) <= {0, 1}
    assert code_bits(np.array([9]), 4).tolist() == [[1, 0, 0, 1]]  # most significant bit first
    np.testing.assert_array_equal(bits_code(b), c)


def test_layout_and_corrections(rng):
    uep = UEP(4, 3, 10)
    k = 16
    assert uep.length(k) == 127  # 48 message + 63 parity + 16 unprotected
    codes = rng.integers(0, 16, (40, k))
    bits = uep.encode(codes)
    assert bits.shape == (40, 127)
    back, ok = uep.decode(bits, k)
    assert ok.all()
    np.testing.assert_array_equal(back, codes)

    # up to t flips in the protected codeword are corrected; flips in the unprotected bits land
    # in the bottom bit of their code and nowhere else
    noisy = bits.copy()
    for i in range(40):
        noisy[i, rng.choice(111, size=10, replace=False)] ^= 1
    noisy[:, 111] ^= 1  # bottom bit of code 0
    back, ok = uep.decode(noisy, k)
    assert ok.all()
    np.testing.assert_array_equal(back[:, 1:], codes[:, 1:])
    np.testing.assert_array_equal(back[:, 0], codes[:, 0] ^ 1)

    # far more flips than t: reported as failed, the message bits are used as read
    wild = bits.copy()
    wild[:, :111] ^= (rng.random((40, 111)) < 0.3).astype(np.uint8)
    back, ok = uep.decode(wild, k)
    assert (~ok).sum() >= 35
    assert back.shape == codes.shape and back.max() < 16


def test_unprotected_and_bad_settings():
    uep = UEP(3, 0, 0)
    codes = np.arange(16).reshape(2, 8) % 8
    bits = uep.encode(codes)
    assert bits.shape == (2, 24)
    np.testing.assert_array_equal(uep.decode(bits, 8)[0], codes)
    with pytest.raises(DnastoreError, match="exceed"):
        UEP(8, 8, 10).length(16)  # 128 message bits > 64
    with pytest.raises(DnastoreError, match="protected bits"):
        UEP(4, 5, 10)
    with pytest.raises(DnastoreError, match="bits per image"):
        UEP(4, 3, 10).decode(np.zeros((2, 100), np.uint8), 16)


def test_finetune_decoder_touches_only_the_decoder(rng):
    from dnastore.codecs.infer import encode_images
    from dnastore.codecs.train import finetune_decoder
    from dnastore.codecs.vae import VAE, VAEConfig
    from dnastore.codecs.weights import model_arrays
    m = VAE(VAEConfig(latent=4), nnx.Rngs(0))
    x = rng.integers(0, 256, (128, 28, 28)).astype(np.uint8)
    mu, _ = encode_images(m, x)
    before, _ = model_arrays(m)
    losses = []
    finetune_decoder(m, x, mu, lambda z, r: z + r.normal(size=z.shape), epochs=2,
                     on_epoch=lambda e, loss: losses.append(loss))
    after, _ = model_arrays(m)
    assert len(losses) == 2 and all(np.isfinite(losses))
    changed = {k for k in before if not np.array_equal(before[k], after[k])}
    assert changed and all(k.split("/")[0] in ("dfc", "d1", "d2", "d3", "dbn1", "dbn2") for k in changed)
    assert {"dfc/kernel", "d3/conv/kernel"} <= changed
    np.testing.assert_array_equal(encode_images(m, x)[0], mu)  # the codes do not change
