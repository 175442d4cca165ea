import numpy as np
import pytest

from gebench.markets import make_economy
from gebench.markets.generators import FAMILIES, generate
from gebench.markets.utilities import log_utility
from gebench.markets.welfare import individual_rationality
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


def _game_economy_as_given(R, C):
    m, n = len(R), len(R[0])
    a = np.zeros((m + n, m + n))
    a[:m, m:] = np.array(C, dtype=float)
    a[m:, :m] = np.array(R, dtype=float).T
    return make_economy("exchange", "leontief", a, endowment=np.eye(m + n))


@pytest.fixture
def raw_game_economy():
    """The Leontief economy of a game with its payoffs as given, not in canonical form (as an
    economy file may hold one): large payoffs whose float paths rounding can break."""
    return _game_economy_as_given


def assert_trades_well(economy, outcome, slack: float = 0.0):
    """A trader's points, every checkpoint and the end: feasible (goods conserved to 1e-12,
    none negative), nobody below its endowment's utility, and nobody's utility falling from
    one point to the next, where it was above zero; `slack` allows losses of that size
    relative to the last point's log utility (at least 1). Without slack no point may leave an agent worse
    off by the welfare measure either (`individual_rationality`)."""
    start = held = log_utility(economy, economy.endowment)
    for x in [c.allocation for c in outcome.trace] + [outcome.allocation]:
        assert x.min() >= 0.0
        np.testing.assert_allclose(x.sum(axis=0), economy.total_supply, rtol=1e-12, atol=0)
        now = log_utility(economy, x)
        loss = slack * np.maximum(1.0, np.abs(held)) if slack else 0.0
        assert np.all((now >= start - loss) | np.isneginf(start)), "an agent fell below its endowment"
        assert np.all((now >= held - loss) | np.isneginf(held)), "an agent's utility fell between points"
        if not slack:
            assert individual_rationality(economy, x) == 0.0
        held = now


TIMES_OUT = '''
from gebench.solvers import Outcome, Solver


class TimesOut(Solver):
    """Never finishes within its budget: a slow solver on a short budget."""

    name = "times-out"
    models = frozenset({"fisher"})
    utilities = frozenset({"ces"})

    def run(self, economy, tol, deadline, seed):
        return Outcome("timeout", message="pretend the budget ran out")
'''


@pytest.fixture
def times_out_solver(tmp_path):
    """The spec (path:Class) of a solver, written to a file, whose every run ends in timeout."""
    path = tmp_path / "times_out.py"
    path.write_text(TIMES_OUT)
    return f"{path}:TimesOut"


def pytest_configure(config):
    """Under pytest-xdist, import QuantEcon once before the workers start (the controller
    configures before it spawns them): its import compiles cached gufuncs, whose caches Numba
    writes as several files that two processes compiling at once can leave inconsistent (numba
    #10128). gebench's own kernels need no such care: their cache saves hold a lock
    (`gebench.markets.numba_cache`), so each worker compiles what its tests use."""
    if not getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        return
    try:
        import quantecon  # noqa: F401
    except ImportError:
        pass
