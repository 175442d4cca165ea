"""Random economy families, seeded and reproducible.

The same (family, agents, goods, seed, density, rho) gives the same economy on
any machine: numpy's PCG64 stream is platform independent, and the seed is
mixed with the family name by a stable hash, not Python's salted `hash`.

>>> from markets.generators import generate
>>> e = generate("fisher-linear", agents=3, goods=2, seed=7)
>>> e.n_agents, e.n_goods, e.model
(3, 2, 'fisher')
>>> bool((generate("fisher-linear", agents=3, goods=2, seed=7).a == e.a).all())
True
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .economy import UTILITY_CODES, Economy
from .errors import InputError


def stable_seed(*parts) -> int:
    """A 63-bit seed from names and numbers, the same in every process and on every machine."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def sparsity_pattern(rng: np.random.Generator, n: int, m: int, density: float) -> np.ndarray:
    """(n, m) boolean: each agent wants round(density * m) goods (at least one), every good is wanted."""
    k = min(m, max(1, int(round(density * m))))
    mask = np.zeros((n, m), dtype=bool)
    if k == m:
        mask[:] = True
        return mask
    for i in range(n):
        mask[i, rng.choice(m, size=k, replace=False)] = True
    for j in np.flatnonzero(~mask.any(axis=0)):
        mask[rng.integers(n), j] = True
    return mask


@dataclass(frozen=True)
class RandomFamily:
    """A random family: the market model and one utility family for every agent."""

    model: str
    utility: str
    default_rho: float | None = None

    def __call__(self, agents: int, goods: int, seed: int, density: float = 1.0,
                 rho: float | None = None, name: str | None = None) -> Economy:
        if agents < 1 or goods < 1:
            raise InputError(f"agents, goods: must be >= 1, got {agents}, {goods}")
        if not 0 < density <= 1:
            raise InputError(f"density: must be in (0, 1], got {density}")
        if rho is not None and self.utility != "ces":
            raise InputError(f"rho: only CES families take rho, not {self.utility}")
        if self.utility == "ces":
            rho = self.default_rho if rho is None else float(rho)
            if not (rho < 1 and rho != 0):
                raise InputError(f"rho: must be < 1 and != 0, got {rho}")
        rng = np.random.default_rng(stable_seed(name, agents, goods, seed, density))
        mask = sparsity_pattern(rng, agents, goods, density)
        a = np.where(mask, 1.0 - rng.random((agents, goods)), 0.0)   # uniform on (0, 1]
        kinds = np.full(agents, UTILITY_CODES[self.utility])
        rho_arr = np.full(agents, rho if self.utility == "ces" else np.nan)
        meta = {"family": name, "agents": agents, "goods": goods, "seed": seed, "density": density}
        if self.utility == "ces":
            meta["rho"] = rho
        if self.model == "exchange":
            endowment = 1.0 - rng.random((agents, goods))
            return Economy("exchange", kinds, a, rho_arr, endowment=endowment, name=name, meta=meta)
        budget = 1.0 + rng.random(agents)
        return Economy("fisher", kinds, a, rho_arr, budget=budget, name=name, meta=meta)


FAMILIES: dict[str, RandomFamily] = {
    f"{model}-{utility}": RandomFamily(model, utility, 0.5 if utility == "ces" else None)
    for model in ("fisher", "exchange")
    for utility in ("linear", "cobb-douglas", "ces", "leontief")
}


def generate(family: str, agents: int, goods: int, seed: int = 0, density: float = 1.0,
             rho: float | None = None) -> Economy:
    """A random economy of a named family (see `FAMILIES`)."""
    if family not in FAMILIES:
        raise InputError(f"family: unknown {family!r}; known: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[family](agents, goods, seed, density, rho, name=family)
