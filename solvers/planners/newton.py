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
old one is in its region of fast convergence. Most of a cold run's evaluations of excess
demand go into one forward-difference Jacobian (m of them); so the carried run also keeps
yesterday's final Jacobian (Powell's hybrid method returns it as a QR factorisation, at no
cost) and starts with Broyden's method on it ("A class of methods for solving nonlinear
simultaneous equations", Math. Comp. 19, 1965: rank-one secant updates, one evaluation a
step), whose updated matrix it keeps in turn. A step that does not lower the largest excess
demand is not taken, but the matrix still learns from it; if the steps have not converged within `_BROYDEN_EVALUATIONS`
evaluations (or m, what a fresh Jacobian costs, if fewer), Powell's method takes over from
the best point reached.
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

_BROYDEN_EVALUATIONS = 50     # evaluations a carried run gives Broyden's method before Powell's takes over,
                              # and never more than a fresh Jacobian would cost (m, or 10 for tiny m)


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
    and of today's shape (else from `start`), with Broyden's method on yesterday's Jacobian
    where one was kept (`Outcome.state["jacobian"]`); `extra["start"]` says which start was
    used, `extra["broyden"]` how many evaluations Broyden's method took.
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
        counter = [0, u0]                     # evaluations, last point evaluated
        F = log_price_system(z, deadline, counter)
        jacobian = kept_jacobian(yesterday, m) if origin == "yesterday" and self.carried else None
        extra = {"start": origin}
        try:
            if jacobian is not None:
                u0, jacobian, converged = broyden(F, u0, jacobian, min(tol, 1e-10) * 1e-2,
                                                     min(_BROYDEN_EVALUATIONS, max(10, m)))
                extra["broyden"] = counter[0]
                if converged:
                    prices = prices_of(u0)
                    allocation = allocation_at(economy, prices)
                    if certify(economy, prices, allocation).within(tol):
                        return Outcome("converged", prices, allocation, counter[0], extra=extra,
                                       state={"jacobian": jacobian})
            outcome = self._root(economy, F, counter, u0, tol)
            if outcome.status != "converged" and origin == "yesterday":
                # yesterday's prices led nowhere (a large shock, say): today from the cold start
                origin = extra["start"] = self.params["start"]
                cold = np.full(m, 1.0 / m) if origin == "uniform" else cobb_douglas_start(economy, economy.a)
                extra["carried_start_failed"] = outcome.status
                outcome = self._root(economy, F, counter, np.log(cold[1:] / cold[0]), tol)
        except DeadlinePassed:
            prices = prices_of(counter[1])
            return Outcome("timeout", prices, allocation_at(economy, prices), counter[0],
                           message="deadline inside the root finder", extra=extra)
        outcome.extra = {**outcome.extra, **extra}
        if not self.carried:
            outcome.state = {}
        return outcome

    def _root(self, economy: Economy, F, counter: list, u0: np.ndarray, tol: float) -> Outcome:
        """The configured root finder from u0; its final Jacobian in `state` when it has one."""
        m = economy.n_goods
        sol = root(F, u0, method=self.params["method"], tol=min(tol, 1e-10) * 1e-2,
                   options=_options(self.params["method"], int(self.params["max_iter"]), m))
        u = sol.x
        if not np.all(np.isfinite(u)):
            return Outcome("diverged", iterations=counter[0], message="log prices not finite")
        prices = prices_of(u)
        allocation = allocation_at(economy, prices)
        state = {"jacobian": hybrid_jacobian(sol)} if self.params["method"] == "hybr" else {}
        if certify(economy, prices, allocation).within(tol):
            return Outcome("converged", prices, allocation, counter[0], state=state)
        status = "diverged" if np.abs(u).max() > 600 else "max_iter"
        return Outcome(status, prices, allocation, counter[0], message=str(sol.message), state=state)


def carried_start(yesterday: Yesterday | None, m: int) -> np.ndarray | None:
    """Yesterday's prices as a start (summing to 1) when there are m of them, all positive and
    finite, so that their logs exist; else None."""
    if yesterday is None or yesterday.prices is None:
        return None
    p = np.asarray(yesterday.prices, dtype=np.float64)
    if p.shape != (m,) or not np.all(np.isfinite(p)) or not np.all(p > 0):
        return None
    return p / p.sum()


def kept_jacobian(yesterday: Yesterday | None, m: int) -> np.ndarray | None:
    """Yesterday's final Jacobian of the log-price system, a copy, when it fits m goods and is finite."""
    J = yesterday.state.get("jacobian") if yesterday is not None else None
    if not isinstance(J, np.ndarray) or J.shape != (m - 1, m - 1) or not np.all(np.isfinite(J)):
        return None
    return np.array(J, dtype=np.float64)


def hybrid_jacobian(sol) -> np.ndarray | None:
    """The final Jacobian approximation of Powell's hybrid method (MINPACK's hybrd), Q R from
    the factors `scipy.optimize.root` returns: `fjac` holds Q transposed, `r` the upper
    triangle R row by row."""
    k = sol.fjac.shape[0]
    R = np.zeros((k, k))
    R[np.triu_indices(k)] = sol.r
    return sol.fjac.T @ R


def broyden(F, u: np.ndarray, J: np.ndarray, ftol: float, evaluations: int, patience: int = 3):
    """Broyden's method from u with the Jacobian guess J (updated in place): each step solves
    J du = -F(u) and corrects J by the rank-one secant update at u + du; the step is taken
    if it lowers the largest |F|, else J alone learns from it. (the best u, the updated J,
    whether max |F| <= ftol) after at most `evaluations` evaluations of F, `patience` steps
    in a row that do not lower it, or a singular J."""
    f, spent, failures = F(u), 1, 0
    while spent < evaluations and failures < patience:
        if np.abs(f).max() <= ftol:
            return u, J, True
        try:
            s = np.linalg.solve(J, -f)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(s)) or not s.any():
            break
        f_trial = F(u + s)
        spent += 1
        J += np.outer((f_trial - f) - J @ s, s) / (s @ s)
        if np.abs(f_trial).max() < np.abs(f).max():
            u, f, failures = u + s, f_trial, 0
        else:
            failures += 1
    return u, J, bool(np.abs(f).max() <= ftol)


def _options(method: str, max_iter: int, m: int) -> dict:
    if method == "hybr":
        return {"maxfev": max_iter * m}
    if method == "lm":
        return {"maxiter": max_iter * m}
    return {"maxiter": max_iter}
