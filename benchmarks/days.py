"""Day by day: every method on every day of an economy stream, with what it kept from yesterday.

A single economy solved from a cold start is the planner's best case and not the market's.
Markets are asked to get through the next day, as the economy changes under them (Hayek,
"The use of knowledge in society", American Economic Review 35(4), 1945). A days suite
(`gebench.suite.Days`) runs each method on each day of a stream
(`gebench.markets.streams`), in day order and in one process, so that a method which
carries state (`Solver.carried`) starts each day from its `Yesterday`.

Each method has the suite's `time_budget` a day. At the day's end the agents consume what
they hold (docs/format.md, "Days"):

- a trader's (`Solver.trades`) allocation, or, if it overran the day, the last point of its
  anytime trace reached within the day (else their endowments);
- a planner's or an auctioneer's allocation only when the certificate accepted it and it
  returned within the day, else their endowments;
- a plan carried out anyway (`Solver.executes`: the lagged planner's rationed trades at
  yesterday's prices) when it returned within the day.

The day's equilibrium comes from the ladder's `reference` solvers, the first that
certifies it, run untimed; each record's gains share is measured against it
(`gebench.markets.welfare.summarise_gains`'s money-weighted total, at most 1 for any
feasible allocation). A method that overruns a day keeps what it computed for tomorrow:
its knowledge survives the night, but the agents did not get it in time.
"""
from __future__ import annotations

from dataclasses import replace

from gebench.markets import Economy
from gebench.markets.io import json_safe
from gebench.markets.streams import Stream, stream_days
from gebench.markets.welfare import no_trade, welfare
from gebench.solvers import Result, Solver, Unsupported, Yesterday, solve

from .delivered import delivers
from .records import start, stopped
from .suite import FamilyLadder, Regime

GRACE_SECONDS = 2.0         # a stream's hard limit: 1.5 x its days' budgets, plus this


def stream_of(ladder: FamilyLadder, size: int, seed: int, regime: Regime, days: int) -> Stream:
    """The stream of `ladder` at `size` and `seed` in `regime`: a game ladder's takes the drift
    alone (its agents are the game's strategies, and it has no supply to shock)."""
    game = ladder.size_name == "d"
    return Stream(ladder.family, size=size, seed=seed, sigma=regime.sigma, days=days,
                  churn=0.0 if game else regime.churn, shock_rate=0.0 if game else regime.shock_rate,
                  goods_per_agent=ladder.goods_per_agent, density=ladder.density)


def stream_limit(days: int, methods: int, references: int, budget: float, reference_budget: float) -> float:
    """Seconds a whole stream may take before its worker is killed: every method's day at 1.5
    budgets and every reference at its full budget, each day, plus `GRACE_SECONDS`."""
    return days * (methods * 1.5 * budget + references * reference_budget) + GRACE_SECONDS


def reference_point(solvers: dict[str, Solver], references: tuple[str, ...], economy: Economy, tol: float,
                    budget: float, seed: int) -> tuple[str | None, Result | None]:
    """(name, result) of the first reference solver whose run the certificate accepts at
    `tol` on this day, or (None, None): a day without a known equilibrium has no gains shares."""
    for name in references:
        try:
            result = solve(solvers[name], economy, tol, budget, seed)
        except Unsupported:
            continue
        if result.status == "converged":
            return name, result
    return None, None


def held_at_end(solver: Solver, result: Result, budget: float, economy: Economy) -> tuple[object, bool, bool]:
    """(the allocation the agents consume, whether it is the method's, whether the day's end
    cut the method): see the module's rules."""
    late = result.seconds > budget
    if not late:
        if delivers(solver, result):
            return result.allocation, True, False
        return no_trade(economy), False, False
    if solver.trades:
        within = [c for c in result.trace if c.clock - result.started <= budget and c.allocation is not None]
        if within:
            return within[-1].allocation, True, True
    return no_trade(economy), False, True


def kept_for_tomorrow(result: Result, economy: Economy, day: int) -> Yesterday:
    """What a method hands itself for the next day: its final point, its state and today's
    economy; `arrived` is filled in tomorrow (`handed_on`), when the stream says who came."""
    return Yesterday(prices=result.prices, allocation=result.allocation, state=result.state, economy=economy,
                     certified=result.status == "converged", arrived=(), day=day + 1)


def handed_on(kept: Yesterday, today: Economy) -> Yesterday:
    """`kept` as it is handed to a method on `today`, a day of a stream: with the agents who
    arrived today and today's number (`gebench.markets.streams` puts both in its meta)."""
    return replace(kept, arrived=tuple(today.meta.get("entrants", ())), day=today.meta["day"])


class _Measures:
    """The welfare measures of one day's allocations, the no-trade bundle's computed once."""

    def __init__(self, economy: Economy, reference: Result | None, tol: float):
        self.economy, self.reference, self.tol = economy, reference, tol
        self._no_trade: dict | None = None

    def of(self, allocation, is_no_trade: bool) -> dict:
        if is_no_trade and self._no_trade is not None:
            return self._no_trade
        ref = self.reference
        measured = welfare(self.economy, allocation, None if ref is None else ref.allocation,
                           None if ref is None else ref.prices, supply_tol=self.tol)
        fields = {"gains_share": measured.gains_total, "gains_worst": measured.gains_worst,
                  "pareto_gap": measured.pareto_gap, "individual_rationality": measured.individual_rationality,
                  "feasible": not measured.infeasible}
        if is_no_trade:
            self._no_trade = fields
        return fields


def execute_stream(solvers: dict[str, Solver], ladder: FamilyLadder, size: int, seed: int, regime: Regime,
                   days: int, names: tuple[str, ...], tol: float, budget: float, reference_budget: float,
                   skip: frozenset = frozenset()) -> list[dict]:
    """Every method in `names` on every day of one stream, in day order: the record fields of
    each (method, day) (besides those known before the stream: `day_start`), except the pairs
    in `skip`, already recorded. Runs in a worker process (`gebench.isolation`)."""
    stream = stream_of(ladder, size, seed, regime, days)
    kept: dict[str, Yesterday | None] = dict.fromkeys(names)
    out = []
    for economy in stream_days(stream):
        t = economy.meta["day"]
        arrived = tuple(economy.meta.get("entrants", ()))
        try:
            reference, ref_result = reference_point(solvers, ladder.reference, economy, tol, reference_budget, seed)
        except Exception:  # a reference that crashes leaves the day without an equilibrium, not the stream
            reference, ref_result = None, None
        measures = _Measures(economy, ref_result, tol)
        for name in names:
            solver = solvers[name]
            yesterday = None if kept[name] is None else handed_on(kept[name], economy)
            try:
                result = solve(solver, economy, tol, budget, seed, yesterday=yesterday)
            except Unsupported as exc:
                kept[name] = None
                if (name, t) not in skip:
                    out.append({"day": t, "solver": name, **stopped("declined", f"declined: {exc}")})
                continue
            kept[name] = kept_for_tomorrow(result, economy, t)
            if (name, t) in skip:
                continue
            try:
                out.append(_day_record(solver, name, result, economy, t, arrived, budget, reference, measures))
            except Exception as exc:  # a measure that fails costs this method's day, not the stream
                out.append({"day": t, "solver": name, "reference": reference,
                            **stopped("failed", f"measuring the day failed: {type(exc).__name__}: {exc}"[:300],
                                      result.seconds)})
    return out


def _day_record(solver: Solver, name: str, result: Result, economy: Economy, t: int, arrived: tuple,
                budget: float, reference: str | None, measures: _Measures) -> dict:
    """The record fields of one method's day: its run, what the agents held at the day's end
    and that allocation's measures."""
    allocation, delivered, cut = held_at_end(solver, result, budget, economy)
    status, message = result.status, result.message
    if cut:
        status = "timeout"
        message = f"returned after the day's end ({result.seconds:.3g} s > {budget:g} s); " + \
                  (f"it said: {result.status}" + (f", {message}" if message else ""))
    record = {"day": t, "solver": name, "status": status, "seconds": result.seconds,
              "iterations": result.iterations,
              "certificate": None if result.certificate is None else result.certificate.to_dict(),
              "message": message[:300], "carried": solver.carried, "delivered": delivered, "cut": cut,
              "central_reads": solver.central_reads(economy, result.iterations), "reference": reference,
              "entrants": len(arrived), "shock": economy.meta.get("shock"),
              **measures.of(allocation, not delivered)}
    return json_safe(record)


def day_start(run_id: str, ladder: FamilyLadder, size: int, seed: int, regime: Regime, solver: Solver,
              tolerance: float, budget: float) -> dict:
    """The fields of a day's record known before the stream runs (`gebench.records.start`'s,
    with the regime)."""
    return {**start(run_id, ladder, size, seed, solver, tolerance, budget), "regime": regime.name,
            "sigma": regime.sigma, "churn": regime.churn, "shock_rate": regime.shock_rate}


def lost_stream(days: int, names: tuple[str, ...], status: str, message: str,
                skip: frozenset = frozenset()) -> list[dict]:
    """The records of a stream whose worker was lost (killed past the stream's limit, or
    died): every day of every method not already recorded, with the cause."""
    return [{"day": t, "solver": name, **stopped(status, message)} for t in range(days) for name in names
            if (name, t) not in skip]
