"""What the header strands cost: nt and share of the pool for files and image sets.

    make bench-header     # python pipelines/header_cost.py --out results/header_cost.json

Each pool is written with the defaults of `oligo-encode` / `encode` (the dense code, 240-nt strands,
dnastore's primers, the default outer code); the header's strands, nt and share of all the
pool's nt are read from the manifest's ``header`` record."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "header_cost.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, update_readme, write_results
    from PIL import Image

    from dnastore import __version__
    from dnastore.data.mnist import load_mnist
    from dnastore.io.manifest import read_json
    from dnastore.stages import encode, oligo_encode

    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="header-cost-") as tmp:
        t = Path(tmp)

        def record(what: str, fasta: Path, summary: dict) -> None:
            h = read_json(fasta.with_name(fasta.name + ".json"))["header"]
            rows.append({"pool": what, "strands": summary["strands"], "header_strands": h["strands"],
                         "header_bytes": h["bytes"], "header_nt": h["nt"], "share": h["fraction_of_pool"]})
            print(f"{what}: {h['strands']} header strands ({h['bytes']} bytes of manifest), "
                  f"{h['fraction_of_pool']:.2%} of {summary['strands']} strands", flush=True)

        for size in (20_000, 1_000_000, 10_000_000):
            f = t / f"file-{size}.bin"
            f.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
            record(f"a file of {size:,} bytes", t / f"f{size}.fasta", oligo_encode(f, t / f"f{size}.fasta"))
        x, y = load_mnist("test")
        for n in (32, 1000):
            folder = t / f"mnist{n}"
            folder.mkdir()
            for i in range(n):
                Image.fromarray(x[i]).save(folder / f"mnist-test-{i:05d}-{y[i]}.png")
            record(f"{n:,} MNIST images (VAE, names kept)", t / f"m{n}.fasta", encode(folder, t / f"m{n}.fasta"))
            record(f"{n:,} MNIST images as PNG files", t / f"p{n}.fasta",
                   encode(folder, t / f"p{n}.fasta", codec="png"))
    write_results(args.out, {"version": __version__, "machine": machine(), "pools": rows})
    table = "\n".join(["| pool | strands | header strands | manifest bytes | header nt | share of the pool |",
                       "| --- | --- | --- | --- | --- | --- |"] +
                      [f"| {r['pool']} | {r['strands']:,} | {r['header_strands']:,} | {r['header_bytes']:,} | "
                       f"{r['header_nt']:,} | {r['share']:.2%} |" for r in rows])
    print(table)
    update_readme(args.readme, "header-cost", table)


if __name__ == "__main__":
    main()
