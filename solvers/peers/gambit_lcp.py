"""Gambit's Lemke-Howson (`pygambit.nash.lcp_solve`): the linear-complementarity path of
Lemke and Howson (1964) in Gambit's tableau, in exact rationals (`rational=true`, the
default) or in floats, stopped after the first equilibrium: the same algorithm as gebench's
`lemke-howson` (its path starts by dropping the first label, gebench's `dropped=0`)."""
from __future__ import annotations

from gebench.markets.games import GameForm

from .gambit_game import found, gambit_game
from .game import GamePeer


class GambitLCP(GamePeer):
    """Gambit's Lemke-Howson, rational or float."""

    name = "gambit-lcp"
    package = "pygambit"
    parameters = {"rational": True}

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        rational = bool(self.params["rational"])
        result = pygambit.nash.lcp_solve(game, rational=rational, stop_after=1)
        return found(game, result, rational), 0, {"arithmetic": "exact" if rational else "float"}
