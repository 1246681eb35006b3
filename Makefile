# c315 — every target installs what it needs into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint demo demo-city bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

## The whole journey on the shipped campaign and sample returns: generate, ingest, summary.
demo: $(STAMP)
	$(PY) scripts/demo.py

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

## A long fuzzing run outside CI; findings are kept in fuzz-findings/.
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py --examples 20000

clean:
	rm -rf $(VENV) build dist demo demo-city forms summary .c315 .pytest_cache .ruff_cache .hypothesis src/*.egg-info
