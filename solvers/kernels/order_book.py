"""The order book of a double auction with zero-intelligence traders: one standing bid and
one standing ask per book, the rules of Gode and Sunder's markets.

D. K. Gode and S. Sunder, "Allocative efficiency of markets with zero-intelligence traders:
market as a partial substitute for individual rationality", Journal of Political Economy
101(1), 1993, 119-137. A book holds at most the best bid and the best ask. An incoming bid that
reaches the standing ask (bid >= ask) trades at the standing order's price; otherwise it
replaces the standing bid if it is higher, and is dropped if not (asks likewise, lower is
better). A trade clears the book: both standing orders are withdrawn.

The book only matches prices; what a trade does to the traders (units, holdings, utility)
is the caller's: `gebench.solvers.traders.gode_sunder` (partial equilibrium, one unit a
trade) and `gebench.solvers.traders.double_auction` (exchange economies, one book per good
against the numeraire) share it. The books are parallel arrays, one entry per book, so that
compiled loops hold them without Python objects; an empty side has agent -1.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BID, ASK = 0, 1


def new_books(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` empty books: (prices, quantities, agents), each (count, 2) with column `BID`
    for the standing bid and `ASK` for the standing ask; agent -1 marks an empty side."""
    return np.zeros((count, 2)), np.zeros((count, 2)), np.full((count, 2), -1, dtype=np.int64)


@njit(cache=True)
def crosses(prices, agents, book, side, price):
    """The agent of the standing order on the other side of `book` that an order of `side` at
    `price` reaches (a bid at or above the standing ask, an ask at or below the standing
    bid), or -1."""
    other = 1 - side
    k = agents[book, other]
    if k < 0:
        return -1
    if side == BID and price >= prices[book, other]:
        return k
    if side == ASK and price <= prices[book, other]:
        return k
    return -1


@njit(cache=True)
def stand(prices, quantities, agents, book, side, agent, price, quantity):
    """Let an order that crossed nothing stand if it improves on its side's standing order
    (a higher bid, a lower ask) or that side is empty; returns whether it stands."""
    k = agents[book, side]
    better = k < 0 or (price > prices[book, side] if side == BID else price < prices[book, side])
    if better:
        prices[book, side] = price
        quantities[book, side] = quantity
        agents[book, side] = agent
    return better


@njit(cache=True)
def withdraw(agents, book, side):
    """Withdraw the standing order on `side` of `book`."""
    agents[book, side] = -1


@njit(cache=True)
def clear(agents, book):
    """Withdraw both standing orders of `book`: what a trade does."""
    agents[book, BID] = -1
    agents[book, ASK] = -1
