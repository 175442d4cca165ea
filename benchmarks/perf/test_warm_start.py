"""pytest-benchmark: carried planners against cold ones on the same days of an economy stream.

    pytest benchmarks/perf/test_warm_start.py --benchmark-only --benchmark-json results/warm-start.json

Each benchmark solves days 1 to 10 of a 320-agent stream (sigma = 0.05, no churn), one after
the other, to 1e-8: newton on Cobb-Douglas exchange, homotopy on Cobb-Douglas and on CES
exchange (rho = 0.5), fisher-ipm on a CES Fisher market (rho = 0.5). "cold" runs every day from
the solver's usual start; "carried" (``carry=True``) starts each day from its own run of the
day before, day 1 from its run of day 0, made once beforehand. A round is the ten days, so the
two modes face the same days in one run and their ratio is read on one machine state.

extra_info holds, per day of the last round, the seconds inside `run` and the iterations (newton: excess-demand
evaluations; homotopy: corrector Newton steps; fisher-ipm: interior-point Newton steps), their
totals, and for the carried benchmark the ratios of its totals to the cold one's in this run
(seconds: of the last rounds' totals). Homotopy on Cobb-Douglas agents does the same work in
both modes, so its seconds ratio shows how much the machine's load moves a ratio.
The carried run must certify every day at the cold run's prices (within 1e-6: these families'
equilibria are unique) with fewer iterations in total, except homotopy on Cobb-Douglas agents,
whose cold start is the equilibrium itself and whose carried run therefore takes the cold path.

With --benchmark-disable these are plain tests on 40 agents and four days.
"""
import numpy as np
import pytest

from gebench.days import handed_on, kept_for_tomorrow
from gebench.markets.streams import Stream, stream_days
from gebench.solvers import solve
from gebench.solvers.interior.fisher_ipm import FisherInteriorPoint
from gebench.solvers.planners.homotopy import Homotopy
from gebench.solvers.planners.newton import Newton
from gebench.solvers.testing import warmed

N, DAYS = 320, 10
SMALL, SMALL_DAYS = 40, 4
TOL = 1e-8
CASES = {"newton cobb-douglas exchange": (Newton, "exchange-cobb-douglas", 3),      # solver, family, rounds
         "homotopy cobb-douglas exchange": (Homotopy, "exchange-cobb-douglas", 1),
         "homotopy ces exchange": (Homotopy, "exchange-ces", 1),
         "fisher-ipm ces fisher": (FisherInteriorPoint, "fisher-ces", 3)}
_cold: dict[str, dict] = {}       # case -> the cold benchmark's totals and prices in this run
_days: dict[tuple, list] = {}     # (family, size, days) -> the stream's economies


def days_of(family: str, size: int, days: int) -> list:
    key = (family, size, days)
    if key not in _days:
        _days[key] = list(stream_days(Stream(family, size=size, seed=0, sigma=0.05, days=days + 1)))
    return _days[key]


def run_days(solver, economies: list, first=None) -> list:
    """Solve days 1.. of `economies` in order; a carried solver starts day 1 from `first`
    (its result on day 0) and each later day from its result the day before."""
    results, previous = [], first
    for before, economy in zip(economies, economies[1:]):
        yesterday = None if previous is None else handed_on(kept_for_tomorrow(previous, before, before.meta["day"]),
                                                             economy)
        previous = solve(solver, economy, TOL, 600.0, yesterday=yesterday)
        results.append(previous)
    return results


def record(benchmark, results) -> dict:
    for result in results:
        assert result.status == "converged", result.message
    totals = {"seconds": float(sum(r.seconds for r in results)), "iterations": int(sum(r.iterations for r in results))}
    benchmark.extra_info["day_seconds"] = [float(r.seconds) for r in results]
    benchmark.extra_info["day_iterations"] = [int(r.iterations) for r in results]
    benchmark.extra_info["total_seconds"] = totals["seconds"]
    benchmark.extra_info["total_iterations"] = totals["iterations"]
    return totals


def _case(benchmark, case: str) -> tuple:
    """(the solver class, the stream's economies, rounds) of a case, at the benchmark's size
    (a small one when benchmarks are disabled), with the case's group."""
    cls, family, rounds = CASES[case]
    size, days = (N, DAYS) if not benchmark.disabled else (SMALL, SMALL_DAYS)
    benchmark.group = f"warm start {case}"
    return cls, days_of(family, size, days), rounds


@pytest.mark.parametrize("case", list(CASES))
def test_cold(benchmark, case):
    cls, economies, rounds = _case(benchmark, case)
    solver = warmed(cls)
    results = benchmark.pedantic(run_days, args=(solver, economies), rounds=rounds, iterations=1, warmup_rounds=0)
    _cold[case] = {**record(benchmark, results), "prices": [r.prices for r in results]}


@pytest.mark.parametrize("case", list(CASES))
def test_carried(benchmark, case):
    cls, economies, rounds = _case(benchmark, case)
    solver = warmed(cls, carry=True)
    first = solve(solver, economies[0], TOL, 600.0)
    results = benchmark.pedantic(run_days, args=(solver, economies, first), rounds=rounds, iterations=1,
                                 warmup_rounds=0)
    totals = record(benchmark, results)
    benchmark.extra_info["starts"] = [r.extra.get("start") for r in results]
    if case not in _cold:
        return                                    # run alone (-k carried): no cold run to compare with
    cold = _cold[case]
    for day, (p, q) in enumerate(zip(cold["prices"], (r.prices for r in results)), start=1):
        assert np.abs(p - q).max() <= 1e-6, f"{case}: day {day}: carried prices differ from cold ones"
    benchmark.extra_info["iterations_ratio"] = totals["iterations"] / cold["iterations"]
    benchmark.extra_info["seconds_ratio"] = totals["seconds"] / cold["seconds"]
    if case == "homotopy cobb-douglas exchange":
        assert totals["iterations"] == cold["iterations"]
    else:
        assert totals["iterations"] < cold["iterations"], (totals["iterations"], cold["iterations"])
