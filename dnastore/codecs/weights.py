"""Weights and checkpoints in a safe format: msgpack (flax.serialization) of flat
``{"path/to/leaf": array}`` maps plus JSON text. Never pickle.

A weights file holds:
  ``format``  "dnastore-weights"
  ``config``  the model config (JSON text)
  ``params``, ``batch_stats``  flat maps of arrays
  ``stats``   the VAEN statistics measured on the training set: ``mean`` and ``std`` of the
              encoder outputs (μ then log σ²), each (2K,)
  ``meta``    JSON text: training summary (epochs, test ELBO, PSNR, data digest)

Its digest (sha256 of the file) identifies the model in every artifact made with it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from dnastore.errors import DnastoreError
from dnastore.io.artifacts import WEIGHTS_FORMAT
from dnastore.io.msgpack import (
    file_sha256,
    flat_arrays,
    read_msgpack,
    unflatten_into,
    write_msgpack,
)

DEFAULT_WEIGHTS = "vae-mnist-k16.msgpack"


def model_arrays(model: nnx.Module) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    _, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    return flat_arrays(nnx.to_pure_dict(params)), flat_arrays(nnx.to_pure_dict(stats))


def load_model_arrays(model: nnx.Module, params: dict, batch_stats: dict, what: str) -> None:
    _, p, b = nnx.split(model, nnx.Param, nnx.BatchStat)
    pp = unflatten_into(nnx.to_pure_dict(p), params, what)
    bb = unflatten_into(nnx.to_pure_dict(b), batch_stats, what)
    nnx.replace_by_pure_dict(p, pp)
    nnx.replace_by_pure_dict(b, bb)
    nnx.update(model, p, b)


def finite_model(model: nnx.Module) -> bool:
    """Whether every floating-point array of ``model`` is finite (no NaN, no infinity)."""
    return all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(nnx.state(model))
               if np.issubdtype(np.asarray(x).dtype, np.floating))


@dataclass
class Weights:
    """A trained codec (the VAE or NECST): config, model, VAEN statistics (VAE only) and the
    file digest."""
    config: Any
    model: nnx.Module
    stats: dict[str, np.ndarray]
    digest: str
    path: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def latent(self) -> int:
        return self.config.latent


def default_weights_path() -> Path:
    return Path(str(resources.files("dnastore.codecs") / "weights" / DEFAULT_WEIGHTS))


def shipped_weights() -> list[str]:
    """Names of the weights files inside the package (usable as ``--weights NAME``)."""
    folder = default_weights_path().parent
    return sorted(p.stem for p in folder.glob("*.msgpack"))


def resolve_weights(path: str | os.PathLike | None) -> Path:
    """A weights path, or the name of a shipped weights file (``vae-mnist-k8``)."""
    if not path:
        return default_weights_path()
    p = Path(path)
    name = p.name.removesuffix(".msgpack")  # not p.stem: "necst-mnist-b100-bsc0.1" has a dot
    if not p.exists() and p.parent == Path(".") and name in shipped_weights():
        return default_weights_path().parent / f"{name}.msgpack"
    return p


_LOADED: dict[tuple[str, str], Weights] = {}


def load_weights(path: str | os.PathLike | None = None, build: bool = True) -> Weights:
    """The weights at ``path`` (default: the shipped MNIST VAE). ``build=False``: config,
    statistics and digest only, with no model (what quantize and dequantize need: building
    the VAE op by op takes seconds)."""
    from dnastore.codecs.necst import NECST, NECSTConfig
    from dnastore.codecs.photo_model import PhotoConfig, PhotoNet
    from dnastore.codecs.vae import VAE, VAEConfig
    path = resolve_weights(path)
    if not path.is_file():
        raise DnastoreError(f"{path}: no such weights file (shipped: {', '.join(shipped_weights())})")
    digest = file_sha256(path)
    key = (str(path.resolve()), digest)
    if key in _LOADED:
        return _LOADED[key]
    if not build and key + ("light",) in _LOADED:
        return _LOADED[key + ("light",)]
    obj = read_msgpack(path, WEIGHTS_FORMAT)
    try:
        cfg_d = json.loads(obj["config"])
        kind = cfg_d.get("model")
        where = f"{path}: model config"
        cls, net = {"necst": (NECSTConfig, NECST), "photo": (PhotoConfig, PhotoNet)}.get(kind, (VAEConfig, VAE))
        cfg = cls.from_json(cfg_d, where)
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as e:
        raise DnastoreError(f"{path}: bad model config ({type(e).__name__}: {str(e)[:200]})") from None
    if build:
        # the model's structure only (no random initialisation, which runs op by op: ~0.7-4 s);
        # every array then comes from the file
        model = nnx.eval_shape(lambda: net(cfg, nnx.Rngs(0)))
        load_model_arrays(model, obj.get("params", {}), obj.get("batch_stats", {}), str(path))
        if not finite_model(model):
            raise DnastoreError(f"{path}: the weights hold NaN or infinity (a diverged training run?)")
    else:
        model = None
    stats = {k: np.asarray(v, np.float32) for k, v in obj.get("stats", {}).items()}
    if any(not np.isfinite(v).all() for v in stats.values()):
        raise DnastoreError(f"{path}: the encoder statistics hold NaN or infinity")
    for k in ("mean", "std") if kind not in ("necst", "photo") else ():
        if stats.get(k) is None or stats[k].shape != (2 * cfg.latent,):
            raise DnastoreError(f"{path}: VAEN statistic {k!r} missing or not of shape ({2 * cfg.latent},)")
    w = Weights(cfg, model, stats, digest, str(path), json.loads(obj.get("meta", "{}")))
    _LOADED[key if build else key + ("light",)] = w
    return w


def save_weights(path: Path, cfg: Any, model: nnx.Module, stats: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    params, bstats = model_arrays(model)
    write_msgpack(path, {"format": WEIGHTS_FORMAT, "config": json.dumps(cfg.to_json(), sort_keys=True),
                         "params": params, "batch_stats": bstats,
                         "stats": {k: np.asarray(v, np.float32) for k, v in stats.items()},
                         "meta": json.dumps(meta, sort_keys=True)})
