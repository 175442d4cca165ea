"""A structure-exploiting primal-dual interior point for the Eisenberg-Gale program.

Eisenberg and Gale (1959); Eisenberg (1961) for homogeneous utilities: the Fisher
equilibrium allocation solves

    minimise  f(y) = -sum_i B_i log u_i(y_i)   subject to  A y + s = w,  y >= 0,  s >= 0,

and the multipliers p of the supply rows are the equilibrium prices. Each agent has one
block of variables: x_ij >= 0 on the goods it wants (a_ij > 0) for linear, Cobb-Douglas and
CES utilities, whose columns of A are unit vectors; for Leontief utilities the single
variable u_i >= 0 with x_ij = a_ij u_i, whose column of A is a_i (the small program of the
Leontief Fisher market). Families mix freely, agent by agent. The budgets are scaled to mean
1 and the economy runs in units of supply near 1 (`unit_supply`, for a dense or a CSR
allocation), so every quantity of the program is of order one.

The Newton step. One agent's Hessian is diagonal plus rank one: with the exponent r (1 linear,
0 Cobb-Douglas, rho for CES), shares q_j = a_j x_j^r / sum_k a_k x_k^r (a_j / sum a for
Cobb-Douglas) and g_j = q_j / x_j, -B log u has gradient -B g and Hessian

    diag(B (1 - r) g_j / x_j) + B r g g^T,

a positive rank one for linear utilities and CES substitutes, a negative one for CES
complements (where 1 + B r g^T D^{-1} g >= 1 / (1 - r) > 0, so that the inverse exists and
adds a positive rank one). With the barrier's diagonal Z / X added, Sherman-Morrison gives the
block's inverse as diag(1 / delta) + tau w w^T, w = g / delta, and the block's contribution to
the normal equations on the prices, A K^{-1} A^T, as a diagonal plus tau w w^T on its goods; a
Leontief agent adds a_i a_i^T / delta_i. The m x m Schur complement

    M = diag(sum_i 1 / delta_ij + s_j / p_j) + W_+^T W_+ - W_-^T W_-

is accumulated by two BLAS rank-k updates (`dsyrk`) of the agents x goods matrices of scaled
w's (for a sparse market, by outer products over each agent's own goods only) and factored
by one dense Cholesky; everything else in a step is O(nonzeros) work in Numba. Iterative
refinement on the unreduced system, whose residual is computed without the Schur
complement's cancellations, repairs a direction that lost accuracy late in the path. Zhang,
He, Jiang and Ye (2025; `HessianBar` in ExchangeMarket.jl) exploit the same diagonal plus
rank-one blocks, by Sherman-Morrison-Woodbury, in a barrier method on the prices.

The path. Mehrotra's (1992) predictor-corrector with one step length for all variables and a
fraction-to-the-boundary rule (Wright, "Primal-Dual Interior-Point Methods", SIAM 1997, for
infeasible path following and its linear algebra; Nesterov and Todd (1997) for the
self-scaled setting), on the weighted central
path x_ij z_ij = mu B_i, u_i zu_i = mu B_i, s_j p_j = mu sum_k B_k / m, along which an agent's
complementarity scales with its budget as its allocation does. Two safeguards make it robust
on a program whose objective, unlike a linear program's, bends: the centring target never falls
far below the infeasibility (`_LAG` in `program`: a gap far ahead of the dual residual leaves pivots of order
1 / mu to cancel), and a non-monotone line search (Grippo, Lampariello and Lucidi 1986) on the
residuals rejects steps that make the dual residual explode, as the steep gradients of CES
complements with rho << 0 can. Ye (2008), "A path to the Arrow-Debreu competitive market
equilibrium" (Math. Programming 111), follows a central path of the same kind for Fisher and
exchange markets; first-order methods on the same program (Gao and Kroer, NeurIPS 2020) take
many more, cheaper steps.

The method stops when the primal and dual residuals and the complementarity gap, each in the
units of what it changes (`_measures` in `program`), are below `accuracy`; the certificate (`finished`)
then judges the point, and if it does not hold at the caller's tolerance the target is
tightened and the path followed further, as long as steps remain and they make progress.
Extremely strong complements (rho near -50) with supplies of very different magnitudes, whose
coefficients then span hundreds of orders of magnitude, may stall: the certificate says so.

The warm start (`carry`, on a day of an economy stream). Yesterday's final point is a poor
start for today's program: it is nearly complementary, x_ij z_ij ~ 0, so that the first step
towards today's slightly moved solution is cut short by the boundary. Following Gondzio
("Warm start of the primal-dual method applied in the cutting-plane scheme", Math.
Programming 84, 1998) and Yildirim and Wright ("Warm-start strategies in interior-point
methods for linear programming", SIAM J. Optim. 12, 2002), the run keeps a few iterates of
its own path, well centred and still away from the boundary (`_KEPT`: the first iterate
whose residuals and gap fall below each level), in the units of the caller's goods. The next
day starts from the most advanced of them that is still a good start for today's program:
the one whose primal and dual residuals measured on today's data are at most `_NEIGHBOURHOOD`
times its gap, so that today's perturbation of the data does not throw it out of the central
path's neighbourhood (the criterion of Yildirim and Wright, which bounds the perturbation by
the iterate's mu). When none is, a market without linear agents starts from the least advanced
one, no worse than the cold start (a measured choice: `warm_start`). The infeasible
path-following method takes the rest. Agents who arrived overnight, or whose wanted goods
changed, start at the cold start's values.
"""
from __future__ import annotations

import math
import time

import numpy as np

from gebench.markets import Economy, certify, make_economy
from gebench.markets.units import unit_supply

from ..base import Outcome, Solver, Yesterday, in_caller_units
from ..judging import finished
from ..kernels.params import AT_LEAST_ONE, FRACTION
from ..kernels.warm_up import next_day, yesterday_of
from .program import NewtonFailure, Program

_PATIENCE = 100           # Newton steps without a 10% better residual before the path is given up,
_PATIENCE_TIGHT = 10      # and once `accuracy` was met but the certificate asked for more
_MAX_GOODS = 10_000       # the m x m Schur complement of more goods would not fit in memory
_KEPT = (0.3, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)   # residual levels at which an iterate is kept for tomorrow
_NEIGHBOURHOOD = 1.0      # a kept iterate starts today if today's residuals there are at most this times its gap
_VARIABLES = ("x", "u", "s", "z", "zu", "p")


class FisherInteriorPoint(Solver):
    """Primal-dual interior point on the Eisenberg-Gale program, one m x m Cholesky per step.

    `max_steps`: Newton steps allowed; `accuracy`: the relative residuals and complementarity
    gap at which the path is left (tightened when the certificate asks for more); `carry`: on a
    day of a stream, start from a kept iterate of yesterday's path (the module's warm start),
    kept in `Outcome.state["iterates"]`; `extra["start"]` names the level of the iterate
    started from, or "cold".
    """

    name = "fisher-ipm"
    models = frozenset({"fisher"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = True
    sparse = True
    carries = True
    parameters = {"max_steps": 200, "accuracy": 1e-10, "carry": False}
    rules = {"max_steps": AT_LEAST_ONE, "accuracy": FRACTION}
    program_class = Program

    def skip(self, economy):
        reason = super().skip(economy)
        if reason is None and economy.n_goods > _MAX_GOODS:
            return (f"{economy.n_goods} goods: each Newton step factors a dense {economy.n_goods} x "
                    f"{economy.n_goods} matrix, more than {_MAX_GOODS} goods would not fit in memory")
        return reason

    def warm_up(self) -> None:
        families = ["linear", "cobb-douglas", "ces", "ces", "leontief"]
        tiny = make_economy("fisher", families, np.array([[1.0, 2.0, 0.5]] * 5),
                            rho=[np.nan, np.nan, 0.5, -2.0, np.nan], budget=np.ones(5))
        for economy in (tiny, tiny.to_sparse()):
            outcome = self.run(economy, 1e-6, np.inf, 0)
            if self.carried:        # and a stream's next day, from its own yesterday
                self.run(next_day(economy), 1e-6, np.inf, 0, yesterday=yesterday_of(economy, outcome))
        # the dense-BLAS and the accumulated Schur complement
        program = Program(tiny)
        program.dense_schur = False
        program.step()

    def run(self, economy: Economy, tol: float, deadline: float, seed: int,
            yesterday: Yesterday | None = None) -> Outcome:
        unit, scale = unit_supply(economy)
        kept = yesterday.state.get("iterates") if yesterday is not None and self.carried else None
        outcome = self._solve(unit, tol, deadline, scale, kept or None)
        if outcome.prices is not None:
            outcome.prices = np.asarray(outcome.prices, dtype=np.float64) * scale
        if outcome.allocation is not None:
            outcome.allocation = in_caller_units(outcome.allocation, scale)
        return outcome

    def _solve(self, economy: Economy, tol: float, deadline: float, scale: np.ndarray,
               kept: list | None) -> Outcome:
        max_steps = int(self.params["max_steps"])
        target = float(self.params["accuracy"])
        program = self.program_class(economy)
        start = warm_start(program, kept, scale) if kept else "cold"
        levels, iterates = list(_KEPT), []

        def stop(status, message=""):
            prices, allocation = program.point()
            return Outcome(status, prices, allocation, program.steps, message=message,
                           extra={"newton_steps": program.steps, "start": start},
                           state={"iterates": tuple(iterates)} if self.carried else {})

        stalled = 0
        best = math.inf
        patience = _PATIENCE
        try:
            while True:
                primal, dual, gap = program.residuals()
                worst = max(primal, dual, gap)
                if not math.isfinite(worst):
                    return stop("failed", "the point is not finite")
                while self.carried and levels and worst <= levels[0]:
                    iterates.append(iterate(program, levels.pop(0), scale))
                if worst <= target:
                    prices, allocation = program.point()
                    if certify(economy, prices / prices.sum(), allocation).worst <= tol or target < 1e-15:
                        break
                    target /= 100.0                              # the certificate asks for more
                    patience = _PATIENCE_TIGHT                   # near rounding, progress is quick or none
                if worst < 0.9 * best:
                    best, stalled = worst, 0
                else:
                    stalled += 1
                if stalled >= patience:
                    break                                        # no progress: the certificate judges
                if program.steps >= max_steps:
                    return stop("max_iter", f"{program.steps} Newton steps, residual {worst:.3g}")
                if time.perf_counter() >= deadline:
                    return stop("timeout", f"after {program.steps} Newton steps, residual {worst:.3g}")
                program.step()
        except NewtonFailure as exc:
            return stop("failed", f"{exc} after {program.steps} Newton steps")
        prices, allocation = program.point()
        message = f"{program.steps} Newton steps, residual {worst:.3g}"
        if stalled >= patience:
            message += ", no progress"
        outcome = finished(economy, tol, prices, allocation, program.steps, message)
        outcome.extra = {"newton_steps": program.steps, "start": start}
        outcome.state = {"iterates": tuple(iterates)} if self.carried else {}
        return outcome


def iterate(program: Program, level: float, scale: np.ndarray) -> dict:
    """The program's current point, kept for tomorrow in the caller's units of goods (a
    quantity x' of the unit economy is x' / scale, a price or bound dual p' is p' scale; a
    Leontief agent's utility level u and its dual are unit-free), with its pattern of wanted
    goods and the level of residuals it was kept at."""
    goods = program.indices
    return {"level": level, "indptr": program.indptr.copy(), "indices": goods.copy(),
            "x": program.x / scale[goods], "z": program.z * scale[goods], "u": program.u.copy(),
            "zu": program.zu.copy(), "s": program.s / scale, "p": program.p * scale}


def warm_start(program: Program, kept: tuple, scale: np.ndarray) -> str:
    """Move `program` (at its cold start) to the most advanced kept iterate whose residuals on
    today's program are at most `_NEIGHBOURHOOD` times its gap; failing that, when no agent is
    linear, to the least advanced one if it is no worse than the cold start; else leave it cold.
    Returns the level started from, or "cold". Agents whose pattern of wanted goods changed
    overnight (arrivals, mostly) keep the cold start's values; every variable stays positive.

    The fallback is measured, not derived: on CES, Cobb-Douglas and Leontief Fisher streams
    (sigma = 0.05) the least advanced kept iterate, outside the neighbourhood, still saves a
    third of the Newton steps; with linear agents, whose optimal faces move with the data
    (which goods an agent buys), it costs steps, and only an iterate inside the neighbourhood
    (a calm day) is taken."""
    fit = _fit(program, kept[0])
    if fit is None:
        return "cold"
    cold = {name: getattr(program, name).copy() for name in _VARIABLES}
    cold_worst = max(program.residuals())
    linear = bool(np.any((program.expo == 1.0) & ~program.leontief))
    chosen = None
    for kept_point in sorted(kept, key=lambda k: k["level"]):
        if not _place(program, kept_point, cold, scale, fit):
            continue
        try:
            primal, dual, gap = program.residuals()
        except NewtonFailure:
            continue
        if max(primal, dual) <= _NEIGHBOURHOOD * gap:
            chosen = kept_point
            break
        if not linear and max(primal, dual, gap) <= cold_worst and (
                chosen is None or kept_point["level"] > chosen["level"]):
            chosen = kept_point
    if chosen is not None and _place(program, chosen, cold, scale, fit):
        return f"{chosen['level']:g}"
    for name, values in cold.items():
        getattr(program, name)[:] = values
    program.invalidate()
    return "cold"


def _fit(program: Program, kept: dict):
    """How yesterday's pattern of wanted goods maps on today's: (the agents whose pattern is
    unchanged, their entries in yesterday's arrays, theirs in today's), or None if the numbers
    of agents or goods differ."""
    indptr, goods = kept["indptr"], kept["indices"]
    if indptr.shape != program.indptr.shape or kept["s"].shape != (program.m,):
        return None
    lengths = np.diff(indptr)
    same = lengths == np.diff(program.indptr)
    row = np.repeat(np.arange(program.n), lengths)
    at = program.indptr[row] + np.arange(goods.size) - indptr[row]        # the same place in today's row
    entries = same[row]
    entries[entries] = goods[entries] == program.indices[at[entries]]
    same &= np.bincount(row, weights=~entries, minlength=program.n) == 0   # every entry of the row matches
    entries = same[row]
    return same, entries, at[entries]


def _place(program: Program, kept: dict, cold: dict, scale: np.ndarray, fit) -> bool:
    """Set the program's variables to a kept iterate mapped into today's units (`iterate`), on
    the agents whose pattern is unchanged (`_fit`), the cold values elsewhere; False if a value
    is not positive and finite."""
    same, entries, today = fit
    for name in _VARIABLES:
        getattr(program, name)[:] = cold[name]
    goods = kept["indices"][entries]
    program.x[today] = kept["x"][entries] * scale[goods]
    program.z[today] = kept["z"][entries] / scale[goods]
    program.u[same] = kept["u"][same]
    program.zu[same] = kept["zu"][same]
    program.s[:] = kept["s"] * scale
    program.p[:] = kept["p"] / scale
    program.invalidate()
    return all(np.all(np.isfinite(v)) and np.all(v[mask] > 0) for v, mask in (
        (program.x, program.on > 0), (program.z, program.on > 0), (program.u, program.on_u > 0),
        (program.zu, program.on_u > 0), (program.s, slice(None)), (program.p, slice(None))))
