# sms-contract: every target creates the virtual environment it needs, idempotently.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
# bench/ may not exist yet; ruff refuses a missing path.
LINTED := $(wildcard sms_contract tests bench scripts)

.PHONY: run test bench lint fmt browser clean help

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP) ## serve the fake provider over HTTPS with a local CA
	$(BIN)/sms-contract serve

browser: ## install Debian's chromium for the web UI tests when it is missing
	@bash scripts/install-debian.sh chromium

test: $(STAMP) browser ## install what the tests need and run them all
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) ## run the benchmarks and write bench/README.md
	@bash scripts/install-debian.sh wrk
	$(BIN)/python -m bench

lint: $(STAMP) ## ruff (lint + format check), mypy and the import contracts
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy sms_contract
	$(BIN)/lint-imports

fmt: $(STAMP) ## format the code with ruff
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

clean: ## remove the virtual environment and local state
	rm -rf $(VENV) .state build dist *.egg-info
