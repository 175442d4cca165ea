"""Prices and their logs. Prices from log prices, for the solvers that search over
u = log(p_j / p_0), j >= 1 (Newton, homotopy), the forward-difference Jacobian they share, and
the exception their inner functions raise when the deadline passes; and, in Numba, the logs
of prices that `demand_row` takes and the multiplicative price step on relative excess demand
that tatonnement and the Hahn process share."""
from __future__ import annotations

import math

import numpy as np
from numba import njit


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


@njit(cache=True)
def take_logs(p, log_p):
    """log_p = log p, -inf at a price that is (or underflowed to) zero: what `demand_row` takes
    besides p."""
    for j in range(p.shape[0]):
        log_p[j] = math.log(p[j]) if p[j] > 0.0 else -math.inf


@njit(cache=True)
def move_prices(p, total, w, step):
    """p_j <- p_j (1 + step min(z_j, 1)) with z_j = (total_j - w_j) / w_j the relative excess
    demand, renormalised to sum 1; False once not finite. Tatonnement's price step, and the
    Hahn process's."""
    norm = 0.0
    for j in range(p.shape[0]):
        z = (total[j] - w[j]) / w[j]
        p[j] *= 1.0 + step * min(z, 1.0)
        norm += p[j]
    if not (np.isfinite(norm) and norm > 0.0):
        return False
    for j in range(p.shape[0]):
        p[j] /= norm
    return True
