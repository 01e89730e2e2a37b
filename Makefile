# Tandem: `make run` serves the demo, `make test` runs everything, `make bench` measures.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint unit bench bench-quick services kafka-stop clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

services:
	bash scripts/postgres.sh
	bash scripts/kafka.sh start
	bash scripts/chromium.sh

kafka-stop:
	bash scripts/kafka.sh stop

run: install
	$(BIN)/tandem demo --if-empty
	$(BIN)/tandem serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check domain projections application adapters bootstrap demo api tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install services lint
	$(BIN)/pytest -q

bench: install services
	@command -v wrk >/dev/null || { bash scripts/apt.sh update -qq \
	  && bash scripts/apt.sh install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench

# The board's figures with a tenth of the history (10 events per patient), the index's at
# 10,000 events and the cost curve at a tenth of its size, in about two minutes.
bench-quick: install
	@command -v wrk >/dev/null || { bash scripts/apt.sh update -qq \
	  && bash scripts/apt.sh install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
