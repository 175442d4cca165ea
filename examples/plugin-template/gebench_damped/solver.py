"""Damped tatonnement in log prices, in plain NumPy.

Prices move against relative excess demand z, multiplicatively and with a
step that decays over time:

    p_j <- p_j * exp(step_t * clip(z_j, -1, 1)),  step_t = step / (1 + t / halflife),

then p is renormalised to sum 1. Each agent buys its demand at p, so the
allocation always respects budgets and optimality; what the certificate
measures is how far the market is from clearing. This converges on markets
with gross substitutes (Cobb-Douglas, CES with 0 < rho < 1); see Codenotti,
McCune and Varadarajan, "Market equilibrium via the excess demand function"
(STOC 2005), for the discrete-time analysis.
"""
from __future__ import annotations

import time

import numpy as np

from gebench.markets import CES, certify, demand
from gebench.solvers import Outcome, Solver


class DampedTatonnement(Solver):
    name = "damped-tatonnement"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"cobb-douglas", "ces"})
    exact = False
    parameters = {"step": 0.5, "halflife": 2000, "max_iter": 100_000, "check_every": 10}

    def skip(self, economy):
        reason = super().skip(economy)
        if reason is None and np.any(economy.rho[economy.kinds == CES] < 0):
            return "CES complements (rho < 0) are not gross substitutes; this dynamic may cycle there"
        return reason

    def run(self, economy, tol, deadline, seed):
        step, halflife = float(self.params["step"]), float(self.params["halflife"])
        max_iter, every = int(self.params["max_iter"]), int(self.params["check_every"])
        supply = economy.total_supply
        p = np.full(economy.n_goods, 1.0 / economy.n_goods)
        for t in range(max_iter):
            x = demand(economy, p, economy.incomes(p))
            if t % every == 0:
                if certify(economy, p, x).within(tol):
                    return Outcome("converged", p, x, t)
                if time.perf_counter() >= deadline:            # honour the deadline between steps
                    return Outcome("timeout", p, x, t)
            z = (x.sum(axis=0) - supply) / supply
            p = p * np.exp(step / (1.0 + t / halflife) * np.clip(z, -1.0, 1.0))
            p /= p.sum()
            if not np.all(np.isfinite(p)):
                return Outcome("diverged", iterations=t, message="prices left the finite numbers")
        return Outcome("max_iter", p, demand(economy, p, economy.incomes(p)), max_iter)
