"""dnastore plan: its choices, run through simulate and decode, do what it predicted.

Tolerances: a file plan predicts a failure of at most 1e-6, so every seed must come back
byte-identical, and the strand loss measured at the planned coverage must lie within a factor
of two (plus 1% of the strands) of the plan's; an image plan's predicted mean PSNR must lie
within 1.5 dB of the mean measured over three seeds."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import EXAMPLES, one_line_error, run


def test_a_file_plan_comes_true(tmp):
    data = np.random.default_rng(2).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    Path("f.bin").write_bytes(data)
    s = json.loads(run(["plan", "f.bin", "-o", "plan.json", "--plot", "plan.png", "--json"]).stdout)
    plan = json.loads(Path("plan.json").read_text())
    best = plan["best"]
    assert s["coverage"] == best["coverage"] and best["predicted_failure"] <= 1e-6 and Path("plan.png").is_file()
    assert best["cost_usd"] == min(o["cost_usd"] for o in plan["options"] if o["meets_target"])
    enc = json.loads(run(["oligo-encode", "f.bin", "-o", "x.fasta", "--plan", "plan.json", "--json"]).stdout)
    man = json.loads(Path("x.fasta.json").read_text())
    assert man["provenance"]["params"]["outer_redundancy"] == best["outer_redundancy"]
    assert abs(enc["strands"] - best["strands"]) <= 0.05 * best["strands"]  # the header is estimated
    loss = plan["channel"]["strand_loss"][str(float(best["coverage"]))]
    for seed in (1, 2, 3):
        run(["simulate", "x.fasta", "--coverage", best["coverage"], "--seed", seed, "-o", f"r{seed}.fastq"])
        run(["consensus", f"r{seed}.fastq", "-o", f"c{seed}.fasta"])
        d = json.loads(run(["oligo-decode", f"c{seed}.fasta", "-o", f"back{seed}.bin", "--json"]).stdout)
        assert Path(f"back{seed}.bin").read_bytes() == data
        lost = 1 - d["strands_recovered"] / man["n_strands"]
        assert lost <= 2 * loss + 0.01 and loss <= 2 * lost + 0.01


def test_an_image_plan_comes_true(tmp):
    # 400 digits (73 data strands at 4 bits per code): one strand is not a tenth of the codes
    run(["dataset", "mnist", "--split", "test", "--limit", "400", "-o", "m.zarr"])
    s = json.loads(run(["plan", "m.zarr", "--target", "psnr:17", "-o", "plan.json", "--json"]).stdout)
    best = json.loads(Path("plan.json").read_text())["best"]
    assert best["predicted_psnr"] >= 17 and best["predicted_psnr_at_margin"] >= 17
    assert s["n_bits"] == best["n_bits"] and s["codec"] == "vae"
    run(["encode", "m.zarr", "x.fasta", "--plan", "plan.json"])
    man = json.loads(Path("x.fasta.json").read_text())
    assert man["codes"]["n_bits"] == best["n_bits"]
    got = []
    for seed in (1, 2, 3):
        run(["simulate", "x.fasta", "--coverage", best["coverage"], "--seed", seed, "-o", f"r{seed}.fastq"])
        got.append(json.loads(run(["decode", f"r{seed}.fastq", "-o", f"recon{seed}", "--originals", "m.zarr",
                                   "--json"]).stdout)["psnr"])
    assert abs(np.mean(got) - best["predicted_psnr"]) <= 1.5, (got, best)


def test_a_photo_plan_picks_the_photo_codecs_quality_and_comes_true(tmp):
    from PIL import Image

    from dnastore.data.photos import photo_set
    Path("photos").mkdir()
    for k, (name, img) in enumerate(photo_set("held-out")[:2]):
        Image.fromarray(img[40:136, 60:188]).save(f"photos/{k}.png")
    s = json.loads(run(["plan", "photos", "--target", "psnr:24", "-o", "plan.json", "--json"]).stdout)
    plan = json.loads(Path("plan.json").read_text())
    best = plan["best"]
    assert plan["codec"] == "photo" and s["codec"] == "photo" and s["quality"] == best["quality"]
    assert best["predicted_psnr"] >= 24 and best["predicted_psnr_at_margin"] >= 24
    assert {o["quality"] for o in plan["options"]} == {1, 25, 50, 75, 100} and "| quality |" in s["table"]
    enc = json.loads(run(["encode", "photos", "x.fasta", "--plan", "plan.json", "--json"]).stdout)
    man = json.loads(Path("x.fasta.json").read_text())
    assert man["codes"]["attrs"]["codec"] == "photo" and man["codes"]["attrs"]["quality"] == best["quality"]
    assert enc["bits_per_image"] == best["bits_per_image"]  # the plan weighed the packets encode writes
    got = []
    for seed in (1, 2):
        run(["simulate", "x.fasta", "--coverage", best["coverage"], "--seed", seed, "-o", f"r{seed}.fastq"])
        got.append(json.loads(run(["decode", f"r{seed}.fastq", "-o", f"recon{seed}", "--originals", "photos",
                                   "--json"]).stdout)["psnr"])
    assert abs(np.mean(got) - best["predicted_psnr"]) <= 1.5, (got, best)
    r = run(["encode", "photos", "y.fasta", "--plan", "plan.json", "--codec", "jpeg"], ok=False)
    one_line_error(r)
    assert "photo" in r.output


@pytest.mark.parametrize("args,words", [(["plan"], "--bytes"), (["plan", "--bytes", "10", "--target", "psnr:x"], "psnr"),
                                         (["plan", "--bytes", "100", "--target", "psnr:20"], "images"),
                                         (["plan", "nowhere.bin"], "no such")])
def test_bad_plans_get_one_line_errors(tmp, args, words):
    r = run(args, ok=False)
    one_line_error(r)
    assert words in r.output


def test_a_plan_of_another_kind_is_refused(tmp):
    run(["plan", "--bytes", "5000", "-o", "file-plan.json"])
    r = run(["encode", EXAMPLES, "x.fasta", "--plan", "file-plan.json"], ok=False)
    one_line_error(r)
    assert "oligo-encode" in r.output
    Path("bogus.json").write_text("{}")
    one_line_error(run(["oligo-encode", EXAMPLES / "mnist-test-00000-7.png", "--plan", "bogus.json"], ok=False))
