"""Producers of an Arrow-Debreu economy: constant returns to scale (docs/format.md, "Production").

A producer is one technology run at a level y >= 0:
- an `activity` (Koopmans 1951; Scarf and Hansen, "The Computation of Economic Equilibria",
  1973, ch. 5): y times a fixed vector of net outputs (negative entries are inputs);
- a `ces`, `cobb-douglas` or `leontief` technology making y units of one output good j from
  inputs x with phi f(x) >= y, f the CES aggregate (sum_k a_k x_k^r)^(1/r), the Cobb-Douglas
  prod_k x_k^(a_k / sum a) or the Leontief min_k x_k / a_k over the inputs with a_k > 0.

With constant returns the producer's whole behaviour at prices p is one unit plan: for an
activity its net outputs, for a technology one unit of output and the cost-minimising inputs
for it, found by Shephard's lemma from the unit cost c(p) / phi (Varian, "Microeconomic
Analysis", 3rd ed., 1992, ch. 6):
- CES: c(p) = (sum_k a_k^s p_k^(1-s))^(1/(1-s)), s = 1/(1-r), inputs a_k^s p_k^-s c^s;
- Cobb-Douglas: c(p) = prod_k (p_k / alpha_k)^alpha_k, inputs alpha_k c / p_k;
- Leontief: c(p) = sum_k a_k p_k, inputs a_k.
An input that is free and that the technology can use without bound has an unbounded
demand (infinite): the certificate then refuses any plan that runs that technology.
Profits are zero at an equilibrium, so consumers' incomes are the values of their endowments.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import EconomyError, count, type_problem

PRODUCER_TYPES = ("activity", "ces", "cobb-douglas", "leontief")


@dataclass(frozen=True, eq=False)
class Producer:
    """One constant-returns technology. `kind` is one of `PRODUCER_TYPES`; an activity has
    `net_output` (m numbers), a technology `output` (the good it makes), `scale` (phi > 0),
    `a` (m numbers >= 0, 0 on the output good) and, for CES, `rho`."""

    kind: str
    net_output: np.ndarray | None = None
    output: int | None = None
    scale: float = 1.0
    a: np.ndarray | None = None
    rho: float = math.nan

    def unit_plan(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gross outputs, inputs) of one unit of the level at prices p, each (m,) >= 0; an
        input is +inf where the technology would use a free input without bound."""
        out, inputs, _, _ = Technologies((self,), len(p)).unit_plans(p)
        return out[0], inputs[0]

    def unit_values(self, p: np.ndarray) -> tuple[float, float]:
        """(value of the gross outputs, cost of the inputs) of one unit of the level at p."""
        _, _, revenue, cost = Technologies((self,), len(p)).unit_plans(p)
        return float(revenue[0]), float(cost[0])


def unit_profit(producer: Producer, p: np.ndarray) -> float:
    """Profit per unit of the value of the output at p (see `relative_profits`)."""
    _, _, revenue, cost = Technologies((producer,), len(p)).unit_plans(p)
    return float(relative_profits(revenue, cost)[0])


def relative_profits(revenue: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(revenue - cost) / revenue per producer; 0 where both are 0, -1 where only the output
    is worthless (a loss, whatever its size)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(revenue > 0, (revenue - cost) / np.where(revenue > 0, revenue, 1.0),
                        np.where(cost == 0, 0.0, -1.0))


class Technologies:
    """All producers of an economy as arrays, so that every unit plan at p costs a few array
    operations: rows of net outputs (activities) and of input weights (technologies)."""

    def __init__(self, producers: tuple[Producer, ...], m: int):
        k = len(producers)
        kinds = np.array([PRODUCER_TYPES.index(p.kind) for p in producers], dtype=np.int64)
        self.activity = kinds == 0
        self.net = np.zeros((k, m))
        self.a = np.zeros((k, m))
        self.output = np.zeros(k, dtype=np.int64)
        self.scale = np.ones(k)
        self.rho = np.full(k, np.nan)
        for i, p in enumerate(producers):
            if p.kind == "activity":
                self.net[i] = p.net_output
            else:
                self.a[i], self.output[i], self.scale[i], self.rho[i] = p.a, p.output, p.scale, p.rho
        self.kind = kinds
        self.outputs = np.maximum(self.net, 0.0)
        self.outputs[~self.activity, self.output[~self.activity]] = 1.0
        self.ces, self.cobb_douglas, self.leontief = (kinds == PRODUCER_TYPES.index(t)
                                                      for t in ("ces", "cobb-douglas", "leontief"))
        self.used = self.a > 0
        with np.errstate(divide="ignore"):
            self.log_a = np.where(self.used, np.log(np.where(self.used, self.a, 1.0)), -np.inf)
        total = np.where(self.used, self.a, 0.0).sum(axis=1, keepdims=True)
        self.alpha = np.where(self.used, self.a / np.where(total > 0, total, 1.0), 0.0)

    def unit_plans(self, p: np.ndarray):
        """(gross outputs (k, m), inputs (k, m), revenue (k,), cost (k,)) of one unit of every
        producer's level at prices p; technologies' inputs are cost-minimising (Shephard)."""
        inputs = np.maximum(-self.net, 0.0)
        cost = inputs @ p
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_p = np.log(p)
            free = self.used & (p[None, :] <= 0)
            if self.leontief.any():
                rows = self.leontief
                inputs[rows] = self.a[rows]
                cost[rows] = self.a[rows] @ p
            if self.cobb_douglas.any():
                rows = self.cobb_douglas
                alpha = self.alpha[rows]
                log_c = np.where(self.used[rows], alpha * (log_p[None, :] - np.log(np.where(alpha > 0, alpha, 1.0))),
                                 0.0).sum(axis=1)
                c = np.where(free[rows].any(axis=1), 0.0, np.exp(log_c))
                inputs[rows] = np.where(self.used[rows], np.where(free[rows], np.inf, alpha * c[:, None] / p[None, :]),
                                        0.0)
                cost[rows] = c
            if self.ces.any():
                rows = self.ces
                s = 1.0 / (1.0 - self.rho[rows])[:, None]
                terms = np.where(self.used[rows], np.exp(s * self.log_a[rows] + (1.0 - s) * log_p[None, :]), 0.0)
                total = terms.sum(axis=1)
                c = np.where(np.isinf(total), 0.0, total ** (1.0 / (1.0 - s[:, 0])))   # a free substitute costs 0
                x = np.exp(s * (self.log_a[rows] - log_p[None, :] + np.log(c)[:, None]))
                inputs[rows] = np.where(self.used[rows], np.where(free[rows], np.inf, x), 0.0)
                cost[rows] = c
        technology = ~self.activity
        inputs[technology] /= self.scale[technology, None]
        cost = np.where(technology, cost / self.scale, cost)
        return self.outputs, inputs, self.outputs @ p, cost


def check_producers(producers, m: int) -> tuple[Producer, ...]:
    """Validated, read-only copies of the producers of an economy with m goods; the first
    broken rule raises `EconomyError` naming the producer and the field."""
    checked = []
    for k, producer in enumerate(producers):
        where = f"producer {k}"
        if not isinstance(producer, Producer):
            raise EconomyError(f"{where}: expected a Producer")
        if producer.kind not in PRODUCER_TYPES:
            raise EconomyError(f"{where}: type: {type_problem(producer.kind, PRODUCER_TYPES)}")
        if producer.kind == "activity":
            net = _vector(producer.net_output, m, f"{where}: net_output", signed=True)
            if not np.any(net > 0):
                raise EconomyError(f"{where}: net_output: has no output (no positive entry)")
            if not np.any(net < 0):
                raise EconomyError(f"{where}: net_output: has no input (no negative entry): it would make "
                                   "something from nothing at any level")
            checked.append(Producer("activity", net_output=net))
            continue
        j = producer.output
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < m:
            raise EconomyError(f"{where}: output: expected a good index in 0..{m - 1}, got {j!r}")
        scale = producer.scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (math.isfinite(scale) and scale > 0):
            raise EconomyError(f"{where}: scale: must be a finite number > 0, got {scale!r}")
        a = _vector(producer.a, m, f"{where}: a", signed=False)
        if not np.any(a > 0):
            raise EconomyError(f"{where}: a: must not be all zero (a technology needs an input)")
        if a[j] > 0:
            raise EconomyError(f"{where}: a[{j}]: the output good cannot also be an input (give 0)")
        rho = math.nan
        if producer.kind == "ces":
            rho = producer.rho
            if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho < 1 and abs(rho) >= 1e-6):
                raise EconomyError(f"{where}: rho: must be finite, < 1 and |rho| >= 1e-6, got {rho!r}")
        checked.append(Producer(producer.kind, output=int(j), scale=float(scale), a=a, rho=float(rho)))
    return tuple(checked)


def _vector(values, m: int, where: str, signed: bool) -> np.ndarray:
    try:
        v = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise EconomyError(f"{where}: expected {count(m, 'number')}") from None
    if v.shape != (m,):
        raise EconomyError(f"{where}: expected {count(m, 'number')}, got shape {v.shape}")
    bad = np.flatnonzero(~np.isfinite(v) | ((v < 0) & (not signed)))
    if bad.size:
        rule = "a finite number" if signed else "a finite number >= 0"
        raise EconomyError(f"{where}[{bad[0]}]: must be {rule}, got {v[bad[0]]}")
    v.setflags(write=False)
    return v


def produced(producers: tuple[Producer, ...], m: int) -> np.ndarray:
    """(m,) bool: the goods some producer can make."""
    made = np.zeros(m, dtype=bool)
    for producer in producers:
        if producer.kind == "activity":
            made |= producer.net_output > 0
        else:
            made[producer.output] = True
    return made


def production_plan(producers: tuple[Producer, ...], p: np.ndarray,
                    levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gross outputs, inputs), each (m,), of all producers run at `levels` at prices p; an
    input is inf where a technology run at a positive level would use a free input without bound."""
    return plan_at(Technologies(producers, len(p)), p, levels)


def plan_at(technologies: Technologies, p: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`production_plan` with the producers' arrays built once."""
    out, inputs, _, _ = technologies.unit_plans(p)
    return plan_of(out, inputs, levels)


def plan_of(out: np.ndarray, inputs: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gross outputs, inputs), each (m,), of unit plans (`Technologies.unit_plans`) run at
    `levels`; producers at level 0 add nothing, even an input of inf."""
    run = np.asarray(levels) > 0
    y = np.asarray(levels, dtype=np.float64)[run]
    return y @ out[run], y @ inputs[run]
