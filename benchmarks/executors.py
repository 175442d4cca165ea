"""Where the runs of a sweep execute: a local pool of worker processes, or a dask cluster.

The sweep loop in `gebench.runner` (run order, the wall rule, the records)
talks to either through the same six things: `slots` (runs at once),
`run(ladder, size, seed, solver, tol, budget) -> record fields` (blocking,
thread-safe), `run_stream(task, limit) -> records` (a days suite's stream, in
one process), `warm_up_failures()` (solver -> why its warm-up raised, so the
sweep declines it), `describe()` (what meta.json records) and `abort()` (stop
every run in flight at once, on Ctrl-C or SIGTERM). Both hand every run to
an `IsolatedRunner`, so budgets, memory limits and crash handling are the same.

With dask, cancelling a running task does not stop it (dask/distributed issues
#4694 and #2617), so the limit is enforced inside the task: each dask worker
keeps warmed-up child processes of its own, one per run it executes at once,
and kills a child that overstays exactly as the local pool does.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import socket
import uuid

from gebench.markets import InputError
from gebench.solvers import Solver

from .days import lost_stream
from .isolation import InProcessRunner, IsolatedRunner, WarmUpLimit, warm_up_failures
from .records import stopped
from .suite import WARM_UP_BUDGET


class LocalExecutor:
    """`workers` warmed-up worker processes on this machine (or the in-process runner).
    With more than one, each worker gets one thread for Numba and BLAS. The workers share one
    warm-up limit of `warm_up_seconds`, so a warm-up that hangs costs it once."""

    name = "local"

    def __init__(self, solvers: dict[str, Solver], memory_mb: float, workers: int = 1, isolate: bool = True,
                 warm_up_seconds: float = WARM_UP_BUDGET):
        if workers < 1 or (workers > 1 and not isolate):
            raise InputError(f"workers: must be >= 1, and 1 without isolation; got {workers}")
        if isolate:
            limit = WarmUpLimit(warm_up_seconds)
            self.runners = [IsolatedRunner(solvers, memory_mb, 1 if workers > 1 else None, limit)
                            for _ in range(workers)]
            for runner in self.runners:
                runner.start()
        else:
            self.runners = [InProcessRunner(solvers, memory_mb)]
        self.isolate, self.slots = isolate, workers
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        for runner in self.runners:
            self._idle.put(runner)

    def run(self, ladder, size, seed, name, tol, budget) -> dict:
        runner = self._idle.get()
        try:
            return runner.run(ladder, size, seed, name, tol, budget)
        finally:
            self._idle.put(runner)

    def run_stream(self, task: tuple, limit: float) -> list[dict]:
        runner = self._idle.get()
        try:
            return runner.run_stream(task, limit)
        finally:
            self._idle.put(runner)

    def warm_up_failures(self) -> dict[str, str]:
        return warm_up_failures(self.runners[0].warm_up_seconds)

    def describe(self) -> dict:
        first = self.runners[0]
        return {"executor": self.name, "isolation": "worker process" if self.isolate else "none",
                "workers": self.slots, "threads_per_run": first.thread_counts,
                "warm_up_seconds": first.warm_up_seconds}

    def abort(self) -> None:
        """Kill every worker now (Ctrl-C, SIGTERM): the runs in flight end unrecorded."""
        for runner in self.runners:
            runner.abort()

    def close(self) -> None:
        for runner in self.runners:
            runner.close()


# --- dask -------------------------------------------------------------------------------------

_POOLS: dict[str, queue.SimpleQueue] = {}     # on a dask worker: sweep token -> idle runners


def _run_on_dask_worker(token: str, solvers: dict[str, Solver], memory_mb: float, warm_up_seconds: float,
                        task: tuple, job: str = "run") -> dict | list[dict]:
    """A dask task: one run (`job` "run"), or one stream of a days suite ("run_stream"), in a
    child process of this dask worker, reusing an idle warmed-up child of the same sweep when
    there is one."""
    pool = _POOLS.setdefault(token, queue.SimpleQueue())
    try:
        runner = pool.get_nowait()
    except queue.Empty:
        runner = IsolatedRunner(solvers, memory_mb, threads=1, warm_up=WarmUpLimit(warm_up_seconds))
    try:
        result = getattr(runner, job)(*task)
    finally:
        pool.put(runner)
    for record in result if isinstance(result, list) else [result]:
        record["host"] = socket.gethostname()
    return result


def _warm_up_on_dask_worker(token: str, solvers: dict[str, Solver], memory_mb: float,
                            warm_up_seconds: float) -> dict:
    """Start one child of this sweep on this dask worker, keep it for the first runs, and say
    how its warm-up went (solver -> seconds, or why it failed)."""
    runner = IsolatedRunner(solvers, memory_mb, threads=1, warm_up=WarmUpLimit(warm_up_seconds))
    runner.start()
    _POOLS.setdefault(token, queue.SimpleQueue()).put(runner)
    return runner.warm_up_seconds


def _close_on_dask_worker(token: str) -> int:
    pool = _POOLS.pop(token, None)
    closed = 0
    while pool is not None and not pool.empty():
        pool.get_nowait().close()
        closed += 1
    return closed


def _is_daemonic() -> bool:
    return bool(mp.current_process().daemon)


class DaskExecutor:
    """Runs on a dask.distributed cluster: the one at `scheduler` (tcp://HOST:PORT), or a
    LocalCluster of `workers` single-threaded worker processes when no address is given.
    One run per dask thread; each run's child process has one thread for Numba and BLAS."""

    name = "dask"

    def __init__(self, solvers: dict[str, Solver], memory_mb: float, workers: int = 1,
                 scheduler: str | None = None, warm_up_seconds: float = WARM_UP_BUDGET):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--executor dask: dask.distributed is not installed; "
                             "pip install 'gebench[dask]'") from None
        if workers < 1:
            raise InputError(f"workers: must be >= 1; got {workers}")
        self.solvers, self.memory_mb, self.scheduler = solvers, memory_mb, scheduler
        self.token = uuid.uuid4().hex
        self.cluster = None
        if scheduler is None:
            # the runs' child processes need dask workers that may have children
            with dask.config.set({"distributed.worker.daemon": False}):
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(f"--scheduler: cannot connect to {scheduler}: {exc}") from None
        daemonic = sorted(addr for addr, flag in self.client.run(_is_daemonic).items() if flag)
        if daemonic:
            self.close()
            raise InputError(f"--scheduler: the dask workers {', '.join(daemonic)} run as daemons and cannot "
                             "start a run's child process; start them with DASK_DISTRIBUTED__WORKER__DAEMON=False")
        self.slots = sum(self.client.nthreads().values())
        if self.slots < 1:
            self.close()
            raise InputError(f"--scheduler: {scheduler} has no workers")
        self.warm_up_limit = warm_up_seconds
        self.warm_up_seconds = self.client.submit(_warm_up_on_dask_worker, self.token, solvers, memory_mb,
                                                  warm_up_seconds, pure=False).result()
        # later children warm up only the solvers whose first warm-up succeeded
        failed = warm_up_failures(self.warm_up_seconds)
        self.solvers = {name: s for name, s in solvers.items() if name not in failed}

    def warm_up_failures(self) -> dict[str, str]:
        return warm_up_failures(self.warm_up_seconds)

    def run(self, ladder, size, seed, name, tol, budget) -> dict:
        future = self.client.submit(_run_on_dask_worker, self.token, self.solvers, self.memory_mb,
                                    self.warm_up_limit, (ladder, size, seed, name, tol, budget), pure=False)
        try:
            return future.result()
        except Exception as exc:  # a lost worker or a dask error costs this run, not the sweep
            return stopped("failed", f"dask: {type(exc).__name__}: {exc}")

    def run_stream(self, task: tuple, limit: float) -> list[dict]:
        future = self.client.submit(_run_on_dask_worker, self.token, self.solvers, self.memory_mb,
                                    self.warm_up_limit, (task, limit), "run_stream", pure=False)
        try:
            return future.result()
        except Exception as exc:  # a lost worker or a dask error costs this stream, not the sweep
            days, names, skip = task[4], task[5], task[-1]
            return lost_stream(days, names, "failed", f"dask: {type(exc).__name__}: {exc}", skip)

    def describe(self) -> dict:
        return {"executor": self.name, "isolation": "worker process", "workers": self.slots,
                "scheduler": self.scheduler or "LocalCluster",
                "threads_per_run": {"numba_threads": 1, "blas_threads": "1"},
                "warm_up_seconds": self.warm_up_seconds,
                "dask_workers": {addr: n for addr, n in self.client.nthreads().items()}}

    def abort(self) -> None:
        """Stop the sweep's children on every dask worker now, and the local cluster."""
        self.close()

    def close(self) -> None:
        if self.client.status == "closed":
            return
        try:
            self.client.run(_close_on_dask_worker, self.token)
        except Exception:  # closing is best effort: the cluster may already be gone
            pass
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, solvers: dict[str, Solver], memory_mb: float, workers: int = 1,
                  isolate: bool = True, scheduler: str | None = None, warm_up_seconds: float = WARM_UP_BUDGET):
    """The executor a sweep asked for: `local` (default) or `dask`; each solver's warm-up in a
    worker process gets `warm_up_seconds`."""
    if scheduler is not None and kind != "dask":
        raise InputError("--scheduler: goes with --executor dask")
    if kind == "local":
        return LocalExecutor(solvers, memory_mb, workers, isolate, warm_up_seconds)
    if kind == "dask":
        if not isolate:
            raise InputError("--in-process: the dask executor always runs in worker processes")
        return DaskExecutor(solvers, memory_mb, workers, scheduler, warm_up_seconds)
    raise InputError(f"--executor: unknown {kind!r}; known: local, dask")
