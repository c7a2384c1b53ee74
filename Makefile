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

demo: $(STAMP)  ## Test and learn: a year of orders, cosmetics-club against a variant, a report
	@mkdir -p demo-output
	$(PY) -m loyalty generate-orders --members 2000 --months 12 --seed 1 -o demo-output/orders.jsonl
	$(PY) -m loyalty simulate examples/programs/cosmetics-club.yaml demo-output/orders.jsonl \
	  --compare examples/simulation/cosmetics-club-b.yaml \
	  --report demo-output/report.html --json demo-output/figures.json --csv demo-output

test: $(STAMP)  ## The test suite with the coverage gate (90% of src/loyalty)
	$(PY) -m pytest --cov=loyalty --cov-report=term --cov-fail-under=90

lint: $(STAMP)  ## ruff and mypy --strict
	$(PY) -m ruff check src tests benchmarks examples mkdocs_ext
	$(PY) -m mypy --strict src examples mkdocs_ext

# bench measures PostgreSQL too: on a throwaway server (.ci/postgres.sh, docs/postgres.md) unless
# LOYALTY_POSTGRES_URL is set. A server that cannot be started is a failure only under CI=true.
bench: $(STAMP)  ## Benchmarks: prints a table and writes benchmarks/results.json
	@if [ -n "$${LOYALTY_POSTGRES_URL:-}" ]; then \
	  exec $(PY) -m benchmarks; \
	fi; \
	pg_tmp=$$(mktemp -d -t loyalty-pg.XXXXXX) || exit 1; \
	trap 'bash .ci/postgres.sh stop "$$pg_tmp/cluster"; rm -rf -- "$$pg_tmp"' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	chmod 755 "$$pg_tmp"; \
	if pg_export=$$(bash .ci/postgres.sh start "$$pg_tmp/cluster"); then \
	  eval "$$pg_export"; export LOYALTY_POSTGRES_URL; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "bench: could not start PostgreSQL; with CI=true that is a failure" >&2; exit 1; \
	else \
	  echo "bench: could not start PostgreSQL; measuring without it" >&2; \
	fi; \
	$(PY) -m benchmarks

# The site: docs/ through MkDocs (mkdocs.yml) into site/. --strict: any warning (a broken link, a
# page missing from the nav, an included file that does not exist) fails the build.
docs: $(STAMP)  ## The documentation site, built into site/ (any warning fails)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

# Both files are generated from the configuration models; tests fail when either is stale.
schema: $(STAMP)  ## Regenerate docs/program.schema.json and docs/reference/configuration.md
	$(PY) -c "from loyalty.program.schema import program_json_schema_text as s; open('docs/program.schema.json','w').write(s())"
	$(PY) -m loyalty.program.reference examples/programs docs/reference/configuration.md

clean:
	rm -rf $(VENV) demo-output site .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
