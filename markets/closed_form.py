"""Equilibria known in closed form, the ground truth for testing solvers."""
from __future__ import annotations

import numpy as np

from .economy import COBB_DOUGLAS, Economy
from .errors import InputError
from .utilities import demand


def cobb_douglas_prices(economy: Economy) -> np.ndarray:
    """Equilibrium prices (summing to 1) of an all-Cobb-Douglas economy.

    Agent i spends the share alpha_ij = a_ij / sum_k a_ik of its income on good j,
    so clearing good j reads p_j w_j = sum_i alpha_ij b_i(p), with b_i = p . e_i
    (exchange) or B_i p . w / sum B (Fisher): a homogeneous linear system
    (diag(w) - alpha^T E) p = 0, solved with the normalisation sum p = 1.
    """
    if not np.all(economy.kinds == COBB_DOUGLAS):
        raise InputError("utility.type: closed-form prices need every agent to be Cobb-Douglas")
    economy = economy.to_dense()
    alpha = economy.a / economy.a.sum(axis=1, keepdims=True)
    w = economy.total_supply
    if economy.model == "exchange":
        income_map = economy.endowment                                   # b = E p
    else:
        income_map = np.outer(economy.budget / economy.budget.sum(), w)  # b = B (w . p) / sum B
    system = np.diag(w) - alpha.T @ income_map
    m = economy.n_goods
    lhs = np.vstack([system, np.ones((1, m))])
    rhs = np.zeros(m + 1)
    rhs[-1] = 1.0
    prices, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
    return prices


def cobb_douglas_equilibrium(economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """(prices, allocation) of an all-Cobb-Douglas economy: the allocation is the demand."""
    prices = cobb_douglas_prices(economy)
    return prices, demand(economy, prices, economy.incomes(prices))
