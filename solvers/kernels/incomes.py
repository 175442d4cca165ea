"""Agents' incomes at given prices, as the compiled kernels of the dynamics and of excess
demand take them: a budget share of the value of the supply in a Fisher market (docs/format.md),
the value of the endowment in an exchange economy; dense and CSR."""
from __future__ import annotations

import numpy as np
from numba import njit

from gebench.markets import Economy


def income_inputs(economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """(budget shares, endowment) as the kernels take them: a Fisher market passes
    B / sum B and an endowment with no rows (which is how a kernel tells the models
    apart), an exchange economy zeros and its endowment."""
    if economy.model == "fisher":
        return economy.budget / economy.budget.sum(), np.zeros((0, economy.n_goods))
    return np.zeros(economy.n_agents), np.ascontiguousarray(economy.endowment)


@njit(cache=True)
def income(i, share, endowment, p, value):
    """Agent i's income from `income_inputs`: share_i (p . w) in a Fisher market (value = p . w),
    p . e_i in an exchange economy."""
    if endowment.shape[0] == 0:
        return share[i] * value
    b = 0.0
    for j in range(p.shape[0]):
        b += endowment[i, j] * p[j]
    return b


def csr_income_inputs(economy: Economy) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`income_inputs` of a sparse economy: (budget shares, endowment data, indices, indptr);
    a Fisher market passes an endowment with no rows (indptr of length 1)."""
    if economy.model == "fisher":
        return (economy.budget / economy.budget.sum(), np.zeros(0), np.zeros(0, np.int64),
                np.zeros(1, np.int64))
    e = economy.endowment
    return np.zeros(economy.n_agents), e.data, e.indices, e.indptr


@njit(cache=True)
def csr_incomes(share, e_data, e_indices, e_indptr, p, value, out):
    """Every agent's income from `csr_income_inputs` into `out`, as `income` computes one from
    dense inputs. Taken for all agents before a pass over the rows: a per-row call cost
    the sparse kernels a third of their time."""
    if e_indptr.shape[0] == 1:
        for i in range(out.shape[0]):
            out[i] = share[i] * value
        return
    for i in range(out.shape[0]):
        b = 0.0
        for k in range(e_indptr[i], e_indptr[i + 1]):
            b += e_data[k] * p[e_indices[k]]
        out[i] = b
