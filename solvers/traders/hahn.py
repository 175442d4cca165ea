"""The Hahn process: prices move with excess demand while the agents trade at them out of equilibrium.

F. Hahn, "On the stability of pure exchange equilibrium", International Economic Review 3(2),
1962; Hahn and Negishi, "A theorem on non-tatonnement stability", Econometrica 30(3), 1962;
F. M. Fisher, "Disequilibrium Foundations of Equilibrium Economics" (1983), ch. 2-3. Unlike
tatonnement, trade does not wait for the equilibrium: agents exchange at every price, and an
agent's income is the value of what it holds now, not of its original endowment.

The state is prices p > 0 summing to 1 and holdings x. It starts at the endowments, with
p_j proportional to 1 / w_j (every good's supply worth the same): the rest point depends on
the path, and this start makes it independent of the units goods and money are counted in.
One round:
  1. desired trades z_i = d_i(p, p . x_i) - x_i (so p . z_i = 0), and their sum Z;
  2. rationing (`ration`): agent i executes r_ij z_ij of each desired trade, 0 <= r_ij <= 1,
     such that every good clears exactly and every agent receives the value it gives up;
  3. prices p_j <- p_j (1 + step min(Z_j / w_j, 1)), renormalised to sum 1 (the
     multiplicative step of `gebench.solvers.auctioneers.tatonnement`, on Z from before the trade).

The rationing rule is this implementation's choice. From r = 1 it alternates two cuts until
they agree: the long side of each good is scaled by short / long (Hahn's rule: only one side
of a market goes unsatisfied), then the larger side of each agent's trade, by value, so that
its budget balances (Fisher's "no swindling": nobody gives more than it gets). The second cut
can ration an agent on the short side of a good, so Hahn's rule holds only approximately.

Uniform rationing, one factor theta_i per agent (a point on the segment from x_i to its
demand), cannot serve here: goods clear only if sum_i theta_i z_i = 0, and n desired trades
in the (m - 1)-dimensional space p . z = 0 are generically independent when n < m, so only
theta = 0 clears exactly; forcing clearing afterwards moves value between agents, and their
utility falls (by 1e-8 to 3e-8 in log a round on random 10 x 10 Cobb-Douglas markets).

The rule used keeps utility from falling all the same. An agent's executed trade t_j = r_j z_j
of each good lies between x_j and its demand d_j. CES utility rises with sum_j a_j phi(x_j),
phi(v) = v^rho / rho (log v for Cobb-Douglas), concave; so phi(x_j + t_j) - phi(x_j) >=
t_j phi'(d_j), and a_j phi'(d_j) = mu p_j for a wanted good (first-order conditions): the
change is at least mu times the value of the wanted goods received, which is >= 0 since
p . t = 0 and unwanted goods are only sold. For Leontief every wanted good either rises or
stays above its demand, so the bottleneck cannot fall.

Trade changes the distribution of wealth, so the process comes to rest at an equilibrium of
the economy whose endowments are the holdings it reached, not in general at a Walrasian
equilibrium of the original one: the certificate's budget measure compares spending with
the value of the original endowment. Such a rest point is reported `at_rest`.

On a day of an economy stream (`gebench.markets.streams`), ``carry=True`` keeps what the
process learned, its prices (`Outcome.state`), and starts the day's trade at yesterday's final
prices instead of at 1 / w_j; the holdings always start at the day's endowments, which are all
the agents have. Near the equilibrium prices of today's endowments the desired trades nearly
clear, so rationing cuts little, trade moves little wealth, and the path is short and ends
near the Walrasian allocation: at the exact equilibrium prices one round of trade would reach
it. Agents who arrived today change nothing here: prices belong to the market, not to them.
"""
from __future__ import annotations

import time

import numpy as np
from numba import njit

from gebench.markets import LINEAR, Economy, certify
from gebench.markets.utilities import demand_row

from ..base import Outcome, Solver, Yesterday
from ..kernels.carried import carried_prices
from ..kernels.log_prices import move_prices, take_logs
from ..kernels.params import AT_LEAST_ONE, FRACTION
from ..kernels.trace import Tracer
from ..kernels.warm_up import warm_up_on_tiny

_RUNNING, _AT_REST, _DIVERGED = 0, 1, 2
PASSES = 200                # passes of the rationing fixed point at most
BALANCED = 1e-12            # an agent whose budget needs a cut below this share is balanced
_WORK_PER_CHUNK = 2**18     # agent-goods pairs of rounds between two looks at the clock and the certificate
_MAX_CHUNK = 1024


@njit(cache=True)
def desired_trades(kinds, a, log_a, rho, p, log_p, x, w, z, total):
    """z_i = d_i(p, p . x_i) - x_i into z and Z = sum_i z_i into total; returns max_ij |z_ij| / w_j."""
    n, m = x.shape
    largest = 0.0
    for j in range(m):
        total[j] = 0.0
    for i in range(n):
        b = 0.0
        for j in range(m):
            b += p[j] * x[i, j]
        demand_row(kinds[i], a[i], log_a[i], rho[i], p, log_p, b, z[i])
        for j in range(m):
            d = z[i, j] - x[i, j]
            z[i, j] = d
            total[j] += d
            largest = max(largest, abs(d) / w[j])
    return largest


@njit(cache=True)
def long_side(z_ij, more, less):
    """True when a desired trade z_ij is on the long side: a buy where `more` (wanted) exceeds
    `less` (offered), a sale where `less` exceeds `more`."""
    return (z_ij > 0.0 and more > less) or (z_ij < 0.0 and less > more)


@njit(cache=True)
def cut_goods(z, r, buys, sells):
    """Scale the long side of every good by short / long, so that its executed buys
    sum_i r_ij z_ij^+ equal its sells; returns the smallest factor."""
    n, m = z.shape
    for j in range(m):
        buys[j] = 0.0
        sells[j] = 0.0
    for i in range(n):
        for j in range(m):
            v = r[i, j] * z[i, j]
            if v > 0.0:
                buys[j] += v
            else:
                sells[j] -= v
    low = 1.0
    for j in range(m):
        long = max(buys[j], sells[j])
        f = min(buys[j], sells[j]) / long if long > 0.0 else 1.0
        low = min(low, f)
        if f < 1.0:
            for i in range(n):
                if long_side(z[i, j], buys[j], sells[j]):
                    r[i, j] *= f
    return low


@njit(cache=True)
def balance_budgets(z, p, r):
    """Scale the larger side of every agent's executed trade, by value, so that it receives
    exactly the value it gives up; returns the smallest factor."""
    n, m = z.shape
    low = 1.0
    for i in range(n):
        got = 0.0
        gave = 0.0
        for j in range(m):
            v = p[j] * r[i, j] * z[i, j]
            if v > 0.0:
                got += v
            else:
                gave -= v
        long = max(got, gave)
        g = min(got, gave) / long if long > 0.0 else 1.0
        low = min(low, g)
        if g < 1.0:
            for j in range(m):
                if long_side(z[i, j], got, gave):
                    r[i, j] *= g
    return low


@njit(cache=True)
def ration(z, p, r, buys, sells):
    """The executed shares r_ij in [0, 1] of the desired trades: from r = 1, cut the long side
    of every good, then the larger side of every agent's budget, until the budgets need no cut
    beyond `BALANCED` (or `PASSES` passes); a last cut of the goods makes them clear exactly.
    Every cut lowers r, so the passes converge; 10 - 20 passes did on random markets."""
    n, m = z.shape
    for i in range(n):
        for j in range(m):
            r[i, j] = 1.0
    for _ in range(PASSES):
        cut_goods(z, r, buys, sells)
        if balance_budgets(z, p, r) >= 1.0 - BALANCED:
            break
    cut_goods(z, r, buys, sells)


@njit(cache=True)
def execute_trade(z, r, p, w, x):
    """x_ij += r_ij z_ij; returns the value bought, sum_ij p_j (r_ij z_ij)^+.

    Holdings are clipped at 0, and each good's rounding residual w_j - sum_i x_ij goes to its
    largest holder, so that the holdings sum to the supply to rounding after any number of
    rounds instead of drifting by a rounding error a round."""
    n, m = x.shape
    traded = 0.0
    for i in range(n):
        for j in range(m):
            t = r[i, j] * z[i, j]
            traded += p[j] * max(t, 0.0)
            x[i, j] = max(x[i, j] + t, 0.0)
    for j in range(m):
        held, top = 0.0, 0
        for i in range(n):
            held += x[i, j]
            if x[i, j] > x[top, j]:
                top = i
        x[top, j] = max(x[top, j] + (w[j] - held), 0.0)
    return traded


@njit(cache=True)
def hahn_rounds(kinds, a, log_a, rho, w, p, x, step, tol, rounds):
    """Advance p and x by up to `rounds` rounds in place; returns (state, rounds made, value
    traded): `_AT_REST` when every desired trade is below tol (relative to the supply) at the
    start of a round, which is then not made; `_DIVERGED` once the state is not finite."""
    n, m = x.shape
    z, r = np.empty((n, m)), np.empty((n, m))
    total, log_p, buys, sells = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    traded = 0.0
    for k in range(rounds):
        take_logs(p, log_p)
        largest = desired_trades(kinds, a, log_a, rho, p, log_p, x, w, z, total)
        if not (np.isfinite(largest) and np.all(np.isfinite(total))):
            return _DIVERGED, k, traded
        if largest < tol:
            return _AT_REST, k, traded
        ration(z, p, r, buys, sells)
        traded += execute_trade(z, r, p, w, x)
        if not move_prices(p, total + w, w, step):     # `total` is the excess demand
            return _DIVERGED, k + 1, traded
    return _RUNNING, rounds, traded


def chunk_cap(economy: Economy) -> int:
    """The most rounds between two looks at the clock: a power of two (so that chunk ends fall
    on the trace's checkpoints 1, 2, 4, ...), of about `_WORK_PER_CHUNK` pairs, fixed by the
    economy's size so that one economy always stops after the same rounds."""
    pairs = economy.n_agents * economy.n_goods
    return 1 << max(0, min(_MAX_CHUNK.bit_length() - 1, (_WORK_PER_CHUNK // pairs).bit_length() - 1))


COLLAPSED = ("prices collapsed to a corner: an agent's income underflowed to 0 while it still buys, "
             "and the certificate cannot judge the point")


def ending(certificate, tol: float, resting, done: int, max_iter: int, deadline: float) -> str | None:
    """Why a Hahn-type process stops after a chunk of rounds, or None to go on, asked in this
    order: `converged` where the certificate accepts the point at `tol`, `diverged` where it
    cannot judge it (`COLLAPSED`), `at_rest` where `resting()` says nobody wants to trade
    (asked only then, since it may cost a pass over the agents), `max_iter`, `timeout`."""
    if certificate.within(tol):
        return "converged"
    if not certificate.finite:
        return "diverged"
    if resting():
        return "at_rest"
    if done >= max_iter:
        return "max_iter"
    if time.perf_counter() >= deadline:
        return "timeout"
    return None


class HahnProcess(Solver):
    """The Hahn process (exchange; Cobb-Douglas, CES, Leontief): tatonnement prices, and trade
    at them out of equilibrium, rationed so that goods clear and budgets balance exactly.

    `carry`: on a day of a stream, start the prices at yesterday's (the holdings at the day's
    endowments, as always).
    """

    name = "hahn-process"
    models = frozenset({"exchange"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    trades = True            # every round's holdings are feasible, and no agent's utility falls
    carries = True
    parameters = {"step": 0.5, "max_iter": 1_000_000, "carry": False}
    rules = {"step": FRACTION, "max_iter": AT_LEAST_ONE}

    def skip(self, economy):
        if economy.model == "fisher":
            return "fisher markets have no endowments to trade"
        if np.any(economy.kinds == LINEAR):
            return ("linear utilities have a demand correspondence, not a function "
                    "(supports: cobb-douglas, ces, leontief)")
        return super().skip(economy)

    def central_reads(self, economy, iterations):
        """The auctioneer reads the m aggregate excess demands a round, and the rationing is
        central too: a clearing house reads every agent's desired trade, n m numbers a round."""
        return iterations * (economy.n_goods + economy.n_agents * economy.n_goods)

    def warm_up(self) -> None:
        warm_up_on_tiny(self, ["cobb-douglas", "ces", "leontief"])

    def run(self, economy: Economy, tol, deadline, seed, yesterday: Yesterday | None = None):
        x = np.array(economy.endowment, dtype=np.float64)
        a, w = np.ascontiguousarray(economy.a), economy.total_supply
        p = (1.0 / w) / np.sum(1.0 / w)
        if yesterday is not None and self.carried:
            kept = carried_prices(yesterday.state.get("prices", yesterday.prices), economy.n_goods, cold=p)
            p = p if kept is None else kept
        step, max_iter, cap = float(self.params["step"]), int(self.params["max_iter"]), chunk_cap(economy)
        tracer = Tracer()
        done, traded = 0, 0.0

        def stop(status, message=""):
            return Outcome(status, p, x, done, message=message, extra={"rounds": done, "traded": traded},
                           trace=tracer.checkpoints, state={"prices": p.copy()} if self.carried else {})

        while True:
            state, made, value = hahn_rounds(economy.kinds, a, economy.log_a, economy.rho, w, p, x, step,
                                             tol, min(max(done, 1), cap, max_iter - done))
            done, traded = done + made, traded + value
            if state == _DIVERGED:
                return Outcome("diverged", iterations=done, message="prices or holdings became non-finite",
                               extra={"rounds": done, "traded": traded}, trace=tracer.checkpoints)
            certificate = certify(economy, p, x)
            status = ending(certificate, tol, lambda: state == _AT_REST, done, max_iter, deadline)
            if status is not None:
                return stop(status, {"diverged": COLLAPSED, "at_rest": (
                    f"no agent wants to trade at these prices: the holdings are an equilibrium of the economy "
                    f"they endow, not a Walrasian equilibrium of this one (trade moved wealth; worst measure "
                    f"{certificate.worst:.3g})")}.get(status, ""))
            tracer.offer(done, lambda: (p, x))

