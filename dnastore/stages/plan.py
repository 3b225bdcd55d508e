"""``dnastore plan``: the cheapest settings that reach a target, on a given channel.

For a file (or a size), the target is a byte-identical copy: every option (outer redundancy,
coverage) gets the chance that some Reed-Solomon block loses more strands than it has
parity, from the binomial law at the strand loss measured on the channel at that coverage
(times ``margin``). For images, the target is a mean PSNR or classifier accuracy: every
option (the VAE's bits per code or the photo codec's quality, outer redundancy, coverage) is
decoded, with the real decoder, from codes whose strands were lost as the channel loses them
and repaired as the outer code repairs them (``draws`` random draws: 2 to 16, more for a small
set, where one strand holds a large share of the codes), at the measured loss and
at ``margin`` times it; the target must hold at both.

The strand loss per coverage is measured, not assumed: a probe pool of ``probe`` random
strands goes through the simulator, consensus and the oligo decoder once per coverage.

Cost = synthesis (nt of data, parity and header strands x price per nt) + sequencing
(reads x strand length x price per base read). Default prices, to be overridden with your
quote:

- synthesis 4.4e-4 USD per nt: array synthesis of oligo pools (Twist Bioscience), as cited
  by Sharma et al., "Efficiently Enabling Block Semantics and Data Updates in DNA Storage"
  (ACM, 2022; doi:10.1145/3510853, appendix A.3.1);
- sequencing 1.3e-9 USD per base read: "roughly $1.3K/TB", Bar-Lev et al., "Cover Your
  Bases: How to Minimize the Sequencing Coverage in DNA Storage Systems" (2023), read as
  1.3e3 USD per 1e12 bases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnastore.errors import DnastoreError

PRICE_NT = 4.4e-4
PRICE_BASE_READ = 1.3e-9
FILE_COVERAGES = (2, 3, 4, 5, 6, 8, 10, 15, 20, 30)
FILE_REDUNDANCIES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0)
IMAGE_COVERAGES = (1, 2, 3, 5, 8, 10, 15, 20, 30)
IMAGE_REDUNDANCIES = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
IMAGE_BITS = (4, 6, 8)
PHOTO_QUALITIES = (1, 25, 50, 75, 100)
DRAW_PIXELS = 4_000_000  # an image plan decodes about this many pixels per option (2 to 16 draws)


DENSE_INNER_PARITIES = (4, 8)  # the dense code's settings a file plan weighs: the default and the stronger one


@dataclass
class Channel:
    """The channel a plan is for, with the oligo code whose strand loss is measured on it
    (``strand_length`` None: the code's default)."""
    preset: str = "illumina"
    synthesis: str | None = None
    strand_length: int | None = None
    seed: int = 0
    loss: dict[float, float] = field(default_factory=dict)
    code: str | None = None
    inner_parity: int = 4

    @property
    def code_name(self) -> str:
        from dnastore.dna.codes import resolve
        return resolve(self.code, self.strand_length)[0]

    @property
    def length(self) -> int:
        from dnastore.dna.codes import resolve
        return resolve(self.code, self.strand_length)[1]

    def settings(self) -> dict[str, Any]:
        """What oligo-encode needs to write the strands this channel's loss was measured on."""
        out: dict[str, Any] = {"code": self.code_name, "strand_length": self.length}
        if self.code_name == "dense":
            out["inner_parity"] = self.inner_parity
        return out

    def encode(self, payload: bytes, extra: dict[str, Any], redundancy: float | None):
        from dnastore.stages.roundtrip import encode
        kw = {"inner_parity": self.inner_parity} if self.code_name == "dense" else {}
        return encode(payload, extra, redundancy=redundancy or 0, code=self.code_name, strand_length=self.length, **kw)

    def bytes_per_strand(self, data: bytes | None = None) -> int:
        sample = data if data else np.random.default_rng(0).integers(0, 256, 65536, dtype=np.uint8).tobytes()
        return int(self.encode(sample, {"mode": "file"}, 0).manifest["bytes_per_strand"])

    def measure(self, coverages, probe: int = 2000) -> dict[float, float]:
        """Fraction of data strands lost (no outer code) at each coverage."""
        from dnastore.channel.dna import preset_params
        from dnastore.stages.roundtrip import transmit
        rng = np.random.default_rng(self.seed)
        enc = self.encode(rng.integers(0, 256, probe * self.bytes_per_strand(), dtype=np.uint8).tobytes(),
                          {"mode": "file"}, 0)
        n = enc.manifest["n_data_strands"]
        for c in coverages:
            if float(c) not in self.loss:
                got = transmit(enc, preset_params(self.preset, self.synthesis, coverage=float(c)), self.seed + 1)
                self.loss[float(c)] = got.stats["data_strands_missing"] / n
        return self.loss


def file_failure(n_data: int, r: float, p: float) -> float:
    """Chance that some RS block of ``n_data`` strands at redundancy ``r`` loses more strands
    than it has parity, strands lost independently with probability ``p``."""
    from scipy.stats import binom

    from dnastore.dna.outer import RSPlan
    if r <= 0:
        return float(-np.expm1(n_data * np.log1p(-min(p, 1.0 - 1e-16))))
    plan = RSPlan.make(n_data, r)
    ks = np.array([k for _, k in plan.blocks])
    sf = binom.sf(plan.nsym, ks + plan.nsym, p)
    if (sf >= 1.0).any():
        return 1.0
    return float(max(0.0, -np.expm1(np.sum(np.log1p(-sf)))))


def _header_strands(channel: Channel, r: float, mode_extra: dict[str, Any]) -> int:
    """Header strands of a pool like the planned one (its manifest's size is what counts)."""
    from dnastore.dna.codes import get_code
    from dnastore.dna.header import header_strands
    from dnastore.io.manifest import seal_manifest
    enc = channel.encode(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(), mode_extra, r)
    man = seal_manifest(enc.manifest)
    return len(header_strands(man, get_code(channel.code_name).header_layout(man))[0])


def _cost(strands: int, coverage: float, L: int, price_nt: float, price_read: float) -> dict[str, float]:
    synth = strands * L * price_nt
    seq = strands * coverage * L * price_read
    return {"synthesis_usd": synth, "sequencing_usd": seq, "cost_usd": synth + seq}


def plan_file(size: int, channel: Channel, *, price_nt: float = PRICE_NT, price_read: float = PRICE_BASE_READ,
              max_failure: float = 1e-6, margin: float = 1.5, bytes_per_strand: int | None = None,
              probe: int = 2000, data: bytes | None = None, max_coverage: float | None = None) -> dict[str, Any]:
    """Options (the dense code's inner parity, outer redundancy, coverage) for a
    byte-identical file of ``size`` bytes (its bytes, where given, set how many fit in a
    strand). For the dense code each inner parity of :data:`DENSE_INNER_PARITIES` is its
    own channel (its strand loss measured apart), unless the channel names one that is not
    the default."""
    from dataclasses import replace

    from dnastore.dna.outer import RSPlan
    if size <= 0:
        raise DnastoreError("the size to plan for must be at least one byte")
    if channel.code_name == "dense" and channel.inner_parity == 4:
        channels = [channel] + [replace(channel, inner_parity=ip, loss={}) for ip in DENSE_INNER_PARITIES if ip != 4]
    else:
        channels = [channel]
    coverages = [c for c in FILE_COVERAGES if max_coverage is None or c <= max_coverage]
    if not coverages:
        raise DnastoreError(f"--max-coverage {max_coverage:g} is below every coverage a plan weighs "
                            f"({FILE_COVERAGES[0]} and up)")
    options = []
    for ch in channels:
        L = ch.length
        B = bytes_per_strand or ch.bytes_per_strand(data)
        n_data = math.ceil(size / B)
        loss = ch.measure(coverages, probe)
        heads = {r: _header_strands(ch, r, {"mode": "file", "sha256": "0" * 64}) for r in FILE_REDUNDANCIES}
        for r in FILE_REDUNDANCIES:
            parity = RSPlan.make(n_data, r).n_parity
            strands = n_data + parity + heads[r]
            for c in coverages:
                p = min(1.0, margin * loss[float(c)])
                fail = file_failure(n_data, r, p)
                options.append({**ch.settings(), "outer_redundancy": r, "coverage": c, "strands": strands,
                                "nt": strands * L, "strand_loss": loss[float(c)], "predicted_failure": fail,
                                "meets_target": fail <= max_failure, **_cost(strands, c, L, price_nt, price_read)})
    return _finish({"kind": "file", "bytes": size, "target": f"byte-identical, failure <= {max_failure:g}",
                    "channel": _channel_json(channel, channels), "prices": {"nt": price_nt, "base_read": price_read}},
                   options)


def _channel_json(ch: Channel, channels: list[Channel] | None = None) -> dict[str, Any]:
    out = {"preset": ch.preset, "synthesis": ch.synthesis, "code": ch.code_name, "strand_length": ch.length,
           "seed": ch.seed, "strand_loss": {str(k): v for k, v in sorted(ch.loss.items())}}
    if channels and len(channels) > 1:
        out["strand_loss_by_inner_parity"] = {str(c.inner_parity): {str(k): v for k, v in sorted(c.loss.items())}
                                              for c in channels}
    return out


def _finish(head: dict[str, Any], options: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [o for o in options if o["meets_target"]]
    if not ok:
        raise DnastoreError("no option reaches the target on this channel; lower the target or raise the coverages")
    # the frontier: for each coverage, the cheapest option that meets the target
    best_by_c: dict[float, dict] = {}
    for o in ok:
        c = o["coverage"]
        if c not in best_by_c or o["cost_usd"] < best_by_c[c]["cost_usd"]:
            best_by_c[c] = o
    frontier = sorted(best_by_c.values(), key=lambda o: o["cost_usd"])
    return {**head, "best": frontier[0], "frontier": frontier, "options": options}


def plan_images(source, channel: Channel, *, target: str = "psnr:20", weights=None, resize: str | None = None,
                price_nt: float = PRICE_NT, price_read: float = PRICE_BASE_READ, draws: int | None = None,
                probe: int = 2000, limit: int | None = None, max_coverage: float | None = None,
                codec: str | None = None, margin: float = 1.5) -> dict[str, Any]:
    """Options (the codec's rate setting, redundancy, coverage) that reach a mean PSNR
    (``psnr:DB``) or classifier accuracy (``acc:FRACTION``, MNIST labels needed) on the
    images of ``source``. The codec is the one ``encode`` picks (``codec`` None) or ``vae`` or
    ``photo``; the rate setting is the VAE's bits per code (:data:`IMAGE_BITS`) or the photo
    codec's quality (:data:`PHOTO_QUALITIES`). An option meets the target where it does at
    the measured strand loss and at ``margin`` times that loss (a pool's loss strays from the
    probe's, and an outer code near its limit fails on whole blocks)."""
    from dnastore.codecs.base import Codes
    from dnastore.dna.approx import codes_from_payload, codes_payload
    from dnastore.dna.codes import get_code
    from dnastore.dna.header import header_strands
    from dnastore.io.manifest import seal_manifest

    kind, _, value = target.partition(":")
    try:
        goal = float(value)
    except ValueError:
        raise DnastoreError(f"--target takes psnr:DB or acc:FRACTION, got {target!r}") from None
    if kind not in ("psnr", "acc"):
        raise DnastoreError(f"--target takes psnr:DB or acc:FRACTION, got {target!r}")
    if codec is None:
        from dnastore.stages.images import pick_codec
        codec = pick_codec(source, resize)[0]
    if codec not in ("vae", "photo"):
        raise DnastoreError(f"plan weighs the vae and photo codecs, not {codec!r}")
    L = channel.length
    coverages = [c for c in IMAGE_COVERAGES if max_coverage is None or c <= max_coverage]
    if not coverages:
        raise DnastoreError(f"--max-coverage {max_coverage:g} is below every coverage a plan weighs "
                            f"({IMAGE_COVERAGES[0]} and up)")
    rates = _VaeRates(source, weights, resize, limit, kind) if codec == "vae" else \
        _PhotoRates(source, weights, resize, limit, kind, channel)

    # every rate setting's codes, and every outer redundancy's pool of them
    pools = []
    for setting, coder in rates.codecs():
        codes = coder.encode(_Array(rates.x, rates.names))
        clean = rates.score(coder.decode(codes))
        payload, extra = codes_payload(codes.codes, codes.attrs, codes.arrays, names=rates.names)
        for r in IMAGE_REDUNDANCIES:
            enc = channel.encode(payload, extra, r)
            man = seal_manifest(dict(enc.manifest))
            strands = man["n_strands"] + len(header_strands(man, get_code(channel.code_name).header_layout(man))[0])
            pools.append((setting, coder, codes.bits_per_image, clean, payload, r, man, strands))

    rng = np.random.default_rng(channel.seed + 7)
    if draws is None:  # a small set loses a large share to one strand: more draws, which cost little there
        draws = int(np.clip(DRAW_PIXELS // max(1, rates.pixels), 2, 16))

    def predict(coder, clean, payload, man, p: float) -> float:
        vals = []
        for _ in range(draws):
            ok = _surviving_rows(man, p, rng)
            if ok.all():  # nothing lost: the error-free images
                vals.append(clean)
                continue
            erased = np.repeat(~ok, man["bytes_per_strand"])[:man["payload_bytes"]]
            cc, er, side, attrs = codes_from_payload(payload, erased, man)
            vals.append(rates.score(coder.decode(Codes(cc, attrs, side, er))))
        return float(np.mean(vals))

    options: list[dict[str, Any]] = []
    # the coverages up to 8 first; the deeper ones are measured only where none of those reaches the target
    for tier in ([c for c in coverages if c <= 8], [c for c in coverages if c > 8]):
        if not tier or any(o["meets_target"] for o in options):
            continue
        loss = channel.measure(tier, probe)
        for setting, coder, bits, clean, payload, r, man, strands in pools:
            for c in tier:
                q = predict(coder, clean, payload, man, loss[float(c)])
                # a real pool's loss strays from the probe's: the target must hold at margin x the loss too
                q_margin = predict(coder, clean, payload, man, min(1.0, margin * loss[float(c)])) if q >= goal else q
                options.append({**channel.settings(), "codec": codec, **setting, "outer_redundancy": r,
                                "coverage": c, "strands": strands, "nt": strands * L, "bits_per_image": bits,
                                f"predicted_{kind}": q, f"predicted_{kind}_at_margin": q_margin,
                                f"error_free_{kind}": clean, "meets_target": bool(q >= goal and q_margin >= goal),
                                **_cost(strands, c, L, price_nt, price_read)})
    return _finish({"kind": "images", "codec": codec, "images": rates.n, "target": f"{kind} >= {goal:g}",
                    "channel": _channel_json(channel), "prices": {"nt": price_nt, "base_read": price_read}}, options)


class _VaeRates:
    """The MNIST VAE's settings a plan weighs (bits per code) and its score of decoded images."""

    def __init__(self, source, weights, resize, limit, kind):
        from dnastore.codecs.base import get_codec
        from dnastore.data.source import ImageSource
        self.weights = weights
        base = get_codec("vae", weights=weights)
        src = ImageSource(source, base.channels, base.image_shape, resize)
        self.n = n = min(src.n, limit or src.n)
        self.x = np.concatenate([src.piece(i0, min(i1, n)) for i0, i1 in src.pieces(4000) if i0 < n])
        self.pixels = int(self.x[..., 0].size if self.x.ndim == 4 else self.x.size)
        self.names, labels = src.names[:n], src.labels[:n]
        self.clf = None
        if kind == "acc":
            if (labels < 0).any():
                raise DnastoreError(f"--target acc needs labelled images (a dataset made from MNIST); {source} has none")
            from dnastore.metrics.classifier import load_classifier
            self.clf, self.labels = load_classifier(), labels

    def codecs(self):
        from dnastore.codecs.base import get_codec
        for bits in IMAGE_BITS:
            yield {"n_bits": bits}, get_codec("vae", weights=self.weights, n_bits=bits)

    def score(self, dec) -> float:
        from dnastore.metrics import psnr
        images = np.concatenate([imgs for _, imgs in dec.pieces])
        return self.clf.accuracy(images, self.labels) if self.clf is not None else float(np.mean(np.asarray(
            psnr(self.x, images))))


class _PhotoRates:
    """The photo codec's settings a plan weighs (quality, packets sized to the channel's
    strands) and its score of decoded images: the mean PSNR over the photos, each at its size."""

    def __init__(self, source, weights, resize, limit, kind, channel: Channel):
        from dnastore.data.source import ImageSource
        from dnastore.stages.files import OligoSettings
        from dnastore.stages.images import _strand_bytes
        if kind != "psnr":
            raise DnastoreError("--target acc needs labelled digits; for photos plan with --target psnr:DB")
        self.weights = weights
        src = ImageSource(source, 3, None, resize)
        self.n = n = min(src.n, limit or src.n)
        self.x, self.names = [src.one(i) for i in range(n)], src.names[:n]
        self.pixels = sum(int(img.shape[0] * img.shape[1]) for img in self.x)
        # the packets encode --plan writes: one per strand of these settings, whatever the pool's size
        self.packet_bytes = _strand_bytes(OligoSettings(**channel.settings()))

    def codecs(self):
        from dnastore.codecs.base import get_codec
        for q in PHOTO_QUALITIES:
            yield {"quality": q}, get_codec("photo", quality=q, weights=self.weights, packet_bytes=self.packet_bytes)

    def score(self, dec) -> float:
        from dnastore.metrics import psnr
        got = [imgs[0] for _, imgs in dec.pieces]
        return float(np.mean([float(np.asarray(psnr(a[None], b[None]))[0]) for a, b in zip(self.x, got)]))


class _Array:
    """An in-memory image source for a codec's encode: an array (N, ...) or a list of images
    of any sizes."""

    def __init__(self, x, names: list[str]):
        self.x, self.names, self.n = x, names, len(x)

    def piece(self, i0: int, i1: int) -> np.ndarray:
        return self.x[i0:i1]

    def one(self, i: int) -> np.ndarray:
        return self.x[i]

    def pieces(self, rows: int):
        for i0 in range(0, self.n, rows):
            yield i0, min(self.n, i0 + rows)


def _surviving_rows(man: dict[str, Any], p: float, rng: np.random.Generator) -> np.ndarray:
    """Which data strands come back when each strand is lost with probability ``p`` and the
    outer code repairs every block that lost no more strands than its parity."""
    from dnastore.dna.outer import RSPlan
    n_data = int(man["n_data_strands"])
    lost = rng.random(int(man["n_strands"])) < p
    ok = ~lost[:n_data]
    if man.get("outer"):
        plan = RSPlan.from_json(man["outer"])
        par = ~lost[n_data:]
        for b, (start, k) in enumerate(plan.blocks):
            got = ok[start:start + k].sum() + par[b * plan.nsym:(b + 1) * plan.nsym].sum()
            if got >= k:
                ok[start:start + k] = True
    return ok


def table(plan: dict[str, Any], rows: int = 8) -> str:
    """The frontier as a Markdown table."""
    q = "predicted_failure" if plan["kind"] == "file" else next(k for k in plan["best"] if k.startswith("predicted_"))
    inner = any("inner_parity" in o for o in plan["frontier"])
    rate = None if plan["kind"] != "images" else "quality" if "quality" in plan["best"] else "n_bits"
    head = ["coverage"] + (["inner parity"] if inner else []) + ["outer redundancy"] + \
        ([{"quality": "quality", "n_bits": "bits/code"}[rate]] if rate else []) + \
        ["strands", "nt", q.replace("_", " "), "synthesis USD", "sequencing USD", "total USD"]
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for o in plan["frontier"][:rows]:
        vals = [f"{o['coverage']:g}"] + ([str(o.get("inner_parity", "-"))] if inner else []) + \
            [f"{o['outer_redundancy']:g}"] + ([str(o[rate])] if rate else []) + \
            [f"{o['strands']:,}", f"{o['nt']:,}", f"{o[q]:.3g}", f"{o['synthesis_usd']:.2f}",
             f"{o['sequencing_usd']:.4f}", f"{o['cost_usd']:.2f}"]
        out.append("| " + " | ".join(vals) + " |")
    return "\n".join(out)


def plan(source=None, output=None, *, size: int | None = None, preset: str = "illumina", synthesis: str | None = None,
         target: str | None = None, price_nt: float = PRICE_NT, price_read: float = PRICE_BASE_READ,
         strand_length: int | None = None, weights=None, resize: str | None = None, limit: int | None = None,
         plot=None, seed: int = 0, force: bool = False, report=None, code: str | None = None,
         max_coverage: float | None = None, codec: str | None = None) -> dict[str, Any]:
    """Plan a pool: for a file, a folder or a size (byte-identical), or for images (PSNR or
    accuracy; with the codec ``encode`` picks, or ``codec``). Writes OUTPUT (plan.json, which ``encode --plan`` and ``oligo-encode --plan``
    take) and, with ``plot``, a cost-against-quality plot. Returns the summary."""
    import json
    from pathlib import Path

    from dnastore.io.atomic import atomic_outputs, check_outputs
    if price_nt < 0 or price_read < 0 or not math.isfinite(price_nt + price_read):
        raise DnastoreError("prices must be finite and not negative")
    output = Path(output or "plan.json")
    inputs = [source] if source is not None and Path(str(source)).exists() else []
    check_outputs(force, [output, plot], inputs)
    ch = Channel(preset, synthesis, strand_length, seed, code=code)
    target = target or ("identical" if source is None or Path(source).is_file() else "psnr:20")
    if target != "identical":
        kind, _, value = target.partition(":")
        try:
            ok = kind in ("psnr", "acc") and math.isfinite(float(value))
        except ValueError:
            ok = False
        if not ok:
            raise DnastoreError(f"--target takes identical, psnr:DB or acc:FRACTION, got {target!r}")
    if target == "identical":
        if source is not None:
            src = Path(source)
            if not src.exists():
                raise DnastoreError(f"{src}: no such file or folder")
            if src.is_file():
                data = src.read_bytes()
            else:
                from dnastore.stages.files import folder_payload
                data = folder_payload(src)[0]
            size = len(data)
        else:
            data = None
        if size is None:
            raise DnastoreError("give a file, a folder or --bytes to plan for")
        result = plan_file(size, ch, price_nt=price_nt, price_read=price_read, data=data, max_coverage=max_coverage)
    else:
        if source is None:
            raise DnastoreError("an image target needs the images (a folder or a dataset)")
        result = plan_images(source, ch, target=target, weights=weights, resize=resize, price_nt=price_nt,
                             price_read=price_read, limit=limit, max_coverage=max_coverage, codec=codec)
    result["format"] = "dnastore-plan"
    with atomic_outputs(force, inputs) as outs:
        outs.path(output).write_text(json.dumps(result, indent=1) + "\n")
        if plot is not None:
            _plot(result, outs.path(Path(plot)))
    best = result["best"]
    summary = {"output": str(output), "kind": result["kind"], "target": result["target"], "code": best["code"],
               **({"inner_parity": best["inner_parity"]} if "inner_parity" in best else {}),
               "outer_redundancy": best["outer_redundancy"], "coverage": best["coverage"],
               "strands": best["strands"], "cost_usd": best["cost_usd"], "synthesis_usd": best["synthesis_usd"],
               "sequencing_usd": best["sequencing_usd"], "options_meeting_target": sum(o["meets_target"]
                                                                                     for o in result["options"])}
    for key in ("codec", "n_bits", "quality"):
        if key in best:
            summary[key] = best[key]
    summary["table"] = "\n" + table(result)
    if plot is not None:
        summary["plot"] = str(plot)
    return summary


def _plot(result: dict[str, Any], path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DnastoreError("--plot needs matplotlib (pip install matplotlib)") from None
    q = "predicted_failure" if result["kind"] == "file" else next(k for k in result["best"] if k.startswith("predicted_"))
    fig, ax = plt.subplots(figsize=(6, 4))
    for ok, colour, label in ((False, "#bbbbbb", "misses the target"), (True, "#1f77b4", "meets the target")):
        pts = [o for o in result["options"] if o["meets_target"] == ok]
        ax.scatter([o["cost_usd"] for o in pts], [max(o[q], 1e-12) for o in pts], s=12, c=colour, label=label)
    b = result["best"]
    ax.scatter([b["cost_usd"]], [max(b[q], 1e-12)], s=80, marker="*", c="#d62728", label="cheapest")
    ax.set_xscale("log")
    if result["kind"] == "file":
        ax.set_yscale("log")
    ax.set_xlabel("cost (USD, synthesis + sequencing)")
    ax.set_ylabel(q.replace("_", " "))
    ax.set_title(f"dnastore plan: {result['target']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def planned(path) -> dict[str, Any]:
    """The chosen option of a plan.json."""
    import json
    from pathlib import Path
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as e:
        raise DnastoreError(f"{path}: not a readable plan ({type(e).__name__})") from None
    best = obj.get("best") if isinstance(obj, dict) and obj.get("format") == "dnastore-plan" else None
    r = best.get("outer_redundancy") if isinstance(best, dict) else None
    if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0 <= r <= 4:
        raise DnastoreError(f"{path} is not a plan written by `dnastore plan`")
    from dnastore.dna.codes import code_names
    code, ip, length = best.get("code", "goldman"), best.get("inner_parity", 4), best.get("strand_length")
    if (code not in code_names() or isinstance(ip, bool) or not isinstance(ip, int) or not 1 <= ip <= 32
            or (length is not None and (isinstance(length, bool) or not isinstance(length, int)
                                        or not 40 <= length <= 10000))):
        raise DnastoreError(f"{path} is not a plan written by `dnastore plan` (its code settings are malformed)")
    if obj.get("kind") == "images":
        codec = best.get("codec")
        rate, lo, hi = ("n_bits", 1, 16) if codec == "vae" else ("quality", 1, 100)
        v = best.get(rate)
        if codec not in ("vae", "photo") or isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise DnastoreError(f"{path} is not a plan written by `dnastore plan` (its codec settings are malformed)")
    return {"kind": obj.get("kind"), **best, "code": code, "inner_parity": ip}
