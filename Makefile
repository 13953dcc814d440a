# The two set-up commands in the README are `make run` and `make test`; everything else here
# is what they need. Works on a fresh Debian machine with python3, node/npm and apt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
JS_STAMP := intake/static/js/.built-stamp

.PHONY: run test test-postgres lint bench js system-deps clean stack attack

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

run: $(STAMP) $(JS_STAMP)
	$(BIN)/python -m intake.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every test on SQLite, then the database-backed ones again on PostgreSQL.
test: $(STAMP) $(JS_STAMP) system-deps lint
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-postgres

# The database-backed tests again, on a throwaway PostgreSQL cluster instead of SQLite.
test-postgres: $(STAMP) system-deps
	SEALDROP_TEST_DATABASE=postgresql $(BIN)/python -m pytest -p tests.support.postgres \
		tests/intake tests/deploy tests/followup

bench: $(STAMP) $(JS_STAMP)
	$(BIN)/python -m tests.bench

# The production stack on 127.0.0.1 from the shipped configs: nginx (a PROXY-protocol listener
# for tor, a plain one for a browser here) in front of gunicorn on a unix socket, with a
# throwaway data dir and demo key. Prints its URLs; Ctrl-C stops it and deletes everything.
stack: $(STAMP) $(JS_STAMP) system-deps
	$(BIN)/python -m tests.support.stack

# Every attack of tests/attack against the stack, each beside a legitimate submitter; prints
# their success rate and latency next to the same requests with no attack.
attack: $(STAMP) $(JS_STAMP) system-deps
	$(BIN)/python -m tests.attack

clean:
	rm -rf $(VENV) node_modules $(JS_STAMP)
