"""Fuzzing every input parser through the CLI: each generated case either works (exit 0) or
gives a one-line ``Error:`` with exit code 2. A traceback, an internal error (exit 1) or any
other exit code is a failure.

``make test`` runs a few cases per target (``DNASTORE_FUZZ_EXAMPLES``, default 12); ``make
fuzz`` runs thousands. Cases come from hypothesis: mutations of valid artifacts (bytes
flipped, cut, inserted; JSON keys dropped or retyped; Zarr arrays removed, retyped,
reshaped), and generated option values. The cases are the same on every run unless
``DNASTORE_FUZZ_RANDOM`` is set; ``DNASTORE_FUZZ_REPORT=path.json`` writes the case counts.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import fresh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnastore.cli import cli

N = int(os.environ.get("DNASTORE_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=N, deadline=None, database=None,
                derandomize="DNASTORE_FUZZ_RANDOM" not in os.environ, suppress_health_check=list(HealthCheck))
COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def report():
    """With DNASTORE_FUZZ_REPORT, the number of CLI cases run per target, written at the end."""
    import time
    t = time.perf_counter()
    yield
    path = os.environ.get("DNASTORE_FUZZ_REPORT")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        cases = {k: v for k, v in COUNTS.items() if k != "setup"}
        Path(path).write_text(json.dumps({"examples_per_target": N, "cli_cases": cases, "total": sum(cases.values()),
                                          "seconds": time.perf_counter() - t,
                                          "random": "DNASTORE_FUZZ_RANDOM" in os.environ}, indent=1) + "\n")


def invoke(args, where: Path, target: str):
    """Run one CLI case in ``where``; fail unless it worked or gave a one-line error."""
    COUNTS[target] = COUNTS.get(target, 0) + 1
    old = os.getcwd()
    os.chdir(where)
    try:
        r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
    finally:
        os.chdir(old)
    text = r.output
    assert "Traceback" not in text, f"{args}: {text}"
    assert r.exit_code in (0, 2), f"{args}: exit {r.exit_code}: {text[-800:]} {r.exception!r}"
    if r.exit_code == 2:
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("Warning:")]
        assert len(lines) == 1 and lines[0].startswith("Error:"), f"{args}: {text}"
    return r


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Valid artifacts of every kind, made once: oligos, reads, consensus, codes, images."""
    d = tmp_path_factory.mktemp("base")
    rng = np.random.default_rng(7)
    (d / "f.bin").write_bytes(rng.integers(0, 256, 600, dtype=np.uint8).tobytes())
    ex = Path(__file__).resolve().parents[2] / "examples" / "images"
    (d / "img").mkdir()
    for p in sorted(ex.iterdir())[:3]:
        shutil.copy(p, d / "img" / p.name)
    steps = [["oligo-encode", "f.bin", "-o", "x.fasta", "--outer-redundancy", "0.2"],
             ["simulate", "x.fasta", "--coverage", "5", "-o", "r.fastq", "--no-progress"],
             ["consensus", "r.fastq", "-o", "c.fasta", "--no-progress"],
             ["encode", "img", "e.fasta", "--no-progress"],
             ["compress", "img", "-o", "lat.zarr", "--no-progress"],
             ["quantize", "lat.zarr", "-o", "codes.zarr"]]
    for s in steps:
        r = invoke(s, d, "setup")
        assert r.exit_code == 0, r.output
    return d


# ----------------------------------------------------------------------------- byte mutations
@st.composite
def mutated(draw, data: bytes):
    """``data`` with a few random edits: flips, cuts, inserts, truncation, line-ending and case
    changes, or replaced wholesale by random bytes."""
    kind = draw(st.sampled_from(["edit", "truncate", "crlf", "lower", "random", "empty", "dup"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "empty":
        return b""
    if kind == "truncate":
        return data[:draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "lower":
        return data.lower()
    if kind == "dup":
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + data
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        if op == "flip":
            out[i] = draw(st.sampled_from(list(b"ACGTNacgtn@+>\n\r \x00\xff") + [draw(st.integers(0, 255))]))
        elif op == "cut":
            del out[i:i + draw(st.integers(1, 40))]
        else:
            out[i:i] = draw(st.binary(min_size=1, max_size=20))
    return bytes(out)


def _mutate_file(draw, path: Path, gz: bool = False) -> None:
    data = draw(mutated(path.read_bytes()))
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)


@FUZZ
@given(st.data(), st.booleans())
def test_fuzz_fastq_into_consensus_and_decode(base, tmp_path_factory, data, gz):
    with fresh(tmp_path_factory, base) as d:
        _mutate_file(data.draw, d / "r.fastq", gz)
        invoke(["consensus", "r.fastq", "-o", "c2.fasta", "--no-progress"], d, "fastq")
        invoke(["decode", "r.fastq", "-o", "out.bin", "--no-progress"], d, "fastq")


@FUZZ
@given(st.data())
def test_fuzz_fasta_into_oligo_decode_and_simulate(base, tmp_path_factory, data):
    with fresh(tmp_path_factory, base) as d:
        _mutate_file(data.draw, d / "c.fasta", data.draw(st.booleans()))
        _mutate_file(data.draw, d / "x.fasta")
        invoke(["oligo-decode", "c.fasta", "-o", "out.bin", "--partial"], d, "fasta")
        invoke(["simulate", "x.fasta", "--coverage", "2", "-o", "r2.fastq", "--no-progress"], d, "fasta")


# ----------------------------------------------------------------------------- JSON manifests
def _json_values():
    return st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
                        | st.text(max_size=12),
                        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                        max_leaves=8)


@st.composite
def mutated_json(draw, obj):
    """``obj`` with a few keys dropped, retyped or set to odd values, anywhere in the tree."""
    obj = json.loads(json.dumps(obj))
    paths = []

    def walk(o, p):
        if isinstance(o, dict):
            for k, v in o.items():
                paths.append(p + [k])
                walk(v, p + [k])
        elif isinstance(o, list) and o:
            paths.append(p + [0])
            walk(o[0], p + [0])
    walk(obj, [])
    for _ in range(draw(st.integers(1, 4))):
        p = draw(st.sampled_from(paths))
        parent = obj
        try:
            for k in p[:-1]:
                parent = parent[k]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(p[-1], None)
            else:
                old = parent[p[-1]]
                choices = [_json_values()]
                if isinstance(old, (int, float)) and not isinstance(old, bool):
                    choices.append(st.sampled_from([0, -1, 1, 2**31, 2**63, -2**40, 0.5, float("inf")]))
                parent[p[-1]] = draw(st.one_of(*choices))
        except (KeyError, IndexError, TypeError):
            pass
    return obj


@FUZZ
@given(st.data())
def test_fuzz_manifests(base, tmp_path_factory, data):
    with fresh(tmp_path_factory, base) as d:
        target = data.draw(st.sampled_from(["c.fasta.json", "x.fasta.json", "r.fastq.json", "e.fasta.json"]))
        obj = json.loads((d / target).read_text())
        if data.draw(st.integers(0, 9)) == 0:
            (d / target).write_bytes(data.draw(mutated((d / target).read_bytes())))
        else:
            new = data.draw(mutated_json(obj))
            if data.draw(st.booleans()):  # re-sealed: past the digest, into the field checks
                from dnastore.io.manifest import manifest_digest
                inner = new.get("manifest") if isinstance(new.get("manifest"), dict) else new
                try:
                    inner["digest"] = manifest_digest(inner)
                except (TypeError, ValueError):
                    pass
            (d / target).write_text(json.dumps(new))
        cmds = {"c.fasta.json": [["oligo-decode", "c.fasta", "-o", "out.bin", "--partial"]],
                "x.fasta.json": [["simulate", "x.fasta", "--coverage", "2", "-o", "r2.fastq", "--no-progress"],
                                 ["oligo-decode", "x.fasta", "-o", "out.bin"]],
                "r.fastq.json": [["consensus", "r.fastq", "-o", "c2.fasta", "--no-progress"],
                                 ["decode", "r.fastq", "-o", "out.bin", "--no-progress"]],
                "e.fasta.json": [["oligo-decode", "e.fasta", "-o", "codes2.zarr"],
                                 ["decode", "e.fasta", "-o", "rec", "--no-progress"]]}
        for c in cmds[target]:
            invoke(c, d, "manifest")


# ----------------------------------------------------------------------------- Zarr artifacts
@FUZZ
@given(st.data())
def test_fuzz_zarr_artifacts(base, tmp_path_factory, data):
    import zarr
    with fresh(tmp_path_factory, base) as d:
        name = data.draw(st.sampled_from(["codes.zarr", "lat.zarr"]))
        g = zarr.open_group(d / name, mode="r+")
        keys = sorted(g.array_keys())
        how = data.draw(st.sampled_from(["drop", "dtype", "shape", "attrs", "values", "meta"]))
        if how == "drop":
            del g[data.draw(st.sampled_from(keys))]
        elif how in ("dtype", "shape", "values"):
            k = data.draw(st.sampled_from(keys))
            a = np.asarray(g[k][...])
            if how == "dtype":
                a = a.astype(data.draw(st.sampled_from(["float64", "int8", "uint8", "bool", "int64", "float16"])))
            elif how == "shape":
                shape = data.draw(st.lists(st.integers(0, 5), min_size=0, max_size=4))
                a = np.zeros(shape, dtype=a.dtype)
            else:
                a = a.copy()
                fill = data.draw(st.sampled_from([np.nan, np.inf, -1, 255, 1e30, 0]))
                with np.errstate(all="ignore"):
                    a.flat[data.draw(st.integers(0, max(0, a.size - 1)))] = np.asarray(fill).astype(a.dtype)
            del g[k]
            g.create_array(k, data=a)
        elif how == "attrs":
            attrs = data.draw(mutated_json(dict(g.attrs)))
            g.attrs.clear()
            g.attrs.update(attrs)
        else:  # the group's own metadata file
            meta = d / name / "zarr.json"
            meta.write_bytes(data.draw(mutated(meta.read_bytes())))
        cmds = {"codes.zarr": [["dequantize", "codes.zarr", "-o", "lat2.zarr"],
                               ["oligo-encode", "codes.zarr", "-o", "o.fasta"]],
                "lat.zarr": [["quantize", "lat.zarr", "-o", "codes2.zarr"], ["reconstruct", "lat.zarr", "-o", "rec"]]}
        for c in cmds[name]:
            invoke(c, d, "zarr")


# ----------------------------------------------------------------------------- images
@FUZZ
@given(st.data())
def test_fuzz_images(base, tmp_path_factory, data):
    from PIL import Image
    with fresh(tmp_path_factory, base) as d:
        src = sorted((d / "img").iterdir())[0]
        how = data.draw(st.sampled_from(["bytes", "mode", "size", "huge", "empty-folder", "other-file"]))
        if how == "bytes":
            _mutate_file(data.draw, src)
        elif how == "mode":
            mode = data.draw(st.sampled_from(["RGB", "RGBA", "1", "P", "I", "F", "CMYK", "LA", "I;16"]))
            tiff = mode in ("F", "I", "I;16", "CMYK")
            Image.open(src).convert(mode).save(src.with_suffix(".tiff" if tiff else ".png"))
            if tiff:
                src.unlink()
        elif how == "size":
            w, h = data.draw(st.integers(1, 90)), data.draw(st.integers(1, 90))
            Image.new("L", (w, h), 128).save(src)
        elif how == "huge":  # a tiny file that claims an enormous image
            Image.new("1", (40000, 40000)).save(src)
        elif how == "empty-folder":
            for p in (d / "img").iterdir():
                p.unlink()
        else:
            (d / "img" / "notes.png").write_text("not an image")
        args = [["encode", "img", "o.fasta", "--no-progress"], ["compress", "img", "-o", "l.zarr", "--no-progress"]]
        if data.draw(st.booleans()):
            args = [a + ["--resize", data.draw(st.sampled_from(["28x28", "0x5", "x", "9999999x2", "28", "-1x-1"]))]
                    for a in args]
        for a in args:
            invoke(a, d, "image")


# ----------------------------------------------------------------------------- CLI options
_NUM = st.one_of(st.integers(-5, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.sampled_from(["", "x", "1e400", "-0", "0x10", "nan", "1,2"]))


@FUZZ
@given(st.data())
def test_fuzz_cli_options(base, tmp_path_factory, data):
    with fresh(tmp_path_factory, base) as d:
        cmd = data.draw(st.sampled_from(["simulate", "oligo-encode", "consensus", "oligo-decode", "quantize", "encode"]))
        opts = {"simulate": ["--coverage", "--sub", "--ins", "--del", "--dropout", "--bias", "--slope", "--rc-fraction",
                             "--preset", "--synthesis", "--copy-dist", "--synth-sub", "--synth-del", "--seed"],
                "oligo-encode": ["--strand-length", "--index-trits", "--check-trits", "--gc-band", "--outer-redundancy",
                                 "--primers", "--seed"],
                "consensus": ["--method", "--min-size", "--length", "--primers", "--manifest"],
                "oligo-decode": ["--manifest"],
                "quantize": ["--bits", "--quantizer", "--store", "--packing", "--weights"],
                "encode": ["--bits", "--quantizer", "--store", "--packing", "--weights", "--codec", "--resize",
                           "--outer-redundancy", "--strand-length", "--index-trits", "--gc-band"]}[cmd]
        inputs = {"simulate": ["x.fasta"], "oligo-encode": ["f.bin"], "consensus": ["r.fastq"],
                  "oligo-decode": ["c.fasta"], "quantize": ["lat.zarr"], "encode": ["img", "o.fasta"]}[cmd]
        args = [cmd, *inputs]
        if cmd != "encode":
            args += ["-o", "out.x"]
        for opt in data.draw(st.lists(st.sampled_from(opts), min_size=1, max_size=3, unique=True)):
            args += [opt, data.draw(st.one_of(_NUM, st.text(max_size=10)))]
        invoke(args, d, "options")


def test_fuzz_counted():
    """The fuzz targets above ran (a guard against a strategy that silently generates nothing)."""
    if not COUNTS:
        pytest.skip("run with the fuzz tests")
    assert sum(v for k, v in COUNTS.items() if k != "setup") >= 6 * N
