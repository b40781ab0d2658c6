# ssaplan — every set-up step lives here, so a fresh clone needs only `make demo` or `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8000
DEMO_DB ?= sqlite:///ssaplan-demo.db

.PHONY: install demo test test-fast lint bench clean lock fuzz

install: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements/lock.txt
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

## Load the illustrative demo world and serve the workbench.
demo: install
	$(BIN)/ssaplan --db $(DEMO_DB) demo --if-empty
	$(BIN)/ssaplan --db $(DEMO_DB) serve --host $(HOST) --port $(PORT)

## The whole suite, against SQLite and a throwaway PostgreSQL the run starts itself.
test: install
	$(BIN)/python scripts/run_tests.py

## The suite against SQLite only, for a quick loop.
test-fast: install
	$(BIN)/python -m pytest -q -n 2 -m "not browser"

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

## A bounded coverage-guided fuzz run (atheris) over the XML, CSV, xlsx, foreign-assistance
## and indicator readers;
## FUZZ_SECONDS per reader. A finding stops the run and leaves crash-* (the input) here.
FUZZ_SECONDS ?= 60
fuzz: install
	for target in xml csv xlsx fa indicators; do \
	  PYTHONPATH=src $(BIN)/python scripts/fuzz.py $$target -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done

bench: install
	$(BIN)/python -m benchmarks

## Re-resolve pinned dependencies after editing pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements/lock.txt --python-version 3.11

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache ssaplan-demo.db*
