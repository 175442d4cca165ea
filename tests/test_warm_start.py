"""Carried planners on economy streams: newton, homotopy and fisher-ipm started from yesterday
find today's equilibrium with fewer iterations than cold, and the lagged planner trades at last
night's prices, rationed to what exists."""
import time
from dataclasses import replace

import numpy as np
import pytest

from gebench.days import handed_on, kept_for_tomorrow, stream_of
from gebench.markets import certify, make_economy
from gebench.markets.streams import Stream, day, stream_days
from gebench.solvers import Yesterday, solve
from gebench.solvers.interior.fisher_ipm import FisherInteriorPoint
from gebench.solvers.planners.homotopy import Homotopy
from gebench.solvers.planners.lagged import LaggedPlanner, no_trade, rationed
from gebench.solvers.planners.newton import Newton
from gebench.solvers.testing import check_solver, warmed
from gebench.suite import FamilyLadder, Regime

TOL = 1e-8
CALM = dict(size=20, seed=0, sigma=0.05, days=5)
CD_EXCHANGE = Stream("exchange-cobb-douglas", **CALM)
CES_EXCHANGE = Stream("exchange-ces", **CALM)
CES_FISHER = Stream("fisher-ces", **CALM)


def next_yesterday(result, economy, today) -> Yesterday:
    """What the harness hands a carried solver on `today` after `result` on `economy`."""
    return handed_on(kept_for_tomorrow(result, economy, economy.meta["day"]), today)


def carried_days(solver, stream: Stream) -> list:
    """(economy, result) for every day of the stream, each day run from the last."""
    out, previous = [], None
    for economy in stream_days(stream):
        yesterday = None if previous is None else next_yesterday(previous[1], previous[0], economy)
        result = solve(solver, economy, TOL, 60.0, yesterday=yesterday)
        out.append((economy, result))
        previous = (economy, result)
    return out


def cold_and_carried(cls, stream: Stream):
    cold, carried = warmed(cls), warmed(cls, carry=True)
    warm = carried_days(carried, stream)
    return [(economy, solve(cold, economy, TOL, 60.0), result) for economy, result in warm]


CARRIED = [(Newton, CD_EXCHANGE), (Newton, CES_EXCHANGE), (Newton, CES_FISHER),
           (Homotopy, CES_EXCHANGE), (Homotopy, CES_FISHER), (FisherInteriorPoint, CES_FISHER)]
IDS = [f"{cls.name}-{stream.family}" for cls, stream in CARRIED]


@pytest.mark.parametrize("cls, stream", CARRIED, ids=IDS)
def test_carried_runs_certify_the_cold_runs_equilibrium_with_fewer_iterations(cls, stream):
    days = cold_and_carried(cls, stream)
    for economy, cold, warm in days:
        day = economy.meta["day"]
        assert cold.status == warm.status == "converged", (day, cold.message, warm.message)
        assert np.abs(cold.prices - warm.prices).max() <= 1e-6, day     # these families' equilibria are unique
        if day == 0:                     # no yesterday: the carried run is the cold one
            assert warm.iterations == cold.iterations and np.array_equal(warm.prices, cold.prices)
        else:
            assert warm.extra["start"] not in ("uniform", "cold"), (day, warm.extra["start"])
            assert warm.iterations < cold.iterations, (day, warm.iterations, cold.iterations)


def test_homotopy_carries_nothing_where_its_cold_start_is_the_equilibrium():
    """On Cobb-Douglas agents alone the cold path starts at the equilibrium (a linear system):
    the carried run takes it, and costs what the cold one does."""
    for economy, cold, warm in cold_and_carried(Homotopy, CD_EXCHANGE):
        assert warm.status == "converged" and warm.extra["start"] == "cold"
        assert warm.iterations == cold.iterations


def test_homotopy_follows_the_cold_path_when_yesterday_was_not_certified():
    solver = warmed(Homotopy, carry=True)
    yesterday_economy, today = list(stream_days(CES_EXCHANGE))[:2]
    first = solve(solver, yesterday_economy, TOL, 60.0)
    uncertified = Yesterday(first.prices, first.allocation, {}, yesterday_economy, False, (), 1)
    result = solve(solver, today, TOL, 60.0, yesterday=uncertified)
    assert result.status == "converged" and result.extra["start"] == "cold"
    certified = solve(solver, today, TOL, 60.0, yesterday=next_yesterday(first, yesterday_economy, today))
    assert certified.extra["start"] == "yesterday" and certified.iterations < result.iterations


def test_carried_runs_through_churn_certify():
    stream = Stream("exchange-ces", size=20, seed=1, sigma=0.05, churn=0.1, days=4)
    for cls in (Newton, Homotopy):
        for economy, result in carried_days(warmed(cls, carry=True), stream):
            assert result.status == "converged", (cls.name, economy.meta["day"], result.message)
    fisher = Stream("fisher-ces", size=20, seed=1, sigma=0.05, churn=0.1, shock_rate=0.5, days=4)
    for economy, result in carried_days(warmed(FisherInteriorPoint, carry=True), fisher):
        assert result.status == "converged", (economy.meta["day"], result.message)


def test_fisher_ipm_takes_a_kept_iterate_inside_the_neighbourhood_on_a_day_like_yesterday():
    """With no drift today's program is yesterday's, and the most advanced kept iterate finishes
    in a few steps, on linear markets too, where a drifting day starts cold."""
    still = Stream("fisher-linear", size=20, seed=0, sigma=0.0, days=2)
    (_, cold0, _), (_, cold1, warm1) = cold_and_carried(FisherInteriorPoint, still)
    assert float(warm1.extra["start"]) <= 1e-4 and warm1.iterations <= cold1.iterations // 2
    drifting = Stream("fisher-linear", size=20, seed=0, sigma=0.05, days=2)
    _, (_, _, warm) = cold_and_carried(FisherInteriorPoint, drifting)
    assert warm.extra["start"] == "cold" and warm.status == "converged"


@pytest.mark.parametrize("cls", [Newton, Homotopy, FisherInteriorPoint])
def test_carried_planners_pass_the_kit(cls):
    check_solver(cls, carry=True)


# --- the lagged planner ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lagged():
    return warmed(LaggedPlanner)


def feasible(economy, x):
    supply = economy.total_supply
    assert x.min() >= 0 and np.all(x.sum(axis=0) <= supply * (1 + 1e-12))
    if economy.model == "exchange":          # what is not sold stays with its owner: nothing is lost
        assert np.allclose(x.sum(axis=0), supply, rtol=1e-12)


@pytest.mark.parametrize("family", ["exchange-cobb-douglas", "exchange-ces", "fisher-ces", "exchange-linear"])
def test_lagged_planner_trades_at_last_nights_prices_feasibly(lagged, family):
    stream = Stream(family, size=12, seed=0, sigma=0.05, churn=0.1, days=4)
    days = carried_days(lagged, stream)
    economy, first = days[0]
    assert first.prices is None and first.iterations == 0 and first.status != "converged"
    assert "prices" in first.state and first.state["fresh"]
    for (_, before), (economy, result) in zip(days, days[1:]):
        planned = before.state["prices"]
        assert np.allclose(result.prices, planned / planned.sum(), rtol=0, atol=1e-15)
        feasible(economy, result.allocation)
        assert result.extra["plan_status"] == "converged"


def test_lagged_planner_keeps_the_endowments_without_prices(lagged):
    for family in ("exchange-ces", "fisher-ces"):
        economy = next(stream_days(Stream(family, size=8, seed=2)))
        outcome = lagged.run(economy, TOL, time.perf_counter() + 60.0, 0, yesterday=None)
        assert outcome.prices is None and np.array_equal(outcome.allocation, no_trade(economy))
        if economy.model == "fisher":
            assert not outcome.allocation.any()


@pytest.mark.parametrize("family", ["exchange-cobb-douglas", "exchange-ces", "fisher-ces", "fisher-linear"])
def test_lagged_planner_delivers_the_equilibrium_from_day_one_without_drift(lagged, family):
    days = carried_days(lagged, Stream(family, size=12, seed=0, sigma=0.0, days=3))
    for economy, result in days[1:]:
        assert result.status == "converged" and result.certificate.worst <= TOL, result.message
        assert result.extra["unserved"] <= 1e-6
    drifting = carried_days(lagged, Stream(family, size=12, seed=0, sigma=0.05, days=3))
    assert all(result.status != "converged" for _, result in drifting[1:])     # the cost of the lag


def test_short_side_rationing_serves_the_short_side_and_leaves_the_rest_with_its_owner():
    # at p = (1/4, 3/4) agent 0 sells its unit of good 0 for 1/3 of good 1; agents 1 and 2 each want
    # to buy 1.5 of good 0 and sell 1/2 of good 1: both markets are rationed, on opposite sides
    economy = make_economy("exchange", "cobb-douglas", np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
                           endowment=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    x, unserved = rationed(economy, np.array([0.25, 0.75]))
    assert np.allclose(x, [[0.0, 1 / 3], [0.5, 5 / 6], [0.5, 5 / 6]])     # the short sides are served in full
    assert np.array_equal(x.sum(axis=0), economy.total_supply) and unserved == pytest.approx(2 / 3)
    at_equilibrium, none = rationed(economy, np.array([0.5, 0.5]))
    assert np.allclose(at_equilibrium, [[0.0, 1.0], [0.5, 0.5], [0.5, 0.5]]) and none == pytest.approx(0.0)
    # Fisher: good 0 is asked for three times over, good 1 only a third: buyers of good 0 get a third each
    fisher = make_economy("fisher", "cobb-douglas", np.array([[1.0, 1.0], [1.0, 0.0]]), budget=np.array([1.0, 1.0]))
    y, unserved = rationed(fisher, np.array([0.25, 0.75]))
    assert np.allclose(y, [[1 / 3, 1 / 3], [2 / 3, 0.0]]) and unserved == pytest.approx(2 / 3)


def test_a_night_whose_plan_fails_keeps_the_older_prices(lagged):
    yesterday_economy, today = list(stream_days(CES_EXCHANGE))[:2]
    first = solve(lagged, yesterday_economy, TOL, 60.0)
    handed = next_yesterday(first, yesterday_economy, today)
    late = lagged.run(today, TOL, time.perf_counter() - 1.0, 0, yesterday=handed)     # no time left to plan
    assert late.extra["plan_status"] == "timeout"
    assert np.array_equal(late.state["prices"], first.state["prices"]) and not late.state["fresh"]
    assert np.array_equal(late.prices, first.state["prices"])


def test_the_lagged_planners_executed_point_is_judged_by_the_certificate(lagged):
    yesterday_economy, today = list(stream_days(CES_EXCHANGE))[:2]
    first = solve(lagged, yesterday_economy, TOL, 60.0)
    result = solve(lagged, today, TOL, 60.0, yesterday=next_yesterday(first, yesterday_economy, today))
    again = certify(today, result.prices, result.allocation)
    assert again.worst == result.certificate.worst > TOL


def test_outside_a_stream_the_lagged_planner_carries_out_its_plan_the_same_day(lagged):
    economy = make_economy("exchange", "ces", np.array([[3.0, 1.0], [1.0, 3.0]]), rho=0.5,
                           endowment=np.array([[1.0, 0.2], [0.2, 1.0]]))
    result = solve(lagged, economy, TOL, 60.0)
    assert result.status == "converged" and result.iterations == 1 and "prices" in result.state
    first_day = replace(economy, meta={"day": 0})
    assert solve(lagged, first_day, TOL, 60.0).prices is None          # a stream's first day: no prices yet


def test_newton_falls_back_on_powells_method_when_broydens_steps_fail():
    solver = warmed(Newton, carry=True)
    yesterday_economy, today = list(stream_days(CES_EXCHANGE))[:2]
    first = solve(solver, yesterday_economy, TOL, 60.0)
    assert first.state["jacobian"].shape == (today.n_goods - 1,) * 2
    handed = next_yesterday(first, yesterday_economy, today)
    good = solve(solver, today, TOL, 60.0, yesterday=handed)
    wrong = replace(handed, state={"jacobian": -np.eye(today.n_goods - 1)})       # descent the wrong way
    fallback = solve(solver, today, TOL, 60.0, yesterday=wrong)
    assert good.status == fallback.status == "converged"
    assert good.extra["broyden"] == good.iterations
    assert good.iterations < fallback.extra["broyden"] + today.n_goods - 1 <= fallback.iterations


def test_a_carried_newton_whose_start_leads_nowhere_solves_the_day_from_the_cold_start():
    """On this turbulent day (a shock and arrivals), Powell's method from yesterday's prices
    stops without an equilibrium; the day is then solved from the cold start, as cold Newton
    solves it, instead of being lost."""
    stream = stream_of(FamilyLadder("ces-complements", (20,)), 20, 0, Regime("turbulent", 0.1, 0.05, 0.1), 3)
    carried = warmed("newton[carry=True]")
    yesterday = None
    for t in range(3):
        economy = day(stream, t)
        if yesterday is not None:
            yesterday = handed_on(yesterday, economy)
        result = solve(carried, economy, 1e-6, 60.0, 0, yesterday=yesterday)
        assert result.status == "converged", f"day {t}: {result.message}"
        yesterday = kept_for_tomorrow(result, economy, t)
    assert result.extra.get("carried_start_failed") == "max_iter" and result.extra["start"] == "uniform"
