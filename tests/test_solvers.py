import numpy as np
import pytest

from gebench.markets import make_economy
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.generators import generate
from gebench.solvers import Outcome, Solver, Unsupported, available, create, solve
from gebench.solvers.registry import load_errors

BUILTIN = ("eisenberg-gale", "proportional-response", "tatonnement")


@pytest.fixture(scope="module")
def warm():
    solvers = {name: create(name) for name in BUILTIN}
    for s in solvers.values():
        s.warm_up()
    return solvers


def test_builtins_are_registered():
    assert set(BUILTIN) <= set(available())
    assert not load_errors()


@pytest.mark.parametrize("family", ["exchange-cobb-douglas", "fisher-cobb-douglas"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_applicable_solver_matches_cobb_douglas_closed_form(warm, family, seed):
    economy = generate(family, 12, 9, seed=seed, density=0.5)
    expected = cobb_douglas_prices(economy)
    ran = 0
    for solver in warm.values():
        if solver.skip(economy):
            continue
        result = solve(solver, economy, tol=1e-8, time_limit=60)
        assert result.status == "converged", (solver.name, result.message)
        np.testing.assert_allclose(result.prices, expected, atol=1e-6, err_msg=solver.name)
        ran += 1
    assert ran >= (3 if family.startswith("fisher") else 2)


@pytest.mark.parametrize("family, rho", [("fisher-linear", None), ("fisher-ces", 0.5), ("fisher-ces", 0.8)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eisenberg_gale_and_proportional_response_agree(warm, family, rho, seed):
    economy = generate(family, 15, 10, seed=seed, rho=rho)
    planner = solve(warm["eisenberg-gale"], economy, tol=1e-8)
    market = solve(warm["proportional-response"], economy, tol=1e-8, time_limit=60)
    assert planner.status == "converged" and market.status == "converged"
    np.testing.assert_allclose(planner.prices, market.prices, atol=1e-5)


@pytest.mark.parametrize("family", ["fisher-leontief", "fisher-ces", "exchange-ces"])
def test_tatonnement_on_demand_functions(warm, family):
    economy = generate(family, 10, 8, seed=4, rho=-1.0 if "ces" in family else None)
    result = solve(warm["tatonnement"], economy, tol=1e-6, time_limit=60)
    assert result.status == "converged"
    assert result.certificate.worst <= 1e-6


def test_proportional_response_on_linear_exchange(warm):
    economy = generate("exchange-linear", 10, 8, seed=2)
    result = solve(warm["proportional-response"], economy, tol=1e-6, time_limit=60)
    assert result.status == "converged" and result.certificate.worst <= 1e-6


@pytest.mark.parametrize("name, family, rho", [
    ("eisenberg-gale", "exchange-linear", None),
    ("tatonnement", "fisher-linear", None),
    ("proportional-response", "fisher-leontief", None),
    ("proportional-response", "fisher-ces", -1.0),
])
def test_unsupported_economies_are_refused_before_running(warm, name, family, rho):
    economy = generate(family, 3, 3, seed=0, rho=rho)
    with pytest.raises(Unsupported, match=name):
        solve(warm[name], economy)


def test_prices_sum_to_one_and_time_is_measured(warm):
    economy = generate("fisher-ces", 6, 6, seed=0)
    result = solve(warm["tatonnement"], economy, tol=1e-6)
    assert result.prices.sum() == pytest.approx(1.0)
    assert result.seconds > 0 and result.iterations > 0


class _Liar(Solver):
    name = "liar"
    models = frozenset({"fisher"})
    utilities = frozenset({"linear"})

    def run(self, economy, tol, deadline, seed):
        m = economy.n_goods
        return Outcome("converged", np.ones(m), np.ones((economy.n_agents, m)), 1)


class _Crasher(_Liar):
    name = "crasher"

    def run(self, economy, tol, deadline, seed):
        raise RuntimeError("boom")


class _NaN(_Liar):
    name = "nan"

    def run(self, economy, tol, deadline, seed):
        m = economy.n_goods
        return Outcome("max_iter", np.full(m, np.nan), np.ones((economy.n_agents, m)), 1)


def test_a_false_convergence_claim_is_caught():
    economy = generate("fisher-linear", 4, 3, seed=0)
    result = solve(_Liar(), economy)
    assert result.status == "failed" and "certificate" in result.message
    assert result.certificate.worst > 1e-6


def test_exceptions_become_failed_results():
    result = solve(_Crasher(), generate("fisher-linear", 3, 3, seed=0))
    assert result.status == "failed" and "boom" in result.message


def test_nan_answers_become_failed_results():
    result = solve(_NaN(), generate("fisher-linear", 3, 3, seed=0))
    assert result.status == "failed" and "prices" in result.message


def test_tatonnement_reports_non_convergence_honestly(warm):
    # Two Leontief traders with exactly complementary needs: tatonnement from uniform
    # prices needs many steps; with max_iter tiny it must say max_iter, not converged.
    economy = generate("exchange-leontief", 8, 8, seed=0)
    result = solve(create("tatonnement[max_iter=3]"), economy, tol=1e-10)
    assert result.status == "max_iter"
    assert result.certificate.worst > 1e-10


def test_the_deadline_is_honoured(warm):
    economy = generate("fisher-linear", 200, 200, seed=0)
    result = solve(warm["proportional-response"], economy, tol=1e-14, time_limit=0.3)
    assert result.status == "timeout"
    assert result.seconds < 2.0


def test_solver_parameters_are_checked():
    from gebench.markets import InputError
    with pytest.raises(InputError, match="unknown parameter"):
        create("tatonnement[speed=1]")
    with pytest.raises(InputError, match="step"):
        create("tatonnement[step=2]")
    assert create("tatonnement[step=0.25]").params["step"] == 0.25
    with pytest.raises(InputError, match="unknown 'nope'"):
        create("nope")


def test_input_economy_is_not_mutated(warm):
    economy = make_economy("exchange", "cobb-douglas", [[1.0, 2.0], [2.0, 1.0]], endowment=[[1.0, 0.0], [0.0, 1.0]])
    before = (economy.a.copy(), economy.endowment.copy())
    solve(warm["tatonnement"], economy)
    solve(warm["proportional-response"], economy)
    np.testing.assert_array_equal(economy.a, before[0])
    np.testing.assert_array_equal(economy.endowment, before[1])


def _assert_kernel_step_matches_the_reference(e, p0):
    """One step of the compiled tatonnement kernel (CES fast path, blocks, fallbacks) equals
    the step that the overflow-safe reference demand gives."""
    from gebench.markets import demand
    from gebench.solvers.auctioneers.tatonnement import tatonnement_steps
    from gebench.solvers.kernels.ces_weights import ces_weights
    from gebench.solvers.kernels.incomes import income_inputs
    z = (demand(e, p0, e.incomes(p0)).sum(axis=0) - e.total_supply) / e.total_supply
    expected = p0 * (1 + 0.5 * np.minimum(z, 1.0))
    expected /= expected.sum()
    p = p0.copy()
    share, endowment = income_inputs(e)
    assert tatonnement_steps(e.kinds, e.a, e.log_a, e.rho, ces_weights(e.kinds, e.a, e.rho), share, endowment,
                             e.total_supply, p, 0.5, 1, np.empty(e.n_goods))
    np.testing.assert_allclose(p, expected, rtol=1e-9)


@pytest.mark.parametrize("rho", [-50.0, -1.0, 0.5, 0.99])
def test_tatonnement_kernel_step_matches_the_reference_demand(rho):
    p0 = np.geomspace(1e-3, 1.0, 9)
    _assert_kernel_step_matches_the_reference(generate("exchange-ces", 12, 9, seed=1, rho=rho, density=0.6),
                                              p0 / p0.sum())


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8])
def test_tatonnement_kernel_step_with_mixed_agents_matches_the_reference_demand(n):
    # CES agents go through the kernel in blocks of one rho: blocks of every length split by
    # another rho or family, and a row that underflows (sigma = 200, its favourite good the
    # dearest) must each give the reference demand's step.
    from gebench.markets import make_economy
    rng = np.random.default_rng(n)
    families = ["ces", "ces", "ces", "cobb-douglas", "ces", "ces", "leontief", "ces"][:n]
    rho = np.array([0.5, 0.5, 0.5, np.nan, 0.995, 0.5, np.nan, -2.0])[:n]
    a = rng.random((8, 6)) + 0.01
    a[4] = [1e-3] * 5 + [1.0]
    p0 = np.geomspace(0.05, 1.0, 6)
    _assert_kernel_step_matches_the_reference(
        make_economy("fisher", families, a[:n], rho=rho, budget=rng.random(n) + 0.5), p0 / p0.sum())


@pytest.mark.parametrize("n", [4, 5, 6, 9])
def test_tatonnement_kernel_step_with_underflowing_rows_inside_a_block_matches_the_reference(n):
    # One rho for all, so all rows form one block, four at a time; rows 0, 2 and n - 1 want
    # most the dearest good with sigma = 200, so their cost underflows and they fall back.
    from gebench.markets import make_economy
    rng = np.random.default_rng(n)
    a = rng.random((n, 6)) + 0.5
    for i in (0, 2, n - 1):
        a[i] = [1e-3] * 5 + [1.0]
    p0 = np.geomspace(0.05, 1.0, 6)
    _assert_kernel_step_matches_the_reference(
        make_economy("fisher", "ces", a, rho=0.995, budget=rng.random(n) + 0.5), p0 / p0.sum())
