"""Image codecs behind one interface (:mod:`dnastore.codecs.base`): ``vae``, ``necst``,
``jpeg``, ``png`` and ``webp``, found by name."""

from dnastore.codecs.base import (
    Codec,
    Codes,
    Decoded,
    codec_for,
    codec_names,
    get_codec,
    register,
)

__all__ = ["Codec", "Codes", "Decoded", "codec_for", "codec_names", "get_codec", "register"]
