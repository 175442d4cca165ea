"""Coase's firms (solvers/traders/firms.py): one firm is the central planner, one firm per agent
the Hahn process, and in between every point the agents hold is feasible and leaves nobody
worse off; the clearing house reads k x m numbers a round."""
import time

import numpy as np
import pytest

from gebench.markets import make_economy
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.generators import build
from gebench.markets.utilities import log_utility
from gebench.solvers.base import economy_numbers
from gebench.solvers.judging import solve
from gebench.solvers.testing import warmed
from gebench.solvers.traders.firms import Firms, chunks, partition
from gebench.solvers.traders.hahn import HahnProcess, chunk_cap
from tests.conftest import assert_trades_well

TOL = 1e-8


@pytest.fixture(scope="module")
def firms():
    return warmed(Firms)


@pytest.fixture(scope="module")
def hahn():
    return warmed(HahnProcess)


def with_k(warm: Firms, **params) -> Firms:
    """A Firms instance with these parameters, once `warm` has compiled the kernels in this process."""
    return Firms(**params)


ECONOMIES = {
    "cobb-douglas": lambda: build("exchange-cobb-douglas", 8, 0),
    "ces complements": lambda: build("ces-complements", 8, 0, rho=-2.0),
    "morris d=4": lambda: build("leontief-game-morris", 4, 0),
    "svs d=4": lambda: build("leontief-game-svs", 4, 0),
}


def run(solver, economy, seed=0, tol=TOL):
    return solver.run(economy, tol, time.perf_counter() + 30.0, seed)


@pytest.mark.parametrize("name, planner", [("cobb-douglas", "homotopy"), ("ces", "homotopy"),
                                           ("morris d=4", "lemke-howson")])
def test_one_firm_is_its_planner(firms, name, planner):
    """k = 1: the plan of the one firm is the inner planner's certified equilibrium of the whole
    economy, the same point as the planner's own, read from the same numbers."""
    economy = {"ces": lambda: build("exchange-ces", 6, 0, rho=0.5), **ECONOMIES}[name]()
    one = solve(with_k(firms, firms=1), economy, TOL, 30.0, 0)
    direct = solve(warmed(planner), economy, TOL, 30.0, 0)
    assert one.status == direct.status == "converged"
    assert one.extra["plan"] == planner
    np.testing.assert_array_equal(one.prices, direct.prices)
    np.testing.assert_allclose(one.allocation, direct.allocation, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.allocation.sum(axis=0), economy.total_supply, rtol=1e-15, atol=0)
    assert with_k(firms, firms=1).central_reads(economy, one.iterations) == \
        warmed(planner).central_reads(economy, direct.iterations) == economy_numbers(economy)
    if name == "cobb-douglas":
        np.testing.assert_allclose(one.prices, cobb_douglas_prices(economy), atol=1e-9)


@pytest.mark.parametrize("name", ["cobb-douglas", "ces complements", "morris d=4"])
def test_one_firm_per_agent_is_the_hahn_process(firms, hahn, name):
    """k = n (firms = 0): singleton firms plan nothing, and the firms' rationing is Hahn's rule
    operation for operation, so the rounds, every checkpoint's holdings and the final holdings
    are the Hahn process's bit for bit (both capped at 3000 rounds: Morris's game cycles)."""
    economy = ECONOMIES[name]()
    mine = run(with_k(firms, firms=0, max_iter=3000), economy)
    theirs = run(HahnProcess(max_iter=3000), economy)
    assert mine.status == theirs.status and mine.iterations == theirs.iterations
    assert mine.extra["plans"] == 0
    np.testing.assert_array_equal(mine.allocation, theirs.allocation)
    assert [c.iterations for c in mine.trace] == [c.iterations for c in theirs.trace]
    for c, d in zip(mine.trace, theirs.trace):
        np.testing.assert_array_equal(c.allocation, d.allocation)
        np.testing.assert_array_equal(c.prices, d.prices)
    assert with_k(firms, firms=0).central_reads(economy, mine.iterations) == \
        hahn.central_reads(economy, theirs.iterations)
    assert with_k(firms, firms=10 * economy.n_agents).central_reads(economy, 7) == \
        hahn.central_reads(economy, 7), "k > n is clipped to n"


@pytest.mark.parametrize("name, k", [(name, 3) for name in ECONOMIES] + [("cobb-douglas", 2), ("morris d=4", 2)])
def test_firms_between_trade_feasibly_and_hurt_nobody(firms, name, k):
    economy = ECONOMIES[name]()
    outcome = run(with_k(firms, firms=k, max_iter=3000), economy)
    assert outcome.trace and outcome.iterations > 0
    assert_trades_well(economy, outcome, slack=1e-10)
    if name in ("cobb-douglas", "ces complements"):
        assert outcome.extra["carried_out"] > 0, "the firms' plans were carried out"
        gain = log_utility(economy, outcome.allocation) - log_utility(economy, economy.endowment)
        assert gain.max() > 1e-3, "trade and plans raised someone's utility"


def test_a_firms_plan_is_its_own_equilibrium(firms):
    """A firm's plan is the Cobb-Douglas equilibrium of its members' closed economy (the closed
    form), conserves the firm's goods exactly and leaves the others' holdings alone."""
    economy = build("exchange-cobb-douglas", 6, 1)
    members = np.array([1, 3, 4])
    x = np.array(economy.endowment, dtype=np.float64)
    made = with_k(firms, firms=2).plan(economy, members, x, TOL, time.perf_counter() + 10.0, 0)
    assert made["status"] == "converged" and made["reads"] == 2 * 3 * economy.n_goods
    own = make_economy("exchange", "cobb-douglas", economy.a[members], endowment=x[members])
    p = cobb_douglas_prices(own)
    np.testing.assert_allclose(made["prices"] / made["prices"].sum(), p, atol=1e-9)
    share = economy.a[members] / economy.a[members].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(made["holdings"], share * (x[members] @ p)[:, None] / p[None, :], rtol=1e-7)
    np.testing.assert_allclose(made["holdings"].sum(axis=0), x[members].sum(axis=0), rtol=1e-15, atol=0)


def test_a_firm_drops_goods_it_lacks_and_members_who_need_them(firms):
    """Goods no member holds leave the firm's economy, and with them the Cobb-Douglas members
    who need one (their utility stays zero inside the firm); two members left still plan."""
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    e = np.array([[1.0, 0.2, 0.0], [0.2, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    economy = make_economy("exchange", "cobb-douglas", a, endowment=e)
    made = with_k(firms, firms=2).plan(economy, np.array([0, 1, 2]), e, TOL, time.perf_counter() + 10.0, 0)
    assert made["status"] == "converged" and made["reads"] == 2 * 2 + 2 * 2
    np.testing.assert_array_equal(made["holdings"][2], e[2])
    np.testing.assert_allclose(made["holdings"][:2], [[0.6, 0.6, 0.0], [0.6, 0.6, 0.0]], rtol=1e-8)


def test_the_clearing_house_reads_k_m_a_round_and_less_as_k_falls(firms):
    economy = ECONOMIES["cobb-douglas"]()
    n, m = economy.n_agents, economy.n_goods
    outcome = run(with_k(firms, firms=4), economy)
    assert outcome.extra["market_reads"] == outcome.iterations * (4 + 1) * m
    assert with_k(firms, firms=4).central_reads(economy, outcome.iterations) >= outcome.extra["plan_reads"], \
        "the plans' bound holds on a run"
    reads = [with_k(firms, firms=k).central_reads(economy, 100) for k in (n, 4, 2, 1)]
    assert reads == sorted(reads, reverse=True) and len(set(reads)) == 4
    assert chunks(100, chunk_cap(economy)) == 8          # 1 + 1 + 2 + ... + 64 = 128 >= 100


def test_same_seed_same_answer_and_the_seed_draws_the_firms(firms):
    economy = ECONOMIES["cobb-douglas"]()
    first, second = (run(with_k(firms, firms=3), economy, seed=5) for _ in range(2))
    assert first.iterations == second.iterations
    np.testing.assert_array_equal(first.allocation, second.allocation)
    groups = partition(10, 3, 5)
    assert sorted(len(g) for g in groups) == [3, 3, 4]
    assert sorted(np.concatenate(groups).tolist()) == list(range(10))
    assert any(not np.array_equal(g, h) for g, h in zip(groups, partition(10, 3, 6)))
