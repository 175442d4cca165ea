"""The planner for Fisher markets: the Eisenberg-Gale convex program.

Eisenberg and Gale (1959); Eisenberg (1961) for homogeneous utilities:

    maximise  sum_i B_i log u_i(x_i)   subject to  sum_i x_ij <= s_j,  x >= 0.

Its optimal x is an equilibrium allocation and the duals of the supply
constraints are the equilibrium prices. Variables exist only where a_ij > 0.
Each family enters in its exact conic form, without rational approximation:
linear and Cobb-Douglas through exponential cones, CES through power cones
(t <= (sum_j a_j x_j^rho)^(1/rho) as sum_j a_j z_j >= t with z_j <= x_j^rho t^(1-rho)
for 0 < rho < 1, and sum_j a_j z_j <= t with t <= z_j^sigma x_j^(1-sigma),
sigma = 1/(1-rho), for rho < 0), Leontief by substituting x_ij = a_ij u_i.
"""
from __future__ import annotations

import cvxpy as cp
import numpy as np

from markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy, make_economy

from .base import Outcome, Solver, in_unit_supply
from .judging import finished
from .conic import selector, solve_program
from .params import FRACTION


def build_program(economy: Economy):
    """The Eisenberg-Gale program: (problem, supply constraint, function giving the allocation)."""
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
        if substitutes:
            constraints += [cp.PowCone3D(x[entries], t[local], z, r), total >= t]
        else:
            constraints += [cp.PowCone3D(z, x[entries], t[local], 1.0 / (1.0 - r)), total <= t]
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


class EisenbergGale(Solver):
    """Eisenberg-Gale program in cvxpy, solved by Clarabel (interior point, exact cones)."""

    name = "eisenberg-gale"
    models = frozenset({"fisher"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = True
    parameters = {"solver": "CLARABEL", "accuracy": 1e-12}
    rules = {"accuracy": FRACTION}

    def warm_up(self) -> None:
        tiny = make_economy("fisher", ["linear", "cobb-douglas", "ces", "leontief"],
                            np.ones((4, 2)), rho=0.5, budget=np.ones(4))
        self.run(tiny, 1e-6, np.inf, 0)

    @in_unit_supply
    def run(self, economy, tol, deadline, seed):
        problem, supply, allocation = build_program(economy)
        stop, iterations, message = solve_program(problem, self.params["solver"], self.params["accuracy"], deadline)
        if stop is None and supply.dual_value is None:
            stop = "failed"
        if stop is not None:
            return Outcome(stop, iterations=iterations, message=message)
        prices = np.maximum(np.asarray(supply.dual_value, dtype=float).ravel(), 0.0)
        return finished(economy, tol, prices, allocation(), iterations, message)
