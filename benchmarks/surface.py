"""The wall as a surface: how far each game method gets at each accuracy.

A suite that runs one game family at several tolerances (a `tolerance` per [[family]], as
the `surface` suite does) gives, per family and method, the largest d solved within the
budget at each tolerance: a size-by-accuracy map. A method the suite runs at one tolerance
only, where the family has several, is an exact method: its answers do not depend on the
tolerance, and it fills the "exact" column. Each game record carries its game's
resolution (`gebench.markets.games.game_resolution`): at a tolerance at or above it, a pure
profile is an approximate equilibrium, so where the resolution falls below a tolerance the
family stops measuring hardness at that accuracy; `resolved_up_to` says from which d.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .analysis import MIN_FIT_SIZES, Fit, Wall, fit, scaling_series, wall_of
from .records import NOT_RUN, size_of

EXACT = "exact"


@dataclass(frozen=True)
class Cell:
    """One method at one accuracy. `frontier`: the largest d up to which it solved every size
    on every seed (None when it failed the smallest); `stop`, how its first unsolved size
    ended ("timeout", "failed", "max_iter", ... or "" when it solved every size it was given)
    at `stop_size`; `wall`, its `Wall`, whose `largest` is the largest d solved on every
    seed, past any failure; and how many of the sizes it attempted it solved on every seed
    (`solved` of `attempted`): a count, which a verdict near the tolerance flipping at one
    size moves by one, where a list of sizes would change."""

    wall: Wall
    frontier: int | None
    stop: str
    stop_size: int | None
    solved: int = 0
    attempted: int = 0


def _accuracy_ladders(records: list[dict]) -> dict[str, dict[float, str]]:
    """{family: {tolerance: ladder}} for the game families run at more than one tolerance."""
    ladders = defaultdict(dict)
    for r in records:
        if r.get("size_name") == "d":
            ladders[r["family"]][r["tolerance"]] = r["ladder"]
    return {family: by_tol for family, by_tol in ladders.items() if len(by_tol) > 1}


def surface_families(records: list[dict]) -> list[str]:
    """The game families the records hold at more than one tolerance, in the records' order."""
    found = _accuracy_ladders(records)
    return list(dict.fromkeys(r["family"] for r in records if r["family"] in found))


def accuracies(records: list[dict], family: str) -> list[float | str]:
    """The family's tolerances, coarse to fine, then `EXACT`."""
    return sorted(_accuracy_ladders(records)[family], reverse=True) + [EXACT]


def _statuses_by_size(runs: list[dict]) -> dict[int, list[str]]:
    """{d: the statuses of the runs attempted at d}, sizes in order (runs not made left out)."""
    by_size = defaultdict(list)
    for r in runs:
        if r["status"] not in NOT_RUN:
            by_size[size_of(r)].append(r["status"])
    return dict(sorted(by_size.items()))


def _frontier(by_size: dict[int, list[str]]) -> tuple[int | None, str, int | None]:
    """(the largest d with every size up to it solved on every seed, the status of the first
    unsolved size's first unconverged run, that size)."""
    frontier = None
    for d, statuses in by_size.items():
        unsolved = [s for s in statuses if s != "converged"]
        if unsolved:
            return frontier, unsolved[0], d
        frontier = d
    return frontier, "", None


def _counts(by_size: dict[int, list[str]]) -> tuple[int, int]:
    """(sizes solved on every seed run, sizes attempted)."""
    return sum(all(s == "converged" for s in statuses) for statuses in by_size.values()), len(by_size)


def _exact_methods(records: list[dict], family: str) -> set[str]:
    """The methods run at one tolerance only of a family run at several: the exact ones."""
    tolerances = defaultdict(set)
    for r in records:
        if r["family"] == family and r.get("size_name") == "d":
            tolerances[r["solver"]].add(r["tolerance"])
    return {solver for solver, found in tolerances.items() if len(found) == 1}


def surface(records: list[dict], family: str) -> dict[str, dict[float | str, Cell]]:
    """{method: {accuracy: Cell}} of one family: a method run at every tolerance has a cell per
    tolerance, an exact method (run at one) the `EXACT` cell only."""
    exact = _exact_methods(records, family)
    runs = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r["family"] == family and r.get("size_name") == "d":
            runs[r["solver"]][r["tolerance"]].append(r)
    table = {}
    for solver, by_solver_tol in runs.items():
        table[solver] = {}
        for tol, rs in sorted(by_solver_tol.items(), reverse=True):
            by_size = _statuses_by_size(rs)
            table[solver][EXACT if solver in exact else tol] = Cell(wall_of(rs), *_frontier(by_size), *_counts(by_size))
    return table


def resolved_up_to(records: list[dict], family: str) -> dict[float, int | None]:
    """{tolerance: the smallest d whose game resolution is at most the tolerance on some seed}
    (None: on none of the sizes run): at that d a pure profile is a Nash equilibrium to that
    regret, and on the hard families, whose resolution falls with d, at every larger d."""
    resolution = resolutions(records, family)
    tolerances = sorted(_accuracy_ladders(records)[family], reverse=True)
    return {tol: next((d for d, value in resolution.items() if value <= tol), None) for tol in tolerances}


def resolutions(records: list[dict], family: str) -> dict[int, float]:
    """{d: the smallest game resolution over the seeds run at d}."""
    found = {}
    for r in records:
        if r["family"] == family and r.get("game_resolution") is not None:
            d = size_of(r)
            found[d] = min(found.get(d, 1.0), r["game_resolution"])
    return dict(sorted(found.items()))


def growth(records: list[dict], family: str, value: str = "seconds") -> dict[str, dict[float | str, Fit]]:
    """{method: {accuracy: Fit}} of `value` ("seconds" or "iterations") over d, where the
    method converged at 4 sizes or more at that accuracy (exponential by default, as for
    every game ladder); cells with fewer sizes have no fit."""
    by_tol = _accuracy_ladders(records)[family]
    exact = _exact_methods(records, family)
    series = scaling_series([r for r in records if r["family"] == family and r.get("size_name") == "d"], value)
    fits = defaultdict(dict)
    for tol, ladder in by_tol.items():
        for solver, data in series.get(ladder, {}).items():
            if len(data["converged"]) < MIN_FIT_SIZES:
                continue
            law = fit(*zip(*data["converged"]), True)
            if law is not None:
                fits[solver][EXACT if solver in exact else tol] = law
    return dict(fits)
