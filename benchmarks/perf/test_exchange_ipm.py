"""pytest-benchmark: the linear exchange planner at 160 agents x 160 goods, dense, solved end to
end by linear-exchange-ipm (the structured interior point on Ye's path, one 160 x 160 LU per
Newton step) and by linear-exchange-cp (Jain's convex program in cvxpy, solved by Clarabel with
exponential cones), on the same seeded markets in one run, so that the ratio is read on one
machine state; and one Newton step of linear-exchange-ipm alone, at 160 and 320 goods.

    pytest benchmarks/perf/test_exchange_ipm.py --benchmark-only

Group "exchange planner 160": a full `solve` (certificate included) to 1e-8 of seeds 0 and 1;
each result records its status, its iterations (Newton steps) and the certificate's worst
measure in extra_info, and linear-exchange-cp's its fraction of the interior point's time.
Both solvers are warmed up before anything is timed. Group "exchange ipm step": one
predictor-corrector step from the point after five steps (each round from a fresh copy).

With --benchmark-disable these are plain tests; the cvxpy solves then run at 20 x 20.
"""
import copy

import pytest

from gebench.markets.generators import generate
from gebench.markets.units import unit_supply
from gebench.solvers import solve
from gebench.solvers.interior.exchange_ipm import ExchangeProgram
from tests.conftest import warmed_or_skip

N = 160
TOL = 1e-8
SEEDS = (0, 1)
_medians: dict[int, float] = {}         # seed -> linear-exchange-ipm's median seconds in this run


@pytest.fixture(scope="module")
def convex_program():
    return warmed_or_skip("linear-exchange-cp")


def market(seed: int, size: int = N):
    return generate("exchange-linear", agents=size, goods=size, seed=seed)


def _record(benchmark, result):
    benchmark.extra_info["status"] = result.status
    benchmark.extra_info["iterations"] = int(result.iterations)
    benchmark.extra_info["certificate_worst"] = None if result.certificate is None else float(result.certificate.worst)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_exchange_ipm_solve(benchmark, exchange_ipm, seed):
    benchmark.group = f"exchange planner {N}"
    result = benchmark.pedantic(solve, args=(exchange_ipm, market(seed), TOL, 600.0), rounds=5, iterations=1,
                                warmup_rounds=0)
    _record(benchmark, result)
    assert result.status == "converged", result.message
    if benchmark.stats is not None:
        _medians[seed] = benchmark.stats.stats.median


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_exchange_cp_solve(benchmark, convex_program, seed):
    benchmark.group = f"exchange planner {N}"
    economy = market(seed, N if not benchmark.disabled else 20)
    result = benchmark.pedantic(solve, args=(convex_program, economy, TOL, 600.0), rounds=1, iterations=1,
                                warmup_rounds=0)
    _record(benchmark, result)
    if benchmark.stats is not None and seed in _medians:
        benchmark.extra_info["ipm_fraction"] = _medians[seed] / benchmark.stats.stats.median


@pytest.mark.parametrize("goods", [N, 2 * N])
def test_linear_exchange_ipm_newton_step(benchmark, goods):
    benchmark.group = "exchange ipm step"
    economy, _ = unit_supply(market(0, goods if not benchmark.disabled else 20))
    program = ExchangeProgram(economy)
    for _ in range(5):
        program.step()
    program.residuals()

    def setup():
        return (copy.deepcopy(program),), {}

    benchmark.extra_info["goods"] = goods
    length = benchmark.pedantic(ExchangeProgram.step, setup=setup, rounds=20, warmup_rounds=1)
    assert 0 < length <= 1
