"""The VAE codec's parts: the model, training and checkpoints, the quantizers, the weights
and their VAEN statistics."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnastore.codecs import quant
from dnastore.codecs.vae import VAE, VAEConfig
from dnastore.errors import DnastoreError


# ---------------------------------------------------------------- model
@pytest.mark.parametrize("upsample", ["shuffle", "transpose"])
@pytest.mark.parametrize("shape,channels", [((28, 28), 1), ((32, 32), 3)])
def test_model_shapes(upsample, shape, channels):
    from flax import nnx
    cfg = VAEConfig(latent=12, image_shape=shape, channels=channels, upsample=upsample)
    m = VAE(cfg, nnx.Rngs(0))
    x = np.random.default_rng(0).random((3, *shape) + ((channels,) if channels > 1 else ())).astype(np.float32)
    mu, logvar = m.encode(x)
    assert mu.shape == logvar.shape == (3, 12)
    y = m.decode(mu)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1


def test_both_likelihoods_give_finite_losses_with_their_parts():
    import jax
    from flax import nnx
    x = np.random.default_rng(1).random((4, 28, 28)).astype(np.float32)
    for lik in ("bernoulli", "gaussian"):
        m = VAE(VAEConfig(latent=4, likelihood=lik), nnx.Rngs(0))
        loss, parts = m.loss(x, jax.random.key(0))
        assert np.isfinite(float(loss)) and float(parts["kl"]) >= 0
        assert float(loss) == pytest.approx(float(parts["rec"]) + float(parts["kl"]), rel=1e-5)


def test_config_round_trips_and_rejects_bad_values():
    cfg = VAEConfig(latent=8, likelihood="gaussian", upsample="transpose")
    assert VAEConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
    with pytest.raises(ValueError):
        VAEConfig(likelihood="poisson")
    with pytest.raises(DnastoreError, match="unknown settings depth"):
        VAEConfig.from_json({"latent": 4, "depth": 3})


def test_tiny_training_lowers_the_loss_and_resumes_exactly(tmp_path, mnist_small):
    import jax

    from dnastore.codecs.train import Trainer
    from dnastore.codecs.weights import model_arrays
    x = mnist_small[0][:256]
    tr = Trainer(VAEConfig(latent=4), batch=32, seed=3)
    probe = np.asarray(x[:64], np.float32) / 255.0

    def loss():
        return float(tr.model.loss(probe, jax.random.key(0), train=False)[0])
    before = loss()
    tr.train_epoch(x)
    tr.save(tmp_path / "last.msgpack")
    tr.train_epoch(x)
    after = loss()
    assert after < before - 50, (before, after)
    # resuming from the checkpoint repeats epoch 2 exactly
    tr2 = Trainer(VAEConfig(latent=4), batch=32, seed=3)
    tr2.load(tmp_path / "last.msgpack")
    assert tr2.epoch == 1
    tr2.train_epoch(x)
    a, b = model_arrays(tr.model)[0], model_arrays(tr2.model)[0]
    assert all(np.allclose(a[k], b[k], atol=1e-5) for k in a)
    # a checkpoint of another run is refused
    from dnastore.errors import DnastoreError
    with pytest.raises(DnastoreError, match="other settings"):
        Trainer(VAEConfig(latent=8), batch=32, seed=3).load(tmp_path / "last.msgpack")


# ---------------------------------------------------------------- quantizers
@settings(max_examples=60, deadline=None)
@given(n_bits=st.integers(1, 16), kind=st.sampled_from(["vaeu", "vaen"]), packing=st.sampled_from(["gray", "binary"]),
       seed=st.integers(0, 2**31))
def test_quantize_round_trip_within_half_a_step(n_bits, kind, packing, seed):
    rng = np.random.default_rng(seed)
    mean, std = rng.normal(size=6), rng.uniform(0.2, 2.0, size=6)
    x = rng.uniform(-2.9, 2.9, size=(50, 6)) if kind == "vaeu" else mean + std * rng.normal(size=(50, 6))
    c = quant.quantize(x, kind, n_bits, mean, std, packing)
    assert c.dtype == quant.code_dtype(n_bits) and int(c.max()) < 2 ** n_bits
    y = quant.dequantize(c, kind, n_bits, mean, std, packing)
    half = quant.step_size(kind, n_bits) / 2
    if kind == "vaeu":
        assert np.abs(y - x).max() <= half + 1e-5
    else:
        u, v = quant.to_unit(x, kind, mean, std), quant.to_unit(y.astype(np.float64), kind, mean, std)
        assert np.abs(u - v).max() <= half + 1e-5


def test_gray_code_is_a_bijection_with_single_bit_steps():
    c = np.arange(1 << 16, dtype=np.uint16)
    g = quant.to_gray(c)
    assert len(np.unique(g)) == len(c) and (quant.from_gray(g) == c).all()
    diff = (g[1:] ^ g[:-1]).astype(np.uint32)
    assert (np.bitwise_count(diff) == 1).all()


def test_erased_codes_become_the_prior_centre():
    mean, std = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    c = np.zeros((2, 2), np.uint8)
    er = np.array([[True, False], [False, True]])
    y = quant.dequantize(c, "vaen", 8, mean, std, "gray", er)
    assert y[0, 0] == pytest.approx(0.5) and y[1, 1] == pytest.approx(-1.0)
    assert quant.dequantize(c, "vaeu", 8, erased=er)[0, 0] == 0.0


# ---------------------------------------------------------------- weights and statistics
def test_shipped_weights_load_with_statistics_and_metadata():
    from dnastore.codecs.weights import default_weights_path, load_weights
    w = load_weights()
    k = w.config.latent
    assert w.stats["mean"].shape == w.stats["std"].shape == (2 * k,)
    assert (w.stats["std"] > 0).all()
    assert w.digest.startswith("sha256:") and Path(w.path) == default_weights_path()
    assert w.meta["test"]["psnr"] > 18


def test_vaen_statistics_are_persisted_and_reloaded(tmp_path, mnist_small):
    from flax import nnx

    from dnastore.codecs.train import encoder_stats
    from dnastore.codecs.weights import load_weights, save_weights
    cfg = VAEConfig(latent=6)
    m = VAE(cfg, nnx.Rngs(1))
    stats = encoder_stats(m, mnist_small[0][:128])
    save_weights(tmp_path / "w.msgpack", cfg, m, stats, {})
    w = load_weights(tmp_path / "w.msgpack")
    for k in ("mean", "std"):
        assert np.array_equal(w.stats[k], stats[k])
    mu, lv = m.encode(np.asarray(mnist_small[0][:128], np.float32) / 255.0)
    assert np.allclose(stats["mean"][:6], np.asarray(mu).mean(0), atol=1e-4)
    # the statistics go into the codes and are checked against the weights when decoding
    from dnastore.codecs.learned import dequantize_codes, quantize_latents
    codes, attrs, side = quantize_latents(np.asarray(mu), np.asarray(lv), w, "vaen", 8, "mu-logvar")
    assert np.array_equal(side["stat_mean"], stats["mean"])
    from dnastore.errors import DnastoreError
    with pytest.raises(DnastoreError, match="statistics"):
        dequantize_codes(codes, attrs, {**side, "stat_mean": side["stat_mean"] + 1}, None, w)


# ---------------------------------------------------------------- CLI
