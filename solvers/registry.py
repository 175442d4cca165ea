"""The solver registry: every solver, built-in or plugin, comes from the entry-point group
``gebench.solvers``. A plugin that fails to load is recorded in `load_errors`, never raised.
For quick experiments a solver can also come from a file, ``path/to/my_solver.py:MySolver``.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path

from gebench.markets import InputError
from gebench.markets.plugins import discover

from .base import Solver

GROUP = "gebench.solvers"


def _load(ep) -> tuple[str, type[Solver]]:
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Solver) and cls.name):
        raise TypeError(f"{ep.value} is not a named Solver subclass")
    return cls.name, cls


def _taken(name: str, holder: type[Solver], origin: str) -> str:
    return f"its name {name!r} is already taken by {holder.__module__}.{holder.__qualname__} (from {origin})"


@functools.cache
def _discover() -> tuple[dict[str, type[Solver]], dict[str, str], tuple[str, ...]]:
    return discover(entry_points(group=GROUP), _load, _taken)


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


def from_file(path: str, class_name: str) -> type[Solver]:
    """The Solver subclass `class_name` defined in the Python file at `path`.

    The module is registered under a name derived from the file's absolute path, and the
    class remembers where it came from, so that its instances pickle by that path and a
    worker process (or a dask worker that sees the same file) loads the file again."""
    where = Path(path).resolve()
    if where.suffix != ".py" or not where.is_file():
        raise InputError(f"solver: no Python file {path!r} (expected path/to/file.py:ClassName)")
    module_name = "gebench_file_" + hashlib.blake2b(str(where).encode(), digest_size=6).hexdigest()
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, where)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise InputError(f"solver: {path}: failed to import: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Solver) and cls.name and cls.__module__ == module_name):
        raise InputError(f"solver: {path}: {class_name!r} is not a named Solver subclass defined there")
    taken = available().get(cls.name)
    if taken is not None:
        raise InputError(f"solver: {path}:{class_name} is named {cls.name!r}, which is taken by "
                         f"{taken.__module__}.{taken.__qualname__} (from {origin(cls.name)}); "
                         "give it a name of its own")
    cls._source_file = (str(where), class_name)
    cls.__reduce_ex__ = _reduce_by_path
    return cls


def _reduce_by_path(solver: Solver, protocol):
    """Pickle an instance of a class loaded from a file by that file's path and the class name,
    so that a worker process (or a dask worker that sees the same file) loads the file again."""
    return rebuild, (*type(solver)._source_file, dict(solver.__dict__))


def rebuild(path: str, class_name: str, state: dict) -> Solver:
    """Unpickle an instance of a solver loaded from a file (see `Solver.__reduce_ex__`)."""
    cls = from_file(path, class_name)
    solver = cls.__new__(cls)
    solver.__dict__.update(state)
    return solver


ALIAS = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def create(spec: str) -> Solver:
    """A solver instance from ``name`` or ``name[param=value,...]`` (values are Python literals);
    the name may be ``path/to/file.py:ClassName`` for a solver that is not installed.
    ``spec as NAME`` renames the instance, so that one sweep can run a solver with several
    settings side by side (``tatonnement[step=0.1] as tatonnement-0.1``): records, plots and
    tables key runs by that name."""
    spec, alias = _split_alias(spec)
    solver = _create(spec)
    if alias is not None:
        if alias in available() and alias != solver.name:
            raise InputError(f"solver: {spec!r} cannot be renamed {alias!r}: a registered solver has that name")
        solver.name = alias
    return solver


def _split_alias(spec: str) -> tuple[str, str | None]:
    head, sep, alias = spec.rpartition(" as ")
    if not sep:
        return spec, None
    alias = alias.strip()
    if not ALIAS.fullmatch(alias):
        raise InputError(f"solver: {alias!r} in {spec!r} is not a name: lower-case letters, digits, '.', '_', '-'")
    return head.strip(), alias


def _create(spec: str) -> Solver:
    name, params = spec, {}
    if spec.endswith("]") and "[" in spec:
        name, _, inner = spec[:-1].partition("[")
        for item in filter(None, (s.strip() for s in inner.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise InputError(f"solver: expected param=value in {spec!r}, got {item!r}")
            if key.strip() in params:
                raise InputError(f"solver: {spec!r} sets {key.strip()} twice")
            try:
                params[key.strip()] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                params[key.strip()] = value.strip()
    if ".py:" in name:
        path, _, class_name = name.rpartition(":")
        return from_file(path, class_name)(**params)
    return get(name)(**params)


def describe() -> list[dict]:
    """One row per registered solver, as `gebench solvers` lists it: its name, whether it is
    exact, the models and utilities it takes, its parameters, the package it came from, and
    whether it can run here (with the reason when it cannot)."""
    return [{"name": name, "exact": cls.exact, "models": sorted(cls.models), "utilities": sorted(cls.utilities),
             "parameters": cls.parameters, "package": origin(name), "available": cls.unavailable() is None,
             "unavailable": cls.unavailable()} for name, cls in available().items()]
