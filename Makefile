# blockrec: the two commands of the README are `make setup` and `make notebooks`; `make test` is
# the test command (CI runs it through .ci/run). `make help` lists everything.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The scale knob: smoke | cpu | paper (see README.md). `make notebooks` runs at cpu unless told
# otherwise (make notebooks BLOCKREC_SCALE=paper); `make test` always runs at smoke.
BLOCKREC_SCALE ?= cpu
export BLOCKREC_SCALE

# Debian's Python, which has Jupyter (not a pyenv or venv python that may come first on PATH).
PYTHON := /usr/bin/python3
MODULE := github.com/blockrec/blockrec

# Pure-Go packages, cheap under the race detector; the GoMLX-heavy rest runs without it.
RACE_DIRS := lib/phases lib/dynamics lib/data lib/hidden lib/notebook lib/figures lib/stats
# Packages under build/ and data/ (scratch work, downloads) are not part of the project.
ALL_PKGS = $(shell go list ./... | grep -v -e '^$(MODULE)/build/' -e '^$(MODULE)/data/')
RACE_PKGS = $(filter $(foreach d,$(RACE_DIRS),$(MODULE)/$(d) $(MODULE)/$(d)/%),$(ALL_PKGS))
PLAIN_PKGS = $(filter-out $(RACE_PKGS),$(ALL_PKGS))

# make bench: which benchmarks, where, how long each.
BENCH ?= .
BENCH_PKGS ?= ./...
BENCHTIME ?= 3x

.PHONY: help setup warm notebooks test vet test-go test-runner test-notebooks test-install test-purego bench bench-vit blockrec gpu-build clean

help:
	@echo "make setup      install Jupyter, GoNB and goimports (scripts/install.sh), download modules, warm the build cache"
	@echo "make notebooks  run every notebook top to bottom at BLOCKREC_SCALE=$(BLOCKREC_SCALE); executed copies + HTML in build/notebooks/, figures in figures/"
	@echo "make test       go vet, go test (race detector on pure-Go packages), installer and notebook-runner tests, all notebooks at smoke scale, the browser test"
	@echo "make test-purego  the pure-Go leg of CI: GoMLX package tests and notebook 00 at smoke, forced onto GOMLX_BACKEND=go"
	@echo "make data       check the data sets (FETCH=1 downloads CIFAR-100) and say which the notebooks use"
	@echo "make lab        open notebooks/ in JupyterLab (installed from PyPI into build/lab-venv on first use)"
	@echo "make test-lab   the browser test: headless Chromium runs notebook 00 in JupyterLab at smoke"
	@echo "make bench      Go benchmarks (BENCH=regexp BENCH_PKGS=./lib/x/ BENCHTIME=3x); output in build/bench/"
	@echo "make bench-vit  lib/vit speed next to PyTorch on CPU (bench/vit.sh)"
	@echo "make blockrec   build the command-line tool into build/blockrec"
	@echo "make gpu-build  build build/gpu/{blockrec,vitbench} (cgo) to carry to a GPU machine for scripts/gpu-check.sh"
	@echo "make clean      remove build/ (not data/ nor figures/)"

setup:
	bash scripts/install.sh
	go mod download
	$(MAKE) --no-print-directory warm

# Compile everything once, tests included, so that later runs and notebook cells start warm.
warm:
	go build $(ALL_PKGS)
	go test -count=1 -run '^$$' $(ALL_PKGS) >/dev/null
	go test -race -count=1 -run '^$$' $(RACE_PKGS) >/dev/null

notebooks:
	$(PYTHON) scripts/run_notebooks.py

# Runs every step even when one fails, then fails naming the steps that failed.
test: BLOCKREC_SCALE := smoke
test:
	@failed=""; \
	for step in vet test-go test-install test-runner test-notebooks test-lab; do \
	  echo "=== make $$step (BLOCKREC_SCALE=$$BLOCKREC_SCALE)"; \
	  $(MAKE) --no-print-directory $$step || failed="$$failed $$step"; \
	done; \
	if [[ -n "$$failed" ]]; then echo "make test: FAILED:$$failed"; exit 1; fi; \
	echo "make test: all passed"

vet:
	go vet $(ALL_PKGS)

test-go:
	@rc=0; \
	echo "go test -race -short <pure-Go packages>"; go test -timeout 30m -race -short $(RACE_PKGS) || rc=1; \
	echo "go test <the pure-Go tests -short skips>"; go test -timeout 30m -run 'WarpedDrift|FashionMNISTPackage' ./lib/phases ./lib/data || rc=1; \
	echo "go test <GoMLX packages>"; go test -timeout 40m $(PLAIN_PKGS) || rc=1; \
	exit $$rc

test-runner:
	$(PYTHON) scripts/test_run_notebooks.py

# The XLA CPU plugin installer's failure paths (offline, wrong checksum, opted out), in seconds.
test-install:
	bash scripts/test_install_xla.sh

# CI's second leg: the fallback engine must not rot while XLA is the default. BLOCKREC_EXPECT_BACKEND
# makes every backend.New fail if it got another engine than the one named.
test-purego: export GOMLX_BACKEND := go
test-purego: export BLOCKREC_EXPECT_BACKEND := go
test-purego:
	go test -timeout 30m -count=1 $(PLAIN_PKGS)
	BLOCKREC_SCALE=smoke $(PYTHON) scripts/run_notebooks.py --out build/notebooks-purego notebooks/00_environment.ipynb

# At smoke scale: executed copies go to build/notebooks-smoke/, figures to build/figures-smoke/.
test-notebooks:
	BLOCKREC_SCALE=smoke $(PYTHON) scripts/run_notebooks.py --out build/notebooks-smoke

bench:
	@mkdir -p build/bench
	go test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem $(BENCH_PKGS) | tee build/bench/go-bench-$$(date +%Y%m%d-%H%M%S).txt

bench-vit:
	bash bench/vit.sh

blockrec:
	go build -o build/blockrec ./cmd/blockrec

# Binaries for a GPU machine without Go: carry build/gpu and run scripts/gpu-check.sh there.
gpu-build:
	CGO_ENABLED=1 go build -o build/gpu/blockrec ./cmd/blockrec
	CGO_ENABLED=1 go build -o build/gpu/vitbench ./bench/vitbench

clean:
	rm -rf build

# make data: check every data set source (checksums included) and say which one the notebooks
# use; make data FETCH=1 also downloads CIFAR-100 into data/ when the network allows.
.PHONY: data
data:
	go run ./cmd/blockrec data $(if $(FETCH),--fetch)

# make lab: JupyterLab (pinned, from PyPI, in build/lab-venv) on notebooks/ with the GoNB kernel;
# make test-lab: the browser test (scripts/test_lab.py: headless Chromium runs notebook 00 at smoke).
LAB_VERSION := 4.4.10
LAB_VENV := build/lab-venv
.PHONY: lab lab-install test-lab
lab-install:
	@if $(LAB_VENV)/bin/python -c 'import sys, jupyterlab; sys.exit(jupyterlab.__version__ != "$(LAB_VERSION)")' 2>/dev/null; then \
	  echo "lab: JupyterLab $(LAB_VERSION) in $(LAB_VENV): ok"; \
	else \
	  echo "lab: installing JupyterLab $(LAB_VERSION) from PyPI into $(LAB_VENV)"; \
	  rm -rf $(LAB_VENV); \
	  $(PYTHON) -m venv $(LAB_VENV) || { echo "lab: $(PYTHON) -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }; \
	  $(LAB_VENV)/bin/pip install -q --disable-pip-version-check 'jupyterlab==$(LAB_VERSION)'; \
	fi
lab: lab-install
	BLOCKREC_ROOT="$(CURDIR)" PATH="$$(go env GOPATH)/bin:$$PATH" $(LAB_VENV)/bin/jupyter lab --notebook-dir=notebooks $$([[ $$(id -u) == 0 ]] && echo --allow-root || true)
test-lab: BLOCKREC_SCALE := smoke
test-lab: lab-install
	$(LAB_VENV)/bin/python scripts/test_lab.py
