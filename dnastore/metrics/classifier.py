"""The MNIST classifier behind the ACC metric (and the features for FID).

A small CNN in Flax NNX: Conv(1,32,3)+ReLU, max-pool 2, Conv(32,64,3)+ReLU, max-pool 2,
FC(128)+ReLU (the feature layer), FC(10). Trained by ``pipelines/train_classifier.py`` with
Adam (1e-3 with cosine decay, batch 128, 8 epochs) on the 50k MNIST training images, the epoch kept by validation
accuracy. The weights ship in ``dnastore/metrics/weights/mnist-cnn.msgpack`` (msgpack of flat
arrays, never pickle).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from dnastore.data.batches import map_batches, model_jit
from dnastore.errors import DnastoreError
from dnastore.io.artifacts import CLASSIFIER_FORMAT
from dnastore.io.msgpack import (
    file_sha256,
    flat_arrays,
    read_msgpack,
    unflatten_into,
    write_msgpack,
)

DEFAULT_CLASSIFIER = "mnist-cnn.msgpack"


class CNN(nnx.Module):
    def __init__(self, rngs: nnx.Rngs, classes: int = 10, channels: int = 1):
        self.c1 = nnx.Conv(channels, 32, kernel_size=(3, 3), padding="SAME", rngs=rngs)
        self.c2 = nnx.Conv(32, 64, kernel_size=(3, 3), padding="SAME", rngs=rngs)
        self.f1 = nnx.Linear(7 * 7 * 64, 128, rngs=rngs)
        self.f2 = nnx.Linear(128, classes, rngs=rngs)

    def features(self, x: jax.Array) -> jax.Array:
        h = x[..., None] if x.ndim == 3 else x
        h = nnx.max_pool(nnx.relu(self.c1(h)), (2, 2), (2, 2))
        h = nnx.max_pool(nnx.relu(self.c2(h)), (2, 2), (2, 2))
        return nnx.relu(self.f1(h.reshape(h.shape[0], -1)))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.f2(self.features(x))


@nnx.jit
def _step(model: CNN, opt: nnx.Optimizer, x: jax.Array, y: jax.Array) -> jax.Array:
    def lf(m):
        logits = m(jnp.asarray(x, jnp.float32) / 255.0)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, g = nnx.value_and_grad(lf)(model)
    opt.update(model, g)
    return loss


@model_jit
def _logits(model: CNN, x: jax.Array) -> jax.Array:
    return model(jnp.asarray(x, jnp.float32) / 255.0)


@model_jit
def _features(model: CNN, x: jax.Array) -> jax.Array:
    return model.features(jnp.asarray(x, jnp.float32) / 255.0)


class Classifier:
    def __init__(self, model: CNN, digest: str = "", meta: dict | None = None):
        self.model, self.digest, self.meta = model, digest, meta or {}

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted labels of uint8 images (N, 28, 28)."""
        return map_batches(_logits, self.model, images, 1000).argmax(axis=1)

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        return float((self.predict(images) == np.asarray(labels)).mean())

    def features(self, images: np.ndarray) -> np.ndarray:
        """The 128 penultimate activations of uint8 images (for FID on MNIST)."""
        return map_batches(_features, self.model, images, 1000)


def train_classifier(x: np.ndarray, y: np.ndarray, vx: np.ndarray, vy: np.ndarray, epochs: int = 4,
                     batch: int = 128, lr: float = 1e-3, seed: int = 0, log=print) -> tuple[Classifier, list[dict]]:
    model = CNN(nnx.Rngs(seed))
    steps = epochs * (len(x) // batch)
    opt = nnx.Optimizer(model, optax.adam(optax.cosine_decay_schedule(lr, steps)), wrt=nnx.Param)
    best, best_state, history = -1.0, None, []
    for ep in range(epochs):
        order = np.random.default_rng([seed, ep]).permutation(len(x))
        for i in range(len(x) // batch):
            idx = order[i * batch:(i + 1) * batch]
            _step(model, opt, x[idx], y[idx].astype(np.int32))
        acc = Classifier(model).accuracy(vx, vy)
        history.append({"epoch": ep + 1, "valid_accuracy": acc})
        log(f"epoch {ep + 1}: validation accuracy {acc:.4f}")
        if acc > best:
            best, best_state = acc, flat_arrays(nnx.to_pure_dict(nnx.state(model, nnx.Param)))
    load_params(model, best_state, "best epoch")
    return Classifier(model), history


def load_params(model: CNN, flat: dict, what: str) -> None:
    st = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(st, unflatten_into(nnx.to_pure_dict(st), flat, what))
    nnx.update(model, st)


def save_classifier(path: Path, clf: Classifier, meta: dict) -> None:
    write_msgpack(path, {"format": CLASSIFIER_FORMAT,
                         "params": flat_arrays(nnx.to_pure_dict(nnx.state(clf.model, nnx.Param))),
                         "meta": json.dumps(meta, sort_keys=True)})


def default_classifier_path() -> Path:
    return Path(str(resources.files("dnastore.metrics") / "weights" / DEFAULT_CLASSIFIER))


_CACHE: dict[str, Classifier] = {}


def load_classifier(path: str | Path | None = None) -> Classifier:
    path = Path(path) if path else default_classifier_path()
    if not path.is_file():
        raise DnastoreError(f"{path}: no such classifier weights file")
    digest = file_sha256(path)
    if digest not in _CACHE:
        obj = read_msgpack(path, CLASSIFIER_FORMAT)
        model = CNN(nnx.Rngs(0))
        load_params(model, obj["params"], str(path))
        _CACHE[digest] = Classifier(model, digest, json.loads(obj.get("meta", "{}")))
    return _CACHE[digest]
