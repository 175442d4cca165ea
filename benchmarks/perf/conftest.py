"""Fixtures the perf benchmarks share: the warmed solvers, each made once per module, as
tests/test_exchange_ipm.py and tests/test_fisher_ipm.py make them."""
import pytest

from gebench.solvers.interior.exchange_ipm import LinearExchangeInteriorPoint
from gebench.solvers.interior.fisher_ipm import FisherInteriorPoint
from gebench.solvers.testing import warmed
from tests.conftest import warmed_or_skip


@pytest.fixture(scope="module")
def exchange_ipm():
    return warmed(LinearExchangeInteriorPoint)


@pytest.fixture(scope="module")
def fisher_ipm():
    return warmed(FisherInteriorPoint)


@pytest.fixture(scope="module")
def eisenberg_gale():
    return warmed_or_skip("eisenberg-gale")
