"""Judging a solver's work: `solve` times `Solver.run` and has the one certificate
(`gebench.markets.certify`, docs/format.md) decide the status, so that no solver can call itself
converged; `Result` is the judged run as `gebench solve` prints it."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from gebench.markets import Certificate, Economy, InputError, certify
from gebench.markets.io import json_safe

from .base import STATUSES, Outcome, Solver, Unavailable, Unsupported, Yesterday

MAX_WARNINGS = 5        # distinct warnings a result keeps


@dataclass
class Result:
    """A certified run, serialised as the format doc's solver result; `trace` is the solver's
    anytime trace (`Checkpoint`s, their clocks on the same `time.perf_counter()` as `started`),
    which the harness turns into measures and which is not serialised."""

    solver: str
    status: str
    prices: np.ndarray | None
    allocation: np.ndarray | None
    iterations: int
    seconds: float
    certificate: Certificate | None
    message: str = ""
    extra: dict = field(default_factory=dict)
    trace: list = field(default_factory=list)
    started: float = 0.0
    levels: np.ndarray | None = None
    state: dict = field(default_factory=dict)

    def to_dict(self, with_allocation: bool = True) -> dict:
        doc = {"solver": self.solver, "status": self.status,
               "prices": None if self.prices is None else self.prices.tolist()}
        if with_allocation:
            x = self.allocation.toarray() if sp.issparse(self.allocation) else self.allocation
            doc["allocation"] = None if x is None else x.tolist()
        if self.levels is not None:
            doc["levels"] = self.levels.tolist()
        doc.update(iterations=int(self.iterations), seconds=float(self.seconds),
                   certificate=None if self.certificate is None else self.certificate.to_dict())
        if self.message:
            doc["message"] = self.message
        if self.extra:
            doc["extra"] = self.extra
        return json_safe(doc)


def finished(economy: Economy, tol: float, prices, allocation, iterations: int, message: str = "",
             levels=None) -> Outcome:
    """The outcome of a method that ran to its end (a convex program's optimum, say): `converged`
    only where the certificate agrees at `tol`, else `failed` with how close the point came, so
    that a solver never claims more than its answer shows."""
    prices = np.asarray(prices, dtype=np.float64)
    certificate = certify(economy, prices / prices.sum(), allocation, levels)
    if certificate.within(tol):
        return Outcome("converged", prices, allocation, iterations, message=message, levels=levels)
    return Outcome("failed", prices, allocation, iterations, levels=levels,
                   message=f"{message + ', ' if message else ''}the answer is not an equilibrium: "
                           f"{certificate.refusal(tol)}")


def check_available(solver: Solver | type[Solver]) -> None:
    """Raise `Unavailable` if the solver cannot work in this environment."""
    reason = solver.unavailable()
    if reason:
        raise Unavailable(f"{solver.name}: unavailable: {reason}")


def check_runnable(solver: Solver, economy: Economy) -> None:
    """Raise `Unsupported` if the solver declines the economy, `Unavailable` if it cannot
    work in this environment; cheap, so callers ask before warming a solver up."""
    reason = solver.skip(economy)
    if reason:
        raise Unsupported(f"{solver.name}: {reason}")
    check_available(solver)


def solve(solver: Solver, economy: Economy, tol: float = 1e-6, time_limit: float = 60.0,
          seed: int = 0, yesterday: Yesterday | None = None) -> Result:
    """Run `solver` on `economy` and return its certified `Result`.

    Parameters
    ----------
    solver : Solver
        A warmed-up solver instance.
    economy : gebench.markets.Economy
        The economy to solve.
    tol : float
        The certificate's tolerance: the run is `converged` exactly when the certificate
        of its point is within `tol` (`gebench.markets.Certificate.within`).
    time_limit : float
        Seconds the solver may use; it receives the deadline ``start + time_limit``. This
        limit is cooperative: a hard one needs a worker process (`gebench.isolation`).
    seed : int
        Passed to `Solver.run`.
    yesterday : Yesterday or None
        What the solver kept from the day before, on a day of an economy stream; handed
        to `run` only when the solver carries state (`Solver.carried`), so that a solver
        that does not runs exactly as on a single economy.

    Returns
    -------
    Result
        The judged run: the certificate's status, the point, the seconds `run` took, and
        the solver's `extra`, with the distinct warnings raised inside `run` (a singular
        factorisation, an overflow on a diverging path) in ``extra["warnings"]``: a run
        prints only its own lines.

    Raises
    ------
    Unsupported
        Before starting, if the solver declines the economy (`Solver.skip`).
    Unavailable
        If the solver cannot work in this environment (`Solver.unavailable`).

    Notes
    -----
    Any exception inside `run` becomes a `failed` result, never an exception; so does an
    outcome whose status is unknown or whose iteration count is not a whole number.
    """
    check_runnable(solver, economy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            if solver.carried:
                outcome = solver.run(economy, tol, start + time_limit, seed, yesterday=yesterday)
            else:
                outcome = solver.run(economy, tol, start + time_limit, seed)
        except Exception as exc:  # a solver's crash is a result, not a crash of the caller
            outcome = Outcome("failed", message=f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - start
    result = certified(solver.name, economy, outcome, tol, seconds)
    result.trace, result.started = outcome.trace, start
    result.state = outcome.state if isinstance(outcome.state, dict) else {}
    said = list(dict.fromkeys(f"{w.category.__name__}: {w.message}"[:200] for w in caught))
    if said:
        result.extra = {**result.extra, "warnings": said[:MAX_WARNINGS]}
    return result


def certified(name: str, economy: Economy, outcome: Outcome, tol: float, seconds: float) -> Result:
    """Turn a solver's `Outcome` into a `Result` whose status agrees with the certificate."""
    status, message = outcome.status, outcome.message
    iterations = _count(outcome.iterations)
    if status not in STATUSES:
        status, message = "failed", f"unknown status {outcome.status!r}"
    prices = allocation = certificate = levels = None
    if outcome.prices is not None and outcome.allocation is not None:
        try:
            prices = np.asarray(outcome.prices, dtype=np.float64)
            total = prices.sum()
            if np.isfinite(total) and total > 0:
                prices = prices / total
            certificate = certify(economy, prices, outcome.allocation, outcome.levels)
            levels = None if outcome.levels is None else np.asarray(outcome.levels, dtype=np.float64)
            allocation = outcome.allocation
            allocation = (sp.csr_array(allocation, dtype=np.float64) if sp.issparse(allocation)
                          else np.asarray(allocation, dtype=np.float64))
        except InputError as exc:
            prices = allocation = certificate = levels = None
            status, message = "failed", f"invalid answer: {exc}"
    if certificate is not None and not certificate.finite:
        status, message = "failed", f"{certificate.refusal(tol)}: {message or status}"
    elif certificate is not None and certificate.within(tol):
        status = "converged"
    elif certificate is not None and certificate.unresolved(tol):
        status = "failed" if status == "converged" else status
        message = f"{certificate.refusal(tol)}{': ' + message if message else ''}"
    elif status == "converged":
        worst = "no point" if certificate is None else f"worst measure {certificate.worst:.3g} > tol {tol:g}"
        status, message = "failed", f"reported convergence, but the certificate says {worst}"
    if iterations is None:      # a malformed outcome is a failure, whatever its point
        status, message, iterations = "failed", f"iterations: expected an integer, got {outcome.iterations!r}"[:200], 0
    return Result(name, status, prices, allocation, iterations, seconds, certificate,
                  message, outcome.extra, levels=levels)


def _count(value) -> int | None:
    """`value` as a Python int when it is a whole number >= 0 (an int, a NumPy integer, or a
    float such as 3.0), else None: NaN, a string or a negative count is no iteration count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if value >= 0 else None
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and value >= 0 and float(value).is_integer():
        return int(value)
    return None
