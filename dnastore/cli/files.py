"""The file commands: oligo-encode, simulate, consensus, oligo-decode
(:mod:`dnastore.stages.files` does the work)."""

from __future__ import annotations

from pathlib import Path

import click

from dnastore.cli import cli
from dnastore.cli._options import (
    PATH,
    PROBABILITY,
    SEQ_INPUT,
    Run,
    common_options,
    kernel_cache,
    number,
    oligo_options,
    oligo_settings,
    parse_primers,
    plan_code,
    scheduler_option,
    streamed_input,
)


@cli.command("oligo-encode")
@click.argument("source", type=PATH)
@click.option("-o", "--output", type=PATH, help="Oligo FASTA to write [SOURCE.fasta].")
@oligo_options
@click.option("--plan", "plan_path", type=PATH, help="Take the outer redundancy from `dnastore plan`.")
@common_options
def oligo_encode(run: Run, source: Path, output: Path | None, plan_path: Path | None, **kw) -> None:
    """Encode a file or a folder tree (precise mode) or a codes Zarr (approximate mode) into oligos.

    Writes OUTPUT (FASTA, one record per strand) and OUTPUT.json, the manifest with every
    parameter the decoder needs. The pool also carries the manifest in its own header
    strands, so that its reads alone decode.

    \b
    Example:
      dnastore oligo-encode photo.jpg -o photo.fasta --outer-redundancy 0.15
      dnastore oligo-encode codes.zarr -o codes.fasta
      dnastore oligo-encode my-folder/ -o folder.fasta       # the tree, names and sha256s kept
    """
    from dnastore.stages.files import default_oligos
    from dnastore.stages.files import oligo_encode as stage
    if plan_path is not None:
        from dnastore.io.atomic import check_aliases
        from dnastore.stages.plan import planned
        out = output or default_oligos(source)
        check_aliases([out, out.with_name(out.name + ".json")], [plan_path], [out])
        best = planned(plan_path)
        kw["outer_redundancy"] = best["outer_redundancy"]
        plan_code(kw, best)
        run.log(f"the plan: {kw['code']} code" + (f", inner parity {kw['inner_parity']}" if kw["code"] == "dense" else "")
                + f", outer redundancy {best['outer_redundancy']:g}, sequence at coverage {best['coverage']:g}")
    run.report(stage(source, output, oligo_settings(kw), force=run.force, report=run))


@cli.command("simulate")
@click.argument("oligos", required=False, type=SEQ_INPUT)
@click.option("-o", "--output", type=PATH, help="Reads FASTQ to write [OLIGOS stem + .fastq].")
@click.option("--coverage", type=number(0, 1e6, lo_open=True), default=10.0, show_default=True, help="Mean reads per designed strand.")
@click.option("--preset", type=click.Choice(["illumina", "iseq100", "nanopore", "ideal"]),
              help="Sequencing error profile (sets the rates below unless given) [the preset file's, else illumina].")
@click.option("--synthesis", type=click.Choice(["twist", "customarray", "photolithographic", "ideal"]),
              help="Synthesis profile: copy-number bias, synthesis errors, truncated products [preset's].")
@click.option("--preset-file", type=PATH, help="TOML file of settings (any option below by its name with _, tables "
              "as lists); the command line's options win. See `dnastore presets`.")
@click.option("--sub", type=PROBABILITY, help="Sequencing substitution rate per base.")
@click.option("--ins", type=PROBABILITY, help="Sequencing insertion rate per base.")
@click.option("--del", "dele", type=PROBABILITY, help="Sequencing deletion rate per base.")
@click.option("--slope", type=number(0, 1, hi_open=True), help="Error rate rises from (1-slope)x to (1+slope)x along the read.")
@click.option("--profile", type=click.Choice(["flat", "iseq100", "nanopore"]),
              help="Per-cycle profile of the sequencing error rate (iseq100: dt4dds's measured one).")
@click.option("--hp-sub", type=number(0, 10), help="Sequencing substitutions x (1 + this x (run - 1)) in a homopolymer run.")
@click.option("--hp-ins", type=number(0, 10), help="Sequencing insertions x (1 + this x (run - 1)) in a homopolymer run.")
@click.option("--hp-del", type=number(0, 10), help="Sequencing deletions x (1 + this x (run - 1)) in a homopolymer run.")
@click.option("--read-sd", type=number(0, 2), help="Spread of the reads' own error rates (lognormal sigma).")
@click.option("--rc-fraction", type=PROBABILITY, help="Fraction of reads that are reverse complements.")
@click.option("--bias", type=number(0, 10), help="Copy-number spread (sigma of the lognormal; 0.30 Twist, 1.30 CustomArray).")
@click.option("--copy-dist", type=click.Choice(["lognormal", "negbin"]), help="Copy-number distribution.")
@click.option("--dropout", type=PROBABILITY, help="Probability that a strand is lost in synthesis.")
@click.option("--synth-sub", type=PROBABILITY, help="Synthesis substitution rate per base.")
@click.option("--synth-ins", type=PROBABILITY, help="Synthesis insertion rate per base.")
@click.option("--synth-del", type=PROBABILITY, help="Synthesis deletion rate per base.")
@click.option("--synth-hp", type=number(0, 10), help="Synthesis errors x (1 + this x (run - 1)) in a homopolymer run.")
@click.option("--trunc", type=click.Choice(["none", "photolithographic"]),
              help="Truncated synthesis products: a length table (lists go in --preset-file).")
@click.option("--trunc-at", type=click.Choice(["start", "end", "even"]), help="Which end truncated products miss.")
@click.option("--halflives", type=number(0, 30), help="Aging: half-lives of decay (breakage biased to G and A, "
              "deamination); 0 = none.")
@click.option("--deamination", type=PROBABILITY, help="Aging substitutions per base per half-life.")
@click.option("--pcr-cycles", type=number(0, 60, integer=True), help="PCR cycles before sequencing (0 = none).")
@click.option("--pcr-eff", type=PROBABILITY, help="Mean PCR efficiency per cycle.")
@click.option("--pcr-eff-sd", type=PROBABILITY, help="Per-strand spread of PCR efficiency (relative sd of 1 + efficiency).")
@click.option("--polymerase", type=click.Choice(["taq", "hifi", "q5"]), help="PCR polymerase: its substitution rate and spectrum.")
@click.option("--pcr-sub", type=PROBABILITY, help="Polymerase substitutions per base per cycle [polymerase's].")
@click.option("--copies", type=number(0, 1e9), help="Template molecules per strand taken into PCR/sequencing "
              "(Poisson sampling; 0 = the whole pool).")
@click.option("--truth", type=PATH, help="Also write a TSV mapping each read to its source strand (for evaluation only).")
@scheduler_option
@common_options
def simulate(run: Run, oligos: Path | None, output: Path | None, coverage: float, preset: str | None,
             synthesis: str | None, preset_file: Path | None, truth: Path | None, scheduler: str | None, **rates) -> None:
    """Simulate synthesis and sequencing of an oligo FASTA; write reads as FASTQ.

    With no OLIGOS, the newest `oligo-encode`/`encode` output in the current folder is used.
    The FASTQ gets a sidecar OUTPUT.json with the run's provenance and the oligos' manifest,
    so that `consensus` and `oligo-decode` need no further flags.

    \b
    Example:
      dnastore simulate photo.fasta --coverage 10 -o reads.fastq
      dnastore simulate --coverage 3 --preset nanopore --seed 7
      dnastore simulate o.fasta --synthesis photolithographic --pcr-cycles 20 --halflives 1
      dnastore simulate o.fasta --preset-file my-lab.toml --coverage 30
    """
    from dnastore.stages.files import simulate as stage
    if oligos is not None:
        streamed_input(oligos, output)
    kernel_cache()
    run.report(stage(oligos, output, coverage=coverage, preset=preset, synthesis=synthesis, rates=rates,
                     preset_file=preset_file, truth=truth,
                     seed=run.seed, scheduler=scheduler, force=run.force, report=run))


@cli.command("presets")
@click.argument("preset", required=False, type=click.Choice(["illumina", "iseq100", "nanopore", "ideal"]))
@click.option("--synthesis", type=click.Choice(["twist", "customarray", "photolithographic", "ideal"]))
@click.option("--polymerase", type=click.Choice(["taq", "hifi", "q5"]))
def presets(preset: str | None, synthesis: str | None, polymerase: str | None) -> None:
    """List the simulator's presets, or one preset's every setting with its published source.

    \b
    Example:
      dnastore presets
      dnastore presets nanopore
      dnastore presets illumina --synthesis photolithographic
    """
    from dnastore.channel.presets import POLYMERASES, PRESETS, SYNTHESIS, describe
    if preset is None:
        click.echo("sequencing presets: " + ", ".join(PRESETS))
        click.echo("synthesis profiles: " + ", ".join(SYNTHESIS))
        click.echo("polymerases: " + ", ".join(POLYMERASES))
        click.echo("`dnastore presets NAME` lists every setting with its source; a --preset-file (TOML) overrides them.")
        return
    for k, v, src in describe(preset, synthesis, polymerase):
        shown = v if not isinstance(v, tuple) else f"[{len(v)} values]"
        click.echo(f"{k:15s} {str(shown):20s} {src}")


@cli.command("consensus")
@click.argument("reads", type=SEQ_INPUT)
@click.option("-o", "--output", type=PATH, help="Consensus strands: FASTQ, whose qualities are each base's confidence (the decoder "
              "uses them), or FASTA (the calls alone), by the name's suffix [READS stem + .consensus.fastq].")
@click.option("--manifest", type=PATH,
              help="Manifest of the oligos (default: the one carried in READS.json, else inferred from the reads).")
@click.option("--primers", help="Primers FWD,REV, for reads with no manifest.")
@click.option("--length", "strand_length", type=number(12, 10000, integer=True), help="Oligo length, for reads with no manifest.")
@click.option("--method", type=click.Choice(["vote", "spoa"]), default="vote", show_default=True,
              help="vote: quality-weighted column vote (spoa only where needed); spoa: partial-order alignment.")
@click.option("--min-size", type=click.IntRange(1), default=1, show_default=True, help="Smallest cluster kept.")
@click.option("--tmp-dir", type=PATH, help="Folder for the read shards of a large file (shared with the workers of "
              "a Dask cluster) [the system's temporary folder].")
@scheduler_option
@common_options
def consensus(run: Run, reads: Path, output: Path | None, manifest: Path | None, primers: str | None,
              strand_length: int | None, method: str, min_size: int, tmp_dir: Path | None,
              scheduler: str | None) -> None:
    """Cluster reads (FASTQ or FASTA, gzip allowed) and call one strand per cluster.

    \b
    Example:
      dnastore consensus reads.fastq -o consensus.fastq
      dnastore consensus peer_reads.fq.gz --manifest photo.fasta.json
    """
    from dnastore.stages.files import consensus as stage
    streamed_input(reads, output)
    run.report(stage(reads, output, manifest=manifest, primers=parse_primers(primers), strand_length=strand_length,
                     method=method, min_size=min_size, tmp_dir=tmp_dir, scheduler=scheduler, force=run.force,
                     report=run))


@cli.command("oligo-decode")
@click.argument("strands", type=SEQ_INPUT)
@click.option("-o", "--output", type=PATH,
              help="Restored file, or codes Zarr in approximate mode [STRANDS stem + .out / .codes.zarr].")
@click.option("--manifest", type=PATH, help="The oligos' manifest (default: the one beside STRANDS).")
@click.option("--partial", is_flag=True, help="Precise mode: write a best-effort file even with strands missing.")
@scheduler_option
@common_options
def oligo_decode(run: Run, strands: Path, output: Path | None, manifest: Path | None, partial: bool,
                 scheduler: str | None) -> None:
    """Decode consensus strands (or any FASTA of oligos) back into the file, the folder tree
    or the codes. The manifest comes from the pool's header strands; a sidecar or --manifest,
    where given, is checked against them. From a FASTQ, the qualities are each base's
    confidence: the dense code's inner decoder erases its least sure bytes.

    \b
    Example:
      dnastore oligo-decode consensus.fastq -o photo.jpg
      dnastore oligo-decode consensus.fasta --manifest codes.fasta.json -o codes_out.zarr
    """
    from dnastore.stages.files import oligo_decode as stage
    streamed_input(strands, output)
    run.report(stage(strands, output, manifest=manifest, partial=partial, scheduler=scheduler, force=run.force,
                     report=run))
