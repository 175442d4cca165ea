"""Bilateral exchange (solvers/traders/bilateral.py): voluntary, feasible trade that is judged, not trusted."""
import math
import time

import numpy as np
import pytest

from gebench.markets import certify, make_economy
from gebench.markets.generators import build
from gebench.markets.welfare import pareto_gap
from gebench.solvers import create, solve
from gebench.solvers.kernels.supporting import best_prices
from gebench.solvers.testing import solver_checks
from gebench.solvers.traders.bilateral import BilateralExchange, best_amount
from tests.conftest import assert_trades_well

TOL = 1e-6


def _run(economy, seed=0, **params):
    import time
    return BilateralExchange(**params).run(economy, TOL, time.perf_counter() + 30, seed)


@pytest.mark.parametrize("name, check", solver_checks(BilateralExchange), ids=lambda v: v if isinstance(v, str) else "")
def test_conformance(name, check):
    check()


@pytest.mark.parametrize("family, rho", [("exchange-cobb-douglas", None), ("ces-complements", -2.0),
                                         ("exchange-ces", 0.5), ("exchange-linear", None), ("exchange-leontief", None)])
def test_trade_is_feasible_voluntary_and_monotone(family, rho):
    economy = build(family, 12, 1, 1.0, 1.0, rho, False)
    outcome = _run(economy)
    assert_trades_well(economy, outcome)


@pytest.mark.parametrize("family, rho", [("exchange-cobb-douglas", None), ("ces-complements", -2.0)])
def test_pairs_trading_smooth_goods_reach_a_pareto_efficient_allocation_that_is_not_walrasian(family, rho):
    economy = build(family, 20, 2, 1.0, 1.0, rho, False)
    outcome = _run(economy)
    assert outcome.status == "at_rest"
    assert pareto_gap(economy, outcome.allocation).gap <= 1e-4
    assert pareto_gap(economy, economy.endowment).gap > 0.1
    assert not certify(economy, outcome.prices, outcome.allocation).within(TOL)


def test_linear_pairs_stop_short_of_efficiency_where_only_a_cycle_of_three_would_help():
    # agent i holds good i and likes good i + 1 twice as much; the agent it could get that from
    # values good i at nothing, so no two can trade, while the cycle would double every utility
    a = [[1, 2, 0], [0, 1, 2], [2, 0, 1]]
    economy = make_economy("exchange", "linear", a, endowment=np.eye(3))
    outcome = _run(economy)
    assert outcome.status == "at_rest" and outcome.extra["trades"] == 0
    assert pareto_gap(economy, outcome.allocation).gap == pytest.approx(1.0)


def test_an_endowment_that_is_already_an_equilibrium_is_certified_without_trade():
    economy = make_economy("exchange", "cobb-douglas", [[1, 1], [1, 1]], endowment=[[1, 1], [2, 2]])
    result = solve(create("bilateral-exchange"), economy, TOL)
    assert result.status == "converged" and np.array_equal(result.allocation, economy.endowment)


def test_a_game_economy_gives_no_pair_a_reason_to_trade():
    # each agent needs every good the other player's agents own: no trade of two goods
    # between two agents raises anyone's utility above zero
    economy = build("leontief-game-morris", 6, 0)
    outcome = _run(economy)
    assert outcome.status == "at_rest" and outcome.extra["trades"] == 0
    assert np.array_equal(outcome.allocation, economy.endowment)


def test_the_same_seed_gives_the_same_trades_and_another_seed_others():
    economy = build("exchange-cobb-douglas", 10, 0)
    first, again, other = _run(economy, 3), _run(economy, 3), _run(economy, 4)
    assert np.array_equal(first.allocation, again.allocation)
    assert not np.array_equal(first.allocation, other.allocation)


@pytest.mark.parametrize("kind, aj, al, rho, xj, xl, rest, pi, expected", [
    (1, 1.0, 3.0, math.nan, 2.0, 2.0, math.inf, 2.0, (0.75, 0.75)),     # Cobb-Douglas: a quarter of wealth 6 at price 2
    (0, 3.0, 1.0, math.nan, 0.0, 4.0, math.inf, 2.0, (2.0, 2.0)),       # linear: j is worth 3 > 2, all 4 / 2 of it
    (0, 2.0, 1.0, math.nan, 1.0, 1.0, math.inf, 2.0, (0.0, 1.5)),       # linear, a tie: anything affordable
    (3, 1.0, 1.0, math.nan, 1.0, 3.0, math.inf, 1.0, (2.0, 2.0)),       # Leontief: equal amounts
    (3, 1.0, 1.0, math.nan, 1.0, 3.0, 1.5, 1.0, (1.5, 2.5)),            # Leontief, another good binds at 1.5
    (2, 1.0, 1.0, 0.5, 1.0, 1.0, math.inf, 1.0, (1.0, 1.0)),            # CES at equal prices: half each
])
def test_the_best_amount_on_a_budget_line_has_its_closed_form(kind, aj, al, rho, xj, xl, rest, pi, expected):
    assert best_amount(kind, aj, al, rho, xj, xl, rest, pi) == pytest.approx(expected)


def test_bilateral_exchange_declines_fisher_markets():
    economy = build("fisher-ces", 5, 0, 1.0, 1.0, 0.5, False)
    assert "fisher" in BilateralExchange().skip(economy)


def test_a_trader_past_its_deadline_is_judged_at_its_revealed_prices_without_the_support_program():
    economy = make_economy("exchange", "cobb-douglas", [[1, 2], [2, 1]], endowment=[[1, 0.2], [0.3, 1]])
    x = np.array(economy.endowment, dtype=float)
    revealed = np.array([0.9, 0.1])
    assert best_prices(economy, x, revealed, deadline=time.perf_counter() - 1.0) is revealed
    support = best_prices(economy, x, revealed)
    assert not np.allclose(support, revealed)          # before the deadline the supporting prices judge better
    assert certify(economy, support, x).worst < certify(economy, revealed, x).worst
