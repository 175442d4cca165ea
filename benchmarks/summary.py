"""The summary table of a run directory: per family and solver, how far it got and at what cost."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .plot import fit_description, size_of, worst_measure

NOT_RUN = ("skipped",)


def summarise(records: list[dict]) -> list[dict]:
    """One row per (ladder, solver): the largest size solved on every seed, its median seconds,
    the fitted growth over converged medians (from 4 sizes on; fewer fit anything), the
    median certificate of converged runs, and the count of each other status."""
    by = defaultdict(list)
    for r in records:
        by[(r["ladder"], r["solver"])].append(r)
    rows = []
    for (ladder, solver), runs in sorted(by.items()):
        seeds = {r["seed"] for r in runs}
        sizes = sorted({size_of(r) for r in runs})
        exponential = runs[0].get("size_name") == "d"
        largest = None
        medians = []
        for size in sizes:
            done = [r for r in runs if size_of(r) == size and r["status"] == "converged"]
            if done:
                medians.append((size, float(np.median([r["seconds"] for r in done]))))
            if len({r["seed"] for r in done}) == len(seeds):
                largest = (size, medians[-1][1])
        fit = (fit_description(*zip(*medians), exponential) or None) if len(medians) >= 4 else None
        worst = [worst_measure(r["certificate"]) for r in runs if r["status"] == "converged" and r.get("certificate")]
        others = defaultdict(int)
        for r in runs:
            if r["status"] != "converged":
                others[r["status"]] += 1
        rows.append({"ladder": ladder, "solver": solver, "size_name": runs[0].get("size_name", "agents"),
                     "largest": None if largest is None else largest[0],
                     "seconds": None if largest is None else largest[1], "fit": fit,
                     "certificate": float(np.median(worst)) if worst else None, "others": dict(others)})
    return rows


def format_table(rows: list[dict]) -> str:
    header = ["family", "solver", "largest solved", "median s", "growth", "median certificate", "other statuses"]
    lines = [header]
    for row in rows:
        largest = "-" if row["largest"] is None else (f"d={row['largest']}" if row["size_name"] == "d"
                                                       else str(row["largest"]))
        lines.append([row["ladder"], row["solver"], largest,
                      "-" if row["seconds"] is None else f"{row['seconds']:.3g}", row["fit"] or "-",
                      "-" if row["certificate"] is None else f"{row['certificate']:.1e}",
                      ", ".join(f"{k} {v}" for k, v in sorted(row["others"].items())) or "-"])
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
