"""Scaling curves: time (and iterations) against size per family, one line per solver.

Random families (sized by agents) are drawn log-log, game families (sized by the dimension
d) on a log scale against d, and they get a second figure of pivots and seconds against d.
What is drawn comes from `gebench.analysis`: the line joins medians over seeds that
count unconverged runs as censored (a size where most runs did not converge has no median
and no point on the line), the legend gives the growth law chosen on a held-out size with
its interval, and every run that did not converge is drawn: out of budget as a cross at the
budget (or at the count it reached), any other stop as a hollow triangle.

A panel with nothing to draw on its log axes (every run timed out, say) is left linear
with a note, a figure with no panel to draw is not written, and one line on stderr says
what could not be drawn; a figure that cannot be saved (a full disk) is `WriteFailed`.
"""
from __future__ import annotations

import math
import sys
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .analysis import (  # noqa: E402
    describe_fit,
    exponential_ladders,
    fit,
    performance_profile,
    scaling_series,
    size_of,
    worst_measure,
)
from .figures import figure  # noqa: E402
from .records import NOT_RUN, WriteFailed  # noqa: E402

WORST_DRAWN = 1e3     # a worst measure of 1e304 (prices collapsed to a corner) would break the axis

# One colour per solver in every figure of every run, chosen by hand so that the solvers
# drawn in one panel (a family's planners and market processes, or the peers) differ at a
# glance: tab10's ten for the methods most runs draw, darker shades (tab20b) for their
# variants and the rarer ones, Dark2's eight for the peers; any other name by a stable hash.
SOLVER_COLOURS = {
    "lemke-howson": "#1f77b4", "lemke-howson-exact": "#393b79", "lemke-howson-all-paths": "#17becf",
    "newton": "#2ca02c", "production-newton": "#637939", "scarf": "#d62728", "homotopy": "#9467bd",
    "path-mcp": "#7b4173", "tatonnement": "#ff7f0e", "tatonnement-random": "#8c6d31",
    "proportional-response": "#bcbd22", "bilateral-exchange": "#8c564b", "hahn-process": "#e377c2",
    "eisenberg-gale": "#843c39", "fisher-ipm": "#7f7f7f", "linear-exchange-ipm": "#5254a3",
    "linear-exchange-cp": "#000000",
    "gambit-lcp": "#1b9e77", "gambit-lcp-float": "#66a61e", "gambit-simpdiv": "#e6ab02", "gambit-gnm": "#7570b3",
    "gambit-logit": "#e7298a", "gambit-enummixed": "#d95f02", "quantecon-lemke-howson": "#a6761d",
    "quantecon-mclennan-tourky": "#666666",
}
KNOWN_SOLVERS = tuple(SOLVER_COLOURS)
OTHER_COLOURS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d",
                 "#9edae5", "#6b6ecf", "#b5cf6b", "#e7ba52", "#d6616b", "#ce6dbd")


def colour_of(solver: str):
    """The solver's colour, the same in every figure: a fixed one for the solvers gebench
    ships (`KNOWN_SOLVERS`), a stable hash of the name for any other."""
    if solver in SOLVER_COLOURS:
        return SOLVER_COLOURS[solver]
    return OTHER_COLOURS[zlib.crc32(solver.encode()) % len(OTHER_COLOURS)]


def _broken(data: dict) -> tuple[list, list]:
    """The medians as a line that breaks (NaN) where a censored size lies between two drawn
    ones, so that no segment spans a size at which most runs did not converge."""
    xs, ys = [], []
    censored = data["censored"]
    for k, (x, y) in enumerate(data["converged"]):
        if k and any(xs[-1] < c < x for c in censored):
            xs.append(np.nan)
            ys.append(np.nan)
        xs.append(x)
        ys.append(y)
    return xs, ys


def say(figure: str, what: str) -> None:
    """One line on stderr about a figure, or panels of one, that could not be drawn."""
    print(f"gebench: plot {figure}: {what}", file=sys.stderr)


def _why_undrawn(records: list[dict]) -> str:
    """Why these records give nothing to draw on a log scale, in the words of a stderr line."""
    statuses = {r["status"] for r in records} - set(NOT_RUN)
    if not statuses:
        return "no run was made: every run was declined or beyond the wall"
    if statuses == {"timeout"}:
        return "every run timed out"
    if "converged" not in statuses:
        return "no run converged"
    return "no run has a value above 0"


def _drawable(ax, x_log: bool, y_log: bool) -> bool:
    """Whether a line on `ax` has a point that is finite, and above 0 on each log axis."""
    for line in ax.get_lines():
        if line.get_transform() is not ax.transData:
            continue                # axhline, axvline: one coordinate is the panel's, not data
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        shown = np.isfinite(xs) & np.isfinite(ys) & ((xs > 0) | (not x_log)) & ((ys > 0) | (not y_log))
        if shown.any():
            return True
    return False


def _log_axes(ax, x: bool, y: bool) -> bool:
    """Put `ax` on a log scale in x and/or y and return True when it has a point to draw
    there; else leave it linear, say so on the panel, and return False. matplotlib raises
    at the draw ("Data cannot be log-scaled") on a log axis with nothing above 0, as in a
    run where every run timed out."""
    if not _drawable(ax, x, y):
        ax.text(0.5, 0.5, "nothing to draw on a log scale", ha="center", va="center",
                transform=ax.transAxes, fontsize=8, color="grey")
        return False
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")
    return True


def _scale_panels(figure: str, panels: list[tuple], records: list[dict]) -> bool:
    """Put each panel (ax, title, ladder, x log, y log) on its log scales (`_log_axes`), say on
    stderr which have nothing to draw, and return whether any has."""
    empty = [(title, ladder) for ax, title, ladder, x, y in panels if not _log_axes(ax, x, y)]
    if empty:
        where = "" if len(empty) == len(panels) else f" in {', '.join(title for title, _ in empty)}"
        ladders = {ladder for _, ladder in empty}
        say(figure, f"nothing to draw on a log scale{where} "
                    f"({_why_undrawn([r for r in records if r['ladder'] in ladders])})")
    return len(empty) < len(panels)


def _legend(ax, **options) -> None:
    """The panel's legend, when something on it has a label (matplotlib warns otherwise)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def _fit_label(law, sizes: int, unit: str) -> str:
    """", <the fit>" for a legend, or why there is none."""
    return f", {describe_fit(law, unit)}" if law is not None else f", {sizes} sizes: too few to fit"


def plot_scaling(records: list[dict], out_dir: Path, budget: float | None = None,
                 title: str = "", value: str = "seconds") -> list[Path]:
    """Draw scaling.png and .svg (seconds against size), or with value="iterations"
    iterations.png and .svg (iterations or pivots against size, timeouts at the count they
    reached), into out_dir; returns the files written, none when nothing can be drawn."""
    series = scaling_series(records, value)
    seconds = value == "seconds"
    stem = "scaling" if seconds else "iterations"
    if not series:
        say(stem, f"nothing to draw ({_why_undrawn(records)})")
        return []
    exponential = exponential_ladders(records)
    solvers = sorted({s for by_solver in series.values() for s in by_solver})
    colours = {s: colour_of(s) for s in solvers}
    exact = {r["solver"]: r.get("exact", False) for r in records}
    cols = min(3, len(series))
    rows = math.ceil(len(series) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    panels = []
    for ax, (ladder, by_solver) in zip(axes.flat, sorted(series.items())):
        for solver, data in sorted(by_solver.items()):
            colour, style = colours[solver], "-" if exact.get(solver) else "--"
            label = solver + (" (exact)" if exact.get(solver) else "")
            if data["converged"]:
                xs, ys = zip(*data["converged"])
                game = ladder in exponential
                label += _fit_label(fit(xs, ys, game), len(xs), "d" if game else "agent")
                ax.plot(*_broken(data), style, marker="o", color=colour, label=label)
            else:
                ax.plot([], [], style, color=colour, label=label + ", never converged")
            if seconds and data["timeout"] and budget:
                ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colour, ms=10, mew=2)
            if not seconds and data["timeout_values"]:
                ax.plot(*zip(*data["timeout_values"]), "x", color=colour, ms=10, mew=2)
            if data["other"]:
                xs, ys = zip(*data["other"])
                ax.plot(xs, ys, "^", mfc="none", color=colour, ms=7)
        if seconds and budget:
            ax.axhline(budget, color="grey", ls=":", lw=1)
        panels.append((ax, ladder, ladder, ladder not in exponential, True))
        ax.set_title(ladder, fontsize=10)
        ax.set_xlabel("game dimension d (2d agents and goods)" if ladder in exponential
                      else "agents (= goods unless the suite says otherwise)")
        ax.set_ylabel("seconds to an equilibrium" if seconds else "iterations (pivots for pivoting methods)")
        _legend(ax, fontsize=7, loc="upper left")
        ax.grid(True, which="both", alpha=0.25)
    for ax in list(axes.flat)[len(series):]:
        ax.set_visible(False)
    fig.suptitle((title + "\n" if title else "") +
                 ("median over seeds, unconverged runs censored; x = out of budget (dotted line), "
                  "hollow triangle = stopped unconverged" if seconds else
                  "median over seeds, unconverged runs censored; x = out of budget, at the count reached; "
                  "hollow triangle = stopped unconverged"), fontsize=9)
    return finish(fig, _scale_panels(stem, panels, records), out_dir, stem)


def plot_hard(records: list[dict], out_dir: Path, budget: float | None = None) -> list[Path]:
    """hard.png/svg: pivots and seconds against d for the game families, log scale, with the
    fitted growth factor per d and its t-interval, the fit carried past the last size
    run, and every run drawn: converged, out of budget, stopped unconverged; [] when the run
    has no game family, or nothing of one to draw."""
    ladders = sorted(exponential_ladders(records))
    if not ladders:
        return []
    fig, axes = plt.subplots(len(ladders), 2, figsize=(10.4, 4.0 * len(ladders)), squeeze=False)
    solvers = sorted({r["solver"] for r in records if r["ladder"] in ladders})
    colours = {s: colour_of(s) for s in solvers}
    series = {value: scaling_series(records, value) for value in ("iterations", "seconds")}
    panels = []
    for row, ladder in zip(axes, ladders):
        for ax, value, name in zip(row, ("iterations", "seconds"), ("pivots (iterations)", "seconds")):
            for solver, data in sorted(series[value].get(ladder, {}).items()):
                colour = colours[solver]
                if data["converged"]:
                    xs, ys = zip(*data["converged"])
                    law = fit(xs, ys, True)
                    label = solver + _fit_label(law, len(xs), "d")
                    if law is not None:
                        # the fit carried past the wall: what the next sizes would need
                        top = max([*xs, *data["censored"], *(n for n, _ in data["other"])]) + 4
                        line = np.linspace(law.first, top, 50)
                        ax.plot(line, law.at(line), ":", color=colour, lw=1)
                    ax.plot(*_broken(data), "-o", color=colour, label=label)
                else:
                    ax.plot([], [], "-o", color=colour, label=f"{solver}, never converged")
                if value == "seconds" and data["timeout"] and budget:
                    ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colour, ms=10, mew=2)
                if value == "iterations" and data["timeout_values"]:
                    ax.plot(*zip(*data["timeout_values"]), "x", color=colour, ms=10, mew=2)
                if data["other"]:
                    ax.plot(*zip(*data["other"]), "^", mfc="none", color=colour, ms=7)
            if value == "seconds" and budget:
                ax.axhline(budget, color="grey", ls=":", lw=1)
            panels.append((ax, f"{ladder}: {name}", ladder, False, True))
            ax.set_xlabel("game dimension d")
            ax.set_ylabel(name)
            ax.set_title(f"{ladder}: {name}", fontsize=10)
            ax.grid(True, which="both", alpha=0.25)
            _legend(ax, fontsize=7, loc="upper left")
    fig.suptitle("o median over seeds (none where most runs did not converge; the line breaks there)\n"
                 "x out of budget (at the budget, or at the count reached), hollow triangle stopped unconverged; "
                 "dotted: the fit carried past the data", fontsize=8)
    return finish(fig, _scale_panels("hard", panels, records), out_dir, "hard")


@figure("scaling")
def _scaling_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_scaling(records, out_dir, budget, title)


@figure("iterations")
def _iterations_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_scaling(records, out_dir, budget, title, "iterations")


@figure("hard")
def _hard_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_hard(records, out_dir, budget)


def finish(fig, drawable: bool, out_dir: Path, stem: str) -> list[Path]:
    """Lay out and save the figure when a panel of it has something to draw; else close it
    unwritten (what could not be drawn has been said on stderr)."""
    if not drawable:
        plt.close(fig)
        return []
    fig.tight_layout()
    return _save(fig, out_dir, stem)


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    written = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"{stem}.{ext}"
        save_figure(fig, path)
        written.append(path)
    plt.close(fig)
    return written


def save_figure(fig, path: Path) -> None:
    """`fig.savefig(path)`; a file that cannot be written (a full disk) is `WriteFailed`,
    which says how to draw the plots again."""
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        plt.close(fig)
        raise WriteFailed(path, exc, f"draw the plots with: gebench plot {Path(path).parent}") from None


def _grid(n: int):
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.0 * rows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)[:n]


@figure("accuracy")
def _accuracy_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_accuracy(records, out_dir)


def plot_accuracy(records: list[dict], out_dir: Path) -> list[Path]:
    """accuracy_size and accuracy_time (PNG, SVG): the certificate's worst measure of every
    heuristic run that returned a point, against size and against seconds, per family, so
    that a reader sees what the cheap answers cost in equilibrium quality."""
    runs = [r for r in records if not r.get("exact") and r.get("certificate")]
    if not runs:
        return []
    ladders = sorted({r["ladder"] for r in runs})
    solvers = sorted({r["solver"] for r in runs})
    colours = {s: colour_of(s) for s in solvers}
    written = []
    for axis, stem in (("size", "accuracy_size"), ("seconds", "accuracy_time")):
        fig, axes = _grid(len(ladders))
        panels = []
        for ax, ladder in zip(axes, ladders):
            for solver in solvers:
                mine = [r for r in runs if r["ladder"] == ladder and r["solver"] == solver]
                for converged, marker in ((True, "o"), (False, "x")):
                    pts = [(size_of(r) if axis == "size" else r["seconds"],
                            min(max(worst_measure(r["certificate"]), 1e-17), WORST_DRAWN))
                           for r in mine if (r["status"] == "converged") == converged
                           and (axis == "size" or r["seconds"] is not None)]
                    if pts:
                        xs, ys = zip(*pts)
                        ax.plot(xs, ys, marker, color=colours[solver], mfc="none" if not converged else None,
                                label=(solver if converged or not any(r["status"] == "converged" for r in mine)
                                       else None))
            tols = {r["tolerance"] for r in runs if r["ladder"] == ladder}
            for tol in tols:
                ax.axhline(tol, color="grey", ls=":", lw=1)
            panels.append((ax, ladder, ladder, axis == "seconds" or ladder not in exponential_ladders(records), True))
            ax.set_title(ladder, fontsize=10)
            ax.set_xlabel("seconds" if axis == "seconds" else "size")
            ax.set_ylabel("worst certificate measure")
            ax.grid(True, which="both", alpha=0.25)
            _legend(ax, fontsize=7, loc="upper left")
        fig.suptitle("market heuristics: o converged, x stopped (max_iter, timeout, ...); dotted: tolerance; "
                     f"measures above {WORST_DRAWN:g} drawn at {WORST_DRAWN:g}", fontsize=9)
        written += finish(fig, _scale_panels(stem, panels, runs), out_dir, stem)
    return written


@figure("profile")
def _profile_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_profile(records, out_dir)


def plot_profile(records: list[dict], out_dir: Path) -> list[Path]:
    """profile.png/svg: the Dolan-More performance profile of each family, over the instances
    every solver of that family attempted (`analysis.performance_profile`)."""
    profiles = performance_profile(records)
    if not profiles:
        return []
    fig, axes = _grid(len(profiles))
    solvers = sorted({s for profile in profiles.values() for s in profile.curves})
    colours = {s: colour_of(s) for s in solvers}
    for ax, (ladder, by_solver) in zip(axes, sorted(profiles.items())):
        for solver, (taus, share) in sorted(by_solver.curves.items()):
            ax.step(np.append(taus, taus[-1] * 10), np.append(share, share[-1]), where="post",
                    color=colours[solver], label=solver)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("tau: within this factor of the fastest solver")
        ax.set_ylabel("share of the common instances solved")
        ax.set_title(f"{ladder} ({by_solver.instances} common instances)", fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        _legend(ax, fontsize=7, loc="lower right")
    fig.suptitle("performance profiles (Dolan-More), per family, over the instances all its solvers attempted",
                 fontsize=9)
    fig.tight_layout()
    return _save(fig, out_dir, "profile")


def plot_overlay(runs: dict[str, list[dict]], out_dir: Path, stem: str) -> list[Path]:
    """Scaling curves of several runs on the same axes (solid, dashed, ... per run): two
    machines, or two versions."""
    styles = ["-", "--", ":", "-."]
    ladders = sorted({r["ladder"] for records in runs.values() for r in records})
    solvers = sorted({r["solver"] for records in runs.values() for r in records})
    colours = {s: colour_of(s) for s in solvers}
    fig, axes = _grid(len(ladders))
    everything = [r for records in runs.values() for r in records]
    panels = []
    for ax, ladder in zip(axes, ladders):
        for (name, records), style in zip(runs.items(), styles):
            series = scaling_series(records).get(ladder, {})
            for solver, data in sorted(series.items()):
                if data["converged"]:
                    xs, ys = zip(*data["converged"])
                    ax.plot(xs, ys, style, marker="o", ms=3, color=colours[solver], label=f"{solver} ({name})")
        panels.append((ax, ladder, ladder, ladder not in exponential_ladders(everything), True))
        ax.set_title(ladder, fontsize=10)
        ax.set_xlabel("size")
        ax.set_ylabel("seconds to an equilibrium")
        ax.grid(True, which="both", alpha=0.25)
        _legend(ax, fontsize=6, loc="upper left")
    fig.suptitle("  vs  ".join(f"{name} ({style})" for name, style in zip(runs, styles)), fontsize=9)
    return finish(fig, _scale_panels("overlay", panels, everything), out_dir, stem)
