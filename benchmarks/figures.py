"""The figures of a run: every plot registers itself here, and `draw_all` draws them.

A figure is a function `(records, run_dir, budget, title) -> list[Path]` that writes its
files into `run_dir` and returns them (none when it has nothing to draw, with one line on
stderr saying why); `@figure("name")` registers it, in the order of registration, and
`@figure("name", days=True)` one drawn from a days suite's records (`gebench.days`) alone:
each figure sees only the records of its kind, and a figure with none is not asked.
`gebench run` and `gebench plot RUN_DIR` draw every registered figure with `draw_all`, so
a new plot needs its function and the decorator, and nothing in the command line.
Nothing a figure raises is caught here: a figure that cannot be saved (a full disk) is
`WriteFailed`, which the command line reports.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Figure = Callable[[list, Path, "float | None", str], "list[Path]"]

FIGURES: dict[str, Figure] = {}
DAYS_FIGURES: set[str] = set()


def figure(name: str, days: bool = False) -> Callable[[Figure], Figure]:
    """Register the decorated function as the figure `name` (drawn by `draw_all`), of a days
    suite's records when `days`; a second figure of the same name is refused, so that no
    plot silently replaces another."""
    def register(draw: Figure) -> Figure:
        if name in FIGURES and FIGURES[name] is not draw:
            raise ValueError(f"figure {name!r} is registered twice")
        FIGURES[name] = draw
        if days:
            DAYS_FIGURES.add(name)
        return draw
    return register


def registered() -> dict[str, Figure]:
    """Every figure by name, the built-in ones (`gebench.plot`, `gebench.plot_outcomes`,
    `gebench.plot_surface`) loaded."""
    from . import plot, plot_days, plot_outcomes, plot_surface  # noqa: F401  (their decorators register them)
    return dict(FIGURES)


def draw_all(records: list[dict], run_dir: Path, budget: float | None, title: str) -> list[Path]:
    """Draw every registered figure of a run into `run_dir`, and say on stderr the fitted
    growth of its game families (`gebench.analysis.report_growth`); returns the files written."""
    from .analysis import report_growth
    written = []
    days = [r for r in records if "day" in r]
    single = [r for r in records if "day" not in r]
    for name, draw in registered().items():
        own = days if name in DAYS_FIGURES else single
        if own:
            written += draw(own, Path(run_dir), budget, title)
    if single:
        report_growth(single)
    return written
