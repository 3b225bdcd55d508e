import numpy as np
import pytest

from dnastore.channel.dna import preset_params, simulate_reads
from dnastore.consensus.call import (
    Design,
    call_consensus,
    infer_design,
    orient_and_trim,
)
from dnastore.dna.codec import Layout, assemble_payload, decode_strands, encode_payload
from dnastore.io.seqio import decode_bases, encode_bases, revcomp


def _reads(strands, params, seed=0):
    mat = encode_bases("".join(strands)).reshape(len(strands), len(strands[0]))
    _, _, it = simulate_reads(mat, np.full(len(strands), mat.shape[1]), params, seed, batch=4096)
    seqs, quals, src = [], [], []
    for b in it:
        for s, n, q, o in zip(b.seqs, b.lens, b.quals, b.source):
            seqs.append(decode_bases(s[:n]))
            quals.append((q[:n] + 33).astype(np.uint8).tobytes().decode())
            src.append(o)
    return seqs, quals, np.array(src)


@pytest.fixture(scope="module")
def encoded():
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, 6000).astype(np.uint8).tobytes()
    return data, encode_payload(data, Layout(), redundancy=0.2)


@pytest.mark.parametrize("method", ["vote", "spoa"])
def test_illumina_reads_give_back_the_strands(encoded, method):
    data, enc = encoded
    seqs, quals, _ = _reads(enc.strands, preset_params("illumina", coverage=8))
    d = Design.from_manifest(enc.manifest)
    cores, st = orient_and_trim(seqs, quals, d)
    assert st["reverse"] > 0.3 * len(seqs)
    out, cst = call_consensus(cores, d, method=method)
    exact = len(set(r[0] for r in out) & set(enc.strands))
    assert exact >= 0.97 * len(enc.strands)
    dec = decode_strands(out, enc.manifest)
    assert assemble_payload(dec, enc.manifest)[0] == data


def test_nanopore_reads_at_high_coverage(encoded):
    """Indel-rich reads: window minimizers keep clusters together, and partial-order alignment
    of whole reads calls them."""
    data, enc = encoded
    seqs, quals, _ = _reads(enc.strands, preset_params("nanopore", coverage=30))
    d = Design.from_manifest(enc.manifest)
    cores, _ = orient_and_trim(seqs, quals, d)
    out, st = call_consensus(cores, d)
    assert st["spoa_clusters"] > 0
    # at this depth strays (clusters of one or two reads) are dropped: one call per strand
    assert "strays_dropped" in st and min(r[1] for r in out) >= 3
    assert len(out) <= 1.1 * len(set(enc.strands))
    dec = decode_strands(out, enc.manifest)
    assert dec.present.mean() > 0.9
    assert assemble_payload(dec, enc.manifest)[0] == data


def test_reads_longer_and_shorter_than_the_design(encoded):
    """Reads that run into sequencing adapters, or are cut short before the reverse primer."""
    data, enc = encoded
    rng = np.random.default_rng(3)
    seqs = []
    for s in enc.strands:
        for _ in range(4):
            r = "ACACTCTTTCCC"[: rng.integers(0, 12)] + s + "GTGACTGGAG"[: rng.integers(0, 10)]
            if rng.random() < 0.3:
                r = r[: len(r) - rng.integers(5, 15)]
            seqs.append(revcomp(r) if rng.random() < 0.5 else r)
    d = Design.from_manifest(enc.manifest)
    cores, st = orient_and_trim(seqs, [None] * len(seqs), d)
    assert st["unplaced"] == 0
    out, _ = call_consensus(cores, d)
    dec = decode_strands(out, enc.manifest)
    assert dec.present.all()
    assert assemble_payload(dec, enc.manifest)[0] == data


def test_design_is_inferred_from_reads(encoded):
    _, enc = encoded
    seqs, _, _ = _reads(enc.strands, preset_params("illumina", coverage=5))
    d = infer_design(seqs)
    p1, p2 = enc.manifest["layout"]["primers"]
    # with reads in both orientations either one may be taken as forward
    forward = d.p1.startswith(p1) and d.p2.endswith(p2)
    backward = d.p1.startswith(revcomp(p2)) and d.p2.endswith(revcomp(p1))
    assert forward or backward
    assert len(d.p1) + d.core_len + len(d.p2) == 150
    # and the strands it calls decode (turned around where needed)
    def recovered(design):
        cores, _ = orient_and_trim(seqs, [None] * len(seqs), design)
        return decode_strands(call_consensus(cores, design)[0], enc.manifest).present.mean()
    with_manifest = recovered(Design.from_manifest(enc.manifest))
    assert with_manifest > 0.9
    assert recovered(d) >= with_manifest - 0.01


def test_column_vote_matches_a_plain_weighted_majority():
    from dnastore.consensus.call import Cores, _column_vote
    rng = np.random.default_rng(5)
    n, L, nc = 400, 30, 37
    cid = rng.integers(-1, nc, n)
    cid[:nc] = np.arange(nc)  # every cluster has a read
    mat = rng.integers(0, 4, (n, L)).astype(np.uint8)
    q = rng.integers(1, 41, (n, L)).astype(np.uint8)
    got, conf = _column_vote(Cores(mat, q, [], []), cid, nc, L)
    for c in range(nc):
        members = np.flatnonzero(cid == c)
        w = np.zeros((L, 4))
        for i in members:
            w[np.arange(L), mat[i]] += q[i]
        best = w.max(axis=1)
        assert (w[np.arange(L), got[c]] == best).all()
        # the confidence: winner's votes less the runner-up's, capped at 93
        s = np.sort(w, axis=1)
        assert (conf[c] == np.minimum(s[:, -1] - s[:, -2], 93)).all()


def test_consensus_confidence_marks_the_unsure_bases():
    """A cluster whose reads split 2 to 1 at one column is less sure there than where all
    agree, and a single read's confidence is its own Phred score."""
    from dnastore.consensus.call import Cores, Design, call_consensus
    rng = np.random.default_rng(2)
    L = 120
    truth = rng.integers(0, 4, (20, L)).astype(np.uint8)
    mat = np.repeat(truth, 3, axis=0)
    mat[2, 60] = (truth[0, 60] + 1) % 4
    q = np.full(mat.shape, 30, np.uint8)
    out, _ = call_consensus(Cores(mat, q, [], []), Design("", "", L))
    seq, size, conf = next(r for r in out if r[0] == decode_bases(truth[0]))
    assert size == 3 and conf[60] == 30 and (np.delete(conf, 60) == 90).all()
    out, _ = call_consensus(Cores(truth[:1], np.full((1, L), 12, np.uint8), [], []), Design("", "", L))
    assert (out[0][2] == 12).all()


def test_components_match_scipy():
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from dnastore.consensus.call import components
    rng = np.random.default_rng(2)
    n, n_keys = 3000, 2500
    rows = rng.integers(0, n, 4000)
    keys = rng.integers(0, n_keys, 4000)
    ours = components(n, rows, keys, n_keys)
    m = sp.coo_matrix((np.ones(len(rows)), (rows, n + keys)), shape=(n + n_keys,) * 2)
    _, ref = connected_components(m, directed=False)
    ref = ref[:n]
    # the same partition: a one-to-one map between the labellings
    pairs = set(zip(ours.tolist(), ref.tolist()))
    assert len(pairs) == len(set(ours.tolist())) == len(set(ref.tolist()))


def test_fast_sorting_helpers_match_numpy():
    from dnastore.consensus.call import _all_bases, _unique, stable_order
    rng = np.random.default_rng(4)
    for keys in (rng.integers(0, 5, 3000), rng.integers(-2**40, 2**40, 3000), rng.integers(0, 2**62, 500),
                 np.zeros(0, np.int64), np.array([7]), rng.integers(0, 3, 1000).astype(np.uint8)):
        assert np.array_equal(stable_order(keys), np.argsort(keys, kind="stable"))
        assert np.array_equal(_unique(keys), np.unique(keys))
    for k in (8, 16, 24, 7):
        w = rng.integers(0, 4, (2000, k)).astype(np.uint8)
        w[rng.random(w.shape) < 0.01] = rng.choice([4, 8, 255])
        assert np.array_equal(_all_bases(w), w.max(axis=1) < 4)


def test_complement_codes_keeps_shape_and_unknowns():
    from dnastore.io.seqio import complement_codes
    codes = np.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]], dtype=np.uint8)
    out = complement_codes(codes[:, ::-1])
    assert out.shape == (2, 5)
    assert out.tolist() == [[4, 0, 1, 2, 3], [3, 2, 1, 0, 4]]


def test_reads_with_an_indel_in_one_primer_window_are_placed_as_edlib_would(encoded, monkeypatch):
    """A deletion or insertion inside the last 16 bases of a read breaks that end's primer
    check; the rescue rules place such reads from the other primer's first bases, with the
    core that edlib's alignment gives."""
    from dnastore.consensus.call import _locate
    _, enc = encoded
    d = Design.from_manifest(enc.manifest)
    rng = np.random.default_rng(3)
    reads, cores = [], []
    for j, strand in enumerate(enc.strands[:40]):
        core = strand[len(d.p1):len(strand) - len(d.p2)]
        cut = int(rng.integers(len(strand) - 7, len(strand) - 1))      # inside the last window, after the first 8 of p2
        broken = strand[:cut] + strand[cut + 1:] if j % 2 else strand[:cut] + "A" + strand[cut:]
        if j % 4 >= 2:  # the same at the other end: p1's first bases
            cut = int(rng.integers(1, 7))
            broken = strand[:cut] + strand[cut + 1:] if j % 2 else strand[:cut] + "C" + strand[cut:]
        reads.append(revcomp(broken) if j % 3 == 0 else broken)
        cores.append(core)
    from dnastore.consensus import call
    aligned = []
    monkeypatch.setattr(call, "_locate", lambda read, *a: aligned.append(read) or _locate(read, *a))
    got, stats = orient_and_trim(reads, None, d)
    assert aligned == []                      # no read needed the alignment
    assert stats["located"] == len(reads) and stats["unplaced"] == 0 and stats["fast_path"] == 0
    placed = sorted(decode_bases(r) for r in got.mat)
    assert placed == sorted(cores)
    assert sorted(_locate(r, d)[0] for r in reads) == sorted(cores)


def test_merge_drafts_joins_noisy_copies_of_a_strand_and_nothing_else():
    from dnastore.consensus.call import merge_drafts
    rng = np.random.default_rng(4)
    strands = ["".join(rng.choice(list("ACGT"), 110)) for _ in range(30)]

    def noisy(s: str) -> str:
        out = []
        for b in s:
            r = rng.random()
            if r < 0.015:  # about a draft's errors (a few nanopore reads): 1.5% of each kind
                continue  # deletion
            out.append("ACGT"[rng.integers(4)] if r < 0.03 else b)
            if rng.random() < 0.015:
                out.append("ACGT"[rng.integers(4)])
        return "".join(out)
    drafts, truth = [], []
    for i, s in enumerate(strands):
        for _ in range(int(rng.integers(1, 5))):
            drafts.append(noisy(s))
            truth.append(i)
    labels = merge_drafts(drafts)
    truth = np.array(truth)
    for g in np.unique(labels):  # no group holds two strands
        assert len(set(truth[labels == g])) == 1
    assert len(np.unique(labels)) <= 32  # and (nearly) every strand's copies are one group


def test_indel_rich_reads_give_about_one_cluster_per_strand(tmp_path):
    from dnastore.stages.files import consensus, oligo_encode, simulate
    (tmp_path / "f.bin").write_bytes(np.random.default_rng(2).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    oligo_encode(tmp_path / "f.bin", tmp_path / "o.fasta")
    simulate(tmp_path / "o.fasta", tmp_path / "r.fastq", coverage=20, preset="nanopore", truth=tmp_path / "t.tsv",
             seed=3)
    c = consensus(tmp_path / "r.fastq", tmp_path / "c.fasta")
    pool = (tmp_path / "o.fasta").read_text().splitlines()
    seq_of = {pool[i][1:]: pool[i + 1] for i in range(0, len(pool), 2)}
    read = {row.split("\t")[2] for row in (tmp_path / "t.tsv").read_text().splitlines()[1:]}
    distinct = len({seq_of[n] for n in read})
    assert c["indel_rich"]
    assert c["clusters"] <= 1.15 * distinct, (c["clusters"], distinct)  # 3.5-4.5 per strand before the join


def test_a_cluster_of_two_strands_is_split_into_them(encoded):
    """Two strands' nanopore reads thrown into one cluster come apart, each group one
    strand's reads; one strand's reads stay together."""
    from dnastore.consensus.call import _split_mixed, _spoa
    _, enc = encoded
    a, b = enc.strands[3], enc.strands[40]
    seqs, _, src = _reads([a, b], preset_params("nanopore", coverage=30, rc_fraction=0.0), seed=2)
    members = np.arange(len(seqs))

    def core_seq(i):
        return seqs[i]

    def poa(m):
        return _spoa([seqs[i] for i in m])
    mixed = poa(members)
    parts = _split_mixed(members, mixed, core_seq, poa, typical=0.1)
    assert parts is not None and len(parts) == 2
    for part in parts:
        assert len(set(src[part].tolist())) == 1 and len(part) >= 20
    one = members[src == 0]
    assert _split_mixed(one, poa(one), core_seq, poa, typical=0.1) is None
