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

Production (an exchange economy with constant-returns producers) changes what is
searched, not how. The supply of constant-returns producers is a correspondence in
prices (any level of a technology that breaks even), and with integer labels a
correspondence only promises, for each good, some nearby supply that clears it: labels
on prices alone are not enough (on Mathiesen's economy a rule that labels a profitable
point by the producer's output and any other point by an uncleared good, from exchange
demand alone, has its only completely labelled point at p = (16, 1, 15) / 32, not at the
equilibrium (6, 1, 5) / 12; a rule that labels a profitable point by an input never
labels Mathiesen's good 0, which only the activity makes). An equilibrium is a solution
of the complementarity problem in prices and levels together (Mathiesen, "Computation of
economic equilibria by a sequence of linear complementarity problems", Math. Programming
Study 23, 1985): z(p, y) = x(p) + (inputs - outputs)(p) y - w <= 0 with p_j z_j = 0, and
profits pi_k(p) <= 0 with y_k pi_k = 0. Its functions are single-valued and continuous,
which is what integer labels need; Kehoe ("An index theorem for general equilibrium
models with production", Econometrica 48, 1980; "Computation and multiplicity of
equilibria", Handbook of Mathematical Economics IV, 1991, sections 2.2 and 4.1) makes
the same point by building a single-valued function whose fixed points are the
equilibria, and Scarf and Hansen (1973, ch. 5) carry the levels in vector labels. Here
the levels join the prices on one simplex of m + K coordinates (u = (q, v), q_j = p_j s_j
a price in value units, v_k = y_k sum(q) / l_k a level in units l_k), so that every
(p, y) with y >= 0 is a point with sum(q) > 0, and labels are coordinates:
- with F_j = z_j(p, y) / s_j for a good and F_(m+k) = l_k pi_k(p) sum(p) / sum(q) for a
  producer (p summing to 1 in pi), Walras' law p . z = -sum_k y_k pi_k reads
  sum_i u_i F_i = 0, so among the coordinates with u_i > 0 the least F_i is <= 0, and
  that coordinate is the label: a good not over-demanded, or a running producer that does
  not profit. The least, not the first as in the exchange path: with the first (goods,
  then producers) a restart on Shoven and Whalley's economy wandered for 85 million pivots
  and ran out of 60 s, where the least needs 3,141 pivots in all;
- on the face q = 0 (infinite levels), the producer of largest v_k; outside the simplex,
  the coordinate of largest value.
A completely labelled simplex on a fine grid is then near a point where every F_i <= 0:
every good has z_j <= 0 and every producer pi_k <= 0, and since sum_i u_i F_i = 0 each
F_i < 0 has u_i = 0: a free good in excess supply, or an idle producer. That is an
equilibrium. The artificial layer and the restarts are the exchange path's, in m + K
coordinates. After each path the levels are also refitted at its prices by a small
linear program (`fitted_levels`: markets clear, and producers that lose stay idle, as well
as those prices allow), and the certificate judges both sets of levels and keeps the better.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit
from scipy.optimize import linprog

from gebench.markets import Economy, certify, make_economy
from gebench.markets.production import Producer, plan_of
from gebench.markets.utilities import demand_row

from ..base import Outcome, Solver, in_unit_supply
from ..kernels.excess_demand import ExcessDemand, allocation_at, excess_kernel
from ..kernels.log_prices import take_logs
from ..kernels.params import AT_LEAST_ONE, Choice, Range
from ..kernels.warm_up import warm_up_on_tiny

_RUNNING, _DONE, _ERROR = 0, 1, 2
_ACTIVITY, _CES, _COBB_DOUGLAS, _LEONTIEF = 0, 1, 2, 3     # gebench.markets.production.PRODUCER_TYPES


@njit(cache=True)
def _start_label(vertex, c):
    """The standard labelling of level 0, which makes the start c the one completely labelled
    simplex there: the first coordinate q whose tail sum is below c's, d if there is none."""
    d = vertex.shape[0]
    for q in range(d):
        if vertex[q] < c[q]:
            return q
    return d


@njit(cache=True)
def _from_tail_sums(vertex, D, out):
    """The point of a level-1 vertex given by its d tail sums on the grid of D: out_j = (t_{j-1}
    - t_j) / D with t_{-1} = D and t_d = 0, so that out sums to 1. Returns -1 if the point is
    on the simplex, else (a vertex outside it, some out_j < 0) the label that keeps the walk
    inside: the coordinate of the largest out_j, the first of equals."""
    d = vertex.shape[0]
    outside = False
    for j in range(d + 1):
        head = D if j == 0 else vertex[j - 1]
        tail = vertex[j] if j < d else 0
        out[j] = (head - tail) / D
        if head - tail < 0:
            outside = True
    if not outside:
        return -1
    best = 0
    for j in range(d + 1):
        if out[j] > out[best]:
            best = j
    return best


@njit(cache=True)
def _label(vertex, level, D, c, kinds, a, log_a, rho, share, endowment, w, p, x_row, z):
    """The integer label (a good) of a layer vertex (tail-sum coordinates, level 0 or 1)."""
    if level == 0:
        return _start_label(vertex, c)
    outside = _from_tail_sums(vertex, D, p)
    if outside >= 0:
        return outside
    excess_kernel(kinds, a, log_a, rho, share, endowment, w, p, x_row, z)
    fallback, low = -1, np.inf
    for j in range(p.shape[0]):
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
def _next_vertex(base, perm, labels, state, vertex):
    """One pivot of the walk, shared by `_path` and `_production_path`: the vertex that enters
    through the door of the newest one (`_door`), written to `vertex` and counted in state (its
    index, one more pivot). Returns its index, to be labelled by the caller, or -1 with state[0]
    set (`_DONE`, or `_ERROR`) once the walk ends."""
    new = _door(base, perm, labels, state[1])
    if new < 0:
        state[0] = _DONE if new == -1 else _ERROR
        return -1
    _vertex(base, perm, new, vertex)
    state[1] = new
    state[2] += 1
    return new


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
        new = _next_vertex(base, perm, labels, state, vertex)
        if new < 0:
            return
        labels[new] = _label(vertex[:d], vertex[d], D, c, kinds, a, log_a, rho, share, endowment, w, p, x_row, z)


@njit(cache=True)
def _door(base, perm, labels, new):
    """The pivot step of `_path` and `_production_path`: leave the simplex (base, perm) by the
    door opposite the vertex whose label repeats the `new` vertex's, and return the index of
    the vertex that enters (its label is then the caller's to write), or -1 at a full door on
    level 1 (the other d + 1 vertices), -2 at a second artificial door (which cannot happen
    for a proper start)."""
    d1 = base.shape[0]            # d + 1 axes; d + 2 vertices
    d = d1 - 1
    drop = -1
    for k in range(d1 + 1):
        if k != new and labels[k] == labels[new]:
            drop = k
            break
    level_axis = 0
    while perm[level_axis] != d:
        level_axis += 1
    if level_axis == 0 and drop == 0:
        return -1
    if level_axis == d and drop == d1:
        return -2
    if drop == 0:
        first = perm[0]
        base[first] += 1
        for s in range(d):
            perm[s] = perm[s + 1]
        perm[d] = first
        for k in range(d1):
            labels[k] = labels[k + 1]
        return d1
    if drop == d1:
        last = perm[d]
        base[last] -= 1
        for s in range(d, 0, -1):
            perm[s] = perm[s - 1]
        perm[0] = last
        for k in range(d1, 0, -1):
            labels[k] = labels[k - 1]
        return 0
    perm[drop - 1], perm[drop] = perm[drop], perm[drop - 1]
    return drop


@njit(cache=True)
def _unit_plan(k, kind, net, ta, log_ta, alpha, output, tscale, trho, p, log_p, out, inputs):
    """Producer k's gross outputs and inputs per unit of level at prices p (written into out
    and inputs) and its (revenue, cost), as `gebench.markets.production.Technologies.unit_plans`
    computes them: Shephard's cost-minimising inputs, +inf for a free input used without bound."""
    m = p.shape[0]
    for j in range(m):
        out[j] = 0.0
        inputs[j] = 0.0
    if kind[k] == _ACTIVITY:
        revenue = cost = 0.0
        for j in range(m):
            if net[k, j] > 0.0:
                out[j] = net[k, j]
                revenue += net[k, j] * p[j]
            elif net[k, j] < 0.0:
                inputs[j] = -net[k, j]
                cost -= net[k, j] * p[j]
        return revenue, cost
    out[output[k]] = 1.0
    free = False
    for j in range(m):
        if ta[k, j] > 0.0 and p[j] <= 0.0:
            free = True
    c = 0.0
    if kind[k] == _LEONTIEF:
        for j in range(m):
            if ta[k, j] > 0.0:
                inputs[j] = ta[k, j]
                c += ta[k, j] * p[j]
    elif kind[k] == _COBB_DOUGLAS:
        if not free:
            log_c = 0.0
            for j in range(m):
                if ta[k, j] > 0.0:
                    log_c += alpha[k, j] * (log_p[j] - math.log(alpha[k, j]))
            c = math.exp(log_c)
        for j in range(m):
            if ta[k, j] > 0.0:
                inputs[j] = np.inf if p[j] <= 0.0 else alpha[k, j] * c / p[j]
    else:
        s = 1.0 / (1.0 - trho[k])
        total = 0.0
        for j in range(m):
            if ta[k, j] > 0.0:
                total += math.exp(s * log_ta[k, j] + (1.0 - s) * log_p[j]) if p[j] > 0.0 else \
                    (np.inf if s > 1.0 else 0.0)
        c = 0.0 if math.isinf(total) else total ** (1.0 / (1.0 - s))     # a free substitute costs 0
        log_c = math.log(c) if c > 0.0 else -np.inf
        for j in range(m):
            if ta[k, j] > 0.0:
                inputs[j] = np.inf if p[j] <= 0.0 else math.exp(s * (log_ta[k, j] - log_p[j] + log_c))
    for j in range(m):
        inputs[j] /= tscale[k]
    return p[output[k]], c / tscale[k]


@njit(cache=True)
def _production_label(vertex, level, D, c, kinds, a, log_a, rho, endowment, w, s, units,
                      kind, net, ta, log_ta, alpha, output, tscale, trho, u, p, log_p, x_row, z, out, inputs):
    """The integer label of a layer vertex of the price-and-level simplex (m + K coordinates:
    value prices q, then levels v): on level 1 the coordinate, among those > 0, of the least
    of z_j(p, y) / s_j (goods) and l_k pi_k(p) sum(p) / sum(q) (producers), which is <= 0 by
    Walras' law (module docstring); on level 0 the standard labelling of the start c."""
    if level == 0:
        return _start_label(vertex, c)
    outside = _from_tail_sums(vertex, D, u)
    if outside >= 0:
        return outside
    m, n, k_count = w.shape[0], a.shape[0], kind.shape[0]
    mass = 0.0
    for j in range(m):
        mass += u[j]
    if mass <= 0.0:                  # every level infinite: the producer that runs most
        best = m
        for k in range(m, m + k_count):
            if u[k] > u[best]:
                best = k
        return best
    total = 0.0
    for j in range(m):
        p[j] = u[j] / s[j]
        total += p[j]
    for j in range(m):
        p[j] /= total
        z[j] = -w[j]
    take_logs(p, log_p)
    for i in range(n):
        b = 0.0
        for j in range(m):
            b += endowment[i, j] * p[j]
        demand_row(kinds[i], a[i], log_a[i], rho[i], p, log_p, b, x_row)
        for j in range(m):
            z[j] += x_row[j]
    best, low = -1, np.inf
    for k in range(k_count):
        revenue, cost = _unit_plan(k, kind, net, ta, log_ta, alpha, output, tscale, trho, p, log_p, out, inputs)
        y = units[k] * u[m + k] / mass
        if y > 0.0:
            for j in range(m):
                if inputs[j] > 0.0:
                    z[j] += y * inputs[j]
                z[j] -= y * out[j]
            weighed = units[k] * (revenue - cost) * total / mass
            if weighed < low:
                best, low = m + k, weighed
    for j in range(m):
        if u[j] > 0.0 and z[j] / s[j] < low:
            best, low = j, z[j] / s[j]
    return best


@njit(cache=True)
def _production_path(D, c, base, perm, labels, state, limit, kinds, a, log_a, rho, endowment, w, s, units,
                     kind, net, ta, log_ta, alpha, output, tscale, trho):
    """`_path` on the price-and-level simplex, with `_production_label`."""
    d1 = base.shape[0]
    d = d1 - 1
    m = w.shape[0]
    u = np.empty(d + 1)
    p, log_p, x_row, z, out, inputs = np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    vertex = np.empty(d1, dtype=np.int64)
    for _ in range(limit):
        new = _next_vertex(base, perm, labels, state, vertex)
        if new < 0:
            return
        labels[new] = _production_label(vertex[:d], vertex[d], D, c, kinds, a, log_a, rho, endowment, w, s, units,
                                        kind, net, ta, log_ta, alpha, output, tscale, trho,
                                        u, p, log_p, x_row, z, out, inputs)


class ProductionSimplex:
    """The price-and-level simplex of an exchange economy with producers: the kernels' inputs,
    and the maps between a point u = (q, v) of it and (prices, levels).

    A price is searched in value units q_j = p_j s_j (s_j the supply of good j, or the mean
    supply for a good only producers make), as the exchange path searches in
    `gebench.markets.units.unit_supply` units. A level is counted in units l_k of ten times the level
    at which producer k's flows (outputs plus inputs at uniform prices) are the economy's
    supply shared among the K producers, so that at such levels the levels hold about a
    tenth of the simplex. The factor was measured: on the three classics and 24 random
    production economies (5 to 12 goods) ten and thirty needed the fewest pivots and
    converged on all 27; one (levels half the simplex) or a hundred needed about three and
    two times as many, and failed on five and one of them within 10 s."""

    def __init__(self, economy: Economy):
        self.economy = economy
        w = np.ascontiguousarray(economy.total_supply)
        self.m, self.k = economy.n_goods, len(economy.producers)
        self.s = np.where(w > 0, w, w[w > 0].mean())
        tech = economy.technologies
        out, inputs, _, _ = tech.unit_plans(np.full(self.m, 1.0 / self.m))
        flows = (out + inputs).sum(axis=1)
        self.units = 10.0 * w.sum() / (self.k * flows)
        self.args = (economy.kinds, economy.a, economy.log_a, economy.rho, np.ascontiguousarray(economy.endowment), w,
                     self.s, self.units, tech.kind, tech.net, tech.a, tech.log_a, tech.alpha, tech.output,
                     tech.scale, tech.rho)

    def scratch(self) -> tuple[np.ndarray, ...]:
        """Work arrays for `_production_label`: u (m + K), then p, log p, x_row, z, out, inputs (m)."""
        return (np.empty(self.m + self.k),) + tuple(np.empty(self.m) for _ in range(6))

    def point(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(prices summing to 1, levels) at a point u of the simplex with sum(q) > 0."""
        q, v = u[:self.m], u[self.m:]
        p = q / self.s
        return p / p.sum(), self.units * v / q.sum()

    def coordinates(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The point u of the simplex at prices p and levels y."""
        q = p * self.s
        q = q / q.sum()
        u = np.concatenate([q, y / self.units])
        return u / u.sum()


def fitted_levels(economy: Economy, p: np.ndarray, x: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """The levels at prices p and consumption x that minimise the largest of the certificate's
    clearing (the worst over-demand per unit available), waste (the value left unsold) and
    losses (the value lost by producers run at a loss), each per unit of the value available:
    a linear program over the producers that use no free input, with the units available and
    their value taken at the levels `guess`. Zeros where the program fails."""
    tech = economy.technologies
    w = economy.total_supply
    out, inputs, revenue, cost = tech.unit_plans(p)
    usable = np.flatnonzero(np.isfinite(inputs).all(axis=1))
    levels = np.zeros(len(economy.producers))
    if usable.size == 0:
        return levels
    net = (out[usable] - inputs[usable]).T                       # m x a: what a unit of each level adds
    loss = np.maximum(cost[usable] - revenue[usable], 0.0)
    need = x.sum(axis=0) - w                                     # what consumers take beyond the endowments
    made, _ = plan_of(out, inputs, guess)
    available = w + made
    scale = np.where(available > 0, available, available[available > 0].mean())
    value = float(p @ available)
    m, a = len(w), usable.size
    # variables: levels (a), unsold s (m), t; minimise t
    over = np.hstack([-net, np.zeros((m, m)), -scale[:, None]])         # need - net y <= t scale
    unsold = np.hstack([net, -np.eye(m), np.zeros((m, 1))])             # net y - need <= s
    worth = np.concatenate([np.zeros(a), p, [-value]])[None, :]         # p . s <= t value
    lost = np.concatenate([loss, np.zeros(m), [-value]])[None, :]       # loss . y <= t value
    objective = np.zeros(a + m + 1)
    objective[-1] = 1.0
    res = linprog(objective, A_ub=np.vstack([over, unsold, worth, lost]),
                  b_ub=np.concatenate([-need, need, [0.0, 0.0]]), bounds=[(0, None)] * (a + m + 1), method="highs")
    if res.status == 0:
        levels[usable] = np.maximum(res.x[:a], 0.0)
    return levels


class Scarf(Solver):
    """Simplicial fixed-point search with restarts on finer grids (Merrill), for any economy
    whose demand is a function of prices: exchange or Fisher; Cobb-Douglas, CES, Leontief;
    and exchange economies with constant-returns producers (activities, CES, Cobb-Douglas
    and Leontief technologies), searched over prices and levels together (module docstring).

    Linear utilities are declined: their demand is a correspondence, and integer labels
    then only promise, for each good, some nearby demand that clears it, not one demand
    that clears all (on a 5 x 5 linear exchange economy the limit point over-demands a good
    by a third). Linear exchange has its own exact method, `linear-exchange-cp`.

    `grid` is the first D (times the number of coordinates: goods, plus producers), `refine`
    the factor between restarts, `max_grid` the finest D tried. `start` is where the first
    path begins: "uniform" prices (in value units; with producers, each level one of its
    units, `ProductionSimplex`), or "random" ones drawn from the seed; restarts begin at the
    last answer. Several equilibria are reached, if at all, from different starts.
    """

    name = "scarf"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = True
    production = True
    parameters = {"grid": 8, "refine": 8, "max_grid": 1e14, "max_iter": 10**9, "start": "uniform"}
    rules = {"grid": Range(2), "refine": Range(2), "max_grid": Range(2), "max_iter": AT_LEAST_ONE,
             "start": Choice(("uniform", "random"))}

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])
        producers = [Producer("activity", net_output=[1.0, -1.0, 0.0]),
                     Producer("ces", output=0, a=np.array([0.0, 1.0, 1.0]), rho=0.5)]
        tiny = make_economy("exchange", "cobb-douglas", np.ones((2, 3)), endowment=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                            producers=producers)
        self.run(tiny, 1e-6, np.inf, 0)

    @property
    def uses_seed(self) -> bool:
        return self.params["start"] == "random"

    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        if economy.production:
            return self._run_production(economy, tol, deadline, seed)
        return self._run_exchange(economy, tol, deadline, seed)

    @in_unit_supply
    def _run_exchange(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        m = economy.n_goods
        rng = np.random.default_rng(seed)
        z = ExcessDemand(economy)
        estimate = np.full(m, 1.0 / m) if self.params["start"] == "uniform" else rng.dirichlet(np.ones(m))
        D = int(self.params["grid"]) * m
        pivots = restarts = 0
        best = None
        while True:
            if m == 1:
                prices = np.ones(1)
            else:
                scratch = np.empty(m), np.empty(m), np.empty(m)
                status, prices, made = self._restart(_label, _path, z.args, scratch, D, estimate, rng, deadline,
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

    def _run_production(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        """The path on the price-and-level simplex; after each, the levels of the final simplex
        and the levels refitted at its prices (`fitted_levels`) go to the certificate."""
        simplex = ProductionSimplex(economy)
        rng = np.random.default_rng(seed)
        if self.params["start"] == "uniform":
            estimate = simplex.coordinates(np.full(simplex.m, 1.0) / simplex.s, simplex.units)
        else:
            estimate = simplex.coordinates(rng.dirichlet(np.ones(simplex.m)) / simplex.s,
                                           simplex.units * rng.exponential(1.0, simplex.k))
        D = int(self.params["grid"]) * (simplex.m + simplex.k)
        pivots = restarts = 0
        best = None
        while True:
            status, u, made = self._restart(_production_label, _production_path, simplex.args, simplex.scratch(), D,
                                            estimate, rng, deadline, int(self.params["max_iter"]) - pivots)
            pivots += made
            if status != "done":
                return self._stop(status, best, pivots, restarts, D)
            restarts += 1
            if u[:simplex.m].sum() <= 0:
                return self._stop("failed", best, pivots, restarts, D,
                                  "the path ended where every level is unbounded (no price is positive)")
            prices, grid_levels = simplex.point(u)
            allocation = allocation_at(economy, prices, slack=tol / 2)
            candidates = [(certify(economy, prices, allocation, levels).worst, levels)
                          for levels in (grid_levels, fitted_levels(economy, prices, allocation, grid_levels))]
            worst, levels = min(candidates, key=lambda candidate: candidate[0])
            if best is None or worst <= best[2]:
                best = (prices, allocation, worst, levels)
            if worst <= tol:
                return Outcome("converged", prices, allocation, pivots, levels=levels,
                               extra={"pivots": pivots, "restarts": restarts, "grid": D})
            D *= int(self.params["refine"])
            if D > self.params["max_grid"]:
                return self._stop("max_iter", best, pivots, restarts, D)
            estimate = simplex.coordinates(prices, levels)

    @staticmethod
    def _stop(status, best, pivots, restarts, D, message="") -> Outcome:
        prices, allocation = (best[0], best[1]) if best else (None, None)
        levels = best[3] if best and len(best) > 3 else None
        if status == "failed" and not message:
            message = "the path met a second artificial door"
        return Outcome(status, prices, allocation, pivots, message=message, levels=levels,
                       extra={"pivots": pivots, "restarts": restarts, "grid": D})

    @staticmethod
    def _restart(label, path, args, scratch, D: int, estimate: np.ndarray, rng, deadline: float, budget: int):
        """One Merrill path on grid D from `estimate` (a point of the simplex searched), with the
        kernels `label` and `path` and their economy arguments `args`: ("done", the point of the
        final simplex, pivots) or a stop status."""
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
        for k in range(d + 2):
            _vertex(base, perm, k, vertex)
            labels[k] = label(vertex[:d], vertex[d], D, c, *args, *scratch)
        state = np.array([_RUNNING, d + 1, 0], dtype=np.int64)
        chunk = 64
        while state[0] == _RUNNING:
            if state[2] >= budget:
                return "max_iter", None, int(state[2])
            if time.perf_counter() >= deadline:
                return "timeout", None, int(state[2])
            path(D, c, base, perm, labels, state, min(chunk, budget - int(state[2])), *args)
            chunk = min(4 * chunk, 4096)
        if state[0] == _ERROR:
            return "failed", None, int(state[2])
        point = np.zeros(m)
        for k in range(1, d + 2):
            _vertex(base, perm, k, vertex)
            v = np.diff(np.concatenate([[D], vertex[:d], [0]])) * -1.0
            point += np.maximum(v, 0.0)
        return "done", point / point.sum(), int(state[2])
