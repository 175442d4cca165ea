"""Gambit's simplicial subdivision (`pygambit.nash.simpdiv_solve`): van der Laan and Talman's
restart method on the product of the players' simplices, refined until the maximum regret
is at most `maxregret` times the payoffs' range (Gambit 16), started from the centroid; a
simplicial fixed-point method, as gebench's `scarf` is. "tol" (the default) asks for the
run's certificate tolerance."""
from __future__ import annotations

from fractions import Fraction

from .gambit_game import GambitRegretPeer


class GambitSimpdiv(GambitRegretPeer):
    """Gambit's simplicial subdivision, in rationals."""

    name = "gambit-simpdiv"
    rational = True

    def solve(self, pygambit, game, regret: float):
        start = game.mixed_strategy_profile(rational=True)
        return pygambit.nash.simpdiv_solve(start, maxregret=Fraction(regret).limit_denominator(10**12))
