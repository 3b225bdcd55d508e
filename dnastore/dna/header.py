"""Header strands: the pool describes itself, so that the reads alone decode.

Every pool written by dnastore carries, beside its data strands, a few *header strands* that
hold the manifest (everything decoding needs except the software and the weights, which it
names by digest): mode, layout, Huffman table, sizes, sha256, outer-code plan, codec name and
settings, weights digest, image shape, names. Compact and protected more strongly than the
payload:

- the manifest as canonical JSON less what it derives (density, the layout's payload width,
  the outer code's block table), its arrays as raw bytes, its Huffman table as one digit per
  symbol, dnastore's primers as a word, compressed by zlib with a preset dictionary of the
  strings every manifest repeats; framed by a magic, its length, a CRC-32 and the first 8
  bytes of the manifest's digest (checked once the manifest is rebuilt);
- cut into chunks, each strand carrying ``[encoding id 4 B][chunk count 2 B][chunk]``, so that
  any one strand says which pool it belongs to and how many chunks to expect;
- a Reed-Solomon code across the chunks at rate 1/2 (:mod:`dnastore.dna.outer`), and every
  strand written twice (two molecules of each design, so twice the reads);
- a strand family of its own: the data strands' layout and primers, but a 9-trit header index,
  a 16-trit check keyed by a constant (not by the encoding), and whitening masks of another
  seed. A data strand passes the header check with probability 3^-16 (about 2e-8), and every
  header strand is written so that it fails the data check of its pool.

Reading needs no manifest: the strand length is the commonest one, and the primers' split is
searched (the header strands are the heaviest clusters, written twice); the chunks of the
heaviest pool found are assembled, repaired by the RS code, and the frame's CRC-32 and the
manifest's own digest checked.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import zlib
from collections import Counter
from typing import Any

import numpy as np

from dnastore.dna.codec import (
    Layout,
    _check_values,
    _orient_rows,
    build_strands,
    from_trits,
    read_bodies,
    to_trits,
)
from dnastore.dna.outer import RSPlan, rs_decode, rs_encode
from dnastore.errors import DnastoreError
from dnastore.io.artifacts import OLIGOS_KIND
from dnastore.io.manifest import seal_manifest
from dnastore.io.seqio import (
    complement_codes,
    conserved_columns,
    encode_bases,
    majority_bases,
)

HEADER_SEED = 0x4EAD
HEADER_INDEX_TRITS = 9  # up to 19,683 header strands (about 200 kB of manifest)
HEADER_CHECK_TRITS = 16
HEADER_KEY = "4ead5eed"  # the check's key: the same for every pool
HEADER_REDUNDANCY = 1.0
HEADER_COPIES = 2
MAGIC = b"dnH2"
DESC = 6  # encoding id (4 bytes) and chunk count (2 bytes) in every header strand
# manifest fields the header leaves out: what the tool adds around the encoding
NOT_IN_HEADER = ("provenance", "digest", "header", "kind")


# ---- the manifest as compact bytes
# zlib's preset dictionary: the strings every manifest repeats, so that they cost almost
# nothing (fixed for format dnH2; a new dictionary needs a new magic)
ZDICT = (b'{"bytes_per_strand":"codes":{"arrays":{"attrs":{"channels":1,"codec":"vae","image_shape":[28,28],'
         b'"latent":16,"n_bits":8,"packing":"binary","quantizer":"vaen","store":"mu","weights_digest":"sha256:'
         b'"weights_name":"vae-mnist-k16.msgpack"},"dtype":"uint8","n_bits":8,"names":["mnist-test-000'
         b'.png","order":"column","shape":[,"source_provenance":null},"stat_mean":{"b64":"dtype":"float32",'
         b'"shape":[16]},"stat_std":"encoding_id":"files":[["folder_name":"file_name":"huffman_lengths":"'
         b'layout":{"check_trits":10,"gc_band":[0.4,0.6],"index_trits":"primers":"default","strand_length":150},'
         b'"mode":"codes","file","folder","n_data_strands":"n_strands":"outer":null,{"n_blocks":"nsym":'
         b'"payload_bytes":"per_image":{"bits_per_image":128,"bits_per_pixel":"images":"nt_per_image":'
         b'"nt_per_image_without_primers":"sha256":"unit":1}')


def _pack_manifest(man: dict[str, Any]) -> bytes:
    from dnastore.dna.codec import DEFAULT_PRIMERS
    from dnastore.io.manifest import manifest_digest
    body = {k: v for k, v in man.items() if k not in NOT_IN_HEADER and k != "density"}  # density is derived
    if "huffman_lengths" in body:
        body["huffman_lengths"] = "".join(str(int(v)) for v in body["huffman_lengths"])
    lay = {k: v for k, v in body["layout"].items() if k not in ("payload_trits", "selector_trits")}
    if tuple(lay["primers"]) == DEFAULT_PRIMERS:
        lay["primers"] = "default"
    body["layout"] = lay
    if body.get("outer"):
        o = body["outer"]
        body["outer"] = {"n_data": o["n_data"], "nsym": o["nsym"], "n_blocks": len(o["blocks"])}
    codes = body.get("codes")
    if isinstance(codes, dict) and codes.get("arrays"):
        codes = dict(codes)
        codes["arrays"] = {k: {"dtype": a["dtype"], "shape": a["shape"],
                               "b64": base64.b64encode(np.asarray(a["data"], a["dtype"]).tobytes()).decode()}
                           for k, a in codes["arrays"].items()}
        body["codes"] = codes
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, ZDICT)
    data = c.compress(text) + c.flush()
    digest = bytes.fromhex(manifest_digest(man).split(":")[1][:16])
    return MAGIC + struct.pack(">II", len(data), zlib.crc32(data)) + digest + data


def _unpack_manifest(frame: bytes) -> dict[str, Any] | None:
    """The manifest of a header frame, sealed, or None when the frame is not one (or does not
    rebuild the very manifest that was written: its digest is checked)."""
    from dnastore.dna.codec import DEFAULT_PRIMERS, Layout
    from dnastore.io.manifest import manifest_digest
    if len(frame) < 20 or frame[:4] != MAGIC:
        return None
    n, crc = struct.unpack(">II", frame[4:12])
    digest, data = frame[12:20], frame[20:20 + n]
    if len(data) != n or zlib.crc32(data) != crc:
        return None
    try:
        d = zlib.decompressobj(-15, ZDICT)
        body = json.loads(d.decompress(data) + d.flush())
        lay = body["layout"]
        if lay["primers"] == "default":
            lay["primers"] = list(DEFAULT_PRIMERS)
        if body.get("code", "goldman") == "dense":
            from dnastore.dna.dense import DenseLayout
            body["layout"] = DenseLayout.from_json(lay).to_json()
        else:
            body["huffman_lengths"] = [int(c) for c in body["huffman_lengths"]]
            body["layout"] = Layout.from_json(lay).to_json()
        if body.get("outer"):
            o = body["outer"]
            n_data, n_blocks = int(o["n_data"]), int(o["n_blocks"])
            base, extra = divmod(n_data, n_blocks)
            ks = [base + (i < extra) for i in range(n_blocks)]
            starts = np.concatenate([[0], np.cumsum(ks)[:-1]]).astype(int)
            body["outer"] = RSPlan(n_data, int(o["nsym"]), tuple((int(a), int(k)) for a, k in zip(starts, ks))).to_json()
        codes = body.get("codes")
        if isinstance(codes, dict) and codes.get("arrays"):
            codes["arrays"] = {k: {"dtype": a["dtype"], "shape": a["shape"],
                                   "data": np.frombuffer(base64.b64decode(a["b64"]), a["dtype"]).tolist()}
                               for k, a in codes["arrays"].items()}
        bits, total = 8 * int(body["payload_bytes"]), int(lay["strand_length"])
        nt, p1, p2 = int(body["n_strands"]) * total, *body["layout"]["primers"]
        body["density"] = {"payload_bits": bits, "total_nt": nt, "bits_per_nt": bits / nt,
                           "bits_per_nt_without_primers": bits / (int(body["n_strands"]) * (total - len(p1) - len(p2)))}
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ZeroDivisionError, zlib.error):
        return None
    man = seal_manifest({"kind": OLIGOS_KIND, **body})
    if bytes.fromhex(manifest_digest(man).split(":")[1][:16]) != digest:
        return None
    return man


# ---- strands
def header_layout(layout: Layout) -> Layout:
    return Layout(layout.strand_length, tuple(layout.primers), HEADER_INDEX_TRITS, HEADER_CHECK_TRITS,
                  tuple(layout.gc_band))


def fits(layout: Layout) -> bool:
    """Whether strands of this layout can carry header strands (a chunk of 2 bytes at least)."""
    return header_layout(layout).payload_trits > 0 and chunk_bytes(layout) - DESC >= 2


def chunk_bytes(layout: Layout) -> int:
    """Header bytes one strand carries (the descriptor included)."""
    return int(header_layout(layout).payload_trits * math.log(3) / math.log(256))


def _bytes_to_trits(rows: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(rows), width), np.uint8)
    for i, r in enumerate(rows):
        v = int.from_bytes(bytes(r), "big")
        for d in range(width - 1, -1, -1):
            v, out[i, d] = divmod(v, 3)
    return out


def _trits_to_bytes(trits: np.ndarray, nbytes: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros((len(trits), nbytes), np.uint8)
    ok = np.ones(len(trits), bool)
    for i, t in enumerate(trits):
        v = 0
        for d in t:
            v = v * 3 + int(d)
        if v >> (8 * nbytes):
            ok[i] = False
        else:
            out[i] = np.frombuffer(v.to_bytes(nbytes, "big"), np.uint8)
    return out, ok


def header_strands(man: dict[str, Any], layout: Layout, copies: int = HEADER_COPIES,
                   data_check=None) -> tuple[list[str], dict[str, Any]]:
    """The header strands of a sealed manifest (each written ``copies`` times) and what they
    cost. ``data_check(strands) -> bool array`` says which of them the pool's own data decoder
    would take for data strands; those are rewritten with another whitening mask."""
    hl = header_layout(layout)
    if not fits(layout):
        return [], {"strands": 0, "unique": 0, "copies": copies, "chunks": 0, "bytes": 0, "nt": 0}
    frame = _pack_manifest(man)
    per = chunk_bytes(layout) - DESC
    k = math.ceil(len(frame) / per)
    plan = RSPlan.make(k, HEADER_REDUNDANCY)
    rows = np.zeros((k, per), np.uint8)
    rows.reshape(-1)[:len(frame)] = np.frombuffer(frame, np.uint8)
    rows = np.concatenate([rows, rs_encode(rows, plan)])
    n = len(rows)
    if n > 3 ** HEADER_INDEX_TRITS:
        raise DnastoreError(f"the header needs {n} strands, more than {3 ** HEADER_INDEX_TRITS}: too many names or "
                            "too long a manifest for this strand length")
    desc = np.frombuffer(bytes.fromhex(man["encoding_id"][:8]) + struct.pack(">H", k), np.uint8)
    payload = np.concatenate([np.broadcast_to(desc, (n, DESC)), rows], axis=1)
    body = np.concatenate([to_trits(np.arange(n), HEADER_INDEX_TRITS), _bytes_to_trits(payload, hl.payload_trits),
                           np.zeros((n, HEADER_CHECK_TRITS), np.uint8)], axis=1)
    body[:, -HEADER_CHECK_TRITS:] = to_trits(_check_values(HEADER_KEY, body[:, :-HEADER_CHECK_TRITS],
                                                           3 ** HEADER_CHECK_TRITS), HEADER_CHECK_TRITS)
    skip = np.zeros((n, 9), bool)
    for _ in range(9):
        strands, _gc, sel = build_strands(body, np.arange(n), hl, seed=HEADER_SEED, skip=skip)
        clash = np.asarray(data_check(strands), bool) if data_check is not None else np.zeros(n, bool)
        if not clash.any():
            break
        skip[np.flatnonzero(clash), sel[clash]] = True
    else:
        raise DnastoreError("header strands keep passing the data check; lengthen --check-trits")
    out = [s for s in strands for _ in range(copies)]
    return out, {"strands": len(out), "unique": n, "copies": copies, "chunks": k, "bytes": len(frame),
                 "nt": len(out) * layout.strand_length}


# ---- reading
def _parse(codes: np.ndarray, hl: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(header index, payload bytes, ok) of oriented strands read as header strands."""
    codes = _orient_rows(codes, hl)
    index, body, ok = read_bodies(codes, hl, seed=HEADER_SEED)
    C = HEADER_CHECK_TRITS
    ok &= _check_values(HEADER_KEY, body[:, :-C], 3 ** C) == from_trits(body[:, -C:])
    nbytes = chunk_bytes(hl)
    payload = np.zeros((len(codes), nbytes), np.uint8)
    if ok.any():
        got, fits = _trits_to_bytes(body[ok][:, HEADER_INDEX_TRITS:-C], nbytes)
        payload[ok] = got
        ok[np.flatnonzero(ok)[~fits]] = False
    return index, payload, ok


def _splits(codes: np.ndarray, hint: tuple[str, str] | None) -> list[tuple[int, int]]:
    """Candidate (forward, reverse) primer lengths: the hint's, else every forward length up
    to the conserved prefix (the selector and the leading index trits of data strands are
    often conserved too) with a reverse one at or just under the conserved suffix."""
    if hint is not None:
        return [(len(hint[0]), len(hint[1]))]

    L = codes.shape[1]
    l1, l2 = conserved_columns(codes), conserved_columns(codes[:, ::-1])
    l1, l2 = min(l1, L // 2), min(l2, L // 2)
    return [(a, b) for b in range(l2, max(-1, l2 - 3), -1) for a in range(l1, -1, -1)]


def read_header(strands: list[tuple[str, float]], primers: tuple[str, str] | None = None,
                gc_band: tuple[float, float] = (0.0, 1.0), prefer: str | None = None
                ) -> tuple[dict[str, Any] | None, np.ndarray, dict[str, Any]]:
    """The manifest the header strands among ``strands`` (sequence, weight) hold, or None;
    a mask of the strands that are header strands (to keep them out of the data); counts.
    ``primers``, when known, spare the search for the primers' split; where reads of several
    pools are mixed, the pool of encoding ``prefer`` is taken if its header is there, else
    the one with the most reads."""
    n_in = len(strands)
    is_header = np.zeros(n_in, bool)
    stats: dict[str, Any] = {"header_strands_found": 0, "header_chunks": 0}
    if not n_in:
        return None, is_header, stats
    lens = np.fromiter((len(r[0]) for r in strands), np.int64, n_in)
    L = Counter(lens.tolist()).most_common(1)[0][0]
    pos = np.flatnonzero(lens == L)
    codes = encode_bases("".join(strands[i][0] for i in pos)).reshape(len(pos), L)
    weights = np.asarray([strands[i][1] for i in pos], np.float64)
    top = np.argsort(-weights, kind="stable")[:600]
    # strands called from reads whose design was guessed may all be reverse complements
    for mat in (codes, complement_codes(codes)[:, ::-1]):
        ordered: list[tuple[int, int, int, tuple[str, str]]] = []
        for a, b in _splits(mat[top] if primers is None else mat[:1], primers):
            if a + b >= L - 16:
                continue
            p = primers or (majority_bases(mat[top][:, :a]), majority_bases(mat[top][:, L - b:]) if b else "")
            hl = Layout(L, p, HEADER_INDEX_TRITS, HEADER_CHECK_TRITS, gc_band)
            if not fits(hl):
                continue
            _, _, ok = _parse(mat[top], hl)
            if ok.any():
                ordered.append((int(ok.sum()), a, b, p))
        for _, a, b, p in sorted(ordered, key=lambda t: -t[0]):
            hl = Layout(L, p, HEADER_INDEX_TRITS, HEADER_CHECK_TRITS, gc_band)
            index, payload, ok = _parse(mat, hl)
            man, used = _assemble(index, payload, ok, weights, stats, prefer)
            if man is not None:
                is_header[pos[ok & used]] = True
                stats["header_strands_found"] = int((ok & used).sum())
                return man, is_header, stats
    return None, is_header, stats


def _assemble(index, payload, ok, weights, stats, prefer: str | None = None) -> tuple[dict[str, Any] | None, np.ndarray]:
    """The manifest from parsed header strands: the pool with the most weight, its chunks by
    index (the heaviest strand of each), repaired by the RS code."""
    used = np.zeros(len(ok), bool)
    if not ok.any():
        return None, used
    keys = [bytes(payload[i, :DESC]) for i in np.flatnonzero(ok)]
    tally: dict[bytes, float] = {}
    for key, i in zip(keys, np.flatnonzero(ok)):
        tally[key] = tally.get(key, 0.0) + weights[i]
    first = bytes.fromhex(prefer[:8]) if prefer else b""
    for key, _ in sorted(tally.items(), key=lambda t: (t[0][:4] != first, -t[1])):
        k = struct.unpack(">H", key[4:6])[0]
        if not 1 <= k <= 3 ** HEADER_INDEX_TRITS:
            continue
        plan = RSPlan.make(k, HEADER_REDUNDANCY)
        n = k + plan.n_parity
        mine = np.zeros(len(ok), bool)
        cand = np.flatnonzero(ok)
        mine[cand] = [bytes(payload[i, :DESC]) == key and index[i] < n for i in cand]
        per = payload.shape[1] - DESC
        rows = np.zeros((n, per), np.uint8)
        have = np.zeros(n, bool)
        best = np.full(n, -1.0)
        for i in np.flatnonzero(mine):
            j = int(index[i])
            if weights[i] > best[j]:
                best[j], rows[j], have[j] = weights[i], payload[i, DESC:], True
        stats["header_chunks"] = int(have.sum())
        try:
            data, _ = rs_decode(rows[:k], rows[k:], have[:k], have[k:], plan)
        except DnastoreError:
            continue
        frame = data.astype(np.uint8).reshape(-1).tobytes()
        man = _unpack_manifest(frame)
        if man is not None:
            return man, mine
    return None, used


def compare(given: dict[str, Any], header: dict[str, Any], where: str) -> None:
    """Refuse a manifest that disagrees with the pool's header strands, naming the field."""
    if given.get("encoding_id") != header.get("encoding_id"):
        raise DnastoreError(f"{where} is from another encoding ({given.get('encoding_id')}) than the pool's header "
                            f"strands ({header.get('encoding_id')}): it is not the manifest of these reads")
    keys = sorted((set(given) | set(header)) - set(NOT_IN_HEADER))
    for k in keys:
        if given.get(k) != header.get(k):
            raise DnastoreError(f"{where} disagrees with the pool's header strands on {k!r}: it is not the manifest "
                                "of these reads (drop it to decode from the header alone)")
