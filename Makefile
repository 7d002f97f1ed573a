# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean messages mutations mutmut

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/samverkan demo --port $(PORT)

# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-p no:xdist" runs it in one process.
PYTEST_ARGS ?= -n auto

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools
	$(BIN)/mypy src tests tools
	PYTHONPATH=tools $(BIN)/lint-imports

messages: $(STAMP)
	cd src/samverkan && ../../$(BIN)/samverkan makemessages --locale sv --no-obsolete --no-location
	cd src/samverkan && ../../$(BIN)/samverkan compilemessages --locale sv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# The conditions the legal review found unguarded, each broken in a copy of the tree while the
# tests that guard it run (tools/named_mutations.py); not part of CI.
mutations: $(STAMP)
	$(BIN)/python tools/named_mutations.py

# mutmut over disclosure/policy.py, consent/services/, audit/, records/ and stats/disclosure.py, one
# target at a time in var/mutmut/ (tools/mutmut_run.py; TARGETS="policy audit" for some).
mutmut: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	$(BIN)/python tools/mutmut_run.py --survivors $(TARGETS)
