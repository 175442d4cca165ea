"""The outer loop shared by the iterative market dynamics.

A compiled kernel advances the state by a chunk of steps; between chunks this
loop checks the deadline and asks the certificate whether the point is already
an equilibrium at the asked tolerance. Chunks grow with the iteration count so
that checking costs a small share of the work.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from numba import njit

from markets import Economy, certify, make_economy

from .base import Outcome


def iterate(economy: Economy, advance: Callable[[int], bool], point: Callable[[], tuple],
            tol: float, deadline: float, max_iter: int, first_chunk: int = 8,
            max_chunk: int = 2000) -> Outcome:
    """Call advance(k) (returns False once the state is no longer finite) until the point
    certifies within tol, the deadline passes, or max_iter steps were taken."""
    done, chunk = 0, first_chunk
    while True:
        k = min(chunk, max_iter - done)
        if k > 0 and not advance(k):
            return Outcome("diverged", iterations=done + k, message="state became non-finite")
        done += k
        prices, allocation = point()
        values = allocation.data if sp.issparse(allocation) else allocation
        if not (np.all(np.isfinite(prices)) and np.all(np.isfinite(values))):
            return Outcome("diverged", iterations=done, message="prices or allocation not finite")
        if certify(economy, prices, allocation).within(tol):
            return Outcome("converged", prices, allocation, done)
        if done >= max_iter:
            return Outcome("max_iter", prices, allocation, done)
        if time.perf_counter() >= deadline:
            return Outcome("timeout", prices, allocation, done)
        chunk = min(max(first_chunk, done // 4), max_chunk)


def income_inputs(economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """(budget shares, endowment) as the kernels take them: a Fisher market passes
    B / sum B and an endowment with no rows (which is how a kernel tells the models
    apart), an exchange economy zeros and its endowment."""
    if economy.model == "fisher":
        return economy.budget / economy.budget.sum(), np.zeros((0, economy.n_goods))
    return np.zeros(economy.n_agents), np.ascontiguousarray(economy.endowment)


@njit(cache=True)
def income(i, share, endowment, p, value):
    """Agent i's income from `income_inputs`: share_i (p . w) in a Fisher market (value = p . w),
    p . e_i in an exchange economy."""
    if endowment.shape[0] == 0:
        return share[i] * value
    b = 0.0
    for j in range(p.shape[0]):
        b += endowment[i, j] * p[j]
    return b


def csr_income_inputs(economy: Economy) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`income_inputs` of a sparse economy: (budget shares, endowment data, indices, indptr);
    a Fisher market passes an endowment with no rows (indptr of length 1)."""
    if economy.model == "fisher":
        return (economy.budget / economy.budget.sum(), np.zeros(0), np.zeros(0, np.int64),
                np.zeros(1, np.int64))
    e = economy.endowment
    return np.zeros(economy.n_agents), e.data, e.indices, e.indptr


@njit(cache=True)
def csr_incomes(share, e_data, e_indices, e_indptr, p, value, out):
    """Every agent's income from `csr_income_inputs` into `out`, as `income` computes one from
    dense inputs. Taken for all agents before a pass over the rows: a per-row call cost
    the sparse kernels a third of their time."""
    if e_indptr.shape[0] == 1:
        for i in range(out.shape[0]):
            out[i] = share[i] * value
        return
    for i in range(out.shape[0]):
        b = 0.0
        for k in range(e_indptr[i], e_indptr[i + 1]):
            b += e_data[k] * p[e_indices[k]]
        out[i] = b


def warm_up_on_tiny(solver, families: list[str]) -> None:
    """Compile a dynamic's kernels by running it on a 3-agent Fisher and exchange economy,
    with the dtypes and layouts of a real run (dense, and sparse for a solver that takes it)."""
    n = len(families)
    for model, owned in (("fisher", {"budget": np.ones(n)}), ("exchange", {"endowment": np.ones((n, 2))})):
        tiny = make_economy(model, families, np.ones((n, 2)), rho=0.5, **owned)
        for economy in (tiny, tiny.to_sparse()) if solver.sparse else (tiny,):
            solver.run(economy, 1e-6, np.inf, 0)
