"""Hostile input: random and malformed documents for the loader, random points for the verifier.

Only `InputError` may come out of the loader and the certificate; valid
economies round-trip exactly; the certificate does not depend on units.
"""
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gebench.markets import InputError, certify, dumps, economy_to_dict, loads
from gebench.markets.economy import UTILITY_NAMES
from gebench.markets.units import in_units

QUICK = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(-1e3, 1e3), st.just(0))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=8)),
                           lambda inner: (st.lists(inner, max_size=4)
                                          | st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=20)


def _valid_doc(draw, n, m):
    model = draw(st.sampled_from(["exchange", "fisher"]))
    positive = st.floats(1e-3, 1e3)
    agents = []
    for _ in range(n):
        kind = draw(st.sampled_from(UTILITY_NAMES))
        a = draw(st.lists(st.one_of(st.just(0), positive), min_size=m, max_size=m).filter(lambda v: any(v)))
        utility = {"type": kind, "a": a}
        if kind == "ces":
            utility["rho"] = draw(st.one_of(st.floats(-50, -1e-3), st.floats(1e-3, 0.99)))
        if model == "exchange":
            owned = {"endowment": draw(st.lists(st.one_of(st.just(0), positive), min_size=m, max_size=m))}
        else:
            owned = {"budget": draw(positive)}
        agents.append({**owned, "utility": utility})
    doc = {"format": "economy/1", "model": model, "goods": m, "agents": agents}
    if model == "exchange":
        for j in range(m):             # every good supplied by someone
            if not any(agent["endowment"][j] for agent in agents):
                agents[draw(st.integers(0, n - 1))]["endowment"][j] = 1
        for agent in agents:           # every agent owns something
            if not any(agent["endowment"]):
                agent["endowment"][0] = 1
    return doc


@st.composite
def valid_docs(draw):
    return _valid_doc(draw, draw(st.integers(1, 5)), draw(st.integers(1, 5)))


@st.composite
def broken_docs(draw):
    """A valid document with one value somewhere replaced by anything."""
    doc = draw(valid_docs())
    path, node = [], doc
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        path.append(key)
        node = node[key]
    if not path:
        return draw(json_values)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return doc


def _load(doc):
    text = json.dumps(doc, allow_nan=True)
    try:
        return loads(text)
    except InputError as exc:
        assert str(exc)                     # a message, one line
        assert "\n" not in str(exc)
        return None


@QUICK
@given(json_values)
def test_random_documents_are_refused_with_an_input_error_only(doc):
    assert _load(doc) is None


@QUICK
@given(broken_docs())
def test_documents_with_one_broken_value_load_or_are_refused_with_an_input_error_only(doc):
    _load(doc)


@QUICK
@given(valid_docs())
def test_valid_economies_round_trip_exactly(doc):
    economy = loads(json.dumps(doc))
    again = loads(dumps(economy))
    assert dumps(again) == dumps(economy)
    for field in ("a", "rho", "kinds", "endowment", "budget"):
        left, right = getattr(economy, field), getattr(again, field)
        assert (left is None and right is None) or np.array_equal(left, right, equal_nan=True)
    assert economy_to_dict(again) == economy_to_dict(economy)


@st.composite
def economies_and_points(draw):
    doc = draw(valid_docs())
    economy = loads(json.dumps(doc))
    n, m = economy.n_agents, economy.n_goods
    entries = st.one_of(st.just(0.0), st.floats(1e-6, 1e3))
    prices = draw(st.lists(entries, min_size=m, max_size=m).filter(lambda v: any(v)))
    allocation = draw(st.lists(st.lists(entries, min_size=m, max_size=m), min_size=n, max_size=n))
    return economy, np.array(prices), np.array(allocation)


@pytest.mark.slow
@QUICK
@given(economies_and_points())
def test_the_certificate_of_any_point_is_finite_and_non_negative(case):
    economy, prices, allocation = case
    certificate = certify(economy, prices, allocation)
    values = np.array(list(certificate.to_dict().values()))
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert certificate.optimality <= 1.0


@pytest.mark.slow
@QUICK
@given(economies_and_points(), st.floats(-6, 6), st.floats(-6, 6), st.data())
def test_the_certificate_does_not_depend_on_money_or_units(case, money, units, data):
    """Scaling every endowment or budget (exchange: and every bundle) by 10^money, and measuring
    one good in units 10^units times smaller, leaves all four measures unchanged."""
    economy, prices, allocation = case
    j = data.draw(st.integers(0, economy.n_goods - 1))
    c = 10.0 ** units
    scale = np.ones(economy.n_goods)
    scale[j] = c
    money_factor = 10.0 ** money
    other = in_units(economy, scale, money_factor)
    x = allocation * scale * (money_factor if economy.model == "exchange" else 1.0)
    before = certify(economy, prices, allocation).to_dict()
    after = certify(other, prices / scale, x).to_dict()
    for key in before:
        assert math.isclose(before[key], after[key], rel_tol=1e-6, abs_tol=1e-9), (key, before[key], after[key])
