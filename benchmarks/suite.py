"""Benchmark suites: declarative TOML files of families, size ladders, solvers and budgets."""
from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gebench.markets import InputError
from gebench.markets.errors import field_name
from gebench.markets.generators import FAMILIES, ProductionFamily, build, estimate_mb

SUITES_DIR = Path(__file__).with_name("suites")
WARM_UP_BUDGET = 600.0     # seconds per solver's warm-up: long enough for Numba's first compilation


@dataclass(frozen=True)
class FamilyLadder:
    """One family swept over growing sizes: agents for random markets (goods =
    round(goods_per_agent * agents)), the game dimension d for game families.
    `solvers` overrides the suite's list for this ladder, `tolerance` the suite's tolerance
    (so that one suite can hold a family at several accuracies)."""

    family: str
    sizes: tuple[int, ...]
    goods_per_agent: float = 1.0
    density: float = 1.0
    rho: float | None = None
    solvers: tuple[str, ...] | None = None
    sparse: bool = False                  # economies drawn and held as CSR matrices
    welfare: bool = False                 # runs record welfare and an anytime trace (the suite's `welfare`)
    tolerance: float | None = None        # None: the suite's
    reference: tuple[str, ...] = ()       # in a days suite: the solvers that find each day's equilibrium, in order

    @property
    def size_name(self) -> str:
        return FAMILIES[self.family].size_name

    def shape(self, size: int) -> tuple[int, int]:
        """(agents, goods) of the economy of this size."""
        return FAMILIES[self.family].shape(size, self.goods_per_agent)

    def seeds(self, seeds: tuple[int, ...], solver=None) -> tuple[int, ...]:
        """The seeds this ladder runs of the suite's (for `solver`): the first only on a
        deterministic family, whose other seeds would repeat the same run under another name,
        unless the solver's own start depends on the seed (`Solver.uses_seed`)."""
        if FAMILIES[self.family].deterministic and not (solver is not None and solver.uses_seed):
            return seeds[:1]
        return seeds

    def estimate_mb(self, size: int) -> float:
        """The memory one economy of this size needs (`gebench.markets.generators.estimate_mb`)."""
        return estimate_mb(self.family, *self.shape(size), self.density, self.sparse)

    def economy(self, size: int, seed: int):
        return build(self.family, size, seed, self.goods_per_agent, self.density, self.rho, self.sparse)

    @property
    def label(self) -> str:
        extra = [f"rho={self.rho:g}"] if self.rho is not None else []
        extra += [f"density={self.density:g}"] if self.density != 1.0 else []
        extra += ["sparse"] if self.sparse else []
        extra += [f"tol={self.tolerance:g}"] if self.tolerance is not None else []
        return f"{self.family}[{','.join(extra)}]" if extra else self.family


@dataclass(frozen=True)
class Regime:
    """How fast a stream's economy changes (`gebench.markets.streams.Stream`): the daily
    volatility `sigma` of its drift, the share `churn` of agents replaced a day and the
    probability `shock_rate` of a day that halves one good's supply. A game ladder's stream
    takes the drift alone: a game's agents are its strategies, and it has no supply."""

    name: str
    sigma: float
    churn: float = 0.0
    shock_rate: float = 0.0


@dataclass(frozen=True)
class Days:
    """A days suite's streams (`gebench.days`): `days` days of each economy (day 0 included)
    in every regime, each day's equilibrium found by the ladder's `reference` solvers (the
    first to certify it), each given `reference_budget` seconds, untimed for the methods."""

    days: int
    regimes: tuple[Regime, ...]
    reference_budget: float = 60.0


@dataclass(frozen=True)
class Suite:
    name: str
    ladders: tuple[FamilyLadder, ...]
    solvers: tuple[str, ...] | None       # None: every registered solver that applies
    seeds: tuple[int, ...] = (0,)
    tolerance: float = 1e-6
    time_budget: float = 10.0
    memory_budget: float = 8192.0         # MiB per run (the worker's data segment)
    warm_up_budget: float = WARM_UP_BUDGET  # seconds per solver's warm-up in a worker
    description: str = ""
    source: str = field(default="", repr=False)
    days: Days | None = None              # a days suite: streams of economies, one record per method and day

    def tolerance_of(self, ladder: FamilyLadder) -> float:
        """The certificate's tolerance for the runs of `ladder`: its own, else the suite's."""
        return self.tolerance if ladder.tolerance is None else ladder.tolerance


_KIND_NAMES = {str: "a string", list: "a list", int: "an integer", float: "a number", bool: "true or false"}


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return "a number" if set(kinds) == {int, float} else " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)


def machine_memory_mb() -> float | None:
    """This machine's physical memory in MiB, where the OS says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(family: str, agents: int, goods: int, density: float, option: str) -> None:
    """Refuse, before anything is drawn, an economy of `family` larger than this machine's
    memory (`gebench.markets.generators.estimate_mb`): `InputError` naming `option`."""
    need, machine = estimate_mb(family, agents, goods, density), machine_memory_mb()
    if machine is not None and need > machine:
        raise InputError(f"{option}: {family} with {agents} x {goods} needs about {need:,.0f} MiB, "
                         f"more than this machine's {machine:,.0f} MiB")


def _require(doc: dict, key: str, kind, where: str):
    if key not in doc:
        raise InputError(f"{where}: {key}: missing")
    return _typed(doc, key, kind, where)


def _typed(doc: dict, key: str, kind, where: str, default=None):
    """doc[key] (or `default` when absent), refused unless of `kind`; a boolean is never a number."""
    if key not in doc:
        return default
    value = doc[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InputError(f"{where}: {key}: expected {_kind_name(kind)}, got {value!r}")
    return value


def _finite_positive(doc: dict, key: str, where: str, default=None) -> float:
    value = _typed(doc, key, (int, float), where, default) if default is not None else \
        _require(doc, key, (int, float), where)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{where}: {key}: must be a finite number > 0, got {value!r}")
    return float(value)


_NAME = re.compile(r"[A-Za-z0-9_.-]+")
MAX_TIME_BUDGET = 1e6      # seconds per run: eleven days


def parse_suite(text: str, where: str = "suite", default_name: str = "suite") -> Suite:
    """A suite from TOML text; `where` names the file in errors, `default_name` is the
    suite's name when the file gives none (the file's stem). Every field is checked for
    type and range, with one line naming the file and the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: malformed TOML: {exc}") from None
    known = {"name", "description", "tolerance", "time_budget", "memory_budget", "warm_up_budget", "seeds",
             "solvers", "family", "welfare", "days"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise InputError(f"{where}: {field_name(unknown[0])}: unknown field (known: {sorted(known)})")
    name = _typed(doc, "name", str, where, default_name)
    if not _NAME.fullmatch(name):
        raise InputError(f"{where}: name: one word of letters, digits, '.', '_' and '-' "
                         f"(it names the run directory), got {name!r}")
    description = _typed(doc, "description", str, where, "")
    welfare = _typed(doc, "welfare", bool, where, False)
    tol = _finite_positive(doc, "tolerance", where)
    budget = _finite_positive(doc, "time_budget", where)
    if budget > MAX_TIME_BUDGET:
        raise InputError(f"{where}: time_budget: at most {MAX_TIME_BUDGET:g} s per run, got {budget:g}")
    warm_up = _finite_positive(doc, "warm_up_budget", where, WARM_UP_BUDGET)
    if warm_up > MAX_TIME_BUDGET:
        raise InputError(f"{where}: warm_up_budget: at most {MAX_TIME_BUDGET:g} s per warm-up, got {warm_up:g}")
    memory = _finite_positive(doc, "memory_budget", where, 8192.0)
    if memory < 64 or memory > 2**30:
        raise InputError(f"{where}: memory_budget: MiB per run, from 64 to 2^30, got {doc.get('memory_budget')!r}")
    seeds = doc.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise InputError(f"{where}: seeds: expected a list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        twice = next(s for s in seeds if seeds.count(s) > 1)
        raise InputError(f"{where}: seeds: seed {twice} is listed twice (each seed is one run per size and solver)")
    solvers = doc.get("solvers", "all")
    if solvers != "all" and not (isinstance(solvers, list) and all(isinstance(s, str) for s in solvers)):
        raise InputError(f"{where}: solvers: expected \"all\" or a list of solver names")
    families = doc.get("family", [])
    if not isinstance(families, list) or not all(isinstance(f, dict) for f in families):
        raise InputError(f"{where}: family: expected [[family]] tables (an array of tables), "
                         f"not a single [family] table or a value")
    days = _days(doc["days"], f"{where}: days") if "days" in doc else None
    if days is not None and welfare:
        raise InputError(f"{where}: welfare: a days suite measures what each day delivers in its own records; "
                         "leave welfare out")
    ladders = []
    for k, fam in enumerate(families):
        at = f"{where}: family[{k}]"
        name_of_family = _require(fam, "family", str, at)
        if name_of_family not in FAMILIES:
            raise InputError(f"{at}: family: unknown {name_of_family!r}; known: {', '.join(sorted(FAMILIES))}")
        sizes = _require(fam, "sizes", list, at)
        if (not sizes or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
                or sizes != sorted(set(sizes))):
            raise InputError(f"{at}: sizes: expected increasing integers >= 1")
        extra = sorted(set(fam) - {"family", "sizes", "goods_per_agent", "density", "rho", "solvers", "sparse",
                                   "tolerance", "reference"})
        if extra:
            raise InputError(f"{at}: {field_name(extra[0])}: unknown field")
        reference = _reference(fam, at, name_of_family, days is not None)
        if welfare and isinstance(FAMILIES[name_of_family], ProductionFamily):
            raise InputError(f"{at}: {name_of_family} has producers: welfare (welfare = true) is measured in "
                             "exchange economies and Fisher markets without producers")
        if FAMILIES[name_of_family].is_game and set(fam) & {"goods_per_agent", "density", "rho", "sparse"}:
            raise InputError(f"{at}: {name_of_family} is a game family: goods_per_agent, density, rho and sparse "
                             "do not apply")
        sparse = fam.get("sparse", False)
        if not isinstance(sparse, bool):
            raise InputError(f"{at}: sparse: expected true or false, got {sparse!r}")
        own = fam.get("solvers")
        if own is not None and not (isinstance(own, list) and own and all(isinstance(s, str) for s in own)):
            raise InputError(f"{at}: solvers: expected a list of solver names")
        goods_per_agent = _finite_positive(fam, "goods_per_agent", at, 1.0)
        density = _finite_positive(fam, "density", at, 1.0)
        if density > 1:
            raise InputError(f"{at}: density: the share of goods each agent wants, in (0, 1], got {density!r}")
        own_tol = _finite_positive(fam, "tolerance", at) if "tolerance" in fam else None
        rho = _typed(fam, "rho", (int, float), at)
        if rho is not None and not math.isfinite(rho):
            raise InputError(f"{at}: rho: must be a finite number, got {rho!r}")
        ladders.append(FamilyLadder(name_of_family, tuple(sizes), goods_per_agent, density,
                                    None if rho is None else float(rho), None if own is None else tuple(own), sparse,
                                    welfare, own_tol, reference))
    if not ladders:
        raise InputError(f"{where}: family: at least one [[family]] table is needed")
    labels = [ladder.label for ladder in ladders]
    for k, label in enumerate(labels):
        if label in labels[:k]:
            raise InputError(f"{where}: family[{k}]: the ladder {label} is listed twice (its records would merge with "
                             f"family[{labels.index(label)}]'s): list both ladders' solvers in one [[family]] table")
    machine = machine_memory_mb()
    for k, ladder in enumerate(ladders):
        need = ladder.estimate_mb(ladder.sizes[-1])
        limit, what = min((memory, "the memory_budget"), (machine or math.inf, "this machine's memory"))
        if need > limit:
            raise InputError(f"{where}: family[{k}]: {ladder.label} at {ladder.size_name} = {ladder.sizes[-1]} "
                             f"needs about {need:,.0f} MiB, more than {what} ({limit:,.0f} MiB)")
    return Suite(name=name, ladders=tuple(ladders),
                 solvers=None if solvers == "all" else tuple(solvers), seeds=tuple(seeds),
                 tolerance=tol, time_budget=budget, memory_budget=memory, warm_up_budget=warm_up,
                 description=description, source=text, days=days)


MAX_DAYS = 100_000


def _days(doc, where: str) -> Days:
    """The `[days]` table: `days`, `reference_budget` and its `[[days.regime]]` tables."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a [days] table")
    unknown = sorted(set(doc) - {"days", "regime", "reference_budget"})
    if unknown:
        raise InputError(f"{where}: {field_name(unknown[0])}: unknown field (known: days, regime, reference_budget)")
    count = _require(doc, "days", int, where)
    if not 1 <= count <= MAX_DAYS:
        raise InputError(f"{where}: days: the days of each stream, day 0 included, from 1 to {MAX_DAYS}, got {count}")
    regimes = doc.get("regime")
    if not isinstance(regimes, list) or not regimes or not all(isinstance(r, dict) for r in regimes):
        raise InputError(f"{where}: regime: expected [[days.regime]] tables, at least one")
    made = []
    for k, regime in enumerate(regimes):
        at = f"{where}.regime[{k}]"
        unknown = sorted(set(regime) - {"name", "sigma", "churn", "shock_rate"})
        if unknown:
            raise InputError(f"{at}: {field_name(unknown[0])}: unknown field (known: name, sigma, churn, shock_rate)")
        name = _require(regime, "name", str, at)
        if not _NAME.fullmatch(name) or name in [r.name for r in made]:
            raise InputError(f"{at}: name: one word, not used by another regime, got {name!r}")
        values = {key: float(_typed(regime, key, (int, float), at, 0.0)) for key in ("sigma", "churn", "shock_rate")}
        if "sigma" not in regime:
            raise InputError(f"{at}: sigma: missing")
        made.append(Regime(name, **values))
    reference_budget = _finite_positive(doc, "reference_budget", where, 60.0)
    return Days(count, tuple(made), reference_budget)


def _reference(fam: dict, at: str, family: str, days: bool) -> tuple[str, ...]:
    """A ladder's `reference` solvers: required in a days suite (every day needs its
    equilibrium), refused elsewhere; and, in a days suite, the ladder's other limits."""
    if not days:
        if "reference" in fam:
            raise InputError(f"{at}: reference: only a days suite (with a [days] table) takes reference solvers")
        return ()
    reference = fam.get("reference")
    if not (isinstance(reference, list) and reference and all(isinstance(s, str) for s in reference)):
        raise InputError(f"{at}: reference: a days suite needs each ladder's reference solvers, a list of names "
                         f"tried in order until one certifies the day's equilibrium; got {reference!r}")
    for key, why in (("rho", "a stream draws its economies with the family's own rho"),
                     ("sparse", "welfare is measured on dense economies")):
        if key in fam:
            raise InputError(f"{at}: {key}: not in a days suite: {why}")
    if isinstance(FAMILIES[family], ProductionFamily):
        raise InputError(f"{at}: {family} has producers: a days suite measures welfare in exchange economies "
                         "and Fisher markets without producers")
    return tuple(reference)


def shipped_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def load_suite(name_or_path: str) -> Suite:
    """A shipped suite by name (`quick`, ...) or a TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix and (SUITES_DIR / f"{name_or_path}.toml").exists():
        path = SUITES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise InputError(f"suite: no shipped suite or file {name_or_path!r} (shipped: {', '.join(shipped_suites())})")
    return read_suite(path)


def read_suite(path: Path, default_name: str | None = None) -> Suite:
    """The suite in a TOML file, named `default_name` unless it sets `name` (by default the
    file's stem)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text: {exc}") from None
    if default_name is None:
        default_name = path.stem if _NAME.fullmatch(path.stem) else "suite"
    return parse_suite(text, str(path), default_name)
