"""Image folders: listing, reading, resizing. (The dataset artifact itself is in
:mod:`dnastore.io.artifacts`.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnastore.errors import DnastoreError


def scan_images(folder: Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files) under ``folder`` and its subfolders, sorted by relative
    path. An image is any file Pillow can open (PNG, JPEG, WebP, TIFF, BMP, GIF's first
    frame...); hidden files and folders are left out."""
    from PIL import Image
    if not folder.is_dir():
        raise DnastoreError(f"{folder}: no such folder" if not folder.exists() else f"{folder} is a file, not a folder")
    files = sorted((p for p in folder.rglob("*") if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(folder).parts)),
                   key=lambda p: p.relative_to(folder).as_posix())
    images, others = [], []
    for p in files:
        try:
            with Image.open(p):
                images.append(p)
        except Exception:  # whatever Pillow raises for a file that is not an image
            others.append(p)
    return images, others


def list_images(folder: Path) -> list[Path]:
    images, others = scan_images(folder)
    if not images:
        raise DnastoreError(f"{folder} holds no image Pillow can read" + (f" ({len(others)} other files)" if others
                                                                          else ""))
    return images


def load_image(path: Path, channels: int = 1, resize: tuple[int, int] | None = None) -> np.ndarray:
    """One image as uint8 (H, W) (channels=1) or (H, W, 3); a one-line error if unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()
            im = ImageOps.exif_transpose(im)  # a camera's rotation flag, applied as viewers do
            im = _eight_bit(im).convert("L" if channels == 1 else "RGB")
            if resize is not None and im.size != (resize[1], resize[0]):
                im = im.resize((resize[1], resize[0]), Image.Resampling.LANCZOS)
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DnastoreError(f"{path}: not a readable image ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    except Image.DecompressionBombError:
        raise DnastoreError(f"{path}: image too large") from None


def _eight_bit(im):
    """Grey images of more than 8 bits (16-bit PNG: modes I;16 and I; float TIFF: F) scaled to
    8 bits: Pillow's own conversion clips them at 255 instead."""
    from PIL import Image
    if not (im.mode.startswith("I") or im.mode == "F"):
        return im
    a = np.asarray(im, dtype=np.float64)
    top = 1.0 if im.mode == "F" and a.size and float(np.nanmax(a)) <= 1.0 else 65535.0
    return Image.fromarray(np.clip(np.rint(np.nan_to_num(a) * (255.0 / top)), 0, 255).astype(np.uint8), "L")


def load_folder(folder: Path, channels: int = 1, resize: tuple[int, int] | None = None,
                expect: tuple[int, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """All images of a folder (sorted by name) as one uint8 array, and their names.

    Without ``resize`` every image must have the size of the first (or ``expect``); the
    error names the first one that does not.
    """
    files = list_images(folder)
    imgs, names = [], []
    want = expect
    for p in files:
        a = load_image(p, channels, resize)
        if want is None:
            want = a.shape[:2]
        elif a.shape[:2] != tuple(want):
            raise DnastoreError(f"{p} is {a.shape[1]}x{a.shape[0]} but {'the model expects' if expect else 'the folder starts with'} "
                                f"{want[1]}x{want[0]} images; pass --resize {want[1]}x{want[0]}")
        imgs.append(a)
        names.append(p.relative_to(folder).as_posix())
    return np.stack(imgs), names


def parse_size(value: str | None) -> tuple[int, int] | None:
    """'28x28' or '28' → (height, width)."""
    if value is None:
        return None
    try:
        parts = [int(v) for v in value.lower().split("x")]
        w, h = (parts[0], parts[0]) if len(parts) == 1 else parts
        if w <= 0 or h <= 0 or w > 4096 or h > 4096:
            raise ValueError
    except ValueError:
        raise DnastoreError(f"--resize wants WIDTHxHEIGHT such as 28x28 (at most 4096), got {value!r}") from None
    return h, w
