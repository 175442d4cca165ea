import numpy as np
import pytest

from gebench.markets.generators import FAMILIES, generate
from gebench.solvers import Unavailable, solve
from gebench.solvers.testing import warmed

RANDOM_FAMILIES = sorted(name for name, family in FAMILIES.items() if family.size_name == "agents")


@pytest.fixture(params=RANDOM_FAMILIES)
def any_family(request):
    return request.param


def random_prices(rng, m):
    p = rng.random(m) + 0.05
    return p / p.sum()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def small(any_family):
    return generate(any_family, agents=6, goods=5, seed=3, density=0.6)


def warmed_or_skip(name: str):
    """The named solver, warmed up; the test skips, with the solver's reason, where it is
    unavailable here (an optional dependency not installed)."""
    try:
        return warmed(name)
    except Unavailable as exc:
        pytest.skip(str(exc))


def interior_point_converged(solver, economy, tol=1e-8):
    """An interior point's result that must be a certified equilibrium, its Newton steps reported."""
    result = solve(solver, economy, tol, 60.0)
    assert result.status == "converged", result.message
    assert result.certificate.worst <= tol
    assert result.extra["newton_steps"] == result.iterations > 0
    return result
