"""The dataset artifact and image folders.

``dataset.zarr/``
  ``images``  uint8 (N, H, W) for grey or (N, H, W, C) for colour, chunked along N
  ``labels``  int16 (N,), -1 where unknown
  ``names``   uint8 (N, W): the UTF-8 file name (or ``mnist-test-00042``) of each image, zero-padded
              (plain bytes because Zarr v3 has no stable string data type yet)
  attrs: ``kind = "dnastore-dataset"``, ``source``, ``provenance``
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dnastore.errors import DnastoreError

DATASET_KIND = "dnastore-dataset"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DnastoreError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DnastoreError(f"{folder} holds no PNG or JPEG images")
    return files


def load_image(path: Path, channels: int = 1, resize: tuple[int, int] | None = None) -> np.ndarray:
    """One image as uint8 (H, W) (channels=1) or (H, W, 3); a one-line error if unreadable."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()
            im = im.convert("L" if channels == 1 else "RGB")
            if resize is not None and im.size != (resize[1], resize[0]):
                im = im.resize((resize[1], resize[0]), Image.Resampling.LANCZOS)
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DnastoreError(f"{path}: not a readable image ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    except Image.DecompressionBombError:
        raise DnastoreError(f"{path}: image too large") from None


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
        names.append(p.name)
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


def write_dataset(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray | None, names: list[str],
                  attrs: dict[str, Any]) -> None:
    from dnastore.io.zarrio import write_group
    n = len(images)
    labels = np.full(n, -1, np.int16) if labels is None else np.asarray(labels).astype(np.int16)
    write_group(path, {"images": images, "labels": labels, "names": encode_names(names)},
                {"kind": DATASET_KIND, **attrs}, chunk_rows=1024)


def encode_names(names: list[str]) -> np.ndarray:
    raw = [s.encode("utf-8") for s in names]
    out = np.zeros((len(raw), max(1, max((len(b) for b in raw), default=1))), np.uint8)
    for i, b in enumerate(raw):
        out[i, :len(b)] = np.frombuffer(b, np.uint8)
    return out


def decode_names(arr: np.ndarray) -> list[str]:
    arr = np.asarray(arr)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise DnastoreError(f"'names' must be a uint8 (N, W) array, got {arr.dtype} {arr.shape}")
    try:
        return [bytes(r).rstrip(b"\0").decode("utf-8") for r in arr]
    except UnicodeDecodeError:
        raise DnastoreError("'names' holds bytes that are not UTF-8") from None


def open_dataset(path: str | os.PathLike) -> tuple[Any, np.ndarray, list[str], dict[str, Any]]:
    """(images as a lazy Zarr array, labels int16, names, attrs) of a dataset artifact,
    checked without reading the pixels."""
    from dnastore.io.zarrio import open_group
    g = open_group(path, DATASET_KIND)
    keys = set(g.array_keys())
    if "images" not in keys:
        raise DnastoreError(f"{path}: dataset artifact has no 'images' array")
    arr = g["images"]
    shape, dtype = tuple(arr.shape), np.dtype(arr.dtype)
    if dtype != np.uint8 or len(shape) not in (3, 4) or shape[0] == 0:
        raise DnastoreError(f"{path}: 'images' must be a non-empty uint8 (N,H,W[,C]) array, got {dtype} {shape}")
    n = shape[0]
    labels = np.asarray(g["labels"][...]) if "labels" in keys else np.full(n, -1, np.int16)
    names = decode_names(g["names"][...]) if "names" in keys else [f"image-{i:06d}" for i in range(n)]
    if labels.shape != (n,) or len(names) != n:
        raise DnastoreError(f"{path}: 'labels' and 'names' must have one entry per image ({n})")
    return arr, labels.astype(np.int16), names, dict(g.attrs)


def read_dataset(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, Any]]:
    """(images uint8, labels int16, names, attrs) of a dataset artifact, checked."""
    arr, labels, names, attrs = open_dataset(path)
    return np.asarray(arr[...]), labels, names, attrs