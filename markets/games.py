"""Bimatrix games as Leontief exchange economies, and back.

Codenotti, Saberi, Varadarajan and Ye, "Leontief economies encode nonzero sum
two-player games" (SODA 2006). For a game (R, C) with positive m x n payoffs
(R the row player's, C the column player's), take m + n agents and goods;
agent k owns one unit of good k. A row agent i wants the column goods in the
proportions C[i, :]; a column agent k wants the row goods in the proportions
R[:, k]. At an equilibrium with utility levels u = (u_x, u_y), good j clears
as (R u_y)_j <= 1, tight where its price is positive, and good m+k as
(C^T u_x)_k <= 1: exactly the Lemke-Howson conditions of a Nash equilibrium
(x, y) = (u_x, u_y), up to normalisation. Prices follow from the incomes:
p = diag(u) a p, a Perron vector of a column-stochastic block on the support.
"""
from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np

from .economy import LEONTIEF, Economy
from .errors import InputError


@dataclass(frozen=True)
class GameForm:
    """The game inside a Leontief economy: payoffs (R, C), and the units w of each good;
    with the economy's exact coefficients, also the exact payoffs (lists of Fractions)."""

    R: np.ndarray          # (m, n) row player's payoffs
    C: np.ndarray          # (m, n) column player's payoffs
    units: np.ndarray      # (m + n,) each agent's endowment of its own good
    exact_a: list | None = None    # the economy's exact coefficients per unit of each good

    @property
    def shape(self) -> tuple[int, int]:
        return self.R.shape

    @functools.cached_property
    def resolution(self) -> float:
        """The game's `game_resolution`, from the exact payoffs where the economy has them."""
        if self.exact_a is not None:
            return game_resolution(self.exact_R, self.exact_C)
        return game_resolution(self.R, self.C)

    @property
    def exact_C(self) -> list | None:
        m = self.R.shape[0]
        return None if self.exact_a is None else [row[m:] for row in self.exact_a[:m]]

    @property
    def exact_R(self) -> list | None:
        m, n = self.R.shape
        return None if self.exact_a is None else [[self.exact_a[m + k][i] for k in range(n)] for i in range(m)]


def _is_exact(M) -> bool:
    return not isinstance(M, np.ndarray) and all(
        isinstance(v, (int, Fraction)) and not isinstance(v, bool) for row in M for v in row)


def _exact_payoffs(M, who: str) -> list[list[Fraction]]:
    """A payoff matrix as exact Fractions (a float converts exactly); `InputError` naming `who`
    when it is not a finite matrix."""
    rows = M.tolist() if isinstance(M, np.ndarray) else M
    try:
        if any(isinstance(v, (bool, str)) for row in rows for v in row):
            raise TypeError
        exact = [[v if isinstance(v, Fraction) else Fraction(v) for v in row] for row in rows]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"game: {who} must be a matrix of finite numbers") from None
    if not exact or not exact[0] or any(len(row) != len(exact[0]) for row in exact):
        raise InputError(f"game: {who} must be a nonempty matrix with rows of one length")
    return exact


def _unit_spread(M: list[list[Fraction]], along_columns: bool) -> list[list[Fraction]]:
    """M with the smallest entry of each column (`along_columns`) or row subtracted, then
    divided by the largest remaining entry, plus 1: every entry in [1, 2], the largest
    column (row) spread exactly 1. A matrix with no spread becomes all ones."""
    if along_columns:
        lows = [min(col) for col in zip(*M)]
        shifted = [[v - low for v, low in zip(row, lows)] for row in M]
    else:
        shifted = [[v - min(row) for v in row] for row in M]
    top = max(max(row) for row in shifted)
    scale = top if top > 0 else Fraction(1)
    return [[1 + v / scale for v in row] for row in shifted]


def canonical_game(R, C) -> tuple[list[list[Fraction]], list[list[Fraction]]]:
    """The canonical form of the game (R, C), exactly: one representative of all the games
    with the same best responses.

    A constant added to a column of the row player's payoffs R (or to a row of the column
    player's C), or either player's payoffs times a positive factor, changes no best
    response, so no Nash equilibrium and no Lemke-Howson path (Savani and von Stengel,
    "Hard-to-solve bimatrix games", Econometrica 2006, section 2). The canonical form
    removes both: each column of R is shifted to start at 0 and R scaled so that its largest
    column spread is 1, each row of C likewise, and 1 is added so that every payoff lies in
    [1, 2], as the Leontief encoding needs. A player's regret in the canonical game is its
    regret relative to its largest spread of payoffs against one strategy of the other
    player, which is at most its payoff range: the scale on which `nash_regret` and
    `game_resolution` are stated.

    Parameters
    ----------
    R, C : array_like
        The row and the column player's payoffs, m x n, any finite numbers (floats convert
        exactly, Python integers and Fractions stay exact).

    Returns
    -------
    (list of lists of Fraction, list of lists of Fraction)
        The canonical R and C.
    """
    R, C = _exact_payoffs(R, "R"), _exact_payoffs(C, "C")
    if (len(R), len(R[0])) != (len(C), len(C[0])):
        raise InputError(f"game: R and C must be matrices of one shape, got {len(R)} x {len(R[0])} "
                         f"and {len(C)} x {len(C[0])}")
    return _unit_spread(R, along_columns=True), _unit_spread(C, along_columns=False)


def leontief_from_game(R, C, name: str | None = None, meta: dict | None = None) -> Economy:
    """The Leontief exchange economy of the game (R, C), through its canonical form.

    Every game is first mapped to `canonical_game`, so games with the same best responses
    (a constant added to a column of R or a row of C, a player's payoffs scaled) give one
    economy, and the certificate's tolerance means the same in every one of them: at
    tolerance eps it bounds each player's regret by 51 eps of its payoff spread
    (docs/format.md, "Games"). Payoffs given as lists of Python integers or Fractions are
    kept exactly (`Economy.exact_a`), whatever their size; the float coefficients are the
    correctly rounded canonical values. The economy's meta records the game's
    `game_resolution` and its number of pure equilibria."""
    exact = _is_exact(R) and _is_exact(C)
    canon_R, canon_C = canonical_game(R, C)
    m, n = len(canon_R), len(canon_R[0])
    R = np.array([[float(v) for v in row] for row in canon_R])
    C = np.array([[float(v) for v in row] for row in canon_C])
    a = np.zeros((m + n, m + n))
    a[:m, m:] = C
    a[m:, :m] = R.T
    exact_a = None
    if exact:
        zero = Fraction(0)
        exact_a = ([[zero] * m + canon_C[i] for i in range(m)]
                   + [[canon_R[i][k] for i in range(m)] + [zero] * n for k in range(n)])
    resolution, pure = _pure_profiles(canon_R, canon_C)
    meta = dict(meta or {}, game=[m, n], game_resolution=None if math.isinf(resolution) else float(resolution),
                pure_equilibria=pure)
    kinds = np.full(m + n, LEONTIEF)
    return Economy("exchange", kinds, a, np.full(m + n, np.nan), endowment=np.eye(m + n),
                   name=name, meta=meta, exact_a=exact_a)


def _pure_profiles(R: list[list[Fraction]], C: list[list[Fraction]]) -> tuple[Fraction | float, int]:
    """(the smallest largest regret of a pure profile that is not an equilibrium, or inf when
    every profile is one; the number of pure equilibria) of a canonical game."""
    best_R = [max(col) for col in zip(*R)]
    best_C = [max(row) for row in C]
    smallest, pure = math.inf, 0
    for i, (row_R, row_C) in enumerate(zip(R, C)):
        for k, (r, c) in enumerate(zip(row_R, row_C)):
            regret = max(best_R[k] - r, best_C[i] - c)
            if regret == 0:
                pure += 1
            elif regret < smallest:
                smallest = regret
    return smallest, pure


def game_resolution(R, C) -> float:
    """The accuracy below which a game is resolved: the smallest regret, relative to the payoff
    spreads of `canonical_game`, of a pure profile that is not a Nash equilibrium.

    At any tolerance eps at or above it, some pure profile (row i, column k) is an eps-Nash
    equilibrium: checking the m n pure profiles, in O(m n) time once each column's and row's
    best payoff is known, returns one, so the game can say nothing about hardness at that
    accuracy. Below it no pure profile is an eps-Nash equilibrium (the certificate may still
    accept a pure profile's point down to about half of it: its measures are regrets over
    payoffs in [1, 2]). Every game
    has a 1/2-Nash equilibrium found in linear time (Daskalakis, Mehta and Papadimitriou, "A
    note on approximate Nash equilibria", WINE 2006), and an eps-Nash equilibrium with
    supports of O(log n / eps^2) strategies (Lipton, Markakis and Mehta, "Playing large games
    using simple strategies", EC 2003): hardness is a statement about accuracies that shrink
    with the size (Chen, Deng and Teng, "Settling the complexity of computing two-player Nash
    equilibria", JACM 2009, eps = 1/poly(n)), and a family whose resolution shrinks faster
    than its tolerance becomes easy at that tolerance.

    Returns
    -------
    float
        In (0, 1]; inf when every pure profile is an equilibrium (both players indifferent).
    """
    smallest, _ = _pure_profiles(*canonical_game(R, C))
    return float(smallest)


def nash_regret(R, C, x, y) -> tuple:
    """Each player's regret at the mixed profile (x, y) in the canonical form of (R, C):
    max_i (R y)_i - x R y for the row player and max_k (x C)_k - x C y for the column
    player, relative to the payoff spreads of `canonical_game` (so in [0, 1]).

    Computed exactly: floats convert to Fractions without rounding, so the regret of a float
    profile is its true regret. x and y need not be normalised but must be nonnegative with
    a positive sum.

    Returns
    -------
    (Fraction, Fraction)
        The row and the column player's regret.
    """
    canon_R, canon_C = canonical_game(R, C)
    x, y = _distribution(x, "x"), _distribution(y, "y")
    if len(x) != len(canon_R) or len(y) != len(canon_R[0]):
        raise InputError(f"game: x and y must have {len(canon_R)} and {len(canon_R[0])} entries")
    Ry = [sum(r * v for r, v in zip(row, y)) for row in canon_R]
    xC = [sum(x[i] * canon_C[i][k] for i in range(len(x))) for k in range(len(y))]
    xRy = sum(u * v for u, v in zip(x, Ry))
    xCy = sum(u * v for u, v in zip(xC, y))
    return max(Ry) - xRy, max(xC) - xCy


def _distribution(v, who: str) -> list[Fraction]:
    try:
        exact = [u if isinstance(u, Fraction) else Fraction(u) for u in np.asarray(v, dtype=object).ravel().tolist()]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"game: {who} must hold finite numbers") from None
    total = sum(exact)
    if any(u < 0 for u in exact) or total <= 0:
        raise InputError(f"game: {who} must be nonnegative with a positive sum")
    return [u / total for u in exact]


def strategies_of(economy: Economy, allocation) -> tuple[np.ndarray, np.ndarray]:
    """The mixed profile (x, y) an allocation of a game economy plays: each agent's Leontief
    utility level min_j X_ij / a_ij, normalised on each side. At an equilibrium these are the
    Nash equilibrium the economy encodes (Codenotti et al. 2006); at a point the certificate
    passes at tolerance eps <= 1e-2, `nash_regret` of (x, y) is at most 51 eps (docs/format.md,
    "Games").

    Raises
    ------
    InputError
        If the economy is not a game economy, or a side's utilities are all 0 (no strategy).
    """
    form = game_of(economy)
    m = form.shape[0]
    X = allocation.toarray() if hasattr(allocation, "toarray") else np.asarray(allocation, dtype=float)
    a = economy.a
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = np.where(a > 0, X / np.where(a > 0, a, 1.0), np.inf).min(axis=1)
    x, y = levels[:m], levels[m:]
    if not (np.all(np.isfinite(levels)) and levels.min() >= 0 and x.sum() > 0 and y.sum() > 0):
        raise InputError("allocation: a side of the game has no utility, so it plays no strategy")
    return x / x.sum(), y / y.sum()


_FORMS: "weakref.WeakKeyDictionary[Economy, GameForm]" = weakref.WeakKeyDictionary()


def game_of(economy: Economy) -> GameForm:
    """The game an economy encodes; `InputError` says why when it is not of that form.
    Computed once per economy (economies are immutable, and a solver's `skip` and `run` both
    ask), its arrays read-only."""
    form = _FORMS.get(economy)
    if form is None:
        form = _FORMS[economy] = _game_form(economy)
        for array in (form.R, form.C, form.units):
            array.setflags(write=False)
    return form


def _game_form(economy: Economy) -> GameForm:
    """`game_of`, computed."""
    if economy.model != "exchange" or np.any(economy.kinds != LEONTIEF):
        raise InputError("not a game economy: needs an exchange economy with Leontief utilities only")
    e = economy.endowment
    if economy.n_agents != economy.n_goods:
        raise InputError(f"not a game economy: needs one agent per good ({economy.n_agents} agents, "
                         f"{economy.n_goods} goods)")
    units = np.diag(e).copy()
    if np.any(e - np.diag(units)) or units.min() <= 0:
        raise InputError("not a game economy: agent k must own good k and nothing else")
    a = economy.a / units[None, :]
    N = a.shape[0]
    m = int(np.flatnonzero(a[0] > 0)[0])
    if m == 0 or m == N:
        raise InputError("not a game economy: agent 0 must want only goods of the other side")
    blocks_zero = not a[:m, :m].any() and not a[m:, m:].any()
    C, Rt = a[:m, m:], a[m:, :m]
    if not blocks_zero or C.min() <= 0 or Rt.min() <= 0:
        raise InputError(f"not a game economy: the coefficients must form the blocks [[0, C], [R^T, 0]] "
                         f"with C, R > 0 (split after agent {m - 1})")
    exact = None
    if economy.exact_a is not None:
        unit = [Fraction(float(u)) for u in units]
        exact = [[v / unit[j] for j, v in enumerate(row)] for row in economy.exact_a]
    return GameForm(np.ascontiguousarray(Rt.T), np.ascontiguousarray(C), units, exact)


def equilibrium_from_nash(economy: Economy, form: GameForm, x, y) -> tuple[np.ndarray, np.ndarray]:
    """(prices, allocation) of the economy from a Lemke-Howson point (x, y):
    x >= 0 with C^T x <= 1 and y >= 0 with R y <= 1, tight on the supports. Given an exact
    point (Fractions) of an economy with exact coefficients, the prices and the allocation
    are computed exactly and rounded once at the end: with payoffs beyond 2^53 a float
    fixed point is too ill-conditioned to certify."""
    exact = list(x) + list(y)
    if form.exact_a is not None and all(isinstance(v, Fraction) for v in exact):
        point = _exact_equilibrium(economy, form, exact)
        if point is not None:
            return point
    u = np.concatenate([np.asarray(x, float), np.asarray(y, float)])
    a = economy.a / form.units[None, :]
    support = np.flatnonzero(u > 0)
    M = u[support, None] * a[np.ix_(support, support)]
    # p = M p on the support: M's columns sum to 1 there, so it has a nonnegative fixed point.
    _, _, vt = np.linalg.svd(M - np.eye(len(support)))
    fixed = np.abs(vt[-1])
    scaled = np.zeros(len(u))
    scaled[support] = fixed / fixed.sum()
    prices = scaled / form.units
    allocation = u[:, None] * economy.a
    return prices / prices.sum(), allocation


def _exact_equilibrium(economy: Economy, form: GameForm, u: list[Fraction]):
    """The exact fixed point p = diag(u) a p on the support of u (normalised to sum 1), and
    the allocation u_i a_ij, as floats; None where the fixed point is not unique."""
    units = [Fraction(float(w)) for w in form.units]
    a = form.exact_a
    support = [i for i, v in enumerate(u) if v > 0]
    k = len(support)
    # (M - I) p = 0 on the support, its last equation replaced by sum(p) = 1
    rows = [[u[i] * a[i][j] - (1 if i == j else 0) for j in support] + [Fraction(0)] for i in support[:-1]]
    rows.append([Fraction(1)] * k + [Fraction(1)])
    if not _gauss_jordan(rows, k):
        return None
    fixed = [rows[r][-1] for r in range(k)]
    if any(v < 0 for v in fixed):
        return None
    scaled = [Fraction(0)] * len(u)
    for i, v in zip(support, fixed):
        scaled[i] = v
    prices = [v / units[j] for j, v in enumerate(scaled)]
    total = sum(prices)
    p = np.array([float(v / total) for v in prices])
    allocation = np.array([[float(u[i] * v) for v in row] for i, row in enumerate(economy.exact_a)])
    return p, allocation


def random_game(d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A d x d game with independent integer payoffs uniform on 1..1000 (exact in floats)."""
    return (rng.integers(1, 1001, size=(d, d)).astype(float),
            rng.integers(1, 1001, size=(d, d)).astype(float))


def morris_labels(d: int) -> list[int]:
    """Labels of the 2d facets of the dual cyclic polytope, in Gale-string order: 1..d, then
    d, d-2, d-1, d-4, d-3, ..., 2, 3, 1 (Morris, "Lemke paths on simple polytopes", Math. Oper.
    Res. 1994). Every Lemke path from the vertex on facets 1..d is exponentially long in d."""
    if d < 2 or d % 2:
        raise InputError(f"size: hard games need an even d >= 2, got {d}")
    tail = [d]
    for low in range(d - 2, 0, -2):
        tail += [low, low + 1]
    return list(range(1, d + 1)) + tail + [1]


def dual_cyclic_slack(d: int) -> list[list[Fraction]]:
    """The dual cyclic polytope with 2d facets in dimension d as {y >= 0 : B y <= 1}: the
    polar of the cyclic polytope on the moment curve (t, t^2, ..., t^d) at 2d points
    (t = -2d+1, -2d+3, ..., 2d-1, centred), in the slack coordinates y of facets 1..d, whose
    vertex (Gale string 1^d 0^d) goes to the origin; row k of B is facet d+1+k. Exact
    rationals. Facets in Gale-string order: a set of d facets meets at a vertex iff its
    string satisfies Gale's evenness condition (Gale, "Neighborly and cyclic polytopes",
    1963); the points chosen change the payoffs, never the combinatorics."""
    if d < 2 or d % 2:
        raise InputError(f"size: hard games need an even d >= 2, got {d}")
    ts = [Fraction(2 * k - 2 * d - 1) for k in range(1, 2 * d + 1)]   # symmetric: smaller payoffs
    curve = [[t ** e for e in range(1, d + 1)] for t in ts]
    centre = [sum(col, Fraction(0)) / len(curve) for col in zip(*curve)]
    # the polar {z : (c_k - centre) . z <= 1 for all k}
    normals = [[c - g for c, g in zip(row, centre)] for row in curve]
    inv = _inverse(normals[:d])
    base = [sum(row) for row in inv]                        # the vertex on facets 1..d: inv @ 1
    # with y_k = 1 - normals[k] . z for k < d (so z = base - inv y), facet k >= d reads
    # -(normals[k] inv) y <= 1 - normals[k] . base
    B = []
    for k in range(d, 2 * d):
        slack = 1 - sum(c * z for c, z in zip(normals[k], base))
        B.append([-sum(normals[k][r] * inv[r][s] for r in range(d)) / slack for s in range(d)])
    return B


def _positive_integers(M: list[list[Fraction]]) -> list[list[int]]:
    """M + c, scaled to integers, with c making every entry >= 1: a player's payoffs shifted by
    a constant and scaled by a positive factor have the same best responses, so the same
    equilibria and the same Lemke-Howson paths."""
    shift = 1 - min(min(row) for row in M)
    scale = lcm_of_denominators(v for row in M for v in row)
    return [[int((v + shift) * scale) for v in row] for row in M]


def hard_game(d: int) -> tuple[list[list[int]], list[list[int]]]:
    """Morris's labelled dual cyclic polytope as a d x d imitation game, the "unit vector
    games" form of Savani and von Stengel ("Unit vector games", 2016): (R, C) = (A + c,
    I + 1), where {y >= 0 : A y <= 1} is the dual cyclic polytope with 2d facets
    (`dual_cyclic_slack`) with facet k labelled by Morris's labelling ("Lemke paths on
    simple polytopes", 1994), whose Lemke paths are exponentially long in d. These are not
    the square games of Savani and von Stengel 2006 (`svs_game`). Integer payoffs, computed
    exactly in rationals and returned as lists of Python integers: they pass 2^53 at d = 16,
    so the economy keeps them exactly (`Economy.exact_a`) for exact pivoting."""
    labels = morris_labels(d)
    B = dual_cyclic_slack(d)
    A = [[Fraction(0)] * d for _ in range(d)]
    for k in range(d, 2 * d):
        A[labels[k] - 1] = B[k - d]
    C = [[2 if i == j else 1 for j in range(d)] for i in range(d)]
    return _positive_integers(A), C


def svs_labels(d: int) -> list[int]:
    """The labels (1..2d) of the Gale positions 1..2d of player 2's polytope in the square games
    of Savani and von Stengel: 1, 3, 2, 5, 4, ..., d-1, d-2, d, then d+2, d+1, d+4, d+3, ...,
    2d, 2d-1. Player 1's polytope is labelled by position (label k at position k). Taken from
    the authors' programs: von Stengel's lh-label.c ("LH-paths on cyclic polytopes", 2003;
    `genperm`) and Savani's Maple procedure `square` (both in github.com/ptigwe/lh-vector,
    test/dualcyclic/)."""
    if d < 2 or d % 2:
        raise InputError(f"size: hard games need an even d >= 2, got {d}")
    first = [1] + [k + 1 - 2 * (k % 2) for k in range(2, d)] + [d]
    second = [k - 1 + 2 * (k % 2) for k in range(d + 1, 2 * d + 1)]
    return first + second


def svs_game(d: int) -> tuple[list[list[int]], list[list[int]]]:
    """The square d x d games of Savani and von Stengel, "Hard-to-solve bimatrix games"
    (Econometrica 2006), for even d: both players' best-response polytopes are the dual
    cyclic polytope with 2d facets (`dual_cyclic_slack`), player 1's labelled by Gale position
    and player 2's by `svs_labels`. Every Lemke-Howson path is exponentially long: the
    shortest takes of the order of phi^(3d/4) pivots (phi the golden ratio; 8, 16, 40, 68,
    176 at d = 4 to 12), the paths of dropped labels 1 and d take F(3d/2 + 2) - 1 (Fibonacci
    numbers), and the game has one Nash equilibrium, where all 2d paths end.

    With B = `dual_cyclic_slack(d)` (columns: facets 1..d, the coordinates; rows: facets
    d+1..2d), player 1's polytope {x >= 0 : B x <= 1} carries the labels by position, so the
    column player's payoffs are C = B^T; player 2's is the same polytope with its facets
    renamed by `svs_labels`: facet k <= d becomes the coordinate y_(l(d+k) - d) and facet d+k
    the row l(k) of R, R[l(k)][l(d+j) - d] = B[k][j] (the Maple procedure `square`). Exact
    integers, as for `hard_game`."""
    labels = svs_labels(d)
    B = dual_cyclic_slack(d)
    R = [[Fraction(0)] * d for _ in range(d)]
    for k in range(d):
        for j in range(d):
            R[labels[k] - 1][labels[d + j] - d - 1] = B[k][j]
    C = [list(col) for col in zip(*B)]
    return _positive_integers(R), _positive_integers(C)


def lcm_of_denominators(values) -> int:
    """The least common multiple of the denominators of some Fractions: the factor that makes
    them all integers."""
    return lcm(1, *(v.denominator for v in values))


def _gauss_jordan(rows: list[list[Fraction]], n: int) -> bool:
    """Reduce the first n columns of `rows` (n rows of Fractions) to the identity, in place,
    exactly; False where they are singular."""
    for c in range(n):
        pivot = next((r for r in range(c, n) if rows[r][c] != 0), None)
        if pivot is None:
            return False
        rows[c], rows[pivot] = rows[pivot], rows[c]
        lead = rows[c][c]
        rows[c] = [v / lead for v in rows[c]]
        for r in range(n):
            if r != c and rows[r][c] != 0:
                f = rows[r][c]
                rows[r] = [v - f * w for v, w in zip(rows[r], rows[c])]
    return True


def _inverse(M):
    n = len(M)
    aug = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(M)]
    if not _gauss_jordan(aug, n):
        raise InputError("game: the polytope's first facets are not independent")
    return [row[n:] for row in aug]
