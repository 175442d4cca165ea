"""pytest-benchmark: what the harness adds to every run, apart from the solver's own work.

    pytest benchmarks/perf/test_harness.py --benchmark-only

One run of a solver that returns at once, through a warmed-up worker process
(the pipe both ways, building a 3 x 3 economy, `solve` and its certificate,
the record), and one record appended to runs.jsonl with its fsync. Their sum
against a 1-second run is the harness's overhead. With --benchmark-disable
these are plain tests of what the harness returns.
"""
import json

import numpy as np
import pytest

from gebench.isolation import IsolatedRunner
from gebench.records import RunDirectory, read_runs
from gebench.solvers import Outcome, Solver
from gebench.suite import FamilyLadder


class Instant(Solver):
    """Answers uniform prices and the endowments at once: no work of its own."""

    name = "instant"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas"})

    def run(self, economy, tol, deadline, seed):
        return Outcome("max_iter", np.full(economy.n_goods, 1.0), np.array(economy.endowment), 0)


@pytest.fixture(scope="module")
def runner():
    runner = IsolatedRunner({"instant": Instant()}, memory_mb=1024)
    runner.start()
    yield runner
    runner.close()


def test_one_isolated_run(benchmark, runner):
    ladder = FamilyLadder("exchange-cobb-douglas", (3,))
    task = (ladder, 3, 0, "instant", 1e-6, 1.0)
    runner.run(*task)
    record = benchmark.pedantic(runner.run, args=task, rounds=50, warmup_rounds=2)
    assert record["status"] in ("converged", "max_iter") and record["certificate"] is not None
    assert "worker_start_seconds" not in record            # the same warm worker served every round


def test_one_record_appended_and_synced(benchmark, tmp_path):
    record = {"run_id": "x", "ladder": "exchange-cobb-douglas", "size": 3, "seed": 0, "solver": "instant",
              "status": "max_iter", "seconds": 1e-4, "iterations": 7, "certificate": {"clearing": 0.0}}
    with RunDirectory(tmp_path).appender() as handle:
        benchmark.pedantic(handle.append, args=(record,), rounds=50, warmup_rounds=1)
    records = read_runs(tmp_path)
    assert records and all(r == json.loads(json.dumps(record)) for r in records)
