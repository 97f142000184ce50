# The two commands of the README's quick start, plus the checks.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
TSTAMP  = $(VENV)/.installed-test

.PHONY: run test check lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.py cockpit/judge/_merge.c connectors/demo/_draws.c
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

## make run: start the cockpit on the built-in demo fleet (ARGS="..." passes options)
run: $(STAMP)
	$(BIN)/cockpit $(ARGS)

## make test: install the test extras and run the whole suite
test: $(TSTAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TSTAMP)
	$(BIN)/ruff check cockpit screens connectors tests bench
	$(BIN)/ruff format --check cockpit screens connectors tests bench

typecheck: $(TSTAMP)
	$(BIN)/mypy

## make check: lint, types and the suite
check: lint typecheck test

## make bench: the performance figures recorded in the README
bench: $(TSTAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
