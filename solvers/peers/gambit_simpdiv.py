"""Gambit's simplicial subdivision (`pygambit.nash.simpdiv_solve`): van der Laan and Talman's
restart method on the product of the players' simplices, refined until the maximum regret
is at most `maxregret` times the payoffs' range (Gambit 16), started from the centroid; a
simplicial fixed-point method, as gebench's `scarf` is. "tol" (the default) asks for the
run's certificate tolerance."""
from __future__ import annotations

from fractions import Fraction

from gebench.markets.games import GameForm

from .game import GamePeer, RegretTolerance
from .gambit_game import found, gambit_game


class GambitSimpdiv(RegretTolerance, GamePeer):
    """Gambit's simplicial subdivision, in rationals."""

    name = "gambit-simpdiv"
    package = "pygambit"

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        regret = self.regret(tol)
        start = game.mixed_strategy_profile(rational=True)
        result = pygambit.nash.simpdiv_solve(start, maxregret=Fraction(regret).limit_denominator(10**12))
        return found(game, result, True), 0, {}
