# The two commands of the README's Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test openapi docs audit-deps lint lint-openapi typecheck format clean web web-if-node test-web web-screenshots bench-web

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,lint]"
	@touch $(STAMP)

## Serve on http://127.0.0.1:8000 with an embedded SQLite database and demo data.
run: $(STAMP) web-if-node
	$(BIN)/sexto migrate
	$(BIN)/sexto demo --if-empty
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-proxy-headers --no-access-log

## Every test, on SQLite and PostgreSQL, in TEST_WORKERS processes (pytest-xdist;
## auto: one per core).  loadgroup keeps each group of tests that share one
## database (tests/conftest.py) on one worker.
TEST_WORKERS ?= auto
OIDC_PROVIDER_DIR := tests/oidc_provider
OIDC_PROVIDER_STAMP := $(OIDC_PROVIDER_DIR)/node_modules/.installed-stamp
test: $(STAMP) $(OIDC_PROVIDER_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup
	$(MAKE) --no-print-directory test-web

## The web app (web/, served at /): `npm ci` into web/node_modules when that is
## missing or older than the lock (no install scripts run), then a Vite build
## into web/dist when that is missing or older than the app's sources.
WEB := web
WEB_STAMP := $(WEB)/node_modules/.installed-stamp
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(WEB)/index.html \
	$(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/package-lock.json
HAS_WEB_NODE = node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null \
	&& command -v npm >/dev/null 2>&1
NEEDS_WEB_NODE = @$(HAS_WEB_NODE) || { echo "the web app needs Node.js 20.19 or newer, with npm: install them and run make again" >&2; exit 1; }

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	$(NEEDS_WEB_NODE)
	cd $(WEB) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(WEB)/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd $(WEB) && npm run --silent build
	@touch $@

web: $(WEB)/dist/index.html

## `make run`: builds the app when Node.js is here; without it the API serves
## and / says how to get the app.
web-if-node:
	@if $(HAS_WEB_NODE); then $(MAKE) --no-print-directory web; \
	else echo "Node.js 20.19+ with npm not found: the API serves, the web app is not built (README, The web app)"; fi

## The web app's tests: the generated client against the OpenAPI document,
## the type check, Vitest, then Playwright in Debian's Chromium against the
## real service (web/e2e/serve.sh). Without Node.js or Chromium they are
## skipped, and said so; under CI=true that is a failure.
CHROMIUM ?= /usr/bin/chromium
test-web: $(STAMP)
	@if ! { $(HAS_WEB_NODE); } || [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$${CI:-}" = "true" ]; then echo "test-web: Node.js 20.19+ with npm and $(CHROMIUM) are required under CI" >&2; exit 1; fi; \
		echo "test-web: SKIPPED: needs Node.js 20.19+ with npm and Chromium at $(CHROMIUM)"; exit 0; \
	fi; \
	$(MAKE) --no-print-directory web && cd $(WEB) && node scripts/check-client.mjs \
		&& npx tsc --noEmit && npx vitest run && CHROMIUM=$(CHROMIUM) npx playwright test

## docs/images/case-page-fr.png and case-page-phone.png, taken by the browser
## tests (web/e2e/extra.spec.ts, @docs) from the real service.
web-screenshots: $(STAMP) web
	cd $(WEB) && SEXTO_E2E_EXTRA=@docs CHROMIUM=$(CHROMIUM) npx playwright test

## The web app's figures (docs/benchmarks.md): initial JavaScript, gzipped,
## and a demo case page's time to ready in Chromium (@bench).
bench-web: $(STAMP) web
	cd $(WEB) && SEXTO_E2E_EXTRA=@bench CHROMIUM=$(CHROMIUM) npx playwright test

## The OpenID Provider the single sign-on tests start (tests/test_oidc.py):
## oidc-provider, pinned in tests/oidc_provider with its lock, installed by
## `npm ci` when missing or older than the lock (no install scripts run).
## Without Node.js the tests skip it, except under CI=true, where they fail.
$(OIDC_PROVIDER_STAMP): $(OIDC_PROVIDER_DIR)/package.json $(OIDC_PROVIDER_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(OIDC_PROVIDER_DIR) && npm ci --ignore-scripts --no-audit --no-fund && touch node_modules/.installed-stamp; \
	else echo "npm is missing: the single sign-on tests will be skipped (a failure under CI=true)" >&2; fi

## The gate every commit passes before the tests (.ci/run): ruff's lint rules
## and its formatter, mypy on app/, as configured in pyproject.toml, then
## Spectral on the committed OpenAPI document.
LINTED := app tests bench
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory lint-openapi

## Spectral's `spectral:oas` rules (.spectral.yaml) on openapi/openapi.json:
## any warning fails. Spectral is pinned in openapi/package.json and its lock,
## installed by `npm ci` into openapi/node_modules when that is missing or
## older than the lock (no install scripts run). It needs Node.js 20.17 or newer.
SPECTRAL_DIR := openapi
SPECTRAL_STAMP := $(SPECTRAL_DIR)/node_modules/.installed-stamp
NEEDS_NODE = @node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1)' 2>/dev/null \
	&& command -v npm >/dev/null 2>&1 \
	|| { echo "make lint needs Node.js 20.17 or newer, with npm, to run Spectral on the OpenAPI document: install them and run make lint again" >&2; exit 1; }

$(SPECTRAL_STAMP): $(SPECTRAL_DIR)/package.json $(SPECTRAL_DIR)/package-lock.json
	$(NEEDS_NODE)
	cd $(SPECTRAL_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

lint-openapi: $(SPECTRAL_STAMP)
	$(NEEDS_NODE)
	$(SPECTRAL_DIR)/node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=warn openapi/openapi.json

## Type-check app/ with mypy (strict, less disallow_any_generics; see pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy app

## Format the code the way `make lint` checks it, and apply ruff's safe fixes.
format: $(STAMP)
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

## Regenerate the committed OpenAPI document from the code.
openapi: $(STAMP) $(WEB_STAMP)
	$(BIN)/sexto openapi > openapi/openapi.json
	cd $(WEB) && npx openapi-ts

## Regenerate docs/configuration.md from the settings' descriptions in app/config.py.
docs: $(STAMP)
	$(BIN)/sexto docs-config > docs/configuration.md

## Audit the installed dependencies for known vulnerabilities with pip-audit,
## installed at a pinned version into a throwaway venv (never into .venv). It
## needs the online vulnerability database: when that cannot be reached, or a
## package cannot be looked up, it fails; it never passes without an answer.
PIP_AUDIT_VERSION ?= 2.10.1
VULNERABILITY_SERVICE ?= pypi
audit-deps: $(STAMP)
	@set -eu; work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	$(PYTHON) -m venv "$$work/venv"; \
	"$$work/venv/bin/python" -m pip install --quiet "pip-audit==$(PIP_AUDIT_VERSION)"; \
	$(BIN)/python -m pip freeze --all --exclude-editable > "$$work/installed.txt"; \
	echo "auditing $$(wc -l < "$$work/installed.txt") installed packages against $(VULNERABILITY_SERVICE)"; \
	if "$$work/venv/bin/pip-audit" --strict --progress-spinner off --cache-dir "$$work/cache" \
		--vulnerability-service $(VULNERABILITY_SERVICE) --disable-pip --no-deps -r "$$work/installed.txt"; then \
		echo "audit-deps: every installed package was looked up; no known vulnerability"; \
	else \
		echo "audit-deps: FAILED: a known vulnerability was found, or the vulnerability database could not be reached (see above)" >&2; \
		exit 1; \
	fi

## The longer fuzzing campaign: FUZZ_EXAMPLES examples per operation of the
## committed OpenAPI document, fresh randomness each run (`make test`: 6, fixed).
FUZZ_EXAMPLES ?= 200
.PHONY: fuzz
fuzz: $(STAMP)
	SEXTO_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz.py

clean:
	rm -rf $(VENV) var .pytest_cache
