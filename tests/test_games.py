"""Games as Leontief economies (Codenotti et al.), hard games, and Lemke-Howson."""
import importlib.util
import json
import sys
from fractions import Fraction

import numpy as np
import pytest

from gebench.markets import InputError, certify, dumps, loads, make_economy
from gebench.markets.games import (
    canonical_game,
    equilibrium_from_nash,
    game_of,
    hard_game,
    leontief_from_game,
    morris_labels,
    svs_game,
    svs_labels,
)
from gebench.markets.generators import build
from gebench.solvers import create, solve
from gebench.solvers.planners.lemke_howson import LemkeHowson, lemke_howson, settled

# matching pennies plus 2: the only equilibrium is both players mixing 50:50
PENNIES_R = np.array([[3.0, 1.0], [1.0, 3.0]])
PENNIES_C = np.array([[1.0, 3.0], [3.0, 1.0]])


def test_economy_of_a_game_maps_back_to_the_same_game():
    rng = np.random.default_rng(0)
    R, C = rng.integers(1, 9, (3, 4)).astype(float), rng.integers(1, 9, (3, 4)).astype(float)
    economy = leontief_from_game(R, C)
    assert economy.n_agents == economy.n_goods == 7
    form = game_of(economy)
    canon_R, canon_C = canonical_game(R, C)
    assert np.array_equal(form.R, np.array(canon_R, dtype=float))
    assert np.array_equal(form.C, np.array(canon_C, dtype=float))
    again_R, again_C = canonical_game(form.R, form.C)                  # the canonical form is its own
    assert np.array_equal(np.array(again_R, dtype=float), form.R)
    assert np.array_equal(np.array(again_C, dtype=float), form.C)


def test_goods_in_other_units_are_the_same_game():
    economy = leontief_from_game(PENNIES_R, PENNIES_C)
    units = np.array([2.0, 0.5, 4.0, 1.0])
    scaled = make_economy("exchange", "leontief", economy.a * units, endowment=np.diag(units))
    form = game_of(scaled)
    assert np.allclose(form.R, [[2, 1], [1, 2]]) and np.allclose(form.C, [[1, 2], [2, 1]])


@pytest.mark.parametrize("economy, words", [
    (make_economy("exchange", "leontief", np.ones((2, 2)), endowment=np.eye(2)), "other side"),
    (make_economy("exchange", "leontief", np.array([[0, 1, 1.0], [1, 0, 0], [1, 1, 0]]), endowment=np.eye(3)),
     "blocks"),
    (make_economy("exchange", "leontief", np.array([[0, 1.0], [1.0, 0]]), endowment=np.ones((2, 2))), "own good k"),
    (make_economy("fisher", "leontief", np.ones((2, 2)), budget=np.ones(2)), "exchange"),
])
def test_economies_that_are_not_games_are_refused_by_name(economy, words):
    with pytest.raises(InputError, match=words):
        game_of(economy)
    reason = create("lemke-howson").skip(economy)
    assert reason and ("game" in reason or "supported" in reason)


def test_a_nash_equilibrium_maps_to_a_certified_market_equilibrium():
    economy = leontief_from_game(PENNIES_R, PENNIES_C)
    # canonically R = [[2, 1], [1, 2]]: x = y = (1/3, 1/3) makes R y = (1, 1) and C^T x = (1, 1)
    prices, allocation = equilibrium_from_nash(economy, game_of(economy), [1 / 3, 1 / 3], [1 / 3, 1 / 3])
    assert certify(economy, prices, allocation).within(1e-12)
    assert np.allclose(prices, 0.25)


@pytest.mark.parametrize("arithmetic", ["float", "exact"])
def test_lemke_howson_finds_the_mixed_equilibrium_of_matching_pennies(arithmetic):
    x, y, pivots, status = lemke_howson(PENNIES_R, PENNIES_C, 0, arithmetic)
    assert status == "done" and pivots >= 2
    x, y = np.asarray(x, float), np.asarray(y, float)
    assert np.allclose(x / x.sum(), 0.5) and np.allclose(y / y.sum(), 0.5)


@pytest.mark.parametrize("seed", range(4))
def test_float_and_exact_pivoting_follow_the_same_path_on_random_games(seed):
    economy = build("leontief-game", 5, seed)
    form = game_of(economy)
    for k in (0, 3, 7):
        xf, yf, pf, _ = lemke_howson(form.R, form.C, k, "float")
        xe, ye, pe, _ = lemke_howson(form.R, form.C, k, "exact")
        assert pf == pe
        assert np.allclose(xf, np.asarray(xe, float), rtol=1e-9) and np.allclose(yf, np.asarray(ye, float), rtol=1e-9)


def test_lemke_howson_on_game_economies_is_certified():
    for seed in range(3):
        economy = build("leontief-game", 6, seed)
        result = solve(create("lemke-howson"), economy, tol=1e-9)
        assert result.status == "converged" and result.certificate.within(1e-9)
        assert result.extra["pivots"] == result.iterations > 0


def test_morris_labels_use_every_label_twice():
    labels = morris_labels(8)
    assert sorted(labels) == sorted(list(range(1, 9)) * 2)
    with pytest.raises(InputError, match="even"):
        morris_labels(5)


def _exact_pivots(d: int) -> list[int]:
    R, C = hard_game(d)
    return [lemke_howson(R, C, k, "exact")[2] for k in range(2 * d)]


def test_every_lemke_howson_path_on_hard_games_grows_exponentially():
    pivots = {d: _exact_pivots(d) for d in (4, 6, 8, 10)}
    for d in (4, 6, 8):
        longest, shortest = max(pivots[d]), min(pivots[d])
        # the longest path more than doubles each time d grows by 2, the shortest grows too
        assert max(pivots[d + 2]) >= 2.2 * longest
        assert min(pivots[d + 2]) >= 1.3 * shortest


def test_float_pivoting_breaks_down_on_hard_games_and_exact_arithmetic_takes_over():
    form = game_of(build("leontief-game-morris", 12))
    _, _, float_pivots, status = lemke_howson(form.R, form.C, 0, "float")
    _, _, exact_pivots, _ = lemke_howson(form.exact_R, form.exact_C, 0, "exact")
    assert status == "cycled" and float_pivots != exact_pivots == 476     # rounding leaves the true path
    economy = build("leontief-game-hard", 12)
    floating = solve(create("lemke-howson[arithmetic=float]"), economy, tol=1e-9)
    assert floating.status != "converged"         # its end point is not an equilibrium
    auto = solve(create("lemke-howson"), economy, tol=1e-9)
    assert auto.status == "converged" and auto.extra["arithmetic"] == "exact"
    assert auto.extra["pivots"] == auto.iterations == exact_pivots      # the reported path's own pivots
    assert auto.extra["abandoned_float_pivots"] == float_pivots


def test_hard_games_beyond_a_double_are_built_exactly_and_solved_exactly():
    R, C = hard_game(16)
    assert max(map(max, R)) > 2**53 and all(isinstance(v, int) for row in R for v in row)
    canon_R, _ = canonical_game(R, C)
    economy = build("leontief-game-hard", 16)
    assert economy.exact_a is not None and float(economy.exact_a[16][0]) == economy.a[16, 0]
    assert economy.exact_a[16][0] == canon_R[0][0]                 # R^T sits in the lower-left block
    assert any(Fraction(float(v)) != v for row in economy.exact_a for v in row)   # no double holds them
    back = loads(dumps(economy))                                   # the file holds the fractions exactly
    assert back.exact_a == economy.exact_a and np.array_equal(back.a, economy.a)
    assert any(isinstance(v, str) and "/" in v for row in json.loads(dumps(economy))["agents"]
               for v in row["utility"]["a"])
    result = solve(create("lemke-howson"), economy, tol=1e-9)
    assert result.status == "converged" and result.extra["arithmetic"] == "exact"
    assert result.certificate.worst < 1e-12
    assert result.iterations == result.extra["pivots"] == lemke_howson(R, C, 0, "exact")[2] == 2784


def test_the_exact_path_lengths_of_the_hard_games_grow_by_more_than_twice_per_step():
    lengths = [lemke_howson(*hard_game(d), 0, "exact")[2] for d in (2, 4, 6, 8, 10, 12)]
    assert lengths[:5] == [4, 12, 32, 80, 196]
    assert all(b > 2.3 * a for a, b in zip(lengths[1:], lengths[2:]))


@pytest.mark.skipif(importlib.util.find_spec("flint") is None, reason="python-flint (the exact extra) is not installed")
def test_flint_and_python_integers_follow_the_same_exact_path(monkeypatch):
    R, C = hard_game(12)
    flint_path = lemke_howson(R, C, 0, "exact")
    monkeypatch.setitem(sys.modules, "flint", None)          # as if the exact extra were not installed
    python_path = lemke_howson(R, C, 0, "exact")
    assert flint_path[2] == python_path[2] == 476
    assert flint_path[0] == python_path[0] and flint_path[1] == python_path[1]
    economy = build("leontief-game-morris", 12)
    assert solve(create("lemke-howson[arithmetic=exact]"), economy, tol=1e-9).extra["integers"] == "python"


def test_dropped_all_follows_every_labels_path_and_records_each():
    R, C = hard_game(6)
    economy = build("leontief-game-morris", 6)
    result = solve(create("lemke-howson[dropped=all,arithmetic=exact]"), economy, tol=1e-9)
    assert result.status == "converged" and len(result.extra["paths"]) == 12
    lengths = {str(k): lemke_howson(R, C, k, "exact")[2] for k in range(12)}
    assert result.extra["paths"] == lengths
    assert result.extra["shortest"] == min(lengths.values()) and result.extra["longest"] == max(lengths.values())
    assert result.iterations == sum(lengths.values())
    with pytest.raises(InputError, match="dropped='some'"):
        create("lemke-howson[dropped=some]")


def test_rational_coefficients_are_kept_exactly_and_rounded_correctly():
    doc = json.loads(dumps(leontief_from_game([[3, 1], [1, 3]], [[1, 3], [3, 1]])))
    doc["agents"][0]["utility"]["a"] = [0, 0, "1/3", 3]
    economy = loads(json.dumps(doc))
    assert economy.exact_a[0][2] == Fraction(1, 3) and economy.a[0, 2] == 1 / 3
    assert json.loads(dumps(economy))["agents"][0]["utility"]["a"][2] == "1/3"
    assert game_of(economy).exact_C[0][0] == Fraction(1, 3)


def test_lemke_howson_honours_the_deadline():
    economy = build("leontief-game-hard", 14)
    result = solve(create("lemke-howson[arithmetic=exact]"), economy, tol=1e-9, time_limit=0.02)
    assert result.status == "timeout" and result.seconds < 1.0


# Lemke-Howson path lengths of the square games of Savani and von Stengel (2006), per dropped
# label 1..2d, as the authors' own program counts them: von Stengel's lh-label.c, which follows
# the paths on the Gale strings of the two labelled dual cyclic polytopes
# (github.com/ptigwe/lh-vector, test/dualcyclic/; its tests check these counts against
# Lemke-Howson pivots on the authors' 4 x 4, 6 x 6 and 8 x 8 game files).
SVS_PATHS = {
    4: [20, 8, 8, 20, 10, 10, 10, 10],
    6: [88, 24, 24, 24, 24, 88, 36, 36, 16, 16, 36, 36],
    8: [376, 92, 92, 40, 40, 92, 92, 376, 146, 146, 42, 42, 42, 42, 146, 146],
}


def _fibonacci(k: int) -> int:
    a, b = 0, 1
    for _ in range(k):
        a, b = b, a + b
    return a


@pytest.mark.parametrize("d", sorted(SVS_PATHS))
def test_the_svs_games_reproduce_the_authors_path_lengths(d):
    R, C = svs_game(d)
    assert [lemke_howson(R, C, k, "exact")[2] for k in range(2 * d)] == SVS_PATHS[d]


@pytest.mark.slow
def test_the_svs_games_have_one_equilibrium_and_paths_that_grow_like_the_golden_ratio():
    lengths = {}
    for d in (2, 4, 6, 8, 10, 12):
        R, C = svs_game(d)
        ends, pivots = set(), []
        for k in range(2 * d):
            x, y, count, status = lemke_howson(R, C, k, "exact")
            assert status == "done"
            ends.add((tuple(x), tuple(y)))
            pivots.append(count)
        assert len(ends) == 1                                  # every path ends at the one equilibrium
        # dropping label 1 or d follows the longest path: F(3d/2 + 2) - 1 pivots
        assert pivots[0] == pivots[d - 1] == max(pivots) == _fibonacci(3 * d // 2 + 2) - 1
        lengths[d] = min(pivots)
    assert [lengths[d] for d in (4, 6, 8, 10, 12)] == [8, 16, 40, 68, 176]
    # the shortest path grows by about phi^3 = 4.24 each time d grows by 4 (Savani and von
    # Stengel's bound is of the order of phi^(3d/4))
    assert 3.9 < lengths[12] / lengths[8] < 4.7 and 3.9 < lengths[10] / lengths[6] < 4.7


def test_the_svs_labels_relabel_player_2s_polytope_by_pairs():
    assert svs_labels(6) == [1, 3, 2, 5, 4, 6, 8, 7, 10, 9, 12, 11]
    assert sorted(svs_labels(10)) == list(range(1, 21))
    with pytest.raises(InputError, match="even"):
        svs_game(7)


def test_svs_economies_are_built_exactly_and_solved_exactly_beyond_a_double():
    economy = build("leontief-game-svs", 16)
    assert economy.exact_a is not None and any(Fraction(float(v)) != v for row in economy.exact_a for v in row)
    # the shortest of the 32 paths, dropping label 8 (the longest, label 1, takes F(26) - 1 = 121392)
    result = solve(create("lemke-howson[arithmetic=exact,dropped=7]"), economy, tol=1e-9)
    assert result.status == "converged" and result.certificate.worst < 1e-12
    assert result.iterations == 752


def test_a_float_path_that_rounding_ends_on_a_ray_is_followed_again_exactly(raw_game_economy):
    R, C = hard_game(12)
    economy = raw_game_economy(R, C)
    assert lemke_howson(R, C, 6, "float")[3] == "failed"           # rounding leaves the path for a ray
    result = solve(create("lemke-howson[dropped=6]"), economy, tol=1e-9)
    assert result.status == "converged" and result.extra["arithmetic"] == "exact"
    assert result.iterations == lemke_howson(R, C, 6, "exact")[2] == 64
    assert "abandoned_float_pivots" in result.extra
    every = solve(create("lemke-howson[dropped='all']"), economy, tol=1e-9)
    assert every.status == "converged" and every.extra["shortest"] == 64 and len(every.extra["paths"]) == 24


def test_a_float_path_that_rounding_puts_on_a_cycle_is_caught_and_followed_exactly():
    form = game_of(build("leontief-game-svs", 10))
    x, y, pivots, status = lemke_howson(form.R, form.C, 0, "float")
    assert status == "cycled" and pivots < 10**5           # Brent's method stops it within a few chunks
    result = solve(create("lemke-howson"), build("leontief-game-svs", 10), tol=1e-9, time_limit=20)
    assert result.status == "converged" and result.extra["arithmetic"] == "exact"
    assert result.iterations == _fibonacci(17) - 1 and result.extra["abandoned_float_pivots"] == pivots
    floating = solve(create("lemke-howson[arithmetic=float]"), build("leontief-game-svs", 10), tol=1e-9)
    assert floating.status == "failed" and "cycled" in floating.message


def test_the_game_of_an_economy_is_computed_once_and_read_only():
    economy = build("leontief-game", 4, 0)
    form = game_of(economy)
    assert game_of(economy) is form and not form.R.flags.writeable and not form.C.flags.writeable
    assert game_of(build("leontief-game", 4, 0)) is not form          # another economy, its own form


def test_auto_mode_leaves_a_well_conditioned_games_certificate_to_the_judge(monkeypatch):
    import gebench.solvers.planners.lemke_howson as lh
    calls = []
    monkeypatch.setattr(lh, "certify", lambda *args: calls.append(args) or certify(*args))
    for seed in range(5):
        result = solve(LemkeHowson(), build("leontief-game", 12, seed), 1e-9, 10.0, 0)
        assert result.status == "converged" and result.extra["arithmetic"] == "float"
    assert calls == []                         # the judge's certificate was the only one
    # a hard game, resolved to 8e-4 of its spread: the float path cycles, and the exact
    # path's end is checked before the judge
    result = solve(LemkeHowson(), build("leontief-game-hard", 12, 0), 1e-9, 30.0, 0)
    assert result.status == "converged" and len(calls) >= 1 and result.extra["arithmetic"] == "exact"


def test_a_complementary_point_is_told_from_one_that_is_not():
    form = game_of(leontief_from_game(PENNIES_R, PENNIES_C))
    x = y = np.array([1 / 3, 1 / 3])            # canonically R = [[2, 1], [1, 2]]: R y = C^T x = 1
    assert settled(form, x, y)
    assert not settled(form, np.array([1 / 3, 0.0]), y)      # y plays column 0, yet (C^T x)_0 = 1/3
    assert not settled(form, x, np.array([0.4, 1 / 3]))      # R y > 1: not in the polytope
    # a game whose pure profiles differ by less than 1e-4 of its spread is never settled unasked
    fine = game_of(leontief_from_game([[1, 0], [1 - 1e-5, 1]], PENNIES_C))
    assert fine.resolution < 1e-4 and not settled(fine, x, y)


def test_dropped_all_stops_at_a_path_whose_end_is_not_an_equilibrium(monkeypatch):
    import gebench.solvers.planners.lemke_howson as lh
    real, calls = lh.equilibrium_from_nash, []

    def second_path_wrong(economy, form, x, y):
        calls.append(1)
        prices, allocation = real(economy, form, x, y)
        return (np.full_like(prices, 1 / prices.size), allocation) if len(calls) == 2 else (prices, allocation)
    monkeypatch.setattr(lh, "equilibrium_from_nash", second_path_wrong)
    result = solve(create("lemke-howson[dropped=all,arithmetic=exact]"), build("leontief-game-morris", 6), tol=1e-9)
    assert result.status == "failed" and "the path of label 1" in result.message
    assert list(result.extra["paths"]) == ["0", "1"]
