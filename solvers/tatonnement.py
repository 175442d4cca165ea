"""Tatonnement: prices rise where demand exceeds supply and fall where it does not.

Walras (1874); the multiplicative discrete form p_j <- p_j (1 + lambda min(z_j, 1)),
with z_j = (demand_j - w_j) / w_j, is the one Cole and Fleischer (2008) analyse
for markets with bounded elasticity. Prices stay positive for step < 1 and are
renormalised to sum to 1 (demand is homogeneous of degree 0 in prices, Fisher
incomes included, since they are B_i p . w / sum B). It converges for gross
substitutes (Cobb-Douglas, CES with rho > 0) and may cycle for complements; the
certificate, not the dynamics, says which happened.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from markets import CES, LINEAR, Economy, InputError
from markets.utilities import demand, demand_row

from ._loop import income, income_inputs, iterate, warm_up_on_tiny
from .base import Solver


@njit(cache=True)
def _ces_weights(kinds, a, rho):
    """W_ij = (a_ij / max_k a_ik)^sigma_i for CES rows (else 0): the price-free half of CES demand."""
    n, m = a.shape
    weights = np.zeros((n, m))
    for i in range(n):
        if kinds[i] == CES:
            sigma = 1.0 / (1.0 - rho[i])
            top = 0.0
            for j in range(m):
                top = max(top, a[i, j])
            for j in range(m):
                if a[i, j] > 0.0:
                    weights[i, j] = (a[i, j] / top) ** sigma
    return weights


@njit(cache=True, fastmath={"reassoc", "contract"})
def _add_ces_row(weights, q, qp, income, total):
    """Add one CES agent's demand x_j = income W_j q_j / sum_k W_k q_k p_k, with
    q_j = (p_min / p_j)^sigma and qp_j = q_j p_j, to `total`: a dot product, then
    an axpy while the row is in cache, each without a branch (`reassoc` lets LLVM
    vectorise the sum; tatonnement needs no bit-exact order). Returns False where
    the row underflowed, and the caller then uses the overflow-safe `demand_row`."""
    m = q.shape[0]
    cost = 0.0
    for j in range(m):
        cost += weights[j] * qp[j]
    if not cost > 1e-250:
        return False
    scale = income / cost
    for j in range(m):
        total[j] += weights[j] * q[j] * scale
    return True


@njit(cache=True)
def _tatonnement_steps(kinds, a, log_a, rho, weights, budget_share, endowment, w, p, step, steps, x):
    """Advance p by `steps` price updates in place; False once prices stop being finite."""
    n, m = a.shape
    total = np.empty(m)
    log_p = np.empty(m)
    q = np.empty(m)
    qp = np.empty(m)
    for _ in range(steps):
        value = 0.0
        p_min = math.inf
        for j in range(m):
            total[j] = 0.0
            value += p[j] * w[j]
            log_p[j] = math.log(p[j]) if p[j] > 0.0 else -math.inf
            p_min = min(p_min, p[j])
        q_sigma = math.nan
        for i in range(n):
            b = income(i, budget_share, endowment, p, value)
            if kinds[i] == CES and p_min > 0.0:
                sigma = 1.0 / (1.0 - rho[i])
                if sigma != q_sigma:
                    for j in range(m):
                        q[j] = (p_min / p[j]) ** sigma
                        qp[j] = q[j] * p[j]
                    q_sigma = sigma
                if _add_ces_row(weights[i], q, qp, b, total):
                    continue
            demand_row(kinds[i], a[i], log_a[i], rho[i], p, log_p, b, x)
            for j in range(m):
                total[j] += x[j]
        norm = 0.0
        for j in range(m):
            z = (total[j] - w[j]) / w[j]
            p[j] *= 1.0 + step * min(z, 1.0)
            norm += p[j]
        if not (np.isfinite(norm) and norm > 0.0):
            return False
        for j in range(m):
            p[j] /= norm
    return True


class Tatonnement(Solver):
    """Multiplicative tatonnement on aggregate excess demand (any economy with a demand function).

    `start`: "uniform" prices, or "random" (a seeded draw from the flat Dirichlet), which
    matters where the uniform point happens to be the equilibrium (Scarf's example).
    """

    name = "tatonnement"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    parameters = {"step": 0.5, "max_iter": 1_000_000, "start": "uniform"}

    def __init__(self, **params):
        super().__init__(**params)
        if not 0 < self.params["step"] < 1:
            raise InputError(f"{self.name}: step: must be in (0, 1), got {self.params['step']}")
        if self.params["start"] not in ("uniform", "random"):
            raise InputError(f"{self.name}: start: expected uniform or random, got {self.params['start']!r}")

    def skip(self, economy):
        if np.any(economy.kinds == LINEAR):
            return "linear utilities have a demand correspondence, not a function (supports: cobb-douglas, ces, leontief)"
        return super().skip(economy)

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])

    def run(self, economy: Economy, tol, deadline, seed):
        m = economy.n_goods
        w = economy.total_supply
        share, endowment = income_inputs(economy)
        if self.params["start"] == "random":
            p = np.random.default_rng(seed).dirichlet(np.ones(m))
        else:
            p = np.full(m, 1.0 / m)
        x = np.empty(m)
        step = float(self.params["step"])
        weights = _ces_weights(economy.kinds, economy.a, economy.rho)

        def advance(k):
            return _tatonnement_steps(economy.kinds, economy.a, economy.log_a, economy.rho, weights, share,
                                      endowment, w, p, step, k, x)

        def point():
            return p.copy(), demand(economy, p, economy.incomes(p))

        return iterate(economy, advance, point, tol, deadline, self.params["max_iter"])
