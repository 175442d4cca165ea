"""Issue 29, "one room for each thing": a plot registers itself (`gebench.figures.figure`)
and `gebench plot` / `gebench run` draw every registered figure, with nothing in the CLI."""
import json
from pathlib import Path

import pytest

from gebench import figures
from gebench.cli import main

BUILT_IN = ["scaling", "iterations", "hard", "accuracy", "profile", "market", "surface"]


def _record(size, seed=0, seconds=0.1):
    return {"run_id": "hand", "family": "fisher-ces", "ladder": "fisher-ces", "size": size, "size_name": "agents",
            "agents": size, "goods": size, "seed": seed, "solver": "fast", "exact": False, "tolerance": 1e-6,
            "time_budget": 1.0, "status": "converged", "seconds": seconds, "iterations": 3, "certificate": None}


def _run_dir(path: Path) -> Path:
    path.mkdir()
    (path / "suite.toml").write_text('name = "hand"\n')
    (path / "meta.json").write_text(json.dumps({"record_format": 1, "suite": "hand", "time_budget": 1.0}))
    (path / "runs.jsonl").write_text("".join(json.dumps(_record(n)) + "\n" for n in (10, 20)))
    return path


@pytest.fixture
def only_new(monkeypatch):
    """The registry with the built-in figures loaded, then emptied for the test (restored after)."""
    figures.registered()
    monkeypatch.setattr(figures, "FIGURES", {})
    return figures


def _tally(records, out_dir, budget, title):
    path = Path(out_dir) / "tally.txt"
    path.write_text(f"{len(records)} records, budget {budget}, {title}\n")
    return [path]


def test_the_built_in_figures_are_registered_in_their_drawing_order():
    drawn = list(figures.registered())
    assert set(BUILT_IN) <= set(drawn)
    assert drawn[:5] == BUILT_IN[:5]           # gebench.plot's, in its order, before any other module's


def test_a_registered_figure_is_drawn_by_draw_all(only_new, tmp_path):
    only_new.figure("tally")(_tally)
    assert list(only_new.registered()) == ["tally"]
    written = only_new.draw_all([_record(10)], tmp_path, 2.0, "suite t")
    assert written == [tmp_path / "tally.txt"]
    assert (tmp_path / "tally.txt").read_text() == "1 records, budget 2.0, suite t\n"


def test_gebench_plot_draws_a_newly_registered_figure(only_new, tmp_path, capsys):
    only_new.figure("tally")(_tally)
    run = _run_dir(tmp_path / "run")
    assert main(["plot", str(run)]) == 0
    assert capsys.readouterr().out.split() == [str(run / "tally.txt")]
    assert (run / "tally.txt").read_text() == "2 records, budget 1.0, suite hand\n"


def test_a_second_figure_of_the_same_name_is_refused(only_new):
    only_new.figure("tally")(_tally)
    with pytest.raises(ValueError, match="'tally' is registered twice"):
        only_new.figure("tally")(lambda *args: [])


def test_what_a_figure_raises_surfaces(only_new, tmp_path):
    def broken(records, out_dir, budget, title):
        raise RuntimeError("cannot draw")
    only_new.figure("broken")(broken)
    with pytest.raises(RuntimeError, match="cannot draw"):
        only_new.draw_all([_record(10)], tmp_path, 1.0, "")
