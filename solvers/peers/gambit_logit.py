"""Gambit's logit path (`pygambit.nash.logit_solve`): the principal branch of the logit
quantal response equilibria, traced by predictor-corrector continuation to its limit, a
Nash equilibrium (McKelvey and Palfrey 1995; Turocy, "A dynamic homotopy interpretation of
the logistic quantal response equilibrium correspondence", Games Econ. Behav. 2005), until
the maximum regret is at most `maxregret` times the payoffs' range; "tol" (the default)
asks for the run's certificate tolerance."""
from __future__ import annotations

from gebench.markets.games import GameForm

from .game import GamePeer, RegretTolerance
from .gambit_game import found, gambit_game


class GambitLogit(RegretTolerance, GamePeer):
    """Gambit's logit homotopy, in floats."""

    name = "gambit-logit"
    package = "pygambit"

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        regret = self.regret(tol)
        return found(game, pygambit.nash.logit_solve(game, maxregret=regret), False), 0, {}
