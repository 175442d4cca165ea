"""pytest-benchmark: rounds of bundle exchange to rest against agents and against goods.

    pytest benchmarks/perf/test_bundle_rounds.py --benchmark-only --benchmark-json results/bundle-rounds.json

Axtell ("The complexity of exchange", Economic Journal 115, 2005) reports that decentralised
exchange in small groups reaches its rest point after a number of interactions polynomial in
agents and goods. Each benchmark runs `bundle-exchange` (groups of 3) to rest (tol 1e-6) on
Cobb-Douglas exchange economies (`gebench.markets.generators.generate`) of one sweep, five
seeds a size: agents n at m = 10 goods, or goods m at n = 20 agents; with a bundle of every good
the group holds (``goods = 0``, the default) or of two goods (``goods = 2``, a bilateral
exchange's meeting in a group of three). A round is one random matching of all agents into
groups, n / 3 meetings.

extra_info holds, per size, each seed's rounds (with the `quiet` rounds that end a run),
meetings and trades, and for rounds and meetings the least-squares power law over every run,
log value = intercept + rate log size, with its 95% t-interval (`gebench.analysis.slope_interval`),
and the growth law `gebench.analysis.fit` chooses over the upper sizes. Every run must come to
rest, and every power law's interval must lie below 2: growth polynomial and at most about quadratic.

With --benchmark-disable these are plain tests on the four smallest sizes with two seeds.
"""
import math
import time

import numpy as np
import pytest

from gebench.analysis import fit, slope_interval
from gebench.markets.generators import generate
from gebench.solvers.testing import warmed
from gebench.solvers.traders.bundles import BundleExchange

TOL = 1e-6
SEEDS, SMALL_SEEDS = 5, 2
AGENTS = (10, 20, 40, 80, 160)       # at GOODS_FIXED goods
GOODS = (5, 10, 20, 40, 80)          # at AGENTS_FIXED agents
AGENTS_FIXED, GOODS_FIXED = 20, 10
CASES = {"all held goods, by agents": (0, "agents", AGENTS), "all held goods, by goods": (0, "goods", GOODS),
         "two goods, by agents": (2, "agents", AGENTS[:4]), "two goods, by goods": (2, "goods", GOODS[:4])}


def sweep(solver, along: str, sizes, seeds: int) -> list[dict]:
    """Run the solver to rest on each size's seeds; one record per run."""
    runs = []
    for size in sizes:
        n, m = (size, GOODS_FIXED) if along == "agents" else (AGENTS_FIXED, size)
        for seed in range(seeds):
            economy = generate("exchange-cobb-douglas", n, m, seed=seed)
            outcome = solver.run(economy, TOL, time.perf_counter() + 120.0, seed)
            runs.append({"size": size, "seed": seed, "status": outcome.status, "rounds": int(outcome.iterations),
                         "meetings": int(outcome.extra["meetings"]), "trades": int(outcome.extra["trades"])})
    return runs


def power_law(sizes, values) -> dict:
    """The least-squares power law of values on sizes over every run, with its 95% interval,
    and the law `fit` chooses over the upper sizes."""
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(values, float))
    rate, intercept = np.polyfit(x, y, 1)
    low, high = slope_interval(x, y)
    chosen = fit(sizes, values, exponential_default=False)
    return {"rate": float(rate), "low": float(low), "high": float(high), "intercept": float(intercept),
            "fit": None if chosen is None else {"kind": chosen.kind, "rate": chosen.rate, "low": chosen.low,
                                                "high": chosen.high}}


@pytest.mark.parametrize("case", list(CASES))
def test_rounds_to_rest(benchmark, case):
    goods, along, sizes = CASES[case]
    seeds = SEEDS if not benchmark.disabled else SMALL_SEEDS
    sizes = sizes if not benchmark.disabled else sizes[:4]
    benchmark.group = f"bundle rounds {case}"
    solver = warmed(BundleExchange, goods=goods)
    runs = benchmark.pedantic(sweep, args=(solver, along, sizes, seeds), rounds=1, iterations=1, warmup_rounds=0)
    assert all(r["status"] == "at_rest" for r in runs), [r for r in runs if r["status"] != "at_rest"]
    benchmark.extra_info.update({"family": "exchange-cobb-douglas", "group": 3, "goods": goods, "along": along,
                                 "fixed": GOODS_FIXED if along == "agents" else AGENTS_FIXED, "tol": TOL,
                                 "quiet": solver.params["quiet"], "seeds": seeds, "runs": runs})
    for measure in ("rounds", "meetings"):
        law = power_law([r["size"] for r in runs], [r[measure] for r in runs])
        benchmark.extra_info[f"{measure}_power_law"] = law
        assert math.isfinite(law["high"]) and law["high"] < 2.0, (measure, law)
