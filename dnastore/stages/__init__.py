"""Every stage of the pipeline as a library function: paths or arrays in, a summary dict out.
The command line (:mod:`dnastore.cli`) parses options, calls one of these and reports.

- :mod:`dnastore.stages.files`: oligo-encode, simulate, consensus, oligo-decode;
- :mod:`dnastore.stages.images`: dataset, train, compress, quantize, dequantize, reconstruct,
  and the composites encode and decode;
- :mod:`dnastore.stages.roundtrip`: a payload through the whole DNA channel in one call.

The names below load on first use, so that ``simulate`` imports no more than it needs.
"""

from importlib import import_module

_WHERE = {
    "OligoSettings": "files", "oligo_encode": "files", "simulate": "files", "consensus": "files",
    "oligo_decode": "files", "call_strands": "files", "payload_from_strands": "files",
    "dataset": "images", "train": "images", "compress": "images", "quantize": "images", "dequantize": "images",
    "reconstruct": "images", "encode": "images", "decode": "images",
    "transmit": "roundtrip",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
