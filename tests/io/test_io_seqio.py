"""The numpy fast paths for plain FASTQ/FASTA agree with Biopython's parsers, and files laid
out otherwise fall back to Biopython."""

import gzip

import numpy as np
import pytest

from dnastore.errors import DnastoreError
from dnastore.io.seqio import read_fasta, read_fastq, read_reads, read_strands


def _fastq_records(rng, n=300):
    recs = []
    for i in range(n):
        ln = int(rng.integers(140, 160))
        seq = "".join(rng.choice(list("ACGT"), ln))
        qual = "".join(chr(33 + int(q)) for q in rng.integers(2, 41, ln))
        recs.append((f"r{i}", seq, qual))
    return recs


def test_plain_fastq_fast_path_matches_biopython(tmp_path, rng):
    recs = _fastq_records(rng)
    p = tmp_path / "r.fastq"
    p.write_text("".join(f"@{n}\n{s}\n+\n{q}\n" for n, s, q in recs))
    fast = read_reads(p)
    bio = list(read_fastq(p))
    assert len(fast) == len(bio) == len(recs)
    for i in (0, 17, len(recs) - 1):
        assert fast.seq(i) == bio[i][1]
        assert (fast.phred(i) == np.frombuffer(bio[i][2].encode(), np.uint8) - 33).all()
    rows = np.flatnonzero(fast.lens == fast.lens[0])
    codes, phred = fast.matrices(rows, int(fast.lens[0]))
    for j, i in enumerate(rows[:5]):
        assert "".join("ACGT"[c] for c in codes[j]) == bio[i][1]
        assert (phred[j] == fast.phred(i)).all()


@pytest.mark.parametrize("layout", ["crlf", "plus-name", "gzip"])
def test_other_fastq_layouts_read_the_same(tmp_path, rng, layout):
    recs = _fastq_records(rng, 50)
    if layout == "plus-name":
        text = "".join(f"@{n}\n{s}\n+{n}\n{q}\n" for n, s, q in recs)
    else:
        text = "".join(f"@{n}\n{s}\n+\n{q}\n" for n, s, q in recs)
    data = text.replace("\n", "\r\n").encode() if layout == "crlf" else text.encode()
    p = tmp_path / ("r.fq.gz" if layout == "gzip" else "r.fq")
    p.write_bytes(gzip.compress(data) if layout == "gzip" else data)
    got = read_reads(p)
    assert [got.seq(i) for i in range(len(got))] == [s for _, s, _ in recs]
    assert all((got.phred(i) == np.frombuffer(q.encode(), np.uint8) - 33).all() for i, (_, _, q) in enumerate(recs))
    if layout == "plus-name":
        rows = np.arange(len(got))[got.lens == got.lens[0]]
        _, phred = got.matrices(rows, int(got.lens[0]))
        assert (phred[0] == got.phred(int(rows[0]))).all()


def test_wrapped_fasta_goes_through_biopython(tmp_path):
    p = tmp_path / "w.fasta"
    p.write_text(">a first\nACGT\nACGT\n>b\nGGCC\n")
    assert list(read_fasta(p)) == [("a", "ACGTACGT"), ("b", "GGCC")]
    assert read_strands(p) == [("a", "ACGTACGT"), ("b", "GGCC")]
    q = tmp_path / "plain.fasta"
    q.write_text(">a first\nACGTACGT\n>b\nGGCC\n")
    assert list(read_fasta(q)) == [("a", "ACGTACGT"), ("b", "GGCC")]


def test_fast_fasta_path_still_refuses_bad_letters(tmp_path):
    p = tmp_path / "n.fasta"
    p.write_text(">a\nACGT\n>b\nACNT\n")
    with pytest.raises(DnastoreError, match="record 2 .*'N' at position 3"):
        list(read_fasta(p))


@pytest.mark.parametrize("text", [
    ">a one\nACGT\n>b\nTTGA\n",                 # two-line, equal lengths
    ">a\nACGTac\n>b\nAC\n>c\nGGGT",              # lengths differ, lower case, no final newline
    ">a\nACG\nTAC\n>b\nAC\n",                   # wrapped: the record-by-record path
])
def test_fasta_matrix_matches_the_record_reader(tmp_path, text):
    from dnastore.io.seqio import encode_bases, read_fasta, read_fasta_matrix
    p = tmp_path / "x.fasta"
    p.write_text(text)
    names, mat, lens = read_fasta_matrix(p)
    recs = list(read_fasta(p))
    assert names == [n for n, _ in recs] and lens.tolist() == [len(s) for _, s in recs]
    for row, (_, s), n in zip(mat, recs, lens):
        assert (row[:n] == encode_bases(s)).all() and (row[n:] == 4).all()


def test_fasta_matrix_names_a_bad_letter(tmp_path):
    from dnastore.io.seqio import read_fasta_matrix
    p = tmp_path / "x.fasta"
    p.write_text(">a\nACGT\n>b\nACNT\n")
    with pytest.raises(DnastoreError, match=r"record 2 \(b\) has the non-ACGT letter 'N' at position 3"):
        read_fasta_matrix(p)
