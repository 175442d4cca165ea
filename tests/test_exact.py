"""The exact solvers against closed forms, classic economies and each other."""
import numpy as np
import pytest

from gebench.markets import make_economy
from gebench.markets.classic import CLASSICS, no_equilibrium_linear, scarf_1960, scarf_hirota, three_equilibria
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.games import game_of
from gebench.markets.generators import build, generate
from gebench.solvers import create, solve
from gebench.solvers.planners.lemke_howson import lemke_howson

NOT_CONVERGED = {"max_iter", "diverged", "timeout", "failed", "no_equilibrium"}


@pytest.mark.parametrize("name", sorted(CLASSICS))
def test_classic_economies_certify_at_their_published_equilibria(name):
    from gebench.markets import certify, demand
    classic = CLASSICS[name]()
    economy = classic.economy
    for k, p in enumerate(classic.equilibria):
        x = demand(economy, p, economy.incomes(p))
        assert certify(economy, p, x, classic.levels[k] if classic.levels else None).within(1e-12)


@pytest.mark.parametrize("solver", ["scarf", "homotopy", "newton"])
@pytest.mark.parametrize("family", ["exchange-cobb-douglas", "fisher-cobb-douglas"])
def test_price_space_solvers_find_cobb_douglas_prices(solver, family):
    economy = generate(family, 8, 6, seed=4)
    result = solve(create(solver), economy, tol=1e-7)
    assert result.status == "converged"
    expected = cobb_douglas_prices(economy)
    assert np.abs(result.prices - expected / expected.sum()).max() < 1e-5


@pytest.mark.parametrize("solver", ["scarf", "homotopy", "newton"])
def test_a_symmetric_ces_economy_gets_symmetric_prices(solver):
    # agents and goods on a cycle: every relabelling i -> i+1 maps the economy to itself
    m = 5
    a = np.array([np.roll([3.0, 1.0, 0.5, 0.5, 1.0], i) for i in range(m)])
    endowment = np.array([np.roll([1.0, 0.2, 0.0, 0.0, 0.2], i) for i in range(m)])
    economy = make_economy("exchange", "ces", a, rho=-1.5, endowment=endowment)
    result = solve(create(solver), economy, tol=1e-7)
    assert result.status == "converged"
    assert np.abs(result.prices - 1 / m).max() < 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_scarf_and_homotopy_agree_on_ces_complements(seed):
    economy = build("ces-complements", 6, seed, rho=-3.0)
    scarf = solve(create("scarf"), economy, tol=1e-7)
    homotopy = solve(create("homotopy"), economy, tol=1e-7)
    newton = solve(create("newton"), economy, tol=1e-7)
    assert scarf.status == homotopy.status == "converged"
    assert np.abs(scarf.prices - homotopy.prices).max() < 1e-5
    if newton.status == "converged":
        assert np.abs(newton.prices - homotopy.prices).max() < 1e-5


def test_scarf_agrees_with_lemke_howson_where_the_game_has_one_equilibrium():
    compared = 0
    for d, seed in [(2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (5, 0)]:
        economy = build("leontief-game", d, seed)
        form = game_of(economy)
        ends = {tuple(np.round(np.asarray(lemke_howson(form.R, form.C, k, "exact")[0], float), 12))
                for k in range(2 * d)}
        lh = solve(create("lemke-howson"), economy, tol=1e-9)
        scarf = solve(create("scarf"), economy, tol=1e-7)
        assert lh.status == scarf.status == "converged"
        if len(ends) == 1:              # every Lemke-Howson path ends at the same equilibrium
            assert np.abs(scarf.prices - lh.prices).max() < 1e-3
            compared += 1
    assert compared >= 4


def test_on_hirotas_holdings_tatonnement_converges_unless_its_step_overshoots_and_scarf_always_does():
    classic = scarf_hirota()
    for seed in range(3):
        small = solve(create("tatonnement[start='random',step=0.1,max_iter=200000]"), classic.economy,
                      tol=1e-6, seed=seed)
        assert small.status == "converged" and np.abs(small.prices - 1 / 3).max() < 1e-4
        big = solve(create("tatonnement[start='random',step=0.5,max_iter=200000]"), classic.economy,
                    tol=1e-6, seed=seed)
        assert big.status == "max_iter" and big.certificate.worst > 0.1 and np.abs(big.prices - 1 / 3).max() > 0.2
    scarf = solve(create("scarf"), classic.economy, tol=1e-6)
    assert scarf.status == "converged" and np.abs(scarf.prices - 1 / 3).max() < 1e-5
    original = solve(create("scarf"), scarf_1960().economy, tol=1e-6)
    assert original.status == "converged" and np.abs(original.prices - 1 / 3).max() < 1e-5


def test_homotopy_from_several_starts_finds_all_three_equilibria():
    classic = three_equilibria()
    result = solve(create("homotopy[starts=8]"), classic.economy, tol=1e-9, seed=0)
    assert result.status == "converged"
    found = [np.array(p) for p in result.extra["equilibria"]]
    assert len(found) == 3
    for p in classic.equilibria:
        assert min(np.abs(q - p).max() for q in found) < 1e-7
    assert result.extra["paths"] == 8 and result.extra["path_length"] > 0


def test_newton_reports_failure_honestly():
    economy = build("exchange-leontief", 10, 0)
    result = solve(create("newton"), economy, tol=1e-6)
    assert result.status in NOT_CONVERGED
    assert result.certificate is None or not result.certificate.within(1e-6)
    assert result.message


@pytest.mark.parametrize("seed", range(3))
def test_linear_exchange_program_is_exact_and_agrees_with_proportional_response(seed):
    economy = build("exchange-linear", 12, seed)
    cp = solve(create("linear-exchange-cp"), economy, tol=1e-8)
    assert cp.status == "converged" and cp.certificate.within(1e-8)
    pr = solve(create("proportional-response"), economy, tol=1e-7)
    assert pr.status == "converged"
    assert np.abs(cp.prices - pr.prices).max() < 1e-4


def test_linear_exchange_program_proves_there_is_no_equilibrium():
    result = solve(create("linear-exchange-cp"), no_equilibrium_linear().economy, tol=1e-8)
    assert result.status == "no_equilibrium" and "no equilibrium" in result.message


def test_solvers_decline_what_they_cannot_handle_with_a_reason():
    linear = generate("exchange-linear", 3, 3, seed=0)
    assert "correspondence" not in (create("linear-exchange-cp").skip(linear) or "")
    assert "linear" in create("scarf").skip(linear)
    assert "linear" in create("homotopy").skip(linear)
    unwanted = make_economy("exchange", "linear", np.array([[1.0, 0.0], [1.0, 0.0]]), endowment=np.eye(2))
    assert "wanted by nobody" in create("linear-exchange-cp").skip(unwanted)
    assert "leontief" in create("homotopy").skip(generate("exchange-leontief", 3, 3, seed=0))


@pytest.mark.parametrize("solver, family, size", [
    ("scarf", "leontief-game-hard", 10), ("homotopy", "ces-complements", 200),
    ("newton", "exchange-ces", 600), ("linear-exchange-cp", "exchange-linear", 200)])
@pytest.mark.slow
def test_exact_solvers_stop_at_the_deadline(solver, family, size):
    economy = build(family, size, 0)
    result = solve(create(solver), economy, tol=1e-12, time_limit=0.3)
    assert result.status in {"timeout", "converged", "failed"}
    assert result.seconds < 3.0
