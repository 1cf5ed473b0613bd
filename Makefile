PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick outbox-bench start-bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditbot demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

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
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache
