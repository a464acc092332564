# MedGLIP: `make test` and `make demo` are the two set-up commands on a fresh Debian machine.
APT_PACKAGES := libopenblas-dev libdnnl-dev libpng-dev libturbojpeg0-dev libsqlite3-dev libopenmpi-dev openmpi-bin pkg-config
PKG_CONFIG_MODULES := openblas libpng16 libturbojpeg sqlite3 ompi-c
# oneDNN ships no pkg-config file: its header stands for it.
HEADERS := /usr/include/oneapi/dnnl/dnnl.h

.PHONY: test demo deps bench bench-peer fuzz lint

deps:
	@missing=""; \
	for m in $(PKG_CONFIG_MODULES); do \
		pkg-config --exists $$m 2>/dev/null || missing="$$missing $$m"; \
	done; \
	for h in $(HEADERS); do \
		[ -f $$h ] || missing="$$missing $$h"; \
	done; \
	command -v mpirun >/dev/null 2>&1 || missing="$$missing mpirun"; \
	if [ -n "$$missing" ]; then \
		echo "missing system libraries:$$missing"; \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update && apt-get install -y $(APT_PACKAGES); \
		else \
			echo "install them with:"; \
			echo "  sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"; \
			exit 1; \
		fi; \
	fi

# make lint: the house style (.swift-format: 150 columns, 4 spaces); `swift format format -i -r Sources Tests Examples` fixes it.
lint:
	swift format lint --strict -r Sources Tests Examples Package.swift

test: deps
	swift build --build-tests -c release -Xswiftc -enable-testing
	swift test -c release -Xswiftc -enable-testing --skip-build

# make demo: train a grounder on the embedded X-ray / CT / MRI phantoms, then run the with-vs-without
# grounding ablation for report generation and VQA on the embedded corpora (runs/demo/ablate/report.html).
# QUICK=1 is a smoke run at toy sizes in its own folder (runs/demo-quick), so it never mixes into the
# full demo. Re-running reuses finished runs (and resumes partial ones) whose settings are the same.
DEMO_DIR := runs/demo
ifeq ($(QUICK),1)
DEMO_DIR := runs/demo-quick
DEMO_GROUNDER := --count 40 --epochs 1 --image-size 128
DEMO_ABLATION := --seeds 1 --modes none,both,oracle --epochs 1 --count 60 --vqa-epochs 1 --vqa-count 30
else
DEMO_GROUNDER := --count 100 --epochs 4
DEMO_ABLATION := --seeds 3 --modes none,both,oracle --epochs 3 --count 240 --vqa-epochs 4 --vqa-count 100
endif
MEDGLIP := .build/release/medglip

demo: deps
	swift build -c release
	@mkdir -p $(DEMO_DIR)
	@if [ -f $(DEMO_DIR)/grounder/last.safetensors ]; then resume=--resume; fi; \
	$(MEDGLIP) ground-train --modality X-ray,CT,MRI $(DEMO_GROUNDER) $$resume --out $(DEMO_DIR)/grounder --registry $(DEMO_DIR)/registry.sqlite
	$(MEDGLIP) ablate --task all $(DEMO_ABLATION) --grounder $(DEMO_DIR)/grounder --out $(DEMO_DIR)/ablate --registry $(DEMO_DIR)/registry.sqlite
	@echo "the ablation report: $(DEMO_DIR)/ablate/report.html"

bench: deps
	swift build -c release
	.build/release/medglip bench engine --json

# make bench-peer: the engine and PyTorch (bench/peer, its own venv) on the same shapes and models, one
# after the other at the same thread count, then one ratio table. THREADS=N (default: all cores).
THREADS ?= $(shell nproc)
PEER_PY := .venv-peer/bin/python
bench-peer: deps
	swift build -c release
	@[ -x $(PEER_PY) ] || { echo "no PyTorch venv: see bench/peer/README.md (python3 -m venv .venv-peer && .venv-peer/bin/pip install -r bench/peer/requirements.txt)"; exit 1; }
	@mkdir -p runs/bench-peer
	.build/release/medglip bench engine --json --threads $(THREADS) > runs/bench-peer/engine-swift.json
	$(PEER_PY) bench/peer/peer.py --task engine --json --threads $(THREADS) > runs/bench-peer/engine-torch.json
	@for t in ground mrg vqa; do \
		.build/release/medglip bench profile --task $$t --json --threads $(THREADS) > runs/bench-peer/$$t-swift.json || exit 1; \
		$(PEER_PY) bench/peer/peer.py --task $$t --json --threads $(THREADS) --config runs/bench-peer/$$t-swift.json > runs/bench-peer/$$t-torch.json || exit 1; \
	done
	$(PEER_PY) bench/peer/compare.py runs/bench-peer/*-swift.json runs/bench-peer/*-torch.json

# make fuzz: 100,000 mutated PNG, JPEG, COCO, SLAKE, VQA-RAD, R2Gen, VOC and safetensors files through
# the loaders (make test runs 4,000 of them); a trap fails the run.
fuzz: deps
	swift build -c release
	.build/release/medglip fuzz --inputs 100000
