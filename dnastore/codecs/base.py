"""The one interface every image codec implements, and the registry that finds a codec by
name.

A codec turns images into :class:`Codes` (the content of a codes artifact: integer codes,
the attributes that identify the codec and its settings, small side arrays, and the bits
actually written per image) and turns codes, with an erasure mask where the DNA lost some,
back into images (:class:`Decoded`). The oligo code (:mod:`dnastore.dna`) carries any
codes without knowing which codec made them.

    codec = get_codec("vae", n_bits=6)            # or "necst", "photo", "jpeg", "png", "webp", "avif", "jp2"
    codes = codec.encode(ImageSource("images/", codec.channels, codec.image_shape))
    codec = codec_for(codes.attrs)                 # the codec that wrote them, weights checked
    decoded = codec.decode(codes)                  # pieces of uint8 images, erasures per image

A new codec is one module: a subclass of :class:`Codec` with a ``name``, decorated with
:func:`register`, and its module named in ``_MODULES`` so that the registry can import it
on first use (the command line stays light until a codec is asked for).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

import numpy as np

from dnastore.errors import DnastoreError

# where each codec lives; imported only when the codec is asked for
_MODULES = {"vae": "dnastore.codecs.learned", "necst": "dnastore.codecs.learned",
            "jpeg": "dnastore.codecs.classical", "png": "dnastore.codecs.classical",
            "webp": "dnastore.codecs.classical", "avif": "dnastore.codecs.classical",
            "jp2": "dnastore.codecs.classical", "photo": "dnastore.codecs.photo"}
_REGISTRY: dict[str, type["Codec"]] = {}


@dataclass
class Codes:
    """Codes of ``n_images`` images: ``codes`` uint8/uint16 (rows, D) with ``attrs["n_bits"]``
    bits per code, the attributes that name the codec and its settings, side arrays that
    travel with them, and, after decoding, ``erased`` (bool, like ``codes``)."""
    codes: np.ndarray
    attrs: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    erased: np.ndarray | None = None

    @property
    def n_images(self) -> int:
        return int(self.attrs.get("images", len(self.codes)))

    @property
    def bits_per_image(self) -> float:
        """Mean bits written per image (the codes as stored, before the oligo code)."""
        return float(self.codes.size * int(self.attrs["n_bits"])) / max(1, self.n_images)


@dataclass
class Decoded:
    """Images decoded from codes: ``pieces`` yields (first row, uint8 images) in order, one
    piece in memory at a time; ``erased`` (n, D) marks the codes each image lost."""
    n: int
    pieces: Iterator[tuple[int, np.ndarray]]
    erased: np.ndarray
    channels: int
    image_shape: tuple[int, int]
    digest: str | None = None  # the weights' digest, for a learned codec
    shapes: np.ndarray | None = None  # (n, 2) height and width of each image, for codecs of any size
    counts: np.ndarray | None = None  # (n,) codes each image has (the first of its row of ``erased``); None: D

    def loss(self) -> dict[str, int]:
        """Codes in all, images that lost some of their codes, images that lost all of them."""
        er = np.asarray(self.erased, bool)
        counts = np.full(len(er), er.shape[1] if er.ndim == 2 else 0) if self.counts is None else self.counts
        lost = er.reshape(len(er), -1).sum(axis=1)
        counts = np.asarray(counts, np.int64)
        return {"codes_total": int(counts.sum()), "images_damaged": int((lost > 0).sum()),
                "images_lost": int(((lost >= counts) & (counts > 0)).sum())}


class Codec(ABC):
    """An image codec. ``channels`` and ``image_shape`` say which images it takes (``None``:
    any, set by the images given)."""

    name: ClassVar[str]
    precise: ClassVar[bool] = False  # True where any lost byte loses an image (a file codec): files' defaults apply
    channels: int | None = None
    image_shape: tuple[int, int] | None = None

    @abstractmethod
    def encode(self, source, executor=None) -> Codes:
        """Codes of every image of ``source`` (a :class:`dnastore.data.source.ImageSource`)."""

    @abstractmethod
    def decode(self, codes: Codes, executor=None) -> Decoded:
        """Images from ``codes``; erased codes are filled as the codec best can."""

    @classmethod
    @abstractmethod
    def for_codes(cls, attrs: dict[str, Any], weights=None, what: str = "the codes") -> "Codec":
        """The codec that wrote codes with ``attrs``, with its weights and statistics checked
        against them (a clear error, never wrong images)."""

    def describe(self) -> dict[str, Any]:
        """The codec's name and settings, for provenance and summaries."""
        return {"codec": self.name}


def register(cls: type[Codec]) -> type[Codec]:
    _REGISTRY[cls.name] = cls
    return cls


def codec_names() -> list[str]:
    return sorted(_MODULES)


def codec_class(name: str) -> type[Codec]:
    if name not in _MODULES:
        raise DnastoreError(f"unknown codec {name!r}; choose one of {', '.join(codec_names())}")
    if name not in _REGISTRY:
        importlib.import_module(_MODULES[name])
    return _REGISTRY[name]


def get_codec(name: str, **settings) -> Codec:
    """A codec by name, with its settings (``weights``, ``n_bits``, ``quality``...)."""
    return codec_class(name)(**settings)


def codec_for(attrs: dict[str, Any], weights=None, what: str = "the codes") -> Codec:
    """The codec that wrote codes with ``attrs`` (their ``codec`` attribute)."""
    name = attrs.get("codec")
    if not isinstance(name, str) or name not in _MODULES:
        raise DnastoreError(f"{what} were not written by a dnastore image codec (codec={name!r})")
    return codec_class(name).for_codes(attrs, weights, what)
