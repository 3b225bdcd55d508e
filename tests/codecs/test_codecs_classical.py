"""Classical baselines: lossless PNG, lossy JPEG/WebP, and the failed-image path."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dnastore.codecs.classical import decode_images, encode_image, encode_images

EX = np.stack([np.asarray(Image.open(p)) for p in
               sorted((Path(__file__).resolve().parents[2] / "examples" / "images").iterdir())[:6]])


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


def test_packed_files_come_back_and_losses_fail_only_their_files():
    from dnastore.codecs.classical import pack_files, unpack_files
    files = encode_images(EX, "png")
    payload, lengths = pack_files(files)
    ok = np.zeros(len(payload), bool)
    assert unpack_files(payload, ok, lengths) == files
    lost = ok.copy()
    lost[len(files[0]) + len(files[1]) + 3] = True  # a byte of the third file
    back = unpack_files(payload, lost, lengths)
    assert back[2] is None and [b for i, b in enumerate(back) if i != 2] == files[:2] + files[3:]


def test_results_json_of_a_pipeline_has_one_entry_per_method_and_setting(tmp_path):
    import json
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "cs.json"
    subprocess.run([sys.executable, str(root / "pipelines" / "coverage_sweep.py"), "--limit", "24", "--coverages",
                    "4,8", "--settings", "unbiased", "--necst", "", "--out", str(out), "--readme", str(tmp_path / "none.md")],
                   check=True, capture_output=True, cwd=tmp_path)
    res = json.loads(out.read_text())
    assert res["benchmark"] == "coverage_sweep" and res["seed"] == 0 and res["version"] and res["test_images"] == 24
    keys = {(r["method"], r["coverage"]) for r in res["rows"]}
    assert keys == {(m, c) for m in ("VAEN", "VAEU", "VAEN+RS30", "VAEN+RS60", "VAEN-3b", "VAEN-3b+RS30", "VAEN-3b+RS150", "PNG", "JPEG", "WEBP") for c in (4.0, 8.0)}
    for r in res["rows"]:
        assert {"ms_ssim", "psnr", "acc", "nt_per_image", "failed_images", "setting"} <= set(r)
        assert 0 <= r["acc"] <= 1 and r["nt_per_image"] > 0
    assert (tmp_path / "cs-unbiased.png").is_file()
