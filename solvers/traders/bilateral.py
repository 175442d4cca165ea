"""Bilateral (and k-lateral) exchange: agents meet in small groups and trade when it helps them.

Axtell, "The complexity of exchange", Economic Journal 115 (2005) F193-F210: a decentralised
market in which transient coalitions of agents trade pairs of goods among themselves, each
agent knowing only its own utility and holdings. Such processes reach Pareto-optimal but
non-Walrasian allocations in a number of interactions polynomial in agents and goods, with
price dispersion and a changed distribution of wealth; Uzawa ("On the stability of
Edgeworth's barter process", International Economic Review 3, 1962) gives the condition that
each barter leaves nobody worse off.

Each round, the agents are matched at random into groups of `group` (a perfect matching for
pairs). A group meets on `trials` random pairs of goods (j, l) (`trials = 0`: m), other goods
held fixed (each good one that a member holds, drawn at random: what it can offer), and
trades them at the price pi that clears its own two-good market: each member
reports the best amount of j on its budget line pi x_j + x_l = its current holding's value
(an interval where it is indifferent, for linear and Leontief agents), and pi is found by
bisection on the group's excess demand. That price lies between the members' marginal rates
of substitution, so it is one of Axtell's bargaining prices; choosing the group's clearing
price, and the amounts closest to the current holdings within each member's best set, are
this implementation's choices. The trade is made only if nobody loses and someone gains.
Goods are conserved exactly, and an agent's utility never falls.

The process stops `at_rest` after `quiet` rounds in which no trade raised anyone's utility by
more than the tolerance: a rest point of trade as far as random meetings can tell (on linear
economies, whose improving trades are rare, more `quiet` rounds find more of them), which the certificate judges with
the prices that support the allocation best (`gebench.markets.welfare.pareto_gap`). Trade reveals
prices as it goes: the trace's prices are the geometric mean of each good's trade prices.

On a day of an economy stream (`gebench.markets.streams`), ``carry=True`` keeps what the agents
learned (`Outcome.state`), never what they held: every day starts from the day's endowments.
They learned who was worth meeting, the pairs that traded (``partners``, with what their trades
gained), and what goods fetched, the revealed log prices. The first rounds of the day match the
agents along yesterday's partners before any random meeting: each round a greedy matching of the
pairs not yet met today, largest gain from trade yesterday first, the agents it leaves out in
random pairs. Pairs that gained much from trade yesterday gain again after a small drift, which
keeps every agent's pattern of wanted and held goods; returning to known partners first instead
of drawing anew is this implementation's reading of what traders learn in a day, and it takes
the large gains in the first rounds. Pairs with an agent who arrived today are dropped: the row
is a new agent. The revealed prices enter the day's running means with the weight of one trade
per good, a prior that today's own trades soon outweigh.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy
from gebench.markets.utilities import log_utility_row

from ..base import Solver, Yesterday
from ..kernels.carried import today_rows
from ..kernels.params import AT_LEAST_ONE, Range
from ..kernels.supporting import settled
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny

_INF = math.inf
_BISECTIONS = 200
_PRICE_RANGE = 60.0          # pi is sought within exp(+-60) of the group's ratio of holdings


@njit(cache=True)
def _others(kind, a, x, j, numeraire):
    """For a Leontief agent, the utility its goods other than j and `numeraire` allow: min x_k / a_k."""
    if kind != LEONTIEF:
        return _INF
    low = _INF
    for k in range(a.shape[0]):
        if k != j and k != numeraire and a[k] > 0.0:
            v = x[k] / a[k]
            if v < low:
                low = v
    return low


@njit(cache=True)
def best_amount(kind, aj, al, rho, xj, xl, rest, pi):
    """(lo, hi): the amounts of good j that are best for one agent on its budget line
    pi x_j + x_l = pi xj + xl, its other goods fixed (`rest` is what they allow a Leontief
    agent); lo < hi where it is indifferent among them."""
    wealth = pi * xj + xl
    most = wealth / pi
    if aj <= 0.0 and al <= 0.0:
        return 0.0, most
    if kind == COBB_DOUGLAS:
        share = aj / (aj + al)
        return share * most, share * most
    if kind == CES:
        if aj <= 0.0:
            return 0.0, 0.0
        if al <= 0.0:
            return most, most
        sigma = 1.0 / (1.0 - rho)
        t = sigma * (math.log(al) - math.log(aj)) + (sigma - 1.0) * math.log(pi)
        v = most / (1.0 + math.exp(min(t, 700.0)))
        return v, v
    if kind == LINEAR:
        if aj > pi * al * (1.0 + 1e-12):
            return most, most
        if aj * (1.0 + 1e-12) < pi * al:
            return 0.0, 0.0
        return 0.0, most
    # Leontief: min(x_j / aj, x_l / al, rest) over the wanted goods
    if aj > 0.0 and al > 0.0:
        t = wealth / (pi * aj + al)
        if t <= rest:
            return t * aj, t * aj
        return rest * aj, (wealth - rest * al) / pi
    if aj > 0.0:
        if most <= rest * aj:
            return most, most
        return rest * aj, most
    if wealth <= rest * al:
        return 0.0, 0.0
    return 0.0, (wealth - rest * al) / pi


@njit(cache=True)
def _meet(kinds, a, rho, x, members, j, numeraire, lo, hi, rest, before, after, new_j, old_j, old_l):
    """One meeting of `members` on goods (j, l), l the `numeraire` (j's price is pi units of it; tl,
    used_l and old_l are its): trade at the group's clearing price if nobody loses and someone
    gains; the arrays after `numeraire` are work space, one entry per member.
    Returns (the largest log-utility gain, the price), 0 and NaN when there is no trade."""
    k = members.shape[0]
    tj = 0.0
    tl = 0.0
    for g in range(k):
        i = members[g]
        tj += x[i, j]
        tl += x[i, numeraire]
        rest[g] = _others(kinds[i], a[i], x[i], j, numeraire)
        before[g] = log_utility_row(kinds[i], a[i], rho[i], x[i])
    if tj <= 0.0 or tl <= 0.0:
        return 0.0, math.nan
    low = math.log(tl / tj) - _PRICE_RANGE
    high = math.log(tl / tj) + _PRICE_RANGE
    cleared = False
    pi = 1.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        pi = math.exp(mid)
        total_lo = 0.0
        total_hi = 0.0
        for g in range(k):
            i = members[g]
            lo[g], hi[g] = best_amount(kinds[i], a[i, j], a[i, numeraire], rho[i], x[i, j], x[i, numeraire],
                                       rest[g], pi)
            total_lo += lo[g]
            total_hi += hi[g]
        if total_lo > tj * (1.0 + 1e-13):
            low = mid                         # j is too cheap
        elif total_hi < tj * (1.0 - 1e-13):
            high = mid
        else:
            cleared = True
            break
        if high - low < 1e-13:
            break
    if not cleared:
        return 0.0, math.nan
    # the amounts closest to the current holdings within each best set that add up to tj
    total = 0.0
    for g in range(k):
        new_j[g] = min(max(x[members[g], j], lo[g]), hi[g])
        total += new_j[g]
    residual = tj - total
    room = 0.0
    for g in range(k):
        room += (hi[g] - new_j[g]) if residual > 0.0 else (new_j[g] - lo[g])
    if room > 0.0:
        for g in range(k):
            share = (hi[g] - new_j[g]) if residual > 0.0 else (new_j[g] - lo[g])
            new_j[g] += residual * share / room
    used_j = 0.0
    used_l = 0.0
    for g in range(k):
        i = members[g]
        old_j[g] = x[i, j]
        old_l[g] = x[i, numeraire]
        if g == k - 1:
            x[i, j] = tj - used_j             # goods are conserved exactly
            x[i, numeraire] = tl - used_l
        else:
            x[i, j] = max(new_j[g], 0.0)
            x[i, numeraire] = max(pi * (old_j[g] - x[i, j]) + old_l[g], 0.0)
            used_j += x[i, j]
            used_l += x[i, numeraire]
    gain = 0.0
    ok = x[members[k - 1], j] >= 0.0 and x[members[k - 1], numeraire] >= 0.0
    for g in range(k):
        if not ok:
            break
        i = members[g]
        after[g] = log_utility_row(kinds[i], a[i], rho[i], x[i])
        if not after[g] >= before[g]:
            ok = False
        elif after[g] > before[g] and (before[g] == -_INF or after[g] - before[g] > gain):
            gain = _INF if before[g] == -_INF else after[g] - before[g]
    if not ok or gain <= 1e-12:
        for g in range(k):
            x[members[g], j] = old_j[g]
            x[members[g], numeraire] = old_l[g]
        return 0.0, math.nan
    return gain, pi


@njit(cache=True)
def _held(x, i, m):
    """A random good that agent i holds (what it can offer), by rejection; any good if that fails."""
    for _ in range(4 * m):
        j = np.random.randint(m)
        if x[i, j] > 0.0:
            return j
    return np.random.randint(m)


@njit(cache=True)
def rounds(kinds, a, rho, x, group, trials, n_rounds, seed_state, log_price_sum, price_count,
           first_order=np.empty(0, np.int64), met=np.empty(0, np.int64), met_gain=np.empty(0)):
    """`n_rounds` rounds of meetings; returns the largest log-utility gain of any trade and the
    number of trades. Trade prices are added, in logs, to each good's running sum (j's price
    relative to the numeraire's is pi).

    `first_order`, when it lists all n agents, replaces the first round's random order (groups
    are its consecutive runs of `group`); `met` and `met_gain`, when they have n entries,
    receive for each agent whose group traded in the last round the next member of that group
    (-1 otherwise) and the sum of the largest log-utility gains of the group's trades (capped
    at 1 a trade, since a first unit of a wanted good gains without bound)."""
    n, m = a.shape
    np.random.seed(seed_state)
    k = min(group, n)
    lo, hi, rest = np.empty(k), np.empty(k), np.empty(k)
    before, after = np.empty(k), np.empty(k)
    new_j, old_j, old_l = np.empty(k), np.empty(k), np.empty(k)
    largest = 0.0
    trades = 0
    record = met.shape[0] == n
    for r in range(n_rounds):
        order = first_order if r == 0 and first_order.shape[0] == n else np.random.permutation(n)
        if record:
            met[:] = -1
            met_gain[:] = 0.0
        for start in range(0, n - 1, k):
            size = min(k, n - start)
            if size < 2:
                break
            members = order[start:start + size]
            made = trades
            gained = 0.0
            for _t in range(trials):
                j = _held(x, members[np.random.randint(size)], m)
                numeraire = _held(x, members[np.random.randint(size)], m)
                if j == numeraire:
                    continue
                gain, pi = _meet(kinds, a, rho, x, members, j, numeraire, lo[:size], hi[:size], rest[:size],
                                 before[:size], after[:size], new_j[:size], old_j[:size], old_l[:size])
                if gain > 0.0:
                    trades += 1
                    gained += min(gain, 1.0)
                    if gain > largest:
                        largest = gain
                    log_price_sum[j] += 0.5 * math.log(pi)
                    log_price_sum[numeraire] -= 0.5 * math.log(pi)
                    price_count[j] += 1
                    price_count[numeraire] += 1
            if record and trades > made:
                for g in range(size):
                    met[members[g]] = members[(g + 1) % size]
                    met_gain[members[g]] = gained
    return largest, trades


class BilateralExchange(Solver):
    """Decentralised exchange in random pairs (or groups of `group`) of agents (Axtell 2005).

    `carry`: on a day of a stream, meet yesterday's trading partners first and start the
    revealed prices from yesterday's (see the module docstring); holdings start at the day's
    endowments all the same.
    """

    name = "bilateral-exchange"
    models = frozenset({"exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = False
    trades = True
    carries = True
    parameters = {"group": 2, "trials": 0, "quiet": 10, "max_iter": 100_000, "carry": False}
    rules = {"group": Range(2), "trials": Range(0), "quiet": AT_LEAST_ONE, "max_iter": AT_LEAST_ONE}

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason is None and economy.n_goods < 2:
            reason = "one good leaves nothing to exchange"
        return reason

    @property
    def uses_seed(self) -> bool:
        return True

    def central_reads(self, economy: Economy, iterations: int) -> int:
        """None: each group reads only its members' reports."""
        return 0

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["linear", "cobb-douglas", "ces", "leontief"])

    def run(self, economy: Economy, tol, deadline, seed, yesterday: Yesterday | None = None):
        x = np.array(economy.endowment, dtype=np.float64)
        n, m = x.shape
        a = np.ascontiguousarray(economy.a)
        trials = int(self.params["trials"]) or m
        group, quiet, max_rounds = int(self.params["group"]), int(self.params["quiet"]), int(self.params["max_iter"])
        log_price_sum, price_count = np.zeros(m), np.zeros(m)
        rng = np.random.default_rng(seed)
        tracer = Tracer()
        done, calm, traded = 0, 0, 0
        carried = yesterday is not None and self.carried
        known = np.empty((0, 2), dtype=np.int64)
        if carried:
            known = kept_partners(yesterday.state, n, yesterday.arrived)
            log_price_sum, price_count = kept_prices(yesterday.state, m)
        watched = n if self.carried else 0       # who traded with whom is recorded only to be kept
        met, met_gain, partners = np.full(watched, -1, dtype=np.int64), np.zeros(watched), {}

        def revealed():
            """The geometric mean of each good's trade prices (uniform where it never traded)."""
            logs = np.where(price_count > 0, log_price_sum / np.maximum(price_count, 1), 0.0)
            p = np.exp(logs - logs.max())
            return p / p.sum()

        status = "max_iter"
        while done < max_rounds:
            first, known = _partner_order(known, n, rng) if known.size else (np.empty(0, np.int64), known)
            largest, count = rounds(economy.kinds, a, economy.rho, x, group, trials, 1,
                                    int(rng.integers(2**31)), log_price_sum, price_count, first, met, met_gain)
            done += 1
            traded += count
            pairs = {(min(int(i), int(met[i])), max(int(i), int(met[i]))): float(met_gain[i])
                     for i in np.flatnonzero(met >= 0)}
            for pair, gain in pairs.items():
                partners[pair] = partners.get(pair, 0.0) + gain
            tracer.offer(done, lambda: (revealed(), x))
            calm = calm + 1 if largest <= tol else 0
            if calm >= quiet:
                status = "at_rest"
                break
            if time.perf_counter() >= deadline:
                status = "timeout"
                break
        state = learned(partners, log_price_sum, price_count) if self.carried else {}
        return settled(economy, x, revealed(), status, tol, deadline, done,
                       f"no trade helped anyone by more than tol in {quiet} rounds; the allocation is "
                       "not a Walrasian equilibrium's",
                       extra={"rounds": done, "trades": traded}, trace=tracer.checkpoints, state=state)


def learned(partners: dict, log_price_sum: np.ndarray, price_count: np.ndarray) -> dict:
    """What a day of trade taught, as `Outcome.state`: ``partners`` (P x 2, i < k) the pairs
    whose meetings traded, largest gain first, ``gains`` what their trades gained (the sum of
    each trade's largest log-utility gain, capped at 1), and ``log_prices`` the mean log trade
    price of each good (NaN where it never traded)."""
    pairs = sorted(partners.items(), key=lambda item: (-item[1], item[0]))
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(price_count > 0, log_price_sum / price_count, np.nan)
    return {"partners": np.array([p for p, _ in pairs], dtype=np.int64).reshape(-1, 2),
            "gains": np.array([c for _, c in pairs], dtype=np.float64), "log_prices": logs}


def kept_partners(state: dict, n: int, arrived) -> np.ndarray:
    """Yesterday's partners (P x 2, largest gain first) among today's agents: pairs out of
    range, or with an agent who arrived today, are dropped."""
    pairs = np.asarray(state.get("partners", np.empty((0, 2))), dtype=np.int64).reshape(-1, 2)
    stayed = today_rows(n, arrived)
    inside = np.all((pairs >= 0) & (pairs < n), axis=1) & (pairs[:, 0] != pairs[:, 1])
    pairs = pairs[inside]
    return pairs[stayed[pairs[:, 0]] & stayed[pairs[:, 1]]]


def kept_prices(state: dict, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The day's running sums of log trade prices and their counts, started from yesterday's
    mean log prices with the weight of one trade per good that traded (zeros without them)."""
    logs = np.asarray(state.get("log_prices", np.full(m, np.nan)), dtype=np.float64).ravel()
    if logs.shape != (m,):
        return np.zeros(m), np.zeros(m)
    known = np.isfinite(logs)
    return np.where(known, logs, 0.0), known.astype(np.float64)


def _partner_order(known: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A round's order of the n agents whose consecutive pairs are a greedy matching of the
    known pairs (in their order), the agents it leaves out after them in random order; and the
    known pairs not used in it."""
    free = np.ones(n, dtype=bool)
    order, used = [], np.zeros(len(known), dtype=bool)
    for e, (i, k) in enumerate(known):
        if free[i] and free[k]:
            free[i] = free[k] = False
            order += [i, k]
            used[e] = True
    rest = np.flatnonzero(free)
    order = np.concatenate([np.array(order, dtype=np.int64), rest[rng.permutation(rest.size)]])
    return order, known[~used]

