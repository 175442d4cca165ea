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

from .errors import EconomyError

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

    @property
    def inputs(self) -> np.ndarray:
        """The goods the technology may use (bool, m)."""
        return self.net_output < 0 if self.kind == "activity" else self.a > 0

    def unit_plan(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gross outputs, inputs) of one unit of the level at prices p, each (m,) >= 0; an
        input is +inf where the technology would use a free input without bound."""
        if self.kind == "activity":
            return np.maximum(self.net_output, 0.0), np.maximum(-self.net_output, 0.0)
        out = np.zeros_like(p)
        out[self.output] = 1.0
        return out, _unit_inputs(self, p) / self.scale

    def unit_values(self, p: np.ndarray) -> tuple[float, float]:
        """(value of the gross outputs, cost of the inputs) of one unit of the level at p."""
        if self.kind == "activity":
            return float(p @ np.maximum(self.net_output, 0.0)), float(p @ np.maximum(-self.net_output, 0.0))
        return float(p[self.output]), _unit_cost(self, p) / self.scale


def unit_profit(producer: Producer, p: np.ndarray) -> float:
    """Profit per unit of the value of the output at p: (value - cost) / value, 0 where both
    are 0, -1 where only the output is worthless (a loss, whatever its size)."""
    value, cost = producer.unit_values(p)
    if value > 0:
        return (value - cost) / value
    return 0.0 if cost == 0 else -1.0


def _unit_cost(producer: Producer, p: np.ndarray) -> float:
    """c(p): the cost of inputs with f(x) = 1."""
    used = producer.a > 0
    a, q = producer.a[used], p[used]
    if producer.kind == "leontief":
        return float(a @ q)
    if producer.kind == "cobb-douglas":
        alpha = a / a.sum()
        if np.any(q == 0):
            return 0.0
        return float(np.exp(alpha @ (np.log(q) - np.log(alpha))))
    s = 1.0 / (1.0 - producer.rho)
    with np.errstate(divide="ignore"):
        terms = np.exp(s * np.log(a) + (1.0 - s) * np.log(q))        # a^s q^(1-s), inf at q = 0 if s > 1
    total = terms.sum()
    if math.isinf(total):
        return 0.0                                                   # a free substitute: no cost
    return float(total ** (1.0 / (1.0 - s)))


def _unit_inputs(producer: Producer, p: np.ndarray) -> np.ndarray:
    """The cost-minimising inputs with f(x) = 1 (Shephard's lemma), inf for a free input
    used without bound."""
    used = producer.a > 0
    x = np.zeros_like(p)
    a, q = producer.a[used], p[used]
    if producer.kind == "leontief":
        x[used] = a
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        if producer.kind == "cobb-douglas":
            alpha = a / a.sum()
            c = _unit_cost(producer, p)
            x[used] = np.where(q > 0, alpha * c / q, np.inf)
            return x
        s = 1.0 / (1.0 - producer.rho)
        log_c = np.log(_unit_cost(producer, p))
        x[used] = np.where(q > 0, np.exp(s * (np.log(a) - np.log(q) + log_c)), np.inf)
    return x


def check_producers(producers, m: int) -> tuple[Producer, ...]:
    """Validated, read-only copies of the producers of an economy with m goods; the first
    broken rule raises `EconomyError` naming the producer and the field."""
    checked = []
    for k, producer in enumerate(producers):
        where = f"producer {k}"
        if not isinstance(producer, Producer):
            raise EconomyError(f"{where}: expected a Producer")
        if producer.kind not in PRODUCER_TYPES:
            raise EconomyError(f"{where}: type: unknown {producer.kind!r}; expected one of {list(PRODUCER_TYPES)}")
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
        raise EconomyError(f"{where}: expected {m} numbers") from None
    if v.shape != (m,):
        raise EconomyError(f"{where}: expected {m} numbers, got shape {v.shape}")
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


def production_plan(producers: tuple[Producer, ...], p: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gross outputs, inputs), each (m,), of all producers run at `levels` at prices p; an
    input is inf where a technology run at a positive level would use a free input without bound."""
    out = np.zeros_like(p)
    used = np.zeros_like(p)
    for producer, y in zip(producers, levels):
        if y > 0:
            o, i = producer.unit_plan(p)
            out += y * o
            used += y * i
    return out, used
