# Two targets do everything: `make bench` runs the default suite, `make test` the tests.
# Each creates .venv and installs gebench into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: bench test perf clean

$(BIN)/gebench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,gams,exact]'
	touch $@

# the peers (pygambit, QuantEcon) run beside gebench's own methods in the suites; pygambit
# compiles from source, a few minutes once, so the tests do not wait for it
$(VENV)/.peers: $(BIN)/gebench
	$(BIN)/python -m pip install --quiet -e '.[peers]' || \
		echo "make: the peers extra did not install (pygambit compiles from source); the peers are declined"
	touch $@

bench: $(BIN)/gebench $(VENV)/.peers
	$(BIN)/gebench run quick --workers 2 --results results

test: $(BIN)/gebench
	$(BIN)/python -m pytest -q --benchmark-disable --durations=15

perf: $(BIN)/gebench
	$(BIN)/python -m pytest benchmarks/perf --benchmark-only --benchmark-json results/bench.json

# also Numba's compiled caches (__pycache__/*.nbi, *.nbc), which name the modules they were built from
clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
	find benchmarks markets solvers tests -name __pycache__ -type d -prune -exec rm -rf {} +
