"""PATH through GAMSPy: the optional planner of the `gams` extra.

The tests that solve need a working GAMS: they are skipped with the reason
`PathMCP.unavailable()` gives (the extra missing, the licence expired). The rest
(the row limit, how an unusable GAMS is explained and declined) run everywhere."""
import datetime

import numpy as np
import pytest

from gebench.cli import main
from gebench.markets import save
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.generators import build, generate
from gebench.runner import make_plan
from gebench.solvers import Unavailable, create, solve
from gebench.solvers.planners import path_mcp
from gebench.solvers.planners.path_mcp import PathMCP, licence_expiry
from gebench.suite import parse_suite

needs_gams = pytest.mark.skipif(PathMCP.unavailable() is not None, reason=str(PathMCP.unavailable()))

# GAMSPy's demo licence of gamspy_base 54.6.1: dated 2026-05-30, five months, time-limited
DEMO = ["GAMS_Demo,_for_EULA_and_demo_limitations_see___G260530+0003Cc-GEN",
        "https://www.gams.com/latest/docs/UG%5FLicense.html_______________",
        "00_______________________________________________________________",
        "05_______________________________________________________________",
        "DC0000____ac4c742e-6023-4f8e-b8da-35196a962dfc_O_DEMO____________"]


@needs_gams
@pytest.mark.parametrize("family", ["exchange-cobb-douglas", "fisher-cobb-douglas"])
def test_path_finds_cobb_douglas_prices(family):
    economy = generate(family, 12, 9, seed=2)
    result = solve(create("path-mcp"), economy, tol=1e-8)
    assert result.status == "converged"
    assert np.abs(result.prices - cobb_douglas_prices(economy)).max() < 1e-7


@needs_gams
@pytest.mark.parametrize("seed", range(2))
def test_path_agrees_with_the_exact_solvers_on_ces_complements(seed):
    economy = build("ces-complements", 8, seed, rho=-3.0)
    path = solve(create("path-mcp"), economy, tol=1e-8)
    homotopy = solve(create("homotopy"), economy, tol=1e-8)
    assert path.status == homotopy.status == "converged"
    assert np.abs(path.prices - homotopy.prices).max() < 1e-6


@needs_gams
def test_path_agrees_with_eisenberg_gale_on_a_leontief_fisher_market():
    economy = generate("fisher-leontief", 15, 12, seed=3)
    path = solve(create("path-mcp"), economy, tol=1e-7)
    program = solve(create("eisenberg-gale"), economy, tol=1e-7)
    assert path.status == program.status == "converged"
    assert np.abs(path.prices - program.prices).max() < 1e-5


@needs_gams
def test_a_level_just_below_zero_is_a_price_of_zero_not_an_invalid_answer():
    # PATH ends this game economy at a point with a level of -8e-12: its own bound tolerance
    result = solve(create("path-mcp"), build("leontief-game", 32, 1), tol=1e-6)
    assert result.prices is not None and result.prices.min() >= 0
    assert "invalid answer" not in result.message and "InputError" not in result.message


def test_economies_over_the_free_licence_are_declined_with_that_reason():
    solver = create("path-mcp")
    assert solver.skip(generate("exchange-ces", 333, 1, seed=0, rho=0.5)) is None   # 668 rows
    reason = solver.skip(generate("exchange-ces", 300, 400, seed=0, rho=0.5))        # 1001 rows
    assert "1001 rows" in reason and "licence" in reason
    assert "licence" in create("path-mcp[max_rows=30]").skip(generate("fisher-ces", 10, 11, seed=0, rho=0.5))


def test_without_gamspy_it_is_unavailable_and_names_the_extra(monkeypatch):
    monkeypatch.setattr(path_mcp, "gamspy_module", lambda: None)
    assert "gebench[gams]" in path_mcp.environment_problem()


def test_the_demo_licence_expiry_is_read_as_gamspy_reads_it():
    assert licence_expiry(DEMO) == datetime.date(2026, 11, 26)
    unlimited = DEMO[:3] + ["15" + DEMO[3][2:]] + DEMO[4:]       # not time-limited
    assert licence_expiry(unlimited) is None
    assert licence_expiry(["not a licence"]) is None and licence_expiry([]) is None


def _failing_gams(monkeypatch, licence_lines):
    def probe(gp):
        raise RuntimeError("Error while getting the return code from GAMS backend.\nmore lines")
    monkeypatch.setattr(path_mcp, "gamspy_module", lambda: object())
    monkeypatch.setattr(path_mcp, "probe_path", probe)
    monkeypatch.setattr(path_mcp, "read_licence", lambda: ("/x/gamspy_base/gamslice.txt", licence_lines))


def test_an_expired_licence_is_named_with_its_date_and_what_to_do(monkeypatch):
    _failing_gams(monkeypatch, DEMO)
    reason = path_mcp.environment_problem(today=datetime.date(2026, 12, 1))
    assert "expired on 2026-11-26" in reason and "gamspy install license" in reason and "\n" not in reason


def test_a_failing_gams_with_a_valid_licence_gives_the_probe_error_on_one_line(monkeypatch):
    _failing_gams(monkeypatch, DEMO)
    reason = path_mcp.environment_problem(today=datetime.date(2026, 11, 1))
    assert "expired" not in reason and "return code from GAMS backend" in reason and "\n" not in reason


def test_the_probe_passes_when_gams_solves(monkeypatch):
    monkeypatch.setattr(path_mcp, "gamspy_module", lambda: object())
    monkeypatch.setattr(path_mcp, "probe_path", lambda gp: None)
    assert path_mcp.environment_problem() is None


@pytest.fixture
def expired(monkeypatch):
    """PATH unavailable for an expired licence, whatever this machine's GAMS can do."""
    reason = "GAMSPy's time-limited demo licence expired on 2026-11-26: install a licence"
    monkeypatch.setattr(PathMCP, "unavailable", classmethod(lambda cls: reason))
    return reason


def test_an_unavailable_path_is_declined_by_solve_and_the_command_in_one_line(expired, tmp_path, capsys):
    economy = generate("exchange-ces", 4, 3, seed=0, rho=0.5)
    with pytest.raises(Unavailable, match="expired on 2026-11-26"):
        solve(create("path-mcp"), economy)
    save(economy, tmp_path / "e.json")
    assert main(["solve", str(tmp_path / "e.json"), "--solver", "path-mcp"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "path-mcp: unavailable" in captured.err and "2026-11-26" in captured.err


def test_an_unavailable_path_is_listed_as_such_by_the_solvers_command(expired, capsys):
    import json
    assert main(["solvers", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["solvers"]}
    assert rows["path-mcp"]["available"] is False and rows["path-mcp"]["unavailable"] == expired
    assert rows["tatonnement"]["available"] is True and rows["tatonnement"]["unavailable"] is None
    assert main(["solvers"]) == 0
    assert f"unavailable: {expired}" in capsys.readouterr().out


SUITE = """
name = "path"
tolerance = 1e-6
time_budget = 5.0
seeds = [0]
solvers = ["path-mcp", "tatonnement"]

[[family]]
family = "exchange-ces"
sizes = [4]
rho = 0.5
"""


def test_an_unavailable_path_is_declined_in_the_plan_with_the_reason(expired):
    plan = make_plan(parse_suite(SUITE))
    assert plan.applicable["exchange-ces[rho=0.5]"] == ["tatonnement"]
    assert plan.declined["exchange-ces[rho=0.5]"]["path-mcp"] == f"unavailable: {expired}"
    assert plan.unavailable == {"path-mcp": expired}
    assert any(expired in line for line in plan.describe())
