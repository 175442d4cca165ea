"""The wall as a surface (gebench.surface): the size-by-accuracy map of a game family, its
README tables and its figure, from records of a family run at several tolerances."""
import json
from pathlib import Path

import pytest

from gebench.plot_surface import plot_surface
from gebench.readme import surface_growth_table, surface_table
from gebench.surface import EXACT, accuracies, growth, resolved_up_to, surface, surface_families

FAMILY = "leontief-game-morris"
RESOLUTION = {2: 0.3, 4: 0.05, 6: 5e-3, 8: 5e-4, 10: 5e-5, 12: 5e-6}


def _run(d, solver, tol, status="converged", seconds=None):
    return {"run_id": "hand", "family": FAMILY, "ladder": f"{FAMILY}[tol={tol:g}]", "size": d, "size_name": "d",
            "agents": 2 * d, "goods": 2 * d, "seed": 0, "solver": solver, "exact": True, "tolerance": tol,
            "time_budget": 100.0, "status": status, "seconds": 0.01 * 2 ** d if seconds is None else seconds,
            "iterations": 2 ** d, "certificate": None, "game_resolution": RESOLUTION[d]}


def _records():
    records = []
    for tol, last in ((1e-2, 12), (1e-4, 8)):          # the dynamics: all sizes at 1e-2, to 8 at 1e-4
        for d in RESOLUTION:
            status = "converged" if d <= last else ("timeout" if d == last + 2 else "beyond_wall")
            records.append(_run(d, "dynamics", tol, status))
    for d in RESOLUTION:                               # an exact method, run at the finest tolerance only
        records.append(_run(d, "exact-path", 1e-4, "converged" if d <= 10 else "failed"))
    return records


def test_each_method_gets_its_largest_size_at_each_accuracy_and_exact_methods_one_column():
    records = _records()
    assert surface_families(records) == [FAMILY]
    assert accuracies(records, FAMILY) == [1e-2, 1e-4, EXACT]
    table = surface(records, FAMILY)
    assert table["dynamics"][1e-2].wall.largest == table["dynamics"][1e-2].frontier == 12
    assert table["dynamics"][1e-2].stop == ""
    assert table["dynamics"][1e-4].wall.largest == 8
    assert (table["dynamics"][1e-4].stop, table["dynamics"][1e-4].stop_size) == ("timeout", 10)
    assert set(table["exact-path"]) == {EXACT} and table["exact-path"][EXACT].wall.largest == 10
    assert (table["exact-path"][EXACT].stop, table["exact-path"][EXACT].stop_size) == ("failed", 12)
    assert (table["dynamics"][1e-4].solved, table["dynamics"][1e-4].attempted) == (4, 5)     # beyond the wall: not run


def test_the_resolution_says_from_which_d_a_pure_profile_passes_each_tolerance():
    assert resolved_up_to(_records(), FAMILY) == {1e-2: 6, 1e-4: 10}


def test_growth_is_fitted_only_where_4_sizes_converged():
    fits = growth(_records(), FAMILY)
    assert set(fits["dynamics"]) == {1e-2, 1e-4} and set(fits["exact-path"]) == {EXACT}
    assert fits["dynamics"][1e-2].rate == pytest.approx(2.0)
    few = [r for r in _records() if not (r["solver"] == "dynamics" and r["tolerance"] == 1e-4 and r["size"] > 6)]
    assert 1e-4 not in growth(few, FAMILY)["dynamics"]            # 3 sizes: no fit


def test_the_surface_tables_and_figure_come_from_a_run_directory(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _records()))
    table = surface_table(run, FAMILY)
    assert "| dynamics | up to 12 [6/6] | up to 8 [4/5], timeout at 10 |  |" in table
    assert "| exact-path |  |  | up to 10 [5/6], failed at 12 |" in table
    assert "| *a pure profile passes from* | d = 6 | d = 10 |  |" in table
    assert "x2.00/d (2.00-2.00)" in surface_growth_table(run, FAMILY)
    written = plot_surface(_records(), tmp_path, 1.0)
    assert sorted(p.name for p in written) == ["surface.png", "surface.svg"]
    svg = Path(tmp_path / "surface.svg").read_text()
    assert "dynamics" in svg and "exact-path" in svg and "resolution &lt;= tolerance" in svg


def test_a_method_that_fails_below_its_largest_solved_size_shows_both():
    records = [r for r in _records() if not (r["solver"] == "exact-path" and r["size"] == 4)]
    records.append(_run(4, "exact-path", 1e-4, "max_iter"))
    cell = surface(records, FAMILY)["exact-path"][EXACT]
    assert (cell.frontier, cell.wall.largest, cell.stop, cell.stop_size) == (2, 10, "max_iter", 4)
    assert (cell.solved, cell.attempted) == (4, 6)


def test_a_run_with_one_tolerance_per_family_has_no_surface(tmp_path):
    one = [r for r in _records() if r["tolerance"] == 1e-2]
    assert surface_families(one) == [] and plot_surface(one, tmp_path, 1.0) == []


def test_a_suite_that_lists_one_ladder_twice_is_refused_by_name():
    from gebench.markets import InputError
    from gebench.suite import parse_suite
    twice = """
name = "twice"
tolerance = 1e-6
time_budget = 1.0
[[family]]
family = "leontief-game"
tolerance = 1e-2
sizes = [3]
solvers = ["lemke-howson"]
[[family]]
family = "leontief-game"
tolerance = 1e-2
sizes = [3]
solvers = ["scarf"]
"""
    with pytest.raises(InputError, match=r"family\[1\]: the ladder leontief-game\[tol=0.01\] is listed twice"):
        parse_suite(twice)
    assert len(parse_suite(twice.replace("tolerance = 1e-2\nsizes = [3]\nsolvers = [\"scarf\"]",
                                         "tolerance = 1e-4\nsizes = [3]\nsolvers = [\"scarf\"]")).ladders) == 2


def test_a_slope_interval_needs_three_points_at_two_sizes():
    from gebench.analysis import slope_interval
    with pytest.raises(ValueError, match="3 points"):
        slope_interval([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="2 sizes"):
        slope_interval([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
