"""The certificate's resolution: goods worth less than the tolerance are judged free, so a
point that only approaches a quasi-equilibrium never passes, and the verdict does not depend
on the units in which goods are counted (docs/format.md, "Resolution")."""
import numpy as np
import pytest

from gebench.markets import certify, make_economy
from gebench.markets.classic import CLASSICS, no_equilibrium_linear
from gebench.markets.closed_form import cobb_douglas_equilibrium
from gebench.markets.generators import generate
from gebench.markets.production import Producer
from gebench.solvers import create, solve

TOL = 1e-6
GALE_ALLOCATION = [[1.0, 1.0], [0.0, 1.0]]


@pytest.mark.parametrize("eps", [4e-7, 1e-7, 1e-9, 2.6e-14])
def test_points_that_approach_gales_quasi_equilibrium_never_pass(eps):
    """Every measure is about eps, below the tolerance, but good 1 is worth 2 eps of all
    goods: judged free, agent 1 (who wants it) demands without bound."""
    certificate = certify(no_equilibrium_linear().economy, [1.0, eps], GALE_ALLOCATION)
    assert certificate.worst <= TOL
    assert certificate.resolution == pytest.approx(2 * eps / (1 + 2 * eps))
    assert not certificate.within(TOL) and certificate.unresolved(TOL)
    assert "agent 1" in certificate.refusal(TOL) and "good 1" in certificate.refusal(TOL)


def test_gales_points_priced_at_the_tolerance_are_the_approximations_it_asks_for():
    """At eps = 0.6 tol good 1 is worth 1.2 tol of all goods, resolved at the tolerance, and
    every measure is below it: an approximate equilibrium at tol (there is one at every
    tolerance, though no exact one). The rule refuses the limit, not the approximation."""
    certificate = certify(no_equilibrium_linear().economy, [1.0, 0.6 * TOL], GALE_ALLOCATION)
    assert certificate.within(TOL)
    assert not certificate.within(TOL / 10)


def test_the_judge_says_so_when_a_solver_converges_to_gales_boundary():
    result = solve(create("linear-exchange-ipm"), no_equilibrium_linear().economy, TOL, 30.0)
    assert result.status != "converged"
    assert "quasi-equilibrium" in result.message


def _tiny_share_economy(share: float):
    """Two Cobb-Douglas agents who spend `share` of their incomes on good 1: the equilibrium
    is exact and good 1 is worth `share` of all goods."""
    a = np.array([[1.0 - share, share], [1.0 - share, share]])
    return make_economy("exchange", "cobb-douglas", a, endowment=np.eye(2))


def test_a_genuine_equilibrium_priced_below_the_tolerance_is_refused_with_the_tolerance_it_needs():
    economy = _tiny_share_economy(1e-7)
    p, x = cobb_douglas_equilibrium(economy)
    certificate = certify(economy, p, x)
    assert certificate.worst < 1e-12
    assert not certificate.within(TOL)
    assert "needs a tolerance below 1e-07" in certificate.refusal(TOL)
    assert certificate.within(1e-8)


@pytest.mark.parametrize("name", sorted(CLASSICS))
def test_every_classic_published_equilibrium_is_resolved_at_the_suites_tolerance(name):
    classic = CLASSICS[name]()
    for k, p in enumerate(classic.equilibria):
        levels = classic.levels[k] if classic.levels else None
        certificate = certify(classic.economy, p, classic.allocation(k), levels)
        assert certificate.resolution > 1e-3 and certificate.within(TOL)


def _in_other_units(economy, scale):
    """The economy with good j counted in units 1/scale_j as large: endowments times scale,
    linear coefficients divided by it. Its equilibria are the same (prices divided by scale)."""
    return make_economy("exchange", "linear", economy.a / scale, endowment=economy.endowment * scale)


@pytest.mark.parametrize("eps", [3e-7, 2e-6, 1e-3])
@pytest.mark.parametrize("scale", [(1.0, 1e7), (1e-9, 1.0), (5e4, 3e-5)])
def test_the_verdict_does_not_depend_on_the_units_of_goods(eps, scale):
    scale = np.array(scale)
    gale = no_equilibrium_linear().economy
    p, x = np.array([1.0, eps]), np.array(GALE_ALLOCATION)
    before = certify(gale, p, x)
    after = certify(_in_other_units(gale, scale), p / scale, x * scale)
    assert after.resolution == pytest.approx(before.resolution, rel=1e-9)
    assert after.within(TOL) == before.within(TOL)


def test_the_verdict_does_not_depend_on_the_order_of_goods_and_agents():
    economy = generate("exchange-cobb-douglas", 6, 5, seed=3)
    p, x = cobb_douglas_equilibrium(economy)
    goods, agents = np.array([3, 0, 4, 1, 2]), np.array([5, 2, 0, 1, 4, 3])
    reordered = make_economy("exchange", "cobb-douglas", economy.a[agents][:, goods],
                             endowment=economy.endowment[agents][:, goods])
    before, after = certify(economy, p, x), certify(reordered, p[goods], x[agents][:, goods])
    assert after.resolution == pytest.approx(before.resolution, rel=1e-12)
    assert after.within(TOL) == before.within(TOL)


def test_complements_need_every_good_they_want_free():
    """A Leontief agent's demand is unbounded only when every good it wants is free, so its
    threshold is the largest share among them, not the least."""
    economy = make_economy("exchange", "leontief", np.ones((2, 2)), endowment=np.eye(2))
    certificate = certify(economy, [1.0, 1e-9], [[1.0, 1.0], [0.0, 0.0]])
    assert certificate.resolution == pytest.approx(1.0 / (1.0 + 1e-9))


def test_a_technology_whose_inputs_are_nearly_free_sets_the_resolution():
    """An activity making good 0 from good 1, at prices where good 1 is worth 1e-9 of all
    goods: with good 1 free, its profit would be unbounded."""
    economy = make_economy("exchange", "linear", [[1.0, 0.0]], endowment=[[0.0, 1.0]],
                           producers=[Producer("activity", net_output=np.array([1.0, -1.0]))])
    certificate = certify(economy, [1.0, 1e-9], [[1.0, 0.0]], [1.0])
    assert certificate.resolution == pytest.approx(1e-9 / (1.0 + 1e-9))
    assert "producer 0" in certificate.boundary
