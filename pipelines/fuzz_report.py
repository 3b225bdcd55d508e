"""The figures of `make fuzz` (results/fuzz.json, written by tests/cli/test_cli_fuzz.py) into README.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    from common import update_readme
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results" / "fuzz.json"
    hard = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "results" / "fuzz_hardening.json"
    res = json.loads(src.read_text())
    names = {"fastq": "FASTQ (plain and gzip) into consensus and decode", "fasta": "FASTA into oligo-decode and simulate",
             "manifest": "manifests and sidecars", "zarr": "Zarr artifacts (codes, latents)",
             "image": "image folders", "options": "CLI option values"}
    rows = [f"| {names.get(k, k)} | {v:,} |" for k, v in res["cli_cases"].items()]
    table = "\n".join([
        f"`make fuzz`: {res['examples_per_target']:,} hypothesis examples per target "
        f"({'fresh random cases' if res['random'] else 'the fixed cases'}), {res['total']:,} CLI cases in "
        f"{res['seconds'] / 60:.0f} minutes; crashes (a traceback, an internal error, a multi-line error or any "
        f"exit code but 0 and 2): {res.get('failed', 0)}.", "",
        "| target | CLI cases |", "| --- | --- |", *rows])
    if hard.is_file():
        h = json.loads(hard.read_text())
        hrows = [f"| {k} | {v:,} |" for k, v in h["cases"].items()]
        seen = ", ".join(f"{k}: {v}" for k, v in sorted(h.get("outcomes", {}).items()))
        table += "\n".join([
            "", "", f"The hardening classes (`tests/cli/test_cli_hardening.py`, {h['examples_per_class']:,} examples per "
            f"class, a quarter for the classes that start processes): {h['total']:,} cases in "
            f"{h['seconds'] / 60:.0f} minutes, all passed. How the process cases ended: {seen}.", "",
            "| class | cases |", "| --- | --- |", *hrows])
    print(table)
    update_readme(ROOT / "README.md", "fuzz", table)


if __name__ == "__main__":
    main()
