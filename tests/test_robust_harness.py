"""Issue 27, "No tracebacks": the harness draws what can be drawn, says in one line what it
could not, stops a sweep on a full disk with the command that finishes it, and refuses a
run record it cannot trust in one line naming the file, the line and the field."""
import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from gebench.cli import main
from gebench.records import RunDirectory, read_runs

ROOT = Path(__file__).resolve().parents[1]


def _record(ladder="fisher-ces", size=10, seed=0, solver="slow", status="timeout", seconds=None, **fields):
    """A run record with the fields `gebench results` and `gebench plot` read."""
    game = fields.pop("game", False)
    record = {"run_id": "hand", "family": ladder, "ladder": ladder, "size": size,
              "size_name": "d" if game else "agents", "agents": 2 * size if game else size,
              "goods": 2 * size if game else size, "seed": seed, "solver": solver, "exact": game,
              "tolerance": 1e-6, "time_budget": 1.0, "status": status, "seconds": seconds,
              "iterations": None, "certificate": None}
    return {**record, **fields}


def _run_dir(path: Path, records: list, budget=1.0, lines: list[str] = ()) -> Path:
    """A run directory written by hand: suite.toml, meta.json and runs.jsonl (the records,
    then `lines` as they are)."""
    path.mkdir()
    (path / "suite.toml").write_text('name = "hand"\n')
    meta = {"record_format": 1, "suite": "hand", **({"time_budget": budget} if budget else {})}
    (path / "meta.json").write_text(json.dumps(meta))
    (path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records)
                                     + "".join(line + "\n" for line in lines))
    return path


def _plot(run_dir: Path, capsys) -> tuple[int, list[str], str]:
    """(exit code, the figures written, stderr) of `gebench plot run_dir`."""
    code = main(["plot", str(run_dir)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, sorted(Path(line).name for line in out.split()), err


# --- 1. a sweep where every run timed out is drawn, as far as it can be --------------------------

def test_a_run_where_every_run_timed_out_draws_the_budget_crosses_and_says_what_it_cannot_draw(tmp_path, capsys):
    records = [_record(size=n, seed=s) for n in (10, 20) for s in (0, 1)]
    records += [_record(size=40, status="beyond_wall"), _record(solver="picky", status="declined")]
    code, written, err = _plot(_run_dir(tmp_path / "run", records), capsys)
    assert code == 0
    # the crosses at the budget are drawn; no run reached a count of iterations
    assert "scaling.png" in written and "iterations.png" not in written
    assert "gebench: plot iterations: nothing to draw on a log scale (every run timed out)" in err.splitlines()


@pytest.mark.slow
def test_one_size_of_timeouts_without_seconds_or_budget_draws_nothing_on_a_log_scale(tmp_path, capsys):
    run_dir = _run_dir(tmp_path / "run", [_record(seconds=0.0, iterations=0), _record(seed=1)], budget=None)
    code, written, err = _plot(run_dir, capsys)
    assert code == 0 and "scaling.png" not in written
    assert "gebench: plot scaling: nothing to draw on a log scale (every run timed out)" in err.splitlines()


@pytest.mark.slow
def test_a_ladder_that_timed_out_beside_one_that_converged_is_named(tmp_path, capsys):
    records = [_record(size=n, solver="fast", status="converged", seconds=0.01 * n, iterations=5) for n in (10, 20)]
    records += [_record(ladder="fisher-linear", size=n) for n in (10, 20)]
    code, written, err = _plot(_run_dir(tmp_path / "run", records), capsys)
    assert code == 0 and {"scaling.png", "iterations.png"} <= set(written)
    assert ("gebench: plot iterations: nothing to draw on a log scale in fisher-linear (every run timed out)"
            in err.splitlines())


@pytest.mark.slow
def test_a_game_ladder_where_every_run_timed_out_draws_its_seconds(tmp_path, capsys):
    records = [_record(ladder="leontief-game-morris", size=d, solver="lemke-howson", game=True) for d in (2, 4)]
    code, written, err = _plot(_run_dir(tmp_path / "run", records), capsys)
    assert code == 0 and "hard.png" in written
    assert ("gebench: plot hard: nothing to draw on a log scale in leontief-game-morris: pivots (iterations) "
            "(every run timed out)") in err.splitlines()


def test_a_run_that_made_no_run_draws_nothing_and_says_so(tmp_path, capsys):
    records = [_record(status="declined"), _record(ladder="leontief-game-morris", size=2, status="beyond_wall",
                                                   game=True)]
    code, written, err = _plot(_run_dir(tmp_path / "run", records), capsys)
    assert code == 0 and written == []
    assert ("gebench: plot scaling: nothing to draw (no run was made: every run was declined or beyond the wall)"
            in err.splitlines())


@pytest.mark.slow
def test_a_market_run_where_every_run_timed_out_draws_its_timelines(tmp_path, capsys):
    trace = {"seconds": [1.0], "iterations": [10], "worst": [None], "individual_rationality": [0.0],
             "pareto_gap": [0.5], "log_utility": [None]}
    welfare = {"individual_rationality": 0.0, "pareto_gap": 0.5, "pareto_bound": 0.5, "log_utility": [0.0, 0.0],
               "no_trade_log_utility": [0.0, 0.0], "incomes": None}
    records = [_record(ladder="exchange-linear", size=n, solver="planner", welfare=welfare, trace=trace,
                       central_reads=n * n) for n in (10, 20)]
    for budget in (None, 1.0):        # a meta.json without the budget, and with it
        shutil.rmtree(tmp_path / "run", ignore_errors=True)
        code, written, err = _plot(_run_dir(tmp_path / "run", records, budget=budget), capsys)
        assert code == 0 and "market-time-exchange-linear.png" in written and "market-size.png" not in written
        assert ("gebench: plot market-size: nothing to draw (no run has a known share of the gains from trade: "
                "that needs an equilibrium certified in the run)") in err.splitlines()


SWEEP = """
name = "tiny"
tolerance = 1e-6
time_budget = 5.0
seeds = [0, 1]
solvers = ["tatonnement"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [3, 6]
"""


@pytest.mark.slow
def test_a_sweep_of_a_solver_that_always_times_out_ends_with_its_plots(tmp_path, capsys, times_out_solver):
    (tmp_path / "tiny.toml").write_text(SWEEP.replace('["tatonnement"]', "[]"))
    assert main(["run", str(tmp_path / "tiny.toml"), "--results", str(tmp_path / "results"), "--in-process",
                 "--solver", times_out_solver]) == 0
    out, err = capsys.readouterr()
    run_dir = Path(out.split()[-1])
    assert {r["status"] for r in read_runs(run_dir)} == {"timeout", "beyond_wall"}
    assert "Traceback" not in err and (run_dir / "scaling.png").exists()
    assert "gebench: plot iterations: nothing to draw on a log scale (every run timed out)" in err.splitlines()


# --- 2. a full disk stops the sweep in one line, and the resume finishes it ----------------------

def _fill_the_disk_after(records: int, monkeypatch) -> None:
    """Let runs.jsonl take `records` whole records; then the disk is full: a write to it
    takes half of what it is given, once, and then fails, as does an fsync of more."""
    real_write, real_fsync = os.write, os.fsync
    torn = []

    def lines(fd) -> int | None:
        """The lines of the file `fd` has open, when it is runs.jsonl; else None."""
        path = Path(f"/proc/self/fd/{fd}")
        return path.read_bytes().count(b"\n") if path.resolve().name == "runs.jsonl" else None

    def write(fd, data):
        if lines(fd) is None or lines(fd) < records:
            return real_write(fd, data)
        if not torn:
            torn.append(fd)
            return real_write(fd, bytes(data[:len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fsync(fd):
        if (lines(fd) or 0) > records or torn:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)
    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_stops_the_sweep_in_one_line_with_the_command_that_finishes_it(tmp_path, capsys, monkeypatch):
    (tmp_path / "tiny.toml").write_text(SWEEP)
    _fill_the_disk_after(2, monkeypatch)
    code = main(["run", str(tmp_path / "tiny.toml"), "--results", str(tmp_path / "results"), "--in-process"])
    monkeypatch.undo()
    err = capsys.readouterr().err
    (run_dir,) = (tmp_path / "results").iterdir()
    assert code == 1 and "Traceback" not in err
    said = [line for line in err.splitlines() if line.startswith("gebench")]     # after the plan
    assert said == [f"gebench: could not write {run_dir / 'runs.jsonl'}: No space left on device; "
                    f"free space, then finish the sweep with: gebench run --resume {run_dir}"]
    # the half-written record was cut off again: two whole records, and no half line
    text = (run_dir / "runs.jsonl").read_text()
    assert text.count("\n") == 2 and text.endswith("\n") and len(read_runs(run_dir)) == 2
    assert main(["run", "--resume", str(run_dir), "--in-process", "--no-plot"]) == 0
    keys = [(r["size"], r["seed"], r["solver"]) for r in read_runs(run_dir)]
    assert len(keys) == len(set(keys)) == 4


def test_resume_cuts_a_half_written_last_line_and_keeps_the_whole_records(tmp_path):
    whole = [_record(size=n, status="converged", seconds=0.1, solver="fast") for n in (10, 20)]
    run_dir = _run_dir(tmp_path / "run", whole)
    with open(run_dir / "runs.jsonl", "a") as handle:
        handle.write(json.dumps(_record(size=40))[:30])
    assert len(read_runs(run_dir)) == 2          # a torn last line is a kill's, and is read past
    RunDirectory(run_dir).prepare_resume()
    assert (run_dir / "runs.jsonl").read_text() == "".join(json.dumps(r) + "\n" for r in whole)
    assert read_runs(run_dir) == whole


def test_a_plot_that_cannot_be_written_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    from matplotlib.figure import Figure
    run_dir = _run_dir(tmp_path / "run", [_record(size=n, status="converged", seconds=0.1) for n in (10, 20)])

    def full(self, path, **options):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(Figure, "savefig", full)
    assert main(["plot", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"gebench: could not write {run_dir / 'scaling.png'}: No space left on device; "
                                f"free space, then draw the plots with: gebench plot {run_dir}"]


# --- 3. a record that cannot be trusted is refused in one line ------------------------------------

GOOD = json.dumps(_record(status="converged", seconds=0.5))


@pytest.mark.parametrize("line, problem", [
    (GOOD.replace('"seconds": 0.5', '"seconds": -1e308'), "seconds: expected a number of seconds >= 0, or null, "
                                                          "got -1e+308"),
    (GOOD.replace('"seconds": 0.5', '"seconds": 1e999'), "seconds: expected a number of seconds >= 0, or null, "
                                                         "got inf"),
    (GOOD.replace('"seconds": 0.5', '"seconds": NaN'), "not JSON: NaN is not a number"),
    (GOOD.replace('"seconds": 0.5', '"seconds": -Infinity'), "not JSON: -Infinity is not a number"),
    (GOOD.replace('"seconds": 0.5', '"seconds": 0.5, "setup_seconds": -0.25'),
     "setup_seconds: expected a number of seconds >= 0, or null, got -0.25"),
    (GOOD.replace('"seconds": 0.5', '"seconds": null'), "seconds: a converged run has its seconds, got null"),
    (GOOD.replace('"time_budget": 1.0', '"time_budget": "1 s"'),
     "time_budget: expected a number of seconds >= 0, or null, got '1 s'"),
    (GOOD.replace('"iterations": null', '"iterations": -3'), "iterations: expected an integer >= 0 or null, got -3"),
    ("{not json", "not JSON: column 2: Expecting property name enclosed in double quotes"),
    ("[1, 2]", "expected a JSON object, got a list"),
    ('"text"', "expected a JSON object, got a string"),
    ("3", "expected a JSON object, got a number"),
    ("null", "expected a JSON object, got null"),
])
@pytest.mark.parametrize("last", [False, True], ids=["middle", "last"])
def test_a_record_that_cannot_be_trusted_is_refused_naming_the_file_line_and_field(tmp_path, capsys, line,
                                                                                   problem, last):
    # a whole last line (ended by a newline) is a record written, not a kill's torn line
    run_dir = _run_dir(tmp_path / "run", [], lines=[GOOD, GOOD, line] + ([] if last else [GOOD]))
    for command in ("results", "plot"):
        assert main([command, str(run_dir)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"gebench: error: {run_dir / 'runs.jsonl'}: line 3: {problem}")
        assert len(err.splitlines()) == 1


# --- 4. the stored runs still summarise and draw -------------------------------------------------

@pytest.mark.slow
def test_the_stored_market_run_still_summarises_and_draws(tmp_path, capsys):
    stored, run_dir = ROOT / "results" / "reference-market", tmp_path / "reference-market"
    run_dir.mkdir()
    shutil.copy(stored / "meta.json", run_dir)
    # one of its ladders keeps the test quick (tests/test_run.py draws the quick reference run)
    keep = [line for line in (stored / "runs.jsonl").read_text().splitlines()
            if json.loads(line)["ladder"] == "exchange-linear"]
    (run_dir / "runs.jsonl").write_text("\n".join(keep) + "\n")
    assert main(["results", str(run_dir)]) == 0 and "linear-exchange-cp" in capsys.readouterr().out
    code, written, err = _plot(run_dir, capsys)
    assert code == 0 and "nothing to draw" not in err
    assert {"scaling.png", "iterations.png", "profile.png", "market-size.png", "market-information.png",
            "market-time-exchange-linear.png"} <= set(written)
