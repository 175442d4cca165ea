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

With `carry`, on a day of an economy stream whose yesterday ended certified, the path is an
economy homotopy from yesterday's economy to today's (`_DayPath`): every utility
coefficient, exponent, endowment (exchange) or budget share and supply (Fisher) is
(1 - tau) yesterday's + tau today's, and the path starts from yesterday's equilibrium prices,
which solve it at tau = 0. This is the natural-parameter homotopy of Eaves and Schmedders
(1999, section 3), the one Smale's global Newton method follows when the economy itself
moves; a small day's change makes a short path. A day whose yesterday was not certified, or
of another shape, an economy with producers, or one of Cobb-Douglas agents alone (whose cold
path starts at its equilibrium, a linear system), takes the cold path.
"""
from __future__ import annotations

import time

import numpy as np

from gebench.markets import CES, Economy, certify

from ..base import Outcome, Solver, Yesterday
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


class _DayPath:
    """H(x) for x = (u, tau) on the segment of economies from yesterday's to today's: a, rho,
    and the endowment (exchange) or budget shares and supply (Fisher) are (1 - tau) yesterday's
    + tau today's; Cobb-Douglas agents are CES agents with rho = 0, so that an agent replaced
    overnight by one of the other family moves smoothly too."""

    def __init__(self, yesterday: Economy, today: Economy, deadline: float = np.inf):
        self.deadline = deadline
        ends = (yesterday, today)
        self.a0, self.a1 = (np.asarray(e.a, dtype=np.float64) for e in ends)
        self.rho0, self.rho1 = (np.where(e.kinds == CES, e.rho, 0.0) for e in ends)
        self.kinds = np.full(today.n_agents, CES, dtype=np.int8)
        (self.share0, self.endowment0), (self.share1, self.endowment1) = (income_inputs(e) for e in ends)
        self.w0, self.w1 = (np.asarray(e.total_supply, dtype=np.float64) for e in ends)
        self.x = np.empty(today.n_goods)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if time.perf_counter() >= self.deadline:
            raise DeadlinePassed
        tau = float(np.clip(x[-1], 0.0, 1.0))
        mix = lambda old, new: (1 - tau) * old + tau * new      # noqa: E731
        a = mix(self.a0, self.a1)
        with np.errstate(divide="ignore"):
            log_a = np.log(a)
        w = np.ascontiguousarray(mix(self.w0, self.w1))
        z = np.empty(len(w))
        excess_kernel(self.kinds, a, log_a, mix(self.rho0, self.rho1), mix(self.share0, self.share1),
                      np.ascontiguousarray(mix(self.endowment0, self.endowment1)), w, prices_of(x[:-1]), self.x, z)
        return z[1:]

    def jacobian(self, x: np.ndarray, fx: np.ndarray) -> np.ndarray:
        return forward_jacobian(self, x, fx)


def day_path(yesterday: Yesterday | None, today: Economy) -> tuple[Economy, np.ndarray] | None:
    """(yesterday's economy, its certified prices) when today can be reached from them by an
    economy homotopy: yesterday ended certified, with positive prices, on an economy of today's
    model and shape, without producers, whose agents are all Cobb-Douglas or CES, and some of
    today's CES (an economy of Cobb-Douglas agents alone is solved by the cold start itself); else
    None."""
    if yesterday is None or not yesterday.certified or yesterday.prices is None or yesterday.economy is None:
        return None
    old, p = yesterday.economy, np.asarray(yesterday.prices, dtype=np.float64)
    if (old.model != today.model or old.a.shape != today.a.shape or old.production or today.production
            or old.sparse or today.sparse or p.shape != (today.n_goods,)
            or not np.all(np.isfinite(p)) or not np.all(p > 0)):
        return None
    if not (old.utility_kinds | today.utility_kinds) <= {"cobb-douglas", "ces"}:
        return None
    if today.utility_kinds == {"cobb-douglas"}:
        return None           # the cold path starts at today's equilibrium, in closed form: nothing to carry
    return old, p / p.sum()


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


def follow_from_near(H: _Path, u0: np.ndarray, deadline: float, max_steps: int):
    """`follow` from a point u0 that solves H(., 0) = 0 only within a tolerance (yesterday's
    certified equilibrium): Newton's method at tau = 0 first puts it on the path. None if that
    correction fails."""
    progress = {"x": np.concatenate([u0, [0.0]]), "length": 0.0, "steps": 0}
    try:
        x, k = _newton(H, progress["x"], None, None, steps=20)
        if x is None:
            return None
        progress["x"] = x
        u, length, steps, status = _follow(H, progress, deadline, max_steps, first=1.0, longest=1.0)
        return u, length, steps + k, status
    except DeadlinePassed:
        return progress["x"][:-1], progress["length"], progress["steps"], "timeout"


def _follow(H: _Path, progress: dict, deadline: float, max_steps: int, first: float = 0.1, longest: float = 0.5):
    """The predictor-corrector loop of `follow`: the first step is `first` long (in arclength
    of (u, tau)), later ones grow by half after an easy correction, up to `longest`."""
    x = progress["x"]
    t, h, length, newton_steps = None, first, 0.0, 0
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
        h = min(h * (1.5 if k <= 3 else 1.0), longest)
    return x[:-1], length, newton_steps, "max_iter"


class Homotopy(Solver):
    """Path following from Cobb-Douglas economies to a smooth target (Cobb-Douglas, CES).

    `starts`: how many start economies to try (the first with the target's own weights,
    the others with seeded random weights on the same goods); every distinct equilibrium
    reached is listed in `extra["equilibria"]`.

    `carry`: on a day of a stream, follow the economy homotopy from yesterday's certified
    equilibrium first (`_DayPath`); the first cold start runs only if that path does not end
    at a certified point, the seeded ones as without `carry`. `extra["start"]` says whether
    the answer's path came from "yesterday" or was "cold".
    """

    name = "homotopy"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"cobb-douglas", "ces"})
    exact = True
    production = True
    carries = True
    parameters = {"starts": 1, "max_steps": 10000, "carry": False}
    rules = {"starts": AT_LEAST_ONE, "max_steps": AT_LEAST_ONE}

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces"])

    @property
    def uses_seed(self) -> bool:
        return self.params["starts"] > 1

    def run(self, economy: Economy, tol: float, deadline: float, seed: int,
            yesterday: Yesterday | None = None) -> Outcome:
        rng = np.random.default_rng(seed)
        found, best, totals = [], None, {"path_length": 0.0, "newton_steps": 0, "paths": 0, "start": "cold"}
        system = ProductionSystem(economy) if economy.production else None
        carried = day_path(yesterday, economy)
        for k in range(int(self.params["starts"]) + (carried is not None)):
            traced = None
            if carried is not None and k == 0:
                old, p0 = carried
                traced = follow_from_near(_DayPath(old, economy, deadline), np.log(p0[1:] / p0[0]), deadline,
                                          int(self.params["max_steps"]))
                if traced is None:
                    continue
                u, length, steps, status = traced
                prices, levels = prices_of(u), None
                allocation = allocation_at(economy, prices)
            elif carried is not None and k == 1 and best is not None and best[2] <= tol:
                break             # yesterday's path reached today's equilibrium: the cold start 0 is not needed
            elif system is not None:
                v0 = starting_point(system, rng if k else None)
                H = _ProductionPath(system, v0, deadline)
                v, length, steps, status = follow(H, v0, deadline, int(self.params["max_steps"]))
                prices, allocation, levels = system.point(v)
            else:
                cold = k - (carried is not None)
                start_a = economy.a if cold == 0 else economy.a * rng.lognormal(0.0, 1.5, economy.a.shape)
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
                totals["start"] = "yesterday" if carried is not None and k == 0 else "cold"
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
