"""pytest-benchmark: Lemke-Howson's exact path on the hard games, on FLINT integer matrices, on
Python integers, and pygambit's rational `lcp_solve` (Gambit's Lemke-Howson in exact
rational arithmetic, the best public implementation of the same algorithm that installs
here) on the same games, in one run so that ratios are read on one machine state.

    pytest benchmarks/perf/test_exact_pivots.py --benchmark-only

Morris's game of d = 20 (label 0's path: 16236 pivots, payoffs past 2^53) and the square
game of Savani and von Stengel of d = 12 (label 1's path: F(20) - 1 = 6764 pivots). Gambit
reports no pivot count; its time per pivot assumes it follows the same path of dropped
label 1 (Gambit's `lcp_solve` with `stop_after=1` starts by dropping the first label). Its
payoffs are given as fractions of the largest payoff: pygambit refuses integer payoffs of
2^31 - 1 and more, and scaling a player's payoffs changes neither the equilibria nor the path.
pygambit is not a dependency: without it its cases are skipped with that reason.

With --benchmark-disable these are plain tests that follow the same paths.
"""
import importlib.util
import sys
from fractions import Fraction

import numpy as np
import pytest

import gebench.solvers.planners.lemke_howson as lh
from gebench.markets.games import hard_game, svs_game

GAMES = {"morris-20": (hard_game, 20, 16236), "svs-12": (svs_game, 12, 6764)}


@pytest.mark.parametrize("game", sorted(GAMES))
@pytest.mark.parametrize("integers", ["flint", "python"])
def test_exact_path(benchmark, monkeypatch, integers, game):
    if integers == "flint" and importlib.util.find_spec("flint") is None:
        pytest.skip("python-flint (the exact extra) is not installed")
    if integers == "python":
        monkeypatch.setitem(sys.modules, "flint", None)      # as if the exact extra were not installed
    build, d, pivots = GAMES[game]
    R, C = build(d)
    benchmark.extra_info["pivots"] = pivots
    x, y, counted, status = benchmark.pedantic(lh.lemke_howson, args=(R, C, 0, "exact"), rounds=2, warmup_rounds=0)
    assert status == "done" and counted == pivots


def _rational_game(gambit, R, C):
    top = max(max(max(row) for row in R), max(max(row) for row in C))
    as_fractions = [np.array([[Fraction(v, top) for v in row] for row in M], dtype=object) for M in (R, C)]
    return gambit.Game.from_arrays(*as_fractions)


@pytest.mark.parametrize("game", sorted(GAMES))
def test_pygambit_rational_lcp(benchmark, game):
    gambit = pytest.importorskip("pygambit", reason="pygambit is not installed (pip install pygambit)")
    build, d, pivots = GAMES[game]
    R, C = build(d)
    g = _rational_game(gambit, R, C)
    benchmark.extra_info["pivots"] = pivots
    result = benchmark.pedantic(gambit.nash.lcp_solve, args=(g,), kwargs={"rational": True, "stop_after": 1},
                                rounds=2, warmup_rounds=0)
    profile = result.equilibria[0]
    x, _, _, _ = lh.lemke_howson(R, C, 0, "exact")
    # the same equilibrium as gebench's path of label 1 (normalised to a mixed strategy)
    total = sum(x)
    player = list(g.players)[0]
    assert [Fraction(str(profile[strategy])) for strategy in player.strategies] == [v / total for v in x]
