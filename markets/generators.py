"""Random economy families, seeded and reproducible.

The same (family, agents, goods, seed, density, rho) gives the same economy on
any machine: numpy's PCG64 stream is platform independent, and the seed is
mixed with the family name by a stable hash, not Python's salted `hash`.

>>> from gebench.markets.generators import generate
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
import scipy.sparse as sp

from .economy import UTILITY_CODES, Economy
from .errors import InputError
from .families import Families
from .families import get as get_family
from .games import hard_game, leontief_from_game, random_game, svs_game
from .production import Producer


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


def sparse_pattern(rng: np.random.Generator, n: int, m: int, density: float) -> sp.csr_array:
    """`sparsity_pattern` as a CSR matrix of ones, drawn in O(nonzeros) time and memory: each
    agent wants round(density * m) distinct goods (at least one), and a good nobody drew goes
    to one random agent. Patterns denser than a quarter are drawn densely."""
    k = min(m, max(1, int(round(density * m))))
    if 4 * k > m:
        return sp.csr_array(sparsity_pattern(rng, n, m, density).astype(np.float64))
    cols = np.sort(rng.integers(0, m, size=(n, k)), axis=1)
    while True:   # redraw repeats within a row; about k^2 / 2m of them per row
        repeat = np.zeros((n, k), dtype=bool)
        repeat[:, 1:] = cols[:, 1:] == cols[:, :-1]
        if not repeat.any():
            break
        cols[repeat] = rng.integers(0, m, size=int(repeat.sum()))
        cols.sort(axis=1)
    wanted = np.zeros(m, dtype=bool)
    wanted[cols.ravel()] = True
    missing = np.flatnonzero(~wanted)
    rows = np.concatenate([np.repeat(np.arange(n), k), rng.integers(n, size=missing.size)])
    cols = np.concatenate([cols.ravel(), missing])
    return sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, m))


def _draw_on(rng: np.random.Generator, pattern: sp.csr_array) -> sp.csr_array:
    """The pattern with uniform values on (0, 1] in place of its ones."""
    pattern = sp.csr_array(pattern)
    pattern.sort_indices()
    return sp.csr_array((1.0 - rng.random(pattern.nnz), pattern.indices, pattern.indptr), shape=pattern.shape)


@dataclass(frozen=True)
class RandomFamily:
    """A random family: the market model and one utility family for every agent.
    Its size is the number of agents; goods = round(goods_per_agent * agents)."""

    model: str
    utility: str
    default_rho: float | None = None
    max_rho: float = 1.0          # CES families take rho < max_rho (complements: <= -1)
    size_name = "agents"
    is_game = False
    deterministic = False         # every seed draws another economy

    @staticmethod
    def shape(size: int, goods_per_agent: float = 1.0) -> tuple[int, int]:
        """(agents, goods) of the economy of this size."""
        return size, max(1, round(goods_per_agent * size))

    def build(self, size: int, seed: int, goods_per_agent: float = 1.0, density: float = 1.0,
              rho: float | None = None, name: str | None = None, sparse: bool = False) -> Economy:
        return self(size, max(1, round(goods_per_agent * size)), seed, density, rho, name, sparse)

    def __call__(self, agents: int, goods: int, seed: int, density: float = 1.0,
                 rho: float | None = None, name: str | None = None, sparse: bool = False) -> Economy:
        """The economy of these sizes; `sparse` draws it as CSR matrices in O(nonzeros), and
        exchange endowments then get a sparse pattern of the same density (its own draw)."""
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
            if self.max_rho < 1 and not rho <= self.max_rho:
                raise InputError(f"rho: {name} needs rho <= {self.max_rho:g}, got {rho}")
        if sparse:
            rng = np.random.default_rng(stable_seed(name, agents, goods, seed, density, "csr"))
            a = _draw_on(rng, sparse_pattern(rng, agents, goods, density))
        else:
            rng = np.random.default_rng(stable_seed(name, agents, goods, seed, density))
            mask = sparsity_pattern(rng, agents, goods, density)
            a = np.where(mask, 1.0 - rng.random((agents, goods)), 0.0)   # uniform on (0, 1]
        kinds = np.full(agents, UTILITY_CODES[self.utility])
        rho_arr = np.full(agents, rho if self.utility == "ces" else np.nan)
        meta = {"family": name, "agents": agents, "goods": goods, "seed": seed, "density": density}
        if sparse:
            meta["sparse"] = True
        if self.utility == "ces":
            meta["rho"] = rho
        if self.model == "exchange":
            if sparse:
                endowment = _draw_on(rng, sparse_pattern(rng, agents, goods, density))
            else:
                endowment = 1.0 - rng.random((agents, goods))
            return Economy("exchange", kinds, a, rho_arr, endowment=endowment, name=name, meta=meta)
        budget = 1.0 + rng.random(agents)
        return Economy("fisher", kinds, a, rho_arr, budget=budget, name=name, meta=meta)


@dataclass(frozen=True)
class ProductionFamily(RandomFamily):
    """Random Arrow-Debreu economies with constant-returns producers. Of the m goods the first
    ceil(m / 2) are factors, which only consumers own (each holds a random amount of each
    factor its pattern gives it, density `density`); the others are made by producers. The
    consumers have Cobb-Douglas utilities over all goods (pattern of the same density, every
    good wanted by someone, so every price is positive at an equilibrium). Each produced good j
    is made from one to three factors and, with probability 1/2, one produced good of a lower
    index (so the input-output structure is acyclic and the economy productive):
    - `technology` "activity": by two alternative activities, of which at an equilibrium
      typically one breaks even and the other loses (level 0);
    - `technology` "ces": by one CES technology of exponent `rho` (default 0.5).
    Every produced good is wanted, so its producer runs: the equilibrium is interior in prices
    and levels."""

    technology: str = "activity"

    def __call__(self, agents: int, goods: int, seed: int, density: float = 1.0,
                 rho: float | None = None, name: str | None = None, sparse: bool = False) -> Economy:
        if agents < 1 or goods < 2:
            raise InputError(f"agents, goods: a production economy needs >= 1 agent and >= 2 goods, "
                             f"got {agents}, {goods}")
        if not 0 < density <= 1:
            raise InputError(f"density: must be in (0, 1], got {density}")
        if sparse:
            raise InputError(f"sparse: {name} economies are dense (economies with producers are)")
        if rho is not None and self.technology != "ces":
            raise InputError(f"rho: only CES technologies take rho, not {self.technology}")
        rho = (self.default_rho if rho is None else float(rho)) if self.technology == "ces" else None
        if rho is not None and not (rho < 1 and abs(rho) >= 1e-6):
            raise InputError(f"rho: must be < 1 and |rho| >= 1e-6, got {rho}")
        rng = np.random.default_rng(stable_seed(name, agents, goods, seed, density))
        factors = (goods + 1) // 2
        a = np.where(sparsity_pattern(rng, agents, goods, density), 1.0 - rng.random((agents, goods)), 0.0)
        endowment = np.zeros((agents, goods))
        owned = sparsity_pattern(rng, agents, factors, density)
        endowment[:, :factors] = np.where(owned, 1.0 - rng.random((agents, factors)), 0.0)
        producers = []
        for j in range(factors, goods):
            for _ in range(2 if self.technology == "activity" else 1):
                inputs = np.zeros(goods)
                used = rng.choice(factors, size=min(factors, int(rng.integers(1, 4))), replace=False)
                inputs[used] = 0.1 + 0.9 * rng.random(used.size)
                if j > factors and rng.random() < 0.5:
                    inputs[rng.integers(factors, j)] = 0.3 * (1.0 - rng.random())
                if self.technology == "activity":
                    net = -inputs
                    net[j] = 0.5 + rng.random()
                    producers.append(Producer("activity", net_output=net))
                else:
                    producers.append(Producer("ces", output=j, scale=0.5 + rng.random(), a=inputs, rho=rho))
        kinds = np.full(agents, UTILITY_CODES["cobb-douglas"])
        meta = {"family": name, "agents": agents, "goods": goods, "seed": seed, "density": density}
        if rho is not None:
            meta["rho"] = rho
        return Economy("exchange", kinds, a, np.full(agents, np.nan), endowment=endowment, name=name, meta=meta,
                       producers=tuple(producers))


@dataclass(frozen=True)
class GameFamily:
    """Leontief exchange economies that encode d x d bimatrix games (`gebench.markets.games`):
    2d agents and 2d goods. `kind` "random" draws integer payoffs; "morris" builds Morris's
    labelled games (`gebench.markets.games.hard_game`) and "svs" the square games of Savani and von
    Stengel (`gebench.markets.games.svs_game`), both deterministic (the seed is ignored), even d only."""

    kind: str
    size_name = "d"
    is_game = True

    @staticmethod
    def shape(size: int, goods_per_agent: float = 1.0) -> tuple[int, int]:
        """(agents, goods): 2d of each for a d x d game."""
        return 2 * size, 2 * size

    @property
    def hard(self) -> bool:
        return self.kind != "random"

    @property
    def deterministic(self) -> bool:
        """True when the seed does not change the economy: one run per size says all."""
        return self.hard

    def build(self, size: int, seed: int, goods_per_agent: float = 1.0, density: float = 1.0,
              rho: float | None = None, name: str | None = None, sparse: bool = False) -> Economy:
        if goods_per_agent != 1.0 or density != 1.0 or rho is not None or sparse:
            raise InputError(f"{name}: game families take no goods_per_agent, density, rho or sparse")
        if size < 1:
            raise InputError(f"size: d must be >= 1, got {size}")
        if self.kind == "morris":
            R, C = hard_game(size)
        elif self.kind == "svs":
            R, C = svs_game(size)
        else:
            R, C = random_game(size, np.random.default_rng(stable_seed(name, size, seed)))
        meta = {"family": name, "d": size, "seed": seed}
        return leontief_from_game(R, C, name=name, meta=meta)


# The built-in families. Each registers under its name through the entry-point group
# "gebench.families" (pyproject.toml), as a plugin's would; `FAMILIES` is that registry
# (`gebench.markets.families`), discovered on first use.
FISHER_LINEAR = RandomFamily("fisher", "linear")
FISHER_COBB_DOUGLAS = RandomFamily("fisher", "cobb-douglas")
FISHER_CES = RandomFamily("fisher", "ces", 0.5)
FISHER_LEONTIEF = RandomFamily("fisher", "leontief")
EXCHANGE_LINEAR = RandomFamily("exchange", "linear")
EXCHANGE_COBB_DOUGLAS = RandomFamily("exchange", "cobb-douglas")
EXCHANGE_CES = RandomFamily("exchange", "ces", 0.5)
EXCHANGE_LEONTIEF = RandomFamily("exchange", "leontief")
CES_COMPLEMENTS = RandomFamily("exchange", "ces", default_rho=-2.0, max_rho=-1.0)
PRODUCTION_ACTIVITY = ProductionFamily("exchange", "cobb-douglas", technology="activity")
PRODUCTION_CES = ProductionFamily("exchange", "cobb-douglas", default_rho=0.5, technology="ces")
LEONTIEF_GAME = GameFamily("random")
LEONTIEF_GAME_MORRIS = GameFamily("morris")       # also registered as leontief-game-hard, its first name
LEONTIEF_GAME_SVS = GameFamily("svs")

FAMILIES = Families()


def _family(family: str):
    return get_family(family)


def generate(family: str, agents: int, goods: int, seed: int = 0, density: float = 1.0,
             rho: float | None = None, sparse: bool = False) -> Economy:
    """A random economy of a family sized by agents and goods, seeded and reproducible.

    Parameters
    ----------
    family : str
        A registered family sized by agents (see `FAMILIES`), not a game family.
    agents, goods : int
        Its number of agents and of goods.
    seed : int, optional
        The seed; mixed with the family's name by a stable hash (`stable_seed`).
    density : float, optional
        The share of goods each agent wants, in (0, 1]; every good is wanted by someone.
    rho : float, optional
        The CES exponent (CES families only; default the family's).
    sparse : bool, optional
        Draw it as CSR matrices (another draw than the dense economy of the same seed).

    Returns
    -------
    Economy
        The economy, named by `family`, with the parameters of its draw in `meta`.

    Raises
    ------
    InputError
        If the family is unknown, is sized by the game dimension d (use `build`), or a
        parameter is out of its range.
    """
    fam = _family(family)
    if fam.is_game:
        raise InputError(f"family: {family} is sized by d, not by agents and goods; use build()")
    return fam(agents, goods, seed, density, rho, name=family, sparse=sparse)


DENSE_BYTES = 48       # per coefficient: a, log a, the endowment, the draw's temporaries, an allocation
SPARSE_BYTES = 96      # per stored nonzero of a CSR economy, the same arrays and the pattern's draw


def estimate_mb(family: str, agents: int, goods: int, density: float = 1.0, sparse: bool = False) -> float:
    """The memory (MiB) that drawing one economy of the family and holding an allocation for
    it needs, to refuse sizes that cannot fit before allocating anything. Game families have
    2d agents and goods and are dense."""
    if sparse:
        nonzeros = agents * min(goods, max(1, int(round(density * goods)))) + goods
        return (nonzeros * SPARSE_BYTES + 64 * (agents + goods)) / 2**20
    return (agents * goods * DENSE_BYTES + 64 * (agents + goods)) / 2**20


def build(family: str, size: int, seed: int = 0, goods_per_agent: float = 1.0, density: float = 1.0,
          rho: float | None = None, sparse: bool = False) -> Economy:
    """An economy of any family from its one size parameter.

    Parameters
    ----------
    family : str
        A registered family (see `FAMILIES`).
    size : int
        The number of agents, or the game dimension d for a game family (2d agents and goods).
    seed : int, optional
        The seed (ignored by the deterministic game families).
    goods_per_agent : float, optional
        Goods = round(goods_per_agent * agents), for families sized by agents.
    density, rho, sparse : optional
        As `generate` takes them; game families take none of them.

    Returns
    -------
    Economy
        The economy, named by `family`.

    Raises
    ------
    InputError
        If the family is unknown, or a parameter is out of range or does not apply to it.

    References
    ----------
    .. [1] B. Codenotti, A. Saberi, K. Varadarajan and Y. Ye, "Leontief economies encode
       nonzero sum two-player games", SODA 2006 (the game families' economies).
    .. [2] R. Savani and B. von Stengel, "Hard-to-solve bimatrix games", Econometrica
       74(2), 2006 (`leontief-game-svs`).
    """
    return _family(family).build(size, seed, goods_per_agent, density, rho, name=family, sparse=sparse)
