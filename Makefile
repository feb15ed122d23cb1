# Quick start: `make demo` (set up + run the main job on built-in examples), `make test` (set up + full suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test setup lint clean

$(BIN)/icp-notify: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dataframe,train,dev]'
	touch $(BIN)/icp-notify

setup: $(BIN)/icp-notify

demo: setup
	$(BIN)/icp-notify demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict icp_notify

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build dist *.egg-info
