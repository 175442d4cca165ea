"""The welfare measures (markets/welfare.py) against closed forms, a convex program and each other."""
import math

import cvxpy as cp
import numpy as np
import pytest

from gebench.markets import certify, make_economy
from gebench.markets.closed_form import cobb_douglas_equilibrium
from gebench.markets.generators import build, generate
from gebench.markets.utilities import log_utility
from gebench.markets.welfare import gains_share, individual_rationality, no_trade, pareto_gap, summarise_gains, welfare
from gebench.solvers import create, solve


def _symmetric_cobb_douglas():
    return make_economy("exchange", "cobb-douglas", [[1, 1], [1, 1]], endowment=[[0.75, 0.25], [0.25, 0.75]])


def test_the_pareto_gap_of_a_cobb_douglas_endowment_has_its_closed_form():
    # identical agents: the efficient allocations are (t, t), (1 - t, 1 - t); the best equal
    # improvement on u = sqrt(3) / 4 each is t = 1/2, a factor 2 / sqrt(3)
    gap = pareto_gap(_symmetric_cobb_douglas(), [[0.75, 0.25], [0.25, 0.75]])
    assert gap.gap == pytest.approx(2 / math.sqrt(3) - 1, abs=1e-6)
    assert gap.gap - 1e-12 <= 2 / math.sqrt(3) - 1 <= gap.bound + 1e-12
    assert gap.tolerance <= 1e-6


def test_the_pareto_gap_of_linear_agents_holding_each_others_favourite_is_one():
    economy = make_economy("exchange", "linear", [[2, 1], [1, 2]], endowment=[[0, 1], [1, 0]])
    gap = pareto_gap(economy, economy.endowment)
    assert gap.gap == pytest.approx(1.0, abs=1e-9) and gap.bound == pytest.approx(1.0, abs=1e-9)
    assert np.allclose(gap.allocation, [[1, 0], [0, 1]], atol=1e-9)


def test_the_pareto_gap_of_leontief_agents_is_set_by_the_bottleneck_good():
    economy = make_economy("exchange", "leontief", [[1, 2], [2, 1]], endowment=[[1, 0], [0, 1]])
    # both hold utility 0.3 and need 0.9 of each good for it: 1 / 0.9 is the best equal factor
    gap = pareto_gap(economy, [[0.3, 0.6], [0.6, 0.3]])
    assert gap.gap == pytest.approx(1 / 0.9 - 1, rel=1e-12) and gap.bound == gap.gap


def test_nobody_with_positive_utility_leaves_an_unbounded_gap():
    economy = make_economy("exchange", "leontief", [[0, 1], [1, 0]], endowment=[[1, 0], [0, 1]])
    gap = pareto_gap(economy, economy.endowment)
    assert gap.gap == math.inf and gap.bound == math.inf


@pytest.mark.parametrize("family, rho", [("exchange-cobb-douglas", None), ("ces-complements", -2.0),
                                         ("exchange-linear", None), ("fisher-ces", 0.5), ("exchange-leontief", None)])
def test_the_improving_reallocation_is_feasible_and_achieves_the_gap(family, rho):
    economy = build(family, 12, 3, 1.0, 1.0, rho, False)
    rng = np.random.default_rng(0)
    x = rng.random(economy.a.shape)
    x *= economy.total_supply / x.sum(axis=0)
    gap = pareto_gap(economy, x)
    y = gap.allocation
    assert y.min() >= 0 and np.all(y.sum(axis=0) <= economy.total_supply * (1 + 1e-12))
    ratio = np.exp(log_utility(economy, y) - log_utility(economy, x))
    assert ratio.min() >= (1 + gap.gap) * (1 - 1e-9)
    assert 0 < gap.gap <= gap.bound <= gap.gap + 1e-5 * (1 + gap.gap)


def test_the_gap_agrees_with_a_convex_program_of_the_same_problem():
    economy = generate("exchange-cobb-douglas", agents=6, goods=5, seed=4)
    x = np.full(economy.a.shape, 1.0) * economy.total_supply / economy.n_agents
    c = np.exp(log_utility(economy, x))
    alpha = economy.a / economy.a.sum(axis=1, keepdims=True)
    y, s = cp.Variable(economy.a.shape, nonneg=True), cp.Variable()
    constraints = [cp.sum(y, axis=0) <= economy.total_supply]
    constraints += [cp.geo_mean(y[i], list(alpha[i]), approx=False) >= s * c[i] for i in range(economy.n_agents)]
    cp.Problem(cp.Maximize(s), constraints).solve(solver=cp.CLARABEL)
    assert pareto_gap(economy, x).gap == pytest.approx(s.value - 1, abs=1e-6)


def test_an_equilibrium_is_efficient_rational_and_realises_all_its_gains():
    economy = generate("exchange-cobb-douglas", agents=8, goods=6, seed=2)
    prices, x = cobb_douglas_equilibrium(economy)
    assert certify(economy, prices, x).within(1e-9)
    measures = welfare(economy, x, x, prices)
    assert measures.pareto_gap <= 1e-9 and measures.pareto_bound <= 1e-6     # the first welfare theorem
    assert measures.individual_rationality == 0.0
    assert measures.gains_mean == pytest.approx(1.0) and measures.gains_worst == pytest.approx(1.0)
    assert measures.gains_total == pytest.approx(1.0)
    at_start = welfare(economy, economy.endowment, x)
    assert at_start.gains_mean == pytest.approx(0.0, abs=1e-12) and at_start.individual_rationality == 0.0
    assert at_start.pareto_gap > 0.01


def test_a_fisher_equilibrium_is_efficient_and_buying_nothing_is_rational():
    economy = generate("fisher-ces", agents=8, goods=6, seed=2, rho=0.5)
    result = solve(create("eisenberg-gale"), economy, tol=1e-8)
    assert result.status == "converged"
    measures = welfare(economy, result.allocation, result.allocation)
    assert measures.pareto_gap <= 1e-6 and measures.individual_rationality == 0.0
    assert individual_rationality(economy, no_trade(economy)) == 0.0
    shares = gains_share(log_utility(economy, result.allocation / 2), np.full(8, -np.inf),
                         log_utility(economy, result.allocation))
    assert np.allclose(shares, 0.5)          # degree-one utilities: half of every bundle is half its utility


def test_individual_rationality_is_the_worst_relative_loss():
    economy = _symmetric_cobb_douglas()
    # agent 0 keeps half of each good, so half its utility; agent 1 gains
    x = np.array([[0.375, 0.125], [0.625, 0.875]])
    assert individual_rationality(economy, x) == pytest.approx(0.5)


def test_gains_shares_follow_their_definition():
    log_u, log_u0, log_star = np.log([2.0, 3.0, 5.0]), np.log([1.0, 1.0, 5.0]), np.log([3.0, 2.0, 5.0])
    shares = gains_share(log_u, log_u0, log_star)
    assert shares[0] == pytest.approx(0.5) and shares[1] == pytest.approx(2.0) and math.isnan(shares[2])
    mean, worst, total = summarise_gains(log_u, log_u0, log_star)
    assert mean == pytest.approx(1.25) and worst == pytest.approx(0.5)
    assert total == pytest.approx((1 / 3 + 1) / (2 / 3 + 1 / 2))     # gains in units of u*: 1/3 and 1 of 2/3 and 1/2
    assert summarise_gains(log_star, log_star, log_star) == (None, None, None)
    # weighed by equilibrium incomes 1 and 3: (1/3 + 3) / (2/3 + 3/2)
    assert summarise_gains(log_u, log_u0, log_star, [1, 3, 9])[2] == pytest.approx((1 / 3 + 3) / (2 / 3 + 3 / 2))
    # agent 2 gains nothing at the equilibrium: what an allocation takes from it counts in the total
    log_u = np.log([2.0, 3.0, 2.5])
    assert summarise_gains(log_u, log_u0, log_star, [1, 3, 9])[2] == pytest.approx(
        (1 / 3 + 3 - 9 * 0.5) / (2 / 3 + 3 / 2))


def test_the_total_share_values_gains_at_equilibrium_prices_so_a_poor_agent_cannot_dominate_it():
    # agent 0 is tiny at equilibrium and gets a hundred times that; agent 1 gets half its gains
    log_u, log_u0, log_star = np.log([1.0, 1.5]), np.array([-np.inf, np.log(1.0)]), np.log([0.01, 2.0])
    mean, worst, uniform = summarise_gains(log_u, log_u0, log_star)
    assert mean == pytest.approx((100 + 0.5) / 2) and worst == pytest.approx(0.5)
    _, _, money = summarise_gains(log_u, log_u0, log_star, [0.01, 1.0])
    assert money == pytest.approx((0.01 * 100 + 1.0 * 0.25) / (0.01 * 1 + 1.0 * 0.5))


@pytest.mark.parametrize("family, rho, solver", [("exchange-cobb-douglas", None, "newton"),
                                                 ("ces-complements", -2.0, "newton"),
                                                 ("fisher-ces", 0.5, "fisher-ipm")])
def test_no_feasible_allocation_holds_more_than_all_the_gains(family, rho, solver):
    """The money-weighted total share is at most 1 for every feasible allocation (the first
    welfare theorem's bound, `summarise_gains`), also for ones that take from agents the
    equilibrium gives nothing to, and for the utilitarian best, which gives some agents more
    than their equilibrium share."""
    economy = build(family, 12, 3, rho=rho)
    result = solve(create(solver), economy, 1e-10, 60.0)
    assert result.status == "converged"
    incomes = economy.incomes(result.prices)
    log_star, log_0 = log_utility(economy, result.allocation), log_utility(economy, no_trade(economy))
    rng = np.random.default_rng(0)
    w = economy.total_supply
    totals = []
    for _ in range(300):
        shares = rng.dirichlet(np.full(economy.n_agents, rng.choice([0.1, 1.0, 10.0])), size=economy.n_goods).T
        x = shares * w
        totals.append(summarise_gains(log_utility(economy, x), log_0, log_star, incomes)[2])
    # a step from the equilibrium towards a random reallocation, where the bound is nearly tight
    for t in (1e-3, 1e-2, 0.1):
        x = (1 - t) * result.allocation + t * rng.dirichlet(np.ones(economy.n_agents), size=economy.n_goods).T * w
        totals.append(summarise_gains(log_utility(economy, x), log_0, log_star, incomes)[2])
    assert max(totals) <= 1 + 1e-8
    assert max(totals) > 0.9          # the bound is approached, so it is not vacuous here
    equilibrium = summarise_gains(log_star, log_0, log_star, incomes)[2]
    assert equilibrium == pytest.approx(1.0)
