"""Limits that hold (issue 27): `gebench solve`'s time limit is as hard as a suite's budget, a
warm-up that never returns is given up in `solve` and in a sweep, and a solver whose process
ends without a result makes `solve` fail loudly.

Each test runs the command in a subprocess, with a plugin solver written to tmp_path that
misbehaves, and a short limit: a regression shows as a failed bound, not a hung test run."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gebench.markets import InputError, save
from gebench.markets.generators import generate
from gebench.suite import parse_suite

ROOT = Path(__file__).resolve().parents[1]
STARTS = 20.0       # seconds for the command and its worker to start (each imports numpy, scipy, numba), loaded

PLUGIN = '''
import os
import time

import numpy as np
from gebench.solvers import Outcome, Solver


class Rogue(Solver):
    """Takes every economy, then misbehaves in `run` or in `warm_up`."""

    name = "rogue"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})

    def warm_up(self):
        {warm_up}

    def run(self, economy, tol, deadline, seed):
        {run}
'''

RETURNS = "return Outcome('failed', message='gave up')"

SUITE = """
name = "limits"
tolerance = 1e-6
time_budget = 5.0
warm_up_budget = {warm_up_budget}
seeds = [0]
solvers = []

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [4]
"""


def _plugin(tmp_path: Path, warm_up: str = "pass", run: str = RETURNS, name: str = "rogue") -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(PLUGIN.replace("{warm_up}", warm_up).replace("{run}", run).replace('"rogue"', f'"{name}"'))
    return f"{path}:Rogue"


def _gebench(*args) -> tuple[subprocess.CompletedProcess, float]:
    """The command's outcome and its wall-clock seconds; the timeout only stops a hung regression."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gebench", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    return done, time.perf_counter() - t0


@pytest.fixture
def economy(tmp_path) -> str:
    path = tmp_path / "e.json"
    save(generate("fisher-ces", 4, 4, seed=0, rho=0.5), path)
    return str(path)


@pytest.mark.parametrize("run", ["while True:\n            pass",
                                 "while True:\n            time.sleep(0.05)"],
                         ids=["busy-loop", "sleep-loop"])
@pytest.mark.slow
def test_solve_kills_a_run_that_never_returns_and_reports_a_timeout(tmp_path, economy, run):
    limit = 1.0
    done, seconds = _gebench("solve", economy, "--solver", _plugin(tmp_path, run=run), "--time-limit", str(limit))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["solver"] == "rogue" and result["status"] == "timeout"
    assert result["prices"] is None and result["allocation"] is None and result["certificate"] is None
    assert {"iterations", "seconds", "message"} <= set(result) and "killed" in result["message"]
    assert result["seconds"] < 1.5 * limit + 5          # killed at 1.5 x the limit + 2 s, from the task's start
    assert seconds < 1.5 * limit + STARTS


@pytest.mark.slow
def test_solve_says_so_when_the_solvers_process_ends_without_a_result(tmp_path, economy):
    done, _ = _gebench("solve", economy, "--solver", _plugin(tmp_path, run="os._exit(0)"), "--time-limit", "2")
    assert done.returncode not in (0, 2)            # not a result, nor a refusal of the input
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "ended without a result" in done.stderr and "exit code 0" in done.stderr


@pytest.mark.slow
def test_solve_gives_up_a_warm_up_that_never_finishes(tmp_path, economy):
    limit = 2.0
    spec = _plugin(tmp_path, warm_up="while True:\n            time.sleep(0.05)")
    done, seconds = _gebench("solve", economy, "--solver", spec, "--warm-up-limit", str(limit))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and f"rogue: warm-up did not finish within {limit:g} s" in done.stderr
    assert seconds < 1.5 * limit + STARTS


def test_the_solve_help_says_the_time_limit_is_hard():
    done, _ = _gebench("solve", "--help")
    text = " ".join(done.stdout.split())
    assert "hard limit" in text and "killed" in text and "--warm-up-limit" in text


@pytest.mark.slow
def test_a_sweep_declines_a_solver_whose_warm_up_never_finishes_and_runs_the_others(tmp_path):
    limit = 2.0
    suite = tmp_path / "limits.toml"
    suite.write_text(SUITE.format(warm_up_budget=limit))
    spec = _plugin(tmp_path, warm_up="while True:\n            time.sleep(0.05)")
    steady = _plugin(tmp_path, name="steady")        # warms up at once, whatever the machine's load
    done, seconds = _gebench("run", str(suite), "--results", str(tmp_path / "results"), "--no-plot",
                             "--solver", spec, "--solver", steady)
    assert done.returncode == 0, done.stderr
    assert seconds < 1.5 * limit + 2 * STARTS           # two worker starts, and one run
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert run_dir.is_dir()
    records = [json.loads(line) for line in (run_dir / "runs.jsonl").read_text().splitlines()]
    assert [(r["solver"], r["status"]) for r in records] == [("steady", "failed")]
    meta = json.loads((run_dir / "meta.json").read_text())
    reason = f"warm-up did not finish within {limit:g} s"
    assert meta["unavailable"] == {"rogue": reason}
    assert meta["declined"]["fisher-ces[rho=0.5]"]["rogue"] == f"unavailable: {reason}"
    assert reason in done.stderr                        # the plan, as announced


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "2e6", "true", '"600"'])
def test_a_suites_warm_up_budget_is_a_positive_number_of_seconds(value):
    with pytest.raises(InputError, match="warm_up_budget"):
        parse_suite(SUITE.format(warm_up_budget=value))
    assert parse_suite(SUITE.format(warm_up_budget=30)).warm_up_budget == 30.0
