"""Fixtures the perf benchmarks share: the warmed solvers, each made once per module, as
tests/test_exchange_ipm.py and tests/test_fisher_ipm.py make them."""
from pathlib import Path

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


def pytest_collection_modifyitems(config, items):
    """Every benchmark is slow for a contributor's loop (`make test-fast` leaves them out);
    `make test` runs each once as a test, `make perf` measures them."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)
