"""Bundle exchange: k-lateral exchange in which a group of agents reallocates a bundle of goods at once.

R. Axtell, "The complexity of exchange", Economic Journal 115 (2005) F193-F210, describes
markets as concurrent exchange within transient coalitions of agents: each agent knows only
its own preferences and holdings, a group of k agents meets, and it trades only if the trade
leaves none of them worse off and some better off (k-lateral exchange; bilateral exchange,
k = 2, is the case of `gebench.solvers.traders.bilateral`). Axtell reports that such
processes end at Pareto-optimal, non-Walrasian allocations, with a changed distribution of
wealth, after a number of interactions that grows polynomially in agents and goods.

Pairs are not enough when goods are complements held apart. Feldman ("Bilateral trading
processes, pairwise optimality, and Pareto optimality", Review of Economic Studies 40, 1973)
shows that an allocation no pair can improve need not be Pareto optimal unless some good is
held by everyone; Goldman and Starr ("Pairwise, t-wise, and Pareto optimalities",
Econometrica 50, 1982) show that t-wise optimality grows into Pareto optimality as the
groups grow, and Polterovich ("A model of resource redistribution", Ekonomika i
matematicheskie metody 6(4), 1970) that improving trades among k agents reach an optimum
with concave utilities when k exceeds the number of goods. In a Leontief economy built from a
d x d game (Codenotti et al., SODA 2006) every agent starts at utility 0 and needs all d goods
that the other player's agents hold: no group of fewer than d + 1 agents can raise anyone's
utility, so bilateral exchange never trades there, and groups of d + 1 or more can.

Each round the agents are matched at random into groups of `group` (the last one smaller,
dropped if it is a single agent). A group meets on a bundle of goods, all the others held
fixed: every good one of its members holds (``goods = 0``), or ``goods`` goods each drawn as
one that a random member holds (with ``group = goods = 2`` these are bilateral exchange's
meetings). On the bundle each member's utility restricted to it is homogeneous of degree one
and the full utility rises with it (the goods held fixed enter as a constant, a Cobb-Douglas
factor or a Leontief cap), so a reallocation of the bundle that lowers no member's restricted
utility leaves nobody worse off.

How the group chooses its trade (this implementation's design): the reallocation of its
pooled bundle that maximises the smallest gain, in each member's own scale, that it can give
to every member able to gain: the gain t s_i in utility with s_i the member's current
restricted utility c_i (a relative gain; the Pareto gap's measure, `gebench.markets.welfare`,
on the group's own economy, whose dual prices support the result: Varian, "Equity, envy and
efficiency", Journal of Economic Theory 9, 1974), or, for a member at utility 0, s_i its
utility of the whole pooled bundle, so that every member is raised towards a share of one
reference bundle (Pazner and Schmeidler, "Egalitarian equivalent allocations", Quarterly
Journal of Economics 92, 1978). This raises zero utilities, which relative gains cannot. A
member that cannot gain by any reallocation of the bundle (its goods outside the bundle cap
it) keeps its holdings of the bundle; a member that wants nothing in the bundle, or is at 0 and
cannot gain, needs nothing of it. The group solves:

- all members Leontief: the closed form t = min_j (W_j - sum_i c_i a_ij) / sum_i s_i a_ij
  over the bundle's goods (W the pooled holdings), each gaining member receiving
  (c_i + t s_i) a_i; members wanting a bottleneck good with t = 0 keep their holdings and the
  others are filled again (progressive filling, as max-min fair allocation does);
- all members linear: a linear program (scipy's HiGHS), max t + delta sum_i gain_i / s_i
  (delta = 1e-3: the maximin first, then the others' gains where one member is blocked);
- otherwise (Cobb-Douglas, CES, mixed): the damped proportional-response iteration on the
  prices of the group's bundle (Wu and Zhang, STOC 2007; the iteration of the Pareto gap)
  for the largest lam such that every member can have lam times its target utility, with a
  bisection on t when members at 0 are present.

What the group's totals do not use goes back to its members in proportion to what they
brought. Goods are conserved exactly, no holding is negative, and the trade is made only
if the exact utilities (`gebench.markets.utilities.log_utility_row`) show that nobody lost and
someone gained. The process stops `at_rest` after `quiet` rounds in which no trade raised
anyone's log utility by more than the tolerance. Revealed prices are the geometric means of
the groups' supporting prices (each group's normalised to log mean 0); the final prices are
`gebench.solvers.kernels.supporting.settled`.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit
from scipy.optimize import linprog

from gebench.markets import LEONTIEF, LINEAR, Economy
from gebench.markets.generators import build, generate
from gebench.markets.utilities import demand_row, log_indirect_row, log_utility_row

from ..base import Solver, economy_numbers
from ..kernels.params import AT_LEAST_ONE, Range
from ..kernels.supporting import settled
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny

_INF = math.inf
_PASSIVE, _GAINS, _KEEPS = 0, 1, 2     # a member's part in its group's trade
_PR_STEPS = 400            # proportional-response steps per target at most
_BISECTIONS = 30           # steps of the bisection on t when members at utility 0 take part
_DELTA = 1e-3              # weight of the sum of gains beside the maximin in the linear program
_MIN_GAIN = 1e-12          # a trade must raise someone's log utility by more than this


@njit(cache=True)
def prepare(kinds, a, rho, x, members, bundle, aB, xB, W, c, s, role, before):
    """Read a group's members on its bundle: their coefficients `aB` and holdings `xB`
    there, the pooled holdings `W`, each member's log utility `before`, its restricted
    utility c_i, its scale s_i and its `role` (passive, gains, keeps).
    Returns the number of members that can gain."""
    k = members.shape[0]
    mb = bundle.shape[0]
    for j in range(mb):
        W[j] = 0.0
    for g in range(k):
        i = members[g]
        for j in range(mb):
            aB[g, j] = a[i, bundle[j]]
            xB[g, j] = x[i, bundle[j]]
            W[j] += xB[g, j]
    gainers = 0
    row = np.empty(x.shape[1])
    for g in range(k):
        i = members[g]
        before[g] = log_utility_row(kinds[i], a[i], rho[i], x[i])
        wants = False
        for j in range(mb):
            if aB[g, j] > 0.0:
                wants = True
        c[g] = 0.0
        s[g] = 0.0
        role[g] = _PASSIVE
        if not wants:
            continue
        log_c = log_utility_row(kinds[i], aB[g], rho[i], xB[g])
        c[g] = math.exp(log_c) if log_c > -_INF else 0.0
        # can the member gain at all with the whole bundle, its other goods as they are?
        for j in range(x.shape[1]):
            row[j] = x[i, j]
        for j in range(mb):
            row[bundle[j]] = W[j]
        best = log_utility_row(kinds[i], a[i], rho[i], row)
        if best > before[g] and best - before[g] > _MIN_GAIN:
            role[g] = _GAINS
            gainers += 1
            if c[g] > 0.0:
                s[g] = c[g]
            else:
                s[g] = math.exp(log_utility_row(kinds[i], aB[g], rho[i], W))
            if not s[g] > 0.0:
                role[g] = _KEEPS if c[g] > 0.0 else _PASSIVE
                gainers -= 1
        elif c[g] > 0.0:
            role[g] = _KEEPS
    return gainers


@njit(cache=True)
def _pool(xB, role, W, pool):
    """The bundle the members who do not keep their holdings put together."""
    for j in range(W.shape[0]):
        pool[j] = W[j]
        for g in range(xB.shape[0]):
            if role[g] == _KEEPS:
                pool[j] -= xB[g, j]
        if pool[j] < 0.0:
            pool[j] = 0.0


@njit(cache=True)
def leontief_trade(aB, xB, W, c, s, role, y):
    """The Leontief group's reallocation into y by the closed form with progressive filling
    (see the module docstring); returns t, 0 when no member can gain."""
    k, mb = aB.shape
    pool = np.empty(mb)
    for _ in range(k + 1):
        _pool(xB, role, W, pool)
        t = _INF
        block = -1
        any_gainer = False
        for j in range(mb):
            need = 0.0
            rate = 0.0
            for g in range(k):
                if role[g] == _GAINS:
                    any_gainer = True
                    need += c[g] * aB[g, j]
                    rate += s[g] * aB[g, j]
            if rate > 0.0:
                v = (pool[j] - need) / rate
                if v < t:
                    t = v
                    block = j
        if not any_gainer or block < 0:
            return 0.0
        if t > 1e-12:
            for g in range(k):
                for j in range(mb):
                    if role[g] == _KEEPS:
                        y[g, j] = xB[g, j]
                    elif role[g] == _GAINS:
                        y[g, j] = (c[g] + t * s[g]) * aB[g, j]
                    else:
                        y[g, j] = 0.0
            return t
        for g in range(k):          # the bottleneck blocks its gainers: they keep what they hold
            if role[g] == _GAINS and aB[g, block] > 0.0:
                role[g] = _KEEPS if c[g] > 0.0 else _PASSIVE
    return 0.0


@njit(cache=True)
def _least_cost(kinds, aB, log_aB, rho, v, p, log_p, demand):
    """Each member's cheapest bundle at p giving it restricted utility v_i (none where v_i = 0)."""
    k = aB.shape[0]
    for g in range(k):
        if v[g] <= 0.0:
            for j in range(aB.shape[1]):
                demand[g, j] = 0.0
            continue
        budget = math.exp(math.log(v[g]) - log_indirect_row(kinds[g], aB[g], rho[g], p, 1.0))
        demand_row(kinds[g], aB[g], log_aB[g], rho[g], p, log_p, budget, demand[g])


@njit(cache=True)
def largest_share(kinds, aB, log_aB, rho, v, pool, floor, y, prices):
    """max lam such that the pool can give every member lam v_i of its restricted utility,
    by the damped proportional-response iteration on the bundle's prices; y receives the
    allocation that achieves the lower bound returned, `prices` the prices that bound it.
    Returns (lower, upper); it stops early once the upper bound is below 1 + floor."""
    k, mb = aB.shape
    q = np.full(mb, 1.0 / mb)
    p = q / pool
    log_p = np.log(p)
    demand = np.empty((k, mb))
    total = np.empty(mb)
    low, high = 0.0, _INF
    for _ in range(_PR_STEPS):
        for j in range(mb):
            log_p[j] = math.log(p[j])
        _least_cost(kinds, aB, log_aB, rho, v, p, log_p, demand)
        spend = 0.0
        value = 0.0
        bottleneck = _INF
        for j in range(mb):
            total[j] = 0.0
            for g in range(k):
                total[j] += demand[g, j]
            spend += p[j] * total[j]
            value += p[j] * pool[j]
            if total[j] > 0.0 and pool[j] / total[j] < bottleneck:
                bottleneck = pool[j] / total[j]
        if not spend > 0.0:
            return 0.0, 0.0
        upper = value / spend
        if upper < high:
            high = upper
        if bottleneck > low:
            low = bottleneck
            for g in range(k):
                for j in range(mb):
                    y[g, j] = bottleneck * demand[g, j]
            for j in range(mb):
                prices[j] = p[j]
        if high <= 1.0 + floor or high - low <= 1e-9 * high or (low > 1.0 and high - low <= 0.05 * (high - 1.0)):
            break
        norm = 0.0
        for j in range(mb):
            q[j] = math.sqrt(q[j] * max(p[j] * total[j] / spend, 1e-300))
            norm += q[j]
        for j in range(mb):
            q[j] /= norm
            p[j] = q[j] / pool[j]
    return low, high


@njit(cache=True)
def smooth_trade(kinds, aB, rho, xB, W, c, s, role, floor, y, prices):
    """The group's reallocation into y when some member is not Leontief or linear: the
    largest t with every gaining member at c_i + t s_i, by `largest_share`; returns t."""
    k, mb = aB.shape
    pool = np.empty(mb)
    _pool(xB, role, W, pool)
    for j in range(mb):
        if not pool[j] > 0.0:
            return 0.0
    log_aB = np.full((k, mb), -_INF)
    for g in range(k):
        for j in range(mb):
            if aB[g, j] > 0.0:
                log_aB[g, j] = math.log(aB[g, j])
    v = np.zeros(k)
    zero = False
    for g in range(k):
        if role[g] == _GAINS:
            v[g] = c[g]
            if c[g] <= 0.0:
                zero = True
    work = np.empty((k, mb))
    t = 0.0
    if not zero:
        low, _ = largest_share(kinds, aB, log_aB, rho, v, pool, floor, work, prices)
        t = low - 1.0
        for g in range(k):
            for j in range(mb):
                y[g, j] = work[g, j]
    else:
        # members at 0 enter with targets t s_i; those above 0 with (1 + t) c_i: bisect on t
        for g in range(k):
            v[g] = s[g] if role[g] == _GAINS else 0.0
        top, _ = largest_share(kinds, aB, log_aB, rho, v, pool, floor, work, prices)
        bottom = 0.0
        for _b in range(_BISECTIONS):
            mid = 0.5 * (bottom + top)
            for g in range(k):
                v[g] = (c[g] + mid * s[g]) if role[g] == _GAINS else 0.0
            low, _ = largest_share(kinds, aB, log_aB, rho, v, pool, floor, work, prices)
            if low >= 1.0:
                bottom = mid
                t = mid
                for g in range(k):
                    for j in range(mb):
                        y[g, j] = work[g, j]
            else:
                top = mid
            if top - bottom <= 1e-6 * top:
                break
    if not t > 0.0:
        return 0.0
    for g in range(k):
        if role[g] == _KEEPS:
            for j in range(mb):
                y[g, j] = xB[g, j]
    return t


@njit(cache=True)
def commit(kinds, a, rho, x, members, bundle, xB, W, y, before, after):
    """Make the group's trade y if it is exact and voluntary: what y leaves of the pooled
    bundle goes back in proportion to what each member brought, each good's total is
    conserved, holdings stay >= 0, nobody's utility falls and someone's rises by more than
    `_MIN_GAIN`; otherwise restore the holdings. Returns the largest log-utility gain (inf
    for a member raised from 0), 0 where no trade was made."""
    k, mb = y.shape
    for j in range(mb):
        used = 0.0
        for g in range(k):
            if not y[g, j] > 0.0:       # also a NaN from a failed solve
                y[g, j] = 0.0
            used += y[g, j]
        if not W[j] > 0.0:
            for g in range(k):
                y[g, j] = 0.0
            continue
        left = W[j] - used
        if left > 0.0:
            for g in range(k):
                y[g, j] += left * xB[g, j] / W[j]
        elif left < 0.0:
            scale = W[j] / used
            for g in range(k):
                y[g, j] *= scale
        others = 0.0
        for g in range(k - 1):
            others += y[g, j]
        last = W[j] - others
        if last < 0.0:
            if last < -1e-12 * W[j]:
                return 0.0
            last = 0.0
        y[k - 1, j] = last
    for g in range(k):
        i = members[g]
        for j in range(mb):
            x[i, bundle[j]] = y[g, j]
    gain = 0.0
    ok = True
    for g in range(k):
        i = members[g]
        after[g] = log_utility_row(kinds[i], a[i], rho[i], x[i])
        if not after[g] >= before[g]:
            ok = False
            break
        if after[g] > before[g]:
            step = _INF if before[g] == -_INF else after[g] - before[g]
            if step > gain:
                gain = step
    if ok and gain > _MIN_GAIN:
        return gain
    for g in range(k):
        i = members[g]
        for j in range(mb):
            x[i, bundle[j]] = xB[g, j]
    return 0.0


def linear_trade(aB, c, s, role, pool, y, seconds: float = math.inf) -> tuple[float, np.ndarray | None]:
    """The linear group's reallocation into y: max t + delta sum_i gain_i / (s_i K) over the
    K gaining members, each at a_i . y_i >= c_i + t s_i, with the pool shared out exactly
    (HiGHS, given `seconds` at most: a program cut short makes no trade). Returns t (0
    without a trade) and the supply duals, the group's prices."""
    k, mb = aB.shape
    gain = np.flatnonzero(role == _GAINS)
    share = np.flatnonzero(role != _KEEPS)
    if gain.size == 0 or share.size == 0:
        return 0.0, None
    nv = share.size * mb + 1
    cost = np.zeros(nv)
    cost[-1] = -1.0
    upper = np.zeros((gain.size, nv))
    slot = {int(g): r for r, g in enumerate(share)}
    for r, g in enumerate(gain):
        cols = slot[int(g)] * mb + np.arange(mb)
        upper[r, cols] = -aB[g]
        upper[r, -1] = s[g]
        cost[cols] -= _DELTA * aB[g] / (s[g] * gain.size)
    equal = np.zeros((mb, nv))
    for r in range(share.size):
        equal[np.arange(mb), r * mb + np.arange(mb)] = 1.0
    options = {"time_limit": max(seconds, 1e-3)} if math.isfinite(seconds) else {}
    res = linprog(cost, A_ub=upper, b_ub=-c[gain], A_eq=equal, b_eq=pool,
                  bounds=[(0, None)] * nv, method="highs", options=options)
    if res.status != 0 or not res.x[-1] > 1e-12:
        return 0.0, None
    y[:] = 0.0
    for r, g in enumerate(share):
        y[g] = np.maximum(res.x[r * mb:(r + 1) * mb], 0.0)
    return float(res.x[-1]), -np.asarray(res.eqlin.marginals)


class BundleExchange(Solver):
    """k-lateral exchange of bundles of goods in random groups of agents (Axtell 2005).

    Parameters: `group` (k, the agents of a meeting; the whole economy when it is 0 or at
    least the number of agents), `goods` (the bundle's size; 0: every good a member holds),
    `quiet` (rounds without a gain above tol before the process is at rest) and `max_iter`
    (rounds at most). See the module docstring for the group's choice of trade.
    """

    name = "bundle-exchange"
    models = frozenset({"exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = False
    trades = True
    parameters = {"group": 3, "goods": 0, "quiet": 5, "max_iter": 100_000}
    rules = {"group": Range(0), "goods": Range(0), "quiet": AT_LEAST_ONE, "max_iter": AT_LEAST_ONE}

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason is None and economy.n_goods < 2:
            reason = "one good leaves nothing to exchange"
        if reason is None and self.params["group"] == 1:
            reason = "a group of one agent trades with nobody (group: 0 for every agent, or >= 2)"
        if reason is None and self.params["goods"] == 1:
            reason = "a bundle of one good leaves nothing to exchange (goods: 0 or >= 2)"
        return reason

    @property
    def uses_seed(self) -> bool:
        return True

    def _everyone(self, n: int) -> bool:
        """True when one group holds every one of the n agents."""
        group = int(self.params["group"])
        return group == 0 or group >= n

    def central_reads(self, economy: Economy, iterations: int) -> int:
        """None while groups are smaller than the economy (each reads only its members'
        holdings and coefficients on its bundle); a group of every agent reads the economy,
        as a planner does."""
        return economy_numbers(economy) if self._everyone(economy.n_agents) else 0

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["linear", "cobb-douglas", "ces", "leontief"])
        # the tiny economies' endowments give no group a reason to trade: these do, one per kernel
        for family, rho in (("exchange-cobb-douglas", None), ("ces-complements", -2.0), ("exchange-linear", None),
                            ("exchange-leontief", None)):
            self.run(generate(family, 4, 3, seed=0, rho=rho), 1e-6, math.inf, 0)
        self.run(build("leontief-game-morris", 2), 1e-6, math.inf, 0)

    def run(self, economy: Economy, tol, deadline, seed):
        x = np.array(economy.endowment, dtype=np.float64)
        n, m = x.shape
        a = np.ascontiguousarray(economy.a, dtype=np.float64)
        kinds, rho = economy.kinds, economy.rho
        k = n if self._everyone(n) else int(self.params["group"])
        bundle_size = int(self.params["goods"])
        quiet, max_rounds = int(self.params["quiet"]), int(self.params["max_iter"])
        rng = np.random.default_rng(seed)
        log_price_sum, price_count = np.zeros(m), np.zeros(m)
        tracer = Tracer()
        done = calm = trades = meetings = 0
        status = "max_iter"
        out_of_time = False

        def revealed():
            """The geometric mean of each good's supporting prices (uniform where none)."""
            logs = np.where(price_count > 0, log_price_sum / np.maximum(price_count, 1), 0.0)
            p = np.exp(logs - logs.max())
            return p / p.sum()

        while done < max_rounds and not out_of_time:
            order = rng.permutation(n)
            largest = 0.0
            for start in range(0, n - 1, k):
                members = order[start:start + k]
                if members.size < 2:
                    break
                bundle = self._bundle(x, members, bundle_size, rng)
                meetings += 1
                if bundle.size >= 2:
                    gain, prices = self._meet(kinds, a, rho, x, members, bundle, tol, deadline)
                    if gain > 0.0:
                        trades += 1
                        largest = max(largest, gain)
                        if prices is not None:
                            priced = prices > 0
                            if priced.sum() >= 2:
                                logs = np.log(prices[priced])
                                log_price_sum[bundle[priced]] += logs - logs.mean()
                                price_count[bundle[priced]] += 1
                if time.perf_counter() >= deadline:
                    out_of_time = True
                    break
            done += 1
            tracer.offer(done, lambda: (revealed(), x))
            calm = calm + 1 if largest <= tol else 0
            if out_of_time:
                status = "timeout"
            elif calm >= quiet:
                status = "at_rest"
                break
        return settled(economy, x, revealed(), status, tol, deadline, done,
                       f"no group's trade helped anyone by more than tol in {quiet} rounds; the allocation is "
                       "not a Walrasian equilibrium's",
                       extra={"rounds": done, "trades": trades, "meetings": meetings}, trace=tracer.checkpoints)

    @staticmethod
    def _bundle(x, members, size, rng) -> np.ndarray:
        """The goods a group meets on: every good a member holds (size 0), or `size` goods
        each drawn as one a random member holds (fewer if the draws repeat)."""
        held = x[members] > 0.0
        if size == 0:
            return np.flatnonzero(held.any(axis=0))
        chosen: list[int] = []
        for _ in range(size):
            options = np.flatnonzero(held[rng.integers(members.size)])
            if options.size:
                j = int(options[rng.integers(options.size)])
                if j not in chosen:
                    chosen.append(j)
        return np.array(sorted(chosen), dtype=np.int64)

    @staticmethod
    def _meet(kinds, a, rho, x, members, bundle, tol, deadline=math.inf) -> tuple[float, np.ndarray | None]:
        """One group's meeting on its bundle: returns the largest log-utility gain of its
        trade (0 without one) and the prices that support it, if any. A linear group's
        program stops at the deadline; a smooth group's iteration runs to its end (a few
        milliseconds at the market suite's sizes, longer for one group of hundreds)."""
        k, mb = members.size, bundle.size
        aB, xB, y = np.empty((k, mb)), np.empty((k, mb)), np.zeros((k, mb))
        W, c, s = np.empty(mb), np.empty(k), np.empty(k)
        role, before, after = np.empty(k, np.int64), np.empty(k), np.empty(k)
        if prepare(kinds, a, rho, x, members, bundle, aB, xB, W, c, s, role, before) == 0:
            return 0.0, None
        member_kinds = kinds[members]
        prices = None
        if np.all(member_kinds == LEONTIEF):
            t = leontief_trade(aB, xB, W, c, s, role, y)
        elif np.all(member_kinds == LINEAR):
            pool = np.empty(mb)
            _pool(xB, role, W, pool)
            t, prices = linear_trade(aB, c, s, role, pool, y, deadline - time.perf_counter())
            y[role == _KEEPS] = xB[role == _KEEPS]
        else:
            prices = np.zeros(mb)
            t = smooth_trade(member_kinds, aB, np.ascontiguousarray(rho[members]), xB, W, c, s, role,
                             min(tol, 1e-9), y, prices)
        if not t > 0.0:
            return 0.0, None
        return commit(kinds, a, rho, x, members, bundle, xB, W, y, before, after), prices
