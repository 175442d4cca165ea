"""Solving a cvxpy program under a deadline, shared by the convex-program planners.

cvxpy is imported where a program is built or solved, not with the module: its import takes
half a second, which every process that lists the solvers (a sweep's workers, `gebench solve`)
would otherwise pay."""
from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    import cvxpy


def selector(rows: np.ndarray, size: int) -> sp.csr_matrix:
    """(size, len(rows)) 0/1 matrix whose product with a vector sums it by `rows`."""
    return sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(size, len(rows)))


def solve_program(problem: cvxpy.Problem, solver: str, accuracy: float,
                  deadline: float) -> tuple[str | None, int, str]:
    """Solve; returns (None when an optimum is available, else an outcome status; iterations; message).

    Answers recovered from a conic solver lose digits against the certificate's
    relative measures, so Clarabel runs to gaps far tighter than the asked tolerance.
    An infeasible program is `no_equilibrium`: the caller's program is feasible exactly
    when an equilibrium exists.
    """
    import cvxpy as cp

    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return "timeout", 0, "the deadline passed while building the program"
    options = {}
    if solver == "CLARABEL":
        options = dict(time_limit=remaining, tol_gap_abs=accuracy, tol_gap_rel=accuracy,
                       tol_feas=accuracy, tol_ktratio=accuracy)
    try:
        with warnings.catch_warnings():  # an inaccurate solve is judged by the certificate
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=solver, **options)
    except cp.SolverError as exc:
        return ("timeout" if time.perf_counter() >= deadline else "failed"), 0, f"cvxpy: {exc}"
    stats = problem.solver_stats
    iterations = int(stats.num_iters or 0) if stats else 0
    message = f"program {problem.status}"
    if problem.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        return "no_equilibrium", iterations, message
    late = time.perf_counter() >= deadline
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return ("timeout" if late else "failed"), iterations, message
    if late and problem.status != cp.OPTIMAL:
        return "timeout", iterations, message
    return None, iterations, message
