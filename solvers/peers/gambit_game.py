"""The pygambit side of the Gambit peers (Gambit 16, McKelvey, McLennan and Turocy, "Gambit:
Software Tools for Game Theory", www.gambit-project.org): the strategic game of a game
economy, and the mixed strategies of the profiles a Gambit method returns."""
from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

import numpy as np

from gebench.markets.games import GameForm

from .game import GamePeer, RegretTolerance, exact_payoffs


def gambit_game(form: GameForm):
    """pygambit's `Game` of the form, built from its exact payoffs divided by the largest
    (pygambit refuses integers of 2^31 - 1 or more; the ratio keeps every equilibrium)."""
    import pygambit
    R, C = exact_payoffs(form)
    return pygambit.Game.from_arrays(np.array(R, dtype=object), np.array(C, dtype=object))


def strategies(game, profile, exact: bool) -> tuple[list, list]:
    """(sigma, tau) of a Gambit mixed-strategy profile: Fractions from a rational profile
    when `exact`, floats otherwise."""
    convert = (lambda v: Fraction(str(v))) if exact else float
    row, column = game.players
    return ([convert(profile[s]) for s in row.strategies], [convert(profile[s]) for s in column.strategies])


def found(game, result, exact: bool) -> list:
    """Every equilibrium of a Gambit `NashComputationResult`, as (sigma, tau)."""
    return [strategies(game, profile, exact) for profile in result.equilibria]


class GambitRegretPeer(RegretTolerance, GamePeer):
    """A Gambit method that stops at a maximum regret: `solve(pygambit, game, regret)` calls
    it on the game; `rational` says whether its profiles are exact."""

    package = "pygambit"
    rational: ClassVar[bool] = False

    def solve(self, pygambit, game, regret: float):
        raise NotImplementedError

    def equilibria(self, form: GameForm, tol: float, seed: int):
        import pygambit
        game = gambit_game(form)
        return found(game, self.solve(pygambit, game, self.regret(tol)), self.rational), 0, {}
