# Two commands do all the set-up on a fresh machine (Python 3.11+ and make):
#   make demo   - install into .venv and run the whole job against the built-in lab
#   make test   - install into .venv (with test tools) and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint bench clean

$(BIN)/endpoints: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/endpoints

demo: install
	$(BIN)/endpoints demo

test: install
	$(BIN)/python -m pytest -q -n 2

lint: install
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check endpoints tests benchmarks ansible_collections

bench: install
	$(BIN)/python benchmarks/rollout.py

clean:
	rm -rf $(VENV) .endpoints build dist *.egg-info
