"""The peers inside the harness (`gebench.solvers.peers`): the game reduction both ways, honest
verdicts on a peer's wrong answers, agreement with gebench's own methods on the same
games, the enumeration of every extreme equilibrium, and which one each method found."""
from fractions import Fraction

import numpy as np
import pytest

from gebench.isolation import execute
from gebench.markets.games import game_of, hard_game, leontief_from_game
from gebench.markets.generators import build
from gebench.records import PRICES_KEPT_UP_TO
from gebench.solvers import create, solve
from gebench.solvers.peers.game import GamePeer, best_responses_only, lemke_howson_point
from gebench.suite import load_suite
from gebench.summary import SAME_EQUILIBRIUM, format_selections, selections


def _peer(spec: str):
    solver = create(spec)
    reason = solver.unavailable()
    if reason:
        pytest.skip(f"{spec}: {reason}")
    solver.warm_up()
    return solver


def _battle_of_sexes():
    return leontief_from_game([[3, 1], [1, 2]], [[2, 1], [1, 3]], name="battle of the sexes")   # exact


class Wrong(GamePeer):
    """A peer that answers with a pure profile of matching pennies: no equilibrium."""

    name = "peer-wrong"
    package = "numpy"

    def equilibria(self, form, tol, seed):
        return [(np.array([1.0, 0.0]), np.array([1.0, 0.0]))], 3, {}


class Missing(GamePeer):
    name = "peer-missing"
    package = "no_such_package_here"


def test_a_peers_wrong_answer_is_recorded_as_failed_never_converged():
    R = np.array([[2.0, 1.0], [1.0, 2.0]])
    result = solve(Wrong(), leontief_from_game(R, R[::-1]), 1e-6, 5.0, 0)
    assert result.status == "failed" and result.certificate.worst > 0.1


def test_a_peer_whose_package_is_absent_is_declined_with_how_to_install_it():
    reason = Missing.unavailable()
    assert "no_such_package_here is not installed" in reason and "gebench[peers]" in reason


def test_a_peer_declines_economies_that_are_not_games():
    economy = build("exchange-leontief", 4, 0)
    assert "not a game economy" in Wrong().skip(economy)


def test_the_reduction_maps_a_nash_equilibrium_to_the_tight_lemke_howson_point():
    form = game_of(_battle_of_sexes())
    sigma, tau = [Fraction(2, 3), Fraction(1, 3)], [Fraction(1, 3), Fraction(2, 3)]
    x, y = lemke_howson_point(form, sigma, tau, 1e-6)
    R, C = form.exact_R, form.exact_C
    assert all(sum(R[i][j] * y[j] for j in range(2)) == 1 for i in range(2))     # tight: both played
    assert all(sum(C[i][j] * x[i] for i in range(2)) == 1 for j in range(2))
    assert all(isinstance(v, Fraction) for v in (*x, *y))


def test_weights_on_strategies_that_are_no_best_response_are_dropped():
    form = game_of(_battle_of_sexes())
    # (row 0, column 0) is a pure equilibrium; an approximate method leaves 1e-9 elsewhere
    sigma, tau = best_responses_only(form, np.array([1 - 1e-9, 1e-9]), np.array([1 - 1e-9, 1e-9]), 1e-6)
    assert list(sigma) == [1.0, 0.0] and list(tau) == [1.0, 0.0]


@pytest.mark.parametrize("d", [4, 8])
def test_quantecons_lemke_howson_ends_where_the_exact_path_does_on_the_hard_games(d):
    peer = _peer("quantecon-lemke-howson")
    economy = build("leontief-game-hard", d, 0)
    exact = solve(create("lemke-howson[arithmetic='exact']"), economy, 1e-6, 10.0, 0)
    theirs = solve(peer, economy, 1e-6, 10.0, 0)
    assert theirs.status == exact.status == "converged"
    # the same pivots as the exact path (80 at d = 8, where gebench's float path takes 72)
    assert theirs.iterations == exact.iterations
    assert np.allclose(theirs.prices, exact.prices, atol=1e-9)


def test_quantecons_lemke_howson_wrong_end_on_a_hard_game_is_refused(raw_game_economy):
    # measured: on Morris's d = 12 game with its integer payoffs (to 2^41), not in canonical
    # form, its float path ends after a few pivots at a point no equilibrium
    economy = raw_game_economy(*hard_game(12))
    result = solve(_peer("quantecon-lemke-howson"), economy, 1e-6, 10.0, 0)
    assert result.status == "failed" and "certificate" in result.message


def test_gambits_rational_lemke_howson_ends_where_gebenchs_exact_path_does():
    economy = build("leontief-game-svs", 6, 0)
    theirs = solve(_peer("gambit-lcp"), economy, 1e-9, 20.0, 0)
    ours = solve(create("lemke-howson[arithmetic='exact']"), economy, 1e-9, 20.0, 0)
    assert theirs.status == ours.status == "converged" and theirs.extra["arithmetic"] == "exact"
    assert np.allclose(theirs.prices, ours.prices, atol=1e-12)


def test_the_enumeration_holds_every_extreme_equilibrium_and_each_certifies():
    peer = _peer("gambit-enummixed")
    economy = _battle_of_sexes()            # two pure equilibria and one mixed
    result = solve(peer, economy, 1e-9, 10.0, 0)
    assert result.status == "converged" and result.extra["enumerated"] and result.extra["count"] == 3
    assert all(abs(sum(p) - 1) < 1e-12 for p in result.extra["equilibria"])
    distinct = {tuple(np.round(p, 9)) for p in result.extra["equilibria"]}
    assert len(distinct) == 3
    # every Lemke-Howson path ends at one of them (at a vertex: here the two pure ones)
    for k in range(4):
        lh = solve(create(f"lemke-howson[dropped={k}]"), economy, 1e-9, 10.0, 0)
        gaps = [np.abs(lh.prices - np.asarray(q)).max() for q in result.extra["equilibria"]]
        assert min(gaps) < SAME_EQUILIBRIUM


def test_records_keep_prices_of_small_economies_and_the_summary_says_which_equilibrium_each_found():
    suite = load_suite("peers")
    ladder = next(lad for lad in suite.ladders if lad.family == "leontief-game")
    solvers = {name: _peer(name) if name.startswith("gambit") else create(name)
               for name in ("gambit-enummixed", "lemke-howson", "tatonnement")}
    records = []
    for name in solvers:
        for seed in (0, 1):
            record = execute(solvers, ladder, 3, seed, name, 1e-6, 10.0)
            record.update(ladder=ladder.label, size=3, size_name="d", seed=seed, solver=name)
            records.append(record)
    assert all(len(r["prices"]) == 6 <= PRICES_KEPT_UP_TO for r in records if r["status"] == "converged")
    rows = selections(records)
    assert [row["seed"] for row in rows] == [0, 1]
    for row in rows:
        assert row["enumerated_by"] == "gambit-enummixed" and row["equilibria"] >= 1
        assert row["selected"]["lemke-howson"] is not None      # a vertex of the enumeration
    assert "gambit-enummixed" in format_selections(rows) and "lemke-howson=" in format_selections(rows)


def test_a_run_whose_answer_is_none_of_the_enumerated_equilibria_is_flagged():
    base = {"ladder": "g", "size": 2, "size_name": "d", "seed": 0, "status": "converged"}
    records = [dict(base, solver="enum", extra={"enumerated": True, "equilibria": [[0.5, 0.5], [0.2, 0.8]]}),
               dict(base, solver="a", prices=[0.2, 0.8]), dict(base, solver="b", prices=[0.3, 0.7]),
               dict(base, solver="h", prices=[0.5, 0.5], extra={"equilibria": [[0.5, 0.5], [0.2, 0.8]]})]
    row, = selections(records)
    assert row["selected"] == {"a": 1, "b": None, "h": 0} and row["listed"] == {"h": [0, 1]}
    assert "b=none" in format_selections([row])


def test_the_peers_table_shows_seconds_where_all_converged_and_verdicts_elsewhere(monkeypatch):
    import gebench.readme as readme
    run = lambda solver, d, seed, status, seconds=1.0, message="": {       # noqa: E731
        "ladder": "leontief-game", "solver": solver, "size": d, "size_name": "d", "seed": seed,
        "status": status, "seconds": seconds, "message": message}
    records = [run("lemke-howson", 4, 0, "converged", 0.001), run("lemke-howson", 4, 1, "converged", 0.003),
               run("lemke-howson", 4, 2, "converged", 0.002),
               run("quantecon-lemke-howson", 4, 0, "converged"), run("quantecon-lemke-howson", 4, 1, "failed",
                                                                      message="the certificate says 0.3"),
               run("gambit-simpdiv", 4, 0, "timeout"), run("gambit-simpdiv", 8, 0, "beyond_wall")]
    monkeypatch.setattr(readme, "read_runs", lambda run_dir: records)
    table = readme.peers_table(None, "leontief-game").splitlines()
    assert table[0] == "| solver | d = 4 | d = 8 |"
    assert table[2] == "| lemke-howson | 0.002 | - |"                  # gebench's first, median seconds
    assert table[3] == "| gambit-simpdiv | timeout | - |"
    assert table[4] == "| quantecon-lemke-howson | 1/2: wrong 1 | - |"


def test_records_keep_prices_only_for_economies_of_at_most_64_goods():
    games = next(lad for lad in load_suite("peers").ladders if lad.family == "leontief-game")
    markets = next(lad for lad in load_suite("quick").ladders if lad.family == "exchange-cobb-douglas")
    solvers = {"lemke-howson": create("lemke-howson"), "tatonnement": create("tatonnement")}
    small = execute(solvers, games, 4, 0, "lemke-howson", 1e-6, 10.0)
    assert small["status"] == "converged" and len(small["prices"]) == 8 and abs(sum(small["prices"]) - 1) < 1e-12
    large = execute(solvers, markets, PRICES_KEPT_UP_TO + 1, 0, "tatonnement", 1e-6, 10.0)
    assert large["status"] == "converged" and "prices" not in large
