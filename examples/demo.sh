#!/usr/bin/env bash
# The main job on the shipped example images and the shipped weights:
#   32 MNIST test images -> encode (VAE + VAEN 8-bit, mu only) -> simulate (Illumina, Twist
#   bias, coverage 3) -> decode -> reconstructions, metrics and a grid PNG (originals above
#   reconstructions) in demo-out/recon/grid.png. The reads alone are decoded: the JSON sidecars
#   are removed first, and the pool's header strands give the manifest.
# Then a colour photo (scikit-image's coffee, one of the held-out photos no training saw) through
# the learned photo codec at coverage 3, beside AVIF given the same nucleotides
# (demo-out/photo_vs_avif.png: original | photo codec | AVIF).
# Then a file's precise round trip (the default outer code, coverage 10), checked byte for byte,
# again from the DNA alone.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
D="$ROOT/.venv/bin/dnastore"
OUT="$ROOT/demo-out"
mkdir -p "$OUT"
cd "$OUT"

echo "== images -> DNA -> images (coverage 3)"
$D encode "$ROOT/examples/images" images.fasta --force
$D simulate --coverage 3 --seed 1 -o images.fastq --force   # no input: the newest encoding here
rm -f images.fastq.json                                      # only the DNA is left
$D decode images.fastq -o recon --originals "$ROOT/examples/images" --force
echo "demo: reconstructions and metrics in $OUT/recon/ (grid: $OUT/recon/grid.png)"

echo "== a photo -> DNA -> photo (coverage 3), beside AVIF at the same nt"
$D encode "$ROOT/examples/photos" photo.fasta --force          # colour: the photo codec is picked
$D simulate photo.fasta --coverage 3 --seed 1 -o photo.fastq --force
rm -f photo.fastq.json
$D decode photo.fastq -o photo-recon --originals "$ROOT/examples/photos" --force
"$ROOT/.venv/bin/python" "$ROOT/pipelines/demo_photo.py" --pool photo.fasta --recon photo-recon \
    --photos "$ROOT/examples/photos" --coverage 3 --seed 1 --out photo_vs_avif.png

echo "== a file, stored precisely (coverage 10)"
SRC="$ROOT/examples/dnastore-readme-excerpt.txt"
$D oligo-encode "$SRC" -o excerpt.fasta --force
$D simulate excerpt.fasta --coverage 10 --preset illumina --seed 1 -o excerpt.fastq --force
rm -f excerpt.fastq.json
$D consensus excerpt.fastq -o excerpt.consensus.fastq --force   # FASTQ: each base's confidence goes on
rm -f excerpt.consensus.fastq.json
$D oligo-decode excerpt.consensus.fastq -o excerpt.decoded.txt --force
cmp "$SRC" excerpt.decoded.txt && echo "demo: $(basename "$SRC") came back byte-identical from simulated DNA (see $OUT/)"
