# Two commands for a fresh machine (Python 3.11): `make run` and `make test`.
# Both create the virtual environment they need; nothing else has to be installed first.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# The Dagster instance `se-pipeline run` records its runs in by default (<output>/.dagster,
# see se_pipeline/run.py), so the UI shows the command line's runs too.
DAGSTER_HOME ?= $(CURDIR)/output/.dagster

.PHONY: run test dev bench clean-output

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the main job on the bundled sample data and publish output/latest.
run: $(STAMP)
	$(VENV)/bin/se-pipeline run

## The TREE community's LDES client (npm), which replays our event stream in the tests.
LDES_CLIENT = tests/release/ldes-client
$(LDES_CLIENT)/node_modules/.installed: $(LDES_CLIENT)/package.json $(LDES_CLIENT)/package-lock.json
	npm ci --prefix $(LDES_CLIENT) --no-audit --no-fund --ignore-scripts
	touch $@

## Run the whole test suite (installs headless Chromium for the browser tests and the
## LDES client if missing; without npm the LDES client test is skipped).
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || sh scripts/install-chromium.sh
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(LDES_CLIENT)/node_modules/.installed; \
	else echo "npm not found: tests/release/test_ldes_client.py will be skipped"; fi
	$(PY) -m pytest -q -n 2 --dist loadfile

## Open the Dagster UI on http://127.0.0.1:3000, on the instance `make run` records its runs in.
dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -w workspace.yaml

## Print benchmark figures (see benchmarks/README.md).
bench: $(STAMP)
	$(PY) -m benchmarks.run

clean-output:
	rm -rf output/releases output/latest output/state output/work
