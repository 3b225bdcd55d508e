"""Every stage of the pipeline as a library function: paths or arrays in, a summary dict out.
The command line (:mod:`dnastore.cli`) parses options, calls one of these and reports.

- :mod:`dnastore.stages.files`: oligo-encode, simulate, consensus, oligo-decode;
- :mod:`dnastore.stages.images`: dataset, train, compress, quantize, dequantize, reconstruct,
  and the composites encode and decode;
- :mod:`dnastore.stages.roundtrip`: a payload through the whole DNA channel in one call;
- :mod:`dnastore.stages.plan`: the cheapest settings that reach a target on a channel.

The names below load on first use, so that ``simulate`` imports no more than it needs.
"""

from dnastore.lazy import lazy_names

_WHERE = {
    "OligoSettings": "files", "oligo_encode": "files", "simulate": "files", "consensus": "files",
    "oligo_decode": "files", "call_strands": "files", "payload_from_strands": "files",
    "dataset": "images", "train": "images", "compress": "images", "quantize": "images", "dequantize": "images",
    "reconstruct": "images", "encode": "images", "decode": "images",
    "transmit": "roundtrip", "plan": "plan",
}

__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
