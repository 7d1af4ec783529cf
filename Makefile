# graphssl: `make test` and `make demo` work on a fresh machine with nothing installed.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install test lint format demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first (TORCH_SPEC: which build pip resolves depends on its index; pass another spec or
# preinstall the build you want), skipped when importable,
# so that the open `torch>=2.4` range never resolves to a multi-GB CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[dev,chem]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check graphssl tests experiments benchmarks
ifneq ($(CI),true)
	$(VENV)/bin/ruff format --check graphssl tests experiments benchmarks
endif

test: lint
	$(PY) -m pytest -q

format: $(STAMP)
	$(VENV)/bin/ruff format graphssl tests experiments benchmarks
	$(VENV)/bin/ruff check --fix graphssl tests experiments benchmarks

demo: $(STAMP)
	$(VENV)/bin/graphssl demo

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
