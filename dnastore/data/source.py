"""Images read piece by piece, and Zarr arrays written piece by piece, so that the image
stages hold one piece of images at a time (their per-image metadata, names and labels and
small per-image figures, is all that grows with the input).

A source is a dataset artifact (Zarr, read one slice of its ``images`` array at a time) or a
folder of PNG/JPEG files (read a slice of its sorted file list at a time).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from dnastore.data.dataset import list_images, load_image, open_dataset, parse_size
from dnastore.errors import DnastoreError


class ImageSource:
    """``n`` images with ``names`` and ``labels`` (int16, -1 where unknown); ``piece(i0, i1)``
    reads images i0..i1 as uint8 (rows, H, W[, C])."""

    def __init__(self, source: Path, channels: int, image_shape: tuple[int, int], resize: str | None = None):
        source = Path(source)
        if not source.exists():
            raise DnastoreError(f"{source}: no such folder or dataset")
        self.source = source
        self.channels, self.want = channels, tuple(image_shape)
        self._zarr = (source / "zarr.json").is_file()
        if self._zarr:
            if resize is not None:
                raise DnastoreError("--resize applies to image folders, not to a dataset artifact")
            self._arr, self.labels, self.names, _ = open_dataset(source)
            self.n = self._arr.shape[0]
            self._check_shape(tuple(self._arr.shape), str(source))
        else:
            self._files = list_images(source)
            self._size = parse_size(resize)
            self.n = len(self._files)
            self.names = [p.name for p in self._files]
            self.labels = np.full(self.n, -1, np.int16)

    def _check_shape(self, shape: tuple, what: str) -> None:
        chans = 1 if len(shape) == 3 else shape[3]
        if tuple(shape[1:3]) != self.want or chans != self.channels:
            raise DnastoreError(f"{what} holds {shape[2]}x{shape[1]}x{chans} images but the model expects "
                                f"{self.want[1]}x{self.want[0]}x{self.channels}; pass --resize {self.want[1]}x{self.want[0]}")

    def piece(self, i0: int, i1: int) -> np.ndarray:
        if self._zarr:
            return np.asarray(self._arr[i0:i1])
        imgs = []
        for p in self._files[i0:i1]:
            a = load_image(p, self.channels, self._size)
            if a.shape[:2] != self.want:
                raise DnastoreError(f"{p} is {a.shape[1]}x{a.shape[0]} but the model expects {self.want[1]}x{self.want[0]} "
                                    f"images; pass --resize {self.want[1]}x{self.want[0]}")
            imgs.append(a)
        return np.stack(imgs)

    def pieces(self, rows: int) -> Iterator[tuple[int, int]]:
        for i0 in range(0, self.n, rows):
            yield i0, min(self.n, i0 + rows)


class GroupWriter:
    """A Zarr v3 group whose arrays are created at their full shape and filled slice by slice
    along the first axis (chunks of ``chunk_rows`` rows, so a piece fills whole chunks)."""

    def __init__(self, path: str | os.PathLike, attrs: dict[str, Any], chunk_rows: int):
        import zarr
        self.g = zarr.open_group(str(path), mode="w", zarr_format=3)
        self.g.attrs.update(attrs)
        self.chunk_rows = chunk_rows
        self.arrays: dict[str, Any] = {}

    def create(self, name: str, shape: tuple[int, ...], dtype) -> None:
        chunks = (max(1, min(self.chunk_rows, shape[0])),) + tuple(shape[1:])
        self.arrays[name] = self.g.create_array(name, shape=shape, dtype=dtype, chunks=chunks)

    def put(self, name: str, i0: int, values: np.ndarray) -> None:
        self.arrays[name][i0:i0 + len(values)] = values

    def write(self, name: str, values: np.ndarray) -> None:
        """A whole (small) array at once."""
        values = np.asarray(values)
        self.create(name, values.shape, values.dtype)
        if values.size:
            self.arrays[name][...] = values
