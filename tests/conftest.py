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
