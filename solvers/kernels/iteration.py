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

from gebench.markets import Economy, certify

from ..base import Outcome
from .trace import Tracer


def iterate(economy: Economy, advance: Callable[[int], bool], point: Callable[[], tuple],
            tol: float, deadline: float, max_iter: int, first_chunk: int = 8,
            max_chunk: int = 2000) -> Outcome:
    """Call advance(k) (returns False once the state is no longer finite) until the point
    certifies within tol, the deadline passes, or max_iter steps were taken; the outcome's
    trace holds the point at the chunk ends nearest 1, 2, 4, ... iterations."""
    done, chunk, tracer = 0, first_chunk, Tracer()

    def stop(status, prices=None, allocation=None, message=""):
        return Outcome(status, prices, allocation, done, message=message, trace=tracer.checkpoints)

    while True:
        k = min(chunk, max_iter - done)
        if k > 0 and not advance(k):
            done += k
            return stop("diverged", message="state became non-finite")
        done += k
        prices, allocation = point()
        values = allocation.data if sp.issparse(allocation) else allocation
        if not (np.all(np.isfinite(prices)) and np.all(np.isfinite(values))):
            return stop("diverged", message="prices or allocation not finite")
        if certify(economy, prices, allocation).within(tol):
            return stop("converged", prices, allocation)
        if done >= max_iter:
            return stop("max_iter", prices, allocation)
        if time.perf_counter() >= deadline:
            return stop("timeout", prices, allocation)
        tracer.offer(done, lambda: (prices, allocation))
        chunk = min(max(first_chunk, done // 4), max_chunk)
