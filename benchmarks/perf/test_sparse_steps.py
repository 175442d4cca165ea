"""pytest-benchmark: one proportional-response and one tatonnement step on sparse markets
with 10^6 nonzero coefficients (CSR), Numba kernel against a straightforward NumPy
version of the same step and a copy of the same bytes, in two shapes:

- k32: n = m = 31623 with 32 goods per agent, the 10^6 rung of the scale suite's sparse
  ladders (density 0.001); its per-good vectors (250 kB each) about fill L2;
- k10: n = m = 10^5 with 10 goods per agent; its per-good vectors (800 kB) do not.

    pytest benchmarks/perf --benchmark-only --benchmark-json results/bench.json
    python -m benchmarks.perf.report results/bench.json

A linear proportional-response round reads the coefficients, their column indices
and the bids, and writes the bids: 32 bytes per nonzero, the traffic of copying 2
doubles per nonzero. A CES tatonnement round reads the weights and the indices: 16
bytes, a copy of 1 double per nonzero. Both also gather and scatter at random in the
per-good vectors. Compiled before timing; with --benchmark-disable these are plain
tests that the two versions compute the same step.
"""
import numpy as np
import pytest

from gebench.markets.economy import stored_rows
from gebench.markets.generators import generate
from gebench.solvers.auctioneers.proportional_response import exponents, pr_steps_csr
from gebench.solvers.auctioneers.tatonnement import tatonnement_steps_csr
from gebench.solvers.kernels.ces_weights import ces_weights_csr
from gebench.solvers.kernels.incomes import csr_income_inputs

from .test_steps import copy_of

SHAPES = {"k32": (31623, 1e-3), "k10": (100_000, 1e-4)}
_cache: dict = {}


def market(family, shape):
    """The Fisher market of the family in that shape, built once per pytest process."""
    if (family, shape) not in _cache:
        n, density = SHAPES[shape]
        _cache[family, shape] = generate(family, n, n, seed=0, density=density, sparse=True,
                                         rho=0.5 if family == "fisher-ces" else None)
    return _cache[family, shape]


def _pr_state(economy):
    income = economy.budget / economy.budget.sum()
    a = economy.a
    bids = a.data * (income / a.sum(axis=1))[stored_rows(a)]
    return income, bids


def pr_step_numpy(data, indices, indptr, income, w, bids):
    """Linear proportional response on CSR arrays, one round, the obvious NumPy way."""
    spend = np.bincount(indices, weights=bids, minlength=w.shape[0])
    v = data * bids * (w / spend)[indices]
    return v * np.repeat(income / np.add.reduceat(v, indptr[:-1]), np.diff(indptr))


def tatonnement_step_numpy(weights, indices, indptr, rho, share, w, p, step):
    """CES tatonnement on CSR arrays, one round, from the same weights as the kernel."""
    sigma = 1.0 / (1.0 - rho)
    income = share * (p @ w)
    weight = weights * ((p.min() / p) ** sigma)[indices]
    cost = np.add.reduceat(weight * p[indices], indptr[:-1])
    x = weight * np.repeat(income / cost, np.diff(indptr))
    z = (np.bincount(indices, weights=x, minlength=w.shape[0]) - w) / w
    p = p * (1.0 + step * np.minimum(z, 1.0))
    return p / p.sum()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, per_nonzero", [("pr_sparse", 2), ("tatonnement_sparse", 1)])
def test_copy_of_the_same_bytes(benchmark, name, per_nonzero, shape):
    benchmark.group = f"{name}[{shape}] step"
    target, source = copy_of(per_nonzero * market("fisher-linear", shape).a.nnz)
    benchmark.pedantic(np.copyto, args=(target, source), rounds=20, warmup_rounds=1)
    assert np.array_equal(target, source)


@pytest.mark.parametrize("shape", SHAPES)
def test_pr_sparse_step_numba(benchmark, shape):
    benchmark.group = f"pr_sparse[{shape}] step"
    e = market("fisher-linear", shape)
    a, r, w = e.a, exponents(e), e.total_supply
    share, *owned = csr_income_inputs(e)
    income, bids0 = _pr_state(e)

    def setup():
        bids = bids0.copy()
        spend = np.bincount(a.indices, weights=bids, minlength=e.n_goods)
        return (a.data, a.indices, a.indptr, r, share, *owned, w, bids, spend, 1), {}

    args, _ = setup()
    pr_steps_csr(*args)                                         # compile
    benchmark.pedantic(pr_steps_csr, setup=setup, rounds=20, warmup_rounds=1)
    args, _ = setup()
    pr_steps_csr(*args)
    np.testing.assert_allclose(args[-3], pr_step_numpy(a.data, a.indices, a.indptr, income, w, bids0),
                               rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("shape", SHAPES)
def test_pr_sparse_step_numpy(benchmark, shape):
    benchmark.group = f"pr_sparse[{shape}] step"
    e = market("fisher-linear", shape)
    income, bids0 = _pr_state(e)
    benchmark.pedantic(pr_step_numpy, args=(e.a.data, e.a.indices, e.a.indptr, income, e.total_supply, bids0),
                       rounds=20, warmup_rounds=1)


@pytest.mark.parametrize("shape", SHAPES)
def test_tatonnement_sparse_step_numba(benchmark, shape):
    benchmark.group = f"tatonnement_sparse[{shape}] step"
    e = market("fisher-ces", shape)
    a = e.a
    share, *owned = csr_income_inputs(e)
    weights = ces_weights_csr(e.kinds, a.data, a.indptr, e.rho)
    args = (e.kinds, a.data, e.log_a, a.indices, a.indptr, e.rho, weights, share, *owned, e.total_supply)
    p0 = np.full(e.n_goods, 1.0 / e.n_goods)
    tatonnement_steps_csr(*args, p0.copy(), 0.5, 1)            # compile

    def setup():
        return (*args, p0.copy(), 0.5, 1), {}

    benchmark.pedantic(tatonnement_steps_csr, setup=setup, rounds=20, warmup_rounds=1)
    p = p0.copy()
    tatonnement_steps_csr(*args, p, 0.5, 1)
    expected = tatonnement_step_numpy(weights, a.indices, a.indptr, 0.5, share, e.total_supply, p0, 0.5)
    np.testing.assert_allclose(p, expected, rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_tatonnement_sparse_step_numpy(benchmark, shape):
    benchmark.group = f"tatonnement_sparse[{shape}] step"
    e = market("fisher-ces", shape)
    share, *_ = csr_income_inputs(e)
    weights = ces_weights_csr(e.kinds, e.a.data, e.a.indptr, e.rho)
    p0 = np.full(e.n_goods, 1.0 / e.n_goods)
    benchmark.pedantic(tatonnement_step_numpy, args=(weights, e.a.indices, e.a.indptr, 0.5, share,
                                                     e.total_supply, p0, 0.5), rounds=20, warmup_rounds=1)
