PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

# The test suite imports the settings in development mode (no HTTPS redirect, a fixed key);
# pytest-django still runs every test with DEBUG off.
TEST_ENV := DJANGO_DEBUG=1 PYTHONHASHSEED=0

.PHONY: run test lint format bench messages mutation mutation-resume clean dirs \
	packages-run packages-test packages-bench packages-messages packages-lint

# Each target's first prerequisite checks the Debian packages it needs, before .venv is made:
# scripts/system-packages installs the missing ones when it can, or stops with the line to run.
packages-run packages-test packages-bench packages-messages packages-lint:
	@scripts/system-packages $(@:packages-%=%)

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

dirs:
	@mkdir -p var/media var/static

# PORT reaches the settings too: the links in the portal's mail point at the port it serves on
# (unless PORTAL_BASE_URL says otherwise).
RUN_ENV := DJANGO_DEBUG=1 PORT=$(PORT)

run: packages-run $(STAMP) dirs
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py load_demo
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: packages-test $(STAMP) dirs
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks against baselines measured in the same run, on a PostgreSQL database of their own
# (BENCH_DATABASE_URL, created if missing) and database 7 of the local Redis (BENCH_REDIS_URL);
# BENCH_ARGS="--rebuild" regenerates the data, BENCH_ARGS="--only rush" runs one case.
# See bench/README.md. Nothing here is a test: `make test` times nothing.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/remigration_bench

bench: packages-bench $(STAMP) dirs
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.run $(BENCH_ARGS)

# Mutation testing of the modules that hold the rules ([tool.mutmut] in pyproject.toml): mutmut
# changes them one small change at a time and runs the tests that cover each change, on the
# embedded SQLite database, without the browser tests; scripts/mutation_scores.py prints the
# share caught per module and function and fails below the floors. See the README.
# Each of mutmut's test runs starts from a copy of one database migrated here
# (TEST_DATABASE_TEMPLATE, see tests/conftest.py) instead of migrating its own. The tests run in
# a fixed order (-p no:randomly in [tool.mutmut]). MUTMUT_ARGS narrows the run to some changes,
# e.g. MUTMUT_ARGS='"grants.settlement.x_payment*"'; MUTATION_CHILDREN is how many run at once.
MUTATION_CHILDREN ?= 2
# The first pass gives each change this many seconds of its tests, the likeliest first (see
# tests/conftest.py); the changes that survive it are then run again with all their tests, so
# the scores are those of a run without the limit. 0 runs every change with all its tests.
MUTATION_TEST_BUDGET ?= 30

mutation: packages-test $(STAMP) dirs
	rm -rf mutants var/mutation
	$(MAKE) mutation-resume

# Goes on with a run stopped part way, in the same mutants/: mutmut keeps each change's result
# and runs again only the functions changed since (and their changes not run yet).
mutation-resume: packages-test $(STAMP) dirs
	mkdir -p var/mutation
	DJANGO_VAR_DIR=$(CURDIR)/var/mutation $(TEST_ENV) $(BIN)/python manage.py migrate --noinput -v0
	TEST_DATABASE_TEMPLATE=$(CURDIR)/var/mutation/db.sqlite3 DJANGO_VAR_DIR=$(CURDIR)/var \
		MUTATION_TEST_BUDGET=$(MUTATION_TEST_BUDGET) \
		$(TEST_ENV) $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTMUT_ARGS)
	survived=$$($(BIN)/mutmut results | sed -n 's/^ *\([^ :]*\): survived$$/\1/p'); \
	if [ -n "$$survived" ] && [ "$(MUTATION_TEST_BUDGET)" != 0 ]; then \
		TEST_DATABASE_TEMPLATE=$(CURDIR)/var/mutation/db.sqlite3 DJANGO_VAR_DIR=$(CURDIR)/var \
			$(TEST_ENV) $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $$survived; \
	fi
	$(BIN)/python scripts/mutation_scores.py

# ruff, and the import contracts in pyproject.toml ([tool.importlinter]): the apps import only
# down the pipeline competitions < applications < grants.
lint: packages-lint $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: packages-lint $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the catalogues after changing user-visible text; the compiled .mo files are
# committed so that `make run` needs no gettext on the machine.
messages: packages-messages $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l lv -l en --no-obsolete \
		--ignore=.venv --ignore=var --ignore=bench
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
