"""The photo codec (``--codec photo``): colour photographs of any size through the learned
transform coder of :mod:`dnastore.codecs.photo_model`, entropy-coded in packets that each
fill one strand and decode on their own.

Encoding one image at quality ``t`` (``--quality`` 1-100 mapped onto the shipped levels):

1. pad to a multiple of 16 (edge values), analysis transform, gain of quality ``t``, round,
   clip to ±``max_symbol``;
2. keep the *active* latents: those of channels whose Laplace scale at ``t`` is at least
   :data:`ACTIVE_SCALE` (the others are 0 with probability above 99.99% and cost nothing);
3. put them in a pseudo-random order keyed by the latent grid's shape, so that consecutive
   latents lie far apart in the image and in the channels;
4. cut that sequence into **packets** of ``packet_bytes`` (42 by default: the dense code's
   payload per strand, so that the oligo code puts exactly one packet in each strand): a
   3-byte start (the position of the packet's first latent in the sequence) and as many
   latents as the ANS coder of `constriction` (Laplace model per latent) fits into the rest,
   in 32-bit words, zero-padded.

A packet needs nothing but itself to decode: its latents' channels follow from its start,
and it holds symbols until the coder is empty. A lost packet (a strand the outer code could
not restore) leaves its latents at 0, the prior's mode: scattered latents of one image, a
little blur spread over the photo instead of a hole. The bits reported are the packets'
bytes, padding included: what the DNA carries.

Codes: ``codes`` uint8 (packets, packet_bytes), row order; side arrays ``shapes`` (N, 2:
height, width) and ``packets`` (N: packets per image); attrs ``quality``, ``packet_bytes``,
``order`` = "row", ``unit`` = packet_bytes and the weights' name and digest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnastore.codecs.base import Codec, Codes, Decoded, register
from dnastore.data.batches import model_jit
from dnastore.errors import DnastoreError

DEFAULT_PHOTO_WEIGHTS = "photo-dna"
PACKET_BYTES = 42
START_BYTES = 3
ACTIVE_SCALE = 0.06
DEFAULT_QUALITY = 50


def level_of(quality: float, levels: int) -> float:
    """``--quality`` 1..100 → the model's continuous level in [0, levels - 1]."""
    return (float(quality) - 1.0) / 99.0 * (levels - 1)


@model_jit
def _analysis(model, x, level):
    g, _, _ = model.level_params(level[None])
    return model.analysis(x) * g[:, None, None, :]


@model_jit
def _synthesis(model, y, level):
    _, ig, _ = model.level_params(level[None])
    return model.synthesis(y * ig[:, None, None, :])


class PhotoModel:
    """A loaded photo model's inference: latents of an image and an image of latents."""

    def __init__(self, w):
        self.w = w
        self.cfg = w.config

    def latents(self, img: np.ndarray, level: float) -> np.ndarray:
        """Rounded latents int32 (h, w, M) of a uint8 (H, W, 3) image."""
        from dnastore.codecs.photo_model import pad_to_stride
        x = pad_to_stride(img[None].astype(np.float32) / 255.0)
        y = _analysis(self.w.model, x, np.float32(level))
        m = self.cfg.max_symbol
        return np.clip(np.rint(np.asarray(y[0])), -m, m).astype(np.int32)

    def scales(self, level: float) -> np.ndarray:
        """The Laplace scales (M,) at ``level``, as the entropy coder uses them: computed in
        float64 from the stored parameters and rounded to 1/64 of an octave, so that the
        encoder and a decoder on another machine (another JAX, another CPU) agree exactly."""
        ls = np.asarray(self.w.model.log_scale[...], np.float64)
        n = ls.shape[0]
        q = min(max(float(np.float32(level)), 0.0), n - 1.0)
        lo = min(max(int(np.floor(q)), 0), max(0, n - 2))
        hi = min(lo + 1, n - 1)
        t = q - lo
        from dnastore.codecs.photo_model import SCALE_FLOOR
        s = np.exp((1 - t) * ls[lo] + t * ls[hi]) + SCALE_FLOOR   # as PhotoNet.level_params
        return np.exp2(np.round(np.log2(s) * 64.0) / 64.0)

    def image(self, q: np.ndarray, shape: tuple[int, int], level: float) -> np.ndarray:
        x = _synthesis(self.w.model, q[None].astype(np.float32), np.float32(level))
        x = np.asarray(x[0])[:shape[0], :shape[1]]
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def latent_grid(shape: tuple[int, int]) -> tuple[int, int]:
    from dnastore.codecs.photo_model import STRIDE
    return -(-int(shape[0]) // STRIDE), -(-int(shape[1]) // STRIDE)


def element_order(grid: tuple[int, int], active: np.ndarray) -> np.ndarray:
    """Flat indices into the (h, w, M) latents of the active channels, in the pseudo-random
    order the packets follow (keyed by the grid and the active channels)."""
    h, w = grid
    m = len(active)
    flat = (np.arange(h * w)[:, None] * m + np.flatnonzero(active)[None, :]).ravel()
    seed = [0x9E37, h, w, *np.packbits(active).tolist()]
    return flat[np.random.default_rng(seed).permutation(len(flat))]


def pack_image(sym: np.ndarray, scales: np.ndarray, packet_bytes: int, max_symbol: int) -> list[bytes]:
    """Packets of ``sym`` (the active latents in packet order) with per-latent Laplace
    ``scales``: each a 3-byte start and ANS words, ``packet_bytes`` long."""
    import constriction
    model = constriction.stream.model.QuantizedLaplace(-max_symbol, max_symbol)
    words = (packet_bytes - START_BYTES) // 4
    if words < 1:
        raise DnastoreError(f"a packet of {packet_bytes} bytes has no room for data; at least {START_BYTES + 4}")
    n = len(sym)
    if n >= 1 << (8 * START_BYTES):
        raise DnastoreError(f"an image of {n} latents is too large for the photo codec's packets")
    # estimated bits per latent, to guess how many fit; the coder then decides
    b = scales
    a = np.maximum(np.abs(sym) - 0.5, 0.0)
    p = np.where(sym == 0, 1.0 - np.exp(-0.5 / b), 0.5 * (np.exp(-a / b) - np.exp(-(a + 1.0) / b)))
    cum = np.concatenate([[0.0], np.cumsum(-np.log2(np.maximum(p, 1e-12)))])
    means = np.zeros(n)
    cap = 32 * words

    def encode(i, j):
        enc = constriction.stream.stack.AnsCoder()
        enc.encode_reverse(sym[i:j], model, means[i:j], b[i:j])
        return enc.get_compressed()

    out = []
    i = 0
    while i < n:
        # the most latents whose code fits, found by bisection around the estimate
        guess = int(np.searchsorted(cum, cum[i] + cap - 40, side="right")) - 1
        lo, hi = i + 1, n
        j = min(max(guess, lo), hi)
        if len(encode(i, j)) <= words:
            lo = j
            step = max(8, (j - i) // 16)
            while lo < hi:
                k = min(hi, lo + step)
                if len(encode(i, k)) <= words:
                    lo = k
                    step *= 2
                else:
                    hi = k - 1
                    break
        else:
            hi = j - 1
        while lo < hi:  # lo fits, the answer lies in [lo, hi]
            mid = (lo + hi + 1) // 2
            if len(encode(i, mid)) <= words:
                lo = mid
            else:
                hi = mid - 1
        if lo == i + 1 and len(encode(i, lo)) > words:
            raise DnastoreError("a latent does not fit in one packet")
        w = encode(i, lo)
        body = np.zeros(words, np.uint32)
        body[:len(w)] = w
        pk = i.to_bytes(START_BYTES, "big") + body.astype(">u4").tobytes()
        out.append(pk + bytes(packet_bytes - len(pk)))
        i = lo
    return out


def unpack_image(packets: list[bytes | None], scales: np.ndarray, n: int, max_symbol: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(latents in packet order (n,), known mask) from an image's packets, None where lost.
    A packet whose start or symbols do not make sense is treated as lost."""
    import constriction
    model = constriction.stream.model.QuantizedLaplace(-max_symbol, max_symbol)
    sym = np.zeros(n, np.int32)
    known = np.zeros(n, bool)
    starts = [None if p is None else int.from_bytes(p[:START_BYTES], "big") for p in packets]
    for k, p in enumerate(packets):
        s0 = starts[k]
        if p is None or s0 >= n or (k == 0 and s0 != 0):
            continue
        words = np.frombuffer(p[START_BYTES:START_BYTES + (len(p) - START_BYTES) // 4 * 4], ">u4").astype(np.uint32)
        nz = np.flatnonzero(words)
        words = words[:nz[-1] + 1] if len(nz) else words[:0]
        nxt = starts[k + 1] if k + 1 < len(packets) else n
        try:
            dec = constriction.stream.stack.AnsCoder(words.copy())
            if nxt is not None and s0 < nxt <= n:
                got = dec.decode(model, np.zeros(nxt - s0), scales[s0:nxt])
            else:  # the next packet is lost: symbols until the coder is empty
                got = []
                while not dec.is_empty() and s0 + len(got) < n:
                    got.append(int(dec.decode(model, np.zeros(1), scales[s0 + len(got):s0 + len(got) + 1])[0]))
            if not dec.is_empty():
                continue    # not the packet we wrote: leave its latents unknown
        except Exception:  # constriction rejects a malformed stream: the packet is lost
            continue
        got = np.asarray(got, np.int32)
        sym[s0:s0 + len(got)] = got
        known[s0:s0 + len(got)] = True
    return sym, known


@register
class PhotoCodec(Codec):
    """Colour photographs of any size; ``quality`` 1-100 (higher: more bits)."""

    name = "photo"
    channels = 3
    image_shape = None

    def __init__(self, weights=None, quality: float | None = None, packet_bytes: int | None = None, _w=None):
        from dnastore.codecs.learned import load_model_weights
        self.w = _w or load_model_weights(weights, "photo", DEFAULT_PHOTO_WEIGHTS)
        q = DEFAULT_QUALITY if quality is None else quality
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 1 <= float(q) <= 100:
            raise DnastoreError(f"--quality must be in 1..100, got {quality}")
        self.quality = float(q)
        pb = PACKET_BYTES if packet_bytes is None else packet_bytes
        if isinstance(pb, bool) or not isinstance(pb, int) or not START_BYTES + 4 <= pb <= 4096:
            raise DnastoreError(f"the photo codec's packets must be {START_BYTES + 4}..4096 bytes, got {packet_bytes}")
        self.packet_bytes = int(pb)
        self.level = level_of(self.quality, self.w.config.levels)
        self.model = PhotoModel(self.w)

    def describe(self) -> dict[str, Any]:
        return {"codec": "photo", "quality": self.quality, "packet_bytes": self.packet_bytes, "weights": self.w.digest}

    def active(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.model.scales(self.level)
        return s >= ACTIVE_SCALE, s

    def encode_image(self, img: np.ndarray) -> list[bytes]:
        if img.ndim != 3 or img.shape[2] != 3:
            img = np.repeat(img.reshape(*img.shape[:2], 1), 3, axis=2)
        if min(img.shape[:2]) < 1:
            raise DnastoreError("an empty image")
        q = self.model.latents(img, self.level)
        active, s = self.active()
        order = element_order(q.shape[:2], active)
        sym = q.ravel()[order]
        return pack_image(sym, s[order % len(s)], self.packet_bytes, self.w.config.max_symbol)

    def decode_image(self, packets: list[bytes | None], shape: tuple[int, int]) -> tuple[np.ndarray, float]:
        """(uint8 image, share of its latents lost)."""
        active, s = self.active()
        grid = latent_grid(shape)
        order = element_order(grid, active)
        sym, known = unpack_image(packets, s[order % len(s)], len(order), self.w.config.max_symbol)
        q = np.zeros(grid[0] * grid[1] * len(s), np.int32)
        q[order] = sym
        return self.model.image(q.reshape(*grid, len(s)), shape, self.level), float(1.0 - known.mean()) if len(known) else 0.0

    def encode(self, source, executor=None) -> Codes:
        return self.encode_images((source.one(i) for i in range(source.n)), source.n)

    def encode_images(self, images, n: int | None = None) -> Codes:
        """Codes of uint8 images (an iterable of (H, W, 3) arrays of any sizes)."""
        packets: list[bytes] = []
        counts, shapes = [], []
        for img in images:
            pk = self.encode_image(img)
            packets += pk
            counts.append(len(pk))
            shapes.append(img.shape[:2])
        codes = np.frombuffer(b"".join(packets), np.uint8).reshape(len(packets), self.packet_bytes).copy()
        same = len({tuple(s) for s in shapes}) == 1
        attrs = {"codec": "photo", "weights_digest": self.w.digest, "weights_name": self.w.path.rsplit("/", 1)[-1], "quality": self.quality, "packet_bytes": self.packet_bytes,
                 "n_bits": 8, "images": len(counts), "channels": 3, "order": "row", "unit": self.packet_bytes,
                 "image_shape": list(shapes[0]) if same else None}
        return Codes(codes, attrs, {"shapes": np.asarray(shapes, np.uint32).reshape(-1, 2),
                                    "packets": np.asarray(counts, np.uint32)})

    def decode(self, codes: Codes, executor=None) -> Decoded:
        shapes, counts = codes.arrays.get("shapes"), codes.arrays.get("packets")
        c = np.asarray(codes.codes)
        if (shapes is None or counts is None or shapes.ndim != 2 or shapes.shape[1] != 2
                or len(shapes) != len(counts) or c.ndim != 2 or c.shape[1] != self.packet_bytes
                or int(np.asarray(counts, np.int64).sum()) != len(c)):
            raise DnastoreError("the photo codes are inconsistent: their 'shapes', 'packets' and packet size do "
                                "not match the codes")
        er = np.zeros(c.shape, bool) if codes.erased is None else np.asarray(codes.erased, bool).reshape(c.shape)
        lost = er.any(axis=1)
        n = len(counts)
        width = int(counts.max()) if n else 0
        erased = np.zeros((n, max(1, width)), bool)
        ends = np.cumsum(counts.astype(np.int64))
        same = len({tuple(map(int, s)) for s in shapes}) == 1

        def pieces():
            for i in range(n):
                a, b = int(ends[i] - counts[i]), int(ends[i])
                pk = [None if lost[r] else c[r].tobytes() for r in range(a, b)]
                img, _ = self.decode_image(pk, (int(shapes[i, 0]), int(shapes[i, 1])))
                yield i, img[None]
        for i in range(n):
            a, b = int(ends[i] - counts[i]), int(ends[i])
            erased[i, :b - a] = lost[a:b]
        return Decoded(n, pieces(), erased, 3, tuple(int(v) for v in shapes[0]) if same and n else None,
                       self.w.digest, np.asarray(shapes, np.int64), np.asarray(counts, np.int64))

    @classmethod
    def for_codes(cls, attrs, weights=None, what="the codes") -> "PhotoCodec":
        from dnastore.codecs.learned import (
            _shipped_name,
            check_weights,
            load_model_weights,
        )
        w = load_model_weights(weights, "photo", _shipped_name(attrs) or DEFAULT_PHOTO_WEIGHTS)
        check_weights(attrs, w, what)
        return cls(_w=w, quality=attrs.get("quality", DEFAULT_QUALITY), packet_bytes=attrs.get("packet_bytes"))
