# infrastrand: every target uses the local virtual environment in .venv (never the system Python).
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test lint bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced

# The whole stack on the demo inventory (SQLite in var/demo): web app, simulated agents, collector and
# exporter, Prometheus with the shipped config; prints the URLs; Ctrl-C stops everything.
demo: install
	$(PY) -m deploy.demo

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: install
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) $(TOOLS) var staticfiles test-artifacts
