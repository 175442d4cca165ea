"""Figures a reader can read (`gebench.plot`'s module docstring): every legend off the data,
one colour per solver in every figure, at most `MAX_SERIES` solvers in a panel (a family
with more is split by kind), and a fit printed and drawn only where one was made."""
from pathlib import Path

import pytest
from matplotlib.colors import to_hex

from gebench import plot, plot_outcomes
from gebench.figures import DAYS_FIGURES, registered
from gebench.plot import MAX_SERIES, colour_of, kind_of, solver_groups
from gebench.records import read_runs

pytestmark = pytest.mark.slow     # draws every figure of two runs

ROOT = Path(__file__).resolve().parents[1]
GAME = "leontief-game-morris"
OWN = ["lemke-howson", "lemke-howson-exact", "lemke-howson-all-paths", "newton", "scarf", "tatonnement",
       "tatonnement-random"]
PEERS = ["gambit-lcp", "gambit-lcp-float", "gambit-simpdiv", "gambit-gnm", "gambit-logit", "gambit-enummixed",
         "quantecon-lemke-howson", "quantecon-mclennan-tourky"]
SHORT = "scarf"              # converges at 3 sizes only: too few to fit
NEVER = "newton"             # never converges: no median, no fit


def _record(solver, d, seed, status="converged", seconds=None, iterations=None, ladder=GAME, game=True):
    exact = solver not in ("newton", "tatonnement", "tatonnement-random")
    return {"run_id": "hand", "family": ladder, "ladder": ladder, "size": d, "size_name": "d" if game else "agents",
            "agents": 2 * d if game else d, "goods": 2 * d if game else d, "seed": seed, "solver": solver,
            "exact": exact, "tolerance": 1e-6, "time_budget": 1.0, "status": status, "seconds": seconds,
            "iterations": iterations,
            "certificate": None if exact else {"clearing": 1e-8 * (seed + 1), "budget": 1e-9}}


def _records() -> list[dict]:
    """A game family with 15 solvers (7 of gebench's, 8 peers), 6 sizes, 3 seeds; one solver
    that converges at 3 sizes and then runs out of budget, one that never converges; and a
    random family with 3 of the same solvers."""
    records = []
    for k, solver in enumerate(OWN + PEERS):
        for d in (2, 4, 6, 8, 10, 12):
            for seed in range(3):
                if solver == NEVER:
                    records.append(_record(solver, d, seed, "max_iter", 0.01, 100))
                elif solver == SHORT and d > 6:
                    records.append(_record(solver, d, seed, "timeout", 1.0, 10 ** 6))
                else:
                    records.append(_record(solver, d, seed, seconds=1e-3 * (k + 1) * 1.6 ** d * (1 + seed / 10),
                                           iterations=(k + 1) * 2 ** d + seed))
    for solver in ("homotopy", "tatonnement", "proportional-response"):
        for n in (10, 20, 40, 80):
            records += [_record(solver, n, seed, seconds=1e-4 * n ** 1.5, iterations=n, ladder="fisher-ces",
                                game=False) for seed in range(2)]
    return records


def _facts(fig) -> dict:
    """What a reader sees of a figure: its visible panels' extents, every legend's extent and
    (label, colour) entries, and per panel the colours of its data lines and its fit lines."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    legends = [ax.get_legend() for ax in panels if ax.get_legend()] + list(fig.legends)
    return {
        "panels": [ax.get_window_extent(renderer) for ax in panels],
        "legends": [legend.get_window_extent(renderer) for legend in legends],
        "entries": [(text.get_text(), to_hex(handle.get_color()))
                    for legend in legends for text, handle in zip(legend.get_texts(), legend.legend_handles)
                    if hasattr(handle, "get_color")],
        "panel_legends": [len(ax.get_legend().get_texts()) for ax in panels if ax.get_legend()],
        "colours": [{to_hex(line.get_color()) for line in ax.get_lines() if len(line.get_xdata())
                     and line.get_transform() is ax.transData} for ax in panels],
        "fits": [{to_hex(line.get_color()) for line in ax.get_lines() if line.get_linestyle() == ":"
                  and line.get_transform() is ax.transData} for ax in panels],
    }


def _draw(records, run_dir, budget) -> dict:
    """{file stem: `_facts` of the figure that would be saved there} of every registered
    figure; the files themselves are not written (writing them is two thirds of the drawing
    time, and the facts are read from the drawn canvas)."""
    seen = {}

    def capture(fig, path):
        seen.setdefault(Path(path).stem, _facts(fig))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plot, "save_figure", capture)
        patch.setattr(plot_outcomes, "save_figure", capture)
        days = any("day" in r for r in records)
        for name, figure in registered().items():
            if (name in DAYS_FIGURES) == days:       # as `draw_all` hands each figure its kind of records
                figure(records, run_dir, budget, "suite hand")
    return seen


@pytest.fixture(scope="module")
def market_records():
    """The stored market run's records of two families (planners, auctioneers and traders), to
    size 10: every solver and status is there, at a tenth of the drawing."""
    records = read_runs(ROOT / "results" / "reference-market")
    return [r for r in records if r["ladder"] in ("exchange-cobb-douglas", "leontief-game-morris") and r["size"] <= 10]


@pytest.fixture(scope="module")
def days_records():
    """The stored days run's turbulent records of its first seed's first 6 days: every method
    of every family, in one regime's figures (the other's are laid out the same way)."""
    return [r for r in read_runs(ROOT / "results" / "reference-days")
            if r["seed"] == 0 and r["day"] < 6 and r["regime"] == "turbulent"]


@pytest.fixture(scope="module")
def figures(tmp_path_factory, market_records, days_records):
    """Every figure of the hand-made game run, of the market records and of the days records,
    as `_facts`."""
    games = _draw(_records(), tmp_path_factory.mktemp("games"), 1.0)
    market = _draw(market_records, tmp_path_factory.mktemp("market"), 5.0)
    days = _draw(days_records, tmp_path_factory.mktemp("days"), 0.25)
    assert {"days-turbulent", "days-summary-turbulent"} <= set(days)
    return {**{f"games/{k}": v for k, v in games.items()}, **{f"market/{k}": v for k, v in market.items()},
            **{f"days/{k}": v for k, v in days.items()}}


def _solver(label: str, solvers) -> str | None:
    name = label.split()[0].rstrip(":,") if label.strip() else ""
    return name if name in solvers else None


def test_solver_groups_split_peers_from_gebench_then_planners_from_market_processes():
    assert solver_groups(OWN[:5]) == [("", sorted(OWN[:5]))]
    assert solver_groups(OWN + PEERS) == [("gebench", sorted(OWN)), ("peers", sorted(PEERS))]
    many = OWN + ["bilateral-exchange", "hahn-process", "homotopy", "path-mcp"]
    groups = dict(solver_groups(many))
    assert set(groups) == {"planners", "market processes"}
    assert all(kind_of(s) == "market processes" for s in groups["market processes"])
    assert sorted(groups["planners"] + groups["market processes"]) == sorted(many)
    chunks = solver_groups([f"gambit-{k}" for k in range(11)])
    assert [name for name, _ in chunks] == ["peers (1/2)", "peers (2/2)"]
    assert all(len(members) <= MAX_SERIES for _, members in chunks)


def test_colours_are_fixed_distinct_and_stable():
    known = [colour_of(s) for s in plot.KNOWN_SOLVERS]
    assert len(set(known)) == len(known)                     # one colour per solver gebench ships
    assert colour_of("my-plugin") == colour_of("my-plugin") and colour_of("my-plugin") not in known


def test_every_legend_lies_off_the_panels(figures):
    assert {"games/scaling", "games/iterations", "games/hard", "games/accuracy_size", "games/profile",
            "market/market-size", "market/market-time-leontief-game-morris", "market/scaling"} <= set(figures)
    for name, facts in figures.items():
        assert facts["legends"], name
        for legend in facts["legends"]:
            for panel in facts["panels"]:
                overlap = (min(legend.x1, panel.x1) - max(legend.x0, panel.x0),
                           min(legend.y1, panel.y1) - max(legend.y0, panel.y0))
                assert not (overlap[0] > 1 and overlap[1] > 1), f"{name}: a legend covers a panel"


def test_no_panel_holds_more_than_eight_solvers(figures):
    grey = {to_hex("grey"), to_hex("0.2")}
    for name, facts in figures.items():
        assert all(n <= MAX_SERIES for n in facts["panel_legends"]), name
        assert all(len(colours - grey) <= MAX_SERIES for colours in facts["colours"]), name
    # the 15 solvers of the game family: gebench's in one panel, the peers in another
    assert max(len(colours - grey) for colours in figures["games/scaling"]["colours"]) == len(PEERS)


def test_a_solver_has_the_same_colour_in_every_figure(figures, market_records):
    solvers = set(OWN + PEERS) | {r["solver"] for r in market_records}
    seen = {}
    for name, facts in figures.items():
        for label, colour in facts["entries"]:
            solver = _solver(label, solvers)
            if solver:
                assert colour == to_hex(colour_of(solver)), f"{solver} in {name}"
                seen.setdefault(solver, set()).add(name)
    assert len(seen["tatonnement"]) >= 6 and len(seen["scarf"]) >= 6        # the same solver, many figures


def test_a_fit_is_printed_and_drawn_only_where_one_was_made(figures):
    for name in ("games/scaling", "games/hard"):
        labels = {_solver(label, OWN + PEERS): label for label, _ in figures[name]["entries"]
                  if _solver(label, OWN + PEERS)}
        assert "too few to fit" in labels[SHORT] and "per d" not in labels[SHORT]
        assert labels[NEVER].endswith("never converged") and "per d" not in labels[NEVER]
        assert "per d (CI" in labels["lemke-howson"] or "~d^" in labels["lemke-howson"]
    fits = set().union(*figures["games/hard"]["fits"])
    assert to_hex(colour_of("lemke-howson")) in fits
    assert to_hex(colour_of(SHORT)) not in fits and to_hex(colour_of(NEVER)) not in fits


def test_titles_say_what_is_measured_and_to_which_accuracy(monkeypatch, tmp_path):
    texts = {}

    def capture(fig, path):
        texts[Path(path).stem] = [t.get_text() for t in fig.texts]

    monkeypatch.setattr(plot, "save_figure", capture)
    plot.plot_scaling(_records(), tmp_path, 1.0, "suite hand")
    plot.plot_hard(_records(), tmp_path, 1.0, "suite hand")
    assert any(t.startswith("Seconds to a 1e-6 equilibrium against size") and "suite hand" in t
               for t in texts["scaling"])
    assert any(t.startswith("Pivots and seconds to a 1e-6 equilibrium against the game dimension d")
               for t in texts["hard"])
