"""Run records and run directories: the one owner of what a sweep writes (docs/format.md,
"Run directories").

A record is one JSON object per run, in `runs.jsonl`; `FIELDS` names every field and
`STATUSES` every status a record can have. A `RunDirectory` creates, locks, reads, appends
to and resumes a run directory; the runner, the executors, plots, summaries and the command
line go through it. Records of older gebench versions still load: a missing `size` is read
from `agents`, and their status `skipped` as `beyond_wall` or `declined`, by its message.
"""
from __future__ import annotations

import errno
import math
import os
import time
from pathlib import Path

from gebench.markets import InputError
from gebench.markets.io import parse_json, read_text_file, to_json, write_atomic
from gebench.solvers import STATUSES as SOLVER_STATUSES

FORMAT = 1                      # meta.json's "record_format"
SUITE_FILE, RUNS_FILE, META_FILE, LOCK_FILE = "suite.toml", "runs.jsonl", "meta.json", ".lock"

NOT_RUN = ("beyond_wall", "declined")
STATUSES = SOLVER_STATUSES + ("out_of_memory",) + NOT_RUN
"""A solver's statuses, `out_of_memory` (the worker's memory limit was hit), `beyond_wall`
(not run: the solver ran out of its time budget at a smaller size of the ladder) and
`declined` (not run: the solver declined the economy at this size, with its reason)."""

PRICES_KEPT_UP_TO = 64
"""A record keeps the run's prices in economies of at most this many goods (the quick
suite's game economies, and the hard suite's to d = 32): enough to say which of several
equilibria a method found, without thousands of numbers per run of a large market."""

FIELDS = {
    "run_id": "the run directory's name", "family": "the economy family",
    "ladder": "the ladder's label: the family with its rho, density, sparse",
    "size": "agents for random markets, d for games", "size_name": '"agents" or "d"',
    "agents": "the economy's agents", "goods": "the economy's goods", "seed": "the economy's (and the solver's) seed",
    "density": "the share of goods each agent wants", "sparse": "drawn as CSR matrices",
    "rho": "the CES exponent, or null", "solver": "the solver's name in the sweep", "exact": "an exact method",
    "tolerance": "the certificate's target", "time_budget": "seconds allowed", "status": "one of STATUSES",
    "seconds": "the solver's time, or null", "iterations": "iterations or pivots, or null",
    "certificate": "the four measures, or null", "message": "why it stopped, where it says",
    "extra": "what the solver reports besides",
    "prices": f"the run's prices, in economies of at most {PRICES_KEPT_UP_TO} goods",
    "setup_seconds": "building the economy, timed apart",
    "game_resolution": "in a game economy: the game's resolution (gebench.markets.games.game_resolution)",
    "worker_start_seconds": "spawning and warming a fresh worker for this run", "host": "the machine it ran on",
    "central_reads": "the numbers the run gathered at one central point (Solver.central_reads)",
    "levels": "in an economy with producers, the producers' levels at the run's point",
    "welfare": "in a suite with welfare: the delivered allocation's measures and log utilities",
    "trace": "in a suite with welfare: the anytime trace, one list per measure",
    "day": "in a days suite: the day of the stream (day 0 is the stream's first economy)",
    "regime": "in a days suite: the regime's name (its sigma, churn and shock_rate are fields too)",
    "sigma": "in a days suite: the daily volatility of the drift", "churn": "in a days suite: the share of agents "
    "replaced a day", "shock_rate": "in a days suite: the probability of a supply shock a day",
    "carried": "in a days suite: the method started the day from what it kept (Solver.carried)",
    "delivered": "in a days suite: the agents hold the method's allocation (else their endowments)",
    "cut": "in a days suite: the method returned after the day's end (a trader's last point within the day is "
           "delivered, nothing else)",
    "reference": "in a days suite: the solver that certified the day's equilibrium, or null",
    "gains_share": "in a days suite: the share of the day's gains from trade the agents hold (gains_total)",
    "gains_worst": "in a days suite: the worst agent's share of its own gains",
    "pareto_gap": "in a days suite: the delivered allocation's Pareto gap",
    "individual_rationality": "in a days suite: the worst relative loss of an agent against no trade",
    "feasible": "in a days suite: the delivered allocation fits the supply (else its measures are null)",
    "entrants": "in a days suite: the agents who arrived that day", "shock": "in a days suite: the good whose "
    "supply was halved that day, or null",
}


def size_of(record: dict) -> int:
    """A record's size: `size`, or `agents` in records older than `size`."""
    return record["size"] if "size" in record else record["agents"]


def run_key(record: dict) -> tuple:
    """(ladder, size, seed, solver): what identifies a run across sweeps, resumes and estimates;
    with (regime, day) after it for a day of a days suite."""
    key = (record["ladder"], size_of(record), record["seed"], record["solver"])
    return key + (record["regime"], record["day"]) if "day" in record else key


def start(run_id: str, ladder, size: int, seed: int, solver, tolerance: float, budget: float) -> dict:
    """The fields of a record known before the run: its economy, solver and budget."""
    agents, goods = ladder.shape(size)
    return {"run_id": run_id, "family": ladder.family, "ladder": ladder.label, "size": size,
            "size_name": ladder.size_name, "agents": agents, "goods": goods, "seed": seed,
            "density": ladder.density, "sparse": ladder.sparse, "rho": ladder.rho, "solver": solver.name,
            "exact": solver.exact, "tolerance": tolerance, "time_budget": budget}


def stopped(status: str, message: str, seconds: float | None = None) -> dict:
    """The outcome fields of a run that returned no result of its own: a crash, a kill, a
    refusal, or a run not made (`NOT_RUN`)."""
    assert status in STATUSES, status
    return {"status": status, "seconds": seconds, "iterations": None, "certificate": None, "message": message}


def _normalise(record: dict) -> dict:
    """Older records in today's terms: absent measures as null, `skipped` by its message."""
    if record["status"] == "skipped":
        record["status"] = "declined" if str(record.get("message", "")).startswith("declined") else "beyond_wall"
    for key in ("seconds", "iterations", "certificate"):
        record.setdefault(key, None)         # absent is as null: nothing measured
    return record


class RunDirectory:
    """A run directory: `results/<stamp>-<suite name>/` with its suite, records and meta."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.runs_file, self.meta_file = self.path / RUNS_FILE, self.path / META_FILE
        self.suite_file = self.path / SUITE_FILE

    @classmethod
    def create(cls, results: Path, name: str) -> RunDirectory:
        """A fresh `<stamp>-<name>` directory in the existing folder `results` (`-2`, `-3`,
        ... if taken), made with one mkdir each, so that two sweeps started at once never
        share one."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            for k in range(1, 1000):
                path = results / (f"{stamp}-{name}" + (f"-{k}" if k > 1 else ""))
                try:
                    path.mkdir()
                    return cls(path)
                except FileExistsError:
                    continue
        except OSError as exc:
            raise InputError(f"--results: cannot make a run directory in {results}: {exc.strerror}") from None
        raise InputError(f"--results: {results} already has 999 run directories from {stamp}")

    @property
    def name(self) -> str:
        return self.path.name

    def has_runs(self) -> bool:
        return self.runs_file.is_file()

    def lock(self) -> RunLock:
        return RunLock(self.path)

    def write_suite(self, source: str) -> None:
        write_atomic(self.suite_file, source)

    def read_meta(self) -> dict:
        """meta.json ({} where there is none); `InputError` naming the file when it cannot be
        read or is not a JSON object."""
        if not self.meta_file.exists():
            return {}
        doc = parse_json(read_text_file(self.meta_file), str(self.meta_file))
        if not isinstance(doc, dict):
            raise InputError(f"{self.meta_file}: expected a JSON object")
        return doc

    def extra_solvers(self) -> list[str]:
        """The `--solver` specs the run was started with (meta.json's extra_solvers), for
        `gebench run --resume`; `InputError` naming the file when they are not a list of strings."""
        specs = self.read_meta().get("extra_solvers", [])
        if not (isinstance(specs, list) and all(isinstance(spec, str) for spec in specs)):
            raise InputError(f"{self.meta_file}: extra_solvers: expected a list of solver specs")
        return specs

    def write_meta(self, meta: dict) -> None:
        write_atomic(self.meta_file, to_json({"record_format": FORMAT, **meta}, indent=1, default=str))

    def read_runs(self) -> list[dict]:
        """The records. A last line left half-written by a kill (no newline ends it) is
        ignored; any other line that is not a run record is an `InputError` naming the file
        and line: not JSON, not a JSON object, or a field that plots and summaries read wrong."""
        records = []
        path = self.runs_file
        if not path.exists():
            return records
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            try:
                record = _decode(line)
            except InputError as exc:
                if number == len(lines) and not text.endswith("\n"):
                    break
                raise InputError(f"{path}: line {number}: {exc}") from None
            if not isinstance(record, dict):
                raise InputError(f"{path}: line {number}: expected a JSON object, got {_json_kind(record)}")
            problem = _problem(record)
            if problem:
                raise InputError(f"{path}: line {number}: {problem}")
            records.append(_normalise(record))
        return records

    def done(self) -> dict[tuple, dict]:
        """The records by `run_key`: what a resume does not run again."""
        return {run_key(r): r for r in self.read_runs()}

    def prepare_resume(self) -> None:
        """Cut a last line left half-written by a kill, so that appending starts on a fresh line."""
        if not self.runs_file.exists():
            return
        data = self.runs_file.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.runs_file, "r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def appender(self) -> Appender:
        return Appender(self.runs_file)


class WriteFailed(Exception):
    """A file of a run directory could not be written (a full disk, a quota, a lost mount):
    what was written before is kept whole, and the message says how to finish the work."""

    def __init__(self, path: Path, cause: OSError, then: str | None = None):
        """`then`: what finishes the work once the file can be written; by default, resuming
        the sweep of the run directory that holds `path`."""
        fix = "free space" if cause.errno in (errno.ENOSPC, errno.EDQUOT) else "fix that"
        then = then or f"finish the sweep with: gebench run --resume {Path(path).parent}"
        super().__init__(f"could not write {path}: {cause.strerror or cause}; {fix}, then {then}")
        self.path, self.cause = Path(path), cause


class Appender:
    """Appends records to runs.jsonl, each written whole and fsynced before the next, so that
    a `kill -9` loses at most the run in flight. A record that cannot be written is cut off
    again and raises `WriteFailed`, so that no half line is left behind."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise WriteFailed(self.path, exc) from None

    def append(self, record: dict) -> None:
        data = memoryview((to_json(record) + "\n").encode("utf-8"))
        end = os.lseek(self.fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(self.fd, data):]      # a write may take part of it only
            os.fsync(self.fd)
        except OSError as exc:
            self._cut(end)
            raise WriteFailed(self.path, exc) from None

    def _cut(self, end: int) -> None:
        """Drop what a failed append wrote past `end` (cutting needs no free space)."""
        try:
            os.ftruncate(self.fd, end)
        except OSError:
            pass                    # `prepare_resume` cuts the half line instead

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


class RunLock:
    """The one-writer lock of a run directory: an exclusive `flock` on its `.lock` file,
    taken at once or refused, and released by the kernel when the process dies."""

    def __init__(self, run_dir: Path):
        import fcntl
        if not Path(run_dir).is_dir():
            raise InputError(f"--resume: {run_dir} is not a run directory")
        path = Path(run_dir) / LOCK_FILE
        for name in (LOCK_FILE, RUNS_FILE, META_FILE, SUITE_FILE):
            if (Path(run_dir) / name).is_symlink():
                raise InputError(f"{Path(run_dir) / name}: is a symbolic link; a run directory holds its own files")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        self.handle = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "?"
            self.handle.close()
            raise InputError(f"{run_dir}: in use by another gebench process (pid {holder}); "
                             "a run directory has one writer at a time") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()

    def release(self) -> None:
        self.handle.close()


def _decode(line: str):
    """The JSON value of one line of runs.jsonl, or an `InputError` saying why it is not
    strict JSON, at a column of the line (the caller names the line)."""
    try:
        return parse_json(line, "not JSON")
    except InputError as exc:
        raise InputError(str(exc).replace("JSON: JSON: ", "JSON: ")
                         .replace("malformed JSON at line 1 column", "column")) from None


def _json_kind(value) -> str:
    """What a JSON value is, as a message names it: "a list", "a string", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {list: "a list", str: "a string"}.get(type(value), "a number")


REQUIRED = {"ladder": str, "seed": int, "solver": str, "status": str}
_KINDS = {str: "a string", int: "an integer"}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_time(value) -> bool:
    """A finite number >= 0: a time that a log axis, a median and a sum can take (JSON's
    1e999 reads as infinity)."""
    return _is_number(value) and math.isfinite(value) and value >= 0


def _problem(record) -> str | None:
    """What is wrong with a record's fields that plots and summaries read, or None."""
    for key, kind in REQUIRED.items():
        if not isinstance(record, dict) or not isinstance(record.get(key), kind):
            return f"{key}: missing or not {_KINDS[kind]}"
    if "size" not in record and "agents" not in record:
        return "size: missing"
    size = size_of(record)
    if not isinstance(size, int) or isinstance(size, bool):
        return f"size: expected an integer, got {size!r}"
    if "day" in record and not (isinstance(record["day"], int) and not isinstance(record["day"], bool)
                                and record["day"] >= 0 and isinstance(record.get("regime"), str)):
        return f"day: a day of a days suite is an integer >= 0 with its regime, got {record['day']!r}"
    if record["status"] not in STATUSES + ("skipped",):
        return f"status: {record['status']!r} is not one of {', '.join(STATUSES)}"
    for key in ("seconds", "setup_seconds", "time_budget"):
        if record.get(key) is not None and not _is_time(record[key]):
            return f"{key}: expected a number of seconds >= 0, or null, got {record[key]!r}"
    if record["status"] == "converged" and record.get("seconds") is None:
        return "seconds: a converged run has its seconds, got null"      # medians and profiles read them
    if record.get("iterations") is not None and not (isinstance(record["iterations"], int)
                                                    and not isinstance(record["iterations"], bool)
                                                    and record["iterations"] >= 0):
        return f"iterations: expected an integer >= 0 or null, got {record['iterations']!r}"
    certificate = record.get("certificate")
    if certificate is not None and not (isinstance(certificate, dict) and certificate
                                        and all(v is None or _is_number(v) for v in certificate.values())):
        return f"certificate: expected an object of numbers or null, got {certificate!r}"[:200]
    return None


def read_runs(run_dir: Path | str) -> list[dict]:
    """`RunDirectory(run_dir).read_runs()`."""
    return RunDirectory(run_dir).read_runs()


def read_meta(run_dir: Path | str) -> dict:
    """`RunDirectory(run_dir).read_meta()`."""
    return RunDirectory(run_dir).read_meta()
