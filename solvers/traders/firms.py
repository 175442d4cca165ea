"""Firms: islands of planning inside a market. Within a firm resources are allocated by
direction, between firms by prices.

R. H. Coase, "The nature of the firm", Economica 4 (1937) 386-405. The agents are split into
k firms of near-equal size by a random permutation (seeded). Inside a firm a planner allocates
exactly; between firms the Hahn process trades (`gebench.solvers.traders.hahn`: F. Hahn, "On the
stability of pure exchange equilibrium", International Economic Review 3(2), 1962; Hahn and
Negishi, "A theorem on non-tatonnement stability", Econometrica 30(3), 1962; F. M. Fisher,
"Disequilibrium Foundations of Equilibrium Economics", 1983). k = 1 is the central planner,
k = n the Hahn process.

Planning. A firm's planner computes a competitive equilibrium of the firm's closed economy:
its members, what they hold now, the goods they hold and want. Goods no member holds are
dropped, and so are members who need one of them (a Cobb-Douglas, Leontief or complementary
CES agent, rho < 0, whose utility stays zero without it) and members who hold or want none of
the goods left, until nothing more drops; they keep what they hold. The planner is the lagged
planner's choice (`gebench.solvers.planners.lagged.auto_planner`): homotopy for Cobb-Douglas
and CES, Lemke-Howson for the economy of a game, Newton for other Leontief economies; it runs
under the judge (`gebench.solvers.judging.solve`) within the run's deadline. The members move
to the plan's allocation only if the certificate accepts it and nobody's utility falls (an
equilibrium is individually rational; the check keeps an answer accurate to the tolerance only
from costing a member a rounding of its utility); each good's rounding residual goes to its
largest holder, so the firm's holdings are conserved exactly. A firm plans again only once its
holdings have moved by more than the tolerance (relative to the supply), and its planner starts
from the firm's last certified plan where it can (`Solver.carries`: homotopy follows the path
from the last plan's economy, Newton starts at its prices).

Trade. Each round, at the market prices p, every member i reports its desired trade
z_i = d_i(p, p . x_i) - x_i to its firm, which reports the sum Z_f: the clearing house reads
k x m numbers, not n x m. The rationing is Hahn's rule of `hahn.ration` with firms as the
traders of each market: from r = 1 (members' executed shares r_ij z_ij), it alternates
  - a cut of the goods: on each good the long side of the firms' executed net trades is scaled
    by short / long; a firm on the long side meets its cut by scaling its own members on that
    side (its net buyers of the good, when it buys) by c = g + (1 - g) s / b, where g is the
    market's factor and s, b the firm's executed sales and purchases of the good, so that its
    net trade b - s becomes exactly g (b - s) and its members on the other side keep theirs;
  - a cut of every member's budget (`hahn.balance_budgets`), as Fisher's no-swindling rule,
until the budgets need no cut, and a last cut of the goods clears them exactly. So every
member's trade of each good lies between 0 and its desired trade and balances in value, and
Hahn's argument (hahn.py's module) shows that no member's utility falls. Inside a firm, the
trades of members on opposite sides of a good net out and are executed too: the market's
rationing touches only the firm's net. Prices then move with the total excess demand, as in
the Hahn process. With singleton firms (k = n) these cuts are `hahn.ration`'s, operation for
operation: the process is the Hahn process, round for round.

Schedule. The market runs in chunks of rounds (1, 1, 2, 4, ... up to `hahn.chunk_cap`), and
before the first chunk and after each one every firm whose holdings moved plans again. The
process stops `converged` where the certificate accepts the market prices and the holdings,
`at_rest` where no firm wants to trade (every firm's net desired trade below the tolerance,
relative to the supply) and no plan changed anything, `timeout` at the deadline; the agents
hold what they traded and were allotted at every point. With one firm there is no market: its
plan is the economy's equilibrium, with the planner's prices.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from gebench.markets import (
    CES,
    COBB_DOUGLAS,
    LEONTIEF,
    LINEAR,
    UTILITY_NAMES,
    Economy,
    InputError,
    certify,
    make_economy,
)
from gebench.markets.utilities import log_utility_row

from ..base import Outcome, Solver, Unsupported, Yesterday, economy_numbers
from ..judging import solve
from ..kernels.log_prices import move_prices, take_logs
from ..kernels.params import AT_LEAST_ONE, FRACTION, Choice, Range
from ..kernels.supporting import best_prices
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny
from ..planners.lagged import auto_planner
from ..registry import get
from .hahn import BALANCED, COLLAPSED, PASSES, balance_budgets, chunk_cap, desired_trades, ending, execute_trade

_RUNNING, _AT_REST, _DIVERGED = 0, 1, 2
_NEVER = -1.0               # a rest tolerance no firm's trade falls below
_LOSS = 1e-12               # the largest fall of a member's log utility a plan may cost (rounding)
PLANNERS = ("auto", "homotopy", "newton", "lemke-howson")


@njit(cache=True)
def firm_nets(z, r, order, starts, bought, sold, buys, sells):
    """The firms' executed purchases `bought` and sales `sold` of each good (k x m), from the
    members' executed trades r_ij z_ij, and the market's totals of the firms' net purchases
    `buys` and net sales `sells`; returns max_fj |net|, the largest net trade."""
    k, m = bought.shape
    for j in range(m):
        buys[j] = 0.0
        sells[j] = 0.0
    largest = 0.0
    for f in range(k):
        for j in range(m):
            b = 0.0
            s = 0.0
            for q in range(starts[f], starts[f + 1]):
                v = r[order[q], j] * z[order[q], j]
                if v > 0.0:
                    b += v
                else:
                    s -= v
            bought[f, j] = b
            sold[f, j] = s
            t = b - s
            if t > 0.0:
                buys[j] += t
            else:
                sells[j] -= t
            largest = max(largest, abs(t))
    return largest


@njit(cache=True)
def cut_firm_goods(z, r, order, starts, bought, sold, buys, sells):
    """Scale the long side of every good's market of firms by short / long; a firm on the long
    side cuts its own members on that side by g + (1 - g) s / b (see the module), so that its
    net trade shrinks by the market's factor g exactly."""
    k, m = bought.shape
    firm_nets(z, r, order, starts, bought, sold, buys, sells)
    for j in range(m):
        long = max(buys[j], sells[j])
        g = min(buys[j], sells[j]) / long if long > 0.0 else 1.0
        if g >= 1.0:
            continue
        for f in range(k):
            b, s = bought[f, j], sold[f, j]
            if b > s and buys[j] > sells[j]:
                c = g + (1.0 - g) * s / b
                for q in range(starts[f], starts[f + 1]):
                    if z[order[q], j] > 0.0:
                        r[order[q], j] *= c
            elif s > b and sells[j] > buys[j]:
                c = g + (1.0 - g) * b / s
                for q in range(starts[f], starts[f + 1]):
                    if z[order[q], j] < 0.0:
                        r[order[q], j] *= c


@njit(cache=True)
def ration_firms(z, p, r, order, starts, bought, sold, buys, sells):
    """The members' executed shares r_ij in [0, 1]: from r = 1, cut the firms' markets, then
    every member's budget, until the budgets need no cut beyond `hahn.BALANCED` (or
    `hahn.PASSES` passes); a last cut of the firms' markets makes every good clear exactly."""
    n, m = z.shape
    for i in range(n):
        for j in range(m):
            r[i, j] = 1.0
    for _ in range(PASSES):
        cut_firm_goods(z, r, order, starts, bought, sold, buys, sells)
        if balance_budgets(z, p, r) >= 1.0 - BALANCED:
            break
    cut_firm_goods(z, r, order, starts, bought, sold, buys, sells)


@njit(cache=True)
def firm_rounds(kinds, a, log_a, rho, w, p, x, step, tol, rounds, order, starts):
    """Advance p and x by up to `rounds` rounds of trade between firms, in place; returns (state,
    rounds made, value traded): `_AT_REST` when every firm's net desired trade is below tol
    (relative to the supply) at the start of a round, which is then not made; `_DIVERGED` once
    the state is not finite."""
    n, m = x.shape
    k = starts.shape[0] - 1
    z, r, ones = np.empty((n, m)), np.empty((n, m)), np.ones((n, m))
    bought, sold = np.empty((k, m)), np.empty((k, m))
    total, log_p, buys, sells = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    traded = 0.0
    for t in range(rounds):
        take_logs(p, log_p)
        desired_trades(kinds, a, log_a, rho, p, log_p, x, w, z, total)
        if not np.all(np.isfinite(total)):
            return _DIVERGED, t, traded
        firm_nets(z, ones, order, starts, bought, sold, buys, sells)
        largest = 0.0
        for f in range(k):
            for j in range(m):
                largest = max(largest, abs(bought[f, j] - sold[f, j]) / w[j])
        if not np.isfinite(largest):
            return _DIVERGED, t, traded
        if largest < tol:
            return _AT_REST, t, traded
        ration_firms(z, p, r, order, starts, bought, sold, buys, sells)
        traded += execute_trade(z, r, p, w, x)
        if not move_prices(p, total + w, w, step):     # `total` is the excess demand
            return _DIVERGED, t + 1, traded
    return _RUNNING, rounds, traded


@njit(cache=True)
def largest_firm_trade(kinds, a, log_a, rho, w, p, x, order, starts):
    """max_fj |Z_fj| / w_j, the largest net desired trade of a firm at p, relative to the supply."""
    n, m = x.shape
    k = starts.shape[0] - 1
    z, ones = np.empty((n, m)), np.ones((n, m))
    bought, sold = np.empty((k, m)), np.empty((k, m))
    total, log_p, buys, sells = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    take_logs(p, log_p)
    desired_trades(kinds, a, log_a, rho, p, log_p, x, w, z, total)
    firm_nets(z, ones, order, starts, bought, sold, buys, sells)
    largest = 0.0
    for f in range(k):
        for j in range(m):
            largest = max(largest, abs(bought[f, j] - sold[f, j]) / w[j])
    return largest


def partition(n: int, k: int, seed: int) -> list[np.ndarray]:
    """k groups of near-equal size (sizes differ by at most one) by a random permutation of
    the n agents (seeded); each group's members in increasing order, the groups ordered by
    their first member, so that k = n gives agent i the i-th firm."""
    cut = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return sorted((np.sort(g) for g in cut), key=lambda g: int(g[0]))


def firm_economy(economy: Economy, members: np.ndarray, holdings: np.ndarray) -> tuple | None:
    """(the firm's closed economy, its agents' rows in `members`, its goods), or None when it
    has fewer than two agents or goods to plan for: the goods some kept member holds and some
    kept member wants, the members who hold one of them, want one, and need no good dropped
    (see the module), until nothing more drops."""
    a = np.asarray(economy.a)[members]
    kinds, rho = economy.kinds[members], economy.rho[members]
    essential = (kinds == COBB_DOUGLAS) | (kinds == LEONTIEF) | ((kinds == CES) & (rho < 0))
    agents = np.ones(len(members), dtype=bool)
    while True:
        goods = (holdings[agents] > 0).any(axis=0) & (a[agents] > 0).any(axis=0)
        keep = (agents & (holdings[:, goods] > 0).any(axis=1) & (a[:, goods] > 0).any(axis=1)
                & ~(essential & (a[:, ~goods] > 0).any(axis=1)))
        if np.array_equal(keep, agents):
            break
        agents = keep
    rows, cols = np.flatnonzero(agents), np.flatnonzero(goods)
    if len(rows) < 2 or len(cols) < 2:
        return None
    if len(rows) == economy.n_agents and len(cols) == economy.n_goods and \
            np.array_equal(holdings, np.asarray(economy.endowment)):
        return economy, rows, cols           # the whole economy, as given: its planner sees it unchanged
    sub = make_economy("exchange", [UTILITY_NAMES[c] for c in kinds[rows]], a[np.ix_(rows, cols)],
                       rho=rho[rows], endowment=holdings[np.ix_(rows, cols)], name=f"{economy.name}: a firm")
    return sub, rows, cols


def log_utilities(economy: Economy, members: np.ndarray, holdings: np.ndarray) -> np.ndarray:
    a = np.asarray(economy.a)
    return np.array([log_utility_row(economy.kinds[i], a[i], economy.rho[i], holdings[q])
                     for q, i in enumerate(members)])


def conserved(plan: np.ndarray, holdings: np.ndarray) -> np.ndarray:
    """The plan clipped at 0, with each good's residual (what the members hold minus what the
    plan gives them) added to its largest recipient, so that the firm's goods are conserved."""
    y = np.maximum(np.asarray(plan, dtype=np.float64), 0.0)
    top = np.argmax(y, axis=0)
    cols = np.arange(y.shape[1])
    y[top, cols] = np.maximum(y[top, cols] + (holdings.sum(axis=0) - y.sum(axis=0)), 0.0)
    return y


def carried(name: str) -> Solver:
    """An instance of the planner `name`, carried (``carry=True``) where it can start from a last plan."""
    cls = get(name)
    return cls(carry=True) if "carry" in cls.parameters else cls()


def chunks(rounds: int, cap: int) -> int:
    """The chunks of the schedule 1, 1, 2, 4, ... (at most `cap` rounds each) that `rounds` rounds take."""
    done = count = 0
    while done < rounds:
        done += min(max(done, 1), cap)
        count += 1
    return count


class Firms(Solver):
    """Coase's firms (exchange; Cobb-Douglas, CES, Leontief): k firms plan inside, with an
    exact planner, and trade with one another through the Hahn process (see the module).

    `firms`: k (0: one firm per agent; clipped to n); `planner`: the firms' planner ("auto":
    the lagged planner's choice); `step`, `max_iter`: the Hahn process's price step and most
    rounds. `iterations` counts the market's rounds (1 for one firm: its plan); `extra` holds
    the plans made and those carried out (the others the certificate or a member's utility
    turned down), the numbers the clearing house gathered and the most a firm's planner did.
    """

    name = "firms"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    trades = True
    parameters = {"firms": 2, "planner": "auto", "step": 0.5, "max_iter": 1_000_000}
    rules = {"firms": Range(0), "planner": Choice(PLANNERS), "step": FRACTION, "max_iter": AT_LEAST_ONE}

    def __init__(self, **params):
        super().__init__(**params)
        self._planners: dict[str, Solver] = {}

    def firms_of(self, n: int) -> int:
        """k: the `firms` parameter, 0 meaning n, clipped to n."""
        k = int(self.params["firms"])
        return n if k == 0 else min(k, n)

    @property
    def uses_seed(self) -> bool:
        """True unless one firm or one per agent: only the partition into firms draws from the seed."""
        return int(self.params["firms"]) not in (0, 1)

    def skip(self, economy: Economy) -> str | None:
        if economy.model == "fisher":
            return "fisher markets have no endowments to trade"
        if np.any(economy.kinds == LINEAR):
            return ("linear utilities have a demand correspondence, not a function, so the market's "
                    "desired trades are not defined (supports: cobb-douglas, ces, leontief)")
        return super().skip(economy)

    def central_reads(self, economy: Economy, iterations: int) -> int:
        """The most numbers gathered at one place, the clearing house or the largest firm's planner.

        One firm: its planner reads the economy once (`economy_numbers`). Otherwise the
        clearing house reads each firm's m net desired trades and the m excess demands a round,
        (k + 1) m (k = n: the Hahn process's count), and a firm's planner reads its members'
        numbers at each plan. Plans come at most once per firm before the first chunk of
        rounds and after each (`chunks`), so `iterations` (the rounds) bounds them; each is
        counted at the largest firm's bound: its ceil(n / k) agents with the most coefficients,
        each with its exponent and m holdings. The exact counts of a run are in its `extra`.
        """
        n, m = economy.n_agents, economy.n_goods
        k = self.firms_of(n)
        if k == 1:
            return economy_numbers(economy)
        market = iterations * (m + k * m)
        if k == n:
            return market
        a = economy.a
        per_agent = (np.asarray((a != 0).sum(axis=1)).ravel() + ~np.isnan(economy.rho) + m).astype(np.int64)
        largest = int(np.sort(per_agent)[::-1][:math.ceil(n / k)].sum())
        return max(market, (1 + chunks(iterations, chunk_cap(economy))) * largest)

    def planner_for(self, economy: Economy) -> Solver | None:
        name = self.params["planner"]
        name = auto_planner(economy) if name == "auto" else name
        if name is None:
            return None
        if name not in self._planners:
            self._planners[name] = carried(name)
        return self._planners[name]

    def warm_up(self) -> None:
        names = [self.params["planner"]] if self.params["planner"] != "auto" else list(PLANNERS[1:])
        for name in names:
            planner = carried(name)
            if planner.unavailable() is None:
                planner.warm_up()
            self._planners[name] = planner
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])
        tiny = make_economy("exchange", "cobb-douglas", np.ones((4, 2)), endowment=np.eye(4, 2) + 0.5)
        for k in (0, 2):     # the market kernels with singleton firms and with groups
            Firms(firms=k, planner=self.params["planner"]).run(tiny, 1e-6, time.perf_counter() + 10.0, 0)

    def plan(self, economy: Economy, members: np.ndarray, x: np.ndarray, tol: float, deadline: float,
             seed: int, last: tuple | None = None) -> dict:
        """One firm's plan from the holdings x (rows `members`): what it reads, whether it was
        made and carried out, and the members' new holdings and the plan's prices if so.

        `last` is the firm's last certified plan, (its economy, its prices): a planner that
        carries state (`Solver.carries`) starts from it as from yesterday's (homotopy follows
        the path from that economy to this one, Newton starts at its prices), since holdings
        that moved a little move the firm's equilibrium a little. The certified plan is
        returned as ``kept`` for the next."""
        held = x[members]
        found = firm_economy(economy, members, held)
        if found is None:
            return {"reads": 0, "made": False}
        sub, rows, cols = found
        planner = self.planner_for(sub)
        remaining = deadline - time.perf_counter()
        if planner is None or remaining <= 0:
            return {"reads": 0, "made": False}
        report = {"reads": economy_numbers(sub), "made": True, "planner": planner.name}
        yesterday = None if last is None else Yesterday(last[1], None, {}, last[0], True)
        try:
            result = solve(planner, sub, tol, remaining, seed, yesterday=yesterday)
        except (Unsupported, InputError) as exc:
            return {**report, "made": False, "message": str(exc)}
        report["status"] = result.status
        if result.status != "converged":
            return report
        report["kept"] = (sub, result.prices)
        new = held.copy()
        new[np.ix_(rows, cols)] = conserved(result.allocation, held[np.ix_(rows, cols)])
        before, after = log_utilities(economy, members, held), log_utilities(economy, members, new)
        with np.errstate(invalid="ignore"):
            fell = np.any(after < before - _LOSS * np.maximum(1.0, np.abs(before)))
        if fell:
            return {**report, "status": "loss"}
        prices = np.zeros(economy.n_goods)
        prices[cols] = result.prices
        return {**report, "holdings": new, "prices": prices}

    def run(self, economy: Economy, tol, deadline, seed):
        x = np.array(economy.endowment, dtype=np.float64)
        n, m = x.shape
        k = self.firms_of(n)
        groups = partition(n, k, seed)
        a, w = np.ascontiguousarray(economy.a), economy.total_supply
        p = (1.0 / w) / np.sum(1.0 / w)
        tracer = Tracer()
        if k == 1:
            return self._one_firm(economy, x, p, tol, deadline, seed, tracer)
        order = np.concatenate(groups).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64)
        step, max_iter, cap = float(self.params["step"]), int(self.params["max_iter"]), chunk_cap(economy)
        planned = [None] * k          # each firm's holdings when it last planned
        kept = [None] * k             # each firm's last certified plan: (its economy, its prices)
        reads = np.zeros(k, dtype=np.int64)
        counts = {"plans": 0, "carried_out": 0}
        done, traded = 0, 0.0

        def plan_moved() -> bool:
            """Plan again in every firm whose holdings moved; True if a plan changed them."""
            changed = False
            for f, members in enumerate(groups):
                if len(members) < 2 or time.perf_counter() >= deadline:
                    continue
                held = x[members]
                if planned[f] is not None and np.max(np.abs(held - planned[f]) / w) <= tol:
                    continue
                made = self.plan(economy, members, x, tol, deadline, seed, kept[f])
                kept[f] = made.get("kept", kept[f])
                reads[f] += made["reads"]
                counts["plans"] += int(made["made"])
                if "holdings" in made:
                    counts["carried_out"] += 1
                    changed = changed or bool(np.max(np.abs(made["holdings"] - held) / w) > tol)
                    x[members] = made["holdings"]
                planned[f] = x[members].copy()
            return changed

        def stop(status, message=""):
            prices = p if status == "converged" else best_prices(economy, x, p, deadline)
            extra = {"rounds": done, "traded": traded, "firms": k, **counts,
                     "market_reads": done * (m + k * m), "plan_reads": int(reads.max(initial=0))}
            return Outcome(status, prices, x, done, message=message, extra=extra, trace=tracer.checkpoints)

        def resting() -> bool:
            """Nobody wants to trade: the Hahn process's rest with one firm per agent; otherwise no
            plan changed anything and no firm's net desired trade is above tol."""
            if k == n:
                return state == _AT_REST
            return not changed and largest_firm_trade(economy.kinds, a, economy.log_a, economy.rho, w, p, x, order,
                                                      starts) < tol

        changed = plan_moved() if k < n else False
        while True:
            state, made, value = firm_rounds(economy.kinds, a, economy.log_a, economy.rho, w, p, x, step,
                                             tol if k == n else _NEVER, min(max(done, 1), cap, max_iter - done),
                                             order, starts)
            done, traded = done + made, traded + value
            if state == _DIVERGED:
                return Outcome("diverged", iterations=done, message="prices or holdings became non-finite",
                               extra={"rounds": done, "traded": traded}, trace=tracer.checkpoints)
            changed = plan_moved() if k < n else False
            certificate = certify(economy, p, x)
            status = ending(certificate, tol, resting, done, max_iter, deadline)
            if status is not None:
                return stop(status, {"diverged": COLLAPSED, "at_rest": (
                    f"no firm wants to trade at these prices and no plan changes anything: the holdings are not "
                    f"a Walrasian equilibrium of this economy (trade moved wealth; worst measure "
                    f"{certificate.worst:.3g})")}.get(status, ""))
            tracer.offer(done, lambda: (p, x))

    def _one_firm(self, economy, x, p, tol, deadline, seed, tracer) -> Outcome:
        """k = 1: no market; the one firm's plan is the economy's equilibrium."""
        made = self.plan(economy, np.arange(economy.n_agents), x, tol, deadline, seed)
        extra = {"rounds": 0, "traded": 0.0, "firms": 1, "plans": int(made["made"]),
                 "carried_out": int("holdings" in made), "market_reads": 0, "plan_reads": made["reads"],
                 "plan": made.get("planner"), "plan_status": made.get("status")}
        if "holdings" not in made:
            status = "timeout" if time.perf_counter() >= deadline else "at_rest"
            return Outcome(status, best_prices(economy, x, p, deadline), x, 1, extra=extra, trace=tracer.checkpoints,
                           message=f"the plan was not carried out ({made.get('status', 'nothing to plan')}): "
                                   f"everyone keeps what it has")
        x, prices = made["holdings"], made["prices"] / made["prices"].sum()
        tracer.offer(1, lambda: (prices, x))
        status = "converged" if certify(economy, prices, x).within(tol) else "at_rest"
        return Outcome(status, prices, x, 1, extra=extra, trace=tracer.checkpoints)
