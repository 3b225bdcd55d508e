"""The one Codec interface: every registered codec encodes images into codes and decodes
codes (with erasures) back into images, finds itself again from the codes' attributes, and
goes through DNA and back with `dnastore encode --codec NAME` / `dnastore decode`."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from helpers import EXAMPLES, images_folder, one_line_error, recon_images, run
from PIL import Image

from dnastore.codecs.base import Codec, Codes, codec_for, codec_names, get_codec
from dnastore.data.source import ImageSource
from dnastore.errors import DnastoreError


def _source(codec: Codec, folder: Path) -> ImageSource:
    return ImageSource(folder, codec.channels, codec.image_shape)


def _decode_all(codec: Codec, codes: Codes) -> tuple[np.ndarray, np.ndarray]:
    d = codec.decode(codes)
    images = np.concatenate([imgs for _, imgs in d.pieces])
    assert len(images) == d.n == codes.n_images and d.erased.shape[0] == d.n
    return images, d.erased


def test_the_registry_knows_every_codec_and_refuses_others():
    assert codec_names() == ["avif", "jp2", "jpeg", "necst", "photo", "png", "vae", "webp"]
    with pytest.raises(DnastoreError, match="unknown codec"):
        get_codec("gif")
    with pytest.raises(DnastoreError, match="not written by a dnastore image codec"):
        codec_for({"codec": "mp3"})


@pytest.mark.parametrize("name", ["vae", "necst", "photo", "jpeg", "png", "webp", "avif", "jp2"])
def test_encode_then_decode_and_the_codec_found_from_its_attributes(tmp, name):
    folder = images_folder(tmp / "img", 6)
    codec = get_codec(name)
    codes = codec.encode(_source(codec, folder))
    assert codes.n_images == 6 and codes.attrs["codec"] == name
    assert codes.bits_per_image == codes.codes.size * codes.attrs["n_bits"] / 6
    again = codec_for(codes.attrs)
    assert type(again) is type(codec)
    images, erased = _decode_all(again, codes)
    assert not erased.any()
    originals = _source(codec, folder).piece(0, 6)
    assert images.shape == originals.shape and images.dtype == np.uint8
    if name == "png":
        assert np.array_equal(images, originals)
    if name in ("jpeg", "webp", "avif", "jp2"):  # exactly what Pillow decodes from the files
        first = bytes(codes.codes[0, :int(codes.arrays["lengths"][0])])
        assert np.array_equal(images[0], np.asarray(Image.open(io.BytesIO(first)).convert("L")))


def test_a_file_codec_loses_whole_images_only_where_its_bytes_were_lost(tmp):
    folder = images_folder(tmp / "img", 4)
    codec = get_codec("png")
    codes = codec.encode(_source(codec, folder))
    lengths = codes.arrays["lengths"].astype(int)
    erased = np.zeros(codes.codes.shape, bool)
    erased[0, lengths[0] + 3] = True  # one byte of the second file
    images, lost = _decode_all(codec, Codes(codes.codes, codes.attrs, codes.arrays, erased))
    assert lost[:, 0].tolist() == [False, True, False, False]
    assert not images[1].any() and images[0].any()


def test_codec_settings_are_checked(tmp):
    with pytest.raises(DnastoreError, match="quality"):
        get_codec("jpeg", quality=0)
    with pytest.raises(DnastoreError, match="bits"):
        get_codec("vae", n_bits=17)
    with pytest.raises(DnastoreError, match="NECST weights"):
        get_codec("necst", weights="vae-mnist-k16")


@pytest.mark.parametrize("name,extra", [("png", []), ("jpeg", ["--quality", "60"]), ("webp", []),
                                        ("necst", []), ("vae", ["--bits", "6"])])
def test_every_codec_goes_through_dna_and_back(tmp, name, extra):
    folder = images_folder(tmp / "img", 8)
    enc = json.loads(run(["encode", folder, "x.fasta", "--codec", name, "--outer-redundancy", "0.3", "--json",
                          *extra]).stdout)
    man = json.loads(Path("x.fasta.json").read_text())
    assert enc["images"] == 8 and man["codes"]["attrs"]["codec"] == name
    assert man["provenance"]["stage"] == "encode"
    run(["simulate", "x.fasta", "--coverage", "20", "--preset", "ideal", "--synthesis", "ideal", "-o", "r.fastq"])
    dec = json.loads(run(["decode", "r.fastq", "-o", "recon", "--originals", folder, "--json"]).stdout)
    assert dec["images"] == 8 and dec["codes_erased"] == 0 and dec["images_damaged"] == 0
    got = recon_images("recon")
    codec = get_codec(name, **({"n_bits": 6} if name == "vae" else {"quality": 60} if name == "jpeg" else {}))
    want, _ = _decode_all(codec, codec.encode(_source(codec, folder)))
    assert np.array_equal(got, want)
    names = sorted(p.name for p in Path("recon").glob("*.png") if p.name != "grid.png")
    assert names == sorted(p.name for p in folder.iterdir())
    if name == "png":
        assert dec["psnr"] == float("inf") or dec["psnr"] > 99


def test_file_codec_at_low_coverage_comes_back_with_black_images_counted(tmp):
    folder = images_folder(tmp / "img", 8)
    run(["encode", folder, "x.fasta", "--codec", "jpeg"])
    run(["simulate", "x.fasta", "--coverage", "1", "--seed", "3", "-o", "r.fastq"])
    dec = json.loads(run(["decode", "r.fastq", "-o", "recon", "--json"]).stdout)
    g = zarr.open_group("recon/images.zarr", mode="r")
    lost = np.asarray(g["codes_erased"][...]) > 0
    assert dec["images_damaged"] == int(lost.sum()) > 0
    assert not recon_images("recon")[lost].any()


def test_weights_are_refused_for_a_file_codec(tmp):
    folder = images_folder(tmp / "img", 2)
    one_line_error(run(["encode", folder, "x.fasta", "--codec", "png", "--weights", "vae-mnist-k16"], ok=False))


def test_the_stages_are_library_functions(tmp):
    """The composites called as functions return the summaries the commands print."""
    from dnastore.stages import decode, encode, simulate
    from dnastore.stages.files import OligoSettings
    enc = encode(EXAMPLES, tmp / "x.fasta", codec="vae", settings=OligoSettings(outer_redundancy=1.0))
    assert enc["images"] == 32 and Path(enc["manifest"]).is_file()
    sim = simulate(tmp / "x.fasta", tmp / "r.fastq", coverage=5, seed=2)
    assert sim["reads"] > 0
    dec = decode(tmp / "r.fastq", tmp / "recon", originals=EXAMPLES, scheduler="threads")
    assert dec["images"] == 32 and dec["psnr"] > 15


def test_avif_and_jpeg2000_take_the_quality_knob(tmp):
    """Higher quality, more bytes and a closer image, for the two formats added for photos."""
    folder = images_folder(tmp / "img", 4)
    for name in ("avif", "jp2"):
        sizes, errs = [], []
        for q in (20, 90):
            codec = get_codec(name, quality=q)
            codes = codec.encode(_source(codec, folder))
            images, _ = _decode_all(codec_for(codes.attrs), codes)
            originals = _source(codec, folder).piece(0, 4)
            sizes.append(codes.codes.size)
            errs.append(float(np.mean((images.astype(float) - originals) ** 2)))
        assert sizes[0] < sizes[1] and errs[0] >= errs[1], (name, sizes, errs)
