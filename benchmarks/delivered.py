"""What a run delivers to the agents, along the way and at its end (docs/format.md, "Traces").

A planner or an auctioneer (`Solver.trades` False) lets nobody trade until it has finished:
until then the agents hold their endowments (in a Fisher market, nothing), and a run that
stops without a certified equilibrium delivers nothing at all. A process that trades
delivers the allocation it holds at every checkpoint. `welfare_fields` turns a `Result`
into the record's `welfare` (the final delivered allocation's measures and its agents' log
utilities, from which the gains shares are computed against the sweep's certified
equilibria, `gebench.outcomes`) and `trace` (the same at each checkpoint, with the
certificate's worst measure of the solver's point).
"""
from __future__ import annotations

import numpy as np

from gebench.markets import Economy, certify
from gebench.markets.utilities import log_utility
from gebench.markets.welfare import (
    PARETO_TOL,
    TRACED_FIELDS,
    allocation_measures,
    no_trade,
    reference_log_utility,
)
from gebench.solvers import Result, Solver

DIGITS = 6            # log utilities are stored to 1e-6: a relative precision of a millionth


def _logs(values) -> list:
    """Log utilities to `DIGITS` places; null for a zero utility (log 0 = -inf)."""
    return [None if not np.isfinite(v) else round(float(v), DIGITS) for v in values]


def delivers(solver: Solver, result: Result) -> bool:
    """Whether the agents hold the run's final allocation: a trader's always, so is a plan that
    is carried out anyway (`Solver.executes`); a planner's or an auctioneer's only where the
    certificate accepted it (else they keep the no-trade bundle)."""
    return result.allocation is not None and (solver.trades or solver.executes or result.status == "converged")


def welfare_fields(economy: Economy, solver: Solver, result: Result, tol: float = PARETO_TOL) -> dict:
    """The record's `welfare` and `trace` fields for this run; an allocation that uses more
    than the supply by over `tol` (the run's tolerance) has no welfare (`feasible` False)."""
    base = no_trade(economy)
    base_measures = None
    held_at_end = delivers(solver, result)
    final = result.allocation if held_at_end else base
    final_measures = allocation_measures(economy, final, tol)
    kept = (*TRACED_FIELDS, "feasible")
    columns = {key: [] for key in ("seconds", "iterations", "worst", *kept, "log_utility")}
    points = [(c.clock - result.started, c.iterations, c.prices, c.allocation, solver.trades)
              for c in result.trace]
    points.append((result.seconds, result.iterations, result.prices, result.allocation, held_at_end))
    for seconds, iterations, prices, allocation, held in points:
        worst = None
        if prices is not None and allocation is not None:
            worst = certify(economy, prices, allocation).worst
        if held:
            measures = final_measures if allocation is final else allocation_measures(economy, allocation, tol)
            logs = _logs(log_utility(economy, allocation)) if measures["feasible"] else None
        else:
            base_measures = base_measures or allocation_measures(economy, base, tol)
            measures, logs = base_measures, None         # nothing traded yet: the no-trade bundle
        columns["seconds"].append(round(float(seconds), 6))
        columns["iterations"].append(int(iterations))
        columns["worst"].append(worst)
        for key in kept:
            columns[key].append(measures[key])
        columns["log_utility"].append(logs)
    incomes = None
    if result.prices is not None:
        b = economy.incomes(result.prices)
        incomes = [round(float(v), 9) for v in b / b.sum()] if b.sum() > 0 else None
    final_logs = _logs(log_utility(economy, final)) if final_measures["feasible"] else None
    welfare = {**final_measures, "log_utility": final_logs, "incomes": incomes,
               "no_trade_log_utility": _logs(reference_log_utility(economy))}
    return {"welfare": welfare, "trace": columns}
