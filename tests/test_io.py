import json

import numpy as np
import pytest

from gebench.markets import EconomyError, InputError, dumps, economy_from_dict, economy_to_dict, load, loads, save
from gebench.markets.generators import generate


def test_round_trip_is_exact(small, tmp_path):
    path = tmp_path / "e.json"
    save(small, path)
    again = load(path)
    assert dumps(again) == dumps(small)
    for field in ("a", "rho", "kinds"):
        np.testing.assert_array_equal(getattr(again, field), getattr(small, field))
    assert again.meta == small.meta


def test_round_trip_keeps_names_and_supply():
    doc = {"format": "economy/1", "model": "fisher", "name": "toy", "goods": ["bread", "wine"],
           "supply": [2, 0.5],
           "agents": [{"budget": 1.5, "utility": {"type": "ces", "a": [1, 2], "rho": -0.5}},
                      {"budget": 1, "utility": {"type": "leontief", "a": [0, 1]}}]}
    economy = economy_from_dict(doc)
    assert economy_to_dict(economy) == doc
    np.testing.assert_array_equal(economy.total_supply, [2, 0.5])


def test_fisher_supply_defaults_to_one_each():
    economy = loads(json.dumps({"format": "economy/1", "model": "fisher", "goods": 3,
                                "agents": [{"budget": 1, "utility": {"type": "linear", "a": [1, 0, 2]}}]}))
    np.testing.assert_array_equal(economy.total_supply, [1, 1, 1])
    assert "supply" not in economy_to_dict(economy)


def _exchange():
    return {"format": "economy/1", "model": "exchange", "goods": 2,
            "agents": [{"endowment": [1, 0], "utility": {"type": "cobb-douglas", "a": [1, 1]}},
                       {"endowment": [0, 1], "utility": {"type": "ces", "a": [1, 2], "rho": 0.5}}]}


def _set(path, value):
    def mutate(doc):
        *head, last = path
        target = doc
        for key in head:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return mutate


BAD = [
    ("format", _set(["format"], "economy/2"), "format"),
    ("model", _set(["model"], "barter"), "model"),
    ("goods", _set(["goods"], 0), "goods"),
    ("unknown top", _set(["prices"], [1, 2]), "prices: unknown field"),
    ("agents empty", _set(["agents"], []), "agents"),
    ("wrong length", _set(["agents", 1, "endowment"], [1, 2, 3]), "agent 1: endowment: expected 2"),
    ("negative", _set(["agents", 0, "endowment"], [-1, 2]), "agent 0: endowment[0]"),
    ("all-zero endowment", _set(["agents", 0, "endowment"], [0, 0]), "agent 0: endowment: must not be all zero"),
    ("all-zero utility", _set(["agents", 1, "utility", "a"], [0, 0]), "agent 1: utility.a: must not be all zero"),
    ("string number", _set(["agents", 1, "utility", "a"], [1, "2"]), "agent 1: utility.a[1]"),
    ("bool number", _set(["agents", 1, "utility", "a"], [1, True]), "agent 1: utility.a[1]"),
    ("rho >= 1", _set(["agents", 1, "utility", "rho"], 1.0), "agent 1: utility.rho"),
    ("rho == 0", _set(["agents", 1, "utility", "rho"], 0), "agent 1: utility.rho"),
    ("rho missing", _set(["agents", 1, "utility", "rho"], KeyError), "agent 1: utility.rho: missing"),
    ("rho on linear", _set(["agents", 0, "utility"], {"type": "linear", "a": [1, 1], "rho": 0.5}),
     "agent 0: utility.rho"),
    ("unknown type", _set(["agents", 0, "utility", "type"], "quadratic"), "agent 0: utility.type"),
    ("budget in exchange", _set(["agents", 0, "budget"], 1), "agent 0: budget"),
    ("endowment missing", _set(["agents", 0, "endowment"], KeyError), "agent 0: endowment: missing"),
    ("supply in exchange", _set(["supply"], [1, 1]), "supply"),
    ("good nobody supplies", _set(["agents"], [{"endowment": [1, 0], "utility": {"type": "linear", "a": [1, 1]}}]),
     "good 1"),
]


@pytest.mark.parametrize("mutate, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_documents_name_the_field(mutate, expected):
    doc = _exchange()
    mutate(doc)
    with pytest.raises(EconomyError) as info:
        economy_from_dict(doc)
    assert expected in str(info.value)


def test_fisher_budget_must_be_positive():
    doc = {"format": "economy/1", "model": "fisher", "goods": 1,
           "agents": [{"budget": 1, "utility": {"type": "linear", "a": [1]}},
                      {"budget": 0, "utility": {"type": "linear", "a": [1]}}]}
    with pytest.raises(EconomyError, match="agent 1: budget"):
        economy_from_dict(doc)


@pytest.mark.parametrize("text", ["{", '{"format": NaN}', "[1, 2"])
def test_malformed_json_is_an_input_error(text):
    with pytest.raises(InputError, match="JSON"):
        loads(text)


def test_load_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "economy/1"}')
    with pytest.raises(EconomyError, match="broken.json: model"):
        load(path)


def test_economy_arrays_are_read_only():
    economy = generate("fisher-linear", 3, 3, seed=0)
    with pytest.raises(ValueError):
        economy.a[0, 0] = 5.0
