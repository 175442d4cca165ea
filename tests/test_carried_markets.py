"""Markets that carry what they learned from one day of an economy stream to the next: the
auctioneers keep their prices (tatonnement) or bids (proportional response) and so need fewer
rounds after a small drift; the traders start every day from the day's endowments and keep
what they learned (the Hahn process its prices, bilateral exchange its partners and revealed
prices), and their every point is feasible and individually rational."""
import copy

import numpy as np
import pytest

from gebench.markets.streams import Stream, stream_days
from gebench.markets.utilities import log_utility_row
from gebench.solvers import Yesterday, solve
from gebench.solvers.auctioneers.proportional_response import ProportionalResponse
from gebench.solvers.auctioneers.tatonnement import Tatonnement
from gebench.solvers.testing import CHECKS, solver_checks, warmed
from gebench.solvers.traders.bilateral import BilateralExchange, kept_partners
from gebench.solvers.traders.hahn import HahnProcess

TOL = 1e-6
DRIFTING = Stream("exchange-cobb-douglas", size=20, seed=0, sigma=0.02, days=6)
FISHER = Stream("fisher-ces", size=20, seed=0, sigma=0.02, days=6)
EXCHANGE_CES = Stream("exchange-ces", size=20, seed=0, sigma=0.02, days=6)
CHURNING = Stream("exchange-cobb-douglas", size=20, seed=0, sigma=0.02, days=5, churn=0.1, shock_rate=0.3)


def yesterday_of(result, economy, today) -> Yesterday:
    """The `Yesterday` a day-by-day harness hands on: yesterday's result, today's arrivals."""
    return Yesterday(result.prices, result.allocation, dict(result.state), economy,
                     result.status == "converged", tuple(today.meta["entrants"]), today.meta["day"])


def days_carried(cls, stream, tol=TOL, **params):
    """(economy, its Yesterday, the carried run's result) for each day of the stream, each day
    carried from the carried run of the day before."""
    solver = warmed(cls, carry=True, **params)
    before, out = None, []
    for economy in stream_days(stream):
        yesterday = None if before is None else yesterday_of(before[1], before[0], economy)
        result = solve(solver, economy, tol, 60.0, 0, yesterday=yesterday)
        out.append((economy, yesterday, result))
        before = economy, result
    return out


def rounds_to(cls, economy, tol, yesterday=None, carry=False, most=200):
    """The fewest rounds after which the run's point certifies within tol (a run stopped by
    max_iter = k is certified after exactly k rounds): the count the check schedule does not round."""
    for k in range(1, most + 1):
        result = solve(cls(max_iter=k, carry=carry), economy, tol, 60.0, 0, yesterday=yesterday)
        if result.status == "converged":
            return result.iterations
    raise AssertionError(f"{cls.name} did not reach {tol:g} in {most} rounds on day {economy.meta['day']}")


def calm(economy) -> bool:
    return not economy.meta["entrants"] and economy.meta["shock"] is None


# --- auctioneers: yesterday's prices or bids save rounds ------------------------------------------

@pytest.mark.parametrize("cls, stream", [(Tatonnement, DRIFTING), (Tatonnement, FISHER),
                                         (ProportionalResponse, FISHER), (ProportionalResponse, EXCHANGE_CES)],
                         ids=["tatonnement-exchange", "tatonnement-fisher", "pr-fisher", "pr-exchange"])
def test_a_carried_auctioneer_needs_fewer_rounds_than_a_cold_one_on_calm_days(cls, stream):
    warmed(cls)
    for economy, yesterday, result in days_carried(cls, stream)[1:]:
        assert calm(economy)
        assert result.status == "converged", result.message
        cold = solve(cls(), economy, TOL, 60.0, 0)
        assert cold.status == "converged"
        assert result.iterations < cold.iterations, (economy.meta["day"], result.iterations, cold.iterations)
        exact_cold = rounds_to(cls, economy, TOL)
        exact_carried = rounds_to(cls, economy, TOL, yesterday, carry=True)
        assert exact_carried < exact_cold, (economy.meta["day"], exact_carried, exact_cold)


@pytest.mark.parametrize("cls, family", [(Tatonnement, "exchange-cobb-douglas"), (Tatonnement, "fisher-ces"),
                                         (ProportionalResponse, "fisher-ces"),
                                         (ProportionalResponse, "exchange-ces")])
def test_on_the_same_economy_every_day_a_carried_auctioneer_stops_at_once(cls, family):
    same = Stream(family, size=20, seed=1, sigma=0.0, churn=0.0, days=4)
    days = days_carried(cls, same)
    assert days[0][2].status == "converged" and days[0][2].iterations > 0
    for economy, yesterday, result in days[1:]:
        assert yesterday.certified
        assert result.status == "converged" and result.iterations == 0


def test_carried_proportional_response_keeps_its_bids_on_a_sparse_stream_with_arrivals():
    stream = Stream("fisher-ces", size=60, seed=0, sigma=0.02, days=4, churn=0.1, density=0.2)
    solver = warmed(ProportionalResponse, carry=True)
    before = None
    for economy in stream_days(stream):
        economy = economy.to_sparse()
        yesterday = None if before is None else yesterday_of(before[1], before[0], economy)
        result = solve(solver, economy, TOL, 60.0, 0, yesterday=yesterday)
        assert result.status == "converged", result.message
        bids = result.state["bids"]
        assert bids.shape == economy.a.data.shape and np.array_equal(result.state["indptr"], economy.a.indptr)
        spent = np.add.reduceat(bids, economy.a.indptr[:-1])       # each agent spends all of its budget
        np.testing.assert_allclose(spent / spent.sum(), economy.budget / economy.budget.sum(), rtol=1e-9)
        before = economy, result


def test_proportional_response_restarts_the_bids_of_agents_who_arrived_today():
    first, second = list(stream_days(Stream("fisher-ces", size=20, seed=0, sigma=0.02, days=2)))
    solver = warmed(ProportionalResponse, carry=True)
    result = solve(solver, first, TOL, 60.0, 0)
    nonsense = result.state["bids"].copy()
    nonsense[3] = np.where(nonsense[3] > 0, 1e-300, 0.0)    # a row no cold start would hold
    kept = yesterday_of(result, first, second)
    honest = solve(solver, second, TOL, 60.0, 0, yesterday=Yesterday(
        kept.prices, kept.allocation, {"bids": nonsense}, first, True, (3,), 1))
    plain = solve(solver, second, TOL, 60.0, 0, yesterday=Yesterday(
        kept.prices, kept.allocation, {"bids": result.state["bids"]}, first, True, (3,), 1))
    assert honest.status == plain.status == "converged"
    assert honest.iterations == plain.iterations and np.array_equal(honest.prices, plain.prices)


# --- traders: every day from the day's endowments, feasible and individually rational -------------

def assert_feasible_and_rational(economy, allocation):
    x = np.asarray(allocation)
    e = np.asarray(economy.endowment)
    assert np.all(x >= 0)
    np.testing.assert_allclose(x.sum(axis=0), e.sum(axis=0), rtol=1e-9, atol=1e-12)
    for i in range(economy.n_agents):
        gained = (log_utility_row(economy.kinds[i], economy.a[i], economy.rho[i], x[i])
                  - log_utility_row(economy.kinds[i], economy.a[i], economy.rho[i], e[i]))
        assert gained >= -1e-9, (economy.meta["day"], i, gained)


@pytest.mark.parametrize("cls", [BilateralExchange, HahnProcess])
def test_carried_traders_start_from_the_days_endowments_and_stay_feasible_and_rational(cls):
    for economy, yesterday, result in days_carried(cls, CHURNING):
        assert result.allocation is not None, result.message
        assert_feasible_and_rational(economy, result.allocation)
        for checkpoint in result.trace:
            assert_feasible_and_rational(economy, checkpoint.allocation)


def test_the_hahn_process_from_yesterdays_prices_rests_nearer_the_walrasian_point():
    hahn = warmed(HahnProcess)
    for economy, yesterday, result in days_carried(HahnProcess, DRIFTING)[1:]:
        cold = solve(hahn, economy, TOL, 60.0, 0)
        assert result.certificate.worst < 0.5 * cold.certificate.worst, economy.meta["day"]
        assert result.iterations <= cold.iterations
        np.testing.assert_allclose(result.state["prices"], result.prices, rtol=1e-12)


def test_bilateral_exchange_keeps_its_partners_and_drops_those_who_left():
    days = days_carried(BilateralExchange, CHURNING)
    for economy, yesterday, result in days:
        pairs = result.state["partners"]
        assert pairs.ndim == 2 and pairs.shape[1] == 2 and len(pairs) == len(result.state["gains"])
        assert np.all(pairs[:, 0] < pairs[:, 1]) and np.all(pairs < economy.n_agents)
        assert np.all(np.diff(result.state["gains"]) <= 0)
        if yesterday is not None and yesterday.arrived:
            kept = kept_partners(yesterday.state, economy.n_agents, yesterday.arrived)
            assert len(kept) < len(yesterday.state["partners"])
            assert not np.isin(kept, yesterday.arrived).any()


def test_bilateral_exchange_ignores_the_partners_of_an_agent_who_arrived_today():
    """A pair with an arrival in it is as if it had never been kept: the run is the same."""
    solver = warmed(BilateralExchange, carry=True)
    (_, _, first), (second, yesterday, _) = days_carried(BilateralExchange, DRIFTING)[:2]
    pairs = yesterday.state["partners"]
    gone = int(pairs[0, 0])
    without = {**yesterday.state, "partners": pairs[~np.isin(pairs, [gone]).any(axis=1)],
               "gains": yesterday.state["gains"][~np.isin(pairs, [gone]).any(axis=1)]}
    a = solve(solver, second, TOL, 60.0, 0, yesterday=Yesterday(**{**vars(yesterday), "arrived": (gone,)}))
    b = solve(solver, second, TOL, 60.0, 0, yesterday=Yesterday(**{**vars(yesterday), "arrived": (gone,),
                                                                     "state": without}))
    assert a.iterations == b.iterations and np.array_equal(a.allocation, b.allocation)


def test_bilateral_partners_first_take_larger_gains_in_the_first_rounds():
    def gained(economy, x):
        e = np.asarray(economy.endowment)
        return sum(log_utility_row(economy.kinds[i], economy.a[i], economy.rho[i], x[i])
                   - log_utility_row(economy.kinds[i], economy.a[i], economy.rho[i], e[i])
                   for i in range(economy.n_agents))

    warmed(BilateralExchange)
    for economy, yesterday, _ in days_carried(BilateralExchange, DRIFTING)[1:]:
        cold = solve(BilateralExchange(max_iter=2), economy, TOL, 60.0, 0)
        carried = solve(BilateralExchange(max_iter=2, carry=True), economy, TOL, 60.0, 0, yesterday=yesterday)
        assert gained(economy, carried.allocation) > gained(economy, cold.allocation), economy.meta["day"]


# --- every carrier: one yesterday, one answer; yesterday left as it was ---------------------------

@pytest.mark.parametrize("cls, stream", [(Tatonnement, CHURNING), (ProportionalResponse, FISHER),
                                         (BilateralExchange, CHURNING), (HahnProcess, CHURNING)],
                         ids=["tatonnement", "proportional-response", "bilateral-exchange", "hahn-process"])
def test_the_same_yesterday_gives_the_same_day_and_is_not_changed(cls, stream):
    solver = warmed(cls, carry=True)
    for economy, yesterday, _ in days_carried(cls, stream)[1:3]:
        handed = copy.deepcopy(yesterday.state)
        one = solve(solver, economy, TOL, 60.0, 0, yesterday=yesterday)
        two = solve(solver, economy, TOL, 60.0, 0, yesterday=yesterday)
        assert one.status == two.status and one.iterations == two.iterations
        assert np.array_equal(one.prices, two.prices) and np.array_equal(one.allocation, two.allocation)
        assert one.state.keys() == two.state.keys()
        assert all(np.array_equal(one.state[k], two.state[k], equal_nan=True) for k in one.state)
        assert handed.keys() == yesterday.state.keys()
        assert all(np.array_equal(handed[k], yesterday.state[k], equal_nan=True) for k in handed)


@pytest.mark.parametrize("cls", [Tatonnement, ProportionalResponse, BilateralExchange, HahnProcess])
def test_an_instance_that_does_not_carry_ignores_yesterday(cls):
    solver = warmed(cls)
    assert cls.carries and not solver.carried and cls(carry=True).carried
    (first, _, result), (second, yesterday, _) = days_carried(cls, DRIFTING)[:2]
    cold = solver.run(second, TOL, float("inf"), 0)
    handed = solver.run(second, TOL, float("inf"), 0, yesterday=yesterday)
    assert cold.iterations == handed.iterations and np.array_equal(cold.prices, handed.prices)


@pytest.mark.parametrize("cls", [Tatonnement, ProportionalResponse, BilateralExchange, HahnProcess])
@pytest.mark.parametrize("check", [c.__name__ for c in CHECKS])
def test_a_carried_instance_passes_the_kit(cls, check):
    """The kit runs the built-in solvers as registered (cold); carried, each passes it too,
    `check_carries` included (which a cold instance passes without running)."""
    dict(solver_checks(cls, carry=True))[check]()
