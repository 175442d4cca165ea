# Two targets do everything: `make bench` runs the default suite, `make test` the tests.
# Each creates .venv and installs gebench into it on first use; `make bench-peers` adds the
# peers (pygambit, QuantEcon) and runs them beside gebench's game methods.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: bench bench-peers test test-fast perf clean

$(BIN)/gebench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test,dask,exact]'
	touch $@

# the peers (pygambit, QuantEcon): pygambit compiles from source where no wheel fits, a few
# minutes once, so neither the default suite nor the tests wait for it
$(VENV)/.peers: $(BIN)/gebench
	$(BIN)/python -m pip install --quiet -e '.[peers]' || \
		echo "make: the peers extra did not install (pygambit compiles from source); the peers are declined"
	touch $@

bench: $(BIN)/gebench
	$(BIN)/gebench run quick --workers 2 --results results

bench-peers: $(VENV)/.peers
	$(BIN)/gebench run peers --workers 2 --results results

# every test, two at a time (pytest-xdist) on the 2 cores the quick start assumes; a module's
# tests stay on one worker, so that its fixtures (a sweep, a stored run's figures) are made once
test: $(BIN)/gebench
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --benchmark-disable --durations=15

# a contributor's loop: every test not marked slow, in under a minute
test-fast: $(BIN)/gebench
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --benchmark-disable -m "not slow"

perf: $(BIN)/gebench
	$(BIN)/python -m pytest benchmarks/perf --benchmark-only --benchmark-json results/bench.json

# also Numba's compiled caches (__pycache__/*.nbi, *.nbc), which name the modules they were built from
clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
	find benchmarks markets solvers tests -name __pycache__ -type d -prune -exec rm -rf {} +
