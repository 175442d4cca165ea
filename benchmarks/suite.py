"""Benchmark suites: declarative TOML files of families, size ladders, solvers and budgets."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from markets import InputError
from markets.errors import field_name
from markets.generators import FAMILIES, build

SUITES_DIR = Path(__file__).with_name("suites")


@dataclass(frozen=True)
class FamilyLadder:
    """One family swept over growing sizes: agents for random markets (goods =
    round(goods_per_agent * agents)), the game dimension d for game families.
    `solvers` overrides the suite's list for this ladder."""

    family: str
    sizes: tuple[int, ...]
    goods_per_agent: float = 1.0
    density: float = 1.0
    rho: float | None = None
    solvers: tuple[str, ...] | None = None
    sparse: bool = False                  # economies drawn and held as CSR matrices

    @property
    def size_name(self) -> str:
        return FAMILIES[self.family].size_name

    def shape(self, size: int) -> tuple[int, int]:
        """(agents, goods) of the economy of this size."""
        if self.size_name == "d":
            return 2 * size, 2 * size
        return size, max(1, round(self.goods_per_agent * size))

    def economy(self, size: int, seed: int):
        return build(self.family, size, seed, self.goods_per_agent, self.density, self.rho, self.sparse)

    @property
    def label(self) -> str:
        extra = [f"rho={self.rho:g}"] if self.rho is not None else []
        extra += [f"density={self.density:g}"] if self.density != 1.0 else []
        extra += ["sparse"] if self.sparse else []
        return f"{self.family}[{','.join(extra)}]" if extra else self.family


@dataclass(frozen=True)
class Suite:
    name: str
    ladders: tuple[FamilyLadder, ...]
    solvers: tuple[str, ...] | None       # None: every registered solver that applies
    seeds: tuple[int, ...] = (0,)
    tolerance: float = 1e-6
    time_budget: float = 10.0
    memory_budget: float = 8192.0         # MiB per run (the worker's data segment)
    description: str = ""
    source: str = field(default="", repr=False)


def _require(doc: dict, key: str, kind, where: str):
    if key not in doc:
        raise InputError(f"{where}: {key}: missing")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"{where}: {key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def parse_suite(text: str, where: str = "suite") -> Suite:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: malformed TOML: {exc}") from None
    known = {"name", "description", "tolerance", "time_budget", "memory_budget", "seeds", "solvers", "family"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise InputError(f"{where}: {field_name(unknown[0])}: unknown field (known: {sorted(known)})")
    tol = float(_require(doc, "tolerance", (int, float), where))
    budget = float(_require(doc, "time_budget", (int, float), where))
    if not tol > 0 or not budget > 0:
        raise InputError(f"{where}: tolerance and time_budget must be > 0")
    memory = doc.get("memory_budget", 8192.0)
    if not isinstance(memory, (int, float)) or isinstance(memory, bool) or not memory >= 64:
        raise InputError(f"{where}: memory_budget: MiB per run, at least 64, got {doc.get('memory_budget')!r}")
    seeds = doc.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise InputError(f"{where}: seeds: expected a list of integers >= 0")
    solvers = doc.get("solvers", "all")
    if solvers != "all" and not (isinstance(solvers, list) and all(isinstance(s, str) for s in solvers)):
        raise InputError(f"{where}: solvers: expected \"all\" or a list of solver names")
    ladders = []
    for k, fam in enumerate(doc.get("family", [])):
        at = f"{where}: family[{k}]"
        name = _require(fam, "family", str, at)
        if name not in FAMILIES:
            raise InputError(f"{at}: family: unknown {name!r}; known: {', '.join(sorted(FAMILIES))}")
        sizes = _require(fam, "sizes", list, at)
        if not sizes or not all(isinstance(s, int) and s >= 1 for s in sizes) or sizes != sorted(set(sizes)):
            raise InputError(f"{at}: sizes: expected increasing integers >= 1")
        extra = sorted(set(fam) - {"family", "sizes", "goods_per_agent", "density", "rho", "solvers", "sparse"})
        if extra:
            raise InputError(f"{at}: {field_name(extra[0])}: unknown field")
        if FAMILIES[name].size_name == "d" and set(fam) & {"goods_per_agent", "density", "rho", "sparse"}:
            raise InputError(f"{at}: {name} is a game family: goods_per_agent, density, rho and sparse do not apply")
        sparse = fam.get("sparse", False)
        if not isinstance(sparse, bool):
            raise InputError(f"{at}: sparse: expected true or false, got {sparse!r}")
        own = fam.get("solvers")
        if own is not None and not (isinstance(own, list) and own and all(isinstance(s, str) for s in own)):
            raise InputError(f"{at}: solvers: expected a list of solver names")
        rho = fam.get("rho")
        ladders.append(FamilyLadder(name, tuple(sizes), float(fam.get("goods_per_agent", 1.0)),
                                    float(fam.get("density", 1.0)), None if rho is None else float(rho),
                                    None if own is None else tuple(own), sparse))
    if not ladders:
        raise InputError(f"{where}: family: at least one [[family]] table is needed")
    return Suite(name=str(doc.get("name", where)), ladders=tuple(ladders),
                 solvers=None if solvers == "all" else tuple(solvers), seeds=tuple(seeds),
                 tolerance=tol, time_budget=budget, memory_budget=float(memory), description=str(doc.get("description", "")),
                 source=text)


def shipped_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def load_suite(name_or_path: str) -> Suite:
    """A shipped suite by name (`quick`, ...) or a TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix and (SUITES_DIR / f"{name_or_path}.toml").exists():
        path = SUITES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise InputError(f"suite: no shipped suite or file {name_or_path!r} (shipped: {', '.join(shipped_suites())})")
    return parse_suite(path.read_text(encoding="utf-8"), str(path))
