"""pytest-benchmark: one proportional-response and one tatonnement step at n = m = 2000, dense,
Numba kernel against a straightforward NumPy version of the same step, and against a plain
array copy that moves the same bytes (the machine's memory bandwidth, in the same run).

    pytest benchmarks/perf --benchmark-only --benchmark-json results/bench.json
    python -m benchmarks.perf.report results/bench.json

A linear proportional-response round reads a and the bids and writes the bids: 24 bytes
per coefficient, the traffic of copying an array of 1.5 n m doubles. A CES tatonnement
round reads the precomputed weights: 8 bytes per coefficient, a copy of 0.5 n m doubles.
Each round starts from fresh state (pedantic setup); the kernels are compiled by a
warm-up call with the same dtypes and layout before anything is timed. Run with
--benchmark-disable these are plain tests: both versions must compute the same step.
"""
import numpy as np
import pytest

from gebench.markets import demand
from gebench.markets.generators import generate
from gebench.solvers.auctioneers.proportional_response import exponents, pr_steps
from gebench.solvers.auctioneers.tatonnement import tatonnement_steps
from gebench.solvers.kernels.ces_weights import ces_weights

N = 2000


@pytest.fixture(scope="module")
def fisher_linear():
    return generate("fisher-linear", N, N, seed=0)


@pytest.fixture(scope="module")
def fisher_ces():
    return generate("fisher-ces", N, N, seed=0, rho=0.5)


def _pr_state(economy):
    income = economy.budget / economy.budget.sum()
    bids = economy.a / economy.a.sum(axis=1, keepdims=True) * income[:, None]
    return income, bids, bids.sum(axis=0)


def pr_step_numpy(a, income, w, bids):
    """Linear proportional response, one round, written the obvious NumPy way."""
    x = bids * (w / bids.sum(axis=0))
    v = a * x
    return income[:, None] * v / v.sum(axis=1, keepdims=True)


def tatonnement_step_numpy(weights, rho, share, w, p, step):
    """CES tatonnement, one round, from the same precomputed weights W = (a / max a)^sigma as the
    kernel: demand x = income W q / (W q) . p with q = (p_min / p)^sigma, then the price update."""
    sigma = 1.0 / (1.0 - rho)
    income = share * (p @ w)
    weight = weights * (p.min() / p) ** sigma
    x = weight * (income / (weight @ p))[:, None]
    z = (x.sum(axis=0) - w) / w
    p = p * (1.0 + step * np.minimum(z, 1.0))
    return p / p.sum()


def copy_of(doubles: int):
    source = np.random.default_rng(0).random(doubles)
    target = np.empty_like(source)
    np.copyto(target, source)                      # fault the pages in before timing
    return target, source


@pytest.mark.parametrize("name, doubles", [("pr", 3 * N * N // 2), ("tatonnement", N * N // 2)])
def test_copy_of_the_same_bytes(benchmark, name, doubles):
    benchmark.group = f"{name} step"
    target, source = copy_of(doubles)
    benchmark.pedantic(np.copyto, args=(target, source), rounds=20, warmup_rounds=1)
    assert np.array_equal(target, source)


def test_pr_step_numba(benchmark, fisher_linear):
    benchmark.group = "pr step"
    e = fisher_linear
    a, r, w, no_endowment = np.ascontiguousarray(e.a), exponents(e), e.total_supply, np.zeros((0, N))
    income, bids0, _ = _pr_state(e)
    pr_steps(a, r, income, no_endowment, w, bids0.copy(), bids0.sum(axis=0), 1)   # compile

    def setup():
        bids = bids0.copy()
        return (a, r, income, no_endowment, w, bids, bids.sum(axis=0), 1), {}

    benchmark.pedantic(pr_steps, setup=setup, rounds=20, warmup_rounds=1)
    bids = bids0.copy()
    pr_steps(a, r, income, no_endowment, w, bids, bids.sum(axis=0), 1)
    np.testing.assert_allclose(bids, pr_step_numpy(a, income, w, bids0), rtol=1e-12, atol=1e-300)


def test_pr_step_numpy(benchmark, fisher_linear):
    benchmark.group = "pr step"
    e = fisher_linear
    income, bids0, _ = _pr_state(e)
    benchmark.pedantic(pr_step_numpy, args=(e.a, income, e.total_supply, bids0), rounds=20, warmup_rounds=1)


def _tat_args(e):
    share = e.budget / e.budget.sum()
    return share, np.zeros((0, N)), e.total_supply, np.full(N, 1.0 / N)


def test_tatonnement_step_numba(benchmark, fisher_ces):
    benchmark.group = "tatonnement step"
    e = fisher_ces
    share, no_endowment, w, p0 = _tat_args(e)
    x = np.empty(N)
    weights = ces_weights(e.kinds, e.a, e.rho)     # once per economy, like Tatonnement.run
    args = (e.kinds, e.a, e.log_a, e.rho, weights, share, no_endowment, w)
    tatonnement_steps(*args, p0.copy(), 0.5, 1, x)   # compile

    def setup():
        return (*args, p0.copy(), 0.5, 1, x), {}

    benchmark.pedantic(tatonnement_steps, setup=setup, rounds=20, warmup_rounds=1)
    p = p0.copy()
    tatonnement_steps(*args, p, 0.5, 1, x)
    np.testing.assert_allclose(p, tatonnement_step_numpy(weights, 0.5, share, w, p0, 0.5), rtol=1e-10)


def test_tatonnement_step_numpy(benchmark, fisher_ces):
    benchmark.group = "tatonnement step"
    e = fisher_ces
    share, _, w, p0 = _tat_args(e)
    weights = ces_weights(e.kinds, e.a, e.rho)
    benchmark.pedantic(tatonnement_step_numpy, args=(weights, 0.5, share, w, p0, 0.5), rounds=20, warmup_rounds=1)


def test_numpy_demand_matches_the_kernel(fisher_ces):
    e = fisher_ces
    share, _, w, p = _tat_args(e)
    income = share * (p @ w)
    sigma = 2.0
    weight = e.a ** sigma * p ** (-sigma)
    np.testing.assert_allclose(demand(e, p, income), weight * (income / (weight @ p))[:, None], rtol=1e-10)
