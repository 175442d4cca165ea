"""What the market delivers: gains from trade over time, from the records of a welfare suite.

A record of a suite with `welfare = true` holds the log utilities of what its run delivered,
at each checkpoint and at its end (`gebench.delivered`). The gains shares need an
equilibrium of the same economy: the reference is the delivered allocation of a run in the
same run directory that the certificate accepted, the exact methods' first (by solver
name), else any other's; its incomes weigh the agents' gains in the total share
(`gebench.markets.welfare.summarise_gains`). Where no run reached an equilibrium (a hard game beyond every exact
method's wall) there is no reference, and the gains shares are unknown (None); the Pareto
gap and the individual rationality stand alone there. Equilibria need not be unique (on
linear exchange economies, say); the reference is one of them, the one `references` names.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from gebench.markets.generators import FAMILIES
from gebench.markets.welfare import GAINS, MEASURE_FIELDS, NO_TRADE, TRACED_FIELDS, summarise_gains

from .records import size_of


def instance_of(record: dict) -> tuple:
    """(ladder, size, seed) of the economy a record ran on; a deterministic family has one
    economy per size, whatever seed the solver used."""
    seed = None if FAMILIES[record["family"]].deterministic else record["seed"]
    return record["ladder"], size_of(record), seed


def welfare_records(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("welfare") and r.get("trace")]


def _logs(values) -> np.ndarray:
    return np.array([-math.inf if v is None else v for v in values], dtype=np.float64)


def trades(record: dict) -> bool:
    """Whether the run delivered goods to its agents before its end: a trading process
    (`Solver.trades`) stores its agents' log utilities at the checkpoints before the last,
    a planner or an auctioneer none (its agents hold the no-trade bundle until it finishes).
    A trace with its final point only, or with no feasible point before it, says False."""
    trace = record.get("trace") or {}
    return any(v is not None for v in trace.get("log_utility", [])[:-1])


def references(records: list[dict]) -> dict[tuple, dict]:
    """instance -> the record whose certified allocation the gains shares are measured against."""
    chosen = {}
    ordered = sorted(welfare_records(records), key=lambda r: (not r["exact"], r["solver"], r["seed"]))
    for r in ordered:
        if r["status"] == "converged":
            chosen.setdefault(instance_of(r), r)
    return chosen


def gains_of(record: dict, log_utility, reference: dict | None, feasible: bool = True) -> dict:
    """The gains shares of an allocation (its log utilities; None: the no-trade bundle); all
    None for an allocation that used more than the supply, which has no welfare."""
    if reference is None or not feasible:
        return dict.fromkeys(GAINS)
    base = _logs(record["welfare"]["no_trade_log_utility"])
    logs = base if log_utility is None else _logs(log_utility)
    return dict(zip(GAINS, summarise_gains(logs, base, _logs(reference["welfare"]["log_utility"]),
                                           reference["welfare"].get("incomes"))))


def timeline(record: dict, reference: dict | None) -> list[dict]:
    """The run's trace as points {seconds, worst, the traced welfare measures
    (`gebench.markets.welfare.TRACED_FIELDS`), gains...}."""
    trace = record["trace"]
    points = []
    feasible = trace.get("feasible", [True] * len(trace["seconds"]))    # older records: all feasible
    for k, seconds in enumerate(trace["seconds"]):
        point = {"seconds": seconds, "worst": trace["worst"][k],
                 **{key: trace[key][k] if key in trace else None for key in TRACED_FIELDS}}
        point.update(gains_of(record, trace["log_utility"][k], reference, feasible[k]))
        points.append(point)
    return points


def at_time(points: list[dict], seconds: float) -> dict:
    """What the agents hold `seconds` into the run: the last point at or before then, and the
    no-trade bundle's measures before the first (a planner's agents hold their endowments)."""
    held = [p for p in points if p["seconds"] <= seconds]
    if held:
        return held[-1]
    known = bool(points) and points[0]["gains_total"] is not None
    return {"seconds": seconds, "worst": None, **dict.fromkeys(TRACED_FIELDS), **NO_TRADE,
            **dict.fromkeys(GAINS, 0.0 if known else None)}


def final(record: dict, reference: dict | None) -> dict:
    """The measures of what the run delivered at its end."""
    welfare = record["welfare"]
    return {**{key: welfare.get(key) for key in MEASURE_FIELDS},
            **gains_of(record, welfare["log_utility"], reference, welfare.get("feasible", True))}


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def race(records: list[dict], trader: str = "bilateral-exchange") -> list[dict]:
    """Per instance size and exact method: when the method finished (or stopped), what it
    delivered then, and what `trader` had delivered by the same time and at its own end;
    medians over the seeds, with the runs counted."""
    recs = welfare_records(records)
    refs = references(records)
    rows = []
    by_size = defaultdict(list)
    for r in recs:
        by_size[(r["ladder"], size_of(r))].append(r)
    for (ladder, size), here in sorted(by_size.items()):
        traders = [r for r in here if r["solver"] == trader]
        if not traders:
            continue
        lines = {id(r): timeline(r, refs.get(instance_of(r))) for r in traders}
        for planner in sorted({r["solver"] for r in here if r["exact"]}):
            runs = [r for r in here if r["solver"] == planner and r["seconds"] is not None]
            if not runs:
                continue
            stop = _median([r["seconds"] for r in runs])
            solved = sum(r["status"] == "converged" for r in runs)
            by_then = [at_time(lines[id(t)], stop) for t in traders]
            ends = [final(t, refs.get(instance_of(t))) for t in traders]
            rows.append({"ladder": ladder, "size": size, "planner": planner, "planner_seconds": stop,
                         "planner_converged": solved, "planner_runs": len(runs),
                         "trader_total_by_then": _median([p["gains_total"] for p in by_then]),
                         "trader_seconds": _median([t["seconds"] for t in traders]),
                         **{f"trader_{k}": _median([e[k] for e in ends])
                            for k in ("gains_total", "gains_worst", "pareto_gap")}})
    return rows


def delivered(records: list[dict]) -> dict[tuple, dict]:
    """(ladder, size, solver) -> what the solver's runs delivered at their end: medians over
    the runs of the gains share and the worst agent's share (over the runs with a reference),
    of the seconds and of the central reads, with the runs counted, those with a known share
    (a certified equilibrium of the same economy in the run directory) and those that stopped
    at the deadline, whose point is delivered all the same (`timeout`)."""
    refs = references(records)
    groups = defaultdict(list)
    for r in welfare_records(records):
        if r["seconds"] is not None:
            groups[(r["ladder"], size_of(r), r["solver"])].append(r)
    table = {}
    for key, runs in groups.items():
        ends = [final(r, refs.get(instance_of(r))) for r in runs]
        table[key] = {"runs": len(runs), "known": sum(e["gains_total"] is not None for e in ends),
                      "timeouts": sum(r["status"] == "timeout" for r in runs),
                      "converged": sum(r["status"] == "converged" for r in runs),
                      "gains_total": _median([e["gains_total"] for e in ends]),
                      "gains_worst": _median([e["gains_worst"] for e in ends]),
                      "seconds": _median([r["seconds"] for r in runs]),
                      "central_reads": _median([r.get("central_reads") for r in runs])}
    return table
