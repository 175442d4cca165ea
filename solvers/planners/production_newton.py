"""Newton's method on the zero-profit and clearing system of a production economy.

An equilibrium of an exchange economy with constant-returns producers is a solution of the
mixed complementarity problem (Mathiesen 1985, "Computation of economic equilibria by a
sequence of linear complementarity problems", Math. Programming Study 23; Rutherford 1995
for its MPSGE form): prices p > 0 clear every market counting what the producers make and
use at their levels y, and each producer's unit profit pi_k(p) <= 0, y_k >= 0, y_k pi_k = 0.
Kehoe ("Computation and multiplicity of equilibria", Handbook of Mathematical Economics IV,
1991, section 4) solves the same system by Newton-type and homotopy methods.

Here the complementarity is written with the Fischer-Burmeister function
phi(a, b) = a + b - sqrt(a^2 + b^2), which is 0 exactly when a >= 0, b >= 0, ab = 0
(Fischer 1992), and the square system

    F(u, y) = ( z_j(p, y) / w_j for j = 1..m-1 ;  phi(y_k, -pi_k(p)) for each producer )

in log prices u (good 0 the numeraire, so prices stay positive; Walras' law makes good 0's
equation redundant once profits are zero) is solved by a damped Newton method with a
forward-difference Jacobian and an Armijo line search on |F|^2 / 2 (De Luca, Facchinei and
Kanzow 1996). Profits are measured per unit of revenue plus cost, so that every equation is
unit-free. Local: from each start it converges or stalls; with `starts` > 1 it tries random
starts (from the run's seed) until one certifies, which is how several equilibria are found
(Kehoe's economy has three). The certificate judges the point.
"""
from __future__ import annotations

import time

import numpy as np

from gebench.markets import Economy, certify, demand
from gebench.markets.production import plan_of

from ..base import Outcome, Solver
from ..kernels.log_prices import forward_jacobian
from ..kernels.params import AT_LEAST_ONE, Choice

_LOG_RANGE = 50.0      # prices within e^50 of the numeraire's: demands stay finite
_LARGE = 1e6           # a residual that is not finite, or huge, counts as this


class ProductionSystem:
    """F(u, y) of an exchange economy with producers, and its point (prices, allocation, levels)."""

    def __init__(self, economy: Economy):
        self.economy = economy
        w = economy.total_supply
        self.scale = np.where(w > 0, w, w[w > 0].mean())
        self.m, self.k = economy.n_goods, len(economy.producers)

    def point(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u, y = np.clip(v[:self.m - 1], -_LOG_RANGE, _LOG_RANGE), np.maximum(v[self.m - 1:], 0.0)
        logp = np.concatenate([[0.0], u])
        p = np.exp(logp - logp.max())
        p /= p.sum()
        x = demand(self.economy, p, self.economy.endowment @ p)
        return p, x, y

    def __call__(self, v: np.ndarray, mu: float = 0.0) -> np.ndarray:
        """F(v), with the Fischer-Burmeister function smoothed by mu >= 0 (0: exact)."""
        p, x, y = self.point(v)
        out, inputs, revenue, cost = self.economy.technologies.unit_plans(p)
        made, used = plan_of(out, inputs, y)
        surplus = (self.economy.total_supply + made - x.sum(axis=0) - used) / self.scale
        levels = v[self.m - 1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            profits = np.where(revenue + cost > 0, (revenue - cost) / (revenue + cost), 0.0)
        fb = levels - profits - np.sqrt(levels ** 2 + profits ** 2 + 2.0 * mu)
        out = np.concatenate([surplus[1:], fb])
        return np.clip(np.nan_to_num(out, nan=_LARGE), -_LARGE, _LARGE)


def newton(system: ProductionSystem, v: np.ndarray, deadline: float, max_iter: int,
           tol: float) -> tuple[np.ndarray, int, str]:
    """Damped Newton from v: (the last point, iterations, why it stopped)."""
    f = system(v)
    for iteration in range(1, max_iter + 1):
        if time.perf_counter() >= deadline:
            return v, iteration - 1, "timeout"
        if np.max(np.abs(f)) <= tol * 1e-3:
            return v, iteration - 1, "solved"
        J = forward_jacobian(system, v, f)
        try:
            d = np.linalg.lstsq(J, -f, rcond=None)[0]
        except np.linalg.LinAlgError:
            return v, iteration, "singular"
        merit, t = 0.5 * f @ f, 1.0
        while t > 1e-10:
            trial = v + t * d
            g = system(trial)
            if 0.5 * g @ g <= (1 - 1e-4 * t) * merit:
                break
            t /= 2
        else:
            return v, iteration, "stalled"
        v, f = trial, g
    return v, max_iter, "max_iter"


class ProductionNewton(Solver):
    """Damped semismooth Newton on the zero-profit and clearing system of an exchange economy
    with constant-returns producers, from uniform prices and unit levels (`start` "uniform")
    or a random start (from the seed), then from up to `starts` - 1 random starts until one
    certifies."""

    name = "production-newton"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    production = True
    parameters = {"start": "uniform", "starts": 20, "max_iter": 200}
    rules = {"start": Choice(("uniform", "random")), "starts": AT_LEAST_ONE, "max_iter": AT_LEAST_ONE}

    def skip(self, economy):
        reason = super().skip(economy)
        if reason is None and not economy.production:
            return "economies without producers: the exchange solvers handle them"
        return reason

    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        system = ProductionSystem(economy)
        rng = np.random.default_rng(seed)
        best, total = None, 0
        for start in range(int(self.params["starts"])):
            v = starting_point(system, rng if start or self.params["start"] == "random" else None)
            v, iterations, why = newton(system, v, deadline, int(self.params["max_iter"]), tol)
            total += iterations
            p, x, y = system.point(v)
            worst = certify(economy, p, x, y).worst
            if best is None or worst < best[0]:
                best = (worst, p, x, y, start)
            if worst <= tol:
                break
            if why == "timeout":
                return Outcome("timeout", p, x, total, message=f"start {start}: {why}", levels=y)
        worst, p, x, y, start = best
        status = "converged" if worst <= tol else "failed"
        return Outcome(status, p, x, total, message=f"start {start} of {self.params['starts']}",
                       levels=y, extra={"starts_tried": start + 1})


def starting_point(system: ProductionSystem, rng) -> np.ndarray:
    """Uniform prices and unit levels (rng None), or random prices and levels."""
    if rng is None:
        return np.concatenate([np.zeros(system.m - 1), np.ones(system.k)])
    logp = np.log(rng.dirichlet(np.ones(system.m)))
    return np.concatenate([logp[1:] - logp[0], rng.exponential(1.0, system.k) * system.scale.mean()])
