"""QuantEcon's McLennan-Tourky method (`quantecon.game_theory.mclennan_tourky`, QuantEcon.py
0.11): the imitation-game iteration of McLennan and Tourky, "From imitation games to
Kakutani" (2006), which finds an epsilon-Nash equilibrium as an approximate fixed point of
the best-response correspondence; a fixed-point method, as gebench's `scarf` is.

`epsilon` is the peer's own tolerance on the players' regrets, in payoff units; "tol" asks
for the run's certificate tolerance."""
from __future__ import annotations

from gebench.markets.games import GameForm

from ..kernels.params import AT_LEAST_ONE, POSITIVE, Choice, Either
from .game import GamePeer
from .quantecon_lemke_howson import normal_form


class QuantEconMcLennanTourky(GamePeer):
    """QuantEcon's McLennan-Tourky; `max_iter` is its iteration limit."""

    name = "quantecon-mclennan-tourky"
    package = "quantecon"
    parameters = {"epsilon": "tol", "max_iter": 200}
    rules = {"epsilon": Either(POSITIVE, Choice(("tol",))), "max_iter": AT_LEAST_ONE}

    def equilibria(self, form: GameForm, tol: float, seed: int):
        from quantecon.game_theory import mclennan_tourky
        epsilon = tol if self.params["epsilon"] == "tol" else float(self.params["epsilon"])
        (sigma, tau), res = mclennan_tourky(normal_form(form), epsilon=epsilon,
                                            max_iter=int(self.params["max_iter"]), full_output=True)
        if not res.converged:
            return [], int(res.num_iter), {"status": "max_iter"}
        return [(sigma, tau)], int(res.num_iter), {}
