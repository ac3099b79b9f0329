# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-long fuzz lint audit format bench sample clean

# --no-compile: pip would compile every module of every package to bytecode (OR-Tools',
# Playwright's ...: about 18 s of the 42 s of a fresh install here); Python compiles, and caches,
# only what is imported, on first import (`make test` keeps that cache on, see PYTEST below).
# The venv first holds what `make test` needs (the `test` extra); the long tier adds Spark and
# pyarrow (`spark`), lint and the audit the rest of `dev`, each the first time it is asked for.
# Spark alone is 480 MB of the 1.6 GB `dev` venv: a fresh `make test` installs in 18-19 s
# instead of 22-26 s here. --no-build-isolation: the project's own editable wheel is built with
# the venv's setuptools (installed first, as pyproject.toml's build-system asks), not in a new
# build environment made for it each time (12.5 -> 9.7 s of a core for the install here).
PIP_INSTALL := $(BIN)/pip install --quiet --no-compile --no-build-isolation
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=69' wheel
	$(PIP_INSTALL) -e '.[test]'
	touch $(STAMP)

# (setuptools again: a venv made before the build backend was installed into it has Python's.)
$(VENV)/.installed-%: $(STAMP)
	$(BIN)/pip install --quiet 'setuptools>=69' wheel
	$(PIP_INSTALL) -e '.[$*]'
	touch $@

# Once a venv, before its first `make test`: one collection of the suite compiles what the tests
# import and rewrites their asserts (10 s of a core), which every pytest-xdist worker would else
# do at once. A collection error is left for the run itself to report.
COLLECTED := $(VENV)/.collected
$(COLLECTED): $(STAMP)
	-$(PYTEST) --collect-only -q -p no:cacheprovider > /dev/null 2>&1
	touch $(COLLECTED)

demo: $(STAMP)
	$(BIN)/entitle position examples/sample-estate
	$(BIN)/entitle position examples/sample-estate --xlsx out/sample.xlsx --html out/sample.html $(if $(shell command -v chromium),--pdf out/sample.pdf) > /dev/null
	$(BIN)/entitle decide examples/sample-estate --years 3 --headcount-growth 5 --devices-growth 0.5 --html out/decide-growth.html
	@echo "Reports: out/sample.xlsx out/sample.html$(if $(shell command -v chromium), out/sample.pdf) out/decide-growth.html"

# The fast tier on every core, under 4 minutes on 2 cores from a fresh clone even beside another
# test run, which leaves it about one core (fifteen of fifteen, the worst 3 min 40 s): 106-122 s
# of CPU in pytest's process tree (the web's jobs and Chromium in it) and about 9 s of the
# PostgreSQL server's, 1 min 14 s - 1 min 28 s alone (README: what was measured). pytest prints
# the 15 slowest tests.
# --dist loadgroup: a web module's tests run together on one worker, per database engine, so
# its app is built once (tests/conftest.py).
XDIST := -n auto --dist loadgroup
# With Python's bytecode cache, even where the environment turns it off (PYTHONDONTWRITEBYTECODE):
# without it every pytest worker, and every entitle process a test starts, compiles the sources
# and rewrites the tests' asserts again (1-4 s of a core a worker for the collection alone).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest
test: $(STAMP) $(COLLECTED)
	$(PYTEST) $(XDIST)

# The long tier (CI runs it after `make test`): the rest of the random oracle cases, of the fault
# kills and of the corpus's importer pairs, the million-column file through the position, the
# browser tests (but test_e2e.py on SQLite), the web page modules and four engine-independent
# web tests on PostgreSQL, four key header spellings on PostgreSQL, the Spark agreement (marker
# `slow`), the hypothesis tests with all
# their examples (tests/tiers.py), and every atheris target on a fixed campaign: a fixed seed
# and 40,000 runs (FUZZ_RUNS=N sets them), the same inputs on every run, so that CI is red only
# when the code changed (tests/fuzz/README.md).
FUZZ_RUNS ?=
test-long: $(STAMP) $(VENV)/.installed-spark $(COLLECTED)
	ENTITLE_TEST_TIER=long $(if $(FUZZ_RUNS),ENTITLE_FUZZ_RUNS=$(FUZZ_RUNS)) \
	$(PYTEST) $(XDIST) -m "slow or fuzz or hypothesis"

# Open-ended fuzzing, for a developer to leave running: every target (or FUZZ_TARGET) for
# FUZZ_SECONDS each, a new seed every time, new inputs kept in .fuzz-corpus/ between runs. An
# input that crashes a target is saved in tests/fuzz/crashes/TARGET/: commit it with the fix,
# and every `make test` replays it from then on (tests/fuzz/README.md).
FUZZ_SECONDS ?= 600
FUZZ_TARGET ?=
fuzz: $(STAMP)
	ENTITLE_FUZZ_SECONDS=$(FUZZ_SECONDS) ENTITLE_FUZZ_RUNS=-1 ENTITLE_FUZZ_SEED=0 \
	ENTITLE_FUZZ_CORPUS=$(CURDIR)/.fuzz-corpus \
	$(BIN)/pytest $(XDIST) tests/fuzz/test_fuzz.py -m "slow and fuzz" $(if $(FUZZ_TARGET),-k "$(FUZZ_TARGET)-long")

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	@$(MAKE) --no-print-directory audit

# Known vulnerabilities in the installed dependencies (not entitle itself, installed editable).
# --strict: a package the service cannot answer for fails the audit instead of being skipped,
# so an unreachable service is never reported as "no known vulnerabilities".
AUDIT_SERVICE ?= pypi
audit: $(VENV)/.installed-dev
	@out=$$($(BIN)/pip-audit --strict --skip-editable --progress-spinner off -s $(AUDIT_SERVICE) 2>&1); status=$$?; \
	if [ $$status -ne 0 ] && printf '%s' "$$out" | grep -qE 'not found on PyPI|ConnectionError|Max retries|resolve host|Temporary failure in name resolution|timed out'; then \
		printf '%s\n' "$$out" | grep -m1 -E 'not found on PyPI|ConnectionError|Max retries|resolve host|Temporary failure|timed out' >&2; \
		echo "pip-audit: cannot reach the vulnerability service ($(AUDIT_SERVICE)); the dependencies were NOT audited. Run 'make audit' where pypi.org is reachable, or 'make audit AUDIT_SERVICE=osv' where api.osv.dev is." >&2; \
		exit 1; \
	fi; \
	printf '%s\n' "$$out"; exit $$status

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

sample: $(STAMP)
	$(BIN)/python -m entitle.samples.generate --out examples/sample-estate --seed 7

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
