"""Demand, utility and indirect utility of the four families, per agent row.

Values are computed in logs so that CES near rho = 1 or rho = -50 neither
overflows nor underflows. Zero prices and zero coefficients never produce NaN:
goods with a_j = 0 are ignored, a wanted free good gives infinite demand (and
an infinite indirect utility where it makes utility unbounded).

The row kernels are Numba functions so that solvers can call them from their
own compiled loops; the public functions below apply them to a whole economy.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numba import njit

from .economy import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy, stored_rows

_INF = math.inf


@njit(cache=True)
def _row_max(a):
    top = 0.0
    for j in range(a.shape[0]):
        if a[j] > top:
            top = a[j]
    return top


@njit(cache=True)
def _cd_scale(a):
    """(top, total) with top = max_j a_j and total = sum_j a_j / top, so that the Cobb-Douglas
    shares alpha_j = a_j / top / total never overflow, whatever the coefficients' magnitude."""
    top = _row_max(a)
    total = 0.0
    for j in range(a.shape[0]):
        total += a[j] / top
    return top, total


@njit(cache=True)
def demand_row(kind, a, log_a, rho, p, log_p, b, x):
    """Write into x the optimal bundle of one agent at prices p and income b.

    log_a and log_p are log(a) and log(p), computed once by the caller: the CES
    branch then costs one exp per good, shifted by the row's largest exponent so
    that sigma (log a - log p) cannot overflow even for rho near 1.
    """
    m = a.shape[0]
    for j in range(m):
        x[j] = 0.0
    if b <= 0.0:
        return
    if kind == LEONTIEF:
        cost = 0.0
        for j in range(m):
            cost += a[j] * p[j]
        for j in range(m):
            if a[j] > 0.0:
                x[j] = _INF if cost <= 0.0 else a[j] * b / cost
        return
    free = False
    for j in range(m):
        if a[j] > 0.0 and p[j] <= 0.0:
            free = True
            x[j] = _INF
    # A wanted free good absorbs unbounded demand; with Cobb-Douglas or CES
    # complements the other goods keep their demand (free goods leave the price index).
    if free and (kind == LINEAR or (kind == CES and rho > 0.0)):
        return
    if kind == LINEAR:
        best = 0.0
        for j in range(m):
            if a[j] > 0.0 and a[j] / p[j] > best:
                best = a[j] / p[j]
        ties = 0
        for j in range(m):
            if a[j] > 0.0 and a[j] / p[j] >= best * (1.0 - 1e-12):
                ties += 1
        for j in range(m):
            if a[j] > 0.0 and a[j] / p[j] >= best * (1.0 - 1e-12):
                x[j] = b / ties / p[j]
    elif kind == COBB_DOUGLAS:
        top, total = _cd_scale(a)
        for j in range(m):
            if a[j] > 0.0 and p[j] > 0.0:
                x[j] = a[j] / top / total * b / p[j]
    else:
        # x_j = b e_j / sum_k e_k p_k with e_j = (a_j / p_j)^sigma, shifted by max e_j
        sigma = 1.0 / (1.0 - rho)
        top = -_INF
        for j in range(m):
            if a[j] > 0.0 and p[j] > 0.0:
                t = sigma * (log_a[j] - log_p[j])
                if t > top:
                    top = t
        if top == -_INF:
            return
        cost = 0.0
        for j in range(m):
            if a[j] > 0.0 and p[j] > 0.0:
                x[j] = math.exp(sigma * (log_a[j] - log_p[j]) - top)
                cost += x[j] * p[j]
        scale = b / cost
        for j in range(m):
            if a[j] > 0.0 and p[j] > 0.0:
                x[j] *= scale


@njit(cache=True)
def _log_dot(a, v):
    """log sum_j a_j v_j over the goods with a_j > 0 and v_j > 0, summed in logs so that
    coefficients near the float limit cannot overflow; -inf where no term is positive."""
    top = -_INF
    for j in range(a.shape[0]):
        if a[j] > 0.0 and v[j] > 0.0:
            t = math.log(a[j]) + math.log(v[j])
            if t > top:
                top = t
    if top == -_INF:
        return -_INF
    total = 0.0
    for j in range(a.shape[0]):
        if a[j] > 0.0 and v[j] > 0.0:
            total += math.exp(math.log(a[j]) + math.log(v[j]) - top)
    return top + math.log(total)


@njit(cache=True)
def log_utility_row(kind, a, rho, x):
    """log u(x) for one agent; -inf where u(x) = 0."""
    m = a.shape[0]
    if kind == LINEAR:
        return _log_dot(a, x)
    if kind == COBB_DOUGLAS:
        top, total = _cd_scale(a)
        acc = 0.0
        for j in range(m):
            if a[j] > 0.0:
                if x[j] <= 0.0:
                    return -_INF
                acc += a[j] / top / total * math.log(x[j])
        return acc
    if kind == LEONTIEF:
        low = _INF
        for j in range(m):
            if a[j] > 0.0:
                if x[j] <= 0.0:
                    return -_INF
                v = math.log(x[j]) - math.log(a[j])
                if v < low:
                    low = v
        return low
    # CES: (1/rho) log sum_j (a_j / max a) x_j^rho, summed in logs (see `_ces_scale`)
    la = _ces_scale(a)
    top = -_INF
    for j in range(m):
        if a[j] > 0.0:
            if x[j] <= 0.0:
                if rho < 0.0:
                    return -_INF
                continue
            t = math.log(a[j]) - la + rho * math.log(x[j])
            if t > top:
                top = t
    if top == -_INF:
        return -_INF
    total = 0.0
    for j in range(m):
        if a[j] > 0.0 and x[j] > 0.0:
            total += math.exp(math.log(a[j]) - la + rho * math.log(x[j]) - top)
    return (top + math.log(total)) / rho


@njit(cache=True)
def _ces_scale(a):
    """log max_j a_j. The CES utility and indirect utility are taken with a_j / max a: the
    same preferences (u is multiplied by a constant), and it keeps log u and log V from
    carrying a term log(max a) / rho, which for rho near 0 cancels only to rounding."""
    return math.log(_row_max(a))


@njit(cache=True)
def log_indirect_row(kind, a, rho, p, b):
    """log of the best utility affordable at prices p with income b >= 0: +inf where it is
    unbounded, also at b = 0 (a free wanted good that alone gives utility: any such good for
    linear and CES with rho > 0, every wanted good for Cobb-Douglas with no income, for
    Leontief and for CES complements), and -inf where income is 0 and it is bounded."""
    m = a.shape[0]
    log_b = math.log(b) if b > 0.0 else -_INF
    if kind == LEONTIEF:
        log_cost = _log_dot(a, p)
        return log_b - log_cost if log_cost > -_INF else _INF
    if kind == LINEAR:
        best = -_INF
        for j in range(m):
            if a[j] > 0.0:
                if p[j] <= 0.0:
                    return _INF
                v = math.log(a[j]) - math.log(p[j])
                if v > best:
                    best = v
        return log_b + best
    if kind == COBB_DOUGLAS:
        free = 0
        wanted = 0
        for j in range(m):
            if a[j] > 0.0:
                wanted += 1
                if p[j] <= 0.0:
                    free += 1
        if free > 0 and (b > 0.0 or free == wanted):
            return _INF
        if b <= 0.0:
            return -_INF
        top, total = _cd_scale(a)
        acc = log_b
        for j in range(m):
            if a[j] > 0.0:
                alpha = a[j] / top / total
                acc += alpha * (math.log(alpha) - math.log(p[j]))
        return acc
    # CES: V = b * (sum_j a_j^sigma p_j^(1 - sigma))^(1 / (sigma - 1)), with a_j / max a
    # (`_ces_scale`); sigma - 1 = rho / (1 - rho) keeps its precision for rho near 0
    sigma = 1.0 / (1.0 - rho)
    excess = rho / (1.0 - rho)
    la = _ces_scale(a)
    top = -_INF
    for j in range(m):
        if a[j] > 0.0:
            if p[j] <= 0.0:
                if sigma > 1.0:
                    return _INF
                continue
            t = sigma * (math.log(a[j]) - la) - excess * math.log(p[j])
            if t > top:
                top = t
    if top == -_INF:
        return _INF  # every wanted good is free: complements, yet unbounded
    total = 0.0
    for j in range(m):
        if a[j] > 0.0 and p[j] > 0.0:
            total += math.exp(sigma * (math.log(a[j]) - la) - excess * math.log(p[j]) - top)
    return log_b + (top + math.log(total)) / excess


@njit(cache=True)
def _demand_all(kinds, a, log_a, rho, p, b, out):
    log_p = np.log(p)
    for i in range(a.shape[0]):
        demand_row(kinds[i], a[i], log_a[i], rho[i], p, log_p, b[i], out[i])


@njit(cache=True)
def _log_utility_all(kinds, a, rho, x, out):
    for i in range(a.shape[0]):
        out[i] = log_utility_row(kinds[i], a[i], rho[i], x[i])


@njit(cache=True)
def _log_indirect_all(kinds, a, rho, p, b, out):
    for i in range(a.shape[0]):
        out[i] = log_indirect_row(kinds[i], a[i], rho[i], p, b[i])


# Sparse economies: the row kernels above only look at goods with a_j > 0 (a good with
# a_j = 0 adds 0 to every sum), so a CSR row is handled by calling them on its stored
# values, with the prices gathered at the row's column indices.

@njit(cache=True)
def _demand_all_csr(kinds, data, log_data, indptr, indices, rho, p, b, out):
    log_p = np.log(p)
    p_row = np.empty(p.shape[0])
    log_p_row = np.empty(p.shape[0])
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        for k in range(lo, hi):
            p_row[k - lo] = p[indices[k]]
            log_p_row[k - lo] = log_p[indices[k]]
        demand_row(kinds[i], data[lo:hi], log_data[lo:hi], rho[i], p_row[:hi - lo], log_p_row[:hi - lo],
                   b[i], out[lo:hi])


@njit(cache=True)
def _log_utility_all_csr(kinds, data, indptr, rho, x_data, out):
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        out[i] = log_utility_row(kinds[i], data[lo:hi], rho[i], x_data[lo:hi])


@njit(cache=True)
def _log_indirect_all_csr(kinds, data, indptr, indices, rho, p, b, out):
    p_row = np.empty(p.shape[0])
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        for k in range(lo, hi):
            p_row[k - lo] = p[indices[k]]
        out[i] = log_indirect_row(kinds[i], data[lo:hi], rho[i], p_row[:hi - lo], b[i])


def _f64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def on_pattern(economy: Economy, allocation) -> np.ndarray:
    """The entries of a sparse allocation at the stored positions of `economy.a`, in its order
    (the only entries a utility looks at)."""
    a = economy.a
    if sp.issparse(allocation):
        x = sp.csr_array(allocation)
        if x.has_canonical_format and np.array_equal(x.indptr, a.indptr) and np.array_equal(x.indices, a.indices):
            return _f64(x.data)
    else:
        x = np.asarray(allocation)
    return _f64(np.asarray(x[stored_rows(a), a.indices]).ravel())


def demand(economy: Economy, prices, incomes):
    """(n, m) optimal bundles: each agent's demand at prices with its income; in a sparse
    economy a CSR matrix with the pattern of `economy.a` (nobody demands an unwanted good)."""
    p, b = _f64(prices), _f64(incomes)
    if economy.sparse:
        a = economy.a
        out = np.empty(a.nnz)
        _demand_all_csr(economy.kinds, a.data, economy.log_a, a.indptr, a.indices, economy.rho, p, b, out)
        return sp.csr_array((out, a.indices.copy(), a.indptr.copy()), shape=a.shape)
    out = np.empty((economy.n_agents, economy.n_goods))
    _demand_all(economy.kinds, economy.a, economy.log_a, economy.rho, p, b, out)
    return out


def log_utility(economy: Economy, allocation) -> np.ndarray:
    """(n,) log u_i(x_i); -inf where a bundle gives zero utility. `allocation` may be
    dense or sparse in either kind of economy."""
    out = np.empty(economy.n_agents)
    if economy.sparse:
        a = economy.a
        _log_utility_all_csr(economy.kinds, a.data, a.indptr, economy.rho, on_pattern(economy, allocation), out)
    else:
        x = allocation.toarray() if sp.issparse(allocation) else allocation
        _log_utility_all(economy.kinds, economy.a, economy.rho, _f64(x), out)
    return out


def log_indirect_utility(economy: Economy, prices, incomes) -> np.ndarray:
    """(n,) log u_i(d_i(p)); +inf where utility is unbounded (with or without income: a
    free wanted good), -inf where income is 0 and utility is bounded."""
    out = np.empty(economy.n_agents)
    p, b = _f64(prices), _f64(incomes)
    if economy.sparse:
        a = economy.a
        _log_indirect_all_csr(economy.kinds, a.data, a.indptr, a.indices, economy.rho, p, b, out)
    else:
        _log_indirect_all(economy.kinds, economy.a, economy.rho, p, b, out)
    return out
