"""Entry-point discovery shared by the registries of families (`gebench.markets.families`) and
solvers (`gebench.solvers.registry`): gebench's own entry points load first, so that a plugin
can never take a built-in's name, and a plugin that fails to load is an error line, never an
exception."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint


def discover(eps: Iterable[EntryPoint], load: Callable[[EntryPoint], tuple[str, object]],
             taken: Callable[[str, object, str], str]) -> tuple[dict, dict[str, str], tuple[str, ...]]:
    """(objects by name, sorted; the distribution each came from; one line per entry point of
    `eps` (one group's) that failed to load or whose name was taken).

    `load(ep)` returns (name, object) or raises, saying why the entry point is not one;
    `taken(name, holder, origin)` says who already holds a name, for the refusal's line."""
    found, origins, errors = {}, {}, []
    for ep in sorted(eps, key=lambda ep: (ep.dist is None or ep.dist.name != "gebench",)):
        dist = ep.dist.name if ep.dist else "?"
        try:
            name, obj = load(ep)
        except Exception as exc:  # a broken plugin must not take the others down
            errors.append(f"{ep.name} (from {dist}): {type(exc).__name__}: {exc}")
            continue
        if name in found:
            errors.append(f"{ep.name} (from {dist}): refused, {taken(name, found[name], origins[name])}")
            continue
        found[name], origins[name] = obj, dist
    return dict(sorted(found.items())), origins, tuple(errors)
