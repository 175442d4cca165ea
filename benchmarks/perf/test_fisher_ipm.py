"""pytest-benchmark: the Fisher planner at 320 agents x 320 goods, dense, solved end to end by
fisher-ipm (the structured primal-dual interior point, one 320 x 320 Cholesky per Newton step)
and by eisenberg-gale (the same program in cvxpy, solved by Clarabel with exponential and power
cones), on a linear market and a CES market (rho = 0.5), in one run so that the ratio is read on
one machine state; and one Newton step of fisher-ipm alone.

    pytest benchmarks/perf/test_fisher_ipm.py --benchmark-only

Group "fisher planner 320": a full `solve` (certificate included) to 1e-8; each result records
its Newton steps (interior-point iterations) and the certificate's worst measure in extra_info.
fisher-ipm must take at most a tenth of eisenberg-gale's time on the same market. Both solvers
are warmed up (Numba kernels compiled, cvxpy imported) before anything is timed. Group
"fisher ipm step": one predictor-corrector step from the point after five steps (each round
from a fresh copy of that point).

With --benchmark-disable these are plain tests; the cvxpy solves then run at 40 x 40, so that
the test suite does not spend a minute on them.
"""
import copy

import pytest

from gebench.markets.generators import generate
from gebench.markets.units import unit_supply
from gebench.solvers import solve
from gebench.solvers.interior.program import Program

N = 320
TOL = 1e-8
MARKETS = {"linear": ("fisher-linear", None), "ces": ("fisher-ces", 0.5)}
_medians: dict[str, float] = {}         # market -> fisher-ipm's median seconds in this run


def market(name: str, size: int = N):
    family, rho = MARKETS[name]
    return generate(family, agents=size, goods=size, seed=0, rho=rho)


def _record(benchmark, result):
    assert result.status == "converged", result.message
    benchmark.extra_info["newton_steps"] = int(result.iterations)
    benchmark.extra_info["certificate_worst"] = float(result.certificate.worst)


@pytest.mark.parametrize("name", sorted(MARKETS))
def test_fisher_ipm_solve(benchmark, fisher_ipm, name):
    benchmark.group = f"fisher planner {N}"
    economy = market(name)
    result = benchmark.pedantic(solve, args=(fisher_ipm, economy, TOL, 600.0), rounds=5, iterations=1, warmup_rounds=0)
    _record(benchmark, result)
    if benchmark.stats is not None:
        _medians[name] = benchmark.stats.stats.median


@pytest.mark.parametrize("name", sorted(MARKETS))
def test_eisenberg_gale_solve(benchmark, eisenberg_gale, name):
    benchmark.group = f"fisher planner {N}"
    economy = market(name, N if not benchmark.disabled else 40)
    result = benchmark.pedantic(solve, args=(eisenberg_gale, economy, TOL, 600.0), rounds=1, iterations=1,
                                warmup_rounds=0)
    benchmark.extra_info["status"] = result.status
    benchmark.extra_info["certificate_worst"] = (None if result.certificate is None
                                                 else float(result.certificate.worst))
    benchmark.extra_info["iterations"] = int(result.iterations)
    if benchmark.stats is not None and name in _medians:
        fraction = _medians[name] / benchmark.stats.stats.median
        benchmark.extra_info["fisher_ipm_fraction"] = fraction
        assert fraction <= 0.1, f"fisher-ipm took {fraction:.2f} of eisenberg-gale's time on {name}"


@pytest.mark.parametrize("name", sorted(MARKETS))
def test_fisher_ipm_newton_step(benchmark, fisher_ipm, name):
    benchmark.group = "fisher ipm step"
    economy, _ = unit_supply(market(name))
    program = Program(economy)
    for _ in range(5):
        program.step()
    program.residuals()                      # the point's blocks evaluated, as at the start of a step

    def setup():
        return (copy.deepcopy(program),), {}

    benchmark.extra_info["goods"] = N
    length = benchmark.pedantic(Program.step, setup=setup, rounds=20, warmup_rounds=1)
    assert 0 < length <= 1
