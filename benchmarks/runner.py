"""Run a suite: every applicable solver on every economy of every ladder, one JSON line per run.

The wall rule: once a solver runs out of its time budget at some size of a
family, the larger sizes of that family are recorded as `beyond_wall` for it. In a welfare
suite a trader (`Solver.trades`) is never walled: at its deadline it delivers what its
agents hold, which is a measurement at every size, not a failure. The run
directory's files and the record's fields are those of docs/format.md, "Run directories".
"""
from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from tqdm import tqdm

from gebench.markets import InputError
from gebench.solvers import Solver, create
from gebench.solvers.registry import available

from . import records
from .days import day_start, stream_limit
from .executors import make_executor
from .records import META_FILE, RUNS_FILE, RunDirectory, RunLock, read_meta, read_runs, run_key
from .suite import Suite, machine_memory_mb

__all__ = ["META_FILE", "RUNS_FILE", "Plan", "RunLock", "make_plan", "read_meta", "read_runs", "run_key",
           "run_suite", "worker_cap"]


@dataclass
class Plan:
    """For each ladder, the solvers that apply to it (and why the others do not)."""

    suite: Suite
    solvers: dict[str, Solver]
    applicable: dict[str, list[str]]          # ladder label -> solver names
    declined: dict[str, dict[str, str]]       # ladder label -> solver name -> reason
    unavailable: dict[str, str] = field(default_factory=dict)   # solver -> why it cannot run here
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)  # days suite: label -> reference names

    @property
    def used(self) -> dict[str, Solver]:
        """The solvers some ladder runs, as a method or as a days suite's reference."""
        names = {n for names in self.applicable.values() for n in names}
        names |= {n for names in self.references.values() for n in names}
        return {name: s for name, s in self.solvers.items() if name in names}

    def make_unavailable(self, name: str, reason: str) -> None:
        """Decline `name` on every ladder that would run it: it cannot work in this environment
        (`Solver.unavailable`, or a warm-up that raised), so it runs nothing and fails nothing."""
        self.unavailable[name] = reason
        for label, names in self.applicable.items():
            if name in names:
                names.remove(name)
                self.declined[label][name] = f"unavailable: {reason}"
        self.references = {label: tuple(n for n in names if n != name) for label, names in self.references.items()}

    def describe(self) -> list[str]:
        """The plan as lines: per ladder its sizes, runs and solvers, and why each other solver declined."""
        suite = self.suite
        if suite.days is not None:
            return self._describe_days()
        lines = [f"suite {suite.name}: {len(suite.seeds)} seeds, tolerance {suite.tolerance:g}, "
                 f"budget {suite.time_budget:g} s per run"]
        for ladder in suite.ladders:
            names = self.applicable[ladder.label]
            runs = len(ladder.sizes) * sum(len(ladder.seeds(suite.seeds, self.solvers[n])) for n in names)
            once = (f" (deterministic: seed {suite.seeds[0]} only, but for solvers whose start the seed draws)"
                    if len(ladder.seeds(suite.seeds)) < len(suite.seeds) else "")
            lines.append(f"  {ladder.label}: {ladder.size_name} in {list(ladder.sizes)}; {runs} runs{once}: "
                         f"{', '.join(self.applicable[ladder.label]) or 'no solver applies'}")
            lines += self._declined_lines(ladder.label)
        return lines + self._unavailable_lines()

    def _declined_lines(self, label: str) -> list[str]:
        """Why each solver the ladder does not run declined it, a line each."""
        return [f"      declined by {name}: {'unavailable here (below)' if name in self.unavailable else reason}"
                for name, reason in sorted(self.declined[label].items())]

    def _unavailable_lines(self) -> list[str]:
        return [f"  {name} is unavailable here and runs nothing: {reason}"
                for name, reason in sorted(self.unavailable.items())]

    def _describe_days(self) -> list[str]:
        suite, days = self.suite, self.suite.days
        regimes = ", ".join(f"{r.name} (sigma {r.sigma:g}, churn {r.churn:g}, shocks {r.shock_rate:g})"
                            for r in days.regimes)
        lines = [f"suite {suite.name}: streams of {days.days} days in {len(days.regimes)} regimes: {regimes}; "
                 f"{len(suite.seeds)} seeds, tolerance {suite.tolerance:g}, budget {suite.time_budget:g} s a day"]
        for ladder in suite.ladders:
            names = self.applicable[ladder.label]
            streams = len(ladder.sizes) * len(days.regimes) * len(suite.seeds)
            lines.append(f"  {ladder.label}: {ladder.size_name} in {list(ladder.sizes)}; {streams} streams, "
                         f"{streams * days.days * len(names)} method-days: {', '.join(names) or 'no solver applies'}; "
                         f"each day's equilibrium by {' or '.join(self.references[ladder.label])}")
            lines += self._declined_lines(ladder.label)
        return lines + self._unavailable_lines()

    def estimate(self, reference: Path | None = None) -> list[str]:
        """How long the plan should take, as lines: at most every run's full budget; and, from
        a reference run directory, the seconds those same runs took there (a run there that
        overran its budget counts 1.5 budgets at most)."""
        budget = self.suite.time_budget
        planned = self.runs
        days = self.suite.days
        if days is not None:
            streams = [(ladder, len(self.applicable[ladder.label])) for ladder in self.suite.ladders
                       for _ in range(len(ladder.sizes) * len(days.regimes) * len(self.suite.seeds))]
            most = sum(stream_limit(days.days, methods, len(self.references[ladder.label]), budget,
                                    days.reference_budget) for ladder, methods in streams if methods)
            return [f"{len(planned)} runs (a method's day each) in {len(streams)} streams; at most {most / 60:.0f} min "
                    f"if every day of every method and reference used its whole budget"]
        lines = [f"{len(planned)} runs; at most {len(planned) * budget / 60:.0f} min "
                 f"if every run used its whole budget (the wall rule skips most of that)"]
        if reference is not None:
            seen: dict[tuple, list[float]] = {}
            for r in read_runs(reference):
                seen.setdefault(run_key(r), []).append((r["seconds"] or 0.0) + (r.get("setup_seconds") or 0.0))
            known = [k for k in planned if k in seen]
            seconds = sum(min(seen[k][0], budget * 1.5) for k in known)
            unknown = len(planned) - len(known)
            lines.append(f"estimate from {reference}: {seconds / 60:.1f} min for the {len(known)} runs it has"
                         + (f", plus up to {unknown * budget / 60:.0f} min for {unknown} it does not"
                            if unknown else ""))
        return lines

    @property
    def runs(self) -> list[tuple]:
        """(ladder label, size, seed, solver) of every run the suite asks for, in run order;
        with (regime, day) after it in a days suite (`gebench.records.run_key`)."""
        days = self.suite.days
        if days is not None:
            return [(ladder.label, size, seed, name, regime.name, t) for ladder in self.suite.ladders
                    for size in ladder.sizes for regime in days.regimes for seed in self.suite.seeds
                    for t in range(days.days) for name in self.applicable[ladder.label]]
        return [(ladder.label, size, seed, name) for ladder in self.suite.ladders for size in ladder.sizes
                for seed in self.suite.seeds for name in self.applicable[ladder.label]
                if seed in ladder.seeds(self.suite.seeds, self.solvers[name])]


def make_plan(suite: Suite, extra_solvers: list[Solver] = ()) -> Plan:
    """Each ladder's solvers (its own list, else the suite's, else all registered) that accept
    its smallest economy; solvers passed in `extra_solvers` join every ladder. A solver that
    cannot work in this environment (`Solver.unavailable`) is declined everywhere with its reason."""
    def specs_for(listed):
        return listed if listed is not None else tuple(available())
    wanted = sorted({spec for ladder in suite.ladders for spec in specs_for(ladder.solvers or suite.solvers)}
                    | {spec for ladder in suite.ladders for spec in ladder.reference})
    created = {spec: create(spec) for spec in wanted}
    solvers: dict[str, Solver] = {}
    origins: dict[str, str] = {}
    for spec, solver in [*created.items(), *((repr(s), s) for s in extra_solvers)]:
        if solver.name in solvers and repr(solvers[solver.name]) != repr(solver):
            raise InputError(f"solvers: {origins[solver.name]!r} and {spec!r} are both named {solver.name!r}; "
                             "a sweep runs one solver of each name (records are keyed by it)")
        solvers.setdefault(solver.name, solver)
        origins.setdefault(solver.name, spec)
    extra = {s.name for s in extra_solvers}
    applicable, declined = {}, {}
    for ladder in suite.ladders:
        probe = ladder.economy(ladder.sizes[0], suite.seeds[0])
        candidates = {created[spec].name for spec in specs_for(ladder.solvers or suite.solvers)} | extra
        reasons = {name: (suite.days is not None and _days_reason(solver)) or solver.skip(probe)
                   for name, solver in solvers.items() if name in candidates}
        applicable[ladder.label] = [n for n, r in reasons.items() if r is None]
        declined[ladder.label] = {n: r for n, r in reasons.items() if r is not None}
    references = {ladder.label: tuple(created[spec].name for spec in ladder.reference) for ladder in suite.ladders}
    for name in {n for names in references.values() for n in names}:
        if _days_reason(solvers[name]):
            raise InputError(f"reference: {name} {_days_reason(solvers[name])}")
    plan = Plan(suite, solvers, applicable, declined, references=references)
    for name, solver in solvers.items():
        reason = solver.unavailable()
        if reason:
            plan.make_unavailable(name, reason)
    return plan


def _days_reason(solver: Solver) -> str | None:
    """Why a days suite cannot run `solver`, or None: a stream's days share one worker process,
    so a day that overstays cannot be killed alone, and the solver must stop at its deadline."""
    if not solver.interruptible:
        return ("cannot stop at its deadline (interruptible = False): a stream's days share one worker, "
                "so a day cannot be cut alone")
    return None


def worker_cap(requested: int, memory_budget_mb: float) -> tuple[int, str]:
    """(workers, why they are fewer than asked, or ""): at most one per core, and no more
    than the machine's memory holds at the memory budget each."""
    if requested < 1:
        raise InputError(f"--workers: must be >= 1, got {requested}")
    cores = os.cpu_count() or 1
    memory = machine_memory_mb()
    by_memory = max(1, int(memory // memory_budget_mb)) if memory else requested
    workers = min(requested, cores, by_memory)
    if workers == requested:
        return workers, ""
    reasons = []
    if workers == cores:
        reasons.append(f"this machine has {cores} cores, and more workers would slow each other's runs")
    if workers == by_memory:
        reasons.append(f"{memory / 1024:.1f} GiB of memory holds {by_memory} runs at the suite's memory "
                       f"budget of {memory_budget_mb:g} MiB")
    return workers, "; ".join(reasons)


def environment() -> dict:
    """Provenance recorded once per run directory."""
    versions = {}
    for dist in ("gebench", "numpy", "scipy", "cvxpy", "clarabel", "numba", "matplotlib", "distributed", "gamspy",
                 "python-flint"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu,
            "cores": os.cpu_count(), "numba_threads": _numba_threads(), "versions": versions,
            "commit": commit}


def _numba_threads() -> int:
    import numba
    return numba.get_num_threads()


def run_suite(suite: Suite, results: Path = Path("results"), extra_solvers: list[Solver | str] = (),
              progress: bool | None = None, resume: Path | None = None, isolate: bool = True,
              workers: int = 1, executor: str = "local", scheduler: str | None = None,
              announce: Callable[[Plan], None] | None = None) -> Path:
    """Run the suite into a new directory under `results`, or finish the interrupted run in
    `resume` (whose stored suite file is then the suite): runs already recorded are neither
    redone nor duplicated, and budget hits already recorded keep walling larger sizes.
    `extra_solvers` (instances, or specs such as ``path/to/file.py:Class``, which meta.json
    records for a resume) join every ladder whose economies they accept.

    Each run executes in a worker process (`gebench.isolation`) unless `isolate` is False,
    on this machine (`executor="local"`, `workers` at once) or on a dask cluster
    (`executor="dask"`: the one at `scheduler`, else a LocalCluster of `workers`); see
    `gebench.executors`. All runs of one size (seeds and solvers) go out at once and sizes
    run in order, so the wall rule decides exactly as in a sequential sweep. A solver whose
    warm-up raises is declined for the whole sweep with the warm-up's message, like one that
    is unavailable, and so is one whose warm-up in a worker process overstays the suite's
    `warm_up_budget` (the worker is killed; the reason says so).

    Parameters
    ----------
    suite : Suite
        The suite to run (for a resume, the one stored in the run directory).
    results : Path, optional
        The parent directory of the new run directory; made if missing.
    extra_solvers : list of Solver or str, optional
        Solvers that join every ladder whose economies they accept.
    progress : bool or None, optional
        Show a progress bar; None shows one on a terminal.
    resume : Path or None, optional
        An interrupted run directory to finish instead of starting a new one.
    isolate : bool, optional
        Run each solver in a worker process (hard budgets, crash protection); False runs
        them in this process.
    workers : int, optional
        Runs at once.
    executor : {"local", "dask"}, optional
        Local worker processes, or a dask.distributed cluster.
    scheduler : str or None, optional
        With ``executor="dask"``, the address of an existing cluster's scheduler.
    announce : callable or None, optional
        Called with the final `Plan` before the first run.

    Returns
    -------
    Path
        The run directory.

    Raises
    ------
    InputError
        If `results` cannot hold a run directory, `resume` is not a run directory or is in
        use by another gebench process, or a solver spec or the plan is refused.
    Interrupted
        On Ctrl-C or SIGTERM (`Terminated`) during the sweep, with the run directory to
        resume.
    WriteFailed
        If a record cannot be written (a full disk).
    """
    specs = [s for s in extra_solvers if isinstance(s, str)]
    results = Path(results)
    if results.exists() and not results.is_dir():
        raise InputError(f"--results: {results} exists and is not a directory")
    if resume is None:
        try:
            results.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--results: cannot make {results}: {exc.strerror}") from None
        if not os.access(results, os.W_OK | os.X_OK):
            raise InputError(f"--results: {results} is not writable")
    lock = RunLock(Path(resume)) if resume is not None else None
    try:
        plan = make_plan(suite, [create(s) if isinstance(s, str) else s for s in extra_solvers])
        pool = make_executor(executor, plan.used, suite.memory_budget, workers, isolate, scheduler,
                             suite.warm_up_budget)
        try:
            for name, message in pool.warm_up_failures().items():
                plan.make_unavailable(name, message)
            if announce is not None:
                announce(plan)
            if resume is None:
                out = RunDirectory.create(results, suite.name)
                lock = out.lock()
                out.write_suite(suite.source)
            else:
                out = RunDirectory(resume)
                out.prepare_resume()
            try:
                return _sweep(suite, plan, pool, out, progress, specs)
            except KeyboardInterrupt as exc:      # Ctrl-C, or SIGTERM (see `Terminated`)
                pool.abort()
                raise Interrupted(out.path, exc) from None
        finally:
            pool.close()
    finally:
        if lock is not None:
            lock.release()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the command's handler so that it stops a sweep as Ctrl-C does."""


class Interrupted(Exception):
    """A sweep stopped by Ctrl-C or SIGTERM: its records so far are in `run_dir`, and
    ``gebench run --resume run_dir`` finishes it."""

    def __init__(self, run_dir: Path, cause: BaseException):
        super().__init__(f"interrupted: {run_dir}")
        self.run_dir, self.terminated = run_dir, isinstance(cause, Terminated)


def _sweep(suite: Suite, plan: Plan, pool, out: RunDirectory, progress: bool | None, specs: list[str]) -> Path:
    done = out.done()
    meta = out.read_meta()
    if not meta:
        meta = {"run_id": out.name, "suite": suite.name, "tolerance": suite.tolerance,
                "time_budget": suite.time_budget, "memory_budget_mb": suite.memory_budget,
                **pool.describe(), "seeds": list(suite.seeds),
                "solvers": {n: {"exact": s.exact, "params": s.params} for n, s in plan.solvers.items()},
                "declined": plan.declined, "unavailable": plan.unavailable, "extra_solvers": specs,
                "environment": environment()}
    else:
        meta.setdefault("resumed", []).append({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **pool.describe(),
                                               "runs_already_done": len(done), "unavailable": plan.unavailable,
                                               "environment": environment()})
        # solvers added at this resume are kept, so that the next resume runs them too
        meta["extra_solvers"] = list(dict.fromkeys(meta.get("extra_solvers", []) + specs))
        for name, solver in plan.solvers.items():
            meta.setdefault("solvers", {}).setdefault(name, {"exact": solver.exact, "params": solver.params})
    out.write_meta(meta)

    bar = tqdm(total=len(plan.runs) - len(done), desc=suite.name, unit="run",
               disable=None if progress is None else not progress)
    with out.appender() as handle, (ThreadPoolExecutor(pool.slots) if pool.slots > 1 else _Inline()) as threads:
        try:
            sweep = _ladders if suite.days is None else _streams
            sweep(suite, plan, pool, out, done, handle, threads, bar)
        except (KeyboardInterrupt, records.WriteFailed):         # Ctrl-C, SIGTERM, a full disk
            threads.shutdown(wait=False, cancel_futures=True)     # no queued run starts
            pool.abort()                   # the runs in flight end now, so the threads can finish
            raise
    bar.close()
    return out.path


def _ladders(suite: Suite, plan: Plan, pool, out: RunDirectory, done: dict, handle, threads, bar) -> None:
    """Every ladder in order, size by size, under the wall rule; one record per run, written
    as soon as its run ends (with one worker, before the next run starts), so that a sweep
    stopped by Ctrl-C loses only the runs in flight."""

    def walls(ladder, name: str) -> bool:
        return not (ladder.welfare and plan.solvers[name].trades)

    def finish(future, record) -> None:
        record.update(future.result())
        if record["status"] == "timeout" and walls(ladder, record["solver"]):
            walled.setdefault(record["solver"], size)
        handle.append(record)
        bar.update()

    for ladder in suite.ladders:
        walled: dict[str, int] = {}      # solver -> size at which it hit the budget
        for size in ladder.sizes:
            pending = {}
            for seed in suite.seeds:
                for name in plan.applicable[ladder.label]:
                    if seed not in ladder.seeds(suite.seeds, plan.solvers[name]):
                        continue
                    key = (ladder.label, size, seed, name)
                    if key in done:
                        if done[key]["status"] == "timeout" and walls(ladder, name):
                            walled.setdefault(name, size)
                        continue
                    record = records.start(out.name, ladder, size, seed, plan.solvers[name],
                                           suite.tolerance_of(ladder), suite.time_budget)
                    if name in walled and size > walled[name]:
                        record.update(records.stopped("beyond_wall", f"hit the time budget at {ladder.size_name} = "
                                                                 f"{walled[name]}"))
                        handle.append(record)
                        bar.update()
                    else:
                        future = threads.submit(pool.run, ladder, size, seed, name, suite.tolerance_of(ladder),
                                                suite.time_budget)
                        if future.done():            # one worker runs it on submission
                            finish(future, record)
                        else:
                            pending[future] = record
            bar.set_postfix_str(f"{ladder.label} {ladder.size_name}={size}", refresh=False)
            for future in as_completed(pending):
                finish(future, pending[future])


def _streams(suite: Suite, plan: Plan, pool, out: RunDirectory, done: dict, handle, threads, bar) -> None:
    """Every stream of a days suite (`gebench.days`), each in one worker in day order, the
    streams in parallel; a stream's records are written when it ends, and a resumed stream
    runs again from day 0 (its methods' state is carried) and records only its missing days."""
    days = suite.days
    pending = {}
    for ladder in suite.ladders:
        names = tuple(plan.applicable[ladder.label])
        if not names:
            continue
        tol = suite.tolerance_of(ladder)
        for size in ladder.sizes:
            for regime in days.regimes:
                for seed in suite.seeds:
                    recorded = frozenset((n, t) for n in names for t in range(days.days)
                                         if (ladder.label, size, seed, n, regime.name, t) in done)
                    if len(recorded) == len(names) * days.days:
                        continue
                    task = (ladder, size, seed, regime, days.days, names, tol, suite.time_budget,
                            days.reference_budget, recorded)
                    limit = stream_limit(days.days, len(names), len(ladder.reference), suite.time_budget,
                                         days.reference_budget)
                    pending[threads.submit(pool.run_stream, task, limit)] = (ladder, size, seed, regime, tol)
    for future in as_completed(pending):
        ladder, size, seed, regime, tol = pending[future]
        bar.set_postfix_str(f"{ladder.label} {regime.name} {ladder.size_name}={size} seed {seed}", refresh=False)
        for fields in future.result():
            record = day_start(out.name, ladder, size, seed, regime, plan.solvers[fields["solver"]], tol,
                               suite.time_budget)
            record.update(fields)
            handle.append(record)
            bar.update()


class _Inline:
    """An executor that runs each task as it is submitted, in the caller's thread: with one
    slot there is nothing to overlap, and profilers and debuggers see the runs."""

    def submit(self, fn, *args) -> Future:
        future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # Ctrl-C and SIGTERM go straight up and stop the sweep
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass
