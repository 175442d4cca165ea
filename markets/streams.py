"""Economy streams: one economy a day, each much like the day before.

A benchmark of single economies asks how fast a method finds an equilibrium from nothing.
Markets are not asked that: they are asked to get us into the next day. Hayek's point
("The use of knowledge in society", American Economic Review 35(4), 1945) is that the
economic problem is one of adaptation to "changes in the particular circumstances of time
and place", and that the price system is valuable because it lets people adjust to
changes they know nothing about. Competition is a discovery procedure (Hayek's later
lecture of that name, 1968), and matters most during transitions, when yesterday's prices
are no longer right. A stream is the material
for that question: day 0 is an economy of a family, and every later day is yesterday's
economy after small persistent changes, some agents leaving and others arriving, and on
rare days a large shock. A method that can start from yesterday's equilibrium is then
measured on what the market actually faces.

The changes, day t = 1, 2, ... (day 0 is exactly `gebench.markets.generators.build`):

- **Drift.** Every utility coefficient, and every endowment (exchange) or budget (Fisher),
  is its base value times exp(x_t), where the log deviation x follows a stationary AR(1)
  process, x_0 = 0 and x_t = persistence * x_{t-1} + sigma * eps_t, eps_t independent
  standard normals, one per value and day. The multiplicative (log-normal) form keeps
  every value positive and every zero a zero (an agent's pattern of wanted goods does not
  change); the persistence makes today resemble yesterday, and the deviation stays
  within reach of the base (stationary standard deviation sigma / sqrt(1 - persistence^2))
  instead of wandering off as a random walk would. It is the standard model of persistent
  shocks in dynamic macroeconomics, where log productivity is an AR(1) with log-normal
  innovations (e.g. T. Cooley and E. Prescott, "Economic growth and business cycles", in
  Frontiers of Business Cycle Research, 1995, with a coefficient of 0.95 a quarter).
- **Churn.** Each day a share `churn` of the agents leave and as many arrive, so that the
  number of agents, and so every array's shape, stays fixed and days stay comparable. The
  number leaving is churn * n rounded up or down at random (its expectation is churn * n
  exactly, so that small economies churn too). An arrival takes a leaver's place (its row
  index) and is that row of an economy freshly built from the family on a seed of its own
  for the day: a new agent comes from the family's own distribution, as drawn, with no
  drift yet. No leaving makes a good nobody holds or nobody wants where someone did on day
  0 (with sparse patterns, or the factors of a production economy): a leaver who would be
  the last stays.
- **Shocks.** On a day drawn with probability `shock_rate`, one good (drawn among the goods
  anybody holds) loses half its total supply for that day only: every agent's endowment
  of it is halved (exchange), or its Fisher supply. The next day it is back, so a shock
  makes two transitions, into the shock and out of it.

Producers (the production families) keep their technologies every day. A game family's
stream (`leontief-game`, `-morris`, `-svs`) drifts the game instead: the canonical payoffs
(R, C) of day 0 (`gebench.markets.games.game_of`) times exp(x_t), the same AR(1) per payoff,
mapped again to the canonical form (`gebench.markets.games.leontief_from_game`), so every
day is a game economy. A game's agents are its strategies, fixed by its size, so game
streams take no churn and no shocks.

Every random draw comes from a numpy Generator seeded by `numpy.random.SeedSequence` with
a stable hash (`gebench.markets.generators.stable_seed`) of the family, size, seed,
goods_per_agent and density, what the draw is for (drift, churn, shock) and the day, never
Python's salted `hash`: the same parameters give the same days on every machine and in
every process, and day t's draws do not depend on sigma, churn or shock_rate, so streams
that differ in those alone face the same news (common random numbers).

>>> from gebench.markets.streams import Stream, stream_days
>>> days = list(stream_days(Stream("exchange-linear", size=4, seed=1, sigma=0.05, days=3)))
>>> [e.a.shape for e in days], days[2].meta["day"]
([(4, 4), (4, 4), (4, 4)], 2)
"""
from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields, replace
from importlib import metadata

import numpy as np

from .economy import Economy
from .errors import InputError, field_name
from .families import get as get_family
from .games import game_of, leontief_from_game
from .generators import build, stable_seed
from .io import parse_json, read_text_file, save, to_json, write_atomic
from .production import produced

FORMAT = "stream/1"
PERSISTENCE = 0.9          # the AR(1) coefficient: a deviation halves in about 6.6 days
SHOCK_FACTOR = 0.5         # a shock day scales one good's supply by this
MAX_SPREAD = 10.0          # largest stationary standard deviation of a log deviation

_DRIFT, _CHURN, _SHOCK = 1, 2, 3     # what a day's Generator draws for


def _integer(value, name: str, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}: expected an integer, got {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise InputError(f"{name}: must be >= {low}, got {value}")
    return value


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name}: must be a finite number, got {value}")
    return value


@dataclass(frozen=True)
class Stream:
    """The parameters of an economy stream; its days follow from them (`stream_days`).

    Parameters
    ----------
    family : str
        A registered family (`gebench.markets.generators.FAMILIES`).
    size : int
        The family's size: agents, or the game dimension d.
    seed : int, optional
        The seed of day 0 (`build`) and of every later day's draws.
    sigma : float, optional
        The standard deviation of a day's innovation to a log deviation, >= 0; 0 means no
        drift. Default 0.05, about 5% a day.
    churn : float, optional
        The expected share of agents replaced each day, in [0, 1); 0 for a game family.
    days : int, optional
        The number of days, day 0 included, >= 1.
    shock_rate : float, optional
        The probability that a day (after day 0) halves one good's supply, in [0, 1]; 0
        for a game family.
    persistence : float, optional
        The AR(1) coefficient of the log deviations, in [0, 1): 0 makes the days
        independent draws around the base, near 1 makes deviations last. Default 0.9.
    goods_per_agent, density : float, optional
        As `build` takes them (families sized by agents only).

    Raises
    ------
    InputError
        If a parameter is out of its range; the message names the field. A family's own
        rules on its size (an even d for the hard games, two goods for production) are
        checked when day 0 is built, by `build`, with its message. The drift's
        stationary spread sigma / sqrt(1 - persistence^2) must be at most `MAX_SPREAD`
        (a factor e^10 at one standard deviation), so that no value overflows a double.
    """

    family: str
    size: int
    seed: int = 0
    sigma: float = 0.05
    churn: float = 0.0
    days: int = 30
    shock_rate: float = 0.0
    persistence: float = PERSISTENCE
    goods_per_agent: float = 1.0
    density: float = 1.0

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        if not isinstance(self.family, str):
            raise InputError(f"family: expected a family name, got {self.family!r}")
        family = get_family(self.family)
        set_("size", _integer(self.size, "size", 1))
        set_("seed", _integer(self.seed, "seed"))
        set_("days", _integer(self.days, "days", 1))
        sigma = _real(self.sigma, "sigma")
        if sigma < 0:
            raise InputError(f"sigma: must be >= 0, got {sigma}")
        churn = _real(self.churn, "churn")
        if not 0 <= churn < 1:
            raise InputError(f"churn: must be in [0, 1), got {churn}")
        shock_rate = _real(self.shock_rate, "shock_rate")
        if not 0 <= shock_rate <= 1:
            raise InputError(f"shock_rate: must be in [0, 1], got {shock_rate}")
        persistence = _real(self.persistence, "persistence")
        if not 0 <= persistence < 1:
            raise InputError(f"persistence: must be in [0, 1), got {persistence}")
        spread = sigma / math.sqrt(1 - persistence**2)
        if spread > MAX_SPREAD:
            raise InputError(f"sigma: the drift's stationary spread sigma / sqrt(1 - persistence^2) = {spread:.4g} "
                             f"must be <= {MAX_SPREAD:g}; lower sigma or persistence")
        goods_per_agent = _real(self.goods_per_agent, "goods_per_agent")
        if goods_per_agent <= 0:
            raise InputError(f"goods_per_agent: must be > 0, got {goods_per_agent}")
        density = _real(self.density, "density")
        if not 0 < density <= 1:
            raise InputError(f"density: must be in (0, 1], got {density}")
        if family.is_game:
            for name, value in (("goods_per_agent", goods_per_agent), ("density", density)):
                if value != 1:
                    raise InputError(f"{name}: {self.family} is a game family, sized by d alone; got {value}")
            if churn:
                raise InputError(f"churn: {self.family} is a game family; its agents are the game's strategies, "
                                 f"so a game stream has no churn (got {churn})")
            if shock_rate:
                raise InputError(f"shock_rate: {self.family} is a game family; a game stream drifts its payoffs "
                                 f"and has no supply shocks (got {shock_rate})")
        for name, value in (("sigma", sigma), ("churn", churn), ("shock_rate", shock_rate),
                            ("persistence", persistence), ("goods_per_agent", goods_per_agent),
                            ("density", density)):
            set_(name, value)

    @property
    def is_game(self) -> bool:
        """True for a game family's stream (payoff drift, no churn, no shocks)."""
        return get_family(self.family).is_game

    def base(self) -> Economy:
        """Day 0: `build(family, size, seed, goods_per_agent, density)`."""
        return build(self.family, self.size, self.seed, goods_per_agent=self.goods_per_agent, density=self.density)

    def key(self) -> int:
        """The stable hash of what day 0 is (family, size, seed, goods_per_agent, density) that
        seeds every day's draws."""
        return stable_seed(FORMAT, self.family, self.size, self.seed, self.goods_per_agent, self.density)

    def rng(self, what: int, t: int) -> np.random.Generator:
        """The Generator of day t's draws for one purpose (drift, churn or shock)."""
        return np.random.default_rng(np.random.SeedSequence([self.key(), what, t]))


def _gebench_version() -> str:
    try:
        return metadata.version("gebench")
    except metadata.PackageNotFoundError:
        return "unknown"


def _parameters(stream: Stream) -> dict:
    return asdict(stream)


def stream_to_dict(stream: Stream) -> dict:
    """The `stream/1` document of a stream (docs/format.md, "Economy streams").

    A stream is deterministic given its parameters and the gebench version that draws it,
    so the document holds the parameters, not the days, and the version that wrote it (a
    later version may draw other days from the same parameters).

    Returns
    -------
    dict
        ``{"format": "stream/1", "gebench": version, family, size, seed, sigma, churn,
        days, shock_rate, persistence, goods_per_agent, density}``, ready for `json.dumps`.
    """
    return {"format": FORMAT, "gebench": _gebench_version(), **_parameters(stream)}


_REQUIRED = ("family", "size")


def stream_from_dict(doc) -> Stream:
    """The stream of a `stream/1` document; `stream_to_dict` inverts it.

    Parameters
    ----------
    doc : dict
        The parsed JSON document. Only `format`, `family` and `size` are required; the
        other parameters take `Stream`'s defaults. `gebench` (the version that wrote it)
        is informational.

    Raises
    ------
    InputError
        If the document is not an object, has another format, an unknown or missing field,
        or a parameter out of its range; the message names the field.
    """
    if not isinstance(doc, dict):
        raise InputError("stream: expected a JSON object")
    if doc.get("format") != FORMAT:
        raise InputError(f"format: expected {FORMAT!r}, got {doc.get('format')!r}")
    known = {f.name for f in fields(Stream)}
    unknown = sorted(set(doc) - known - {"format", "gebench"})
    if unknown:
        raise InputError(f"{field_name(unknown[0])}: unknown field (known: {sorted(known | {'format', 'gebench'})})")
    missing = [name for name in _REQUIRED if name not in doc]
    if missing:
        raise InputError(f"{missing[0]}: missing")
    if "gebench" in doc and not isinstance(doc["gebench"], str):
        raise InputError(f"gebench: expected a version string, got {doc['gebench']!r}")
    return Stream(**{k: v for k, v in doc.items() if k in known})


def dumps_stream(stream: Stream) -> str:
    """The JSON text of `stream_to_dict`, indented, without a final newline."""
    return to_json(stream_to_dict(stream), indent=1)


def save_stream(stream: Stream, path: str | os.PathLike) -> None:
    """Write a stream file (`dumps_stream` and a newline), atomically (`gebench.markets.io.write_atomic`)."""
    write_atomic(path, dumps_stream(stream) + "\n")


def load_stream(path: str | os.PathLike) -> Stream:
    """Read a stream file; `InputError` naming the file and the field when it is not one."""
    try:
        return stream_from_dict(parse_json(read_text_file(path), "stream"))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def stream_days(stream: Stream) -> Iterator[Economy]:
    """The stream's economies, day 0 to day `days` - 1, one at a time.

    Each day is a new, validated `Economy` of day 0's shape, with day 0's name, and its meta
    is day 0's plus ``stream`` (`stream_to_dict`), ``day`` (t), ``entrants`` (the rows of
    today's arrivals, ascending) and ``shock`` (the good whose supply is halved today, or
    None). Day t takes O(t) work to reach; the iterator does the days in one pass.

    Parameters
    ----------
    stream : Stream
        The parameters.

    Yields
    ------
    Economy
        Day 0 (`build`, its arrays exactly), then each later day.
    """
    base = stream.base()
    if stream.is_game:
        yield from _game_days(stream, base)
    else:
        yield from _market_days(stream, base)


def day(stream: Stream, t: int) -> Economy:
    """Day t of the stream (0 <= t < days), after walking days 0 to t - 1.

    Raises
    ------
    InputError
        If t is not a day of the stream.
    """
    t = _integer(t, "day", 0)
    if t >= stream.days:
        raise InputError(f"day: the stream has days 0 to {stream.days - 1}, got {t}")
    for k, economy in enumerate(stream_days(stream)):
        if k == t:
            return economy
    raise AssertionError("unreachable")


def write_day(stream: Stream, t: int, path: str | os.PathLike) -> None:
    """Write day t as a format-1 economy file (`gebench.markets.io.save`), which `gebench
    verify` and `gebench solve` read like any other; its meta names the stream and the day."""
    save(day(stream, t), path)


def _meta(stream: Stream, base: Economy, t: int, entrants=(), shock=None) -> dict:
    return dict(base.meta, stream=stream_to_dict(stream), day=t,
                entrants=[int(i) for i in entrants], shock=None if shock is None else int(shock))


def _market_days(stream: Stream, base: Economy) -> Iterator[Economy]:
    """The days of a stream of a family sized by agents (exchange or Fisher, with or without
    producers): drift, churn and shocks as the module says."""
    exchange = base.model == "exchange"
    a0 = np.array(base.a, dtype=np.float64)
    holdings0 = np.array(base.endowment if exchange else base.budget, dtype=np.float64)
    kinds, rho = np.array(base.kinds), np.array(base.rho)
    xa, xh = np.zeros_like(a0), np.zeros_like(holdings0)
    n, m = a0.shape
    made = produced(base.producers, m) if base.producers else np.zeros(m, dtype=bool)
    must_want = (a0 > 0).any(axis=0)
    must_hold = ((holdings0 > 0).any(axis=0) & ~made) if exchange else np.zeros(m, dtype=bool)
    shockable = np.flatnonzero((holdings0 > 0).any(axis=0)) if exchange else np.arange(m)
    for t in range(stream.days):
        entrants, shock = [], None
        if t:
            if stream.sigma:
                rng = stream.rng(_DRIFT, t)
                xa = stream.persistence * xa + stream.sigma * rng.standard_normal(xa.shape)
                xh = stream.persistence * xh + stream.sigma * rng.standard_normal(xh.shape)
            else:
                xa, xh = stream.persistence * xa, stream.persistence * xh
            if stream.churn:
                leaving = _leaving(stream, t, n, a0, holdings0 if exchange else None, must_want, must_hold)
                if leaving:
                    fresh = build(stream.family, stream.size, _entrant_seed(stream, t),
                                  goods_per_agent=stream.goods_per_agent, density=stream.density)
                    if fresh.a.shape != (n, m) or fresh.model != base.model:
                        raise InputError(f"family: {stream.family} built an economy of another shape or model "
                                         f"for day {t}'s arrivals; churn needs one shape per size")
                    rows = np.array(leaving)
                    a0[rows] = fresh.a[rows]
                    holdings0[rows] = (fresh.endowment if exchange else fresh.budget)[rows]
                    kinds[rows], rho[rows] = fresh.kinds[rows], fresh.rho[rows]
                    xa[rows], xh[rows] = 0.0, 0.0
                    entrants = sorted(leaving)
            rng = stream.rng(_SHOCK, t)
            if rng.random() < stream.shock_rate and shockable.size:
                shock = int(shockable[rng.integers(shockable.size)])
        a = a0 * np.exp(xa)
        holdings = holdings0 * np.exp(xh)
        supply = base.supply
        if shock is not None:
            if exchange:
                holdings[:, shock] *= SHOCK_FACTOR
            else:
                supply = np.ones(m) if base.supply is None else np.array(base.supply)
                supply[shock] *= SHOCK_FACTOR
        yield Economy(base.model, kinds, a, rho, endowment=holdings if exchange else None,
                      budget=None if exchange else holdings, supply=supply, goods_names=base.goods_names,
                      name=base.name, meta=_meta(stream, base, t, entrants, shock), producers=base.producers)


def _entrant_seed(stream: Stream, t: int) -> int:
    """The seed of the economy whose rows are day t's arrivals."""
    return stable_seed(FORMAT, "entrants", stream.key(), t)


def _leaving(stream: Stream, t: int, n: int, a: np.ndarray, holdings: np.ndarray | None,
             must_want: np.ndarray, must_hold: np.ndarray) -> list[int]:
    """The agents who leave on day t: churn * n of them, rounded up or down at random, in a
    random order; one who is the last to want (or hold) a good somebody wanted (held) on
    day 0 stays."""
    rng = stream.rng(_CHURN, t)
    expected = stream.churn * n
    count = int(expected) + int(rng.random() < expected - int(expected))
    order = [int(i) for i in rng.permutation(n)[:count]]
    if not order:
        return []
    staying = np.ones(n, dtype=bool)
    staying[order] = False
    leaving = list(order)
    for matrix, must in ((a, must_want), (holdings, must_hold)):
        if matrix is None:
            continue
        for j in np.flatnonzero(must & ~(matrix[staying] > 0).any(axis=0)):
            if not (matrix[staying, j] > 0).any():        # a keeper for an earlier good may hold it
                keeper = next(i for i in leaving if matrix[i, j] > 0)
                leaving.remove(keeper)
                staying[keeper] = True
    return leaving


def _game_days(stream: Stream, base: Economy) -> Iterator[Economy]:
    """The days of a game family's stream: day 0's canonical payoffs drift by the AR(1),
    and each day is the economy of the drifted game's canonical form."""
    form = game_of(base)
    R0, C0 = np.array(form.R), np.array(form.C)
    xR, xC = np.zeros_like(R0), np.zeros_like(C0)
    for t in range(stream.days):
        if t and stream.sigma:
            rng = stream.rng(_DRIFT, t)
            xR = stream.persistence * xR + stream.sigma * rng.standard_normal(xR.shape)
            xC = stream.persistence * xC + stream.sigma * rng.standard_normal(xC.shape)
        meta = _meta(stream, base, t)
        if not xR.any() and not xC.any():
            yield replace(base, meta=meta)        # day 0's game, exact payoffs and all
        else:
            yield leontief_from_game(R0 * np.exp(xR), C0 * np.exp(xC), name=base.name, meta=meta)
