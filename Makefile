# The two set-up commands in the README are `make run` and `make test`; everything else here
# is what they need. Works on a fresh Debian machine with python3, node/npm and apt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
JS_STAMP := intake/static/js/.built-stamp

.PHONY: run test test-postgres lint bench js system-deps clean lock release translations messages \
	screenshots inbox-screenshots stack attack

# Every dependency comes from the hash-locked requirements (make lock); the project itself is
# then installed without resolving anything.
$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

# Regenerates requirements/*.txt from pyproject.toml with pip-tools: exact versions and the
# hash of every file PyPI has for them. Existing pins are kept; `make lock LOCKFLAGS=--upgrade`
# moves everything to the newest versions. tests/test_requirements.py fails while pyproject.toml
# and the lockfiles disagree.
LOCKFLAGS ?=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	--no-emit-trusted-host $(LOCKFLAGS) pyproject.toml
lock:
	test -x $(BIN)/pip-compile || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet pip-tools; }
	mkdir -p requirements
	$(PIP_COMPILE) --output-file requirements/reviewer.txt
	$(PIP_COMPILE) --extra server --output-file requirements/server.txt
	$(PIP_COMPILE) --extra server --extra postgresql --output-file requirements/postgresql.txt
	$(PIP_COMPILE) --extra server --extra dev --output-file requirements/dev.txt

# The browser bundle (libsodium-wrappers, CommonJS build) is built from the npm lockfile.
js: $(JS_STAMP)
$(JS_STAMP): package.json package-lock.json $(wildcard intake/static/src/*) $(wildcard intake/static/css/*)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $@

system-deps:
	bash tests/install-system-deps.sh

# The pages' texts: gettext catalogs in intake/translations (docs/TRANSLATING.md).
# `make translations` compiles each <lang>/LC_MESSAGES/messages.po to the .mo the server reads
# (run it before building a wheel: the .mo files are built, not committed);
# `make messages` extracts the texts from code and templates into messages.pot and merges
# new and changed ones into every .po, for translators.
# The staff app's catalogs (reviewer/locale, domain sealdrop-reviewer) are compiled the same way.
CATALOGS := $(wildcard intake/translations/*/LC_MESSAGES/messages.po)
REVIEWER_CATALOGS := $(wildcard reviewer/locale/*/LC_MESSAGES/sealdrop-reviewer.po)
translations: $(CATALOGS:.po=.mo) $(REVIEWER_CATALOGS:.po=.mo)
reviewer/locale/%/LC_MESSAGES/sealdrop-reviewer.mo: reviewer/locale/%/LC_MESSAGES/sealdrop-reviewer.po $(STAMP)
	$(BIN)/pybabel -q compile -d reviewer/locale -D sealdrop-reviewer -l $*
intake/translations/%/LC_MESSAGES/messages.mo: intake/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d intake/translations -D messages -l $* >/dev/null

messages: $(STAMP)
	$(BIN)/python -m intake.catalogs extract
	$(BIN)/pybabel update -i intake/translations/messages.pot -d intake/translations \
		-D messages --no-fuzzy-matching --ignore-obsolete --no-wrap

run: $(STAMP) $(JS_STAMP) translations
	$(BIN)/python -m intake.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every test on SQLite, then the database-backed ones again on PostgreSQL.
test: $(STAMP) $(JS_STAMP) translations system-deps lint
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-postgres

# The database-backed tests again, on a throwaway PostgreSQL cluster instead of SQLite.
test-postgres: $(STAMP) translations system-deps
	SEALDROP_TEST_DATABASE=postgresql $(BIN)/python -m pytest -p tests.support.postgres \
		tests/intake tests/deploy tests/followup

# dist/: the wheel (with the built browser bundle), the sdist, the hash-locked requirements
# and SHA256SUMS, reproducibly built from the committed HEAD (tools/release.py).
release: $(STAMP)
	$(BIN)/python tools/release.py --out dist

# The staff app's screenshots in docs/REVIEWER.md (SVG, exported by Textual).
inbox-screenshots: $(STAMP) translations
	$(BIN)/python tests/reviewer/inbox_screenshots.py

bench: $(STAMP) $(JS_STAMP) translations system-deps
	$(BIN)/python -m tests.bench

# Every submitter page at phone and desktop size, in every language, as PNGs in screenshots/
# (gitignored), for reviewing by eye.
screenshots: $(STAMP) $(JS_STAMP) translations
	$(BIN)/python -m tests.browser.screenshots screenshots

# The production stack on 127.0.0.1 from the shipped configs: nginx (a PROXY-protocol listener
# for tor, a plain one for a browser here) in front of gunicorn on a unix socket, with a
# throwaway data dir and demo key. Prints its URLs; Ctrl-C stops it and deletes everything.
stack: $(STAMP) $(JS_STAMP) system-deps
	$(BIN)/python -m tests.support.stack

# Every attack of tests/attack against the stack, each beside a legitimate submitter; prints
# their success rate and latency next to the same requests with no attack.
attack: $(STAMP) $(JS_STAMP) system-deps
	$(BIN)/python -m tests.attack

# Every parser of untrusted bytes fuzzed for longer than `make test` does (tests/fuzz): prints,
# per parser, the examples tried and the distinct lines of crypto/, intake/, reviewer/ reached.
.PHONY: fuzz
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	SEALDROP_FUZZ=fuzz SEALDROP_FUZZ_PATHS=1 SEALDROP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest tests/fuzz -q -p no:cacheprovider

clean:
	rm -rf $(VENV) node_modules $(JS_STAMP)
