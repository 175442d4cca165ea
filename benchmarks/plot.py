"""Scaling curves: time against size per family, one line per solver.

Random families (sized by agents) are drawn log-log with a fitted polynomial
exponent; game families (sized by the dimension d) on a log scale against d
with a fitted exponential growth factor, and they get a second figure of
pivots and seconds against d. Converged runs give the median line; runs that
ran out of budget are drawn as crosses at the budget, other non-converged runs
as hollow triangles at the time they took: censored points are shown, never
dropped, and never fitted.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def fit_exponent(sizes, seconds) -> float | None:
    """Slope of log(seconds) on log(size) over the upper half of the sizes (None for < 2 points)."""
    sizes, seconds = np.asarray(sizes, float), np.asarray(seconds, float)
    keep = sizes >= np.median(sizes) if len(sizes) >= 4 else np.ones(len(sizes), bool)
    if keep.sum() < 2:
        return None
    slope, _ = np.polyfit(np.log(sizes[keep]), np.log(seconds[keep]), 1)
    return float(slope)


def fit_growth(sizes, values) -> float | None:
    """Factor per unit of size of an exponential fit, log(value) on size, over the upper half."""
    sizes, values = np.asarray(sizes, float), np.asarray(values, float)
    keep = sizes >= np.median(sizes) if len(sizes) >= 4 else np.ones(len(sizes), bool)
    keep &= values > 0
    if keep.sum() < 2:
        return None
    slope, _ = np.polyfit(sizes[keep], np.log(values[keep]), 1)
    return float(np.exp(slope))


def size_of(record: dict) -> int:
    return record.get("size", record["agents"])


def exponential_ladders(records: list[dict]) -> set[str]:
    return {r["ladder"] for r in records if r.get("size_name") == "d"}


def scaling_series(records: list[dict], value: str = "seconds") -> dict:
    """{ladder: {solver: {"converged": [(size, median)], "timeout": [sizes], "other": [(size, v)]}}}
    of `value` ("seconds" or "iterations") per run."""
    grouped = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in records:
        grouped[r["ladder"]][r["solver"]][(r["status"], size_of(r))].append(r[value])
    series = {}
    for ladder, by_solver in grouped.items():
        series[ladder] = {}
        for solver, cells in by_solver.items():
            sizes = sorted({size for _, size in cells})
            converged = [(n, float(np.median(cells[("converged", n)]))) for n in sizes if cells[("converged", n)]]
            timeout = [n for n in sizes if cells[("timeout", n)]]
            other = [(n, s) for (status, n), times in cells.items()
                     if status not in ("converged", "timeout", "skipped") for s in times if s is not None]
            series[ladder][solver] = {"converged": converged, "timeout": timeout, "other": sorted(other)}
    return series


def plot_scaling(records: list[dict], out_dir: Path, budget: float | None = None,
                 title: str = "") -> list[Path]:
    """Draw scaling.png and scaling.svg into out_dir; returns the files written."""
    series = scaling_series(records)
    if not series:
        raise ValueError("no runs to plot")
    exponential = exponential_ladders(records)
    solvers = sorted({s for by_solver in series.values() for s in by_solver})
    colours = {s: plt.cm.tab10(k % 10) for k, s in enumerate(solvers)}
    exact = {r["solver"]: r.get("exact", False) for r in records}
    cols = min(3, len(series))
    rows = math.ceil(len(series) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax, (ladder, by_solver) in zip(axes.flat, sorted(series.items())):
        for solver, data in sorted(by_solver.items()):
            colour, style = colours[solver], "-" if exact.get(solver) else "--"
            label = solver + (" (exact)" if exact.get(solver) else "")
            if data["converged"]:
                xs, ys = zip(*data["converged"])
                label += _fit_label(xs, ys, ladder in exponential)
                ax.plot(xs, ys, style, marker="o", color=colour, label=label)
            else:
                ax.plot([], [], style, color=colour, label=label + ", never converged")
            if data["timeout"] and budget:
                ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colour, ms=10, mew=2)
            if data["other"]:
                xs, ys = zip(*data["other"])
                ax.plot(xs, ys, "^", mfc="none", color=colour, ms=7)
        if budget:
            ax.axhline(budget, color="grey", ls=":", lw=1)
        ax.set_xscale("linear" if ladder in exponential else "log")
        ax.set_yscale("log")
        ax.set_title(ladder, fontsize=10)
        ax.set_xlabel("game dimension d (2d agents and goods)" if ladder in exponential
                      else "agents (= goods unless the suite says otherwise)")
        ax.set_ylabel("seconds to an equilibrium")
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(True, which="both", alpha=0.25)
    for ax in list(axes.flat)[len(series):]:
        ax.set_visible(False)
    fig.suptitle((title + "\n" if title else "") +
                 "median over seeds; x = out of budget (dotted line), hollow triangle = stopped unconverged",
                 fontsize=9)
    fig.tight_layout()
    out_dir = Path(out_dir)
    written = []
    for ext in ("png", "svg"):
        path = out_dir / f"scaling.{ext}"
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    return written


def _fit_label(xs, ys, exponential: bool) -> str:
    if exponential:
        factor = fit_growth(xs, ys)
        return "" if factor is None else f", x{factor:.2f} per d"
    slope = fit_exponent(xs, ys)
    return "" if slope is None else f", ~n^{slope:.2f}"


def growth_factors(records: list[dict]) -> list[tuple[str, str, str, float]]:
    """(ladder, solver, "pivots"/"seconds", factor per d) for every game-family ladder."""
    rows = []
    for value, name in (("iterations", "pivots"), ("seconds", "seconds")):
        for ladder, by_solver in sorted(scaling_series(records, value).items()):
            if ladder not in exponential_ladders(records):
                continue
            for solver, data in sorted(by_solver.items()):
                if data["converged"]:
                    factor = fit_growth(*zip(*data["converged"]))
                    if factor is not None:
                        rows.append((ladder, solver, name, factor))
    return rows


def plot_hard(records: list[dict], out_dir: Path, budget: float | None = None) -> list[Path]:
    """hard.png/svg: pivots and seconds against d for the game families, log scale, with the
    fitted growth factor per d; [] when the run has no game family."""
    ladders = sorted(exponential_ladders(records))
    if not ladders:
        return []
    fig, axes = plt.subplots(len(ladders), 2, figsize=(10.4, 4.0 * len(ladders)), squeeze=False)
    solvers = sorted({r["solver"] for r in records if r["ladder"] in ladders})
    colours = {s: plt.cm.tab10(k % 10) for k, s in enumerate(solvers)}
    for row, ladder in zip(axes, ladders):
        for ax, value, name in zip(row, ("iterations", "seconds"), ("pivots (iterations)", "seconds")):
            for solver, data in sorted(scaling_series(records, value)[ladder].items()):
                if data["converged"]:
                    xs, ys = zip(*data["converged"])
                    ax.plot(xs, ys, "-o", color=colours[solver], label=solver + _fit_label(xs, ys, True))
                if value == "seconds" and data["timeout"] and budget:
                    ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colours[solver], ms=10, mew=2)
            if value == "seconds" and budget:
                ax.axhline(budget, color="grey", ls=":", lw=1)
            ax.set_yscale("log")
            ax.set_xlabel("game dimension d")
            ax.set_ylabel(name)
            ax.set_title(f"{ladder}: {name}", fontsize=10)
            ax.grid(True, which="both", alpha=0.25)
            ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    written = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"hard.{ext}"
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    return written
