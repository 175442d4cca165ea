"""Scarf's simplicial method with Merrill's restarts: the general-purpose exact planner.

Scarf, "The approximation of fixed points of a continuous mapping" (SIAM J.
Appl. Math. 1967) finds a completely labelled simplex of a triangulated price
simplex by following doors; Merrill, "Applications and extensions of an
algorithm that computes fixed points" (1972) starts the path anywhere, on an
artificial layer, which allows restarts from the last answer on a finer grid
(Todd, "The Computation of Fixed Points and Applications", 1976, ch. 5).

The price simplex {v in Z^m, v >= 0, sum v = D} in tail-sum coordinates
y_q = v_(q+1) + ... + v_(m-1) is an orthoscheme, so Freudenthal's (Kuhn's K1)
triangulation of Z^(m-1) fits it exactly; the layer R^(m-1) x {0, 1} adds one
axis. Integer labels are goods:
- level 1 (the economy): the first good j with p_j > 0 and z_j(p) <= 0 (one
  exists by Walras' law); outside the simplex, the good of largest coordinate;
- level 0 (artificial): in tail sums the standard labelling of the start c:
  good d if y >= c, else the first q with y_q < c_q; it means p_q > p0_q, and
  its only completely labelled simplex is the one at floor(c) with the
  identity permutation.
A label j always means p_j > 0 nearby, so the path cannot leave the simplex's
neighbourhood, and a completely labelled simplex on level 1 is an approximate
equilibrium (every good nearly clears or is free). Each restart multiplies the
grid D; the tolerance on the certificate decides when to stop.
"""
from __future__ import annotations

import time

import numpy as np
from numba import njit

from markets import Economy, certify

from .base import Outcome, Solver, in_unit_supply
from .excess_demand import ExcessDemand, allocation_at, excess_kernel
from .params import AT_LEAST_ONE, Range
from .warm_up import warm_up_on_tiny

_RUNNING, _DONE, _ERROR = 0, 1, 2


@njit(cache=True)
def _label(vertex, level, D, c, kinds, a, log_a, rho, share, endowment, w, p, x_row, z):
    """The integer label (a good) of a layer vertex (tail-sum coordinates, level 0 or 1)."""
    d = vertex.shape[0]
    if level == 0:
        for q in range(d):
            if vertex[q] < c[q]:
                return q
        return d
    # v from tail sums, p = v / D
    outside = False
    for j in range(d + 1):
        head = D if j == 0 else vertex[j - 1]
        tail = vertex[j] if j < d else 0
        v = head - tail
        p[j] = v / D
        if v < 0:
            outside = True
    if outside:
        best = 0
        for j in range(d + 1):
            if p[j] > p[best]:
                best = j
        return best
    excess_kernel(kinds, a, log_a, rho, share, endowment, w, p, x_row, z)
    fallback, low = -1, np.inf
    for j in range(d + 1):
        if p[j] > 0.0:
            if z[j] <= 0.0:
                return j
            if z[j] < low:
                fallback, low = j, z[j]
    return fallback


@njit(cache=True)
def _vertex(base, perm, k, out):
    """Vertex k of the K1 simplex (base, perm): base plus the unit steps perm[0..k-1]."""
    for q in range(base.shape[0]):
        out[q] = base[q]
    for s in range(k):
        out[perm[s]] += 1


@njit(cache=True)
def _path(D, c, base, perm, labels, state, limit, kinds, a, log_a, rho, share, endowment, w):
    """Follow doors for at most `limit` pivots. Layer coordinates: base[:d] tail sums, base[d] level.
    state = [status, index of the newest vertex, pivots so far]."""
    d1 = base.shape[0]            # d + 1 axes; d + 2 vertices
    d = d1 - 1
    m = d + 1
    p, z, x_row = np.empty(m), np.empty(m), np.empty(m)
    vertex = np.empty(d1, dtype=np.int64)
    for _ in range(limit):
        new = state[1]
        drop = -1
        for k in range(d1 + 1):
            if k != new and labels[k] == labels[new]:
                drop = k
                break
        level_axis = 0
        while perm[level_axis] != d:
            level_axis += 1
        if level_axis == 0 and drop == 0:
            state[0] = _DONE              # the other d + 1 vertices: a full door on level 1
            return
        if level_axis == d and drop == d1:
            state[0] = _ERROR             # a second artificial door: cannot happen for a proper start
            return
        if drop == 0:
            first = perm[0]
            base[first] += 1
            for s in range(d):
                perm[s] = perm[s + 1]
            perm[d] = first
            for k in range(d1):
                labels[k] = labels[k + 1]
            new = d1
        elif drop == d1:
            last = perm[d]
            base[last] -= 1
            for s in range(d, 0, -1):
                perm[s] = perm[s - 1]
            perm[0] = last
            for k in range(d1, 0, -1):
                labels[k] = labels[k - 1]
            new = 0
        else:
            perm[drop - 1], perm[drop] = perm[drop], perm[drop - 1]
            new = drop
        _vertex(base, perm, new, vertex)
        labels[new] = _label(vertex[:d], vertex[d], D, c, kinds, a, log_a, rho, share, endowment, w, p, x_row, z)
        state[1] = new
        state[2] += 1


class Scarf(Solver):
    """Simplicial fixed-point search with restarts on finer grids (Merrill), for any economy
    whose demand is a function of prices: exchange or Fisher; Cobb-Douglas, CES, Leontief.

    Linear utilities are declined: their demand is a correspondence, and integer labels
    then only promise, for each good, some nearby demand that clears it, not one demand
    that clears all (on a 5 x 5 linear exchange economy the limit point over-demands a good
    by a third). Linear exchange has its own exact method, `linear-exchange-cp`.

    `grid` is the first D (times the number of goods), `refine` the factor between
    restarts, `max_grid` the finest D tried.
    """

    name = "scarf"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = True
    parameters = {"grid": 8, "refine": 8, "max_grid": 1e14, "max_iter": 10**9}
    rules = {"grid": Range(2), "refine": Range(2), "max_grid": Range(2), "max_iter": AT_LEAST_ONE}

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])

    @in_unit_supply
    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        m = economy.n_goods
        rng = np.random.default_rng(seed)
        z = ExcessDemand(economy)
        estimate = np.full(m, 1.0 / m)
        D = int(self.params["grid"]) * m
        pivots = restarts = 0
        best = None
        while True:
            if m == 1:
                prices = np.ones(1)
            else:
                status, prices, made = self._restart(z, D, estimate, rng, deadline,
                                                     int(self.params["max_iter"]) - pivots)
                pivots += made
                if status != "done":
                    return self._stop(status, best, pivots, restarts, D)
            restarts += 1
            allocation = allocation_at(economy, prices, slack=tol / 2)
            worst = certify(economy, prices, allocation).worst
            if best is None or worst <= best[2]:
                best = (prices, allocation, worst)
            if worst <= tol:
                return Outcome("converged", prices, allocation, pivots,
                               extra={"pivots": pivots, "restarts": restarts, "grid": D})
            D *= int(self.params["refine"])
            if D > self.params["max_grid"]:
                return self._stop("max_iter", best, pivots, restarts, D)
            estimate = prices

    @staticmethod
    def _stop(status, best, pivots, restarts, D) -> Outcome:
        prices, allocation = (best[0], best[1]) if best else (None, None)
        return Outcome(status, prices, allocation, pivots,
                       message="" if status != "failed" else "the path met a second artificial door",
                       extra={"pivots": pivots, "restarts": restarts, "grid": D})

    @staticmethod
    def _restart(z: ExcessDemand, D: int, estimate: np.ndarray, rng, deadline: float, budget: int):
        """One Merrill path on grid D from `estimate`: ("done", prices, pivots) or a stop status."""
        m = len(estimate)
        d = m - 1
        p0 = np.maximum(estimate / estimate.sum(), 2.0 / D)     # a cell or two inside, for the artificial labels
        p0 /= p0.sum()
        c = D * (1.0 - np.cumsum(p0)[:d]) + rng.uniform(-0.25, 0.25, d)   # generic: never on the grid
        base = np.zeros(d + 1, dtype=np.int64)
        base[:d] = np.floor(c)
        perm = np.arange(d + 1, dtype=np.int64)
        labels = np.empty(d + 2, dtype=np.int64)
        vertex = np.empty(d + 1, dtype=np.int64)
        scratch = np.empty(m), np.empty(m), np.empty(m)
        for k in range(d + 2):
            _vertex(base, perm, k, vertex)
            labels[k] = _label(vertex[:d], vertex[d], D, c, *z.args, *scratch)
        state = np.array([_RUNNING, d + 1, 0], dtype=np.int64)
        chunk = 64
        while state[0] == _RUNNING:
            if state[2] >= budget:
                return "max_iter", None, int(state[2])
            if time.perf_counter() >= deadline:
                return "timeout", None, int(state[2])
            _path(D, c, base, perm, labels, state, min(chunk, budget - int(state[2])), *z.args)
            chunk = min(4 * chunk, 4096)
        if state[0] == _ERROR:
            return "failed", None, int(state[2])
        prices = np.zeros(m)
        for k in range(1, d + 2):
            _vertex(base, perm, k, vertex)
            v = np.diff(np.concatenate([[D], vertex[:d], [0]])) * -1.0
            prices += np.maximum(v, 0.0)
        return "done", prices / prices.sum(), int(state[2])
