# fenceline: two commands set everything up on a fresh machine.
#   make demo   creates .venv, installs fenceline, runs `fenceline demo`, prints the report path
#   make test   installs what the tests need (Python extras; as root also PostgreSQL+PostGIS,
#               Chromium and GDAL's command-line tools) and runs the suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-output
PYTEST_ARGS ?=

.PHONY: demo test install install-test system-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,imagery,postgis,testimony,web]'
	@# compile the imagery kernels once, here, rather than in every test process at once
	$(BIN)/python -c "from fenceline.imagery import kernels; print(f'imagery kernels compiled in {kernels.warm_up():.0f} s')"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/fenceline demo -o $(DEMO_DIR)

system-deps:
	bash scripts/system-deps.sh

test: install-test system-deps
	bash scripts/run-tests.sh $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install-test
	$(BIN)/python benchmarks/import_scale.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .hypothesis
