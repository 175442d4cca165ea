"""The family registry: every economy family, built-in or plugin, comes from the entry-point
group ``gebench.families``, as solvers come from ``gebench.solvers``
(`gebench.solvers.registry`). An entry point's name is the family's name and its object the
family (`gebench.markets.generators.RandomFamily`, `GameFamily`, or anything with their
`build`, `shape`, `size_name`, `is_game` and `deterministic`, and, sized by agents and
goods, RandomFamily's call). A plugin that fails to load
is recorded in `load_errors`, never raised. This module belongs to the markets layer: it
imports neither the harness nor the solvers.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points

from .errors import InputError
from .plugins import discover

GROUP = "gebench.families"
SIZE_NAMES = ("agents", "d")


def _check(family, value: str) -> None:
    """Refuse an object that is not a family, naming what it lacks."""
    for attr in ("build", "shape"):
        if not callable(getattr(family, attr, None)):
            raise TypeError(f"{value} is not an economy family (it has no {attr}())")
    if getattr(family, "size_name", None) not in SIZE_NAMES:
        raise TypeError(f"{value} is not an economy family (its size_name is not one of {', '.join(SIZE_NAMES)})")
    for attr in ("is_game", "deterministic"):
        if not isinstance(getattr(family, attr, None), bool):
            raise TypeError(f"{value} is not an economy family (its {attr} is not true or false)")
    if not family.is_game and not callable(family):
        raise TypeError(f"{value} is not an economy family (a family sized by agents and goods is called "
                        "as family(agents, goods, seed, density, rho, name=..., sparse=...))")


def _load(ep) -> tuple[str, object]:
    family = ep.load()
    _check(family, ep.value)
    return ep.name, family


@functools.cache
def _discover() -> tuple[dict, dict[str, str], tuple[str, ...]]:
    return discover(entry_points(group=GROUP), _load,
                    lambda name, holder, origin: f"the name is already taken (from {origin})")


def rediscover() -> None:
    """Read the entry points again on the next look-up: after a family's distribution was
    installed (or its entry points changed) in this process."""
    _discover.cache_clear()


def available() -> dict:
    """Registered families by name."""
    return dict(_discover()[0])


def origin(name: str) -> str:
    """The distribution a family came from."""
    return _discover()[1][name]


def load_errors() -> tuple[str, ...]:
    """One line per plugin family that failed to load."""
    return _discover()[2]


def get(name: str):
    """The family `name`; `InputError` naming the registered ones when there is none."""
    families = available()
    if name not in families:
        known = ", ".join(families) or "none (is gebench installed? pip install -e .)"
        raise InputError(f"family: unknown {name!r}; known: {known}")
    return families[name]


class Families(Mapping):
    """The registered families as a read-only mapping, name -> family, discovered on first use
    (`gebench.markets.generators.FAMILIES`)."""

    def __getitem__(self, name: str):
        return _discover()[0][name]

    def __iter__(self) -> Iterator[str]:
        return iter(_discover()[0])

    def __len__(self) -> int:
        return len(_discover()[0])

    def __repr__(self) -> str:
        return f"Families({', '.join(self)})"
