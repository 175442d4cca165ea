"""Untimed warm-up of a solver's compiled kernels on tiny economies with a real call's dtypes."""
from __future__ import annotations

import numpy as np

from gebench.markets import make_economy


def warm_up_on_tiny(solver, families: list[str]) -> None:
    """Compile a dynamic's kernels by running it on a 3-agent Fisher and exchange economy,
    with the dtypes and layouts of a real run (dense, and sparse for a solver that takes it);
    an economy the solver declines is passed over."""
    n = len(families)
    for model, owned in (("fisher", {"budget": np.ones(n)}), ("exchange", {"endowment": np.ones((n, 2))})):
        tiny = make_economy(model, families, np.ones((n, 2)), rho=0.5, **owned)
        for economy in (tiny, tiny.to_sparse()) if solver.sparse else (tiny,):
            if solver.skip(economy) is None:
                solver.run(economy, 1e-6, np.inf, 0)
