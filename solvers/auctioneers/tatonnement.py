"""Tatonnement: prices rise where demand exceeds supply and fall where it does not.

Walras (1874); the multiplicative discrete form p_j <- p_j (1 + lambda min(z_j, 1)),
with z_j = (demand_j - w_j) / w_j, is the one Cole and Fleischer (2008) analyse
for markets with bounded elasticity. Prices stay positive for step < 1 and are
renormalised to sum to 1 (demand is homogeneous of degree 0 in prices, Fisher
incomes included, since they are B_i p . w / sum B). It converges for gross
substitutes (Cobb-Douglas, CES with rho > 0) and may cycle for complements; the
certificate, not the dynamics, says which happened.

With producers (an exchange economy with constant-returns technologies run at levels
y >= 0), the auctioneer also steers the levels: prices move on the excess demand that
counts what the producers make and use at their current levels, and each level then moves
on its producer's profit at the prices just called out, expanding when it profits and
contracting when it loses. This is the gradient process of Arrow, Hurwicz and Uzawa
("Studies in Linear and Non-Linear Programming", 1958) read as a market, the tatonnement of
a production economy that Kehoe takes up ("Computation and multiplicity of equilibria",
Handbook of Mathematical Economics IV, 1991, section 4.3): in continuous time
dp/dt = z(p, y) and dy/dt = profit(p), y held >= 0, with the equilibria (zero profit where
y > 0, no profit anywhere, markets clear) as its rest points. Discretely, with
available_j = w_j + made_j(p, y) (endowments and gross outputs),
z_j = (demand_j(p) + used_j(p, y) - available_j) / available_j (+inf for a good that nobody
has and somebody wants) and g_k = (r_k - c_k) / c_k the profit of a unit of level per unit
of its cost (r_k the value of its outputs, c_k the cost of its cheapest inputs):

    p_j <- p_j (1 + step min(z_j, 1)), renormalised to sum 1;
    y_k <- y_k (1 + step min(g_k(p), 1)) at the new prices.

The level rule is the price rule with cost in the place of supply: both are unit-free,
and for step < 1 both stay positive (a level whose producer loses shrinks towards 0
geometrically, never below it), so no projection onto y >= 0 is needed. Moving the levels
on the new prices is the order of the Arrow-Hurwicz iteration for a saddle point (Saad,
"Iterative Methods for Sparse Linear Systems", 2nd ed., 2003, section 8.4): on Shoven and
Whalley's economy levels moved on the old prices overshoot, and at step 0.5 the
certificate stays near 1e-2 for 20,000 rounds, where this order certifies 1e-8 in about
60. Levels start where each of the K producers' outputs are worth 1/K of the endowments'
value at the starting prices. Convergence is not guaranteed: Kehoe's equal-price
equilibrium is a saddle of the process (its linearised round has a real eigenvalue
1 + 0.005 step), and runs from uniform and from random starts end at one of his other two.

On a day of an economy stream (`gebench.markets.streams`), ``carry=True`` makes the auctioneer
call out yesterday's prices first instead of its cold start, and with producers resume
yesterday's levels (kept in `Outcome.state`): after a small drift the equilibrium moved little,
and near a stable equilibrium the step contracts the distance to it by a roughly constant
factor a round, so the rounds needed grow with the log of the starting distance, which a
carried start makes small. A carried start is certified before the first round, so that a
day whose market yesterday's prices still clear within the tolerance takes 0 rounds.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from gebench.markets import CES, LINEAR, Economy, certify
from gebench.markets.production import plan_at
from gebench.markets.utilities import demand, demand_row

from ..base import Outcome, Solver, Yesterday
from ..kernels.carried import FLOOR, carried_prices, iterate_from
from ..kernels.ces_weights import ces_weights, ces_weights_csr
from ..kernels.incomes import csr_income_inputs, csr_incomes, income, income_inputs
from ..kernels.log_prices import move_prices, take_logs
from ..kernels.params import AT_LEAST_ONE, FRACTION, Choice
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny

_FAST = {"reassoc", "contract"}   # tatonnement needs no bit-exact summation order
_UNDERFLOW = 1e-250               # a CES row whose cost sum is below this falls back to `demand_row`


@njit(cache=True, fastmath=_FAST)
def _ces_block(weights, lo, hi, qp, income, t, fallback):
    """Add income_i W_i / (W_i . qp) to t for the CES rows lo..hi-1 that share one sigma (the
    caller multiplies t by q: demand is x_ij = income_i W_ij q_j / sum_k W_ik q_k p_k).

    The dot products of four rows stream from memory in the same loop as the additions of
    the four rows before them, which are still in cache, so the arithmetic of the second
    pass hides under the memory traffic of the first: W is read from memory once (two rows
    at a time reached 55 - 60% of a copy's bandwidth, four rows 72 - 86%). Rows whose dot
    product underflowed add nothing; they are listed in `fallback` for the overflow-safe
    `demand_row`, and their number is returned.
    """
    m, last = qp.shape[0], hi - 1
    rows, costs, scales = np.empty(4, np.int64), np.empty(4), np.zeros(4)
    v0 = v1 = v2 = v3 = weights[lo]        # rows whose additions are pending, at scale 0 at first
    fallen = 0
    for i in range(lo, hi, 4):
        for r in range(4):
            rows[r] = min(i + r, last)      # past the end, the last row is read again, counted once
        w0, w1, w2, w3 = weights[rows[0]], weights[rows[1]], weights[rows[2]], weights[rows[3]]
        s0, s1, s2, s3 = scales[0], scales[1], scales[2], scales[3]
        c0 = c1 = c2 = c3 = 0.0
        for j in range(m):
            c0 += w0[j] * qp[j]
            c1 += w1[j] * qp[j]
            c2 += w2[j] * qp[j]
            c3 += w3[j] * qp[j]
            t[j] += v0[j] * s0 + v1[j] * s1 + v2[j] * s2 + v3[j] * s3
        costs[0], costs[1], costs[2], costs[3] = c0, c1, c2, c3
        for r in range(4):
            scales[r] = 0.0
            if r > 0 and rows[r] == rows[r - 1]:
                continue
            if costs[r] > _UNDERFLOW:
                scales[r] = income[rows[r]] / costs[r]
            else:
                fallback[fallen] = rows[r]
                fallen += 1
        v0, v1, v2, v3 = w0, w1, w2, w3
    s0, s1, s2, s3 = scales[0], scales[1], scales[2], scales[3]
    for j in range(m):
        t[j] += v0[j] * s0 + v1[j] * s1 + v2[j] * s2 + v3[j] * s3
    return fallen


@njit(cache=True)
def _start_step(p, w, total):
    """Clear `total`; return (p . w, min p)."""
    value = 0.0
    p_min = math.inf
    for j in range(p.shape[0]):
        total[j] = 0.0
        value += p[j] * w[j]
        p_min = min(p_min, p[j])
    return value, p_min


@njit(cache=True)
def _flush(q, t, total):
    """total += q t: the CES demand summed in t for one sigma."""
    for j in range(q.shape[0]):
        total[j] += q[j] * t[j]


@njit(cache=True)
def _q_weights(p, p_min, sigma, q, qp):
    """q_j = (p_min / p_j)^sigma and qp_j = q_j p_j: the price half of CES demand for one sigma."""
    for j in range(p.shape[0]):
        q[j] = (p_min / p[j]) ** sigma
        qp[j] = q[j] * p[j]


@njit(cache=True)
def tatonnement_steps(kinds, a, log_a, rho, weights, budget_share, endowment, w, p, step, steps, x):
    """Advance p by `steps` price updates in place; False once prices stop being finite.
    Consecutive CES agents with one rho go through `_ces_block` together."""
    n, m = a.shape
    total, log_p, q, qp, t = np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    incomes = np.empty(n)
    fallback = np.empty(n, dtype=np.int64)
    for _ in range(steps):
        value, p_min = _start_step(p, w, total)
        logs_taken = False      # the logs of prices, taken only if a row needs `demand_row`
        for i in range(n):
            incomes[i] = income(i, budget_share, endowment, p, value)
        i = 0
        while i < n:
            if kinds[i] == CES and p_min > 0.0:
                end = i + 1
                while end < n and kinds[end] == CES and rho[end] == rho[i]:
                    end += 1
                _q_weights(p, p_min, 1.0 / (1.0 - rho[i]), q, qp)
                t[:] = 0.0
                fallen = _ces_block(weights, i, end, qp, incomes, t, fallback)
                _flush(q, t, total)
                rows = fallback[:fallen]
                i = end
            else:
                rows = fallback[:1]
                rows[0] = i
                i += 1
            if rows.size and not logs_taken:
                take_logs(p, log_p)
                logs_taken = True
            for k in rows:
                demand_row(kinds[k], a[k], log_a[k], rho[k], p, log_p, incomes[k], x)
                for j in range(m):
                    total[j] += x[j]
        if not move_prices(p, total, w, step):
            return False
    return True


@njit(cache=True, fastmath=_FAST)
def tatonnement_steps_csr(kinds, data, log_data, indices, indptr, rho, weights, share, e_data, e_indices,
                           e_indptr, w, p, step, steps):
    """`tatonnement_steps` on a sparse economy (endowment as in `csr_income_inputs`): a step
    costs O(nonzeros) plus O(goods) per distinct CES exponent. A CES row's demand,
    x_j = income W_j q_j / sum_k W_k q_k p_k, is written out in place: rows are short, and
    a call per row cost more than the row's arithmetic."""
    m = p.shape[0]
    total, log_p, q, qp = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    p_row, log_p_row, x, t = np.empty(m), np.empty(m), np.empty(m), np.zeros(m)
    incomes = np.empty(indptr.shape[0] - 1)
    for _ in range(steps):
        value, p_min = _start_step(p, w, total)
        logs_taken = False
        csr_incomes(share, e_data, e_indices, e_indptr, p, value, incomes)
        q_sigma = math.nan
        for i in range(indptr.shape[0] - 1):
            lo, hi = indptr[i], indptr[i + 1]
            b = incomes[i]
            if kinds[i] == CES and p_min > 0.0:
                sigma = 1.0 / (1.0 - rho[i])
                if sigma != q_sigma:
                    if q_sigma == q_sigma:
                        _flush(q, t, total)
                    _q_weights(p, p_min, sigma, q, qp)
                    q_sigma = sigma
                    t[:] = 0.0      # sum_i income_i W_ij / cost_i, times q_j when sigma changes
                cost = 0.0
                for k in range(lo, hi):
                    cost += weights[k] * qp[indices[k]]
                if cost > _UNDERFLOW:
                    scale = b / cost
                    for k in range(lo, hi):
                        t[indices[k]] += weights[k] * scale
                    continue
            if not logs_taken:
                take_logs(p, log_p)
                logs_taken = True
            k = hi - lo
            for r in range(k):
                p_row[r] = p[indices[lo + r]]
                log_p_row[r] = log_p[indices[lo + r]]
            demand_row(kinds[i], data[lo:hi], log_data[lo:hi], rho[i], p_row[:k], log_p_row[:k], b, x[:k])
            for r in range(k):
                total[indices[lo + r]] += x[r]
        if q_sigma == q_sigma:  # not NaN: some CES rows were summed into t
            _flush(q, t, total)
        if not move_prices(p, total, w, step):
            return False
    return True


class Tatonnement(Solver):
    """Multiplicative tatonnement on aggregate excess demand (any economy with a demand function),
    and with producers on their profits too (see the module docstring).

    `start`: "uniform" prices, or "random" (a seeded draw from the flat Dirichlet), which
    matters where the uniform point happens to be the equilibrium (Scarf's example).
    `carry`: on a day of a stream, start from yesterday's prices (and producers' levels)
    instead of `start`, which then serves only on the first day.
    """

    name = "tatonnement"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    sparse = True
    production = True
    carries = True
    parameters = {"step": 0.5, "max_iter": 1_000_000, "start": "uniform", "carry": False}
    rules = {"step": FRACTION, "max_iter": AT_LEAST_ONE, "start": Choice(("uniform", "random"))}

    def skip(self, economy):
        if np.any(economy.kinds == LINEAR):
            return ("linear utilities have a demand correspondence, not a function "
                    "(supports: cobb-douglas, ces, leontief)")
        return super().skip(economy)

    def central_reads(self, economy, iterations):
        """The auctioneer reads the m aggregate excess demands once a round, and with
        producers their K unit profits too."""
        return iterations * (economy.n_goods + len(economy.producers))

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])

    @property
    def uses_seed(self) -> bool:
        return self.params["start"] == "random"

    def run(self, economy: Economy, tol, deadline, seed, yesterday: Yesterday | None = None):
        m = economy.n_goods
        w = economy.total_supply
        p = carried_prices(yesterday.prices, m) if yesterday is not None and self.carried else None
        carried = p is not None
        if not carried and self.params["start"] == "random":
            p = np.random.default_rng(seed).dirichlet(np.ones(m))
        elif not carried:
            p = np.full(m, 1.0 / m)
        if economy.production:
            levels = None
            if carried:
                levels = carried_levels(economy, p, yesterday.state.get("levels"))
                levels = starting_levels(economy, p) if levels is None else levels
            outcome = production_tatonnement(economy, p, float(self.params["step"]), tol, deadline,
                                             self.params["max_iter"], first_chunk=8 if levels is None else 1,
                                             levels=levels)
            if outcome.levels is not None:
                outcome.state = {"levels": outcome.levels.copy()}
            return outcome
        step = float(self.params["step"])
        if economy.sparse:
            a = economy.a
            weights = ces_weights_csr(economy.kinds, a.data, a.indptr, economy.rho)
            share, *owned = csr_income_inputs(economy)

            def advance(k):
                return tatonnement_steps_csr(economy.kinds, a.data, economy.log_a, a.indices, a.indptr,
                                              economy.rho, weights, share, *owned, w, p, step, k)
        else:
            weights = ces_weights(economy.kinds, economy.a, economy.rho)
            share, endowment = income_inputs(economy)
            x = np.empty(m)

            def advance(k):
                return tatonnement_steps(economy.kinds, economy.a, economy.log_a, economy.rho, weights, share,
                                          endowment, w, p, step, k, x)

        def point():
            return p.copy(), demand(economy, p, economy.incomes(p))

        return iterate_from(economy, advance, point, tol, deadline, self.params["max_iter"], carried)


def carried_levels(economy: Economy, p: np.ndarray, kept) -> np.ndarray | None:
    """Yesterday's producers' levels as today's start, each at least `FLOOR` times its cold
    start at p (a level at 0 would never move again under the multiplicative step); None when
    none were kept or they do not fit today's producers."""
    if kept is None:
        return None
    y = np.array(kept, dtype=np.float64).ravel()
    cold = starting_levels(economy, p)
    if y.shape != cold.shape or not np.all(np.isfinite(y)) or np.any(y < 0):
        return None
    return np.maximum(y, FLOOR * cold)


def production_step(economy: Economy, p: np.ndarray, y: np.ndarray, step: float) -> bool:
    """One round of the production tatonnement (module docstring), p and y in place; False
    once the prices or the levels stop being finite."""
    x = demand(economy, p, economy.incomes(p))
    made, used = plan_at(economy.technologies, p, y)
    available = economy.total_supply + made
    wanted = x.sum(axis=0) + used
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(available > 0, (wanted - available) / np.where(available > 0, available, 1.0),
                     np.where(wanted > 0, np.inf, 0.0))
    p *= 1.0 + step * np.minimum(z, 1.0)
    norm = p.sum()
    if not (np.isfinite(norm) and norm > 0.0):
        return False
    p /= norm
    y *= 1.0 + step * np.minimum(unit_gains(economy, p), 1.0)
    return bool(np.all(np.isfinite(y)))


def unit_gains(economy: Economy, p: np.ndarray) -> np.ndarray:
    """g_k = (r_k - c_k) / c_k: each producer's profit per unit of the cost of its inputs at p
    (+inf where its inputs are free and its outputs are not, 0 where both are worthless)."""
    _, _, revenue, cost = economy.technologies.unit_plans(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cost > 0, (revenue - cost) / np.where(cost > 0, cost, 1.0),
                        np.where(revenue > 0, np.inf, 0.0))


def starting_levels(economy: Economy, p: np.ndarray) -> np.ndarray:
    """The levels at which each of the K producers' gross outputs are worth 1/K of the value
    of the endowments at p (> 0: every producer has an output, and p > 0)."""
    _, _, revenue, _ = economy.technologies.unit_plans(p)
    return (p @ economy.total_supply) / (len(revenue) * revenue)


def production_tatonnement(economy: Economy, p: np.ndarray, step: float, tol: float, deadline: float,
                           max_iter: int, first_chunk: int = 8, max_chunk: int = 2000,
                           levels: np.ndarray | None = None) -> Outcome:
    """Run `production_step` from prices p and `starting_levels`, or from carried `levels` (a
    start then certified before the first round, 0 rounds if it is within tol), until the certificate accepts
    (prices, demand at them, levels) within tol, checked after chunks of rounds that grow with
    the count as in `gebench.solvers.kernels.iteration.iterate`; stop at the deadline (checked every round) or
    after max_iter rounds. The trace holds (prices, demand) at the chunk ends nearest 1, 2, 4, ..."""
    y = starting_levels(economy, p) if levels is None else np.array(levels, dtype=np.float64)
    done, chunk, tracer = 0, first_chunk, Tracer()

    def stop(status, x=None, message=""):
        prices, held = (p.copy(), y.copy()) if x is not None else (None, None)
        return Outcome(status, prices, x, done, message=message, levels=held, trace=tracer.checkpoints)

    if levels is not None:
        x = demand(economy, p, economy.incomes(p))
        if np.all(np.isfinite(x)) and certify(economy, p, x, y).within(tol):
            return stop("converged", x)

    while True:
        for _ in range(min(chunk, max_iter - done)):
            done += 1
            if not production_step(economy, p, y, step):
                return stop("diverged", message="prices or levels became non-finite")
            if time.perf_counter() >= deadline:
                break
        x = demand(economy, p, economy.incomes(p))
        if not np.all(np.isfinite(x)):
            return stop("diverged", message="allocation not finite")
        if certify(economy, p, x, y).within(tol):
            return stop("converged", x)
        if done >= max_iter:
            return stop("max_iter", x)
        if time.perf_counter() >= deadline:
            return stop("timeout", x)
        tracer.offer(done, lambda: (p, x))
        chunk = min(max(first_chunk, done // 4), max_chunk)
