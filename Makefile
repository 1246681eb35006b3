# c315 — every target installs what it needs into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint demo demo-city bench fuzz wheelhouse clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

## The whole journey on the shipped campaign and sample returns: generate, ingest, summary (c315 demo).
demo: $(STAMP)
	rm -rf demo
	$(VENV)/bin/c315 demo demo

## Three districts and the city in one throw-away PostgreSQL store (needs Debian's postgresql package).
demo-city: $(STAMP)
	$(PY) scripts/demo_city.py

## The test suite (what CI runs).
test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts

bench: $(STAMP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_serve.py

## A long fuzzing run outside CI; findings are kept in fuzz-findings/.
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py --examples 20000

## The offline install bundles for office PCs: dist/c315-<version>-offline-{win_amd64,linux_x86_64}.zip,
## each checked complete for CPython 3.11 and 3.12 (scripts/wheelhouse.py; needs the package index).
wheelhouse: $(STAMP)
	$(PY) scripts/wheelhouse.py

clean:
	rm -rf $(VENV) build dist demo demo-city forms summary .c315 .pytest_cache .ruff_cache .hypothesis src/*.egg-info
