"""Declared solver parameters, checked by type and range before anything runs.

A solver declares each parameter's default in `Solver.parameters`; the default's
type is the parameter's type (a float parameter also takes an integer, nothing
takes a boolean unless its default is one). `Solver.rules` may add a range or a
set of choices per parameter. `check_params` applies both, so that
``tatonnement[step=-1]`` or ``linear-exchange-cp[spread=-8]`` is refused with one
line naming the solver, the parameter, the value and what is allowed, instead of
giving a traceback or a wrong answer later.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from gebench.markets import InputError


@dataclass(frozen=True)
class Range:
    """low <= value <= high (or strictly, with `open_low` / `open_high`); None: unbounded."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def allows(self, value) -> bool:
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.open_high else value > self.high))

    def __str__(self) -> str:
        low = "" if self.low is None else f"{self.low:g} {'<' if self.open_low else '<='} "
        high = "" if self.high is None else f" {'<' if self.open_high else '<='} {self.high:g}"
        return f"{low}value{high}"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values."""

    values: tuple

    def allows(self, value) -> bool:
        return value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Either:
    """A value one of two rules allows, of any type: a label or "all", say."""

    first: Range | Choice
    second: Range | Choice

    def allows(self, value) -> bool:
        return any(_allows(rule, value) for rule in (self.first, self.second))

    def __str__(self) -> str:
        return f"{self.first} or {self.second}"


def _allows(rule, value) -> bool:
    if isinstance(rule, Range) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return False
    return rule.allows(value)


POSITIVE = Range(0, None, open_low=True)
AT_LEAST_ONE = Range(1)
FRACTION = Range(0, 1, open_low=True, open_high=True)

_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _type_ok(default, value) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        try:
            return isinstance(value, (int, float)) and math.isfinite(value)
        except OverflowError:     # an integer beyond every float
            return False
    if isinstance(default, int):
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 2**53)
    return isinstance(value, type(default))


def check_params(solver: str, declared: dict, rules: dict, given: dict) -> dict:
    """The merged parameters, or `InputError` for an unknown name, a wrong type or a value
    out of its declared range; integral floats given for an integer parameter become ints."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InputError(f"{solver}: unknown parameter {unknown[0]!r}; known: {', '.join(sorted(declared)) or 'none'}")
    merged = dict(declared)
    for key, value in given.items():
        default = declared[key]
        rule = rules.get(key)
        if isinstance(rule, Either):      # its own rules say which types it takes
            if not rule.allows(value):
                raise InputError(f"{solver}: parameter {key}={value!r}: must be {rule}")
            merged[key] = value
            continue
        if default is not None and not _type_ok(default, value):
            raise InputError(f"{solver}: parameter {key}={value!r}: expected "
                             f"{_TYPE_NAMES.get(type(default), type(default).__name__)}"
                             f"{' (finite)' if isinstance(default, float) else ''}")
        if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float):
            value = int(value)
        if rule is not None and not rule.allows(value):
            raise InputError(f"{solver}: parameter {key}={value!r}: must be {rule}")
        merged[key] = value
    return merged
