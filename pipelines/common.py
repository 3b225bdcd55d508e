"""What the experiment files share (the one module they import besides dnastore's public
names): the results JSON (written atomically), the README blocks between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers, the MNIST test set every image
experiment evaluates on, NECST models trained once and reused, and the UEP-protected BSC.

A pipeline runs as ``python pipelines/NAME.py`` (or ``dnastore bench NAME``), so this folder
is on its import path as Python sets it."""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform()}


def write_results(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """Save a matplotlib figure atomically (a temporary file beside it, then a rename) and close it."""
    import matplotlib.pyplot as plt
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi)
    tmp.replace(path)
    plt.close(fig)


def update_readme(readme: Path, marker: str, table: str) -> bool:
    """Replace the block between the markers; True when the README changed."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    new = re.sub(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)",
                 lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    if new == text:
        return False
    readme.write_text(new)
    print(f"updated {readme}")
    return True


def mnist_test_set(limit: int):
    """(weights, classifier, images, labels): the shipped VAE and classifier and the first
    ``limit`` MNIST test images, which every image experiment evaluates on."""
    from dnastore.codecs.weights import load_weights
    from dnastore.data.mnist import load_mnist
    from dnastore.metrics.classifier import load_classifier
    x, y = load_mnist("test")
    return load_weights(), load_classifier(), x[:limit], y[:limit]


def quality(x, y, rec, clf) -> dict[str, float]:
    """Mean MS-SSIM and PSNR of reconstructions ``rec`` of ``x``, and the classifier's
    accuracy on them against the labels ``y``."""
    import numpy as np

    from dnastore.metrics import ms_ssim, psnr
    return {"ms_ssim": float(np.mean(ms_ssim(x, rec))), "psnr": float(np.mean(psnr(x, rec))),
            "acc": clf.accuracy(rec, y)}


def train_model(cfg, images, epochs: int, seed: int, log, models_dir: Path | None = None, tag: str = ""):
    """A model trained on ``images``; with ``models_dir``, saved there as weights and reused by
    later runs with the same config, data, epochs and seed."""
    import hashlib
    import json

    from dnastore.codecs.train import Trainer
    from dnastore.codecs.weights import load_weights, save_weights
    key = hashlib.sha256(json.dumps([cfg.key(), epochs, seed, hashlib.sha256(images.tobytes()).hexdigest()])
                         .encode()).hexdigest()[:16]
    path = models_dir / f"{tag}-{key}.msgpack" if models_dir else None
    if path is not None and path.is_file():
        log(f"    reusing {path.name}")
        return load_weights(path).model
    tr = Trainer(cfg, lr=1e-3, batch=100, seed=seed)
    for _ in range(epochs):
        loss = tr.train_epoch(images)
    log(f"    trained {cfg.arch} bits={cfg.bits} eps={cfg.eps} prior={cfg.prior}: {epochs} epochs, last loss {loss:.2f}")
    if path is not None:
        models_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        save_weights(tmp, cfg, tr.model, {}, {"epochs": epochs, "seed": seed, "key": key})
        tmp.replace(path)
    return tr.model


def load_data(name: str, limit_train: int | None, limit_test: int | None, seed: int):
    from dnastore.data.binary import binarize, random_bits
    if name == "mnist":
        from dnastore.data.mnist import load_mnist
        train = binarize(load_mnist("train")[0], seed, 0)
        test = binarize(load_mnist("test")[0], seed, 2)
        return train[:limit_train], test[:limit_test]
    return random_bits("train", 100, seed, limit_train), random_bits("test", 100, seed, limit_test)


def uep_channel(w, n_bits: int, top: int, t: int, p: float):
    """channel(latents, rng) → received latents, for :func:`finetune_decoder` and the levers."""
    import numpy as np

    from dnastore.codecs.protect import UEP
    from dnastore.codecs.quant import dequantize, quantize
    k = w.config.latent
    mean, std = w.stats["mean"][:k], w.stats["std"][:k]
    uep = UEP(n_bits, top, t)

    def channel(mu, rng):
        bits = uep.encode(quantize(mu, "vaen", n_bits, mean, std, "binary"))
        bits ^= (rng.random(bits.shape) < p).astype(np.uint8)
        codes, ok = uep.decode(bits, k)
        channel.failed = int((~ok).sum())
        return dequantize(codes, "vaen", n_bits, mean, std, "binary")
    channel.bits = uep.length(k)
    return channel


def bsc_bits(bits, p: float, seed: int):
    """Bits (uint8 0/1) through a BSC with flip probability ``p`` (dnastore.channel.bits.bsc)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from dnastore.channel.bits import bsc
    return np.asarray(bsc(jax.random.key(seed), jnp.asarray(bits), p)).astype(np.uint8)


def bsc_files(files: list[bytes], p: float, seed: int) -> list[bytes]:
    """Files, back to back, through one BSC; cut back into files."""
    import numpy as np
    lens = [len(f) for f in files]
    bits = np.unpackbits(np.frombuffer(b"".join(files), np.uint8))
    noisy = np.packbits(bsc_bits(bits, p, seed)).tobytes()
    out, pos = [], 0
    for n in lens:
        out.append(noisy[pos:pos + n])
        pos += n
    return out


def bsc_codes(codes, n_bits: int, p: float, seed: int):
    """Codes packed ``n_bits`` each (row order) through one BSC, and unpacked."""
    import numpy as np

    from dnastore.dna.approx import pack_bits, unpack_bits
    if p == 0:
        return codes
    payload = pack_bits(codes, n_bits, "row")
    bits = np.unpackbits(np.frombuffer(payload, np.uint8))
    noisy = bsc_bits(bits, p, seed)
    out, _ = unpack_bits(np.packbits(noisy).tobytes(), np.zeros(len(payload), bool), codes.shape, n_bits, "row")
    return out


def strand_loss(enc, coverages: list[float], seeds: int) -> dict[str, list[float]]:
    """Share of data strands an encoding loses (no outer code) on the default channel, per
    coverage and seed (1 to ``seeds``), printed as it goes."""
    from dnastore.channel.dna import preset_params
    from dnastore.stages.roundtrip import transmit
    loss: dict[str, list[float]] = {}
    for cov in coverages:
        rates = []
        for seed in range(1, seeds + 1):
            got = transmit(enc, preset_params("illumina", coverage=cov), seed)
            rates.append(got.stats["data_strands_missing"] / enc.manifest["n_data_strands"])
        loss[str(cov)] = rates
        print(f"coverage {cov:g}: strands lost {', '.join(f'{r:.4%}' for r in rates)}", flush=True)
    return loss


def files_end_to_end(encode_file, rng, max_bytes: int, seeds: int, coverages_for) -> list[dict[str, Any]]:
    """Random files of 1 kB, 10 kB, ... up to ``max_bytes``, each encoded by
    ``encode_file(data)`` and sent through the default channel at ``coverages_for(size)``,
    seeds 1 to ``seeds``: whether each came back byte-identical."""
    from dnastore.channel.dna import preset_params
    from dnastore.stages.roundtrip import transmit
    ends: list[dict[str, Any]] = []
    s = 1_000
    while s <= max_bytes:
        data = rng.integers(0, 256, s, dtype=np.uint8).tobytes()
        e = encode_file(data)
        for cov in coverages_for(s):
            for seed in range(1, seeds + 1):
                got = transmit(e, preset_params("illumina", coverage=cov), seed)
                same = got.payload == data and not got.erased.any()
                ends.append({"bytes": s, "coverage": cov, "seed": seed, "identical": bool(same),
                             "data_strands_missing": got.stats["data_strands_missing"]})
                if not same:
                    print(f"  LOST: {s} bytes at coverage {cov:g}, seed {seed}", flush=True)
        print(f"{s} bytes: {sum(x['identical'] for x in ends if x['bytes'] == s)} of "
              f"{sum(1 for x in ends if x['bytes'] == s)} runs byte-identical", flush=True)
        s *= 10
    return ends


def mnist_codes(limit: int):
    """(weights, classifier, labels, error-free ACC, codes payload, its manifest extras) of
    the shipped VAE's VAEN 8-bit codes of the first ``limit`` MNIST test images."""
    from dnastore.codecs.learned import (
        compress,
        dequantize_codes,
        quantize_latents,
        reconstruct,
    )
    from dnastore.dna.approx import codes_payload
    w, clf, x, y = mnist_test_set(limit)
    mu, lv = compress(w, x)
    codes, attrs, side = quantize_latents(mu, lv, w)
    clean = clf.accuracy(reconstruct(w, dequantize_codes(codes, attrs, side, None, w)[0]), y)
    payload, extra = codes_payload(codes, attrs, side)
    return w, clf, y, clean, payload, extra


def accuracy_through(enc, w, clf, y, coverage: float, seeds: int) -> list[float]:
    """Classifier accuracy of the images an encoding of VAE codes gives back through the
    default channel at ``coverage``, seeds 1 to ``seeds``."""
    from dnastore.channel.dna import preset_params
    from dnastore.codecs.learned import dequantize_codes, reconstruct
    from dnastore.dna.approx import codes_from_payload
    from dnastore.stages.roundtrip import transmit
    accs = []
    for seed in range(1, seeds + 1):
        got = transmit(enc, preset_params("illumina", coverage=coverage), seed)
        c, er, sd, at = codes_from_payload(got.payload, got.erased, enc.manifest)
        accs.append(clf.accuracy(reconstruct(w, dequantize_codes(c, at, sd, er, w)[0]), y))
    return accs


def tune_shipped_decoder(make_channel, status, tuned: dict[str, Any], args) -> None:
    """Fine-tune the shipped VAE's decoder through ``make_channel(weights)`` on the first
    ``args.limit`` MNIST training images (``args.epochs``, ``args.lr``, ``args.seed``) and
    write the weights to ``args.out``, their meta naming the channel (``tuned``).
    ``status(channel)`` adds a word per epoch on what the channel did."""
    import time

    from dnastore.codecs.learned import compress
    from dnastore.codecs.train import finetune_decoder
    from dnastore.codecs.weights import load_weights, save_weights
    from dnastore.data.mnist import load_mnist
    from dnastore.io.atomic import atomic_outputs

    w = load_weights()
    x, _ = load_mnist("train")
    x = x[:args.limit]
    mu, _ = compress(w, x)
    channel = make_channel(w)
    t0 = time.time()

    def on_epoch(e, loss):
        print(f"epoch {e}: decoder loss {loss:.2f} nats/image, {status(channel)}, {time.time() - t0:.0f} s",
              flush=True)
    finetune_decoder(w.model, x, mu, channel, epochs=args.epochs, lr=args.lr, seed=args.seed, on_epoch=on_epoch)
    tuned = {"from": w.digest, **tuned, "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
             "train_images": len(x)}
    with atomic_outputs(force=True) as outs:
        save_weights(outs.path(args.out), w.config, w.model, w.stats, {**w.meta, "decoder_tuned": tuned})
    print(f"wrote {args.out}")
