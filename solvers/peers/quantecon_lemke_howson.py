"""QuantEcon's Lemke-Howson (`quantecon.game_theory.lemke_howson`, QuantEcon.py 0.11):
complementary pivoting in floating point, compiled by Numba, with the lexicographic ratio
test (Lemke and Howson 1964; von Stengel, Handbook of Game Theory 3, 2002), the same
algorithm as gebench's `lemke-howson` in `arithmetic=float`. Its `init_pivot` is the label
the path drops, numbered as gebench numbers them (the row player's actions, then the
column player's)."""
from __future__ import annotations

import numpy as np

from gebench.markets.games import GameForm, game_of

from ..kernels.params import AT_LEAST_ONE, Range
from ..planners.lemke_howson import label_problem
from .game import GamePeer


def normal_form(form: GameForm):
    """QuantEcon's `NormalFormGame` of the game (float payoffs, as they are)."""
    from quantecon.game_theory import NormalFormGame
    return NormalFormGame(np.stack([form.R, form.C], axis=-1))


class QuantEconLemkeHowson(GamePeer):
    """QuantEcon's float Lemke-Howson; `dropped` is its `init_pivot`, `max_pivots` its `max_iter`."""

    name = "quantecon-lemke-howson"
    package = "quantecon"
    parameters = {"dropped": 0, "max_pivots": 10**6}
    rules = {"dropped": Range(0), "max_pivots": AT_LEAST_ONE}

    def skip(self, economy):
        return super().skip(economy) or label_problem(game_of(economy), int(self.params["dropped"]))

    def equilibria(self, form: GameForm, tol: float, seed: int):
        from quantecon.game_theory import lemke_howson
        (sigma, tau), res = lemke_howson(normal_form(form), init_pivot=int(self.params["dropped"]),
                                         max_iter=int(self.params["max_pivots"]), full_output=True)
        extra = {"pivots": int(res.num_iter)}
        if not res.converged:
            return [], int(res.num_iter), {**extra, "status": "max_iter"}
        return [(sigma, tau)], int(res.num_iter), extra
