"""Hardening, round two: each class of failure has a test that generates its cases.

- outputs that alias an input, another output, or a sidecar of either (plain names, ./ and
  ../ spellings, absolute paths, symlinks, hard links; with and without --force);
- --force over a folder the tool did not write;
- two runs writing the same output at once;
- SIGINT at random moments of a command;
- the corners of every oligo-encode setting, round-tripped on the ideal channel;
- non-finite and out-of-range values of every numeric option and every config field.

``make test`` runs a few cases per class (``DNASTORE_FUZZ_EXAMPLES``, default 12; the
classes that start processes run a fraction); ``make fuzz`` runs many, with fresh random
cases, and counts them into ``DNASTORE_HARDEN_REPORT``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import copy_into, fresh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnastore.cli import cli

N = int(os.environ.get("DNASTORE_FUZZ_EXAMPLES", "12"))
RANDOM = "DNASTORE_FUZZ_RANDOM" in os.environ


def cases(n: int) -> settings:
    return settings(max_examples=max(2, n), deadline=None, database=None, derandomize=not RANDOM,
                    suppress_health_check=list(HealthCheck))


CHEAP = cases(N)  # in-process cases
DEAR = cases(max(6, N // 4))  # cases that start processes
COUNTS: dict[str, int] = {}
OUTCOMES: dict[str, int] = {}  # how the process cases ended (both branches must be seen in make fuzz)
ROOT = Path(__file__).resolve().parents[2]
DNASTORE = [sys.executable, "-m", "dnastore"]


@pytest.fixture(scope="module", autouse=True)
def report():
    t = time.perf_counter()
    yield
    path = os.environ.get("DNASTORE_HARDEN_REPORT")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({"examples_per_class": N, "cases": COUNTS, "outcomes": OUTCOMES,
                                          "total": sum(COUNTS.values()),
                                          "seconds": time.perf_counter() - t, "random": RANDOM}, indent=1) + "\n")


def count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def invoke(args, where: Path):
    old = os.getcwd()
    os.chdir(where)
    try:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
    finally:
        os.chdir(old)


def refused(r, args) -> None:
    """Exit 2 with one ``Error:`` line, no traceback."""
    text = r.output
    assert "Traceback" not in text, f"{args}: {text}"
    assert r.exit_code == 2, f"{args}: exit {r.exit_code}: {text[-600:]} {r.exception!r}"
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("Warning:")]
    assert len(lines) == 1 and lines[0].startswith("Error:"), f"{args}: {text}"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (symlinks as their target) with its sha256."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(folder: Path) -> list[str]:
    """Temporaries and lock files of ours left anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")
                  if any(t in p.name for t in (".tmp-", ".old-", ".lock")))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Valid artifacts of each kind, made once."""
    d = tmp_path_factory.mktemp("harden")
    rng = np.random.default_rng(3)
    (d / "f.bin").write_bytes(rng.integers(0, 256, 600, dtype=np.uint8).tobytes())
    (d / "g.bin").write_bytes(rng.integers(0, 256, 900, dtype=np.uint8).tobytes())
    shutil.copy(ROOT / "dnastore" / "codecs" / "weights" / "vae-mnist-k16.msgpack", d / "w.msgpack")
    (d / "plan.json").write_text("{}")
    (d / "rd").mkdir()
    (d / "img").mkdir()
    for p in sorted((ROOT / "examples" / "images").iterdir())[:3]:
        shutil.copy(p, d / "img" / p.name)
    for s in (["oligo-encode", "f.bin", "-o", "x.fasta"],
              ["simulate", "x.fasta", "--coverage", "8", "-o", "r.fastq", "--no-progress"],
              ["consensus", "r.fastq", "-o", "c.fasta", "--no-progress"],
              ["encode", "img", "e.fasta", "--no-progress"],
              ["simulate", "e.fasta", "--coverage", "8", "-o", "er.fastq", "--no-progress"],
              ["compress", "img", "-o", "lat.zarr", "--no-progress"],
              ["quantize", "lat.zarr", "-o", "codes.zarr"],
              ["dataset", "mnist", "--limit", "120", "-o", "data.zarr"]):
        r = invoke(s, d)
        assert r.exit_code == 0, (s, r.output)
    return d


# ----------------------------------------------------------------------------- aliasing outputs
# each command: its arguments before the output, the output option, its inputs (the sidecars
# of which count too), and more of its outputs where it takes them
COMMANDS = {
    "oligo-encode": (["oligo-encode", "f.bin"], "-o", ["f.bin"], []),
    "simulate": (["simulate", "x.fasta", "--coverage", "2", "--no-progress"], "-o", ["x.fasta", "x.fasta.json"],
                 ["--truth"]),
    "consensus": (["consensus", "r.fastq", "--no-progress"], "-o", ["r.fastq", "r.fastq.json"], []),
    "oligo-decode": (["oligo-decode", "c.fasta"], "-o", ["c.fasta", "c.fasta.json"], []),
    "quantize": (["quantize", "lat.zarr"], "-o", ["lat.zarr"], []),
    "dequantize": (["dequantize", "codes.zarr"], "-o", ["codes.zarr"], []),
    "reconstruct": (["reconstruct", "lat.zarr", "--originals", "img", "--no-progress"], "-o", ["lat.zarr", "img"], []),
    "compress": (["compress", "img", "--no-progress"], "-o", ["img"], []),
    "dataset": (["dataset", "img"], "-o", ["img"], []),
    "encode": (["encode", "img", "--no-progress"], None, ["img"], []),
    "decode": (["decode", "er.fastq", "--originals", "img", "--no-progress"], "-o", ["er.fastq", "er.fastq.json", "img"],
               []),
    "plan": (["plan", "f.bin"], "-o", ["f.bin"], []),
    "quantize --weights": (["quantize", "lat.zarr", "--weights", "w.msgpack"], "-o", ["lat.zarr", "w.msgpack"], []),
    "oligo-encode --plan": (["oligo-encode", "f.bin", "--plan", "plan.json"], "-o", ["f.bin", "plan.json"], []),
    "train": (["train", "data.zarr", "--run-dir", "rd", "--epochs", "1", "--no-progress"], "-o",
              ["data.zarr", "rd"], []),
}


@st.composite
def alias_case(draw):
    name = draw(st.sampled_from(sorted(COMMANDS)))
    head, opt, inputs, extra = COMMANDS[name]
    victims = [("input", v) for v in inputs] + [("input sidecar", v + ".json") for v in inputs
                                                if not v.endswith(".json") and "." in v]
    if extra:
        victims.append(("output", None))
    kind, victim = draw(st.sampled_from(victims))
    spelling = draw(st.sampled_from(["plain", "dot", "updown", "absolute", "symlink", "hardlink"]))
    force = draw(st.booleans())
    return name, kind, victim, spelling, force


def spelled(where: Path, name: str, spelling: str) -> str:
    if spelling == "dot":
        return f"./{name}"
    if spelling == "updown":
        (where / "sub").mkdir(exist_ok=True)
        return f"sub/../{name}"
    if spelling == "absolute":
        return str(where / name)
    if spelling == "symlink":
        link = where / f"link-{abs(hash(name)) % 10**6}"
        if not os.path.lexists(link):
            link.symlink_to(where / name)
        return link.name
    if spelling == "hardlink" and (where / name).is_file():
        link = where / f"hard-{abs(hash(name)) % 10**6}"
        if not link.exists():
            os.link(where / name, link)
        return link.name
    return name


@given(case=alias_case())
@CHEAP
def test_an_output_that_aliases_an_input_or_another_output_is_refused(tmp_path_factory, base, case):
    name, kind, victim, spelling, force = case
    head, opt, inputs, extra = COMMANDS[name]
    with fresh(tmp_path_factory, base) as d:
        if kind == "output":  # simulate -o R --truth R, or --truth R.json (its sidecar)
            args = head + [opt, "R.fastq", extra[0], "R.fastq" + (".json" if spelling in ("symlink", "hardlink") else "")]
        else:
            target = spelled(d, victim, spelling)
            args = head + ([opt, target] if opt else [target])
        if force:
            args.append("--force")
        before = snapshot(d)
        r = invoke(args, d)
        count("aliasing outputs")
        refused(r, args)
        assert snapshot(d) == before, args
        assert not leftovers(d), args


# ----------------------------------------------------------------------------- --force over foreign folders
FORCE_COMMANDS = ["oligo-encode", "simulate", "consensus", "oligo-decode", "quantize", "dequantize", "reconstruct",
                  "compress", "dataset", "encode", "decode"]


@given(name=st.sampled_from(FORCE_COMMANDS), nested=st.booleans(), as_zarr=st.booleans())
@CHEAP
def test_force_never_replaces_a_folder_dnastore_did_not_write(tmp_path_factory, base, name, nested, as_zarr):
    head, opt, _, _ = COMMANDS[name]
    with fresh(tmp_path_factory, base) as d:
        folder = d / ("mine.zarr" if as_zarr else "mine")
        (folder / "deep" if nested else folder).mkdir(parents=True)
        (folder / "notes.txt").write_text("a user's file")
        if as_zarr:  # looks like Zarr but is not one of ours
            (folder / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group",
                                                          "attributes": {"kind": "someone-else"}}))
        args = head + ([opt, folder.name] if opt else [folder.name]) + ["--force"]
        before = snapshot(d)
        r = invoke(args, d)
        count("--force over foreign folders")
        refused(r, args)
        assert snapshot(d) == before, args


def test_force_replaces_dnastore_s_own_folders(tmp, base):
    """The positive side: a reconstruction, a Zarr artifact and a restored folder tree of ours
    are replaced by --force."""
    copy_into(base, tmp)
    for args in (["quantize", "lat.zarr", "-o", "q.zarr"], ["reconstruct", "lat.zarr", "-o", "rec", "--no-progress"],
                 ["oligo-encode", "img", "-o", "tree.fasta"]):
        assert invoke(args, tmp).exit_code == 0
        r = invoke(args + ["--force"], tmp)
        assert r.exit_code == 0, r.output
    for _ in range(2):
        r = invoke(["oligo-decode", "tree.fasta", "-o", "tree.out", "--force"], tmp)
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp / "tree.out").iterdir()) == sorted(p.name for p in (tmp / "img").iterdir())
    # a file the user adds to the restored tree makes it theirs: refused from then on
    (tmp / "tree.out" / "mine.txt").write_text("x")
    refused(invoke(["oligo-decode", "tree.fasta", "-o", "tree.out", "--force"], tmp), "tree.out")
    assert (tmp / "tree.out" / "mine.txt").read_text() == "x"


# ----------------------------------------------------------------------------- concurrent writers
def _encode(src: str, length: int, force: bool, where: Path) -> subprocess.Popen:
    args = DNASTORE + ["oligo-encode", src, "-o", "o.fasta", "--strand-length", str(length), "--json"]
    return subprocess.Popen(args + (["--force"] if force else []), cwd=where, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


@given(force=st.booleans(), stagger=st.floats(0.0, 0.3), existing=st.booleans())
@DEAR
def test_two_runs_writing_one_output_never_mix(tmp_path_factory, base, force, stagger, existing):
    with fresh(tmp_path_factory, base) as d:
        if existing:
            assert invoke(["oligo-encode", "f.bin", "-o", "o.fasta", "--strand-length", "130"], d).exit_code == 0
        a = _encode("f.bin", 150, force, d)
        time.sleep(stagger)
        b = _encode("g.bin", 120, force, d)
        (_, ea), (_, eb) = a.communicate(), b.communicate()
        count("concurrent writers")
        codes = sorted([a.returncode, b.returncode])
        key = f"concurrent {'--force ' if force else ''}exits {codes}"
        OUTCOMES[key] = OUTCOMES.get(key, 0) + 1
        for p, e in ((a, ea), (b, eb)):
            assert p.returncode in (0, 2), e.decode()
            if p.returncode == 2:
                assert e.decode().strip().count("\n") == 0 and e.decode().startswith("Error:"), e.decode()
        if not force:  # exactly one writes; without --force the other is refused (or both, over an old file)
            assert codes == ([2, 2] if existing else [0, 2]), (codes, ea, eb)
        man = json.loads((d / "o.fasta.json").read_text())
        lengths = {len(line) for line in (d / "o.fasta").read_text().splitlines() if not line.startswith(">")}
        # the FASTA and its manifest are one unit: the same run wrote both
        assert lengths == {man["layout"]["strand_length"]}, (lengths, man["layout"]["strand_length"])
        src = {150: "f.bin", 120: "g.bin", 130: "f.bin"}[man["layout"]["strand_length"]]
        assert man["sha256"] == hashlib.sha256((d / src).read_bytes()).hexdigest()
        assert not leftovers(d)


# ----------------------------------------------------------------------------- SIGINT
SIGINT_JOBS = {
    "simulate": (["simulate", "big.fasta", "-o", "out.fastq", "--coverage", "40", "--no-progress"],
                 ["out.fastq", "out.fastq.json"], 1.5),
    "oligo-encode": (["oligo-encode", "big.bin", "-o", "out.fasta"], ["out.fasta", "out.fasta.json"], 1.5),
    "decode": (["decode", "er.fastq", "-o", "out", "--no-progress"], ["out"], 5.0),
    "consensus": (["consensus", "big.fastq", "-o", "out.fasta", "--no-progress"], ["out.fasta", "out.fasta.json"], 2.0),
    "dataset": (["dataset", "mnist", "--limit", "20000", "-o", "out.zarr"], ["out.zarr"], 2.0),
}


@pytest.fixture(scope="module")
def big(base, tmp_path_factory):
    """A folder of its own (the other cases copy ``base``): a pool large enough that simulate,
    oligo-encode and consensus run for a while, and the image reads for decode."""
    d = tmp_path_factory.mktemp("big")
    for name in ("er.fastq", "er.fastq.json"):
        shutil.copy(base / name, d / name)
    rng = np.random.default_rng(5)
    (d / "big.bin").write_bytes(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    assert invoke(["oligo-encode", "big.bin", "-o", "big.fasta"], d).exit_code == 0
    assert invoke(["simulate", "big.fasta", "-o", "big.fastq", "--coverage", "8", "--no-progress"], d).exit_code == 0
    return d


@given(job=st.sampled_from(sorted(SIGINT_JOBS)), when=st.floats(0.0, 1.0))
@DEAR
def test_ctrl_c_at_any_moment_exits_130_and_leaves_nothing(tmp_path_factory, big, job, when):
    args, outs, span = SIGINT_JOBS[job]
    with fresh(tmp_path_factory, big) as d:
        before = snapshot(d)
        p = subprocess.Popen(DNASTORE + args, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.05 + when * span)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        err = err.decode(errors="replace")
        count("SIGINT at random moments")
        OUTCOMES[f"SIGINT exit {p.returncode}"] = OUTCOMES.get(f"SIGINT exit {p.returncode}", 0) + 1
        assert p.returncode in (0, 130, -signal.SIGINT) or ("<frozen site>" in err and p.returncode == 1), \
            (p.returncode, err[-800:])
        assert "Exception ignored" not in err and "Segmentation" not in err, err[-800:]
        if p.returncode == 0:  # finished before the signal came: whole outputs
            assert all((d / o).exists() for o in outs)
        else:  # nothing of the run is left: no output, no temporary, no lock
            assert not any(os.path.lexists(d / o) for o in outs), (p.returncode, err[-400:])
            assert snapshot(d) == before
        assert not leftovers(d)


# ----------------------------------------------------------------------------- settings round trip
CORNERS = {
    "strand_length": [60, 61, 62, 80, 100, 150, 300, 1000],
    "index_trits": [0, 1, 8, 20, 39, 40],
    "check_trits": [4, 5, 19, 20],
    "gc_band": [(0.0, 1.0), (0.45, 0.55), (0.3, 0.7), (0.49, 0.51)],
    "primers": [None, ("", ""), ("A", "T"), ("ACGTACGTACGTACGTACGTACGTA", "TTTGGGCCCAAATTTGGGCC")],
    "outer_redundancy": [0, 0.01, 1, 4],
}


@given(field=st.sampled_from(sorted(CORNERS)), data=st.data(), size=st.sampled_from([1, 300, 3000]))
@CHEAP
def test_every_setting_oligo_encode_accepts_round_trips_on_the_ideal_channel(tmp_path_factory, field, data, size):
    """A corner of one setting (the others at their defaults, or drawn): either refused in one
    line at encode, or the file comes back byte-identical, with one cluster per distinct
    strand read (no two strands merged)."""
    from dnastore.errors import DnastoreError
    from dnastore.stages.files import (
        OligoSettings,
        consensus,
        oligo_decode,
        oligo_encode,
        simulate,
    )
    value = data.draw(st.sampled_from(CORNERS[field]))
    other = data.draw(st.sampled_from([f for f in CORNERS if f != field]))
    kw = {field: value, other: data.draw(st.sampled_from(CORNERS[other]))}
    s = OligoSettings(**{"strand_length": 150, "primers": None, "index_trits": 0, "check_trits": 10,
                         "gc_band": (0.4, 0.6), "outer_redundancy": None, **kw})
    d = tmp_path_factory.mktemp("rt")
    try:
        payload = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
        (d / "f.bin").write_bytes(payload)
        count("settings round trip")
        try:
            oligo_encode(d / "f.bin", d / "o.fasta", s)
        except DnastoreError as e:
            assert "\n" not in e.message
            return
        simulate(d / "o.fasta", d / "r.fastq", coverage=25, preset="ideal", truth=d / "t.tsv", seed=1)
        c = consensus(d / "r.fastq", d / "c.fasta")
        pool = [ln for ln in (d / "o.fasta").read_text().splitlines()]
        seq_of = {pool[i][1:]: pool[i + 1] for i in range(0, len(pool), 2)}
        read_strands = {row.split("\t")[2] for row in (d / "t.tsv").read_text().splitlines()[1:]}
        distinct = len({seq_of[n] for n in read_strands})
        assert c["clusters"] == distinct, (kw, c["clusters"], distinct)
        out = oligo_decode(d / "c.fasta", d / "f.out", partial=True)
        if out["data_strands_missing"] == 0:
            assert (d / "f.out").read_bytes() == payload, kw
        else:  # a strand never read (Poisson at coverage 25: rare): only then may bytes be missing
            assert len(read_strands) < len(seq_of), kw
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ----------------------------------------------------------------------------- option values
BAD_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e300", "-1", "-0.5", "abc", "", " ", "0x10",
               "9" * 5000, "1,5", "true", "--"]


def numeric_options():
    import click

    from dnastore.cli import _options
    ctx = click.Context(cli)
    out = []
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        for p in cmd.params:
            if isinstance(p, click.Option) and isinstance(p.type, (_options.Setting, click.IntRange, click.FloatRange)) \
                    and not p.is_flag:
                out.append((name, p.opts[0]))
    return sorted(out)


ARGS = {"oligo-encode": ["f.bin", "-o", "n.fasta"], "simulate": ["x.fasta", "-o", "n.fastq"],
        "consensus": ["r.fastq", "-o", "n.fasta"], "oligo-decode": ["c.fasta", "-o", "n.out"],
        "dataset": ["img", "-o", "n.zarr"], "train": ["data.zarr", "--run-dir", "rd", "--epochs", "1"],
        "compress": ["img", "-o", "n.zarr"], "quantize": ["lat.zarr", "-o", "n.zarr"],
        "dequantize": ["codes.zarr", "-o", "n.zarr"], "reconstruct": ["lat.zarr", "-o", "n"],
        "encode": ["img", "n.fasta"], "decode": ["er.fastq", "-o", "n"], "plan": ["img"]}


def test_the_option_list_is_known():
    opts = numeric_options()
    assert ("simulate", "--coverage") in opts and ("train", "--lr") in opts and ("simulate", "--seed") in opts
    assert len(opts) >= 30


@given(opt=st.sampled_from(numeric_options()), value=st.sampled_from(BAD_NUMBERS))
@CHEAP
def test_a_non_finite_or_out_of_range_option_value_is_one_line(tmp_path_factory, base, opt, value):
    name, flag = opt
    with fresh(tmp_path_factory, base) as d:
        args = [name, *ARGS.get(name, []), f"{flag}={value}"]
        before = snapshot(d)
        r = invoke(args, d)
        count("option values")
        refused(r, args)
        assert snapshot(d) == before


# ----------------------------------------------------------------------------- config fields
def _bad_values(field) -> list:
    huge = "__HUGE__"  # written into the JSON as a 5,000-digit number
    common = [None, True, "x", [1], {"a": 1}, huge, float("nan"), float("inf"), [[[[[]]]]]]
    if field.kind in ("int", "float"):
        lo = field.lo if field.lo is not None else 0
        hi = field.hi if field.hi is not None else 1e6
        out = common + [lo - 1, hi * 2 + 1, -1e300]
        if field.kind == "int":
            out.append(lo + 0.5)
        return out
    if field.kind == "seq":
        n = field.length if isinstance(field.length, int) else 2
        item_bad = [v for v in _bad_values(field.item) if v is not None][:6]
        return [None, 5, "ab", [], [1] * (n + 1), *[[v] * n for v in item_bad]]
    if field.kind == "str":
        return [None, 3, True, "no-such-choice", [field.choices[0]] if field.choices else 1]
    return common


@st.composite
def config_case(draw):
    from dnastore.codecs.vae import VAE_SCHEMA
    model = draw(st.sampled_from(["vae", "necst"]))
    if model == "vae":
        schema = VAE_SCHEMA
    else:
        schema = {"bits": None, "hidden": None, "eps": None, "samples": None, "sigma": None, "l2": None, "beta": None,
                  "arch": None, "channel": None, "prior": None, "channels": None}
    key = draw(st.sampled_from(sorted(schema)))
    return model, key


def _necst_field(key):
    from dnastore.io.schema import Field
    return {"bits": Field("int", 1, 65536), "hidden": Field("int", 1, 65536), "eps": Field("float", 0, 1, hi_open=True),
            "samples": Field("int", 2, 256), "sigma": Field("float", 1e-4, 10), "l2": Field("float", 0, 100),
            "beta": Field("float", 0, 1000), "arch": Field("str", choices=("mlp",)),
            "channel": Field("str", choices=("bsc", "bec")), "prior": Field("str", choices=("none", "uniform")),
            "channels": Field("int", 1, 1)}[key]


@given(case=config_case(), data=st.data())
@CHEAP
def test_a_bad_config_field_is_one_line_and_trains_nothing(tmp_path_factory, base, case, data):
    from dnastore.codecs.vae import VAE_SCHEMA
    model, key = case
    field = VAE_SCHEMA[key] if model == "vae" else _necst_field(key)
    if key == "channels":  # the data are grey: any other count does not fit them
        from dnastore.io.schema import Field
        field = Field("int", 1, 1)
    value = data.draw(st.sampled_from(_bad_values(field)))
    with fresh(tmp_path_factory, base) as d:
        text = json.dumps({key: value}, allow_nan=True).replace('"__HUGE__"', "9" * 5000)
        (d / "cfg.json").write_text(text)
        args = ["train", "data.zarr", "--config", "cfg.json", "--run-dir", "rd", "--epochs", "1", "--codec", model,
                "--no-progress"]
        r = invoke(args, d)
        count("config fields")
        refused(r, (key, text[:80]))
        assert not (d / "rd" / "weights.msgpack").exists()


# ----------------------------------------------------------------------------- the listed instances
def test_each_instance_the_issue_lists_is_refused_in_one_line(tmp, base):
    copy_into(base, tmp)
    before = snapshot(tmp)
    for args in (["simulate", "x.fasta", "-o", "q.fastq", "--truth", "q.fastq"],
                 ["simulate", "x.fasta", "-o", "q.fastq", "--truth", "q.fastq.json"],
                 ["simulate", "x.fasta", "-o", "x.fasta.json", "--force"],
                 ["reconstruct", "lat.zarr", "-o", "img", "--originals", "img", "--force"],
                 ["simulate", "x.fasta", "--seed=-1"],
                 ["simulate", "x.fasta", "--scheduler", "tls://127.0.0.1:1"],
                 ["train", "data.zarr", "--lr", "nan", "--run-dir", "rd"],
                 ["train", "data.zarr", "--lr", "inf", "--run-dir", "rd"],
                 ["train", "data.zarr", "--lr", "-1", "--run-dir", "rd"],
                 ["train", "data.zarr", "--lr", "1e10", "--run-dir", "rd"]):
        refused(invoke(args, tmp), args)
    assert snapshot(tmp) == before
    for text in ("garbage", "{}", "[]", ""):
        (tmp / "sched.json").write_text(text)
        refused(invoke(["simulate", "x.fasta", "-o", "s.fastq", "--scheduler", "sched.json"], tmp), text)
    (tmp / "sched.json").unlink()
    for cfg in ({"widths": [1, 1]}, {"widths": [0, 0, 0]}, {"widths": [-4, 8, 8]}, {"sigma": 0}, {"sigma": -1},
                {"channels": 0}, {"channels": 3}, {"widths": 2.7}, {"latent": True}):
        (tmp / "cfg.json").write_text(json.dumps(cfg))
        refused(invoke(["train", "data.zarr", "--config", "cfg.json", "--run-dir", "rd", "--epochs", "1"], tmp), cfg)
    # a foreign folder under --force keeps its files
    (tmp / "d2").mkdir()
    (tmp / "d2" / "keep.txt").write_text("keep")
    refused(invoke(["oligo-encode", "f.bin", "-o", "d2", "--force"], tmp), "d2")
    assert (tmp / "d2" / "keep.txt").read_text() == "keep"
    # reads all shorter than 12 nt, with no manifest
    (tmp / "short.fastq").write_text("@a\nACGTAC\n+\nIIIIII\n@b\nACG\n+\nIII\n")
    refused(invoke(["consensus", "short.fastq", "-o", "s.fasta"], tmp), "short")
    # a 5,000-digit ;size= in a strand name
    lines = (tmp / "c.fasta").read_text().splitlines()
    lines[0] = lines[0].split(";")[0] + ";size=" + "9" * 5000
    (tmp / "c5k.fasta").write_text("\n".join(lines) + "\n")
    r = invoke(["oligo-decode", "c5k.fasta", "--manifest", "c.fasta.json", "-o", "o5k.out"], tmp)
    assert r.exit_code in (0, 2) and "Traceback" not in r.output and "internal" not in r.output, r.output
    # simulate with no OLIGOS beside a *.fasta whose .json is a list, deep, or a 5,000-digit number
    lone = tmp / "lone"
    lone.mkdir()
    shutil.copy(tmp / "x.fasta", lone / "x.fasta")
    shutil.copy(tmp / "x.fasta.json", lone / "x.fasta.json")
    for bad in ("[1, 2]", "[" * 100_000 + "]" * 100_000, "9" * 5000):
        (lone / "y.fasta").write_text(">a\nACGT\n")
        (lone / "y.fasta.json").write_text(bad)
        os.utime(lone / "y.fasta.json")
        r = invoke(["simulate", "-o", "s.fastq", "--coverage", "1", "--force"], lone)
        assert r.exit_code == 0, r.output
    # a FASTA followed by FASTQ records
    (tmp / "mixed.fa").write_text(">a\nACGTACGTACGTAC\n@r1\nACGT\n+\nIIII\n")
    r = invoke(["consensus", "mixed.fa", "-o", "m.fasta"], tmp)
    refused(r, "mixed")
    assert "FASTQ" in r.output


def test_training_that_diverges_exports_nothing(tmp, base):
    shutil.copytree(base / "data.zarr", tmp / "data.zarr")
    r = invoke(["train", "data.zarr", "--lr", "9", "--run-dir", "rd", "--epochs", "1", "--batch-size", "16",
                "--no-progress"], tmp)
    if r.exit_code == 0:  # it may survive one epoch: then the weights must be finite
        from dnastore.codecs.weights import load_weights
        load_weights(tmp / "rd" / "weights.msgpack")
    else:
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert r.output.strip().splitlines()[-1].startswith("Error: training diverged"), r.output
        assert not (tmp / "rd" / "weights.msgpack").exists()


def test_nan_weights_are_refused_at_encode(tmp, base):
    import jax
    from flax import nnx

    from dnastore.codecs.vae import VAE, VAEConfig
    from dnastore.codecs.weights import save_weights
    cfg = VAEConfig(latent=16)
    model = VAE(cfg, nnx.Rngs(0))
    state = nnx.state(model)
    nnx.update(model, jax.tree_util.tree_map(lambda x: x * float("nan") if hasattr(x, "dtype") and
                                              np.issubdtype(x.dtype, np.floating) else x, state))
    save_weights(tmp / "nan.msgpack", cfg, model, {"mean": np.zeros(32), "std": np.ones(32)}, {})
    shutil.copytree(base / "img", tmp / "img")
    refused(invoke(["encode", "img", "o.fasta", "--weights", "nan.msgpack"], tmp), "nan weights")


def test_bench_runs_only_the_project_s_pipelines(tmp):
    (tmp / "pipelines").mkdir()
    (tmp / "pipelines" / "evil.py").write_text("open('pwned', 'w').write('x')\n")
    (tmp / "pipelines" / "common.py").write_text("")
    r = invoke(["bench", "evil"], tmp)
    refused(r, "bench evil")
    assert not (tmp / "pwned").exists()


def test_a_streamed_input_is_read_once(tmp, base):
    shutil.copy(base / "r.fastq", tmp / "r.fastq")
    r = subprocess.run(["bash", "-c", f"{' '.join(DNASTORE)} consensus <(cat r.fastq) -o c.fasta --no-progress"],
                       cwd=tmp, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp / "c.fasta").stat().st_size > 0
    r = subprocess.run(["bash", "-c", f"{' '.join(DNASTORE)} consensus <(cat r.fastq)"], cwd=tmp, capture_output=True,
                       text=True)
    assert r.returncode == 2 and "-o" in r.stderr


def test_a_long_output_name_fits_its_temporary(tmp, base):
    shutil.copy(base / "f.bin", tmp / "f.bin")
    name = "n" * 240 + ".fasta"
    r = invoke(["oligo-encode", "f.bin", "-o", name], tmp)
    assert r.exit_code == 0, r.output
    assert (tmp / name).exists() and not leftovers(tmp)


def test_quantize_and_dequantize_build_no_model(tmp, base, monkeypatch):
    """They need the VAEN statistics only: building the VAE (seconds, op by op) is refused here."""
    from dnastore.codecs import vae, weights

    def no_build(*a, **k):
        raise AssertionError("the VAE was built")
    monkeypatch.setattr(weights, "_LOADED", {})
    monkeypatch.setattr(vae.VAE, "__init__", no_build)
    shutil.copytree(base / "lat.zarr", tmp / "lat.zarr")
    r = invoke(["quantize", "lat.zarr", "-o", "q.zarr"], tmp)
    assert r.exit_code == 0, r.output
    r = invoke(["dequantize", "q.zarr", "-o", "back.zarr"], tmp)
    assert r.exit_code == 0, r.output


def test_dataset_of_a_file_says_it_is_a_file(tmp, base):
    shutil.copy(base / "f.bin", tmp / "f.bin")
    r = invoke(["dataset", "f.bin", "-o", "d.zarr"], tmp)
    refused(r, "dataset f.bin")
    assert "is a file" in r.output


def test_unbounded_inputs_are_refused_by_what_they_can_justify(tmp, base, monkeypatch):
    from dnastore.dna.manifest import validate_manifest
    from dnastore.errors import DnastoreError
    from dnastore.io.manifest import seal_manifest
    from dnastore.stages import files
    # a device without end: read only as far as the bound (lowered here from 1 GiB to 1 MiB)
    monkeypatch.setattr(files, "MAX_SOURCE_BYTES", 1 << 20)
    r = invoke(["oligo-encode", "/dev/zero", "-o", "z.fasta"], tmp)
    refused(r, "/dev/zero")
    assert not (tmp / "z.fasta").exists()
    (tmp / "big.bin").write_bytes(b"\1" * ((1 << 20) + 1))
    refused(invoke(["oligo-encode", "big.bin", "-o", "b.fasta"], tmp), "big file")
    # a manifest re-sealed with a count its payload cannot justify
    man = json.loads((base / "x.fasta.json").read_text())
    man["n_strands"] = man["n_data_strands"] = 10 ** 9
    man.pop("outer", None)
    man["outer"] = None
    seal_manifest(man)
    with pytest.raises(DnastoreError, match="does not follow from payload_bytes"):
        validate_manifest(man, "resealed")
    # a strand far longer than synthesis makes
    (tmp / "long.fasta").write_text(">s\n" + "ACGT" * 5_000 + "\n")
    r = invoke(["simulate", "long.fasta", "-o", "l.fastq"], tmp)
    refused(r, "long strand")
    assert "at most 10,000 nt" in r.output
