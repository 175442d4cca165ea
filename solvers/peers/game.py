"""The base of every game peer: map a game economy to its bimatrix game, let the peer find
Nash equilibria, and map them back to prices and an allocation for the certificate.

The reduction is Codenotti, Saberi, Varadarajan and Ye (2006), as in `gebench.markets.games`: a
Leontief exchange economy whose coefficients form the blocks [[0, C], [R^T, 0]] encodes
the game (R, C), and a Nash equilibrium (sigma, tau) gives the Lemke-Howson point
x = sigma / max_j (C^T sigma)_j, y = tau / max_i (R tau)_i (C^T x <= 1 and R y <= 1, tight
on the best responses), from which `gebench.markets.games.equilibrium_from_nash` builds the
economy's equilibrium. Given exact strategies (Fractions) of an economy with exact
coefficients, the point is computed exactly.

Game economies have positive payoffs by construction. A float peer gets them as they are
(its tolerances are absolute: QuantEcon's Lemke-Howson, given the hard game of d = 10
scaled to payoffs of at most 1, ends after 3 pivots at a point that is no equilibrium,
and given it unscaled finds one); a rational peer gets them exactly, divided by the
largest, which leaves every equilibrium unchanged: pygambit refuses integer payoffs of
2^31 - 1 or more, and the hard games' reach 2^60.

A peer's loop runs in its own compiled code and cannot stop at the run's deadline
(`interruptible = False`): the harness's worker kill enforces the budget, and a peer that
returns after its deadline reports `timeout`. Every equilibrium a peer returns is recorded,
as prices, in `extra["equilibria"]`; the first is the run's answer.
"""
from __future__ import annotations

import importlib
import time
from fractions import Fraction
from typing import ClassVar

import numpy as np

from gebench.markets import Economy, InputError
from gebench.markets.games import GameForm, equilibrium_from_nash, game_of

from ..base import Outcome, Solver
from ..kernels.params import POSITIVE, Choice, Either


def exact_payoffs(form: GameForm):
    """(R, C) for a rational peer: lists of Fractions (from the economy's exact coefficients
    where it has them) divided by the largest."""
    R = form.exact_R if form.exact_R is not None else [[Fraction(float(v)) for v in row] for row in form.R]
    C = form.exact_C if form.exact_C is not None else [[Fraction(float(v)) for v in row] for row in form.C]
    top = max(max(max(row) for row in R), max(max(row) for row in C))
    return [[v / top for v in row] for row in R], [[v / top for v in row] for row in C]


def best_responses_only(form: GameForm, sigma: np.ndarray, tau: np.ndarray, tol: float):
    """(sigma, tau) with every strategy that is not a best response to the other's, by more
    than `tol` of the best payoff, set to 0 (and each renormalised). An approximate method
    (logit, simplicial subdivision, McLennan-Tourky) leaves tiny weights on strategies no
    equilibrium plays, which would enter the economy's support; an exact one has none."""
    def keep(weights, payoffs):
        kept = np.where(payoffs >= payoffs.max() * (1 - tol), weights, 0.0)
        # a profile that plays no best response at all is no equilibrium: left to the certificate
        return kept / kept.sum() if kept.sum() > 0 else weights
    return keep(sigma, form.R @ tau), keep(tau, form.C.T @ sigma)


def lemke_howson_point(form: GameForm, sigma, tau, tol: float):
    """The Lemke-Howson point (x, y) of the mixed strategies (sigma, tau): exact when both
    are Fractions and the form has exact payoffs, floats otherwise, played on best responses
    only (`best_responses_only`)."""
    if (form.exact_R is not None and all(isinstance(v, Fraction) for v in (*sigma, *tau))):
        R, C = form.exact_R, form.exact_C
        m, n = len(R), len(R[0])
        to_col = [sum(C[i][j] * sigma[i] for i in range(m)) for j in range(n)]
        to_row = [sum(R[i][j] * tau[j] for j in range(n)) for i in range(m)]
        v_col, v_row = max(to_col), max(to_row)
        return [s / v_col for s in sigma], [t / v_row for t in tau]
    sigma, tau = best_responses_only(form, np.asarray(sigma, float), np.asarray(tau, float), tol)
    return sigma / (form.C.T @ sigma).max(), tau / (form.R @ tau).max()


def prices_of(economy: Economy, form: GameForm, sigma, tau, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(prices, allocation) of the economy at the Nash equilibrium (sigma, tau)."""
    x, y = lemke_howson_point(form, sigma, tau, tol)
    return equilibrium_from_nash(economy, form, x, y)


class RegretTolerance:
    """A peer that stops at a maximum regret (`maxregret`, times the payoffs' range, as
    Gambit defines it): "tol", the default, asks for the run's certificate tolerance."""

    parameters = {"maxregret": "tol"}
    rules = {"maxregret": Either(POSITIVE, Choice(("tol",)))}

    def regret(self, tol: float) -> float:
        return tol if self.params["maxregret"] == "tol" else float(self.params["maxregret"])


class GamePeer(Solver):
    """A peer's Nash-equilibrium method run on game economies. Subclasses declare `package`
    (the module to import) and implement `equilibria`."""

    models = frozenset({"exchange"})
    utilities = frozenset({"leontief"})
    exact = True
    interruptible = False
    package: ClassVar[str] = ""

    @classmethod
    def check_environment(cls) -> str | None:
        try:
            importlib.import_module(cls.package)
        except ImportError as exc:
            return f"{cls.package} is not installed (pip install 'gebench[peers]'): {exc}"
        return None

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason:
            return reason
        try:
            game_of(economy)
        except InputError as exc:
            return str(exc)
        return None

    def equilibria(self, form: GameForm, tol: float, seed: int) -> tuple[list, int, dict]:
        """([(sigma, tau), ...], iterations, extra): the equilibria the peer returned, as
        mixed strategies (floats or Fractions), its iterations where it reports them (else
        0), and anything worth recording; with no equilibrium, `extra["status"]` may say why
        (`max_iter`), else the run has `failed`."""
        raise NotImplementedError

    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        form = game_of(economy)
        if time.perf_counter() >= deadline:
            return Outcome("timeout", message="the deadline had passed before the peer started")
        found, iterations, extra = self.equilibria(form, tol, seed)
        if time.perf_counter() > deadline:
            return Outcome("timeout", iterations=iterations, extra=extra,
                           message="the peer returned after the deadline (its loop cannot be interrupted)")
        if not found:
            status = extra.pop("status", "failed")
            return Outcome(status, iterations=iterations, extra=extra,
                           message="the peer returned no equilibrium" + (f" ({status})" if status != "failed" else ""))
        points = [prices_of(economy, form, sigma, tau, tol) for sigma, tau in found]
        extra = {**extra, "equilibria": [p.tolist() for p, _ in points]}
        prices, allocation = points[0]
        return Outcome("converged", prices, allocation, iterations, extra=extra)

    def warm_up(self) -> None:
        if self.unavailable():
            return
        from gebench.markets.games import leontief_from_game  # the first call imports and compiles the peer
        R = np.array([[2.0, 1.0], [1.0, 2.0]])
        self.run(leontief_from_game(R, R[::-1]), 1e-6, time.perf_counter() + 60.0, 0)
