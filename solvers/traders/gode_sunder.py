"""Gode and Sunder's double auction with zero-intelligence traders, in partial equilibrium.

D. K. Gode and S. Sunder, "Allocative efficiency of markets with zero-intelligence traders:
market as a partial substitute for individual rationality", Journal of Political Economy
101(1), 1993, 119-137. Six buyers and six sellers trade one unit at a time; a buyer's units
carry redemption values, a seller's units costs, and each trader trades its units in order.
A trader is drawn at random among those with units left and shouts a price for its next
unit: ZI-U traders uniformly on [1, 200], ZI-C traders never at a loss, a buyer uniformly on
[1, its next unit's value], a seller on [its next unit's cost, 200]. The book
(`gebench.solvers.kernels.order_book`, shared with the general-equilibrium auction
`gebench.solvers.traders.double_auction`) trades a shout that reaches the standing order at
that order's price and then clears. A session is six periods that start from the same
units; efficiency is the surplus realised (value minus cost of the units traded) over the
largest surplus the schedules allow.

The designs live here, beside the simulation, rather than in `gebench.markets`: they are
induced-value schedules, not `Economy` objects, and only this simulation reads them.

Sources of the numbers. The paper's text is not reachable here; the five designs are the
reconstruction of the public replication ndouglas/SugarScape
(crates/sugarscape-core/src/zi/market.rs, `schedules`), read from the paper's Figure 1 and
anchored by its text (equilibrium prices 69 and 170 in markets 2 and 4, volumes 24 and 6 in
markets 1 and 3, units whose value equals their cost left out) and by Table 2's ZI-U
efficiencies, which the schedules alone determine since ZI-U traders trade every unit.
Market 5's schedules are a staircase (18 intramarginal units a side dealt in turn to three
traders, three more traders holding seven extramarginal units each) that the replication
reads "as well as the scan allows". Table 2's efficiencies (percent, ZI-C and ZI-U, per
market) are the ones that replication quotes (crates/sugarscape-app's zi claims,
``T2_C`` and ``T2_U``); its human column was not reachable. The period's length (the paper's
30 seconds for machine traders) is never given in shouts: 2 000 shouts a period, as in
that replication, is enough for ZI-U traders to trade every unit. Prices are drawn from
the continuous uniform law.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..kernels.order_book import ASK, BID, clear, crosses, stand

LOW, HIGH = 1.0, 200.0          # the price range of every shout
PERIODS = 6                     # periods a session
SHOUTS = 2000                   # shouts a period

TABLE_2 = {                     # efficiency (%) per market, Gode and Sunder (1993), Table 2
    "ZI-C": (99.9, 99.2, 99.0, 98.2, 97.1),
    "ZI-U": (90.0, 90.0, 76.7, 48.8, 86.0),
}


@dataclass(frozen=True)
class Design:
    """One market: each buyer's redemption values and each seller's costs, in trading order."""

    buyers: tuple[tuple[float, ...], ...]
    sellers: tuple[tuple[float, ...], ...]

    def padded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(values, units a buyer has, costs, units a seller has), the limits padded to
        rectangles for the compiled kernel."""
        def pad(side):
            width = max(len(t) for t in side)
            limits = np.zeros((len(side), width))
            for i, t in enumerate(side):
                limits[i, :len(t)] = t
            return limits, np.array([len(t) for t in side], dtype=np.int64)
        return (*pad(self.buyers), *pad(self.sellers))

    @property
    def max_surplus(self) -> float:
        """The largest total surplus: values from the highest down against costs from the
        lowest up, while value >= cost (the competitive equilibrium's)."""
        values = sorted((v for t in self.buyers for v in t), reverse=True)
        costs = sorted(c for t in self.sellers for c in t)
        return float(sum(v - c for v, c in zip(values, costs) if v >= c))

    @property
    def all_units_surplus(self) -> float:
        """The surplus if every unit trades, losing ones too: what ZI-U traders realise."""
        return float(sum(map(sum, self.buyers)) - sum(map(sum, self.sellers)))


def _six(units) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(u) for u in units) for _ in range(6))


def _staircase(start: float, end: float, beyond: float) -> tuple[tuple[float, ...], ...]:
    """Market 5's side: 18 units evenly from `start` to `end` (rounded), dealt in turn to
    three traders, and three traders with seven units each at `beyond`."""
    steps = [float(np.floor(start + (end - start) * i / 17 + 0.5)) for i in range(18)]
    return tuple(tuple(steps[k::3]) for k in range(3)) + ((float(beyond),) * 7,) * 3


MARKETS = {
    1: Design(_six([102, 97, 92, 87, 82, 77]), _six([34, 46, 58, 70, 82, 94])),
    2: Design(_six([117, 105, 93, 81, 69, 57]), _six([49, 54, 59, 64, 69, 74])),
    3: Design(_six([133, 95, 90]), _six([90, 95, 100])),
    4: Design(_six([180, 175, 170, 165, 160]), _six([90, 142, 170, 190, 198])),
    5: Design(_staircase(159, 131, 127), _staircase(96, 124, 131)),
}
"""Gode and Sunder's five markets (see the module docstring for where each number is from)."""


@njit(cache=True)
def _session(values, n_values, costs, n_costs, constrained, periods, shouts, seed, surplus):
    """`periods` periods of at most `shouts` shouts each; writes each period's realised
    surplus into `surplus` and returns the number of trades."""
    np.random.seed(seed)
    n_buyers = values.shape[0]
    n_traders = n_buyers + costs.shape[0]
    prices, quantities, agents = np.zeros((1, 2)), np.zeros((1, 2)), np.full((1, 2), -1, np.int64)
    done = np.zeros(n_traders, np.int64)
    trades = 0
    for period in range(periods):
        done[:] = 0
        clear(agents, 0)
        active = n_traders
        total = 0.0
        for _ in range(shouts):
            if active == 0:
                break
            t = np.random.randint(n_traders)
            while done[t] >= (n_values[t] if t < n_buyers else n_costs[t - n_buyers]):
                t = np.random.randint(n_traders)
            if t < n_buyers:
                side = BID
                top = values[t, done[t]] if constrained else HIGH
                price = LOW + (top - LOW) * np.random.random()
            else:
                side = ASK
                bottom = costs[t - n_buyers, done[t]] if constrained else LOW
                price = bottom + (HIGH - bottom) * np.random.random()
            k = crosses(prices, agents, 0, side, price)
            if k < 0:
                stand(prices, quantities, agents, 0, side, t, price, 1.0)
                continue
            buyer, seller = (t, k) if side == BID else (k, t)
            total += values[buyer, done[buyer]] - costs[seller - n_buyers, done[seller]]
            for who in (buyer, seller):
                done[who] += 1
                if done[who] >= (n_values[who] if who < n_buyers else n_costs[who - n_buyers]):
                    active -= 1
            clear(agents, 0)
            trades += 1
        surplus[period] = total
    return trades


def simulate(market: int | Design, constrained: bool, seed: int, periods: int = PERIODS,
             shouts: int = SHOUTS) -> np.ndarray:
    """Each period's allocative efficiency (realised over largest surplus, in percent) in one
    session of Gode and Sunder's market `market` (1 to 5, or a `Design`).

    Parameters
    ----------
    market : int or Design
        The market's schedules.
    constrained : bool
        True for ZI-C traders (never a shout at a loss), False for ZI-U.
    seed : int
        Seeds the draws of traders and prices.
    periods, shouts : int, optional
        Periods in the session and shouts a period.

    Returns
    -------
    numpy.ndarray
        `periods` efficiencies in percent.
    """
    design = MARKETS[market] if isinstance(market, int) else market
    values, n_values, costs, n_costs = design.padded()
    surplus = np.zeros(periods)
    _session(values, n_values, costs, n_costs, constrained, periods, shouts, seed, surplus)
    return 100.0 * surplus / design.max_surplus


def efficiencies(constrained: bool, seeds, periods: int = PERIODS, shouts: int = SHOUTS) -> np.ndarray:
    """The mean efficiency (percent) of each of the five markets over `seeds` sessions of
    `periods` periods: the reproduction of Table 2's row for ZI-C (`constrained`) or ZI-U."""
    return np.array([np.mean([simulate(k, constrained, int(s), periods, shouts) for s in seeds])
                     for k in sorted(MARKETS)])

