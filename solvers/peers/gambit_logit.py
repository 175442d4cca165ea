"""Gambit's logit path (`pygambit.nash.logit_solve`): the principal branch of the logit
quantal response equilibria, traced by predictor-corrector continuation to its limit, a
Nash equilibrium (McKelvey and Palfrey 1995; Turocy, "A dynamic homotopy interpretation of
the logistic quantal response equilibrium correspondence", Games Econ. Behav. 2005), until
the maximum regret is at most `maxregret` times the payoffs' range; "tol" (the default)
asks for the run's certificate tolerance."""
from __future__ import annotations

from .gambit_game import GambitRegretPeer


class GambitLogit(GambitRegretPeer):
    """Gambit's logit homotopy, in floats."""

    name = "gambit-logit"

    def solve(self, pygambit, game, regret: float):
        return pygambit.nash.logit_solve(game, maxregret=regret)
