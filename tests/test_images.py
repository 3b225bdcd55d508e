"""The image side: datasets, the VAE, training and checkpoints, quantizers, weights, the
codec stages and the encode/decode composites."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import artifacts, one_line_error, run
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from dnastore.codecs import quant
from dnastore.codecs.vae import VAE, VAEConfig

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "images"


@pytest.fixture(scope="session")
def mnist_small():
    from dnastore.data.mnist import load_mnist
    x, y = load_mnist("train")
    return x[:512], y[:512]


@pytest.fixture(scope="session")
def other_weights(tmp_path_factory, mnist_small):
    """Untrained weights of the same architecture: a model that must be refused."""
    from flax import nnx

    from dnastore.codecs.train import encoder_stats
    from dnastore.codecs.weights import save_weights
    cfg = VAEConfig(latent=16)
    model = VAE(cfg, nnx.Rngs(7))
    path = tmp_path_factory.mktemp("w") / "other.msgpack"
    save_weights(path, cfg, model, encoder_stats(model, mnist_small[0][:256]), {"note": "untrained"})
    return path


def images_folder(folder: Path, n: int = 8) -> Path:
    folder.mkdir(exist_ok=True)
    for p in sorted(EXAMPLES.iterdir())[:n]:
        (folder / p.name).write_bytes(p.read_bytes())
    return folder


def recon_images(folder):
    import zarr
    g = zarr.open_group(str(Path(folder) / "images.zarr"), mode="r")
    assert g.attrs["kind"] == "dnastore-reconstruction"
    return np.asarray(g["images"][...])


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
    with pytest.raises(ValueError):
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


def test_train_command_writes_checkpoints_and_weights(tmp, mnist_small):
    from dnastore.codecs.weights import load_weights
    from dnastore.io.artifacts import write_dataset
    x, y = mnist_small
    write_dataset("d.zarr", x[:192], y[:192], [str(i) for i in range(192)], {})
    r = run(["train", "d.zarr", "--latent", "4", "--epochs", "1", "--batch-size", "32", "--run-dir", "run", "--json",
             "--no-progress"])
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["epochs"] == 1 and Path(s["output"]).is_file()
    assert {"last.msgpack", "best.msgpack", "weights.msgpack"} <= artifacts(Path("run"))
    w = load_weights("run/weights.msgpack")
    assert w.config.latent == 4 and w.stats["mean"].shape == (8,) and w.meta["epochs"] == 1
    one_line_error(run(["train", "d.zarr", "--epochs", "1", "--run-dir", "run"], ok=False))  # exists, no --resume
    r = run(["train", "d.zarr", "--latent", "4", "--epochs", "2", "--batch-size", "32", "--run-dir", "run",
             "--resume", "--no-progress", "--json"])
    assert json.loads(r.stdout.strip().splitlines()[-1])["epochs"] == 2


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


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 20), d=st.integers(1, 12), n_bits=st.integers(1, 16), order=st.sampled_from(["column", "row"]),
       seed=st.integers(0, 2**31))
def test_bit_packing_round_trip_and_erasures(n, d, n_bits, order, seed):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 1 << n_bits, (n, d)).astype(quant.code_dtype(n_bits))
    payload = quant.pack_bits(codes, n_bits, order)
    assert len(payload) == -(-n * d * n_bits // 8)
    none = np.zeros(len(payload), bool)
    back, er = quant.unpack_bits(payload, none, (n, d), n_bits, order)
    assert (back == codes).all() and not er.any()
    lost = none.copy()
    lost[rng.integers(0, len(payload))] = True
    back, er = quant.unpack_bits(payload, lost, (n, d), n_bits, order)
    assert er.any() and (back[~er] == codes[~er]).all()


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
def test_stages_and_composites_round_trip_through_an_ideal_channel(tmp):
    """images → encode → ideal channel → decode equals the model's own compress → quantize →
    dequantize → reconstruct, and the chained stage commands give the same oligos."""
    from dnastore.codecs.learned import compress, dequantize_codes, quantize_latents, reconstruct
    from dnastore.codecs.weights import load_weights
    from dnastore.data.dataset import load_folder
    images_folder(Path("img"))
    r = run(["encode", "img", "out.fasta", "--json"])
    s = json.loads(r.stdout)
    man = json.loads(Path("out.fasta.json").read_text())
    assert s["bits_per_image"] == man["per_image"]["bits_per_image"] == 128
    assert s["nt_per_image"] == pytest.approx(man["n_strands"] * 150 / 8)
    run(["simulate", "--coverage", "30", "--preset", "ideal", "--synthesis", "ideal", "-o", "reads.fastq"])
    r = run(["decode", "reads.fastq", "-o", "recon", "--originals", "img", "--json"])
    d = json.loads(r.stdout)
    assert d["codes_erased"] == 0 and d["images"] == 8
    w = load_weights()
    x, names = load_folder(Path("img"))
    mu, lv = compress(w, x)
    codes, attrs, side = quantize_latents(mu, lv, w)
    direct = reconstruct(w, dequantize_codes(codes, attrs, side, None, w)[0])
    got = recon_images("recon")
    assert np.array_equal(got, direct)
    pngs = sorted(p.name for p in Path("recon").glob("*.png") if p.name != "grid.png")
    assert pngs == names  # named after the originals when they are given
    assert np.array_equal(np.asarray(Image.open(Path("recon") / names[3])), direct[3])
    unquantized = reconstruct(w, mu)
    assert np.abs(got.astype(int) - unquantized).mean() < 3
    assert d["psnr"] > 15 and Path("recon/grid.png").is_file()
    # the same through the single stages
    run(["compress", "img", "-o", "lat.zarr"])
    run(["quantize", "lat.zarr", "-o", "codes.zarr"])
    run(["oligo-encode", "codes.zarr", "-o", "staged.fasta"])
    staged = json.loads(Path("staged.fasta.json").read_text())
    # the encoding ids differ (the staged codes carry the quantize provenance), the content does not
    assert staged["codes"]["attrs"] == man["codes"]["attrs"] and staged["n_strands"] == man["n_strands"]
    import zarr
    for fasta in ("staged.fasta", "out.fasta"):
        run(["oligo-decode", fasta, "-o", fasta + ".zarr"])
        assert np.array_equal(zarr.open_group(fasta + ".zarr", mode="r")["codes"][...],
                              zarr.open_group("codes.zarr", mode="r")["codes"][...])
    run(["consensus", "reads.fastq", "-o", "c.fasta"])
    run(["oligo-decode", "c.fasta", "-o", "back.zarr"])
    run(["dequantize", "back.zarr", "-o", "lat2.zarr"])
    run(["reconstruct", "lat2.zarr", "-o", "recon2"])
    got2 = np.stack([np.asarray(Image.open(Path("recon2") / f"image-{i:05d}.png")) for i in range(8)])
    assert np.array_equal(got2, recon_images("recon2"))
    assert np.array_equal(got2, direct)


def test_mu_logvar_store_doubles_the_bits(tmp):
    images_folder(Path("img"), 4)
    a = json.loads(run(["encode", "img", "a.fasta", "--json"]).stdout)
    b = json.loads(run(["encode", "img", "b.fasta", "--store", "mu-logvar", "--bits", "6", "--quantizer", "vaeu",
                        "--packing", "binary", "--json"]).stdout)
    assert a["bits_per_image"] == 128 and b["bits_per_image"] == 192
    run(["simulate", "b.fasta", "--coverage", "30", "--preset", "ideal", "--synthesis", "ideal", "-o", "b.fastq"])
    d = json.loads(run(["decode", "b.fastq", "-o", "recon", "--originals", "img", "--json"]).stdout)
    assert d["codes_erased"] == 0 and d["psnr"] > 13


def test_decoding_with_other_weights_is_refused(tmp, other_weights):
    images_folder(Path("img"), 4)
    run(["encode", "img", "out.fasta"])
    run(["simulate", "out.fasta", "--coverage", "5", "-o", "r.fastq"])
    before = artifacts(tmp)
    r = run(["decode", "r.fastq", "-o", "recon", "--weights", other_weights], ok=False)
    one_line_error(r)
    assert "other weights" in r.output and artifacts(tmp) == before
    run(["compress", "img", "-o", "lat.zarr"])
    one_line_error(run(["quantize", "lat.zarr", "-o", "c.zarr", "--weights", other_weights], ok=False))


def test_reads_that_decode_to_nothing_give_prior_images_and_a_warning(tmp):
    images_folder(Path("img"), 4)
    run(["encode", "img", "out.fasta"])
    run(["simulate", "out.fasta", "--coverage", "5", "-o", "r.fastq"])
    rng = np.random.default_rng(0)
    with open("junk.fastq", "w") as f:
        for i in range(50):
            s = "".join(rng.choice(list("ACGT"), 150))
            f.write(f"@j{i}\n{s}\n+\n{'I' * 150}\n")
    Path("junk.fastq.json").write_text(Path("r.fastq.json").read_text())
    r = run(["decode", "junk.fastq", "-o", "recon", "--json"])
    assert "Warning" in r.output
    s = json.loads([ln for ln in r.output.splitlines() if ln.startswith("{")][-1])
    assert s["codes_erased"] == s["codes_total"] == 4 * 16 and len(list(Path("recon").glob("image-*.png"))) == 4


def test_bad_image_inputs_get_one_line_errors(tmp):
    img = images_folder(Path("img"), 3)
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(img / "zz-wrong-size.png")
    before = artifacts(tmp)
    r = run(["encode", "img", "out.fasta"], ok=False)
    one_line_error(r)
    assert "zz-wrong-size.png" in r.output and "--resize" in r.output and artifacts(tmp) == before
    run(["encode", "img", "out.fasta", "--resize", "28x28"])
    (img / "zz-wrong-size.png").unlink()
    (img / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    r = run(["encode", "img", "out2.fasta"], ok=False)
    one_line_error(r)
    assert "corrupt.png" in r.output
    Path("empty").mkdir()
    one_line_error(run(["encode", "empty", "out3.fasta"], ok=False))
    one_line_error(run(["compress", "nowhere", "-o", "l.zarr"], ok=False))
    one_line_error(run(["dataset", "img", "-o", "d.zarr"], ok=False))  # still the corrupt PNG
    (img / "corrupt.png").unlink()
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(img / "zz-wrong-size.png")
    r = run(["dataset", "img", "-o", "d.zarr"], ok=False)
    one_line_error(r)
    assert "zz-wrong-size.png" in r.output
    run(["dataset", "img", "-o", "d.zarr", "--resize", "28x28"])
    one_line_error(run(["decode", "nothing.fastq", "-o", "r"], ok=False))
    one_line_error(run(["encode", "img", "x.fasta", "--weights", "d.zarr"], ok=False))


def test_dataset_from_mnist_and_folder(tmp):
    from dnastore.io.artifacts import read_dataset
    s = json.loads(run(["dataset", "mnist", "--split", "test", "--limit", "10", "-o", "m.zarr", "--json"]).stdout)
    x, y, names, attrs = read_dataset("m.zarr")
    assert x.shape == (10, 28, 28) and x.dtype == np.uint8 and list(y[:3]) == [7, 2, 1] and s["images"] == 10
    assert names[0] == "mnist-test-00000" and attrs["provenance"]["inputs"]["mnist"]["digest"].startswith("sha256:")
    images_folder(Path("img"), 5)
    run(["dataset", "img", "-o", "f.zarr"])
    fx, fy, fnames, _ = read_dataset("f.zarr")
    assert fx.shape == (5, 28, 28) and (fy == -1).all() and fnames[0].endswith(".png")
    # a dataset artifact is a valid encode source
    run(["encode", "f.zarr", "f.fasta"])


def test_mnist_pixels_are_exact_integers():
    from dnastore.data.mnist import load_mnist
    x, y = load_mnist("valid")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,) and x.max() == 255 and set(np.unique(y)) == set(range(10))
