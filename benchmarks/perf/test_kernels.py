"""pytest-benchmark: the other hot kernels at fixed sizes.

    pytest benchmarks/perf --benchmark-only --benchmark-json results/bench.json

A batch of demand evaluations and the certificate (n = m = 1000, dense CES), a
scan of excess demand (the label of one Scarf vertex, n = m = 200), and a
Lemke-Howson path (the hard game of d = 6: 32 pivots, the exact path's, where float
pivoting still follows it; at d = 8 it leaves it). Everything
compiled is called once before timing. With --benchmark-disable these are
plain tests of what the kernels return.
"""
import numpy as np
import pytest

from gebench.markets import certify, demand
from gebench.markets.games import hard_game
from gebench.markets.generators import generate
from gebench.solvers.kernels.excess_demand import ExcessDemand
from gebench.solvers.planners.lemke_howson import lemke_howson


@pytest.fixture(scope="module")
def ces_market():
    economy = generate("exchange-ces", 1000, 1000, seed=0, rho=0.5)
    p = np.random.default_rng(0).random(1000) + 0.1
    p /= p.sum()
    return economy, p, economy.incomes(p)


def test_demand_batch(benchmark, ces_market):
    economy, p, b = ces_market
    demand(economy, p, b)                                     # compile
    x = benchmark.pedantic(demand, args=(economy, p, b), rounds=10, warmup_rounds=1)
    np.testing.assert_allclose(x @ p, b, rtol=1e-10)          # everyone spends its income


def test_certificate(benchmark, ces_market):
    economy, p, b = ces_market
    x = demand(economy, p, b)
    certify(economy, p, x)
    c = benchmark.pedantic(certify, args=(economy, p, x), rounds=10, warmup_rounds=1)
    assert c.budget < 1e-10 and c.optimality < 1e-10          # demand is affordable and optimal


def test_excess_demand_scan(benchmark):
    economy = generate("exchange-cobb-douglas", 200, 200, seed=0)
    z = ExcessDemand(economy)
    p = np.full(200, 1 / 200)
    z(p)
    values = benchmark.pedantic(z, args=(p,), rounds=50, warmup_rounds=1)
    assert abs(values @ (p * economy.total_supply)) < 1e-12  # Walras' law


def test_lemke_howson_path(benchmark):
    R, C = hard_game(6)
    exact_pivots = lemke_howson(R, C, 0, "exact")[2]
    x, y, pivots, status = benchmark.pedantic(lemke_howson, args=(R, C, 0, "float"), rounds=20, warmup_rounds=1)
    assert status == "done" and pivots == exact_pivots == 32
