"""Figures of a days suite (`gebench.days`, `gebench.days_summary`), one pair per regime.

- ``days-<regime>``: the share of each day's gains from trade the agents held at the day's
  end, day by day, one line per method, for the first seed's stream of each ladder (rows)
  and size (columns). A day without a certified equilibrium to measure against has no
  point, and a day the method was cut at its end is marked with a cross.
- ``days-summary-<regime>``: per ladder (rows), against size, the mean share over every
  day and seed (solid) and the worst day's (dashed); the share of days on which the agents
  ended with nothing; and the numbers read at one central point a day (log scale; a method
  that reads nothing centrally is drawn on the axis's floor and says so in its label).

The layout rules are `gebench.plot`'s: one colour per solver, legends beside the panels.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .days_summary import summarise_days
from .figures import figure
from .plot import MAX_SERIES, WIDTH, colour_of, finish, header, header_inches, key_line, kind_of, legend_beside, say

READS_FLOOR = 1.0         # where a method reading nothing centrally is drawn on the log axis


CARRIED = "-carried"      # the suffix days.toml gives a method's carried variant


def _groups(solvers) -> list[tuple[str, list[str]]]:
    """A ladder's methods as [(group, methods)], one row of panels each: all of them when they
    fit `MAX_SERIES`, else the planners apart from the market processes (auctioneers and
    traders), a carried variant ("tatonnement-carried") with its method."""
    solvers = sorted(set(solvers))
    if len(solvers) <= MAX_SERIES:
        return [("", solvers)]
    kinds = {s: kind_of(s.removesuffix(CARRIED)) for s in solvers}
    return [(kind, [s for s in solvers if kinds[s] == kind]) for kind in ("planners", "market processes")
            if any(kinds[s] == kind for s in solvers)]


def _size_text(size: int, size_name: str) -> str:
    return f"d = {size}" if size_name == "d" else f"{size} agents"


def _regimes(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["regime"] for r in records))


def plot_days(records: list[dict], out_dir: Path, title: str = "") -> list[Path]:
    """The ``days-<regime>`` figures: see the module's docstring."""
    written = []
    for regime in _regimes(records):
        runs = [r for r in records if r["regime"] == regime and r["status"] != "declined"]
        if not runs:
            continue
        seed = min(r["seed"] for r in runs)
        cells = defaultdict(lambda: defaultdict(list))       # (ladder, size) -> solver -> records
        for r in runs:
            if r["seed"] == seed:
                cells[(r["ladder"], r["size"])][r["solver"]].append(r)
        ladders = sorted({ladder for ladder, _ in cells})
        rows = [(ladder, group, members) for ladder in ladders
                for group, members in _groups({s for (lad, _), by in cells.items() if lad == ladder for s in by})]
        cols = max(len({size for lad, size in cells if lad == ladder}) for ladder in ladders)
        heading = (f"{title}: share of each day's gains from trade held at the day's end, regime {regime}, "
                   f"seed {seed}\n(1 = the day's equilibrium, 0 = no trade; x = the method overran the day)")
        key = [key_line("overran the day: cut", marker="x")]
        fig, axes = plt.subplots(len(rows), cols, squeeze=False, sharey=True,
                                 figsize=(WIDTH, 2.7 * len(rows) + header_inches(heading, key)))
        top = header(fig, heading, key)
        for row, (ladder, group, members) in enumerate(rows):
            sizes = sorted(size for lad, size in cells if lad == ladder)
            for col in range(cols):
                ax = axes[row][col]
                if col >= len(sizes):
                    ax.set_visible(False)
                    continue
                by_solver = cells[(ladder, sizes[col])]
                for solver in members:
                    days = sorted(by_solver.get(solver, []), key=lambda r: r["day"])
                    if not days:
                        continue
                    x = [r["day"] for r in days]
                    y = [np.nan if r.get("gains_share") is None else r["gains_share"] for r in days]
                    ax.plot(x, y, color=colour_of(solver), lw=1.2, label=solver)
                    cut = [(r["day"], r["gains_share"]) for r in days
                           if r.get("cut") and r.get("gains_share") is not None]
                    if cut:
                        ax.plot(*zip(*cut), "x", color=colour_of(solver), ms=4)
                size_name = next(iter(by_solver.values()))[0].get("size_name", "agents")
                ax.set_title(f"{ladder}, {_size_text(sizes[col], size_name)}" + (f": {group}" if group else ""),
                             fontsize=9)
                ax.set_xlabel("day")
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_ylim(-0.05, 1.05)
                ax.grid(alpha=0.3)
                if col == 0:
                    ax.set_ylabel("share of the day's gains")
                if col == len(sizes) - 1:
                    legend_beside(ax)
        written += finish(fig, True, out_dir, f"days-{regime}", top)
    return written


def plot_days_summary(records: list[dict], out_dir: Path, title: str = "") -> list[Path]:
    """The ``days-summary-<regime>`` figures: see the module's docstring."""
    written = []
    rows = summarise_days(records)
    for regime in _regimes(records):
        mine = [r for r in rows if r["regime"] == regime]
        if not mine:
            continue
        ladders = sorted({r["ladder"] for r in mine})
        panels = [(ladder, group, members) for ladder in ladders
                  for group, members in _groups({r["solver"] for r in mine if r["ladder"] == ladder})]
        heading = f"{title}: what each method delivered a day, regime {regime}, over every day and seed"
        key = [key_line("mean share", ls="-"), key_line("worst day's share", ls="--")]
        fig, axes = plt.subplots(len(panels), 3, squeeze=False,
                                 figsize=(WIDTH, 2.8 * len(panels) + header_inches(heading, key)))
        top = header(fig, heading, key)
        for k, (ladder, group, members) in enumerate(panels):
            series = defaultdict(list)
            for r in mine:
                if r["ladder"] == ladder and r["solver"] in members:
                    series[r["solver"]].append(r)
            share_ax, nothing_ax, reads_ax = axes[k]
            game = next(iter(series.values()))[0]["size_name"] == "d"
            for solver, points in sorted(series.items()):
                points.sort(key=lambda r: r["size"])
                sizes = [r["size"] for r in points]
                colour = colour_of(solver)
                share_ax.plot(sizes, [np.nan if r["mean"] is None else r["mean"] for r in points], "o-",
                              color=colour, ms=3, label=solver)
                share_ax.plot(sizes, [np.nan if r["worst"] is None else r["worst"] for r in points], "--",
                              color=colour, lw=1)
                nothing_ax.plot(sizes, [r["nothing"] / max(1, r["days"] - r["unknown"]) for r in points], "o-",
                                color=colour, ms=3)
                reads = [r["reads"] for r in points]
                label = solver + (" (reads nothing)" if all(v == 0 for v in reads if v is not None) else "")
                reads_ax.plot(sizes, [np.nan if v is None else max(v, READS_FLOOR) for v in reads], "o-",
                              color=colour, ms=3, label=label)
            where = ladder + (f" ({group})" if group else "")
            for ax in (share_ax, nothing_ax, reads_ax):
                ax.set_xscale("linear" if game else "log")
                ax.grid(alpha=0.3)
                ax.set_xlabel("game dimension d" if game else "agents")
                all_sizes = sorted({r["size"] for r in mine if r["ladder"] == ladder})
                ax.set_xticks(all_sizes, [str(s) for s in all_sizes])
                ax.minorticks_off()
            share_ax.set_ylim(-0.05, 1.05)
            share_ax.set_ylabel("share of the day's gains")
            share_ax.set_title(f"{where}:\nshare of the gains delivered", fontsize=9)
            nothing_ax.set_ylim(-0.05, 1.05)
            nothing_ax.set_ylabel("share of days")
            nothing_ax.set_title(f"{where}:\ndays with nothing delivered", fontsize=9)
            reads_ax.set_yscale("log")
            reads_ax.set_ylabel("numbers read centrally")
            reads_ax.set_title(f"{where}:\nnumbers read at one point a day", fontsize=9)
            legend_beside(reads_ax)
        written += finish(fig, True, out_dir, f"days-summary-{regime}", top)
    return written


@figure("days", days=True)
def _days_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    drawn = [r for r in records if r["status"] != "declined"]
    if not drawn:
        say("days", "every method declined every stream: nothing to draw")
        return []
    return plot_days(drawn, out_dir, title)


@figure("days-summary", days=True)
def _days_summary_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    if not any(r["status"] != "declined" for r in records):
        return []
    return plot_days_summary(records, out_dir, title)
