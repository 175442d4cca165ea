"""Global Newton: follow the equilibria of a path of economies from a known one to the target.

Smale, "A convergent process of price adjustment and global Newton methods"
(J. Math. Econ. 1976); Eaves and Schmedders, "General equilibrium models and
homotopy methods" (J. Econ. Dyn. Control 1999). At tau = 0 every agent has
Cobb-Douglas tastes (CES with rho = 0) with start weights, whose equilibrium is
a linear system (`gebench.markets.closed_form`); along tau the weights move to the
target's and rho moves to tau * rho. The curve H(u, tau) = z_tau(p(u))[1:] = 0
(log prices, good 0 the numeraire) is followed by pseudo-arclength
predictor-corrector steps, so it may turn back in tau, which is how a global
Newton method passes folds. Different start weights can end at different
equilibria; with `starts` > 1 the solver reports every distinct one it found.

With producers (Kehoe, "Computation and multiplicity of equilibria", Handbook of
Mathematical Economics IV, 1991, section 4; Eaves and Schmedders 1999), the path is the
Newton homotopy of the zero-profit and clearing system in log prices and levels, from a
start point (uniform prices and unit levels first, then seeded random ones) to the system
itself, smoothed near its complementarity kinks (`_ProductionPath`); each start that
reaches tau = 1 is finished by Newton's method at tau = 1, and different starts can end at
different equilibria.
"""
from __future__ import annotations

import time

import numpy as np

from gebench.markets import CES, Economy, certify

from ..base import Outcome, Solver
from ..kernels.excess_demand import allocation_at, cobb_douglas_start, excess_kernel
from ..kernels.incomes import income_inputs
from ..kernels.log_prices import DeadlinePassed, forward_jacobian, prices_of
from ..kernels.params import AT_LEAST_ONE
from ..kernels.warm_up import warm_up_on_tiny
from .production_newton import ProductionSystem, starting_point


class _Path:
    """H(x) for x = (u, tau), with the economy's fixed inputs prepared once."""

    def __init__(self, economy: Economy, start_a: np.ndarray, deadline: float = np.inf):
        self.target_a, self.start_a, self.deadline = economy.a, start_a, deadline
        self.rho = np.where(economy.kinds == CES, economy.rho, 0.0)
        self.kinds = np.full(economy.n_agents, CES, dtype=np.int8)
        self.share, self.endowment = income_inputs(economy)
        self.w = np.ascontiguousarray(economy.total_supply)
        self.x = np.empty(economy.n_goods)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if time.perf_counter() >= self.deadline:
            raise DeadlinePassed
        tau = float(np.clip(x[-1], 0.0, 1.0))
        a = (1 - tau) * self.start_a + tau * self.target_a
        with np.errstate(divide="ignore"):
            log_a = np.log(a)
        z = np.empty(len(self.w))
        excess_kernel(self.kinds, a, log_a, tau * self.rho, self.share, self.endowment, self.w,
                      prices_of(x[:-1]), self.x, z)
        return z[1:]

    def jacobian(self, x: np.ndarray, fx: np.ndarray) -> np.ndarray:
        return forward_jacobian(self, x, fx)


class _ProductionPath:
    """The Newton homotopy of a production economy's zero-profit and clearing system
    (`gebench.solvers.planners.production_newton.ProductionSystem`, levels and log prices v), smoothed:
    H(v, tau) = F_mu(v) - (1 - tau) F_mu0(v0), mu = (1 - tau) mu0, where F_mu writes each
    complementarity with the smoothed Fischer-Burmeister function (Kanzow 1996). At tau = 0
    the start v0 solves it; at tau = 1 it is the exact system. The smoothing keeps H
    differentiable where a level and its profit are both near 0, so the path can be followed."""

    def __init__(self, system: ProductionSystem, v0: np.ndarray, deadline: float, mu0: float = 1e-2):
        self.system, self.mu0, self.deadline = system, mu0, deadline
        self.f0 = system(v0, mu0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if time.perf_counter() >= self.deadline:
            raise DeadlinePassed
        tau = float(np.clip(x[-1], 0.0, 1.0))
        return self.system(x[:-1], (1.0 - tau) * self.mu0) - (1.0 - tau) * self.f0

    def jacobian(self, x: np.ndarray, fx: np.ndarray) -> np.ndarray:
        return forward_jacobian(self, x, fx)


def _tangent(J: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    t = np.linalg.svd(J)[2][-1]
    if previous is None:
        return t if t[-1] > 0 else -t
    return t if t @ previous > 0 else -t


def _newton(H: _Path, x: np.ndarray, anchor: np.ndarray | None, t: np.ndarray | None,
            steps: int = 8, tol: float = 1e-12):
    """Correct x onto H = 0 (on the hyperplane t.(x - anchor) = 0, or at fixed tau if t is None)."""
    for k in range(steps):
        fx = H(x)
        if not np.all(np.isfinite(fx)):
            return None, k
        if np.abs(fx).max() < tol:
            return x, k
        J = H.jacobian(x, fx)
        if t is None:
            dx = np.zeros_like(x)
            dx[:-1] = np.linalg.lstsq(J[:, :-1], -fx, rcond=None)[0]
        else:
            A = np.vstack([J, t])
            rhs = np.concatenate([-fx, [-(t @ (x - anchor))]])
            dx = np.linalg.lstsq(A, rhs, rcond=None)[0]
        x = x + dx
    fx = H(x)
    return (x, steps) if np.all(np.isfinite(fx)) and np.abs(fx).max() < 1e-8 else (None, steps)


def follow(H: _Path, u0: np.ndarray, deadline: float, max_steps: int):
    """Trace from (u0, 0) to tau = 1: (u, path length, Newton steps, status)."""
    progress = {"x": np.concatenate([u0, [0.0]]), "length": 0.0, "steps": 0}
    try:
        return _follow(H, progress, deadline, max_steps)
    except DeadlinePassed:
        return progress["x"][:-1], progress["length"], progress["steps"], "timeout"


def _follow(H: _Path, progress: dict, deadline: float, max_steps: int):
    x = progress["x"]
    t, h, length, newton_steps = None, 0.1, 0.0, 0
    for _ in range(max_steps):
        progress.update(x=x, length=length, steps=newton_steps)
        if time.perf_counter() >= deadline:
            return x[:-1], length, newton_steps, "timeout"
        fx = H(x)
        t = _tangent(H.jacobian(x, fx), t)
        while True:
            guess = x + h * t
            corrected, k = _newton(H, guess, guess, t)
            newton_steps += k
            if corrected is not None and np.linalg.norm(corrected - x) < 3 * h:
                break
            h /= 2
            if h < 1e-10:
                return x[:-1], length, newton_steps, "failed"
        length += np.linalg.norm(corrected - x)
        if corrected[-1] >= 1.0:
            # land on tau = 1 by interpolation, then Newton at fixed tau
            s = (1.0 - x[-1]) / (corrected[-1] - x[-1])
            end = x + s * (corrected - x)
            end[-1] = 1.0
            final, k = _newton(H, end, None, None, steps=20)
            newton_steps += k
            if final is None:
                return end[:-1], length, newton_steps, "failed"
            return final[:-1], length, newton_steps, "done"
        x = corrected
        h = min(h * (1.5 if k <= 3 else 1.0), 0.5)
    return x[:-1], length, newton_steps, "max_iter"


class Homotopy(Solver):
    """Path following from Cobb-Douglas economies to a smooth target (Cobb-Douglas, CES).

    `starts`: how many start economies to try (the first with the target's own weights,
    the others with seeded random weights on the same goods); every distinct equilibrium
    reached is listed in `extra["equilibria"]`.
    """

    name = "homotopy"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"cobb-douglas", "ces"})
    exact = True
    production = True
    parameters = {"starts": 1, "max_steps": 10000}
    rules = {"starts": AT_LEAST_ONE, "max_steps": AT_LEAST_ONE}

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces"])

    @property
    def uses_seed(self) -> bool:
        return self.params["starts"] > 1

    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        rng = np.random.default_rng(seed)
        found, best, totals = [], None, {"path_length": 0.0, "newton_steps": 0, "paths": 0}
        system = ProductionSystem(economy) if economy.production else None
        for k in range(int(self.params["starts"])):
            if system is not None:
                v0 = starting_point(system, rng if k else None)
                H = _ProductionPath(system, v0, deadline)
                v, length, steps, status = follow(H, v0, deadline, int(self.params["max_steps"]))
                prices, allocation, levels = system.point(v)
            else:
                start_a = economy.a if k == 0 else economy.a * rng.lognormal(0.0, 1.5, economy.a.shape)
                H = _Path(economy, start_a, deadline)
                p0 = cobb_douglas_start(economy, start_a)
                u, length, steps, status = follow(H, np.log(p0[1:] / p0[0]), deadline, int(self.params["max_steps"]))
                prices, levels = prices_of(u), None
                allocation = allocation_at(economy, prices)
            totals["path_length"] += length
            totals["newton_steps"] += steps
            totals["paths"] += 1
            worst = certify(economy, prices, allocation, levels).worst
            if worst <= tol and not any(np.abs(prices - q).max() < 1e-6 for q in found):
                found.append(prices)
            if best is None or worst < best[2]:
                best = (prices, allocation, worst, status, levels)
            if status == "timeout":
                break
        totals["equilibria"] = [q.tolist() for q in found]
        prices, allocation, worst, status, levels = best
        iterations = totals["newton_steps"]
        if worst <= tol:
            return Outcome("converged", prices, allocation, iterations, extra=totals, levels=levels)
        reasons = {"done": "the path ended off the target's equilibria",
                   "failed": "the path could not be followed: its step size collapsed",
                   "max_iter": "max_steps reached before tau = 1", "timeout": ""}
        return Outcome(status if status != "done" else "failed", prices, allocation, iterations,
                       message=reasons[status], extra=totals, levels=levels)
