"""Images read piece by piece, so that the image stages hold one piece of images at a time
(their per-image metadata, names and labels and small per-image figures, is all that grows
with the input; the outputs are written piece by piece with :class:`dnastore.io.zarrio.GroupWriter`).

A source is a dataset artifact (Zarr, read one slice of its ``images`` array at a time) or a
folder of PNG/JPEG files (read a slice of its sorted file list at a time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from dnastore.data.dataset import load_image, parse_size, scan_images
from dnastore.errors import DnastoreError
from dnastore.io.artifacts import open_dataset


class ImageSource:
    """``n`` images with ``names`` and ``labels`` (int16, -1 where unknown); ``piece(i0, i1)``
    reads images i0..i1 as uint8 (rows, H, W[, C]).

    ``channels`` and ``image_shape`` are what the codec takes; ``None`` takes them from the
    images (a dataset's array, or a folder's first image after ``resize``), and every image
    must then match them."""

    def __init__(self, source: Path, channels: int | None, image_shape: tuple[int, int] | None,
                 resize: str | None = None):
        source = Path(source)
        if not source.exists():
            raise DnastoreError(f"{source}: no such folder or dataset")
        self.source = source
        self.skipped: list[str] = []  # files of a folder that are not images, named for the user
        self._zarr = (source / "zarr.json").is_file()
        if self._zarr:
            if resize is not None:
                raise DnastoreError("--resize applies to image folders, not to a dataset artifact")
            self._arr, self.labels, self.names, attrs = open_dataset(source)
            self._origin = attrs.get("source") if isinstance(attrs, dict) else None
            self.n = self._arr.shape[0]
            shape = tuple(self._arr.shape)
            self.channels = channels or (1 if len(shape) == 3 else shape[3])
            self.want = tuple(image_shape or shape[1:3])
            self._check_shape(shape, str(source))
        else:
            self._files, others = scan_images(source)
            if not self._files:
                raise DnastoreError(f"{source} holds no image Pillow can read"
                                    + (f" ({len(others)} other files)" if others else ""))
            self.skipped = [p.relative_to(source).as_posix() for p in others]
            self._size = parse_size(resize)
            self.n = len(self._files)
            self.names = [p.relative_to(source).as_posix() for p in self._files]
            self.labels = np.full(self.n, -1, np.int16)
            if channels is None or image_shape is None:
                first = load_image(self._files[0], channels or _mode_channels(self._files[0]), self._size)
                channels = channels or (1 if first.ndim == 2 else 3)
                image_shape = image_shape or first.shape[:2]
            self.channels, self.want = channels, tuple(image_shape)

    def _check_shape(self, shape: tuple, what: str) -> None:
        chans = 1 if len(shape) == 3 else shape[3]
        if tuple(shape[1:3]) != self.want or chans != self.channels:
            expects = f"the model expects {self.want[1]}x{self.want[0]}x{self.channels}"
            if getattr(self, "_origin", None) == "random-bits":
                raise DnastoreError(f"{what} holds random bit strings ({shape[2]} bits each), not images: {expects}; "
                                    "a codec for them is trained with `dnastore train --codec necst`")
            raise DnastoreError(f"{what} holds {shape[2]}x{shape[1]}x{chans} images but {expects}: a dataset "
                                f"artifact is not resized; rebuild it with `dnastore dataset FOLDER --resize "
                                f"{self.want[1]}x{self.want[0]}`{' --rgb' if self.channels == 3 else ''}")

    def piece(self, i0: int, i1: int) -> np.ndarray:
        if self._zarr:
            return np.asarray(self._arr[i0:i1])
        imgs = []
        for p in self._files[i0:i1]:
            a = load_image(p, self.channels, self._size)
            if a.shape[:2] != self.want:
                raise DnastoreError(f"{p} is {a.shape[1]}x{a.shape[0]} but the model expects {self.want[1]}x{self.want[0]} "
                                    f"images; pass --resize {self.want[1]}x{self.want[0]}, or store them at their "
                                    f"size with the photo codec (`dnastore encode --codec photo`)")
            imgs.append(a)
        return np.stack(imgs)

    def one(self, i: int) -> np.ndarray:
        """Image ``i`` as uint8 (H, W[, C]), at its own size (for codecs that take any size)."""
        if self._zarr:
            return np.asarray(self._arr[i])
        return load_image(self._files[i], self.channels, self._size)

    @property
    def resizes(self) -> bool:
        """Whether images are resized as they are read (``--resize``)."""
        return not self._zarr and self._size is not None

    def native(self, limit: int = 20) -> list[tuple[str, tuple[int, int], bool]]:
        """(name, (width, height), colour) of up to ``limit`` images of a folder as stored,
        before any resize or conversion (read from their headers); none for a dataset."""
        if self._zarr:
            return []
        from PIL import Image
        out = []
        for p, name in zip(self._files[:limit], self.names[:limit]):
            try:
                with Image.open(p) as im:
                    if im.mode == "P":     # a palette image is colour when its palette is
                        rgb = np.asarray(im.convert("RGB"))
                        colour = bool((rgb[..., 0] != rgb[..., 1]).any() or (rgb[..., 1] != rgb[..., 2]).any())
                    else:
                        colour = im.mode not in ("1", "L", "LA", "I", "I;16", "F")
                    out.append((name, im.size, colour))
            except Exception:  # unreadable: piece() gives the one-line error
                continue
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one image: (H, W) grey or (H, W, C) colour."""
        return self.want if self.channels == 1 else (*self.want, self.channels)

    def pieces(self, rows: int) -> Iterator[tuple[int, int]]:
        for i0 in range(0, self.n, rows):
            yield i0, min(self.n, i0 + rows)


def _mode_channels(path: Path) -> int:
    """1 for a grey image file, 3 for any other."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            return 1 if im.mode in ("1", "L", "LA", "I", "I;16", "F") else 3
    except Exception:  # unreadable: load_image gives the one-line error
        return 1
