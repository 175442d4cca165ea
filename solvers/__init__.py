"""Equilibrium solvers: the `Solver` interface, the registry, and the built-in solvers.

The contract and its machinery are here: `base` (the `Solver` interface and `Outcome`),
`judging` (`solve`: the certificate's verdict on an outcome), `registry` (the entry-point group
"gebench.solvers") and `testing` (the conformance kit). The built-in algorithms live by kind:
`planners` (exact and local methods on the whole economy), `interior` (the two interior points
and the program they share), `auctioneers` (price dynamics), `traders` (trade out of
equilibrium) and `peers` (other projects' implementations, wrapped); what several of them share
is in `kernels`, so that no algorithm imports another's internals.
"""
from .base import STATUSES, Outcome, Solver, Unavailable, Unsupported, Yesterday
from .judging import Result, certified, finished, solve
from .registry import available, create, get, load_errors

__all__ = ["STATUSES", "Outcome", "Result", "Solver", "Unavailable", "Unsupported", "Yesterday", "available",
           "certified", "create", "finished", "get", "load_errors", "solve"]
