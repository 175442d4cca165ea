"""Bundle exchange (solvers/traders/bundles.py): groups trade bundles where pairs cannot, and
every trade is feasible and voluntary."""
import time

import numpy as np
import pytest

from gebench.markets import make_economy
from gebench.markets.generators import build
from gebench.markets.utilities import log_utility
from gebench.markets.welfare import pareto_gap, welfare
from gebench.solvers import create, solve
from gebench.solvers.base import economy_numbers
from gebench.solvers.testing import warmed
from gebench.solvers.traders.bilateral import BilateralExchange
from gebench.solvers.traders.bundles import BundleExchange
from tests.conftest import assert_trades_well

TOL = 1e-6


@pytest.fixture(scope="module", autouse=True)
def _warm():
    warmed(BundleExchange)
    warmed(BilateralExchange)


def _run(economy, seed=0, solver=BundleExchange, **params):
    return solver(**params).run(economy, TOL, time.perf_counter() + 30, seed)


@pytest.fixture(scope="module")
def morris():
    """The Leontief economy of Morris's game at d = 4 and an equilibrium of it by Lemke-Howson."""
    economy = build("leontief-game-morris", 4, 0)
    equilibrium = solve(create("lemke-howson"), economy, 1e-9)
    assert equilibrium.status == "converged"
    return economy, equilibrium


def _gains(economy, equilibrium, allocation) -> float:
    return welfare(economy, allocation, equilibrium.allocation, equilibrium.prices).gains_total


@pytest.mark.parametrize("family, size, rho, group", [
    ("exchange-cobb-douglas", 9, None, 3), ("ces-complements", 9, -2.0, 3), ("exchange-linear", 9, None, 3),
    ("leontief-game-morris", 4, None, 5), ("leontief-game-svs", 2, None, 3), ("leontief-game-svs", 4, None, 8)])
def test_every_checkpoint_is_feasible_and_nobody_ever_loses(family, size, rho, group):
    economy = build(family, size, 1, 1.0, 1.0, rho, False)
    outcome = _run(economy, group=group)
    assert outcome.extra["trades"] > 0
    assert_trades_well(economy, outcome)


def test_groups_of_d_plus_one_realise_gains_on_morris_game_where_pairs_realise_none(morris):
    economy, equilibrium = morris
    pairs = _run(economy, solver=BilateralExchange)
    assert pairs.extra["trades"] == 0 and _gains(economy, equilibrium, pairs.allocation) == 0.0
    for group in (5, 8):        # d + 1 agents can hold a whole side's goods and one agent who needs them
        outcome = _run(economy, group=group)
        assert outcome.extra["trades"] > 0
        assert _gains(economy, equilibrium, outcome.allocation) > 0.2


@pytest.mark.parametrize("group, goods", [(2, 2), (2, 0), (3, 0), (4, 0)])
def test_fewer_than_d_plus_one_agents_cannot_raise_anyone_from_zero_on_morris_game(morris, group, goods):
    # each agent needs all 4 goods the other player's agents hold, one apiece: a group of 4
    # or fewer never holds them and someone who needs them, as with bilateral exchange
    economy, _ = morris
    outcome = _run(economy, group=group, goods=goods, quiet=20)
    assert outcome.extra["trades"] == 0 and outcome.extra["meetings"] > 0
    assert np.array_equal(outcome.allocation, economy.endowment)


def test_one_group_of_every_agent_gives_the_egalitarian_equivalent_allocation_of_a_game():
    # from utilities 0 every agent i gains t u_i(w) (Pazner-Schmeidler with the total supply w
    # as the reference bundle), t = min_j w_j / sum_i u_i(w) a_ij: the whole supply's bottleneck
    economy = build("leontief-game-svs", 4, 0)
    outcome = _run(economy, group=0)
    assert np.array_equal(outcome.allocation, _run(economy, group=economy.n_agents).allocation)
    assert create("bundle-exchange[group=0]").central_reads(economy, 1) == economy_numbers(economy)
    assert create("bundle-exchange").central_reads(economy, 1) == 0
    assert "trades with nobody" in create("bundle-exchange[group=1]").skip(economy)
    a, w = economy.a, economy.total_supply
    u_w = np.array([min(w[j] / a[i, j] for j in np.flatnonzero(a[i])) for i in range(economy.n_agents)])
    t = np.min(w / (u_w @ a))
    assert np.allclose(np.exp(log_utility(economy, outcome.allocation)), t * u_w, rtol=1e-12)
    assert outcome.extra["trades"] == 1 and pareto_gap(economy, outcome.allocation).gap <= 1e-12


def test_a_cycle_of_three_linear_agents_trades_where_no_pair_can():
    # agent i holds good i and likes good i + 1 twice as much; the agent it could get that from
    # values good i at nothing: the group of three passes each good on and doubles every utility
    a = [[1, 2, 0], [0, 1, 2], [2, 0, 1]]
    economy = make_economy("exchange", "linear", a, endowment=np.eye(3))
    assert _run(economy, solver=BilateralExchange).extra["trades"] == 0
    outcome = _run(economy, group=3)
    assert np.allclose(np.exp(log_utility(economy, outcome.allocation)), 2.0, rtol=1e-9)


def test_a_small_cobb_douglas_economy_comes_to_rest_near_pareto_efficiency():
    economy = build("exchange-cobb-douglas", 12, 2, 1.0, 1.0, None, False)
    outcome = _run(economy)
    assert outcome.status == "at_rest"
    assert pareto_gap(economy, economy.endowment).gap > 0.1
    assert pareto_gap(economy, outcome.allocation).gap <= 1e-4


def test_the_same_seed_gives_the_same_trades_and_another_seed_others():
    economy = build("exchange-cobb-douglas", 10, 0)
    first, again, other = _run(economy, 3), _run(economy, 3), _run(economy, 4)
    assert np.array_equal(first.allocation, again.allocation) and first.iterations == again.iterations
    assert not np.array_equal(first.allocation, other.allocation)
