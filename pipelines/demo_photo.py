"""The demo's photo beside AVIF at the same nucleotides (``make demo`` runs it after storing the
example photo with the photo codec through simulated DNA at coverage 3).

    python pipelines/demo_photo.py --pool demo-out/photo.fasta --recon demo-out/photo-recon \
        --photos examples/photos --coverage 3 --out demo-out/photo_vs_avif.png

AVIF gets the photo pool's nucleotides (its data and parity strands; header strands left out
on both sides) and spends them as ``make bench-photos`` does: the AVIF quality and outer
redundancy with the best expected PSNR at the strand loss measured at this coverage. Its
pool then goes through the same simulator (same preset, coverage and seed); a file with a
lost byte comes back black. Writes one PNG: original | photo codec | AVIF, and prints the
figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pipelines"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", type=Path, required=True, help="the photo codec's FASTA (its manifest beside it)")
    ap.add_argument("--recon", type=Path, required=True, help="its decoded folder")
    ap.add_argument("--photos", type=Path, required=True, help="the original photo's folder")
    ap.add_argument("--coverage", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from bench_photos import choose, metrics, rd_curves
    from PIL import Image

    from dnastore.channel.dna import preset_params
    from dnastore.codecs.classical import decode_image, encode_image
    from dnastore.stages.plan import Channel
    from dnastore.stages.roundtrip import encode, transmit

    man = json.loads(Path(str(args.pool) + ".json").read_text())
    with open(args.pool) as fh:
        fh.readline()
        length = len(fh.readline().strip())
    nt = man["n_strands"] * length  # data and parity strands, as every nt-per-image figure
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    orig = np.asarray(Image.open(files[0]).convert("RGB"))
    ours = np.asarray(Image.open(args.recon / (files[0].stem + ".png")).convert("RGB"))
    loss = Channel(code="dense").measure([args.coverage], probe=1000)[args.coverage]
    pick = choose(rd_curves([(files[0].name, orig)], ("avif",), verbose=False), "avif", nt, 1, loss)
    if pick is None:
        avif, failed, label = np.zeros_like(orig), True, "AVIF: no quality fits"
    else:
        f = encode_image(orig, "avif", pick["quality"])
        enc = encode(f, {"mode": "file", "file_lengths": [len(f)]}, redundancy=pick["redundancy"], code="dense")
        got = transmit(enc, preset_params("illumina", coverage=args.coverage), args.seed)
        back = None if got.erased[:len(f)].any() else decode_image(got.payload[:len(f)], orig.shape)
        failed = back is None
        avif = np.zeros_like(orig) if failed else back
        label = f"AVIF q{pick['quality']}, outer redundancy {pick['redundancy']:g}"
    p1, m1 = metrics([orig], [ours])
    p2, m2 = metrics([orig], [avif])
    pad = np.full((orig.shape[0], 8, 3), 255, np.uint8)
    side = np.concatenate([orig, pad, ours, pad, avif], axis=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(side).save(args.out)
    print(f"{files[0].name}: {orig.shape[1]}x{orig.shape[0]}, {nt:,} nt each at coverage {args.coverage:g} "
          f"(strand loss {loss:.1%})")
    print(f"  photo codec: PSNR {p1:.2f} dB, MS-SSIM {m1:.4f}")
    print(f"  {label}: PSNR {p2:.2f} dB, MS-SSIM {m2:.4f}" + (" (the file was lost: black)" if failed else ""))
    print(f"demo: original | photo codec | AVIF side by side in {args.out}")


if __name__ == "__main__":
    main()
