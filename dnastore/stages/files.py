"""The DNA stages as library functions: oligo-encode, simulate, consensus, oligo-decode.

Each takes paths and settings, writes its artifacts atomically (a temporary path renamed
into place at the end) and returns a summary dict. The image composites
(:mod:`dnastore.stages.images`) and the experiments' round trip (:func:`transmit`) call the
same functions, so there is one code path from strands to reads to payload.

Imports stay lazy: ``simulate`` runs its cached kernels without importing JAX.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dnastore.errors import DnastoreError
from dnastore.stages.report import QUIET, Reporter


# ----------------------------------------------------------------------------- oligo-encode
@dataclass
class OligoSettings:
    """The oligo code, its layout and the outer code, as ``oligo-encode`` and ``encode`` take
    them. ``code`` names the oligo code (:mod:`dnastore.dna.codes`); ``strand_length`` None
    is that code's default (150 nt Goldman-style, 240 dense). ``primers`` None is dnastore's
    20-nt pair; ("", "") is none. ``outer_redundancy`` None is the default for what is stored
    (:meth:`for_data`). ``index_trits`` and ``check_trits`` are the Goldman-style code's,
    ``inner_parity`` the dense code's."""
    strand_length: int | None = None
    primers: tuple[str, str] | None = None
    index_trits: int = 0
    check_trits: int = 10
    gc_band: tuple[float, float] = (0.40, 0.60)
    outer_redundancy: float | None = None
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

    def for_data(self, precise: bool) -> "OligoSettings":
        """These settings with the default outer code filled in: ``FILE_REDUNDANCY`` for data
        stored precisely (files, folders, classical codecs), ``IMAGE_REDUNDANCY`` for codes
        of a learned codec. The dense code keeps None: it sizes its outer code to a strand
        loss (:class:`dnastore.dna.codes.Dense`)."""
        from dataclasses import replace

        from dnastore.dna.outer import FILE_REDUNDANCY, IMAGE_REDUNDANCY
        if self.outer_redundancy is not None or self.code_name == "dense":
            return self
        return replace(self, outer_redundancy=FILE_REDUNDANCY if precise else IMAGE_REDUNDANCY)

    def layout(self):
        """The Goldman layout of these settings (the dense code's strands carry their header
        strands in it), after checking them."""
        from dnastore.dna.codec import DEFAULT_PRIMERS, Layout
        from dnastore.dna.codes import get_code
        from dnastore.dna.outer import MAX_REDUNDANCY
        get_code(self.code_name)
        if self.outer_redundancy is not None and not 0 <= self.outer_redundancy <= MAX_REDUNDANCY:
            raise DnastoreError(f"--outer-redundancy must be in [0, {MAX_REDUNDANCY:g}], got {self.outer_redundancy}")
        if not 1 <= self.inner_parity <= 32:
            raise DnastoreError(f"--inner-parity must be in 1..32, got {self.inner_parity}")
        return Layout(self.length, tuple(self.primers) if self.primers is not None else DEFAULT_PRIMERS,
                      self.index_trits, self.check_trits, tuple(self.gc_band))

    def params(self, layout) -> dict[str, Any]:
        out = {"code": self.code_name, "strand_length": self.length, "primers": list(layout.primers),
               "gc_band": list(layout.gc_band), "outer_redundancy": self.outer_redundancy}
        if self.code_name == "dense":
            out["inner_parity"] = self.inner_parity
        else:
            out.update(index_trits=self.index_trits, check_trits=self.check_trits)
        return out


def write_oligos(payload: bytes, extra: dict[str, Any], output: Path, settings: OligoSettings,
                 prov: Callable[[dict[str, Any]], dict[str, Any]], force: bool = False,
                 report: Reporter = QUIET, inputs: tuple = ()) -> dict[str, Any]:
    """Encode ``payload`` into strands and write OUTPUT + OUTPUT.json atomically; returns the
    summary. ``prov(params)`` builds the provenance record from the layout parameters."""
    import numpy as np

    from dnastore.dna.codes import get_code
    from dnastore.dna.header import header_strands
    from dnastore.io.atomic import atomic_outputs, check_outputs
    from dnastore.io.manifest import seal_manifest, sidecar_path, write_json
    from dnastore.io.seqio import write_fasta

    output = Path(output)
    check_outputs(force, [output, sidecar_path(output)], inputs, [output])
    precise = extra.get("mode") in ("file", "folder") or bool(extra.get("precise"))
    settings = settings.for_data(precise)
    layout = settings.layout()
    code = get_code(settings.code_name)
    unit = int(extra["codes"].get("unit", 1)) if extra.get("mode") == "codes" else 1
    enc = code.encode(payload, strand_length=settings.length, primers=tuple(layout.primers), unit=unit, precise=precise,
                      redundancy=settings.outer_redundancy, extra=extra, index_trits=settings.index_trits,
                      check_trits=settings.check_trits, gc_band=tuple(layout.gc_band), inner_parity=settings.inner_parity)
    man = enc.manifest
    summary: dict[str, Any] = {}
    if man["mode"] == "codes":
        c = man["codes"]
        rows, d = c["shape"]
        n_img = int(c["attrs"].get("images", rows))  # a file codec's codes are one row of bytes
        bits = rows * d * int(c["n_bits"])
        total_nt = man["n_strands"] * settings.length
        inner_nt = man["n_strands"] * (settings.length - sum(len(p) for p in layout.primers))
        per = {"images": n_img, "bits_per_image": bits // n_img if bits % n_img == 0 else bits / n_img,
               "nt_per_image": total_nt / n_img, "nt_per_image_without_primers": inner_nt / n_img}
        shape = c["attrs"].get("image_shape")
        if isinstance(shape, list) and shape and all(isinstance(v, int) and v > 0 for v in shape):
            per["bits_per_pixel"] = per["bits_per_image"] / float(np.prod(shape))
        man["per_image"] = per
        summary = dict(per)
    seal_manifest(man)
    heads, hinfo = header_strands(man, code.header_layout(man), data_check=lambda ss: code.valid_as_data(man, ss))
    hinfo["fraction_of_pool"] = len(heads) / (len(heads) + len(enc.strands))
    if not heads:
        report.warn(f"strands of {settings.length} nt are too short to carry header strands: this pool decodes "
                    f"only with its manifest {sidecar_path(output).name}; keep it")
    man["header"] = hinfo
    man["provenance"] = prov(settings.params(layout))
    records = [(f"s{i:07d}", s) for i, s in enumerate(enc.strands)] + [(f"h{j:07d}", s) for j, s in enumerate(heads)]
    with atomic_outputs(force, inputs) as outs:
        write_fasta(outs.path(output), iter(records), target_name=output.name)
        write_json(outs.path(sidecar_path(output), output), man)
    return {"output": str(output), "manifest": str(sidecar_path(output)), "mode": man["mode"],
            "code": code.name, "encoding_id": man["encoding_id"], "strands": man["n_strands"] + hinfo["strands"],
            "data_strands": man["n_data_strands"], "header_strands": hinfo["strands"], "header_nt": hinfo["nt"],
            "header_fraction": hinfo["fraction_of_pool"],
            "strand_length": settings.length, "bytes_per_strand": man["bytes_per_strand"],
            "payload_bytes": man["payload_bytes"], "density": man["density"],
            "gc_min": float(enc.gc.min()), "gc_max": float(enc.gc.max()), **summary,
            "input_digest": next(iter(man["provenance"]["inputs"].values()), {}).get("digest")}


def _precise_codec(name) -> bool:
    """Whether codes of codec ``name`` lose a whole image to any lost byte (a file codec)."""
    from dnastore.codecs.base import codec_class, codec_names
    return isinstance(name, str) and name in codec_names() and codec_class(name).precise


MAX_SOURCE_BYTES = 1 << 30  # the largest file or folder one pool takes (1 GiB: ~7 GB of strands in memory)


def read_source(path: Path) -> bytes:
    """A file's bytes, refused in one line beyond :data:`MAX_SOURCE_BYTES` (a device or a pipe,
    which has no size to check first, is read only that far)."""
    limit = MAX_SOURCE_BYTES
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if path.is_file() and size > limit:
        raise DnastoreError(f"{path} is {size:,} bytes; one pool takes at most {limit:,} (1 GiB): split the file")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise DnastoreError(f"{path} gives more than {limit:,} bytes (1 GiB), the most one pool takes: save what "
                            "should be stored to a file of at most that size")
    return data


def folder_payload(folder: Path) -> tuple[bytes, list[list]]:
    """Every file under ``folder`` (sorted by relative path) back to back, and the table of
    [relative path, size, sha256] the decoder restores the tree from."""
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    if not files:
        raise DnastoreError(f"{folder} holds no files: nothing to encode")
    total = sum(p.stat().st_size for p in files)
    if total > MAX_SOURCE_BYTES:
        raise DnastoreError(f"{folder} holds {total:,} bytes; one pool takes at most {MAX_SOURCE_BYTES:,} (1 GiB): "
                            "split the folder")
    parts, table = [], []
    for p in files:
        data = read_source(p)
        parts.append(data)
        table.append([p.relative_to(folder).as_posix(), len(data), hashlib.sha256(data).hexdigest()])
    return b"".join(parts), table


def default_oligos(source: Path) -> Path:
    """Where oligo-encode writes without -o: SOURCE (less .zarr) + .fasta, beside it."""
    source = Path(source)
    return source.with_name(source.name.rstrip("/").removesuffix(".zarr") + ".fasta")


def oligo_encode(source: Path, output: Path | None = None, settings: OligoSettings | None = None,
                 force: bool = False, report: Reporter = QUIET) -> dict[str, Any]:
    """A file or a folder tree (precise mode) or a codes Zarr (approximate mode) into OUTPUT
    (FASTA) and OUTPUT.json (the manifest; the pool's header strands carry it too)."""
    from dnastore.io.provenance import provenance

    source, settings = Path(source), settings or OligoSettings()
    if not source.exists():
        raise DnastoreError(f"{source}: no such file or folder")
    settings.layout()
    output = Path(output) if output else default_oligos(source)
    if (source / "zarr.json").is_file():
        from dnastore.dna.approx import codes_payload
        from dnastore.io.artifacts import read_codes
        codes, attrs, extra_arrays = read_codes(source)
        payload, extra = codes_payload(codes, attrs, extra_arrays)
        settings = settings.for_data(_precise_codec(attrs.get("codec")))
    elif source.is_dir():
        payload, table = folder_payload(source)
        if not payload:
            raise DnastoreError(f"every file under {source} is empty: nothing to encode")
        extra = {"mode": "folder", "folder_name": source.resolve().name, "files": table,
                 "sha256": hashlib.sha256(payload).hexdigest()}
    else:
        payload = read_source(source)
        if not payload:
            raise DnastoreError(f"{source} is empty: nothing to encode")
        extra = {"mode": "file", "file_name": source.name, "sha256": hashlib.sha256(payload).hexdigest()}
    # file mode has hashed its payload already: the provenance takes that digest
    known = {"source": "sha256:" + extra["sha256"]} if extra["mode"] in ("file", "folder") else None
    summary = write_oligos(payload, extra, output, settings,
                           lambda params: provenance("oligo-encode", params, {"source": source}, digests=known), force,
                           report, inputs=(source,))
    if extra["mode"] == "folder":
        summary["files"] = len(extra["files"])
    return summary


# ----------------------------------------------------------------------------- simulate
MAX_SIM_LENGTH = 10_000  # the longest oligo simulate takes (its memory grows with the square of the length)


def last_encoding(folder: Path) -> Path:
    """The newest oligo FASTA (one with a dnastore manifest beside it) in ``folder``."""
    from dnastore.io.artifacts import OLIGOS_KIND
    cands = []
    for p in Path(folder).iterdir():
        side = p.with_name(p.name + ".json")
        if p.is_file() and side.exists() and p.suffix in (".fasta", ".fa", ".gz"):
            try:
                if side.stat().st_size > 64 << 20:  # no manifest is this large
                    continue
                obj = json.loads(side.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):  # not JSON, not UTF-8, a 5,000-digit number, too deep
                continue
            if isinstance(obj, dict) and obj.get("kind") == OLIGOS_KIND:
                cands.append(p)
    if not cands:
        raise DnastoreError(f"no oligo FASTA with a manifest in {folder}; give the FASTA to simulate")
    return max(cands, key=lambda p: p.stat().st_mtime_ns)


def simulate(oligos: Path | None = None, output: Path | None = None, *, coverage: float = 10.0,
             preset: str | None = None, synthesis: str | None = None, rates: dict[str, Any] | None = None,
             preset_file: Path | None = None, truth: Path | None = None, seed: int = 0, scheduler: str | None = None, force: bool = False,
             report: Reporter = QUIET) -> dict[str, Any]:
    """Synthesis and sequencing of an oligo FASTA: reads as FASTQ with a sidecar (provenance
    and the oligos' manifest); ``truth`` also writes read -> source strand as TSV."""
    import numpy as np

    from dnastore.channel.dna import (
        format_fastq,
        params_dict,
        preset_params,
        read_name,
        simulate_reads,
    )
    from dnastore.io.artifacts import READS_KIND
    from dnastore.io.atomic import atomic_outputs, check_outputs
    from dnastore.io.manifest import sidecar_path, write_json
    from dnastore.io.provenance import provenance
    from dnastore.io.seqio import FastqWriter, read_fasta_matrix
    from dnastore.parallel import Executor

    if coverage <= 0:
        raise DnastoreError(f"--coverage must be > 0, got {coverage}")
    if oligos is None:
        oligos = last_encoding(Path.cwd())
        report.log(f"using {oligos.name}, the newest encoding here")
    oligos = Path(oligos)
    from dnastore.channel.presets import load_preset_file
    rates = dict(rates or {})
    polymerase = rates.pop("polymerase", None)
    file = load_preset_file(preset_file) if preset_file else None
    params = preset_params(preset, synthesis, polymerase, file, coverage=coverage, **rates)
    preset = preset or (file or {}).get("preset") or "illumina"
    side = sidecar_path(oligos)
    output = Path(output) if output else oligos.with_name(oligos.name.split(".")[0] + ".fastq")
    inputs = (oligos, side) + ((Path(preset_file),) if preset_file else ())
    check_outputs(force, [output, sidecar_path(output), truth], inputs, [output])
    names, mat, lens = read_fasta_matrix(oligos)
    if len(lens) and int(lens.max()) > MAX_SIM_LENGTH:
        raise DnastoreError(f"{oligos}: a strand of {int(lens.max()):,} nt; the simulator takes oligos of at most "
                            f"{MAX_SIM_LENGTH:,} nt (synthesis makes 60-300)")
    if side.exists():
        from dnastore.dna.manifest import load_manifest
        manifest = load_manifest(side)
    else:
        manifest = None
    executor = Executor(scheduler)
    n_reads, weights, batches = simulate_reads(mat, lens, params, seed, executor=executor)
    errs = np.zeros(3, dtype=np.int64)
    n_rc = read_bases = 0
    with atomic_outputs(force, inputs) as outs:
        tmp = outs.path(output)
        tf = open(outs.path(truth), "w") if truth else None
        try:
            if tf:
                tf.write("read\tstrand\tstrand_name\treverse\tsubstitutions\tinsertions\tdeletions\n")
            with FastqWriter(tmp, target_name=output.name) as w, report.bar(n_reads, "simulating") as bar:
                done = 0
                for b in batches:
                    w.write_text(format_fastq(b), len(b.lens))
                    if tf:
                        tf.write("".join(f"{read_name(done + j)}\t{b.source[j]}\t{names[b.source[j]]}\t{int(b.rc[j])}\t"
                                         f"{b.errors[j, 0]}\t{b.errors[j, 1]}\t{b.errors[j, 2]}\n"
                                         for j in range(len(b.lens))))
                    errs += b.errors.sum(axis=0)
                    n_rc += int(b.rc.sum())
                    read_bases += int(b.lens.sum()) + int(b.errors[:, 2].sum()) - int(b.errors[:, 1].sum())
                    done += len(b.lens)
                    bar.update(len(b.lens))
        finally:
            if tf:
                tf.close()
            executor.close()
        prov = provenance("simulate", {"preset": preset, "synthesis": synthesis, "seed": seed,
                                       **params_dict(params)}, {"oligos": oligos})
        write_json(outs.path(sidecar_path(output), output), {"kind": READS_KIND, "provenance": prov, "manifest": manifest})
    # per base of the molecules read (a truncated or broken molecule has fewer)
    total_bases = max(read_bases, 1)
    unsampled = float(np.exp(-coverage * weights / max(weights.mean(), 1e-12)).sum())
    _warn_unread(manifest, unsampled / max(len(names), 1), coverage, report)
    return {"output": str(output), "oligos": str(oligos), "reads": n_reads, "strands": len(names),
            "coverage": coverage, "preset": preset, "strands_dropped": int((weights == 0).sum()),
            "strands_unsampled_expected": unsampled,
            "reverse_reads": n_rc,
            "error_rates": {"sub": errs[0] / total_bases, "ins": errs[1] / total_bases, "del": errs[2] / total_bases},
            "truth": str(truth) if truth else None}


def unread_failure(man: dict[str, Any], p: float) -> float:
    """The chance that a precise pool cannot be restored when each strand goes unread with
    probability ``p`` (a lower bound on its loss: strands misread are lost too): some outer-code
    block loses more strands than its parity, or, without an outer code, any data strand."""
    import math

    from dnastore.dna.outer import RSPlan, binom_tail
    if p <= 0:
        return 0.0
    p = min(p, 1 - 1e-12)
    if not man.get("outer"):
        return float(-math.expm1(int(man["n_data_strands"]) * math.log1p(-p)))
    plan = RSPlan.from_json(man["outer"])
    ok = sum(math.log1p(-min(binom_tail(plan.nsym, k + plan.nsym, p), 1 - 1e-12)) for _, k in plan.blocks)
    return float(-math.expm1(ok))


def _warn_unread(man: dict[str, Any] | None, p: float, coverage: float, report: Reporter) -> None:
    """Warn where strands that are never read (coverage bias, dropout) alone are likely to lose
    a precise pool (files, or images stored precisely): before the reads go to consensus."""
    if not man or not (man.get("mode") in ("file", "folder") or man.get("precise")):
        return
    try:
        fail = unread_failure(man, p)
    except (KeyError, TypeError, ValueError):  # a manifest without an outer-code plan we can read
        return
    if fail > 0.5:
        report.warn(f"at coverage {coverage:g} about {100 * p:.1f}% of the strands are never read on this channel, "
                    f"more than the pool's outer code repairs: it is likely lost (chance {fail:.0%}); sequence "
                    f"deeper, or encode with the setting `dnastore plan` picks for this channel")


# ----------------------------------------------------------------------------- consensus
def reads_manifest(reads: Path, manifest: Path | None) -> tuple[dict[str, Any] | None, Path | None]:
    """The oligos' manifest for a reads file: ``manifest`` if given, else the one its sidecar
    carries (None where there is none)."""
    from dnastore.dna.manifest import carried_manifest, load_manifest
    from dnastore.io.manifest import sidecar_path
    if manifest is not None:
        return load_manifest(manifest), Path(manifest)
    side = sidecar_path(reads)
    if side.exists():
        man = carried_manifest(side)
        return man, side if man is not None else None
    return None, None


def pool_manifest(recs: list[tuple[str, int]], where: Path, given: dict[str, Any] | None = None,
                  given_path: Path | None = None, require: bool = True
                  ) -> tuple[dict[str, Any] | None, str | None, list[tuple[str, int]], dict[str, Any]]:
    """The manifest of a pool from its strands: the one its header strands hold, checked
    against ``given`` (a manifest file's, or a sidecar's) when there is one. Returns (the
    manifest, where it came from, the strands less the header strands, the header counts)."""
    from dnastore.dna.header import compare, read_header
    from dnastore.dna.manifest import validate_manifest
    hint = tuple(given["layout"]["primers"]) if given is not None else None
    header, is_header, hstats = read_header(recs, hint, prefer=given["encoding_id"] if given is not None else None)
    if given is not None and header is not None:
        compare(given, header, str(given_path))
    if given is None and header is None:
        if not require:
            return None, None, recs, hstats
        raise DnastoreError(f"no header strands could be read from {where} (all lost, or the pool was written "
                            "without them) and no manifest was given: pass the oligos' manifest with --manifest")
    if given is None:
        man, source = validate_manifest(header, f"the header strands of {where}"), "header strands"
    else:
        man, source = given, str(given_path)
    data = [r for r, h in zip(recs, is_header) if not h]
    return man, source, data, hstats


@dataclass
class Called:
    """Strands called from reads: (sequence, cluster size) pairs and what it took."""
    strands: list[tuple[str, int]]
    trim: dict[str, Any]
    calls: dict[str, Any]
    design: Any
    design_from: str
    stats: dict[str, Any] = field(default_factory=dict)


def call_strands(reads: Path, man: dict[str, Any] | None = None, *, primers: tuple[str, str] | None = None,
                 strand_length: int | None = None, method: str = "vote", min_size: int = 1,
                 tmp_dir: Path | None = None, executor=None, report: Reporter = QUIET) -> Called:
    """Cluster the reads of a file and call one strand per cluster. The design (primers and
    core length) comes from ``man``, else from ``primers``/``strand_length``, else from the
    reads themselves."""
    import numpy as np

    from dnastore.consensus.call import Design, infer_design
    from dnastore.consensus.stream import first_reads, stream_consensus

    if man is not None:
        design, source = Design.from_manifest(man), "manifest"
    elif primers is not None or strand_length is not None:
        p = primers or ("", "")
        total = strand_length or int(np.bincount(first_reads(reads).lens).argmax())
        design, source = Design(p[0], p[1], total - len(p[0]) - len(p[1])), "options"
    else:
        head = first_reads(reads)
        design, source = infer_design([head.seq(i) for i in range(min(len(head), 5000))]), "inferred"
        report.log(f"no manifest: inferred primers {design.p1 or '-'} / {design.p2 or '-'} and core length "
                   f"{design.core_len}", 1)
    if design.core_len <= 0:
        raise DnastoreError("the oligo length leaves no room between the primers")
    # in memory when the file is one chunk; else trimmed chunk by chunk into shards on disk
    with report.bar(2, "consensus (trim, then cluster and call)") as bar:
        strands, tstats, cstats = stream_consensus(reads, design, method=method, min_size=min_size, tmp_dir=tmp_dir,
                                                   progress=lambda _: bar.update(1), executor=executor)
    return Called(strands, tstats, cstats, design, source)


def called_pool(reads: Path, given: dict[str, Any] | None, given_path: Path | None, *, require: bool = True,
                primers: tuple[str, str] | None = None, strand_length: int | None = None, method: str = "vote",
                min_size: int = 1, tmp_dir: Path | None = None, executor=None, report: Reporter = QUIET):
    """Consensus strands of a reads file and the pool's manifest. Without a manifest the
    reads' design is inferred for a first pass; where the header strands then give another
    design (the inferred primers swallow the first, often constant, bases of the cores), the
    reads are called again with the header's. Returns (Called, manifest or None, where it came
    from, the data strands, header counts)."""
    from dnastore.consensus.call import Design
    kw = {"method": method, "min_size": min_size, "tmp_dir": tmp_dir, "executor": executor, "report": report}
    called = call_strands(reads, given, primers=primers, strand_length=strand_length, **kw)
    man, source, data, hstats = pool_manifest(called.strands, reads, given, given_path, require=require)
    if given is None and man is not None:
        d = Design.from_manifest(man)
        if (d.p1, d.p2, d.core_len) != (called.design.p1, called.design.p2, called.design.core_len):
            report.log("calling the reads again with the design of the header strands", 1)
            called = call_strands(reads, man, **kw)
            called.design_from = "header strands"
            _, _, data, hstats = pool_manifest(called.strands, reads, man, None)
    return called, man, source, data, hstats


def consensus(reads: Path, output: Path | None = None, *, manifest: Path | None = None,
              primers: tuple[str, str] | None = None, strand_length: int | None = None, method: str = "vote",
              min_size: int = 1, tmp_dir: Path | None = None, scheduler: str | None = None, force: bool = False,
              report: Reporter = QUIET) -> dict[str, Any]:
    """Reads (FASTQ or FASTA, gzip allowed) to one consensus strand per cluster, as FASTA
    with a sidecar that carries the oligos' manifest on."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from dnastore.consensus.call import MAX_CONF
    from dnastore.io.artifacts import CONSENSUS_KIND
    from dnastore.io.atomic import atomic_outputs, check_outputs
    from dnastore.io.manifest import sidecar_path, write_json
    from dnastore.io.provenance import file_digest, provenance
    from dnastore.io.seqio import write_fasta, write_fastq
    from dnastore.parallel import Executor

    reads = Path(reads)
    inputs = (reads, sidecar_path(reads), manifest)
    output = Path(output) if output else reads.with_name(reads.name.split(".")[0] + ".consensus.fastq")
    check_outputs(force, [output, sidecar_path(output)], inputs, [output])
    man, _ = reads_manifest(reads, manifest)
    # the input's digest (for provenance) is hashed in a thread while the reads are worked on
    hasher = ThreadPoolExecutor(max_workers=1)
    try:
        digest = hasher.submit(file_digest, reads)
        with Executor(scheduler) as executor:
            if man is None and primers is None and strand_length is None:
                # the reads alone: the pool's header strands give the manifest, carried on
                got, man, _, _, _ = called_pool(reads, None, None, require=False, method=method, min_size=min_size,
                                                tmp_dir=tmp_dir, executor=executor, report=report)
            else:
                got = call_strands(reads, man, primers=primers, strand_length=strand_length, method=method,
                                   min_size=min_size, tmp_dir=tmp_dir, executor=executor, report=report)
        d = got.design
        prov = provenance("consensus", {"method": method, "min_size": min_size, "design_from": got.design_from,
                                        "primers": [d.p1, d.p2], "core_length": d.core_len},
                          {"reads": reads}, digests={"reads": digest.result()})
    finally:
        hasher.shutdown()
    if not got.strands:
        t = got.trim
        raise DnastoreError(f"no strand could be called from {reads} ({t.get('reads', 0)} reads, "
                            f"{t.get('unplaced', 0)} of them unplaced by the primers): check the primers and "
                            "length (--primers, --length, --manifest); nothing was written")
    with atomic_outputs(force, inputs) as outs:
        if _is_fastq(output):
            write_fastq(outs.path(output), ((f"c{i:07d};size={r[1]}", r[0], r[2] if len(r) > 2 else
                                             np.full(len(r[0]), MAX_CONF, np.uint8)) for i, r in enumerate(got.strands)),
                        target_name=output.name)
        else:
            write_fasta(outs.path(output), ((f"c{i:07d};size={r[1]}", r[0]) for i, r in enumerate(got.strands)),
                        target_name=output.name)
        write_json(outs.path(sidecar_path(output), output), {"kind": CONSENSUS_KIND, "provenance": prov, "manifest": man})
    c = got.calls
    return {"output": str(output), "design_from": got.design_from, **got.trim,
            "clusters": c["clusters"], "strands": c["kept"], "spoa_clusters": c["spoa_clusters"],
            "projected_reads": c["projected_reads"], "indel_rich": c["indel_rich"],
            **({"clusters_before_join": c["clusters_before_merge"]} if "clusters_before_merge" in c else {})}


def _is_fastq(path: Path) -> bool:
    """Whether an output name asks for FASTQ (.fastq or .fq, gzip allowed)."""
    return Path(path).name.lower().removesuffix(".gz").endswith((".fastq", ".fq"))


# ----------------------------------------------------------------------------- oligo-decode
_SIZE = re.compile(r";size=(\d{1,15})(?!\d)")  # a cluster size; a longer digit run is no size


@dataclass
class Payload:
    """What the strands gave back: the payload with its erased bytes, and the counts."""
    data: bytes
    erased: Any  # bool per payload byte
    strands: dict[str, Any]  # decode_strands' stats
    outer: dict[str, Any]  # assemble_payload's stats


def payload_from_strands(recs: list[tuple], man: dict[str, Any], *, partial: bool = True,
                         executor=None, check: Callable[[dict[str, Any]], None] | None = None) -> Payload:
    """Strands ((sequence, weight), or with per-base confidence a third) to the payload,
    through the pool's oligo code and the outer code where there is one. ``check(strand
    stats)`` runs between the two steps (to refuse strands that all failed before complaining
    about the holes they leave)."""
    import numpy as np

    from dnastore.dna.codes import code_of
    r = code_of(man).decode(recs, man, executor=executor, check=check)
    if np.asarray(r.erased).any() and not partial:
        raise DnastoreError(
            f"{r.outer['data_strands_missing']} of {man['n_data_strands']} data strands are missing and the payload "
            "cannot be restored (sequence deeper, encode with --outer-redundancy, or pass --partial for a best-effort "
            "output)")
    return Payload(r.data, r.erased, r.strands, r.outer)


def codes_of(p: Payload, man: dict[str, Any]):
    """(codes, erased, side arrays, attrs) of the payload of an approximate-mode encoding."""
    from dnastore.dna.approx import codes_from_payload
    return codes_from_payload(p.data, p.erased, man)


def _write_folder(p: Payload, man: dict[str, Any], output: Path, partial: bool, force: bool,
                  report: Reporter, inputs: tuple = (), prov: dict[str, Any] | None = None) -> dict[str, Any]:
    """Restore a folder tree from its payload, each file checked against its sha256; with
    ``partial`` the damaged files are written too, and named."""
    from dnastore.io.atomic import TREE_KIND, atomic_outputs
    from dnastore.io.manifest import sidecar_path, write_json
    damaged, pos = [], 0
    files = man["files"]
    for rel, size, digest in files:
        if hashlib.sha256(p.data[pos:pos + size]).hexdigest() != digest:
            damaged.append(rel)
        pos += size
    if damaged and not partial:
        raise DnastoreError(f"{len(damaged)} of {len(files)} files do not match their sha256 (first: {damaged[0]}); "
                            "pass --partial to keep best-effort copies")
    with atomic_outputs(force, inputs) as outs:
        tmp = outs.path(output)
        tmp.mkdir()
        pos = 0
        for rel, size, _ in files:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(p.data[pos:pos + size])
            pos += size
        # the sidecar lists the tree, so that a later --force knows the folder as ours
        write_json(outs.path(sidecar_path(output), output), {"kind": TREE_KIND, "files": [f[0] for f in files],
                                                     "damaged": damaged, "provenance": prov or {}})
    if damaged:
        report.warn(f"{len(damaged)} files could not be restored exactly: {', '.join(damaged[:5])}"
                    f"{' ...' if len(damaged) > 5 else ''}")
    return {"files": len(files), "bytes": len(p.data), "files_damaged": len(damaged),
            "sha256_verified": not damaged and hashlib.sha256(p.data).hexdigest() == man.get("sha256"),
            "bytes_erased": int(p.erased.sum())}


def oligo_decode(strands: Path, output: Path | None = None, *, manifest: Path | None = None, partial: bool = False,
                 scheduler: str | None = None, force: bool = False, report: Reporter = QUIET) -> dict[str, Any]:
    """Consensus strands (or any FASTA of oligos) back into the file, or into a codes Zarr
    with an erasure mask in approximate mode."""
    from dnastore.io.atomic import atomic_outputs
    from dnastore.io.manifest import sidecar_path
    from dnastore.io.provenance import provenance
    from dnastore.io.seqio import read_strands_scored
    from dnastore.parallel import Executor
    strands = Path(strands)
    inputs = (strands, sidecar_path(strands), manifest)
    if output is not None:
        from dnastore.io.atomic import check_aliases
        check_aliases([output, sidecar_path(output)], inputs, [output])
    # a FASTQ's qualities (consensus writes its per-base confidence there) go on to the decoder
    found = [(s, _SIZE.search(name), q) for name, s, q in read_strands_scored(strands)]
    recs = [(s, int(m.group(1)) if m else 1) + ((q,) if q is not None else ()) for s, m, q in found]
    from dnastore.dna.manifest import find_manifest
    man, man_path, recs, hstats = pool_manifest(recs, strands, *find_manifest(strands, manifest, optional=True))
    mode = man.get("mode", "file")
    prov = provenance("oligo-decode", {"manifest_encoding_id": man["encoding_id"], "partial": partial,
                                       "manifest_from": "header strands" if man_path == "header strands" else "file"},
                      {"strands": strands, **({} if man_path == "header strands" else {"manifest": man_path})})

    def check(st: dict[str, Any]) -> None:
        if st["valid"] == 0 and st["strands_in"] > 0 and mode == "file":
            raise DnastoreError(
                f"none of the {st['strands_in']} strands in {strands} passes the check of manifest {man_path} "
                f"(encoding {man['encoding_id']}): the manifest is from another encoding, or the reads are unusable")

    with Executor(scheduler) as executor:
        p = payload_from_strands(recs, man, partial=partial or mode == "codes", executor=executor, check=check)
    st = p.strands
    if mode == "codes":
        from dnastore.io.artifacts import CODES_KIND, write_codes
        codes, erased, side, attrs = codes_of(p, man)
        if st["valid"] == 0:
            report.warn(f"no strand of {strands} could be decoded: every code is erased")
        output = Path(output) if output else strands.with_name(strands.name.split(".")[0] + ".codes.zarr")
        with atomic_outputs(force, inputs) as outs:
            write_codes(outs.path(output), codes, {**attrs, "kind": CODES_KIND, "provenance": prov}, side, erased)
        summary = {"codes_erased": int(erased.sum()), "codes_total": int(erased.size)}
    elif mode == "folder":
        output = Path(output) if output else strands.with_name(strands.name.split(".")[0] + ".out")
        summary = _write_folder(p, man, output, partial, force, report, inputs, prov)
    else:
        payload, erased_bytes = p.data, p.erased
        verified = hashlib.sha256(payload).hexdigest() == man.get("sha256")
        if not verified and not partial:
            raise DnastoreError("the restored payload does not match the original's sha256; "
                                "pass --partial to keep a best-effort copy")
        output = Path(output) if output else strands.with_name(strands.name.split(".")[0] + ".out")
        with atomic_outputs(force, inputs) as outs:
            outs.path(output).write_bytes(payload)
        summary = {"bytes": len(payload), "sha256_verified": verified, "bytes_erased": int(erased_bytes.sum())}
        if erased_bytes.any():
            report.warn(f"{int(erased_bytes.sum())} bytes could not be restored and are zero in {output}")
        if not verified:
            report.warn(f"{output} does not match the original's sha256: it is a best-effort copy, not the file")
    return {"output": str(output), "mode": mode, "encoding_id": man["encoding_id"], "manifest_from": man_path,
            "header_strands_found": hstats["header_strands_found"], **summary,
            "strands_in": st["strands_in"], "strands_valid": st["valid"], "strands_recovered": st["recovered"],
            "data_strands_missing": p.outer["data_strands_missing"], "wrong_length": st["wrong_length"],
            "failed_check": st["failed_check"], "outer": p.outer.get("outer")}
