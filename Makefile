# The habits: `make demo`, `make test`, `make lint`, `make bench`. Each creates .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
DEMO := demo
PORT ?= 8000
DEMO_PASSWORD ?= dynbooks-demo
DYN := $(BIN)/dynbooks --db sqlite:///$(DEMO)/dynbooks.db --config $(DEMO)/dynbooks.toml

.PHONY: demo serve test lint bench reliability clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Tests always run on SQLite; on PostgreSQL too when a server answers on 127.0.0.1:5432. One pytest worker per
# core (pytest-xdist); `make test TEST_ARGS=` runs them in one process.
TEST_ARGS ?= -n auto
test: $(STAMP)
	@if $(BIN)/python -m dynbooks.store.probe "$(PG_URL)"; then \
	  echo "PostgreSQL answers: tests run on SQLite and PostgreSQL"; \
	  DYNBOOKS_TEST_POSTGRES_URL="$(PG_URL)" $(BIN)/pytest $(TEST_ARGS); \
	else \
	  echo "no PostgreSQL on 127.0.0.1:5432: tests run on SQLite only"; \
	  $(BIN)/pytest $(TEST_ARGS); \
	fi

# The long runs of the reliability suite (docs/reliability.md): the big race of processes, 20 SIGKILL trials per
# database, >= 1,000 state-machine examples per machine and database, the nightly fuzzing profile, migrations up
# and down, the webhook races, the access matrix, the load test against dynbooks serve (its figures are printed
# on the LOAD lines), 300 stateful Schemathesis scenarios.
reliability: $(STAMP)
	@if $(BIN)/python -m dynbooks.store.probe "$(PG_URL)"; then export DYNBOOKS_TEST_POSTGRES_URL="$(PG_URL)"; fi; \
	DYNBOOKS_RELIABILITY=1 HYPOTHESIS_PROFILE=nightly DYNBOOKS_STATEFUL_EXAMPLES=300 $(BIN)/pytest -s --durations=0 \
	  --hypothesis-show-statistics tests/reliability tests/property tests/integration/test_migrations.py \
	  tests/api/test_schemathesis.py

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m dynbooks.bench allocate --json
	$(BIN)/python -m dynbooks.bench cycle --json   # 5M accounts, SQLite + PostgreSQL; first run builds the worlds (~10 min)
	$(BIN)/python -m dynbooks.bench import --json  # 1M-row accounts CSV
	$(BIN)/python -m dynbooks.bench.web --accounts 1000000 --seconds 10 --hand-raises 50 --pin --json  # one `serve` worker; load from wrk (apt-get install wrk) if installed

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
	@for u in "admin@demo.example --role admin" "maya@demo.example --role manager --team team-1" \
	          "hayden@demo.example --role rep --rep sdr-01"; do \
	  echo "$(DEMO_PASSWORD)" | $(DYN) user add $$u > /dev/null || exit 1; done
	@echo ""
	@echo "Web app: http://localhost:$(PORT)/   (API: /api, schema: /openapi.json)"
	@echo "Demo logins (password $(DEMO_PASSWORD)): admin@demo.example (RevOps admin),"
	@echo "  maya@demo.example (manager of team-1), hayden@demo.example (rep sdr-01)"
	@# An interactive `make demo` goes on to serve (Ctrl-C stops it); a script's ends here.
	@if [ -t 0 ] && [ -t 1 ]; then $(MAKE) --no-print-directory serve; else echo "Start it with: make serve"; fi

# The web app, the API and the scheduler on the demo database (built by `make demo` if missing).
serve: $(STAMP)
	@test -f $(DEMO)/dynbooks.db || $(MAKE) --no-print-directory demo < /dev/null
	$(DYN) --as-of 2026-03-02 serve --port $(PORT)

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
