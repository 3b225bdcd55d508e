"""The oligo code's interface: a payload of bytes <-> strands, and one implementation per
code, chosen by name (``oligo-encode --code``) and recorded in the manifest (``"code"``; a
manifest without it is the Goldman-style code, as every manifest before there were two).

- ``goldman``: the ternary rotating code of :mod:`dnastore.dna.codec` (Goldman et al. 2013,
  as the Generative DNA paper uses it): no repeated base, a keyed CRC per strand, every
  strand with an error an erasure. 150-nt oligos by default.
- ``dense``: :mod:`dnastore.dna.dense`, two bits per base under a seed-screened keystream
  (homopolymers of at most 3, GC 40-60%), a Reed-Solomon code inside each strand that the
  consensus's per-base confidence helps (soft erasures), indel repair. 240-nt oligos by
  default (200 nt between the primers).

Both keep the index, the check and the outer code across strands; a strand of another
encoding or code fails the check and is an erasure. Header strands (the manifest in the
pool, :mod:`dnastore.dna.header`) are written in the Goldman layout of the pool's strand
length and primers, whatever the code.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnastore.errors import DnastoreError

DEFAULT_CODE = "dense"


@dataclass
class Result:
    """What a code's decoder gives back: the payload with its erased bytes, the strand counts
    (``strands_in``, ``valid``, ``recovered``, ``wrong_length``, ``failed_check`` and the
    code's own) and the outer code's (``data_strands_missing``, ``outer``)."""
    data: bytes
    erased: np.ndarray
    strands: dict[str, Any]
    outer: dict[str, Any]


class OligoCode(ABC):
    name: str = ""
    default_length: int = 150

    @abstractmethod
    def encode(self, payload: bytes, *, strand_length: int, primers: tuple[str, str], unit: int,
               redundancy: float | None, extra: dict[str, Any], **settings):
        """A :class:`dnastore.dna.codec.Encoded` (strands, manifest, GC per strand)."""

    @abstractmethod
    def decode(self, strands: list[tuple], man: dict[str, Any], *, executor=None, check=None) -> Result:
        """Strands ((sequence, weight) or (sequence, weight, per-base confidence)) to the
        payload, holes erased; ``check(strand counts)`` runs before the outer code."""

    @abstractmethod
    def valid_as_data(self, man: dict[str, Any], strands: list[str]) -> np.ndarray:
        """Which of ``strands`` this pool's data decoder would take for data strands."""

    def strand_bytes(self, *, strand_length: int, primers: tuple[str, str], **settings) -> int:
        """Payload bytes that every strand of this code carries, however large the pool: the
        most a codec's packet (a codes ``unit``) may hold to fit one strand."""
        raise NotImplementedError

    def header_layout(self, man: dict[str, Any]):
        """The Goldman layout the pool's header strands are written in."""
        from dnastore.dna.codec import Layout
        lay = man["layout"]
        return Layout(int(lay["strand_length"]), tuple(lay["primers"]), 0, 10, tuple(lay.get("gc_band", (0.4, 0.6))))


class Goldman(OligoCode):
    name = "goldman"
    default_length = 150

    def encode(self, payload, *, strand_length, primers, unit, redundancy, extra, index_trits=0, check_trits=10,
               gc_band=(0.40, 0.60), **_):
        from dnastore.dna.codec import Layout, encode_payload
        return encode_payload(payload, Layout(strand_length, tuple(primers), index_trits, check_trits, tuple(gc_band)),
                              unit=unit, redundancy=redundancy or None, extra=extra)

    def decode(self, strands, man, *, executor=None, check=None) -> Result:
        from dnastore.dna.codec import assemble_payload, decode_strands
        dec = decode_strands(strands, man, executor=executor)
        if check is not None:
            check(dec.stats)
        data, erased, stats = assemble_payload(dec, man, allow_partial=True)
        return Result(data, erased, dec.stats, stats)

    def valid_as_data(self, man, strands):
        from dnastore.dna.codec import check_strands
        _, pos, _, _ = check_strands(man, [(s, float(i)) for i, s in enumerate(strands)])
        out = np.zeros(len(strands), bool)
        out[pos.astype(int)] = True
        return out

    def header_layout(self, man):
        from dnastore.dna.codec import Layout
        return Layout.from_json(man["layout"])

    def strand_bytes(self, *, strand_length, primers, index_trits=0, check_trits=10, **_):
        # the widest index the pool could need (16 trits: 43 million strands), and 6 trits per
        # byte, the longest word of the ternary Huffman code of 256 symbols
        from dnastore.dna.codec import Layout
        lay = Layout(strand_length, tuple(primers), index_trits or 16, check_trits)
        return max(0, lay.payload_trits // 6)


class Dense(OligoCode):
    name = "dense"
    default_length = 240

    def strand_bytes(self, *, strand_length, primers, inner_parity=4, gc_band=(0.40, 0.60), **_):
        # with 3 index bytes (16 million strands), the most any pool of these settings takes
        from dnastore.dna import constrained, dense
        p1, p2 = primers
        lay = dense.DenseLayout(strand_length - len(p1) - len(p2), (p1, p2), 3, inner_parity,
                                constrained.Constraints(gc=tuple(gc_band)))
        return max(0, lay.payload_bytes)

    def encode(self, payload, *, strand_length, primers, unit, redundancy, extra, inner_parity=4,
               gc_band=(0.40, 0.60), precise: bool | None = None, loss: float | None = None, **_):
        """``redundancy`` None: an outer code that covers a strand ``loss`` (default
        :data:`dnastore.dna.outer.DENSE_FILE_LOSS` for data stored precisely,
        ``DENSE_IMAGE_LOSS`` for a learned codec's codes); 0: none."""
        from dnastore.dna import constrained, dense
        from dnastore.dna.codec import Encoded
        from dnastore.dna.outer import DENSE_FILE_LOSS, DENSE_IMAGE_LOSS
        if precise is None:
            precise = extra.get("mode") in ("file", "folder") or bool(extra.get("precise"))
        loss = (loss or (DENSE_FILE_LOSS if precise else DENSE_IMAGE_LOSS)) if redundancy is None else None
        p1, p2 = primers
        core = strand_length - len(p1) - len(p2)
        lay = dense.DenseLayout(core, (p1, p2), 1, inner_parity,
                                constrained.Constraints(gc=tuple(gc_band)))
        if core < 40 or lay.frame_bytes > 255:
            raise DnastoreError(f"--strand-length {strand_length} leaves {core} nt between the primers; the dense code "
                                f"takes 40 to {4 * 255 + constrained.SEED_NT} (raise or lower --strand-length)")
        lay = dense.fit_index(len(payload), lay, redundancy, unit, loss)
        meta = {"code": "dense", "layout": lay.to_json(), "unit": unit, "payload_bytes": len(payload), **extra}
        encoding_id = hashlib.sha256(json.dumps(meta, sort_keys=True).encode() + bytes(payload)).hexdigest()[:16]
        strands, man = dense.encode(payload, lay, redundancy=redundancy, encoding_id=encoding_id, unit=unit,
                                    loss=loss)
        man = {"kind": _oligos_kind(), **man, **extra}
        gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in strands])
        return Encoded(strands, man, gc)

    def decode(self, strands, man, *, executor=None, check=None) -> Result:
        from dnastore.dna import dense
        data, erased, stats = dense.decode(strands, man, partial=True, check=check)
        outer = {"data_strands_missing": stats.pop("data_strands_missing")}
        if "outer" in stats:
            outer["outer"] = stats.pop("outer")
        return Result(data, erased, stats, outer)

    def valid_as_data(self, man, strands):
        from dnastore.dna import dense
        return dense.valid_strands(strands, man)

    def header_layout(self, man):
        from dnastore.dna.codec import Layout
        lay = man["layout"]
        return Layout(int(lay["strand_length"]), tuple(lay["primers"]), 0, 10, tuple(lay["constraints"]["gc"]))


def _oligos_kind() -> str:
    from dnastore.io.artifacts import OLIGOS_KIND
    return OLIGOS_KIND


CODES: dict[str, OligoCode] = {c.name: c for c in (Goldman(), Dense())}


def code_names() -> list[str]:
    return list(CODES)


def get_code(name: str) -> OligoCode:
    try:
        return CODES[name]
    except KeyError:
        raise DnastoreError(f"unknown oligo code {name!r}; choose one of {', '.join(CODES)}") from None


def resolve(code: str | None, strand_length: int | None) -> tuple[str, int]:
    """(code name, strand length) of settings that may leave either to the defaults: the
    default code, and that code's default length."""
    name = code or DEFAULT_CODE
    return name, strand_length or get_code(name).default_length


def code_of(man: dict[str, Any]) -> OligoCode:
    """The code a manifest was written with (no ``code`` field: the Goldman-style code)."""
    return get_code(man.get("code", "goldman"))
