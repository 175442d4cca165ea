"""Sparse (CSR) economies: the model, its checks, demand and the certificate, the generator,
the two market dynamics that take them, and a sparse ladder in a suite."""
import numpy as np
import pytest
import scipy.sparse as sp

from gebench.markets import (
    Economy,
    EconomyError,
    InputError,
    certify,
    check_point,
    demand,
    dumps,
    loads,
    log_indirect_utility,
    log_utility,
)
from gebench.markets.generators import generate
from gebench.markets.units import in_units, unit_supply
from gebench.runner import read_runs, run_suite
from gebench.solvers import create
from gebench.solvers.base import Unsupported
from gebench.solvers.judging import solve
from gebench.solvers.registry import available
from gebench.solvers.testing import known_economies
from gebench.suite import parse_suite

FAMILIES = ["fisher-linear", "fisher-cobb-douglas", "fisher-ces", "fisher-leontief",
            "exchange-linear", "exchange-cobb-douglas", "exchange-ces", "exchange-leontief", "ces-complements"]


def _pair(family, n=30, m=25, density=0.2, seed=1):
    dense = generate(family, n, m, seed=seed, density=density)
    return dense, dense.to_sparse()


# --- the model ----------------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_to_sparse_and_back_is_the_same_economy(family):
    dense, sparse = _pair(family)
    assert sparse.sparse and not dense.sparse
    assert sparse.a.nnz == np.count_nonzero(dense.a)
    back = sparse.to_dense()
    assert np.array_equal(back.a, dense.a)
    assert np.array_equal(sparse.total_supply, dense.total_supply)
    if dense.model == "exchange":
        assert sp.issparse(sparse.endowment) and np.array_equal(back.endowment, dense.endowment)


def test_sparse_arrays_are_read_only_and_canonical():
    a = sp.csr_array(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]))
    a.data[0] = 0.0                                       # a stored zero, dropped on the way in
    a2 = sp.csr_array((np.array([2.0, 1.0, 3.0, 1.0]), np.array([1, 2, 0, 2]), np.array([0, 2, 4])), shape=(2, 3))
    e = Economy("fisher", np.array([0, 0]), a2, np.full(2, np.nan), budget=np.ones(2))
    assert e.a.has_sorted_indices and e.a.indices.dtype == np.int64
    with pytest.raises(ValueError):
        e.a.data[0] = 5.0
    with pytest.raises(EconomyError, match="agent 0: utility.a: must not be all zero"):
        Economy("fisher", np.array([0, 0]), sp.csr_array(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 3.0]])),
                np.full(2, np.nan), budget=np.ones(2))


@pytest.mark.parametrize("value, message", [(np.nan, "must be a finite number >= 0, got nan"),
                                            (-1.0, "must be a finite number >= 0, got -1.0")])
def test_a_bad_sparse_coefficient_names_the_agent_and_the_good(value, message):
    a = sp.csr_array(np.array([[1.0, 2.0, 0.0], [1.0, 0.0, 3.0]]))
    a.data[3] = value                                     # agent 1, good 2
    with pytest.raises(EconomyError, match=rf"agent 1: utility.a\[2\]: {message}"):
        Economy("fisher", np.array([0, 0]), a, np.full(2, np.nan), budget=np.ones(2))


def test_a_sparse_exchange_economy_needs_every_good_supplied():
    a = sp.csr_array(np.ones((2, 3)))
    endowment = sp.csr_array(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    with pytest.raises(EconomyError, match="good 2: endowment: nobody supplies this good"):
        Economy("exchange", np.array([0, 0]), a, np.full(2, np.nan), endowment=endowment)


def test_the_coefficients_decide_the_form_of_the_endowments():
    dense, sparse = _pair("exchange-cobb-douglas")
    mixed = Economy("exchange", dense.kinds, dense.a, dense.rho, endowment=sparse.endowment)
    assert not mixed.sparse and np.array_equal(mixed.endowment, dense.endowment)
    mixed = Economy("exchange", dense.kinds, sparse.a, dense.rho, endowment=dense.endowment)
    assert mixed.sparse and sp.issparse(mixed.endowment)


def test_format_one_files_hold_sparse_economies_as_dense_rows():
    dense, sparse = _pair("exchange-ces")
    assert dumps(sparse) == dumps(dense)
    assert np.array_equal(loads(dumps(sparse)).a, dense.a)
    huge = generate("fisher-linear", 20_000, 20_000, density=1e-4, sparse=True)
    with pytest.raises(InputError, match="too large to write"):
        dumps(huge)


@pytest.mark.parametrize("family", FAMILIES)
def test_units_change_the_same_way_dense_and_sparse(family):
    dense, sparse = _pair(family)
    scale = np.exp2(np.arange(25) % 5 - 2.0)
    assert np.array_equal(in_units(dense, scale, 8.0).a, in_units(sparse, scale, 8.0).a.toarray())
    unit_dense, unit_sparse = unit_supply(dense)[0], unit_supply(sparse)[0]
    assert np.array_equal(unit_dense.a, unit_sparse.a.toarray())
    assert np.array_equal(unit_dense.total_supply, unit_sparse.total_supply)


# --- demand, utilities, the certificate ---------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_demand_and_utilities_agree_with_the_dense_kernels(family):
    dense, sparse = _pair(family)
    rng = np.random.default_rng(0)
    p = rng.random(25)
    p[3] = 0.0                                            # a free good: infinite demand where wanted
    b = dense.incomes(p)
    d = demand(sparse, p, b)
    assert sp.issparse(d) and np.array_equal(d.indices, sparse.a.indices)
    np.testing.assert_array_equal(d.toarray(), demand(dense, p, b))
    x = rng.random((30, 25))
    np.testing.assert_array_equal(log_utility(sparse, sp.csr_array(x)), log_utility(dense, x))
    np.testing.assert_array_equal(log_utility(sparse, x), log_utility(dense, x))
    np.testing.assert_array_equal(log_indirect_utility(sparse, p, b), log_indirect_utility(dense, p, b))


@pytest.mark.parametrize("family", FAMILIES)
def test_the_certificate_is_the_same_for_either_form(family):
    dense, sparse = _pair(family)
    rng = np.random.default_rng(2)
    p = rng.random(25)
    x = rng.random((30, 25)) * (rng.random((30, 25)) < 0.3)   # entries off the utility pattern too
    expected = certify(dense, p, x).to_dict()
    for economy, allocation in ((sparse, x), (sparse, sp.csr_array(x)), (dense, sp.csr_array(x))):
        got = certify(economy, p, allocation).to_dict()
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    p = rng.random(25)
    answer = demand(sparse, p, sparse.incomes(p))
    assert certify(sparse, p, answer).optimality < 1e-12


def test_a_bad_sparse_allocation_names_the_entry():
    _, sparse = _pair("fisher-ces")
    x = demand(sparse, np.full(25, 0.04), sparse.incomes(np.full(25, 0.04)))
    x.data[5] = np.nan
    row = int(np.searchsorted(x.indptr, 5, side="right")) - 1
    with pytest.raises(InputError, match=rf"allocation\[{row}\]\[{x.indices[5]}\]: must be a finite number"):
        check_point(sparse, np.full(25, 0.04), x)
    with pytest.raises(InputError, match="allocation: expected 30 rows of 25 numbers"):
        check_point(sparse, np.full(25, 0.04), sp.csr_array((30, 24)))


# --- the generator ------------------------------------------------------------------------------

def test_sparse_generation_is_seeded_and_every_agent_and_good_takes_part():
    first = generate("exchange-ces", 2000, 1500, seed=4, density=0.01, sparse=True)
    again = generate("exchange-ces", 2000, 1500, seed=4, density=0.01, sparse=True)
    other = generate("exchange-ces", 2000, 1500, seed=5, density=0.01, sparse=True)
    for x, y in ((first.a, again.a), (first.endowment, again.endowment)):
        assert np.array_equal(x.data, y.data) and np.array_equal(x.indices, y.indices)
    assert not np.array_equal(first.a.indices, other.a.indices)
    per_agent = np.diff(first.a.indptr)
    assert per_agent.min() >= 15 and np.median(per_agent) == 15          # round(0.01 * 1500) distinct goods
    assert np.all(np.bincount(first.a.indices, minlength=1500) > 0)      # every good is wanted
    assert np.all(first.total_supply > 0) and first.meta["sparse"] is True


def test_a_market_with_a_million_agents_and_goods_is_built_without_a_dense_matrix():
    # 10^12 dense coefficients would need 8 TB; the CSR economy holds 2 * 10^6
    e = generate("fisher-cobb-douglas", 10**6, 10**6, seed=0, density=2e-6, sparse=True)
    assert e.a.nnz >= 2 * 10**6 and e.n_agents == e.n_goods == 10**6


# --- solvers ------------------------------------------------------------------------------------

SPARSE_SOLVERS = sorted(name for name, cls in available().items() if cls.sparse)


@pytest.mark.parametrize("solver", SPARSE_SOLVERS)
@pytest.mark.parametrize("family", FAMILIES)
def test_the_dynamics_take_the_same_path_on_either_form(solver, family):
    dense, sparse = _pair(family, 40, 30, 0.2, seed=3)
    s = create(solver)
    if s.skip(dense):
        assert s.skip(sparse)
        return
    d, c = solve(s, dense, 1e-7, 20.0), solve(s, sparse, 1e-7, 20.0)
    assert d.status == c.status == "converged"
    assert d.iterations == c.iterations
    np.testing.assert_allclose(c.prices, d.prices, rtol=1e-9, atol=1e-15)
    assert sp.issparse(c.allocation) and c.certificate.within(1e-7)


@pytest.mark.parametrize("solver", sorted(set(available()) - set(SPARSE_SOLVERS)))
def test_dense_solvers_decline_sparse_economies(solver):
    s = create(solver)
    dense = next((e for e, _ in known_economies() if s.skip(e) is None and not e.production), None)
    if dense is None:
        pytest.skip(f"{solver} takes only economies with producers, which have no sparse form")
    sparse = dense.to_sparse()
    assert "sparse" in s.skip(sparse)
    with pytest.raises(Unsupported, match="sparse"):
        solve(s, sparse, 1e-6, 1.0)


# --- a sparse ladder in a suite -----------------------------------------------------------------

SUITE = """
name = "sparse"
tolerance = 1e-6
time_budget = 20.0
seeds = [0]

[[family]]
family = "exchange-cobb-douglas"
sizes = [300, 3000]
density = 0.01
sparse = true
"""


def test_a_sparse_ladder_runs_only_the_dynamics_and_records_that_it_is_sparse(tmp_path):
    suite = parse_suite(SUITE)
    assert suite.ladders[0].label == "exchange-cobb-douglas[density=0.01,sparse]"
    out = run_suite(suite, tmp_path, progress=False, isolate=False)
    records = read_runs(out)
    assert sorted({r["solver"] for r in records}) == [s for s in SPARSE_SOLVERS if "exchange" in available()[s].models
                                                      and "cobb-douglas" in available()[s].utilities]
    assert all(r["sparse"] is True and r["status"] == "converged" for r in records), records


@pytest.mark.parametrize("field, value, message", [
    ("sparse", '"yes"', "sparse: expected true or false"),
])
def test_suite_sparse_field_is_checked(field, value, message):
    with pytest.raises(InputError, match=message):
        parse_suite(SUITE.replace("sparse = true", f"{field} = {value}"))
    game = SUITE.replace('family = "exchange-cobb-douglas"', 'family = "leontief-game"').replace("density = 0.01\n", "")
    with pytest.raises(InputError, match="game family"):
        parse_suite(game)
