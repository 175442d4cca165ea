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

from .figures import figure  # noqa: E402
from .outcomes import at_time, final, instance_of, references, timeline, welfare_records  # noqa: E402
from .plot import colour_of, save_figure, say  # noqa: E402
from .records import size_of  # noqa: E402

MAX_PANELS = 5


def _colours(solvers) -> dict:
    return {s: colour_of(s) for s in sorted(solvers)}


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
    colours = _colours({r["solver"] for r in recs})
    written = [_time_figure(ladder, [r for r in recs if r["ladder"] == ladder], refs, colours, out_dir, budget)
               for ladder in sorted({r["ladder"] for r in recs})]
    figures = (_size_figure(recs, refs, colours, out_dir, budget), _information_figure(recs, refs, colours, out_dir))
    return written + [path for path in figures if path is not None]


def _drawn(axes) -> bool:
    """Whether a line on one of `axes` has a point."""
    return any(len(line.get_xdata()) for ax in axes for line in ax.get_lines())


def _unknown_gains(figure: str, fig) -> None:
    """Close a figure of gains shares that has none to draw, and say why on stderr."""
    plt.close(fig)
    say(figure, "nothing to draw (no run has a known share of the gains from trade: "
                "that needs an equilibrium certified in the run)")


def _time_figure(ladder, recs, refs, colours, out_dir, budget) -> Path:
    sizes = sorted({size_of(r) for r in recs})
    sizes = sizes[-MAX_PANELS:]
    fig, axes = plt.subplots(3, len(sizes), figsize=(3.2 * len(sizes) + 1, 8), squeeze=False, sharey="row")
    for col, size in enumerate(sizes):
        here = [r for r in recs if size_of(r) == size]
        for r in sorted(here, key=lambda r: r["solver"]):
            if r["seed"] != min(x["seed"] for x in here if x["solver"] == r["solver"]):
                continue                    # one economy per size: each solver's first seed
            points = timeline(r, refs.get(instance_of(r)))
            if not points:
                continue
            t = [max(p["seconds"], 1e-5) for p in points]
            end = "o" if r["status"] == "converged" else "x"
            for row, key in enumerate(("gains_total", "gains_worst", "pareto_gap")):
                ys = [p[key] for p in points]
                if all(y is None for y in ys):
                    continue
                ys = [np.nan if y is None else y for y in ys]
                xs, ys = [1e-5] + t, [_base(r, key, points)] + ys
                axes[row][col].step(xs, ys, where="post", color=colours[r["solver"]], lw=1.2,
                                    label=r["solver"] if col == 0 and row == 0 else None)
                axes[row][col].plot(xs[-1], ys[-1], end, color=colours[r["solver"]], ms=6, mfc="none")
        axes[0][col].set_title(f"{here[0]['size_name']} = {size}")
        if not any(refs.get(instance_of(r)) for r in here):
            axes[0][col].text(0.5, 0.5, "no certified equilibrium:\ngains unknown", ha="center", va="center",
                              transform=axes[0][col].transAxes, fontsize=8)
        for row in range(3):
            axes[row][col].set_xscale("log")
            if budget:
                axes[row][col].set_xlim(1e-5, budget * 2)
                axes[row][col].axvline(budget, color="grey", ls=":", lw=0.8)
            else:
                axes[row][col].set_xlim(left=1e-5)
        axes[2][col].set_xlabel("seconds")
    axes[0][0].set_ylabel("share of the gains from trade held\n(valued at equilibrium prices)")
    axes[1][0].set_ylabel("worst agent's share")
    axes[2][0].set_ylabel("Pareto gap")
    axes[2][0].set_yscale("symlog", linthresh=1e-6)
    axes[2][0].set_ylim(bottom=0)
    fig.suptitle(f"{ladder}: what the agents hold over time, one economy per size (o: equilibrium certified; "
                 "x: stopped without one, and a planner then delivers nothing)", y=0.995, fontsize=10)
    if axes[0][0].get_legend_handles_labels()[0]:
        fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.965), ncol=8, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
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


def _size_figure(recs, refs, colours, out_dir, budget) -> Path | None:
    ladders = sorted({r["ladder"] for r in recs})
    fig, axes = plt.subplots(1, len(ladders), figsize=(3.6 * len(ladders) + 1, 3.8), squeeze=False)
    for ax, ladder in zip(axes[0], ladders):
        here = [r for r in recs if r["ladder"] == ladder]
        for solver in sorted({r["solver"] for r in here}):
            for when, style in ((None, "-"), (budget / 10, "--")) if budget else ((None, "-"),):
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
                    ax.plot(xs, [np.median(by_size[x]) for x in xs], style, marker=".", color=colours[solver])
        ax.set_title(ladder, fontsize=9)
        ax.set_xlabel(here[0]["size_name"])
        sizes = sorted({size_of(r) for r in here})
        ax.set_xscale("log" if here[0]["size_name"] == "agents" else "linear")
        ax.set_xticks(sizes, [str(x) for x in sizes], fontsize=7)
        ax.minorticks_off()
    if not _drawn(axes[0]):
        return _unknown_gains("market-size", fig)
    axes[0][0].set_ylabel("median share of the gains held\n(at the end" +
                          (f": solid; after {budget / 10:g} s: dashed)" if budget else ")"))
    return _save(fig, colours, ".", out_dir / "market-size.png")


def _information_figure(recs, refs, colours, out_dir) -> Path | None:
    ladders = sorted({r["ladder"] for r in recs})
    fig, axes = plt.subplots(1, len(ladders), figsize=(3.6 * len(ladders) + 1, 3.8), squeeze=False, sharey=True)
    for ax, ladder in zip(axes[0], ladders):
        for r in recs:
            if r["ladder"] != ladder or r.get("central_reads") is None:
                continue
            value = final(r, refs.get(instance_of(r)))["gains_total"]
            if value is None:
                continue
            ax.plot(r["central_reads"] + 1, value, "o" if r["status"] == "converged" else "x",
                    color=colours[r["solver"]], ms=4, mfc="none", alpha=0.7)
        ax.set_xscale("log")
        ax.set_title(ladder, fontsize=9)
        ax.set_xlabel("numbers read centrally + 1")
    if not _drawn(axes[0]):
        return _unknown_gains("market-information", fig)
    axes[0][0].set_ylabel("share of the gains held at the end")
    return _save(fig, colours, "o", out_dir / "market-information.png")


def _save(fig, colours: dict, marker: str, path: Path) -> Path:
    """A row of panels with one legend of every solver above them, written to `path`."""
    handles = [plt.Line2D([], [], color=c, marker=marker, ls="" if marker == "o" else "-", mfc="none", label=s)
               for s, c in sorted(colours.items())]
    fig.legend(handles=handles, loc="upper center", ncol=6, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.85))
    save_figure(fig, path)
    plt.close(fig)
    return path
