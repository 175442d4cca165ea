"""Economy streams (`gebench.markets.streams`): deterministic days, each like the one before,
churn that keeps the shapes, one-day supply shocks, drifting games, and the stream file."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gebench.markets import InputError, dumps, load, loads
from gebench.markets.games import game_of
from gebench.markets.generators import build
from gebench.markets.streams import (
    FORMAT,
    SHOCK_FACTOR,
    Stream,
    day,
    load_stream,
    save_stream,
    stream_days,
    stream_from_dict,
    stream_to_dict,
    write_day,
)

MARKETS = ["exchange-linear", "exchange-ces", "fisher-cobb-douglas", "fisher-leontief", "production-activity"]


def holdings(economy):
    return economy.endowment if economy.model == "exchange" else economy.budget


def days_of(family="exchange-linear", size=6, **kwargs):
    return list(stream_days(Stream(family, size, **kwargs)))


@pytest.mark.parametrize("family", ["exchange-linear", "fisher-ces"])
def test_same_parameters_same_days_another_seed_other_days(family):
    kwargs = dict(seed=4, sigma=0.1, churn=0.3, shock_rate=0.4, days=8)
    first, again, other = days_of(family, **kwargs), days_of(family, **kwargs), days_of(family, **dict(kwargs, seed=5))
    for x, y, z in zip(first, again, other):
        assert np.array_equal(x.a, y.a) and np.array_equal(holdings(x), holdings(y))
        assert x.meta == y.meta
        assert not np.array_equal(x.a, z.a)


def test_the_stream_is_pinned_across_processes_and_machines():
    # seeded through blake2b and PCG64, never Python's salted hash(): these numbers must not
    # change, or stored runs on a stream stop matching the days they were run on
    days = days_of("exchange-linear", 3, seed=2, sigma=0.1, churn=0.5, days=3)
    np.testing.assert_allclose([e.a.sum() for e in days], [5.727910385787888, 4.880018395188697, 3.167289331831079],
                               rtol=1e-12)


def test_day_0_is_the_family_economy_and_day_t_is_the_t_th():
    stream = Stream("exchange-cobb-douglas", 5, seed=3, sigma=0.2, churn=0.2, shock_rate=0.5, days=5)
    days = list(stream_days(stream))
    built = build("exchange-cobb-douglas", 5, 3)
    assert np.array_equal(days[0].a, built.a) and np.array_equal(days[0].endowment, built.endowment)
    assert days[0].meta["day"] == 0 and days[0].meta["entrants"] == [] and days[0].meta["shock"] is None
    for t in (0, 3, 4):
        assert dumps(day(stream, t)) == dumps(days[t])
    with pytest.raises(InputError, match="day"):
        day(stream, 5)


def test_no_drift_no_churn_no_shocks_is_one_economy_every_day():
    for family in MARKETS + ["leontief-game", "leontief-game-morris"]:
        size = 4 if family.startswith("leontief-game") else 6
        days = days_of(family, size, seed=1, sigma=0.0, churn=0.0, shock_rate=0.0, days=4)
        for economy in days[1:]:
            assert np.array_equal(economy.a, days[0].a), family
            assert np.array_equal(holdings(economy), holdings(days[0])), family
            assert economy.exact_a == days[0].exact_a, family


def _log_correlation(sigma):
    days = days_of("exchange-linear", 30, seed=2, sigma=sigma, days=6)
    return min(np.corrcoef(np.log(x.a).ravel(), np.log(y.a).ravel())[0, 1] for x, y in zip(days, days[1:]))


def test_tomorrow_resembles_today_less_as_sigma_grows():
    small, medium, large = (_log_correlation(sigma) for sigma in (0.01, 0.1, 0.5))
    assert small > 0.999
    assert small > medium > large
    assert large < 0.97


def test_drift_keeps_zeros_and_day_draws_do_not_depend_on_churn_or_shocks():
    sparse = days_of("fisher-linear", 12, seed=3, sigma=0.3, days=4, density=0.3)
    for economy in sparse:
        assert np.array_equal(economy.a > 0, sparse[0].a > 0)
    plain = days_of("exchange-linear", 8, seed=3, sigma=0.3, days=5)
    busy = days_of("exchange-linear", 8, seed=3, sigma=0.3, days=5, churn=0.5, shock_rate=1.0)
    for x, y in zip(plain[1:], busy[1:]):
        stayed = np.setdiff1d(np.arange(8), [i for e in busy[1:] for i in e.meta["entrants"]])
        assert np.array_equal(x.a[stayed], y.a[stayed])


def test_churn_replaces_about_churn_n_agents_a_day_and_keeps_the_shapes():
    n, churn = 40, 0.11         # 4.4 a day: 4 or 5
    days = days_of("exchange-linear", n, seed=7, sigma=0.0, churn=churn, days=31)
    replaced = []
    for yesterday, today in zip(days, days[1:]):
        assert today.a.shape == days[0].a.shape and today.endowment.shape == days[0].endowment.shape
        changed = np.flatnonzero((yesterday.a != today.a).any(axis=1) | (yesterday.endowment != today.endowment)
                                 .any(axis=1))
        assert changed.tolist() == today.meta["entrants"]
        replaced.append(changed.size)
    assert 0.7 * churn * n < np.mean(replaced) < 1.3 * churn * n
    assert set(replaced) == {4, 5}          # rounded up or down at random, not always round(churn * n)


def test_small_economies_churn_too():
    days = days_of("fisher-linear", 5, seed=1, sigma=0.0, churn=0.1, days=41)
    assert 0 < sum(len(e.meta["entrants"]) for e in days) < 0.2 * 5 * 40


def test_churn_never_leaves_a_good_unheld_or_unwanted():
    for economy in days_of("production-activity", 5, seed=2, sigma=0.1, churn=0.9, days=12, density=0.3):
        assert (economy.a > 0).any(axis=0).all()
        held = (economy.endowment > 0).any(axis=0)
        factors = (economy.n_goods + 1) // 2
        assert held[:factors].all()


@pytest.mark.parametrize("family", ["exchange-linear", "fisher-linear"])
def test_a_shock_halves_one_goods_supply_for_that_day(family):
    kwargs = dict(seed=5, sigma=0.05, days=12)
    calm, shocked = days_of(family, 6, **kwargs), days_of(family, 6, shock_rate=0.5, **kwargs)
    shock_days = [e.meta["day"] for e in shocked if e.meta["shock"] is not None]
    assert 0 not in shock_days and 2 <= len(shock_days) <= 10
    for x, y in zip(calm, shocked):
        assert np.array_equal(x.a, y.a)
        j = y.meta["shock"]
        if j is None:                       # the day after a shock is back to normal
            assert np.array_equal(x.total_supply, y.total_supply)
            continue
        expected = x.total_supply.copy()
        expected[j] *= SHOCK_FACTOR
        np.testing.assert_allclose(y.total_supply, expected, rtol=1e-12)
        if family.startswith("exchange"):
            others = np.arange(x.n_goods) != j
            assert np.array_equal(y.endowment[:, j], x.endowment[:, j] * SHOCK_FACTOR)
            assert np.array_equal(y.endowment[:, others], x.endowment[:, others])
        else:
            assert np.array_equal(y.budget, x.budget)


@pytest.mark.parametrize("family, d", [("leontief-game", 3), ("leontief-game-morris", 4), ("leontief-game-svs", 4)])
def test_a_game_stream_stays_a_game_and_drifts(family, d):
    days = days_of(family, d, seed=1, sigma=0.1, days=4)
    assert np.array_equal(days[0].a, build(family, d, 1).a)
    assert days[0].exact_a == build(family, d, 1).exact_a
    forms = [game_of(e) for e in days]
    for yesterday, today in zip(forms, forms[1:]):
        assert today.shape == (d, d)
        assert not np.array_equal(yesterday.R, today.R) and not np.array_equal(yesterday.C, today.C)
        # the canonical form: every column of R and row of C starts at 1, payoffs in [1, 2]
        assert np.allclose(today.R.min(axis=0), 1) and np.allclose(today.C.min(axis=1), 1)
        assert today.R.max() <= 2 + 1e-12 and today.C.max() <= 2 + 1e-12
        assert np.corrcoef(yesterday.R.ravel(), today.R.ravel())[0, 1] > 0.5


def test_every_day_is_a_valid_economy_that_round_trips():
    for family in MARKETS + ["ces-complements", "leontief-game"]:
        game = family.startswith("leontief-game")
        kwargs = {} if game else dict(churn=0.3, shock_rate=0.5, density=0.6)
        for economy in days_of(family, 3 if game else 5, seed=8, sigma=0.2, days=5, **kwargs):
            again = loads(dumps(economy))
            assert np.array_equal(again.a, economy.a) and np.array_equal(again.kinds, economy.kinds)
            assert np.array_equal(holdings(again), holdings(economy))
            assert again.meta == economy.meta and dumps(again) == dumps(economy)


def test_the_stream_file_round_trips_and_a_written_day_reads_back(tmp_path):
    stream = Stream("fisher-ces", 4, seed=9, sigma=0.2, churn=0.25, days=3, shock_rate=0.5, persistence=0.8,
                    density=0.5)
    doc = stream_to_dict(stream)
    assert doc["format"] == FORMAT == "stream/1" and isinstance(doc["gebench"], str)
    assert stream_from_dict(json.loads(json.dumps(doc))) == stream
    save_stream(stream, tmp_path / "s.json")
    assert load_stream(tmp_path / "s.json") == stream
    assert stream_from_dict({"format": "stream/1", "family": "exchange-linear", "size": 3}) == \
        Stream("exchange-linear", 3)
    write_day(stream, 2, tmp_path / "day2.json")
    written = load(tmp_path / "day2.json")
    assert dumps(written) == dumps(day(stream, 2))
    assert written.meta["stream"]["seed"] == 9 and written.meta["day"] == 2


@pytest.mark.parametrize("doc, field", [
    ([], "stream"),
    ({"format": "stream/2", "family": "exchange-linear", "size": 3}, "format"),
    ({"format": "stream/1", "family": "exchange-linear", "size": 3, "wind": 1}, "wind"),
    ({"format": "stream/1", "family": "exchange-linear"}, "size"),
    ({"format": "stream/1", "family": "exchange-linear", "size": 3, "gebench": 1}, "gebench"),
    ({"format": "stream/1", "family": "exchange-linear", "size": 3, "days": "7"}, "days"),
])
def test_a_bad_stream_document_names_the_field(doc, field):
    with pytest.raises(InputError, match=f"^{field}"):
        stream_from_dict(doc)


@pytest.mark.parametrize("change, field", [
    (dict(family="no-such-family"), "family"),
    (dict(family=3), "family"),
    (dict(size=0), "size"),
    (dict(size=2.5), "size"),
    (dict(seed=True), "seed"),
    (dict(sigma=-0.1), "sigma"),
    (dict(sigma=float("nan")), "sigma"),
    (dict(sigma=float("inf")), "sigma"),
    (dict(sigma=8.0), "sigma"),                 # its stationary spread would overflow doubles
    (dict(churn=1.0), "churn"),
    (dict(churn=-0.1), "churn"),
    (dict(days=0), "days"),
    (dict(shock_rate=1.5), "shock_rate"),
    (dict(persistence=1.0), "persistence"),
    (dict(goods_per_agent=0), "goods_per_agent"),
    (dict(density=0), "density"),
    (dict(family="leontief-game", churn=0.1), "churn"),
    (dict(family="leontief-game", shock_rate=0.1), "shock_rate"),
    (dict(family="leontief-game", density=0.5), "density"),
])
def test_bad_parameters_name_the_field(change, field):
    with pytest.raises(InputError, match=f"^{field}"):
        Stream(**dict(dict(family="exchange-linear", size=4), **change))


def test_the_formats_example_stream_reads():
    text = (Path(__file__).resolve().parents[1] / "docs" / "format.md").read_text()
    example = re.search(r"```json\n(.*?)```", text.split("## Economy streams", 1)[1], re.S).group(1)
    stream = stream_from_dict(json.loads(example))
    assert stream == Stream("exchange-ces", 50, sigma=0.05, churn=0.02, days=30, shock_rate=0.05)
