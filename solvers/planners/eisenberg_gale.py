"""The planner for Fisher markets: the Eisenberg-Gale convex program.

Eisenberg and Gale (1959); Eisenberg (1961) for homogeneous utilities:

    maximise  sum_i B_i log u_i(x_i)   subject to  sum_i x_ij <= s_j,  x >= 0.

Its optimal x is an equilibrium allocation and the duals of the supply
constraints are the equilibrium prices. Variables exist only where a_ij > 0.
Each family enters in its exact conic form, without rational approximation:
linear and Cobb-Douglas through exponential cones, CES through power cones
(t <= (sum_j a_j x_j^rho)^(1/rho) as sum_j a_j z_j >= t with z_j <= x_j^rho t^(1-rho)
for 0 < rho < 1, and sum_j a_j z_j <= t with t <= z_j^sigma x_j^(1-sigma),
sigma = 1/(1-rho), for rho < 0) or, where that exponent is 1/2 and it measured better,
second-order cones (`CONES`), Leontief by substituting x_ij = a_ij u_i. Clarabel runs to
the accuracy the certificate needs at the caller's tolerance (`ACCURACY_PER_TOL`).

Why a cvxpy program stops near 300 agents: beyond its time, Clarabel's residuals are
absolute, and a CES equilibrium's allocation spans many orders of magnitude (x_ij grows as
(a_ij / p_j)^sigma), so entries that should be 1e-9 or less stay near 1e-6, inside its
feasibility tolerance; at 300 goods they add up to 1e-4 to 1e-3 of an agent's spending,
which the certificate, relative per agent, refuses (a 300 x 300 CES market of seed 0 stops
AlmostSolved at a 1e-10 gap and certifies only to 7.8e-4). `fisher-ipm` follows the
same central path in the program's own units and certifies it.
"""
from __future__ import annotations

import numpy as np

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy, make_economy

from ..base import Outcome, Solver, in_unit_supply
from ..judging import finished
from ..kernels.conic import selector, solve_program
from ..kernels.params import FRACTION, Choice, Either

# Clarabel's accuracy per unit of the certificate's tolerance, from the largest ratio of
# certificate to accuracy measured where Clarabel reports an optimum (random Fisher markets
# of 10-160 agents, seeds 0-4, accuracies 1e-8 to 1e-12): 1.4e4 for linear and 4.5e4 for
# Cobb-Douglas markets (both at 10 agents), 2.5e5 for CES (rho = 0.5) and Leontief ones.
ACCURACY_PER_TOL = {LINEAR: 1e-5, COBB_DOUGLAS: 1e-5, CES: 1e-6, LEONTIEF: 1e-6}

# Where the exponent of a CES mean's cone is 1/2 (rho = 1/2 for substitutes, rho = -1 for
# complements), "second-order" writes it as a rotated second-order cone. Measured on random
# Fisher markets (40-160 agents, seeds 0-2): for substitutes the second-order form takes as
# long and stalls at 1e-5 to 1e-7 where power cones certify to 1e-8, while for complements
# at rho = -1 it certifies 40 agents where power cones make Clarabel fail; "auto" takes each
# side's better form.
CONES = ("auto", "power", "second-order")


def build_program(economy: Economy, cones: str = "auto"):
    """The Eisenberg-Gale program: (problem, supply constraint, function giving the allocation).
    `cones` (see `CONES`) says where CES means enter as second-order cones instead of power cones."""
    import cvxpy as cp

    n, m = economy.n_agents, economy.n_goods
    a, kinds, rho = economy.a, economy.kinds, economy.rho
    weights = economy.budget / economy.budget.mean()   # order-1 weights keep the interior point well scaled
    rows, cols = np.nonzero((a > 0) & (kinds != LEONTIEF)[:, None])
    coef = a[rows, cols]
    x = cp.Variable(len(rows), nonneg=True)
    used = selector(cols, m) @ x if len(rows) else 0
    objective, constraints = 0, []

    def group(mask_rows):
        """Entries of the agents in mask_rows, and those agents renumbered 0..k-1."""
        agents = np.flatnonzero(mask_rows)
        local = np.full(n, -1)
        local[agents] = np.arange(len(agents))
        entries = np.flatnonzero(mask_rows[rows])
        return agents, entries, local[rows[entries]]

    agents, entries, local = group(kinds == LINEAR)
    if len(agents):
        u = selector(local, len(agents)) @ cp.multiply(coef[entries], x[entries])
        objective += weights[agents] @ cp.log(u)
    agents, entries, local = group(kinds == COBB_DOUGLAS)
    if len(agents):
        share = coef[entries] / a[agents].sum(axis=1)[local]
        objective += cp.sum(cp.multiply(weights[agents][local] * share, cp.log(x[entries])))
    for substitutes in (True, False):
        agents, entries, local = group((kinds == CES) & ((rho > 0) == substitutes))
        if not len(agents):
            continue
        t = cp.Variable(len(agents), pos=True)
        z = cp.Variable(len(entries), nonneg=True)
        r = rho[agents][local]
        total = selector(local, len(agents)) @ cp.multiply(coef[entries], z)
        xs, ts = x[entries], t[local]
        if substitutes:
            constraints += [total >= t] + _mean_cones(z, xs, ts, r, cones == "second-order")
        else:
            constraints += [total <= t] + _mean_cones(ts, z, xs, 1.0 / (1.0 - r), cones != "power")
        objective += weights[agents] @ cp.log(t)
    leontief = np.flatnonzero(kinds == LEONTIEF)
    u_leontief = None
    if len(leontief):
        u_leontief = cp.Variable(len(leontief), nonneg=True)
        used = used + a[leontief].T @ u_leontief
        objective += weights[leontief] @ cp.log(u_leontief)
    supply = used <= economy.total_supply
    problem = cp.Problem(cp.Maximize(objective), constraints + [supply])

    def allocation() -> np.ndarray:
        out = np.zeros((n, m))
        if len(rows):
            out[rows, cols] = x.value
        if u_leontief is not None:
            out[leontief] = a[leontief] * u_leontief.value[:, None]
        return np.maximum(out, 0.0)

    return problem, supply, allocation


def _mean_cones(low, first, second, alpha: np.ndarray, second_order: bool) -> list:
    """low <= first^alpha second^(1 - alpha), entry by entry, for nonnegative `first` and
    `second`: as power cones, or, with `second_order` where alpha = 1/2, as the rotated
    second-order cones low^2 <= first second."""
    import cvxpy as cp

    half = np.isclose(alpha, 0.5, rtol=0.0, atol=1e-15) & second_order
    cones = []
    if half.any():
        h = np.flatnonzero(half)
        cones.append(cp.SOC(first[h] + second[h], cp.vstack([2 * low[h], first[h] - second[h]]), axis=0))
    if not half.all():
        g = np.flatnonzero(~half)
        cones.append(cp.PowCone3D(first[g], second[g], low[g], alpha[g]))
    return cones


def accuracy_for(economy: Economy, tol: float) -> float:
    """The interior point's accuracy that the certificate needs at `tol`: the strictest of
    the agents' families' `ACCURACY_PER_TOL` times tol (never below 1e-13, near where
    Clarabel's double precision stalls)."""
    families = np.unique(economy.kinds)
    return max(1e-13, tol * min(ACCURACY_PER_TOL[int(k)] for k in families))


class EisenbergGale(Solver):
    """Eisenberg-Gale program in cvxpy, solved by Clarabel (interior point, exact cones), to
    the accuracy the certificate needs (`accuracy_for`) unless `accuracy` is given."""

    name = "eisenberg-gale"
    models = frozenset({"fisher"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = True
    parameters = {"solver": "CLARABEL", "accuracy": "auto", "cones": "auto"}
    rules = {"accuracy": Either(Choice(("auto",)), FRACTION), "cones": Choice(CONES)}

    def warm_up(self) -> None:
        tiny = make_economy("fisher", ["linear", "cobb-douglas", "ces", "leontief"],
                            np.ones((4, 2)), rho=0.5, budget=np.ones(4))
        self.run(tiny, 1e-6, np.inf, 0)

    @in_unit_supply
    def run(self, economy, tol, deadline, seed):
        problem, supply, allocation = build_program(economy, self.params["cones"])
        accuracy = self.params["accuracy"]
        if accuracy == "auto":
            accuracy = accuracy_for(economy, tol)
        stop, iterations, message = solve_program(problem, self.params["solver"], accuracy, deadline)
        if stop is None and supply.dual_value is None:
            stop = "failed"
        if stop is not None:
            return Outcome(stop, iterations=iterations, message=message)
        prices = np.maximum(np.asarray(supply.dual_value, dtype=float).ravel(), 0.0)
        return finished(economy, tol, prices, allocation(), iterations, message)
