"""The certificate is sound: it never calls a point "within" a tolerance while some agent
could do better or some market does not clear. Each claim is checked against an independent
computation here, in 60-digit decimal arithmetic from the textbook formulas (no logs, no
shifts), on random economies whose coefficients, holdings and prices span 10^-300 to 10^300."""
import decimal
import json
import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gebench.markets import Certificate, InputError, certify, demand, make_economy
from gebench.markets.classic import CLASSICS

CTX = decimal.Context(prec=60, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
TOL = 1e-6
SLACK = Decimal("1e-9")       # rounding of the float inputs the certificate reads


def _d(v) -> Decimal:
    return CTX.create_decimal_from_float(float(v))


def utility(kind: str, a, rho, x) -> Decimal:
    wanted = [j for j in range(len(a)) if a[j] > 0]
    if kind == "linear":
        return sum((_d(a[j]) * _d(x[j]) for j in wanted), Decimal(0))
    if kind == "leontief":
        return min(_d(x[j]) / _d(a[j]) for j in wanted)
    if kind == "cobb-douglas":
        total = sum(_d(a[j]) for j in wanted)
        out = Decimal(1)
        for j in wanted:
            if x[j] <= 0:
                return Decimal(0)
            out *= CTX.power(_d(x[j]), _d(a[j]) / total)
        return out
    r = _d(rho)
    if rho < 0 and any(x[j] <= 0 for j in wanted):
        return Decimal(0)
    inner = sum((_d(a[j]) * CTX.power(_d(x[j]), r) for j in wanted if x[j] > 0), Decimal(0))
    return CTX.power(inner, 1 / r) if inner > 0 else Decimal(0)


def best(kind: str, a, rho, p, b) -> Decimal:
    """The largest utility affordable at prices p with income b (Infinity where unbounded)."""
    inf = Decimal("Infinity")
    wanted = [j for j in range(len(a)) if a[j] > 0]
    free = [j for j in wanted if p[j] <= 0]
    paid = [j for j in wanted if p[j] > 0]
    b = _d(b)
    if kind == "linear":
        return inf if free else b * max(_d(a[j]) / _d(p[j]) for j in paid)
    if kind == "leontief":
        return inf if not paid else b / sum(_d(a[j]) * _d(p[j]) for j in paid)
    if kind == "cobb-douglas":
        if free and (b > 0 or not paid):
            return inf
        if b == 0:
            return Decimal(0)
        total = sum(_d(a[j]) for j in wanted)
        out = b
        for j in wanted:
            alpha = _d(a[j]) / total
            out *= CTX.power(alpha / _d(p[j]), alpha)
        return out
    sigma = 1 / (1 - _d(rho))
    if free and (sigma > 1 or not paid):
        return inf
    index = sum(CTX.power(_d(a[j]), sigma) * CTX.power(_d(p[j]), 1 - sigma) for j in paid)
    return b * CTX.power(index, 1 / (sigma - 1))


def independent_violation(economy, kinds, p, x) -> str | None:
    """Why (p, x) is not a TOL-equilibrium by the textbook definition, or None."""
    with decimal.localcontext(CTX):
        return _violation(economy, kinds, p, x)


def _violation(economy, kinds, p, x) -> str | None:
    n, m = x.shape
    w = economy.total_supply
    p = np.asarray(p) / p.sum()
    for j in range(m):
        sold = math.fsum(x[:, j])
        if _d(sold) > _d(w[j]) * (1 + _d(TOL)) * (1 + SLACK):
            return f"good {j}: {sold} sold of {w[j]}"
    incomes = economy.incomes(p)
    for i in range(n):
        kind = kinds[i]
        v = best(kind, economy.a[i], economy.rho[i], p, incomes[i])
        if v.is_infinite():
            return f"agent {i}: utility unbounded at p"
        u = utility(kind, economy.a[i], economy.rho[i], x[i])
        if u < v * (1 - _d(TOL)) * (1 - SLACK):
            return f"agent {i}: utility {u:.6e} < best {v:.6e}"
    return None


magnitude = st.floats(-300, 300).map(lambda e: 10.0 ** e)


@st.composite
def points(draw):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kinds = draw(st.lists(st.sampled_from(["linear", "cobb-douglas", "ces", "leontief"]), min_size=n, max_size=n))
    rho = [draw(st.sampled_from([0.5, 0.999, 1 - 1e-12, 1e-6, -1e-6, -0.5, -50.0, -1e-3, -1e6])) if k == "ces" else None
           for k in kinds]
    shift = draw(st.floats(-300, 300))
    spread = draw(st.sampled_from([0.0, 1.0, 20.0, 300.0]))

    def coefficient():
        if draw(st.booleans()) and draw(st.booleans()):
            return 0.0
        return 10.0 ** float(np.clip(shift + spread * draw(st.floats(-1, 1)), -307, 307))

    a = np.array([[coefficient() for _ in range(m)] for _ in range(n)])
    for i in range(n):
        if not (a[i] > 0).any():
            a[i, draw(st.integers(0, m - 1))] = 10.0 ** shift
    if draw(st.booleans()):       # each agent owns one good: zero prices leave agents without income
        e = np.zeros((n, m))
        for i in range(n):
            e[i, draw(st.integers(0, m - 1))] = draw(magnitude)
    else:
        e = np.array([[draw(st.sampled_from([0.0, 1.0, 2.0])) * draw(magnitude) for _ in range(m)]
                      for _ in range(n)])
    for j in range(m):
        if not (e[:, j] > 0).any():
            e[draw(st.integers(0, n - 1)), j] = 1.0
    for i in range(n):
        if not (e[i] > 0).any():
            e[i, draw(st.integers(0, m - 1))] = 1.0
    economy = make_economy("exchange", kinds, a, rho=[r if r is not None else np.nan for r in rho], endowment=e)
    p = np.array([draw(st.sampled_from([0.0, 1.0, 1.0])) * draw(magnitude) for _ in range(m)])
    if not p.sum() > 0:
        p[0] = 1.0
    x = demand(economy, p / p.sum(), economy.incomes(p / p.sum()))
    x = np.where(np.isfinite(x), x, draw(magnitude))
    noise = np.array([[draw(st.sampled_from([1.0, 1.0, 0.5, 1 + 1e-9, 2.0])) for _ in range(m)] for _ in range(n)])
    return economy, kinds, p, x * noise


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(points())
def test_a_point_within_tolerance_is_an_equilibrium_by_an_independent_computation(point):
    economy, kinds, p, x = point
    certificate = certify(economy, p, x)
    if certificate.within(TOL):
        assert independent_violation(economy, kinds, p, x) is None, certificate


def test_a_nan_measure_is_never_within_wherever_it_stands():
    for k in range(4):
        values = [0.0] * 4
        values[k] = math.nan
        certificate = Certificate(*values)
        assert math.isnan(certificate.worst) and not certificate.within(1e-6)
    assert not Certificate(0.0, math.inf, 0.0, 0.0).within(1e-6)


@pytest.mark.parametrize("tol", [math.nan, math.inf, -1.0, 0.0, True, "1e-6"])
def test_a_tolerance_must_be_a_finite_positive_number(tol):
    with pytest.raises(InputError, match="tolerance"):
        Certificate(0.0, 0.0, 0.0, 0.0).within(tol)


@pytest.mark.parametrize("name, p", [("no-equilibrium-linear", [1.0, 0.0]), ("scarf-1960", [1.0, 0.0, 0.0]),
                                     ("scarf-1960", [0.0, 1.0, 0.0])])
def test_quasi_equilibria_are_not_equilibria(name, p):
    """An agent without income that wants a free good demands without bound: optimality 1."""
    economy = CLASSICS[name]().economy
    p = np.array(p)
    x = demand(economy, p, economy.incomes(p))
    x[~np.isfinite(x)] = 0.0
    certificate = certify(economy, p, x)
    assert certificate.clearing == certificate.waste == certificate.budget == 0.0
    assert certificate.optimality == 1.0 and not certificate.within(1e-6)


@pytest.mark.parametrize("rho", [1e-6, -1e-6, 1e-3])
@pytest.mark.parametrize("scale", [1.0, 1e300])
def test_ces_near_cobb_douglas_reports_the_true_shortfall(rho, scale):
    """sigma - 1 for rho near 0, and log(max a) / rho, once cost this certificate its precision:
    a bundle 56% short of the optimum passed."""
    economy = make_economy("fisher", "ces", [[scale, scale]], rho=rho, budget=[1.0], supply=[1.9, 0.1])
    p, x = np.array([0.5, 0.5]), np.array([[1.9, 0.1]])
    best = demand(economy, p, economy.incomes(p))
    with decimal.localcontext(CTX):
        truth = 1 - utility("ces", [1, 1], rho, x[0]) / utility("ces", [1, 1], rho, best[0])
    assert certify(economy, p, x).optimality == pytest.approx(float(truth), abs=1e-8)
    assert float(truth) > 0.5


@pytest.mark.parametrize("price", [1e-300, 1.0, 1e308])
def test_prices_of_any_magnitude_give_the_same_certificate(price):
    """Found by the property above: prices of 1e-300 made the small agent's income underflow
    to 0, and a bundle half its optimum passed."""
    economy = make_economy("exchange", "linear", np.ones((3, 1)), endowment=[[1.0], [1.0], [1e-24]])
    certificate = certify(economy, [price], np.array([[1.0], [1.0], [5e-25]]))
    assert certificate.optimality == pytest.approx(0.5) and not certificate.within(1e-6)


def test_a_rho_closer_to_0_than_rounding_allows_is_refused():
    with pytest.raises(InputError, match="Cobb-Douglas to within rounding"):
        make_economy("fisher", "ces", [[1.0, 1.0]], rho=1e-9, budget=[1.0])


def test_a_total_supply_that_overflows_is_refused_with_one_line():
    with pytest.raises(InputError, match="good 0: endowment: the total supply overflows"):
        make_economy("exchange", "linear", np.ones((2, 1)), endowment=np.full((2, 1), 1.5e308))


def test_gebench_verify_passes_each_classic_published_equilibrium_and_fails_quasi_equilibria(tmp_path, capsys):
    from gebench.cli import main
    from gebench.markets import save
    for name, make in CLASSICS.items():
        classic = make()
        save(classic.economy, tmp_path / "e.json")
        economy = classic.economy
        for k, p in enumerate(classic.equilibria):
            x = demand(economy, p, economy.incomes(p))
            point = {"prices": p.tolist(), "allocation": x.tolist()}
            if classic.levels:
                point["levels"] = classic.levels[k].tolist()
            (tmp_path / "r.json").write_text(json.dumps(point))
            assert main(["verify", str(tmp_path / "e.json"), str(tmp_path / "r.json"), "--tol", "1e-9"]) == 0, name
    save(CLASSICS["no-equilibrium-linear"]().economy, tmp_path / "gale.json")
    (tmp_path / "q.json").write_text(json.dumps({"prices": [1, 0], "allocation": [[1, 0], [0, 1]]}))
    assert main(["verify", str(tmp_path / "gale.json"), str(tmp_path / "q.json")]) == 1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["optimality"] == 1.0


def test_coefficients_near_the_float_limit_do_not_overflow_into_a_pass():
    # Leontief with a = 1e308: a . p overflows in floats; the shortfall of a bundle that
    # gives half the best utility is still 1/2
    a = np.array([[1e308, 1e308], [1.0, 1.0]])
    economy = make_economy("exchange", "leontief", a, endowment=np.eye(2))
    p = np.array([0.5, 0.5])
    x = demand(economy, p, economy.incomes(p))
    assert certify(economy, p, x).worst < 1e-12
    x[0] *= 0.5
    assert certify(economy, p, x).optimality == pytest.approx(0.5)
    linear = make_economy("exchange", "linear", a, endowment=np.eye(2))
    y = demand(linear, p, linear.incomes(p))
    assert certify(linear, p, y).worst < 1e-12
    cd = make_economy("exchange", "cobb-douglas", a, endowment=np.eye(2))
    z = demand(cd, p, cd.incomes(p))
    assert np.all(np.isfinite(z)) and certify(cd, p, z).worst < 1e-12
