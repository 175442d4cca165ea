"""Prices for a trader's final allocation: a trading process holds an allocation and, at
best, prices revealed by its trades; the certificate judges a pair (prices, allocation).

The prices that support an allocation best are the dual of its Pareto gap
(`gebench.markets.welfare.pareto_gap`): where the allocation is a Walrasian equilibrium's,
they are its prices. A trader reports whichever of its revealed prices and those supporting
prices the certificate finds closer, so that its point is judged at its best, unless its
deadline has passed: the supporting prices take a linear program, which would run on past
the budget.
"""
from __future__ import annotations

import math
import time

import numpy as np

from gebench.markets import Economy, certify
from gebench.markets.welfare import pareto_gap

from ..base import Outcome


def best_prices(economy: Economy, allocation, revealed: np.ndarray, deadline: float = math.inf) -> np.ndarray:
    """Of the `revealed` prices and those that support `allocation` best (the Pareto gap's
    dual), the ones under which the certificate's worst measure is smaller; the revealed
    prices alone once `deadline` (a `time.perf_counter()` time) has passed."""
    if time.perf_counter() >= deadline:
        return revealed
    support = pareto_gap(economy, allocation).prices
    candidates = [revealed] + ([support] if support is not None and support.max() > 0 else [])
    scores = [certify(economy, p, allocation).worst for p in candidates]
    scores = [s if np.isfinite(s) else np.inf for s in scores]
    return candidates[int(np.argmin(scores))]


def settled(economy: Economy, allocation, revealed: np.ndarray, status: str, tol: float, deadline: float,
            iterations: int, at_rest: str, **fields) -> Outcome:
    """A trader's `Outcome` at its end: its allocation at `best_prices`, `converged` where the
    certificate accepts them at `tol` and `status` otherwise, with the message `at_rest` when
    the process came to rest; `fields` (extra, trace, state) pass through."""
    prices = best_prices(economy, allocation, revealed, deadline)
    if certify(economy, prices, allocation).within(tol):
        return Outcome("converged", prices, allocation, iterations, **fields)
    message = at_rest if status == "at_rest" else ""
    return Outcome(status, prices, allocation, iterations, message=message, **fields)
