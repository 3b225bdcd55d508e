"""The simulator's presets and measured tables, each with its published source.

A preset is a flat mapping of :class:`dnastore.channel.dna.SimParams` fields. Synthesis
profiles (``SYNTHESIS``), PCR polymerases (``POLYMERASES``) and sequencing presets
(``PRESETS``) combine; any field can then be overridden on the command line or from a TOML
preset file (:func:`load_preset_file`). Tables (per-cycle error profiles, substitution
matrices, truncation lengths) are named here and may also be given as lists in a file.

Sources (cited by key in ``SOURCES`` and in ``dnastore presets``):

- [dt4dds] Gimpel, Stark and Grass, "A digital twin for DNA data storage based on
  comprehensive quantification of errors and biases", Nat. Commun. 14, 6026 (2023); the
  fitted values ship in its package (``dt4dds/settings/*.yaml``, v1.1.0).
- [antkowiak] Antkowiak et al., "Low cost DNA data storage using photolithographic
  synthesis and advanced information reconstruction and error correction", Nat. Commun.
  11, 5345 (2020): the photolithographic pool that dt4dds's photolithographic profile fits.
- [meiser] Meiser et al., "Reading and writing digital data in DNA", Nat. Protoc. 15, 86
  (2020), and Meiser et al., "Synthetic DNA applications in information technology",
  Nat. Commun. 13, 352 (2022): decay in half-lives, depurination-driven breakage.
- [potapov] Potapov and Ong, "Examining sources of error in PCR by single-molecule
  sequencing", PLoS ONE 12, e0169774 (2017): polymerase substitution rates and spectra (as
  dt4dds uses them).
- [delahaye] Delahaye and Nicolas, "Sequencing DNA with nanopores: troubles and biases",
  PLoS ONE 16, e0257521 (2021): MinION R9.4 reads about 6-8% error, homopolymers and short
  repeats the source of about half of all errors, mostly deletions.
- [wick] Wick, Judd and Holt, "Performance of neural network basecalling tools for Oxford
  Nanopore sequencing", Genome Biol. 20, 129 (2019): read identities spread around the
  median (the per-read accuracy spread).
- [ours] a choice of ours, named as such where no measured figure fits.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from dnastore.errors import DnastoreError

SOURCES = {
    "dt4dds": "Gimpel, Stark & Grass, Nat. Commun. 14, 6026 (2023); values from dt4dds 1.1.0's settings",
    "antkowiak": "Antkowiak et al., Nat. Commun. 11, 5345 (2020), as fitted by dt4dds",
    "meiser": "Meiser et al., Nat. Protoc. 15, 86 (2020); dt4dds's aging model",
    "potapov": "Potapov & Ong, PLoS ONE 12, e0169774 (2017), as dt4dds uses them",
    "delahaye": "Delahaye & Nicolas, PLoS ONE 16, e0257521 (2021)",
    "wick": "Wick, Judd & Holt, Genome Biol. 20, 129 (2019)",
    "ours": "our choice (no measured figure fits); override it",
}

BASES = "ACGT"


def _matrix(rows: dict[str, dict[str, float]]) -> tuple[tuple[float, ...], ...]:
    """A substitution weight matrix (from-base rows, to-base columns, ACGT order)."""
    return tuple(tuple(float(rows[a].get(b, 0.0)) for b in BASES) for a in BASES)


# Substitution spectra: weight of each from -> to change (rows need not sum to one; a row's
# total also sets how often that base is hit, relative to the others)
MATRICES: dict[str, tuple[tuple[float, ...], ...]] = {
    "uniform": tuple(tuple(0.0 if a == b else 1.0 for b in BASES) for a in BASES),
    # iSeq100 read 1 [dt4dds]
    "iseq100": _matrix({"A": {"C": 0.0029, "G": 0.2065, "T": 0.1684}, "C": {"A": 0.0246, "G": 0.0139, "T": 0.1594},
                        "G": {"A": 0.1761, "C": 0.0184, "T": 0.0377}, "T": {"A": 0.0203, "C": 0.1060, "G": 0.0657}}),
    # photolithographic synthesis [dt4dds, antkowiak]
    "photolithographic": _matrix({"A": {"C": 0.085, "G": 0.058, "T": 0.063}, "C": {"A": 0.088, "G": 0.081, "T": 0.063},
                                  "G": {"A": 0.095, "C": 0.073, "T": 0.183}, "T": {"A": 0.081, "C": 0.063, "G": 0.094}}),
    # aging: deamination (C -> T, G -> A on the other strand) dominates [dt4dds, meiser]
    "aging": _matrix({"A": {"C": 0.0250, "G": 0.0176, "T": 0.0078}, "C": {"A": 0.0357, "G": 0.0318, "T": 0.3820},
                      "G": {"A": 0.3820, "C": 0.0318, "T": 0.0357}, "T": {"A": 0.0078, "C": 0.0176, "G": 0.0250}}),
    # polymerase spectra [potapov via dt4dds]
    "taq": _matrix({"A": {"C": 0.0147, "G": 0.3028, "T": 0.0630}, "C": {"A": 0.0150, "G": 0.0071, "T": 0.0975},
                    "G": {"A": 0.0975, "C": 0.0071, "T": 0.0150}, "T": {"A": 0.0630, "C": 0.3028, "G": 0.0147}}),
    "q5": _matrix({"A": {"C": 0.012, "G": 0.075, "T": 0.016}, "C": {"A": 0.235, "G": 0.0025, "T": 0.16},
                   "G": {"A": 0.16, "C": 0.0025, "T": 0.235}, "T": {"A": 0.016, "C": 0.075, "G": 0.012}}),
    "hifi": _matrix({"A": {"C": 0.0075, "G": 0.105, "T": 0.0135}, "C": {"A": 0.12, "G": 0.0053, "T": 0.245},
                     "G": {"A": 0.245, "C": 0.0053, "T": 0.12}, "T": {"A": 0.0135, "C": 0.105, "G": 0.0075}}),
}

# Deletion base bias (relative weight of a deletion at A, C, G, T)
DELETION_BIAS = {
    "uniform": (1.0, 1.0, 1.0, 1.0),
    "twist": (0.2468, 0.2362, 0.2669, 0.2500),        # [dt4dds]
    "customarray": (0.2710, 0.2521, 0.2317, 0.2451),  # [dt4dds]
}

# Per-cycle (read position) substitution multipliers of Illumina iSeq100 read 1 [dt4dds]; the
# simulator rescales a profile to mean 1 over the read's first 150 cycles and holds its last
# value beyond its end.
_ISEQ100 = (
    1.9153, 1.7945, 1.6541, 1.5383, 1.4790, 1.4041, 1.2210, 0.9857, 0.8739, 0.8353, 0.8162, 0.7754, 0.7608, 0.7465,
    0.7124, 0.7021, 0.6843, 0.6600, 0.6557, 0.6465, 0.6482, 0.6503, 0.6614, 0.6798, 0.7040, 0.7267, 0.7476, 0.7778,
    0.8002, 0.8244, 0.8319, 0.8310, 0.8411, 0.8403, 0.8273, 0.8191, 0.8097, 0.8080, 0.8025, 0.7983, 0.7940, 0.7940,
    0.7954, 0.8026, 0.7958, 0.8111, 0.8163, 0.8122, 0.8095, 0.8146, 0.8336, 0.8523, 0.8362, 0.8411, 0.8479, 0.8322,
    0.8387, 0.8418, 0.8505, 0.8500, 0.8535, 0.8497, 0.8649, 0.8752, 0.8957, 0.9036, 0.9092, 0.9149, 0.9049, 0.8958,
    0.8915, 0.8932, 0.9084, 0.9017, 0.8951, 0.9068, 0.9440, 0.9561, 0.9816, 1.0140, 1.0253, 1.0249, 1.0256, 1.0364,
    1.0506, 1.0641, 1.0337, 1.0418, 1.0524, 1.0539, 1.0605, 1.0635, 1.0649, 1.0853, 1.0878, 1.0970, 1.1022, 1.1095,
    1.1225, 1.1470, 1.1616, 1.2031, 1.2348, 1.2479, 1.2696, 1.3029, 1.3508, 1.3819, 1.4399, 1.4786, 1.5411, 1.5886,
    1.6368, 1.6672, 1.7133, 1.7403, 1.7729)
PROFILES: dict[str, tuple[float, ...]] = {
    "flat": (1.0,),
    "iseq100": _ISEQ100,
    # nanopore: the first bases of a read, read while the motor protein engages, and its last
    # are called worse than the middle [ours: shape only, mean 1]
    "nanopore": tuple([1.6, 1.45, 1.3, 1.2, 1.1] + [0.97] * 140 + [1.1, 1.2, 1.3, 1.45, 1.6]),
}

# Synthesis deletions in bursts: probability that a deletion event removes 1, 2, 3, .. consecutive
# bases (dt4dds' deletion repeat bias, fitted per synthesis provider) [dt4dds]
BURSTS = {
    "none": (1.0,),
    "twist": (0.8602, 0.0612, 0.0178, 0.0111, 0.0083, 0.0072, 0.0062, 0.0054, 0.0048, 0.0041, 0.0037, 0.0030,
              0.0023, 0.0020, 0.0016, 0.0010),
    "customarray": (0.9048, 0.0737, 0.0117, 0.0035, 0.0017, 0.0011, 0.0009, 0.0007, 0.0005, 0.0004, 0.0003, 0.0003,
                    0.0002, 0.0001, 0.0001),
    "photolithographic": (0.8556, 0.1026, 0.0227, 0.0191),
}

# Truncated synthesis products: probability that a molecule misses 0, 1, 2, .. nt
TRUNCATION = {
    "none": (1.0,),
    # photolithographic arrays [dt4dds, antkowiak], the missing nt split between the two ends
    "photolithographic": (0.4882, 0.1189, 0.0635, 0.0342, 0.0202, 0.0137, 0.0117, 0.0110, 0.0096, 0.0091),
}

SYNTHESIS: dict[str, dict[str, Any]] = {
    "twist": dict(bias=0.30, synth_sub=0.0, synth_ins=0.0, synth_del=0.0005695, synth_del_bias="twist",
                  synth_del_burst="twist", synth_sub_bias="uniform", trunc="none", trunc_at="even", dropout=0.0),
    "customarray": dict(bias=1.30, synth_sub=0.0, synth_ins=0.0, synth_del=0.0156, synth_del_bias="customarray",
                        synth_del_burst="customarray", synth_sub_bias="uniform", trunc="none", trunc_at="even",
                        dropout=0.0),
    "photolithographic": dict(bias=0.44, synth_sub=0.0212, synth_ins=0.0136, synth_del=0.0683,
                              synth_del_bias="uniform", synth_del_burst="photolithographic",
                              synth_sub_bias="photolithographic", trunc="photolithographic", trunc_at="even",
                              dropout=0.0),
    "ideal": dict(bias=0.0, synth_sub=0.0, synth_ins=0.0, synth_del=0.0, synth_del_bias="uniform",
                  synth_del_burst="none", synth_sub_bias="uniform", trunc="none", trunc_at="even", dropout=0.0),
}

# Polymerase substitutions per base per PCR cycle: Taq's 1.09e-4 over the fidelity relative to
# Taq [potapov via dt4dds]
POLYMERASES: dict[str, dict[str, Any]] = {
    "taq": dict(pcr_sub=1.09e-4, pcr_sub_bias="taq"),
    "hifi": dict(pcr_sub=1.09e-4 / 40.0, pcr_sub_bias="hifi"),
    "q5": dict(pcr_sub=1.09e-4 / 280.0, pcr_sub_bias="q5"),
}

# What every preset shares unless it says otherwise: no PCR, no aging, no homopolymer
# dependence; the workflow steps are switched on with their options
BASE: dict[str, Any] = dict(
    copy_dist="lognormal", pcr_cycles=0, pcr_eff=0.9, pcr_eff_sd=0.0051, polymerase="taq", copies=0.0,
    halflives=0.0, deamination=1.64e-4, breakage_bias=(0.3902, 0.0488, 0.4878, 0.0732),
    synth_hp=0.0, hp_sub=0.0, hp_ins=0.0, hp_del=0.0, read_sd=0.0, profile="flat", seq_sub_bias="uniform",
    slope=0.0, rc_fraction=0.0)

PRESETS: dict[str, dict[str, Any]] = {
    # Illumina (iSeq100 read 1): 0.11% substitutions with a per-cycle profile [dt4dds]; indels
    # an order rarer than substitutions [ours]
    "illumina": dict(synthesis="twist", sub=0.002, ins=0.0001, dele=0.0002, profile="iseq100",
                     seq_sub_bias="iseq100", rc_fraction=0.5),
    # the dt4dds iSeq100 model as it is: substitutions only, its profile and spectrum [dt4dds]
    "iseq100": dict(synthesis="twist", sub=0.001123, ins=0.0, dele=0.0, profile="iseq100", seq_sub_bias="iseq100",
                    rc_fraction=0.0),
    # Nanopore (MinION R9.4): 5-10% errors, many of them indels; deletions and insertions grow
    # with the homopolymer [delahaye]; reads differ in accuracy [wick]
    "nanopore": dict(synthesis="twist", sub=0.03, ins=0.02, dele=0.025, hp_del=0.5, hp_ins=0.2, read_sd=0.25,
                     profile="nanopore", rc_fraction=0.5),
    "ideal": dict(synthesis="ideal", sub=0.0, ins=0.0, dele=0.0, rc_fraction=0.0),
}

# The source of each field's preset value, for `dnastore presets`
FIELD_SOURCES = {
    "bias": "dt4dds", "synth_sub": "dt4dds", "synth_ins": "dt4dds", "synth_del": "dt4dds",
    "synth_del_bias": "dt4dds", "synth_sub_bias": "dt4dds", "synth_del_burst": "dt4dds", "trunc": "dt4dds", "trunc_at": "dt4dds",
    "dropout": "ours", "copy_dist": "dt4dds",
    "pcr_cycles": "ours", "pcr_eff": "dt4dds", "pcr_eff_sd": "dt4dds", "polymerase": "potapov",
    "pcr_sub": "potapov", "pcr_sub_bias": "potapov", "copies": "ours",
    "halflives": "ours", "deamination": "meiser", "breakage_bias": "meiser",
    "synth_hp": "ours", "hp_sub": "ours", "hp_ins": "delahaye", "hp_del": "delahaye", "read_sd": "wick",
    "profile": "dt4dds", "seq_sub_bias": "dt4dds", "sub": "dt4dds", "ins": "ours", "dele": "ours",
    "slope": "ours", "rc_fraction": "ours",
}
NANOPORE_SOURCES = {"sub": "delahaye", "ins": "delahaye", "dele": "delahaye", "profile": "ours"}


def table(kind: str, value: Any) -> tuple:
    """A named table (or a list given in a preset file) as a tuple, refused in one line if
    unknown or malformed."""
    book = {"profile": PROFILES, "trunc": TRUNCATION, "matrix": MATRICES, "deletion": DELETION_BIAS,
            "burst": BURSTS}[kind]
    if isinstance(value, str):
        if value not in book:
            raise DnastoreError(f"unknown {kind} table {value!r}; choose one of {', '.join(book)} or give a list")
        return book[value]
    try:
        if kind == "matrix":
            t = tuple(tuple(float(x) for x in row) for row in value)
            ok = len(t) == 4 and all(len(r) == 4 for r in t)
            flat = [x for r in t for x in r]
        else:
            t = tuple(float(x) for x in value)
            ok = len(t) == 4 if kind == "deletion" else 1 <= len(t) <= (16 if kind == "burst" else 512)
            flat = list(t)
    except (TypeError, ValueError):
        raise DnastoreError(f"a {kind} table must be a name or a list of numbers, got {value!r}") from None
    if not ok or not all(math.isfinite(x) and x >= 0 for x in flat) or not sum(flat) > 0:
        shape = {"matrix": "4 rows of 4", "deletion": "4", "profile": "1 to 512", "trunc": "1 to 512",
                 "burst": "1 to 16"}[kind]
        raise DnastoreError(f"a {kind} table takes {shape} non-negative numbers, not all zero; got {value!r}")
    return t


MAX_PRESET_BYTES = 1 << 20


def load_preset_file(path: str | Path) -> dict[str, Any]:
    """A TOML preset file: any SimParams field, plus ``preset``, ``synthesis`` and
    ``polymerase`` to start from. Unknown keys are refused (a typo must not pass silently)."""
    from dnastore.channel.dna import SimParams
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_PRESET_BYTES + 1)
        if len(raw) > MAX_PRESET_BYTES:
            raise DnastoreError(f"{path}: a preset file of more than {MAX_PRESET_BYTES // 1024} KiB; is it the right file?")
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise DnastoreError(f"{path}: no such preset file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise DnastoreError(f"{path}: not a TOML preset file ({str(e).splitlines()[0]})") from None
    fields = {f for f in SimParams.__dataclass_fields__} | {"preset", "synthesis", "polymerase"}
    bad = sorted(set(data) - fields)
    if bad:
        raise DnastoreError(f"{path}: unknown setting(s) {', '.join(bad)}; see `dnastore presets`")
    tables = {"trunc", "profile", "synth_sub_bias", "pcr_sub_bias", "seq_sub_bias", "synth_del_bias", "breakage_bias",
              "synth_del_burst"}
    for k, v in data.items():
        default = SimParams.__dataclass_fields__[k].default if k in SimParams.__dataclass_fields__ else ""
        if k in tables:
            ok = isinstance(v, (str, list))
        elif isinstance(default, str):
            ok = isinstance(v, str)
        elif isinstance(default, int) and not isinstance(default, bool) and k == "pcr_cycles":
            ok = isinstance(v, int) and not isinstance(v, bool)
        else:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if not ok:
            want = "a name or a list" if k in tables else "text" if isinstance(default, str) else \
                "a whole number" if k == "pcr_cycles" else "a number"
            raise DnastoreError(f"{path}: {k} must be {want}, got {v!r}")
    return data


def resolve(preset: str | None = None, synthesis: str | None = None, polymerase: str | None = None,
            file: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields of a run: the base, the preset, its synthesis profile and polymerase, then a
    preset file's values, then the command line's (each later one wins; a preset, synthesis
    or polymerase named by the caller wins over the file's, and ``illumina`` is the preset
    when neither names one)."""
    file = dict(file or {})
    preset = preset or file.pop("preset", None) or "illumina"
    file.pop("preset", None)
    if preset not in PRESETS:
        raise DnastoreError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    p: dict[str, Any] = dict(BASE)
    p.update({k: v for k, v in PRESETS[preset].items() if k != "synthesis"})
    syn = synthesis or file.pop("synthesis", None) or PRESETS[preset]["synthesis"]
    file.pop("synthesis", None)
    if syn not in SYNTHESIS:
        raise DnastoreError(f"unknown synthesis profile {syn!r}; choose one of {', '.join(SYNTHESIS)}")
    p.update(SYNTHESIS[syn])
    pol = polymerase or file.pop("polymerase", None) or p["polymerase"]
    file.pop("polymerase", None)
    if pol not in POLYMERASES:
        raise DnastoreError(f"unknown polymerase {pol!r}; choose one of {', '.join(POLYMERASES)}")
    p["polymerase"] = pol
    p.update(POLYMERASES[pol])
    p.update(file)
    p.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return p


def describe(preset: str, synthesis: str | None = None, polymerase: str | None = None) -> list[tuple[str, Any, str]]:
    """(field, value, source) for every field of a preset, for `dnastore presets`."""
    p = resolve(preset, synthesis, polymerase)
    out = []
    for k, v in p.items():
        src = (NANOPORE_SOURCES.get(k) if preset == "nanopore" else None) or FIELD_SOURCES.get(k, "ours")
        if preset == "ideal" or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0
                                 and k not in ("pcr_eff_sd",)):
            src = "-"
        out.append((k, v, SOURCES.get(src, "-") if src != "-" else "-"))
    return out
