"""Tatonnement on economies with producers: prices move on excess demand counting production,
levels on profits (solvers/auctioneers/tatonnement.py); the exchange path is unchanged."""
import numpy as np
import pytest

from gebench.markets import certify, make_economy
from gebench.markets.classic import kehoe_1985, mathiesen_1987, shoven_whalley_1984
from gebench.markets.generators import generate
from gebench.markets.production import Producer
from gebench.solvers import Unsupported, create, solve
from gebench.solvers.auctioneers.tatonnement import production_step, starting_levels


def nearest(classic, prices):
    """(index, distance) of the classic's equilibrium nearest to `prices`, in the max norm."""
    distances = [np.abs(prices - q).max() for q in classic.equilibria]
    k = int(np.argmin(distances))
    return k, distances[k]


@pytest.mark.parametrize("classic", [shoven_whalley_1984, mathiesen_1987], ids=lambda f: f.__name__)
def test_tatonnement_reaches_the_published_equilibrium(classic):
    # measured at step 0.5 and tol 1e-8: Shoven-Whalley in 62 rounds (prices 3e-11 and levels
    # 6e-11 from the stored ones), Mathiesen in 96 rounds (7e-9 and 8e-9)
    classic = classic()
    result = solve(create("tatonnement"), classic.economy, 1e-8, 60.0)
    assert result.status == "converged", result.message
    assert result.certificate.worst <= 1e-8 and set(result.certificate.to_dict()) >= {"profit", "losses"}
    np.testing.assert_allclose(result.prices, classic.equilibria[0], atol=1e-7)
    np.testing.assert_allclose(result.levels, classic.levels[0], rtol=1e-7)
    assert result.to_dict()["levels"] == pytest.approx(classic.levels[0].tolist(), rel=1e-7)
    assert 0 < result.iterations < 1000 and result.trace
    steps = [c.iterations for c in result.trace]
    assert steps == sorted(steps) and steps[-1] <= result.iterations


@pytest.mark.parametrize("start, seed, expected", [("uniform", 0, 1), ("random", 2, 2)])
def test_kehoes_economy_certifies_at_a_stable_equilibrium_never_the_equal_price_one(start, seed, expected):
    # Measured (step 0.5, tol 1e-8): from uniform prices 5,252 rounds, 0.8 s, ending 1.4e-7 from
    # equilibrium 1 in prices; from random starts (seeds 0-9) 700 to 5,300 rounds, ending at
    # equilibrium 1 (seeds 0, 1, 4, 5, 6, 9) or 2 (seeds 2, 3, 7, 8), never at the equal-price
    # equilibrium 0, a saddle of the process (see the next test). Equilibrium 1 is reached slowly
    # (the linearised round contracts by 0.997), so its prices are only within 1e-6.
    classic = kehoe_1985()
    result = solve(create(f"tatonnement[start='{start}']"), classic.economy, 1e-8, 60.0, seed)
    assert result.status == "converged", result.message
    k, distance = nearest(classic, result.prices)
    assert k == expected and distance < 1e-6
    np.testing.assert_allclose(result.levels, classic.levels[k], rtol=1e-6)


def test_kehoes_equal_price_equilibrium_is_a_rest_point_that_the_process_leaves():
    classic = kehoe_1985()
    economy, m = classic.economy, classic.economy.n_goods

    def round_in_logs(v, step=0.5):
        p, y = np.exp(v[:m]), np.exp(v[m:])
        p /= p.sum()
        assert production_step(economy, p, y, step)
        return np.concatenate([np.log(p), np.log(y)])

    for k, expect_unstable in ((0, True), (1, False), (2, False)):
        v = np.concatenate([np.log(classic.equilibria[k]), np.log(classic.levels[k])])
        assert np.abs(round_in_logs(v) - v).max() < 1e-12           # an equilibrium does not move
        h = 1e-6
        jacobian = np.column_stack([(round_in_logs(v + h * d) - round_in_logs(v - h * d)) / (2 * h)
                                    for d in np.eye(len(v))])
        radius = np.abs(np.linalg.eigvals(jacobian)).max()
        # measured: 1.0025 at equilibrium 0, 0.9971 and 0.9774 at equilibria 1 and 2
        assert (radius > 1.001) == expect_unstable, radius


def test_a_run_that_has_not_converged_reports_why_with_its_point_and_levels():
    classic = kehoe_1985()
    capped = solve(create("tatonnement[max_iter=100]"), classic.economy, 1e-8, 60.0)
    assert capped.status == "max_iter" and capped.iterations == 100
    assert capped.levels is not None and capped.levels.shape == (2,) and np.all(capped.levels > 0)
    assert not capped.certificate.within(1e-8)
    assert capped.certificate.worst == certify(classic.economy, capped.prices, capped.allocation,
                                               capped.levels).worst
    late = solve(create("tatonnement"), classic.economy, 1e-14, 0.05)
    assert late.status == "timeout" and late.levels is not None and late.seconds < 1.0


def test_levels_start_with_each_producers_output_worth_an_equal_share_of_the_endowments():
    economy = kehoe_1985().economy
    p = np.full(4, 0.25)
    y = starting_levels(economy, p)
    np.testing.assert_allclose(y * np.array([6.0, 3.0]) * 0.25, p @ economy.total_supply / 2)


def test_exchange_economies_give_the_same_prices_as_before():
    # computed with solvers/auctioneers/tatonnement.py before producers were handled: uniform start, step 0.5
    before = ['0x1.097add455f7cep-2', '0x1.c2c730ae20426p-4', '0x1.409afc002cf5cp-3', '0x1.05c93fb5b2dadp-3',
              '0x1.272839a08a213p-3', '0x1.9e1a37c7c6f34p-3']
    economy = generate("exchange-cobb-douglas", 8, 6, seed=1)
    result = solve(create("tatonnement"), economy, 1e-8, 60.0)
    assert result.status == "converged" and result.iterations == 32 and result.levels is None
    assert [float(v).hex() for v in result.prices] == before


def test_production_economies_with_linear_consumers_are_declined_with_the_reason():
    producers = [Producer("activity", net_output=[1.0, -1.0, -1.0])]
    linear = make_economy("exchange", "linear", [[0.9, 0.1, 0.0]], endowment=[[0.0, 5.0, 3.0]], producers=producers)
    solver = create("tatonnement")
    assert "linear utilities have a demand correspondence" in solver.skip(linear)
    with pytest.raises(Unsupported, match="tatonnement: linear utilities"):
        solve(solver, linear, 1e-6, 10.0)
    assert solver.skip(mathiesen_1987().economy) is None


def test_the_auctioneer_reads_excess_demands_and_profits_each_round():
    solver = create("tatonnement")
    assert solver.central_reads(kehoe_1985().economy, 10) == 10 * (4 + 2)
    assert solver.central_reads(generate("exchange-cobb-douglas", 8, 6, seed=1), 10) == 10 * 6
