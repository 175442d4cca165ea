"""The equilibrium certificate (docs/format.md, "The certificate"): the one verifier.

`certify` sees only (economy, prices, allocation and, for an economy with producers,
their levels), never a solver's own bookkeeping, and is the only place in gebench that
decides whether an answer is an equilibrium.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .economy import CES, COBB_DOUGLAS, LINEAR, Economy, first_bad_value
from .errors import InputError, count
from .production import plan_of, relative_profits
from .utilities import log_indirect_utility, log_utility

MEASURES = ("clearing", "waste", "budget", "optimality")
PRODUCTION_MEASURES = ("profit", "losses")
RESOLUTION = "resolution"


@dataclass(frozen=True)
class Certificate:
    """The four equilibrium measures, and for an economy with producers the two of
    production (`production` True), with the point's `resolution`: a point is an
    epsilon-equilibrium when every measure is <= epsilon and its resolution is >= epsilon.

    `resolution` is the smallest share of all goods' value at which treating every good
    worth less than that share as free leaves some agent's demand (or a technology's
    profit) unbounded; `boundary` says which agent and good set it. Below the tolerance a
    good's whole supply could be thrown away within the waste measure, so the certificate
    cannot tell its price from 0: a point whose resolution is below epsilon is judged as
    the quasi-equilibrium it approximates (docs/format.md, "Resolution")."""

    clearing: float
    waste: float
    budget: float
    optimality: float
    profit: float = 0.0
    losses: float = 0.0
    production: bool = False
    resolution: float = 1.0
    boundary: str = ""

    @property
    def values(self) -> tuple[float, ...]:
        """The measures that apply, in the order of `MEASURES` (then `PRODUCTION_MEASURES`)."""
        values = (self.clearing, self.waste, self.budget, self.optimality)
        return values + (self.profit, self.losses) if self.production else values

    @property
    def worst(self) -> float:
        """The largest measure; NaN if any measure is NaN (Python's `max` would drop it)."""
        values = self.values
        return math.nan if any(math.isnan(v) for v in values) else max(values)

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.values)

    def within(self, tol: float) -> bool:
        """Every measure finite and <= tol, and the resolution >= tol; `tol` must be a finite
        number > 0."""
        check_tolerance(tol)
        return self.finite and self.worst <= tol and self.resolution >= tol

    def unresolved(self, tol: float) -> bool:
        """True when the measures pass at `tol` but the resolution does not: the point cannot
        be told from a quasi-equilibrium at this tolerance."""
        return self.finite and self.worst <= tol and not self.resolution >= tol

    def refusal(self, tol: float) -> str:
        """Why the point is not an equilibrium at `tol`, in one line ("" when it is one)."""
        if self.within(tol):
            return ""
        if not self.finite:
            measures = ", ".join(f"{k} {v}" for k, v in self.to_dict().items() if not math.isfinite(v))
            return f"the certificate cannot judge this point ({measures})"
        if self.unresolved(tol):
            return (f"resolution {self.resolution:.3g} < tol {tol:g}: {self.boundary}, so at this tolerance the "
                    f"point is a quasi-equilibrium (an equilibrium priced this finely needs a tolerance "
                    f"below {self.resolution:.3g})")
        return f"worst measure {self.worst:.3g} > tol {tol:g}"

    def to_dict(self) -> dict:
        """The measures by name, then `resolution`, as a result or record stores them."""
        names = MEASURES + PRODUCTION_MEASURES if self.production else MEASURES
        return {**dict(zip(names, self.values)), RESOLUTION: self.resolution}


def check_tolerance(tol, where: str = "tolerance") -> float:
    """A tolerance, checked: a finite number > 0 (NaN or infinity would let every point pass).

    Time limits have `check_seconds`.

    Parameters
    ----------
    tol : int or float
        The tolerance as given (a bool is not a number here).
    where : str, optional
        What the message names: the option or field the tolerance came from.

    Returns
    -------
    float
        `tol` as a float.

    Raises
    ------
    InputError
        If `tol` is not a number, or not finite and > 0: "<where>: must be a finite
        number > 0, got <tol>".
    """
    return _positive(tol, f"{where}: must be a finite number > 0")


def check_seconds(seconds, where: str = "time limit") -> float:
    """A time limit, checked: a finite number of seconds > 0 (an infinite one would let a
    run hang the sweep).

    Parameters
    ----------
    seconds : int or float
        The limit as given (a bool is not a number here).
    where : str, optional
        What the message names: the option or field the limit came from.

    Returns
    -------
    float
        `seconds` as a float.

    Raises
    ------
    InputError
        If `seconds` is not a number, or not finite and > 0: "<where>: must be a finite
        number of seconds > 0, got <seconds>".
    """
    return _positive(seconds, f"{where}: must be a finite number of seconds > 0")


def _positive(value, rule: str) -> float:
    """`value` as a float when it is a finite number > 0 (never a bool), else `InputError`
    saying `rule` and what was given."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(f"{rule}, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{rule}, got {value}")
    return float(value)


def check_point(economy: Economy, prices, allocation):
    """Validate and convert a candidate answer.

    Parameters
    ----------
    economy : Economy
        The economy the point is an answer for: it fixes the shapes.
    prices : array_like
        One finite price >= 0 per good, not all 0.
    allocation : array_like or scipy.sparse array
        The n x m bundles, finite and >= 0; a dense allocation is accepted for a sparse
        economy too.

    Returns
    -------
    prices : numpy.ndarray
        The prices as a float64 array.
    allocation : numpy.ndarray or scipy.sparse.csr_array
        The allocation as a float64 array, or as a canonical CSR matrix when the economy is
        sparse (stored sparse even when given dense).

    Raises
    ------
    InputError
        If either is not numeric, has the wrong shape, or holds a value out of range; the
        message names the field (``prices[j]``, ``allocation[i][j]``).
    """
    n, m = economy.n_agents, economy.n_goods
    try:
        p = np.asarray(prices, dtype=np.float64)
        if economy.sparse:
            x = sp.csr_array(allocation, dtype=np.float64, copy=True)
            x.sum_duplicates()
        else:
            x = allocation.toarray() if sp.issparse(allocation) else allocation
            x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"prices/allocation: not numeric: {exc}") from None
    if p.shape != (m,):
        raise InputError(f"prices: expected {count(m, 'number')}, got shape {p.shape}")
    if x.shape != (n, m):
        raise InputError(f"allocation: expected {count(n, 'row')} of {count(m, 'number')}, got shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(p) | (p < 0))
    if bad.size:
        raise InputError(f"prices[{bad[0]}]: must be a finite number >= 0, got {p[bad[0]]}")
    if not p.max() > 0:
        raise InputError("prices: must not be all zero")
    if economy.sparse:
        bad = first_bad_value(x)
        if bad:
            i, j, value = bad
            raise InputError(f"allocation[{i}][{j}]: must be a finite number >= 0, got {value}")
        return p, x
    bad_rows, bad_cols = np.nonzero(~np.isfinite(x) | (x < 0))
    if bad_rows.size:
        i, j = bad_rows[0], bad_cols[0]
        raise InputError(f"allocation[{i}][{j}]: must be a finite number >= 0, got {x[i, j]}")
    return p, x


def check_levels(economy: Economy, levels) -> np.ndarray:
    """The producers' levels as a float64 array (one finite number >= 0 per producer), or
    `InputError` naming the field; an economy without producers takes none."""
    k = len(economy.producers)
    if levels is None:
        if k:
            raise InputError(f"levels: the economy has {count(k, 'producer')}: give one level for each")
        return np.zeros(0)
    try:
        y = np.asarray(levels, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"levels: not numeric: {exc}") from None
    if y.shape != (k,):
        raise InputError(f"levels: expected {count(k, 'number')} (one per producer), got shape {y.shape}")
    bad = np.flatnonzero(~np.isfinite(y) | (y < 0))
    if bad.size:
        raise InputError(f"levels[{bad[0]}]: must be a finite number >= 0, got {y[bad[0]]}")
    return y


def certify(economy: Economy, prices, allocation, levels=None) -> Certificate:
    """The certificate of (prices, allocation) and, in an economy with producers, their
    `levels`: the one verifier of an equilibrium in gebench.

    `optimality` is reported as max(0, worst shortfall): an agent that gets more
    than it can afford shows up in `budget`, not as a negative shortfall. An agent
    whose utility is unbounded at p has shortfall 1 whatever its income: an agent with
    no income that wants a free good demands without bound, so a quasi-equilibrium
    (Scarf's economy at a vertex of the simplex, Gale's at p = (1, 0)) is not an
    equilibrium. A measure that cannot be computed honestly (a utility or a bound that
    overflows) is NaN, and a NaN is never within any tolerance.

    With producers, what is produced and used counts in clearing and waste (relative to
    what is available: endowments plus gross outputs), `profit` is the largest profit of
    any technology per unit of the value of its output (at most 0 at an equilibrium, with
    constant returns), and `losses` the value lost by the technologies run at a positive
    level, as a share of the value available (0 at an equilibrium: a technology runs only
    where it breaks even).

    Parameters
    ----------
    economy : Economy
        The economy, exchange or Fisher, with or without producers.
    prices : array_like
        A price per good, >= 0; it need not be normalised (it is scaled to sum 1 first, so
        that no income underflows or overflows).
    allocation : array_like or scipy.sparse array
        Each agent's bundle, n x m (see `check_point`).
    levels : array_like, optional
        The producers' levels, one per producer; only, and then required, for an economy
        with producers (see `check_levels`).

    Returns
    -------
    Certificate
        The measures (clearing, waste, budget, optimality, and with producers profit and
        losses) and the point's resolution; `Certificate.within(tol)` says whether it is an
        equilibrium at `tol`, and `Certificate.refusal(tol)` why not.

    Raises
    ------
    InputError
        If the prices, the allocation or the levels are malformed for this economy (the
        message names the field).

    References
    ----------
    .. [1] H. Scarf, "Some examples of global instability of the competitive
       equilibrium", International Economic Review 1(3), 1960 (its economy's vertices are
       the quasi-equilibria refused here).
    .. [2] D. Gale, "The linear exchange model", Journal of Mathematical
       Economics 3(2), 1976 (the boundary point at p = (1, 0)).
    """
    p, x = check_point(economy, prices, allocation)
    y = check_levels(economy, levels)
    p = p / p.max()           # scale first: prices of 1e-300 would give incomes that underflow to 0,
    p = p / p.sum()           # and prices of 1e308 sums that overflow
    w = economy.total_supply
    made, used = 0.0, 0.0
    if economy.production:
        out, inputs, revenue, cost = economy.technologies.unit_plans(p)
        made, used = plan_of(out, inputs, y)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        available = w + made
        demand = x.sum(axis=0) + used
        z = np.where(available > 0, (demand - available) / np.where(available > 0, available, 1.0),
                     np.where(demand > 0, np.inf, 0.0))
        value = p @ available
        waste = float(p @ (np.maximum(-z, 0.0) * available) / value)
        b = economy.incomes(p)
        spend = x @ p
        scale = np.where(b > 0, b, b.mean())
        budget = _worst((spend - b) / scale)

    log_u = log_utility(economy, x)
    log_v = log_indirect_utility(economy, p, b)
    with np.errstate(invalid="ignore", over="ignore"):
        ratio = np.exp(np.minimum(log_u - log_v, 0.0))
    shortfall = np.where(b > 0, 1.0 - ratio, 0.0)          # no income and bounded: the optimum is 0
    shortfall = np.where(np.isposinf(log_v), 1.0, shortfall)
    # a finite bundle cannot have infinite utility, nor a positive income a zero optimum:
    # either is an overflow, and the measure is then unknown, never 0
    unknown = np.isposinf(log_u) | ((b > 0) & np.isneginf(log_v)) | np.isnan(log_u) | np.isnan(log_v)
    shortfall = np.where(unknown, np.nan, shortfall)
    optimality = _worst(shortfall)
    shares = value_shares(p, available, value)
    resolution, boundary = _resolution(economy, shares, b)
    if not economy.production:
        return Certificate(_worst(z), waste, budget, optimality, resolution=resolution, boundary=boundary)
    profit, losses = _production_measures(revenue, cost, y, value)
    made_at, made_where = _producers_resolution(economy.technologies, shares)
    if made_at < resolution:
        resolution, boundary = made_at, made_where
    return Certificate(_worst(z), waste, budget, optimality, profit, losses, production=True,
                       resolution=resolution, boundary=boundary)


def value_shares(p: np.ndarray, available: np.ndarray, value: float) -> np.ndarray:
    """Each good's share p_j w_j / p . w of the value of all that is available.

    A good of which nothing is available has no value to lose: its price is not judged by
    value (share +inf) unless it is 0 (share 0).

    Parameters
    ----------
    p : numpy.ndarray
        Prices, one per good, >= 0.
    available : numpy.ndarray
        What is available of each good, w_j (endowments plus what producers make).
    value : float
        The value of all that is available, p . w.

    Returns
    -------
    numpy.ndarray
        The share of each good: in [0, 1] where something is available, +inf for a good
        with a positive price of which nothing is, 0 for a free one; NaN everywhere when
        `value` is not > 0.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        shares = p * available / value if value > 0 else np.full_like(p, np.nan)
        return np.where(available > 0, shares, np.where(p > 0, np.inf, 0.0))


def _resolution(economy: Economy, shares: np.ndarray, b: np.ndarray) -> tuple[float, str]:
    """(resolution, which agent and good set it) over the consumers.

    With goods worth less than s free and incomes as they are, an agent's demand is
    unbounded as soon as one good it wants is free if its goods are substitutes (linear, CES
    with rho > 0, Cobb-Douglas with an income), and only when every good it wants is free if
    they are complements (Leontief, CES with rho < 0, Cobb-Douglas without income, whose
    optimum is then 0): its threshold is the least, or the largest, share among the goods
    it wants (a_ij > 0)."""
    a = economy.a
    if economy.sparse:
        wanted = a.data > 0
        values = shares[a.indices]
        starts = a.indptr[:-1]
        low = np.minimum.reduceat(np.where(wanted, values, np.inf), starts)
        high = np.maximum.reduceat(np.where(wanted, values, -np.inf), starts)
    else:
        wanted = a > 0
        low = np.where(wanted, shares, np.inf).min(axis=1)
        high = np.where(wanted, shares, -np.inf).max(axis=1)
    kinds, rho = economy.kinds, economy.rho
    substitutes = (kinds == LINEAR) | ((kinds == CES) & (rho > 0)) | ((kinds == COBB_DOUGLAS) & (b > 0))
    threshold = np.where(substitutes, low, high)
    if np.isnan(threshold).any():
        return math.nan, "a good's share of the value cannot be computed"
    i = int(np.argmin(threshold))
    if not threshold[i] < 1.0:
        return 1.0, ""
    row = a[[i]].toarray()[0] if economy.sparse else a[i]
    wanted_shares = np.where(row > 0, shares, np.nan)
    j = int(np.nanargmin(wanted_shares)) if substitutes[i] else int(np.nanargmax(wanted_shares))
    what = "a good it wants" if substitutes[i] else "every good it wants"
    return float(threshold[i]), (f"agent {i} would demand without bound were {what} free, and good {j} is "
                                 f"worth {threshold[i]:.3g} of all goods")


def _producers_resolution(technologies, shares: np.ndarray) -> tuple[float, str]:
    """(resolution, which producer and good set it) over the producers: a technology whose
    unit cost is 0 once the goods worth less than s are free (one free input for Cobb-Douglas
    and CES with rho > 0, every input for the others), while an output is still priced,
    makes an unbounded profit."""
    inputs = np.where(technologies.activity[:, None], technologies.net < 0, technologies.used)
    outputs = technologies.outputs > 0
    low = np.where(inputs, shares, np.inf).min(axis=1)
    high = np.maximum(np.where(inputs, shares, -np.inf).max(axis=1), 0.0)
    substitutes = technologies.cobb_douglas | (technologies.ces & (technologies.rho > 0))
    free_at = np.where(substitutes, low, high)
    priced_until = np.where(outputs, shares, -np.inf).max(axis=1)
    threshold = np.where(free_at < priced_until, free_at, np.inf)
    if not threshold.size or not threshold.min() < 1.0:
        return 1.0, ""
    k = int(np.argmin(threshold))
    return float(threshold[k]), (f"producer {k} would make an unbounded profit were its inputs worth less than "
                                 f"{threshold[k]:.3g} of all goods free")


def _production_measures(revenue: np.ndarray, cost: np.ndarray, y: np.ndarray, value: float) -> tuple[float, float]:
    """(profit, losses) of the certificate from the producers' unit revenues and costs at the
    normalised prices, and their levels y."""
    run = y > 0
    lost = float(y[run] @ np.maximum(cost[run] - revenue[run], 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        losses = lost / value if value > 0 else (0.0 if lost == 0 else math.inf)
    return _worst(relative_profits(revenue, cost)), float(losses)


def _worst(values: np.ndarray) -> float:
    """max(0, the largest value), NaN if any value is NaN."""
    top = float(np.max(values)) if values.size else 0.0
    return top if math.isnan(top) else max(top, 0.0)
