"""Noise kernels: bit channels, the DNA synthesis/sequencing simulator, and the
differentiable channels of the neural communication experiments (AWGN, relaxed binary,
bandwidth-limited).

The names below load on first use, so that ``dnastore.channel.dna`` (the simulator's host
code) can be imported without JAX."""

from importlib import import_module

_WHERE = {
    "bandwidth_limited": "bandwidth", "bec": "bits", "bsc": "bits",
    "PRESETS": "dna", "SYNTHESIS": "dna", "SimParams": "dna", "simulate_reads": "dna",
    "awgn": "gaussian", "relaxed_bsc": "relaxed",
}

__all__ = ["bsc", "bec", "PRESETS", "SYNTHESIS", "SimParams", "simulate_reads", "awgn", "relaxed_bsc",
           "bandwidth_limited"]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
