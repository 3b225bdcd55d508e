"""Classical baselines: each image as its own JPEG, PNG or WebP file (Pillow).

The files' bytes, headers included, are what gets stored: that is what a user storing
images precisely would write. Decoding is strict: a file that Pillow cannot open, or that
opens to another size or mode, is a *failed image*. Failed images come back as all-black
images (value 0), so they enter PSNR and MS-SSIM as that black image and count as wrong in
classifier accuracy; the failure count is reported beside every metric.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

FORMATS = ("jpeg", "png", "webp")


def encode_image(img: np.ndarray, fmt: str, quality: int | None = None) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    im = Image.fromarray(img)
    if fmt == "png":
        im.save(buf, format="PNG", optimize=True)
    elif fmt == "jpeg":
        im.save(buf, format="JPEG", quality=quality or 75)
    elif fmt == "webp":
        im.save(buf, format="WEBP", quality=quality or 75, method=6)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return buf.getvalue()


def decode_image(data: bytes, shape: tuple[int, ...]) -> np.ndarray | None:
    """The image, or None when the bytes do not decode to an image of ``shape``."""
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                a = np.asarray(im.convert("L") if len(shape) == 2 else im.convert("RGB"))
    except Exception:  # any decoder failure is a failed image, whatever Pillow raises
        return None
    return a if a.shape == tuple(shape) else None


def encode_images(images: np.ndarray, fmt: str, quality: int | None = None) -> list[bytes]:
    return [encode_image(x, fmt, quality) for x in images]


def decode_images(files: list[bytes], shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(images, failed mask); failed images are all zero."""
    out = np.zeros((len(files), *shape), np.uint8)
    failed = np.zeros(len(files), bool)
    for i, f in enumerate(files):
        a = decode_image(f, shape)
        if a is None:
            failed[i] = True
        else:
            out[i] = a
    return out, failed


def pack_files(files: list[bytes]) -> tuple[bytes, list[int]]:
    """Many files as one payload, and their lengths.

    The lengths travel in the manifest, beside the DNA, as file names would: stored in DNA,
    one lost strand of a length table would lose every later file, which would charge the
    classical baselines for our container rather than for their format. (It also spares them
    16 bits per image, about 1% of their nucleotides: the comparison leans their way.)
    """
    return b"".join(files), [len(f) for f in files]


def unpack_files(payload: bytes, erased: np.ndarray, lengths: list[int]) -> list[bytes | None]:
    """The files, None where any of a file's bytes was lost."""
    out: list[bytes | None] = []
    pos = 0
    for n in lengths:
        end = pos + int(n)
        out.append(None if end > len(payload) or erased[pos:end].any() else payload[pos:end])
        pos = end
    return out


def payload_bytes(data: bytes) -> int:
    """The bytes of a JPEG or WebP file without its headers: what the NECST paper counts for
    "WebP/JPEG + ideal channel code" (headers "are similar for images from the same dataset").

    JPEG: the entropy-coded data, from the end of the start-of-scan segment to the end-of-image
    marker. WebP: the VP8 chunk's data less its 10-byte frame header (lossy), or the VP8L
    chunk's data less its 5-byte signature and size (lossless); the RIFF and chunk headers
    are left out."""
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                raise ValueError("not a well-formed JPEG")
            marker, seg = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
            if marker == 0xDA:  # start of scan: the entropy-coded data follow its header
                end = len(data) - 2 if data[-2:] == b"\xff\xd9" else len(data)
                return end - (i + 2 + seg)
            i += 2 + seg
        raise ValueError("JPEG without a start-of-scan segment")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        i = 12
        while i + 8 <= len(data):
            tag, size = data[i:i + 4], int.from_bytes(data[i + 4:i + 8], "little")
            if tag == b"VP8 ":
                return size - 10
            if tag == b"VP8L":
                return size - 5
            i += 8 + size + (size & 1)
        raise ValueError("WebP without a VP8 or VP8L chunk")
    raise ValueError("not a JPEG or WebP file")
