"""Noise kernels: bit channels and the DNA synthesis/sequencing simulator."""

from dnastore.channel.bits import bec, bsc
from dnastore.channel.dna import PRESETS, SYNTHESIS, SimParams, simulate_reads

__all__ = ["bsc", "bec", "PRESETS", "SYNTHESIS", "SimParams", "simulate_reads"]
