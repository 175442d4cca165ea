"""pytest-benchmark: Lemke-Howson's exact path on Morris's hard game of d = 20 (16236 pivots,
payoffs past 2^53), on FLINT integer matrices and on Python integers, in one run so that
their ratio is read on one machine state.

    pytest benchmarks/perf/test_exact_pivots.py --benchmark-only

With --benchmark-disable these are plain tests that both follow the same path.
"""
import pytest

import solvers.lemke_howson as lh
from markets.games import hard_game

D = 20
PIVOTS = 16236


@pytest.mark.parametrize("integers", ["flint", "python"])
def test_exact_path(benchmark, monkeypatch, integers):
    flint = lh._flint()
    if integers == "flint" and flint is None:
        pytest.skip("python-flint (the exact extra) is not installed")
    if integers == "python":
        monkeypatch.setattr(lh, "_flint", lambda: None)
    R, C = hard_game(D)
    x, y, pivots, status = benchmark.pedantic(lh.lemke_howson, args=(R, C, 0, "exact"), rounds=2, warmup_rounds=0)
    assert status == "done" and pivots == PIVOTS
