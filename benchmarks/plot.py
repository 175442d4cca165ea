"""Scaling curves: time (and iterations) against size per family, one line per solver.

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
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def upper_half(sizes, values, positive: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, values) a fit reads: the upper half of the sizes when there are at least 4
    (a fixed overhead at small sizes must not shape a growth rate), all of them otherwise;
    with `positive`, only values > 0 (the fits take logs)."""
    sizes, values = np.asarray(sizes, float), np.asarray(values, float)
    keep = sizes >= np.median(sizes) if len(sizes) >= 4 else np.ones(len(sizes), bool)
    if positive:
        keep &= values > 0
    return sizes[keep], values[keep]


def fit_exponent(sizes, seconds) -> float | None:
    """Slope of log(seconds) on log(size) over the upper half of the sizes (None for < 2 points)."""
    x, y = upper_half(sizes, seconds, positive=False)
    if len(x) < 2:
        return None
    slope, _ = np.polyfit(np.log(x), np.log(y), 1)
    return float(slope)


def fit_growth(sizes, values) -> float | None:
    """Factor per unit of size of an exponential fit, log(value) on size, over the upper half."""
    x, y = upper_half(sizes, values)
    if len(x) < 2:
        return None
    slope, _ = np.polyfit(x, np.log(y), 1)
    return float(np.exp(slope))


@dataclass(frozen=True)
class Growth:
    """An exponential fit value = exp(intercept) factor^size over the upper half of the sizes,
    with a bootstrap interval for the factor."""

    factor: float
    low: float
    high: float
    intercept: float
    first: float           # the smallest size fitted

    def at(self, sizes):
        return np.exp(self.intercept) * self.factor ** np.asarray(sizes, float)


def growth_interval(sizes, values, level: float = 0.95, draws: int = 2000) -> Growth | None:
    """The exponential fit of `fit_growth` over the upper half of the sizes, with a
    pairs-bootstrap interval at `level` (seeded, so a plot is reproducible); None with fewer
    than 4 fitted points, too few for an interval."""
    x, values = upper_half(sizes, values)
    y = np.log(values)
    if len(x) < 4:
        return None
    rng = np.random.default_rng(0)
    slopes = []
    for _ in range(draws):
        pick = rng.integers(0, len(x), len(x))
        if np.unique(x[pick]).size >= 2:
            slopes.append(np.polyfit(x[pick], y[pick], 1)[0])
    low, high = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
    slope, intercept = np.polyfit(x, y, 1)
    return Growth(float(np.exp(slope)), float(np.exp(low)), float(np.exp(high)), float(intercept), float(x.min()))


def worst_measure(certificate: dict) -> float:
    """The worst measure a record stores; a measure that could not be computed (stored as
    null) counts as 1, the worst there is."""
    return max(1.0 if v is None else v for v in certificate.values())


def size_of(record: dict) -> int:
    return record["size"] if "size" in record else record["agents"]


def exponential_ladders(records: list[dict]) -> set[str]:
    return {r["ladder"] for r in records if r.get("size_name") == "d"}


def scaling_series(records: list[dict], value: str = "seconds") -> dict:
    """{ladder: {solver: {"converged": [(size, median)], "timeout": [sizes], "timeout_values":
    [(size, v)], "other": [(size, v)]}}} of `value` ("seconds" or "iterations") per run."""
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
            timeout_values = [(n, v) for n in timeout for v in cells[("timeout", n)] if v is not None]
            other = [(n, s) for (status, n), times in cells.items()
                     if status not in ("converged", "timeout", "skipped") for s in times if s is not None]
            series[ladder][solver] = {"converged": converged, "timeout": timeout,
                                      "timeout_values": timeout_values, "other": sorted(other)}
    return series


def plot_scaling(records: list[dict], out_dir: Path, budget: float | None = None,
                 title: str = "", value: str = "seconds") -> list[Path]:
    """Draw scaling.png and .svg (seconds against size), or with value="iterations"
    iterations.png and .svg (iterations or pivots against size, timeouts at the count they
    reached), into out_dir; returns the files written."""
    series = scaling_series(records, value)
    seconds = value == "seconds"
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
            if seconds and data["timeout"] and budget:
                ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colour, ms=10, mew=2)
            if not seconds and data["timeout_values"]:
                ax.plot(*zip(*data["timeout_values"]), "x", color=colour, ms=10, mew=2)
            if data["other"]:
                xs, ys = zip(*data["other"])
                ax.plot(xs, ys, "^", mfc="none", color=colour, ms=7)
        if seconds and budget:
            ax.axhline(budget, color="grey", ls=":", lw=1)
        ax.set_xscale("linear" if ladder in exponential else "log")
        ax.set_yscale("log")
        ax.set_title(ladder, fontsize=10)
        ax.set_xlabel("game dimension d (2d agents and goods)" if ladder in exponential
                      else "agents (= goods unless the suite says otherwise)")
        ax.set_ylabel("seconds to an equilibrium" if seconds else "iterations (pivots for pivoting methods)")
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(True, which="both", alpha=0.25)
    for ax in list(axes.flat)[len(series):]:
        ax.set_visible(False)
    fig.suptitle((title + "\n" if title else "") +
                 ("median over seeds; x = out of budget (dotted line), hollow triangle = stopped unconverged"
                  if seconds else "median over seeds; x = out of budget, at the count reached; "
                                  "hollow triangle = stopped unconverged"), fontsize=9)
    fig.tight_layout()
    return _save(fig, out_dir, "scaling" if seconds else "iterations")


def better_fit(sizes, values, exponential_default: bool) -> str | None:
    """"power" or "exponential" for log(value) against log(size) or size, over the upper half of
    the sizes. The family's default (exponential for games, power for random markets) stands
    unless the other leaves less than a quarter of its squared residual: over a narrow range
    the two are hard to tell apart, and a fixed overhead at small sizes must not pass for
    exponential growth."""
    x, values = upper_half(sizes, values)
    y = np.log(values)
    if len(x) < 2:
        return None
    default, other = ("exponential", "power") if exponential_default else ("power", "exponential")
    if len(x) < 3:                 # two points fit either exactly
        return default
    residual = {}
    for kind, xs in (("power", np.log(x)), ("exponential", x)):
        coef = np.polyfit(xs, y, 1)
        residual[kind] = float(np.sum((np.polyval(coef, xs) - y) ** 2))
    return other if residual[other] < 0.25 * residual[default] else default


def fit_description(xs, ys, exponential: bool) -> str:
    """The better of a polynomial and an exponential fit (`better_fit`), as plots and summaries
    show it, saying so when it is not the family's default; "" for fewer than two points."""
    kind = better_fit(xs, ys, exponential)
    if kind is None:
        return ""
    if kind == "exponential":
        factor = fit_growth(xs, ys)
        if exponential:
            return f"x{factor:.2f} per d"
        if factor > 1.0:   # per agent the factor is near 1 (x1.00 hid 100x over 3000 agents): say how fast it doubles
            return f"x2 every {math.log(2) / math.log(factor):.3g} agents (exp. fits better)"
        return f"x{factor:.4g} per agent (exp. fits better)"
    slope = fit_exponent(xs, ys)
    return f"~n^{slope:.2f}" if not exponential else f"~d^{slope:.2f} (power fits better)"


def _fit_label(xs, ys, exponential: bool) -> str:
    text = fit_description(xs, ys, exponential)
    return f", {text}" if text else ""


def growth_factors(records: list[dict]) -> list[tuple[str, str, str, float]]:
    """(ladder, solver, "pivots"/"seconds", factor per d) for every game-family ladder with at
    least 4 converged sizes."""
    rows = []
    for value, name in (("iterations", "pivots"), ("seconds", "seconds")):
        for ladder, by_solver in sorted(scaling_series(records, value).items()):
            if ladder not in exponential_ladders(records):
                continue
            for solver, data in sorted(by_solver.items()):
                if len(data["converged"]) >= 4:     # fewer sizes fit anything
                    factor = fit_growth(*zip(*data["converged"]))
                    if factor is not None:
                        rows.append((ladder, solver, name, factor))
    return rows


def plot_hard(records: list[dict], out_dir: Path, budget: float | None = None) -> list[Path]:
    """hard.png/svg: pivots and seconds against d for the game families, log scale, with the
    fitted growth factor per d and its bootstrap interval, the fit carried past the last size
    run, and every run drawn: converged, out of budget, stopped unconverged; [] when the run
    has no game family."""
    ladders = sorted(exponential_ladders(records))
    if not ladders:
        return []
    fig, axes = plt.subplots(len(ladders), 2, figsize=(10.4, 4.0 * len(ladders)), squeeze=False)
    solvers = sorted({r["solver"] for r in records if r["ladder"] in ladders})
    colours = {s: plt.cm.tab10(k % 10) for k, s in enumerate(solvers)}
    for row, ladder in zip(axes, ladders):
        for ax, value, name in zip(row, ("iterations", "seconds"), ("pivots (iterations)", "seconds")):
            for solver, data in sorted(scaling_series(records, value)[ladder].items()):
                colour = colours[solver]
                if data["converged"]:
                    xs, ys = zip(*data["converged"])
                    growth = growth_interval(xs, ys)
                    label = solver + (_fit_label(xs, ys, True) if growth is not None
                                      else f", {len(xs)} sizes: too few to fit")
                    if growth is not None:
                        label += f" (95% CI x{growth.low:.2f}-x{growth.high:.2f})"
                        # the fit carried past the wall: what the next sizes would need
                        top = max([*xs, *data["timeout"], *(n for n, _ in data["other"])]) + 4
                        line = np.linspace(growth.first, top, 50)
                        ax.plot(line, growth.at(line), ":", color=colour, lw=1)
                    ax.plot(xs, ys, "-o", color=colour, label=label)
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
            ax.set_yscale("log")
            ax.set_xlabel("game dimension d")
            ax.set_ylabel(name)
            ax.set_title(f"{ladder}: {name}", fontsize=10)
            ax.grid(True, which="both", alpha=0.25)
            ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("o converged (median), x out of budget (at the budget, or at the count reached), "
                 "hollow triangle stopped unconverged; dotted: the exponential fit carried past the data",
                 fontsize=8)
    fig.tight_layout()
    return _save(fig, out_dir, "hard")


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    written = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"{stem}.{ext}"
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    return written


def _grid(n: int):
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.0 * rows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)[:n]


def plot_accuracy(records: list[dict], out_dir: Path) -> list[Path]:
    """accuracy_size and accuracy_time (PNG, SVG): the certificate's worst measure of every
    heuristic run that returned a point, against size and against seconds, per family, so
    that a reader sees what the cheap answers cost in equilibrium quality."""
    runs = [r for r in records if not r.get("exact") and r.get("certificate")]
    if not runs:
        return []
    ladders = sorted({r["ladder"] for r in runs})
    solvers = sorted({r["solver"] for r in runs})
    colours = {s: plt.cm.tab10(k % 10) for k, s in enumerate(solvers)}
    written = []
    for axis, stem in (("size", "accuracy_size"), ("seconds", "accuracy_time")):
        fig, axes = _grid(len(ladders))
        for ax, ladder in zip(axes, ladders):
            for solver in solvers:
                mine = [r for r in runs if r["ladder"] == ladder and r["solver"] == solver]
                for converged, marker in ((True, "o"), (False, "x")):
                    pts = [(size_of(r) if axis == "size" else r["seconds"], max(worst_measure(r["certificate"]), 1e-17))
                           for r in mine if (r["status"] == "converged") == converged]
                    if pts:
                        xs, ys = zip(*pts)
                        ax.plot(xs, ys, marker, color=colours[solver], mfc="none" if not converged else None,
                                label=solver if converged or not any(r["status"] == "converged" for r in mine) else None)
            tols = {r["tolerance"] for r in runs if r["ladder"] == ladder}
            for tol in tols:
                ax.axhline(tol, color="grey", ls=":", lw=1)
            ax.set_xscale("log" if axis == "seconds" or ladder not in exponential_ladders(records) else "linear")
            ax.set_yscale("log")
            ax.set_title(ladder, fontsize=10)
            ax.set_xlabel("seconds" if axis == "seconds" else "size")
            ax.set_ylabel("worst certificate measure")
            ax.grid(True, which="both", alpha=0.25)
            ax.legend(fontsize=7, loc="upper left")
        fig.suptitle("market heuristics: o converged, x stopped (max_iter, timeout, ...); dotted: tolerance",
                     fontsize=9)
        fig.tight_layout()
        written += _save(fig, out_dir, stem)
    return written


def performance_profile(records: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Dolan and More (2002): for each solver, tau -> share of the instances it ran on that it
    solved within tau times the fastest solver's time there. An instance is (family, size, seed);
    a run that did not converge (skipped included) counts as never solved."""
    times = defaultdict(dict)
    for r in records:
        key = (r["ladder"], size_of(r), r["seed"])
        times[key][r["solver"]] = r["seconds"] if r["status"] == "converged" else math.inf
    ratios = defaultdict(list)
    for by_solver in times.values():
        best = min(by_solver.values())
        for solver, t in by_solver.items():
            ratios[solver].append(t / best if math.isfinite(best) and best > 0 else math.inf)
    profiles = {}
    for solver, values in ratios.items():
        values = np.sort(np.asarray(values))
        finite = values[np.isfinite(values)]
        taus = np.unique(np.concatenate([[1.0], finite]))
        profiles[solver] = (taus, np.searchsorted(values, taus, side="right") / len(values))
    return profiles


def plot_profile(records: list[dict], out_dir: Path) -> list[Path]:
    """profile.png/svg: the Dolan-More performance profile over all instances of a run."""
    profiles = performance_profile(records)
    if not profiles:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, (solver, (taus, share)) in enumerate(sorted(profiles.items())):
        ax.step(np.append(taus, taus[-1] * 10), np.append(share, share[-1]), where="post",
                color=plt.cm.tab10(k % 10), label=solver)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("tau: within this factor of the fastest solver on the instance")
    ax.set_ylabel("share of its instances solved")
    ax.set_title("performance profile (Dolan-More) over every instance a solver ran on", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _save(fig, out_dir, "profile")


def plot_overlay(runs: dict[str, list[dict]], out_dir: Path, stem: str) -> list[Path]:
    """Scaling curves of several runs on the same axes (solid, dashed, ... per run): two
    machines, or two versions."""
    styles = ["-", "--", ":", "-."]
    ladders = sorted({r["ladder"] for records in runs.values() for r in records})
    solvers = sorted({r["solver"] for records in runs.values() for r in records})
    colours = {s: plt.cm.tab10(k % 10) for k, s in enumerate(solvers)}
    fig, axes = _grid(len(ladders))
    for ax, ladder in zip(axes, ladders):
        for (name, records), style in zip(runs.items(), styles):
            series = scaling_series(records).get(ladder, {})
            for solver, data in sorted(series.items()):
                if data["converged"]:
                    xs, ys = zip(*data["converged"])
                    ax.plot(xs, ys, style, marker="o", ms=3, color=colours[solver], label=f"{solver} ({name})")
        ax.set_xscale("linear" if ladder in exponential_ladders(
            [r for records in runs.values() for r in records]) else "log")
        ax.set_yscale("log")
        ax.set_title(ladder, fontsize=10)
        ax.set_xlabel("size")
        ax.set_ylabel("seconds to an equilibrium")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=6, loc="upper left")
    fig.suptitle("  vs  ".join(f"{name} ({style})" for name, style in zip(runs, styles)), fontsize=9)
    fig.tight_layout()
    return _save(fig, out_dir, stem)
