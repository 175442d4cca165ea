"""Lemke-Howson complementary pivoting, for bimatrix games and the Leontief economies that encode them.

Lemke and Howson, "Equilibrium points of bimatrix games" (1964), in the tableau
form of von Stengel, "Computing equilibria for two-person games" (Handbook of
Game Theory 3, 2002): with positive payoffs, P = {x >= 0 : C^T x <= 1} and
Q = {y >= 0 : R y <= 1}; label i < m is x_i = 0 or (R y)_i = 1, label m + j is
y_j = 0 or (C^T x)_j = 1. From (0, 0), dropping label k, the path alternates
pivots between the two tableaux until k is picked up again: a completely
labelled pair, a Nash equilibrium after normalisation.

The ratio test is lexicographic (ties broken by the rows of the basis inverse),
so degenerate games cannot cycle in exact arithmetic; in floats rounding can break
the rule, and Brent's method detects the cycle. Floating-point pivoting runs in Numba; exact
pivoting uses the integer pivoting of Bareiss elimination (every entry stays an
integer, divided by the previous pivot), as in von Stengel's lrs-style
implementations, on FLINT integer matrices where python-flint is installed (the
`exact` extra; faster than Python integers and than pygambit's rational `lcp_solve` on the
same paths: `benchmarks/perf/test_exact_pivots.py` times the three, its stored run is
results/exact-pivots.json) and on Python integers otherwise; records say which (`integers`).
The economy form maps to the game by Codenotti, Saberi, Varadarajan and Ye (2006), see
`gebench.markets.games`.
"""
from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from numba import njit

from gebench.markets import Economy, InputError, certify
from gebench.markets.games import GameForm, equilibrium_from_nash, game_of, lcm_of_denominators

from ..base import Outcome, Solver
from ..kernels.params import AT_LEAST_ONE, Choice, Either, Range

_CHUNK = 256


def tableaux(R: np.ndarray, C: np.ndarray):
    """The initial float tableaux: TP (n rows, for P) and TQ (m rows, for Q), columns indexed by
    label (0..m-1 then m..m+n-1), last column the right-hand side."""
    m, n = R.shape
    TP = np.zeros((n, m + n + 1))
    TP[:, :m] = C.T
    TP[:, m:m + n] = np.eye(n)
    TP[:, -1] = 1.0
    TQ = np.zeros((m, m + n + 1))
    TQ[:, :m] = np.eye(m)
    TQ[:, m:m + n] = R
    TQ[:, -1] = 1.0
    return TP, TQ


@njit(cache=True)
def _compare(T, r, b, c, col):
    """-1, 0 or 1 as T[r, c] / T[r, col] is below, level with or above T[b, c] / T[b, col]."""
    q_r = T[r, c] / T[r, col]
    q_b = T[b, c] / T[b, col]
    tol = 1e-11 * max(1.0, abs(q_r), abs(q_b))
    if q_r < q_b - tol:
        return -1
    return 1 if q_r > q_b + tol else 0


@njit(cache=True)
def _ratio_row(T, col, slack_lo, slack_hi):
    """The leaving row by the lexicographic minimum ratio test (-1 if the column is unbounded):
    the right-hand side first, then the columns of the basis inverse break ties."""
    rows = T.shape[0]
    scale = 0.0
    for r in range(rows):
        scale = max(scale, abs(T[r, col]))
    eps = 1e-12 * max(scale, 1.0)
    best = -1
    for r in range(rows):
        if T[r, col] <= eps:
            continue
        if best < 0:
            best = r
            continue
        order = _compare(T, r, best, T.shape[1] - 1, col)
        c = slack_lo
        while order == 0 and c < slack_hi:
            order = _compare(T, r, best, c, col)
            c += 1
        if order < 0:
            best = r
    return best


@njit(cache=True)
def _pivot(T, row, col):
    T[row, :] /= T[row, col]
    for r in range(T.shape[0]):
        if r != row and T[r, col] != 0.0:
            T[r, :] -= T[r, col] * T[row, :]


@njit(cache=True)
def _lh_float(TP, TQ, basis_p, basis_q, state, m, n, limit):
    """Advance the path by at most `limit` pivots. state = [entering label, tableau (0 P, 1 Q),
    dropped label, finished flag]; returns the pivots made (-1: unbounded column, a bad game)."""
    done = 0
    while done < limit and state[3] == 0:
        enter, which = state[0], state[1]
        if which == 0:
            row = _ratio_row(TP, enter, m, m + n)
            if row < 0:
                return -1
            leave = basis_p[row]
            _pivot(TP, row, enter)
            basis_p[row] = enter
        else:
            row = _ratio_row(TQ, enter, 0, m)
            if row < 0:
                return -1
            leave = basis_q[row]
            _pivot(TQ, row, enter)
            basis_q[row] = enter
        done += 1
        if leave == state[2]:
            state[3] = 1
        else:
            state[0] = leave
            state[1] = 1 - which
    return done


def _start(k: int, m: int) -> tuple[int, int]:
    """Entering label and tableau of the first pivot: x_k enters P, or y_(k-m) enters Q."""
    return k, (0 if k < m else 1)


def _float_path(R, C, k, deadline, max_pivots):
    m, n = R.shape
    TP, TQ = tableaux(R, C)
    basis_p = np.arange(m, m + n, dtype=np.int64)
    basis_q = np.arange(m, dtype=np.int64)
    state = np.array([*_start(k, m), k, 0], dtype=np.int64)
    pivots = 0
    # Brent's cycle detection (Brent, "An improved Monte Carlo factorization algorithm", BIT
    # 1980) on the state after each chunk of pivots: in exact arithmetic the lexicographic rule
    # never revisits a basis, so a repeated state means rounding has put the path on a cycle.
    saved, power, since = None, 1, 0
    while state[3] == 0:
        if pivots >= max_pivots:
            return None, pivots, "max_iter"
        if time.perf_counter() >= deadline:
            return None, pivots, "timeout"
        made = _lh_float(TP, TQ, basis_p, basis_q, state, m, n, min(_CHUNK, max_pivots - pivots))
        if made < 0:
            return None, pivots, "failed"
        pivots += made
        now = hash((basis_p.tobytes(), basis_q.tobytes(), int(state[0]), int(state[1])))
        if now == saved:
            return None, pivots, "cycled"
        since += 1
        if since == power:
            saved, power, since = now, 2 * power, 0
    x, y = np.zeros(m), np.zeros(n)
    for r, label in enumerate(basis_p):
        if label < m:
            x[label] = TP[r, -1]
    for r, label in enumerate(basis_q):
        if label >= m:
            y[label - m] = TQ[r, -1]
    return (np.maximum(x, 0), np.maximum(y, 0)), pivots, "done"


def _integers(M) -> tuple[list[list[int]], int]:
    """(M times the least common denominator s of its fractions, s): the same game, in
    integers. Python integers and Fractions are taken exactly, floats as the binary fractions
    they are."""
    fr = [[Fraction(v) if isinstance(v, (int, Fraction)) else Fraction(float(v)) for v in row] for row in M]
    scale = lcm_of_denominators(v for row in fr for v in row)
    return [[int(v * scale) for v in row] for row in fr], scale


def _flint():
    try:
        import flint
    except ImportError:
        return None
    return flint


def _exact_path(R, C, k, deadline, max_pivots):
    """The same path in exact integer arithmetic; returns x, y as Fractions. The tableaux are
    FLINT integer matrices (python-flint, the `exact` extra) where it is installed, so that a
    pivot is four matrix operations in C; Python integers otherwise. Both follow the same
    path, pivot for pivot."""
    m, n = len(R), len(R[0])
    (Ri, scale_R), (Ci, scale_C) = _integers(R), _integers(C)
    # rows: [labels 0..m-1 | labels m..m+n-1 | rhs]
    TP = [[Ci[i][j] for i in range(m)] + [int(r == j) for r in range(n)] + [1] for j in range(n)]
    TQ = [[int(r == i) for r in range(m)] + Ri[i] + [1] for i in range(m)]
    flint = _flint()
    pivot = _pivot_python
    if flint is not None:
        TP, TQ, pivot = flint.fmpz_mat(TP), flint.fmpz_mat(TQ), _pivot_flint(flint)
    tabs = {0: [TP, list(range(m, m + n)), 1, (m, m + n)], 1: [TQ, list(range(m)), 1, (0, m)]}
    enter, which = _start(k, m)
    pivots = 0
    while True:
        if pivots >= max_pivots:
            return None, pivots, "max_iter"
        if pivots % 64 == 0 and time.perf_counter() >= deadline:
            return None, pivots, "timeout"
        T, basis, det, (lo, hi) = tabs[which]
        width = len(T[0]) if flint is None else T.ncols()
        get = (lambda r, c, T=T: T[r][c]) if flint is None else (lambda r, c, T=T: T[r, c])
        best = _lexicographic_ratio_test(get, len(basis), width - 1, enter, lo, hi)
        if best < 0:
            return None, pivots, "failed"
        tabs[which][0], tabs[which][2] = pivot(T, best, enter, det)
        leave = basis[best]
        basis[best] = enter
        pivots += 1
        if leave == k:
            break
        enter, which = leave, 1 - which
    x = [Fraction(0)] * m
    y = [Fraction(0)] * n
    T, basis, det, _ = tabs[0]
    rows = T.tolist() if flint is not None else T
    for r, label in enumerate(basis):
        if label < m:
            x[label] = Fraction(int(rows[r][-1]) * scale_C, int(det))
    T, basis, det, _ = tabs[1]
    rows = T.tolist() if flint is not None else T
    for r, label in enumerate(basis):
        if label >= m:
            y[label - m] = Fraction(int(rows[r][-1]) * scale_R, int(det))
    return (x, y), pivots, "done"     # in the game's own units: (s R) y <= 1 is R (s y) <= 1


def _lexicographic_ratio_test(get, rows: int, rhs: int, enter: int, lo: int, hi: int) -> int:
    """The leaving row: the least ratio rhs / entry over rows with a positive entry, ties
    broken by the rows of the basis inverse (columns lo..hi-1); -1 if no entry is positive.
    `get(r, c)` reads an entry, so that the tableau may be lists or a FLINT matrix."""
    best = -1
    for r in range(rows):
        entry = get(r, enter)
        if entry <= 0:
            continue
        if best < 0:
            best, best_entry = r, entry
            continue
        for c in [rhs, *range(lo, hi)]:
            lhs, other = get(r, c) * best_entry, get(best, c) * entry
            if lhs != other:
                if lhs < other:
                    best, best_entry = r, entry
                break
    return best


def _pivot_python(T, best, enter, det):
    """Bareiss's fraction-free pivot on lists of Python integers, in place: (T, new det)."""
    piv_row = T[best]
    piv = piv_row[enter]
    for r, row in enumerate(T):
        if r != best:
            f = row[enter]
            T[r] = [(v * piv - f * w) // det for v, w in zip(row, piv_row)]
    return T, piv


def _pivot_flint(flint):
    def pivot(T, best, enter, det):
        """The same pivot as FLINT matrix operations: (piv T - column (x) pivot row) / det, with
        the pivot row kept; the division is exact (Bareiss)."""
        rows, width = T.nrows(), T.ncols()
        piv = T[best, enter]
        column = flint.fmpz_mat(rows, 1, [T[r, enter] for r in range(rows)])
        kept = [T[best, c] for c in range(width)]
        new = (T * piv - column * flint.fmpz_mat(1, width, kept)) / det
        for c, value in enumerate(kept):
            new[best, c] = value
        return new, piv
    return pivot


def lemke_howson(R, C, dropped: int = 0, arithmetic: str = "float", deadline: float = np.inf,
                 max_pivots: int = 10**9):
    """Follow the Lemke-Howson path of the game (R, C) (positive payoffs) from dropped label k.

    Returns (x, y, pivots, status): x, y the unnormalised path end (C^T x <= 1, R y <= 1, tight
    on the supports; floats, or Fractions in exact arithmetic) or None; status "done",
    "timeout", "max_iter", "failed" (an unbounded column) or, in floats only, "cycled"
    (rounding put the path on a cycle). In exact arithmetic, payoffs given as Python
    integers or Fractions (of any size) are used exactly.
    """
    m, n = np.shape(R)
    if not 0 <= dropped < m + n:
        raise ValueError(f"dropped: label must be in 0..{m + n - 1}, got {dropped}")
    if arithmetic == "exact":
        point, pivots, status = _exact_path(R, C, dropped, deadline, max_pivots)
    else:
        point, pivots, status = _float_path(np.asarray(R, dtype=np.float64), np.asarray(C, dtype=np.float64),
                                            dropped, deadline, max_pivots)
    if point is None:
        return None, None, pivots, status
    return point[0], point[1], pivots, status


def label_problem(form: GameForm, dropped: int) -> str | None:
    """Why `dropped` is not a label of the game (a solver's `skip` reason), or None."""
    labels = sum(form.shape)
    return None if 0 <= dropped < labels else f"dropped: label {dropped} is not one of the game's {labels} labels"


WELL_RESOLVED = 1e-4      # a game's resolution at which a float path's end maps to prices that certify
COMPLEMENTARY = 1e-9       # the residual of a path's end accepted as complementary


def settled(form: GameForm, x, y) -> bool:
    """Whether a float path's end needs no certificate before the judge's: the game's
    resolution (`gebench.markets.games.game_resolution`: how finely its pure profiles are told
    apart, relative to its payoff spreads) is at least `WELL_RESOLVED` (random games with
    payoffs 1 to 1000: about 1e-3), and (x, y) is complementary to `COMPLEMENTARY`:
    feasible, and each side's constraint tight wherever the other plays. Where this fails
    (the hard games' resolution falls below 1e-4 from d = 14), "auto" asks the certificate,
    and follows the exact path if it refuses."""
    if not form.resolution >= WELL_RESOLVED:
        return False
    R, C = form.R, form.C
    x, y = np.asarray(x, float), np.asarray(y, float)
    Ry, Cx = R @ y, C.T @ x
    feasible = x.min() >= 0 and y.min() >= 0 and Ry.max() <= 1 + COMPLEMENTARY and Cx.max() <= 1 + COMPLEMENTARY
    tight = np.all(Ry[x > 0] >= 1 - COMPLEMENTARY) and np.all(Cx[y > 0] >= 1 - COMPLEMENTARY)
    return bool(feasible and tight)


class LemkeHowson(Solver):
    """Lemke-Howson on a Leontief exchange economy that encodes a bimatrix game.

    `arithmetic`: "auto" pivots in floats, checks the answer and, if it fails, follows
    the path again in exact integers; "float" or "exact" force one. The check is the
    certificate, except on a game resolved to 1e-4 of its payoff spread (`settled`) whose
    float end is complementary to 1e-9 (`settled`): there the judge's certificate is the
    only one, and a refusal is recorded as `failed` without an exact retry. `dropped` is the
    label the path starts by dropping, or "all": every label's path, with each one's pivots
    recorded.

    The record is the reported path's own: `iterations` and `extra["pivots"]` count the
    pivots of the path whose end is the answer, `extra["arithmetic"]` names the arithmetic
    that produced it, and `extra["abandoned_float_pivots"]` (in "auto" mode, when the
    float path's end was not an equilibrium, or rounding ended it on a ray or put it on a
    cycle, which Brent's method detects) counts the float attempt apart. A float path
    that ends at an equilibrium may still have left the exact path on the way (on the hard
    games of d = 8 it takes 72 pivots, the exact path 80): only "exact" gives the path length.
    """

    name = "lemke-howson"
    models = frozenset({"exchange"})
    utilities = frozenset({"leontief"})
    exact = True
    parameters = {"dropped": 0, "arithmetic": "auto", "max_pivots": 10**8}
    rules = {"dropped": Either(Range(0), Choice(("all",))), "arithmetic": Choice(("auto", "float", "exact")),
             "max_pivots": AT_LEAST_ONE}

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason:
            return reason
        try:
            form = game_of(economy)
        except InputError as exc:
            return str(exc)
        if self.params["dropped"] != "all":
            return label_problem(form, int(self.params["dropped"]))
        return None

    def warm_up(self) -> None:
        for arithmetic in ("float", "exact"):      # compiles the float kernel, imports FLINT
            lemke_howson(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[1.0, 2.0], [2.0, 1.0]]), 0, arithmetic)

    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        form = game_of(economy)
        if self.params["dropped"] == "all":
            return self._every_path(economy, form, tol, deadline)
        return self._path(economy, form, int(self.params["dropped"]), tol, deadline)

    def _every_path(self, economy: Economy, form: GameForm, tol: float, deadline: float) -> Outcome:
        """Every label's path, one after the other: the answer is the first label's; the record
        holds each path's pivots and the shortest and longest (Morris 1994 proves them all long
        on his games; this measures it). `iterations` is the pivots of all the paths. Each path's
        end is certified here (the judge sees only the first's): a path counted in the record
        ended at an equilibrium."""
        outcomes = []
        for k in range(sum(form.shape)):
            outcome = self._path(economy, form, k, tol, deadline, certify_end=True)
            outcomes.append(outcome)
            if outcome.status != "converged":
                break
        paths = {str(k): o.iterations for k, o in enumerate(outcomes)}
        first, last = outcomes[0], outcomes[-1]
        extra = {**first.extra, "paths": paths, "shortest": min(paths.values()), "longest": max(paths.values())}
        total = sum(o.iterations for o in outcomes)
        if last.status != "converged":
            return Outcome(last.status, last.prices, last.allocation, total, extra=extra,
                           message=f"the path of label {len(outcomes) - 1}: {last.status}"
                                   + (f", {last.message}" if last.message else ""))
        return Outcome("converged", first.prices, first.allocation, total, extra=extra)

    def _path(self, economy: Economy, form: GameForm, k: int, tol: float, deadline: float,
              certify_end: bool = False) -> Outcome:
        """The path of label k. With `certify_end` its end is certified here whatever the mode
        (every label's path but the first is one the judge never sees); otherwise only where
        "auto" needs the verdict to choose between float and exact."""
        mode = self.params["arithmetic"]
        max_pivots = int(self.params["max_pivots"])
        abandoned = {}
        for arithmetic in (("float", "exact") if mode == "auto" else (mode,)):
            R, C = ((form.exact_R, form.exact_C) if arithmetic == "exact" and form.exact_R is not None
                    else (form.R, form.C))
            x, y, pivots, status = lemke_howson(R, C, k, arithmetic, deadline, max_pivots)
            extra = {"pivots": pivots, "arithmetic": arithmetic, **abandoned}
            if arithmetic == "exact":
                extra["integers"] = "flint" if _flint() is not None else "python"
            if status in ("failed", "cycled") and arithmetic == "float" and mode == "auto":
                # rounding can end a float path on a ray, or put it on a cycle, that the exact
                # path never takes
                abandoned = {"abandoned_float_pivots": pivots}
                continue
            if status == "cycled":
                return Outcome("failed", iterations=pivots, extra=extra,
                               message="float pivoting cycled: rounding broke the lexicographic rule")
            if status != "done":
                return Outcome(status, iterations=pivots, extra=extra,
                               message="" if status != "failed" else "unbounded ray: payoffs not positive?")
            prices, allocation = equilibrium_from_nash(economy, form, x, y)
            if not certify_end and (mode != "auto" or (arithmetic == "float" and settled(form, x, y))):
                # nothing to fall back on, or a well-conditioned game's complementary point:
                # the judge's certificate decides, computed once
                return Outcome("converged", prices, allocation, pivots, extra=extra)
            if certify(economy, prices, allocation).within(tol):
                return Outcome("converged", prices, allocation, pivots, extra=extra)
            message = f"{arithmetic} pivoting ended at a point that is not an equilibrium"
            abandoned = {"abandoned_float_pivots": pivots}
        return Outcome("failed", prices, allocation, pivots, message=message, extra=extra)
