"""Gambit's enumeration of every extreme Nash equilibrium of a bimatrix game
(`pygambit.nash.enummixed_solve`): the vertex enumeration of the best-response polytopes
of Mangasarian (1964) and Avis, Rosenberg, Savani and von Stengel (2010), in exact
rationals. Its first equilibrium is the run's answer; all of them are recorded, with
`enumerated: true`, so that a summary can say which one each other method found
(`gebench.summary.selections`). Its cost grows with the number of vertices, which
grows exponentially with d."""
from __future__ import annotations

from gebench.markets.games import GameForm

from .gambit_game import found, gambit_game
from .game import GamePeer


class GambitEnumMixed(GamePeer):
    """All extreme equilibria, exactly."""

    name = "gambit-enummixed"
    package = "pygambit"

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        result = pygambit.nash.enummixed_solve(game, rational=True)
        every = found(game, result, True)
        return every, 0, {"enumerated": True, "count": len(every)}
