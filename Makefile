PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench bench-quick outbox-bench start-bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditbot demo

# Every test, SQLite and (with AUDITBOT_TEST_POSTGRES_URL) PostgreSQL. First all but the
# `processes` tests over TEST_WORKERS processes (pytest-xdist; each worker has its own tmp
# directories, SQLite files, PostgreSQL schemas and free ports; TEST_WORKERS=0: one process),
# then the tests that start processes of their own, one at a time: beside a neighbour they
# can push its click past the 2-second store deadline.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not processes"
	$(BIN)/python -m pytest -q -m processes

# The fast tier: the pure tests (tests/unit: no store, no sandbox, no subprocess), under a
# minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests/unit

# Issue 12's table beside its floors (full sizes: long, prints progress); JSON in bench/results/.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# The same rows at small sizes (about two minutes): .ci/run's smoke test.
bench-quick: $(STAMP)
	$(BIN)/python bench/run.py --quick

outbox-bench: $(STAMP)
	$(BIN)/python bench/outbox_bench.py

start-bench: $(STAMP)
	$(BIN)/python bench/start_bench.py

# ruff, mypy and the import contracts (pyproject.toml's [tool.importlinter]), beside the
# tests (not inside them): .ci/run calls both.
lint: $(STAMP)
	$(BIN)/ruff check bot handlers schedules tests bench
	$(BIN)/mypy bot handlers schedules bench
	$(BIN)/lint-imports --no-logo

clean:
	rm -rf $(VENV) .pytest_cache
