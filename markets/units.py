"""Changing the units of goods and money: the same economy, other numbers.

An equilibrium does not depend on units: counting good j in units 1/s_j as
large multiplies its quantities by s_j and divides its price by s_j, and the
utility coefficients follow so that every agent ranks bundles as before
(linear a_ij / s_j, CES a_ij s_j^(-rho), Cobb-Douglas unchanged, Leontief
a_ij s_j). Methods whose numerics are not unit-free (interior points, price
grids) solve the economy in `unit_supply` form and map the answer back.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .economy import CES, LEONTIEF, LINEAR, Economy, stored_rows
from .errors import EconomyError


def in_units(economy: Economy, scale, money: float = 1.0) -> Economy:
    """Good j counted in units 1/scale_j as large, and every endowment (exchange) or budget
    (Fisher) times `money`. Prices in the new units are p_j / scale_j."""
    if economy.production:
        raise EconomyError("producers: changing the units of a production economy is not supported")
    scale = np.asarray(scale, dtype=np.float64)
    kinds, rho = economy.kinds, economy.rho
    if economy.sparse:  # the same rule on the stored values, each at its (agent, good)
        rows = stored_rows(economy.a)
        cols, data = economy.a.indices, economy.a.data
        factor = np.ones_like(data)
        factor = np.where(kinds[rows] == LINEAR, 1.0 / scale[cols], factor)
        factor = np.where(kinds[rows] == CES, scale[cols] ** -np.nan_to_num(rho[rows]), factor)
        factor = np.where(kinds[rows] == LEONTIEF, scale[cols], factor)
        a = sp.csr_array((data * factor, cols, economy.a.indptr), shape=economy.a.shape)
    else:
        a = np.array(economy.a)
        linear, ces, leontief = (kinds == k for k in (LINEAR, CES, LEONTIEF))
        a[linear] /= scale
        a[ces] *= scale[None, :] ** (-rho[ces, None])
        a[leontief] *= scale
    owned = ({"endowment": (economy.endowment * scale if not economy.sparse
                            else economy.endowment.multiply(scale[None, :]).tocsr()) * money}
             if economy.model == "exchange"
             else {"budget": economy.budget * money, "supply": economy.total_supply * scale})
    return Economy(economy.model, economy.kinds, a, economy.rho, name=economy.name, meta=dict(economy.meta),
                   goods_names=economy.goods_names, **owned)


def unit_supply(economy: Economy) -> tuple[Economy, np.ndarray]:
    """(the economy in units where every quantity is of order one, scale): a point (p', x') of
    it is (p' * scale, x' / scale) in the original units. An exchange economy gets every
    good's supply near the number of agents (an agent holds about one unit); a Fisher
    market its default of one unit per good, and budgets averaging about 1. The factors
    are powers of two, so rescaling is exact in floating point, and an economy already in
    such units is left exactly as it is."""
    if economy.model == "exchange":
        scale = _power_of_two(economy.n_agents / economy.total_supply)
        return in_units(economy, scale), scale
    scale = _power_of_two(1.0 / economy.total_supply)
    return in_units(economy, scale, _power_of_two(economy.n_agents / economy.budget.sum())), scale


def _power_of_two(x):
    return np.exp2(np.round(np.log2(x)))
