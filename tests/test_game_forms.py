"""One economy per game: the canonical form, what the certificate bounds in game terms, and
the resolution of a game (docs/format.md, "Games")."""
from fractions import Fraction

import numpy as np
import pytest

from gebench.markets import certify
from gebench.markets.games import (
    canonical_game,
    equilibrium_from_nash,
    game_of,
    game_resolution,
    hard_game,
    leontief_from_game,
    nash_regret,
    strategies_of,
    svs_game,
)
from gebench.markets.generators import build
from gebench.solvers import create, solve
from gebench.solvers.planners.lemke_howson import lemke_howson

REGRET_FACTOR = 51        # docs/format.md: at tolerance eps <= 1e-2, each player's regret <= 51 eps
PENNIES = ([[1, 0], [0, 1]], [[0, 1], [1, 0]])


def _equivalent(R, C, rng):
    """A game with the same best responses: a constant added to each column of R and to each
    row of C, and each player's payoffs scaled by a positive factor, all exact."""
    m, n = len(R), len(R[0])
    column_shift = [int(v) for v in rng.integers(-10**6, 10**6, n)]
    row_shift = [int(v) for v in rng.integers(-10**6, 10**6, m)]
    scale_R, scale_C = Fraction(int(rng.integers(1, 1000)), 7), Fraction(10**9, int(rng.integers(1, 1000)))
    return ([[scale_R * (Fraction(R[i][k]) + column_shift[k]) for k in range(n)] for i in range(m)],
            [[scale_C * (Fraction(C[i][k]) + row_shift[i]) for k in range(n)] for i in range(m)])


def _integer_game(d, seed):
    rng = np.random.default_rng(seed)
    return [[int(v) for v in row] for row in rng.integers(-500, 500, (d, d + 1))], \
           [[int(v) for v in row] for row in rng.integers(-500, 500, (d, d + 1))]


@pytest.mark.parametrize("game", [_integer_game(4, 0), _integer_game(3, 1), hard_game(6), svs_game(4)],
                         ids=["random-4x5", "random-3x4", "morris-6", "svs-4"])
def test_nash_equivalent_forms_of_a_game_give_one_economy(game):
    rng = np.random.default_rng(7)
    economy = leontief_from_game(*game)
    for _ in range(3):
        other = leontief_from_game(*_equivalent(*game, rng))
        assert other.exact_a == economy.exact_a and np.array_equal(other.a, economy.a)
        assert other.meta["game_resolution"] == economy.meta["game_resolution"]


@pytest.mark.parametrize("shift", [0.0, 1e6, 1e12])
def test_matching_pennies_shifted_by_a_constant_is_one_economy_and_its_pure_profile_fails(shift):
    R, C = (np.array(M, dtype=float) + shift for M in PENNIES)
    economy = leontief_from_game(R, C)
    assert np.array_equal(economy.a, leontief_from_game(*(np.array(M, float) for M in PENNIES)).a)
    form = game_of(economy)
    # the pure profile (row 0, column 0): normalised regret 1 for the column player, the worst there is
    assert nash_regret(R, C, [1, 0], [1, 0]) == (0, 1)
    prices, allocation = equilibrium_from_nash(economy, form, [1 / form.C[0].max(), 0], [1 / form.R[:, 0].max(), 0])
    assert not certify(economy, prices, allocation).within(1e-6)


def test_an_economy_made_from_payoffs_as_given_would_let_a_shift_pass_the_worst_profile(raw_game_economy):
    # why the canonical form: 10^6 added to every payoff makes the pure profile's measures
    # about 1e-6, so the tolerance would no longer mean the same regret
    R, C = (np.array(M, dtype=float) + 1e6 for M in PENNIES)
    economy = raw_game_economy(R, C)
    form = game_of(economy)
    prices, allocation = equilibrium_from_nash(economy, form, [1 / form.C[0].max(), 0], [1 / form.R[:, 0].max(), 0])
    assert certify(economy, prices, allocation).worst < 2e-6


def _positive(R, C, rng):
    """An equivalent game with every payoff positive (Lemke-Howson's polytopes are then bounded)."""
    R, C = _equivalent(R, C, rng)
    low = min(min(map(min, R)), min(map(min, C)))
    return [[v - low + 1 for v in row] for row in R], [[v - low + 1 for v in row] for row in C]


@pytest.mark.parametrize("game", [_integer_game(5, 2), hard_game(6), svs_game(6)], ids=["random", "morris", "svs"])
def test_the_exact_lemke_howson_paths_do_not_change_under_the_canonical_form(game):
    rng = np.random.default_rng(3)
    game = _positive(*game, rng)
    canon = canonical_game(*game)
    shifted = _positive(*game, rng)
    labels = len(game[0]) + len(game[0][0])
    for k in range(labels):
        lengths = {lemke_howson(*form, k, "exact")[2] for form in (game, canon, shifted)}
        assert len(lengths) == 1, f"label {k}: {lengths}"


def _points(economy, seed):
    """Points some solvers reach on a game economy at coarse to fine tolerances, and the
    exact equilibrium's point with its allocation and prices perturbed."""
    for name in ("tatonnement", "newton", "scarf"):
        for tol in (1e-2, 1e-4, 1e-6):
            result = solve(create(name), economy, tol, 0.3, seed)
            if result.allocation is not None:
                yield result.prices, result.allocation
    exact = solve(create("lemke-howson[arithmetic='exact']"), economy, 1e-9, 10.0, seed)
    rng = np.random.default_rng(seed)
    for delta in (1e-2, 1e-3, 1e-4, 1e-6):
        yield (exact.prices * (1 + delta * rng.uniform(-1, 1, exact.prices.shape)),
               exact.allocation * (1 + delta * rng.uniform(-1, 1, exact.allocation.shape)))


CASES = ([("leontief-game", d, seed) for d, seed in ((3, 0), (3, 1), (3, 2), (5, 0), (5, 1))]
         + [("leontief-game-morris", d, 0) for d in (4, 8)] + [("leontief-game-svs", 6, 0)])


@pytest.mark.slow
def test_the_certificate_at_eps_bounds_each_players_exact_regret_by_51_eps():
    checked, ratios = 0, []
    for family, d, seed in CASES:
        economy = build(family, d, seed)
        form = game_of(economy)
        R, C = (form.exact_R, form.exact_C) if form.exact_R is not None else (form.R, form.C)
        for prices, allocation in _points(economy, seed):
            certificate = certify(economy, prices, allocation)
            eps = max(certificate.worst, 1e-13)        # the regret of a float profile is exact to ~1e-16
            if not (certificate.within(eps) and eps <= 1e-2):
                continue
            x, y = strategies_of(economy, allocation)
            regret = max(nash_regret(R, C, x, y))    # exact rational arithmetic
            assert regret <= REGRET_FACTOR * eps, (family, d, seed, eps, float(regret))
            checked += 1
            if eps >= 1e-8:
                ratios.append(float(regret) / eps)
    assert checked >= 60 and len(ratios) >= 25            # the bound was tested, and away from 0
    assert max(ratios) > 0.5                               # and the bound is not vacuous: regret ~ eps


@pytest.mark.parametrize("d", [12, 16, 20])
@pytest.mark.slow
def test_at_its_resolution_a_hard_game_has_a_pure_approximate_equilibrium_the_certificate_accepts(d):
    economy = build("leontief-game-morris", d)
    form = game_of(economy)
    R, C = form.exact_R, form.exact_C                  # canonical already
    resolution = game_resolution(R, C)
    assert resolution == economy.meta["game_resolution"] == form.resolution
    best_R = [max(R[i][k] for i in range(d)) for k in range(d)]
    best_C = [max(row) for row in C]
    regret, i, k = min((max(best_R[k] - R[i][k], best_C[i] - C[i][k]), i, k) for i in range(d) for k in range(d))
    assert float(regret) == pytest.approx(resolution, rel=1e-12) and (i, k) == (0, 0)
    assert max(nash_regret(R, C, np.eye(d)[i], np.eye(d)[k])) == regret        # the regret, computed as a mix
    x, y = np.zeros(d), np.zeros(d)
    x[i], y[k] = 1 / form.C[i].max(), 1 / form.R[:, k].max()
    certificate = certify(economy, *equilibrium_from_nash(economy, form, x, y))
    assert certificate.within(resolution) and not certificate.within(resolution / 4)


@pytest.mark.slow
def test_the_hard_games_resolution_falls_geometrically_with_d():
    morris = [game_resolution(*hard_game(d)) for d in (8, 12, 16, 20)]
    svs = [game_resolution(*svs_game(d)) for d in (8, 12, 16, 20)]
    for series in (morris, svs):
        assert all(0 < b < a / 10 for a, b in zip(series, series[1:]))
    assert 2e-7 < game_resolution(*hard_game(24)) < 4e-7 and 2e-7 < svs[-1] < 6e-7


def test_a_game_whose_every_profile_is_an_equilibrium_has_no_resolution():
    assert game_resolution([[1, 1], [1, 1]], [[2, 2], [2, 2]]) == float("inf")
    assert leontief_from_game([[1, 1], [1, 1]], [[2, 2], [2, 2]]).meta["game_resolution"] is None


@pytest.mark.parametrize("bad", [[[True, False], [False, True]], [["1/2", "3"], ["1", "2"]],
                                 [[float("nan"), 1], [1, 2]]])
def test_payoffs_that_are_not_finite_numbers_are_refused(bad):
    from gebench.markets import InputError
    with pytest.raises(InputError, match="finite numbers"):
        leontief_from_game(bad, [[1, 2], [2, 1]])
    with pytest.raises(InputError, match="finite numbers"):
        nash_regret([[1, 2], [2, 1]], [[1, 2], [2, 1]], [float("inf"), 1], [1, 1])


def test_a_leontief_economy_with_more_goods_than_agents_is_no_game_and_is_said_so():
    from gebench.markets import InputError, make_economy
    from gebench.solvers.planners.lagged import auto_planner

    economy = make_economy("exchange", "leontief", [[0, 1, 1], [1, 0, 1]], endowment=[[1, 0, 0], [0, 1, 1]])
    with pytest.raises(InputError, match="one agent per good"):
        game_of(economy)
    assert auto_planner(economy) == "newton"
