"""Reads -> clusters -> one consensus strand per cluster."""

from dnastore.consensus.call import Design, call_consensus, infer_design

__all__ = ["Design", "call_consensus", "infer_design"]
