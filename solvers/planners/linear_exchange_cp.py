"""The polynomial case of exchange: linear Arrow-Debreu markets as a convex feasibility program.

Nenakov and Primak (1983), Jain, "A polynomial time algorithm for computing an
Arrow-Debreu market equilibrium for linear utilities" (SIAM J. Comput. 2007).
In log prices lambda_j, with an income bound beta_i:

    sum_i x_ij = w_j                                  every good is sold
    log sum_l e_il exp(lambda_l) <= beta_i            beta_i bounds agent i's income
    sum_j a_ij x_ij >= a_ik exp(beta_i - lambda_k)    for every k with a_ik > 0

The last line says that i's utility is at least its best bang per buck times
its income; summing spending over agents forces every budget to bind, so a
feasible point is an equilibrium and an equilibrium (positive prices, which
every economy whose goods are all wanted has) is a feasible point. Where no
equilibrium exists the program is often only weakly infeasible (feasible in
the limit of a price going to 0), which no interior point method can certify.
So log prices are kept within `spread` of their mean, the utility rows may
fall short by a slack s >= 0, and the program minimises s: its minimum is 0
exactly when an equilibrium with prices within a factor exp(2 spread) (about
9e6 by default) exists. A minimum above `proof` that presses a price against
the bound reports `no_equilibrium` (strictly: none with prices within that
factor); one that does not is solver inaccuracy, and the certificate judges the
point. On Gale's economy (`no-equilibrium-linear`) the certificate agrees: the
limit point p = (1, 0) is only a quasi-equilibrium, where the agent without
income wants the free good, and fails with optimality 1. The allocation is then re-derived from
the prices by a small linear program, which clears markets to LP accuracy. Variables exist only where a_ij > 0; the
cones are exponential, solved by Clarabel.
"""
from __future__ import annotations

import numpy as np

from gebench.markets import Economy, certify, make_economy

from ..base import Outcome, Solver, in_unit_supply
from ..judging import finished
from ..kernels.conic import selector, solve_program
from ..kernels.excess_demand import allocation_at
from ..kernels.params import FRACTION, POSITIVE


def build_program(economy: Economy, spread: float):
    """(problem, function giving (prices, allocation)); log prices within +-spread of their mean.

    The bang-per-buck constraints are taken in logs, nu_i <= log u_i(x_i) and
    nu_i >= log a_ik + beta_i - lambda_k: one exponential cone per agent and n x m
    linear rows, rather than an exponential cone per (agent, good)."""
    import cvxpy as cp

    n, m = economy.n_agents, economy.n_goods
    a, e, w = economy.a, economy.endowment, economy.total_supply
    rows, cols = np.nonzero(a > 0)
    x = cp.Variable(len(rows), nonneg=True)
    lam, beta, nu = cp.Variable(m), cp.Variable(n), cp.Variable(n)
    shortfall = cp.Variable(nonneg=True)
    utility = selector(rows, n) @ cp.multiply(a[rows, cols], x)
    owner, good = np.nonzero(e > 0)        # sum_l e_il exp(lambda_l - beta_i) <= 1
    constraints = [selector(cols, m) @ x == w, cp.sum(lam) == 0, cp.abs(lam) <= spread,
                   selector(owner, n) @ cp.multiply(e[owner, good], cp.exp(lam[good] - beta[owner])) <= 1,
                   nu <= cp.log(utility) + shortfall,
                   nu[rows] >= np.log(a[rows, cols]) + beta[rows] - lam[cols]]
    problem = cp.Problem(cp.Minimize(shortfall), constraints)

    def answer():
        prices = np.exp(lam.value - lam.value.max())
        allocation = np.zeros((n, m))
        allocation[rows, cols] = np.maximum(x.value, 0.0)
        at_bound = bool(np.abs(lam.value).max() >= spread * (1 - 1e-3))
        return prices, allocation, float(shortfall.value), at_bound

    return problem, answer


def unwanted_good(economy: Economy, why: str) -> str | None:
    """Why a method that needs every price positive declines an economy with a good that
    nobody wants (its equilibrium price is 0), or None."""
    unwanted = np.flatnonzero(np.asarray((economy.a > 0).sum(axis=0)).ravel() == 0)
    if unwanted.size:
        return f"good {unwanted[0]} is wanted by nobody: its price is 0, {why}"
    return None


class LinearExchangeCP(Solver):
    """Linear exchange economies through Jain's convex program (cvxpy + Clarabel)."""

    name = "linear-exchange-cp"
    models = frozenset({"exchange"})
    utilities = frozenset({"linear"})
    exact = True
    parameters = {"solver": "CLARABEL", "accuracy": 1e-10, "spread": 8.0, "proof": 1e-8}
    rules = {"accuracy": FRACTION, "spread": POSITIVE, "proof": POSITIVE}

    def skip(self, economy: Economy) -> str | None:
        return super().skip(economy) or unwanted_good(economy, "outside the program's log prices")

    def warm_up(self) -> None:
        tiny = make_economy("exchange", "linear", np.array([[1.0, 2.0], [2.0, 1.0]]), endowment=np.eye(2))
        self.run(tiny, 1e-6, np.inf, 0)

    @in_unit_supply
    def run(self, economy, tol, deadline, seed):
        problem, answer = build_program(economy, float(self.params["spread"]))
        stop, iterations, message = solve_program(problem, self.params["solver"], self.params["accuracy"], deadline)
        if stop is not None:
            return Outcome(stop, iterations=iterations, message=message)
        prices, allocation, shortfall, at_bound = answer()
        if shortfall > self.params["proof"] and at_bound:
            return Outcome("no_equilibrium", prices, allocation, iterations,
                           message=f"least shortfall {shortfall:.3g} > 0: no equilibrium with prices "
                                   f"within a factor {np.exp(2 * self.params['spread']):.2g} of each other")
        if shortfall > self.params["proof"]:
            message += f", least shortfall {shortfall:.3g} with prices inside the bounds: inaccurate"
        polished = allocation_at(economy, prices, slack=tol / 2)
        if certify(economy, prices, polished).worst < certify(economy, prices, allocation).worst:
            allocation = polished
        return finished(economy, tol, prices, allocation, iterations, message)
