"""Economies with constant-returns producers: the model, the format, the certificate and the
solver that handles them."""
import json

import numpy as np
import pytest

from gebench.markets import InputError, certify, demand, dumps, load, loads, make_economy, save
from gebench.markets.classic import kehoe_1985, mathiesen_1987, scarf_hansen_1973, shoven_whalley_1984
from gebench.markets.production import Producer, unit_profit
from gebench.solvers import create, solve

ROBINSON = [[0.5, 0.5, 0.0]]      # one consumer who eats goods 0 and 1, and owns only good 2 (labour)


def crusoe(kind, rho=None, scale=1.0):
    """Labour (good 2) makes goods 0 and 1 through two technologies of the same kind."""
    extra = {"rho": rho} if kind == "ces" else {}
    producers = [Producer(kind, output=0, scale=scale, a=np.array([0.0, 0.0, 1.0]), **extra),
                 Producer(kind, output=1, scale=2 * scale, a=np.array([0.0, 0.0, 1.0]), **extra)]
    return make_economy("exchange", "cobb-douglas", ROBINSON, endowment=[[0.0, 0.0, 6.0]], producers=producers)


@pytest.mark.parametrize("kind, rho", [("leontief", None), ("cobb-douglas", None), ("ces", 0.5), ("ces", -2.0)])
def test_one_input_technologies_give_the_closed_form(kind, rho):
    # one input: every technology is y = phi L, so p_0 = w, p_1 = w / 2, and half the labour goes to each good
    economy = crusoe(kind, rho)
    p = np.array([1.0, 0.5, 1.0]) / 2.5
    x = demand(economy, p, economy.incomes(p))
    np.testing.assert_allclose(x, [[3.0, 6.0, 0.0]])
    assert certify(economy, p, x, [3.0, 6.0]).worst < 1e-14
    unbalanced = certify(economy, p, x, [3.0, 5.0])
    assert unbalanced.clearing == pytest.approx(1 / 5) and unbalanced.waste > 0


def test_mathiesens_published_equilibrium_certifies_and_nearby_points_do_not():
    classic = mathiesen_1987()
    economy, p, y = classic.economy, classic.equilibria[0], classic.levels[0]
    x = np.array([[3.0, 2.0, 0.0]])
    assert certify(economy, p, x, y).worst < 1e-15             # exact but for the rounding of 1/12ths
    assert certify(economy, p, x, [2.9]).clearing == pytest.approx(0.1 / 2.9)
    cheap_input = np.array([6.0, 1.0, 4.9]) / 11.9
    assert certify(economy, cheap_input, x, y).profit == pytest.approx(0.1 / 6)
    dear_input = np.array([6.0, 1.0, 5.5]) / 12.5
    losing = certify(economy, dear_input, x, y)
    assert losing.profit == 0.0 and losing.losses == pytest.approx(3 * 0.5 / (dear_input @ [3, 5, 3] * 12.5))


def test_a_profitable_technology_is_never_an_equilibrium_even_unused():
    economy = mathiesen_1987().economy
    p = np.array([7.0, 1.0, 5.0]) / 13.0
    x = demand(economy, p, economy.incomes(p))
    certificate = certify(economy, p, x, [0.0])
    assert certificate.profit == pytest.approx(1 / 7) and not certificate.within(1e-6)


def test_a_free_substitutable_input_has_unbounded_demand_and_never_passes():
    producers = [Producer("ces", output=0, a=np.array([0.0, 1.0, 1.0]), rho=0.5)]
    economy = make_economy("exchange", "cobb-douglas", [[1.0, 0.0, 0.0]], endowment=[[0.0, 1.0, 1.0]],
                           producers=producers)
    p = np.array([0.5, 0.5, 0.0])
    certificate = certify(economy, p, [[1.0, 0.0, 0.0]], [1.0])
    assert not certificate.within(1e-6) and certificate.clearing == np.inf
    assert unit_profit(economy.producers[0], p) == 1.0      # the output costs nothing to make


def test_kehoes_irrational_equilibria_are_the_roots_of_good_2s_clearing():
    # with p_1 = 1/4 and both activities at zero profit, good 2 clears where
    # (4 p_0 - 1)(106400 p_0^2 - 46237 p_0 + 4667) = 0
    kehoe = kehoe_1985()
    activities = [producer.net_output for producer in kehoe.economy.producers]
    for prices in kehoe.equilibria:
        p0 = prices[0]
        assert prices[1] == 0.25 and prices @ activities[1] == pytest.approx(0, abs=1e-15)
        assert prices @ activities[0] == pytest.approx(0, abs=1e-15)
        assert (4 * p0 - 1) * (106400 * p0 ** 2 - 46237 * p0 + 4667) == pytest.approx(0, abs=1e-9)


def test_kehoes_three_equilibria_certify_and_are_distinct():
    classic = kehoe_1985()
    assert len(classic.equilibria) == 3
    for k, p in enumerate(classic.equilibria):
        assert certify(classic.economy, p, classic.allocation(k), classic.levels[k]).worst < 1e-12
    prices = np.array(classic.equilibria)
    assert min(np.abs(prices[i] - prices[j]).max() for i in range(3) for j in range(i)) > 0.05


def test_production_newton_finds_all_three_of_kehoes_equilibria_from_several_starts():
    classic = kehoe_1985()
    found = set()
    # the uniform start reaches the equal-price equilibrium, random starts mostly the other two
    runs = [("uniform", 0)] + [("random", seed) for seed in range(10)]
    for start, seed in runs:
        result = solve(create(f"production-newton[start='{start}']"), classic.economy, 1e-9, 60.0, seed)
        assert result.status == "converged", result.message
        nearest = int(np.argmin([np.abs(result.prices - p).max() for p in classic.equilibria]))
        np.testing.assert_allclose(result.prices, classic.equilibria[nearest], atol=1e-8)
        np.testing.assert_allclose(result.levels, classic.levels[nearest], rtol=1e-7)
        found.add(nearest)
    assert found == {0, 1, 2}


def test_production_newton_solves_mathiesen():
    classic = mathiesen_1987()
    result = solve(create("production-newton"), classic.economy, 1e-10, 60.0)
    assert result.status == "converged"
    np.testing.assert_allclose(result.prices, classic.equilibria[0], atol=1e-9)
    np.testing.assert_allclose(result.levels, [3.0], rtol=1e-9)
    assert result.to_dict()["levels"] == pytest.approx([3.0])


def test_exchange_solvers_decline_production_economies_with_the_reason():
    economy = mathiesen_1987().economy
    for name in ("newton", "hahn-process", "bilateral-exchange", "proportional-response"):
        assert "producers are not supported" in create(name).skip(economy)
    plain = make_economy("exchange", "cobb-douglas", [[1.0, 1.0]], endowment=[[1.0, 1.0]])
    assert "without producers" in create("production-newton").skip(plain)


def test_certifying_a_production_economy_needs_the_levels():
    classic = mathiesen_1987()
    p, x = classic.equilibria[0], [[3.0, 2.0, 0.0]]
    with pytest.raises(InputError, match="levels: the economy has 1 producer: give one level for each"):
        certify(classic.economy, p, x)
    with pytest.raises(InputError, match=r"levels\[0\]: must be a finite number >= 0"):
        certify(classic.economy, p, x, [-1.0])
    with pytest.raises(InputError, match="levels: expected 1 number \\(one per producer\\)"):
        certify(classic.economy, p, x, [1.0, 2.0])


def test_an_exchange_economy_certifies_as_before_and_reports_four_measures():
    economy = make_economy("exchange", "cobb-douglas", [[1.0, 1.0], [1.0, 3.0]], endowment=np.eye(2))
    p = np.array([0.5, 0.5])
    certificate = certify(economy, p, demand(economy, p, economy.incomes(p)))
    assert set(certificate.to_dict()) == {"clearing", "waste", "budget", "optimality", "resolution"}


def test_production_economies_round_trip_through_the_format(tmp_path):
    for economy in (kehoe_1985().economy, crusoe("ces", 0.5, scale=1.5), crusoe("leontief")):
        save(economy, tmp_path / "e.json")
        back = load(tmp_path / "e.json")
        assert dumps(back) == dumps(economy)
        assert [p.kind for p in back.producers] == [p.kind for p in economy.producers]


def technology_doc(**producer):
    return {"format": "economy/1", "model": "exchange", "goods": ["bread", "cloth", "labour"],
            "agents": [{"endowment": [1, 0, 6], "utility": {"type": "cobb-douglas", "a": [1, 1, 0]}}],
            "producers": [producer]}


def test_a_named_output_good_reads_as_its_index():
    economy = loads(json.dumps(technology_doc(type="leontief", output="cloth", a=[0, 0, 2])))
    assert economy.producers[0].output == 1 and economy.producers[0].scale == 1.0


@pytest.mark.parametrize("producer, message", [
    ({"type": "factory", "net_output": [1, 0, -1]}, "producer 0: type: unknown 'factory'"),
    ({"type": "activity", "net_output": [1, 0]}, "producer 0: net_output: expected 3 numbers"),
    ({"type": "activity", "net_output": [1, 0, 0]}, "producer 0: net_output: has no input"),
    ({"type": "activity", "net_output": [0, 0, -1]}, "producer 0: net_output: has no output"),
    ({"type": "ces", "output": 0, "a": [0, 0, 1]}, "producer 0: rho: missing"),
    ({"type": "ces", "output": 0, "a": [0, 0, 1], "rho": 1.5}, "producer 0: rho: must be finite, < 1"),
    ({"type": "leontief", "output": 3, "a": [0, 0, 1]}, "producer 0: output: expected a good index in 0..2"),
    ({"type": "leontief", "output": "steel", "a": [0, 0, 1]}, "producer 0: output: 'steel' is not one of the goods"),
    ({"type": "leontief", "output": 0, "a": [1, 0, 1]}, r"producer 0: a\[0\]: the output good cannot also be an input"),
    ({"type": "leontief", "output": 0, "a": [0, -1, 1]}, r"producer 0: a\[1\]: must be a finite number >= 0"),
    ({"type": "cobb-douglas", "output": 0, "a": [0, 0, 1], "scale": 0},
     "producer 0: scale: must be a finite number > 0"),
    ({"type": "cobb-douglas", "output": 0, "a": [0, 0, 1], "rho": 0.5}, "producer 0: rho: not a field"),
])
def test_bad_producers_are_refused_naming_the_file_the_producer_and_the_field(tmp_path, producer, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(technology_doc(**producer)))
    with pytest.raises(InputError, match=f"{path}: {message}"):
        load(path)


def test_producers_belong_to_exchange_economies():
    doc = technology_doc(type="leontief", output=0, a=[0, 0, 1])
    doc["model"] = "fisher"
    for agent in doc["agents"]:
        agent["budget"] = 1
        del agent["endowment"]
    with pytest.raises(InputError, match="producers: only exchange"):
        loads(json.dumps(doc))


def test_a_good_nobody_owns_is_allowed_only_when_some_producer_makes_it():
    economy = crusoe("leontief")
    assert economy.total_supply[0] == 0.0
    with pytest.raises(InputError, match="good 0: endowment: nobody supplies this good"):
        make_economy("exchange", "cobb-douglas", ROBINSON, endowment=[[0.0, 0.0, 6.0]],
                     producers=[Producer("leontief", output=1, a=np.array([0.0, 0.0, 1.0]))])


def test_shoven_and_whalleys_published_equilibrium_is_found_to_every_printed_digit():
    classic = shoven_whalley_1984()
    result = solve(create("production-newton"), classic.economy, 1e-10, 60.0)
    assert result.status == "converged", result.message
    prices = result.prices / result.prices[3]                   # labour the numeraire, as published
    np.testing.assert_allclose(prices, [1.399, 1.093, 1.373, 1.0], atol=5e-4)
    np.testing.assert_allclose(result.levels, [24.942, 54.378], atol=5e-4)
    np.testing.assert_allclose(classic.economy.incomes(prices), [34.337, 60.0], atol=5e-4)
    assert certify(classic.economy, classic.equilibria[0], classic.allocation(), classic.levels[0]).worst < 1e-12


@pytest.mark.parametrize("family", ["production-activity", "production-ces"])
def test_random_production_economies_are_seeded_and_have_an_interior_equilibrium(family):
    from gebench.markets.generators import generate
    economy = generate(family, 12, 12, seed=3)
    again = generate(family, 12, 12, seed=3)
    assert dumps(economy) == dumps(again) and dumps(economy) != dumps(generate(family, 12, 12, seed=4))
    factors = 6
    assert not economy.endowment[:, factors:].any() and economy.endowment[:, :factors].any(axis=0).all()
    made = {p.output if p.kind != "activity" else int(np.argmax(p.net_output)) for p in economy.producers}
    assert made == set(range(factors, 12))
    result = solve(create("production-newton"), economy, 1e-8, 60.0)
    assert result.status == "converged", result.message
    assert result.prices.min() > 1e-4                  # every good is wanted: every price positive
    per_good = {}
    for producer, level in zip(economy.producers, result.levels):
        good = producer.output if producer.kind != "activity" else int(np.argmax(producer.net_output))
        per_good[good] = per_good.get(good, 0.0) + level
    assert min(per_good.values()) > 0                  # every produced good is made


def test_random_production_families_refuse_what_they_cannot_draw():
    from gebench.markets.generators import generate
    with pytest.raises(InputError, match="needs >= 1 agent and >= 2 goods"):
        generate("production-ces", 3, 1)
    with pytest.raises(InputError, match="only CES technologies take rho"):
        generate("production-activity", 3, 3, rho=0.5)
    with pytest.raises(InputError, match="economies are dense"):
        generate("production-ces", 3, 3, sparse=True)


def test_scarf_and_hansens_activity_analysis_equilibrium_is_found_from_every_start():
    classic = scarf_hansen_1973()
    assert certify(classic.economy, classic.equilibria[0], classic.allocation(), classic.levels[0]).worst < 1e-14
    for start, seed in [("uniform", 0), ("random", 1), ("random", 2)]:
        result = solve(create(f"production-newton[start='{start}']"), classic.economy, 1e-10, 60.0, seed)
        assert result.status == "converged", result.message
        np.testing.assert_allclose(result.prices, classic.equilibria[0], atol=1e-9)
        np.testing.assert_allclose(result.levels, classic.levels[0], atol=1e-9)
    idle = classic.levels[0] == 0
    _, _, revenue, cost = classic.economy.technologies.unit_plans(classic.equilibria[0])
    assert np.all(revenue[idle] < cost[idle])         # the idle activities lose at these prices


def test_a_welfare_suite_refuses_production_families_by_name(tmp_path):
    from gebench.suite import load_suite
    suite = tmp_path / "s.toml"
    suite.write_text('name = "s"\ntolerance = 1e-6\ntime_budget = 5.0\nseeds = [0]\nwelfare = true\n'
                     'solvers = "all"\n\n[[family]]\nfamily = "production-ces"\nsizes = [4]\n')
    with pytest.raises(InputError, match=r"family\[0\]: production-ces has producers: welfare"):
        load_suite(str(suite))


def test_a_production_suite_runs_end_to_end_and_records_levels(tmp_path):
    from gebench.cli import main
    from gebench.runner import read_runs
    suite = tmp_path / "p.toml"
    suite.write_text('name = "p"\ntolerance = 1e-6\ntime_budget = 10.0\nseeds = [0, 1]\n'
                     'solvers = ["production-newton", "tatonnement", "newton"]\n\n'
                     '[[family]]\nfamily = "production-activity"\nsizes = [4, 8]\n')
    assert main(["run", str(suite), "--results", str(tmp_path), "--in-process", "--no-plot"]) == 0
    run_dir = next(p for p in tmp_path.iterdir() if p.is_dir())
    records = read_runs(run_dir)
    ran = [r for r in records if r["status"] != "declined"]
    assert {r["solver"] for r in ran} == {"production-newton", "tatonnement"}
    declined = json.loads((run_dir / "meta.json").read_text())["declined"]["production-activity"]
    assert "producers are not supported" in declined["newton"]
    for record in ran:
        assert record["status"] == "converged", record
        assert len(record["levels"]) == len(generate_economy(record).producers)
        assert set(record["certificate"]) >= {"profit", "losses"}


def generate_economy(record):
    from gebench.markets.generators import generate
    return generate(record["family"], record["agents"], record["goods"], seed=record["seed"])


def test_homotopy_from_three_starts_finds_all_three_of_kehoes_equilibria():
    classic = kehoe_1985()
    result = solve(create("homotopy[starts=3]"), classic.economy, 1e-9, 120.0, seed=1)
    assert result.status == "converged" and result.levels is not None
    found = {int(np.argmin([np.abs(np.array(q) - p).max() for p in classic.equilibria]))
             for q in result.extra["equilibria"]}
    assert found == {0, 1, 2}
    for q in result.extra["equilibria"]:
        assert min(np.abs(np.array(q) - p).max() for p in classic.equilibria) < 1e-8


@pytest.mark.parametrize("make", [mathiesen_1987, shoven_whalley_1984])
@pytest.mark.slow
def test_homotopy_follows_the_newton_path_to_the_published_equilibrium(make):
    classic = make()
    result = solve(create("homotopy"), classic.economy, 1e-9, 120.0)
    assert result.status == "converged", result.message
    np.testing.assert_allclose(result.prices, classic.equilibria[0], atol=1e-8)
    np.testing.assert_allclose(result.levels, classic.levels[0], rtol=1e-7)


def test_scarf_hansens_equilibrium_is_the_one_an_independent_solve_of_scarfmcp_reaches():
    # SCARFMCP's equations solved apart from gebench's code (scipy, six starts), in its scale:
    # consumer 1's income fixed at 9.1
    classic = scarf_hansen_1973()
    p = classic.equilibria[0]
    scaled = p / (classic.economy.endowment[0] @ p) * 9.1
    np.testing.assert_allclose(scaled, [1.13249948, 0.54526016, 1.06188496, 1.29053501, 0.82765412, 0.28239396],
                               atol=1e-8)
    np.testing.assert_allclose(classic.levels[0][[0, 2, 3, 6]], [0.4634929346, 3.939195057, 0.006022990607,
                                                                 0.4382628380], atol=1e-10)
