"""Classical codecs stored precisely: each image as its own JPEG, PNG, WebP, AVIF or JPEG 2000
file (Pillow), behind the :class:`~dnastore.codecs.base.Codec` interface as ``jpeg``,
``png``, ``webp``, ``avif`` and ``jp2``.

``--quality`` (1-100, higher is better) is the format's own quality for JPEG, WebP and AVIF;
JPEG 2000 has a compression ratio instead, taken as 2^((100 - quality) / 10): 32:1 at 50,
about 1:1 at 100.

The files' bytes, headers included, are what gets stored: that is what a user storing
images precisely would write. Decoding is strict: a file that Pillow cannot open, or that
opens to another size or mode, is a *failed image*. Failed images come back as all-black
images (value 0), so they enter PSNR and MS-SSIM as that black image and count as wrong in
classifier accuracy; the failure count is reported beside every metric.
"""

from __future__ import annotations

import io
import warnings
from typing import Any, ClassVar

import numpy as np

from dnastore.codecs.base import Codec, Codes, Decoded, register
from dnastore.errors import DnastoreError

FORMATS = ("jpeg", "png", "webp", "avif", "jp2")


def jp2_ratio(quality: int) -> float:
    """The JPEG 2000 compression ratio of a quality of 1-100 (see the module's text)."""
    return float(2.0 ** ((100 - int(quality)) / 10))


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
    elif fmt == "avif":
        im.save(buf, format="AVIF", quality=quality or 75)
    elif fmt == "jp2":
        im.save(buf, format="JPEG2000", irreversible=True, quality_mode="rates",
                quality_layers=[jp2_ratio(quality or 75)])
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


# ---- the codecs
class _FileCodec(Codec):
    """Each image as one file of format ``name``; the files, back to back, are the codes (one
    row of bytes) and their lengths a side array. A file with any byte lost fails whole: it
    comes back black, and all its codes count as erased."""

    quality_default: ClassVar[int | None] = 75
    precise = True
    PIECE = 1000

    def __init__(self, quality: int | None = None, channels: int | None = None,
                 image_shape: tuple[int, int] | None = None):
        if quality is not None and (isinstance(quality, bool) or not 1 <= int(quality) <= 100):
            raise DnastoreError(f"--quality must be in 1..100, got {quality}")
        self.quality = None if self.quality_default is None else int(quality or self.quality_default)
        self.channels = channels
        self.image_shape = tuple(image_shape) if image_shape is not None else None

    def describe(self) -> dict[str, Any]:
        return {"codec": self.name, "quality": self.quality}

    def encode(self, source, executor=None) -> Codes:
        files: list[bytes] = []
        for i0, i1 in source.pieces(self.PIECE):
            files += encode_images(source.piece(i0, i1), self.name, self.quality)
        payload, lengths = pack_files(files)
        attrs = {"codec": self.name, "quality": self.quality, "n_bits": 8, "images": source.n,
                 "image_shape": list(source.want), "channels": source.channels, "layout": "files"}
        return Codes(np.frombuffer(payload, np.uint8)[None, :].copy(), attrs,
                     {"lengths": np.asarray(lengths, np.uint32)})

    def decode(self, codes: Codes, executor=None) -> Decoded:
        lengths = codes.arrays.get("lengths")
        if lengths is None or lengths.ndim != 1 or int(lengths.astype(np.int64).sum()) != codes.codes.size:
            raise DnastoreError(f"{self.name} codes need a 'lengths' array that adds up to their "
                                f"{codes.codes.size} bytes")
        erased = (np.zeros(codes.codes.size, bool) if codes.erased is None
                  else np.asarray(codes.erased, bool).ravel())
        files = unpack_files(codes.codes.ravel().tobytes(), erased, [int(n) for n in lengths])
        if self.image_shape is None or self.channels is None:  # a codec made before it saw the codes
            return type(self).for_codes(codes.attrs).decode(codes, executor)
        shape = self.image_shape if self.channels == 1 else (*self.image_shape, self.channels)
        images = np.zeros((len(files), *shape), np.uint8)
        failed = np.ones(len(files), bool)
        for i, f in enumerate(files):
            a = None if f is None else decode_image(f, shape)
            if a is not None:
                images[i], failed[i] = a, False
        pieces = ((i0, images[i0:i0 + self.PIECE]) for i0 in range(0, len(files), self.PIECE))
        return Decoded(len(files), pieces, failed[:, None], self.channels, self.image_shape)

    @classmethod
    def for_codes(cls, attrs, weights=None, what="the codes") -> "_FileCodec":
        if weights is not None:
            raise DnastoreError(f"--weights does not apply to {cls.name} codes")
        shape, chans = attrs.get("image_shape"), attrs.get("channels")
        if (not isinstance(shape, list) or len(shape) != 2 or not all(isinstance(v, int) and v > 0 for v in shape)
                or chans not in (1, 3)):
            raise DnastoreError(f"{what} lack a valid image_shape and channels")
        return cls(attrs.get("quality"), chans, tuple(shape))


@register
class JPEGCodec(_FileCodec):
    name = "jpeg"


@register
class WebPCodec(_FileCodec):
    name = "webp"


@register
class AVIFCodec(_FileCodec):
    name = "avif"


@register
class JPEG2000Codec(_FileCodec):
    name = "jp2"


@register
class PNGCodec(_FileCodec):
    name = "png"
    quality_default = None  # lossless
