"""Untimed warm-up of a solver's compiled kernels on tiny economies with a real call's dtypes."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from gebench.markets import Economy, certify, make_economy

from ..base import Yesterday


def next_day(economy: Economy) -> Economy:
    """The economy a day later: the first agent's endowment (exchange) or budget (Fisher) up
    by a tenth and every coefficient up by 5%, a drift that moves the equilibrium a little."""
    holdings = economy.endowment if economy.model == "exchange" else economy.budget
    first = np.ones(holdings.shape[0])
    first[0] = 1.1
    holdings = (sp.csr_array(sp.diags_array(first) @ holdings) if sp.issparse(holdings)
                else np.asarray(holdings, dtype=np.float64) * (first[:, None] if holdings.ndim == 2 else first))
    moved = {"endowment": holdings} if economy.model == "exchange" else {"budget": holdings}
    return replace(economy, a=economy.a * 1.05, name=f"{economy.name}, next day", **moved)


def yesterday_of(economy: Economy, outcome, tol: float = 1e-6) -> Yesterday:
    """What a carried solver keeps from its `outcome` on `economy` for the next day."""
    certified = outcome.prices is not None and outcome.allocation is not None and bool(
        np.sum(outcome.prices) > 0) and certify(economy, np.asarray(outcome.prices) / np.sum(outcome.prices),
                                                outcome.allocation).within(tol)
    return Yesterday(outcome.prices, outcome.allocation, dict(outcome.state), economy, certified, (), 1)


def warm_up_on_tiny(solver, families: list[str]) -> None:
    """Compile a dynamic's kernels by running it on a 3-agent Fisher and exchange economy,
    with the dtypes and layouts of a real run (dense, and sparse for a solver that takes it),
    and, for a solver that carries state (`Solver.carried`), on the next day from its own
    yesterday, so that the first carried day of a stream compiles nothing; an economy the
    solver declines is passed over."""
    n = len(families)
    for model, owned in (("fisher", {"budget": np.ones(n)}), ("exchange", {"endowment": np.ones((n, 2))})):
        tiny = make_economy(model, families, np.ones((n, 2)), rho=0.5, **owned)
        for economy in (tiny, tiny.to_sparse()) if solver.sparse else (tiny,):
            if solver.skip(economy) is None:
                outcome = solver.run(economy, 1e-6, np.inf, 0)
                if solver.carried:
                    solver.run(next_day(economy), 1e-6, np.inf, 0, yesterday=yesterday_of(economy, outcome))
