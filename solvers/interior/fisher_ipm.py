"""A structure-exploiting primal-dual interior point for the Eisenberg-Gale program.

Eisenberg and Gale (1959); Eisenberg (1961) for homogeneous utilities: the Fisher
equilibrium allocation solves

    minimise  f(y) = -sum_i B_i log u_i(y_i)   subject to  A y + s = w,  y >= 0,  s >= 0,

and the multipliers p of the supply rows are the equilibrium prices. Each agent has one
block of variables: x_ij >= 0 on the goods it wants (a_ij > 0) for linear, Cobb-Douglas and
CES utilities, whose columns of A are unit vectors; for Leontief utilities the single
variable u_i >= 0 with x_ij = a_ij u_i, whose column of A is a_i (the small program of the
Leontief Fisher market). Families mix freely, agent by agent. The budgets are scaled to mean
1 and the economy runs in units of supply near 1 (`in_unit_supply`, for a dense or a CSR
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
"""
from __future__ import annotations

import math
import time

import numpy as np

from gebench.markets import Economy, certify, make_economy

from ..base import Outcome, Solver, in_unit_supply
from ..judging import finished
from ..kernels.params import AT_LEAST_ONE, FRACTION
from .program import NewtonFailure, Program

_PATIENCE = 100           # Newton steps without a 10% better residual before the path is given up,
_PATIENCE_TIGHT = 10      # and once `accuracy` was met but the certificate asked for more
_MAX_GOODS = 10_000       # the m x m Schur complement of more goods would not fit in memory


class FisherInteriorPoint(Solver):
    """Primal-dual interior point on the Eisenberg-Gale program, one m x m Cholesky per step.

    `max_steps`: Newton steps allowed; `accuracy`: the relative residuals and complementarity
    gap at which the path is left (tightened when the certificate asks for more).
    """

    name = "fisher-ipm"
    models = frozenset({"fisher"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = True
    sparse = True
    parameters = {"max_steps": 200, "accuracy": 1e-10}
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
            self.run(economy, 1e-6, np.inf, 0)
        # the dense-BLAS and the accumulated Schur complement
        program = Program(tiny)
        program.dense_schur = False
        program.step()

    @in_unit_supply
    def run(self, economy: Economy, tol, deadline, seed):
        return self._solve(economy, tol, deadline)

    def _solve(self, economy: Economy, tol: float, deadline: float) -> Outcome:
        max_steps = int(self.params["max_steps"])
        target = float(self.params["accuracy"])
        program = self.program_class(economy)

        def stop(status, message=""):
            prices, allocation = program.point()
            return Outcome(status, prices, allocation, program.steps, message=message,
                           extra={"newton_steps": program.steps})

        stalled = 0
        best = math.inf
        patience = _PATIENCE
        try:
            while True:
                primal, dual, gap = program.residuals()
                worst = max(primal, dual, gap)
                if not math.isfinite(worst):
                    return stop("failed", "the point is not finite")
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
        outcome.extra = {"newton_steps": program.steps}
        return outcome
