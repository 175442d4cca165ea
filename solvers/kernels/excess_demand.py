"""Excess demand, and the allocation that goes with a price vector, for the price-space solvers.

Scarf, homotopy and Newton search over prices only; the answer they hand to
the certificate is (p, the agents' demand at p). Linear demand is a
correspondence, so for linear agents the allocation is chosen by a small linear
program among the goods of (near) maximal bang per buck.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from scipy.optimize import linprog

from gebench.markets import LINEAR, Economy, demand, make_economy
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.utilities import demand_row

from .incomes import income, income_inputs


@njit(cache=True)
def excess_kernel(kinds, a, log_a, rho, share, endowment, w, p, x_row, z):
    """z_j = (sum_i d_ij(p) - w_j) / w_j; +inf for a wanted free good. Incomes as in
    `income_inputs`: exchange p . e_i, Fisher share_i (p . w)."""
    n, m = a.shape
    log_p = np.log(np.maximum(p, 0.0))
    value = 0.0
    for j in range(m):
        z[j] = -w[j]
        value += p[j] * w[j]
    for i in range(n):
        demand_row(kinds[i], a[i], log_a[i], rho[i], p, log_p, income(i, share, endowment, p, value), x_row)
        for j in range(m):
            z[j] += x_row[j]
    for j in range(m):
        z[j] /= w[j]


class ExcessDemand:
    """z(p) of one economy, with the kernel's inputs prepared once."""

    def __init__(self, economy: Economy):
        self.economy = economy
        self.share, self.endowment = income_inputs(economy)
        self.w = np.ascontiguousarray(economy.total_supply)
        self.args = (economy.kinds, economy.a, economy.log_a, economy.rho, self.share, self.endowment, self.w)
        self._x = np.empty(economy.n_goods)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        z = np.empty(self.economy.n_goods)
        excess_kernel(*self.args, np.ascontiguousarray(p, dtype=np.float64), self._x, z)
        return z


def allocation_at(economy: Economy, prices: np.ndarray, slack: float = 1e-9) -> np.ndarray:
    """The agents' demand at `prices`; linear agents' spending is split by a linear program
    over goods within `slack` of their best bang per buck, to clear the markets as well
    as those prices allow."""
    p = np.asarray(prices, dtype=np.float64)
    b = economy.incomes(p)
    x = demand(economy, p, b)
    linear = np.flatnonzero(economy.kinds == LINEAR)
    if linear.size == 0 or not np.all(p > 0):
        return x
    a = economy.a[linear]
    bang = a / p
    allowed = bang >= bang.max(axis=1, keepdims=True) * (1 - slack)
    rows, cols = np.nonzero(allowed)
    k = len(rows)
    # spend f_r on (agent rows[r], good cols[r]); minimise s with spend_j <= value_j (1 + s)
    others = x.copy()
    others[linear] = 0.0
    value = p * economy.total_supply - others.sum(axis=0) * p
    c = np.zeros(k + 1)
    c[-1] = 1.0
    A_eq = np.zeros((len(linear), k + 1))
    A_eq[rows, np.arange(k)] = 1.0
    A_ub = np.zeros((economy.n_goods, k + 1))
    A_ub[cols, np.arange(k)] = 1.0
    A_ub[:, -1] = -np.abs(p * economy.total_supply)
    res = linprog(c, A_ub=A_ub, b_ub=value, A_eq=A_eq, b_eq=b[linear],
                  bounds=[(0, None)] * (k + 1), method="highs")
    if res.status != 0:
        return x
    spend = np.zeros_like(a)
    spend[rows, cols] = res.x[:k]
    x[linear] = spend / p
    return x


def cobb_douglas_start(economy: Economy, a: np.ndarray) -> np.ndarray:
    """Equilibrium prices of the same market with Cobb-Douglas tastes a (a linear system),
    kept off zero so that their logs exist: the start of Newton and of the homotopy."""
    owned = {"endowment": economy.endowment} if economy.model == "exchange" else \
        {"budget": economy.budget, "supply": economy.supply}
    p = np.maximum(cobb_douglas_prices(make_economy(economy.model, "cobb-douglas", a, **owned)), 1e-12)
    return p / p.sum()
