# The two set-up commands in the README are `make run` and `make test`; everything else here
# is what they need. Works on a fresh Debian machine with python3, node/npm and apt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
JS_STAMP := intake/static/js/.built-stamp

.PHONY: run test test-postgres lint bench js system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --editable '.[server,dev]'
	touch $@

# The browser bundle (libsodium-wrappers, CommonJS build) is built from the npm lockfile.
js: $(JS_STAMP)
$(JS_STAMP): package.json package-lock.json $(wildcard intake/static/src/*)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $@

system-deps:
	bash tests/install-system-deps.sh

run: $(STAMP) $(JS_STAMP) catalogs
	$(BIN)/python -m intake.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every test on SQLite, then the database-backed ones again on PostgreSQL.
test: $(STAMP) $(JS_STAMP) system-deps lint catalogs
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-postgres

# The database-backed tests again, on a throwaway PostgreSQL cluster instead of SQLite.
test-postgres: $(STAMP) system-deps
	SEALDROP_TEST_DATABASE=postgresql $(BIN)/python -m pytest -p tests.support.postgres \
		tests/intake tests/deploy tests/followup

# The reviewer's translations: .po (kept in git) compiled to .mo (package data) by Babel.
.PHONY: catalogs
catalogs: $(STAMP)
	$(BIN)/pybabel -q compile -d reviewer/locale -D sealdrop-reviewer

# The inbox app's screenshots in docs/REVIEWER.md (SVG, exported by Textual).
.PHONY: inbox-screenshots
inbox-screenshots: $(STAMP) catalogs
	$(BIN)/python tests/reviewer/inbox_screenshots.py

bench: $(STAMP) $(JS_STAMP) catalogs
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) node_modules $(JS_STAMP)
