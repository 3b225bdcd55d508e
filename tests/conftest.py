import os

import pytest

os.environ.setdefault("JAX_PLATFORMS", "cpu")


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    """Run in a fresh temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def mnist_small():
    from dnastore.data.mnist import load_mnist
    x, y = load_mnist("train")
    return x[:512], y[:512]


@pytest.fixture(scope="session")
def other_weights(tmp_path_factory, mnist_small):
    """Untrained weights of the same architecture: a model that must be refused."""
    from flax import nnx

    from dnastore.codecs.train import encoder_stats
    from dnastore.codecs.vae import VAE, VAEConfig
    from dnastore.codecs.weights import save_weights
    cfg = VAEConfig(latent=16)
    model = VAE(cfg, nnx.Rngs(7))
    path = tmp_path_factory.mktemp("w") / "other.msgpack"
    save_weights(path, cfg, model, encoder_stats(model, mnist_small[0][:256]), {"note": "untrained"})
    return path
