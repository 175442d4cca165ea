"""The summary table of a run directory: per family and solver, how far it got and at what
cost, read through `gebench.analysis` (censored medians, held-out fits, marginal walls)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .analysis import describe_fit, fit, is_game_ladder, scaling_series, wall_of, worst_measure


def summarise(records: list[dict]) -> list[dict]:
    """One row per (ladder, solver): the largest size solved on every seed it ran, its median
    seconds, whether that wall is marginal (a run within 20% of the budget), the growth law of
    the censored medians of seconds and of iterations (from 4 sizes on), the median certificate
    of converged runs, and the count of each other status."""
    by = defaultdict(list)
    for r in records:
        by[(r["ladder"], r["solver"])].append(r)
    series = {value: scaling_series(records, value) for value in ("seconds", "iterations")}
    rows = []
    for (ladder, solver), runs in sorted(by.items()):
        game = is_game_ladder(runs[0])
        wall = wall_of(runs)
        fits = {}
        for value, data in series.items():
            medians = data.get(ladder, {}).get(solver, {}).get("converged", [])
            law = fit(*zip(*medians), game) if medians else None
            fits[value] = None if law is None else {
                "kind": law.kind, "rate": law.rate, "low": law.low, "high": law.high,
                "text": describe_fit(law, "d" if game else "agent"), "held_out": law.held_out}
        worst = [worst_measure(r["certificate"]) for r in runs if r["status"] == "converged" and r.get("certificate")]
        others = defaultdict(int)
        for r in runs:
            if r["status"] != "converged":
                others[r["status"]] += 1
        rows.append({"ladder": ladder, "solver": solver, "size_name": runs[0].get("size_name", "agents"), "game": game,
                     "exact": bool(runs[0].get("exact")), "seeds": len({r["seed"] for r in runs}),
                     "largest": wall.largest, "seconds": wall.seconds, "marginal": wall.marginal,
                     "fit": fits["seconds"]["text"] if fits["seconds"] else None, "fits": fits,
                     "certificate": float(np.median(worst)) if worst else None, "others": dict(others)})
    return rows


def largest_text(row: dict) -> str:
    if row["largest"] is None:
        return "-"
    text = f"d={row['largest']}" if row["game"] else str(row["largest"])
    return text + " (marginal)" if row["marginal"] else text


def format_table(rows: list[dict]) -> str:
    header = ["family", "solver", "largest solved", "median s", "growth of seconds", "median certificate",
              "other statuses"]
    lines = [header]
    for row in rows:
        lines.append([row["ladder"], row["solver"], largest_text(row),
                      "-" if row["seconds"] is None else f"{row['seconds']:.3g}", row["fit"] or "-",
                      "-" if row["certificate"] is None else f"{row['certificate']:.1e}",
                      ", ".join(f"{k} {v}" for k, v in sorted(row["others"].items())) or "-"])
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


SAME_EQUILIBRIUM = 1e-4
"""Two price vectors (each summing to 1) within this of each other, entry by entry, are the
same equilibrium: far above a converged run's error at the suites' tolerances, far below
the distance between the distinct equilibria of the suites' games."""


def _index(prices, equilibria: np.ndarray) -> int | None:
    gaps = np.abs(equilibria - np.asarray(prices, float)[None, :]).max(axis=1)
    best = int(np.argmin(gaps))
    return best if gaps[best] <= SAME_EQUILIBRIUM else None


def selections(records: list[dict]) -> list[dict]:
    """Which equilibrium each method found, per instance (ladder, size, seed) that has a
    converged enumeration of every extreme equilibrium (`extra["enumerated"]`, from
    `gambit-enummixed`): the number enumerated, and for every other converged run that kept
    its prices, the index of its answer in the enumeration (None: none of them, which for a
    vertex-following method flags a wrong enumeration or a non-extreme answer), and, for a
    run that lists several (`extra["equilibria"]`: homotopy with starts > 1, gnm), their
    indices. Methods that disagree only because they found different equilibria show here."""
    by = defaultdict(list)
    for r in records:
        if r["status"] == "converged":
            by[(r["ladder"], r["size"], r["seed"])].append(r)
    rows = []
    for (ladder, size, seed), runs in sorted(by.items()):
        enumerations = [r for r in runs if r.get("extra", {}).get("enumerated") and r["extra"].get("equilibria")]
        if not enumerations:
            continue
        source = enumerations[0]
        known = np.array(source["extra"]["equilibria"], float)
        chosen, listed = {}, {}
        for r in runs:
            if r is source or "prices" not in r:
                continue
            chosen[r["solver"]] = _index(r["prices"], known)
            many = r.get("extra", {}).get("equilibria") or []
            if len(many) > 1:
                listed[r["solver"]] = [_index(q, known) for q in many]
        rows.append({"ladder": ladder, "size": size, "size_name": source.get("size_name", "agents"), "seed": seed,
                     "enumerated_by": source["solver"], "equilibria": len(known), "selected": chosen,
                     "listed": listed})
    return rows


def found_text(row: dict, sep: str = "  ") -> str:
    """What each method found on one instance of `selections`: "solver=index" (none: not one of
    the enumerated equilibria), with the indices of the ones it lists, `sep` between methods;
    "-" when no other method kept its prices."""
    def cell(solver):
        index = row["selected"][solver]
        text = f"{solver}={'none' if index is None else index}"
        if solver in row["listed"]:
            text += " (lists " + ",".join("none" if i is None else str(i) for i in row["listed"][solver]) + ")"
        return text
    return sep.join(cell(s) for s in sorted(row["selected"])) or "-"


def format_selections(rows: list[dict]) -> str:
    """`selections` as text: one line per instance, each method with the index it found."""
    lines = []
    for row in rows:
        size = f"d={row['size']}" if row["size_name"] == "d" else f"{row['size']} agents"
        found = found_text(row)
        lines.append(f"{row['ladder']}  {size}  seed {row['seed']}: {row['equilibria']} equilibria "
                     f"({row['enumerated_by']}); {found}")
    return "\n".join(lines)
