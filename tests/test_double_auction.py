"""The double auction with zero-intelligence traders: Gode and Sunder's (1993) Table 2 in
partial equilibrium (solvers/traders/gode_sunder.py), and the general-equilibrium auction
against money (solvers/traders/double_auction.py)."""
import time

import numpy as np
import pytest

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, make_economy
from gebench.markets.generators import build
from gebench.markets.utilities import log_utility, log_utility_row
from gebench.markets.welfare import individual_rationality, pareto_gap
from gebench.solvers.testing import warmed
from gebench.solvers.traders.bilateral import BilateralExchange
from gebench.solvers.traders.double_auction import DoubleAuction, reservation_buy, reservation_sell
from gebench.solvers.traders.gode_sunder import MARKETS, TABLE_2, efficiencies
from tests.conftest import assert_trades_well

TOL = 1e-6
SEEDS = range(5)          # sessions of six periods each, as the paper's


@pytest.fixture(scope="module")
def auction():
    return warmed(DoubleAuction)


def _run(economy, seed=0, seconds=5.0, **params):
    return DoubleAuction(**params).run(economy, TOL, time.perf_counter() + seconds, seed)


@pytest.fixture(scope="module")
def table_2():
    return {"ZI-C": efficiencies(True, SEEDS), "ZI-U": efficiencies(False, SEEDS)}


def test_zi_c_reproduces_table_2_within_one_and_a_half_points(table_2):
    # the designs are read from the paper's scanned figures and its period (30 seconds) is not
    # given in shouts, so the paper's own six-period means are matched within 1.5 points
    # (Table 2: 99.9, 99.2, 99.0, 98.2, 97.1)
    assert np.all(np.abs(table_2["ZI-C"] - TABLE_2["ZI-C"]) <= 1.5), table_2["ZI-C"]
    assert np.all(table_2["ZI-C"] <= 100.0)


def test_zi_u_reproduces_table_2_because_it_trades_every_unit(table_2):
    # ZI-U traders trade every unit, the losing ones too, so their efficiency is the schedules':
    # 90.0, 90.0, 76.7, 48.8 in markets 1-4; market 5's staircase is read only roughly (86.0)
    assert np.all(np.abs(table_2["ZI-U"][:4] - TABLE_2["ZI-U"][:4]) <= 0.05), table_2["ZI-U"]
    assert abs(table_2["ZI-U"][4] - TABLE_2["ZI-U"][4]) <= 1.0
    assert np.allclose(table_2["ZI-U"], [100 * d.all_units_surplus / d.max_surplus for d in MARKETS.values()])


def test_the_budget_constraint_raises_efficiency_in_every_market(table_2):
    assert np.all(table_2["ZI-C"] > table_2["ZI-U"])
    assert np.all(table_2["ZI-C"] >= 96.0) and table_2["ZI-U"].min() < 50.0


@pytest.mark.parametrize("kind, rho", [(LINEAR, np.nan), (COBB_DOUGLAS, np.nan), (CES, -2.0), (CES, 0.5),
                                       (LEONTIEF, np.nan)])
def test_reservation_prices_leave_utility_exactly_where_it_was(kind, rho):
    a = np.array([1.0, 2.0, 0.5])
    x = np.array([1.5, 0.7, 2.0])      # the numeraire is good 2
    u0 = log_utility_row(kind, a, rho, x)
    r = reservation_buy(kind, a, rho, x, 0, 2, 0.1, u0)
    s = reservation_sell(kind, a, rho, x, 0, 2, 0.1, u0)
    assert 0 < r < x[2] and (kind == LEONTIEF or 0 < s < np.inf)
    bought = log_utility_row(kind, a, rho, x + [0.1, 0.0, -r])
    assert bought >= u0 - 1e-12
    if kind == LEONTIEF:      # good 1 binds: giving up money down to its need costs nothing
        assert np.isclose(x[2] - r, a[2] * np.exp(u0)) and s == 0.0
        return
    assert bought == pytest.approx(u0, abs=1e-9)
    assert log_utility_row(kind, a, rho, x + [-0.1, 0.0, s]) == pytest.approx(u0, abs=1e-9)
    # willingness to pay below willingness to accept, strictly where utility is strictly concave
    assert r == pytest.approx(s) if kind == LINEAR else r < s


@pytest.mark.parametrize("family, size, rho", [("exchange-cobb-douglas", 8, None), ("ces-complements", 6, -2.0),
                                               ("exchange-linear", 8, None), ("leontief-game-morris", 4, None)])
def test_every_checkpoint_is_feasible_and_no_agent_loses(auction, family, size, rho):
    economy = build(family, size, 1, 1.0, 1.0, rho, False)
    outcome = _run(economy)
    assert outcome.trace and outcome.extra["trades"] > 0
    assert_trades_well(economy, outcome)


def test_an_edgeworth_box_comes_near_its_contract_curve(auction):
    economy = make_economy("exchange", "cobb-douglas", [[1, 2], [2, 1]], endowment=[[1, 0.2], [0.3, 1]])
    outcome = _run(economy)
    assert outcome.status in ("at_rest", "converged")
    assert pareto_gap(economy, economy.endowment).gap > 0.5
    assert pareto_gap(economy, outcome.allocation).gap < 1e-3


def test_zi_u_breaks_individual_rationality_on_some_seed_and_zi_c_on_none(auction):
    economy = build("exchange-cobb-douglas", 6, 0)
    unconstrained = [individual_rationality(economy, _run(economy, seed, constrained=False, max_iter=5000).allocation)
                     for seed in range(4)]
    constrained = [individual_rationality(economy, _run(economy, seed).allocation) for seed in range(4)]
    assert max(unconstrained) > 0.01
    assert max(constrained) == 0.0


def test_money_lets_the_agents_of_a_game_trade_where_barter_cannot(auction):
    # each agent owns a good it does not want and wants the other player's goods: no pair of
    # agents can barter, but every agent can sell its good for money and buy what it needs
    economy = build("leontief-game-svs", 4, 0)
    barter = BilateralExchange().run(economy, TOL, time.perf_counter() + 5, 0)
    assert barter.extra["trades"] == 0 and np.all(np.isneginf(log_utility(economy, barter.allocation)))
    outcome = _run(economy)
    assert np.all(np.isfinite(log_utility(economy, outcome.allocation))), "an agent still has nothing it can use"
    assert pareto_gap(economy, outcome.allocation).gap < 0.1


def test_the_same_seed_gives_the_same_trades_and_another_seed_others(auction):
    economy = build("exchange-cobb-douglas", 6, 0)
    first, again, other = _run(economy, 3), _run(economy, 3), _run(economy, 4)
    assert np.array_equal(first.allocation, again.allocation) and first.iterations == again.iterations
    assert not np.array_equal(first.allocation, other.allocation)


def test_money_is_the_most_plentiful_good_unless_named_and_each_order_posts_two_numbers(auction):
    economy = make_economy("exchange", "cobb-douglas", np.ones((2, 3)), endowment=[[1, 3, 0.5], [1, 0.5, 0.5]])
    assert DoubleAuction().numeraire_of(economy) == 1
    assert DoubleAuction(numeraire=2).numeraire_of(economy) == 2
    outcome = _run(economy, numeraire=2)
    assert outcome.extra["numeraire"] == 2
    assert auction.central_reads(economy, outcome.iterations) == 2 * outcome.extra["orders"]
