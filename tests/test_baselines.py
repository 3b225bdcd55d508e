"""Classical baselines: lossless PNG, lossy JPEG/WebP, and the failed-image path."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dnastore.codecs.classical import decode_images, encode_image, encode_images

EX = np.stack([np.asarray(Image.open(p)) for p in
               sorted((Path(__file__).resolve().parents[1] / "examples" / "images").iterdir())[:6]])


def test_png_is_lossless_and_jpeg_webp_are_close():
    png, failed = decode_images(encode_images(EX, "png"), EX.shape[1:])
    assert not failed.any() and np.array_equal(png, EX)
    for fmt in ("jpeg", "webp"):
        out, failed = decode_images(encode_images(EX, fmt, 90), EX.shape[1:])
        assert not failed.any() and np.abs(out.astype(int) - EX).mean() < 12


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_broken_files_are_failed_images_that_come_back_black(fmt):
    files = encode_images(EX, fmt, 75)
    broken = [files[0][:len(files[0]) // 3], b"", bytes(len(files[2]))] + files[3:]
    out, failed = decode_images(broken, EX.shape[1:])
    assert failed[:3].all() and not failed[3:].any()
    assert (out[:3] == 0).all()
    # a file that decodes to another size is a failure too
    other = encode_image(np.zeros((10, 10), np.uint8), fmt, 75)
    assert decode_images([other], EX.shape[1:])[1][0]
