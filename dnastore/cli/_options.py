"""What every command shares: the run context (:class:`Run`, from ``--seed``, ``--force``,
``--progress``, ``-v``, ``--json``), option groups declared once, and the parsers of option
values."""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from dnastore.errors import DnastoreError
from dnastore.io import schema
from dnastore.io.schema import Field


class Setting(click.ParamType):
    """An option value checked by its :class:`~dnastore.io.schema.Field` (the one schema
    of every option and config field): NaN, infinity and out-of-range values are refused in
    one line."""

    def __init__(self, field: Field):
        self.field = field
        self.name = {"int": "integer", "float": "number"}.get(field.kind, field.kind)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        name = (param.opts[0] if param is not None and param.opts else "value")
        try:
            return schema.check(name, value, self.field)
        except DnastoreError as e:
            self.fail(e.message.removeprefix(f"{name} "), param, ctx)


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False,
           integer: bool = False) -> Setting:
    return Setting(Field("int" if integer else "float", lo, hi, lo_open, hi_open))


PROBABILITY = Setting(schema.PROBABILITY)


@dataclass
class Run:
    """The shared options of a command; also the stages' reporter (log, warn, bar)."""
    seed: int
    force: bool
    progress: bool
    verbose: int
    as_json: bool

    def log(self, msg: str, level: int = 0) -> None:
        if self.verbose >= level and not (self.as_json and level > 0):
            click.echo(msg, err=True)

    def warn(self, msg: str) -> None:
        click.echo(f"Warning: {msg}", err=True)

    def bar(self, length: int, label: str):
        return click.progressbar(length=length, label=label, file=sys.stderr,
                                 hidden=not self.progress or self.as_json or not sys.stderr.isatty(), show_eta=False)

    def report(self, summary: dict[str, Any]) -> None:
        if self.as_json:
            click.echo(json.dumps(summary, sort_keys=True))
            return
        for k, v in summary.items():
            if isinstance(v, float):
                v = f"{v:.4g}"
            elif isinstance(v, dict):
                v = ", ".join(f"{a}={(f'{b:.4g}' if isinstance(b, float) else b)}" for a, b in v.items())
            click.echo(f"{k}: {v}")


def common_options(f: Callable) -> Callable:
    """Attach the shared options; the command receives a :class:`Run` as first argument."""

    @click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary on stdout.")
    @click.option("-v", "--verbose", count=True, help="More detail on stderr (repeatable).")
    @click.option("--progress/--no-progress", default=True, show_default=True, help="Show progress bars on stderr.")
    @click.option("--force", is_flag=True, help="Overwrite existing outputs.")
    @click.option("--seed", type=Setting(schema.SEED), default=0, show_default=True,
                  help="Seed of every random choice (0 to 2^32-1).")
    @functools.wraps(f)
    def wrapper(seed, force, progress, verbose, as_json, **kw):
        return f(Run(seed, force, progress, verbose, as_json), **kw)
    return wrapper


def stack(*opts: Callable) -> Callable:
    """One decorator from several option decorators (applied in the order listed)."""
    def deco(f: Callable) -> Callable:
        for o in reversed(opts):
            f = o(f)
        return f
    return deco


PATH = click.Path(path_type=Path)

STREAM_LIMIT = 8 << 30  # the most a pipe or device given as a sequence input is read (8 GiB)


class SeqInput(click.ParamType):
    """A sequence file to read: a regular file as it is; a pipe or a device (``<(zcat r.fq.gz)``,
    /dev/stdin), which can be read only once, copied first into a temporary file (removed at
    the end), and refused at once when it does not start as FASTA, FASTQ or gzip does."""
    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os
        import stat
        import tempfile

        from dnastore.io.atomic import scratch
        p = Path(value)
        try:
            mode = os.stat(p).st_mode
        except (OSError, ValueError):
            return p  # the stage says what is wrong with it
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            return p
        fd, tmp = tempfile.mkstemp(prefix="dnastore-input-", suffix="-" + p.name[-40:])
        scratch(tmp)
        if ctx is not None:
            ctx.call_on_close(lambda: os.path.exists(tmp) and os.unlink(tmp))
        total = 0
        with open(p, "rb") as src, os.fdopen(fd, "wb") as dst:
            while True:
                block = src.read(1 << 20)
                if not block:
                    break
                if total == 0 and block[:1] not in (b">", b"@") and block[:2] != b"\x1f\x8b":
                    self.fail(f"{p}: neither FASTA nor FASTQ (first byte {block[:1]!r})", param, ctx)
                total += len(block)
                if total > STREAM_LIMIT:
                    self.fail(f"{p} gives more than {STREAM_LIMIT >> 30} GiB; save it to a file first", param, ctx)
                dst.write(block)
        streamed = ctx.meta.setdefault("dnastore.streamed", {}) if ctx is not None else {}
        streamed[Path(tmp)] = p
        return Path(tmp)


SEQ_INPUT = SeqInput()


def streamed_input(ctx_path: Path, output: Path | None) -> None:
    """A streamed input has no folder to name a default output after: ask for -o."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and output is None and ctx_path in ctx.meta.get("dnastore.streamed", {}):
        raise DnastoreError(f"{ctx.meta['dnastore.streamed'][ctx_path]} is a stream: name the output with -o")


def _scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Checked before the stage starts (a bad address or scheduler file: one line)."""
    from dnastore.parallel import LOCAL, scheduler_address
    if value is not None and value not in LOCAL:
        try:
            scheduler_address(value)
        except DnastoreError as e:
            raise click.BadParameter(e.message.removeprefix("--scheduler "), ctx, param) from None
    return value


scheduler_option = click.option(
    "--scheduler", metavar="SCHEDULER", callback=_scheduler,
    help="Run the stage's pieces on Dask: threads, processes, or the address of a dask.distributed "
         "scheduler (tcp://host:8786) [one process].")

weights_option = click.option(
    "--weights", type=PATH,
    help="Model weights: a msgpack file, or the name of shipped weights (vae-mnist-k16, vae-mnist-k16-dna, vae-mnist-k16-bsc, "
         "vae-mnist-k8, vae-mnist-k32, necst-mnist-b100-bsc0.1) [vae-mnist-k16 to encode; to decode, the "
         "shipped weights the codes name].")

oligo_options = stack(
    click.option("--code", type=click.Choice(["goldman", "dense"]), default=None,
                 help="The oligo code. goldman: ternary rotating code, no repeated base, a strand with an error is "
                      "lost (0.85 bits/nt net with the default outer code). dense: two bits per base under a "
                      "screened keystream (homopolymers <= 3, GC 40-60%), Reed-Solomon inside each strand decoded "
                      "with the consensus's per-base confidence (1.6 bits/nt net) [dense]."),
    click.option("--strand-length", type=click.IntRange(40, 10000), default=None,
                 help="Total length of each oligo in nt, primers included [150 goldman, 240 dense]."),
    click.option("--inner-parity", type=click.IntRange(1, 32), default=4, show_default=True,
                 help="dense: Reed-Solomon parity bytes inside each strand (8: the stronger inner code that "
                      "`dnastore plan` also weighs)."),
    click.option("--primers", help="Forward and reverse primer, FWD,REV (default: dnastore's 20-nt pair)."),
    click.option("--no-primers", is_flag=True, help="Oligos without primers."),
    click.option("--index-trits", type=click.IntRange(0, 40), default=0, show_default=True,
                 help="goldman: width of the strand index in trits (0: as few as needed)."),
    click.option("--check-trits", type=click.IntRange(4, 20), default=10, show_default=True,
                 help="goldman: width of the per-strand check (a keyed CRC) in trits."),
    click.option("--gc-band", default="0.40,0.60", show_default=True, help="Allowed GC fraction per oligo, LOW,HIGH."),
    click.option("--outer-redundancy", type=number(0, 4),
                 help="Parity strands per data strand of the outer Reed-Solomon code, 0 to 4 (0: off). Default, "
                      "dense: sized to a 2.5% strand loss for files (1 MB: +7%; byte-identical from coverage 5 on "
                      "the default channel), 15% for learned image codes. Goldman-style: 0.25 for files, 0.5 for "
                      "learned codes. Noisy channels need more: `dnastore plan --max-coverage` picks it (0.15 for "
                      "photolithographic synthesis at coverage 30, 0.05 for the nanopore preset at coverage 20) and "
                      "--plan applies it."),
)

quant_options = stack(
    click.option("--quantizer", type=click.Choice(["vaen", "vaeu"]), default="vaen", show_default=True,
                 help="vaen: erf transform with the training statistics, then uniform; vaeu: uniform over [-3, 3]."),
    click.option("--bits", "n_bits", type=click.IntRange(1, 16), default=8, show_default=True, help="Bits per code."),
    click.option("--store", type=click.Choice(["mu", "mu-logvar"]), default="mu", show_default=True,
                 help="Store the posterior mean only, or mean and log-variance as in the paper (2x the bits)."),
    click.option("--packing", type=click.Choice(["gray", "binary"]), default="binary", show_default=True,
                 help="Plain binary or Gray-coded codes (under bit errors binary is better for VAEN, "
                      "Gray for VAEU: see make bench-table3)."),
)

recon_options = stack(
    click.option("-o", "--output", type=PATH, required=True,
                 help="Folder to write: one PNG per image, grid.png and images.zarr."),
    click.option("--originals", type=PATH,
                 help="The original images (folder or dataset), for PSNR/SSIM/MS-SSIM and a comparison grid."),
    click.option("--resize", help="Resize the originals to WIDTHxHEIGHT first."),
)


def parse_primers(value: str | None, none: bool = False) -> tuple[str, str] | None:
    if none:
        return ("", "")
    if value is None:
        return None
    parts = value.upper().split(",")
    if len(parts) != 2 or any(set(p) - set("ACGT") for p in parts):
        raise DnastoreError(f"--primers takes FWD,REV in ACGT letters, got {value!r}")
    return parts[0], parts[1]


def parse_band(value: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in value.split(","))
    except ValueError:
        raise DnastoreError(f"--gc-band takes LOW,HIGH such as 0.4,0.6, got {value!r}") from None
    return lo, hi


def oligo_settings(kw: dict[str, Any]):
    """The oligo options popped from ``kw`` as :class:`dnastore.stages.files.OligoSettings`."""
    from dnastore.stages.files import OligoSettings
    primers, none = kw.pop("primers"), kw.pop("no_primers")
    s = OligoSettings(kw.pop("strand_length"), parse_primers(primers, none), kw.pop("index_trits"),
                      kw.pop("check_trits"), parse_band(kw.pop("gc_band")), kw.pop("outer_redundancy"),
                      kw.pop("code"), kw.pop("inner_parity"))
    return s


def plan_code(kw: dict, best: dict) -> None:
    """The oligo code, inner parity and strand length of a plan, where the command line left
    them to it (a plan's loss was measured on those strands)."""
    if kw.get("code") is None:
        kw["code"] = best["code"]
        if best["code"] == "dense" and kw.get("inner_parity") == 4:
            kw["inner_parity"] = best["inner_parity"]
    if kw.get("strand_length") is None and best.get("strand_length") is not None:
        kw["strand_length"] = best["strand_length"]


def kernel_cache() -> None:
    """Keep the simulator's compiled kernels on disk between runs (dnastore.aot)."""
    from dnastore import aot
    aot.set_cache_dir(aot.cache_base())


def jax_cache() -> None:
    """Keep compiled kernels on disk between runs: JAX's persistent compilation cache, and
    the simulator's own."""
    import os

    from dnastore import aot
    try:
        import jax
        jax.config.update("jax_compilation_cache_dir", os.path.join(aot.cache_base(), "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        kernel_cache()
    except Exception:  # a cache is an optimisation only
        pass
