"""linear-exchange-ipm: the structured interior point on Ye's path of a linear exchange economy."""
import time

import numpy as np
import pytest

from gebench.markets import certify, make_economy
from gebench.markets.classic import no_equilibrium_linear
from gebench.markets.generators import generate
from gebench.markets.units import unit_supply
from gebench.solvers import solve
from gebench.solvers.interior.exchange_ipm import ExchangeProgram, LinearExchangeInteriorPoint
from gebench.solvers.interior.program import HALVINGS, NewtonFailure, NoDescent, Program, centring
from gebench.solvers.testing import solver_checks, warmed
from tests.conftest import interior_point_converged as converged
from tests.conftest import warmed_or_skip

TOL = 1e-8


@pytest.fixture(scope="module")
def ipm():
    return warmed(LinearExchangeInteriorPoint)


@pytest.mark.parametrize("name, check", solver_checks(LinearExchangeInteriorPoint),
                         ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.slow
def test_conformance(name, check):
    check()


@pytest.mark.parametrize("agents, goods", [(2, 2), (7, 7), (30, 30), (5, 40), (40, 5), (80, 80)])
def test_random_linear_exchange_economies_certify(ipm, agents, goods):
    for seed in range(5):
        converged(ipm, generate("exchange-linear", agents, goods, seed=seed))


@pytest.mark.parametrize("seed", range(3))
def test_prices_agree_with_the_convex_program(ipm, seed):
    program = warmed_or_skip("linear-exchange-cp")
    economy = generate("exchange-linear", 12, 12, seed=seed)
    ours = converged(ipm, economy)
    theirs = solve(program, economy, TOL, 60.0)
    assert theirs.status == "converged"
    p, q = ours.prices / ours.prices.sum(), theirs.prices / theirs.prices.sum()
    assert np.abs(p - q).max() < 1e-6 * p.max()


def test_sparse_economies_match_dense(ipm):
    economy = generate("exchange-linear", 60, 60, seed=3, density=0.3)
    dense, sparse = converged(ipm, economy), converged(ipm, economy.to_sparse())
    assert np.allclose(dense.prices / dense.prices.sum(), sparse.prices / sparse.prices.sum(), rtol=1e-7)
    assert abs(dense.iterations - sparse.iterations) <= 2


@pytest.mark.parametrize("seed", range(3))
def test_agents_whose_wealth_spans_eight_orders_of_magnitude(ipm, seed):
    rng = np.random.default_rng(seed)
    endowment = rng.random((20, 20)) * 10.0 ** rng.uniform(-4, 4, (20, 1))
    converged(ipm, make_economy("exchange", "linear", rng.random((20, 20)), endowment=endowment))


def _path_residual(program, t):
    """The path's equations to target t, written out from their definitions (not the solver's
    kernels): dual rows p_j - B_i(t) a_ij / u_i - z_ij, supply rows, complementarity."""
    budget = program.value_of(program.p) - t * program.reduction
    utility = np.bincount(program.agent, weights=program.share * program.x, minlength=program.n)
    g = program.share / utility[program.agent]
    return (program.p[program.indices] - budget[program.agent] * g - program.z,
            np.bincount(program.indices, weights=program.x, minlength=program.m) + program.s - program.supply,
            program.x * program.z - t * program.omega,
            program.s * program.p - t * program.omega_s)


@pytest.mark.parametrize("sparse", [False, True])
def test_the_newton_direction_solves_the_linearised_path(sparse):
    """The reduced LU solve (Fisher's Schur complement less C E, the budgets' rank-one terms)
    gives the Newton direction of the path's equations, checked by finite differences; every
    supply row but the numeraire's is solved for."""
    economy = generate("exchange-linear", 9, 7, seed=2, density=0.7)
    economy, _ = unit_supply(economy.to_sparse() if sparse else economy)
    program = ExchangeProgram(economy)
    program.step()
    program.reweigh(program.value_of(program.p))
    program.evaluate()
    t = program.gap() / program.total
    rc_x, rc_u = np.empty_like(program.x), np.empty_like(program.u)
    centring(program.omega, t, program.x, program.z, np.zeros_like(program.x), np.zeros_like(program.x), rc_x)
    centring(program.omega_u, t, program.u, program.zu, np.zeros_like(program.u), np.zeros_like(program.u), rc_u)
    dx, _, ds, dz, _, dp = program.direction(program.factor(), rc_x, rc_u,
                                             t * program.omega_s - program.s * program.p, t, refine=False)
    assert dp[program.fixed] == 0.0
    before = _path_residual(program, t)
    eps = 1e-6
    program.x += eps * dx
    program.s += eps * ds
    program.z += eps * dz
    program.p += eps * dp
    after = _path_residual(program, t)
    kept = np.arange(program.m) != program.fixed
    for name, f0, f1 in zip(("dual", "supply", "complementarity", "slack"), before, after):
        change = (f1 - f0) / eps + f0                    # 0 to first order for a Newton direction
        if name == "supply":
            change = change[kept]
        assert np.abs(change).max() < 1e-4 * max(1.0, np.abs(f0).max()), name


def test_the_dual_residual_moves_with_the_target():
    """The predictor (t = 0) and the corrector correct the dual rows at their own target's
    budgets, not at the evaluated mu's."""
    economy, _ = unit_supply(generate("exchange-linear", 11, 8, seed=4))
    program = ExchangeProgram(economy)
    program.step()
    program.evaluate()
    assert program.mu_evaluated > 0
    for t in (0.0, 0.3 * program.mu_evaluated, 2.0 * program.mu_evaluated):
        np.testing.assert_allclose(program.dual_at(t), _path_residual(program, t)[0], rtol=1e-10, atol=1e-12)


def test_a_watchdog_step_is_taken_where_no_step_reduces_the_merit(monkeypatch):
    """Where the line search finds no decrease, the step follows the direction anyway as far as
    budgets stay positive; where no length keeps them positive, the point is left as it was."""
    def refuse(self, direction, alpha):
        self.tried = (direction, alpha)
        raise NoDescent("refused")

    economy, _ = unit_supply(generate("exchange-linear", 10, 10, seed=0))
    program = ExchangeProgram(economy)
    monkeypatch.setattr(Program, "line_search", refuse)
    before = program.p.copy()
    alpha = program.step()
    direction, tried = program.tried
    assert 0 < alpha <= tried
    np.testing.assert_allclose(program.p, before + alpha * direction[-1])
    assert np.all(program.weight > 0)

    program = ExchangeProgram(economy)
    before = [v.copy() for v in (program.x, program.s, program.z, program.p)]
    real = ExchangeProgram.evaluate
    calls = {"n": 0}

    def budgets_never_positive_after_the_first(self):   # every trial of the watchdog fails
        calls["n"] += 1
        if 1 < calls["n"] <= 1 + HALVINGS:
            raise NewtonFailure("a budget is not positive")
        real(self)

    monkeypatch.setattr(ExchangeProgram, "evaluate", budgets_never_positive_after_the_first)
    with pytest.raises(NoDescent):
        program.step()
    assert calls["n"] == HALVINGS + 2                   # the first, the trials, the restored point
    for v, v0 in zip((program.x, program.s, program.z, program.p), before):
        np.testing.assert_array_equal(v, v0)


def test_the_budgets_spend_the_incomes_along_the_path():
    """Walras' law on the path: spending (prices times allocations, plus the slacks' value)
    less income is the complementarity's distance from its target, at any point."""
    economy, _ = unit_supply(generate("exchange-linear", 15, 12, seed=1))
    program = ExchangeProgram(economy)
    for _ in range(3):
        program.step()
    t = 0.37 * program.gap() / program.total
    dual, supply, complementarity, slack = _path_residual(program, t)
    lhs = program.p @ supply - program.x @ dual
    assert lhs == pytest.approx(complementarity.sum() + slack.sum(), abs=1e-12)


def test_newton_steps_are_reported_and_few(ipm):
    for seed in range(3):
        assert converged(ipm, generate("exchange-linear", 80, 80, seed=seed)).iterations <= 45


def test_gales_economy_is_never_converged(ipm):
    """Gale's economy has no equilibrium; its path runs to p = (1, delta), delta -> 0, whose
    measures all vanish. The certificate judges a good worth less than the tolerance as free,
    so the end is the quasi-equilibrium it approaches: failed, and the message says why."""
    economy = no_equilibrium_linear().economy
    result = solve(ipm, economy, TOL, 60.0)
    assert result.status in ("failed", "no_equilibrium")
    assert result.prices.min() / result.prices.max() < TOL
    assert "resolution" in result.message and "quasi-equilibrium" in result.message


def test_a_good_nobody_wants_is_declined_with_a_reason(ipm):
    economy = make_economy("exchange", "linear", np.array([[1.0, 0.0], [1.0, 0.0]]), endowment=np.eye(2))
    for form in (economy, economy.to_sparse()):
        assert "good 1 is wanted by nobody" in ipm.skip(form)


def test_too_few_steps_is_not_converged():
    economy = generate("exchange-linear", 30, 30, seed=1)
    solver = LinearExchangeInteriorPoint(max_steps=2)
    outcome = solver.run(economy, TOL, time.perf_counter() + 60.0, 0)
    assert outcome.status in ("max_iter", "failed") and outcome.iterations == 2
    assert certify(economy, outcome.prices / outcome.prices.sum(), outcome.allocation).worst > TOL


def test_a_deadline_already_past_is_a_timeout(ipm):
    economy = generate("exchange-linear", 30, 30, seed=1)
    outcome = ipm.run(economy, TOL, time.perf_counter(), 0)
    assert outcome.status == "timeout" and outcome.iterations == 0
    assert outcome.prices.shape == (30,) and outcome.allocation.shape == (30, 30)


def test_fisher_markets_are_declined(ipm):
    assert "fisher" in ipm.skip(generate("fisher-linear", 4, 4, seed=0))
