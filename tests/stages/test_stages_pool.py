"""A pool that describes itself: files, folders and named images come back from the reads
alone (every .json deleted), with the default settings, at coverage 5."""

import json
import shutil
from pathlib import Path

import numpy as np
from helpers import EXAMPLES, one_line_error, run
from PIL import Image


def _drop_sidecars(folder: Path = Path(".")) -> None:
    for p in folder.glob("*.json"):
        p.unlink()


def test_a_20kb_file_with_the_defaults_comes_back_from_the_reads_alone_at_coverage_5(tmp):
    data = np.random.default_rng(5).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    Path("f.bin").write_bytes(data)
    enc = json.loads(run(["oligo-encode", "f.bin", "-o", "x.fasta", "--json"]).stdout)
    man = json.loads(Path("x.fasta.json").read_text())
    assert man["outer"] is not None and enc["header_strands"] > 0  # the default keeps the data
    run(["simulate", "x.fasta", "--coverage", "5", "--seed", "3", "-o", "r.fastq"])
    _drop_sidecars()
    c = json.loads(run(["consensus", "r.fastq", "-o", "c.fasta", "--json"]).stdout)
    assert c["design_from"] in ("inferred", "header strands")
    _drop_sidecars()
    d = json.loads(run(["oligo-decode", "c.fasta", "-o", "back.bin", "--json"]).stdout)
    assert d["manifest_from"] == "header strands" and d["sha256_verified"]
    assert Path("back.bin").read_bytes() == data


def test_a_folder_tree_comes_back_with_its_names(tmp):
    Path("tree/sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    Path("tree/a.bin").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    Path("tree/notes.txt").write_text("the folder keeps its names\n")
    Path("tree/sub/c.dat").write_bytes(rng.integers(0, 256, 2500, dtype=np.uint8).tobytes())
    Path("tree/sub/empty").write_bytes(b"")
    s = json.loads(run(["oligo-encode", "tree", "-o", "t.fasta", "--json"]).stdout)
    assert s["files"] == 4 and s["mode"] == "folder"
    run(["simulate", "t.fasta", "--coverage", "5", "-o", "r.fastq"])
    _drop_sidecars()
    run(["consensus", "r.fastq", "-o", "c.fasta"])
    _drop_sidecars()
    d = json.loads(run(["oligo-decode", "c.fasta", "-o", "back", "--json"]).stdout)
    assert d["files"] == 4 and d["files_damaged"] == 0 and d["sha256_verified"]
    got = sorted(p.relative_to("back").as_posix() for p in Path("back").rglob("*") if p.is_file())
    assert got == ["a.bin", "notes.txt", "sub/c.dat", "sub/empty"]
    for name in got:
        assert (Path("back") / name).read_bytes() == (Path("tree") / name).read_bytes()


def test_named_images_of_any_format_come_back_under_their_names_from_the_bare_fastq(tmp):
    Path("imgs/sub").mkdir(parents=True)
    src = sorted(EXAMPLES.iterdir())
    Image.open(src[0]).save("imgs/zero.webp")
    Image.open(src[1]).save("imgs/one.tiff")
    Image.open(src[2]).save("imgs/sub/two.bmp")
    Image.open(src[3]).save("imgs/sub/three.gif")
    shutil.copy(src[4], "imgs/four.png")
    Path("imgs/readme.txt").write_text("not an image")
    r = run(["encode", "imgs", "x.fasta", "--json"])
    assert "readme.txt" in r.output  # listed, not skipped silently
    assert json.loads(r.stdout.splitlines()[-1])["images"] == 5
    run(["simulate", "x.fasta", "--coverage", "5", "-o", "r.fastq"])
    _drop_sidecars()
    d = json.loads(run(["decode", "r.fastq", "-o", "recon", "--json"]).stdout)
    assert d["manifest_from"] == "header strands" and d["images"] == 5
    names = sorted(p.relative_to("recon").as_posix() for p in Path("recon").rglob("*.png") if p.name != "grid.png")
    assert names == ["four.png", "one.png", "sub/three.png", "sub/two.png", "zero.png"]


def test_a_manifest_that_disagrees_with_the_header_strands_is_refused_naming_the_field(tmp):
    from dnastore.io.manifest import seal_manifest
    Path("f.bin").write_bytes(b"header and manifest must agree " * 40)
    run(["oligo-encode", "f.bin", "-o", "x.fasta"])
    run(["simulate", "x.fasta", "--coverage", "8", "-o", "r.fastq"])
    run(["consensus", "r.fastq", "-o", "c.fasta"])
    man = json.loads(Path("x.fasta.json").read_text())
    man["file_name"] = "renamed.bin"
    Path("edited.json").write_text(json.dumps(seal_manifest(man)))
    Path("c.fasta.json").unlink()
    r = run(["oligo-decode", "c.fasta", "--manifest", "edited.json", "-o", "out.bin"], ok=False)
    one_line_error(r)
    assert "'file_name'" in r.output and "header strands" in r.output and not Path("out.bin").exists()


def test_the_header_costs_under_2_percent_of_a_1mb_pool(tmp):
    Path("big.bin").write_bytes(np.random.default_rng(0).integers(0, 256, 1_000_000, dtype=np.uint8).tobytes())
    s = json.loads(run(["oligo-encode", "big.bin", "-o", "big.fasta", "--json"]).stdout)
    assert 0 < s["header_fraction"] < 0.02 and s["header_nt"] == s["header_strands"] * s["strand_length"]
