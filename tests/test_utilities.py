import numpy as np
import pytest

from gebench.markets import demand, log_indirect_utility, log_utility, make_economy
from gebench.markets.generators import generate

from .conftest import random_prices


def test_demand_spends_the_income_and_attains_the_indirect_utility(small, rng):
    p = random_prices(rng, small.n_goods)
    b = small.incomes(p)
    x = demand(small, p, b)
    np.testing.assert_allclose(x @ p, b, rtol=1e-12)
    np.testing.assert_allclose(log_utility(small, x), log_indirect_utility(small, p, b), rtol=1e-10, atol=1e-12)


def test_demand_beats_random_affordable_bundles(small, rng):
    p = random_prices(rng, small.n_goods)
    b = small.incomes(p)
    best = log_indirect_utility(small, p, b)
    for _ in range(20):
        y = rng.random((small.n_agents, small.n_goods))
        y *= (b / (y @ p))[:, None]  # spend exactly the income
        assert np.all(log_utility(small, y) <= best + 1e-12)


@pytest.mark.parametrize("rho", [-50.0, -1.0, 0.5, 0.99])
def test_extreme_ces_exponents_stay_finite(rho, rng):
    economy = generate("fisher-ces", 5, 8, seed=1, rho=rho)
    p = random_prices(rng, 8) ** 4   # prices spanning orders of magnitude
    p /= p.sum()
    x = demand(economy, p, economy.incomes(p))
    assert np.all(np.isfinite(x))
    assert np.all(np.isfinite(log_indirect_utility(economy, p, economy.incomes(p))))


@pytest.mark.parametrize("family, unbounded", [("linear", True), ("cobb-douglas", True), ("leontief", False)])
def test_a_free_wanted_good_gives_infinite_demand_without_nan(family, unbounded):
    economy = make_economy("fisher", family, [[1.0, 2.0, 0.0]], budget=[1.0])
    p = np.array([0.0, 0.5, 0.5])
    x = demand(economy, p, [1.0])
    v = log_indirect_utility(economy, p, [1.0])
    assert not np.isnan(x).any() and not np.isnan(v).any()
    assert x[0, 2] == 0.0                              # unwanted good
    if unbounded:
        assert np.isposinf(x[0, 0]) and np.isposinf(v[0])
    else:                                              # Leontief: p . a > 0 keeps it bounded
        np.testing.assert_allclose(x[0], [1.0, 2.0, 0.0])


def test_ces_complements_with_a_free_good_stay_bounded():
    economy = make_economy("fisher", "ces", [[1.0, 1.0]], rho=-1.0, budget=[1.0])
    v = log_indirect_utility(economy, np.array([0.0, 1.0]), [1.0])
    assert np.isfinite(v[0])


def test_zero_income_means_zero_demand():
    economy = make_economy("exchange", "linear", [[1.0, 1.0], [1.0, 1.0]], endowment=[[1.0, 0.0], [0.0, 1.0]])
    x = demand(economy, np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(x[1], [0.0, 0.0])
