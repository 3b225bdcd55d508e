"""The image commands: dataset, train, the VAE's stages (compress, quantize, dequantize,
reconstruct), the composites encode and decode, and bench (:mod:`dnastore.stages.images`
does the work). Registered on the group of :mod:`dnastore.cli` when first asked for."""

from __future__ import annotations

from pathlib import Path

import click

from dnastore.cli import cli
from dnastore.cli._options import (
    PATH,
    SEQ_INPUT,
    Run,
    Setting,
    common_options,
    jax_cache,
    number,
    oligo_options,
    oligo_settings,
    plan_code,
    quant_options,
    recon_options,
    scheduler_option,
    weights_option,
)
from dnastore.errors import DnastoreError
from dnastore.io.schema import LEARNING_RATE

CODECS = ["vae", "necst", "photo", "jpeg", "png", "webp", "avif", "jp2"]  # dnastore.codecs.base.codec_names(), without importing it


@cli.command("dataset")
@click.argument("source")
@click.option("-o", "--output", type=PATH, required=True, help="Dataset Zarr to write.")
@click.option("--split", type=click.Choice(["train", "valid", "test"]), default="test", show_default=True,
              help="MNIST split (SOURCE = mnist).")
@click.option("--limit", type=click.IntRange(1), help="Keep only the first N images.")
@click.option("--resize", help="Resize every image to WIDTHxHEIGHT (folders only).")
@click.option("--rgb", is_flag=True, help="Keep colour (default: convert to grey).")
@click.option("--binarize", is_flag=True,
              help="Static binarization: each pixel becomes 255 with probability intensity/255, drawn once from --seed.")
@click.option("--length", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Bits per example (SOURCE = random-bits).")
@common_options
def dataset(run: Run, source: str, output: Path, **kw) -> None:
    """Build a dataset artifact from MNIST (SOURCE = mnist), random bit strings (SOURCE =
    random-bits, NECST's synthetic set: Bern(0.5) strings, 5k/1k/1k), or a folder of PNG/JPEG
    images.

    \b
    Example:
      dnastore dataset mnist --split train -o mnist-train.zarr
      dnastore dataset mnist --split train --binarize -o bmnist-train.zarr
      dnastore dataset random-bits --split train --length 100 -o bits-train.zarr
      dnastore dataset photos/ --resize 28x28 -o photos.zarr
    """
    from dnastore.stages.images import dataset as stage
    run.report(stage(source, output, seed=run.seed, force=run.force, **kw))


@cli.command("train")
@click.argument("data", type=PATH)
@click.option("--valid", type=PATH, help="Validation dataset (default: the last 10% of DATA).")
@click.option("--test", "test_data", type=PATH, help="Test dataset, evaluated once at the end.")
@click.option("--config", type=PATH, help="Model config JSON (latent, likelihood, upsample, ...).")
@click.option("--latent", type=click.IntRange(1, 4096), help="Latent size K, or NECST's code bits (overrides the config).")
@click.option("--epochs", type=click.IntRange(1), default=30, show_default=True, help="Train until this many epochs in all.")
@click.option("--batch-size", type=click.IntRange(1), help="Batch size [64 for the VAE, 100 for NECST].")
@click.option("--codec", type=click.Choice(["vae", "necst", "photo"]), default="vae", show_default=True,
              help="The VAE of the Generative DNA paper, NECST (bits trained through a BSC/BEC), or the photo codec "
                   "(fine-tuned from its shipped weights on DATA, a folder of photos).")
@click.option("--steps", type=click.IntRange(1), default=300, show_default=True,
              help="photo: fine-tuning steps (batches of 8 random 128x128 crops; about 0.5 s each here).")
@click.option("--weights", type=PATH, help="photo: the weights to start from [photo-dna, shipped].")
@click.option("--channel", type=click.Choice(["bsc", "bec"]), help="NECST: the training channel [bsc].")
@click.option("--eps", type=number(0.0, 0.99), help="NECST: the training channel's flip or erasure probability [0.1].")
@click.option("--arch", type=click.Choice(["mlp", "cnn-svhn", "cnn-cifar", "cnn-celeba"]),
              help="NECST: the supplement's architecture [mlp]; the CNNs want 32x32 (svhn, cifar) or 64x64 (celeba) colour.")
@click.option("--likelihood", type=click.Choice(["bernoulli", "gaussian"]),
              help="NECST: the decoder's likelihood [bernoulli]; gaussian (fixed sigma) for grey or colour pixels.")
@click.option("--lr", type=Setting(LEARNING_RATE), default=1e-3, show_default=True, help="Learning rate of Adam.")
@click.option("--devices", type=click.IntRange(1), default=1, show_default=True,
              help="Train data-parallel over this many JAX devices (each batch split across them).")
@click.option("--run-dir", type=PATH, required=True, help="Folder of the checkpoints.")
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/last.msgpack.")
@click.option("-o", "--output", type=PATH, help="Weights file to export at the end [RUN_DIR/weights.msgpack].")
@common_options
def train(run: Run, data: Path, codec: str, latent: int | None, channel: str | None, eps: float | None,
          arch: str | None, likelihood: str | None, steps: int, weights: Path | None, **kw) -> None:
    """Train the VAE or NECST on a dataset artifact (checkpoints every epoch, resumable), or
    fine-tune the photo codec on your own photos (--codec photo).

    \b
    Example:
      dnastore dataset mnist --split train -o train.zarr
      dnastore dataset mnist --split valid -o valid.zarr
      dnastore train train.zarr --valid valid.zarr --epochs 30 --run-dir runs/vae
      dnastore train bmnist-train.zarr --valid bmnist-valid.zarr --codec necst --latent 100 \\
          --channel bsc --eps 0.1 --epochs 50 --run-dir runs/necst
      dnastore dataset my-svhn/ --rgb --resize 32x32 -o svhn.zarr
      dnastore train svhn.zarr --codec necst --arch cnn-svhn --likelihood gaussian --latent 500 \\
          --run-dir runs/necst-svhn
      dnastore train my-photos/ --codec photo --steps 300 --run-dir runs/my-photos
      dnastore encode my-photos/ photos.fasta --codec photo --weights runs/my-photos/weights.msgpack
    """
    jax_cache()
    if codec == "photo":
        from dnastore.stages.images import train_photo
        if any(v is not None for v in (latent, channel, arch, likelihood, kw.get("valid"), kw.get("test_data"),
                                       kw.get("config"))) or kw.get("resume"):
            raise DnastoreError("--codec photo takes DATA, --steps, --weights, --eps (the most latents erased in "
                                "training), --lr, --run-dir and -o only")
        lr = kw["lr"] if kw["lr"] != 1e-3 else 5e-5
        run.report(train_photo(data, kw["run_dir"], weights=weights, steps=steps, lr=lr,
                               erasure=0.2 if eps is None else eps, output=kw.get("output"), seed=run.seed,
                               force=run.force, report=run))
        return
    if weights is not None:
        raise DnastoreError("--weights applies to --codec photo only (the VAE and NECST train from scratch)")
    from dnastore.stages.images import train as stage
    overrides = {"latent": latent, "channel": channel, "eps": eps, "arch": arch, "likelihood": likelihood}
    run.report(stage(data, model=codec, overrides=overrides, seed=run.seed, force=run.force, report=run, **kw))


@cli.command("compress")
@click.argument("source", type=PATH)
@click.option("-o", "--output", type=PATH, required=True, help="Latents Zarr to write.")
@click.option("--resize", help="Resize folder images to WIDTHxHEIGHT first.")
@weights_option
@scheduler_option
@common_options
def compress(run: Run, source: Path, output: Path, resize: str | None, weights: Path | None,
             scheduler: str | None) -> None:
    """Encode images (a folder of PNG/JPEG or a dataset Zarr) into latents with the VAE encoder.

    \b
    Example:
      dnastore compress examples/images -o latents.zarr
    """
    from dnastore.stages.images import compress as stage
    jax_cache()
    run.report(stage(source, output, resize=resize, weights=weights, scheduler=scheduler, force=run.force,
                     report=run))


@cli.command("quantize")
@click.argument("latents", type=PATH)
@click.option("-o", "--output", type=PATH, required=True, help="Codes Zarr to write.")
@quant_options
@weights_option
@common_options
def quantize(run: Run, latents: Path, output: Path, **kw) -> None:
    """Quantize latents into integer codes (VAEN or VAEU).

    \b
    Example:
      dnastore quantize latents.zarr -o codes.zarr --quantizer vaen --bits 8
    """
    from dnastore.stages.images import quantize as stage
    run.report(stage(latents, output, force=run.force, **kw))


@cli.command("dequantize")
@click.argument("codes", type=PATH)
@click.option("-o", "--output", type=PATH, required=True, help="Latents Zarr to write.")
@weights_option
@common_options
def dequantize(run: Run, codes: Path, output: Path, weights: Path | None) -> None:
    """Turn codes back into latents; erased codes become the prior's centre.

    \b
    Example:
      dnastore dequantize reads.codes.zarr -o latents_out.zarr
    """
    from dnastore.stages.images import dequantize as stage
    run.report(stage(codes, output, weights=weights, force=run.force))


@cli.command("reconstruct")
@click.argument("latents", type=PATH)
@recon_options
@weights_option
@scheduler_option
@common_options
def reconstruct(run: Run, latents: Path, **kw) -> None:
    """Decode latents into images with the VAE decoder.

    \b
    Example:
      dnastore reconstruct latents_out.zarr -o recon/ --originals examples/images
    """
    from dnastore.stages.images import reconstruct as stage
    jax_cache()
    run.report(stage(latents, force=run.force, report=run, **kw))


@cli.command("encode")
@click.argument("source", type=PATH)
@click.argument("output", type=PATH)
@click.option("--codec", type=click.Choice(CODECS),
              help="vae: the MNIST VAE + quantizer; necst: NECST's bits; photo: the learned photo codec (colour, "
                   "any size, --quality); jpeg, png, webp, avif, jp2: each image as a file, stored precisely "
                   "(--quality). [photo for colour images or sizes other than 28x28, else vae]")
@click.option("--resize", help="Resize folder images to WIDTHxHEIGHT first.")
@quant_options
@click.option("--quality", type=click.IntRange(1, 100),
              help="photo: 1-100, the rate knob [50]; JPEG, WebP, AVIF quality; JPEG 2000: compression ratio "
                   "2^((100 - q) / 10) [75].")
@weights_option
@oligo_options
@click.option("--plan", "plan_path", type=PATH, help="Take the codec, its bits per code (vae) or quality (photo) and "
              "the outer redundancy from `dnastore plan`.")
@common_options
def encode(run: Run, source: Path, output: Path, codec: str | None, resize: str | None, quantizer: str, n_bits: int,
           store: str, packing: str, quality: int | None, weights: Path | None, plan_path: Path | None, **kw) -> None:
    """Images to oligos in one command: the codec's encode (for the VAE: compress + quantize)
    then oligo-encode.

    SOURCE is a folder of PNG/JPEG images or a dataset Zarr. Writes OUTPUT (FASTA) and
    OUTPUT.json (the manifest, which records the codec, its weights digest, bits and
    nucleotides per image).

    \b
    Example:
      dnastore encode examples/images out.fasta
      dnastore simulate --coverage 3 -o reads.fastq
      dnastore decode reads.fastq -o recon/ --originals examples/images
      dnastore encode examples/images necst.fasta --codec necst   # 100 NECST bits per image
      dnastore encode examples/images jpeg.fasta --codec jpeg --quality 50 --outer-redundancy 0.3
    """
    from dnastore.stages.images import encode as stage
    jax_cache()
    if plan_path is not None:
        from dnastore.io.atomic import check_aliases
        from dnastore.stages.plan import planned
        check_aliases([output, output.with_name(output.name + ".json")], [plan_path], [output])
        best = planned(plan_path)
        if best["kind"] != "images":
            raise DnastoreError(f"{plan_path} plans a file: use it with oligo-encode")
        if codec is not None and codec != best["codec"]:
            raise DnastoreError(f"{plan_path} plans the {best['codec']} codec, not --codec {codec}")
        codec, kw["outer_redundancy"] = best["codec"], best["outer_redundancy"]
        n_bits, quality = best.get("n_bits", n_bits), best.get("quality", quality)
        plan_code(kw, best)
        rate = f"quality {quality}" if codec == "photo" else f"{n_bits} bits per code"
        run.log(f"the plan: {best['code']} code, the {codec} codec at {rate}, outer redundancy "
                f"{kw['outer_redundancy']:g}, sequence at coverage {best['coverage']:g}")
    quant = {"quantizer": quantizer, "n_bits": n_bits, "store": store, "packing": packing}

    def settings(codec: str) -> dict:
        if codec not in ("vae", "necst", "photo") and weights is not None:
            raise DnastoreError(f"--weights does not apply to --codec {codec}")
        if codec in ("vae", "necst") and quality is not None:
            raise DnastoreError(f"--quality does not apply to --codec {codec}")
        return {"vae": {**quant, "weights": weights}, "necst": {"weights": weights},
                "photo": {"quality": quality, "weights": weights}}.get(codec, {"quality": quality})
    run.report(stage(source, output, codec=codec, codec_settings=settings, resize=resize, settings=oligo_settings(kw),
                     force=run.force, report=run))


@cli.command("decode")
@click.argument("reads", type=SEQ_INPUT)
@recon_options
@click.option("--manifest", type=PATH, help="Manifest of the oligos (default: the one carried beside READS).")
@click.option("--method", type=click.Choice(["vote", "spoa"]), default="vote", show_default=True,
              help="Consensus method (see `dnastore consensus --help`).")
@weights_option
@scheduler_option
@common_options
def decode(run: Run, reads: Path, **kw) -> None:
    """Reads to images in one command: consensus + oligo-decode + the codec's decode.

    The reads alone are enough: the pool's header strands hold its manifest (a sidecar or
    --manifest, where given, is checked against them). Images come back under their names.

    Lost codes are filled with the prior's centre (NECST: lost bits reach its decoder as 0.5,
    "unknown"; a classical codec's damaged file comes back black), so every image comes back;
    the summary says how many codes were erased. Reads from which nothing decodes still give
    (blank, prior-mean) images, with a warning.

    \b
    Example:
      dnastore decode reads.fastq -o recon/ --originals examples/images
    """
    from dnastore.stages.images import decode as stage
    jax_cache()
    run.report(stage(reads, force=run.force, report=run, **kw))


@cli.command("plan")
@click.argument("source", required=False, type=PATH)
@click.option("--bytes", "size", type=click.IntRange(1), help="Plan for a file of this size (instead of SOURCE).")
@click.option("--target", help="identical (files), psnr:DB or acc:FRACTION (images) [identical for a file, "
              "a folder or --bytes; psnr:20 for images].")
@click.option("--preset", type=click.Choice(["illumina", "nanopore", "ideal"]), default="illumina", show_default=True)
@click.option("--synthesis", type=click.Choice(["twist", "customarray", "photolithographic", "ideal"]), help="[preset's]")
@click.option("--price-nt", type=number(0, 1e6), default=4.4e-4, show_default=True,
              help="Synthesis, USD per nt (Twist array synthesis, as cited in doi:10.1145/3510853).")
@click.option("--price-read", type=number(0, 1e6), default=1.3e-9, show_default=True,
              help="Sequencing, USD per base read (about $1.3K per TB, Bar-Lev et al. 2023).")
@click.option("--code", type=click.Choice(["goldman", "dense"]), help="The oligo code to plan for [dense]; for "
              "dense, a file plan weighs the default inner parity (4) against the stronger one (8).")
@click.option("--strand-length", type=click.IntRange(60, 10000), help="[150 goldman, 240 dense]")
@click.option("--max-coverage", type=number(1, 1e6), help="Sequence at most this deep (a budget of reads).")
@click.option("--codec", type=click.Choice(["vae", "photo"]),
              help="Images: the codec to plan for; vae weighs bits per code, photo its quality [the codec encode "
                   "picks: photo for colour images or sizes other than 28x28, else vae].")
@click.option("--limit", type=click.IntRange(1), help="Plan on the first N images only.")
@click.option("--resize", help="Resize folder images to WIDTHxHEIGHT first.")
@click.option("-o", "--output", type=PATH, default=Path("plan.json"), show_default=True, help="The plan to write.")
@click.option("--plot", type=PATH, help="Also draw cost against quality into this PNG.")
@weights_option
@common_options
def plan(run: Run, source: Path | None, size: int | None, **kw) -> None:
    """Pick the cheapest settings (the codec's bits per code or quality, outer redundancy,
    coverage) that reach a target on a channel, from the strand loss measured on that channel.
    Writes plan.json, which `encode --plan` and `oligo-encode --plan` take.

    \b
    Example:
      dnastore plan big.tar -o plan.json --plot plan.png
      dnastore plan --bytes 10000000 --preset nanopore
      dnastore plan mnist-test.zarr --target acc:0.95
      dnastore plan photos/ --target psnr:26 --synthesis photolithographic -o plan.json
      dnastore encode photos/ p.fasta --plan plan.json
    """
    from dnastore.stages.plan import plan as stage
    jax_cache()
    run.report(stage(source, size=size, seed=run.seed, force=run.force, report=run, **kw))


@cli.command("bench", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("pipeline")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(pipeline: str, args: tuple[str, ...]) -> None:
    """Run an experiment of pipelines/ (a file name without .py); extra arguments go to it.

    \b
    Example:
      dnastore bench table3_bsc --limit 1000
      dnastore bench bench_codec -- --limit 500
    """
    import subprocess
    import sys

    from dnastore.io.atomic import child, unblocked_signals

    # only the project's own experiments: the pipelines/ folder of the checkout this package
    # was installed from, never one in the current folder
    folder = Path(__file__).resolve().parents[2] / "pipelines"
    if not (folder / "common.py").is_file():
        raise DnastoreError("the experiments ship with a dnastore checkout (its pipelines/ folder), not with an "
                            "installed package: install from a checkout with `make install`")
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_") and p.stem != "common")
    if pipeline.removesuffix(".py") not in names:
        raise DnastoreError(f"no pipeline {pipeline!r}; choose one of {', '.join(names)}")
    proc = subprocess.Popen([sys.executable, str(folder / (pipeline.removesuffix(".py") + ".py")), *args],
                            preexec_fn=unblocked_signals)
    child(proc.pid)
    rc = proc.wait()
    if rc:
        raise DnastoreError(f"pipeline {pipeline} failed with exit code {rc}")
