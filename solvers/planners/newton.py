"""Newton's method on excess demand: what a practitioner tries first.

`scipy.optimize.root` (Powell's hybrid method by default) on the excess demand
of goods 1..m-1 in log prices, good 0 the numeraire (Walras' law makes the last
equation redundant). Local and without guarantee: it may stall or run off to a
boundary, and then it says so; the certificate judges whatever it returns.

With `carry` on a day of an economy stream, the root finder starts from yesterday's prices
(in the same log-price coordinates) instead of its usual start: the continuation idea of
path following in its simplest form (Allgower and Georg, "Introduction to Numerical
Continuation Methods", SIAM 2003, ch. 1), where a small change of the economy moves a regular
equilibrium a little (the implicit function theorem), so that Newton's method started at the
old one is in its region of fast convergence.
"""
from __future__ import annotations

import time

import numpy as np
from scipy.optimize import root

from gebench.markets import Economy, certify

from ..base import Outcome, Solver, Yesterday
from ..kernels.excess_demand import ExcessDemand, allocation_at, cobb_douglas_start
from ..kernels.log_prices import DeadlinePassed, prices_of
from ..kernels.params import AT_LEAST_ONE, Choice
from ..kernels.warm_up import warm_up_on_tiny


def log_price_system(z: ExcessDemand, deadline: float, counter: list):
    """F(u) = z(p)[1:] with p = exp([0, u]) / sum; raises DeadlinePassed past the deadline.
    counter = [evaluations, last u evaluated] is updated in place."""
    def F(u):
        if time.perf_counter() >= deadline:
            raise DeadlinePassed
        counter[0] += 1
        counter[1] = u
        values = z(prices_of(u))[1:]
        return np.where(np.isfinite(values), values, 1e6)
    return F


class Newton(Solver):
    """Local Newton-type root finding on excess demand from uniform prices (`start` =
    "uniform") or from the Cobb-Douglas prices of the same agents ("cobb-douglas").

    `carry`: on a day of a stream, start from yesterday's prices when they are all positive
    and of today's shape (else from `start`); `extra["start"]` says which start was used.
    """

    name = "newton"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    carries = True
    parameters = {"method": "hybr", "start": "uniform", "max_iter": 2000, "carry": False}
    rules = {"method": Choice(("hybr", "lm", "broyden1", "broyden2", "anderson", "linearmixing", "diagbroyden",
                                "excitingmixing", "krylov", "df-sane")),
             "start": Choice(("uniform", "cobb-douglas")), "max_iter": AT_LEAST_ONE}

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])

    def run(self, economy: Economy, tol: float, deadline: float, seed: int,
            yesterday: Yesterday | None = None) -> Outcome:
        m = economy.n_goods
        z = ExcessDemand(economy)
        start, origin = carried_start(yesterday, m), "yesterday"
        if start is None:
            origin = self.params["start"]
            start = np.full(m, 1.0 / m) if origin == "uniform" else cobb_douglas_start(economy, economy.a)
        u0 = np.log(start[1:] / start[0])
        outcome = self._root(economy, z, u0, tol, deadline)
        outcome.extra = {**outcome.extra, "start": origin}
        return outcome

    def _root(self, economy: Economy, z: ExcessDemand, u0: np.ndarray, tol: float, deadline: float) -> Outcome:
        m = economy.n_goods
        counter = [0, u0]                     # evaluations, last point evaluated
        F = log_price_system(z, deadline, counter)
        try:
            sol = root(F, u0, method=self.params["method"], tol=min(tol, 1e-10) * 1e-2,
                       options=_options(self.params["method"], int(self.params["max_iter"]), m))
        except DeadlinePassed:
            prices = prices_of(counter[1])
            return Outcome("timeout", prices, allocation_at(economy, prices), counter[0],
                           message="deadline inside the root finder")
        u = sol.x
        if not np.all(np.isfinite(u)):
            return Outcome("diverged", iterations=counter[0], message="log prices not finite")
        prices = prices_of(u)
        allocation = allocation_at(economy, prices)
        if certify(economy, prices, allocation).within(tol):
            return Outcome("converged", prices, allocation, counter[0])
        status = "diverged" if np.abs(u).max() > 600 else "max_iter"
        return Outcome(status, prices, allocation, counter[0], message=str(sol.message))


def carried_start(yesterday: Yesterday | None, m: int) -> np.ndarray | None:
    """Yesterday's prices as a start (summing to 1) when there are m of them, all positive and
    finite, so that their logs exist; else None."""
    if yesterday is None or yesterday.prices is None:
        return None
    p = np.asarray(yesterday.prices, dtype=np.float64)
    if p.shape != (m,) or not np.all(np.isfinite(p)) or not np.all(p > 0):
        return None
    return p / p.sum()


def _options(method: str, max_iter: int, m: int) -> dict:
    if method == "hybr":
        return {"maxfev": max_iter * m}
    if method == "lm":
        return {"maxiter": max_iter * m}
    return {"maxiter": max_iter}
