"""The Hahn process (solvers/traders/hahn.py): trade out of equilibrium keeps every allocation feasible,
never lowers a utility, and stops `at_rest` where the holdings, not the endowments, are in
equilibrium."""
import time

import numpy as np
import pytest

from gebench.markets import Economy, InputError, certify, demand, make_economy
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.generators import build, generate
from gebench.markets.units import in_units
from gebench.markets.utilities import log_utility
from gebench.solvers import Unsupported
from gebench.solvers.judging import solve
from gebench.solvers.testing import solver_checks, warmed
from gebench.solvers.traders.hahn import HahnProcess

TOL = 1e-8


@pytest.fixture(scope="module")
def hahn():
    return warmed(HahnProcess)


def two_by_two():
    a = np.array([[0.3, 0.7], [0.6, 0.4]])
    return make_economy("exchange", "cobb-douglas", a, endowment=np.array([[1.0, 0.2], [0.3, 1.0]]), name="2x2")


ECONOMIES = {
    "2x2 cobb-douglas": two_by_two,
    **{f"cobb-douglas seed {s}": (lambda s=s: build("exchange-cobb-douglas", 10, s, 1.0, 1.0, None, False))
       for s in range(3)},
    "ces complements": lambda: build("ces-complements", 10, 0, 1.0, 1.0, -2.0, False),
}


def run(solver, economy, tol=TOL):
    return solver.run(economy, tol, time.perf_counter() + 60.0, 0)


def points(outcome):
    """The allocations the agents held: every checkpoint's, then the final one."""
    return [c.allocation for c in outcome.trace] + [outcome.allocation]


def assert_trades_well(economy, outcome):
    """Feasible at every point to 1e-12, nobody below its endowment's utility, and each agent's
    utility non-decreasing from one point to the next."""
    w = economy.total_supply
    held = log_utility(economy, economy.endowment)
    start = held
    for x in points(outcome):
        assert x.min() >= 0.0
        np.testing.assert_allclose(x.sum(axis=0), w, rtol=1e-12, atol=0)
        now = log_utility(economy, x)
        assert np.all(now >= start - 1e-12 * np.maximum(1.0, np.abs(start))), "an agent fell below its endowment"
        assert np.all(now >= held - 1e-10), "an agent's utility fell between checkpoints"
        held = now


@pytest.mark.parametrize("name", ECONOMIES)
def test_trade_is_feasible_and_never_hurts(hahn, name):
    economy = ECONOMIES[name]()
    outcome = run(hahn, economy)
    assert outcome.trace, "a run of several rounds keeps checkpoints"
    assert outcome.extra["traded"] > 0.0
    assert_trades_well(economy, outcome)


def test_leontief_trade_never_hurts_while_it_runs():
    """Leontief markets need not come to rest (prices drift to a corner); every point held on
    the way is still feasible and no worse for anyone."""
    economy = build("exchange-leontief", 10, 0, 1.0, 1.0, None, False)
    outcome = run(HahnProcess(max_iter=2000), economy)
    assert outcome.status in ("max_iter", "at_rest", "converged")
    assert_trades_well(economy, outcome)


@pytest.mark.parametrize("name", ECONOMIES)
def test_status_is_at_rest_or_an_honest_convergence(hahn, name):
    economy = ECONOMIES[name]()
    outcome = run(hahn, economy)
    assert outcome.status in ("at_rest", "converged"), outcome.message
    certificate = certify(economy, outcome.prices, outcome.allocation)
    assert certificate.within(TOL) == (outcome.status == "converged")
    result = solve(hahn, economy, TOL, 60.0, 0)
    assert result.status == outcome.status and result.iterations == outcome.iterations


@pytest.mark.parametrize("name", ECONOMIES)
def test_at_rest_is_an_equilibrium_of_the_holdings(hahn, name):
    """At rest nobody wants to trade at the final prices: (p, x) is a Walrasian equilibrium of
    the economy endowed with x, though not of the original one, whose budgets it breaks."""
    economy = ECONOMIES[name]()
    outcome = run(hahn, economy)
    assert outcome.status == "at_rest"
    p, x = outcome.prices, outcome.allocation
    desired = demand(economy, p, x @ p) - x
    assert np.max(np.abs(desired) / economy.total_supply) < TOL
    held = Economy("exchange", economy.kinds, economy.a, economy.rho, endowment=x)
    assert certify(held, p, x).within(10 * TOL)
    assert certify(economy, p, x).budget > TOL
    assert "not a Walrasian equilibrium" in outcome.message


def test_two_agents_trade_away_from_the_walrasian_allocation(hahn):
    economy = two_by_two()
    outcome = run(hahn, economy)
    assert outcome.status == "at_rest"
    assert np.abs(outcome.prices - cobb_douglas_prices(economy)).max() > 1e-3


def test_an_endowment_in_equilibrium_converges_without_trade(hahn):
    """Two identical Cobb-Douglas agents with proportional endowments: at every price both want
    to trade the same way, so nobody trades, and tatonnement alone finds the equilibrium."""
    a = np.array([[0.3, 0.7], [0.3, 0.7]])
    endowment = np.array([[1.0, 2.0], [2.0, 4.0]])
    economy = make_economy("exchange", "cobb-douglas", a, endowment=endowment)
    result = solve(hahn, economy, TOL, 60.0, 0)
    assert result.status == "converged" and result.iterations > 0
    assert result.extra["traded"] == 0.0
    np.testing.assert_allclose(result.allocation, endowment, rtol=1e-15)
    np.testing.assert_allclose(result.prices, cobb_douglas_prices(economy), atol=1e-3)   # the kit's PRICE_TOL


def test_the_rest_point_does_not_depend_on_units(hahn):
    """The rest point depends on the path, so on the start: with endowments times 1e6 and the
    last good counted in units a millionth as large, the same rounds give the same prices."""
    economy = ECONOMIES["cobb-douglas seed 1"]()
    scale = np.ones(economy.n_goods)
    scale[-1] = 1e6
    base, other = run(hahn, economy), run(hahn, in_units(economy, scale, money=1e6))
    assert base.status == other.status == "at_rest" and base.iterations == other.iterations
    back = other.prices * scale
    np.testing.assert_allclose(back / back.sum(), base.prices, rtol=1e-9)


def test_max_iter_stops_with_a_feasible_point(hahn):
    economy = ECONOMIES["cobb-douglas seed 0"]()
    outcome = run(HahnProcess(max_iter=3), economy)
    assert outcome.status == "max_iter" and outcome.iterations == 3
    np.testing.assert_allclose(outcome.allocation.sum(axis=0), economy.total_supply, rtol=1e-12, atol=0)


def test_checkpoints_fall_on_powers_of_two(hahn):
    outcome = run(hahn, ECONOMIES["ces complements"]())
    steps = [c.iterations for c in outcome.trace]
    assert steps == [2**k for k in range(len(steps))]


def test_declines_fisher_linear_and_sparse(hahn):
    fisher = generate("fisher-cobb-douglas", 4, 3, seed=0)
    linear = generate("exchange-linear", 4, 3, seed=0)
    sparse = generate("exchange-cobb-douglas", 4, 3, seed=0).to_sparse()
    assert "endowments" in hahn.skip(fisher)
    assert "correspondence" in hahn.skip(linear)
    assert isinstance(hahn.skip(sparse), str)
    for economy in (fisher, linear, sparse):
        with pytest.raises(Unsupported):
            solve(hahn, economy, TOL, 1.0, 0)


def test_parameters_are_checked():
    with pytest.raises(InputError):
        HahnProcess(step=1.0)
    with pytest.raises(InputError):
        HahnProcess(max_iter=0)


def test_central_reads_count_the_clearing_house(hahn):
    economy = ECONOMIES["2x2 cobb-douglas"]()
    assert hahn.central_reads(economy, 10) == 10 * (2 + 2 * 2)


@pytest.mark.parametrize("name, check", solver_checks(HahnProcess), ids=lambda v: v if isinstance(v, str) else "")
def test_conformance(name, check):
    check()


def test_prices_that_collapse_to_a_corner_stop_the_run_as_diverged(hahn):
    # on a game's Leontief economy the prices run to a corner, where some agent's income
    # underflows to 0 while it still buys: the run stops there instead of using its budget
    economy = build("leontief-game-svs", 4, 0)
    start = time.perf_counter()
    outcome = hahn.run(economy, 1e-6, start + 20.0, 0)
    assert outcome.status == "diverged" and "collapsed" in outcome.message
    assert not certify(economy, outcome.prices, outcome.allocation).finite
    assert np.allclose(outcome.allocation.sum(axis=0), economy.total_supply, rtol=1e-12)
