# lifecycle — the two-command quick start: `make demo` and `make test`.
# Each target bootstraps .venv (created once, re-installed when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: install test test-unit lint demo dashboard bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check lifecycle dashboard tests benchmarks migrations examples
	$(VENV)/bin/mypy

demo: $(STAMP)
	$(VENV)/bin/lifecycle demo $(DEMO_ARGS)

dashboard: $(STAMP)
	$(VENV)/bin/lifecycle dashboard

clean:
	rm -rf $(VENV) .lifecycle .pytest_cache .mypy_cache .ruff_cache
