"""Scarf's simplicial method on economies with producers: prices and levels searched together
on one simplex (solvers/planners/scarf.py), judged by the certificate with the levels it returns."""
import numpy as np
import pytest

from gebench.markets import certify, make_economy
from gebench.markets.classic import kehoe_1985, mathiesen_1987, scarf_hansen_1973, shoven_whalley_1984
from gebench.markets.generators import generate
from gebench.markets.production import Producer
from gebench.solvers import create, solve
from gebench.solvers.planners.scarf import fitted_levels


def nearest(classic, prices):
    return int(np.argmin([np.abs(prices - p).max() for p in classic.equilibria]))


CLASSICS = [mathiesen_1987, shoven_whalley_1984, kehoe_1985, scarf_hansen_1973]


@pytest.mark.parametrize("classic", CLASSICS, ids=lambda f: f.__name__)
def test_scarf_certifies_the_production_classics_near_a_stored_equilibrium(classic):
    classic = classic()
    result = solve(create("scarf"), classic.economy, tol=1e-6, time_limit=60)
    assert result.status == "converged", result.message
    assert result.certificate.production and result.certificate.worst <= 1e-6
    k = nearest(classic, result.prices)
    np.testing.assert_allclose(result.prices, classic.equilibria[k], atol=1e-5)
    # small levels (Scarf and Hansen's third, 0.006; an idle one at 5e-7) by the largest
    np.testing.assert_allclose(result.levels, classic.levels[k], rtol=1e-4, atol=1e-5 * classic.levels[k].max())
    assert result.extra["pivots"] == result.iterations > 0


def test_different_random_starts_reach_different_equilibria_of_kehoes_economy():
    classic = kehoe_1985()
    solver = create("scarf[start='random',grid=512]")
    assert solver.uses_seed and not create("scarf").uses_seed
    found = set()
    for seed in range(6):
        result = solve(solver, classic.economy, tol=1e-6, time_limit=60, seed=seed)
        assert result.status == "converged", result.message
        k = nearest(classic, result.prices)
        # equilibrium 1 is less well conditioned: certified to 1e-6, its prices are 1.6e-5 off
        # (2e-7 at tol 1e-8), so the distance is checked at 1e-4 here
        np.testing.assert_allclose(result.prices, classic.equilibria[k], atol=1e-4)
        np.testing.assert_allclose(result.levels, classic.levels[k], rtol=1e-4)
        found.add(k)
    # the equal-price equilibrium (0) is not reached from these starts; the other two are
    assert found == {1, 2}


def test_the_levels_refitted_at_equilibrium_prices_are_the_equilibrium_levels():
    classic = kehoe_1985()
    p, x = classic.equilibria[1], classic.allocation(1)
    levels = fitted_levels(classic.economy, p, x, guess=np.array([1.0, 1.0]))
    np.testing.assert_allclose(levels, classic.levels[1], rtol=1e-7)
    assert certify(classic.economy, p, x, levels).worst < 1e-8


@pytest.mark.parametrize("family", ["production-activity", "production-ces"])
def test_scarf_certifies_random_production_economies(family):
    economy = generate(family, 8, 8, seed=1)
    result = solve(create("scarf"), economy, tol=1e-6, time_limit=60)
    assert result.status == "converged", result.message
    assert certify(economy, result.prices, result.allocation, result.levels).worst <= 1e-6


def test_exchange_economies_give_the_answer_they_gave_before_production():
    # recorded from solvers/planners/scarf.py before it handled producers, at seed 0
    economy = generate("exchange-cobb-douglas", 8, 6, seed=4)
    result = solve(create("scarf"), economy, tol=1e-6, time_limit=60, seed=0)
    assert result.status == "converged"
    assert result.extra == {"pivots": 1091, "restarts": 7, "grid": 12582912}
    np.testing.assert_allclose(result.prices, [0.2308484845691257, 0.14749329619937473, 0.1366739405526055,
                                               0.1441170507007175, 0.18332911862267387, 0.15753810935550266],
                               rtol=1e-12)


def test_production_economies_with_linear_consumers_are_declined_with_the_reason():
    producers = [Producer("activity", net_output=[1.0, -1.0, -1.0])]
    linear = make_economy("exchange", "linear", [[1.0, 1.0, 0.0]], endowment=[[0.0, 5.0, 3.0]], producers=producers)
    reason = create("scarf").skip(linear)
    assert reason is not None and "linear utilities are not supported" in reason
    assert create("scarf").skip(mathiesen_1987().economy) is None
