"""The denser oligo code (issue 19, work in progress): a library path, not yet behind
``oligo-encode``. It joins :mod:`dnastore.dna.constrained` (1.95 raw bits/nt) and
:mod:`dnastore.dna.inner` (RS inside each strand, indel repair) with the outer code across
strands (:mod:`dnastore.dna.outer`).

A strand, 5' to 3'::

    [forward primer][seed 4][index I bytes | payload P bytes | inner parity r bytes][pad][reverse primer]
                           \\_____________ one RS codeword, 4 bases per byte ____________/

The index bytes are scrambled by the seed's keystream alone, the rest by a keystream of the
seed and the index: strands whose payloads are equal (a file of zeros) still differ
everywhere, and the decoder learns the index before it needs the second keystream. An error
in the index bases garbles the rest; such a strand is retried with each single-base change of
its index bases, all at once, and kept when exactly one checks.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnastore.dna import constrained, inner
from dnastore.dna.codec import DEFAULT_PRIMERS
from dnastore.dna.outer import RSPlan, rs_decode, rs_encode
from dnastore.errors import DnastoreError
from dnastore.io.seqio import decode_bases, encode_bases

SEED_NT = constrained.SEED_NT


@dataclass(frozen=True)
class DenseLayout:
    core_nt: int = 200          # bases between the primers (the density counts only these)
    primers: tuple[str, str] = DEFAULT_PRIMERS
    index_bytes: int = 3
    inner_parity: int = 4
    constraints: constrained.Constraints = field(default_factory=constrained.Constraints)

    @property
    def frame_bytes(self) -> int:
        return (self.core_nt - SEED_NT) // 4

    @property
    def payload_bytes(self) -> int:
        return self.frame_bytes - self.index_bytes - self.inner_parity

    @property
    def pad_nt(self) -> int:
        return self.core_nt - SEED_NT - 4 * self.frame_bytes

    def check(self) -> None:
        if self.payload_bytes < 1 or self.frame_bytes > 255:
            raise DnastoreError(f"a {self.core_nt}-nt core leaves no room for payload, or makes a codeword past 255 bytes")

    def to_json(self) -> dict:
        return {"core_nt": self.core_nt, "primers": list(self.primers), "index_bytes": self.index_bytes,
                "inner_parity": self.inner_parity, "constraints": self.constraints.to_json()}

    @classmethod
    def from_json(cls, d: dict) -> "DenseLayout":
        c = d["constraints"]
        return cls(int(d["core_nt"]), tuple(d["primers"]), int(d["index_bytes"]), int(d["inner_parity"]),
                   constrained.Constraints(int(c["max_run"]), tuple(c["gc"]), int(c["window"]), tuple(c["window_gc"])))


def _salt0(encoding_id: str) -> np.uint64:
    return np.uint64(int(hashlib.sha256(encoding_id.encode()).hexdigest()[:16], 16))


def _head_keystream(seeds: np.ndarray, salt0: np.uint64, lay: DenseLayout) -> np.ndarray:
    """The index bytes' keystream symbols, from (seed, salt0) alone."""
    return constrained.keystream(seeds, np.full(len(seeds), salt0, dtype=np.uint64), 4 * lay.index_bytes)


def _keystreams(seeds: np.ndarray, index: np.ndarray, salt0: np.uint64, lay: DenseLayout,
                k1: np.ndarray | None = None) -> np.ndarray:
    """(N, body) keystream symbols: the index bytes' from (seed, salt0) (``k1`` when already
    made), the rest's from (seed, salt0 mixed with the index)."""
    head = 4 * lay.index_bytes
    body = 4 * lay.frame_bytes + lay.pad_nt
    k1 = _head_keystream(seeds, salt0, lay) if k1 is None else k1
    salts = constrained._mix(np.asarray(index, dtype=np.uint64) + np.uint64(1)) ^ salt0
    k2 = constrained.keystream(seeds, salts, body - head)
    return np.concatenate([k1, k2], axis=1)


def _index_bytes(values: np.ndarray, width: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    return np.stack([(values >> (8 * (width - 1 - j))) & 0xFF for j in range(width)], axis=1).astype(np.uint8)


def _index_value(b: np.ndarray) -> np.ndarray:
    v = np.zeros(len(b), dtype=np.int64)
    for j in range(b.shape[1]):
        v = v * 256 + b[:, j].astype(np.int64)
    return v


def fit_index(n_bytes: int, lay: DenseLayout, redundancy: float) -> DenseLayout:
    """The layout with the fewest index bytes (1 to 4) that number every strand of a payload
    of ``n_bytes`` (each byte saved is a byte of payload in every strand)."""
    from dataclasses import replace
    for width in range(1, 5):
        cand = replace(lay, index_bytes=width)
        if cand.payload_bytes < 1:
            break
        n_data = max(1, math.ceil(n_bytes / cand.payload_bytes))
        n = n_data + (RSPlan.make(n_data, redundancy).n_parity if redundancy else 0)
        if n < 256 ** width:
            return cand
    raise DnastoreError(f"a payload of {n_bytes:,} bytes needs more strands than 4 index bytes can number")


def encode(payload: bytes, lay: DenseLayout | None = None, redundancy: float = 0.05,
           encoding_id: str | None = None) -> tuple[list[str], dict[str, Any]]:
    """The strands (primers included) and the manifest for a payload; without a layout, the
    default one with the fewest index bytes the payload needs."""
    lay = lay or fit_index(len(payload), DenseLayout(), redundancy)
    lay.check()
    data = np.frombuffer(bytes(payload), dtype=np.uint8)
    P = lay.payload_bytes
    n_data = max(1, math.ceil(len(data) / P))
    rows = np.zeros((n_data, P), dtype=np.uint8)
    rows.reshape(-1)[:len(data)] = data
    plan = RSPlan.make(n_data, redundancy) if redundancy else None
    if plan is not None:
        rows = np.concatenate([rows, rs_encode(rows, plan)])
    n = len(rows)
    if n >= 256 ** lay.index_bytes:
        raise DnastoreError(f"{n:,} strands need more than {lay.index_bytes} index bytes")
    encoding_id = encoding_id or hashlib.sha256(bytes(payload)).hexdigest()[:16]
    salt0 = _salt0(encoding_id)
    index = np.arange(n)
    code = inner.encode(np.concatenate([_index_bytes(index, lay.index_bytes), rows], axis=1), lay.inner_parity)
    frames = np.concatenate([inner.to_symbols(code), np.zeros((n, lay.pad_nt), dtype=np.uint8)], axis=1)
    p1, p2 = (encode_bases(p) for p in lay.primers)
    sym = constrained.encode(frames, index.astype(np.uint64), lay.constraints, p1, p2,
                             keys=lambda seeds, r: _keystreams(seeds, index[r], salt0, lay))
    core = decode_bases(sym.reshape(-1))
    w = lay.core_nt
    strands = [lay.primers[0] + core[i * w:(i + 1) * w] + lay.primers[1] for i in range(n)]
    nt = n * lay.core_nt
    man = {"code": "dense", "layout": lay.to_json(), "encoding_id": encoding_id, "payload_bytes": len(data),
           "n_data_strands": n_data, "n_strands": n, "outer": plan.to_json() if plan else None,
           "sha256": hashlib.sha256(bytes(payload)).hexdigest(),
           "density": {"bits_per_nt_without_primers": 8 * len(data) / nt,
                       "raw_bits_per_nt": constrained.raw_density(lay.core_nt)}}
    return strands, man


def _codewords(sym: np.ndarray, lay: DenseLayout, salt0: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """(codewords (N, F) bytes, the index each strand's own bases give) for (N, core) symbols."""
    seeds = constrained.seeds_of(sym)
    body = sym[:, SEED_NT:]
    head = 4 * lay.index_bytes
    k1 = _head_keystream(seeds, salt0, lay)
    idx_sym = (body[:, :head].astype(np.int16) - k1) % 4
    index = _index_value(inner.to_bytes(idx_sym.astype(np.uint8)))
    frame = (body.astype(np.int16) - _keystreams(seeds, index, salt0, lay, k1)) % 4
    return inner.to_bytes(frame[:, :4 * lay.frame_bytes].astype(np.uint8)), index


def decode(strands: list[tuple[str, int]], man: dict[str, Any], *, partial: bool = False
           ) -> tuple[bytes, np.ndarray, dict[str, Any]]:
    """(payload, erased bytes, stats) from called strands (sequence, cluster size)."""
    lay = DenseLayout.from_json(man["layout"])
    salt0 = _salt0(man["encoding_id"])
    p1, p2 = lay.primers
    n_total, P, I = int(man["n_strands"]), lay.payload_bytes, lay.index_bytes
    rows = np.zeros((n_total, P), dtype=np.uint8)
    have = np.zeros(n_total, dtype=bool)
    weight = np.zeros(n_total, dtype=np.int64)
    stats = {"strands_in": len(strands), "valid": 0, "inner_repaired": 0, "indel_repaired": 0, "index_repaired": 0,
             "failed": 0}
    cores, off = [], []
    for seq, size in strands:
        core = seq[len(p1):len(seq) - len(p2)] if seq.startswith(p1) and seq.endswith(p2) else seq
        (cores if len(core) == lay.core_nt else off).append((core, size))
    valid_rows: list[tuple[np.ndarray, int]] = []
    if cores:
        sym = encode_bases("".join(c for c, _ in cores)).reshape(len(cores), lay.core_nt)
        sizes = np.array([s for _, s in cores])
        ok_sym = (sym < 4).all(axis=1)
        sym = np.where(sym < 4, sym, 0).astype(np.uint8)
        code, _ = _codewords(sym, lay, salt0)
        data, ok, fixed = inner.decode(code, lay.inner_parity)
        ok &= ok_sym
        stats["inner_repaired"] += int((fixed[ok] > 0).sum())
        for i in np.flatnonzero(ok):
            valid_rows.append((data[i], int(sizes[i])))
        stats["failed"] += int((~ok_sym).sum())
        # an error among the seed and index bases garbles the rest: every single change of
        # them, for every failed strand, in one batch; a strand is repaired when exactly one
        # of its candidates checks
        head = SEED_NT + 4 * I
        failed = np.flatnonzero(~ok & ok_sym)
        if len(failed):
            per = 3 * head
            cand = np.repeat(sym[failed], per, axis=0)
            rows_c = np.arange(len(cand))
            pos = np.tile(np.repeat(np.arange(head), 3), len(failed))
            cand[rows_c, pos] = (cand[rows_c, pos] + np.tile([1, 2, 3], head * len(failed))) % 4
            cw, _ = _codewords(cand, lay, salt0)
            good = ~inner.syndromes(cw, lay.inner_parity).any(axis=1)
            for j, i in enumerate(failed):
                uniq = np.unique(cw[j * per:(j + 1) * per][good[j * per:(j + 1) * per]], axis=0)
                if len(uniq) == 1:
                    valid_rows.append((uniq[0][:I + P], int(sizes[i])))
                    stats["index_repaired"] += 1
                else:
                    stats["failed"] += 1
    for core, size in off:
        s = encode_bases(core)
        if (s > 3).any() or abs(len(s) - lay.core_nt) != 1:
            stats["failed"] += 1
            continue
        got = inner.repair_indel(s.astype(np.uint8), lay.core_nt, lambda c: _codewords(c, lay, salt0)[0],
                                 lay.inner_parity)
        if got is None:
            stats["failed"] += 1
            continue
        valid_rows.append((_codewords(got[None, :], lay, salt0)[0][0][:I + P], size))
        stats["indel_repaired"] += 1
    for row, size in valid_rows:
        idx = int(_index_value(row[None, :I])[0])
        if idx < n_total and size > weight[idx]:
            rows[idx], have[idx], weight[idx] = row[I:I + P], True, size
    stats["valid"] = int(have.sum())
    n_data = int(man["n_data_strands"])
    if man.get("outer"):
        plan = RSPlan.from_json(man["outer"])
        data, ostats = rs_decode(rows[:n_data], rows[n_data:], have[:n_data], have[n_data:], plan, partial=partial)
        rows_ok = ostats.pop("rows_ok")
        stats["outer"] = ostats
    else:
        data, rows_ok = rows[:n_data], have[:n_data]
    payload = data.reshape(-1)[:int(man["payload_bytes"])]
    erased = np.repeat(~rows_ok, P)[:int(man["payload_bytes"])]
    return payload.tobytes(), erased, stats
