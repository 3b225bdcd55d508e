#!/usr/bin/env bash
# A file's round trip through synthetic DNA: encode -> simulate (Illumina, coverage 10)
# -> consensus -> decode, then a byte-for-byte comparison. Outputs go to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
D=.venv/bin/dnastore
OUT=demo-out
mkdir -p "$OUT"
SRC=examples/dnastore-readme-excerpt.txt
$D oligo-encode "$SRC" -o $OUT/excerpt.fasta --outer-redundancy 0.2 --force
$D simulate $OUT/excerpt.fasta --coverage 10 --preset illumina --seed 1 -o $OUT/excerpt.fastq --force
$D consensus $OUT/excerpt.fastq -o $OUT/excerpt.consensus.fasta --force
$D oligo-decode $OUT/excerpt.consensus.fasta -o $OUT/excerpt.decoded.txt --force
cmp "$SRC" $OUT/excerpt.decoded.txt && echo "demo: $SRC came back byte-identical from simulated DNA (see $OUT/)"
