# The two commands of the quick start: `make demo` and `make test`. Each creates .venv if absent and
# installs the pinned versions from requirements/constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_VERSION := 26.3

.PHONY: demo test lint bench install clean constraints

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements/constraints.txt -e ".[dev]"
	@# An egg-info beside the sources makes Airflow see the entry points twice (docs/architecture.md).
	@rm -rf *.egg-info
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py $(if $(KEEP),--keep,) $(if $(VERBOSE),--verbose,)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(if $(QUICK),--quick,)

# Refresh the pins after changing dependencies in pyproject.toml.
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -vi '^airflow-provider-vobiz' > requirements/constraints.txt

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache demo-output
