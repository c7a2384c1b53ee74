# Quickstart: `make demo` and `make test`. Each creates .venv and installs on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schema docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## The ledger quickstart, then a checkout: quote, redeem a reward, order, refund
	$(PY) examples/quickstart.py
	$(PY) examples/checkout.py

test: $(STAMP)  ## The test suite with the coverage gate (90% of src/loyalty)
	$(PY) -m pytest --cov=loyalty --cov-report=term --cov-fail-under=90

lint: $(STAMP)  ## ruff and mypy --strict
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m mypy --strict src

bench: $(STAMP)  ## Benchmarks: prints a table and writes benchmarks/results.json
	$(PY) -m benchmarks

schema: $(STAMP)  ## Regenerate docs/program.schema.json from the configuration models
	$(PY) -c "from loyalty.program.schema import program_json_schema_text as s; open('docs/program.schema.json','w').write(s())"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
