"""Gambit's global Newton method (`pygambit.nash.gnm_solve`): Govindan and Wilson, "A global
Newton method to compute Nash equilibria" (J. Econ. Theory 2003), a homotopy from the
game perturbed by a bonus on each player's first strategy; it can find several equilibria
on one path, and all are recorded. The same family as gebench's `homotopy`."""
from __future__ import annotations

from gebench.markets.games import GameForm

from .gambit_game import found, gambit_game
from .game import GamePeer


class GambitGNM(GamePeer):
    """Gambit's global Newton method, in floats, at its default settings."""

    name = "gambit-gnm"
    package = "pygambit"

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        return found(game, pygambit.nash.gnm_solve(game), False), 0, {}
