"""A structure-exploiting interior point for linear exchange economies.

Ye (2008), "A path to the Arrow-Debreu competitive market equilibrium" (Math. Programming
111), shows that a linear exchange economy has a central path much like a Fisher market's:
the Eisenberg-Gale optimality conditions, with each agent's budget its income p . e_i, so
that prices enter the budgets as well as the supply rows. This module follows such a path
with the primal-dual machinery of `program` (its Newton step and line search) and the
stopping rule of `fisher_ipm`, changed in three places.

The budgets. On the path the optimality conditions x_ij (p_j - B_i g_ij) = x_ij z_ij give
agent i a spending of B_i plus its complementarity; with B_i = p . e_i the market would spend
more than its income whenever mu > 0, and no point of the path would exist. So the budget on
the path to a target t is the income less the complementarity it carries,

    B_i(t) = p . e_i - 2 t b_i,    x_ij z_ij = t b_i / k_i,    s_j p_j = t sum_k b_k / m,

over the k_i goods agent i wants, with b_i its income when the step starts (the weights are
renewed at every step, so that an agent whose income falls also carries less). Summed over
agents, spending equals income at every t, and B_i(0) is the income.

The numeraire. Walras' law makes the equations dependent: p . (A x + s - w) equals
x . (the dual residual) plus the complementarity's distance from its target at every point,
so the Jacobian is singular at the path and the price level drifts (towards 0, in practice,
where every budget vanishes). One good's price (the most valuable at the start) is held, and
its supply row, which the others and Walras' law imply, is left out of the step and of the
residuals; the certificate checks that good's market as every other.

The Newton step. B_i(t) depends on the prices through one inner product e_i . p, so the
Jacobian gains one rank-one term per agent, -g_i e_i^T, and the Schur complement on the prices
becomes M - C E, where M is the Fisher one (`program.Program.schur`), E the endowments and
column i of C is K_i^{-1} g_i = w_i / (1 + B_i gamma_i) on agent i's goods. M - C E is not
symmetric: a step factors it by LU instead of Cholesky, and C E is one BLAS product (dense)
or a sparse one (CSR economies). The Hessian blocks are taken at the current mu's budgets for
both the predictor and the corrector, whose right-hand sides use their own targets.

Where it stops short. A linear exchange economy may have no equilibrium. On Gale's
(`no-equilibrium-linear`) the path runs to prices (1, delta), delta -> 0, where every relative
measure vanishes; the certificate judges a good worth less than the tolerance as free, so that
end is the quasi-equilibrium it approaches and the run is `failed` with that reason. Only
`linear-exchange-cp` proves that no equilibrium exists (with prices within a factor 9e6).
Markets whose equilibrium prices span many orders of magnitude (goods whose utilities differ
by 10^8) and sparse ones with few goods per agent can stall the path; the solver then reports
`failed` with what the certificate measured, never an equilibrium it has not certified.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.linalg.blas import dgemm, dgemv

from gebench.markets import Economy, make_economy

from ..planners.linear_exchange_cp import unwanted_good
from .fisher_ipm import FisherInteriorPoint
from .program import NewtonFailure, NoDescent, Program

_ALLOCATED = 0.25         # the start allocates this fraction of the most wanted good,
_DUALS = 0.5              # with bound duals at this fraction of the prices


class ExchangeProgram(Program):
    """The path of a linear exchange economy (units of order one, `in_unit_supply`)."""

    def __init__(self, economy: Economy):
        self.endowment = sp.csr_array(economy.endowment) if economy.sparse else np.asarray(economy.endowment)
        self.endowment_f = None if economy.sparse else np.asfortranarray(economy.endowment, dtype=np.float64)
        super().__init__(economy)
        self.fixed = int(np.argmax(self.p * self.supply))
        self.wants = np.diff(self.indptr).astype(np.float64)
        self.mu_evaluated = 0.0
        self.c = np.zeros_like(self.w)
        self.reweigh(self.weight)

    def reweigh(self, incomes: np.ndarray) -> None:
        """The path's weights from incomes b: omega_ij = b_i / k_i on the k_i goods agent i wants,
        sum_k b_k / m on each supply slack, so that agent i's budget gives up 2 t b_i on the path
        to t: its own complementarity and its share of the slacks'."""
        self.omega = self.on * (incomes / self.wants)[self.agent]
        self.omega_s = np.full(self.m, incomes.sum() / self.m)
        self.total = float(self.omega.sum() + self.omega_s.sum())
        self.reduction = 2.0 * incomes
        self.invalidate()

    def step(self) -> float:
        """One predictor-corrector step (`Program.step`) on the path weighted by today's incomes.
        Where no step along either of its directions reduces the merit, the centring direction
        is followed anyway, as far as the fraction-to-the-boundary rule and positive budgets
        allow: a watchdog step (Chamberlain, Powell, Lemarechal and Pedersen, Math. Programming
        Study 16, 1982). Large markets (1280 agents) start with several steps whose merit
        grows as budgets recover from the start; the solver's patience still gives up a path
        that makes no progress."""
        self.reweigh(self.value_of(self.p))
        try:
            return super().step()
        except NoDescent:
            direction, alpha = self.tried
        return self.backtrack(direction, alpha, lambda merit, step: merit < math.inf,
                              "no step along the Newton direction keeps every budget positive")

    def line_search(self, direction, alpha: float) -> float:
        """`Program.line_search`, remembering its direction and first length in `tried` for the
        watchdog step of `step`."""
        self.tried = (direction, alpha)
        return super().line_search(direction, alpha)

    def budgets(self, economy: Economy) -> np.ndarray:
        """Incomes at uniform prices that pay 1 to the mean agent: the path's weights b_i."""
        supply = np.asarray(economy.total_supply, dtype=np.float64)
        return np.asarray(economy.endowment @ np.full(economy.n_goods, economy.n_agents / supply.sum()))

    def value_of(self, prices: np.ndarray) -> np.ndarray:
        """E prices: each agent's endowment at these prices (scipy's BLAS for a dense one)."""
        if self.endowment_f is None:
            return np.asarray(self.endowment @ prices)
        return dgemv(1.0, self.endowment_f, prices)

    def start(self):
        """Fisher's start (`Program.start`) with a quarter of the most wanted good allocated
        instead of half, and bound duals at half the prices instead of all of them. The budgets
        then start at an eighth of the incomes (the complementarity and the unsold supply carry
        the rest: mu = 7/16), where half-and-all would leave them at none (mu = 1/2). These
        fractions took the fewest Newton steps on random dense and sparse markets of 5 to 640
        agents."""
        super().start()
        self.x = self.x * (_ALLOCATED / 0.5)
        self.s = self.supply - (self.supply - self.s) * (_ALLOCATED / 0.5)
        self.z = self.z * _DUALS

    def evaluate(self) -> None:
        """The Fisher blocks at the budgets B_i(mu) of the current mu, and the columns of C."""
        mu = self.gap() / self.total
        budget = self.value_of(self.p) - mu * self.reduction
        if not np.all(budget > 0):
            raise NewtonFailure(f"agent {int(np.argmin(budget))}'s budget on the path is not positive")
        self.weight, self.mu_evaluated = budget, mu
        super().evaluate()
        self.rp[self.fixed] = 0.0
        gamma = np.bincount(self.agent, weights=self.g * self.w, minlength=self.n)
        self.c = self.w / (1.0 + budget * gamma)[self.agent]

    def dual_at(self, target: float) -> np.ndarray:
        """p_j - B_i(target) g_ij - z_ij: the evaluated residual, with the budget at `target`."""
        return self.rd - (self.mu_evaluated - target) * (self.reduction[self.agent] * self.g)

    def factor(self):
        """M - C E, factored by LU."""
        matrix = self.schur()
        upper = np.triu_indices(self.m, 1)
        matrix[upper] = matrix.T[upper]
        if self.sparse:
            c = sp.csr_array((self.c, self.indices, self.indptr), shape=(self.n, self.m))
            matrix -= (c.T @ self.endowment).toarray()
        else:
            c = np.zeros((self.n, self.m), order="F")
            c[self.agent, self.indices] = self.c
            # scipy's BLAS, as the LU's LAPACK: numpy's would wake a second thread pool that contends
            matrix = dgemm(-1.0, c, self.endowment_f, beta=1.0, c=matrix, trans_a=1, overwrite_c=1)
        if not np.all(np.isfinite(matrix)):
            raise NewtonFailure("the Schur complement on the prices is not finite")
        matrix[self.fixed, :] = 0.0
        matrix[:, self.fixed] = 0.0
        matrix[self.fixed, self.fixed] = 1.0
        factor = la.lu_factor(matrix, overwrite_a=True, check_finite=False)
        if not np.all(np.abs(np.diagonal(factor[0])) > 0):
            raise NewtonFailure("the Schur complement on the prices is singular")
        return factor

    def kept(self, rows: np.ndarray) -> np.ndarray:
        """The supply rows but the numeraire's, which Walras' law implies."""
        rows = rows.copy()
        rows[self.fixed] = 0.0
        return rows

    def solve(self, factor, rhs: np.ndarray) -> np.ndarray:
        """dp with the numeraire's price held."""
        return la.lu_solve(factor, self.kept(rhs), check_finite=False)

    def apply_inverse(self, v, v_u, dp, out, out_u, column) -> None:
        """out = K^{-1} (v - A^T dp + G E dp), column = A out."""
        super().apply_inverse(v, v_u, dp, out, out_u, column)
        extra = self.value_of(dp)[self.agent] * self.c
        out += extra
        column += np.bincount(self.indices, weights=extra, minlength=self.m)

    def unreduced_residual(self, dx, du, dp, v, v_u, e, e_u, column) -> None:
        """e = v - K dx - A^T dp + G E dp, column = A dx."""
        super().unreduced_residual(dx, du, dp, v, v_u, e, e_u, column)
        e += self.value_of(dp)[self.agent] * self.g


class LinearExchangeInteriorPoint(FisherInteriorPoint):
    """Primal-dual interior point on Ye's path of a linear exchange economy, one m x m LU per step.

    `max_steps`: Newton steps allowed; `accuracy`: the relative residuals and complementarity
    gap at which the path is left (tightened when the certificate asks for more).
    """

    name = "linear-exchange-ipm"
    models = frozenset({"exchange"})
    utilities = frozenset({"linear"})
    carries = False                      # Fisher's kept iterates would not fit Ye's reweighed path
    parameters = {"max_steps": 200, "accuracy": 1e-10}
    program_class = ExchangeProgram

    def skip(self, economy: Economy) -> str | None:
        return super().skip(economy) or unwanted_good(economy, "and its owners' incomes on the path would vanish")

    def warm_up(self) -> None:
        tiny = make_economy("exchange", "linear", np.array([[1.0, 2.0, 0.5], [2.0, 1.0, 1.0], [0.5, 1.0, 3.0]]),
                            endowment=np.eye(3) + 0.5)
        for economy in (tiny, tiny.to_sparse()):
            self.run(economy, 1e-6, np.inf, 0)

