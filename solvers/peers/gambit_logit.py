"""Gambit's logit path (`pygambit.nash.logit_solve`): the principal branch of the logit
quantal response equilibria, traced by predictor-corrector continuation to its limit, a
Nash equilibrium (McKelvey and Palfrey 1995; Turocy, "A dynamic homotopy interpretation of
the logistic quantal response equilibrium correspondence", Games Econ. Behav. 2005), until
the maximum regret is at most `maxregret` times the payoffs' range; "tol" (the default)
asks for the run's certificate tolerance."""
from __future__ import annotations

from markets.games import GameForm

from ..params import POSITIVE, Choice, Either
from .game import GamePeer
from .gambit_game import found, gambit_game


class GambitLogit(GamePeer):
    """Gambit's logit homotopy, in floats."""

    name = "gambit-logit"
    package = "pygambit"
    parameters = {"maxregret": "tol"}
    rules = {"maxregret": Either(POSITIVE, Choice(("tol",)))}

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        regret = tol if self.params["maxregret"] == "tol" else float(self.params["maxregret"])
        return found(game, pygambit.nash.logit_solve(game, maxregret=regret), False), 0, {}
