"""PATH through GAMSPy: the optional planner of the `gams` extra."""
import numpy as np
import pytest

from markets.closed_form import cobb_douglas_prices
from markets.generators import build, generate
from solvers import create, solve
from solvers import path_mcp

pytestmark = pytest.mark.skipif(path_mcp._gamspy() is None, reason="the gams extra is not installed")


@pytest.mark.parametrize("family", ["exchange-cobb-douglas", "fisher-cobb-douglas"])
def test_path_finds_cobb_douglas_prices(family):
    economy = generate(family, 12, 9, seed=2)
    result = solve(create("path-mcp"), economy, tol=1e-8)
    assert result.status == "converged"
    assert np.abs(result.prices - cobb_douglas_prices(economy)).max() < 1e-7


@pytest.mark.parametrize("seed", range(2))
def test_path_agrees_with_the_exact_solvers_on_ces_complements(seed):
    economy = build("ces-complements", 8, seed, rho=-3.0)
    path = solve(create("path-mcp"), economy, tol=1e-8)
    homotopy = solve(create("homotopy"), economy, tol=1e-8)
    assert path.status == homotopy.status == "converged"
    assert np.abs(path.prices - homotopy.prices).max() < 1e-6


def test_path_agrees_with_eisenberg_gale_on_a_leontief_fisher_market():
    economy = generate("fisher-leontief", 15, 12, seed=3)
    path = solve(create("path-mcp"), economy, tol=1e-7)
    program = solve(create("eisenberg-gale"), economy, tol=1e-7)
    assert path.status == program.status == "converged"
    assert np.abs(path.prices - program.prices).max() < 1e-5


def test_economies_over_the_free_licence_are_declined_with_that_reason():
    solver = create("path-mcp")
    assert solver.skip(generate("exchange-ces", 333, 1, seed=0, rho=0.5)) is None   # 668 rows
    reason = solver.skip(generate("exchange-ces", 300, 400, seed=0, rho=0.5))        # 1001 rows
    assert "1001 rows" in reason and "licence" in reason
    assert "licence" in create("path-mcp[max_rows=30]").skip(generate("fisher-ces", 10, 11, seed=0, rho=0.5))


def test_without_gamspy_it_declines_and_names_the_extra(monkeypatch):
    monkeypatch.setattr(path_mcp, "_gamspy", lambda: None)
    reason = create("path-mcp").skip(generate("fisher-ces", 4, 4, seed=0, rho=0.5))
    assert "gebench[gams]" in reason


def test_a_level_just_below_zero_is_a_price_of_zero_not_an_invalid_answer():
    # PATH ends this game economy at a point with a level of -8e-12: its own bound tolerance
    result = solve(create("path-mcp"), build("leontief-game", 32, 1), tol=1e-6)
    assert result.prices is not None and result.prices.min() >= 0
    assert "invalid answer" not in result.message and "InputError" not in result.message
