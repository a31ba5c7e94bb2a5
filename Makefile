# The README's two commands: `make dev` (local server) and `make test` (every test).
# Each sets itself up on a fresh machine: virtualenv, pinned packages, Node packages.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = 20

.PHONY: dev test test-long test-py313 setup browser openapi fuzz bench clean

# `make dev` installs only what the local server runs (the local extra); tests and deploy add their extras.
$(BIN)/.installed-local: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

$(BIN)/.installed: $(BIN)/.installed-local
	$(BIN)/python -m pip install --quiet -e '.[local,infra,dev]'
	touch $@

tracker/node_modules/.installed: tracker/package.json
	cd tracker && npm install --no-audit --no-fund --silent
	touch $@

dashboard/node_modules/.installed: dashboard/package.json
	cd dashboard && npm install --no-audit --no-fund --silent
	touch $@

# The bot filter's pinned npm packages: isbot's patterns and a real-browser User-Agent corpus (bench/ua-corpus).
bench/ua-corpus/node_modules/.installed: bench/ua-corpus/package.json
	cd bench/ua-corpus && npm install --no-audit --no-fund --silent
	touch $@

setup: $(BIN)/.installed tracker/node_modules/.installed dashboard/node_modules/.installed bench/ua-corpus/node_modules/.installed

# The browser tests drive Debian's Chromium; install it when missing (needs root, as in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "Chromium is missing: sudo apt-get install chromium chromium-driver" >&2; fi; }

# A checkout's .clickport/ (where make dev kept its data before the per-user default) moves there once.
dev: $(BIN)/.installed-local
	@$(BIN)/python -m clickport.cli.datadir adopt .clickport
	$(BIN)/clickport serve --demo

test: setup browser
	$(BIN)/python -m pytest -q

test-long: setup
	CLICKPORT_HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q -m slow

# The Lambda runtime's Python: unit, integration and contract tests on 3.13 (needs python3.13 on PATH).
test-py313:
	test -x .venv313/bin/python || python3.13 -m venv .venv313
	.venv313/bin/python -m pip install --quiet -e '.[local,dev]'
	.venv313/bin/python -m pytest -q tests/unit tests/integration tests/contract

# The generated API documents: the OpenAPI document, the list of limits and the API reference (tests keep them from drifting).
openapi: $(BIN)/.installed
	$(BIN)/python -m clickport.http.openapi --write docs/openapi.json
	$(BIN)/python -m clickport.limits --write docs/limits.md
	$(BIN)/python -m clickport.http.reference --write docs/api-reference.md

# Schemathesis from docs' OpenAPI document against `clickport serve` on a fresh data directory (the demo
# site): every route, valid and invalid requests; fails on any 5xx. FUZZ_EXAMPLES per operation and phase.
FUZZ_EXAMPLES ?= 100
fuzz: $(BIN)/.installed
	$(BIN)/python -m tests.contract.fuzz --max-examples $(FUZZ_EXAMPLES)

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[local,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .venv313 tracker/node_modules dashboard/node_modules cdk.out
