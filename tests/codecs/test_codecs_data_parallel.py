"""Data-parallel training over two CPU devices (XLA_FLAGS forces two host devices, so it
runs in a child process): the loss curve follows the one-device run within tolerance, and
the train command takes --devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, numpy as np, jax
from dnastore.codecs.train import Trainer
from dnastore.codecs.vae import VAEConfig
from dnastore.codecs.necst import NECSTConfig
from dnastore.data.mnist import load_mnist
x = load_mnist("train")[0][:768]
out = {"devices": jax.device_count()}
for name, cfg in (("vae", VAEConfig(latent=8)), ("necst", NECSTConfig(bits=20))):
    for dev in (1, 2):
        tr = Trainer(cfg, batch=64, seed=3, devices=dev)
        out[f"{name}{dev}"] = [tr.train_epoch(x) for _ in range(2)]
        if dev == 2:
            out[f"{name}_sharding"] = str(jax.tree_util.tree_leaves(tr.model)[0].sharding)
print(json.dumps(out))
"""


def test_two_devices_follow_the_one_device_loss_curve():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    for name in ("vae", "necst"):
        one, two = out[f"{name}1"], out[f"{name}2"]
        assert len(one) == 2 and one[1] < one[0]  # it learns
        for a, b in zip(one, two):
            assert abs(a - b) <= 1e-3 * abs(a), (name, one, two)
        assert "NamedSharding" in out[f"{name}_sharding"] or "Replicated" in out[f"{name}_sharding"]


def test_train_refuses_more_devices_than_there_are(tmp):
    from helpers import one_line_error, run
    run(["dataset", "random-bits", "--split", "train", "--limit", "200", "--length", "20", "-o", "t.zarr"])
    r = run(["train", "t.zarr", "--codec", "necst", "--latent", "8", "--devices", "64", "--run-dir", "run"], ok=False)
    one_line_error(r)
    assert "--devices 64" in r.output
