"""The `Solver` interface: what a solver declares, what it implements, and the `Outcome` it
returns. Judging an outcome (`solve`, the certificate's verdict) is `gebench.solvers.judging`'s.

A solver only computes a candidate (prices, allocation) and says why it stopped; it never
decides whether that is an equilibrium. The split follows benchopt: `skip` and `warm_up`
are untimed, only `run` is timed.
"""
from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from gebench.markets import Economy, InputError
from gebench.markets.units import unit_supply

from .kernels.params import check_params

STATUSES = ("converged", "max_iter", "timeout", "diverged", "no_equilibrium", "failed", "at_rest")
"""`at_rest`: a trading process stopped where no trade it can make helps anyone any more,
and the certificate does not hold there (an allocation that is not a Walrasian equilibrium's)."""


class Unsupported(InputError):
    """The solver declines this economy; raised before any work starts."""


class Unavailable(Unsupported):
    """The solver cannot work in this environment at all (its extra is not installed, its
    licence has expired): a fact about the machine, never a failed run."""


_ENVIRONMENT: dict[type, str | None] = {}     # solver class -> why it cannot run here, or None


@dataclass(frozen=True)
class Checkpoint:
    """One point of an iterative solver's anytime trace (`gebench.solvers.kernels.trace.Tracer`): when
    (`time.perf_counter()`), after how many iterations, and the point it held then."""

    clock: float
    iterations: int
    prices: np.ndarray
    allocation: np.ndarray


@dataclass(frozen=True)
class Yesterday:
    """What a method kept from the day before, handed to `Solver.run` on a day of an economy
    stream (`gebench.markets.streams`) when the solver carries state (`Solver.carried`).

    Attributes
    ----------
    prices : numpy.ndarray or None
        Yesterday's final prices (summing to 1), or None if it ended without a point.
    allocation : numpy.ndarray or scipy.sparse array or None
        Yesterday's final allocation, or None. Its rows are yesterday's agents: the rows in
        `arrived` now belong to agents who came today.
    state : dict
        What the solver chose to keep (`Outcome.state`): revealed prices, partners, an
        interior point. Only the solver reads it.
    economy : Economy or None
        Yesterday's economy, for a method that deforms yesterday's problem into today's.
    certified : bool
        Whether the certificate accepted yesterday's point at the day's tolerance.
    arrived : tuple of int
        The agents (rows) who arrived today in place of ones who left.
    day : int
        Today's day number (yesterday was ``day - 1``).
    """

    prices: np.ndarray | None = None
    allocation: object = None
    state: dict = field(default_factory=dict)
    economy: Economy | None = None
    certified: bool = False
    arrived: tuple[int, ...] = ()
    day: int = 1


@dataclass
class Outcome:
    """What `Solver.run` returns: a candidate point and the solver's own reason for stopping,
    for an iterative solver its anytime `trace` (checkpoints before the final point), and for
    a solver that carries state what it keeps for tomorrow (`state`, handed back in
    `Yesterday.state`)."""

    status: str
    prices: np.ndarray | None = None
    allocation: np.ndarray | None = None
    iterations: int = 0
    message: str = ""
    extra: dict = field(default_factory=dict)
    trace: list[Checkpoint] = field(default_factory=list)
    levels: np.ndarray | None = None
    state: dict = field(default_factory=dict)


class Solver(ABC):
    """Base class of every equilibrium solver: the whole contract of a plugin is here.

    A subclass declares what it handles in class attributes and implements `run`; `solve`
    (`gebench.solvers.judging`) calls `skip`, times `run`, and has the certificate judge
    the point, so its status, not the solver's, is the one recorded.
    `gebench.solvers.testing.check_solver` checks a class against this contract.

    Parameters
    ----------
    **params
        Values for the declared `parameters` (``name[key=value]`` on the command line);
        each must have its default's type and obey `rules`. The merged values are in
        `self.params`.

    Attributes
    ----------
    name : str
        The registry name, one word (``my-dynamic``).
    models : frozenset of str
        The subset of {"fisher", "exchange"} it handles.
    utilities : frozenset of str
        The subset of {"linear", "cobb-douglas", "ces", "leontief"} it handles.
    exact : bool
        True for a method with a guarantee, False for a heuristic.
    parameters : dict
        Parameter name -> default (see `gebench.solvers.kernels.params`).
    rules : dict, optional
        Parameter name -> `Range` or `Choice` (`gebench.solvers.kernels.params`): the values
        a parameter allows, checked before anything runs.
    sparse : bool
        True if `run` accepts sparse economies (`a`, and `endowment` in exchange, as
        `scipy.sparse.csr_array`) and returns a CSR allocation for them; others are never
        handed one.
    trades : bool
        True for a process whose allocation at every point is one the agents hold, reached
        by trade out of equilibrium (bilateral exchange, proportional response): exactly
        feasible, so that it delivers welfare along the way. False (the default) for a
        planner or an auctioneer, whose agents hold their endowments until it has finished.
    executes : bool
        True for a planner whose plan the agents carry out whether or not the certificate
        accepts it (the lagged planner's trades at yesterday's prices, rationed to what
        exists): its final allocation is delivered, always feasible, with no promise that
        nobody loses by it. False (the default): a planner's or an auctioneer's allocation
        is delivered only when certified.
    production : bool
        True if `run` handles exchange economies with producers (`economy.producers`) and
        returns their `levels` in the `Outcome`; others decline such economies.
    interruptible : bool
        False for a solver whose work runs in a loop it cannot stop at the deadline (a
        peer's compiled code): the harness's worker kill enforces the budget, and a run
        that returns late reports `timeout`. Day-by-day suites decline such a solver: a
        stream's days share one worker, so a day cannot be killed alone.
    carries : bool
        True if `run` accepts the keyword ``yesterday`` (a `Yesterday`, or None on a
        stream's first day and outside streams) and may start from it; its `Outcome.state`
        is handed back the next day. False (the default): `run` is called as on a single
        economy, every day from scratch. A class that can run both ways declares a boolean
        parameter ``carry`` (default False, so that single economies run as before).

    Notes
    -----
    Besides `run`, a subclass may override `central_reads` (the numbers a run gathers in
    one place; by default the whole economy, as a planner reads it), `skip` (call
    ``super().skip`` for the declared models and families, then add limits of your own,
    with a reason), `warm_up` (untimed: compile kernels with the dtypes of a real call) and
    the classmethod `check_environment` (why the solver cannot work on this machine at all,
    such as an optional package missing or a licence expired; `unavailable` asks it once
    per process and the harness then declines the solver everywhere with that reason).

    The split between untimed preparation and the timed `run` follows benchopt's solver
    API (Moreau et al., "Benchopt: Reproducible, efficient and collaborative optimization
    benchmarks", NeurIPS 2022).
    """

    name: ClassVar[str] = ""
    models: ClassVar[frozenset[str]] = frozenset()
    utilities: ClassVar[frozenset[str]] = frozenset()
    exact: ClassVar[bool] = False
    parameters: ClassVar[dict] = {}
    rules: ClassVar[dict] = {}
    sparse: ClassVar[bool] = False
    trades: ClassVar[bool] = False
    executes: ClassVar[bool] = False
    production: ClassVar[bool] = False
    interruptible: ClassVar[bool] = True
    carries: ClassVar[bool] = False

    def __init__(self, **params):
        self.params = check_params(self.name, self.parameters, self.rules, params)

    def skip(self, economy: Economy) -> str | None:
        """Why this solver cannot handle the economy, or None. Subclasses add their own limits."""
        if economy.model not in self.models:
            return f"{economy.model} economies are not supported (supports: {', '.join(sorted(self.models))})"
        missing = economy.utility_kinds - self.utilities
        if missing:
            return (f"{', '.join(sorted(missing))} utilities are not supported "
                    f"(supports: {', '.join(sorted(self.utilities))})")
        if economy.sparse and not self.sparse:
            return "sparse (CSR) economies are not supported: this solver needs dense arrays"
        if economy.production and not self.production:
            return "economies with producers are not supported: this solver handles pure exchange"
        return None

    def warm_up(self) -> None:
        """Untimed preparation, e.g. compiling Numba kernels with the dtypes of the timed call."""

    @classmethod
    def check_environment(cls) -> str | None:
        """Why this solver cannot work in this environment, or None (the default: it can).
        Override it for a solver that needs an optional package, a licence or a binary; keep
        it cheap (an import, a probe model), since every process that runs the solver asks."""
        return None

    @classmethod
    def unavailable(cls) -> str | None:
        """`check_environment`'s answer as one line, asked once per process and class; an
        exception it raises is itself the reason, so that a broken check never crashes a sweep."""
        if cls not in _ENVIRONMENT:
            try:
                reason = cls.check_environment()
            except Exception as exc:  # the check is about the environment: its failure is the answer
                reason = f"its environment check failed: {type(exc).__name__}: {exc}"
            _ENVIRONMENT[cls] = " ".join(str(reason).split()) if reason else None
        return _ENVIRONMENT[cls]

    @abstractmethod
    def run(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        """The timed work: look for an equilibrium of `economy`.

        Parameters
        ----------
        economy : gebench.markets.Economy
            Read-only: numpy arrays `a` (agents x goods), `kinds`, `rho`, and `endowment`
            (exchange) or `budget` and `total_supply` (Fisher); CSR matrices when the
            economy is sparse and the solver declares `sparse`.
        tol : float
            The target for the certificate's worst measure.
        deadline : float
            An absolute `time.perf_counter()` time to check between steps of work; the
            harness kills a run that overstays 1.5 x its budget + 2 s.
        seed : int
            Seeds any randomness, so that one seed gives one answer.

        Returns
        -------
        Outcome
            The reason for stopping (`converged`, `max_iter`, `timeout`, `diverged`,
            `no_equilibrium`, `failed`, `at_rest`), prices and allocation when there is a
            point, whole-number `iterations`, anything worth keeping in `extra` (pivots,
            say) and, for an iterative solver, its anytime `trace`
            (`gebench.solvers.kernels.trace.Tracer`). The certificate, not this status,
            decides whether the run converged.
        """

    def central_reads(self, economy: Economy, iterations: int) -> int:
        """The numbers this run gathered at one central point: a planner reads the whole
        economy (its coefficients, exponents and endowments or budgets); an auctioneer reads
        m excess demands a round; agents that trade in pairs read nothing centrally."""
        return economy_numbers(economy)

    @property
    def carried(self) -> bool:
        """True when this instance starts a day from what it kept (`Yesterday`): the class
        `carries`, and its boolean parameter ``carry``, where it declares one, is true
        (``newton[carry=True]``), so that a suite can run one method both cold and carried."""
        return self.carries and bool(self.params.get("carry", True))

    @property
    def uses_seed(self) -> bool:
        """True when the seed changes what `run` does (a random start, say): runs of one
        deterministic economy under several seeds are then distinct runs, not repeats."""
        return False

    @property
    def registered_name(self) -> str:
        """The class's registry name, also for an instance renamed by ``spec as NAME``."""
        return type(self).name

    def __repr__(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in self.params.items() if self.parameters.get(k) != v)
        spec = f"{self.registered_name}[{params}]" if params else self.registered_name
        return spec if self.name == self.registered_name else f"{spec} as {self.name}"


def economy_numbers(economy: Economy) -> int:
    """The numbers that describe an economy: its nonzero coefficients, one exponent per CES
    agent, its nonzero endowments (exchange) or its budgets and supply (Fisher), and its
    producers' nonzero coefficients (with a technology's output, scale and exponent)."""
    count = lambda v: int(v.nnz) if hasattr(v, "nnz") else int(np.count_nonzero(v))  # noqa: E731
    numbers = count(economy.a) + int(np.count_nonzero(~np.isnan(economy.rho)))
    for producer in economy.producers:
        numbers += count(producer.net_output) if producer.kind == "activity" else count(producer.a) + 3
    if economy.model == "exchange":
        return numbers + count(economy.endowment)
    return numbers + economy.n_agents + economy.n_goods


def in_unit_supply(run):
    """Decorate `Solver.run` for a method whose numerics depend on units (an interior point's
    tolerances, a price grid): it runs on the economy in units where every quantity is of
    order one (`gebench.markets.units.unit_supply`), and its point is mapped back to the caller's units."""
    @functools.wraps(run)
    def unit_free(self, economy: Economy, tol: float, deadline: float, seed: int) -> Outcome:
        unit, scale = unit_supply(economy)
        outcome = run(self, unit, tol, deadline, seed)
        if outcome.prices is not None:
            outcome.prices = np.asarray(outcome.prices, dtype=np.float64) * scale
        if outcome.allocation is not None:
            outcome.allocation = in_caller_units(outcome.allocation, scale)
        return outcome
    return unit_free


def in_caller_units(allocation, scale: np.ndarray):
    """x' / scale, column by column, for a dense allocation or a CSR one (which stays CSR)."""
    if sp.issparse(allocation):
        x = sp.csr_array(allocation)
        return sp.csr_array((x.data / scale[x.indices], x.indices, x.indptr), shape=x.shape)
    return np.asarray(allocation, dtype=np.float64) / scale
