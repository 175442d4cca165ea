"""The plugin passes gebench's conformance kit, each check as its own test."""
import pytest
from gebench_damped import DampedTatonnement

from gebench.solvers.testing import check_solver, solver_checks


@pytest.mark.parametrize("name, check", solver_checks(DampedTatonnement),
                         ids=[n for n, _ in solver_checks(DampedTatonnement)])
def test_conformance(name, check):
    check()


def test_all_checks_at_once():
    check_solver(DampedTatonnement)
