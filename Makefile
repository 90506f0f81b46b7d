# Two entry points for a fresh machine with Python >= 3.10: `make run` and `make test`.
# Both create .venv if missing. torch is pinned here (the CPU wheel); pyproject.toml
# gives users a range.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0
CORES  ?= 2

.PHONY: setup run demo test lint bench smoke-compare clean

$(BIN)/floss: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/floss

run: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --workflow-profile profiles/local --cores $(CORES)
	cat results/quick/claims.md  # config.yaml's scale: quick

demo: setup
	$(BIN)/python -m floss demo

lint: setup
	$(BIN)/ruff check floss tests
	$(BIN)/ruff format --check floss tests
	$(BIN)/snakefmt --check Snakefile workflow

test: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

bench: setup
	OMP_NUM_THREADS=1 $(BIN)/python -m floss bench --threads 1 --networks 1 10 100 --repeats 3

# A refactor must not change results: run the smoke config into build/smoke and compare its
# NetCDF data with a reference smoke run's results folder (REF=..., e.g. a checkout's
# results/smoke; results/ of a run made before results moved into per-scale folders).
smoke-compare: setup
	test -d "$(REF)" || { echo "set REF to a reference smoke results folder" >&2; exit 2; }
	rm -rf build/smoke
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES) --configfile config/smoke.yaml -d build/smoke
	$(BIN)/python -m floss compare "$(REF)" build/smoke/results/smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
