# One-line entry points; each makes the virtualenv (.venv) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The real Pulumi CLI: one on PATH wins, else the pinned build cached by `make pulumi`.
PULUMI_CACHE := $(CURDIR)/.cache/pulumi/bin
export PATH := $(PATH):$(PULUMI_CACHE)
export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK := true

.PHONY: test lint venv demo bench clean pulumi versions dist

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two workers (this machine's two cores), each taking whole files: a file's tests share fixtures.
test: lint
	$(BIN)/pytest -n 2 --dist loadfile --durations=30

# The run is also recorded in build/ for `make test`: its test of the demo reads it (one run in CI).
demo: venv pulumi
	DEMO_TRANSCRIPT=$(CURDIR)/build/demo-transcript.json $(BIN)/python examples/demo.py

pulumi:
	bash tools/pulumi-cli/build.sh

# README's "Supported versions" beyond .venv: each other Python, and the lowest pulumi allowed.
versions: venv
	bash tools/pythons.sh

# The sdist and the wheel in build/dist, checked (tools/dist.py): CI and the release workflow.
dist: venv
	$(BIN)/python tools/dist.py check

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
