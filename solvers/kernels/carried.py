"""What the market dynamics take from yesterday (`gebench.solvers.Yesterday`) on a day of an
economy stream: a price vector to start from, checked and made strictly positive, the agents
who were here yesterday, and the iteration from a carried start.

A multiplicative price step (tatonnement, the Hahn process) never moves a price that is 0, and
a proportional response never revives a bid that is 0; yesterday's point can hold such zeros (a
good nobody wanted yesterday, a bid that underflowed). So a carried start is floored at a small
share of its cold counterpart, which changes nothing where yesterday's value is not near 0.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gebench.markets import Economy, certify

from ..base import Outcome
from .iteration import iterate

FLOOR = 1e-9        # a carried price (or bid) is at least this share of its cold start's


def carried_prices(prices, m: int, cold: np.ndarray | None = None) -> np.ndarray | None:
    """Yesterday's prices as today's start: a copy summing to 1, each at least `FLOOR` times
    the cold start's (`cold`, uniform by default); None when there are none, or they are not m
    finite non-negative numbers with a positive sum (the caller then starts cold)."""
    if prices is None:
        return None
    p = np.array(prices, dtype=np.float64).ravel()
    if p.shape != (m,) or not np.all(np.isfinite(p)) or np.any(p < 0) or not p.sum() > 0:
        return None
    base = np.full(m, 1.0 / m) if cold is None else np.asarray(cold, dtype=np.float64) / np.sum(cold)
    p = np.maximum(p / p.sum(), FLOOR * base)
    return p / p.sum()


def today_rows(n: int, arrived) -> np.ndarray:
    """A mask of today's agents (rows) who were also here yesterday: False at the `arrived` rows."""
    stayed = np.ones(n, dtype=bool)
    rows = np.asarray([i for i in arrived if 0 <= int(i) < n], dtype=np.int64)
    stayed[rows] = False
    return stayed


def iterate_from(economy: Economy, advance, point, tol: float, deadline: float, max_iter: int,
                 carried: bool) -> Outcome:
    """`gebench.solvers.kernels.iteration.iterate` from a start that is cold or carried. A
    carried start is expected near today's equilibrium, so it is certified before the first
    step (0 steps when it is already within tol) and then after every step at first (chunks of
    1, growing with the count as in `iterate`), where a cold start is first certified after 8."""
    if not carried:
        return iterate(economy, advance, point, tol, deadline, max_iter)
    prices, allocation = point()
    values = allocation.data if sp.issparse(allocation) else allocation
    if (np.all(np.isfinite(prices)) and np.all(np.isfinite(values))
            and certify(economy, prices, allocation).within(tol)):
        return Outcome("converged", prices, allocation, 0)
    return iterate(economy, advance, point, tol, deadline, max_iter, first_chunk=1)
