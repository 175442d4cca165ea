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

On a day of an economy stream (`gebench.markets.streams`), ``carry=True`` starts from what the
dynamics are made of, yesterday's bids b_ij (kept in `Outcome.state`), each agent's row scaled to
its money today: its budget (Fisher) or its endowment's value at yesterday's prices (exchange).
The bids are the iterate of a mirror descent on the Eisenberg-Gale dual whose distance is the KL
divergence between bid matrices (Birnbaum, Devanur and Xiao 2011), and for CES substitutes the
dynamics reach accuracy eps in a number of rounds that grows like log(1 / eps) (Zhang 2011), so
a start that yesterday's equilibrium makes near saves the rounds of the distance it saves. An
agent who arrived today starts as every agent does cold, from its coefficients; with no kept
bids (in the state handed back), every agent starts from its spending at yesterday's prices.
Each carried bid is at least a `gebench.solvers.kernels.carried.FLOOR` share of the cold one,
since the dynamics never revive a bid at 0, and a carried start is certified before the first
round.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from gebench.markets import CES, COBB_DOUGLAS, Economy
from gebench.markets.economy import stored_rows
from gebench.markets.utilities import demand

from ..base import Solver, Yesterday
from ..kernels.carried import FLOOR, carried_prices, iterate_from, today_rows
from ..kernels.incomes import csr_income_inputs, csr_incomes, income_inputs
from ..kernels.params import AT_LEAST_ONE
from ..kernels.warm_up import warm_up_on_tiny

_FAST = {"reassoc", "contract"}   # a dynamic without guarantee needs no bit-exact summation order


@njit(cache=True)
def _market(w, spend, ratio, price, nxt):
    """Prices pi_j = spend_j / w_j and units per unit of money w_j / spend_j; clears `nxt`."""
    for j in range(w.shape[0]):
        ratio[j] = w[j] / spend[j] if spend[j] > 0.0 else 0.0
        price[j] = spend[j] / w[j]
        nxt[j] = 0.0


@njit(cache=True)
def _settle(spend, nxt):
    """spend <- nxt; False if the new spending is not finite."""
    for j in range(spend.shape[0]):
        spend[j] = nxt[j]
        if not np.isfinite(nxt[j]):
            return False
    return True


@njit(cache=True, fastmath=_FAST)
def pr_steps(a, r, income_fixed, endowment, w, bids, spend, steps):
    """Advance `steps` rounds in place; `spend` holds the column sums of `bids`.

    income_fixed (n,) is used when endowment has no rows (Fisher); otherwise
    incomes are the endowments' value at the current prices. Returns False if
    the state stops being finite. Each row is two passes, each without a branch:
    the new bids and their sum (a reduction that `reassoc` lets LLVM vectorise),
    then their scaling while the row is still in cache; so a round streams a and
    bids once. The row update is written out here, not called: at 80 goods a
    call per row made a round 1.5 - 1.7x slower.
    """
    n, m = a.shape
    fisher = endowment.shape[0] == 0
    ratio, price, nxt = np.empty(m), np.empty(m), np.empty(m)
    for _ in range(steps):
        _market(w, spend, ratio, price, nxt)
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
        if not _settle(spend, nxt):
            return False
    return True


@njit(cache=True, fastmath=_FAST)
def pr_steps_csr(data, indices, indptr, r, income_fixed, e_data, e_indices, e_indptr, w, bids, spend, steps):
    """`pr_steps` on a sparse economy: `bids` holds one bid per stored coefficient (the
    pattern of a), the endowment comes as in `csr_income_inputs`, and a round costs
    O(nonzeros), each row written out in place (a call and a gathered copy per row
    doubled the time of a round)."""
    m = w.shape[0]
    ratio, price, nxt = np.empty(m), np.empty(m), np.empty(m)
    incomes = np.empty(indptr.shape[0] - 1)
    for _ in range(steps):
        _market(w, spend, ratio, price, nxt)
        csr_incomes(income_fixed, e_data, e_indices, e_indptr, price, 1.0, incomes)
        for i in range(indptr.shape[0] - 1):
            lo, hi, ri = indptr[i], indptr[i + 1], r[i]
            total = 0.0
            if ri == 1.0:
                for k in range(lo, hi):
                    v = data[k] * bids[k] * ratio[indices[k]]
                    bids[k] = v
                    total += v
            elif ri == 0.0:
                for k in range(lo, hi):
                    bids[k] = data[k]
                    total += data[k]
            else:
                for k in range(lo, hi):
                    x = bids[k] * ratio[indices[k]]
                    v = data[k] * x ** ri if x > 0.0 else 0.0
                    bids[k] = v
                    total += v
            if not total > 0.0:  # every bid underflowed: restart from the agent's coefficients
                total = 0.0
                for k in range(lo, hi):
                    bids[k] = data[k]
                    total += data[k]
            scale = incomes[i] / total
            for k in range(lo, hi):
                v = bids[k] * scale
                bids[k] = v
                nxt[indices[k]] += v
        if not _settle(spend, nxt):
            return False
    return True


def exponents(economy: Economy) -> np.ndarray:
    """r_i: 1 for linear, rho for CES, 0 for Cobb-Douglas."""
    r = np.ones(economy.n_agents)
    r[economy.kinds == CES] = economy.rho[economy.kinds == CES]
    r[economy.kinds == COBB_DOUGLAS] = 0.0
    return r


class ProportionalResponse(Solver):
    """Proportional response dynamics (Fisher and exchange; linear, Cobb-Douglas, CES 0 < rho < 1).

    `carry`: on a day of a stream, start from yesterday's bids (see the module docstring).
    """

    name = "proportional-response"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces"})
    exact = False
    sparse = True
    trades = True          # each round's allocation x_ij = b_ij w_j / sum_k b_kj is feasible and held
    carries = True
    parameters = {"max_iter": 1_000_000, "carry": False}
    rules = {"max_iter": AT_LEAST_ONE}

    def central_reads(self, economy, iterations):
        """Each round, every good's market reads the bids on it: one number per wanted pair."""
        wanted = economy.a.nnz if economy.sparse else int(np.count_nonzero(economy.a))
        return iterations * wanted

    def skip(self, economy):
        reason = super().skip(economy)
        if reason is None and np.any(economy.rho[economy.kinds == CES] < 0):
            reason = "CES complements (rho < 0) are not supported: the dynamics need 0 < rho < 1"
        return reason

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["linear", "cobb-douglas", "ces"])

    def run(self, economy, tol, deadline, seed, yesterday: Yesterday | None = None):
        carried = yesterday if yesterday is not None and self.carried else None
        if economy.sparse:
            return self._run_csr(economy, tol, deadline, carried)
        a = np.ascontiguousarray(economy.a)
        w = economy.total_supply
        income, endowment = income_inputs(economy)
        start = _start_prices(economy, carried)
        # exchange agents start with their endowment's value at the starting prices (cold: uniform unit prices)
        money = income if economy.model == "fisher" else endowment @ start
        bids = a / a.sum(axis=1, keepdims=True) * money[:, None]
        if carried is not None:
            bids = _carried_bids(economy, carried, bids, money, np.nonzero(a), start)
        r = exponents(economy)
        spend = bids.sum(axis=0)

        def advance(k):
            return pr_steps(a, r, income, endowment, w, bids, spend, k)

        def point():
            ratio = np.divide(w, spend, out=np.zeros_like(spend), where=spend > 0)
            return spend / w, bids * ratio

        outcome = iterate_from(economy, advance, point, tol, deadline, self.params["max_iter"], carried is not None)
        if self.carried and np.all(np.isfinite(bids)):
            outcome.state = {"bids": bids.copy()}
        return outcome

    def _run_csr(self, economy, tol, deadline, carried):
        a, w = economy.a, economy.total_supply
        share, e_data, e_indices, e_indptr = csr_income_inputs(economy)
        start = _start_prices(economy, carried)
        money = share if economy.model == "fisher" else economy.endowment @ start
        rows = stored_rows(a)
        bids = a.data * (money / a.sum(axis=1))[rows]
        if carried is not None:
            bids = _carried_bids(economy, carried, bids, money, (rows, a.indices), start)
        r = exponents(economy)
        spend = np.bincount(a.indices, weights=bids, minlength=economy.n_goods)

        def advance(k):
            return pr_steps_csr(a.data, a.indices, a.indptr, r, share, e_data, e_indices, e_indptr, w,
                                 bids, spend, k)

        def point():
            ratio = np.divide(w, spend, out=np.zeros_like(spend), where=spend > 0)
            return spend / w, sp.csr_array((bids * ratio[a.indices], a.indices, a.indptr), shape=a.shape)

        outcome = iterate_from(economy, advance, point, tol, deadline, self.params["max_iter"], carried is not None)
        if self.carried and np.all(np.isfinite(bids)):
            outcome.state = {"bids": bids.copy(), "indices": a.indices.copy(), "indptr": a.indptr.copy()}
        return outcome


def _start_prices(economy: Economy, carried: Yesterday | None) -> np.ndarray:
    """The prices at which exchange agents value their endowments at the start: yesterday's
    when carried and usable, else uniform unit prices 1 / sum_j w_j (one unit of money in all)."""
    w = economy.total_supply
    p = carried_prices(carried.prices, economy.n_goods) if carried is not None else None
    return np.full(economy.n_goods, 1.0 / w.sum()) if p is None else p / (p @ w)


def _kept_bids(kept: dict, today: tuple[np.ndarray, np.ndarray], shape) -> np.ndarray | None:
    """Yesterday's bids at today's wanted pairs (rows, columns), 0 where yesterday had no bid;
    None when none were kept or they do not fit today's shape."""
    bids = kept.get("bids")
    if bids is None:
        return None
    bids = np.asarray(bids, dtype=np.float64)
    if "indptr" in kept:        # a sparse economy's bids, one per stored coefficient
        indices, indptr = np.asarray(kept.get("indices")), np.asarray(kept["indptr"])
        if indptr.shape != (shape[0] + 1,) or indices.shape != bids.shape or indptr[-1] != bids.size:
            return None
        if indices.size and (indices.min() < 0 or indices.max() >= shape[1]):
            return None
        return np.asarray(sp.csr_array((bids, indices, indptr), shape=shape)[today[0], today[1]]).ravel()
    if bids.shape != shape:
        return None
    return bids[today]


def _carried_bids(economy: Economy, carried: Yesterday, cold: np.ndarray, money: np.ndarray,
                  today: tuple[np.ndarray, np.ndarray], prices: np.ndarray) -> np.ndarray:
    """Today's starting bids (the layout of `cold`, dense or one per stored coefficient) from
    yesterday's: kept bids where they fit, else each agent's spending at yesterday's prices, else
    cold; each row scaled to the agent's money, floored at `FLOOR` times its cold bids; the rows
    of agents who arrived today, and rows with nothing usable, cold."""
    shape = (economy.n_agents, economy.n_goods)
    values = _kept_bids(carried.state, today, shape)
    if values is None and carried_prices(carried.prices, economy.n_goods) is not None:
        x = demand(economy, prices, economy.incomes(prices))
        held = np.asarray(x[today[0], today[1]]).ravel() if sp.issparse(x) else np.asarray(x)[today]
        values = held * prices[today[1]]
    if values is None:
        return cold
    rows = today[0]
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    cold_values = cold[today] if cold.ndim == 2 else cold
    totals = np.bincount(rows, weights=values, minlength=shape[0])
    usable = today_rows(shape[0], carried.arrived) & (totals > 0) & np.isfinite(totals)
    scaled = values * np.divide(money, totals, out=np.zeros_like(money), where=usable)[rows]
    values = np.where(usable[rows], np.maximum(scaled, FLOOR * cold_values), cold_values)
    totals = np.bincount(rows, weights=values, minlength=shape[0])
    values *= np.divide(money, totals, out=np.zeros_like(money), where=totals > 0)[rows]
    if cold.ndim == 1:
        return values
    bids = np.zeros(shape)
    bids[today] = values
    return bids
