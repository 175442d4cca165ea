"""What an allocation is worth to the agents who hold it: welfare measures beside the certificate.

The certificate (`gebench.markets.certificate`) asks whether (prices, allocation) is an equilibrium.
A process that trades out of equilibrium (bilateral exchange, say) may never get there and
still leave everyone better off; these measures say how much, with no prices at all
(docs/format.md, "Welfare"):

- `individual_rationality`: the worst relative utility loss of an agent against its
  endowment, max_i max(0, 1 - u_i(x_i) / u_i(e_i)); 0 when nobody is worse off than without
  trade. In a Fisher market the reference bundle is buying nothing, so it is always 0.
- `pareto_gap`: the largest t such that some feasible reallocation gives every agent at
  least (1 + t) times its utility at x; 0 at a Pareto-efficient allocation. Reported with
  `pareto_bound`, an upper bound proved by prices: the true gap lies between the two.
- `gains_share`: per agent, (u_i(x_i) - u_i(e_i)) / (u_i(x*_i) - u_i(e_i)), the share of its
  gains from trade at an equilibrium x* that x realises (1 at x*, 0 at the endowment; above
  1 or below 0 when x favours or hurts the agent against x*).

Every utility family here is homogeneous of degree one (Cobb-Douglas with shares summing to
1, CES, linear, Leontief), which gives the Pareto gap a dual in prices. With c_i = u_i(x_i)
and e_i(p) the cost at prices p of one unit of utility (1 / V_i(p, 1)), any feasible y and
any p >= 0 satisfy p . w >= sum_i p . y_i >= sum_i e_i(p) u_i(y_i), so if every
u_i(y_i) >= s c_i then

    s <= U(p) = p . w / sum_i c_i e_i(p),

while buying each agent its utility c_i at least cost, h_i(p) (c_i e_i(p) spent at p), and
scaling all down until they fit the supply is feasible and gives every agent L(p) c_i with

    L(p) = min_j w_j / D_j(p),   D(p) = sum_i c_i h_i(p).

U and L meet exactly where D(p) is proportional to w: the maximin problem max_y min_i
u_i(y_i) / c_i is a Fisher-like market whose budgets are what the current utilities cost
(Eisenberg and Gale 1959; Varian, "Equity, envy and efficiency", JET 1974, on the support
prices of efficient allocations). At a Walrasian equilibrium its prices p* give U = 1 at once
(c_i e_i(p*) = p* . x*_i, the first welfare theorem). Leontief economies have a closed form
(one good is the bottleneck), linear ones a linear program (scipy's HiGHS); the others are
solved by a damped proportional-response iteration on p (Wu and Zhang, STOC 2007), which
stops when U and L agree to the asked tolerance.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

from .economy import LEONTIEF, LINEAR, Economy
from .utilities import demand_row, log_indirect_row, log_indirect_utility, log_utility

PARETO_TOL = 1e-6           # relative agreement of the Pareto gap's two bounds
PARETO_MAX_ITER = 5000      # steps of the price iteration for the smooth families
MAX_DENSE_ENTRIES = 4_000_000   # a sparse economy larger than this has no Pareto gap computed
GAINS = ("gains_mean", "gains_worst", "gains_total")     # the gains shares' summaries (`summarise_gains`)
NO_GAINS = 1e-6            # an equilibrium gain below this share of u* is within rounding of none: no share


@dataclass(frozen=True)
class ParetoGap:
    """The Pareto gap of an allocation: `gap` is achieved by `allocation` (feasible, every
    agent at least (1 + gap) times its utility), and no feasible allocation gives every
    agent more than (1 + bound) times, as `prices` prove; both are inf when nobody has
    positive utility (anything improves on that)."""

    gap: float
    bound: float
    prices: np.ndarray | None
    allocation: np.ndarray | None

    @property
    def tolerance(self) -> float:
        return self.bound - self.gap


@dataclass(frozen=True)
class Welfare:
    """The welfare measures of an allocation; `gains_mean` and `gains_worst` summarise
    `gains_share` over the agents with gains at the equilibrium, and `gains_total` is the
    share of all their gains, valued at the equilibrium's prices (`summarise_gains`), so
    that an agent with a tiny gain at equilibrium cannot dominate it; None without one."""

    individual_rationality: float | None
    pareto_gap: float | None
    pareto_bound: float | None
    gains_mean: float | None = None
    gains_worst: float | None = None
    gains_total: float | None = None
    infeasible: str = ""

    def to_dict(self, gains: bool = True) -> dict:
        """The measures by name; with `infeasible`, why they are all None. `gains=False`
        leaves out the gains shares (gains_mean, gains_worst, gains_total), for a report
        measured without an equilibrium to hold them against."""
        doc = asdict(self)
        if not self.infeasible:
            del doc["infeasible"]
        if not gains:
            for key in GAINS:
                del doc[key]
        return doc


def reference_log_utility(economy: Economy) -> np.ndarray:
    """log u_i of the bundle each agent has without trade: its endowment in an exchange
    economy, nothing (log 0 = -inf) in a Fisher market."""
    if economy.model == "fisher":
        return np.full(economy.n_agents, -math.inf)
    return log_utility(economy, economy.endowment)


def no_trade(economy: Economy):
    """The allocation without trade: the endowments, or nothing bought in a Fisher market."""
    if economy.model == "fisher":
        return sp.csr_array(economy.a.shape) if economy.sparse else np.zeros(economy.a.shape)
    return economy.endowment


def individual_rationality(economy: Economy, allocation) -> float:
    """max_i max(0, 1 - u_i(x_i) / u_i(e_i)) over agents whose endowment has positive utility;
    NaN if a utility cannot be computed."""
    if economy.model == "fisher":
        return 0.0
    return worst_loss(log_utility(economy, allocation), reference_log_utility(economy))


def worst_loss(log_u: np.ndarray, log_u_reference: np.ndarray) -> float:
    """The worst relative loss 1 - u / u_reference over agents with u_reference > 0."""
    with np.errstate(invalid="ignore", over="ignore"):
        loss = np.where(np.isneginf(log_u_reference), 0.0, 1.0 - np.exp(np.minimum(log_u - log_u_reference, 0.0)))
    if np.any(np.isnan(loss)):
        return math.nan
    return float(max(loss.max(initial=0.0), 0.0))


def _relative(log_u, log_u_reference, log_u_equilibrium):
    """(u - u_0) / u* and (u* - u_0) / u* per agent, NaN for an agent whose equilibrium
    utility is zero (nothing to measure in units of u*)."""
    log_u, log_u0, log_star = (np.asarray(v, dtype=np.float64) for v in (log_u, log_u_reference, log_u_equilibrium))
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.exp(log_u - log_star)
        r0 = np.exp(log_u0 - log_star)
    measured = np.isfinite(log_star)
    return np.where(measured, r - r0, np.nan), np.where(measured, 1.0 - r0, np.nan)


def _gains(log_u, log_u_reference, log_u_equilibrium):
    """`_relative`, NaN also for an agent the equilibrium gives no gains (below `NO_GAINS` u*),
    whose share of its own gains is undefined."""
    realised, available = _relative(log_u, log_u_reference, log_u_equilibrium)
    with np.errstate(invalid="ignore"):
        defined = available > NO_GAINS
    return np.where(defined, realised, np.nan), np.where(defined, available, np.nan)


def gains_share(log_u, log_u_reference, log_u_equilibrium) -> np.ndarray:
    """(u - u_0) / (u* - u_0) per agent, from log utilities at the allocation, without trade
    and at the equilibrium; NaN for an agent the equilibrium gives no gains (u* - u_0 below
    `NO_GAINS` u*), whose share is undefined."""
    realised, available = _gains(log_u, log_u_reference, log_u_equilibrium)
    return realised / available


def summarise_gains(log_u, log_u_reference, log_u_equilibrium,
                    incomes=None) -> tuple[float | None, float | None, float | None]:
    """(mean, worst, total) of the gains shares (see `Welfare`), or Nones if none is defined.
    `total` weighs each agent's gains by its equilibrium income b*_i (uniform weights without
    `incomes`): with degree-one utilities, b*_i (u_i - u_0i) / u*_i is the gain's money-metric
    value at the equilibrium prices, the cost there of the utility gained (Samuelson 1974), so
    that gains are summed in one unit and an agent whose equilibrium utility is tiny counts
    as little as its income.

    The total sums over every agent with a positive equilibrium utility, also those the
    equilibrium gives no gains, so that an allocation which takes from one of them to give
    to others counts the loss (an agent with positive income has positive utility at an
    equilibrium, so none with income is left out), and the total is None when all the gains
    together are below `NO_GAINS` of the incomes. With incomes, the total of a feasible
    allocation is then at most 1, up to the equilibrium's tolerance relative to those gains:
    b*_i u_i(x_i) / u*_i is at most p* . x_i (the cost at p* of the utility x_i gives is at
    most the cost of x_i), so the weighted sum of
    u_i(x_i) / u*_i is at most p* . w = sum_i b*_i, the value the equilibrium gives it (the
    first welfare theorem's argument, in money)."""
    realised, available = _gains(log_u, log_u_reference, log_u_equilibrium)
    defined = ~np.isnan(available)
    if not defined.any():
        return None, None, None
    shares = realised[defined] / available[defined]
    realised, available = _relative(log_u, log_u_reference, log_u_equilibrium)
    measured = ~np.isnan(available)
    weight = np.ones(measured.sum()) if incomes is None else np.asarray(incomes, dtype=np.float64)[measured]
    denominator = weight @ available[measured]
    total = float(weight @ realised[measured] / denominator) if denominator > NO_GAINS * weight.sum() else None
    return float(shares.mean()), float(shares.min()), total


def infeasibility(economy: Economy, allocation, tol: float) -> str:
    """Why `allocation` does not exist, in one line; "" when it fits.

    An allocation does not exist when it hands out more of a good than the supply w_j, by
    more than `tol` w_j (the certificate's clearing tolerance). Utilities of goods that do
    not exist measure nothing, so such an allocation has no welfare.

    Parameters
    ----------
    economy : Economy
        The economy whose total supply bounds the allocation.
    allocation : numpy.ndarray or scipy.sparse array
        The n x m bundles, checked (as `gebench.markets.certificate.check_point` returns them).
    tol : float
        The share of each good's supply that may be over-used.

    Returns
    -------
    str
        "" when the allocation fits the supply; else one line naming the most over-used
        good, how much of it is used and how much there is.
    """
    used = np.asarray(allocation.sum(axis=0)).ravel()
    w = economy.total_supply
    with np.errstate(invalid="ignore", divide="ignore"):
        over = np.where(w > 0, (used - w) / np.where(w > 0, w, 1.0), np.where(used > 0, np.inf, 0.0))
    j = int(np.argmax(over))
    if not over[j] > tol:        # NaN uses are refused where the allocation is read
        return ""
    return (f"the allocation uses more than the supply (good {j}: {used[j]:.6g} of {w[j]:.6g}); "
            f"it has no welfare")


def welfare(economy: Economy, allocation, equilibrium=None, prices=None, tol: float = PARETO_TOL,
            supply_tol: float = PARETO_TOL) -> Welfare:
    """Every welfare measure of `allocation`, and its gains shares against an equilibrium.

    An allocation that uses more than the supply (`infeasibility` at `supply_tol`) has none:
    every measure None, and `infeasible` says why.

    Parameters
    ----------
    economy : Economy
        An exchange economy or a Fisher market (without producers).
    allocation : numpy.ndarray or scipy.sparse array
        The n x m bundles, checked (as `gebench.markets.certificate.check_point` returns them).
    equilibrium : numpy.ndarray or scipy.sparse array, optional
        An allocation certified as an equilibrium of this economy; without it the gains
        shares are None.
    prices : array_like, optional
        The equilibrium's prices, whose incomes weigh each agent's gains in `gains_total`
        (`summarise_gains`).
    tol : float, optional
        The relative agreement of the Pareto gap's two bounds (`pareto_gap`).
    supply_tol : float, optional
        The share of a good's supply the allocation may over-use (`infeasibility`).

    Returns
    -------
    Welfare
        The individual rationality, the Pareto gap and its bound, the gains shares (None
        without `equilibrium`), or every measure None with `infeasible` saying why.

    References
    ----------
    .. [1] H. R. Varian, "Equity, envy, and efficiency", Journal of Economic Theory 9(1),
       1974 (the support prices behind the Pareto gap's bound).
    """
    why = infeasibility(economy, allocation, supply_tol)
    if why:
        return Welfare(**dict.fromkeys(MEASURE_FIELDS), infeasible=why)
    measures = _measure_values(economy, allocation, tol)
    gains = (None, None, None)
    if equilibrium is not None:
        incomes = None if prices is None else economy.incomes(np.asarray(prices, dtype=np.float64))
        gains = summarise_gains(log_utility(economy, allocation), reference_log_utility(economy),
                                log_utility(economy, equilibrium), incomes)
    return Welfare(**measures, **dict(zip(GAINS, gains)))


@dataclass(frozen=True)
class AllocationMeasure:
    """A welfare measure of an allocation alone, with no equilibrium: `compute(economy, x, tol)`
    gives its `fields` (numbers, or None where unknown); the ones in `traced` are also kept
    at every checkpoint of a market run's trace. `no_trade` holds the values it has at the
    no-trade bundle where they are known without computing (none is lost against the
    endowment). A new measure is one entry of `ALLOCATION_MEASURES` (and a field of
    `Welfare` for `gebench verify`): the records, traces and outcomes take it from there."""

    fields: tuple[str, ...]
    traced: tuple[str, ...]
    compute: Callable
    no_trade: dict


def _rationality_fields(economy: Economy, allocation, tol: float) -> dict:
    return {"individual_rationality": individual_rationality(economy, allocation)}


def _pareto_fields(economy: Economy, allocation, tol: float) -> dict:
    gap = pareto_gap(economy, allocation, tol)
    return {"pareto_gap": gap.gap, "pareto_bound": gap.bound}


ALLOCATION_MEASURES = (
    AllocationMeasure(("individual_rationality",), ("individual_rationality",), _rationality_fields,
                      {"individual_rationality": 0.0}),
    AllocationMeasure(("pareto_gap", "pareto_bound"), ("pareto_gap",), _pareto_fields, {}),
)
MEASURE_FIELDS = tuple(f for m in ALLOCATION_MEASURES for f in m.fields)
TRACED_FIELDS = tuple(f for m in ALLOCATION_MEASURES for f in m.traced)
NO_TRADE = {k: v for m in ALLOCATION_MEASURES for k, v in m.no_trade.items()}


def allocation_measures(economy: Economy, allocation, supply_tol: float, tol: float = PARETO_TOL) -> dict:
    """Every field of `ALLOCATION_MEASURES` for `allocation`, with `feasible`: all None, and
    `feasible` False, for an allocation that uses more than the supply by over `supply_tol`
    (`infeasibility`); `tol` is the Pareto gap's (`pareto_gap`)."""
    if infeasibility(economy, allocation, supply_tol):
        return {**dict.fromkeys(MEASURE_FIELDS), "feasible": False}
    return {**_measure_values(economy, allocation, tol), "feasible": True}


def _measure_values(economy: Economy, allocation, tol: float) -> dict:
    """Every field of `ALLOCATION_MEASURES` for an allocation that fits the supply."""
    values = {}
    for measure in ALLOCATION_MEASURES:
        values.update(measure.compute(economy, allocation, tol))
    return values


def pareto_gap(economy: Economy, allocation, tol: float = PARETO_TOL) -> ParetoGap:
    """The Pareto gap of `allocation` with its bound (see the module's docstring).

    Leontief economies have a closed form, linear ones a linear program (scipy's HiGHS);
    the others are solved by a damped proportional-response iteration on the prices,
    which stops when the gap and its bound agree to `tol`.

    Parameters
    ----------
    economy : Economy
        An exchange economy or a Fisher market (without producers).
    allocation : numpy.ndarray or scipy.sparse array
        The n x m bundles, feasible.
    tol : float, optional
        The relative agreement at which the gap and its bound stop the iteration.

    Returns
    -------
    ParetoGap
        `gap`, achieved by the reallocation it holds, and `bound`, proved by the prices it
        holds: the true gap lies between the two. Both NaN in a sparse economy of more than
        `MAX_DENSE_ENTRIES` entries or where a utility cannot be computed; both inf when
        nobody has positive utility.

    References
    ----------
    .. [1] E. Eisenberg and D. Gale, "Consensus of subjective probabilities: the
       pari-mutuel method", Annals of Mathematical Statistics 30(1), 1959.
    .. [2] H. R. Varian, "Equity, envy, and efficiency", Journal of Economic Theory 9(1),
       1974.
    .. [3] F. Wu and L. Zhang, "Proportional response dynamics leads to market
       equilibrium", STOC 2007.
    """
    if economy.sparse:
        if economy.n_agents * economy.n_goods > MAX_DENSE_ENTRIES:
            return ParetoGap(math.nan, math.nan, None, None)
        economy = economy.to_dense()
    x = allocation.toarray() if sp.issparse(allocation) else np.asarray(allocation, dtype=np.float64)
    log_c = log_utility(economy, x)
    if np.any(np.isnan(log_c) | np.isposinf(log_c)):
        return ParetoGap(math.nan, math.nan, None, None)
    active = np.isfinite(log_c)
    if not active.any():
        return ParetoGap(math.inf, math.inf, None, None)
    kinds = economy.kinds
    if np.all(kinds[active] == LEONTIEF):
        low, high, p, y = _leontief(economy, log_c, active)
    elif np.all(kinds[active] == LINEAR):
        low, high, p, y = _linear(economy, log_c, active)
    else:
        low, high, p, y = _smooth(economy, log_c, active, tol)
    return ParetoGap(max(low - 1.0, 0.0), max(high - 1.0, 0.0), p, y)


def _leontief(economy, log_c, active):
    """Every agent needs c_i a_i for utility c_i: the bottleneck good decides, exactly."""
    a, w = economy.a, economy.total_supply
    c = np.where(active, np.exp(np.where(active, log_c, 0.0)), 0.0)
    need = c @ a
    ratio = np.where(need > 0, w / np.where(need > 0, need, 1.0), np.inf)
    j = int(np.argmin(ratio))
    s = float(ratio[j])
    p = np.zeros(economy.n_goods)
    p[j] = 1.0 / w[j]
    return s, s, p, s * c[:, None] * a


def _linear(economy, log_c, active):
    """max s subject to sum_i y_ij <= w_j and a_i . y_i >= s c_i, as a linear program in
    z_ij = y_ij / w_j (HiGHS); its supply duals are the prices that bound it."""
    from scipy.optimize import linprog
    a, w = economy.a, economy.total_supply
    n, m = a.shape
    rows, cols = np.nonzero(a * active[:, None])
    k = rows.size
    c = np.exp(log_c[rows])
    value = a[rows, cols] * w[cols] / c                  # utility share of all of good j, per unit of c_i
    supply = sp.csr_array((np.ones(k), (cols, np.arange(k))), shape=(m, k + 1))
    agents = sp.csr_array((np.concatenate([-value, np.ones(int(active.sum()))]),
                           (np.concatenate([rows, np.flatnonzero(active)]),
                            np.concatenate([np.arange(k), np.full(int(active.sum()), k)]))), shape=(n, k + 1))
    agents = agents[np.flatnonzero(active)]
    objective = np.zeros(k + 1)
    objective[k] = -1.0
    res = linprog(objective, A_ub=sp.vstack([supply, agents]).tocsr(),
                  b_ub=np.concatenate([np.ones(m), np.zeros(agents.shape[0])]),
                  bounds=[(0, None)] * (k + 1), method="highs")
    if res.status != 0:
        return math.nan, math.nan, None, None
    z = np.maximum(res.x[:k], 0.0)
    used = np.bincount(cols, weights=z, minlength=m)
    z = z / np.maximum(used, 1.0)[cols]                  # exactly feasible, whatever the solver's tolerance
    y = np.zeros((n, m))
    y[rows, cols] = z * w[cols]
    low = float(np.min((a * y).sum(axis=1)[active] / np.exp(log_c[active])))
    p = np.maximum(-res.ineqlin.marginals[:m], 0.0) / w
    return low, _bound(economy, log_c, active, p), p, y


def _bound(economy, log_c, active, p) -> float:
    """U(p) = p . w / sum_i c_i e_i(p), with e_i(p) = 1 / V_i(p, 1); inf where p is zero."""
    if not p.max() > 0:
        return math.inf
    p = p / p.max()
    log_v = log_indirect_utility(economy, p, np.ones(economy.n_agents))[active]
    cost = np.exp(log_c[active] - log_v).sum()
    return float(p @ economy.total_supply / cost) if cost > 0 else math.inf


def _smooth(economy, log_c, active, tol):
    p, p_low, low, high, iterations = _price_iteration(economy.kinds, np.ascontiguousarray(economy.a), economy.log_a,
                                                economy.rho, log_c, active, economy.total_supply, tol,
                                                PARETO_MAX_ITER)
    budgets, demand = np.empty(economy.n_agents), np.empty(economy.a.shape)
    _least_cost(economy.kinds, economy.a, economy.log_a, economy.rho, log_c, active, p_low, budgets, demand)
    total = demand.sum(axis=0)
    scale = np.min(np.where(total > 0, economy.total_supply / np.where(total > 0, total, 1.0), np.inf))
    return low, high, p, demand * scale


@njit(cache=True)
def _least_cost(kinds, a, log_a, rho, log_c, active, p, budgets, demand):
    """Each active agent's cheapest bundle at p with utility c_i (its budget c_i e_i(p)),
    into the rows of `demand`; inactive agents buy nothing."""
    log_p = np.log(p)
    for i in range(a.shape[0]):
        if not active[i]:
            budgets[i] = 0.0
            demand[i, :] = 0.0
            continue
        budgets[i] = math.exp(log_c[i] - log_indirect_row(kinds[i], a[i], rho[i], p, 1.0))
        demand_row(kinds[i], a[i], log_a[i], rho[i], p, log_p, budgets[i], demand[i])


@njit(cache=True)
def _price_iteration(kinds, a, log_a, rho, log_c, active, w, tol, max_iter):
    """The damped proportional-response iteration on q_j = p_j w_j: each good's new share is
    its share of the least-cost spending, q <- sqrt(q * spend / total). Returns the prices with
    the best upper bound and those with the best lower bound, the two bounds, and the steps."""
    n, m = a.shape
    q = np.full(m, 1.0 / m)
    p = q / w
    budgets, demand = np.empty(n), np.empty((n, m))
    best_p = p.copy()
    low_p = p.copy()
    low, high = 0.0, np.inf
    for it in range(max_iter):
        _least_cost(kinds, a, log_a, rho, log_c, active, p, budgets, demand)
        total = demand.sum(axis=0)
        spend = 0.0
        bottleneck = np.inf
        for j in range(m):
            spend += p[j] * total[j]
            if total[j] > 0.0 and w[j] / total[j] < bottleneck:
                bottleneck = w[j] / total[j]
        upper = (p @ w) / spend
        if upper < high:
            high = upper
            best_p[:] = p
        if bottleneck > low:
            low = bottleneck
            low_p[:] = p
        if high - low <= tol * high:
            return best_p, low_p, low, high, it + 1
        norm = 0.0
        for j in range(m):
            q[j] = math.sqrt(q[j] * max(p[j] * total[j] / spend, 1e-300))
            norm += q[j]
        for j in range(m):
            q[j] /= norm
            p[j] = q[j] / w[j]
    return best_p, low_p, low, high, max_iter
