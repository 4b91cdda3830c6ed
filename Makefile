# The two commands of the README's Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test openapi lint clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)

## Serve on http://127.0.0.1:8000 with an embedded SQLite database and demo data.
run: $(STAMP)
	$(BIN)/sexto migrate
	$(BIN)/sexto demo --if-empty
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT)

## Every test, on SQLite and PostgreSQL.
test: $(STAMP)
	$(BIN)/python -m pytest

## Regenerate the committed OpenAPI document from the code.
openapi: $(STAMP)
	$(BIN)/sexto openapi > openapi/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache
