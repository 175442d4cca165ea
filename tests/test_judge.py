"""The judge's edges: malformed outcomes, allocations that do not exist, and messages a person
reads (issue: one verdict for one equilibrium, and nothing dies loud)."""
import json

import numpy as np
import pytest

from gebench.cli import main
from gebench.delivered import welfare_fields
from gebench.markets import EconomyError, economy_from_dict, make_economy, save
from gebench.markets.closed_form import cobb_douglas_equilibrium
from gebench.markets.generators import generate
from gebench.markets.welfare import welfare
from gebench.outcomes import gains_of
from gebench.solvers import Outcome, Result, Solver, create, solve


class Fixed(Solver):
    """Returns a given outcome: a stand-in for a plugin that reports nonsense."""

    name = "fixed"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})

    def __init__(self, make):
        self.make = make

    def run(self, economy, tol, deadline, seed=0):
        return self.make(economy)


def _equilibrium_with(iterations):
    def make(economy):
        p, x = cobb_douglas_equilibrium(economy)
        return Outcome("converged", p, x, iterations)
    return make


@pytest.mark.parametrize("iterations", [float("nan"), "12", -1, 2.5, None, True])
def test_an_iteration_count_that_is_not_a_whole_number_fails_the_run(iterations):
    economy = generate("exchange-cobb-douglas", 4, 3, seed=0)
    result = solve(Fixed(_equilibrium_with(iterations)), economy, 1e-6, 10.0)
    assert result.status == "failed"
    assert result.message.startswith("iterations: expected an integer")
    assert json.loads(json.dumps(result.to_dict()))["iterations"] == 0


@pytest.mark.parametrize("iterations", [7, np.int64(7), 7.0])
def test_whole_iteration_counts_of_any_numeric_type_are_kept(iterations):
    economy = generate("exchange-cobb-douglas", 4, 3, seed=0)
    result = solve(Fixed(_equilibrium_with(iterations)), economy, 1e-6, 10.0)
    assert result.status == "converged" and result.to_dict()["iterations"] == 7


@pytest.fixture
def three_agents():
    economy = generate("exchange-cobb-douglas", 3, 3, seed=0)
    return (economy, *cobb_douglas_equilibrium(economy))


def test_an_allocation_beyond_the_supply_has_no_welfare(three_agents):
    economy, p, x = three_agents
    measures = welfare(economy, 2 * x, x, p)
    assert (measures.individual_rationality, measures.pareto_gap, measures.gains_total) == (None, None, None)
    assert "uses more than the supply" in measures.infeasible
    assert welfare(economy, x, x, p).gains_total == pytest.approx(1.0)


def test_verify_says_in_one_line_that_an_impossible_allocation_has_no_welfare(three_agents, tmp_path, capsys):
    economy, p, x = three_agents
    save(economy, tmp_path / "e.json")
    (tmp_path / "eq.json").write_text(json.dumps({"prices": p.tolist(), "allocation": x.tolist()}))
    (tmp_path / "twice.json").write_text(json.dumps({"prices": p.tolist(), "allocation": (2 * x).tolist()}))
    code = main(["verify", str(tmp_path / "e.json"), str(tmp_path / "twice.json"),
                 "--equilibrium", str(tmp_path / "eq.json")])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 1 and not report["equilibrium"]
    assert all(report["welfare"][k] is None for k in ("pareto_gap", "gains_total", "individual_rationality"))
    assert err.count("\n") == 1 and "uses more than the supply" in err


def test_a_traders_impossible_allocation_is_traced_without_welfare(three_agents):
    economy, p, x = three_agents
    trader = create("bilateral-exchange")
    result = Result("bilateral-exchange", "at_rest", p, 2 * x, 3, 0.1, None)
    fields = welfare_fields(economy, trader, result, 1e-6)
    assert fields["welfare"]["feasible"] is False and fields["welfare"]["pareto_gap"] is None
    assert fields["welfare"]["log_utility"] is None and fields["trace"]["feasible"] == [False]
    record = {"welfare": fields["welfare"]}
    reference = {"welfare": welfare_fields(economy, trader, Result("r", "converged", p, x, 1, 0.1, None))["welfare"]}
    assert gains_of(record, None, reference, feasible=False)["gains_total"] is None
    assert gains_of(record, None, reference)["gains_total"] == 0.0        # the no-trade bundle


def test_a_producer_without_a_type_says_type_missing():
    doc = {"format": "economy/1", "model": "exchange", "goods": 2,
           "agents": [{"endowment": [1, 0], "utility": {"type": "linear", "a": [1, 1]}}],
           "producers": [{"net_output": [1, -1]}]}
    with pytest.raises(EconomyError, match=r"^producer 0: type: missing$"):
        economy_from_dict(doc)


def test_counts_read_as_a_person_writes_them():
    doc = {"format": "economy/1", "model": "exchange", "goods": 1,
           "agents": [{"endowment": [1, 2], "utility": {"type": "linear", "a": [1]}}]}
    with pytest.raises(EconomyError, match=r"endowment: expected 1 number, got 2"):
        economy_from_dict(doc)


def test_a_run_prints_only_its_own_lines(capfd):
    """linear-exchange-ipm on autarky meets a singular factorisation: scipy warns, the run
    says it in its status and keeps the warning in `extra`, and nothing reaches stderr."""
    economy = make_economy("exchange", "linear", np.eye(3), endowment=np.eye(3))
    result = solve(create("linear-exchange-ipm"), economy, 1e-6, 10.0)
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert result.status == "failed" and "singular" in result.message
    assert any("LinAlgWarning" in w for w in result.extra["warnings"])


def test_a_solvers_overflow_warnings_are_kept_not_printed(capfd):
    def overflow(economy):
        np.exp(np.array([1000.0]))
        return Outcome("diverged", None, None, 3)
    result = solve(Fixed(overflow), generate("exchange-cobb-douglas", 3, 3, seed=0), 1e-6, 10.0)
    assert capfd.readouterr().err == ""
    assert result.status == "diverged" and result.extra["warnings"] == ["RuntimeWarning: overflow encountered in exp"]


def test_every_allocation_measure_reaches_the_record_the_trace_and_the_timeline(three_agents):
    """A welfare measure is declared once (`ALLOCATION_MEASURES`): the record's welfare, its
    trace and the outcomes' timeline carry whatever is declared there."""
    from gebench.markets.welfare import MEASURE_FIELDS, TRACED_FIELDS
    from gebench.outcomes import final, timeline
    economy, p, x = three_agents
    fields = welfare_fields(economy, create("bilateral-exchange"), Result("b", "at_rest", p, x, 3, 0.1, None), 1e-6)
    assert set(MEASURE_FIELDS) <= set(fields["welfare"]) and set(TRACED_FIELDS) <= set(fields["trace"])
    record = {**fields}
    assert set(TRACED_FIELDS) <= set(timeline(record, None)[0]) and set(MEASURE_FIELDS) <= set(final(record, None))
