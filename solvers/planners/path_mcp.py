"""PATH, the standard solver for equilibrium models, on the economy as a complementarity problem.

Needs the optional extra ``gebench[gams]`` (GAMSPy, with GAMS and PATH in its
`gamspy_base` package). The model is the Mathiesen / MPSGE form of an exchange
economy (Mathiesen, "Computation of economic equilibria by a sequence of linear
complementarity problems", Math. Programming Study 23, 1985; Dirkse and Ferris,
"The PATH solver", Optimization Methods and Software 5, 1995): with sigma_i the
elasticity of agent i (1/(1-rho) for CES, 1 for Cobb-Douglas, 0 for Leontief)
and weights W_ij (a_ij^sigma_i for CES, a_ij / sum a_i for Cobb-Douglas, a_ij
for Leontief), every such demand is

    x_ij = b_i W_ij p_j^(-sigma_i) / D_i,    D_i = sum_k W_ik p_k^(1 - sigma_i),

and the model pairs each equation with a variable:

    D_i  = sum_k W_ik p_k^(1 - sigma_i)                    (D_i free)
    b_i  = p . e_i, or B_i (p . w) / sum B in a Fisher market   (b_i free)
    w_j >= sum_i x_ij   complementary to   p_j >= 0        (market clearing)

No price is fixed as numeraire (its equilibrium price may be 0, as in Leontief
economies): the prices are normalised to sum m instead, paired with a free
slack lambda that every market's row gets, w_j + lambda >= sum_i x_ij. Walras'
law, sum_j p_j (w_j - sum_i x_ij) = 0, then forces lambda = 0 at any solution. Linear
utilities have a demand correspondence, not a function, and are declined. GAMSPy's free
licence caps the model's size (rows and columns; 2n + m + 1 of each here), so larger
economies are declined with that reason; `max_rows` sets the cap.

PATH runs only with a working GAMS licence, and the demo licence inside
`gamspy_base` is time-limited (54.6.1's expired on 2026-11-26). Whether GAMS
works here is a fact about the machine: `check_environment` solves a one-variable
MCP once per process and, when that fails, names the licence's expiry date if it
has passed, so that the harness declines PATH with that reason instead of
recording a failed run.
"""
from __future__ import annotations

import datetime
import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gebench.markets import CES, COBB_DOUGLAS, LEONTIEF, Economy, demand

from ..base import Outcome, Solver
from ..judging import finished
from ..kernels.ces_weights import ces_weights
from ..kernels.params import AT_LEAST_ONE, FRACTION


def gamspy_module():
    """GAMSPy, or None where it is not installed. One of the three steps `environment_problem`
    composes (with `probe_path` and `read_licence`), public so that a test can stand in for a
    machine with or without a working GAMS."""
    try:
        import gamspy
    except ImportError:
        return None
    logging.getLogger("MODEL").setLevel(logging.ERROR)    # its interrupt warnings: the status says it
    return gamspy


LICENCE_HELP = ("install a licence with `gamspy install license ACCESS_CODE_OR_FILE`, "
                "or leave path-mcp out: no other solver needs GAMS")


def licence_expiry(lines: list[str]) -> datetime.date | None:
    """The expiry date of a time-limited GAMS licence from its text lines, or None for a
    licence without one (or text that is not a licence). The layout is GAMSPy's own reading
    (`gamspy show license`, gamspy_cli/show.py): the licence's date as yymmdd at columns
    48-54 of line 1, its evaluation period in months (base 62, one letter) in line 4,
    time-limited when that field starts with 0; GAMS counts a month as 30 days and keeps
    such a licence working for 30 days after the period."""
    try:
        field = lines[3][0:2]
        if len(field) != 2 or field[0] != "0":
            return None
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        months = digits.index(field[1])
        issued = datetime.datetime.strptime(lines[0][48:54], "%y%m%d").date()
    except (IndexError, ValueError):
        return None
    return issued + datetime.timedelta(days=(months + 1) * 30) if months > 0 else None


def read_licence() -> tuple[str, list[str]] | None:
    """(path, lines) of the licence GAMSPy uses, or None where it cannot be read. The path
    comes from GAMSPy's public command `gamspy show license` (its line after "License found
    at:"); asked only once the probe has failed, to explain why."""
    try:
        shown = subprocess.run([sys.executable, "-m", "gamspy", "show", "license"], capture_output=True,
                               text=True, timeout=60).stdout.splitlines()
        path = shown[[line.strip() for line in shown].index("License found at:") + 1].strip()
        return path, [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    except Exception:  # a missing or unreadable licence only makes the explanation shorter
        return None


def probe_path(gp) -> None:
    """Solve x >= 1 complementary to x >= 0 with PATH; raises where GAMS cannot."""
    c = gp.Container()
    x = gp.Variable(c, "x", type="positive")
    floor = gp.Equation(c, "floor")
    floor[...] = x - 1 >= 0
    gp.Model(c, "probe", problem=gp.Problem.MCP, matches={floor: x}).solve(solver="PATH")
    level = float(x.records["level"].iloc[0])
    if abs(level - 1.0) > 1e-6:
        raise RuntimeError(f"PATH solved x >= 1 with x = {level:g}")


def environment_problem(today: datetime.date | None = None) -> str | None:
    """Why PATH cannot run here (GAMSPy missing, the licence expired, GAMS failing), or None."""
    gp = gamspy_module()
    if gp is None:
        return "GAMSPy is not installed: pip install 'gebench[gams]'"
    try:
        probe_path(gp)
        return None
    except Exception as exc:  # why GAMS fails is the answer
        failure = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    licence = read_licence()
    expiry = licence_expiry(licence[1]) if licence else None
    if expiry is not None and expiry < (today or datetime.date.today()):
        which = ("GAMSPy's time-limited demo licence" if "gamspy_base" in Path(licence[0]).parts
                 else f"the GAMS licence {licence[0]}")
        return f"{which} expired on {expiry.isoformat()}: {LICENCE_HELP}"
    return f"GAMS cannot solve a one-variable model with PATH ({failure}): {LICENCE_HELP}"


class PathMCP(Solver):
    """Exchange and Fisher markets with Cobb-Douglas, CES and Leontief agents as an MCP, by PATH."""

    name = "path-mcp"
    models = frozenset({"fisher", "exchange"})
    utilities = frozenset({"cobb-douglas", "ces", "leontief"})
    exact = False
    parameters = {"max_rows": 1000, "floor": 1e-10}
    rules = {"max_rows": AT_LEAST_ONE, "floor": FRACTION}

    def skip(self, economy: Economy) -> str | None:
        reason = super().skip(economy)
        if reason is not None:
            return reason
        rows = 2 * economy.n_agents + economy.n_goods + 1
        if rows > self.params["max_rows"]:
            return (f"the model has {rows} rows (2 agents + goods + 1), over the {self.params['max_rows']} "
                    "that GAMSPy's free licence solves")
        return None

    @classmethod
    def check_environment(cls) -> str | None:
        return environment_problem()

    def warm_up(self) -> None:
        if self.unavailable():
            return
        from gebench.markets import make_economy
        a = np.array([[1.0, 2.0], [2.0, 1.0]])
        for owned in ({"endowment": np.eye(2)}, {"budget": np.ones(2)}):   # the first solves are slow
            tiny = make_economy("fisher" if "budget" in owned else "exchange", ["cobb-douglas", "ces"], a,
                                rho=0.5, **owned)
            self.run(tiny, 1e-6, time.perf_counter() + 60.0, 0)

    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        gp = gamspy_module()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return Outcome("timeout", message="the deadline passed before the model was built")
        n, m = economy.n_agents, economy.n_goods
        sigma, weights = _elasticities(economy)
        supply = economy.total_supply
        c = gp.Container()     # GAMS names are case-blind: every symbol has its own word
        i = gp.Set(c, "i", records=[f"a{k}" for k in range(n)])
        j = gp.Set(c, "j", records=[f"g{k}" for k in range(m)])
        k = gp.Alias(c, "k", j)
        W = gp.Parameter(c, "weight", domain=[i, j], records=weights)
        s = gp.Parameter(c, "elasticity", domain=i, records=sigma)
        w = gp.Parameter(c, "supply", domain=j, records=supply)
        p = gp.Variable(c, "p", domain=j, type="positive")
        D = gp.Variable(c, "unitcost", domain=i)
        b = gp.Variable(c, "income", domain=i)
        p.lo[j] = self.params["floor"]
        p.l[j] = 1.0
        slack = gp.Variable(c, "slack")
        D.l[i] = gp.Sum(k, W[i, k])
        cost = gp.Equation(c, "cost", domain=i)
        cost[i] = D[i] == gp.Sum(k.where[W[i, k] > 0], W[i, k] * p[k] ** (1 - s[i]))
        earn = gp.Equation(c, "earnings", domain=i)
        if economy.model == "exchange":
            E = gp.Parameter(c, "endowment", domain=[i, j], records=np.asarray(economy.endowment))
            b.l[i] = gp.Sum(k, E[i, k])
            earn[i] = b[i] == gp.Sum(k, E[i, k] * p[k])
        else:
            share = gp.Parameter(c, "share", domain=i, records=economy.budget / economy.budget.sum())
            b.l[i] = share[i] * gp.Sum(k, w[k])
            earn[i] = b[i] == share[i] * gp.Sum(k, w[k] * p[k])
        market = gp.Equation(c, "market", domain=j)
        market[j] = w[j] + slack >= gp.Sum(i.where[W[i, j] > 0], b[i] * W[i, j] * p[j] ** (-s[i]) / D[i])
        norm = gp.Equation(c, "norm")
        norm[...] = gp.Sum(j, p[j]) == gp.Card(j)
        model = gp.Model(c, "exchange", problem=gp.Problem.MCP,
                         matches={cost: D, earn: b, market: p, norm: slack})
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return Outcome("timeout", message="the deadline passed while building the model")
        try:
            model.solve(solver="PATH", options=gp.Options(time_limit=remaining),
                        solver_options={"convergence_tolerance": min(1e-8, tol / 100)})
        except Exception as exc:  # a licence limit or a GAMS failure is this run's answer
            late = time.perf_counter() >= deadline
            return Outcome("timeout" if late else "failed", message=f"GAMSPy: {type(exc).__name__}: {exc}")
        status = f"PATH: {model.solve_status.name}, {model.status.name}"
        levels = p.records.set_index("j")["level"] if p.records is not None else None
        if levels is None:
            return Outcome("failed", message=status)
        # PATH meets bounds to its own tolerance: a level of -1e-11 is a price of 0
        prices = np.maximum(np.array([levels.get(f"g{q}", 0.0) for q in range(m)], dtype=np.float64), 0.0)
        iterations = int(model.num_iterations or 0)
        if not np.all(np.isfinite(prices)) or prices.sum() <= 0:
            return Outcome("failed", iterations=iterations, message=status + ": no finite prices")
        prices = prices / prices.sum()
        allocation = demand(economy, prices, economy.incomes(prices))
        stopped = {"ResourceInterrupt": "timeout", "IterationInterrupt": "max_iter"}.get(model.solve_status.name)
        if stopped is not None:
            return Outcome(stopped, prices, allocation, iterations, message=status)
        return finished(economy, tol, prices, allocation, iterations, status)


def _elasticities(economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """(sigma_i, W) of the unified demand formula, per agent's family; CES rows take the
    weights tatonnement uses, (a_ij / max_k a_ik)^sigma_i (scaling a row leaves its demand
    unchanged)."""
    a, kinds = economy.a, economy.kinds
    weights = ces_weights(kinds, a, economy.rho)
    sigma = np.where(kinds == CES, 1.0 / (1.0 - economy.rho), 0.0)
    cobb_douglas, leontief = kinds == COBB_DOUGLAS, kinds == LEONTIEF
    sigma[cobb_douglas] = 1.0
    weights[cobb_douglas] = a[cobb_douglas] / a[cobb_douglas].sum(axis=1, keepdims=True)
    weights[leontief] = a[leontief]
    return sigma, weights
