"""Equilibrium solvers: the `Solver` interface, the registry, and the built-in solvers."""
from .base import STATUSES, Outcome, Solver, Unavailable, Unsupported
from .judging import Result, certified, finished, solve
from .registry import available, create, get, load_errors

__all__ = ["STATUSES", "Outcome", "Result", "Solver", "Unavailable", "Unsupported", "available", "certified",
           "create", "finished", "get", "load_errors", "solve"]
