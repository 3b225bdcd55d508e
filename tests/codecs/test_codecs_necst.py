"""NECST: the VIMCO estimator, the channel marginals, the architectures, the LDPC baseline,
and the train command."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from dnastore.codecs.necst import (
    NECST,
    NECSTConfig,
    channel_bits,
    distortion,
    noisy_probs,
    sample_channel,
    vimco_surrogate,
)


def test_vimco_gradient_is_unbiased_against_brute_force_on_three_bits():
    """The mean of VIMCO's gradient estimates equals the exact gradient of
    E[log (1/K) Σ f(y_k)], computed by enumerating all 8^K sample tuples."""
    k, eps = 3, 0.1
    phi = jnp.array([0.3, -1.0, 1.5])
    table = jnp.array(np.random.default_rng(0).normal(0, 2, 8), jnp.float32)

    def logf(y):
        return table[(y[..., 0] * 4 + y[..., 1] * 2 + y[..., 2]).astype(jnp.int32)]

    states = jnp.array(list(itertools.product([0, 1], repeat=3)), jnp.float32)
    combos = jnp.array(list(itertools.product(range(8), repeat=k)))

    def exact(phi):
        q = noisy_probs(jax.nn.sigmoid(phi), "bsc", eps)
        lp = jnp.sum(states * jnp.log(q) + (1 - states) * jnp.log(1 - q), -1)
        val = jax.nn.logsumexp(logf(states)[combos], -1) - jnp.log(k)
        return jnp.sum(jnp.exp(jnp.sum(lp[combos], -1)) * val)

    def estimate(phi, key):
        y, logq = sample_channel(key, phi[None], "bsc", eps, (k,))
        return vimco_surrogate(logf(y), logq)[1][0]

    g_exact = jax.grad(exact)(phi)
    g = jax.jit(jax.vmap(jax.grad(estimate), (None, 0)))(phi, jax.random.split(jax.random.key(0), 100_000))
    se = g.std(0) / np.sqrt(len(g))
    assert np.all(np.abs(g.mean(0) - g_exact) < 5 * se + 1e-4), (g.mean(0), g_exact, se)
    # and the bound itself is the K-sample bound
    y, logq = sample_channel(jax.random.key(1), phi[None], "bsc", eps, (k,))
    bound, _ = vimco_surrogate(logf(y), logq)
    assert np.isclose(bound[0], jax.nn.logsumexp(logf(y)[:, 0]) - np.log(k), atol=1e-5)


@pytest.mark.parametrize("channel,eps", [("bsc", 0.1), ("bsc", 0.3), ("bec", 0.2)])
def test_channel_marginals_match_sampling(channel, eps):
    logits = jnp.array([-2.0, -0.3, 0.0, 0.7, 3.0])
    y, logq = sample_channel(jax.random.key(0), logits, channel, eps, (200_000,))
    y = np.asarray(y)
    probs = np.asarray(noisy_probs(jax.nn.sigmoid(logits), channel, eps))
    if channel == "bsc":
        assert np.allclose((y == 1).mean(0), probs, atol=0.005)
    else:
        for sym, val in enumerate((0.0, 1.0, 0.5)):
            assert np.allclose((y == val).mean(0), probs[:, sym], atol=0.005)
    # log q of one sample is the sum of its bits' log-probabilities
    one = y[0]
    if channel == "bsc":
        want = np.sum(np.where(one == 1, np.log(probs), np.log(1 - probs)))
    else:
        want = np.sum(np.log(probs[np.arange(5), np.select([one == 0, one == 1], [0, 1], 2)]))
    assert np.isclose(logq[0], want, atol=1e-4)
    # the test-time channel on stored bits
    bits = np.random.default_rng(0).integers(0, 2, (2000, 100))
    got = channel_bits(bits, channel, eps, np.random.default_rng(1))
    changed = (got != bits).mean()
    assert abs(changed - eps) < 0.01
    if channel == "bec":
        assert set(np.unique(got[got != bits])) == {0.5}


@pytest.mark.parametrize("arch,shape,channels", [("mlp", (28, 28), 1), ("mlp", (1, 100), 1),
                                                 ("cnn-svhn", (32, 32), 3), ("cnn-cifar", (32, 32), 3),
                                                 ("cnn-celeba", (64, 64), 3)])
def test_architectures_train_a_step_on_random_data(arch, shape, channels):
    import optax
    lik = "bernoulli" if channels == 1 else "gaussian"
    cfg = NECSTConfig(arch=arch, image_shape=shape, channels=channels, bits=64, likelihood=lik, samples=3)
    model = NECST(cfg, nnx.Rngs(0))
    x = jax.random.uniform(jax.random.key(1), (2,) + shape + ((channels,) if channels > 1 else ()))
    opt = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)

    @nnx.jit
    def step(model, opt, x, key):
        (loss, _), grads = nnx.value_and_grad(lambda m: m.loss(x, key), has_aux=True)(model)
        opt.update(model, grads)
        code = model.encode(x)
        return loss, grads, code, model.decode(code)

    loss, grads, code, recon = step(model, opt, x, jax.random.key(2))
    assert code.shape == (2, 64) and set(np.unique(code)) <= {0.0, 1.0} and recon.shape == x.shape
    flat = jax.tree_util.tree_leaves(grads)
    assert np.isfinite(float(loss)) and all(np.isfinite(np.asarray(g)).all() for g in flat)
    # every layer's weights get a gradient: the encoder's through VIMCO, the decoder's directly
    assert all(float(jnp.abs(g).max()) > 0 for g in flat if g.ndim > 1)


def test_config_rejects_bad_settings():
    for bad in ({"channel": "awgn"}, {"eps": 0.7}, {"arch": "cnn-svhn"}, {"prior": "gauss"}, {"samples": 1}):
        with pytest.raises(ValueError):
            NECSTConfig(**bad)
    cfg = NECSTConfig(bits=20, eps=0.2, channel="bec")
    assert NECSTConfig.from_json(cfg.to_json()) == cfg


def test_distortion_metrics_on_known_values():
    x = np.array([[0.0, 1.0, 1.0, 0.0]])
    d = distortion(x, np.array([[0.5, 0.5, 0.9, 0.2]]))
    assert np.isclose(d["mse"][0], (0.25 + 0.25 + 0.01 + 0.04) / 4)
    assert np.isclose(d["bce"][0], -(np.log(0.5) * 2 + np.log(0.9) + np.log(0.8)) / 4)
    assert np.isclose(d["wrong"][0], 0.25)  # 0.5 rounds to 0 (wrong for x = 1); 0.9 and 0.2 are right


def test_ldpc_code_is_regular_without_4_cycles_and_round_trips():
    from dnastore.codecs.ldpc_code import LDPC
    code = LDPC.regular(100, 50, 3, seed=0)
    h = code.h.astype(int)
    assert (h.sum(0) == 3).all() and h.shape == (50, 100)
    overlap = h.T @ h
    np.fill_diagonal(overlap, 0)
    assert overlap.max() <= 1  # no two columns share two checks: no 4-cycles
    rng = np.random.default_rng(0)
    msg = rng.integers(0, 2, (200, 50))
    cw = code.encode(msg)
    assert ((cw.astype(int) @ h.T) % 2 == 0).all() and (cw[:, code.info] == msg).all()
    assert (code.decode(cw, 0.0) == msg).all()  # no noise: identity
    flipped = cw.copy()
    flipped[np.arange(200), rng.integers(0, 100, 200)] ^= 1  # one flip per word
    assert (code.decode(flipped, 0.02) == msg).mean() > 0.99


def test_train_command_trains_necst_and_other_stages_refuse_its_weights(tmp_path):
    from click.testing import CliRunner

    from dnastore.cli import cli
    from dnastore.codecs.weights import load_weights
    r = CliRunner()
    for split in ("train", "valid"):
        res = r.invoke(cli, ["dataset", "random-bits", "--split", split, "--limit", "300", "--length", "40",
                             "-o", str(tmp_path / f"{split}.zarr")])
        assert res.exit_code == 0, res.output
    res = r.invoke(cli, ["train", str(tmp_path / "train.zarr"), "--valid", str(tmp_path / "valid.zarr"), "--codec",
                         "necst", "--latent", "20", "--eps", "0.05", "--epochs", "2", "--run-dir", str(tmp_path / "run"),
                         "--no-progress", "--json"])
    assert res.exit_code == 0, res.output
    w = load_weights(tmp_path / "run" / "weights.msgpack")
    assert isinstance(w.config, NECSTConfig) and w.config.bits == 20 and w.config.eps == 0.05
    assert len(w.meta["history"]) == 2 and "valid_wrong" in w.meta["history"][0]
    res = r.invoke(cli, ["train", str(tmp_path / "train.zarr"), "--eps", "0.1", "--run-dir", str(tmp_path / "r2")])
    assert res.exit_code == 2 and "--codec necst" in res.output
    res = r.invoke(cli, ["compress", str(tmp_path / "valid.zarr"), "-o", str(tmp_path / "l.zarr"), "--weights",
                         str(tmp_path / "run" / "weights.msgpack")])
    assert res.exit_code == 2 and "needs VAE weights" in res.output


def test_static_binarization_is_seeded_and_follows_intensity():
    from dnastore.data.binary import binarize
    img = np.full((200, 28, 28), 64, np.uint8)
    a, b = binarize(img, 0), binarize(img, 0)
    assert np.array_equal(a, b) and set(np.unique(a)) == {0, 255}
    assert abs((a == 255).mean() - 64 / 255) < 0.01
    assert not np.array_equal(a, binarize(img, 0, stream=2))


def test_ideal_code_arithmetic_on_known_values():
    from dnastore.channel.bits import binary_entropy, bsc_capacity, ideal_code_bits
    assert binary_entropy(0.5) == 1.0 and binary_entropy(0.0) == 0.0
    assert np.isclose(binary_entropy(0.11), 0.4999, atol=1e-3)  # the classic half-capacity point
    assert np.isclose(bsc_capacity(0.11), 0.5, atol=1e-3)
    assert ideal_code_bits(100, 0.0) == 100
    assert np.isclose(ideal_code_bits(100, 0.11), 200, rtol=1e-2)
    assert ideal_code_bits(1, 0.5) == float("inf")


def test_headerless_sizes_of_jpeg_and_webp():
    from dnastore.codecs.classical import encode_image, payload_bytes
    img = (np.random.default_rng(0).random((28, 28)) < 0.2).astype(np.uint8) * 255
    for fmt in ("jpeg", "webp"):
        small, big = encode_image(img, fmt, 10), encode_image(img, fmt, 95)
        assert 0 < payload_bytes(small) < payload_bytes(big) < len(big)
    # the JPEG payload is what lies between the scan header and the end-of-image marker
    data = encode_image(img, "jpeg", 50)
    sos = data.index(b"\xff\xda")
    header = int.from_bytes(data[sos + 2:sos + 4], "big")
    assert payload_bytes(data) == len(data) - (sos + 2 + header) - 2
    with pytest.raises(ValueError):
        payload_bytes(b"not an image")


def test_downstream_classifiers_have_the_supplements_settings():
    pytest.importorskip("sklearn")
    from dnastore.metrics.downstream import downstream_classifiers
    c = downstream_classifiers()
    assert list(c) == ["KNN", "DT", "RF", "MLP", "AdaB", "NB", "QDA", "SVM"]
    assert c["KNN"].n_neighbors == 3 and c["DT"].max_depth == 5
    assert (c["RF"].max_depth, c["RF"].n_estimators, c["RF"].max_features) == (5, 10, 1)
    assert c["MLP"].alpha == 1 and (c["SVM"].kernel, c["SVM"].C) == ("linear", 0.025)
    # everything else is the library default
    from sklearn.naive_bayes import GaussianNB
    assert c["NB"].get_params() == GaussianNB().get_params()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (200, 10)).astype(float)
    y = x[:, 0].astype(int)  # a feature is the label: every classifier finds it
    for name in ("DT", "SVM", "NB", "AdaB"):
        assert c[name].fit(x, y).score(x, y) > 0.95, name


def test_necst_codes_go_through_dna_and_lost_bits_reach_the_decoder_as_unknown(tmp):
    """encode --codec necst → simulate → decode: the bits come back, and a decode at low
    coverage gives every image back with the lost bits at 0.5."""
    import json
    from pathlib import Path

    import zarr
    from helpers import one_line_error, run

    from dnastore.codecs.learned import necst_codes_attrs, necst_reconstruct
    from dnastore.codecs.train import Trainer
    from dnastore.codecs.weights import load_weights, save_weights
    from dnastore.data.binary import binarize
    from dnastore.data.dataset import load_folder
    from dnastore.data.mnist import load_mnist
    cfg = NECSTConfig(bits=100, eps=0.1)
    tr = Trainer(cfg, batch=100, seed=0)
    tr.train_epoch(binarize(load_mnist("train")[0][:2000]))
    save_weights(Path("necst.msgpack"), cfg, tr.model, {}, {"note": "one epoch on 2,000 images"})
    examples = Path(__file__).resolve().parents[2] / "examples" / "images"
    Path("img").mkdir()
    for p in sorted(examples.iterdir())[:8]:
        (Path("img") / p.name).write_bytes(p.read_bytes())
    s = json.loads(run(["encode", "img", "n.fasta", "--codec", "necst", "--weights", "necst.msgpack", "--json",
                        "--outer-redundancy", "0"]).stdout)
    assert s["bits_per_image"] == 100
    man = json.loads(Path("n.fasta.json").read_text())
    assert man["codes"]["attrs"]["codec"] == "necst" and man["codes"]["n_bits"] == 1
    run(["simulate", "n.fasta", "--coverage", "30", "--preset", "ideal", "--synthesis", "ideal", "-o", "r.fastq"])
    d = json.loads(run(["decode", "r.fastq", "-o", "recon", "--weights", "necst.msgpack", "--json"]).stdout)
    assert d["codes_erased"] == 0 and d["images"] == 8
    w = load_weights("necst.msgpack")
    x, _ = load_folder(Path("img"))
    codes, _ = necst_codes_attrs(w, x)
    got = np.asarray(zarr.open_group("recon/images.zarr", mode="r")["images"][...])
    assert np.array_equal(got, necst_reconstruct(w, codes))
    # low coverage: strands are lost, every image still comes back, lost bits are unknown
    run(["simulate", "n.fasta", "--coverage", "1", "-o", "low.fastq"])
    d = json.loads(run(["decode", "low.fastq", "-o", "recon_low", "--weights", "necst.msgpack", "--json"]).stdout)
    assert d["images"] == 8 and d["codes_erased"] > 0
    erased = np.zeros_like(codes, bool)
    erased[:, :3] = True
    half = necst_reconstruct(w, codes, erased)
    assert not np.array_equal(half, necst_reconstruct(w, codes))
    # stage by stage the bits come back as a codes artifact, which has no latents to dequantize
    run(["consensus", "r.fastq", "-o", "c.fasta"])
    run(["oligo-decode", "c.fasta", "-o", "codes.zarr"])
    r = run(["dequantize", "codes.zarr", "-o", "lat.zarr"], ok=False)
    one_line_error(r)
    assert "NECST" in r.output
    # a VAE decode of NECST oligos, or NECST weights for a VAE stage, is refused in one line
    one_line_error(run(["decode", "r.fastq", "-o", "x", "--weights", "vae-mnist-k16"], ok=False))
    one_line_error(run(["encode", "img", "v.fasta", "--codec", "necst", "--weights", "vae-mnist-k16"], ok=False))


def test_shipped_necst_weights_load_by_name():
    from dnastore.codecs.weights import load_weights, shipped_weights
    assert "necst-mnist-b100-bsc0.1" in shipped_weights()
    w = load_weights("necst-mnist-b100-bsc0.1")  # the name has a dot: not a file suffix
    assert isinstance(w.config, NECSTConfig) and (w.config.bits, w.config.eps, w.config.channel) == (100, 0.1, "bsc")
    assert w.meta["test"]["loglik"] > -110


def test_a_colour_folder_trains_a_cnn_necst_and_goes_through_dna(tmp):
    """A user's 32x32 colour folder: dataset --rgb → train --arch cnn-svhn → encode → decode."""
    import json
    from pathlib import Path

    from helpers import run
    from PIL import Image

    from dnastore.codecs.weights import load_weights
    rng = np.random.default_rng(0)
    Path("svhn").mkdir()
    for i in range(30):  # smooth colour blobs, two sizes so that --resize has work to do
        side = 32 if i % 2 else 40
        yy, xx = np.mgrid[:side, :side] / side
        img = np.stack([np.sin(6 * xx + rng.uniform(0, 6)), np.cos(5 * yy + rng.uniform(0, 6)), xx * yy], -1)
        Image.fromarray(((img + 1) * 127).clip(0, 255).astype(np.uint8)).save(f"svhn/{i:02d}.png")
    run(["dataset", "svhn", "--rgb", "--resize", "32x32", "-o", "svhn.zarr"])
    run(["train", "svhn.zarr", "--codec", "necst", "--arch", "cnn-svhn", "--likelihood", "gaussian", "--latent", "32",
         "--epochs", "1", "--batch-size", "9", "--run-dir", "run", "--no-progress"])
    w = load_weights(Path("run/weights.msgpack"))
    assert (w.config.arch, w.config.channels, tuple(w.config.image_shape), w.config.bits) == ("cnn-svhn", 3, (32, 32), 32)
    s = json.loads(run(["encode", "svhn", "n.fasta", "--codec", "necst", "--weights", "run/weights.msgpack",
                        "--resize", "32x32", "--json"]).stdout)
    assert s["bits_per_image"] == 32
    run(["simulate", "n.fasta", "--coverage", "20", "--preset", "ideal", "--synthesis", "ideal", "-o", "r.fastq"])
    d = json.loads(run(["decode", "r.fastq", "-o", "recon", "--weights", "run/weights.msgpack", "--json"]).stdout)
    assert d["images"] == 30 and d["codes_erased"] == 0
    pngs = sorted(p for p in Path("recon").glob("*.png") if p.name != "grid.png")
    assert len(pngs) == 30 and Image.open(pngs[0]).mode == "RGB" and Image.open(pngs[0]).size == (32, 32)
