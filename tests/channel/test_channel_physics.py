"""The wet-lab effects of the simulator: each one switched on alone moves the figure it
should, by about the amount its parameters say."""

import numpy as np
import pytest

from dnastore.channel.dna import copy_numbers, preset_params, simulate_reads
from dnastore.channel.presets import TRUNCATION, describe, load_preset_file
from dnastore.errors import DnastoreError


def _no_runs(rng, n, length):
    """Strands without homopolymers (as the oligo code writes them)."""
    s = np.zeros((n, length), dtype=np.uint8)
    s[:, 0] = rng.integers(0, 4, n)
    for j in range(1, length):
        s[:, j] = (s[:, j - 1] + 1 + rng.integers(0, 3, n)) % 4
    return s


def _reads(strands, params, seed=1):
    lens = np.full(len(strands), strands.shape[1])
    n, w, it = simulate_reads(strands, lens, params, seed, batch=4096)
    return w, list(it)


def _cat(batches, attr):
    return np.concatenate([getattr(b, attr) for b in batches])


def test_truncated_products_shorten_reads_by_the_table_mean(rng):
    s = _no_runs(rng, 500, 100)
    p = preset_params("ideal", coverage=8, trunc="photolithographic")
    lens = _cat(_reads(s, p)[1], "lens")
    table = np.array(TRUNCATION["photolithographic"])
    expect = 100 - (np.arange(len(table)) * table).sum() / table.sum()
    assert abs(lens.mean() - expect) < 0.15
    assert lens.max() == 100 and lens.min() >= 100 - len(table) + 1
    # "start" keeps every read's end: its last bases are the strand's
    p = preset_params("ideal", coverage=2, trunc="photolithographic", trunc_at="start")
    for b in _reads(s, p)[1]:
        for j in range(min(200, len(b.lens))):
            assert (b.seqs[j, b.lens[j] - 5:b.lens[j]] == s[b.source[j], 95:]).all()


def test_pcr_cycles_widen_the_coverage_spread(rng):
    n = 3000
    cv = []
    for cycles in (0, 15, 30):
        p = preset_params("ideal", coverage=1, pcr_cycles=cycles, pcr_eff_sd=0.02, copies=50)
        w = copy_numbers(np.random.default_rng(3), n, p)
        cv.append(w.std() / w.mean())
    assert cv[0] < cv[1] < cv[2]


def test_polymerase_errors_add_substitutions_per_cycle(rng):
    s = _no_runs(rng, 300, 120)
    subs = []
    for cycles in (0, 30):
        p = preset_params("ideal", coverage=10, pcr_cycles=cycles)
        b = _reads(s, p)[1]
        subs.append(_cat(b, "errors")[:, 0].sum() / _cat(b, "lens").sum())
    assert subs[0] == 0
    assert abs(subs[1] - 30 * 1.09e-4) < 0.4 * 30 * 1.09e-4


def test_aging_breaks_molecules_by_base(rng):
    # without PCR broken molecules are read: shorter reads
    s = _no_runs(rng, 300, 150)
    p = preset_params("ideal", coverage=10, halflives=1.0)
    lens = _cat(_reads(s, p)[1], "lens")
    assert lens.mean() < 140 and (lens == 150).mean() > 0.3
    # with PCR after aging only unbroken molecules amplify: G/A-rich strands lose copies
    ga = np.array([[0, 2] * 50] * 200, dtype=np.uint8)     # ACGT codes: A=0, G=2
    ct = np.array([[1, 3] * 50] * 200, dtype=np.uint8)
    p = preset_params("ideal", coverage=1, halflives=3.0, pcr_cycles=10, pcr_eff_sd=0.0)
    w = copy_numbers(np.random.default_rng(0), 400, p, np.concatenate([ga, ct]))
    assert w[:200].mean() < 0.5 * w[200:].mean()


def test_deamination_turns_c_into_t(rng):
    s = np.ones((200, 100), dtype=np.uint8)   # all C
    p = preset_params("ideal", coverage=5, halflives=30.0, pcr_cycles=1, pcr_sub=0.0, deamination=0.002)
    b = _reads(s, p)[1]
    seqs = np.concatenate([x.seqs[:, :100] for x in b])
    changed = seqs[seqs != 1]
    assert len(changed) > 100
    assert abs((changed == 3).mean() - 0.382 / (0.382 + 0.0357 + 0.0318)) < 0.03   # T, dt4dds' aging spectrum


def test_homopolymer_runs_raise_the_deletion_rate(rng):
    runs = np.repeat(_no_runs(rng, 300, 20), 5, axis=1)  # runs of exactly five
    flat = _no_runs(rng, 300, 100)
    rate = []
    for s in (flat, runs):
        p = preset_params("ideal", coverage=10, dele=0.01, hp_del=0.5)
        b = _reads(s, p)[1]
        rate.append(_cat(b, "errors")[:, 2].sum() / (len(_cat(b, "lens")) * 100))
    assert abs(rate[0] - 0.01) < 0.002
    assert abs(rate[1] / rate[0] - 3.0) < 0.5      # 1 + 0.5 x (5 - 1)


def test_the_iseq_profile_puts_more_substitutions_at_the_read_start(rng):
    s = _no_runs(rng, 400, 150)
    p = preset_params("iseq100", coverage=20, synthesis="ideal", sub=0.01)
    b = _reads(s, p)[1]
    diff = np.concatenate([(x.seqs[:, :150] != s[x.source]) for x in b])
    first, middle = diff[:, :5].mean(), diff[:, 40:60].mean()
    assert first > 1.7 * middle
    # and qualities follow it
    q = np.concatenate([x.quals[:, :150] for x in b]).astype(float)
    assert q[:, :5].mean() < q[:, 40:60].mean()


def test_reads_differ_in_accuracy_with_read_sd(rng):
    s = _no_runs(rng, 300, 150)
    spread = []
    for sd in (0.0, 0.5):
        p = preset_params("ideal", coverage=10, sub=0.05, read_sd=sd)
        e = _cat(_reads(s, p)[1], "errors")[:, 0]
        spread.append(e.var() / e.mean())
    assert spread[0] < 1.2 and spread[1] > 2.0


def test_photolithographic_synthesis_matches_its_table():
    p = preset_params("illumina", synthesis="photolithographic")
    assert (p.synth_sub, p.synth_ins, p.synth_del, p.bias) == (0.0212, 0.0136, 0.0683, 0.44)


def test_preset_file_overrides_and_command_line_wins(tmp_path):
    f = tmp_path / "lab.toml"
    f.write_text('preset = "nanopore"\nsynthesis = "customarray"\npcr_cycles = 12\nprofile = [1.0, 2.0]\nsub = 0.04\n')
    p = preset_params(None, file=load_preset_file(f), sub=0.01)
    assert p.bias == 1.30 and p.pcr_cycles == 12 and p.profile == (1.0, 2.0) and p.hp_del == 0.5
    assert p.sub == 0.01
    for text, msg in [("bogus = 1\n", "unknown setting"), ("sub = 'x'\n", "must be a number"),
                      ("profile = 'nope'\n", "unknown profile"), ("trunc = [-1]\n", "non-negative"),
                      ("pcr_cycles = 2.5\n", "whole number"), ("sub = [\n", "not a TOML")]:
        f.write_text(text)
        with pytest.raises(DnastoreError, match=msg):
            preset_params("illumina", file=load_preset_file(f))


def test_every_preset_value_names_its_source():
    for preset in ("illumina", "iseq100", "nanopore"):
        rows = describe(preset)
        for field, value, source in rows:
            if isinstance(value, (int, float)) and value != 0 and field not in ("copies",):
                assert source != "-", field


def test_synthesis_deletions_come_in_bursts(rng):
    from dnastore.channel.presets import BURSTS
    s = _no_runs(rng, 400, 120)
    table = np.array(BURSTS["twist"])
    mean_len = (np.arange(1, len(table) + 1) * table).sum() / table.sum()
    p = preset_params("ideal", coverage=20, synth_del=0.01, synth_del_burst="twist")
    b = _reads(s, p)[1]
    deleted = _cat(b, "errors")[:, 2].sum() / len(_cat(b, "lens"))
    assert abs(deleted / (0.01 * 120) - mean_len) < 0.12 * mean_len
    lens = _cat(b, "lens")
    assert (lens == 120 - _cat(b, "errors")[:, 2]).all()
    assert (lens <= 120 - 8).any()           # some bursts are long


def test_a_named_preset_wins_over_the_files(tmp_path):
    f = tmp_path / "lab.toml"
    f.write_text('preset = "nanopore"\n')
    assert preset_params(None, file=load_preset_file(f)).hp_del == 0.5       # the file's preset
    assert preset_params("illumina", file=load_preset_file(f)).hp_del == 0.0  # the caller's wins
    assert preset_params(None).profile == "iseq100"                          # neither: illumina


def test_a_preset_file_that_is_not_one_is_refused_in_one_line(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20))
    for path, msg in [(big, "more than"), (tmp_path, "not a TOML"), (tmp_path / "none.toml", "no such")]:
        with pytest.raises(DnastoreError, match=msg):
            load_preset_file(path)


def test_simulate_reports_error_rates_per_base_of_the_molecules_read(tmp_path):
    """Broken molecules are short: the summary's rates are per base actually read, so aging's
    deamination shows at its rate rather than diluted by the bases that were never there."""
    from dnastore.stages.files import oligo_encode, simulate
    src = tmp_path / "f.bin"
    src.write_bytes(np.random.default_rng(3).integers(0, 256, 4000).astype(np.uint8).tobytes())
    oligo_encode(src, tmp_path / "f.fasta")
    out = simulate(tmp_path / "f.fasta", tmp_path / "r.fastq", coverage=5, preset="ideal",
                   rates={"halflives": 20.0, "deamination": 0.002})
    # 20 half-lives x 0.002 = 0.04 substitutions per base read (per designed base: ten times fewer)
    assert 0.02 < out["error_rates"]["sub"] < 0.05
