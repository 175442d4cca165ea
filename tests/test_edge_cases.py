"""Numerical edge cases: every solver either solves them or says it did not, never NaN prices
or a `converged` the certificate contradicts; and no solver's prices depend on money or units."""
import numpy as np
import pytest

from gebench.markets import Economy, make_economy
from gebench.markets.games import leontief_from_game
from gebench.markets.generators import build, generate
from gebench.markets.units import in_units
from gebench.solvers import STATUSES, create, solve
from gebench.solvers.registry import available
from gebench.solvers.testing import known_economies

SOLVERS = sorted(available())
TOL = 1e-7


def _zero_price_good() -> Economy:
    """Everyone wants goods 0 and 1 in the ratio 1 : 0.1, so most of good 1 is left over and its price is 0."""
    a = np.array([[1.0, 0.1], [2.0, 0.2], [1.0, 0.1]])
    return make_economy("fisher", "leontief", a, budget=np.array([1.0, 2.0, 3.0]), name="zero-price good")


def _tiny_income() -> Economy:
    economy = generate("exchange-cobb-douglas", 5, 4, seed=3)
    endowment = np.array(economy.endowment)
    endowment[0] *= 1e-12
    return make_economy("exchange", "cobb-douglas", economy.a, endowment=endowment, name="tiny income")


def _degenerate_game() -> Economy:
    """A game with ties everywhere: every pure strategy pair is an equilibrium (degenerate pivots)."""
    ones = np.ones((3, 3))
    return leontief_from_game(ones, ones, name="degenerate game")


EDGES = {
    "zero-price good": _zero_price_good,
    "tiny income": _tiny_income,
    "near-leontief ces": lambda: build("ces-complements", 6, 1, rho=-50.0),
    "near-linear ces": lambda: generate("fisher-ces", 6, 6, seed=2, rho=0.99),
    "near-linear ces exchange": lambda: generate("exchange-ces", 6, 6, seed=2, rho=0.99),
    "sparse linear": lambda: generate("fisher-linear", 30, 30, seed=4, density=0.07),
    "sparse ces": lambda: generate("exchange-ces", 30, 30, seed=4, density=0.07, rho=0.5),
    "degenerate game": _degenerate_game,
    "hard game": lambda: build("leontief-game-hard", 4, 0),
}


@pytest.mark.parametrize("edge", sorted(EDGES))
@pytest.mark.slow
def test_each_solver_solves_an_edge_case_or_says_it_did_not(edge):
    economy = EDGES[edge]()
    outcomes = {}
    for name in SOLVERS:
        solver = create(name)
        if solver.skip(economy) is not None or solver.unavailable():
            continue
        if not solver.interruptible:    # only a worker's kill bounds it (gambit-simpdiv runs on here)
            continue
        result = solve(solver, economy, TOL, 3.0, 0)
        assert result.status in STATUSES, (name, result.status)
        if result.prices is not None:
            assert np.all(np.isfinite(result.prices)) and np.all(result.prices >= 0), (name, result.prices)
            assert abs(result.prices.sum() - 1) < 1e-12
        if result.status == "converged":
            assert result.certificate.within(TOL), (name, result.certificate)
        outcomes[name] = result.status
    assert "converged" in outcomes.values(), f"no solver solves {edge}: {outcomes}"


def test_the_good_nobody_needs_more_of_gets_price_zero():
    result = solve(create("eisenberg-gale"), _zero_price_good(), TOL)
    assert result.status == "converged" and result.prices[1] < 1e-6


def _last_good(m: int, factor: float) -> np.ndarray:
    scale = np.ones(m)
    scale[-1] = factor
    return scale


def _scale_cases():
    cases = []
    for name in SOLVERS:
        solver = create(name)
        for economy, _ in known_economies():
            if solver.skip(economy) is None and not economy.production:   # no units change with producers
                cases.append((name, economy))
                break
    return cases


@pytest.mark.parametrize("name, economy", _scale_cases(), ids=[n for n, _ in _scale_cases()])
@pytest.mark.slow
def test_prices_do_not_depend_on_money_or_units(name, economy):
    """Endowments (or budgets) times 1e6 and one good in units 1e-6 as large: the normalised
    prices, mapped back to the old units, are the same."""
    if create(name).unavailable():
        pytest.skip(f"{name}: {create(name).unavailable()}")
    base = solve(create(name), economy, TOL, 10.0, 0)
    other = solve(create(name), in_units(economy, _last_good(economy.n_goods, 1e6), money=1e6), TOL, 10.0, 0)
    # a process that trades comes to rest where its path takes it, at an equilibrium or not;
    # in other units it must take the same path
    wanted = base.status if create(name).trades else "converged"
    assert base.status == other.status == wanted, (base.status, other.status, other.message)
    back = other.prices.copy()
    back[-1] *= 1e6
    back /= back.sum()
    assert np.abs(back - base.prices).max() < 1e-5, (base.prices, back)
