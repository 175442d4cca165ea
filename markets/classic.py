"""Classic economies from the literature, with their equilibria.

Each entry returns a `Classic`: the economy, the equilibrium price vectors
(normalised to sum to 1; an empty list when there is none) and the source.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .economy import Economy, make_economy
from .utilities import demand


# Scarf's tastes: agent i wants goods i and i+1 in equal amounts
_SCARF_TASTES = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Classic:
    economy: Economy
    equilibria: tuple[np.ndarray, ...]
    source: str


def scarf_1960() -> Classic:
    """Scarf, "Some examples of global instability of the competitive equilibrium" (Int. Econ.
    Rev. 1960): three agents, three goods; agent i owns one unit of good i and has utility
    min(x_i, x_(i+1)). Its only equilibrium with positive prices is p = (1/3, 1/3, 1/3), each
    agent consuming half a unit of its two goods, and continuous tatonnement circles it for
    ever. The vertices of the price simplex are only quasi-equilibria: at p = e_j only agent j
    has income, and agent j+1, with none, wants two goods that are both free, so its demand
    is unbounded (the certificate's optimality is 1 there). Near a vertex, though, at
    positive prices such as (2.5e-15, 1, 2.9e-25), every agent's tiny income buys its best
    bundle and the markets clear in value: an epsilon-equilibrium by the certificate's
    measures, which tatonnement from random starts reaches, although no exact equilibrium
    lies near it (approximate equilibria need not be near exact ones)."""
    economy = make_economy("exchange", "leontief", _SCARF_TASTES, endowment=np.eye(3), name="scarf-1960")
    return Classic(economy, (np.full(3, 1 / 3),), "Scarf (1960)")


def scarf_hirota(holding: float = 0.02) -> Classic:
    """Scarf's economy where every agent also holds `holding` units of every good: Hirota, "On
    the stability of competitive equilibrium and the patterns of initial holdings: an example"
    (Int. Econ. Rev. 1981). The extra holdings give every agent an income at every price, which
    removes the boundary quasi-equilibria; p = (1/3, 1/3, 1/3) remains, by symmetry. Hirota's
    point is that stability depends on the pattern of holdings: with these, tatonnement does
    not circle. Discrete tatonnement with steps 0.1 or 0.02 converges to it from random
    starts (22,000 to 54,000 rounds to 1e-6); with step 0.5 it overshoots and cycles far from
    it for a million rounds, an artefact of the step, not of the economy (tests/test_exact.py)."""
    economy = make_economy("exchange", "leontief", _SCARF_TASTES, endowment=np.eye(3) + holding,
                           name="scarf-hirota")
    return Classic(economy, (np.full(3, 1 / 3),), "Hirota (1981), after Scarf (1960)")


def three_equilibria(rho: float = -4.0, cross: float = 0.05) -> Classic:
    """Two agents, two goods, agent i owns good i; CES utilities with strong complementarity
    (rho = -4) and a taste for the own good: a_1 = (1, 0.05), a_2 = (0.05, 1). This is the
    textbook two-good picture of non-uniqueness (Mas-Colell, Whinston, Green, "Microeconomic
    Theory", 1995, section 17.D); the parameters are chosen here, and so are the equilibria
    computed: p = (1/2, 1/2) by symmetry and a mirrored pair (q, 1 - q), q ~ 0.135, the
    roots of the excess demand for good 1."""
    a = np.array([[1.0, cross], [cross, 1.0]])
    economy = make_economy("exchange", "ces", a, rho=rho, endowment=np.eye(2), name="three-equilibria")

    def excess_good_0(q: float) -> float:
        p = np.array([q, 1.0 - q])
        return demand(economy, p, economy.incomes(p))[:, 0].sum() - 1.0

    grid = np.linspace(0.01, 0.49, 97)
    values = [excess_good_0(q) for q in grid]
    low = next(brentq(excess_good_0, grid[k], grid[k + 1], xtol=1e-15)
               for k in range(len(grid) - 1) if values[k] * values[k + 1] < 0)
    equilibria = (np.array([low, 1 - low]), np.array([0.5, 0.5]), np.array([1 - low, low]))
    return Classic(economy, equilibria, "two-good CES construction (cf. Mas-Colell, Whinston, Green 1995, 17.D)")


def no_equilibrium_linear() -> Classic:
    """A linear exchange economy with no equilibrium (Gale, "The linear exchange model", J. Math.
    Econ. 1976: the economy graph is not strongly connected). Agent 0 owns one unit of each good
    and wants only good 0; agent 1 owns a unit of good 1 and wants only good 1. Good 1 is wanted,
    so its price is positive, and agent 0's income p_0 + p_1 then buys more than the one unit
    of good 0 there is."""
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    endowment = np.array([[1.0, 1.0], [0.0, 1.0]])
    economy = make_economy("exchange", "linear", a, endowment=endowment, name="no-equilibrium-linear")
    return Classic(economy, (), "Gale (1976)")


CLASSICS = {"scarf-1960": scarf_1960, "scarf-hirota": scarf_hirota, "three-equilibria": three_equilibria,
            "no-equilibrium-linear": no_equilibrium_linear}
