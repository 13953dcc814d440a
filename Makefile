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

# Every parser of untrusted bytes fuzzed for longer than `make test` does (tests/fuzz): prints,
# per parser, the examples tried and the distinct lines of crypto/, intake/, reviewer/ reached.
.PHONY: fuzz
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	SEALDROP_FUZZ=fuzz SEALDROP_FUZZ_PATHS=1 SEALDROP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest tests/fuzz -q -p no:cacheprovider

clean:
	rm -rf $(VENV) node_modules $(JS_STAMP)
