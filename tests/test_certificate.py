import numpy as np
import pytest

from gebench.markets import InputError, certify, make_economy
from gebench.markets.closed_form import cobb_douglas_equilibrium
from gebench.markets.generators import generate


@pytest.fixture(params=["exchange-cobb-douglas", "fisher-cobb-douglas"])
def known(request):
    economy = generate(request.param, 7, 5, seed=2, density=0.6)
    return (economy, *cobb_douglas_equilibrium(economy))


def test_near_zero_on_known_equilibria(known):
    economy, p, x = known
    cert = certify(economy, p, x)
    assert cert.worst < 1e-12


def test_scale_free_in_prices(known):
    economy, p, x = known
    assert certify(economy, 1e6 * p, x).worst < 1e-12


def test_clearing_sees_over_demand(known):
    economy, p, x = known
    y = x.copy()
    y[0, :] *= 1.5
    cert = certify(economy, p, y)
    good = np.argmax(x[0] / economy.total_supply)
    expected = (y.sum(0) - economy.total_supply)[good] / economy.total_supply[good]
    assert cert.clearing == pytest.approx(max(((y.sum(0) - economy.total_supply) / economy.total_supply).max(), 0))
    assert cert.clearing >= expected > 0.01


def test_waste_sees_unsold_value(known):
    economy, p, x = known
    y = x * 0.9
    cert = certify(economy, p, y)
    assert cert.waste == pytest.approx(0.1, rel=1e-9)
    assert cert.clearing == 0.0


def test_budget_sees_overspending(known):
    economy, p, x = known
    y = x.copy()
    y[1] *= 1.2                       # agent 1 consumes 20% more than it can afford
    y[0] = np.maximum(y[0] - (y[1] - x[1]), 0)
    cert = certify(economy, p, y)
    assert cert.budget == pytest.approx(0.2, rel=1e-9)


def test_optimality_sees_a_suboptimal_bundle(known):
    economy, p, x = known
    y = x.copy()
    b = economy.incomes(p)
    y[2] = b[2] / (economy.n_goods * p)   # affordable, but spread evenly instead of optimally
    y[3] += x[2] - y[2]
    y = np.maximum(y, 0)
    cert = certify(economy, p, y)
    assert cert.optimality > 1e-3


def test_perturbed_prices_are_rejected(known):
    economy, p, x = known
    q = p * np.linspace(0.9, 1.1, len(p))
    assert certify(economy, q, x).worst > 1e-3


def test_unbounded_utility_gives_full_shortfall():
    economy = make_economy("fisher", "linear", [[1.0, 1.0]], budget=[1.0])
    cert = certify(economy, [0.0, 1.0], [[1.0, 1.0]])
    assert cert.optimality == 1.0


@pytest.mark.parametrize("prices, allocation, field", [
    ([1.0], [[1.0, 1.0]], "prices"),
    ([1.0, np.nan], [[1.0, 1.0]], "prices[1]"),
    ([0.0, 0.0], [[1.0, 1.0]], "prices"),
    ([1.0, 1.0], [[1.0, -1.0]], "allocation[0][1]"),
    ([1.0, 1.0], [[1.0, 1.0], [1.0, 1.0]], "allocation"),
])
def test_invalid_points_name_the_field(prices, allocation, field):
    economy = make_economy("fisher", "linear", [[1.0, 1.0]], budget=[1.0])
    with pytest.raises(InputError, match=field.replace("[", r"\[")):
        certify(economy, prices, allocation)
