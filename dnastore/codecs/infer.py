"""Inference with the learned codecs' networks: the VAE's encoder and decoder, NECST's
stored bits and its decoder. Training (:mod:`dnastore.codecs.train`) imports this module,
never the other way round."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dnastore.codecs.vae import VAE
from dnastore.data.batches import map_batches, model_jit


@model_jit
def _encode(model: VAE, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    return model.encode(jnp.asarray(x, jnp.float32) / 255.0)


@model_jit
def _decode(model: VAE, z: jax.Array) -> jax.Array:
    return model.decode(z)


def encode_images(model: VAE, images: np.ndarray, batch: int = 500, pad_always: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior μ and log σ² of uint8 images, float32 (N, K) each."""
    return map_batches(_encode, model, images, batch, pad_always)


def decode_latents(model: VAE, z: np.ndarray, batch: int = 500, pad_always: bool = False) -> np.ndarray:
    """Decoder means in [0, 1] of latents (N, K)."""
    return map_batches(_decode, model, np.asarray(z, np.float32), batch, pad_always)


@model_jit
def _necst_encode(model, x: jax.Array) -> jax.Array:
    return model.encode(jnp.asarray(x, jnp.float32) / 255.0)


def necst_codes(model, images: np.ndarray, batch: int = 500) -> np.ndarray:
    """The stored bits of uint8 images, uint8 (N, bits)."""
    return map_batches(_necst_encode, model, images, batch).astype(np.uint8)


def necst_decode(model, received: np.ndarray, batch: int = 500) -> np.ndarray:
    """Decoder means in [0, 1] of received bits (N, bits): 0, 1, or 0.5 where unknown. The
    same call as the VAE's :func:`decode_latents`: both models decode with ``decode``."""
    return decode_latents(model, received, batch)
