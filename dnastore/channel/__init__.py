"""Noise kernels: bit channels, the DNA synthesis/sequencing simulator, and the
differentiable channels of the neural communication experiments (AWGN, relaxed binary,
bandwidth-limited)."""

from dnastore.channel.bandwidth import bandwidth_limited
from dnastore.channel.bits import bec, bsc
from dnastore.channel.dna import PRESETS, SYNTHESIS, SimParams, simulate_reads
from dnastore.channel.gaussian import awgn
from dnastore.channel.relaxed import relaxed_bsc

__all__ = ["bsc", "bec", "PRESETS", "SYNTHESIS", "SimParams", "simulate_reads", "awgn", "relaxed_bsc",
           "bandwidth_limited"]
