"""Classic economies from the literature, with their equilibria.

Each entry returns a `Classic`: the economy, the equilibrium price vectors
(normalised to sum to 1; an empty list when there is none), the source and, for an
economy with producers, the producers' levels at each equilibrium.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .economy import Economy, make_economy
from .production import Producer
from .utilities import demand

# Scarf's tastes: agent i wants goods i and i+1 in equal amounts
_SCARF_TASTES = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Classic:
    economy: Economy
    equilibria: tuple[np.ndarray, ...]
    source: str
    levels: tuple[np.ndarray, ...] = ()

    def allocation(self, k: int = 0) -> np.ndarray:
        """Every agent's demand at equilibrium k's prices (unique: no linear agents in a
        classic with producers)."""
        p = self.equilibria[k]
        return demand(self.economy, p, self.economy.incomes(p))


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


def mathiesen_1987() -> Classic:
    """Mathiesen, "An algorithm based on a sequence of linear complementarity problems applied
    to a Walrasian equilibrium model: an example" (Math. Programming 37, 1987), as the GAMS
    EMP library's MOPEC example writes it: one consumer with Cobb-Douglas shares (0.9, 0.1, 0)
    and endowment (0, 5, 3), and one activity making a unit of good 0 from a unit each of goods
    1 and 2. Its equilibrium: level 3, prices (6, 1, 5), consumption (3, 2, 0)."""
    economy = make_economy("exchange", "cobb-douglas", [[0.9, 0.1, 0.0]], endowment=[[0.0, 5.0, 3.0]],
                           producers=[Producer("activity", net_output=[1.0, -1.0, -1.0])], name="mathiesen-1987")
    return Classic(economy, (np.array([6.0, 1.0, 5.0]) / 12.0,), "Mathiesen (1987)", (np.array([3.0]),))


_KEHOE_SHARES = np.array([[0.52, 0.40, 0.04, 0.04], [0.86, 0.10, 0.02, 0.02],
                          [0.50, 0.20, 0.2975, 0.0025], [0.06, 0.25, 0.0025, 0.6875]])
_KEHOE_ACTIVITIES = np.array([[6.0, -1.0, -4.0, -1.0], [-1.0, 3.0, -1.0, -1.0]])


def kehoe_1985() -> Classic:
    """Kehoe, "A numerical investigation of the multiplicity of equilibria" (Math. Programming
    Study 23, 1985, 240-258), as the GAMS model library's KEHOMGE writes it: four goods, four
    consumers with Cobb-Douglas utilities (consumer i owns 5, 5, 40 or 40 units of good i
    alone), two activities (6, -1, -4, -1) and (-1, 3, -1, -1), and three isolated equilibria,
    both activities running in each. KEHOMGE lists no solution values; these are in closed
    form. With prices summing to 1, activity 2's zero profit gives p_1 = 1/4, activity 1's
    p_2 = (7 p_0 - 1) / 3 and p_3 = 13/12 - 10 p_0 / 3, and the clearing of good 2 factors
    as -(4 p_0 - 1)(106400 p_0^2 - 46237 p_0 + 4667) = 0: p_0 = 1/4 (all prices equal, levels
    (5.2, 6.9); good 0: demand 29.3 = 5 + 6 x 5.2 - 6.9) or p_0 = (46237 +- sqrt(151584969))
    / 212800. Random starts with one activity idle or both find no other equilibrium (the
    idle one is always profitable there). The levels of the two irrational equilibria solve
    clearing at those prices (to 1e-15)."""
    economy = make_economy("exchange", "cobb-douglas", _KEHOE_SHARES, endowment=np.diag([5.0, 5.0, 40.0, 40.0]),
                           producers=[Producer("activity", net_output=row) for row in _KEHOE_ACTIVITIES],
                           name="kehoe-1985")

    def prices(p0: float) -> np.ndarray:
        return np.array([p0, 0.25, (7 * p0 - 1) / 3, 13 / 12 - 10 * p0 / 3])
    root = math.sqrt(151584969)
    equilibria = (np.full(4, 0.25), prices((46237 + root) / 212800), prices((46237 - root) / 212800))
    levels = (np.array([5.2, 6.9]), np.array([5.3180132497870685, 6.5148151490603128]),
              np.array([4.2701283145309664, 8.1198034676171275]))
    return Classic(economy, equilibria, "Kehoe (1985), GAMS model library KEHOMGE", levels)


def shoven_whalley_1984() -> Classic:
    """Shoven and Whalley, "Applied general-equilibrium models of taxation and international
    trade" (J. Econ. Lit. 22, 1984, section III; their 1992 book, ch. 3), without taxes. Goods:
    manufacturing, non-manufacturing, capital, labour. Two CES technologies
    Q = phi (delta L^r + (1 - delta) K^r)^(1/r), r = (sigma - 1) / sigma: manufacturing with
    phi = 1.5, delta = 0.6, sigma = 2; non-manufacturing with phi = 2, delta = 0.7,
    sigma = 0.5. Two households with CES utilities (sum_i alpha_i^(1/s) X_i^r)^(1/r): the rich
    own 25 units of capital (alpha = (0.5, 0.5), s = 1.5), the poor 60 of labour
    (alpha = (0.3, 0.7), s = 0.75). The published equilibrium, labour the numeraire: prices
    1.399, 1.093, 1.373, 1; outputs 24.942 and 54.378; incomes 34.337 and 60. The values kept
    here were computed (production-newton, certified to 6e-15) and agree with every published
    digit."""
    shares = np.array([[0.5, 0.5], [0.3, 0.7]])
    s = np.array([1.5, 0.75])
    a = np.zeros((2, 4))
    a[:, :2] = shares ** (1.0 / s[:, None])
    producers = [Producer("ces", output=0, scale=1.5, a=np.array([0.0, 0.0, 0.4, 0.6]), rho=0.5),
                 Producer("ces", output=1, scale=2.0, a=np.array([0.0, 0.0, 0.3, 0.7]), rho=-1.0)]
    economy = make_economy("exchange", "ces", a, rho=(s - 1.0) / s, endowment=[[0.0, 0.0, 25.0, 0.0],
                                                                             [0.0, 0.0, 0.0, 60.0]],
                           producers=producers, name="shoven-whalley-1984",
                           goods_names=["manufacturing", "non-manufacturing", "capital", "labour"])
    prices = np.array([1.3991106622318124, 1.0930764800086163, 1.3734711469786716, 1.0])
    return Classic(economy, (prices / prices.sum(),), "Shoven and Whalley (1984)",
                   (np.array([24.9424728662078, 54.37817026715187]),))


_SH_GOODS = ["capeop", "nondurbl", "durable", "capbop", "skillab", "unsklab"]
# per good (columns of _SH_GOODS), per consumer (rows): endowments and reference demands
_SH_ENDOWMENT = np.array([[0, 0, 1.0, 3.0, 5.0, 0.1], [0, 0, 2.0, 0.1, 0.1, 7.0], [0, 0, 1.5, 2.0, 6.0, 0.1],
                          [0, 0, 1.0, 1.0, 0.1, 8.0], [0, 0, 2.0, 6.0, 0.1, 0.5]])
_SH_DEMAND = np.array([[4.0, 2, 3.2, 0, 0.2, 0], [0.4, 4, 1.0, 0, 0, 0.6], [2.0, 2, 1.5, 0, 0.5, 0],
                       [5.0, 5, 4.5, 0, 0, 0.2], [3.0, 4, 2.0, 0, 0, 0.2]])
_SH_ELASTICITY = np.array([1.2, 1.6, 0.8, 0.5, 0.6])
# the activities d1, d2, n1, n2, n3, cd, c1, c2: outputs minus inputs
_SH_ACTIVITIES = np.array([[4.0, 0, 4.0, -5.3, -2, -1], [4.0, 0, 3.5, -5.0, -1, -6], [1.6, 6, 0, -2.0, -2, -3],
                           [1.6, 8, 0, -2.0, -4, -1], [1.6, 7, 0, -2.0, -1, -8], [0.9, 0, 0, -1.0, 0, 0],
                           [7.0, 0, 0, -4.0, -3, -1], [8.0, 0, 0, -5.0, -2, -8]])


def scarf_hansen_1973() -> Classic:
    """Scarf and Hansen's activity-analysis economy ("The Computation of Economic Equilibria",
    1973), as the GAMS model library's SCARFMCP writes it: six goods (capital end of period,
    non-durables, durables, capital beginning of period, skilled and unskilled labour), five
    consumers with CES demands (elasticities 1.2, 1.6, 0.8, 0.5, 0.6, shares their reference
    demands), and eight activities. A CES demand with shares alpha and elasticity s is a CES
    utility with a_j = alpha_j^(1/s), rho = (s - 1) / s. SCARFMCP lists no solution and the
    book's table was not at hand, so the equilibrium kept here is computed (production-newton,
    the same point from the uniform start and five random ones, certified to 1e-15), and a
    separate solve of SCARFMCP's own equations with scipy, from the GAMS data typed afresh,
    reached it from six starts (prices within 6e-17, levels within 9e-16): activities d1, n1,
    n2 and c1 run, the others lose at its prices. In SCARFMCP's scale (consumer 1's income
    fixed at 9.1) the prices are 1.13249948, 0.54526016, 1.06188496, 1.29053501, 0.82765412
    and 0.28239396."""
    shares = _SH_DEMAND / _SH_DEMAND.sum(axis=1, keepdims=True)
    s = _SH_ELASTICITY
    economy = make_economy("exchange", "ces", shares ** (1.0 / s[:, None]), rho=(s - 1.0) / s,
                           endowment=_SH_ENDOWMENT, goods_names=_SH_GOODS, name="scarf-hansen-1973",
                           producers=[Producer("activity", net_output=row) for row in _SH_ACTIVITIES])
    prices = np.array([0.22032087844833406, 0.10607704462134107, 0.20658325303522465, 0.25106572836339847,
                       0.16101507007652147, 0.05493802545518042])
    levels = np.array([0.46349293456246480, 0.0, 3.9391950568227077, 0.006022990606705400, 0.0, 0.0,
                       0.43826283799002730, 0.0])
    return Classic(economy, (prices,), "Scarf and Hansen (1973), GAMS model library SCARFMCP", (levels,))


CLASSICS = {"scarf-1960": scarf_1960, "scarf-hirota": scarf_hirota, "three-equilibria": three_equilibria,
            "no-equilibrium-linear": no_equilibrium_linear, "mathiesen-1987": mathiesen_1987,
            "kehoe-1985": kehoe_1985, "shoven-whalley-1984": shoven_whalley_1984,
            "scarf-hansen-1973": scarf_hansen_1973}
