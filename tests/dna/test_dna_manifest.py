"""Integrity: a manifest carries a digest of every field the decoder reads; an edited,
unsealed or malformed manifest is refused in one line that names what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from helpers import one_line_error, run

from dnastore.io.manifest import manifest_digest


def _encode(tmp):
    Path("f.bin").write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    return json.loads(Path("x.fasta.json").read_text())


def test_manifest_digest_covers_the_decoder_fields_not_the_provenance(tmp):
    man = _encode(tmp)
    assert man["digest"] == manifest_digest(man)
    assert manifest_digest({**man, "provenance": {"other": 1}}) == man["digest"]
    assert manifest_digest({**man, "bytes_per_strand": man["bytes_per_strand"] + 1}) != man["digest"]
    run(["oligo-decode", "x.fasta", "-o", "f.out"])
    assert Path("f.out").read_bytes() == Path("f.bin").read_bytes()


def test_an_edited_manifest_is_refused_and_the_message_says_so(tmp):
    man = _encode(tmp)
    man["layout"]["primers"][0] = "ACGT" * 5
    Path("x.fasta.json").write_text(json.dumps(man))
    r = run(["oligo-decode", "x.fasta", "-o", "f.out"], ok=False)
    one_line_error(r)
    assert "altered after encoding" in r.output and not Path("f.out").exists()


def test_a_manifest_without_digest_is_refused(tmp):
    man = _encode(tmp)
    del man["digest"]
    Path("x.fasta.json").write_text(json.dumps(man))
    r = run(["oligo-decode", "x.fasta", "-o", "f.out"], ok=False)
    one_line_error(r)
    assert "no digest" in r.output


def test_a_resealed_manifest_with_bad_fields_is_refused_by_name(tmp):
    base = _encode(tmp)
    for field, value, words in (("n_strands", -3, "n_strands"), ("huffman_lengths", [99] * 256, "huffman_lengths"),
                                ("payload_bytes", 10 ** 15, "payload_bytes"), ("outer", {"kind": "rs"}, "outer"),
                                ("layout", {"strand_length": "x"}, "layout")):
        man = json.loads(json.dumps(base))
        man[field] = value
        man["digest"] = manifest_digest(man)
        Path("x.fasta.json").write_text(json.dumps(man))
        r = run(["oligo-decode", "x.fasta", "-o", "f.out"], ok=False)
        one_line_error(r)
        assert words in r.output, (field, r.output)
