"""The statistics every plot, summary and README table reads (`gebench.analysis`)."""
import math

import numpy as np
import pytest
from scipy import stats

from gebench.analysis import (
    censored_median,
    describe_fit,
    fit,
    held_out_errors,
    performance_profile,
    scaling_series,
    slope_interval,
    wall_of,
)


def test_a_power_fit_reads_the_largest_sizes_only():
    n = np.array([10, 20, 40, 80, 160, 320, 640, 1280])
    law = fit(n, 3e-4 * n ** 2.5, False)
    assert law.kind == "power" and law.rate == pytest.approx(2.5)
    # the window is the largest half (at least 4): a flat start does not bend the slope
    law = fit(n, np.where(n < 160, 1.0, 1e-3 * n ** 2.0), False)
    assert law.kind == "power" and law.rate == pytest.approx(2.0) and law.sizes == (160, 320, 640, 1280)
    assert fit(n[:3], n[:3] ** 2.0, False) is None          # three sizes fit nothing


def test_an_exponential_fit_recovers_its_factor():
    d = np.array([2, 4, 6, 8, 10])
    law = fit(d, 5 * 1.6 ** d, True)
    assert law.kind == "exponential" and law.rate == pytest.approx(1.6)


def test_the_model_is_chosen_on_the_held_out_largest_size():
    d, n = np.arange(2, 16, 2), np.array([10, 20, 40, 80, 160, 320])
    assert fit(d, 3 * 1.58 ** d, True).kind == "exponential" and fit(n, n ** 2.3, False).kind == "power"
    assert fit(n, 1.05 ** n, False).kind == "exponential" and fit(d, d ** 2.0, True).kind == "power"
    errors = held_out_errors(d, d ** 2.0)
    assert errors["power"] == pytest.approx(0.0, abs=1e-9) and errors["exponential"] > 0.1
    # a curve that steepens: fitted without its last size, the exponential predicts it better
    steep = np.exp(0.02 * n)
    assert fit(n, steep, False).kind == "exponential"


def test_a_flat_series_keeps_the_familys_default_model_whatever_the_rounding():
    n, d = np.array([10, 20, 40, 80, 160]), np.array([2, 4, 6, 8, 10])
    for values in (np.full(5, 8.0), np.full(5, 24.0), np.array([23, 23, 23, 23, 24.0])):
        assert fit(n, values, False).kind == "power" and fit(d, values, True).kind == "exponential"
        # the two held-out errors differ only by rounding here
        errors = held_out_errors(n, values)
        assert abs(errors["power"] - errors["exponential"]) < 1e-9
    assert describe_fit(fit(n, np.full(5, 8.0), False), "agent").startswith("~n^0.00 (CI 0.00-0.00")


@pytest.mark.slow
def test_the_slope_interval_of_four_sizes_covers_the_true_slope_95_percent_of_the_time():
    # a pairs bootstrap over 4 points is degenerate (its bounds come from resamples of 2
    # distinct sizes); the t-interval keeps its level at any n >= 3
    rng = np.random.default_rng(5)
    X = np.array([14.0, 16.0, 18.0, 20.0])
    hits = 0
    for _ in range(4000):
        y = 0.8 * X + rng.normal(0, 0.3, X.size)
        low, high = slope_interval(X, y)
        hits += low < 0.8 < high
    assert 0.94 < hits / 4000 < 0.96
    fitted = stats.linregress(X, y)
    half = stats.t.ppf(0.975, 2) * fitted.stderr
    assert slope_interval(X, y) == pytest.approx((fitted.slope - half, fitted.slope + half))


def test_a_fit_has_a_t_interval_around_its_rate():
    d = np.arange(2, 22, 2)
    noisy = 2.0 * 1.55 ** d * np.exp(np.random.default_rng(1).normal(0, 0.1, d.size))
    law = fit(d, noisy, True)
    assert law.low < law.rate < law.high and law.low < 1.55 < law.high and law.high / law.low < 1.2
    assert law.at([30])[0] == pytest.approx(math.exp(law.intercept) * law.rate ** 30)
    assert (describe_fit(law, "d").startswith(f"x{law.rate:.3g} per d (CI x")
            and "held out d = 20" in describe_fit(law, "d"))
    sizes = np.array([10, 20, 40, 80, 160])
    assert "x2 every 14.2 agents (CI 14.2-14.2" in describe_fit(fit(sizes, 1.05 ** sizes, False), "agent")


def test_a_median_counts_unconverged_runs_as_censored():
    assert censored_median([1.0, 2.0, math.inf]) == 2.0
    assert censored_median([1.0, math.inf]) == math.inf and censored_median([1.0, math.inf, math.inf]) == math.inf


def _run(size, seed, status, seconds, solver="a", budget=5.0, ladder="f"):
    return {"ladder": ladder, "size": size, "seed": seed, "solver": solver, "status": status,
            "seconds": seconds, "iterations": 10, "time_budget": budget}


def test_scaling_series_keeps_censored_sizes_out_of_the_line_but_draws_their_runs():
    records = [_run(1, s, "converged", 0.1 * (s + 1)) for s in range(3)]
    records += [_run(2, 0, "converged", 1.0), _run(2, 1, "timeout", 5.0), _run(2, 2, "converged", 2.0)]
    records += [_run(3, 0, "converged", 3.0), _run(3, 1, "timeout", 5.0), _run(3, 2, "max_iter", 4.0)]
    records += [_run(4, s, "beyond_wall", None) for s in range(3)]
    data = scaling_series(records)["f"]["a"]
    # at size 2 one run of three is out of budget: the median is the slower converged run
    assert data["converged"] == [(1, pytest.approx(0.2)), (2, 2.0)]
    assert data["censored"] == [3] and data["timeout"] == [2, 3] and data["other"] == [(3, 4.0)]
    assert 4 not in data["runs"]            # skipped runs were not attempted


def test_a_wall_within_20_percent_of_the_budget_is_marginal():
    clear = [_run(1, 0, "converged", 0.5), _run(2, 0, "converged", 1.0), _run(3, 0, "timeout", 5.0)]
    wall = wall_of(clear)
    assert (wall.largest, wall.seconds, wall.marginal) == (2, 1.0, False)
    edge = clear[:1] + [_run(2, 0, "converged", 4.2), _run(3, 0, "timeout", 5.0)]
    assert wall_of(edge).marginal
    # a converged run beyond the wall near the budget makes it marginal too
    beyond = clear + [_run(3, 1, "converged", 4.5)]
    assert wall_of(beyond).largest == 2 and wall_of(beyond).marginal
    assert wall_of([_run(1, 0, "failed", 0.1)]).largest is None


def test_the_profile_of_a_family_reads_only_the_instances_all_its_solvers_attempted():
    records = [_run(1, 0, "converged", 1.0, "a"), _run(1, 0, "converged", 2.0, "b"),
               _run(1, 1, "converged", 3.0, "a"), _run(1, 1, "timeout", 5.0, "b"),
               # b never attempted seed 2: a's fast run there is not compared with anything
               _run(1, 2, "converged", 0.1, "a"), _run(1, 2, "beyond_wall", None, "b"),
               _run(1, 0, "converged", 9.0, "c", ladder="g")]
    profiles = performance_profile(records)
    f = profiles["f"]
    assert f.instances == 2
    taus, share = f.curves["a"]
    assert share[np.searchsorted(taus, 1.0)] == 1.0
    taus, share = f.curves["b"]
    assert share[0] == 0.0 and share[np.searchsorted(taus, 2.0)] == 0.5
    assert profiles["g"].instances == 1 and set(profiles) == {"f", "g"}


def test_a_deterministic_instance_run_once_stands_for_every_seed_of_a_random_start():
    records = [_run(1, 0, "converged", 1.0, "exact")]
    records += [_run(1, s, "converged", t, "random-start") for s, t in enumerate([0.5, 2.0, 4.0])]
    profile = performance_profile(records)["f"]
    assert profile.instances == 3
    taus, share = profile.curves["exact"]
    assert share[0] == pytest.approx(2 / 3)          # fastest on two of the three starts
