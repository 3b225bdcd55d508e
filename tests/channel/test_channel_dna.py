import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dnastore.channel import bec, bsc
from dnastore.channel.dna import preset_params, simulate_reads
from dnastore.errors import DnastoreError


def _strands(rng, n=400, length=120):
    return rng.integers(0, 4, (n, length)).astype(np.uint8), np.full(n, length)


def _run(strands, lens, params, seed):
    n, w, it = simulate_reads(strands, lens, params, seed, batch=1024)
    return n, w, list(it)


def test_same_seed_same_reads_other_seed_other_reads(rng):
    s, l = _strands(rng)
    p = preset_params("nanopore", coverage=3)
    a = _run(s, l, p, 5)[2]
    b = _run(s, l, p, 5)[2]
    c = _run(s, l, p, 6)[2]
    assert all((x.seqs == y.seqs).all() and (x.quals == y.quals).all() for x, y in zip(a, b))
    assert any((x.seqs != y.seqs).any() for x, y in zip(a, c))


def test_coverage_and_error_rates_match_the_parameters(rng):
    s, l = _strands(rng, 1000, 150)
    p = preset_params("illumina", coverage=8, synthesis="ideal", sub=0.01, ins=0.002, dele=0.004, slope=0.0)
    n, _, batches = _run(s, l, p, 3)
    assert n == 8000
    errs = sum(b.errors.sum(axis=0) for b in batches) / (n * 150)
    assert errs[0] == pytest.approx(0.01, rel=0.1)
    assert errs[1] == pytest.approx(0.002, rel=0.2)
    assert errs[2] == pytest.approx(0.004, rel=0.15)
    lens = np.concatenate([b.lens for b in batches])
    err = np.concatenate([b.errors for b in batches])
    assert (lens == 150 + err[:, 1] - err[:, 2]).all()


def test_error_free_reads_are_the_strand_or_its_reverse_complement(rng):
    s, l = _strands(rng, 200, 100)
    p = preset_params("ideal", coverage=5, rc_fraction=0.5)
    _, _, batches = _run(s, l, p, 1)
    b = batches[0]
    fwd = ~b.rc
    assert 0.35 < b.rc.mean() < 0.65
    assert (b.seqs[fwd, :100] == s[b.source[fwd]]).all()
    assert (b.seqs[~fwd, :100] == 3 - s[b.source[~fwd]][:, ::-1]).all()
    assert (b.quals[:, :100] == 40).all()


def test_position_dependent_rate_and_qualities(rng):
    s, l = _strands(rng, 2000, 150)
    p = preset_params("illumina", coverage=10, synthesis="ideal", sub=0.01, ins=0.0, dele=0.0, slope=0.8,
                      rc_fraction=0.0)
    _, _, batches = _run(s, l, p, 2)
    seqs = np.concatenate([b.seqs for b in batches])[:, :150]
    src = s[np.concatenate([b.source for b in batches])]
    wrong = seqs != src
    first, last = wrong[:, :30].mean(), wrong[:, -30:].mean()
    assert last > 3 * first
    q = np.concatenate([b.quals for b in batches])[:, :150]
    assert q[wrong].mean() < q[~wrong].mean() - 8


def test_bias_spreads_coverage_and_dropout_removes_strands(rng):
    s, l = _strands(rng, 3000, 60)
    tight = _run(s, l, preset_params("ideal", coverage=20, bias=0.3), 1)
    wide = _run(s, l, preset_params("ideal", coverage=20, bias=1.3), 1)
    cv = lambda r: np.bincount(np.concatenate([b.source for b in r[2]]), minlength=3000).std() / 20
    assert cv(wide) > 2 * cv(tight)
    drop = _run(s, l, preset_params("ideal", coverage=5, dropout=0.2), 1)
    assert 0.15 < (drop[1] == 0).mean() < 0.25
    seen = np.unique(np.concatenate([b.source for b in drop[2]]))
    assert not np.isin(seen, np.flatnonzero(drop[1] == 0)).any()


def test_negative_binomial_copy_numbers(rng):
    s, l = _strands(rng, 2000, 60)
    _, w, _ = _run(s, l, preset_params("ideal", coverage=1, bias=0.5, copy_dist="negbin"), 1)
    assert w.mean() == pytest.approx(1.0, rel=0.1) and w.std() == pytest.approx(0.5, rel=0.15)


def test_bad_rates_are_refused():
    with pytest.raises(DnastoreError):
        preset_params("illumina", coverage=0)
    with pytest.raises(DnastoreError):
        preset_params("illumina", sub=1.5)
    with pytest.raises(DnastoreError):
        preset_params("warp-drive")


def test_bsc_and_bec_rates():
    bits = jnp.zeros(200_000, dtype=jnp.uint8)
    key = jax.random.PRNGKey(0)
    assert float(bsc(key, bits, 0.05).mean()) == pytest.approx(0.05, rel=0.05)
    assert bool((bsc(key, bits, 0.0) == bits).all())
    out, erased = bec(key, jnp.ones(200_000, jnp.uint8), 0.1)
    assert float(erased.mean()) == pytest.approx(0.1, rel=0.05)
    assert bool((out[erased] == 0).all()) and bool((out[~erased] == 1).all())
    # the same under jit as eagerly, as a pure function of the key
    assert bool((bsc(key, bits, 0.05) == jax.jit(bsc)(key, bits, 0.05)).all())


def test_synthesis_errors_do_not_follow_the_read_position(rng):
    s, l = _strands(rng, 2000, 150)
    p = preset_params("illumina", coverage=10, synthesis="ideal", sub=0.0, ins=0.0, dele=0.0, slope=0.8,
                      synth_sub=0.01, rc_fraction=0.0)
    _, _, batches = _run(s, l, p, 4)
    seqs = np.concatenate([b.seqs for b in batches])[:, :150]
    src = s[np.concatenate([b.source for b in batches])]
    wrong = seqs != src
    assert wrong.mean() == pytest.approx(0.01, rel=0.1)
    assert wrong[:, -30:].mean() == pytest.approx(wrong[:, :30].mean(), rel=0.25)


def _fastq(strands, lens, params, seed, batch=1024):
    from dnastore.channel.dna import format_fastq
    return b"".join(format_fastq(b) for b in simulate_reads(strands, lens, params, seed, batch=batch)[2])


def test_reads_do_not_depend_on_the_batch_size(rng):
    s, l = _strands(rng, 300, 100)
    p = preset_params("nanopore", coverage=5)
    assert _fastq(s, l, p, 9, batch=256) == _fastq(s, l, p, 9, batch=4096)


@pytest.mark.parametrize("rates", [{}, {"sub": 0.2, "ins": 0.2, "dele": 0.2, "slope": 0.0, "profile": "flat",
                                       "read_sd": 0.0, "hp_del": 0.0, "hp_ins": 0.0}])
def test_each_read_is_its_source_edited_by_its_recorded_events(rng, rates):
    import edlib
    s, l = _strands(rng, 200, 120)
    _, _, batches = _run(s, l, preset_params("nanopore", coverage=3, **rates), 4)
    for b in batches:
        assert (b.lens == 120 + b.errors[:, 1] - b.errors[:, 2]).all()
        for j in range(len(b.lens)):
            src = s[b.source[j]]
            if b.rc[j]:
                src = 3 - src[::-1]
            d = edlib.align(bytes(b.seqs[j, :b.lens[j]] + 65), bytes(src + 65))["editDistance"]
            assert d <= b.errors[j].sum()


def test_cached_executables_give_the_jit_bytes_and_damaged_entries_are_rebuilt(rng, tmp_path):
    from dnastore import aot
    s, l = _strands(rng, 300, 100)
    p = preset_params("nanopore", coverage=4)
    plain = _fastq(s, l, p, 3)
    aot.set_cache_dir(tmp_path)
    aot._CALLS.clear()
    try:
        first = _fastq(s, l, p, 3)               # traced, compiled, written
        files = sorted((tmp_path / "aot").glob("*.xla"))
        assert len(files) == 2
        aot._CALLS.clear()
        second = _fastq(s, l, p, 3)              # loaded from disk
        stamps = [f.stat().st_mtime_ns for f in files]
        for f in files:                          # one truncated, one with a flipped byte
            data = f.read_bytes()
            f.write_bytes(data[:len(data) // 2] if f is files[0] else data[:-1] + bytes([data[-1] ^ 1]))
        aot._CALLS.clear()
        third = _fastq(s, l, p, 3)               # rebuilt
        assert all(f.stat().st_size > 1000 for f in files)
        assert [f.stat().st_mtime_ns for f in files] != stamps
        assert not list((tmp_path / "aot").glob(".tmp-*"))
    finally:
        aot.set_cache_dir(None)
        aot._CALLS.clear()
    assert plain == first == second == third


def test_a_runtime_that_cannot_load_executables_falls_back_to_jit(rng, tmp_path, monkeypatch):
    from dnastore import aot

    class Changed:
        def __init__(self, *args):
            raise AttributeError("no such runtime call")
    s, l = _strands(rng, 200, 80)
    p = preset_params("illumina", coverage=3)
    plain = _fastq(s, l, p, 5)
    monkeypatch.setattr(aot, "Executable", Changed)
    aot.set_cache_dir(tmp_path)
    aot._CALLS.clear()
    try:
        assert _fastq(s, l, p, 5) == plain
    finally:
        aot.set_cache_dir(None)
        aot._CALLS.clear()


def test_a_cached_simulate_runs_without_importing_jax(rng, tmp_path):
    """The CLI's second run loads the compiled kernels into jaxlib's runtime: JAX's Python
    layer is never imported, and the reads are those of the plain jit path."""
    import subprocess
    import sys
    s, l = _strands(rng, 150, 60)
    fasta = tmp_path / "o.fasta"
    fasta.write_text("".join(f">s{i}\n{''.join('ACGT'[b] for b in s[i, :l[i]])}\n" for i in range(len(s))))
    code = ("import sys; from dnastore.cli import cli; "
            f"cli.main(['simulate', {str(fasta)!r}, '--coverage', '4', '--preset', 'nanopore', '--seed', '3', "
            "'-o', sys.argv[1], '--no-progress'], standalone_mode=False); "
            "print('jax' in sys.modules, 'jaxlib._jax' in sys.modules)")
    env = dict(__import__("os").environ, DNASTORE_CACHE=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", code, str(tmp_path / f"r{i}.fastq")], env=env,
                           capture_output=True, text=True, timeout=300) for i in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout.split()[-2:] == ["True", "True"]   # the first run compiles with JAX
    assert runs[1].stdout.split()[-2:] == ["False", "True"]  # the second only loads
    p = preset_params("nanopore", coverage=4)
    plain = _fastq(s, l, p, 3)
    assert (tmp_path / "r0.fastq").read_bytes() == (tmp_path / "r1.fastq").read_bytes() == plain


def test_kernels_compiled_beside_jax_persistent_cache_run(tmp_path):
    """With JAX's persistent compilation cache on (the image commands turn it on), the second
    process gets JAX's executables from that cache; those serialise without their code, so
    dnastore.aot compiles its own. Both processes give the plain jit reads."""
    import subprocess
    import sys
    code = (
        "import sys, numpy as np, jax\n"
        "jax.config.update('jax_compilation_cache_dir', sys.argv[1])\n"
        "jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)\n"
        "from dnastore import aot\n"
        "from dnastore.channel.dna import preset_params, simulate_reads, format_fastq\n"
        "s = np.random.default_rng(0).integers(0, 4, (200, 80)).astype(np.uint8); l = np.full(200, 80)\n"
        "p = preset_params('nanopore', coverage=3)\n"
        "run = lambda: b''.join(format_fastq(b) for b in simulate_reads(s, l, p, 3, batch=1024)[2])\n"
        "plain = run()\n"
        "aot.set_cache_dir(sys.argv[2])\n"
        "assert run() == plain\n"
        "print('same')\n")
    for i in range(2):
        r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "jax"), str(tmp_path / f"aot{i}")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and r.stdout.strip() == "same", r.stderr[-2000:]


def test_cached_kernels_on_dask_threads_share_one_client(rng, tmp_path):
    """Two batches at once on Dask threads, kernels loaded from the cache (no JAX in the
    process): both must land in one XLA client, since one kernel's results feed the next."""
    import os
    import subprocess
    import sys
    pytest.importorskip("dask")
    s, l = _strands(rng, 1000, 60)
    fasta = tmp_path / "o.fasta"
    fasta.write_text("".join(f">s{i}\n{''.join('ACGT'[b] for b in s[i])}\n" for i in range(len(s))))
    env = dict(os.environ, DNASTORE_CACHE=str(tmp_path / "cache"))
    outs = []
    for i, extra in enumerate([[], ["--scheduler", "threads"]]):
        out = tmp_path / f"r{i}.fastq"
        r = subprocess.run([sys.executable, "-m", "dnastore.cli", "simulate", str(fasta), "--coverage", "40",
                            "--seed", "2", "-o", str(out), "--no-progress", *extra],
                           env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
