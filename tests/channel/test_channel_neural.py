"""The differentiable channels of seed 002 (AWGN, relaxed binary, bandwidth-limited) and FID."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dnastore.channel.bandwidth import (
    bandwidth_limited,
    expand_bandwidths,
    gaussian_fill,
    normalize_parts,
    part_mask,
    sample_bandwidth,
)
from dnastore.channel.gaussian import (
    awgn,
    awgn_capacity,
    measured_snr_db,
    normalize_power,
)
from dnastore.channel.relaxed import (
    binary_concrete,
    binary_concrete_logpdf,
    binary_snr_db,
    relaxed_bsc,
)
from dnastore.metrics.fid import fid_from_features, frechet_distance


@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 1.0, 7.5, 20.0])
def test_awgn_measured_snr_matches_setting(snr_db):
    # an input far from unit power, with uneven components: the channel normalises it
    y = jax.random.normal(jax.random.key(1), (2000, 100)) * jnp.linspace(0.1, 9.0, 100)
    z = awgn(jax.random.key(2), y, snr_db)
    sent = normalize_power(y)
    assert np.allclose(np.mean(np.square(np.asarray(sent)), axis=1), 1.0, atol=1e-4)
    assert abs(measured_snr_db(sent, z) - snr_db) < 0.2
    # noise independent of the signal and zero-mean
    noise = np.asarray(z - sent)
    assert abs(noise.mean()) < 0.02 * noise.std()
    assert abs(np.corrcoef(noise.ravel(), np.asarray(sent).ravel())[0, 1]) < 0.01


def test_awgn_capacity():
    assert awgn_capacity(0.0) == pytest.approx(0.5)
    assert awgn_capacity(10 * math.log10(3)) == pytest.approx(1.0)


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.25])
def test_relaxed_bsc_hardens_to_a_bsc(eps):
    """At a low temperature the relaxed channel is a BSC(ε): flip rate and ±1-domain SNR."""
    logits = jax.random.normal(jax.random.key(0), (400, 500)) * 4.0
    y = (np.asarray(jax.nn.sigmoid(logits)) > 0.5)  # the hard input the relaxed input tends to
    key = jax.random.key(3)
    z = np.asarray(relaxed_bsc(key, logits, eps, 0.01))
    ky, _ = jax.random.split(key)
    y_sample = np.asarray(binary_concrete(ky, logits, 0.01)) > 0.5
    flips = (z > 0.5) != y_sample
    assert abs(flips.mean() - eps) < 0.005
    sent = 2.0 * y_sample - 1.0
    assert abs(measured_snr_db(sent, 2.0 * np.round(z) - 1.0) - binary_snr_db(eps)) < 0.2
    # the relaxed input follows P(y = 1) = σ(logit)
    assert abs(y_sample.mean() - y.mean()) < 0.05


def test_binary_concrete_logpdf_is_a_density():
    s = jnp.linspace(-60.0, 60.0, 200001)
    for logit, t in ((0.0, 0.5), (2.0, 1.0), (-3.0, 0.2)):
        dens = np.exp(np.asarray(binary_concrete_logpdf(s, logit, t)))
        assert float(np.trapezoid(dens, np.asarray(s))) == pytest.approx(1.0, abs=1e-3)
        # P(X > 0.5) = α / (1 + α) (property 1 of appendix C)
        assert float(np.trapezoid(dens * (np.asarray(s) > 0), np.asarray(s))) == pytest.approx(
            1 / (1 + math.exp(-logit)), abs=1e-3)


def test_bandwidth_mask_counts():
    n, t, d = 6000, 5, 20
    probs = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    b = np.asarray(sample_bandwidth(jax.random.key(0), n, probs))
    assert b.min() >= 1 and b.max() <= t
    freq = np.bincount(b, minlength=t + 1)[1:] / n
    assert np.all(np.abs(freq - probs) < 4 * np.sqrt(probs * (1 - probs) / n))
    y = jax.random.normal(jax.random.key(1), (n, t * d)) * 3.0
    fill = gaussian_fill(jax.random.key(2), y.shape) + 100.0  # recognisable
    z, mask = bandwidth_limited(jax.random.key(3), y, jnp.asarray(b), fill, 1.0, n_parts=t)
    z, mask = np.asarray(z), np.asarray(mask)
    assert np.array_equal(mask.sum(1), b * d)  # parts 1..B pass, exactly B·d numbers
    assert np.array_equal(mask, np.asarray(part_mask(jnp.asarray(b), t, d)))
    for i in range(50):  # passed parts come first and are contiguous
        assert mask[i, :b[i] * d].all() and not mask[i, b[i] * d:].any()
    assert np.array_equal(z[~mask], np.asarray(fill)[~mask])
    sent = np.asarray(normalize_parts(y, t))  # every band has unit power
    assert np.allclose(np.mean(np.square(sent.reshape(n, t, d)), axis=2), 1.0, atol=1e-4)
    assert abs(measured_snr_db(sent[mask], z[mask]) - 1.0) < 0.2
    # exact marginalisation: every message at every bandwidth, weighted by P(B)
    idx, bb, w = (np.asarray(a) for a in expand_bandwidths(3, probs))
    assert idx.tolist() == [0] * 5 + [1] * 5 + [2] * 5 and bb.tolist() == [1, 2, 3, 4, 5] * 3
    assert np.allclose(w.reshape(3, 5).sum(1), 1.0)


def _grad_checks(g):
    g = np.asarray(g)
    assert np.isfinite(g).all() and np.abs(g).sum() > 0


def test_gradients_flow_through_every_channel():
    y = jax.random.normal(jax.random.key(0), (8, 20))
    target = jax.random.normal(jax.random.key(9), (8, 20))
    _grad_checks(jax.grad(lambda v: jnp.sum((awgn(jax.random.key(1), v, 0.0) - target) ** 2))(y))
    _grad_checks(jax.grad(lambda v: jnp.sum((relaxed_bsc(jax.random.key(1), v, 0.1, 0.5) - 0.3) ** 2))(y))
    b = jnp.array([1, 2, 3, 4, 5, 1, 2, 3])

    def bl(v):
        z, _ = bandwidth_limited(jax.random.key(1), v, b, jnp.zeros_like(v), 0.0, n_parts=5)
        return jnp.sum((z - target) ** 2)
    g = np.asarray(jax.grad(bl)(y))
    _grad_checks(g)
    # a lost part's input gets gradient only through the power normalisation of the message;
    # message 0 (B = 1) keeps its first part, whose gradient dominates
    assert np.abs(g[0, :4]).sum() > np.abs(g[0, 4:]).mean()


def test_gradients_flow_through_the_learned_prior_and_models():
    from flax import nnx

    from dnastore.codecs.jscc import JSCC, JSCCConfig
    from dnastore.codecs.jscc_train import joint_loss
    x = jax.random.uniform(jax.random.key(0), (16, 28, 28))
    for cfg in (JSCCConfig(hidden=32, latent=8, channel_dims=10, n_parts=2, prior="learned", aux=4),
                JSCCConfig(hidden=32, latent=8, channel_dims=8)):
        m = JSCC(cfg, nnx.Rngs(0))
        grads = nnx.grad(lambda mm: joint_loss(mm, x, jax.random.key(1))[0])(m)
        flat = jax.tree.leaves(nnx.to_pure_dict(grads))
        assert all(np.isfinite(np.asarray(a)).all() for a in flat)
        for name in ("src_enc", "ch_enc", "ch_dec", "src_dec") + (("prior_net", "aux_post") if cfg.aux else ()):
            sub = jax.tree.leaves(nnx.to_pure_dict(grads)[name])
            assert sum(float(np.abs(np.asarray(a)).sum()) for a in sub) > 0, name


def test_fid_closed_form_on_gaussians():
    rng = np.random.default_rng(0)
    # equal covariances: the distance is the squared mean difference
    c = np.cov(rng.normal(size=(500, 6)), rowvar=False)
    assert frechet_distance(np.zeros(6), c, np.ones(6), c) == pytest.approx(6.0, rel=1e-9)
    # diagonal (commuting) covariances: Σ (√a − √b)² per axis
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    want = 1.0 ** 2 + float(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))
    assert frechet_distance(np.zeros(3), np.diag(a), np.array([1.0, 0, 0]), np.diag(b)) == pytest.approx(want)
    # rotations leave it unchanged; non-commuting covariances: the 2-Wasserstein formula,
    # checked against scipy's general matrix square root
    from scipy.linalg import sqrtm
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    assert frechet_distance(np.zeros(3), q @ np.diag(a) @ q.T, q @ np.array([1.0, 0, 0]), q @ np.diag(b) @ q.T) == \
        pytest.approx(want)
    s1 = np.cov(rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4)), rowvar=False)
    s2 = np.cov(rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4)), rowvar=False)
    ref = np.trace(s1 + s2 - 2 * np.real(sqrtm(s1 @ s2)))
    assert frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(ref, rel=1e-6)
    # from samples: estimates converge to the closed form
    xa = rng.normal(size=(200000, 3)) * np.sqrt(a)
    xb = rng.normal(size=(200000, 3)) * np.sqrt(b) + np.array([1.0, 0, 0])
    assert fid_from_features(xa, xb) == pytest.approx(want, abs=0.05)
    assert fid_from_features(xa, xa) == pytest.approx(0.0, abs=1e-9)
