"""The image stages: datasets, the VAE's stages and the encode/decode composites."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import artifacts, images_folder, one_line_error, recon_images, run
from PIL import Image


def test_stages_and_composites_round_trip_through_an_ideal_channel(tmp):
    """images → encode → ideal channel → decode equals the model's own compress → quantize →
    dequantize → reconstruct, and the chained stage commands give the same oligos."""
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.codecs.weights import load_weights
    from dnastore.data.dataset import load_folder
    images_folder(Path("img"))
    r = run(["encode", "img", "out.fasta", "--json"])
    s = json.loads(r.stdout)
    man = json.loads(Path("out.fasta.json").read_text())
    assert s["bits_per_image"] == man["per_image"]["bits_per_image"] == 128
    assert s["nt_per_image"] == pytest.approx(man["n_strands"] * man["layout"]["strand_length"] / 8)
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
    assert s["codes_erased"] == s["codes_total"] == 4 * 16
    assert sorted(p.name for p in Path("recon").glob("*.png") if p.name != "grid.png") == sorted(
        p.name for p in Path("img").iterdir())


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
    r = run(["encode", "img", "out2.fasta", "--json"])  # listed, not skipped silently
    assert "Warning: 1 files in img are not images Pillow can read" in r.output and "corrupt.png" in r.output
    assert json.loads(r.stdout.splitlines()[-1])["skipped"] == ["corrupt.png"]
    Path("empty").mkdir()
    one_line_error(run(["encode", "empty", "out3.fasta"], ok=False))
    one_line_error(run(["compress", "nowhere", "-o", "l.zarr"], ok=False))
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


def test_the_mnist_codec_warns_about_photos(tmp):
    """Colour photos of another size are reduced to 28x28 grey by --resize: the VAE trained on
    MNIST, asked for by name, says so, and names the codecs that store photos; MNIST-like
    images get no warning. Without --codec, photos get the photo codec."""
    from skimage import data
    Path("photos").mkdir()
    Image.fromarray(data.astronaut()).save("photos/astronaut.png")
    r = run(["encode", "photos", "p.fasta", "--resize", "28x28", "--codec", "vae"])
    assert "trained on 28x28 grey MNIST digits" in r.output and "astronaut.png is 512x512" in r.output
    assert "--codec photo" in r.output
    r = run(["encode", "photos", "q.fasta"])
    assert "MNIST digits" not in r.output and "codec: photo (colour photos" in r.output
    images_folder(Path("digits"), 4)
    r = run(["encode", "digits", "d.fasta"])
    assert "MNIST digits" not in r.output
