"""The Eisenberg-Gale program of a Fisher market and the primal-dual interior point's state:
what `fisher_ipm` and `exchange_ipm` share.

`Program` holds the variables of the weighted central path (x, u, s and their duals z, zu, p),
evaluates the per-agent blocks in Numba, assembles and factors the m x m Schur complement on
the prices, and takes one Mehrotra predictor-corrector step (`Program.step`) with a
non-monotone line search; `fisher_ipm` explains the method. The linear exchange path
(`exchange_ipm.ExchangeProgram`) is a subclass that overrides the hooks documented here:
`start` (the starting point), `budgets`, `evaluate`, `factor`, `solve`, `kept`, `dual_at`,
`apply_inverse`, `unreduced_residual`, `line_search` and `backtrack`; `invalidate` marks the
point changed. They live in a module of their own so that neither solver imports the other.

Public beside `Program`: `NewtonFailure` (a step could not be taken) and its subclass
`NoDescent` (no step along a direction reduces the merit), `HALVINGS` (how many times the line
search halves a step before giving up) and `centring` (the complementarity right-hand side of
a Newton step), which the tests use to rebuild a step's right-hand side and count its trials.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from numba import njit
from scipy.linalg.blas import dsyrk

from gebench.markets import CES, LEONTIEF, LINEAR, Economy

_WINDOW = 6               # the non-monotone line search compares with the worst of this many merits
_GROWTH = 10.0            # ... but never more than this many times the current one
_REFINE = 3               # rounds of iterative refinement of a Newton direction, at most,
_REFINED = 1e-10          # until its residual is below this fraction of its right-hand side
HALVINGS = 40             # a step is halved at most this many times
_LAG = 1e-3               # the centring target stays above this fraction of the infeasibility
_DENSE_SCHUR = 0.05       # above this fill of the agents x goods matrix the Schur complement uses BLAS,
_DENSE_CELLS = 2 ** 25    # if that matrix has at most this many cells (256 MB)


# ---------------------------------------------------------------------------------------------
# Per-agent kernels. Every agent is a row of a CSR pattern (indptr, indices) over the goods it
# wants, with its coefficients `a` on that pattern. Non-Leontief rows hold one primal x and one
# dual z per entry; a Leontief row holds u_i and zu_i (per row) and uses its entries as a_i.
# ---------------------------------------------------------------------------------------------

@njit(cache=True)
def _evaluate(leontief, expo, weight, indptr, indices, a, log_a, share, x, z, u, zu, p,
              inv, w, tau, rd, delta_u, rd_u, grad):
    """At the point (x, u; z, zu; p): each block's inverse diagonal inv = 1 / delta (entries) or
    its diagonal delta_u (Leontief rows), its rank-one vector w and coefficient tau
    (K_i^{-1} = diag(inv) + tau w w^T, w = g inv), and
    the dual residual rd = grad f + A^T p - z, and g (grad f = -B g) for `_residual`. Returns
    False if anything is not finite."""
    ok = True
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        b = weight[i]
        if leontief[i]:
            ui = u[i]
            cost = 0.0
            for k in range(lo, hi):
                cost += a[k] * p[indices[k]]
                w[k] = a[k]
            d = b / (ui * ui) + zu[i] / ui
            delta_u[i] = d
            tau[i] = 1.0 / d
            rd_u[i] = cost - b / ui - zu[i]
            if not (math.isfinite(d) and math.isfinite(rd_u[i])):
                ok = False
            continue
        r = expo[i]
        if r == 0.0:                         # Cobb-Douglas: fixed shares, g = share / x
            for k in range(lo, hi):
                w[k] = share[k] / x[k]
        elif r == 1.0:                       # linear: g = a / (a . x), with a as shares
            total = 0.0
            for k in range(lo, hi):
                total += share[k] * x[k]
            for k in range(lo, hi):
                w[k] = share[k] / total
        else:                                # CES: g_j = a_j x_j^r / S / x_j, S = sum_k a_k x_k^r
            top = -math.inf
            for k in range(lo, hi):
                t = log_a[k] + r * math.log(x[k])
                w[k] = t
                if t > top:
                    top = t
            total = 0.0
            for k in range(lo, hi):
                e = math.exp(w[k] - top)
                w[k] = e
                total += e
            for k in range(lo, hi):
                w[k] = w[k] / (total * x[k])
        gamma = 0.0
        for k in range(lo, hi):
            g = w[k]
            grad[k] = g
            xk = x[k]
            d = 1.0 / (b * (1.0 - r) * g / xk + z[k] / xk)
            inv[k] = d
            rd[k] = p[indices[k]] - b * g - z[k]
            wk = g * d
            w[k] = wk
            gamma += g * wk
        c = b * r
        tau[i] = -c / (1.0 + c * gamma)
        if not (math.isfinite(gamma) and math.isfinite(tau[i])):
            ok = False
    return ok


@njit(cache=True)
def _apply(leontief, indptr, indices, a, inv, w, tau, delta_u, v, v_u, dp, out, out_u, column):
    """out = K^{-1} (v - A^T dp) block by block, and column = A out (the goods it uses); 0 on
    the placeholders (a Leontief row's entries, the u of every other row)."""
    for j in range(column.shape[0]):
        column[j] = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        if leontief[i]:
            cost = 0.0
            for k in range(lo, hi):
                cost += a[k] * dp[indices[k]]
            t = (v_u[i] - cost) / delta_u[i]
            out_u[i] = t
            for k in range(lo, hi):
                column[indices[k]] += a[k] * t
                out[k] = 0.0
            continue
        out_u[i] = 0.0
        dot = 0.0
        for k in range(lo, hi):
            dot += w[k] * (v[k] - dp[indices[k]])
        c = tau[i] * dot
        for k in range(lo, hi):
            t = (v[k] - dp[indices[k]]) * inv[k] + c * w[k]
            out[k] = t
            column[indices[k]] += t


@njit(cache=True)
def _residual(leontief, expo, weight, indptr, indices, a, x, z, u, zu, g, dx, du, dp, v, v_u, e, e_u, column):
    """e = v - K dx - A^T dp with K applied as it is (diagonal plus rank one, no inverse, so
    without the cancellation of Sherman-Morrison), and column = A dx: the first block's residual
    of a computed direction, for iterative refinement."""
    for j in range(column.shape[0]):
        column[j] = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        b = weight[i]
        if leontief[i]:
            cost = 0.0
            for k in range(lo, hi):
                cost += a[k] * dp[indices[k]]
                column[indices[k]] += a[k] * du[i]
                e[k] = 0.0
            e_u[i] = v_u[i] - (b / (u[i] * u[i]) + zu[i] / u[i]) * du[i] - cost
            continue
        e_u[i] = 0.0
        r = expo[i]
        along = 0.0
        for k in range(lo, hi):
            along += g[k] * dx[k]
        c = b * r * along
        for k in range(lo, hi):
            h = (b * (1.0 - r) * g[k] + z[k]) / x[k]
            e[k] = v[k] - h * dx[k] - c * g[k] - dp[indices[k]]
            column[indices[k]] += dx[k]


@njit(cache=True)
def _measures(leontief, expo, weight, indptr, indices, x, z, rd, g, u, zu, rd_u, p):
    """(dual, gap): the worst agent's dual residual and complementarity gap, in the units of
    what they change. A linear agent's dual residual is max_j |rd_ij| / max(p_j, B_i g_ij):
    there it compares bangs per buck, and a good it buys none of counts as much as one it buys.
    Any other agent's is sum_j x_ij |rd_ij| / B_i (u_i |rd_i| / B_i for Leontief): the money
    it misallocates, since x_ij (p_j - B_i g_ij) = x_ij z_ij at the solution; a good bought in
    amounts of 1e-9 (CES near rho = 1, whose demand is (a / p)^sigma with sigma = 1 / (1 - rho))
    then weighs as little as it matters, while its dual residual itself settles only as slowly as
    x^(rho - 1) lets Newton's method follow it. The gap is sum_j x_ij z_ij / B_i."""
    dual = 0.0
    gap = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        b = weight[i]
        if leontief[i]:
            v = u[i] * abs(rd_u[i]) / b
            c = u[i] * zu[i] / b
        else:
            v = 0.0
            c = 0.0
            for k in range(lo, hi):
                c += x[k] * z[k]
            c /= b
            if expo[i] == 1.0:
                for k in range(lo, hi):
                    v = max(v, abs(rd[k]) / max(p[indices[k]], b * g[k]))
            else:
                for k in range(lo, hi):
                    v += x[k] * abs(rd[k])
                v /= b
        if not v <= dual:          # NaN propagates
            dual = v
        if not c <= gap:
            gap = c
    return dual, gap


@njit(cache=True)
def _load(leontief, indptr, indices, a, x, u, column):
    """column = A y: the quantity of each good allocated."""
    for j in range(column.shape[0]):
        column[j] = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        if leontief[i]:
            for k in range(lo, hi):
                column[indices[k]] += a[k] * u[i]
        else:
            for k in range(lo, hi):
                column[indices[k]] += x[k]


@njit(cache=True)
def _scatter(leontief, indptr, indices, inv, w, tau, slot, w_minus, w_plus, diag):
    """Rows sqrt(|tau_i|) w_i into W_- (tau < 0) or W_+ (tau > 0) (slot >= 0: row slot of W_-,
    slot < -1: row -2 - slot of W_+, -1: no rank one), and the diagonal sum_i 1 / delta_ij."""
    for j in range(diag.shape[0]):
        diag[j] = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        if not leontief[i]:
            for k in range(lo, hi):
                diag[indices[k]] += inv[k]
        row = slot[i]
        if row == -1:
            continue
        scale = math.sqrt(abs(tau[i]))
        if row >= 0:
            for k in range(lo, hi):
                w_minus[row, indices[k]] = w[k] * scale
        else:
            for k in range(lo, hi):
                w_plus[-2 - row, indices[k]] = w[k] * scale


@njit(cache=True)
def _accumulate(leontief, indptr, indices, inv, w, tau, matrix):
    """matrix (upper triangle) = diag(sum_i 1 / delta_ij) + sum_i tau_i w_i w_i^T over each
    agent's own goods: O(sum_i k_i^2) for agents wanting k_i goods (sorted indices)."""
    m = matrix.shape[0]
    for r in range(m):
        for c in range(r, m):
            matrix[r, c] = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        t = tau[i]
        for k1 in range(lo, hi):
            j1 = indices[k1]
            if not leontief[i]:
                matrix[j1, j1] += inv[k1]
            if t == 0.0:
                continue
            v = t * w[k1]
            for k2 in range(k1, hi):
                matrix[j1, indices[k2]] += v * w[k2]


# ---------------------------------------------------------------------------------------------
# The program and its Newton step
# ---------------------------------------------------------------------------------------------

class NewtonFailure(Exception):
    """A Newton step could not be taken (a failed factorisation, a non-finite direction)."""


class NoDescent(NewtonFailure):
    """No step along a direction decreases the line search's merit."""


@njit(cache=True)
def _ratio(v, dv, alpha):
    """min(alpha, the largest step with v + step dv >= 0), for v > 0."""
    for k in range(v.shape[0]):
        if dv[k] < 0.0:
            t = -v[k] / dv[k]
            if t < alpha:
                alpha = t
    return alpha


@njit(cache=True)
def _product_after(v, dv, y, dy, alpha):
    """(v + alpha dv) . (y + alpha dy)."""
    total = 0.0
    for k in range(v.shape[0]):
        total += (v[k] + alpha * dv[k]) * (y[k] + alpha * dy[k])
    return total


@njit(cache=True)
def centring(omega, target, v, y, dv, dy, out):
    """out = target omega - v y - dv dy: the complementarity right-hand side (dv = dy = 0 for
    the predictor), with each pair's weight omega on the central path (0 on placeholders)."""
    for k in range(v.shape[0]):
        out[k] = target * omega[k] - v[k] * y[k] - dv[k] * dy[k]


@njit(cache=True)
def _scaled(rc, v, rd, out):
    """out = rc / v - rd: the first block's right-hand side once the bound duals are eliminated."""
    for k in range(v.shape[0]):
        out[k] = rc[k] / v[k] - rd[k]


@njit(cache=True)
def _bound_dual(rc, v, y, dv, out):
    """out = (rc - y dv) / v: the bound duals' step."""
    for k in range(v.shape[0]):
        out[k] = (rc[k] - y[k] * dv[k]) / v[k]


@njit(cache=True)
def _dot(v, y):
    total = 0.0
    for k in range(v.shape[0]):
        total += v[k] * y[k]
    return total


@njit(cache=True)
def _move(v, dv, alpha):
    for k in range(v.shape[0]):
        v[k] += alpha * dv[k]


class Program:
    """The Eisenberg-Gale program of a Fisher market and the state of the interior point.

    Built from an economy in units of order one (`in_unit_supply`); `step()` takes one
    predictor-corrector Newton step, `residuals()` measures the point, `point()` gives
    (prices, allocation). Placeholders keep every array the length of the pattern: a Leontief
    row's entries hold x = 1, z = 0 and every other row u = 1, zu = 0, with zero steps, so
    that they add nothing to any sum and no mask is needed.
    """

    def __init__(self, economy: Economy):
        n, m = economy.n_agents, economy.n_goods
        self.n, self.m = n, m
        kinds, rho = economy.kinds, economy.rho
        if economy.sparse:
            a = economy.a
            indptr = np.asarray(a.indptr, dtype=np.int64)
            indices = np.asarray(a.indices, dtype=np.int64)
            data = np.array(a.data, dtype=np.float64)
        else:
            rows, cols = np.nonzero(economy.a > 0)
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
            indices = cols.astype(np.int64)
            data = np.array(economy.a[rows, cols], dtype=np.float64)
        self.sparse = economy.sparse
        self.indptr, self.indices, self.a = indptr, indices, data
        agent = np.repeat(np.arange(n), np.diff(indptr))
        self.agent = agent
        top = np.maximum.reduceat(data, indptr[:-1])
        self.log_a = np.log(data) - np.log(top)[agent]         # a / max a: the same preferences
        self.leontief = np.ascontiguousarray(kinds == LEONTIEF)
        expo = np.zeros(n)
        expo[kinds == LINEAR] = 1.0
        expo[kinds == CES] = rho[kinds == CES]
        self.expo = expo
        scaled = data / top[agent]
        self.share = scaled / np.bincount(agent, weights=scaled, minlength=n)[agent]   # Cobb-Douglas
        self.weight = self.budgets(economy)
        self.supply = np.asarray(economy.total_supply, dtype=np.float64)
        # the rank-one rows of the Schur complement: W_- (tau < 0), W_+ (tau > 0), none (Cobb-Douglas)
        minus = np.flatnonzero(~self.leontief & (expo > 0))
        plus = np.flatnonzero(self.leontief | (expo < 0))
        slot = np.full(n, -1, dtype=np.int64)
        slot[minus] = np.arange(minus.size)
        slot[plus] = -2 - np.arange(plus.size)
        self.slot = slot
        self.dense_schur = indices.size > _DENSE_SCHUR * n * m and n * m <= _DENSE_CELLS
        self.w_minus = np.zeros((minus.size, m)) if self.dense_schur else None
        self.w_plus = np.zeros((plus.size, m)) if self.dense_schur else None
        self.on = (~self.leontief[agent]).astype(np.float64)   # entries that carry their own x
        self.on_u = self.leontief.astype(np.float64)
        # the weighted central path x_ij z_ij = mu B_i, u_i zu_i = mu B_i, s_j p_j = mu sum B / m:
        # an agent's complementarity scales with its budget, as its allocation does
        self.omega = self.on * self.weight[agent]
        self.omega_u = self.on_u * self.weight
        self.omega_s = np.full(m, self.weight.sum() / m)
        self.total = float(self.omega.sum() + self.omega_u.sum() + self.omega_s.sum())
        nnz = indices.size
        self.inv, self.w, self.rd, self.g = np.ones(nnz), np.empty(nnz), np.zeros(nnz), np.zeros(nnz)
        self.tau, self.delta_u, self.rd_u = np.zeros(n), np.ones(n), np.zeros(n)
        self.rp = np.zeros(m)
        self.steps = 0
        self.merits = []
        self.start()

    def budgets(self, economy: Economy) -> np.ndarray:
        """The budgets B_i of the program, scaled to mean 1."""
        return np.asarray(economy.budget, dtype=np.float64) / economy.budget.mean()

    # -- the starting point ---------------------------------------------------------------
    def start(self):
        """Half of each good is shared among the agents who want it in proportion to their
        budgets (a Leontief agent gets the largest utility within its parts), prices are uniform
        at the level that the budgets pay for the supply, and each bound dual is the price of
        its good (of its bundle, for Leontief)."""
        n, m, w = self.n, self.m, self.supply
        budget = self.weight[self.agent]
        wanting = np.bincount(self.indices, weights=budget, minlength=m)
        part = w[self.indices] * budget / wanting[self.indices]
        x = np.where(self.on > 0, part, 0.0)
        u = np.zeros(n)
        if self.leontief.any():
            most = np.maximum.reduceat(self.a / part, self.indptr[:-1])
            u = np.where(self.leontief, 1.0 / most, 0.0)
        load = np.empty(m)
        _load(self.leontief, self.indptr, self.indices, self.a, x, u, load)
        scale = 0.5 / np.max(load / w)
        self.x = np.where(self.on > 0, x * scale, 1.0)
        self.u = np.where(self.leontief, u * scale, 1.0)
        self.s = w - load * scale
        self.p = np.full(m, self.weight.sum() / w.sum())
        cost = np.bincount(self.agent, weights=self.a * self.p[self.indices], minlength=n)
        self.z = self.on * self.p[self.indices]
        self.zu = self.on_u * cost
        self.invalidate()

    # -- measures ---------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Mark the point changed: the next `step` or `residuals` evaluates it again. Whoever
        moves the variables (or the weights of the path, as `ExchangeProgram.reweigh` does)
        calls this."""
        self._fresh, self._measured = False, None

    def evaluate(self) -> None:
        """Blocks, the dual residual and the primal residual at the current point."""
        ok = _evaluate(self.leontief, self.expo, self.weight, self.indptr, self.indices, self.a, self.log_a,
                       self.share, self.x, self.z, self.u, self.zu, self.p, self.inv, self.w, self.tau,
                       self.rd, self.delta_u, self.rd_u, self.g)
        if not ok:
            raise NewtonFailure("the barrier Hessian is not finite")
        _load(self.leontief, self.indptr, self.indices, self.a, self.x * self.on, self.u, self.rp)
        self.rp += self.s - self.supply
        self._fresh = True
        self._measured = None

    def residuals(self) -> tuple[float, float, float]:
        """(primal, dual, gap): max |A y + s - w| / w, the dual residual as `_measures` takes
        it, and the complementarity gap, each agent's over its budget and the supply slacks'
        over the total budget."""
        if not self._fresh:
            self.evaluate()
        if self._measured is not None:
            return self._measured
        primal = float(np.max(np.abs(self.rp) / self.supply))
        dual, gap = _measures(self.leontief, self.expo, self.weight, self.indptr, self.indices, self.x, self.z,
                              self.rd, self.g, self.u, self.zu, self.rd_u, self.p)
        self._measured = primal, dual, max(gap, _dot(self.s, self.p) / self.weight.sum())
        return self._measured

    def gap(self) -> float:
        """The complementarity gap x . z + u . zu + s . p (summed in Numba: a BLAS call from numpy
        here would wake a second thread pool besides LAPACK's, and the two would contend)."""
        return _dot(self.x, self.z) + _dot(self.u, self.zu) + _dot(self.s, self.p)

    # -- the Newton system ------------------------------------------------------------------
    def factor(self):
        """The Schur complement on the prices, M = A K^{-1} A^T + diag(s / p), factored."""
        matrix = self.schur()
        scale = float(np.max(np.abs(np.diagonal(matrix))))
        for shift in (0.0, 1e-14, 1e-11):
            if shift:
                matrix[np.diag_indices(self.m)] += shift * scale
            try:
                return la.cho_factor(matrix, lower=True, overwrite_a=True, check_finite=False)
            except la.LinAlgError:
                continue
        raise NewtonFailure("the Schur complement on the prices is not positive definite")

    def schur(self) -> np.ndarray:
        """M = A K^{-1} A^T + diag(s / p), its lower triangle (the upper one is not set)."""
        m = self.m
        if self.dense_schur:
            diag = np.empty(m)
            _scatter(self.leontief, self.indptr, self.indices, self.inv, self.w, self.tau, self.slot,
                     self.w_minus, self.w_plus, diag)
            matrix = None
            if self.w_minus.shape[0]:
                matrix = dsyrk(-1.0, self.w_minus.T, lower=1)    # lower triangle of -W_-^T W_-
            if self.w_plus.shape[0]:
                matrix = (dsyrk(1.0, self.w_plus.T, lower=1) if matrix is None
                          else dsyrk(1.0, self.w_plus.T, beta=1.0, c=matrix, lower=1, overwrite_c=1))
            if matrix is None:
                matrix = np.zeros((m, m), order="F")
            matrix[np.diag_indices(m)] += diag
        else:
            matrix = np.empty((m, m))
            _accumulate(self.leontief, self.indptr, self.indices, self.inv, self.w, self.tau, matrix)
            matrix = matrix.T                                    # its upper triangle is this one's lower
        matrix[np.diag_indices(m)] += self.s / self.p
        return matrix

    def direction(self, factor, rc_x, rc_u, rc_s, target, refine=True):
        """The Newton direction (dx, du, ds, dz, dzu, dp) for complementarity right-hand sides
        rc = target omega - v y (- the predictor's second-order term)."""
        v, v_u = np.empty_like(rc_x), np.empty_like(rc_u)
        _scaled(rc_x, self.x, self.dual_at(target), v)
        _scaled(rc_u, self.u, self.rd_u, v_u)
        dx, du, column = np.empty_like(v), np.empty_like(v_u), np.empty(self.m)
        self.apply_inverse(v, v_u, np.zeros(self.m), dx, du, column)     # K^{-1} v, and A of it
        dp = self.solve(factor, self.rp + column + rc_s / self.p)
        self.apply_inverse(v, v_u, dp, dx, du, column)                   # K^{-1} (v - A^T dp)
        if refine:
            self._refine(factor, v, v_u, -self.rp - rc_s / self.p, dx, du, dp)
        dz, dzu = np.empty_like(v), np.empty_like(v_u)
        _bound_dual(rc_x, self.x, self.z, dx, dz)
        _bound_dual(rc_u, self.u, self.zu, du, dzu)
        ds = (rc_s - self.s * dp) / self.p
        direction = (dx, du, ds, dz, dzu, dp)
        if not all(np.all(np.isfinite(d)) for d in direction):
            raise NewtonFailure("the Newton direction is not finite")
        return direction

    def dual_at(self, target: float) -> np.ndarray:
        """The dual residual that a step towards `target` corrects: the evaluated one, since
        a Fisher market's program does not move with the target."""
        return self.rd

    def kept(self, rows: np.ndarray) -> np.ndarray:
        """The supply rows' residuals that the Newton step solves for: all of them."""
        return rows

    def solve(self, factor, rhs: np.ndarray) -> np.ndarray:
        """dp from the factored Schur complement."""
        return la.cho_solve(factor, rhs, check_finite=False)

    def apply_inverse(self, v, v_u, dp, out, out_u, column) -> None:
        """out = K^{-1} (v - A^T dp) and column = A out (`_apply`)."""
        _apply(self.leontief, self.indptr, self.indices, self.a, self.inv, self.w, self.tau, self.delta_u,
               v, v_u, dp, out, out_u, column)

    def unreduced_residual(self, dx, du, dp, v, v_u, e, e_u, column) -> None:
        """e = v - K dx - A^T dp and column = A dx (`_residual`)."""
        _residual(self.leontief, self.expo, self.weight, self.indptr, self.indices, self.a, self.x, self.z,
                  self.u, self.zu, self.g, dx, du, dp, v, v_u, e, e_u, column)

    def _refine(self, factor, v, v_u, r2, dx, du, dp):
        """Iterative refinement of (dx, du, dp) on the unreduced system K dy + A^T dp = v,
        A dy - (s / p) dp = r2, whose residual is computed without the cancellations of the
        Schur complement: late in the path a linear agent's block has pivots of order 1 / mu,
        and the Schur complement keeps only eps / mu of absolute accuracy in its small
        eigenvalues. A correction that does not reduce the residual is undone."""
        e, e_u, column, dual = np.empty_like(v), np.empty_like(v_u), np.empty(self.m), self.s / self.p
        scale = max(float(np.max(np.abs(v))), float(np.max(np.abs(v_u))), float(np.max(np.abs(r2))), 1e-300)
        ex, eu = np.empty_like(dx), np.empty_like(du)
        last, undo = math.inf, None
        for _ in range(_REFINE + 1):
            self.unreduced_residual(dx, du, dp, v, v_u, e, e_u, column)
            e2 = self.kept(r2 - column + dual * dp)
            size = max(float(np.max(np.abs(e))), float(np.max(np.abs(e_u))), float(np.max(np.abs(e2))))
            if not size < last:                        # the correction did not help: undo it
                if undo is not None:
                    dx -= undo[0]
                    du -= undo[1]
                    dp -= undo[2]
                return
            if not size > _REFINED * scale:
                return
            last = size
            self.apply_inverse(e, e_u, np.zeros(self.m), ex, eu, column)
            step = self.solve(factor, column - e2)
            self.apply_inverse(e, e_u, step, ex, eu, column)
            dx += ex
            du += eu
            dp += step
            undo = (ex, eu, step)

    def _longest(self, direction) -> float:
        alpha = 1.0
        for v, dv in zip((self.x, self.u, self.s, self.z, self.zu, self.p), direction):
            alpha = _ratio(v, dv, alpha)
        return alpha

    def _complementarity_after(self, direction, alpha) -> float:
        dx, du, ds, dz, dzu, dp = direction
        return (_product_after(self.x, dx, self.z, dz, alpha) + _product_after(self.u, du, self.zu, dzu, alpha)
                + _product_after(self.s, ds, self.p, dp, alpha))

    def step(self) -> float:
        """One Mehrotra predictor-corrector step (one factorisation); returns its length."""
        if not self._fresh:
            self.evaluate()
        factor = self.factor()
        mu = self.gap() / self.total
        rc_x, rc_u = np.empty_like(self.x), np.empty_like(self.u)
        zero_x, zero_u = np.zeros_like(self.x), np.zeros_like(self.u)
        centring(self.omega, 0.0, self.x, self.z, zero_x, zero_x, rc_x)
        centring(self.omega_u, 0.0, self.u, self.zu, zero_u, zero_u, rc_u)
        affine = self.direction(factor, rc_x, rc_u, -self.s * self.p, 0.0, refine=False)   # only a predictor
        alpha = self._longest(affine)
        sigma = min(1.0, (self._complementarity_after(affine, alpha) / self.total / mu) ** 3)
        dx, du, ds, dz, dzu, dp = affine
        # Mehrotra's target, but never far below the infeasibility: a gap that runs ahead of the
        # dual residual leaves the Schur complement with pivots of 1 / mu to cancel
        primal, dual, _ = self.residuals()
        target = max(sigma * mu, min(mu, _LAG * max(primal, dual) * self.weight.sum() / self.total))
        centring(self.omega, target, self.x, self.z, dx, dz, rc_x)
        centring(self.omega_u, target, self.u, self.zu, du, dzu, rc_u)
        corrected = self.direction(factor, rc_x, rc_u, target * self.omega_s - self.s * self.p - ds * dp, target)
        eta = min(0.9999, max(0.9, 1.0 - 10.0 * mu))
        try:
            return self.line_search(corrected, min(1.0, eta * self._longest(corrected)))
        except NoDescent:
            pass
        # Mehrotra's second-order term can make the gap grow along the direction: fall back on
        # the plain centring direction to the current mu, along which only the residuals change
        centring(self.omega, mu, self.x, self.z, zero_x, zero_x, rc_x)
        centring(self.omega_u, mu, self.u, self.zu, zero_u, zero_u, rc_u)
        centred = self.direction(factor, rc_x, rc_u, mu * self.omega_s - self.s * self.p, mu)
        self.steps -= 1                                    # the same factorisation, the same step
        return self.line_search(centred, min(1.0, eta * self._longest(centred)))

    def merit(self) -> float:
        """The line search's merit: the relative primal residual and gap of `residuals`, and the
        largest dual residual over the largest price, unweighted (the weighted measure of
        `_measures` is not one that a Newton step for the residuals must decrease)."""
        primal, _, gap = self.residuals()
        dual = max(float(np.max(np.abs(self.rd))), float(np.max(np.abs(self.rd_u)))) / float(np.max(self.p))
        return primal + dual + gap

    def line_search(self, direction, alpha: float) -> float:
        """Move along `direction` by alpha, halved until the merit (the sum of the relative primal
        and dual residuals and gap) is below the largest of its last `_WINDOW` values by a fraction
        of the step (a non-monotone search, Grippo, Lampariello and Lucidi 1986). The primal
        residual falls by (1 - alpha) at any step, but the dual one involves the gradient of the
        utilities: a long step can make it far worse (CES complements with rho << 0, whose gradient
        grows as x^(rho - 1)), and a monotone search would block the steps after which it recovers
        (CES near rho = 1, where goods bought in tiny amounts settle only at the end). The
        accepted point is evaluated, ready for the next step."""
        self.steps += 1
        self.merits.append(self.merit())
        base = min(max(self.merits[-_WINDOW:]), _GROWTH * self.merits[-1])
        return self.backtrack(direction, alpha, lambda merit, step: merit <= (1.0 - 1e-4 * step) * base,
                               "no step along the Newton direction reduces the residuals")

    def backtrack(self, direction, alpha: float, acceptable, failure: str) -> float:
        """Move along `direction` by alpha, halved at most `HALVINGS` times until
        `acceptable(merit, alpha)` holds at the evaluated point (merit infinite where the point
        cannot be evaluated); the accepted point is evaluated. If none is, the point is restored
        and evaluated, and `NoDescent(failure)` raised."""
        variables = (self.x, self.u, self.s, self.z, self.zu, self.p)
        saved = [v.copy() for v in variables]
        for _ in range(HALVINGS):
            for v, v0, dv in zip(variables, saved, direction):
                v[:] = v0
                _move(v, dv, alpha)
            self.invalidate()
            try:
                self.evaluate()
                merit = self.merit()
            except NewtonFailure:
                merit = math.inf
            if acceptable(merit, alpha):
                return alpha
            alpha *= 0.5
        for v, v0 in zip(variables, saved):
            v[:] = v0
        self.invalidate()
        self.evaluate()
        raise NoDescent(failure)

    # -- the answer ---------------------------------------------------------------------------
    def values(self) -> np.ndarray:
        """The allocation on the pattern: x for their own entries, a_ij u_i for Leontief rows."""
        return np.where(self.on > 0, self.x, self.a * self.u[self.agent])

    def point(self):
        """(prices, allocation): the supply rows' multipliers and the allocation, dense or CSR."""
        values = np.maximum(self.values(), 0.0)
        if self.sparse:
            allocation = sp.csr_array((values, self.indices.copy(), self.indptr.copy()), shape=(self.n, self.m))
        else:
            allocation = np.zeros((self.n, self.m))
            allocation[self.agent, self.indices] = values
        return np.maximum(self.p, 0.0), allocation
