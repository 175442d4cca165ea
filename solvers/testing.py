"""The conformance kit: does a solver keep the `Solver` contract, and are its equilibria right?

`check_solver(MySolver)` runs every check and raises one `AssertionError` that
names each failed check; `solver_checks(MySolver)` returns the checks as
(name, callable) pairs for `pytest.mark.parametrize`, so that each one passes
or fails on its own (the pattern of scikit-learn's `check_estimator` and
`parametrize_with_checks`)::

    @pytest.mark.parametrize("name, check", solver_checks(MySolver), ids=lambda v: v if isinstance(v, str) else "")
    def test_conformance(name, check):
        check()

The checks use small economies whose equilibrium is known: Cobb-Douglas markets
(prices solve a linear system), symmetric markets whose equilibrium is unique
(a circulant Fisher market of any family; circulant CES exchange with 0 < rho < 1,
and circulant linear exchange where every agent prefers its own good: uniform
prices) and the Leontief economy of a matching-pennies
game (prices from its unique Nash equilibrium). Each check uses those the
solver accepts (`skip` returns None); only `check_equilibria` requires one.
A check that must run a solver which cannot work on this machine
(`Solver.unavailable`) raises `Unavailable`, which a test suite turns into a skip
with that reason.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from gebench.markets import UTILITY_NAMES, Economy, certify, make_economy
from gebench.markets.classic import mathiesen_1987, shoven_whalley_1984
from gebench.markets.closed_form import cobb_douglas_prices
from gebench.markets.games import equilibrium_from_nash, game_of, leontief_from_game
from gebench.markets.generators import build, generate
from gebench.markets.welfare import individual_rationality

from .base import STATUSES, Solver, Unsupported
from .judging import check_available, solve
from .kernels.warm_up import next_day, yesterday_of

TOL = 1e-7                 # the certificate tolerance the checks ask for
PRICE_TOL = 1e-3           # how close a converged answer's prices must be to the known ones
TIME_LIMIT = 0.5           # seconds given in the deadline check
DEADLINE_MARGIN = 1.0      # seconds a solver may overstay it: a last uninterruptible step (a program build)


def _circulant(n: int) -> np.ndarray:
    """A positive circulant matrix: every agent and good looks alike up to relabelling."""
    base = np.array([3.0, 2.0, 1.0] + [0.5] * (n - 3))[:n]
    return np.array([np.roll(base, i) for i in range(n)])


def _symmetric(model: str, utility: str, rho: float | None = None, n: int = 4) -> Economy:
    owned = {"budget": np.ones(n)} if model == "fisher" else {"endowment": np.eye(n) + 0.25}
    return make_economy(model, utility, _circulant(n), rho=rho, name=f"symmetric {model} {utility}", **owned)


def _matching_pennies() -> Economy:
    R = np.array([[2.0, 1.0], [1.0, 2.0]])
    return leontief_from_game(R, R[::-1], name="matching pennies")


def known_economies() -> list[tuple[Economy, np.ndarray]]:
    """(economy, its unique equilibrium prices summing to 1), for every model and family."""
    known = []
    for model in ("fisher", "exchange"):
        cd = generate(f"{model}-cobb-douglas", 5, 4, seed=11)
        known.append((cd, cobb_douglas_prices(cd)))
    uniform = np.full(4, 0.25)
    for utility, rho in (("linear", None), ("cobb-douglas", None), ("ces", 0.5), ("ces", -2.0), ("leontief", None)):
        known.append((_symmetric("fisher", utility, rho), uniform))
    known.append((_symmetric("exchange", "ces", 0.5), uniform))
    known.append((_symmetric("exchange", "linear"), uniform))
    game = _matching_pennies()
    prices, _ = equilibrium_from_nash(game, game_of(game), [1 / 3, 1 / 3], [1 / 3, 1 / 3])
    known.append((game, prices))
    for classic in (mathiesen_1987(), shoven_whalley_1984()):     # with producers, unique equilibria
        known.append((classic.economy, classic.equilibria[0]))
    return known


def _every_pair() -> list[Economy]:
    """One small economy of every (model, utility family) pair."""
    out = []
    for model in ("fisher", "exchange"):
        for utility in UTILITY_NAMES:
            out.append(_symmetric(model, utility, 0.5 if utility == "ces" else None))
    return out


def _accepted(solver: Solver, economies) -> list:
    return [e for e in economies if solver.skip(e[0] if isinstance(e, tuple) else e) is None]


def _first_accepted(solver: Solver) -> tuple[Economy, np.ndarray]:
    accepted = _accepted(solver, known_economies())
    if not accepted:
        raise AssertionError(f"{solver.name} accepts none of the kit's economies with a known equilibrium "
                             f"(declares models {sorted(solver.models)}, utilities {sorted(solver.utilities)})")
    return accepted[0]


def check_declarations(cls: type[Solver], params: dict) -> None:
    """Name, models, utilities, exactness and parameters are declared and of the right kind."""
    assert isinstance(cls.name, str) and cls.name and " " not in cls.name, f"name: a non-empty word, got {cls.name!r}"
    assert cls.models and set(cls.models) <= {"fisher", "exchange"}, f"models: got {set(cls.models)}"
    assert cls.utilities and set(cls.utilities) <= set(UTILITY_NAMES), f"utilities: got {set(cls.utilities)}"
    assert isinstance(cls.exact, bool), f"exact: a bool, got {cls.exact!r}"
    assert isinstance(cls.parameters, dict), "parameters: a dict of name -> default"
    solver = cls(**params)
    assert set(solver.params) == set(cls.parameters), "params: must hold every declared parameter"


def check_result_schema(cls: type[Solver], params: dict) -> None:
    """The result has the format's fields: a known status, prices >= 0 summing to 1, an
    (agents, goods) allocation, a non-negative iteration count."""
    solver = _ready(cls, params)
    economy, _ = _first_accepted(solver)
    result = solve(solver, economy, TOL, 10.0, 0)
    doc = result.to_dict()
    missing = {"solver", "status", "prices", "allocation", "iterations", "seconds", "certificate"} - set(doc)
    assert not missing, f"result: missing {sorted(missing)}"
    assert doc["status"] in STATUSES, f"status: {doc['status']!r} is not one of {STATUSES}"
    assert isinstance(doc["iterations"], int) and doc["iterations"] >= 0, f"iterations: got {doc['iterations']!r}"
    assert not doc.get("message", "").startswith("iterations:"), f"result: {doc['message']}"
    if doc["prices"] is not None:
        p = np.asarray(doc["prices"])
        assert p.shape == (economy.n_goods,) and np.all(np.isfinite(p)) and np.all(p >= 0), f"prices: got {p}"
        assert abs(p.sum() - 1) < 1e-9, f"prices: must sum to 1, sum to {p.sum()}"
        x = np.asarray(doc["allocation"])
        assert x.shape == (economy.n_agents, economy.n_goods), f"allocation: shape {x.shape}"
    else:
        assert doc["status"] != "converged", "status: converged without a point"


def check_honest_status(cls: type[Solver], params: dict) -> None:
    """`run` never reports `converged` where the independent certificate disagrees."""
    solver = _ready(cls, params)
    for economy, _ in _accepted(solver, known_economies()):
        outcome = solver.run(economy, TOL, time.perf_counter() + 10.0, 0)
        if outcome.status != "converged":
            continue
        assert outcome.prices is not None and outcome.allocation is not None, \
            f"{economy.name}: reported converged without prices and an allocation"
        prices = np.asarray(outcome.prices, float)
        certificate = certify(economy, prices / prices.sum(), outcome.allocation, outcome.levels)
        assert certificate.within(TOL), (f"{economy.name}: reported converged, but the certificate's worst "
                                         f"measure is {certificate.worst:.3g} > {TOL:g}")


def check_declared_support(cls: type[Solver], params: dict) -> None:
    """Economies outside the declared models and families are refused by `skip` with a reason,
    and `solve` raises `Unsupported` on them before any work."""
    solver = _ready(cls, params)
    for economy in _every_pair():
        declared = economy.model in cls.models and economy.utility_kinds <= set(cls.utilities)
        reason = solver.skip(economy)
        if declared:
            assert reason is None or (isinstance(reason, str) and reason), \
                f"{economy.name}: skip must return None or a reason"
            continue
        assert isinstance(reason, str) and reason, f"{economy.name}: not declared, yet skip gave {reason!r}"
        try:
            solve(solver, economy, TOL, 1.0, 0)
        except Unsupported:
            continue
        raise AssertionError(f"{economy.name}: not declared, yet solve ran it")


def check_deadline(cls: type[Solver], params: dict) -> None:
    """With a short time limit on a larger economy of its domain, the run ends within the
    limit plus a small margin, and says `timeout` if it did not finish. A solver that
    declares it cannot stop at its deadline (`interruptible = False`) must instead say
    `timeout` when it returns late, never `converged`: the harness's kill bounds its time."""
    solver = _ready(cls, params)
    economy = _large(solver)
    if not cls.interruptible:
        late = solve(solver, economy, 1e-12, 0.0, 0)
        assert late.status == "timeout", f"{economy.name}: run with a deadline already passed, it said {late.status}"
        return
    result = solve(solver, economy, 1e-12, TIME_LIMIT, 0)
    assert result.seconds <= TIME_LIMIT + DEADLINE_MARGIN, \
        f"{economy.name}: ran {result.seconds:.2f} s with a time limit of {TIME_LIMIT} s"


def check_same_seed_same_answer(cls: type[Solver], params: dict) -> None:
    """Two runs with the same seed give the same status, iterations and prices, bit for bit."""
    solver = _ready(cls, params)
    economy, _ = _first_accepted(solver)
    first, second = (solve(cls(**params), economy, TOL, 10.0, 7) for _ in range(2))
    assert first.status == second.status and first.iterations == second.iterations, \
        f"{economy.name}: {first.status}/{first.iterations} then {second.status}/{second.iterations}"
    same = (first.prices is None and second.prices is None) or np.array_equal(first.prices, second.prices)
    assert same, f"{economy.name}: prices differ between two runs with seed 7"


def check_equilibria(cls: type[Solver], params: dict) -> None:
    """On every economy with a known equilibrium that it accepts, a converged answer has the
    known prices; and it converges on at least one of them, unless it trades (`Solver.trades`):
    trade out of equilibrium changes incomes, so its rest points need not be Walrasian."""
    solver = _ready(cls, params)
    converged = 0
    for economy, truth in _accepted(solver, known_economies()):
        result = solve(solver, economy, TOL, 10.0, 0)
        if result.status != "converged":
            continue
        converged += 1
        error = np.max(np.abs(result.prices - truth))
        assert error <= PRICE_TOL, f"{economy.name}: prices {np.round(result.prices, 4)}, known {np.round(truth, 4)}"
    assert converged or cls.trades, \
        f"{solver.name} converged on none of the economies with a known equilibrium it accepts"


def check_trace(cls: type[Solver], params: dict) -> None:
    """An anytime trace's checkpoints come in order of time and iterations, before the run's
    end, each with a point of the economy's shape; a solver that trades (`Solver.trades`) holds
    a feasible allocation at every checkpoint and at the end, and leaves nobody worse off than
    without trade; one whose plan is carried out anyway (`Solver.executes`) delivers a
    feasible allocation."""
    solver = _ready(cls, params)
    for economy, _ in _accepted(solver, known_economies()) or [_first_accepted(solver)]:
        start = time.perf_counter()
        outcome = solver.run(economy, TOL, start + 10.0, 0)
        end = time.perf_counter()
        clocks = [c.clock for c in outcome.trace]
        steps = [c.iterations for c in outcome.trace]
        assert clocks == sorted(clocks) and all(start <= t <= end for t in clocks), \
            f"{economy.name}: checkpoint clocks out of order or outside the run"
        assert steps == sorted(steps) and all(k <= outcome.iterations for k in steps), \
            f"{economy.name}: checkpoint iterations {steps} out of order or past the run's {outcome.iterations}"
        for c in outcome.trace:
            assert np.shape(c.prices) == (economy.n_goods,) and c.allocation.shape == economy.a.shape, \
                f"{economy.name}: a checkpoint's point has the wrong shape"
        if not (cls.trades or cls.executes) or outcome.allocation is None:
            continue
        for allocation in [c.allocation for c in outcome.trace] + [outcome.allocation]:
            x = allocation.toarray() if sp.issparse(allocation) else np.asarray(allocation)
            over = (x.sum(axis=0) - economy.total_supply) / economy.total_supply
            assert x.min() >= 0 and over.max() <= 1e-9, f"{economy.name}: a delivered allocation is not feasible"
            if not cls.trades:
                continue          # a plan carried out at stale prices may leave an agent worse off
            assert np.abs(over).max() <= 1e-9, f"{economy.name}: goods were lost in trade"
            loss = individual_rationality(economy, x)
            assert loss <= 1e-9, f"{economy.name}: an agent lost {loss:.3g} of its utility without trade"


def check_no_mutation(cls: type[Solver], params: dict) -> None:
    """The economy is the same after a run as before it, arrays and metadata alike."""
    solver = _ready(cls, params)
    economy, _ = _first_accepted(solver)
    before = _snapshot(economy)
    solve(solver, economy, TOL, 10.0, 0)
    after = _snapshot(economy)
    changed = [k for k in before if not _equal(before[k], after[k])]
    assert not changed, f"{economy.name}: the run changed {', '.join(changed)}"


def check_sparse(cls: type[Solver], params: dict) -> None:
    """A solver that declares `sparse` gives, on the CSR form of each known economy it accepts,
    the status and (within PRICE_TOL) the prices it gives on the dense form, with a CSR
    allocation, and leaves the sparse economy as it was; any other solver refuses sparse
    economies in `skip`."""
    solver = _ready(cls, params)
    accepted = [(e, p) for e, p in _accepted(solver, known_economies()) if not e.production]  # dense only
    if not cls.sparse:
        for economy, _ in accepted:
            reason = solver.skip(economy.to_sparse())
            assert isinstance(reason, str) and reason, \
                f"{economy.name}: sparse is not declared, yet skip accepted its sparse form"
        return
    for economy, _ in accepted:
        csr = economy.to_sparse()
        dense, sparse = solve(solver, economy, TOL, 10.0, 0), solve(solver, csr, TOL, 10.0, 0)
        assert sparse.status == dense.status, f"{economy.name}: {dense.status} dense, {sparse.status} sparse"
        if dense.status == "converged":
            error = np.max(np.abs(dense.prices - sparse.prices))
            assert error <= PRICE_TOL, f"{economy.name}: sparse prices differ from dense ones by {error:.3g}"
        if sparse.allocation is not None:
            assert sp.issparse(sparse.allocation) and sparse.allocation.shape == (csr.n_agents, csr.n_goods), \
                f"{economy.name}: a sparse economy needs a CSR allocation, got {type(sparse.allocation).__name__}"
        before = _snapshot(csr)
        solve(solver, csr, TOL, 10.0, 0)
        changed = [k for k, v in _snapshot(csr).items() if not _equal(before[k], v)]
        assert not changed, f"{economy.name}: the sparse run changed {', '.join(changed)}"


def _point(outcome, economy: Economy) -> None:
    assert outcome.status in STATUSES, f"{economy.name}: status {outcome.status!r}"
    assert outcome.prices is None or np.shape(outcome.prices) == (economy.n_goods,), \
        f"{economy.name}: prices of the wrong shape"
    assert outcome.allocation is None or outcome.allocation.shape == economy.a.shape, \
        f"{economy.name}: an allocation of the wrong shape"
    assert isinstance(outcome.state, dict), f"{economy.name}: state must be a dict, got {type(outcome.state)}"


def check_carries(cls: type[Solver], params: dict) -> None:
    """A solver that starts a day from what it kept (`Solver.carried`) runs the next day of a
    drifting economy from its own `Yesterday`: with none (a stream's first day), from
    yesterday's point and state, from an empty state, and with an agent new today; it gives
    the same answer when handed the same `Yesterday` twice, and never changes it. Only a
    class that `carries` may be carried."""
    solver = _ready(cls, params)
    assert cls.carries or not solver.carried, "carried is True, but the class does not declare carries"
    if not solver.carried:
        return
    economy, _ = _first_accepted(solver)
    today = next_day(economy)
    first = solver.run(economy, TOL, time.perf_counter() + 10.0, 0, yesterday=None)
    _point(first, economy)
    yesterday = yesterday_of(economy, first, TOL)
    kept = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in first.state.items()}
    answers = []
    for handed in (yesterday, yesterday, replace(yesterday, state={}), replace(yesterday, arrived=(0,))):
        outcome = solver.run(today, TOL, time.perf_counter() + 10.0, 0, yesterday=handed)
        _point(outcome, today)
        answers.append(outcome)
    same = answers[0].prices is None and answers[1].prices is None or (
        answers[0].prices is not None and answers[1].prices is not None
        and np.array_equal(answers[0].prices, answers[1].prices))
    assert same and answers[0].status == answers[1].status, \
        f"{today.name}: two runs from the same yesterday differ"
    assert yesterday.state.keys() == kept.keys() and all(
        _equal(kept[k], yesterday.state[k]) for k in kept), f"{today.name}: the run changed yesterday's state"


CHECKS: tuple[Callable[[type[Solver], dict], None], ...] = (
    check_declarations, check_result_schema, check_honest_status, check_declared_support,
    check_deadline, check_same_seed_same_answer, check_equilibria, check_trace, check_no_mutation, check_sparse,
    check_carries)


def solver_checks(cls: type[Solver], **params) -> list[tuple[str, Callable[[], None]]]:
    """(check name, a no-argument callable) for each check, for `pytest.mark.parametrize`."""
    return [(check.__name__, _bound(check, cls, params)) for check in CHECKS]


def check_solver(cls: type[Solver], **params) -> None:
    """Run every check; raise one AssertionError naming each that failed and why."""
    failures = []
    for name, check in solver_checks(cls, **params):
        try:
            check()
        except Exception as exc:  # every check reports, whatever the others do
            failures.append(f"{name}: {type(exc).__name__}: {exc}" if not isinstance(exc, AssertionError)
                            else f"{name}: {exc}")
    if failures:
        raise AssertionError(f"{cls.__name__} failed {len(failures)} of {len(CHECKS)} checks:\n  "
                             + "\n  ".join(failures))


def _bound(check, cls, params):
    def run() -> None:
        check(cls, params)
    run.__name__ = run.__qualname__ = check.__name__
    return run


def _ready(cls: type[Solver], params: dict) -> Solver:
    """An instance, warmed up; `Unavailable` where it cannot work here, so a check that needs
    to run the solver says so instead of failing on the environment."""
    return warmed(cls, **params)


def warmed(solver: type[Solver] | str, **params) -> Solver:
    """An instance of a solver class (or of a registered spec such as ``"eisenberg-gale"``),
    warmed up for tests and benchmarks; `Unavailable` where it cannot work here."""
    if isinstance(solver, str):
        from .registry import create
        instance = create(solver)
    else:
        instance = solver(**params)
    check_available(instance)
    instance.warm_up()
    return instance


def _large(solver: Solver) -> Economy:
    """A larger economy of the solver's domain for the deadline check: a random market of 120
    agents and goods, the 14 x 14 hard game for game solvers, or a random production economy
    of 120 agents and goods."""
    candidates = [generate(f"{model}-{utility}", 120, 120, seed=5, rho=0.5 if utility == "ces" else None)
                  for model in sorted(solver.models) for utility in sorted(solver.utilities)]
    candidates.append(build("leontief-game-hard", 14, 0))
    candidates.append(generate("production-ces", 120, 120, seed=5))
    accepted = _accepted(solver, candidates)
    if not accepted:
        raise AssertionError(f"{solver.name} accepts none of the kit's large economies")
    return accepted[0]


def _snapshot(economy: Economy) -> dict:
    def copy(v):
        if sp.issparse(v):
            return tuple(np.array(part, copy=True) for part in (v.data, v.indices, v.indptr))
        return np.array(v, copy=True) if isinstance(v, np.ndarray) else repr(v)
    return {k: copy(v) for k, v in vars(economy).items() if not k.startswith("_")}


def _equal(a, b) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b
