"""The solver registry: every solver, built-in or plugin, comes from the entry-point group
``gebench.solvers``. A plugin that fails to load is recorded in `load_errors`, never raised.
"""
from __future__ import annotations

import ast
import functools
from importlib.metadata import entry_points

from markets import InputError

from .base import Solver

GROUP = "gebench.solvers"


@functools.cache
def _discover() -> tuple[dict[str, type[Solver]], dict[str, str], tuple[str, ...]]:
    solvers, origins, errors = {}, {}, []
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else "?"
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Solver) and cls.name):
                raise TypeError(f"{ep.value} is not a named Solver subclass")
        except Exception as exc:  # a broken plugin must not take the others down
            errors.append(f"{ep.name} (from {dist}): {type(exc).__name__}: {exc}")
            continue
        if cls.name in solvers:
            errors.append(f"{ep.name} (from {dist}): name {cls.name!r} already registered by {origins[cls.name]}")
            continue
        solvers[cls.name], origins[cls.name] = cls, dist
    return dict(sorted(solvers.items())), origins, tuple(errors)


def available() -> dict[str, type[Solver]]:
    """Registered solvers by name."""
    return dict(_discover()[0])


def origin(name: str) -> str:
    """The distribution a solver came from."""
    return _discover()[1][name]


def load_errors() -> tuple[str, ...]:
    """One line per plugin that failed to load."""
    return _discover()[2]


def get(name: str) -> type[Solver]:
    solvers = available()
    if name not in solvers:
        known = ", ".join(solvers) or "none (is gebench installed? pip install -e .)"
        raise InputError(f"solver: unknown {name!r}; registered: {known}")
    return solvers[name]


def create(spec: str) -> Solver:
    """A solver instance from ``name`` or ``name[param=value,...]`` (values are Python literals)."""
    name, params = spec, {}
    if spec.endswith("]") and "[" in spec:
        name, _, inner = spec[:-1].partition("[")
        for item in filter(None, (s.strip() for s in inner.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise InputError(f"solver: expected param=value in {spec!r}, got {item!r}")
            try:
                params[key.strip()] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                params[key.strip()] = value.strip()
    return get(name)(**params)
