"""A welfare suite end to end: traces and welfare in the records, gains against the run's own
equilibria, the market figures and the shipped market suite."""
from pathlib import Path

import pytest

from gebench.cli import main
from gebench.outcomes import at_time, delivered, final, race, references, timeline
from gebench.readme import institutions_cost_table, institutions_table
from gebench.runner import read_runs
from gebench.suite import load_suite

WELFARE = """
name = "trade"
tolerance = 1e-6
time_budget = 5.0
seeds = [0, 1]
welfare = true
solvers = ["newton", "tatonnement", "bilateral-exchange"]

[[family]]
family = "exchange-cobb-douglas"
sizes = [4, 8]

[[family]]
family = "leontief-game-morris"
sizes = [4]
solvers = ["lemke-howson", "bilateral-exchange", "double-auction"]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trade")
    suite = tmp / "trade.toml"
    suite.write_text(WELFARE)
    assert main(["run", str(suite), "--results", str(tmp), "--in-process"]) == 0
    run_dir = next(p for p in tmp.iterdir() if p.is_dir())
    return run_dir, read_runs(run_dir)


@pytest.mark.slow
def test_every_run_of_a_welfare_suite_records_its_trace_welfare_and_central_reads(swept):
    _, records = swept
    assert records and all(r["welfare"] and r["trace"] for r in records)
    for r in records:
        trace = r["trace"]
        assert len({len(v) for v in trace.values()}) == 1, "trace columns of unequal length"
        assert (trace["seconds"] == sorted(trace["seconds"])
                and trace["seconds"][-1] == pytest.approx(r["seconds"], abs=1e-5))
        assert len(r["welfare"]["log_utility"]) == r["agents"]
    reads = {r["solver"]: r["central_reads"] for r in records
             if r["ladder"] == "exchange-cobb-douglas" and r["size"] == 8}
    assert reads["bilateral-exchange"] == 0
    assert reads["newton"] == 8 * 8 + 8 * 8            # the whole economy: coefficients and endowments
    tat = next(r for r in records if r["solver"] == "tatonnement" and r["size"] == 8)
    assert tat["central_reads"] == 8 * tat["iterations"]


@pytest.mark.slow
def test_a_planner_delivers_nothing_until_it_finishes_and_a_trader_all_along(swept):
    _, records = swept
    refs = references(records)
    for r in records:
        if r["ladder"] != "exchange-cobb-douglas":
            continue
        ref = refs[("exchange-cobb-douglas", r["size"], r["seed"])]
        points = timeline(r, ref)
        if r["solver"] == "bilateral-exchange":
            assert all(p["gains_total"] > 0 for p in points) and r["status"] == "at_rest"
            assert final(r, ref)["individual_rationality"] == 0.0
        else:
            assert all(p["gains_total"] == pytest.approx(0.0, abs=1e-9) for p in points[:-1])
            assert r["status"] == "converged" and points[-1]["gains_total"] == pytest.approx(1.0, abs=1e-4)
        assert at_time(points, 0.0)["gains_total"] == 0.0


@pytest.mark.slow
def test_the_reference_equilibrium_is_a_certified_run_of_the_same_economy(swept):
    _, records = swept
    refs = references(records)
    assert {k[0] for k in refs} == {"exchange-cobb-douglas", "leontief-game-morris"}
    assert all(r["status"] == "converged" for r in refs.values())
    game = refs[("leontief-game-morris", 4, None)]          # one economy, whatever the seed
    assert game["solver"] == "lemke-howson"                   # exact methods are preferred
    trades = [r for r in records if r["ladder"] == "leontief-game-morris" and r["solver"] == "bilateral-exchange"]
    assert len(trades) == 2 and all(final(r, game)["gains_total"] == 0.0 for r in trades)


@pytest.mark.slow
def test_money_lets_the_games_agents_trade_where_barter_cannot_and_the_tables_say_so(swept):
    run_dir, records = swept
    table = delivered(records)
    barter = table[("leontief-game-morris", 4, "bilateral-exchange")]
    money = table[("leontief-game-morris", 4, "double-auction")]
    assert barter["runs"] == money["runs"] == 2 and barter["known"] == money["known"] == 2
    assert barter["gains_total"] == 0.0 and 0.2 < money["gains_total"] <= 1.0 + 1e-9
    assert money["central_reads"] > 0 == barter["central_reads"]         # the order book is read in one place
    rows = institutions_table(run_dir, "leontief-game-morris", ["bilateral-exchange", "double-auction"]).splitlines()
    assert rows[0] == "| size | bilateral-exchange | double-auction |"
    assert rows[2].startswith(f"| 4 | 0.00 / 0.00 | {money['gains_total']:.2f} / {money['gains_worst']:.2f}")
    cost = institutions_cost_table(run_dir, "leontief-game-morris", ["double-auction"]).splitlines()[2]
    assert cost.endswith(f"{money['central_reads']:.2g} |")


@pytest.mark.slow
def test_the_race_compares_traders_with_each_exact_method_at_its_finishing_time(swept):
    _, records = swept
    rows = race(records)
    game = [row for row in rows if row["ladder"] == "leontief-game-morris"]
    assert [row["planner"] for row in game] == ["lemke-howson"]
    assert game[0]["trader_total_by_then"] == 0.0 and game[0]["planner_converged"] == 1


@pytest.mark.slow
def test_a_welfare_run_draws_the_market_figures(swept):
    run_dir, _ = swept
    names = {p.name for p in run_dir.glob("market-*.png")}
    assert {"market-size.png", "market-information.png", "market-time-exchange-cobb-douglas.png",
            "market-time-leontief-game-morris.png"} <= names


def test_a_suite_without_welfare_records_neither(tmp_path, capsys):
    suite = tmp_path / "plain.toml"
    suite.write_text(WELFARE.replace("welfare = true\n", "").replace("sizes = [4, 8]", "sizes = [4]"))
    assert main(["run", str(suite), "--results", str(tmp_path), "--in-process", "--no-plot"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    records = read_runs(run_dir)
    assert records and not any("welfare" in r or "trace" in r for r in records)
    assert all(isinstance(r["central_reads"], int) for r in records)


def test_the_welfare_field_must_be_true_or_false(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text(WELFARE.replace("welfare = true", 'welfare = "yes"'))
    assert main(["run", str(suite), "--dry-run"]) == 2
    assert "welfare: expected true or false" in capsys.readouterr().err


def test_the_shipped_market_suite_records_welfare_with_traders_on_every_exchange_ladder():
    suite = load_suite("market")
    assert all(ladder.welfare for ladder in suite.ladders) and len(suite.seeds) >= 5
    exchange = [ladder for ladder in suite.ladders if not ladder.family.startswith("fisher")]
    assert all("bilateral-exchange" in ladder.solvers for ladder in exchange)
    assert {"leontief-game-morris", "leontief-game-svs"} <= {ladder.family for ladder in suite.ladders}


@pytest.mark.slow
def test_verify_prints_welfare_and_gains_against_a_certified_equilibrium(tmp_path, capsys):
    import json
    economy = tmp_path / "e.json"
    assert main(["generate", "exchange-cobb-douglas", "--agents", "5", "--goods", "4", "--seed", "1",
                 "-o", str(economy)]) == 0
    for solver, name in (("newton", "eq.json"), ("bilateral-exchange", "trade.json")):
        capsys.readouterr()
        assert main(["solve", str(economy), "--solver", solver]) == 0
        (tmp_path / name).write_text(capsys.readouterr().out)
    assert main(["verify", str(economy), str(tmp_path / "trade.json"), "--equilibrium", str(tmp_path / "eq.json")]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["equilibrium"] is False and doc["welfare"]["individual_rationality"] == 0.0
    assert doc["welfare"]["pareto_gap"] <= 1e-4 and 0 < doc["welfare"]["gains_worst"] <= doc["welfare"]["gains_mean"]
    assert main(["verify", str(economy), str(tmp_path / "eq.json"), "--equilibrium", str(tmp_path / "trade.json")]) == 2
    assert "--equilibrium: not an equilibrium" in capsys.readouterr().err
    assert main(["verify", str(economy), str(tmp_path / "trade.json")]) == 1
    assert "gains_mean" not in json.loads(capsys.readouterr().out)["welfare"]


@pytest.mark.slow
def test_a_certificate_measure_near_the_float_limit_is_drawn_at_the_cap(swept, tmp_path):
    # the Hahn process's prices can collapse to a corner: a budget measure of 1e304 broke the axis
    from gebench.plot import WORST_DRAWN, plot_accuracy
    _, records = swept
    extreme = [dict(r, certificate={**r["certificate"], "budget": 1.2e304})
               for r in records if not r["exact"] and r.get("certificate")]
    assert extreme and {p.name for p in plot_accuracy(extreme, tmp_path)} >= {"accuracy_size.png", "accuracy_time.png"}
    assert WORST_DRAWN < 1e300


STALLS = '''
import numpy as np
from gebench.solvers import Outcome
from gebench.solvers.traders.bilateral import BilateralExchange


class Stalls(BilateralExchange):
    """A trader that is always still trading at its deadline, its agents at their endowments."""

    name = "stalls"

    def run(self, economy, tol, deadline, seed, yesterday=None):
        m = economy.n_goods
        return Outcome("timeout", np.full(m, 1.0 / m), np.array(economy.endowment, dtype=float), 1)
'''


@pytest.mark.parametrize("welfare", [True, False])
def test_a_trader_at_its_deadline_is_walled_only_outside_a_welfare_suite(welfare, tmp_path, capsys):
    (tmp_path / "stalls.py").write_text(STALLS)
    suite = tmp_path / "stalls.toml"
    suite.write_text('name = "stalls"\ntolerance = 1e-6\ntime_budget = 1.0\nseeds = [0]\n'
                     f'welfare = {str(welfare).lower()}\nsolvers = []\n\n'
                     '[[family]]\nfamily = "exchange-cobb-douglas"\nsizes = [3, 4, 5]\n')
    assert main(["run", str(suite), "--results", str(tmp_path), "--in-process", "--no-plot",
                 "--solver", f"{tmp_path / 'stalls.py'}:Stalls"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    statuses = [r["status"] for r in sorted(read_runs(run_dir), key=lambda r: r["size"])]
    assert statuses == (["timeout"] * 3 if welfare else ["timeout", "beyond_wall", "beyond_wall"])
