"""The anytime trace of an iterative solver: its point at spaced checkpoints.

A planner delivers nothing until it finishes; a process that trades delivers its current
allocation all along. To measure what each delivers by a given time, iterative solvers keep
their point after 1, 2, 4, 8, ... iterations (at most `MAX_CHECKPOINTS`), as a `Checkpoint`;
the harness turns each into the certificate's worst measure and the welfare measures of
what the agents hold (docs/format.md, "Traces"). Copies are small: a trace is a few dozen points.
"""
from __future__ import annotations

import time

import numpy as np

from ..base import Checkpoint

MAX_CHECKPOINTS = 40


class Tracer:
    """Collects checkpoints at iteration counts 1, 2, 4, 8, ...: call `offer` after each step
    (or chunk of steps) with the iteration count and a function that returns the point."""

    def __init__(self):
        self.checkpoints: list[Checkpoint] = []
        self._next = 1

    def offer(self, iterations: int, point) -> None:
        """Keep the point if `iterations` has reached the next checkpoint; `point()` returns
        (prices, allocation) and is called only then."""
        if iterations < self._next or len(self.checkpoints) >= MAX_CHECKPOINTS:
            return
        prices, allocation = point()
        self.checkpoints.append(Checkpoint(time.perf_counter(), int(iterations),
                                           np.array(prices, dtype=np.float64), _copy(allocation)))
        while self._next <= iterations:
            self._next *= 2


def _copy(allocation):
    return allocation.copy() if hasattr(allocation, "nnz") else np.array(allocation, dtype=np.float64)
