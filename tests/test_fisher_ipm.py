"""fisher-ipm: the structured primal-dual interior point on the Eisenberg-Gale program."""
import time

import numpy as np
import pytest
import scipy.sparse as sp

from gebench.markets import certify, make_economy
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.generators import generate
from gebench.markets.units import unit_supply
from gebench.solvers import solve
from gebench.solvers.interior.fisher_ipm import FisherInteriorPoint
from gebench.solvers.interior.program import Program
from gebench.solvers.testing import solver_checks, warmed
from tests.conftest import interior_point_converged as converged
from tests.conftest import warmed_or_skip

TOL = 1e-8


@pytest.fixture(scope="module")
def ipm():
    return warmed(FisherInteriorPoint)


@pytest.fixture(scope="module")
def eisenberg_gale():
    return warmed_or_skip("eisenberg-gale")


@pytest.mark.parametrize("name, check", solver_checks(FisherInteriorPoint),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_conformance(name, check):
    check()


@pytest.mark.parametrize("agents, goods", [(5, 4), (12, 9), (40, 30), (80, 80)])
@pytest.mark.parametrize("seed", [0, 1])
def test_cobb_douglas_closed_form(ipm, agents, goods, seed):
    economy = generate("fisher-cobb-douglas", agents=agents, goods=goods, seed=seed, density=0.6)
    result = converged(ipm, economy)
    np.testing.assert_allclose(result.prices, cobb_douglas_prices(economy), atol=1e-7, rtol=0)


# (family, rho, size, seeds): seeds on which eisenberg-gale itself certifies to 1e-7, so that it is a reference
REFERENCE = [
    ("fisher-linear", None, 10, (0, 1)), ("fisher-linear", None, 20, (0, 1)),
    ("fisher-ces", 0.5, 10, (1, 2)), ("fisher-ces", 0.5, 20, (1, 2)),
    ("fisher-ces", -2.0, 10, (1, 2)), ("fisher-ces", -2.0, 20, (4,)),
    ("fisher-ces", 0.9, 10, (0, 1)), ("fisher-ces", 0.9, 20, (0, 1)),
    ("fisher-leontief", None, 10, (0, 3)), ("fisher-leontief", None, 20, (0, 2, 3)),
]


@pytest.mark.parametrize("family, rho, size, seeds", REFERENCE, ids=lambda v: str(v))
def test_prices_agree_with_the_conic_program(ipm, eisenberg_gale, family, rho, size, seeds):
    for seed in seeds:
        economy = generate(family, agents=size, goods=size, seed=seed, rho=rho)
        reference = solve(eisenberg_gale, economy, 1e-7, 120.0)
        assert reference.status == "converged", f"seed {seed}: the reference did not certify: {reference.message}"
        result = converged(ipm, economy)
        np.testing.assert_allclose(result.prices, reference.prices, atol=1e-6, rtol=0, err_msg=f"seed {seed}")


@pytest.mark.parametrize("rho", [-2.0, -0.05, 0.05, 0.9, 0.99, -10.0])
@pytest.mark.parametrize("density", [1.0, 0.3])
def test_ces_across_exponents(ipm, rho, density):
    for seed in (0, 1):
        economy = generate("fisher-ces", agents=15, goods=12, seed=seed, density=density, rho=rho)
        converged(ipm, economy)


def test_ces_near_zero_is_cobb_douglas_in_the_limit(ipm):
    cd = generate("fisher-cobb-douglas", agents=10, goods=8, seed=3)
    near = make_economy("fisher", "ces", cd.a, rho=1e-5, budget=cd.budget)
    result = converged(ipm, near)
    np.testing.assert_allclose(result.prices, cobb_douglas_prices(cd), atol=1e-4)


def mixed_market(seed, n=18, m=11):
    rng = np.random.default_rng(seed)
    families = ["linear", "cobb-douglas", "ces", "ces", "leontief", "ces"]
    kinds = [families[i % 6] for i in range(n)]
    rho = [[np.nan, np.nan, 0.5, -2.0, np.nan, 0.9][i % 6] for i in range(n)]
    a = rng.random((n, m)) * (rng.random((n, m)) < 0.6)
    a[np.arange(n), rng.integers(m, size=n)] += 0.5            # nobody wants nothing
    return make_economy("fisher", kinds, a, rho=rho, budget=1.0 + rng.random(n), supply=0.1 + 10 * rng.random(m))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixed_families_in_one_market(ipm, eisenberg_gale, seed):
    economy = mixed_market(seed)
    result = converged(ipm, economy)
    reference = solve(eisenberg_gale, economy, 1e-7, 120.0)
    assert reference.status == "converged", reference.message
    np.testing.assert_allclose(result.prices, reference.prices, atol=1e-6, rtol=0)


def test_budgets_and_supplies_of_many_magnitudes(ipm):
    rng = np.random.default_rng(5)
    n, m = 25, 20
    economy = make_economy("fisher", ["linear", "ces", "cobb-douglas", "leontief", "ces"] * 5,
                           rng.random((n, m)) + 0.01, rho=[np.nan, 0.7, np.nan, np.nan, -3.0] * 5,
                           budget=np.exp(3 * rng.normal(size=n)), supply=np.exp(3 * rng.normal(size=m)))
    converged(ipm, economy)


@pytest.mark.parametrize("utility, rho", [("linear", None), ("ces", 0.5), ("ces", -2.0), ("cobb-douglas", None),
                                          ("leontief", None)])
def test_an_agent_who_wants_a_single_good(ipm, utility, rho):
    a = np.random.default_rng(2).random((6, 5)) + 0.1
    a[0] = [0.0, 0.0, 1.0, 0.0, 0.0]
    economy = make_economy("fisher", utility, a, rho=rho, budget=np.arange(1.0, 7.0))
    result = converged(ipm, economy)
    x = result.allocation
    assert np.all(x[0, [0, 1, 3, 4]] == 0) and x[0, 2] > 0
    spent = x[0] @ result.prices
    assert spent == pytest.approx(economy.incomes(result.prices)[0], rel=1e-7)


def test_a_good_nobody_wants_is_free(ipm):
    a = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    for utility in ("linear", "ces", "leontief"):
        economy = make_economy("fisher", utility, a, rho=0.5 if utility == "ces" else None, budget=np.ones(3))
        result = converged(ipm, economy)
        assert result.prices[2] < 1e-9
        np.testing.assert_allclose(result.prices[:2], [0.5, 0.5], atol=1e-8)


@pytest.mark.parametrize("family, rho", [("fisher-linear", None), ("fisher-ces", 0.5), ("fisher-leontief", None)])
def test_sparse_markets_match_dense(ipm, family, rho):
    dense = generate(family, agents=60, goods=50, seed=4, density=0.1, rho=rho)
    csr = dense.to_sparse()
    a, b = converged(ipm, dense), converged(ipm, csr)
    assert sp.issparse(b.allocation) and not sp.issparse(a.allocation)
    np.testing.assert_allclose(b.prices, a.prices, atol=1e-9, rtol=0)
    np.testing.assert_allclose(b.allocation.toarray(), a.allocation, atol=1e-9, rtol=0)
    # the sparse allocation lives on the pattern of the coefficients: nobody gets what it does not want
    assert set(zip(*b.allocation.nonzero())) <= set(zip(*csr.a.nonzero()))


def test_newton_steps_are_reported_and_few(ipm):
    for seed in range(3):
        result = converged(ipm, generate("fisher-linear", agents=40, goods=40, seed=seed))
        assert result.iterations <= 30
        result = converged(ipm, generate("fisher-ces", agents=40, goods=40, seed=seed, rho=0.5))
        assert result.iterations <= 25


def test_too_few_steps_is_not_converged():
    economy = generate("fisher-linear", agents=30, goods=30, seed=1)
    solver = FisherInteriorPoint(max_steps=2)
    outcome = solver.run(economy, TOL, time.perf_counter() + 60.0, 0)
    assert outcome.status in ("max_iter", "failed")
    assert outcome.iterations == 2 and outcome.extra["newton_steps"] == 2
    result = solve(solver, economy, TOL, 60.0)
    assert result.status != "converged" and result.certificate.worst > TOL


def test_a_deadline_already_past_is_a_timeout(ipm):
    economy = generate("fisher-ces", agents=30, goods=30, seed=1, rho=0.5)
    outcome = ipm.run(economy, TOL, time.perf_counter(), 0)
    assert outcome.status == "timeout"
    assert outcome.iterations == 0
    assert outcome.prices.shape == (30,) and outcome.allocation.shape == (30, 30)


def test_the_certificate_decides_a_tolerance_it_cannot_reach(ipm):
    """Far below rounding the answer is judged, not claimed: converged only where it certifies."""
    economy = generate("fisher-linear", agents=20, goods=20, seed=2)
    outcome = ipm.run(economy, 1e-300, time.perf_counter() + 60.0, 0)
    assert outcome.status in ("failed", "max_iter")
    assert certify(economy, outcome.prices / outcome.prices.sum(), outcome.allocation).worst > 1e-300


def test_one_newton_step_reduces_the_residuals():
    economy, _ = unit_supply(generate("fisher-ces", agents=30, goods=25, seed=0, rho=0.5))
    program = Program(economy)
    before = program.residuals()
    length = program.step()
    after = program.residuals()
    assert 0 < length <= 1 and program.steps == 1
    assert after[0] <= before[0] + 1e-12 and sum(after) < sum(before)


def test_the_economy_is_left_as_it_was(ipm):
    economy = mixed_market(7)
    before = {k: np.array(v, copy=True) for k, v in vars(economy).items() if isinstance(v, np.ndarray)}
    solve(ipm, economy, TOL, 60.0)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(economy, k), v)
