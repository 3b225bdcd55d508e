"""The photo codec: packets that decode on their own, any image size, the rate knob, the
shipped weights, and the command line's choice of codec."""

import json

import numpy as np
import pytest
from PIL import Image

from dnastore.codecs.photo import PACKET_BYTES, START_BYTES, pack_image, unpack_image
from tests.helpers import one_line_error, run


def _symbols(rng, n):
    scales = np.exp2(np.round(np.log2(rng.uniform(0.05, 4.0, n)) * 64) / 64)
    sym = np.clip(np.rint(rng.laplace(0, scales)), -63, 63).astype(np.int32)
    return sym, scales


def test_packets_fill_their_size_and_decode_exactly(rng):
    sym, scales = _symbols(rng, 5000)
    packets = pack_image(sym, scales, PACKET_BYTES, 63)
    assert all(len(p) == PACKET_BYTES for p in packets) and len(packets) > 10
    starts = [int.from_bytes(p[:START_BYTES], "big") for p in packets]
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)
    got, known = unpack_image(packets, scales, len(sym), 63)
    assert known.all() and np.array_equal(got, sym)


def test_a_lost_packet_loses_only_its_own_latents(rng):
    sym, scales = _symbols(rng, 4000)
    packets = pack_image(sym, scales, PACKET_BYTES, 63)
    starts = [int.from_bytes(p[:START_BYTES], "big") for p in packets] + [len(sym)]
    lost = {3, 4, len(packets) - 1}
    got, known = unpack_image([None if k in lost else p for k, p in enumerate(packets)], scales, len(sym), 63)
    want = np.ones(len(sym), bool)
    for k in lost:
        want[starts[k]:starts[k + 1]] = False
    # packet 2 (before a lost one) decodes by running its coder empty
    assert np.array_equal(known, want)
    assert np.array_equal(got[known], sym[known]) and (got[~known] == 0).all()


def test_a_corrupted_packet_is_treated_as_lost(rng):
    sym, scales = _symbols(rng, 3000)
    packets = pack_image(sym, scales, PACKET_BYTES, 63)
    bad = bytearray(packets[1])
    bad[0:START_BYTES] = (len(sym) + 5).to_bytes(START_BYTES, "big")  # a start past the end
    got, known = unpack_image([packets[0], bytes(bad), *packets[2:]], scales, len(sym), 63)
    assert not known[int.from_bytes(packets[1][:START_BYTES], "big")]
    assert np.array_equal(got[known], sym[known])


@pytest.fixture(scope="module")
def codec():
    from dnastore.codecs.base import get_codec
    return get_codec("photo", quality=50)


@pytest.fixture(scope="module")
def photo():
    from dnastore.data.photos import photo_set
    return photo_set("held-out")[2][1][:150, :230]  # coffee, cropped to a size no multiple of 16


def test_any_size_comes_back_at_its_size_and_the_rate_knob_moves_the_rate(codec, photo):
    from dnastore.codecs.base import get_codec
    from dnastore.metrics.image import psnr
    sizes = {}
    for q in (5, 50, 95):
        c = get_codec("photo", quality=q)
        pk = c.encode_image(photo)
        rec, lost = c.decode_image(pk, photo.shape[:2])
        assert rec.shape == photo.shape and rec.dtype == np.uint8 and lost == 0.0
        sizes[q] = (len(pk), float(psnr(photo[None], rec[None])[0]))
    assert sizes[5][0] < sizes[50][0] < sizes[95][0]
    assert sizes[5][1] < sizes[95][1] and sizes[50][1] > 20.0
    tiny = np.full((5, 7, 3), 128, np.uint8)
    rec, _ = codec.decode_image(codec.encode_image(tiny), (5, 7))
    assert rec.shape == (5, 7, 3)


def test_lost_packets_cost_the_photo_a_little_everywhere(codec, photo):
    from dnastore.metrics.image import psnr
    pk = codec.encode_image(photo)
    full, _ = codec.decode_image(pk, photo.shape[:2])
    r = np.random.default_rng(0)
    some, lost = codec.decode_image([None if r.random() < 0.1 else p for p in pk], photo.shape[:2])
    assert 0.03 < lost < 0.2
    p_full, p_some = (float(psnr(photo[None], x[None])[0]) for x in (full, some))
    assert p_full - 6.0 < p_some < p_full
    # spread, not a hole: no 16x16 block of the photo is far worse than the rest
    err = np.abs(some.astype(float) - full.astype(float)).mean(axis=2)
    blocks = err[:144, :224].reshape(9, 16, 14, 16).mean(axis=(1, 3))
    assert (blocks > 0.5).mean() > 0.9 and blocks.max() < 8 * blocks.mean()


def test_the_entropy_coder_scales_are_rounded_and_stable(codec):
    s = codec.model.scales(codec.level)
    assert np.array_equal(s, np.exp2(np.round(np.log2(s) * 64) / 64))
    assert np.array_equal(s, codec.model.scales(codec.level))


def test_codes_of_images_of_two_sizes_round_trip(codec, photo):
    from dnastore.codecs.base import Codes
    imgs = [photo, photo[:100, :120]]
    codes = codec.encode_images(imgs)
    assert codes.attrs["image_shape"] is None and codes.attrs["order"] == "row"
    assert codes.codes.shape[1] == PACKET_BYTES and codes.arrays["packets"].sum() == len(codes.codes)
    erased = np.zeros(codes.codes.shape, bool)
    erased[0, 5] = True  # one byte lost: its packet is lost
    dec = codec.decode(Codes(codes.codes, codes.attrs, codes.arrays, erased))
    out = [img[0] for _, img in dec.pieces]
    assert [o.shape for o in out] == [i.shape for i in imgs]
    assert dec.erased[0, 0] and dec.erased.sum() == 1
    # every packet of the smaller photo lost: that photo is lost, and the codes count no padding
    counts = codes.arrays["packets"]
    erased = np.zeros(codes.codes.shape, bool)
    erased[counts[0]:] = True
    dec = codec.decode(Codes(codes.codes, codes.attrs, codes.arrays, erased))
    assert counts[1] < counts[0]
    assert dec.loss() == {"codes_total": len(codes.codes), "images_damaged": 1, "images_lost": 1}


def _photos(folder, photo):
    folder.mkdir()
    Image.fromarray(photo).save(folder / "a.png")
    Image.fromarray(photo[:96, :130]).save(folder / "b.png")
    return folder


def test_encode_picks_the_photo_codec_for_colour_photos_and_decodes_from_the_dna_alone(tmp, photo):
    src = _photos(tmp / "photos", photo)
    Image.fromarray(photo[:6, :9]).save(src / "c.png")  # too small for SSIM's window: PSNR only
    r = run(["encode", src, "p.fasta"])
    assert "codec: photo (colour photos" in r.output
    man = json.loads((tmp / "p.fasta.json").read_text())
    assert man["codes"]["attrs"]["codec"] == "photo" and man["codes"]["unit"] == PACKET_BYTES
    run(["simulate", "p.fasta", "--coverage", "5", "-o", "reads.fastq"])
    (tmp / "reads.fastq.json").unlink(missing_ok=True)  # the manifest from the header strands
    (tmp / "p.fasta.json").rename(tmp / "elsewhere.json")
    r = run(["decode", "reads.fastq", "-o", "rec", "--originals", src])
    got = {p.name: np.asarray(Image.open(p)).shape for p in (tmp / "rec").glob("*.png") if p.name != "grid.png"}
    assert got == {"a.png": photo.shape, "b.png": (96, 130, 3), "c.png": (6, 9, 3)}
    assert "manifest_from" in r.output and "psnr" in r.output
    summary = {ln.split(": ")[0]: ln.split(": ")[1] for ln in r.output.splitlines() if ": " in ln}
    assert float(summary["psnr"]) > 20.0 and summary["images_lost"] == "0"
    import zarr
    g = zarr.open_group(str(tmp / "rec" / "images.zarr"), mode="r")
    ssim = np.asarray(g["ssim"])
    assert np.isfinite(ssim[:2]).all() and np.isnan(ssim[2]) and np.isfinite(np.asarray(g["psnr"])).all()
    assert float(summary["ssim"]) == pytest.approx(float(ssim[:2].mean()), abs=1e-4)


def test_mnist_digits_still_get_the_vae_and_bad_settings_are_one_line(tmp, photo):
    from tests.helpers import images_folder
    r = run(["encode", images_folder(tmp / "digits", 4), "d.fasta"])
    assert "codec: vae (small grey images" in r.output
    src = _photos(tmp / "photos", photo)
    one_line_error(run(["encode", src, "x.fasta", "--codec", "photo", "--quality", "0"], ok=False))
    one_line_error(run(["encode", src, "x.fasta", "--codec", "photo", "--weights", "vae-mnist-k16"], ok=False))
    one_line_error(run(["encode", src, "x.fasta", "--codec", "vae", "--quality", "50"], ok=False))
    grey = tmp / "grey"
    grey.mkdir()
    Image.fromarray(photo[:40, :40, 0]).save(grey / "a.png")  # small and grey: the VAE, which names the way out
    r = run(["encode", grey, "g.fasta"], ok=False)
    one_line_error(r)
    assert "--resize 28x28" in r.output and "--codec photo" in r.output


def test_train_fine_tunes_on_a_folder_and_its_weights_encode(tmp, photo):
    src = tmp / "mine"
    src.mkdir()
    Image.fromarray(photo).save(src / "a.png")
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(src / "small.png")
    from dnastore.codecs.weights import load_weights
    shipped = load_weights("photo-dna")
    before = np.asarray(shipped.model.dec[0].kernel[...]).copy()
    r = run(["train", src, "--codec", "photo", "--steps", "2", "--run-dir", "runs/mine"])
    # the shipped weights, loaded once per process, are not changed by fine-tuning a copy
    assert np.array_equal(np.asarray(load_weights("photo-dna").model.dec[0].kernel[...]), before)
    assert (tmp / "runs" / "mine" / "weights.msgpack").is_file() and "skipped_small" in r.output
    run(["encode", src, "m.fasta", "--codec", "photo", "--weights", "runs/mine/weights.msgpack"])
    run(["simulate", "m.fasta", "--coverage", "10", "-o", "r.fastq"])
    one_line_error(run(["decode", "r.fastq", "-o", "rec"], ok=False))  # the weights that encoded it are needed
    run(["decode", "r.fastq", "-o", "rec", "--weights", "runs/mine/weights.msgpack"])
    one_line_error(run(["train", tmp / "nothing", "--codec", "photo", "--run-dir", "runs/x"], ok=False))


@pytest.mark.parametrize("opts", [["--strand-length", "150"], ["--code", "goldman"]])
def test_packets_follow_the_strand_whatever_the_code_and_length(tmp, photo, opts):
    src = _photos(tmp / "photos", photo)
    r = run(["encode", src, "p.fasta", *opts])
    per = int(next(ln.split(": ")[1] for ln in r.output.splitlines() if ln.startswith("bytes_per_strand")))
    man = json.loads((tmp / "p.fasta.json").read_text())
    assert man["codes"]["unit"] == man["codes"]["attrs"]["packet_bytes"] == per < PACKET_BYTES
    run(["simulate", "p.fasta", "--coverage", "10", "-o", "r.fastq"])
    r = run(["decode", "r.fastq", "-o", "rec", "--originals", src])
    assert "codes_erased: 0" in r.output
    one_line_error(run(["encode", src, "q.fasta", "--strand-length", "60"], ok=False))
