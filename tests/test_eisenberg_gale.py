"""eisenberg-gale: the cvxpy program's cones and the accuracy it asks of Clarabel."""
import cvxpy as cp
import numpy as np
import pytest

from gebench.markets import CES, LEONTIEF, LINEAR, InputError, make_economy
from gebench.markets.generators import generate
from gebench.solvers import create, solve
from gebench.solvers.interior.fisher_ipm import FisherInteriorPoint
from gebench.solvers.planners.eisenberg_gale import ACCURACY_PER_TOL, accuracy_for, build_program
from gebench.solvers.testing import warmed


@pytest.fixture(scope="module")
def ipm():
    return warmed(FisherInteriorPoint)


def cone_kinds(economy, cones):
    problem, _, _ = build_program(economy, cones)
    return {type(c).__name__ for c in problem.constraints}


@pytest.mark.parametrize("rho, cones, expected", [
    (0.5, "auto", {"PowCone3D"}), (0.5, "power", {"PowCone3D"}), (0.5, "second-order", {"SOC"}),
    (-1.0, "auto", {"SOC"}), (-1.0, "power", {"PowCone3D"}), (-1.0, "second-order", {"SOC"}),
    (-2.0, "auto", {"PowCone3D"}), (0.3, "second-order", {"PowCone3D"}),
])
def test_the_cone_of_each_ces_mean(rho, cones, expected):
    economy = generate("fisher-ces", agents=4, goods=3, seed=0, rho=rho)
    assert cone_kinds(economy, cones) - {"Inequality"} == expected


@pytest.mark.parametrize("rho", [0.5, -1.0])
@pytest.mark.parametrize("cones", ["power", "second-order"])
def test_both_cone_forms_give_the_equilibrium(ipm, rho, cones):
    # the same program either way; how far Clarabel gets on each is measured, not tested
    economy = generate("fisher-ces", agents=6, goods=4, seed=2, rho=rho)
    result = solve(create(f"eisenberg-gale[cones='{cones}',accuracy=1e-12]"), economy, 1e-5, 60.0)
    reference = solve(ipm, economy, 1e-10, 60.0)
    assert result.status == reference.status == "converged", result.message
    np.testing.assert_allclose(result.prices, reference.prices, rtol=1e-4)


def test_the_accuracy_follows_the_tolerance_and_the_strictest_family():
    linear = generate("fisher-linear", agents=5, goods=4, seed=0)
    assert accuracy_for(linear, 1e-6) == pytest.approx(1e-6 * ACCURACY_PER_TOL[LINEAR])
    assert accuracy_for(linear, 1e-4) == pytest.approx(100 * accuracy_for(linear, 1e-6))
    mixed = make_economy("fisher", ["linear", "ces", "leontief"], np.ones((3, 2)) + np.eye(3, 2),
                         rho=0.5, budget=np.ones(3))
    strictest = min(ACCURACY_PER_TOL[k] for k in (LINEAR, CES, LEONTIEF))
    assert accuracy_for(mixed, 1e-6) == pytest.approx(1e-6 * strictest)
    assert accuracy_for(mixed, 1e-12) == 1e-13


def test_a_looser_tolerance_asks_clarabel_for_fewer_iterations():
    economy = generate("fisher-linear", agents=40, goods=40, seed=1)
    solver = create("eisenberg-gale")
    loose, tight = solve(solver, economy, 1e-3, 60.0), solve(solver, economy, 1e-8, 60.0)
    assert loose.status == tight.status == "converged"
    assert loose.certificate.worst <= 1e-3 and tight.certificate.worst <= 1e-8
    assert loose.iterations < tight.iterations


@pytest.mark.parametrize("spec", ["eisenberg-gale[accuracy='tight']", "eisenberg-gale[accuracy=0]",
                                  "eisenberg-gale[cones='exponential']"])
def test_bad_parameters_are_refused(spec):
    with pytest.raises(InputError, match="eisenberg-gale: parameter"):
        create(spec)


def test_the_program_has_no_cone_for_linear_markets_but_their_logarithms():
    economy = generate("fisher-linear", agents=3, goods=3, seed=0)
    problem, _, _ = build_program(economy)
    assert all(isinstance(c, cp.constraints.Inequality) for c in problem.constraints)
