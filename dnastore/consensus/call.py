"""Clustering reads and calling one strand per cluster, without any truth sidecar.

1. **Orient and trim.** A read is turned to the design's orientation and cut down to its core
   (the part between the primers). Reads that start with the forward primer, or with the
   reverse complement of the reverse primer, and end with the other one are handled as whole
   arrays; the rest (reads cut short, run into adapters, or with indels in a primer) are
   located with edlib's infix alignment of each primer on both orientations.
2. **Cluster.** Each core contributes four k-mer anchors (two at its start, two at its end, so
   an indel in the middle still leaves anchors in place); where most reads are off the design
   length (nanopore), each core also contributes the smallest-hash k-mer of each of eight
   windows (a minimizer moves with its k-mer, so indels elsewhere leave it in place), and an
   anchor must be carried by at least three reads. Reads sharing an anchor are joined;
   clusters are the connected components.
3. **Call.** ``vote``: a Phred-weighted column vote over reads of the design length, as one
   array operation over all clusters; reads of another length in thin clusters are aligned
   to that draft with edlib and vote through the alignment; clusters with no read of the
   design length (or, for indel-rich reads, too few to be a majority) go to partial-order
   alignment (spoa) of the whole reads, trimmed to the core afterwards. ``spoa``: partial-order alignment
   for every cluster.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import edlib
import numpy as np

from dnastore.errors import DnastoreError
from dnastore.io.seqio import (
    ReadSet,
    complement_codes,
    conserved_columns,
    decode_bases,
    encode_bases,
    majority_bases,
    revcomp,
)

_CIGAR = re.compile(r"(\d+)([=XID])")


@dataclass
class Design:
    """What consensus needs to know of the oligos: primers and the core length."""

    p1: str
    p2: str
    core_len: int

    @classmethod
    def from_manifest(cls, man: dict) -> "Design":
        lay = man["layout"]
        p1, p2 = lay["primers"]
        return cls(p1, p2, int(lay["strand_length"]) - len(p1) - len(p2))


def infer_design(seqs: list[str], sample: int = 5000) -> Design:
    """Guess primers and core length from the reads themselves (for reads with no manifest):
    the commonest 12-mer start marks forward reads, whose conserved first and last columns are
    taken as the primers."""
    s = seqs[:sample]
    if not s:
        raise DnastoreError("no reads to infer the design from")
    length = Counter(len(x) for x in s).most_common(1)[0][0]
    heads = Counter(x[:12] for x in s if len(x) >= 12)
    if not heads:
        raise DnastoreError("every read is shorter than 12 nt: too short to infer the oligo design from; give the "
                            "oligos' manifest (--manifest) or --primers and --length")
    head, n_head = heads.most_common(1)[0]
    fwd = [x for x in s if x.startswith(head) and len(x) == length]
    if n_head < 0.2 * len(s) or len(fwd) < 5:
        return Design("", "", length)
    m = encode_bases("".join(fwd)).reshape(len(fwd), length)

    l1 = conserved_columns(m)
    l2 = conserved_columns(m[:, ::-1])
    if l1 + l2 >= length:
        return Design("", "", length)
    p1 = majority_bases(m[:, :l1])
    p2 = majority_bases(m[:, length - l2:]) if l2 else ""
    return Design(p1, p2, length - l1 - l2)


def _locate(read: str, d: Design, orient: int = 0) -> tuple[str | None, bool]:
    """Slow path: (core or None, reversed?) by infix alignment of the primers.

    ``orient``: 0 unknown; 1 forward with the forward primer already in place at the start;
    2 forward with the reverse primer in place at the end; -1 and -2 the same for a read that
    is the reverse complement. A primer already in place needs no alignment."""
    best = None
    tries = ((False, read), (True, revcomp(read)))
    if orient:
        tries = (tries[orient < 0],)
    for rev, r in tries:
        e1 = s2 = None
        d1 = d2 = None
        if abs(orient) == 1:
            d1, e1 = 0, len(d.p1)
        elif d.p1:
            a = edlib.align(d.p1, r, mode="HW", task="locations", k=max(2, len(d.p1) // 4))
            if a["editDistance"] >= 0:
                d1, e1 = a["editDistance"], a["locations"][0][1] + 1
        if abs(orient) == 2:
            d2, s2 = 0, len(r) - len(d.p2)
        elif d.p2:
            a = edlib.align(d.p2, r, mode="HW", task="locations", k=max(2, len(d.p2) // 4))
            if a["editDistance"] >= 0:
                d2, s2 = a["editDistance"], a["locations"][-1][0]
        found = (d1 is not None) + (d2 is not None)
        if not found:
            continue
        if e1 is not None and s2 is not None and s2 > e1:
            core = r[e1:s2]
        elif e1 is not None:
            core = r[e1:e1 + d.core_len]
        elif s2 is not None:
            core = r[max(0, s2 - d.core_len):s2]
        else:
            continue
        score = (found, -((d1 or 0) + (d2 or 0)))
        if best is None or score > best[0]:
            best = (score, core, rev)
    if best is None:
        return None, False
    return best[1], best[2]


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for integer keys. Where key and position fit in
    one int64 together they are packed and sorted as values, which numpy does several times
    faster than an argsort (0.8 million keys: 20 ms against 80-120 ms here)."""
    keys = np.asarray(keys)
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(keys.min()), int(keys.max())
    pos_bits = max(1, (n - 1).bit_length())
    if (hi - lo).bit_length() + pos_bits > 63:
        return np.argsort(keys, kind="stable")
    packed = ((keys.astype(np.int64) - lo) << pos_bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    return packed & ((1 << pos_bits) - 1)


def _unique(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` for a 1-D integer array by a sort and a mask: numpy 2.4's np.unique
    hashes, some 25 times slower at 300,000 values."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def _by_length(lens: np.ndarray) -> list[np.ndarray]:
    """Indices grouped by equal length, shortest group first."""
    order = stable_order(lens)
    return np.split(order, np.flatnonzero(np.diff(lens[order])) + 1)


@dataclass
class Cores:
    """Read cores in design orientation: design-length ones as a matrix, the rest as strings."""

    mat: np.ndarray          # (n, L) uint8 base codes
    qmat: np.ndarray         # (n, L) uint8 Phred
    var: list[str]           # cores of any other length
    varq: list[np.ndarray]
    varfull: list[str] = field(default_factory=list)  # those reads whole, in design orientation

    @property
    def n(self) -> int:
        return self.mat.shape[0] + len(self.var)


RESCUE_BASES = 8


def _rescue_rules(d: Design) -> list:
    """How a read with one primer in place, but the other's end window broken (an indel near
    the read's end), is placed without alignment: if the first (or last) RESCUE_BASES bases
    of the other primer sit, within one mismatch, right beside a design-length core, that core
    is the read's. A core with an indel shifts those bases by one and fails the check, so it
    goes to the edlib path. Per rule: the reads it applies to, where the check window and the
    core start for a read of length ln, the check's codes (None: this primer is too short, or
    too like itself shifted by one for the check to tell), and whether the read is reversed.
    On the 200,000-read benchmark it places 4,029 of the 4,505 reads that needed edlib, with
    the core edlib finds for all but 5 (those 5: a deletion at the primer/core border, which
    edlib puts in the core)."""
    a, b2, L, K = len(d.p1), len(d.p2), d.core_len, RESCUE_BASES

    def codes(p: str) -> np.ndarray | None:
        distinct = len(p) >= K and sum(x != y for x, y in zip(p[:K], p[1:K])) >= K // 2
        return encode_bases(p) if distinct else None
    rc1, rc2 = revcomp(d.p1), revcomp(d.p2)
    return [  # (reads, check at, check codes, core at, reversed)
        (lambda f1, f2, r1, r2, fa, ra: f1 & ~ra, lambda ln: a + L, codes(d.p2[:K]), lambda ln: a, False),
        (lambda f1, f2, r1, r2, fa, ra: f2 & ~f1 & ~ra, lambda ln: ln - b2 - L - K, codes(d.p1[a - K:]),
         lambda ln: ln - b2 - L, False),
        (lambda f1, f2, r1, r2, fa, ra: r2 & ~fa, lambda ln: b2 + L, codes(rc1[:K]), lambda ln: b2, True),
        (lambda f1, f2, r1, r2, fa, ra: r1 & ~r2 & ~fa, lambda ln: ln - a - L - K, codes(rc2[b2 - K:]),
         lambda ln: ln - a - L, True),
    ]


def orient_and_trim(reads: ReadSet | list[str], quals: list[str | None] | None, d: Design) -> tuple[Cores, dict]:
    """Cores of the reads in design orientation, with their Phred scores.

    Reads are taken in groups of equal length, each group one matrix sliced straight from the
    read buffer. Reads whose two ends carry the primers (either orientation) are trimmed as
    arrays; a read whose core has the design length joins the core matrix. Most reads with
    one primer in place and the other's window broken are placed as arrays too (see
    :func:`_rescue_rules`). The others are located with edlib one by one. ``reads`` is a
    :class:`ReadSet`, or a list of sequences with ``quals`` beside it."""
    if not isinstance(reads, ReadSet):
        reads = ReadSet.from_strings(reads, quals)
    n = len(reads)
    L = d.core_len
    stats = {"reads": n, "fast_path": 0, "located": 0, "unplaced": 0, "reverse": 0}
    a, b2 = len(d.p1), len(d.p2)
    full = a + L + b2
    k1, k2 = min(a, 16), min(b2, 16)
    tol1, tol2 = max(1, k1 // 5), max(1, k2 // 5)
    p1h, p2t = encode_bases(d.p1[:k1]), encode_bases(d.p2[b2 - k2:])
    rc2h, rc1t = encode_bases(revcomp(d.p2)[:k2]), encode_bases(revcomp(d.p1)[a - k1:])
    lens = reads.lens
    cmat, cq, var, varq, varfull, slow, rescued, rescued_q = [], [], [], [], [], [], [], []
    hints: dict[int, int] = {}
    rules = [r for r in _rescue_rules(d) if r[2] is not None]
    for grp in _by_length(lens):
        ln = int(lens[grp[0]]) if len(grp) else 0
        if ln <= a + b2:
            slow.extend(grp.tolist())
            continue
        m, q = reads.matrices(grp, ln)
        if not a and not b2:
            fwd, rev = np.ones(len(grp), bool), np.zeros(len(grp), bool)
            rest = np.zeros(len(grp), bool)
        else:
            yes = np.ones(len(grp), bool)
            f1 = (m[:, :k1] != p1h).sum(axis=1) <= tol1 if k1 else yes
            r1 = (m[:, ln - k1:] != rc1t).sum(axis=1) <= tol1 if k1 else yes
            f2 = (m[:, ln - k2:] != p2t).sum(axis=1) <= tol2 if k2 else yes
            r2 = (m[:, :k2] != rc2h).sum(axis=1) <= tol2 if k2 else yes
            fwd = f1 & f2
            rev = r1 & r2 & ~fwd
            # reads with one end in place: orientation and that boundary are known
            f_any, r_any = (f1 & bool(k1)) | (f2 & bool(k2)), (r1 & bool(k1)) | (r2 & bool(k2))
            h = np.where(f_any & ~r_any, np.where(f1 & bool(k1), 1, 2),
                         np.where(r_any & ~f_any, np.where(r2 & bool(k2), -2, -1), 0))
            rest = ~(fwd | rev)
            for sel, check_at, pattern, core_at, backward in rules:
                c0, k0 = core_at(ln), check_at(ln)
                if min(c0, k0) < 0 or max(c0 + L, k0 + len(pattern)) > ln:
                    continue
                rows = np.flatnonzero(rest & sel(f1, f2, r1, r2, f_any, r_any))
                take = rows[(m[rows, k0:k0 + len(pattern)] != pattern).sum(axis=1) <= 1]
                core, core_q = m[take, c0:c0 + L], q[take, c0:c0 + L]
                if backward:
                    core, core_q = complement_codes(core[:, ::-1]), core_q[:, ::-1]
                rescued.append(core)
                rescued_q.append(core_q)
                rest[take] = False
                stats["located"] += len(take)
                stats["reverse"] += len(take) if backward else 0
            for i, hint in zip(grp[rest], h[rest]):
                hints[i] = int(hint)
        stats["reverse"] += int(rev.sum())
        stats["fast_path"] += int((fwd | rev).sum())
        ok = fwd | rev
        if ln == full:
            cmat.append(m[fwd, a:a + L])
            cq.append(q[fwd, a:a + L])
            # a reverse read's core sits at [b2, b2 + L): reverse it and complement the bases
            cmat.append(complement_codes(m[rev, b2:b2 + L][:, ::-1]))
            cq.append(q[rev, b2:b2 + L][:, ::-1])
        elif ok.any():
            if rev.any():
                m[rev] = complement_codes(m[rev][:, ::-1])
                q[rev] = q[rev][:, ::-1]
            text = decode_bases(m[ok].reshape(-1))
            whole = [text[j:j + ln] for j in range(0, len(text), ln)]
            var.extend([w[a:ln - b2] for w in whole])
            varq.extend(list(q[ok, a:ln - b2]))
            varfull.extend(whole)
        slow.extend(grp[rest].tolist())
    cmat.extend(rescued)
    cq.extend(rescued_q)
    placed, placed_q = [], []  # located cores of the design length: encoded together below
    for i in slow:
        s = reads.seq(i)
        core, was_rev = _locate(s, d, hints.get(i, 0))
        if not core:
            stats["unplaced"] += 1
            continue
        stats["located"] += 1
        stats["reverse"] += was_rev
        if was_rev:
            s = revcomp(s)
        at = s.find(core)
        if len(core) == L:  # located reads of the design length vote with the others
            placed.append(core)
            # the core's qualities in read order: [at, at + L) of the oriented read
            placed_q.append((i, len(s) - at - L if was_rev else at, was_rev))
            continue
        ph = reads.phred(i)
        if was_rev:
            ph = ph[::-1]
        var.append(core)
        varq.append(ph[at:at + len(core)])
        varfull.append(s)
    if placed:
        cmat.append(encode_bases("".join(placed)).reshape(len(placed), L))
        cq.append(reads.phred_windows(np.array([i for i, _, _ in placed_q]), np.array([o for _, o, _ in placed_q]),
                                      L, np.array([r for _, _, r in placed_q], dtype=bool)))
    cores = Cores(np.concatenate(cmat) if cmat else np.zeros((0, L), np.uint8),
                  np.concatenate(cq) if cq else np.zeros((0, L), np.uint8), var, varq, varfull)
    return cores, stats


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _minimizers(codes: np.ndarray, k: int, n_windows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k-mer of smallest hash in each of ``n_windows`` equal windows of start
    positions. Returns (keys (n, n_windows) int64, valid mask). A minimizer moves with its
    k-mer, so an indel before it (as long as it stays in its window) leaves it intact."""
    n, L = codes.shape
    m = L - k + 1
    h = np.zeros((n, m), dtype=np.uint64)
    bad = np.zeros((n, m), dtype=bool)
    for j in range(k):
        col = codes[:, j:j + m]
        h = (h << np.uint64(2)) | (col & 3).astype(np.uint64)
        bad |= col > 3
    with np.errstate(over="ignore"):
        mixed = (h * _MIX) >> np.uint64(16)
    mixed[bad] = np.iinfo(np.uint64).max
    edges = np.linspace(0, m, n_windows + 1).astype(int)
    keys = np.zeros((n, n_windows), dtype=np.int64)
    ok = np.zeros((n, n_windows), dtype=bool)
    rows = np.arange(n)
    for w in range(n_windows):
        seg = mixed[:, edges[w]:edges[w + 1]]
        j = seg.argmin(axis=1)
        keys[:, w] = h[rows, edges[w] + j].astype(np.int64)
        ok[:, w] = seg[rows, j] != np.iinfo(np.uint64).max
    return keys, ok


def _pack_kmers(w: np.ndarray) -> np.ndarray:
    """(n, k) base codes (k <= 31) to one integer per row (2 bits a base, first base highest):
    four bases to a byte, then the bytes read as a big-endian word. Rows holding a code above
    3 give some value; callers mask them."""
    n, k = w.shape
    if k > 16:
        return (_pack_kmers(w[:, :k - 16]) << 32) | _pack_kmers(w[:, k - 16:])
    w = np.concatenate([np.zeros((n, 16 - k), np.uint8), w], axis=1) if k < 16 else w
    b = (w[:, 0::4] << 6) | (w[:, 1::4] << 4) | (w[:, 2::4] << 2) | w[:, 3::4]
    return np.ascontiguousarray(b).view(">u4")[:, 0].astype(np.int64)


_HIGH_BITS = np.uint64(0xFCFCFCFCFCFCFCFC)


def _all_bases(w: np.ndarray) -> np.ndarray:
    """Rows of a contiguous (n, k) code block with no code above 3 (no N, no padding): eight
    codes to a 64-bit word, OR-ed, then one mask of the high bits of every byte. Some five
    times faster than ``w.max(axis=1) < 4``, a reduction over a short axis."""
    n, k = w.shape
    if k % 8 or not w.flags.c_contiguous:
        return w.max(axis=1) < 4
    v = w.view(np.uint64)
    acc = v[:, 0].copy()
    for j in range(1, k // 8):
        acc |= v[:, j]
    return (acc & _HIGH_BITS) == 0


def _anchor_starts(codes: np.ndarray, k: int, n_win: int = 4, sample: int = 4096) -> list[int]:
    """Where the positional anchors of (n, L) cores go: in each half of the core, the
    ``n_win / 2`` non-overlapping k-mer windows that tell the most cores apart in a sample
    (most distinct k-mers), less those nearly every core shares, so that a stretch
    every strand shares (wide index fields with leading zeros, constant selector bases) never
    serves as an anchor. Ties go to the window nearer either end."""
    n, L = codes.shape
    if L < k:
        return []
    rows = codes[:: max(1, n // sample)][:sample]
    step = max(1, k // 4)
    cands = sorted(set(range(0, L - k + 1, step)) | {L - k})
    distinct = {}
    for a in cands:
        w = np.ascontiguousarray(rows[:, a:a + k])
        ok = _all_bases(w)
        distinct[a] = len(_unique(_pack_kmers(w)[ok]))
    chosen: list[int] = []
    # half of them in each half of the core (kept from the start and from the end), so that an
    # indel anywhere leaves the windows on one side in place
    for half in ([a for a in cands if a < L / 2], [a for a in cands if a >= L / 2]):
        got: list[int] = []
        for a in sorted(half, key=lambda a: (-distinct[a], min(a, L - k - a), a)):
            if all(abs(a - b) >= k for b in chosen + got):
                got.append(a)
            if len(got) == n_win // 2:
                break
        chosen += got
    # a window (nearly) every strand shares adds nothing to a pair but its partner's collisions
    top = max((distinct[a] for a in chosen), default=0)
    kept = [a for a in chosen if distinct[a] > max(1, 0.05 * top)]
    return sorted(kept or [max(chosen, key=lambda a: distinct[a])] if chosen else [])


_PAIR_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9),
             np.uint64(0xBF58476D1CE4E5B9))


def _pair_keys(kk: np.ndarray, ok: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Anchors made of two windows each: one key per pair of a read's windows (hashed to
    ``bits`` bits), valid where both windows are. Two strands share such a key only if they
    agree on two whole windows (3^-2k for the oligo code's bases), where one window at a
    time merges strands by chance in large pools or short cores."""
    n, w = kk.shape
    pairs = [(i, j) for i in range(w) for j in range(i + 1, w)]
    keys = np.empty((n, len(pairs)), dtype=np.int64)
    good = np.empty((n, len(pairs)), dtype=bool)
    u = kk.astype(np.uint64)
    with np.errstate(over="ignore"):
        for c, (i, j) in enumerate(pairs):
            h = u[:, i] * _PAIR_MIX[0] ^ (u[:, j] + np.uint64(c + 1)) * _PAIR_MIX[1]
            h ^= h >> np.uint64(31)
            h *= _PAIR_MIX[3]
            h ^= h >> np.uint64(29)
            keys[:, c] = (h >> np.uint64(64 - bits)).astype(np.int64)
            good[:, c] = ok[:, i] & ok[:, j]
    return keys, good


def cluster(cores: Cores, k: int, minimizers: bool = False, n_windows: int = 8, min_support: int = 3) -> np.ndarray:
    """Cluster labels: reads that share an anchor are joined, and clusters are the connected
    components. Labels index the matrix cores first, then the others.

    Positional anchors: four k-mer windows of the core, placed where the design-length cores
    differ most (:func:`_anchor_starts`; the two in the first half kept at their distance from
    the start, the others from the end, so that cores one indel off the length still share
    some). With clean reads the anchors are *pairs* of windows (:func:`_pair_keys`): a read
    needs two clean windows to link, and two strands must agree on two windows to merge.
    With ``minimizers`` (for indel-rich reads) each window is an anchor, and so is the
    smallest-hash k-mer of each of ``n_windows`` windows, which moves with its k-mer."""
    n1, n = cores.mat.shape[0], cores.n
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rows, keys = [], []
    n_pos = 4
    row_bits = max(1, (n - 1).bit_length())
    pair_bits = max(24, 62 - row_bits)

    def add(r: np.ndarray, kk: np.ndarray, ok: np.ndarray, offset: int) -> None:
        rr = np.broadcast_to(r[:, None], kk.shape)
        rows.append(rr[ok])
        keys.append((kk * (n_pos + n_windows) + offset + np.arange(kk.shape[1])[None, :])[ok])

    vl = np.fromiter((len(c) for c in cores.var), dtype=np.int64, count=len(cores.var))
    by_len = [g for g in _by_length(vl) if len(g)]
    # the reference length: the design's (or the commonest, with no design-length core)
    L0 = cores.mat.shape[1] if n1 else (int(vl[max(by_len, key=len)[0]]) if by_len else 0)
    if not minimizers:
        # pairs of windows must tell every two strands apart: 3^-2k per pair of strands, over
        # up to n^2 pairs of reads and 6 pairs of windows, with a margin of 1,000; short cores
        # take two windows of half their length
        k = max(k, math.ceil(math.log(max(n, 2) ** 2 * 6000, 3) / 2))
        if L0 < 4 * k:  # no room for four: two windows of half the core, a pair is (nearly) all of it
            k = min(L0 // 2, 31)
        if k < 4:
            return np.arange(n)
    groups = []
    if n1 and cores.mat.shape[1] >= 2 * k:
        groups.append((np.arange(n1), cores.mat))
    for grp in by_len:
        if vl[grp[0]] >= 2 * k:
            groups.append((n1 + grp, encode_bases("".join(cores.var[i] for i in grp)).reshape(len(grp), int(vl[grp[0]]))))
    if not groups:
        return np.arange(n)
    # the windows, chosen on the design-length cores (or the commonest length): as offsets
    # from the start (first half) or from the end (second half)
    ref = groups[0][1] if n1 and cores.mat.shape[1] >= 2 * k else max(groups, key=lambda g: len(g[0]))[1]
    L0 = ref.shape[1]
    if minimizers:  # as before: the start anchors skip the first k bases (selector and index)
        s = min(k, max(0, L0 - 5 * k))
        starts0 = [s, s + k, L0 - 2 * k, L0 - k]
    elif L0 < 4 * k:  # the two halves (see above)
        starts0 = [0, L0 - k]
    else:
        starts0 = _anchor_starts(ref, k)
    spec = [(a, a < L0 / 2) for a in starts0]

    def positional(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L = codes.shape[1]
        where = [a if from_start else L - (L0 - a) for a, from_start in spec]
        where = [min(max(0, a), L - k) for a in where]
        # each window copied out first: numpy works on a contiguous (n, k) block several
        # times faster than on a strided slice of the (n, L) matrix
        wins = [np.ascontiguousarray(codes[:, a:a + k]) for a in where]
        kk = np.stack([_pack_kmers(w) for w in wins], axis=1)
        ok = np.stack([_all_bases(w) for w in wins], axis=1)
        return kk, ok

    for r, codes in groups:
        kk, ok = positional(codes)
        if minimizers:
            add(r, kk, ok, 0)
            if codes.shape[1] >= k + n_windows:
                add(r, *_minimizers(codes, k, n_windows), n_pos)
        else:  # one window left (the others shared by every strand): paired with itself
            if kk.shape[1] < 2:
                kk, ok = np.repeat(kk, 2, axis=1), np.repeat(ok, 2, axis=1)
            pk, pok = _pair_keys(kk, ok, pair_bits)
            rows.append(np.broadcast_to(r[:, None], pk.shape)[pok])
            keys.append(pk[pok])
    if not rows:
        return np.arange(n)
    keys_a, rows_a = np.concatenate(keys), np.concatenate(rows)
    # equal anchors next to each other: anchor and read packed in one int64 and sorted as
    # values (see stable_order), else ordered by stable_order
    if len(keys_a) and int(keys_a.min()) >= 0 and int(keys_a.max()).bit_length() + row_bits <= 63:
        packed = (keys_a << row_bits) | rows_a
        packed.sort()
        keys_a, rows_a = packed >> row_bits, packed & ((1 << row_bits) - 1)
    else:
        order = stable_order(keys_a)
        keys_a, rows_a = keys_a[order], rows_a[order]
    new = np.empty(len(keys_a), dtype=bool)
    new[0] = True
    np.not_equal(keys_a[1:], keys_a[:-1], out=new[1:])
    key_idx = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(keys_a)))
    # with indel-rich reads an anchor links reads only when at least min_support reads carry
    # it: error k-mers are rare, and two strands' error variants coincide often enough to merge
    # clusters. (With clean reads a key shared by two reads is a real link at low coverage.)
    keep = counts[key_idx] >= (min_support if minimizers else 1)
    return components(n, rows_a[keep], key_idx[keep], len(starts))


def components(n: int, rows: np.ndarray, key_idx: np.ndarray, n_keys: int) -> np.ndarray:
    """Connected components of the bipartite graph reads -- anchors, as labels 0..C-1 in order
    of each component's smallest read. Min-label propagation with pointer jumping: each
    round every anchor takes the smallest label among its reads and every read the smallest
    among its anchors, then labels follow their own labels to a fixed point."""
    label = np.arange(n)
    while True:
        kmin = np.full(n_keys, n, dtype=np.int64)
        np.minimum.at(kmin, key_idx, label[rows])
        new = label.copy()
        np.minimum.at(new, rows, kmin[key_idx])
        while True:
            jumped = new[new]
            if (jumped == new).all():
                break
            new = jumped
        if (new == label).all():
            break
        label = new
    # every label is the smallest read of its component: number the roots in order
    is_root = np.zeros(n, dtype=bool)
    is_root[label] = True
    return (np.cumsum(is_root) - 1)[label]


def _spoa(seqs: list[str]) -> str:
    """Partial-order consensus, global alignment (whole reads of one strand end to end). The
    caller puts its best reads first: the first read is the graph's backbone."""
    from spoa import poa
    return poa(seqs, algorithm=1)[0]


def _project_votes(counts: np.ndarray, draft: str, read: str, q: np.ndarray) -> None:
    """Add a read's votes to a (L, 5) count matrix through its alignment to the draft."""
    res = edlib.align(read, draft, mode="NW", task="path")
    i = j = 0
    codes = encode_bases(read)
    for num, op in _CIGAR.findall(res["cigar"] or ""):
        num = int(num)
        if op in "=X":
            counts[np.arange(j, j + num), codes[i:i + num]] += q[i:i + num]
            i += num
            j += num
        elif op == "I":
            # bases this read has between two of the draft's: a vote against the calls beside
            # them (the draft may lack a base there)
            w = float(q[i:i + num].mean()) if num and len(q) else 1.0
            counts[max(j - 1, 0):min(j + 1, len(counts)), 4] += w
            i += num
        else:
            # a base of the draft this read lacks: a vote for the gap, at the read's mean score
            counts[j:j + num, 4] += float(q.mean()) if len(q) else 1.0
            j += num


MAX_CONF = 93  # the highest confidence written (FASTQ's highest quality character, '~')


def _confidence(sorted_votes: np.ndarray) -> np.ndarray:
    """Per call, the Phred-weighted votes for the winner less those for the runner-up, capped
    at :data:`MAX_CONF`: with independent reads, a log-likelihood ratio in Phred units."""
    return np.clip(sorted_votes[:, -1] - sorted_votes[:, -2], 0, MAX_CONF).astype(np.uint8)


def _column_vote(cores: Cores, cid: np.ndarray, n_voted: int, L: int,
                 order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Phred-weighted majority per cluster and column over the design-length reads, and each
    call's confidence (:func:`_confidence`; a unanimous column's is the sum of its reads'
    Phred scores).

    ``cid``: compact cluster of each matrix row (-1: not voted); ``order``, if given, lists
    the rows already sorted by ``cid``. Most columns are unanimous: each read is compared with
    its cluster's first read, and only the (cluster, column) pairs where some read disagrees
    are tallied, over every read of the cluster."""
    if order is None:
        rows = np.flatnonzero(cid >= 0)
        rows = rows[stable_order(cid[rows])]
    else:
        rows = order[cid[order] >= 0]
    if not len(rows):
        return np.zeros((n_voted, L), dtype=np.uint8), np.zeros((n_voted, L), dtype=np.uint8)
    c_sorted = cid[rows]
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(rows)])
    ms = cores.mat[rows]
    drafts = ms[starts].copy()                                   # (n_voted, L): first read of each cluster
    # unanimous columns: the sum of the reads' scores, a few thousand rows at a time
    conf = np.zeros((len(starts), L), dtype=np.uint8)
    step = 4096
    for lo in range(0, len(starts), step):
        a, b = starts[lo], (starts[lo + step] if lo + step < len(starts) else len(rows))
        q = np.maximum(cores.qmat[rows[a:b]], 1).astype(np.int32)
        conf[lo:lo + step] = np.minimum(np.add.reduceat(q, starts[lo:lo + step] - a, axis=0), MAX_CONF)
    # flatnonzero then divmod: numpy's 2-D nonzero is some six times slower
    r, col = np.divmod(np.flatnonzero(ms != np.repeat(drafts, sizes, axis=0)), L)
    if not len(r):
        return drafts, conf
    pairs = _unique(c_sorted[r] * L + col)                       # (cluster, column) pairs to vote on
    pc, pcol = pairs // L, pairs % L
    # every read of the pair's cluster, at the pair's column
    cnt = sizes[pc]
    pair_of = np.repeat(np.arange(len(pairs)), cnt)
    offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    rr = rows[starts[pc][pair_of] + offs]
    cc = pcol[pair_of]
    base = cores.mat[rr, cc].astype(np.int64)
    w = np.maximum(cores.qmat[rr, cc], 1).astype(np.float64)
    w[base > 3] = 0
    votes = np.bincount(pair_of * 4 + np.minimum(base, 3), weights=w, minlength=len(pairs) * 4).reshape(-1, 4)
    drafts[pc, pcol] = votes.argmax(axis=1)
    conf[pc, pcol] = _confidence(np.sort(votes, axis=1))
    return drafts, conf


POA_READS = 40  # reads a partial-order consensus takes at most (more add time, not accuracy)
CONF_READS = 20  # reads that vote on the confidence of a partial-order call
DRAFT_READS = 7  # reads of a cluster's draft for the merge of indel-rich clusters


def merge_drafts(drafts: list[str], k: int = 12, max_share: int = 64, max_dist: float = 0.2) -> np.ndarray:
    """Groups of drafts (consensus cores of clusters) that are one strand: pairs sharing at
    least two k-mers at about the same place (a k-mer shared by more than ``max_share``
    drafts, a stretch every strand has, is no evidence) and within an edit distance of
    ``max_dist`` of their length (edlib) are joined. Returns a group label per draft.

    Indel-rich reads split one strand's reads over several clusters; their drafts are still
    far closer to each other (a few errors each) than to another strand's (half the bases)."""
    n = len(drafts)
    if n < 2:
        return np.arange(n)
    rows, keys = [], []
    for i, t in enumerate(drafts):
        if len(t) < k:
            continue
        codes = encode_bases(t)
        if (codes > 3).any():
            continue
        w = np.lib.stride_tricks.sliding_window_view(codes, k)
        packed = _pack_kmers(np.ascontiguousarray(w))
        rows.append(np.full(len(packed), i, dtype=np.int64))
        keys.append(packed)
    if not rows:
        return np.arange(n)
    r, kk = np.concatenate(rows), np.concatenate(keys)
    order = np.lexsort((r, kk))
    r, kk = r[order], kk[order]
    new = np.empty(len(kk), dtype=bool)
    new[0] = True
    np.not_equal(kk[1:], kk[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(kk))
    pair_count: dict[tuple[int, int], int] = {}
    for a, b in zip(starts, ends):
        members = np.unique(r[a:b])
        if len(members) < 2 or len(members) > max_share:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                key = (int(members[x]), int(members[y]))
                pair_count[key] = pair_count.get(key, 0) + 1
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (x, y), c in sorted(pair_count.items()):
        if c < 2:
            continue
        fx, fy = find(x), find(y)
        if fx == fy:
            continue
        limit = int(max_dist * max(len(drafts[x]), len(drafts[y])))
        if edlib.align(drafts[x], drafts[y], k=limit)["editDistance"] >= 0:
            parent[max(fx, fy)] = min(fx, fy)
    roots = np.array([find(x) for x in range(n)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def _members(labels: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Read indices grouped by cluster, and the bounds of each cluster's run in them:
    cluster c holds ``order[bounds[c]:bounds[c + 1]]``."""
    order = stable_order(labels)
    return order, np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=n_clusters))])


def _split_oversized(labels: np.ndarray, core_seq, poa, factor: float = 1.8, max_dist: float = 0.25) -> np.ndarray:
    """Clusters far larger than the typical one (``factor`` x the median of those with three
    or more reads) are taken to hold several strands: their reads farther than ``max_dist``
    of the length from the cluster's consensus leave it, and are grouped among themselves
    by :func:`merge_drafts` (each read its own draft) into new clusters."""
    n_c = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=n_c)
    typical = sizes[sizes >= 3]
    if not len(typical):
        return labels
    big = np.flatnonzero(sizes > factor * np.median(typical))
    if not len(big):
        return labels
    order, bounds = _members(labels, n_c)
    out = labels.copy()
    leave: list[int] = []
    for c in big:
        members = order[bounds[c]:bounds[c + 1]]
        draft = poa(members)
        limit = int(max_dist * len(draft))
        for i in members:
            if edlib.align(core_seq(i), draft, k=limit)["editDistance"] < 0:
                leave.append(int(i))
    if not leave:
        return labels
    groups = merge_drafts([core_seq(i) for i in leave])
    out[np.array(leave)] = n_c + groups
    _, out = np.unique(out, return_inverse=True)
    return out


DEEP_TYPICAL = 20    # indel-rich clusters this large typically: those of one or two reads are strays
MIXED_MIN = 3        # reads of a second strand needed to call a cluster mixed
MIXED_FAR = 0.25     # a read this far (share of the length) from its consensus is suspect
MIXED_APART = 0.15   # two strands' consensus sequences are at least this far apart


def _distances(seqs: list[str], ref: str, cap: float = 0.45) -> np.ndarray:
    """Edit distance of each sequence to ``ref`` as a share of its length (banded: at most
    ``cap``)."""
    k = int(cap * len(ref))
    out = np.empty(len(seqs))
    for j, t in enumerate(seqs):
        d = edlib.align(t, ref, k=k)["editDistance"]
        out[j] = (d if d >= 0 else k + 1) / max(len(ref), 1)
    return out


def _two_strands(members: np.ndarray, seqs: list[str], poa, rounds: int = 3) -> list[np.ndarray] | None:
    """The reads of a cluster as two strands, or None when it looks like one: two seeds (the
    first read, and the read farthest from it), then ``rounds`` of (each read to the nearer
    consensus, each group's consensus again). The split stands when each group has at least
    ``MIXED_MIN`` reads and their consensus sequences are ``MIXED_APART`` apart."""
    da = _distances(seqs, seqs[0])
    far = int(da.argmax())
    side = _distances(seqs, seqs[far]) < da
    cons = None
    for _ in range(rounds):
        if side.sum() < MIXED_MIN or (~side).sum() < MIXED_MIN:
            return None
        cons = (poa(members[~side]), poa(members[side]))
        new = _distances(seqs, cons[1]) < _distances(seqs, cons[0])
        if (new == side).all():
            break
        side = new
    if cons is None or side.sum() < MIXED_MIN or (~side).sum() < MIXED_MIN:
        return None
    if _distances([cons[0]], cons[1])[0] < MIXED_APART:
        return None
    return [members[~side], members[side]]


def _split_mixed(members: np.ndarray, cons: str, core_seq, poa, typical: float | None) -> list[np.ndarray] | None:
    """The reads of a cluster that holds two strands, grouped by strand (:func:`_two_strands`);
    None when it looks like one. A cluster is a suspect when at least ``MIXED_MIN`` of its
    reads (and a fifth of them) are farther than ``MIXED_FAR`` from its consensus (the
    consensus follows one strand, the other's reads are far from it), or when its reads'
    median distance to the consensus exceeds the typical cluster's by half plus 0.02 (the
    consensus is a blend, nearly as far from both)."""
    seqs = [core_seq(i) for i in members]
    d = _distances(seqs, cons)
    far = int((d > MIXED_FAR).sum())
    blend = typical is not None and float(np.median(d)) > 1.5 * typical + 0.02
    if not blend and (far < MIXED_MIN or far * 5 < len(members)):
        return None
    return _two_strands(members, seqs, poa)


def call_consensus(cores: Cores, d: Design, *, method: str = "vote", k: int = 16, min_size: int = 1,
                   thin: int = 3) -> tuple[list[tuple[str, int]], dict]:
    """(consensus strand with primers, cluster size, per-base confidence) per cluster, largest
    first, and stats. The confidence of a base is the Phred-weighted votes for it less those
    for the runner-up (a base or, in partial-order calls, a gap), capped at
    :data:`MAX_CONF`."""
    if method not in ("vote", "spoa"):
        raise DnastoreError(f"unknown consensus method {method!r}; choose vote or spoa")
    L = d.core_len
    k = max(6, min(k, L // 4)) if L >= 24 else max(4, L // 4)
    n1 = cores.mat.shape[0]
    # indel-rich reads (nanopore): most cores are off the design length
    indel_rich = len(cores.var) > n1
    labels = cluster(cores, k, minimizers=indel_rich)

    def core_seq(i: int) -> str:
        return decode_bases(cores.mat[i]) if i < n1 else cores.var[i - n1]

    def whole(i: int) -> str:
        """Read i whole, in design orientation (primers as designed for matrix reads)."""
        return d.p1 + core_seq(i) + d.p2 if i < n1 else cores.varfull[i - n1]

    def quality(i: int) -> float:
        q = cores.qmat[i] if i < n1 else cores.varq[i - n1]
        return float(q.mean()) if len(q) else 0.0

    def poa(members: np.ndarray) -> str:
        """Partial-order consensus of whole reads (the ``POA_READS`` of highest mean Phred,
        best first), trimmed to its core afterwards: trimming every indel-rich read first would
        shift their ends against each other. On nanopore reads of one strand, best-first
        global alignment called 350 of 480 eight-read clusters exactly, spoa's default order
        and local mode 315."""
        if len(members) == 1:
            return core_seq(members[0])
        best = sorted(members.tolist(), key=lambda i: -quality(i))[:POA_READS]
        cons = _spoa([whole(i) for i in best])
        if not d.p1 and not d.p2:
            return cons
        core, was_rev = _locate(cons, d)
        return core if core and not was_rev else cons[len(d.p1):len(cons) - len(d.p2)]

    def with_conf(core: str, members: np.ndarray, size: int) -> tuple[str, int, np.ndarray]:
        """(strand, size, per-base confidence) of a partial-order call: the ``CONF_READS``
        best reads vote through their alignment to it (a read's gap there votes for the gap)."""
        counts = np.zeros((len(core), 5), dtype=np.float32)
        if core:
            for i in sorted(members.tolist(), key=lambda i: -quality(i))[:CONF_READS]:
                s = core_seq(i)
                if s:
                    _project_votes(counts, core, s, cores.qmat[i] if i < n1 else cores.varq[i - n1])
        conf = _confidence(np.sort(counts, axis=1)) if len(core) else np.zeros(0, np.uint8)
        edge1, edge2 = np.full(len(d.p1), MAX_CONF, np.uint8), np.full(len(d.p2), MAX_CONF, np.uint8)
        return d.p1 + core + d.p2, size, np.concatenate([edge1, conf, edge2])

    merged_from = None
    if indel_rich and len(labels):
        # one strand's indel-rich reads fall into several clusters: join the clusters whose
        # drafts (a few reads each) are the same strand, then call each joined cluster once
        n0 = int(labels.max()) + 1
        order0, bounds0 = _members(labels, n0)
        drafts = [poa(order0[bounds0[c]:bounds0[c + 1]][:DRAFT_READS]) for c in range(n0)]
        labels = merge_drafts(drafts)[labels]
        merged_from = n0
        labels = _split_oversized(labels, core_seq, poa)
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=n_clusters)
    stats = {"clusters": n_clusters, "kept": 0, "method": method, "spoa_clusters": 0, "projected_reads": 0,
             "indel_rich": bool(indel_rich)}
    if merged_from is not None:
        stats["clusters_before_merge"] = merged_from
    order, bounds = _members(labels, n_clusters)

    out: list[tuple[str, int]] = []
    n_exact = np.bincount(labels[:n1], minlength=n_clusters)
    if indel_rich and (sizes >= 3).any() and np.median(sizes[sizes >= 3]) >= DEEP_TYPICAL:
        # deep indel-rich reads: a cluster of one or two reads is a stray (a read too poor to
        # join its strand's cluster), and its call cannot be exact; a real strand at this
        # depth has tens of reads
        stats["strays_dropped"] = int(((sizes > 0) & (sizes < 3)).sum())
        min_size = max(min_size, 3)
    if method == "spoa":
        rest = np.flatnonzero(sizes >= min_size)
        voted = np.zeros(0, dtype=np.int64)
    else:
        # one column vote over all clusters that have design-length reads; with indel-rich reads
        # it needs a majority of them (those may carry an insertion and a deletion), and the
        # other clusters go to partial-order alignment
        votable = (n_exact > 0) & (not indel_rich)
        voted = np.flatnonzero(votable & (sizes >= min_size))
        rest = np.flatnonzero(~votable & (sizes >= min_size))
        compact = np.full(n_clusters, -1)
        compact[voted] = np.arange(len(voted))
        # compact ids grow with cluster ids, so the label order is also the compact order
        cid = compact[labels[:n1]]
        drafts, conf = _column_vote(cores, cid, len(voted), L, order[order < n1])
        # thin clusters: reads of other lengths vote through an alignment to the draft
        for c in voted[(n_exact[voted] < thin) & (sizes[voted] > n_exact[voted])]:
            row = compact[c]
            counts = np.zeros((L, 5), dtype=np.float32)
            members = order[bounds[c]:bounds[c + 1]]
            for i in members[members < n1]:
                counts[np.arange(L), cores.mat[i]] += np.maximum(cores.qmat[i], 1)
            draft = decode_bases(drafts[row])
            for i in members[members >= n1]:
                if cores.var[i - n1]:
                    _project_votes(counts, draft, cores.var[i - n1], cores.varq[i - n1])
                    stats["projected_reads"] += 1
            conf[row] = _confidence(np.sort(counts, axis=1))
            counts[:, 4] = 0
            drafts[row] = counts.argmax(axis=1)
        # whole strands, primers included, decoded in one go and sliced
        width = len(d.p1) + L + len(d.p2)
        whole_mat = np.concatenate([np.broadcast_to(encode_bases(d.p1), (len(voted), len(d.p1))), drafts,
                                    np.broadcast_to(encode_bases(d.p2), (len(voted), len(d.p2)))], axis=1)
        text = decode_bases(whole_mat.reshape(-1)) if len(voted) else ""
        edges = (np.full((len(voted), len(d.p1)), MAX_CONF, np.uint8), np.full((len(voted), len(d.p2)), MAX_CONF, np.uint8))
        whole_conf = np.concatenate([edges[0], conf, edges[1]], axis=1)
        out.extend(zip([text[i:i + width] for i in range(0, len(voted) * width, width)], sizes[voted].tolist(),
                       list(whole_conf)))
    called = {}
    for c in rest:
        members = order[bounds[c]:bounds[c + 1]]
        called[c] = poa(members)
        stats["spoa_clusters"] += len(members) > 1
    typical = None
    if indel_rich:
        # the typical read-to-consensus distance, over a sample of the clusters of six or more
        sample = [c for c in rest if sizes[c] >= 2 * MIXED_MIN][:200]
        if sample:
            typical = float(np.median([np.median(_distances([core_seq(i) for i in order[bounds[c]:bounds[c + 1]][:20]],
                                                            called[c])) for c in sample]))
    for c in rest:
        members = order[bounds[c]:bounds[c + 1]]
        parts = (_split_mixed(members, called[c], core_seq, poa, typical)
                 if indel_rich and len(members) >= 2 * MIXED_MIN else None)
        if parts is None:
            out.append(with_conf(called[c], members, int(sizes[c])))
        else:
            stats["mixed_split"] = stats.get("mixed_split", 0) + 1
            for part in parts:
                out.append(with_conf(poa(part), part, len(part)))
    out.sort(key=lambda t: -t[1])
    stats["kept"] = len(out)
    return out, stats
