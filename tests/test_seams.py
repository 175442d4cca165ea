"""Issue 29, "one room for each thing": what the command line asks of the modules that own
each concept (the plan's estimate, the welfare report, time limits, stored solver specs,
the memory check of generate)."""
import json
import math

import numpy as np
import pytest

from gebench.markets import InputError
from gebench.markets.certificate import check_seconds, check_tolerance
from gebench.markets.welfare import Welfare
from gebench.records import RunDirectory
from gebench.runner import make_plan
from gebench.suite import check_fits, parse_suite

SUITE = """
name = "tiny"
tolerance = 1e-6
time_budget = 2.0
seeds = [0, 1]
solvers = ["tatonnement"]

[[family]]
family = "fisher-cobb-douglas"
sizes = [4, 8]
"""


def test_the_plan_estimates_its_time_at_most_and_from_a_reference_run(tmp_path):
    plan = make_plan(parse_suite(SUITE))
    assert len(plan.runs) == 4
    assert plan.estimate() == ["4 runs; at most 0 min if every run used its whole budget "
                               "(the wall rule skips most of that)"]
    ladder = plan.runs[0][0]
    reference = tmp_path / "ref"
    reference.mkdir()
    records = [{"ladder": ladder, "agents": 4, "size": 4, "seed": 0, "solver": "tatonnement", "status": "converged",
                "seconds": 30.0, "setup_seconds": 0.0},          # counted at 1.5 budgets at most: 3 s
               {"ladder": ladder, "agents": 4, "size": 4, "seed": 1, "solver": "tatonnement", "status": "converged",
                "seconds": 1.0}]
    (reference / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    lines = plan.estimate(reference)
    assert lines[1] == f"estimate from {reference}: 0.1 min for the 2 runs it has, plus up to 0 min for 2 it does not"


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, "5", True])
def test_a_time_limit_is_a_finite_number_of_seconds(bad):
    with pytest.raises(InputError, match=r"^--time-limit: must be a finite number of seconds > 0, got "):
        check_seconds(bad, "--time-limit")
    with pytest.raises(InputError, match=r"^--tol: must be a finite number > 0, got "):
        check_tolerance(bad, "--tol")
    assert check_seconds(np.float64(2.5)) == 2.5


def test_the_welfare_report_leaves_out_the_gains_without_an_equilibrium():
    measures = Welfare(individual_rationality=0.0, pareto_gap=0.1, pareto_bound=0.2)
    assert {"gains_mean", "gains_worst", "gains_total"} <= set(measures.to_dict())
    assert not {"gains_mean", "gains_worst", "gains_total"} & set(measures.to_dict(gains=False))


def test_a_run_directory_gives_the_solver_specs_it_was_started_with(tmp_path):
    run = RunDirectory(tmp_path)
    assert run.extra_solvers() == []
    (tmp_path / "meta.json").write_text(json.dumps({"extra_solvers": ["a.py:A", "tatonnement[step=0.1]"]}))
    assert run.extra_solvers() == ["a.py:A", "tatonnement[step=0.1]"]
    (tmp_path / "meta.json").write_text(json.dumps({"extra_solvers": "a.py:A"}))
    with pytest.raises(InputError, match="extra_solvers: expected a list of solver specs"):
        run.extra_solvers()


def test_generate_refuses_an_economy_larger_than_the_machine(monkeypatch):
    import gebench.suite as suite
    monkeypatch.setattr(suite, "machine_memory_mb", lambda: 1.0)
    with pytest.raises(InputError, match=r"^--agents, --goods: fisher-linear with 1000 x 1000 needs about"):
        check_fits("fisher-linear", 1000, 1000, 1.0, "--agents, --goods")
    check_fits("fisher-linear", 2, 2, 1.0, "--agents, --goods")
