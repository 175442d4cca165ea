"""What a run's records say, apart from how they are drawn: medians with censoring, growth
fits with intervals and a held-out choice of model, walls, and performance profiles. Plots
(`gebench.plot`), summaries (`gebench.summary`) and the README's tables
(`gebench.readme`) all read them from here, so that a number means the same everywhere.

Censoring. A run that did not converge (out of budget, stopped at `max_iter`, failed)
never reached an equilibrium: for "seconds (or pivots) to an equilibrium" it is censored,
its value unknown but larger than any finite one. A median over the seeds of one size
counts such runs as +inf, never drops them: where at least half the runs converged the
median is a number, otherwise it is censored and the size is drawn by its runs' markers
only. Runs the sweep did not make (`beyond_wall`, `declined`) were not attempted and count
nowhere.

Fits. A growth fit reads the largest max(4, half) sizes with a (finite) median, and needs
at least 4 of them; its factor comes with a 95% t-interval on the slope of the log-linear
least-squares fit (Student's t with n - 2 degrees of freedom; Draper and Smith, "Applied
Regression Analysis", 1998, ch. 1), valid for as few as 4 sizes under independent normal
errors in the logs, where a pairs bootstrap over 4 points is degenerate (a third of its
resamples hold 2 distinct sizes or fewer). Power law against
exponential is chosen on a held-out criterion: each model is fitted without the largest
size and judged by how well it predicts that size (Hastie, Tibshirani and Friedman, "The
Elements of Statistical Learning", 2009, ch. 7: a fit's own residual favours the more
flexible reading of a short, curved series; its prediction of held-out data does not).
"""
from __future__ import annotations

import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import TextIO

import numpy as np
from scipy import stats

from gebench.markets.certificate import RESOLUTION

from .records import NOT_RUN, size_of

MIN_FIT_SIZES = 4          # a fit needs at least this many sizes
MARGINAL = 0.8             # a run within 20% of its budget leaves a wall marginal


def is_game_ladder(record: dict) -> bool:
    """Game families are sized by the dimension d and grow exponentially by default."""
    return record.get("size_name") == "d"


def exponential_ladders(records: list[dict]) -> set[str]:
    return {r["ladder"] for r in records if is_game_ladder(r)}


def worst_measure(certificate: dict) -> float:
    """The worst measure a record stores; a measure that could not be computed (stored as
    null) counts as 1, the worst there is. The point's `resolution` is not a measure (it
    must reach the tolerance, not stay below it) and is left out."""
    return max(1.0 if v is None else v for k, v in certificate.items() if k != RESOLUTION)


def censored_median(values) -> float:
    """The median of values where a censored run is +inf: +inf when at most half are finite
    (numpy's median of an even count averages the two middle values, so one +inf there
    censors the median too)."""
    return float(np.median(np.asarray(values, float))) if len(values) else math.inf


def scaling_series(records: list[dict], value: str = "seconds") -> dict:
    """{ladder: {solver: series}} of `value` ("seconds" or "iterations") per run, where a
    series has "converged": [(size, median)] at the sizes whose censored median is finite,
    "censored": [sizes whose median is censored], "timeout": [sizes with a run out of budget],
    "timeout_values": [(size, value)] of those runs, "other": [(size, value)] of the runs
    that stopped unconverged for another reason, and "runs": {size: number attempted}."""
    grouped = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in records:
        if r["status"] not in NOT_RUN:
            grouped[r["ladder"]][r["solver"]][size_of(r)].append(r)
    series = {}
    for ladder, by_solver in grouped.items():
        series[ladder] = {}
        for solver, by_size in by_solver.items():
            data = {"converged": [], "censored": [], "timeout": [], "timeout_values": [], "other": [], "runs": {}}
            for n in sorted(by_size):
                runs = by_size[n]
                data["runs"][n] = len(runs)
                median = censored_median([r[value] if r["status"] == "converged" and r[value] is not None
                                          else math.inf for r in runs])
                (data["converged"].append((n, median)) if math.isfinite(median) else data["censored"].append(n))
                timeouts = [r for r in runs if r["status"] == "timeout"]
                if timeouts:
                    data["timeout"].append(n)
                    data["timeout_values"] += [(n, r[value]) for r in timeouts if r[value] is not None]
                data["other"] += [(n, r[value]) for r in runs
                                  if r["status"] not in ("converged", "timeout") and r[value] is not None]
            series[ladder][solver] = data
    return series


def fit_window(sizes, values, positive: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, values) a fit reads: the largest max(4, half) of the sizes, so that a fixed
    overhead at small sizes does not shape a growth rate; with `positive`, values > 0 only
    (the fits take logs)."""
    sizes, values = np.asarray(sizes, float), np.asarray(values, float)
    order = np.argsort(sizes)
    sizes, values = sizes[order], values[order]
    if positive:
        keep = values > 0
        sizes, values = sizes[keep], values[keep]
    take = max(MIN_FIT_SIZES, math.ceil(len(sizes) / 2))
    return sizes[-take:], values[-take:]


TIE = 1e-9      # held-out errors closer than this, in log units, are a tie


def _line(x, y) -> tuple[float, float]:
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


@dataclass(frozen=True)
class Fit:
    """A fitted growth law over `sizes`: "exponential" (value = e^intercept rate^size, `rate`
    the factor per unit of size) or "power" (value = e^intercept size^rate), with a 95%
    t-interval for `rate` (`slope_interval`), and the held-out errors (|log| of the predicted over
    the observed value at the largest size, each model fitted without it) that chose it."""

    kind: str
    rate: float
    low: float
    high: float
    intercept: float
    sizes: tuple[float, ...]
    held_out: dict

    @property
    def first(self) -> float:
        return self.sizes[0]

    def at(self, sizes):
        sizes = np.asarray(sizes, float)
        if self.kind == "exponential":
            return np.exp(self.intercept) * self.rate ** sizes
        return np.exp(self.intercept) * sizes ** self.rate


def _design(kind: str, x):
    return np.asarray(x, float) if kind == "exponential" else np.log(x)


def held_out_errors(sizes, values) -> dict[str, float]:
    """{"power": e, "exponential": e}: each model fitted over the window without its largest
    size, e = |log(predicted / observed)| at that size; {} below 4 sizes."""
    return _held_out(*fit_window(sizes, values))


def _held_out(x: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """`held_out_errors` of the fit window (x, v)."""
    if len(x) < MIN_FIT_SIZES:
        return {}
    errors = {}
    for kind in ("power", "exponential"):
        slope, intercept = _line(_design(kind, x[:-1]), np.log(v[:-1]))
        errors[kind] = float(abs(slope * _design(kind, x[-1:])[0] + intercept - math.log(v[-1])))
    return errors


def fit(sizes, values, exponential_default: bool, level: float = 0.95) -> Fit | None:
    """The growth law of (sizes, values) (`Fit`), None below 4 sizes. The model with the
    smaller held-out error wins; a tie (within `TIE`, so that rounding in the logs of a flat
    series cannot flip the model between machines) keeps the family's default (exponential
    for games)."""
    x, v = fit_window(sizes, values)
    errors = _held_out(x, v)
    if not errors:
        return None
    default, other = ("exponential", "power") if exponential_default else ("power", "exponential")
    kind = other if errors[other] < errors[default] - TIE else default
    X, y = _design(kind, x), np.log(v)
    slope, intercept = _line(X, y)
    low, high = slope_interval(X, y, level)
    to_rate = np.exp if kind == "exponential" else float
    return Fit(kind, float(to_rate(slope)), float(to_rate(low)), float(to_rate(high)), intercept,
               tuple(float(s) for s in x), errors)


def slope_interval(X, y, level: float = 0.95) -> tuple[float, float]:
    """The `level` t-interval of the least-squares slope of y on X: slope +- t(n - 2) s /
    sqrt(sum (X - mean X)^2), s the residuals' standard error. Exact for independent normal
    errors at any n >= 3, which is why it, and not a bootstrap, goes with fits of 4 sizes."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    n = len(X)
    dx = X - X.mean()
    sxx = float(dx @ dx)
    if n < 3 or not sxx > 0:
        raise ValueError(f"a slope interval needs 3 points or more at 2 sizes or more, got {n} points")
    slope = float(dx @ (y - y.mean())) / sxx
    residuals = y - y.mean() - slope * dx
    s = math.sqrt(float(residuals @ residuals) / (n - 2))
    half = float(stats.t.ppf((1 + level) / 2, n - 2)) * s / math.sqrt(sxx)
    return slope - half, slope + half


def describe_fit(f: Fit | None, unit: str) -> str:
    """A fit as plots and tables print it, its interval and the held-out size that chose it;
    "" for no fit. `unit` is "d" or "agent"."""
    if f is None:
        return ""
    held = f"held out {unit} = {f.sizes[-1]:g}" if unit == "d" else f"held out {f.sizes[-1]:g}"
    if f.kind == "power":
        rate, low, high = (round(r, 2) + 0.0 for r in (f.rate, f.low, f.high))     # no "-0.00"
        return f"~{'d' if unit == 'd' else 'n'}^{rate:.2f} (CI {low:.2f}-{high:.2f}; power, {held})"
    if unit == "d" or f.rate <= 1.0:
        return f"x{f.rate:.3g} per {unit} (CI x{f.low:.3g}-x{f.high:.3g}; exp., {held})"
    # per agent a factor is near 1 (x1.00 hid 100x over 3000 agents): say how fast it doubles
    doubling = [math.log(2) / math.log(r) if r > 1 else math.inf for r in (f.rate, f.high, f.low)]
    return f"x2 every {doubling[0]:.3g} agents (CI {doubling[1]:.3g}-{doubling[2]:.3g}; exp., {held})"


def growth_fits(records: list[dict]) -> list[tuple[str, str, str, Fit]]:
    """(ladder, solver, "pivots"/"seconds", fit) for every game-family ladder whose medians
    reach 4 sizes."""
    rows = []
    games = exponential_ladders(records)
    for value, name in (("iterations", "pivots"), ("seconds", "seconds")):
        for ladder, by_solver in sorted(scaling_series(records, value).items()):
            if ladder not in games:
                continue
            for solver, data in sorted(by_solver.items()):
                f = fit(*zip(*data["converged"]), True) if len(data["converged"]) >= MIN_FIT_SIZES else None
                if f is not None:
                    rows.append((ladder, solver, name, f))
    return rows


def report_growth(records: list[dict], stream: TextIO | None = None) -> None:
    """Say the fitted growth of the game families (`growth_fits`) on `stream` (stderr), one
    line per ladder, solver and value, as `gebench run` and `gebench plot` print it."""
    for ladder, solver, value, law in growth_fits(records):
        print(f"{ladder}: {solver} {value}: {describe_fit(law, 'd')}", file=stream or sys.stderr)


@dataclass(frozen=True)
class Wall:
    """How far a solver got on a ladder: `largest`, the largest size solved on every seed it
    ran (None for none), the median seconds there, and whether the wall is `marginal`: a run
    at that size, or a converged run beyond it, took at least 80% of its budget, so that
    the same sweep on a noisier day may draw the wall one size earlier or later."""

    largest: int | None
    seconds: float | None
    marginal: bool
    slowest: float | None          # the slowest converged run at `largest`, seconds


def wall_of(runs: list[dict]) -> Wall:
    """The `Wall` of one (ladder, solver)'s records."""
    attempted = [r for r in runs if r["status"] not in NOT_RUN]
    largest = None
    for size in sorted({size_of(r) for r in attempted}):
        here = [r for r in attempted if size_of(r) == size]
        if all(r["status"] == "converged" for r in here):
            largest = size
    if largest is None:
        return Wall(None, None, False, None)
    here = [r for r in attempted if size_of(r) == largest]
    beyond = [r for r in attempted if size_of(r) > largest and r["status"] == "converged"]
    slowest = max(r["seconds"] for r in here)
    marginal = any(r["seconds"] >= MARGINAL * r["time_budget"] for r in here + beyond if r.get("time_budget"))
    return Wall(largest, float(np.median([r["seconds"] for r in here])), marginal, float(slowest))


@dataclass(frozen=True)
class Profile:
    """One family's performance profile: {solver: (taus, share)} over `instances` instances."""

    instances: int
    curves: dict


def performance_profile(records: list[dict]) -> dict[str, Profile]:
    """Dolan and More (2002), per family: {ladder: Profile}, tau -> the share of
    the ladder's common instances a solver solved within tau times the fastest solver's time
    there. The common instances are the (size, seed) pairs every solver of the ladder
    attempted (runs `beyond_wall` or `declined` were not attempted), so that each solver is judged on the same
    set; a run that did not converge counts as never solved. A deterministic instance run
    once per solver is one instance."""
    runs = defaultdict(lambda: defaultdict(dict))
    for r in records:
        if r["status"] not in NOT_RUN:
            runs[r["ladder"]][(size_of(r), r["seed"])][r["solver"]] = (
                r["seconds"] if r["status"] == "converged" else math.inf)
    profiles = {}
    for ladder, by_instance in runs.items():
        solvers = {s for by_solver in by_instance.values() for s in by_solver}
        seeds_of = defaultdict(set)
        for (size, seed), by_solver in by_instance.items():
            for s in by_solver:
                seeds_of[s].add(seed)
        # on a deterministic economy, a solver whose seed changes nothing ran one seed: that
        # run stands for it under every seed another solver's random start was drawn with
        all_seeds = set().union(*seeds_of.values())
        common = defaultdict(dict)
        for (size, seed), by_solver in by_instance.items():
            for s, t in by_solver.items():
                for each in (all_seeds if len(seeds_of[s]) == 1 else {seed}):
                    common[(size, each)].setdefault(s, t)
        instances = [by_solver for by_solver in common.values() if set(by_solver) == solvers]
        if not instances:
            continue
        ratios = defaultdict(list)
        for by_solver in instances:
            best = min(by_solver.values())
            for solver, t in by_solver.items():
                ratios[solver].append(t / best if math.isfinite(best) and best > 0 else math.inf)
        curves = {}
        for solver, values in ratios.items():
            values = np.sort(np.asarray(values))
            taus = np.unique(np.concatenate([[1.0], values[np.isfinite(values)]]))
            curves[solver] = (taus, np.searchsorted(values, taus, side="right") / len(values))
        profiles[ladder] = Profile(len(instances), curves)
    return profiles

