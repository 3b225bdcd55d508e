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
from dnastore.dna.outer import (
    DENSE_EPS,
    DENSE_EPS_FILE,
    RSPlan,
    plan_for_loss,
    rs_decode,
    rs_encode,
)
from dnastore.errors import DnastoreError
from dnastore.io.seqio import decode_bases, encode_bases, revcomp

SEED_NT = constrained.SEED_NT


@dataclass(frozen=True)
class DenseLayout:
    core_nt: int = 200          # bases between the primers (the density counts only these)
    primers: tuple[str, str] = DEFAULT_PRIMERS
    index_bytes: int = 3
    inner_parity: int = 4
    constraints: constrained.Constraints = field(default_factory=constrained.Constraints)

    @property
    def strand_length(self) -> int:
        return self.core_nt + len(self.primers[0]) + len(self.primers[1])

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
        return {"strand_length": self.strand_length, "core_nt": self.core_nt, "primers": list(self.primers),
                "index_bytes": self.index_bytes,
                "inner_parity": self.inner_parity, "constraints": self.constraints.to_json()}

    @classmethod
    def from_json(cls, d: dict) -> "DenseLayout":
        c = d["constraints"]
        return cls(int(d["core_nt"]), tuple(d["primers"]), int(d["index_bytes"]), int(d["inner_parity"]),
                   constrained.Constraints(int(c["max_run"]), tuple(c["gc"]), int(c["window"]), tuple(c["window_gc"])))


def _salt0(encoding_id: str) -> np.uint64:
    return np.uint64(int(hashlib.sha256(encoding_id.encode()).hexdigest()[:16], 16))


def _head_keystream(seeds: np.ndarray, salt0: np.uint64, lay: DenseLayout) -> np.ndarray:
    """The index bytes' keystream symbols, from (seed, salt0) alone: a table of the 256 seeds'
    (made once per encoding), read by seed."""
    key = (int(salt0), 4 * lay.index_bytes)
    table = _HEAD_CACHE.get(key)
    if table is None:
        all_seeds = np.arange(constrained.N_SEEDS)
        table = constrained.keystream(all_seeds, np.full(len(all_seeds), salt0, dtype=np.uint64), key[1])
        if len(_HEAD_CACHE) > 64:
            _HEAD_CACHE.clear()
        _HEAD_CACHE[key] = table
    return table[np.asarray(seeds, dtype=np.int64)]


_HEAD_CACHE: dict[tuple[int, int], np.ndarray] = {}


def _keystreams(seeds: np.ndarray, index: np.ndarray, salt0: np.uint64, lay: DenseLayout,
                k1: np.ndarray | None = None) -> np.ndarray:
    """(N, body) keystream symbols: the index bytes' from (seed, salt0) (``k1`` when already
    made), the rest's from (seed, salt0 mixed with the index)."""
    head = 4 * lay.index_bytes
    body = 4 * lay.frame_bytes + lay.pad_nt
    out = np.empty((len(seeds), body), dtype=np.uint8)
    out[:, :head] = _head_keystream(seeds, salt0, lay) if k1 is None else k1
    salts = constrained._mix(np.asarray(index, dtype=np.uint64) + np.uint64(1)) ^ salt0
    out[:, head:] = constrained.keystream(seeds, salts, body - head)
    return out


def _index_bytes(values: np.ndarray, width: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    return np.stack([(values >> (8 * (width - 1 - j))) & 0xFF for j in range(width)], axis=1).astype(np.uint8)


def _index_value(b: np.ndarray) -> np.ndarray:
    v = np.zeros(len(b), dtype=np.int64)
    for j in range(b.shape[1]):
        v = v * 256 + b[:, j].astype(np.int64)
    return v


def outer_plan(n_data: int, redundancy: float | None, loss: float | None = None) -> RSPlan | None:
    """The outer code: one that covers a strand ``loss`` (:func:`dnastore.dna.outer.plan_for_loss`)
    where that is given, else ``redundancy`` parity strands per data strand (0 or None: none)."""
    if loss:
        return plan_for_loss(n_data, loss, DENSE_EPS, DENSE_EPS_FILE)
    return RSPlan.make(n_data, redundancy) if redundancy else None


def fit_index(n_bytes: int, lay: DenseLayout, redundancy: float | None, unit: int = 1,
              loss: float | None = None) -> DenseLayout:
    """The layout with the fewest index bytes (1 to 4) that number every strand of a payload
    of ``n_bytes`` (each byte saved is a byte of payload in every strand)."""
    from dataclasses import replace
    for width in range(1, 5):
        cand = replace(lay, index_bytes=width)
        b = cand.payload_bytes // unit * unit
        if b < 1:
            break
        n_data = max(1, math.ceil(n_bytes / b))
        plan = outer_plan(n_data, redundancy, loss)
        n = n_data + (plan.n_parity if plan else 0)
        if n < 256 ** width:
            return cand
    raise DnastoreError(f"a payload of {n_bytes:,} bytes needs more strands than 4 index bytes can number, or "
                        "a strand too short for one unit of it")


def density(payload_bytes: int, n_strands: int, lay: DenseLayout) -> dict[str, float]:
    """The manifest's density record (the same fields as the Goldman-style code's)."""
    bits, nt = 8 * payload_bytes, n_strands * lay.strand_length
    return {"payload_bits": bits, "total_nt": nt, "bits_per_nt": bits / nt,
            "bits_per_nt_without_primers": bits / (n_strands * lay.core_nt)}


def encode(payload: bytes, lay: DenseLayout | None = None, redundancy: float | None = 0.05,
           encoding_id: str | None = None, unit: int = 1, loss: float | None = None
           ) -> tuple[list[str], dict[str, Any]]:
    """The strands (primers included) and the manifest for a payload; without a layout, the
    default one with the fewest index bytes the payload needs. Each strand carries
    ``bytes_per_strand`` bytes, the most whole ``unit``s that fit (the rest of its payload
    bytes are zero). The outer code: :func:`outer_plan` of ``redundancy`` and ``loss``."""
    lay = lay or fit_index(len(payload), DenseLayout(), redundancy, unit, loss)
    lay.check()
    data = np.frombuffer(bytes(payload), dtype=np.uint8)
    if not len(data):
        raise DnastoreError("nothing to encode: the input is empty")
    P = lay.payload_bytes
    b = P // unit * unit
    if b < 1:
        raise DnastoreError(f"a strand carries {P} payload bytes, fewer than one unit of {unit}; raise --strand-length")
    n_data = max(1, math.ceil(len(data) / b))
    rows = np.zeros((n_data, P), dtype=np.uint8)
    flat = np.zeros(n_data * b, dtype=np.uint8)
    flat[:len(data)] = data
    rows[:, :b] = flat.reshape(n_data, b)
    plan = outer_plan(n_data, redundancy, loss)
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
    man = {"code": "dense", "encoding_id": encoding_id, "layout": lay.to_json(), "bytes_per_strand": b, "unit": unit,
           "payload_bytes": len(data), "n_data_strands": n_data, "n_strands": n,
           "outer": plan.to_json() if plan else None,
           "density": density(len(data), n, lay)}
    return strands, man


STRAY_EDITS = 4  # a failed strand this close to a restored one is a stray copy of it


def _stray(core: str, restored: str | None) -> bool:
    """Whether a failed core is a stray copy of a restored strand's core (within a few
    edits): its repair would give nothing new."""
    if restored is None:
        return False
    import edlib
    return edlib.align(core, restored, task="distance", k=STRAY_EDITS)["editDistance"] >= 0


def _apparent_index(head: np.ndarray, lay: DenseLayout, salt0: np.uint64) -> np.ndarray:
    """The index that the seed and index bases ((N, SEED_NT + 4 I) symbols) read as."""
    seeds = constrained.seeds_of(head)
    idx_sym = (head[:, SEED_NT:].astype(np.int16) - _head_keystream(seeds, salt0, lay)) % 4
    return _index_value(inner.to_bytes(idx_sym.astype(np.uint8)))


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


SOFT_TRIES = (3, 1)  # bytes erased, least sure first, in the soft decoder's tries (with 4 parity bytes)


def _byte_confidence(conf: np.ndarray, lay: DenseLayout) -> np.ndarray:
    """(N, frame bytes) confidence of each codeword byte: its least sure base's."""
    c = conf[:, SEED_NT:SEED_NT + 4 * lay.frame_bytes].reshape(len(conf), lay.frame_bytes, 4)
    return c.min(axis=2)


def _soft_decode(code: np.ndarray, byte_conf: np.ndarray, nsym: int) -> tuple[np.ndarray, np.ndarray]:
    """(data, ok) of words the hard decoder refused: each try erases the least sure bytes
    (:data:`SOFT_TRIES`) and takes a repair within the margin (2 errors + erasures <= nsym - 1);
    the first that checks stands."""
    data = code[:, :code.shape[1] - nsym].copy()
    ok = np.zeros(len(code), bool)
    order = np.argsort(byte_conf, axis=1, kind="stable")
    for s in SOFT_TRIES:
        s = min(s, nsym - 1)
        todo = np.flatnonzero(~ok)
        if not len(todo) or s < 1:
            break
        er = np.zeros((len(todo), code.shape[1]), bool)
        np.put_along_axis(er, order[todo, :s], True, axis=1)
        got, good, _ = inner.decode(code[todo], nsym, er)
        data[todo[good]] = got[good]
        ok[todo[good]] = True
    return data, ok


UNSURE_PLACES = 8  # least sure bases of a consensus where two-edit repairs are tried


def _unsure_places(conf: np.ndarray) -> np.ndarray:
    """The least sure positions of a consensus core and the places just after them (an
    insertion the consensus lacks sits beside a column the reads disagree on)."""
    at = np.argsort(np.asarray(conf), kind="stable")[:UNSURE_PLACES]
    return np.unique(np.concatenate([at, at + 1]))


def _oriented(seq: str, conf, p1: str, p2: str):
    """A strand in design orientation: one that carries the primers' reverse complements the
    other way round is turned (its confidences too)."""
    if p1 and p2 and not seq.startswith(p1) and seq.startswith(revcomp(p2)) and seq.endswith(revcomp(p1)):
        return revcomp(seq), (conf[::-1] if conf is not None else None)
    return seq, conf


def valid_strands(strands: list[str], man: dict[str, Any]) -> np.ndarray:
    """Which strands pass this pool's inner check as they are (no repair)."""
    lay = DenseLayout.from_json(man["layout"])
    salt0 = _salt0(man["encoding_id"])
    p1, p2 = lay.primers
    out = np.zeros(len(strands), bool)
    pos = [i for i, x in enumerate(strands) if len(x) == lay.strand_length and x.startswith(p1) and x.endswith(p2)]
    if pos:
        sym = encode_bases("".join(strands[i][len(p1):len(strands[i]) - len(p2)] for i in pos)).reshape(len(pos), -1)
        ok = (sym < 4).all(axis=1)
        code, index = _codewords(np.where(sym < 4, sym, 0).astype(np.uint8), lay, salt0)
        ok &= ~inner.syndromes(code, lay.inner_parity).any(axis=1) & (index < int(man["n_strands"]))
        out[np.array(pos)[ok]] = True
    return out


def decode(strands: list[tuple], man: dict[str, Any], *, partial: bool = False, check=None
           ) -> tuple[bytes, np.ndarray, dict[str, Any]]:
    """(payload, erased bytes, stats) from called strands: (sequence, cluster size) or
    (sequence, cluster size, per-base confidence) records. With confidences, a strand the
    hard decoder refuses is tried again with its least sure bytes erased; such a repair is
    *risky* (fewer parity bytes are left to check it), so it gives way to any other copy of
    its index, and the outer code erases it wherever its block has parity to spare."""
    lay = DenseLayout.from_json(man["layout"])
    salt0 = _salt0(man["encoding_id"])
    p1, p2 = lay.primers
    n_total, P, I = int(man["n_strands"]), lay.payload_bytes, lay.index_bytes
    rows = np.zeros((n_total, P), dtype=np.uint8)
    have = np.zeros(n_total, dtype=bool)
    risky = np.zeros(n_total, dtype=bool)
    stats = {"strands_in": len(strands), "valid": 0, "recovered": 0, "wrong_length": 0, "failed_check": 0,
             "inner_repaired": 0, "soft_repaired": 0, "indel_repaired": 0, "index_repaired": 0, "failed": 0,
             "risky_erased": 0, "strays_skipped": 0}
    cores, off = [], []
    for r in strands:
        seq, size = r[0], r[1]
        conf = r[2] if len(r) > 2 and r[2] is not None and len(r[2]) == len(seq) else None
        seq, conf = _oriented(seq, conf, p1, p2)
        trimmed = seq.startswith(p1) and seq.endswith(p2)
        core = seq[len(p1):len(seq) - len(p2)] if trimmed else seq
        if conf is not None and trimmed:
            conf = conf[len(p1):len(seq) - len(p2)]
        (cores if len(core) == lay.core_nt else off).append((core, size, conf))
    valid_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # (words, cluster sizes, risky)
    sure: dict[int, str] = {}   # index -> the core of a strand that gave it back without a repair
    head = SEED_NT + 4 * I      # the seed and index bases
    if cores:
        sym = encode_bases("".join(c for c, _, _ in cores)).reshape(len(cores), lay.core_nt)
        sizes = np.array([s for _, s, _ in cores], dtype=np.float64)
        ok_sym = (sym < 4).all(axis=1)
        sym = np.where(sym < 4, sym, 0).astype(np.uint8)
        code, apparent = _codewords(sym, lay, salt0)
        data, ok, fixed = inner.decode(code, lay.inner_parity)
        ok &= ok_sym
        stats["inner_repaired"] += int((fixed[ok] > 0).sum())
        good = np.flatnonzero(ok)
        valid_rows.append((data[good], sizes[good], np.zeros(len(good), bool)))
        for i, idx in zip(good.tolist(), _index_value(data[good, :I]).tolist()):
            sure.setdefault(idx, cores[i][0])
        soft = np.flatnonzero(~ok & ok_sym & np.array([c is not None for _, _, c in cores]))
        rescued = np.zeros(len(cores), bool)
        if len(soft):
            conf = np.stack([cores[i][2] for i in soft])
            sdata, sok = _soft_decode(code[soft], _byte_confidence(conf, lay), lay.inner_parity)
            valid_rows.append((sdata[sok], sizes[soft[sok]], np.ones(int(sok.sum()), bool)))
            rescued[soft[sok]] = True
            stats["soft_repaired"] += int(sok.sum())
        stats["failed"] += int((~ok_sym).sum())
        # a failed strand whose index bases read as an index already restored, and whose bases
        # are within a few edits of that strand's, is a stray copy of it: not repaired
        failed = np.flatnonzero(~ok & ok_sym & ~rescued)
        stray = np.array([_stray(cores[i][0], sure.get(int(apparent[i]))) for i in failed], dtype=bool)
        stats["strays_skipped"] += int(stray.sum())
        stats["failed"] += int(stray.sum())
        failed = failed[~stray]
        # an error among the seed and index bases garbles the rest: every single change of
        # them, for every failed strand, in one batch; a strand is repaired when exactly one
        # of its candidates checks
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
                    valid_rows.append((uniq[:1, :I + P], sizes[i:i + 1], np.zeros(1, bool)))
                    stats["index_repaired"] += 1
                elif cores[i][2] is not None:
                    off.append(cores[i])      # a shifted base, perhaps: two edits at the least sure places
                else:
                    stats["failed"] += 1

    def to_code(c):
        return _codewords(c, lay, salt0)[0]
    for core, size, conf in off:
        s = encode_bases(core)
        d = len(s) - lay.core_nt
        if (s > 3).any() or abs(d) > 2 or (d == 0 and conf is None):
            stats["failed"] += 1
            stats["wrong_length"] += d != 0
            continue
        if d != 0 and len(s) >= head and _stray(core, sure.get(int(_apparent_index(s[None, :head], lay, salt0)[0]))):
            stats["strays_skipped"] += 1
            stats["failed"] += 1
            stats["wrong_length"] += 1
            continue
        s = s.astype(np.uint8)
        got, risky_fix = None, False
        if abs(d) == 1:
            got = inner.repair_indel(s, lay.core_nt, to_code, lay.inner_parity)
            if got is None and lay.inner_parity >= 4:
                # an indel and a substitution: fewer parity bytes are left to check the repair
                got = inner.repair_indel(s, lay.core_nt, to_code, lay.inner_parity, one_error=True)
                risky_fix = True
        if got is None and conf is not None and len(conf) == len(s):
            # two edits (two indels, or a base shifted) where the consensus is least sure
            got = inner.repair_edits(s, lay.core_nt, to_code, lay.inner_parity, _unsure_places(conf))
            risky_fix = True
        if got is None:
            stats["failed"] += 1
            stats["wrong_length"] += d != 0
            continue
        valid_rows.append((got[None, :I + P], np.array([float(size)]), np.array([risky_fix])))
        stats["indel_repaired"] += 1
    if valid_rows:
        words = np.concatenate([v[0][:, :I + P] for v in valid_rows])
        size_of = np.concatenate([v[1] for v in valid_rows]).astype(np.float64)
        risky_of = np.concatenate([v[2] for v in valid_rows])
        index = _index_value(words[:, :I])
        keep = index < n_total
        # per index, the heaviest copy: a sure strand beats a risky one; among equals, the larger
        # cluster, then the first
        w = size_of + np.where(risky_of, 0.0, 1e9)
        order = np.lexsort((-w, index))
        order = order[keep[order]]
        first = np.ones(len(order), bool)
        first[1:] = index[order][1:] != index[order][:-1]
        take = order[first]
        rows[index[take]] = words[take, I:I + P]
        have[index[take]] = True
        risky[index[take]] = risky_of[take]
    stats["valid"] = stats["recovered"] = int(have.sum())
    stats["failed_check"] = stats["failed"] - stats["wrong_length"]
    if check is not None:
        check(stats)
    n_data = int(man["n_data_strands"])
    if man.get("outer"):
        plan = RSPlan.from_json(man["outer"])
        # a block with parity to spare for its missing and risky strands erases the risky ones
        for b, (start, k) in enumerate(plan.blocks):
            members = np.r_[np.arange(start, start + k), n_data + b * plan.nsym + np.arange(plan.nsym)]
            if (~have[members]).sum() + (have[members] & risky[members]).sum() <= plan.nsym:
                drop = members[have[members] & risky[members]]
                have[drop] = False
                stats["risky_erased"] += len(drop)
        data, ostats = rs_decode(rows[:n_data], rows[n_data:], have[:n_data], have[n_data:], plan, partial=partial)
        rows_ok = ostats.pop("rows_ok")
        stats["outer"] = ostats
    else:
        data, rows_ok = rows[:n_data], have[:n_data]
    b = int(man.get("bytes_per_strand", P))
    stats["data_strands_missing"] = int((~rows_ok).sum())
    payload = data[:, :b].reshape(-1)[:int(man["payload_bytes"])]
    erased = np.repeat(~rows_ok, b)[:int(man["payload_bytes"])]
    return payload.tobytes(), erased, stats
