"""Days suites (benchmarks/days.py): streams run in day order with each method's state
carried, cut at the day's end, measured against each day's equilibrium; suites, resumes,
figures and the worker that runs a stream."""
import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gebench.days import execute_stream, held_at_end, stream_of
from gebench.days_summary import NOTHING, summarise_days
from gebench.markets import InputError, certify
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.streams import day
from gebench.markets.utilities import demand
from gebench.records import FIELDS, read_runs, run_key
from gebench.runner import make_plan
from gebench.solvers import Outcome, Solver, Yesterday, create, solve
from gebench.solvers.base import Checkpoint
from gebench.suite import FamilyLadder, Regime, parse_suite

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-6
CALM = Regime("calm", sigma=0.02, churn=0.05, shock_rate=0.2)
LADDER = FamilyLadder("exchange-cobb-douglas", (8,), reference=("newton",))


def _ready(spec: str) -> Solver:
    solver = create(spec)
    solver.warm_up()
    return solver


class ClosedForm(Solver):
    """The Cobb-Douglas equilibrium in closed form: a planner that is always right, and that
    can be made to overrun its day by `late` seconds."""

    name = "closed-form"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas"})
    exact = True
    parameters = {"late": 0.0}

    def run(self, economy, tol, deadline, seed):
        if self.params["late"]:
            time.sleep(max(0.0, deadline - time.perf_counter()) + self.params["late"])
        p = cobb_douglas_prices(economy)
        return Outcome("converged", p, demand(economy, p, economy.incomes(p)), 1)


class SlowTrader(ClosedForm):
    """A trader that holds a half-way allocation from the start of its day and reaches the
    equilibrium's only after the day's end."""

    name = "slow-trader"
    exact = False
    trades = True
    parameters = {"late": 0.2}

    def run(self, economy, tol, deadline, seed):
        p = cobb_douglas_prices(economy)
        x = demand(economy, p, economy.incomes(p))
        half = 0.5 * (x + economy.endowment)
        trace = [Checkpoint(time.perf_counter(), 1, p, half)]
        time.sleep(max(0.0, deadline - time.perf_counter()) + self.params["late"])
        return Outcome("converged", p, x, 2, trace=trace)


class Diary(Solver):
    """A carrier whose answer depends on everything it is handed: it starts a damped price
    iteration from yesterday's prices and counts, in its state, the days and the arrivals it
    was told of; its iteration count reports both, so that any difference in what it was
    handed shows in its records."""

    name = "diary"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas"})
    carries = True

    def run(self, economy, tol, deadline, seed, yesterday=None):
        state = {} if yesterday is None else yesterday.state
        p = (np.full(economy.n_goods, 1.0 / economy.n_goods) if yesterday is None or yesterday.prices is None
             else np.array(yesterday.prices))
        target = cobb_douglas_prices(economy)
        p = 0.5 * (p + target / target.sum())
        days = state.get("days", 0) + 1
        arrivals = state.get("arrivals", 0) + (0 if yesterday is None else len(yesterday.arrived))
        day_seen = 0 if yesterday is None else yesterday.day
        return Outcome("max_iter", p, demand(economy, p, economy.incomes(p)),
                       1_000_000 * days + 1000 * arrivals + day_seen,
                       state={"days": days, "arrivals": arrivals})


_REFERENCE = {}


def _stream(names, solvers, days=6, regime=CALM, budget=5.0, ladder=LADDER):
    if "newton" not in _REFERENCE:
        _REFERENCE["newton"] = _ready("newton")
    return execute_stream({**_REFERENCE, **solvers}, ladder, 8, 3, regime, days, tuple(names), TOL, budget, 30.0)


# --- the suite file -------------------------------------------------------------------------

DAYS_SUITE = """
name = "days-test"
tolerance = 1e-6
time_budget = 1.0
seeds = [0, 1]

[days]
days = 4
[[days.regime]]
name = "calm"
sigma = 0.02
churn = 0.05
[[days.regime]]
name = "turbulent"
sigma = 0.2
churn = 0.1
shock_rate = 0.5

[[family]]
family = "exchange-cobb-douglas"
sizes = [6]
reference = ["newton"]
solvers = ["newton", "tatonnement", "bilateral-exchange"]
"""


def test_a_days_suite_reads_its_days_regimes_and_references():
    suite = parse_suite(DAYS_SUITE)
    assert suite.days.days == 4 and [r.name for r in suite.days.regimes] == ["calm", "turbulent"]
    assert suite.days.regimes[1] == Regime("turbulent", 0.2, 0.1, 0.5)
    assert suite.ladders[0].reference == ("newton",)


@pytest.mark.parametrize("change, field", [
    (("reference = [\"newton\"]\n", ""), "family[0]: reference"),
    (("days = 4", "days = 0"), "days: days"),
    (("sigma = 0.02\n", ""), "regime[0]: sigma: missing"),
    (("name = \"turbulent\"", "name = \"calm\""), "regime[1]: name"),
    (("churn = 0.05\n", "churn = 0.05\nspeed = 1\n"), "regime[0]: speed: unknown field"),
    (("sizes = [6]\n", "sizes = [6]\nrho = 0.5\n"), "family[0]: rho: not in a days suite"),
    (("seeds = [0, 1]\n", "seeds = [0, 1]\nwelfare = true\n"), "welfare"),
])
def test_a_days_suite_names_the_file_and_field_it_refuses(change, field):
    with pytest.raises(InputError, match=f"days.toml: .*{re.escape(field)}"):
        parse_suite(DAYS_SUITE.replace(*change), "days.toml")


def test_a_reference_outside_a_days_suite_is_refused():
    text = 'name = "x"\ntolerance = 1e-6\ntime_budget = 1.0\n[[family]]\nfamily = "fisher-ces"\nsizes = [4]\n' \
           'reference = ["fisher-ipm"]\n'
    with pytest.raises(InputError, match="reference: only a days suite"):
        parse_suite(text, "x.toml")


def test_a_days_suite_declines_a_method_it_cannot_cut_at_the_day_s_end():
    class Uninterruptible(ClosedForm):
        name = "uninterruptible"
        interruptible = False
    plan = make_plan(parse_suite(DAYS_SUITE), [Uninterruptible()])
    assert "cannot stop at its deadline" in plan.declined["exchange-cobb-douglas"]["uninterruptible"]
    assert "uninterruptible" not in plan.applicable["exchange-cobb-douglas"]
    assert len(plan.runs) == 2 * 2 * 4 * 3        # regimes x seeds x days x methods
    assert len(set(plan.runs)) == len(plan.runs)


# --- one stream -------------------------------------------------------------------------------

def test_a_stream_gives_the_same_records_twice():
    solvers = {name: _ready(name) for name in ("newton", "tatonnement", "bilateral-exchange")}
    first, second = (_stream(solvers, solvers) for _ in range(2))
    assert len(first) == 6 * 3
    timeless = [{k: v for k, v in r.items() if k != "seconds"} for r in first]
    assert timeless == [{k: v for k, v in r.items() if k != "seconds"} for r in second]
    assert [r["day"] for r in first] == [t for t in range(6) for _ in range(3)]
    assert sum(r["entrants"] for r in first) > 0          # the stream churned: the test covers arrivals


def test_no_day_delivers_more_than_all_its_gains_and_an_equilibrium_delivers_them_all():
    solvers = {name: _ready(name) for name in ("newton", "tatonnement", "bilateral-exchange", "hahn-process")}
    turbulent = Regime("turbulent", sigma=0.2, churn=0.1, shock_rate=0.5)
    records = _stream(solvers, solvers, days=8, regime=turbulent)
    shares = [r["gains_share"] for r in records if r["feasible"]]
    assert len(shares) == len(records) and max(shares) <= 1 + 1e-6
    converged = [r["gains_share"] for r in records if r["status"] == "converged"]
    assert converged and min(converged) > 1 - 1e-4
    traded = [r["gains_share"] for r in records if r["solver"] == "bilateral-exchange"]
    assert max(traded) < 1 - 1e-6 and min(traded) > 0       # traders hold a part of the gains, not all


def test_carried_state_is_the_state_handed_in_explicitly():
    """The harness's day t is `solve` on the day's economy with a `Yesterday` built by hand
    from day t - 1's result: the same prices, allocation, state, arrivals and day number."""
    diary = Diary()
    records = _stream(["diary"], {"diary": diary}, days=6)
    stream = stream_of(LADDER, 8, 3, CALM, 6)
    yesterday = None
    for t in range(6):
        economy = day(stream, t)
        result = solve(Diary(), economy, TOL, 5.0, 3, yesterday=yesterday)
        assert records[t]["iterations"] == result.iterations, f"day {t}"
        assert records[t]["certificate"] == result.certificate.to_dict()
        tomorrow = day(stream, t + 1) if t < 5 else None
        arrived = tuple(tomorrow.meta["entrants"]) if tomorrow is not None else ()
        yesterday = Yesterday(result.prices, result.allocation, result.state, economy, False, arrived, t + 1)
    assert records[-1]["iterations"] // 1_000_000 == 6          # six days remembered
    assert (records[-1]["iterations"] // 1000) % 1000 > 0       # and the arrivals it was told of


def test_a_method_that_does_not_carry_is_handed_nothing():
    solvers = {"closed-form": ClosedForm()}
    records = _stream(["closed-form"], solvers, days=3)
    assert [r["carried"] for r in records] == [False] * 3
    assert all(r["gains_share"] == pytest.approx(1.0, abs=1e-9) for r in records)


def test_a_planner_that_overruns_the_day_is_cut_and_delivers_nothing():
    late = ClosedForm(late=0.1)
    records = _stream(["closed-form"], {"closed-form": late}, days=2, budget=0.2)
    for r in records:
        assert r["status"] == "timeout" and r["cut"] and not r["delivered"]
        assert "after the day's end" in r["message"] and "converged" in r["message"]
        assert r["gains_share"] == 0.0 and r["individual_rationality"] == 0.0
    assert summarise_days([{**r, "ladder": "l", "regime": "calm", "size": 8, "seed": 3} for r in records])[0][
        "nothing"] == 2


def test_a_trader_that_overruns_the_day_delivers_what_it_held_at_the_day_s_end():
    records = _stream(["slow-trader"], {"slow-trader": SlowTrader()}, days=2, budget=0.2)
    for r in records:
        assert r["cut"] and r["delivered"] and r["status"] == "timeout"
        assert NOTHING < r["gains_share"] < 1 - 1e-3         # the half-way point, not the late equilibrium


def test_held_at_end_follows_the_rules_of_the_day():
    economy = day(stream_of(LADDER, 8, 3, CALM, 2), 1)
    on_time = solve(ClosedForm(), economy, TOL, 5.0)
    allocation, delivered, cut = held_at_end(ClosedForm(), on_time, 5.0, economy)
    assert delivered and not cut and allocation is on_time.allocation
    late = replace(on_time, seconds=6.0)
    allocation, delivered, cut = held_at_end(ClosedForm(), late, 5.0, economy)
    assert cut and not delivered and np.array_equal(allocation, economy.endowment)
    assert certify(economy, on_time.prices, on_time.allocation).within(TOL)


# --- the command, its worker, resume ----------------------------------------------------------

def _gebench(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gebench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.slow
def test_streams_on_a_dask_cluster_record_what_local_workers_record(tmp_path):
    pytest.importorskip("distributed")
    from gebench.runner import run_suite
    text = DAYS_SUITE.replace("seeds = [0, 1]", "seeds = [0]").replace("days = 4", "days = 3")
    suite = parse_suite(text[:text.index("[[days.regime]]\nname = \"turbulent\"")] + text[text.index("[[family]]"):])
    local = read_runs(run_suite(suite, tmp_path / "local", progress=False, workers=2))
    dasked = read_runs(run_suite(suite, tmp_path / "dask", progress=False, workers=2, executor="dask"))
    assert len(dasked) == len(local) == 3 * 3 and all(r["host"] for r in dasked)

    def timeless(r):
        return (run_key(r), r["status"], r["delivered"], round(r["gains_share"], 9), r["iterations"])
    assert sorted(map(timeless, dasked)) == sorted(map(timeless, local))


@pytest.fixture(scope="module")
def days_run(tmp_path_factory):
    where = tmp_path_factory.mktemp("days")
    (where / "days.toml").write_text(DAYS_SUITE)
    done = _gebench("run", str(where / "days.toml"), "--results", str(where / "results"), "--workers", "2")
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def test_a_days_suite_runs_end_to_end_with_its_figures_and_report(days_run):
    records = read_runs(days_run)
    assert set().union(*records) <= set(FIELDS)            # every field a day's record has is documented
    assert len(records) == 2 * 2 * 4 * 3 and len({run_key(r) for r in records}) == len(records)
    assert {r["regime"] for r in records} == {"calm", "turbulent"}
    assert all(r["reference"] == "newton" for r in records)
    for name in ("days-calm", "days-turbulent", "days-summary-calm", "days-summary-turbulent"):
        assert (days_run / f"{name}.png").is_file()
    assert not (days_run / "scaling.png").exists()          # single-economy figures are not drawn from days
    assert "What each day delivered" in (days_run / "report.html").read_text()
    table = _gebench("results", str(days_run))
    assert table.returncode == 0 and "| exchange-cobb-douglas | turbulent | 6 | bilateral-exchange |" in table.stdout


def test_a_resumed_days_run_records_only_the_missing_days(days_run, tmp_path):
    copy = tmp_path / days_run.name
    subprocess.run(["cp", "-r", str(days_run), str(copy)], check=True)
    lines = (copy / "runs.jsonl").read_text().splitlines(keepends=True)
    kept = lines[:-7]
    (copy / "runs.jsonl").write_text("".join(kept))
    done = _gebench("run", "--resume", str(copy), "--no-plot")
    assert done.returncode == 0, done.stderr
    records = read_runs(copy)
    assert len(records) == len(lines) and len({run_key(r) for r in records}) == len(records)
    before = {run_key(json.loads(line)): json.loads(line) for line in lines}
    timeless = ("seconds", "run_id", "status", "message", "cut", "delivered", "gains_share", "gains_worst",
                "pareto_gap", "individual_rationality", "iterations", "certificate")
    for r in records:        # the same stream again: the same economies, methods and references
        assert {k: v for k, v in r.items() if k not in timeless} == \
               {k: v for k, v in before[run_key(r)].items() if k not in timeless}
        if "timeout" not in (r["status"], before[run_key(r)]["status"]):
            assert r["gains_share"] == pytest.approx(before[run_key(r)]["gains_share"], abs=1e-9)


PLUGIN = '''
import time

from gebench.solvers import Outcome, Solver


class Stuck(Solver):
    """Takes every exchange economy, and never looks at its deadline."""

    name = "stuck"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas"})

    def run(self, economy, tol, deadline, seed):
        time.sleep(3600)
        return Outcome("failed")
'''


@pytest.mark.slow
def test_a_stream_whose_worker_overstays_is_recorded_day_by_day(tmp_path):
    (tmp_path / "stuck.py").write_text(PLUGIN)
    suite = DAYS_SUITE.replace("time_budget = 1.0", "time_budget = 0.5").replace("seeds = [0, 1]", "seeds = [0]")
    suite = suite.replace("days = 4", "days = 2\nreference_budget = 0.5")
    suite = suite[:suite.index("[[days.regime]]\nname = \"turbulent\"")] + suite[suite.index("[[family]]"):]
    suite = suite.replace('solvers = ["newton", "tatonnement", "bilateral-exchange"]', 'solvers = ["newton"]')
    (tmp_path / "days.toml").write_text(suite)
    started = time.perf_counter()
    done = _gebench("run", str(tmp_path / "days.toml"), "--results", str(tmp_path / "results"), "--solver",
                    f"{tmp_path / 'stuck.py'}:Stuck", "--no-plot")
    assert done.returncode == 0, done.stderr
    records = read_runs(Path(done.stdout.strip().splitlines()[-1]))
    assert len(records) == 2 * 2 and all(r["status"] == "timeout" for r in records)
    assert all("the stream's killed after" in r["message"] for r in records)
    # one stream, killed at 2 days x (2 methods x 1.5 x 0.5 s + 0.5 s of reference) + 2 s
    assert time.perf_counter() - started < 2 * 2.0 + 2 + 60


def test_the_summary_counts_unknown_days_apart_and_days_without_a_share_as_nothing():
    base = {"ladder": "l", "regime": "calm", "size": 8, "size_name": "agents", "seed": 0, "solver": "m",
            "status": "converged", "seconds": 0.1, "central_reads": 5}
    records = [{**base, "day": 0, "reference": "newton", "gains_share": 1.0},
               {**base, "day": 1, "reference": None, "gains_share": None},          # no equilibrium: unknown
               {**base, "day": 2, "reference": "newton", "gains_share": None},      # nothing that exists
               {**base, "day": 3, "status": "failed", "seconds": None, "central_reads": None}]  # a lost stream's day
    row = summarise_days(records)[0]
    assert (row["days"], row["unknown"], row["nothing"]) == (4, 1, 2)
    assert row["mean"] == pytest.approx(1 / 3) and row["worst"] == 0.0
