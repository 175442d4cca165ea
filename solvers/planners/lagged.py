"""A planner that plans tonight for tomorrow: the cost of acting on yesterday's information.

On each day of an economy stream, today's agents trade at the prices the planner certified
last night, on yesterday's economy; only then, within the same deadline, does it plan again,
on today's economy, for tomorrow. So every day is traded at prices one day old: when the
economy drifts, they no longer clear today's markets, and what is traded must be rationed to
what exists. The gap between its allocation and today's equilibrium is what acting on
yesterday's information costs, which Hayek ("The use of knowledge in society", 1945) puts at
the heart of the economic problem: the circumstances change before a central plan is carried
out.

The day's trade. At last night's prices p every agent demands its optimal bundle (exchange:
with its income p . e_i; Fisher: with its budget), as the planner's own allocation at p
(`gebench.solvers.kernels.excess_demand.allocation_at`) splits linear agents' spending. The
trades are then rationed good by good by the short-side rule (Benassy, "Neo-Keynesian
disequilibrium theory in a monetary economy", Review of Economic Studies 42, 1975; "The
Economics of Market Disequilibrium", Academic Press, 1982): on each market the traded volume
is the smaller of the desired purchases and the desired sales, and the long side is served in
proportion to its wishes (proportional rationing). In an exchange economy agent i's net
purchase t_ij = d_ij - e_ij of good j becomes t_ij min(1, S_j / P_j) if positive and
t_ij min(1, P_j / S_j) if negative, with P_j and S_j the desired purchases and sales: every
good's total is exactly its supply, and what is not sold stays with its owner. In a Fisher
market the buyers' demands of a good are scaled down to its supply where they exceed it.
Rationing is not redistributed to other markets (no spillovers), and the plan is carried out
whether or not it is an equilibrium today (`executes`): feasible, with no promise that nobody
loses by it.

On a stream's first day, or with no certified prices kept, nobody trades: agents keep their
endowments (in a Fisher market nothing is bought), and the outcome has no prices. The lag is
a stream's: an economy that is no day of a stream (no ``day`` in its meta) has no yesterday
and no tomorrow, and there the plan is carried out on the day it is made, at its certified
prices, rationed as any day's trade (without the lag the planner is its inner planner).

Tonight's plan is the inner planner's (`planner`): "auto" takes fisher-ipm for a Fisher
market, homotopy for Cobb-Douglas and CES exchange, lemke-howson for the Leontief economy of
a game, newton for other Leontief exchange and linear-exchange-ipm for linear exchange. A
planner that carries state (`Solver.carries`) runs carried, from last night's plan. Its
certified prices are kept for tomorrow (`Outcome.state["prices"]`); a night whose plan fails
the certificate keeps the older prices.
"""
from __future__ import annotations

import time

import numpy as np

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, LINEAR, Economy, InputError, certify

from ..base import Outcome, Solver, Unsupported, Yesterday
from ..judging import solve
from ..kernels.excess_demand import allocation_at
from ..kernels.params import Choice
from ..registry import get

PLANNERS = ("auto", "fisher-ipm", "homotopy", "newton", "lemke-howson", "linear-exchange-ipm")


def auto_planner(economy: Economy) -> str | None:
    """The inner planner "auto" takes for an economy, or None if none of them handles it."""
    kinds = set(np.unique(economy.kinds).tolist())
    if economy.model == "fisher":
        return "fisher-ipm"
    if kinds <= {COBB_DOUGLAS, CES}:
        return "homotopy"
    if kinds == {LINEAR}:
        return "linear-exchange-ipm"
    if kinds == {LEONTIEF} and get("lemke-howson")().skip(economy) is None:
        return "lemke-howson"
    if kinds <= {COBB_DOUGLAS, CES, LEONTIEF}:
        return "newton"
    return None


def rationed(economy: Economy, prices: np.ndarray) -> tuple[np.ndarray, float]:
    """(the allocation of trade at `prices` rationed by the short-side rule, the largest share
    of a market's long side left unserved): see the module."""
    p = np.asarray(prices, dtype=np.float64)
    with np.errstate(all="ignore"):
        wanted = allocation_at(economy, p)
    w = np.asarray(economy.total_supply, dtype=np.float64)
    wanted = np.where(np.isnan(wanted), 0.0, np.where(np.isinf(wanted), w, wanted))   # a free good: all of it
    if economy.model == "fisher":
        asked = wanted.sum(axis=0)
        served = np.minimum(1.0, np.divide(w, asked, out=np.ones_like(w), where=asked > 0))
        return wanted * served, float(1.0 - served.min())
    e = np.asarray(economy.endowment, dtype=np.float64)
    net = wanted - e
    buys, sells = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    bought, sold = buys.sum(axis=0), sells.sum(axis=0)
    volume = np.minimum(bought, sold)
    to_buyers = np.divide(volume, bought, out=np.zeros_like(volume), where=bought > 0)
    to_sellers = np.divide(volume, sold, out=np.zeros_like(volume), where=sold > 0)
    x = np.maximum(e + buys * to_buyers - sells * to_sellers, 0.0)
    unserved = np.where(bought > 0, 1.0 - to_buyers, 0.0).max(initial=0.0), \
        np.where(sold > 0, 1.0 - to_sellers, 0.0).max(initial=0.0)
    return x, float(max(unserved))


def no_trade(economy: Economy) -> np.ndarray:
    """Everyone keeps what it has: its endowment (exchange), nothing bought (Fisher)."""
    if economy.model == "exchange":
        return np.array(economy.endowment, dtype=np.float64)
    return np.zeros(economy.a.shape)


class LaggedPlanner(Solver):
    """Trades today at the prices certified last night, rationed by the short side, and plans
    tonight for tomorrow with an inner planner (`planner`, see the module).

    Its status is its own view of the day: "converged" when the point it traded to is
    certified today as well (a calm day, or no drift at all), else "max_iter" (its one round
    of trade a day is done). `iterations` is 1 on a day of trade, 0 without; `extra` holds
    the inner plan's planner, status, iterations and seconds, and the largest share of a
    market's long side left unserved.
    """

    name = "lagged-planner"
    models = frozenset({"exchange", "fisher"})
    utilities = frozenset({"linear", "cobb-douglas", "ces", "leontief"})
    exact = False
    executes = True
    carries = True
    parameters = {"planner": "auto"}
    rules = {"planner": Choice(PLANNERS)}

    def __init__(self, **params):
        super().__init__(**params)
        self._planners: dict[str, Solver] = {}

    def inner(self, economy: Economy) -> Solver | None:
        """The planner of tonight's plan for this economy (one instance per planner), or None."""
        name = self.params["planner"]
        if name == "auto":
            name = auto_planner(economy)
        if name is None:
            return None
        if name not in self._planners:
            cls = get(name)
            self._planners[name] = cls(carry=True) if "carry" in cls.parameters else cls()
        return self._planners[name]

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason:
            return reason
        planner = self.inner(economy)
        if planner is None:
            return "no inner planner handles this mix of utilities (planner=auto)"
        reason = planner.skip(economy)
        return f"its planner {planner.name} declines it: {reason}" if reason else None

    def warm_up(self) -> None:
        names = [self.params["planner"]] if self.params["planner"] != "auto" else list(PLANNERS[1:])
        for name in names:
            cls = get(name)
            planner = cls(carry=True) if "carry" in cls.parameters else cls()
            if planner.unavailable() is None:
                planner.warm_up()
            self._planners[name] = planner

    def run(self, economy: Economy, tol: float, deadline: float, seed: int,
            yesterday: Yesterday | None = None) -> Outcome:
        if yesterday is None and "day" not in economy.meta:
            return self._without_lag(economy, tol, deadline, seed)
        kept = yesterday.state if yesterday is not None else {}
        prices = kept.get("prices")
        if prices is not None and np.shape(prices) != (economy.n_goods,):
            prices = None
        if prices is None:
            allocation, unserved, status = no_trade(economy), 0.0, "max_iter"
            message = "no certified prices yet: everyone keeps what it has"
        else:
            allocation, unserved = rationed(economy, prices)
            today = certify(economy, prices, allocation)
            status = "converged" if today.within(tol) else "max_iter"
            message = "" if status == "converged" else \
                f"traded at last night's prices, rationed; today's certificate: {today.worst:.3g}"
        plan, state = self._plan(economy, tol, deadline, seed, yesterday, kept)
        extra = {"unserved": unserved, **plan}
        return Outcome(status, prices, allocation, int(prices is not None), message=message, extra=extra,
                       state=state)

    def _without_lag(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        """An economy outside a stream: plan, then trade at the plan's prices if certified."""
        plan, state = self._plan(economy, tol, deadline, seed, None, {})
        prices = state.get("prices")
        if prices is None:
            return Outcome("max_iter", None, no_trade(economy), 0, extra={"unserved": 0.0, **plan}, state=state,
                           message="the plan failed: everyone keeps what it has")
        allocation, unserved = rationed(economy, prices)
        status = "converged" if certify(economy, prices, allocation).within(tol) else "max_iter"
        return Outcome(status, prices, allocation, 1, extra={"unserved": unserved, **plan}, state=state)

    def _plan(self, economy: Economy, tol: float, deadline: float, seed: int, yesterday: Yesterday | None,
              kept: dict) -> tuple[dict, dict]:
        """Tonight's plan on today's economy: (what to report of it, the state for tomorrow)."""
        planner = self.inner(economy)
        last_night = None
        if yesterday is not None and kept.get("fresh"):
            last_night = Yesterday(kept.get("prices"), None, kept.get("inner", {}), yesterday.economy, True,
                                   yesterday.arrived, yesterday.day)
        elif yesterday is not None:
            last_night = Yesterday(None, None, kept.get("inner", {}), yesterday.economy, False,
                                   yesterday.arrived, yesterday.day)
        remaining = deadline - time.perf_counter()
        if planner is None or remaining <= 0:
            return {"plan": planner and planner.name, "plan_status": "timeout" if planner else "failed"}, _older(kept)
        try:
            result = solve(planner, economy, tol, remaining, seed, yesterday=last_night)
        except (Unsupported, InputError) as exc:
            return {"plan": planner.name, "plan_status": "failed", "plan_message": str(exc)}, _older(kept)
        report = {"plan": planner.name, "plan_status": result.status, "plan_iterations": int(result.iterations),
                  "plan_seconds": float(result.seconds)}
        if result.status != "converged":
            return report, _older(kept)
        return report, {"prices": np.array(result.prices, dtype=np.float64), "fresh": True,
                        "inner": dict(result.state)}


def _older(kept: dict) -> dict:
    """Tomorrow's state after a night whose plan failed: the older certified prices, if any,
    marked as not planned on today's economy, and no inner state."""
    prices = kept.get("prices")
    return {} if prices is None else {"prices": np.array(prices, dtype=np.float64), "fresh": False}
