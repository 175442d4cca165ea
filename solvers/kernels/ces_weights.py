"""The price-free half of CES demand, W_ij = (a_ij / max_k a_ik)^sigma_i, computed once per
economy: tatonnement's CES kernels and PATH's CES unit costs both start from it. CES demand is
x_ij = b_i W_ij q_j^-sigma / sum_k W_ik q_k^(1-sigma) with q = p scaled by its row maximum
(gebench.markets.utilities), which keeps every power in range."""
from __future__ import annotations

import numpy as np
from numba import njit

from gebench.markets import CES


@njit(cache=True)
def ces_weights_row(a, sigma, out):
    """out_j = (a_j / max_k a_k)^sigma where a_j > 0, else 0."""
    top = 0.0
    for j in range(a.shape[0]):
        top = max(top, a[j])
    for j in range(a.shape[0]):
        out[j] = (a[j] / top) ** sigma if a[j] > 0.0 else 0.0


@njit(cache=True)
def ces_weights(kinds, a, rho):
    """W_ij = (a_ij / max_k a_ik)^sigma_i for CES rows (else 0): the price-free half of CES demand."""
    n, m = a.shape
    weights = np.zeros((n, m))
    for i in range(n):
        if kinds[i] == CES:
            ces_weights_row(a[i], 1.0 / (1.0 - rho[i]), weights[i])
    return weights


@njit(cache=True)
def ces_weights_csr(kinds, data, indptr, rho):
    """`ces_weights` at the stored coefficients of a CSR matrix."""
    weights = np.zeros(data.shape[0])
    for i in range(indptr.shape[0] - 1):
        if kinds[i] == CES:
            ces_weights_row(data[indptr[i]:indptr[i + 1]], 1.0 / (1.0 - rho[i]), weights[indptr[i]:indptr[i + 1]])
    return weights
