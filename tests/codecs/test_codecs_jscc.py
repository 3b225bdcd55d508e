"""Joint and separate neural communication systems (seed 002): training, separation, the
bandwidth-limited models and the experiment pipeline on a colour folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from dnastore.codecs.jscc import (
    JSCC,
    JSCCConfig,
    communicate,
    load_jscc,
    mse,
    save_jscc,
)
from dnastore.codecs.jscc_train import Fitter, joint_loss, train_separate

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(hidden=64, latent=8, channel_dims=8)


def _images(n: int, seed: int, side: int = 28) -> np.ndarray:
    """Blobs: a smooth, learnable image family."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side] / side
    c = rng.uniform(0.2, 0.8, (n, 2, 1, 1))
    w = rng.uniform(0.05, 0.2, (n, 1, 1))
    img = np.exp(-((xx - c[:, 0]) ** 2 + (yy - c[:, 1]) ** 2) / (2 * w ** 2))
    return (img * 255).astype(np.uint8)


def _params(model: JSCC, name: str) -> list[np.ndarray]:
    return [np.asarray(a) for a in jax.tree.leaves(nnx.to_pure_dict(nnx.state(model, nnx.Param))[name])]


def test_config_is_checked():
    for bad in (dict(channel_dims=10, n_parts=3), dict(prior="convdraw"), dict(marginal="mean"), dict(beta=-1),
                dict(bandwidth_probs=(0.5, 0.6), n_parts=2, channel_dims=4), dict(latent=0),
                dict(channel="relaxed-bsc", n_parts=2), dict(channel="relaxed-bsc", eps=0.5), dict(channel="bec")):
        with pytest.raises(ValueError):
            JSCCConfig(**bad)
    cfg = JSCCConfig(n_parts=5, channel_dims=100, bandwidth_probs=(0.1, 0.2, 0.3, 0.2, 0.2), aux=3)
    assert JSCCConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg


def test_the_channel_autoencoder_never_sees_the_source():
    """Separation: the channel coder is trained on prior samples only. Two different sources
    (and a poisoned one) give bit-identical channel coders and different source coders."""
    cfg = JSCCConfig(**SMALL, snr_db=5.0)
    a = train_separate(cfg, _images(300, 0), epochs=2, seed=3)
    b = train_separate(cfg, 255 - _images(300, 1), epochs=2, seed=3)
    poisoned = np.full((300, 28, 28), np.nan, np.float32)
    c = train_separate(cfg, poisoned, epochs=1, seed=3)
    for name in ("ch_enc", "ch_dec"):
        for pa, pb, pc in zip(_params(a, name), _params(b, name), _params(c, name)):
            assert np.array_equal(pa, pb) and np.isfinite(pc).all()
    assert not all(np.array_equal(pa, pb) for pa, pb in zip(_params(a, "src_enc"), _params(b, "src_enc")))
    # the channel part of the trainer refuses data outright
    with pytest.raises(TypeError):
        Fitter(JSCC(cfg, nnx.Rngs(0)), "channel").train_epoch(_images(100, 0))


def test_the_joint_system_learns_through_the_channel_and_beats_no_training():
    x, xt = _images(2000, 0), _images(300, 9)
    cfg = JSCCConfig(**SMALL, snr_db=10.0, beta=0.001)
    m = JSCC(cfg, nnx.Rngs(0))
    before = mse(xt, communicate(m, xt))
    fit = Fitter(m, "joint")
    losses = [fit.train_epoch(x)["sq"] for _ in range(4)]
    after = mse(xt, communicate(m, xt))
    assert losses[-1] < losses[0] and after < 0.5 * before
    # a far noisier channel is worse for the same trained model
    noisy = JSCC(JSCCConfig(**SMALL, snr_db=-20.0, beta=0.001), nnx.Rngs(0))
    nnx.update(noisy, nnx.state(m, nnx.Param))
    assert mse(xt, communicate(noisy, xt)) > after


def test_a_set_smaller_than_a_batch_still_trains():
    m = JSCC(JSCCConfig(**SMALL), nnx.Rngs(0))
    before = _params(m, "src_enc")
    r = Fitter(m, "joint", batch=100).train_epoch(_images(30, 0))
    assert np.isfinite(r["loss"]) and not all(np.array_equal(a, b) for a, b in zip(before, _params(m, "src_enc")))
    with pytest.raises(ValueError):
        Fitter(m, "joint").train_epoch(_images(0, 0))


def test_exact_and_sampled_bandwidth_marginals_agree():
    """Σ_B P(B)·loss(B) equals the expectation of the loss at a sampled B."""
    x = jnp.asarray(_images(400, 2), jnp.float32) / 255.0
    probs = (0.4, 0.3, 0.2, 0.1)
    m_exact = JSCC(JSCCConfig(hidden=32, latent=8, channel_dims=8, n_parts=4, bandwidth_probs=probs, marginal="exact"),
                   nnx.Rngs(0))
    m_sample = JSCC(JSCCConfig(hidden=32, latent=8, channel_dims=8, n_parts=4, bandwidth_probs=probs), nnx.Rngs(0))
    exact = np.mean([float(joint_loss(m_exact, x, jax.random.key(i))[1]["sq"]) for i in range(10)])
    sampled = np.mean([float(joint_loss(m_sample, x, jax.random.key(i))[1]["sq"]) for i in range(60)])
    assert sampled == pytest.approx(exact, rel=0.03)


def test_bandwidth_models_round_trip_through_a_weights_file(tmp_path):
    cfg = JSCCConfig(hidden=16, latent=4, channel_dims=4, n_parts=2, prior="learned", aux=2)
    m = JSCC(cfg, nnx.Rngs(4))
    fit = Fitter(m, "joint")
    fit.train_epoch(_images(200, 0), use_aux=False)
    fit.train_epoch(_images(200, 0))
    save_jscc(tmp_path / "m.msgpack", m, {"note": "test"})
    back = load_jscc(tmp_path / "m.msgpack")
    assert back.cfg == cfg
    xt = _images(50, 5)
    for b in (1, 2):
        assert np.array_equal(communicate(m, xt, seed=1, bandwidth=b), communicate(back, xt, seed=1, bandwidth=b))


def test_learned_prior_fits_the_channel_inputs_better_than_a_standard_gaussian():
    x = _images(2000, 0)
    cfg = JSCCConfig(hidden=64, latent=20, channel_dims=20, n_parts=5, prior="learned", snr_db=10.0, beta=0.001)
    m = JSCC(cfg, nnx.Rngs(0))
    fit = Fitter(m, "joint")
    for _ in range(5):
        r = fit.train_epoch(x)
    gaussian_nll = 20 * 0.5 * np.log(2 * np.pi * np.e)  # N(0, 1) on unit-power inputs
    assert r["prior_nll"] < gaussian_nll - 2.0


def test_pipeline_runs_on_a_colour_folder(tmp):
    """The experiment pipeline takes a user's 32×32 colour folder (no FID: no classifier)."""
    from helpers import run
    from PIL import Image
    rng = np.random.default_rng(0)
    Path("faces").mkdir()
    for i in range(60):
        yy, xx = np.mgrid[:32, :32] / 32
        img = np.stack([np.sin(6 * xx + rng.uniform(0, 6)), np.cos(5 * yy + rng.uniform(0, 6)), xx * yy], -1)
        Image.fromarray(((img + 1) * 127).clip(0, 255).astype(np.uint8)).save(f"faces/{i:02d}.png")
    run(["dataset", "faces", "--rgb", "--resize", "32x32", "-o", "faces.zarr"])
    out = Path("bw/bandwidth.json")
    r = subprocess.run([sys.executable, str(ROOT / "pipelines" / "bandwidth.py"), "--dataset", "faces.zarr",
                        "--epochs", "1", "--snrs=-5,10", "--betas", "0.1", "--hidden", "32", "--aux", "2",
                        "--temperatures", "1",
                        "--out", str(out), "--readme", "/dev/null"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["train_images"] == 54 and res["test_images"] == 6
    rows = res["joint_vs_separate"]["rows"]
    assert len(rows) == 2 and all(0 < row[k] < 1 for row in rows for k in ("joint", "separate"))
    bw = res["bandwidth"]["rows"]
    assert len(bw) == 15 and all(row["fid"] is None and 0 < row["mse"] < 1 for row in bw)
    assert [r["temperature"] for r in res["relaxed_binary"]["rows"]] == [1.0]
    assert Path("bw/bandwidth.png").is_file() and Path("bw/bandwidth_grid.png").is_file()
