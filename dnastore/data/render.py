"""Writing reconstructions: PNG files, a Zarr of the images, and comparison grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_png(path: Path, img: np.ndarray) -> None:
    from PIL import Image
    Image.fromarray(img).save(path, format="PNG", optimize=False)


def grid(rows: list[np.ndarray], per_row: int = 16, pad: int = 2, scale: int = 2) -> np.ndarray:
    """One image from several equally long stacks of images (N, H, W[, C]): each stack takes
    one row per ``per_row`` images, stacks interleaved block by block (originals above
    reconstructions), on a white background. Fewer images than ``per_row`` make a row only as
    wide as they are."""
    n = len(rows[0])
    per_row = max(1, min(per_row, n))
    h, w = rows[0].shape[1:3]
    colour = rows[0].ndim == 4
    blocks = []
    for start in range(0, n, per_row):
        for stack in rows:
            row = np.full((h + pad, per_row * (w + pad)) + ((3,) if colour else ()), 255, np.uint8)
            for j, img in enumerate(stack[start:start + per_row]):
                row[:h, j * (w + pad):j * (w + pad) + w] = img
            blocks.append(row)
        blocks.append(np.full((2 * pad,) + blocks[-1].shape[1:], 255, np.uint8))
    out = np.concatenate(blocks[:-1])
    return np.kron(out, np.ones((scale, scale) + ((1,) if colour else ()), np.uint8)) if scale > 1 else out


def png_names(names: list[str] | None, n: int) -> list[str]:
    """File names for the reconstructions: the originals' names as .png, under the same
    subfolders (``a.webp`` -> ``a.png``; where two originals would meet, ``a.jpg`` ->
    ``a.jpg.png``), when known and safe; else image-00000.png, ..."""
    if names and len(names) == n:
        for out in ([str(Path(s).with_suffix(".png")) if Path(s).suffix else s + ".png" for s in names],
                    [s if s.lower().endswith(".png") else s + ".png" for s in names]):
            if len(set(out)) == n and all(_safe(s) for s in out):
                return out
    return [f"image-{i:05d}.png" for i in range(n)]


def _safe(name: str) -> bool:
    """A relative name inside the output folder that clashes with none of its own files."""
    parts = name.split("/")
    return (bool(name) and "\\" not in name and all(p not in ("", ".", "..") and not p.startswith(".") for p in parts)
            and name != "grid.png" and parts[0] != "images.zarr")
