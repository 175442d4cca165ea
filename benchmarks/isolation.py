"""Runs in a worker process, so that a run that hangs, crashes or eats memory costs only itself.

The worker warms every solver up once (untimed), then takes runs one at a time
over a pipe: it builds the economy (setup time, recorded apart), calls `solve`
with the suite's budget, and sends the record back (`execute`, which the
in-process runner shares). Its data segment is capped
at the memory budget (RLIMIT_DATA: numpy's allocations fail with MemoryError,
recorded as `out_of_memory`). The parent waits for the budget plus a grace
period; a worker that overstays is killed and the run recorded as `timeout`,
a worker that dies (a segfault in compiled code, the kernel's OOM killer) is
recorded as `failed` with its signal, and either way a fresh worker takes the
next run. The run that waits for a (re)started worker records the start-up in
`worker_start_seconds`, apart from its own time.
"""
from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import resource
import signal
import threading
import time

from solvers import Solver, Unsupported, solve

from markets.io import json_safe

from .delivered import welfare_fields
from .records import PRICES_KEPT_UP_TO, stopped
from .suite import FamilyLadder

GRACE_SECONDS = 2.0
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_ENVIRONMENT = threading.Lock()     # a worker inherits os.environ as it is when it is spawned


def _limit_memory(megabytes: float | None) -> None:
    """Cap the data segment at the budget, and write no core file: a crashing run must die at once."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if megabytes:
        limit = min(int(megabytes * 2**20), 2**62)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def warm_up_all(solvers: dict[str, Solver]) -> dict:
    """Warm every solver up (untimed for the runs); name -> seconds, or why its warm-up failed."""
    warm = {}
    for name, solver in solvers.items():
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


def _worker(conn, solvers: dict[str, Solver], memory_mb: float | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle
    warm = warm_up_all(solvers)
    _limit_memory(memory_mb)
    # LLVM's crash handlers print a symbolised stack trace first, which can outlast the budget:
    # a run that crashes must die at once, so that it is recorded as a crash and not a hang
    for sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
        signal.signal(sig, signal.SIG_DFL)
    conn.send({"warm_up_seconds": warm, **thread_counts()})
    while True:
        task = conn.recv()
        if task is None:
            return
        conn.send(execute(solvers, *task))


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
    record["central_reads"] = solvers[name].central_reads(economy, result.iterations)
    if ladder.welfare:
        record.update(json_safe(welfare_fields(economy, solvers[name], result)))
    return record


class InProcessRunner:
    """Runs in this process: no protection, no process start-up; for debugging and profiling."""

    def __init__(self, solvers: dict[str, Solver], memory_mb: float | None = None):
        self.solvers = solvers
        self.warm_up_seconds = warm_up_all(solvers)
        self.thread_counts = thread_counts()
        self.restarts = 0

    def run(self, ladder, size, seed, name, tol, budget) -> dict:
        return execute(self.solvers, ladder, size, seed, name, tol, budget)

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


class IsolatedRunner:
    """One worker process at a time, replaced whenever a run kills it or overstays.

    With `threads` set, the worker (and every replacement) starts with that many
    threads for Numba and BLAS; otherwise with their defaults."""

    def __init__(self, solvers: dict[str, Solver], memory_mb: float | None = None, threads: int | None = None):
        self.solvers, self.memory_mb, self.threads = solvers, memory_mb, threads
        self.context = mp.get_context("spawn")
        self.process = self.conn = None
        self._stopping = threading.Lock()
        self.aborted = False
        self.warm_up_seconds: dict[str, float] = {}
        self.thread_counts: dict[str, int | str] = {}
        self.restarts = 0

    def start(self) -> float:
        """Spawn the worker and wait until it has warmed up; returns the seconds that took."""
        if self.aborted:
            raise RuntimeError("the sweep was stopped: no new worker starts")
        t0 = time.perf_counter()
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(child, self.solvers, self.memory_mb), daemon=True)
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
        try:
            hello = parent.recv()
        except (EOFError, OSError):
            process.join(timeout=5)
            raise RuntimeError(f"the worker process died while starting (exit code {process.exitcode})") from None
        self.warm_up_seconds = hello.pop("warm_up_seconds")
        self.thread_counts = hello
        return time.perf_counter() - t0

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
        record = self._run((ladder, size, seed, name, tol, budget), budget)
        if started is not None:
            record["worker_start_seconds"] = started
        return record

    def _run(self, task: tuple, budget: float) -> dict:
        start = time.perf_counter()
        process, conn = self.process, self.conn
        try:
            conn.send(task)
            # wait on the process too: a crashed worker whose pipe stays open elsewhere still ends the wait
            ready = mp_connection.wait([conn, process.sentinel], 1.5 * budget + GRACE_SECONDS)
            if conn in ready:
                return conn.recv()
        except (EOFError, OSError):
            pass
        if self.process is not process:      # aborted meanwhile: nobody records this run
            return stopped("failed", "the sweep was stopped")
        self.process.join(timeout=1.0)       # a worker that died must not pass for one that hangs
        elapsed = time.perf_counter() - start
        if self.process.is_alive():
            self._stop(kill=True)
            self.restarts += 1
            return stopped("timeout", f"killed after {elapsed:.1f} s: the solver overstayed its {budget:g} s budget",
                           elapsed)
        code = self.process.exitcode
        self._stop(kill=True)
        self.restarts += 1
        cause = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
        return stopped("failed", f"the worker process died ({cause})", elapsed)

    def abort(self) -> None:
        """Kill the worker now, and start no other: the sweep is being stopped."""
        with self._stopping:
            self.aborted = True
        self._stop(kill=True)

    def close(self) -> None:
        self._stop(kill=False)
