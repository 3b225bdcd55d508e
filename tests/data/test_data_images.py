"""Images as a user's files hold them: 16-bit PNGs, EXIF orientation, grids of few images,
and a small MNIST subset without the whole set in memory."""

import numpy as np
from PIL import Image

from dnastore.data.dataset import load_image
from dnastore.data.render import grid


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped(tmp_path):
    ramp = (np.arange(28 * 28).reshape(28, 28) * 83).astype(np.uint16)  # 0 .. 65,000
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    got = load_image(tmp_path / "g16.png")
    want = np.clip(np.rint(ramp / 257.0), 0, 255).astype(np.uint8)
    assert np.abs(got.astype(int) - want).max() <= 1
    assert got.max() > 250 and (got < 255).mean() > 0.95  # a ramp, not a clipped white sheet


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("L", (30, 20), 0)
    im.paste(255, (0, 0, 10, 20))  # the left third white
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    im.save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=95)
    got = load_image(tmp_path / "rot.jpg")
    assert got.shape == (30, 20)  # portrait, as viewers show it
    assert got[:10].mean() > 200 and got[-10:].mean() < 50  # the white third now on top


def test_a_grid_of_few_images_is_only_as_wide_as_they_are():
    imgs = np.zeros((4, 28, 28), np.uint8)
    g = grid([imgs], scale=1)
    assert g.shape[1] == 4 * (28 + 2)
    g16 = grid([np.zeros((40, 28, 28), np.uint8)], scale=1)
    assert g16.shape[1] == 16 * (28 + 2)


def test_an_mnist_subset_is_the_head_of_the_split():
    from dnastore.data import mnist
    head, labels = mnist.load_mnist("valid", 37)
    assert head.shape == (37, 28, 28) and labels.shape == (37,)
    full, full_labels = mnist.load_mnist("valid")
    assert np.array_equal(head, full[:37]) and np.array_equal(labels, full_labels[:37])
