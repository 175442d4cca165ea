"""Figures of what the market delivers (`gebench.outcomes`), for a run of a welfare suite.

- `market-time-<ladder>.png`: for one economy (the first seed) per size, the share of the
  gains from trade the agents hold (total, and the worst agent's) and the Pareto gap
  against seconds, one line per solver. A planner's line stays at zero until it finishes
  (its agents hold their endowments), then jumps; a run that ends without an equilibrium
  ends with a cross, and a planner's then delivers nothing.
- `market-size.png`: the median share of the gains held at the end of each run and after
  a tenth of the budget, against size, per ladder and solver.
- `market-information.png`: the share of the gains delivered at the end against the numbers
  the run gathered at one central point (`central_reads`), every run drawn.
Gains shares need an equilibrium certified for the same economy in the run; where none
is known, only the Pareto gap is drawn, and a figure of gains alone (`market-size`,
`market-information`) with none to draw is not written: one line on stderr says so.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .figures import figure  # noqa: E402
from .outcomes import at_time, final, instance_of, references, timeline, welfare_records  # noqa: E402
from .plot import (  # noqa: E402
    MAX_SERIES,
    WIDTH,
    colour_of,
    grid,
    group_title,
    header,
    header_inches,
    key_line,
    legend_beside,
    panel_slots,
    panel_title,
    save_figure,
    say,
    solver_groups,
)
from .records import size_of  # noqa: E402

MAX_PANELS = 5
GAINS = "share of the gains\nfrom trade held (0 to 1)"


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


@figure("market")
def _market_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_outcomes(records, out_dir, budget)


def plot_outcomes(records: list[dict], out_dir: Path, budget: float | None) -> list[Path]:
    """Every market figure of a run that has something to draw; none when its records hold
    no welfare. `budget` (None when the run's meta.json does not say) marks the time axes."""
    recs = welfare_records(records)
    if not recs:
        return []
    refs = references(records)
    written = [_time_figure(ladder, [r for r in recs if r["ladder"] == ladder], refs, out_dir, budget)
               for ladder in sorted({r["ladder"] for r in recs})]
    figures = (_size_figure(recs, refs, out_dir, budget), _information_figure(recs, refs, out_dir))
    return written + [path for path in figures if path is not None]


def _drawn(axes) -> bool:
    """Whether a line on one of `axes` has a point."""
    return any(len(line.get_xdata()) for ax in axes for line in ax.get_lines())


def _unknown_gains(figure: str, fig) -> None:
    """Close a figure of gains shares that has none to draw, and say why on stderr."""
    plt.close(fig)
    say(figure, "nothing to draw (no run has a known share of the gains from trade: "
                "that needs an equilibrium certified in the run)")


def _by_ladder(recs) -> dict[str, set]:
    solvers = defaultdict(set)
    for r in recs:
        solvers[r["ladder"]].add(r["solver"])
    return solvers


def _time_figure(ladder, recs, refs, out_dir, budget) -> Path:
    """market-time-<ladder>.png: three rows (gains held, the worst agent's share, the Pareto
    gap) per group of solvers (`solver_groups`), one column per size (the largest
    `MAX_PANELS`), the solvers' legend beside each group's first row."""
    sizes = sorted({size_of(r) for r in recs})[-MAX_PANELS:]
    groups = solver_groups({r["solver"] for r in recs})
    heading = (f"{ladder}: what the agents hold against seconds, for one economy per size (each solver's first seed)"
               "\na planner's agents hold their endowments until it finishes; "
               "one that stops without an equilibrium delivers nothing")
    key = [key_line("run ends with an equilibrium certified", "o", mfc="none", ms=6),
           key_line("run stops without one", "x", ms=6)]
    if budget:
        key.append(key_line(f"time budget ({budget:g} s)", ls=":", colour="grey"))
    fig, axes = plt.subplots(3 * len(groups), len(sizes), squeeze=False, sharey="row",
                             figsize=(WIDTH, 2.2 * 3 * len(groups) + header_inches(heading, key, 3)))
    top = header(fig, heading, key, 3)
    for block, (group, members) in enumerate(groups):
        rows = axes[3 * block:3 * block + 3]
        for col, size in enumerate(sizes):
            here = [r for r in recs if size_of(r) == size]
            for r in sorted(here, key=lambda r: r["solver"]):
                if r["solver"] not in members or r["seed"] != min(x["seed"] for x in here
                                                                  if x["solver"] == r["solver"]):
                    continue                    # one economy per size: each solver's first seed
                points = timeline(r, refs.get(instance_of(r)))
                if not points:
                    continue
                t = [max(p["seconds"], 1e-5) for p in points]
                end = "o" if r["status"] == "converged" else "x"
                for row, key_name in enumerate(("gains_total", "gains_worst", "pareto_gap")):
                    ys = [p[key_name] for p in points]
                    if all(y is None for y in ys):
                        continue
                    ys = [np.nan if y is None else y for y in ys]
                    xs, ys = [1e-5] + t, [_base(r, key_name, points)] + ys
                    rows[row][col].step(xs, ys, where="post", color=colour_of(r["solver"]), lw=1.2)
                    rows[row][col].plot(xs[-1], ys[-1], end, color=colour_of(r["solver"]), ms=6, mfc="none")
            rows[0][col].set_title(f"{here[0]['size_name']} = {size}", fontsize=10)
            if not any(refs.get(instance_of(r)) for r in here):
                rows[0][col].text(0.5, 0.5, "no certified equilibrium:\ngains unknown", ha="center",
                                  va="center", transform=rows[0][col].transAxes, fontsize=8)
            for row in range(3):
                rows[row][col].set_xscale("log")
                rows[row][col].tick_params(labelsize=8)
                if budget:
                    rows[row][col].set_xlim(1e-5, budget * 2)
                    rows[row][col].axvline(budget, color="grey", ls=":", lw=0.8)
                else:
                    rows[row][col].set_xlim(left=1e-5)
            rows[2][col].set_xlabel("seconds (wall clock)", fontsize=9)
        named = f"{group_title(group)}:\n" if group else ""
        rows[0][0].set_ylabel(named + GAINS, fontsize=9)
        rows[1][0].set_ylabel("the worst agent's\nshare (0 to 1)", fontsize=9)
        rows[2][0].set_ylabel("Pareto gap t\n(all could get 1 + t times)", fontsize=9)
        rows[2][0].set_yscale("symlog", linthresh=1e-6)
        rows[2][0].set_ylim(0, max(rows[2][0].get_ylim()[1], 1e-5))   # a decade at least: no odd top tick
        legend_beside(rows[0][-1], [Line2D([], [], color=colour_of(s), label=s) for s in members])
    fig.tight_layout(rect=(0, 0, 1, top))
    path = out_dir / f"market-time-{_safe(ladder)}.png"
    save_figure(fig, path)
    plt.close(fig)
    return path


def _trades(record) -> bool:
    """A trace whose first point already holds traded goods (its log utilities are stored)."""
    return record["trace"]["log_utility"][0] is not None


def _base(record, key, points):
    """The no-trade value of a measure at time zero: gains 0 (when known); the Pareto gap of
    the first point for a planner, whose agents hold the no-trade bundle until it finishes."""
    if points[0][key] is None:
        return np.nan
    if key == "pareto_gap":
        return np.nan if _trades(record) else points[0][key]
    return 0.0


def _size_figure(recs, refs, out_dir, budget) -> Path | None:
    """market-size.png: per family (in two panels, planners and market processes, where its
    two lines a solver would make more than `MAX_SERIES`), the median share of the gains held
    at the end and after a tenth of the budget, against size."""
    whens = ((None, "-"), (budget / 10, "--")) if budget else ((None, "-"),)
    heading = "The share of the gains from trade the agents hold, against size: median over seeds"
    key = [key_line("at the end of each run", ".", "-")]
    if budget:
        key.append(key_line(f"after a tenth of the budget, {budget / 10:g} s", ".", "--"))
    fig, placed, top = grid(panel_slots(_by_ladder(recs), MAX_SERIES // len(whens)), heading, key,
                            key_cols=len(key), row_height=2.6)
    for (ladder, group, members), ax in placed:
        here = [r for r in recs if r["ladder"] == ladder]
        for solver in members:
            for when, style in whens:
                by_size = defaultdict(list)
                for r in here:
                    if r["solver"] != solver:
                        continue
                    ref = refs.get(instance_of(r))
                    value = (final(r, ref) if when is None else at_time(timeline(r, ref), when))["gains_total"]
                    if value is not None:
                        by_size[size_of(r)].append(value)
                if by_size:
                    xs = sorted(by_size)
                    ax.plot(xs, [np.median(by_size[x]) for x in xs], style, marker=".", color=colour_of(solver),
                            label=solver if when is None else None)
        ax.set_title(panel_title(ladder, group), fontsize=10)
        _size_axis(ax, here)
        _gains_axis(ax)
        ax.grid(True, alpha=0.25)
        legend_beside(ax, [Line2D([], [], color=colour_of(s), marker=".", label=s) for s in members])
    if not _drawn(ax for _, ax in placed):
        return _unknown_gains("market-size", fig)
    return _save(fig, top, out_dir / "market-size.png")


def _gains_axis(ax) -> None:
    """A share of the gains on y, from 0 to 1 at least, so that the panels compare."""
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -0.05), max(high, 1.05))
    ax.set_ylabel(GAINS, fontsize=9)


def _size_axis(ax, here) -> None:
    """Sizes on x, ticks at the sizes run; log for agents, linear for d."""
    sizes = sorted({size_of(r) for r in here})
    game = here[0]["size_name"] != "agents"
    ax.set_xlabel("game dimension d" if game else "agents", fontsize=9)
    ax.set_xscale("linear" if game else "log")
    ax.set_xticks(sizes, [str(x) for x in sizes], fontsize=7)
    ax.minorticks_off()


def _information_figure(recs, refs, out_dir) -> Path | None:
    """market-information.png: the share of the gains held at the end of every run against
    the numbers it read at one central point, per family."""
    heading = ("The share of the gains from trade the agents hold at the end of each run, against the numbers "
               "the run read at one central point\nevery run drawn")
    key = [key_line("run ends with an equilibrium certified", "o", mfc="none", ms=5),
           key_line("run stops without one", "x", ms=5)]
    fig, placed, top = grid(panel_slots(_by_ladder(recs)), heading, key, key_cols=2, row_height=2.6)
    for (ladder, group, members), ax in placed:
        for r in recs:
            if r["ladder"] != ladder or r["solver"] not in members or r.get("central_reads") is None:
                continue
            value = final(r, refs.get(instance_of(r)))["gains_total"]
            if value is None:
                continue
            ax.plot(r["central_reads"] + 1, value, "o" if r["status"] == "converged" else "x",
                    color=colour_of(r["solver"]), ms=4, mfc="none", alpha=0.7)
        ax.set_xscale("log")
        ax.set_title(panel_title(ladder, group), fontsize=10)
        ax.set_xlabel("numbers read centrally + 1 (count)", fontsize=9)
        _gains_axis(ax)
        ax.grid(True, which="both", alpha=0.25)
        legend_beside(ax, [Line2D([], [], color=colour_of(s), marker="o", mfc="none", ls="none", label=s)
                           for s in members])
    if not _drawn(ax for _, ax in placed):
        return _unknown_gains("market-information", fig)
    return _save(fig, top, out_dir / "market-information.png")


def _save(fig, top: float, path: Path) -> Path:
    """Lay out the panels below `top` (what the header leaves) and write `path`."""
    fig.tight_layout(rect=(0, 0, 1, top))
    save_figure(fig, path)
    plt.close(fig)
    return path
