"""The ``dnastore`` command line: one command per pipeline stage.

Shared options (``--seed``, ``--force``, ``--progress/--no-progress``, ``-v``, ``--json``)
are declared once in :func:`common_options` and attached to every command.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from dnastore import __version__
from dnastore.errors import DnastoreError
from dnastore.parallel import scheduler_option


@dataclass
class Run:
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
        else:
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
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
    @functools.wraps(f)
    def wrapper(seed, force, progress, verbose, as_json, **kw):
        return f(Run(seed, force, progress, verbose, as_json), **kw)
    return wrapper


class _Group(click.Group):
    """The command group: file commands defined here, the image-side ones in
    :mod:`dnastore.cli_images`, imported only when one of them (or the list) is asked for."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or (_image_commands() and super().get_command(ctx, name))

    def list_commands(self, ctx: click.Context) -> list[str]:
        _image_commands()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DnastoreError:
            raise
        except click.UsageError as e:  # a bad option or argument: one line, pointing at --help
            sub = e.ctx.command_path if e.ctx is not None else "dnastore"
            raise DnastoreError(f"{e.format_message()} (see '{sub} --help')") from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except EOFError as e:  # gzip.open's reader on a cut-off stream
            raise DnastoreError(f"a gzip input is truncated ({e})") from None
        except ValueError as e:
            if "null byte" in str(e):  # a NUL in a path: os.* refuse it with a bare ValueError
                raise DnastoreError("a path given contains a NUL byte") from None
            raise self._internal(e) from None
        except OSError as e:
            raise DnastoreError(f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from None
        except Exception as e:  # a bug, not bad input: one line unless -v
            import zlib
            if isinstance(e, zlib.error):
                raise DnastoreError(f"a gzip input is corrupt ({e})") from None
            raise self._internal(e) from None

    @staticmethod
    def _internal(e: Exception) -> click.ClickException:
        if "-v" in sys.argv or "--verbose" in sys.argv or any(re.fullmatch(r"-v+", a) for a in sys.argv):
            traceback.print_exc()
        return click.ClickException(f"internal error ({type(e).__name__}: {e}); rerun with -v for details")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dnastore")
def cli() -> None:
    """Store images (or any file) in synthetic DNA, simulate the wet lab, and read them back.

    \b
    Images: compress -> quantize -> oligo-encode -> simulate -> consensus -> oligo-decode
            -> dequantize -> reconstruct   (composites: encode, simulate, decode)
    Files:  oligo-encode -> simulate -> consensus -> oligo-decode
    Each stage reads one artifact and writes the next; see `dnastore COMMAND --help`.
    """


def _cache_base() -> str:
    return os.environ.get("DNASTORE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "dnastore")


def _setup_kernel_cache() -> None:
    """Keep the simulator's compiled kernels on disk between runs (dnastore.aot); JAX itself
    is imported only to build a missing one."""
    from dnastore import aot
    aot.set_cache_dir(_cache_base())


def _setup_jax_cache() -> None:
    """Keep compiled kernels on disk between runs (JAX's persistent compilation cache)."""
    base = _cache_base()
    try:
        import jax
        jax.config.update("jax_compilation_cache_dir", os.path.join(base, "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        _setup_kernel_cache()
    except Exception:  # a cache is an optimisation only
        pass


def _parse_primers(value: str | None, none: bool) -> tuple[str, str] | None:
    if none:
        return ("", "")
    if value is None:
        return None
    parts = value.upper().split(",")
    if len(parts) != 2 or any(set(p) - set("ACGT") for p in parts):
        raise DnastoreError(f"--primers takes FWD,REV in ACGT letters, got {value!r}")
    return parts[0], parts[1]


def _parse_band(value: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in value.split(","))
    except ValueError:
        raise DnastoreError(f"--gc-band takes LOW,HIGH such as 0.4,0.6, got {value!r}") from None
    return lo, hi


# ----------------------------------------------------------------------------- oligo-encode
def oligo_options(f: Callable) -> Callable:
    """The oligo layout options, shared by ``oligo-encode`` and ``encode``."""
    opts = [
        click.option("--strand-length", type=click.IntRange(40, 10000), default=150, show_default=True,
                     help="Total length of each oligo in nt, primers included."),
        click.option("--primers", help="Forward and reverse primer, FWD,REV (default: dnastore's 20-nt pair)."),
        click.option("--no-primers", is_flag=True, help="Oligos without primers."),
        click.option("--index-trits", type=click.IntRange(0, 40), default=0, show_default=True,
                     help="Width of the strand index in trits (0: as few as needed)."),
        click.option("--check-trits", type=click.IntRange(4, 20), default=10, show_default=True,
                     help="Width of the per-strand check (a keyed CRC) in trits."),
        click.option("--gc-band", default="0.40,0.60", show_default=True, help="Allowed GC fraction per oligo, LOW,HIGH."),
        click.option("--outer-redundancy", type=float, default=0.0, show_default=True,
                     help="Parity strands per data strand of the outer Reed-Solomon code (0: off). "
                          "Use 0.1-0.3 to store files precisely; 1.5 or more keeps images at coverage 1 (at most 4)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


@dataclass
class OligoSettings:
    strand_length: int
    primers: str | None
    no_primers: bool
    index_trits: int
    check_trits: int
    gc_band: str
    outer_redundancy: float

    @classmethod
    def pop(cls, kw: dict[str, Any]) -> "OligoSettings":
        return cls(**{k: kw.pop(k) for k in ("strand_length", "primers", "no_primers", "index_trits",
                                              "check_trits", "gc_band", "outer_redundancy")})

    def layout(self):
        from dnastore.dna.codec import DEFAULT_PRIMERS, Layout
        from dnastore.dna.outer import MAX_REDUNDANCY
        if not 0 <= self.outer_redundancy <= MAX_REDUNDANCY:
            raise DnastoreError(f"--outer-redundancy must be in [0, {MAX_REDUNDANCY:g}], got {self.outer_redundancy}")
        return Layout(self.strand_length, _parse_primers(self.primers, self.no_primers) or DEFAULT_PRIMERS,
                      self.index_trits, self.check_trits, _parse_band(self.gc_band))

    def params(self, layout) -> dict[str, Any]:
        return {"strand_length": self.strand_length, "primers": list(layout.primers), "index_trits": self.index_trits,
                "check_trits": self.check_trits, "gc_band": list(layout.gc_band),
                "outer_redundancy": self.outer_redundancy}


def write_oligos(run: Run, payload: bytes, extra: dict[str, Any], output: Path, opts: OligoSettings,
                 prov: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Encode ``payload`` into strands and write OUTPUT + OUTPUT.json atomically; returns the
    summary. ``prov(params)`` builds the provenance record from the layout parameters."""
    import numpy as np

    from dnastore.dna.codec import encode_payload
    from dnastore.io.atomic import atomic_outputs, check_writable
    from dnastore.io.manifest import seal_manifest, sidecar_path, write_json
    from dnastore.io.seqio import write_fasta

    check_writable(output, run.force)
    layout = opts.layout()
    enc = encode_payload(payload, layout, unit=1, redundancy=opts.outer_redundancy or None, extra=extra)
    man = enc.manifest
    summary: dict[str, Any] = {}
    if man["mode"] == "codes":
        c = man["codes"]
        n_img, d = c["shape"]
        total_nt = man["n_strands"] * opts.strand_length
        inner_nt = man["n_strands"] * (opts.strand_length - sum(len(p) for p in layout.primers))
        per = {"images": n_img, "bits_per_image": int(c["n_bits"]) * d, "nt_per_image": total_nt / n_img,
               "nt_per_image_without_primers": inner_nt / n_img}
        shape = c["attrs"].get("image_shape")
        if isinstance(shape, list) and shape and all(isinstance(v, int) and v > 0 for v in shape):
            per["bits_per_pixel"] = per["bits_per_image"] / float(np.prod(shape))
        man["per_image"] = per
        summary = dict(per)
    seal_manifest(man)
    man["provenance"] = prov(opts.params(layout))
    with atomic_outputs(run.force) as outs:
        tmp = outs.path(output)
        write_fasta(tmp, ((f"s{i:07d}", s) for i, s in enumerate(enc.strands)), target_name=output.name)
        write_json(outs.path(sidecar_path(output)), man)
    return {"output": str(output), "manifest": str(sidecar_path(output)), "mode": man["mode"],
            "encoding_id": man["encoding_id"], "strands": man["n_strands"], "data_strands": man["n_data_strands"],
            "strand_length": opts.strand_length, "bytes_per_strand": man["bytes_per_strand"],
            "payload_bytes": man["payload_bytes"], "density": man["density"],
            "gc_min": float(enc.gc.min()), "gc_max": float(enc.gc.max()), **summary,
            "input_digest": next(iter(man["provenance"]["inputs"].values()), {}).get("digest")}


@cli.command("oligo-encode")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Oligo FASTA to write [SOURCE.fasta].")
@oligo_options
@common_options
def oligo_encode(run: Run, source: Path, output: Path | None, **kw) -> None:
    """Encode a file (precise mode) or a codes Zarr (approximate mode) into oligos.

    Writes OUTPUT (FASTA, one record per strand) and OUTPUT.json, the manifest with every
    parameter the decoder needs.

    \b
    Example:
      dnastore oligo-encode photo.jpg -o photo.fasta --outer-redundancy 0.15
      dnastore oligo-encode codes.zarr -o codes.fasta
    """
    from dnastore.io.provenance import provenance

    opts = OligoSettings.pop(kw)
    if not source.exists():
        raise DnastoreError(f"{source}: no such file or folder")
    opts.layout()
    output = output or source.with_name(source.name.rstrip("/").removesuffix(".zarr") + ".fasta")
    if (source / "zarr.json").is_file():
        from dnastore.dna.approx import codes_payload
        from dnastore.io.zarrio import read_codes
        codes, attrs, extra_arrays = read_codes(source)
        payload, extra = codes_payload(codes, attrs, extra_arrays)
    elif source.is_dir():
        raise DnastoreError(f"{source} is a folder but not a codes Zarr artifact")
    else:
        payload = source.read_bytes()
        if not payload:
            raise DnastoreError(f"{source} is empty: nothing to encode")
        extra = {"mode": "file", "file_name": source.name, "sha256": hashlib.sha256(payload).hexdigest()}
    # file mode has hashed its payload already: the provenance takes that digest
    known = {"source": "sha256:" + extra["sha256"]} if extra["mode"] == "file" else None
    run.report(write_oligos(run, payload, extra, output, opts,
                            lambda params: provenance("oligo-encode", params, {"source": source}, digests=known)))


# ----------------------------------------------------------------------------- simulate
def _last_encoding(folder: Path) -> Path:
    """The newest oligo FASTA (one with a dnastore manifest beside it) in ``folder``."""
    cands = []
    for p in folder.iterdir():
        side = p.with_name(p.name + ".json")
        if p.is_file() and side.exists() and p.suffix in (".fasta", ".fa", ".gz"):
            try:
                if json.loads(side.read_text()).get("kind") == "dnastore-oligos":
                    cands.append(p)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
    if not cands:
        raise DnastoreError(f"no oligo FASTA with a manifest in {folder}; give the FASTA to simulate")
    return max(cands, key=lambda p: p.stat().st_mtime_ns)


@cli.command("simulate")
@click.argument("oligos", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Reads FASTQ to write [OLIGOS stem + .fastq].")
@click.option("--coverage", type=float, default=10.0, show_default=True, help="Mean reads per designed strand.")
@click.option("--preset", type=click.Choice(["illumina", "nanopore", "ideal"]), default="illumina", show_default=True,
              help="Sequencing error profile (sets the rates below unless given).")
@click.option("--synthesis", type=click.Choice(["twist", "customarray", "ideal"]),
              help="Synthesis profile: copy-number bias and synthesis errors [preset's].")
@click.option("--sub", type=float, help="Sequencing substitution rate per base.")
@click.option("--ins", type=float, help="Sequencing insertion rate per base.")
@click.option("--del", "dele", type=float, help="Sequencing deletion rate per base.")
@click.option("--slope", type=float, help="Error rate rises from (1-slope)x to (1+slope)x along the read.")
@click.option("--rc-fraction", type=float, help="Fraction of reads that are reverse complements.")
@click.option("--bias", type=float, help="Copy-number spread (sigma of the lognormal; 0.30 Twist, 1.30 CustomArray).")
@click.option("--copy-dist", type=click.Choice(["lognormal", "negbin"]), help="Copy-number distribution.")
@click.option("--dropout", type=float, help="Probability that a strand is lost in synthesis.")
@click.option("--synth-sub", type=float, help="Synthesis substitution rate per base.")
@click.option("--synth-del", type=float, help="Synthesis deletion rate per base.")
@click.option("--truth", type=click.Path(path_type=Path),
              help="Also write a TSV mapping each read to its source strand (for evaluation only).")
@scheduler_option
@common_options
def simulate(run: Run, oligos: Path | None, output: Path | None, coverage: float, preset: str, synthesis: str | None,
             truth: Path | None, scheduler: str | None, **rates) -> None:
    """Simulate synthesis and sequencing of an oligo FASTA; write reads as FASTQ.

    With no OLIGOS, the newest `oligo-encode`/`encode` output in the current folder is used.
    The FASTQ gets a sidecar OUTPUT.json with the run's provenance and the oligos' manifest,
    so that `consensus` and `oligo-decode` need no further flags.

    \b
    Example:
      dnastore simulate photo.fasta --coverage 10 -o reads.fastq
      dnastore simulate --coverage 3 --preset nanopore --seed 7
    """
    import numpy as np

    from dnastore.channel.dna import format_fastq, params_dict, preset_params, read_name, simulate_reads
    from dnastore.parallel import Executor
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.manifest import load_manifest, sidecar_path, write_json
    from dnastore.io.provenance import provenance
    from dnastore.io.seqio import FastqWriter, read_fasta_matrix

    if coverage <= 0:
        raise DnastoreError(f"--coverage must be > 0, got {coverage}")
    _setup_kernel_cache()
    if oligos is None:
        oligos = _last_encoding(Path.cwd())
        run.log(f"using {oligos.name}, the newest encoding here")
    params = preset_params(preset, synthesis, coverage=coverage, **rates)
    names, mat, lens = read_fasta_matrix(oligos)
    side = sidecar_path(oligos)
    manifest = load_manifest(side) if side.exists() else None
    output = output or oligos.with_name(oligos.name.split(".")[0] + ".fastq")
    executor = Executor(scheduler)
    n_reads, weights, batches = simulate_reads(mat, lens, params, run.seed, executor=executor)
    errs = np.zeros(3, dtype=np.int64)
    n_rc = 0
    with atomic_outputs(run.force) as outs:
        tmp = outs.path(output)
        tf = open(outs.path(truth), "w") if truth else None
        try:
            if tf:
                tf.write("read\tstrand\tstrand_name\treverse\tsubstitutions\tinsertions\tdeletions\n")
            with FastqWriter(tmp, target_name=output.name) as w, run.bar(n_reads, "simulating") as bar:
                done = 0
                for b in batches:
                    w.write_text(format_fastq(b), len(b.lens))
                    if tf:
                        tf.write("".join(f"{read_name(done + j)}\t{b.source[j]}\t{names[b.source[j]]}\t{int(b.rc[j])}\t"
                                         f"{b.errors[j, 0]}\t{b.errors[j, 1]}\t{b.errors[j, 2]}\n"
                                         for j in range(len(b.lens))))
                    errs += b.errors.sum(axis=0)
                    n_rc += int(b.rc.sum())
                    done += len(b.lens)
                    bar.update(len(b.lens))
        finally:
            if tf:
                tf.close()
            executor.close()
        prov = provenance("simulate", {"preset": preset, "synthesis": synthesis, "seed": run.seed,
                                       **params_dict(params)}, {"oligos": oligos})
        write_json(outs.path(sidecar_path(output)), {"kind": "dnastore-reads", "provenance": prov,
                                                     "manifest": manifest})
    total_bases = float(lens.mean()) * n_reads
    run.report({"output": str(output), "oligos": str(oligos), "reads": n_reads, "strands": len(names),
                "coverage": coverage, "preset": preset, "strands_dropped": int((weights == 0).sum()),
                "strands_unsampled_expected": float(np.exp(-coverage * weights / max(weights.mean(), 1e-12)).sum()),
                "reverse_reads": n_rc,
                "error_rates": {"sub": errs[0] / total_bases, "ins": errs[1] / total_bases, "del": errs[2] / total_bases},
                "truth": str(truth) if truth else None})


# ----------------------------------------------------------------------------- consensus
@cli.command("consensus")
@click.argument("reads", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Consensus FASTA [READS stem + .consensus.fasta].")
@click.option("--manifest", type=click.Path(path_type=Path),
              help="Manifest of the oligos (default: the one carried in READS.json, else inferred from the reads).")
@click.option("--primers", help="Primers FWD,REV, for reads with no manifest.")
@click.option("--length", "strand_length", type=int, help="Oligo length, for reads with no manifest.")
@click.option("--method", type=click.Choice(["vote", "spoa"]), default="vote", show_default=True,
              help="vote: quality-weighted column vote (spoa only where needed); spoa: partial-order alignment.")
@click.option("--min-size", type=click.IntRange(1), default=1, show_default=True, help="Smallest cluster kept.")
@click.option("--tmp-dir", type=click.Path(path_type=Path), help="Folder for the read shards of a large file (shared with the workers of a Dask cluster) [the system's temporary folder].")
@scheduler_option
@common_options
def consensus(run: Run, reads: Path, output: Path | None, manifest: Path | None, primers: str | None,
              strand_length: int | None, method: str, min_size: int, tmp_dir: Path | None,
              scheduler: str | None) -> None:
    """Cluster reads (FASTQ or FASTA, gzip allowed) and call one strand per cluster.

    \b
    Example:
      dnastore consensus reads.fastq -o consensus.fasta
      dnastore consensus peer_reads.fq.gz --manifest photo.fasta.json
    """
    import numpy as np

    from dnastore.consensus.call import Design, infer_design
    from dnastore.consensus.stream import first_reads, stream_consensus
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.manifest import carried_manifest, load_manifest, sidecar_path, write_json
    from dnastore.io.provenance import provenance
    from dnastore.io.seqio import write_fasta

    man = None
    if manifest is not None:
        man = load_manifest(manifest)
    elif sidecar_path(reads).exists():
        man = carried_manifest(sidecar_path(reads))
    # the input's digest (for provenance) is hashed in a thread while the reads are worked on
    from concurrent.futures import ThreadPoolExecutor

    from dnastore.io.provenance import file_digest
    hasher = ThreadPoolExecutor(max_workers=1)
    digest = hasher.submit(file_digest, reads)
    if man is not None:
        design, source = Design.from_manifest(man), "manifest"
    elif primers is not None or strand_length is not None:
        p = _parse_primers(primers, False) or ("", "")
        total = strand_length or int(np.bincount(first_reads(reads).lens).argmax())
        design, source = Design(p[0], p[1], total - len(p[0]) - len(p[1])), "options"
    else:
        head = first_reads(reads)
        design, source = infer_design([head.seq(i) for i in range(min(len(head), 5000))]), "inferred"
        run.log(f"no manifest: inferred primers {design.p1 or '-'} / {design.p2 or '-'} and core length "
                f"{design.core_len}", 1)
    if design.core_len <= 0:
        raise DnastoreError("the oligo length leaves no room between the primers")
    # in memory when the file is one chunk; else trimmed chunk by chunk into shards on disk
    from dnastore.parallel import Executor
    with run.bar(2, "consensus (trim, then cluster and call)") as bar, Executor(scheduler) as executor:
        strands, tstats, cstats = stream_consensus(reads, design, method=method, min_size=min_size, tmp_dir=tmp_dir,
                                                   progress=lambda _: bar.update(1), executor=executor)
    output = output or reads.with_name(reads.name.split(".")[0] + ".consensus.fasta")
    prov = provenance("consensus", {"method": method, "min_size": min_size, "design_from": source,
                                    "primers": [design.p1, design.p2], "core_length": design.core_len},
                      {"reads": reads}, digests={"reads": digest.result()})
    hasher.shutdown()
    with atomic_outputs(run.force) as outs:
        write_fasta(outs.path(output), ((f"c{i:07d};size={n}", s) for i, (s, n) in enumerate(strands)),
                    target_name=output.name)
        write_json(outs.path(sidecar_path(output)), {"kind": "dnastore-consensus", "provenance": prov, "manifest": man})
    run.report({"output": str(output), "design_from": source, **tstats,
                "clusters": cstats["clusters"], "strands": cstats["kept"], "spoa_clusters": cstats["spoa_clusters"],
                "projected_reads": cstats["projected_reads"], "indel_rich": cstats["indel_rich"]})


# ----------------------------------------------------------------------------- oligo-decode
_SIZE = re.compile(r";size=(\d+)")


@cli.command("oligo-decode")
@click.argument("strands", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Restored file, or codes Zarr in approximate mode [STRANDS stem + .out / .codes.zarr].")
@click.option("--manifest", type=click.Path(path_type=Path),
              help="The oligos' manifest (default: the one beside STRANDS).")
@click.option("--partial", is_flag=True, help="Precise mode: write a best-effort file even with strands missing.")
@scheduler_option
@common_options
def oligo_decode(run: Run, strands: Path, output: Path | None, manifest: Path | None, partial: bool,
                 scheduler: str | None) -> None:
    """Decode consensus strands (or any FASTA of oligos) back into the file or the codes.

    \b
    Example:
      dnastore oligo-decode consensus.fasta -o photo.jpg
      dnastore oligo-decode consensus.fasta --manifest codes.fasta.json -o codes_out.zarr
    """
    from dnastore.dna.codec import assemble_payload, decode_strands
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.manifest import find_manifest
    from dnastore.io.provenance import provenance
    from dnastore.io.seqio import read_strands

    man, man_path = find_manifest(strands, manifest)
    found = [(s, _SIZE.search(name)) for name, s in read_strands(strands)]
    recs = [(s, int(m.group(1)) if m else 1) for s, m in found]
    from dnastore.parallel import Executor
    with Executor(scheduler) as executor:
        dec = decode_strands(recs, man, executor=executor)
    st = dec.stats
    mode = man.get("mode", "file")
    if st["valid"] == 0 and st["strands_in"] > 0 and mode == "file":
        raise DnastoreError(
            f"none of the {st['strands_in']} strands in {strands} passes the check of manifest {man_path} "
            f"(encoding {man['encoding_id']}): the manifest is from another encoding, or the reads are unusable")
    prov = provenance("oligo-decode", {"manifest_encoding_id": man["encoding_id"], "partial": partial},
                      {"strands": strands, "manifest": man_path})
    if mode == "codes":
        from dnastore.io.zarrio import CODES_KIND, write_group
        from dnastore.dna.approx import codes_from_payload
        payload, erased_bytes, stats = assemble_payload(dec, man, allow_partial=True)
        codes, erased, side, attrs = codes_from_payload(payload, erased_bytes, man)
        if st["valid"] == 0:
            run.warn(f"no strand of {strands} could be decoded: every code is erased")
        arrays = {"codes": codes, "erased": erased, **side}
        attrs = {**attrs, "kind": CODES_KIND, "provenance": prov}
        output = output or strands.with_name(strands.name.split(".")[0] + ".codes.zarr")
        with atomic_outputs(run.force) as outs:
            write_group(outs.path(output), arrays, attrs)
        summary = {"codes_erased": int(erased.sum()), "codes_total": int(erased.size)}
    else:
        payload, erased_bytes, stats = assemble_payload(dec, man, allow_partial=partial)
        verified = hashlib.sha256(payload).hexdigest() == man.get("sha256")
        if not verified and not partial:
            raise DnastoreError("the restored payload does not match the original's sha256; "
                                "pass --partial to keep a best-effort copy")
        output = output or strands.with_name(strands.name.split(".")[0] + ".out")
        with atomic_outputs(run.force) as outs:
            outs.path(output).write_bytes(payload)
        summary = {"bytes": len(payload), "sha256_verified": verified, "bytes_erased": int(erased_bytes.sum())}
        if erased_bytes.any():
            run.warn(f"{int(erased_bytes.sum())} bytes could not be restored and are zero in {output}")
    run.report({"output": str(output), "mode": mode, "encoding_id": man["encoding_id"], **summary,
                "strands_in": st["strands_in"], "strands_valid": st["valid"], "strands_recovered": st["recovered"],
                "data_strands_missing": stats["data_strands_missing"], "wrong_length": st["wrong_length"],
                "failed_check": st["failed_check"], "outer": stats.get("outer")})


def _image_commands() -> bool:
    """Register the image-side commands (their module adds them to the group on import)."""
    importlib.import_module("dnastore.cli_images")
    return True


def main() -> None:
    try:
        cli(prog_name="dnastore")
    except SystemExit as e:
        _leave(e.code)
    _leave(0)


def _leave(code) -> None:
    """Exit with ``code`` without the interpreter's teardown: finalising the loaded modules
    takes about 0.2 s once JAX and the XLA client are in (30 ms with numpy alone), longer than
    the work of some commands. By this point every artifact is written, renamed into place
    and closed, temporary folders are gone and worker threads joined; the atexit handlers
    still run and stdio is flushed."""
    if code is None:
        code = 0
    import atexit
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if not isinstance(code, int) or run_exitfuncs is None:  # a message (Python prints it), or no way to run atexit
        raise SystemExit(code)
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":  # `python -m dnastore.cli`: run the imported module's group, which has every command
    from dnastore.cli import main as _main
    _main()
