# The habits: `make demo`, `make test`, `make lint`, `make bench`. Each creates .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
DEMO := demo
DYN := $(BIN)/dynbooks --db sqlite:///$(DEMO)/dynbooks.db --config $(DEMO)/dynbooks.toml

.PHONY: demo test lint bench reliability clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Tests always run on SQLite; on PostgreSQL too when a server answers on 127.0.0.1:5432.
test: $(STAMP)
	@if $(BIN)/python -m dynbooks.store.probe "$(PG_URL)"; then \
	  echo "PostgreSQL answers: tests run on SQLite and PostgreSQL"; \
	  DYNBOOKS_TEST_POSTGRES_URL="$(PG_URL)" $(BIN)/pytest; \
	else \
	  echo "no PostgreSQL on 127.0.0.1:5432: tests run on SQLite only"; \
	  $(BIN)/pytest; \
	fi

# The long runs of the reliability suite (docs/reliability.md): the big race of processes, 20 SIGKILL trials per
# database, >= 1,000 state-machine examples per machine, the nightly fuzzing profile, migrations up and down.
reliability: $(STAMP)
	@if $(BIN)/python -m dynbooks.store.probe "$(PG_URL)"; then export DYNBOOKS_TEST_POSTGRES_URL="$(PG_URL)"; fi; \
	DYNBOOKS_RELIABILITY=1 HYPOTHESIS_PROFILE=nightly $(BIN)/pytest -s --durations=0 \
	  tests/reliability tests/property tests/integration/test_migrations.py

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m dynbooks.bench allocate --json

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/dynbooks generate --out $(DEMO) --as-of 2026-03-02
	$(DYN) init
	$(DYN) --as-of 2026-03-02 import reps $(DEMO)/reps.csv
	$(DYN) --as-of 2026-03-02 import accounts $(DEMO)/accounts.csv
	$(DYN) --as-of 2026-03-02 import opportunities $(DEMO)/opportunities.csv
	$(DYN) --as-of 2026-03-02 import activities $(DEMO)/activities.csv
	$(DYN) --as-of 2026-03-02 import signals $(DEMO)/signals.csv
	$(DYN) --as-of 2026-03-02 cycle
	COLUMNS=150 $(DYN) --as-of 2026-03-02 report balance --rule mm-sdr
	@echo "Try: $(DYN) --as-of 2026-03-02 report coverage"

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
