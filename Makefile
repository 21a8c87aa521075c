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

# The checks that keep the code as it is meant to be (ruff, mypy; the import boundaries are
# a test), then the suite.
test: install
	$(BIN)/ruff check endpoints tests benchmarks
	$(BIN)/python -m mypy endpoints
	$(BIN)/python -m pytest -q -n 2

lint: install
	$(BIN)/ruff check endpoints tests benchmarks ansible_collections
	$(BIN)/python -m mypy endpoints

bench: install
	$(BIN)/python benchmarks/rollout.py

clean:
	rm -rf $(VENV) .endpoints build dist *.egg-info
