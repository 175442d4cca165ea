"""What each method delivered day by day: the summary of a days suite's records (`gebench.days`).

One row per (ladder, regime, size, method), over every day of every seed's stream:

- `mean`: the mean share of the day's gains from trade the agents held at the day's end
  (`gains_share`, money-weighted at the day's equilibrium prices; at most 1 for any
  feasible allocation, 0 for no trade);
- `worst`: the worst day's share;
- `nothing`: the days on which the agents ended with no gains (a share of at most
  `NOTHING`): a planner or an auctioneer that did not certify in time, a trader that made
  no trade;
- `cut`: the days the method returned after the day's end;
- `reads`: the mean numbers gathered at one central point a day (`Solver.central_reads`);
- `unknown`: the days without a certified equilibrium to measure against (their shares
  are unknown and not in `mean`, `worst` or `nothing`), counted so that none is dropped;
  any other day without a share (an allocation that does not exist, a stream whose worker
  was lost) counts as a day with nothing delivered.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

NOTHING = 1e-9         # a day's share at most this is no gains delivered (no trade gives exactly 0)


def day_records(records: list[dict]) -> list[dict]:
    """The records of a days suite's days (those with a `day`)."""
    return [r for r in records if "day" in r]


def is_days_run(records: list[dict]) -> bool:
    """True for the records of a days suite."""
    return any("day" in r for r in records)


def summarise_days(records: list[dict]) -> list[dict]:
    """The rows described in the module's docstring, ordered by ladder, regime, size, method."""
    by = defaultdict(list)
    for r in day_records(records):
        if r["status"] != "declined":
            by[(r["ladder"], r["regime"], r["size"], r["solver"])].append(r)
    rows = []
    for (ladder, regime, size, solver), runs in sorted(by.items()):
        # a day without a certified equilibrium is unknown; any other day without a share (an
        # allocation that does not exist, a failed measure, a lost stream) delivered nothing
        known = [r for r in runs if not ("reference" in r and r["reference"] is None)]
        shares = np.array([r["gains_share"] if r.get("gains_share") is not None else 0.0 for r in known],
                          dtype=float)
        reads = [r["central_reads"] for r in runs if r.get("central_reads") is not None]
        rows.append({
            "ladder": ladder, "regime": regime, "size": size, "size_name": runs[0].get("size_name", "agents"),
            "solver": solver, "carried": bool(runs[0].get("carried")), "days": len(runs),
            "seeds": len({r["seed"] for r in runs}),
            "mean": float(shares.mean()) if shares.size else None,
            "worst": float(shares.min()) if shares.size else None,
            "nothing": int((shares <= NOTHING).sum()), "unknown": len(runs) - int(shares.size),
            "cut": sum(1 for r in runs if r.get("cut")),
            "reads": float(np.mean(reads)) if reads else None,
            "seconds": float(np.median([r["seconds"] for r in runs if r.get("seconds") is not None] or [np.nan])),
        })
    return rows


def _share(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _reads(value) -> str:
    if value is None:
        return "-"
    return "0" if value == 0 else f"{value:,.0f}"


DAYS_HEADER = ["family", "regime", "size", "method", "mean share", "worst day", "days with nothing",
               "days cut", "reads a day", "median s a day"]


def days_cells(rows: list[dict], regime: str | None = None) -> list[list[str]]:
    """The rows as table cells under `DAYS_HEADER` (of one `regime`, when given): each
    method's mean and worst day's share, days with nothing delivered (of the days with a
    known equilibrium; the unknown ones counted beside) and days cut, reads a day, and its
    median seconds a day."""
    cells = []
    for row in rows:
        if regime is not None and row["regime"] != regime:
            continue
        size = f"d = {row['size']}" if row["size_name"] == "d" else str(row["size"])
        known = row["days"] - row["unknown"]
        unknown = f" ({row['unknown']} unknown)" if row["unknown"] else ""
        cells.append([row["ladder"], row["regime"], size, row["solver"], _share(row["mean"]), _share(row["worst"]),
                      f"{row['nothing']}/{known}{unknown}", f"{row['cut']}/{row['days']}", _reads(row["reads"]),
                      f"{row['seconds']:.3g}"])
    return cells


def days_table(rows: list[dict], regime: str | None = None) -> str:
    """`days_cells` as a Markdown table."""
    lines = ["| " + " | ".join(DAYS_HEADER) + " |", "|" + "---|" * len(DAYS_HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in days_cells(rows, regime)]
    return "\n".join(lines)


def largest_days_table(rows: list[dict]) -> str:
    """A Markdown table of each ladder at its largest size, every regime side by side: per
    method, the mean share, the worst day's share and the days with nothing delivered in each
    regime, and the mean reads a day over all of them."""
    regimes = list(dict.fromkeys(r["regime"] for r in rows))
    largest = {}
    for row in rows:
        largest[row["ladder"]] = max(largest.get(row["ladder"], row["size"]), row["size"])
    cells = {}
    for row in rows:
        if row["size"] == largest[row["ladder"]]:
            cells.setdefault((row["ladder"], row["solver"]), {})[row["regime"]] = row
    header = ["family, largest size", "method"]
    for regime in regimes:
        header += [f"{regime}: mean share", f"{regime}: worst day", f"{regime}: days with nothing"]
    header.append("reads a day")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (ladder, solver), by_regime in sorted(cells.items()):
        any_row = next(iter(by_regime.values()))
        size = f"d = {any_row['size']}" if any_row["size_name"] == "d" else f"{any_row['size']} agents"
        line = [f"{ladder}, {size}", solver]
        for regime in regimes:
            row = by_regime.get(regime)
            if row is None:
                line += ["-", "-", "-"]
                continue
            known = row["days"] - row["unknown"]
            line += [_share(row["mean"]), _share(row["worst"]), f"{row['nothing']}/{known}"
                     + (f" ({row['unknown']} unknown)" if row["unknown"] else "")]
        reads = [r["reads"] for r in by_regime.values() if r["reads"] is not None]
        line.append(_reads(sum(reads) / len(reads) if reads else None))
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)
