"""A double auction with money: zero-intelligence traders post random bids and asks for each
good against a numeraire, in exchange economies.

D. K. Gode and S. Sunder, "Allocative efficiency of markets with zero-intelligence traders:
market as a partial substitute for individual rationality", Journal of Political Economy
101(1), 1993, 119-137, carried from induced values to utilities. One good is money, the
numeraire (`numeraire`: a good's index, or -1 for the good with the largest total
endowment, the lowest index among ties: the most plentiful good is the one most agents can
pay with). Every other good j has an order book against it (`gebench.solvers.kernels.
order_book`, the book of `gebench.solvers.traders.gode_sunder`), which trades a lot of
`lot` times j's total supply at a time. Each shout, a random agent and a random good j are
drawn; the agent bids for a lot if it holds money and asks if it holds j (a coin decides
when it can do both), at a random unit price:

- ZI-C (``constrained=True``, the default), never at a loss: a buyer bids uniformly on
  [0, r / q], r its reservation price for the lot q, the most money it can give up for q
  units of j without its utility falling, and at most the money it holds (the budget
  constraint); a seller offers min(q, its holding of j) and asks uniformly on [s / q, the
  ceiling], s the least money that keeps its utility, or does not ask if s is above the
  ceiling. Linear, Cobb-Douglas and Leontief reservation prices have closed forms; CES ones
  are found by bisection.
- ZI-U (``constrained=False``): a buyer bids uniformly on [0, its money / q], a seller asks
  uniformly on [0, the ceiling]: within holdings, with no regard for utility, so an agent
  can end below its endowment's utility (individual rationality fails: the point of the
  comparison).

Unit prices lie below a ceiling, the market's rule as Gode and Sunder's 200 is: `ceiling`
times the price at which j's whole supply is worth the whole money stock. A shout that
reaches the standing order on the other side trades at the standing order's price,
min(both quantities) units (within the seller's holding and the buyer's money), and clears
that book. The standing order was posted on holdings that other books' trades may have
changed since: a ZI-C trade is made only if neither agent's utility falls (the standing
order is withdrawn otherwise). Utility is quasi-concave in every family, so a part of a lot
at a price a trader accepted for the whole lot leaves it no worse off. Goods and money pass
between two agents with their sum kept: conserved exactly up to rounding, never negative.

Money is what makes trade possible without a double coincidence of wants (Jevons, "Money and
the Mechanism of Exchange", 1875, ch. 1): an agent sells a good it does not need to whoever
bids for it, whatever that buyer holds, and buys what it needs from someone else. Leontief
agents show it sharply: their marginal rates are 0 or infinite, so an agent gives up for
nothing a good (the numeraire too) beyond what its scarcest wanted good lets it use, and
pays all the money it can spare for a good that it needs. In the Leontief economies of
bimatrix games (`gebench.markets.games`), each agent owns one good that it does not want and
wants the other player's goods, so no two agents can barter (`bilateral-exchange` makes no
trade there); with money they can.

A period is `period` shouts (0: 20 n (m - 1)). The auction stops `at_rest` after `quiet`
periods with no trade that raised an agent's log utility by more than the tolerance, and
with `timeout` at the deadline. The trace's prices are the revealed prices, each good's mean
trade price in money weighted by quantity (the numeraire 1; a good that never traded at the
ceiling's anchor); the final point is judged at the better of those and the prices that
support the allocation (`gebench.solvers.kernels.supporting.best_prices`). The order books
are the only place anything is read centrally: an order posts two numbers, a price and a
quantity, and `iterations` counts orders.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy, certify
from gebench.markets.utilities import log_utility_row

from ..base import Outcome, Solver
from ..kernels.order_book import ASK, BID, clear, crosses, new_books, stand, withdraw
from ..kernels.params import AT_LEAST_ONE, Range
from ..kernels.supporting import best_prices
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny

_INF = math.inf
_BISECTIONS = 60
_WORK_PER_CHUNK = 2**17        # shouts times goods between two looks at the clock


@njit(cache=True)
def _cd_share(a, j, num):
    """Cobb-Douglas exponent ratio alpha_j / alpha_num (inf when the numeraire is unwanted)."""
    if a[num] <= 0.0:
        return _INF
    return a[j] / a[num]


@njit(cache=True)
def _ces_log_u(kind, a, rho, x, work, j, num, dj, dn):
    """log u of x with dj more of good j and dn more of the numeraire, through `work`."""
    for k in range(x.shape[0]):
        work[k] = x[k]
    work[j] = max(x[j] + dj, 0.0)
    work[num] = max(x[num] + dn, 0.0)
    return log_utility_row(kind, a, rho, work)


@njit(cache=True)
def reservation_buy(kind, a, rho, x, j, num, q, u0, work):
    """The most money (at most what the agent holds) it can give up for q more units of j
    without its log utility falling below u0."""
    money = x[num]
    if money <= 0.0:
        return 0.0
    if u0 == -_INF:
        return money
    if kind == LINEAR:
        if a[num] <= 0.0:
            return money
        return min(money, q * a[j] / a[num])
    if kind == COBB_DOUGLAS:
        ratio = _cd_share(a, j, num)
        if ratio == _INF:
            return money
        if a[j] <= 0.0:
            return 0.0
        return money * (1.0 - (x[j] / (x[j] + q)) ** ratio)
    if kind == LEONTIEF:
        if a[num] <= 0.0:
            return money
        return min(money, max(0.0, money - a[num] * math.exp(u0)))
    if _ces_log_u(kind, a, rho, x, work, j, num, q, -money) >= u0:
        return money
    lo, hi = 0.0, money
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if _ces_log_u(kind, a, rho, x, work, j, num, q, -mid) >= u0:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def reservation_sell(kind, a, rho, x, j, num, q, u0, most, work):
    """The least money the agent must get for q of its units of j for its log utility not to
    fall below u0; inf if even `most` is not enough."""
    if u0 == -_INF or a[j] <= 0.0:
        return 0.0
    if x[j] - q <= 0.0 and kind != LINEAR and not (kind == CES and rho > 0.0):
        return _INF
    if kind == LINEAR:
        return q * a[j] / a[num] if a[num] > 0.0 else _INF
    if kind == COBB_DOUGLAS:
        ratio = _cd_share(a, j, num)
        if ratio == _INF:
            return _INF
        return x[num] * ((x[j] / (x[j] - q)) ** ratio - 1.0)
    if kind == LEONTIEF:
        return 0.0 if (x[j] - q) / a[j] >= math.exp(u0) else _INF
    if _ces_log_u(kind, a, rho, x, work, j, num, -q, 0.0) >= u0:
        return 0.0
    if _ces_log_u(kind, a, rho, x, work, j, num, -q, most) < u0:
        return _INF
    lo, hi = 0.0, most
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if _ces_log_u(kind, a, rho, x, work, j, num, -q, mid) >= u0:
            hi = mid
        else:
            lo = mid
    return hi


@njit(cache=True)
def _gain(before, after):
    """The rise of a log utility: inf from 0 to a positive utility, 0 staying at 0."""
    if before == -_INF:
        return _INF if after > -_INF else 0.0
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
    work = np.empty(m)
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
        u0 = log_utility_row(kinds[i], a[i], rho[i], x[i]) if constrained else 0.0
        if side == BID:
            q = lots[j]
            top = x[i, num] / q
            if constrained:
                top = reservation_buy(kinds[i], a[i], rho[i], x[i], j, num, q, u0, work) / q
                if top <= 0.0:
                    continue
            price = min(top, ceilings[j]) * np.random.random()
        else:
            q = min(lots[j], x[i, j])
            bottom = 0.0
            if constrained:
                bottom = reservation_sell(kinds[i], a[i], rho[i], x[i], j, num, q, u0, ceilings[j] * q, work) / q
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
        price = prices[j, other]
        t = min(q, quantities[j, other], x[seller, j])
        if price > 0.0:
            t = min(t, x[buyer, num] / price)
        if not t > 0.0:
            withdraw(agents, j, other)
            stand(prices, quantities, agents, j, side, i, price, q)
            continue
        before_b = log_utility_row(kinds[buyer], a[buyer], rho[buyer], x[buyer])
        before_s = log_utility_row(kinds[seller], a[seller], rho[seller], x[seller])
        old_bj, old_sj, old_bn, old_sn = x[buyer, j], x[seller, j], x[buyer, num], x[seller, num]
        _exchange(x, buyer, seller, j, num, t, price)
        gain_b = _gain(before_b, log_utility_row(kinds[buyer], a[buyer], rho[buyer], x[buyer]))
        gain_s = _gain(before_s, log_utility_row(kinds[seller], a[seller], rho[seller], x[seller]))
        if constrained and (gain_b < 0.0 or gain_s < 0.0):
            x[buyer, j], x[seller, j], x[buyer, num], x[seller, num] = old_bj, old_sj, old_bn, old_sn
            if (gain_b < 0.0 and k == buyer) or (gain_s < 0.0 and k == seller):
                withdraw(agents, j, other)
            continue
        clear(agents, j)
        trades += 1
        value[j] += t * price
        volume[j] += t
        largest = max(largest, gain_b, gain_s)
    return largest, trades, orders


class DoubleAuction(Solver):
    """A double auction of every good against money, with zero-intelligence traders (Gode and
    Sunder 1993): ZI-C by default, ZI-U with ``constrained=False`` (see the module docstring).

    Parameters (besides `quiet` and `max_iter`, in orders): `numeraire`, the money's index
    (-1: the good with the largest total endowment); `lot`, the share of a good's supply one
    order trades; `ceiling`, the highest unit price as a multiple of the money stock over the
    good's supply; `period`, shouts a period (0: 20 n (m - 1)).
    """

    name = "double-auction"
    models = frozenset({"exchange"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = False
    trades = True
    parameters = {"constrained": True, "numeraire": -1, "lot": 0.01, "ceiling": 10.0, "period": 0,
                  "quiet": 5, "max_iter": 100_000_000}
    rules = {"numeraire": Range(-1), "lot": Range(0.0, 1.0, open_low=True), "ceiling": Range(0.0, open_low=True),
             "period": Range(0), "quiet": AT_LEAST_ONE, "max_iter": AT_LEAST_ONE}

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
        lots = float(self.params["lot"]) * supply
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
                calm = calm + 1 if largest <= tol else 0
                in_period, largest = 0, 0.0
                if calm >= quiet:
                    status = "at_rest"
                    break
            if time.perf_counter() >= deadline:
                status = "timeout"
                break
        final = best_prices(economy, x, revealed())
        extra = {"orders": orders, "trades": trades, "shouts": done, "periods": periods, "numeraire": num}
        if certify(economy, final, x).within(tol):
            return Outcome("converged", final, x, orders, extra=extra, trace=tracer.checkpoints)
        message = (f"no trade raised a utility by more than tol in {quiet} periods; the allocation is "
                   "not a Walrasian equilibrium's" if status == "at_rest" else "")
        return Outcome(status, final, x, orders, message=message, extra=extra, trace=tracer.checkpoints)
