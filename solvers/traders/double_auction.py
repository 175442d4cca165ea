"""A double auction with money: zero-intelligence traders post random bids and asks for each
good against a numeraire, in exchange economies.

D. K. Gode and S. Sunder, "Allocative efficiency of markets with zero-intelligence traders:
market as a partial substitute for individual rationality", Journal of Political Economy
101(1), 1993, 119-137, carried from induced values to utilities. One good is money, the
numeraire (`numeraire`: a good's index, or -1 for the good with the largest total
endowment, the lowest index among ties: the most plentiful good is the one most agents can
pay with). Every other good j has an order book against it (`gebench.solvers.kernels.
order_book`, the book of `gebench.solvers.traders.gode_sunder`), on which an order is for
a lot of j: `lot` times the average agent's holding of j at first, halved after each period
in which no trade raised a utility by more than the tolerance, `halvings` times at most (a
coarse lot moves goods fast, a fine one reaches the allocations from which only small trades
still help). Each shout, a random agent and a random good j are drawn; the agent bids for a
lot if it holds money and asks if it holds j (a coin decides when it can do both), at a
random unit price:

- ZI-C (``constrained=True``, the default), never at a loss: a buyer bids uniformly on
  [0, r / q], r its reservation price for the lot q, the most money it can give up for q
  units of j without its utility falling, and at most the money it holds (the budget
  constraint); a seller offers min(q, its holding of j) and asks uniformly on [s / q, the
  ceiling], s the least money that keeps its utility, or does not ask if s is above the
  ceiling. The reservation prices have closed forms, since only two goods change: for CES,
  a_j (x_j + q)^rho + a_num (x_num - r)^rho = a_j x_j^rho + a_num x_num^rho, say. An agent
  whose utility is 0 has nothing to lose: it pays all its money, and it keeps the goods it
  wants until it can use them (the lexicographic refinement of "no loss": no trade takes
  the last of a wanted good from it), so that it gathers what it needs.
- ZI-U (``constrained=False``): a buyer bids uniformly on [0, its money / q], a seller asks
  uniformly on [0, the ceiling]: within holdings, with no regard for utility, so an agent
  can end below its endowment's utility (individual rationality fails: the point of the
  comparison).

Unit prices lie below a ceiling, the market's rule as Gode and Sunder's 200 is: `ceiling`
times the price at which j's whole supply is worth the whole money stock. A shout that
reaches the standing order on the other side trades at the standing order's price,
min(both quantities) units (within the seller's holding and the buyer's money), and clears
that book. The standing order was posted on holdings that other books' trades may have
changed since: a ZI-C trade is made only if neither agent's utility falls (otherwise the
standing order is withdrawn and the incoming one may stand in its place). Utility is
quasi-concave in every family, so a part of a lot at a price a trader accepted for the
whole lot leaves it no worse off. Goods and money pass between two agents with their sum
kept: conserved exactly up to rounding, never negative.

Money is what makes trade possible without a double coincidence of wants (Jevons, "Money and
the Mechanism of Exchange", 1875, ch. 1): an agent sells a good it does not need to whoever
bids for it, whatever that buyer holds, and buys what it needs from someone else. Leontief
agents show it sharply: their marginal rates are 0 or infinite, so an agent gives up for
nothing a good (the numeraire too) beyond what its scarcest wanted good lets it use, and
pays all the money it can spare for a good that it needs. In the Leontief economies of
bimatrix games (`gebench.markets.games`), each agent owns one good that it does not want and
wants the other player's goods, so no two agents can barter (`bilateral-exchange` makes no
trade there); with money they can. Money here is also a good that agents consume, and a
ZI-C seller takes it only at its use value to itself: an agent that values money little
sells little for it, however much it would like what the money could buy next (linear
agents show this most), so trade that money would only carry through from one agent to a
third can remain undone.

A period is `period` shouts (0: 20 n (m - 1)). Once the lots are as fine as they get, the
auction stops `at_rest` after `quiet` periods with no trade that raised an agent's log
utility by more than the tolerance (or brought an agent at zero utility a wanted good it
lacked), and with `timeout` at the deadline. The trace's prices are the revealed prices,
each good's mean trade price in money weighted by quantity (the numeraire 1; a good that
never traded at the ceiling's anchor); the final point is judged at the better of those and the prices that
support the allocation (`gebench.solvers.kernels.supporting.best_prices`). The order books
are the only place anything is read centrally: an order posts two numbers, a price and a
quantity, and `iterations` counts orders.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy
from gebench.markets.utilities import log_utility_row

from ..base import Solver
from ..kernels.order_book import ASK, BID, clear, crosses, new_books, stand, withdraw
from ..kernels.params import AT_LEAST_ONE, Range
from ..kernels.supporting import settled
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny

_INF = math.inf
_WORK_PER_CHUNK = 2**17        # shouts times goods between two looks at the clock


@njit(cache=True)
def _ces_root(t, rho):
    """t^(1 / rho) for t > 0, and 0 (rho > 0) or inf (rho < 0) for t <= 0."""
    if t <= 0.0:
        return 0.0 if rho > 0.0 else _INF
    return t ** (1.0 / rho)


@njit(cache=True)
def reservation_buy(kind, a, rho, x, j, num, q, u0):
    """The most money (at most what the agent holds) it can give up for q more units of j
    without its log utility falling below u0, its log utility now (-inf: zero utility, which
    nothing lowers)."""
    money = x[num]
    if money <= 0.0:
        return 0.0
    if u0 == -_INF or a[num] <= 0.0:
        return money
    if a[j] <= 0.0:
        return 0.0
    if kind == LINEAR:
        return min(money, q * a[j] / a[num])
    if kind == COBB_DOUGLAS:
        return money * (1.0 - (x[j] / (x[j] + q)) ** (a[j] / a[num]))
    if kind == LEONTIEF:
        return min(money, max(0.0, money - a[num] * math.exp(u0)))
    # CES: a_j (x_j + q)^rho + a_num (x_num - r)^rho = a_j x_j^rho + a_num x_num^rho
    left = _ces_root(money ** rho - a[j] / a[num] * ((x[j] + q) ** rho - x[j] ** rho), rho)
    return min(money, max(0.0, money - left))


@njit(cache=True)
def reservation_sell(kind, a, rho, x, j, num, q, u0):
    """The least money the agent must get for q of its units of j for its log utility not to
    fall below u0: inf where no amount makes up for them, and for a good it wants while its
    utility is 0 (it keeps what it wants until it can use it)."""
    if a[j] <= 0.0:
        return 0.0
    if u0 == -_INF or a[num] <= 0.0:
        return _INF
    if kind == LINEAR:
        return q * a[j] / a[num]
    if kind == LEONTIEF:
        return 0.0 if (x[j] - q) / a[j] >= math.exp(u0) else _INF
    if x[j] - q <= 0.0 and (kind == COBB_DOUGLAS or rho < 0.0):
        return _INF
    if kind == COBB_DOUGLAS:
        return x[num] * ((x[j] / (x[j] - q)) ** (a[j] / a[num]) - 1.0)
    # CES: a_j (x_j - q)^rho + a_num (x_num + s)^rho = a_j x_j^rho + a_num x_num^rho
    rest = max(x[j] - q, 0.0)
    return _ces_root(x[num] ** rho + a[j] / a[num] * (x[j] ** rho - rest ** rho), rho) - x[num]


@njit(cache=True)
def _log_level(kind, a, rho, x):
    """What the reservation prices need of an agent's log utility: -inf at zero utility, the
    log utility itself for Leontief agents, and 0 otherwise (the others' closed forms do
    without it)."""
    if kind == LEONTIEF:
        return log_utility_row(kind, a, rho, x)
    some = False
    for k in range(a.shape[0]):
        if a[k] > 0.0:
            if x[k] > 0.0:
                some = True
            elif kind == COBB_DOUGLAS or (kind == CES and rho < 0.0):
                return -_INF
    return 0.0 if some else -_INF


@njit(cache=True)
def _wanted(a, x):
    """How many of the goods an agent wants it holds."""
    count = 0
    for k in range(a.shape[0]):
        if a[k] > 0.0 and x[k] > 0.0:
            count += 1
    return count


@njit(cache=True)
def _gain(before, after, held_before, held_after):
    """The rise of a log utility: inf from 0 to a positive utility; at 0, 1 for a trade that
    brings a wanted good the agent lacked, -1 for one that takes the last of one away (the
    lexicographic refinement of "no loss" that keeps such an agent from giving up what it
    will need), 0 otherwise."""
    if before == -_INF:
        if after > -_INF:
            return _INF
        return 1.0 if held_after > held_before else (-1.0 if held_after < held_before else 0.0)
    return after - before


@njit(cache=True)
def _exchange(x, buyer, seller, j, num, t, price):
    """Move t units of j from seller to buyer and t price of money back, each pair's sum kept."""
    total = x[buyer, j] + x[seller, j]
    x[buyer, j] = min(x[buyer, j] + t, total)
    x[seller, j] = total - x[buyer, j]
    total = x[buyer, num] + x[seller, num]
    x[buyer, num] = max(x[buyer, num] - t * price, 0.0)
    x[seller, num] = total - x[buyer, num]


@njit(cache=True)
def shouts(kinds, a, rho, x, num, lots, ceilings, constrained, count, seed,
           prices, quantities, agents, value, volume):
    """`count` shouts of the auction on holdings x (updated in place); the books (`prices`,
    `quantities`, `agents`, one per good, the numeraire's unused) carry over between calls.
    Each trade adds its money to `value` and its units to `volume` for its good. Returns
    (the largest log-utility gain of any agent in a trade, trades, orders posted)."""
    n, m = x.shape
    np.random.seed(seed)
    largest = 0.0
    trades = 0
    orders = 0
    for _ in range(count):
        i = np.random.randint(n)
        j = np.random.randint(m - 1)
        if j >= num:
            j += 1
        can_sell = x[i, j] > 0.0
        can_buy = x[i, num] > 0.0
        if not (can_sell or can_buy):
            continue
        side = BID if (can_buy and not can_sell) or (can_buy and np.random.random() < 0.5) else ASK
        u0 = _log_level(kinds[i], a[i], rho[i], x[i]) if constrained else 0.0
        if side == BID:
            q = lots[j]
            top = x[i, num] / q
            if constrained:
                top = reservation_buy(kinds[i], a[i], rho[i], x[i], j, num, q, u0) / q
                if top <= 0.0:
                    continue
            price = min(top, ceilings[j]) * np.random.random()
        else:
            q = min(lots[j], x[i, j])
            bottom = 0.0
            if constrained:
                bottom = reservation_sell(kinds[i], a[i], rho[i], x[i], j, num, q, u0) / q
                if not bottom <= ceilings[j]:
                    continue
            price = bottom + (ceilings[j] - bottom) * np.random.random()
        orders += 1
        k = crosses(prices, agents, j, side, price)
        if k < 0:
            stand(prices, quantities, agents, j, side, i, price, q)
            continue
        other = 1 - side
        if k == i:
            withdraw(agents, j, other)
            stand(prices, quantities, agents, j, side, i, price, q)
            continue
        buyer, seller = (i, k) if side == BID else (k, i)
        deal = prices[j, other]
        t = min(q, quantities[j, other], x[seller, j])
        if deal > 0.0:
            t = min(t, x[buyer, num] / deal)
        if not t > 0.0:
            withdraw(agents, j, other)
            stand(prices, quantities, agents, j, side, i, price, q)
            continue
        before_b = log_utility_row(kinds[buyer], a[buyer], rho[buyer], x[buyer])
        before_s = log_utility_row(kinds[seller], a[seller], rho[seller], x[seller])
        held_b = _wanted(a[buyer], x[buyer]) if before_b == -_INF else 0
        held_s = _wanted(a[seller], x[seller]) if before_s == -_INF else 0
        old_bj, old_sj, old_bn, old_sn = x[buyer, j], x[seller, j], x[buyer, num], x[seller, num]
        _exchange(x, buyer, seller, j, num, t, deal)
        gain_b = _gain(before_b, log_utility_row(kinds[buyer], a[buyer], rho[buyer], x[buyer]),
                       held_b, _wanted(a[buyer], x[buyer]) if before_b == -_INF else 0)
        gain_s = _gain(before_s, log_utility_row(kinds[seller], a[seller], rho[seller], x[seller]),
                       held_s, _wanted(a[seller], x[seller]) if before_s == -_INF else 0)
        if constrained and (gain_b < 0.0 or gain_s < 0.0):
            x[buyer, j], x[seller, j], x[buyer, num], x[seller, num] = old_bj, old_sj, old_bn, old_sn
            if (gain_b < 0.0 and k == buyer) or (gain_s < 0.0 and k == seller):
                withdraw(agents, j, other)
                stand(prices, quantities, agents, j, side, i, price, q)
            continue
        clear(agents, j)
        trades += 1
        value[j] += t * deal
        volume[j] += t
        largest = max(largest, gain_b, gain_s)
    return largest, trades, orders


class DoubleAuction(Solver):
    """A double auction of every good against money, with zero-intelligence traders (Gode and
    Sunder 1993): ZI-C by default, ZI-U with ``constrained=False`` (see the module docstring).

    Parameters (besides `quiet` and `max_iter`, in orders): `numeraire`, the money's index
    (-1: the good with the largest total endowment); `lot`, an order's quantity as a share of
    the average agent's holding of the good, and `halvings`, how often it may halve;
    `ceiling`, the highest unit price as a multiple of the money stock over the good's
    supply; `period`, shouts a period (0: 20 n (m - 1)).
    """

    name = "double-auction"
    models = frozenset({"exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = False
    trades = True
    parameters = {"constrained": True, "numeraire": -1, "lot": 0.1, "halvings": 8, "ceiling": 4.0, "period": 0,
                  "quiet": 5, "max_iter": 100_000_000}
    rules = {"numeraire": Range(-1), "lot": Range(0.0, open_low=True), "halvings": Range(0),
             "ceiling": Range(0.0, open_low=True), "period": Range(0), "quiet": AT_LEAST_ONE,
             "max_iter": AT_LEAST_ONE}

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason is None and economy.n_goods < 2:
            reason = "one good leaves nothing to trade for money"
        if reason is None and self.params["numeraire"] >= economy.n_goods:
            reason = f"numeraire {self.params['numeraire']} is not one of the {economy.n_goods} goods"
        return reason

    @property
    def uses_seed(self) -> bool:
        return True

    def central_reads(self, economy: Economy, iterations: int) -> int:
        """Two numbers an order, its price and its quantity, posted to a book."""
        return 2 * int(iterations)

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["linear", "cobb-douglas", "ces", "leontief"])
        warm_up_on_tiny(self, ["linear", "linear"])     # the linear program that judges linear economies

    def numeraire_of(self, economy: Economy) -> int:
        """The money's index: the parameter, or the good with the largest total endowment."""
        chosen = int(self.params["numeraire"])
        return chosen if chosen >= 0 else int(np.argmax(np.asarray(economy.total_supply)))

    def run(self, economy: Economy, tol, deadline, seed):
        x = np.array(economy.endowment, dtype=np.float64)
        n, m = x.shape
        a = np.ascontiguousarray(economy.a, dtype=np.float64)
        supply = np.asarray(economy.total_supply, dtype=np.float64)
        num = self.numeraire_of(economy)
        lots = float(self.params["lot"]) * supply / n
        halvings = int(self.params["halvings"])
        anchor = supply[num] / supply
        ceilings = float(self.params["ceiling"]) * anchor
        constrained = bool(self.params["constrained"])
        period = int(self.params["period"]) or 20 * n * (m - 1)
        quiet, max_orders = int(self.params["quiet"]), int(self.params["max_iter"])
        chunk = max(16, min(period, _WORK_PER_CHUNK // m))
        prices, quantities, agents = new_books(m)
        value, volume = np.zeros(m), np.zeros(m)
        rng = np.random.default_rng(seed)
        tracer = Tracer()

        def revealed():
            """Mean trade prices in money (the numeraire 1, untraded goods at the anchor)."""
            p = np.where(volume > 0, value / np.maximum(volume, 1e-300), anchor)
            p[num] = 1.0
            return p / p.sum()

        orders = trades = done = periods = calm = 0
        in_period, largest = 0, 0.0
        status = "max_iter"
        while orders < max_orders:
            count = min(chunk, period - in_period)
            gain, traded, posted = shouts(economy.kinds, a, economy.rho, x, num, lots, ceilings, constrained,
                                          count, int(rng.integers(2**31)), prices, quantities, agents,
                                          value, volume)
            done += count
            in_period += count
            orders += posted
            trades += traded
            largest = max(largest, gain)
            tracer.offer(orders, lambda: (revealed(), x))
            if in_period >= period:
                periods += 1
                if largest <= tol and halvings > 0:
                    lots *= 0.5
                    halvings -= 1
                else:
                    calm = calm + 1 if largest <= tol else 0
                in_period, largest = 0, 0.0
                if calm >= quiet:
                    status = "at_rest"
                    break
            if time.perf_counter() >= deadline:
                status = "timeout"
                break
        extra = {"orders": orders, "trades": trades, "shouts": done, "periods": periods, "numeraire": num,
                 "halvings": int(self.params["halvings"]) - halvings}
        return settled(economy, x, revealed(), status, tol, deadline, orders,
                       f"no trade raised a utility by more than tol in {quiet} periods; the allocation is "
                       "not a Walrasian equilibrium's", extra=extra, trace=tracer.checkpoints)
