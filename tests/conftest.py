import numpy as np
import pytest

from markets.generators import FAMILIES, generate


RANDOM_FAMILIES = sorted(name for name, family in FAMILIES.items() if family.size_name == "agents")


@pytest.fixture(params=RANDOM_FAMILIES)
def any_family(request):
    return request.param


def random_prices(rng, m):
    p = rng.random(m) + 0.05
    return p / p.sum()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def small(any_family):
    return generate(any_family, agents=6, goods=5, seed=3, density=0.6)
