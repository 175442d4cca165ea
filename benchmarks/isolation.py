"""Runs in a worker process, so that a run that hangs, crashes or eats memory costs only itself.

The worker warms every solver up once (untimed), each warm-up under the warm-up
limit (`WarmUpLimit`, the suite's `warm_up_budget`), then takes tasks
one at a time over a pipe: a suite's run builds the economy (setup time,
recorded apart), calls `solve` with the suite's budget, and sends the record
back (`execute`, which the in-process runner shares); `gebench solve` sends one
solve (`solve_isolated`). Its data segment is capped
at the memory budget (RLIMIT_DATA: numpy's allocations fail with MemoryError,
recorded as `out_of_memory`). The parent waits for the budget plus a grace
period; a worker that overstays is killed and the run recorded as `timeout`,
a worker that dies (a segfault in compiled code, the kernel's OOM killer) is
recorded as `failed` with its signal, and either way a fresh worker takes the
next run. The run that waits for a (re)started worker records the start-up in
`worker_start_seconds`, apart from its own time. A warm-up that overstays its
limit, or kills the worker, gives the solver up: the worker is killed, a fresh
one warms the others up, and the solver's warm-up entry says why, so that the
sweep declines it as it declines a warm-up that raises.
"""
from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gebench.markets import load
from gebench.markets.io import json_safe
from gebench.solvers import Solver, Unavailable, Unsupported, solve

from .days import execute_stream, lost_stream
from .delivered import welfare_fields
from .records import PRICES_KEPT_UP_TO, stopped
from .suite import WARM_UP_BUDGET, FamilyLadder

GRACE_SECONDS = 2.0
START_SECONDS = 300.0       # for a worker to start (imports, unpickling the solvers) before its first warm-up
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_ENVIRONMENT = threading.Lock()     # a worker inherits os.environ as it is when it is spawned


def _limit_memory(megabytes: float | None) -> None:
    """Cap the data segment at the budget, and write no core file: a crashing run must die at once."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if megabytes:
        limit = min(int(megabytes * 2**20), 2**62)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def warm_up_all(solvers: dict[str, Solver], announce: Callable[[str], None] | None = None) -> dict:
    """Warm every solver up (untimed for the runs); name -> seconds, or why its warm-up failed.
    `announce(name)` is called before each warm-up, so that a worker's parent knows whose
    warm-up it is timing."""
    warm = {}
    for name, solver in solvers.items():
        if announce is not None:
            announce(name)
        t0 = time.perf_counter()
        try:
            solver.warm_up()
            warm[name] = time.perf_counter() - t0
        except Exception as exc:  # the sweep declines it with this reason; the others must not suffer
            warm[name] = " ".join(f"warm-up failed: {type(exc).__name__}: {exc}".split())
    return warm


def warm_up_failures(warm: dict) -> dict[str, str]:
    """Solver -> the message of its failed warm-up, from what `warm_up_all` returned."""
    return {name: value for name, value in warm.items() if isinstance(value, str)}


def thread_counts() -> dict:
    """The threads this process gives Numba and BLAS (as the environment set them at start)."""
    import numba
    return {"numba_threads": numba.get_num_threads(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}


def _cause(exitcode: int | None) -> str:
    """How a process ended, in words: its signal or its exit code."""
    return f"signal {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"


def _worker(conn, solvers: dict[str, Solver], memory_mb: float | None, given_up: frozenset = frozenset()) -> None:
    """Warm up the solvers not `given_up` (saying whose warm-up starts), then answer tasks
    ``(job, *args)`` with ``job(solvers, *args)`` until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle
    warm = warm_up_all({n: s for n, s in solvers.items() if n not in given_up},
                       lambda name: conn.send(("warming", name)))
    _limit_memory(memory_mb)
    # LLVM's crash handlers print a symbolised stack trace first, which can outlast the budget:
    # a run that crashes must die at once, so that it is recorded as a crash and not a hang
    for sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
        signal.signal(sig, signal.SIG_DFL)
    conn.send(("ready", {"warm_up_seconds": warm, **thread_counts()}))
    while True:
        task = conn.recv()
        if task is None:
            return
        job, *args = task
        conn.send(job(solvers, *args))


def execute(solvers: dict[str, Solver], ladder: FamilyLadder, size: int, seed: int, name: str,
            tol: float, budget: float) -> dict:
    """Build the economy (setup, timed apart) and solve it: the record fields of one run."""
    try:
        t0 = time.perf_counter()
        economy = ladder.economy(size, seed)
        setup = time.perf_counter() - t0
        result = solve(solvers[name], economy, tol, budget, seed)
    except Unsupported as exc:    # declined at this size (the plan asked at the smallest one)
        return stopped("declined", f"declined: {exc}")
    except MemoryError as exc:
        return stopped("out_of_memory", f"MemoryError outside the solver: {exc}")
    record = {k: v for k, v in result.to_dict(with_allocation=False).items() if k != "solver"}
    if record.get("prices") is None or len(record["prices"]) > PRICES_KEPT_UP_TO:
        record.pop("prices", None)
    if result.status == "failed" and result.message.startswith("MemoryError"):
        record["status"] = "out_of_memory"
    record["setup_seconds"] = setup
    if "game_resolution" in economy.meta:
        record["game_resolution"] = economy.meta["game_resolution"]
    record["central_reads"] = solvers[name].central_reads(economy, result.iterations)
    if ladder.welfare:
        record.update(json_safe(welfare_fields(economy, solvers[name], result, tol)))
    return record


def solve_file(solvers: dict[str, Solver], path: str, name: str, tol: float, time_limit: float,
               seed: int) -> dict:
    """`gebench solve`'s task: the judged result of one solver on the economy in `path`, as printed.
    The worker reads the file itself, so that the economy it hands the solver is read-only."""
    return solve(solvers[name], load(path), tol, time_limit, seed).to_dict()


def _receive(process, conn, seconds: float):
    """The worker's next message, or None if it sends none within `seconds` or ends first."""
    try:
        if conn in mp_connection.wait([conn, process.sentinel], seconds):
            return conn.recv()
    except (EOFError, OSError):
        pass
    return None


class WorkerLost(Exception):
    """A task got no reply: its worker was killed for overstaying (`status` "timeout"), or
    ended by itself or was stopped ("failed"; `cause` says how it ended)."""

    def __init__(self, status: str, message: str, seconds: float | None = None, cause: str = ""):
        super().__init__(message)
        self.status, self.message, self.seconds, self.cause = status, message, seconds, cause


@dataclass
class WarmUpLimit:
    """The seconds each solver's warm-up may take in a worker, and the solvers whose warm-up
    was given up (name -> why). The runners of one sweep share one, so that a warm-up that
    hangs costs the limit once, not once per worker."""

    seconds: float = WARM_UP_BUDGET
    given_up: dict[str, str] = field(default_factory=dict)


class InProcessRunner:
    """Runs in this process: no protection, no process start-up; for debugging and profiling."""

    def __init__(self, solvers: dict[str, Solver], memory_mb: float | None = None):
        self.solvers = solvers
        self.warm_up_seconds = warm_up_all(solvers)
        self.thread_counts = thread_counts()
        self.restarts = 0

    def run(self, ladder, size, seed, name, tol, budget) -> dict:
        return execute(self.solvers, ladder, size, seed, name, tol, budget)

    def run_stream(self, task: tuple, limit: float) -> list[dict]:
        return execute_stream(self.solvers, *task)

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


class IsolatedRunner:
    """One worker process at a time, replaced whenever a run kills it or overstays.

    With `threads` set, the worker (and every replacement) starts with that many
    threads for Numba and BLAS; otherwise with their defaults. `warm_up` limits each
    solver's warm-up (`WARM_UP_BUDGET` by default); runners that share one share what it
    gave up."""

    def __init__(self, solvers: dict[str, Solver], memory_mb: float | None = None, threads: int | None = None,
                 warm_up: WarmUpLimit | None = None):
        self.solvers, self.memory_mb, self.threads = solvers, memory_mb, threads
        self.warm_up = warm_up or WarmUpLimit()
        self.context = mp.get_context("spawn")
        self.process = self.conn = None
        self._stopping = threading.Lock()
        self.aborted = False
        self.warm_up_seconds: dict[str, float] = {}
        self.thread_counts: dict[str, int | str] = {}
        self.restarts = 0

    def start(self) -> float:
        """Spawn the worker and wait until it has warmed up; returns the seconds that took.
        A solver whose warm-up overstays the limit or kills the worker is given up, and a
        fresh worker warms up the others."""
        t0 = time.perf_counter()
        while not self._warmed_up(*self._spawn()):
            pass
        return time.perf_counter() - t0

    def _spawn(self) -> tuple:
        """(the new worker's process, the parent's end of its pipe), made visible to `_stop`."""
        if self.aborted:
            raise RuntimeError("the sweep was stopped: no new worker starts")
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, daemon=True,
                                       args=(child, self.solvers, self.memory_mb, frozenset(self.warm_up.given_up)))
        with _ENVIRONMENT:
            saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
            if self.threads is not None:
                os.environ.update({k: str(self.threads) for k in THREAD_VARIABLES})
            try:
                process.start()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        child.close()
        with self._stopping:         # only a started worker with its pipe is ever visible to _stop
            if self.aborted:
                process.kill()
                raise RuntimeError("the sweep was stopped: no new worker starts")
            self.process, self.conn = process, parent
        return process, parent

    def _warmed_up(self, process, conn) -> bool:
        """Follow the worker's warm-ups, each under the limit: True once it is ready, False when
        a warm-up overstayed or killed it (the worker is then stopped and that solver given up)."""
        warming = None                       # the solver whose warm-up the worker said it began
        while message := _receive(process, conn, START_SECONDS if warming is None else self.warm_up.seconds):
            kind, content = message
            if kind == "warming":
                warming = content
                continue
            warm = {**content.pop("warm_up_seconds"), **self.warm_up.given_up}
            self.warm_up_seconds = {name: warm[name] for name in self.solvers if name in warm}
            self.thread_counts = content
            return True
        if self.process is not process:      # aborted meanwhile: no warm-up is to blame
            raise RuntimeError("the sweep was stopped: no new worker starts")
        process.join(timeout=1.0)            # a worker that died must not pass for one that hangs
        alive, code = process.is_alive(), process.exitcode
        self._stop(kill=True)
        if warming is None:
            raise RuntimeError(f"the worker process did not start within {START_SECONDS:g} s" if alive else
                               f"the worker process died while starting ({_cause(code)})")
        self.warm_up.given_up[warming] = (f"warm-up did not finish within {self.warm_up.seconds:g} s" if alive
                                          else f"warm-up ended the worker process ({_cause(code)})")
        return False

    def _stop(self, kill: bool) -> None:
        # the sweep's thread and an abort (Ctrl-C, SIGTERM) may stop the same worker at once
        with self._stopping:
            process, conn = self.process, self.conn
            self.process = self.conn = None
        if process is None:
            return
        if kill:
            process.kill()
        else:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
        conn.close()

    def run(self, ladder: FamilyLadder, size: int, seed: int, name: str, tol: float, budget: float) -> dict:
        """The record fields of one run (status, seconds, iterations, certificate, ...), and
        `worker_start_seconds` when a worker had to be (re)started for it."""
        started = None if self.process is not None else self.start()
        try:
            record = self.ask((execute, ladder, size, seed, name, tol, budget), budget)
        except WorkerLost as lost:
            record = stopped(lost.status, lost.message, lost.seconds)
        if started is not None:
            record["worker_start_seconds"] = started
        return record

    def run_stream(self, task: tuple, limit: float) -> list[dict]:
        """The records of one stream of a days suite (`gebench.days.execute_stream`'s arguments
        after the solvers, in `task`), given `limit` seconds in all; a stream whose worker is
        lost records each of its days not yet recorded with the cause."""
        if self.process is None:
            self.start()
        try:
            return self.ask((execute_stream, *task), limit=limit)
        except WorkerLost as lost:
            days, names, skip = task[4], task[5], task[-1]
            return lost_stream(days, names, lost.status, f"the stream's {lost.message}", skip)

    def ask(self, task: tuple, budget: float = 0.0, limit: float | None = None) -> dict:
        """The worker's reply to `task` (``(job, *args)``, see `_worker`), given the budget's
        time plus grace: 1.5 x `budget` + `GRACE_SECONDS`, or `limit` seconds when given.
        Raises `WorkerLost` when the worker overstays (it is killed) or dies; either way the
        next task gets a fresh worker."""
        start = time.perf_counter()
        wait = 1.5 * budget + GRACE_SECONDS if limit is None else limit
        process, conn = self.process, self.conn
        try:
            conn.send(task)
            # wait on the process too: a crashed worker whose pipe stays open elsewhere still ends the wait
            ready = mp_connection.wait([conn, process.sentinel], wait)
            if conn in ready:
                return conn.recv()
        except (EOFError, OSError):
            pass
        if self.process is not process:      # aborted meanwhile: nobody records this run
            raise WorkerLost("failed", "the sweep was stopped")
        self.process.join(timeout=1.0)       # a worker that died must not pass for one that hangs
        elapsed = time.perf_counter() - start
        alive, code = self.process.is_alive(), self.process.exitcode
        self._stop(kill=True)
        self.restarts += 1
        if alive:
            allowed = f"{budget:g} s budget" if limit is None else f"{limit:g} s limit"
            raise WorkerLost("timeout", f"killed after {elapsed:.1f} s: the solver overstayed its {allowed}",
                             elapsed)
        raise WorkerLost("failed", f"the worker process died ({_cause(code)})", elapsed, _cause(code))

    def abort(self) -> None:
        """Kill the worker now, and start no other: the sweep is being stopped."""
        with self._stopping:
            self.aborted = True
        self._stop(kill=True)

    def close(self) -> None:
        self._stop(kill=False)


def solve_isolated(solver: Solver, path: str, tol: float, time_limit: float, seed: int,
                   warm_up_seconds: float = WARM_UP_BUDGET) -> dict:
    """`gebench solve` in a worker process: the result of `solver` on the economy in `path`, as
    printed (`Result.to_dict`), with limits that hold as in a suite. A warm-up that fails or
    overstays `warm_up_seconds` raises `Unavailable`; a run that overstays its `time_limit`
    (by the suite's grace) is killed and reported as `timeout`; a worker that ends without a
    result raises `WorkerLost` (its `cause` says how it ended)."""
    runner = IsolatedRunner({solver.name: solver}, warm_up=WarmUpLimit(warm_up_seconds))
    try:
        runner.start()
        warm = runner.warm_up_seconds[solver.name]
        if isinstance(warm, str):
            raise Unavailable(f"{solver.name}: {warm}")
        try:
            # absolute: a plugin's warm-up may change the worker's directory
            return runner.ask((solve_file, os.path.abspath(path), solver.name, tol, time_limit, seed), time_limit)
        except WorkerLost as lost:
            if lost.status != "timeout":
                raise
            return {"solver": solver.name, "status": "timeout", "prices": None, "allocation": None,
                    "iterations": None, "seconds": lost.seconds, "certificate": None,
                    "message": f"killed after {lost.seconds:.1f} s: the solver overstayed its {time_limit:g} s "
                               "time limit"}
    except BaseException:
        runner.abort()                       # Ctrl-C, or a refusal: the worker must not outlive the command
        raise
    finally:
        runner.close()
