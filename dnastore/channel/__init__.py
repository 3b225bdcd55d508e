"""Noise kernels: bit channels, the DNA synthesis/sequencing simulator, and the
differentiable channels of the neural communication experiments (AWGN, relaxed binary,
bandwidth-limited).

The names below load on first use, so that ``dnastore.channel.dna`` (the simulator's host
code) can be imported without JAX."""

from dnastore.lazy import lazy_names

_WHERE = {
    "bandwidth_limited": "bandwidth", "bec": "bits", "bsc": "bits",
    "PRESETS": "dna", "SYNTHESIS": "dna", "SimParams": "dna", "simulate_reads": "dna",
    "awgn": "gaussian", "relaxed_bsc": "relaxed",
}

__all__ = ["bsc", "bec", "PRESETS", "SYNTHESIS", "SimParams", "simulate_reads", "awgn", "relaxed_bsc",
           "bandwidth_limited"]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
