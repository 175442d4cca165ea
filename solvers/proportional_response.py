"""Proportional response dynamics: every buyer splits its money in proportion to the utility
each good gave it in the last round.

Fisher markets: Wu and Zhang (2007); Zhang (2011) for CES substitutes
(0 < rho < 1); Birnbaum, Devanur and Xiao (2011) show it is mirror descent on
the Eisenberg-Gale dual. Exchange economies: Branzei, Devanur and Rabani
(2021), where each agent's money is the value its endowment fetched.

One round, with bids b_ij and supply w_j:
  1. price   pi_j = sum_i b_ij / w_j; allocation x_ij = b_ij / pi_j;
  2. income  B_i (Fisher) or pi . e_i (exchange);
  3. bids    b_ij <- income_i * a_ij x_ij^r_i / sum_k a_ik x_ik^r_i,
with r = 1 (linear), rho (CES) and 0 (Cobb-Douglas, whose bids are fixed shares).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from markets import CES, COBB_DOUGLAS, Economy

from ._loop import income_inputs, iterate, warm_up_on_tiny
from .base import Outcome, Solver


@njit(cache=True, fastmath={"reassoc", "contract"})
def _pr_steps(a, r, income_fixed, endowment, w, bids, spend, steps):
    """Advance `steps` rounds in place; `spend` holds the column sums of `bids`.

    income_fixed (n,) is used when endowment has no rows (Fisher); otherwise
    incomes are the endowments' value at the current prices. Returns False if
    the state stops being finite. Each row is two passes, each without a branch:
    the new bids and their sum (a reduction that `reassoc` lets LLVM vectorise;
    a dynamic without guarantee, it needs no bit-exact order), then their
    scaling while the row is still in cache; so a round streams a and bids once.
    """
    n, m = a.shape
    fisher = endowment.shape[0] == 0
    ratio = np.empty(m)   # w_j / spend_j: units per unit of money
    price = np.empty(m)
    nxt = np.empty(m)
    for _ in range(steps):
        for j in range(m):
            ratio[j] = w[j] / spend[j] if spend[j] > 0.0 else 0.0
            price[j] = spend[j] / w[j]
            nxt[j] = 0.0
        for i in range(n):
            ai, bi, ri = a[i], bids[i], r[i]
            income = income_fixed[i]
            if not fisher:
                income = 0.0
                for j in range(m):
                    income += endowment[i, j] * price[j]
            total = 0.0
            if ri == 1.0:
                for j in range(m):
                    v = ai[j] * bi[j] * ratio[j]
                    bi[j] = v
                    total += v
            elif ri == 0.0:
                for j in range(m):
                    bi[j] = ai[j]
                    total += ai[j]
            else:
                for j in range(m):
                    x = bi[j] * ratio[j]
                    v = ai[j] * x ** ri if x > 0.0 else 0.0
                    bi[j] = v
                    total += v
            if not total > 0.0:  # every bid underflowed: restart from the agent's coefficients
                total = 0.0
                for j in range(m):
                    bi[j] = ai[j]
                    total += ai[j]
            scale = income / total
            for j in range(m):
                v = bi[j] * scale
                bi[j] = v
                nxt[j] += v
        for j in range(m):
            spend[j] = nxt[j]
            if not np.isfinite(nxt[j]):
                return False
    return True


def exponents(economy: Economy) -> np.ndarray:
    """r_i: 1 for linear, rho for CES, 0 for Cobb-Douglas."""
    r = np.ones(economy.n_agents)
    r[economy.kinds == CES] = economy.rho[economy.kinds == CES]
    r[economy.kinds == COBB_DOUGLAS] = 0.0
    return r


class ProportionalResponse(Solver):
    """Proportional response dynamics (Fisher and exchange; linear, Cobb-Douglas, CES 0 < rho < 1)."""

    name = "proportional-response"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces"})
    exact = False
    parameters = {"max_iter": 1_000_000}

    def skip(self, economy):
        reason = super().skip(economy)
        if reason is None and np.any(economy.rho[economy.kinds == CES] < 0):
            reason = "CES complements (rho < 0) are not supported: the dynamics need 0 < rho < 1"
        return reason

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["linear", "cobb-douglas", "ces"])

    def run(self, economy, tol, deadline, seed):
        a = np.ascontiguousarray(economy.a)
        w = economy.total_supply
        income, endowment = income_inputs(economy)
        # exchange agents start with their endowment's value at uniform unit prices 1 / sum_j w_j
        money = income if economy.model == "fisher" else endowment @ np.full(economy.n_goods, 1.0 / w.sum())
        bids = a / a.sum(axis=1, keepdims=True) * money[:, None]
        r = exponents(economy)
        spend = bids.sum(axis=0)

        def advance(k):
            return _pr_steps(a, r, income, endowment, w, bids, spend, k)

        def point():
            ratio = np.divide(w, spend, out=np.zeros_like(spend), where=spend > 0)
            return spend / w, bids * ratio

        return iterate(economy, advance, point, tol, deadline, self.params["max_iter"])
