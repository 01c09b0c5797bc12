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

## Run the whole test suite (installs headless Chromium for the browser tests if missing).
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || sh scripts/install-chromium.sh
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
