"""Prices from log prices, for the solvers that search over u = log(p_j / p_0), j >= 1 (Newton,
homotopy), the forward-difference Jacobian they share, and the exception their inner
functions raise when the deadline passes."""
from __future__ import annotations

import numpy as np


class DeadlinePassed(Exception):
    """Raised inside a root finder's or path follower's function once the deadline has passed."""


def prices_of(u: np.ndarray) -> np.ndarray:
    """p = exp([0, u]) / sum, computed without overflow."""
    p = np.exp(np.concatenate([[0.0], u]) - max(0.0, u.max(initial=0.0)))
    return p / p.sum()


def forward_jacobian(f, x: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """J_ij = (f(x + h_j e_j) - f(x))_i / h_j with h_j = 1e-7 max(1, |x_j|)."""
    J = np.empty((len(fx), len(x)))
    for k in range(len(x)):
        h = 1e-7 * max(1.0, abs(x[k]))
        step = x.copy()
        step[k] += h
        J[:, k] = (f(step) - fx) / h
    return J
