"""Prices from log prices, for the solvers that search over u = log(p_j / p_0), j >= 1 (Newton,
homotopy), and the exception their inner functions raise when the deadline passes."""
from __future__ import annotations

import numpy as np


class DeadlinePassed(Exception):
    """Raised inside a root finder's or path follower's function once the deadline has passed."""


def prices_of(u: np.ndarray) -> np.ndarray:
    """p = exp([0, u]) / sum, computed without overflow."""
    p = np.exp(np.concatenate([[0.0], u]) - max(0.0, u.max(initial=0.0)))
    return p / p.sum()
