# Mon espace locataire - the two commands are `make dev` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt requirements-nodeps-dev.txt | sha1sum | cut -c1-12)
export AWS_DEFAULT_REGION ?= eu-west-3
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1
ENV ?= dev

.PHONY: test-deployed dev test lint arch format types validate openapi openapi-check unit handlers stores e2e fuzz bench build deploy system-deps clean

$(STAMP): requirements-dev.txt requirements-nodeps-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

## make dev: the whole API on http://127.0.0.1:$${PORT:-3000} with an embedded AWS, demo tenant seeded
dev: $(STAMP)
	$(BIN)/python -m devserver

## make test: lint, architecture, types, template validation, OpenAPI sync, unit, store contract, handler and end-to-end tests
test: $(STAMP) system-deps lint arch types validate openapi-check
	$(BIN)/python -m pytest tests/unit tests/stores tests/handlers -n 2 -q
	$(BIN)/python -m pytest tests/e2e -q

system-deps:
	@scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make arch: complexity <= 15 (ruff C901), import contracts (import-linter, pyproject.toml), store/handler/size rules (scripts/check_architecture.py), dead code (vulture)
arch: $(STAMP)
	$(BIN)/ruff check layers --select C901
	PYTHONPATH=layers/common:. $(BIN)/lint-imports
	$(BIN)/python scripts/check_architecture.py
	$(BIN)/vulture --min-confidence 80 layers/common/oph functions devserver scripts

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

types: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules

openapi: $(STAMP)
	$(BIN)/python scripts/generate_openapi.py --write

openapi-check: $(STAMP)
	$(BIN)/python scripts/generate_openapi.py --check

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

stores: $(STAMP)
	$(BIN)/python -m pytest tests/stores -q

handlers: $(STAMP)
	$(BIN)/python -m pytest tests/handlers -n 2 -q

e2e: $(STAMP) system-deps
	$(BIN)/python -m pytest tests/e2e -q

## make test-deployed: opt-in checks against a deployed stack (AWS_SAM_STACK_NAME=<stack>)
test-deployed: $(STAMP)
	$(BIN)/python -m pytest tests/deployed -q

## make fuzz: the long schemathesis run, random data (FUZZ_EXAMPLES=300 per operation; FUZZ_REPORT=1 writes docs/fuzz-latest.json)
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest tests/e2e/test_fuzz.py -q

bench: $(STAMP)
	$(BIN)/python -m scripts.bench

build: $(STAMP)
	$(BIN)/sam build --template template.yaml

deploy: build
	$(BIN)/python scripts/check_deploy.py $(ENV)
	$(BIN)/sam deploy --config-env $(ENV)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
