import json
import re
from pathlib import Path

import numpy as np
import pytest

from gebench.cli import main
from gebench.markets import InputError
from gebench.runner import META_FILE, read_runs, run_suite
from gebench.solvers import Outcome, Solver
from gebench.suite import load_suite, parse_suite

SMALL = """
name = "tiny"
tolerance = 1e-6
time_budget = 5.0
seeds = [0, 1]
solvers = ["tatonnement", "proportional-response", "eisenberg-gale"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [3, 6]

[[family]]
family = "exchange-cobb-douglas"
sizes = [4]
"""


@pytest.mark.slow
def test_a_small_run_writes_records_meta_and_plots(tmp_path, capsys):
    suite = tmp_path / "tiny.toml"
    suite.write_text(SMALL)
    assert main(["run", str(suite), "--results", str(tmp_path / "results")]) == 0
    run_dir = tmp_path / "results" / capsys.readouterr().out.strip().splitlines()[-1].split("/")[-1]
    records = read_runs(run_dir)
    # fisher-ces: 3 solvers x 2 sizes x 2 seeds; exchange-cobb-douglas: 2 solvers x 1 size x 2 seeds
    assert len(records) == 12 + 4
    assert {r["status"] for r in records} == {"converged"}
    for r in records:
        assert r["certificate"]["optimality"] <= 1e-6 and r["seconds"] > 0 and r["iterations"] >= 0
        assert {"family", "agents", "goods", "seed", "solver", "status", "setup_seconds"} <= set(r)
    meta = json.loads((run_dir / META_FILE).read_text())
    assert meta["environment"]["versions"]["numpy"] and meta["suite"] == "tiny"
    assert "eisenberg-gale" in meta["declined"]["exchange-cobb-douglas"]
    for name in ("scaling.png", "scaling.svg"):
        assert (run_dir / name).stat().st_size > 1000
    assert (run_dir / "suite.toml").read_text() == SMALL


class _SlowAbove(Solver):
    """Times out on economies with more than 4 agents: a deterministic stand-in for a wall."""

    name = "slow-above-4"
    models = frozenset({"fisher"})
    utilities = frozenset({"ces"})

    def run(self, economy, tol, deadline, seed):
        if economy.n_agents > 4:
            return Outcome("timeout", message="pretend the budget ran out")
        return Outcome("failed", message="no answer")


@pytest.mark.slow
def test_the_wall_rule_records_skipped_runs(tmp_path):
    suite = parse_suite(SMALL.replace("sizes = [3, 6]", "sizes = [3, 6, 9, 12]")
                        .replace('"tatonnement", "proportional-response", "eisenberg-gale"', '"tatonnement"'))
    run_dir = run_suite(suite, tmp_path, extra_solvers=[_SlowAbove()], progress=False)
    mine = sorted((r["agents"], r["seed"], r["status"]) for r in read_runs(run_dir) if r["solver"] == "slow-above-4")
    assert mine == [(3, 0, "failed"), (3, 1, "failed"), (6, 0, "timeout"), (6, 1, "timeout"),
                    (9, 0, "beyond_wall"), (9, 1, "beyond_wall"), (12, 0, "beyond_wall"), (12, 1, "beyond_wall")]
    assert all(r["status"] == "converged" for r in read_runs(run_dir) if r["solver"] == "tatonnement")


def test_the_default_suite_is_shipped_and_valid():
    suite = load_suite("quick")
    assert suite.name == "quick" and len(suite.ladders) >= 4 and all(ladder.welfare for ladder in suite.ladders)
    assert not any(name.startswith(("gambit", "quantecon")) for name in suite.solvers)      # no peer: make bench-peers


def test_bad_suite_files_name_the_field(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text(SMALL.replace("sizes = [4]", "sizes = [4, 2]"))
    assert main(["run", str(suite), "--results", str(tmp_path)]) == 2
    assert "sizes" in capsys.readouterr().err
    assert main(["run", "no-such-suite"]) == 2
    assert "quick" in capsys.readouterr().err


GAMES = """
name = "games"
tolerance = 1e-6
time_budget = 5.0
seeds = [0]
solvers = ["tatonnement"]

[[family]]
family = "leontief-game-hard"
sizes = [2, 4, 6, 8]
solvers = ["lemke-howson"]

[[family]]
family = "exchange-cobb-douglas"
sizes = [4]
"""


def test_the_default_suite_has_the_hard_ladder_sized_by_d():
    ladders = {ladder.family: ladder for ladder in load_suite("quick").ladders}
    for family in ("leontief-game-morris", "leontief-game-svs"):
        hard = ladders[family]
        assert hard.size_name == "d" and hard.shape(6) == (12, 12) and len(hard.sizes) >= 7
    assert {"exchange-cobb-douglas", "ces-complements"} <= set(ladders)


@pytest.mark.slow
def test_a_game_ladder_records_d_and_draws_pivots_with_a_growth_factor(tmp_path, capsys):
    suite = tmp_path / "games.toml"
    suite.write_text(GAMES)
    assert main(["run", str(suite), "--results", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    run_dir = Path(out.strip().splitlines()[-1])
    records = read_runs(run_dir)
    games = [r for r in records if r["family"] == "leontief-game-hard"]
    # the ladder's own solver list replaces the suite's
    assert {r["solver"] for r in games} == {"lemke-howson"}
    assert {r["solver"] for r in records if r["family"] == "exchange-cobb-douglas"} == {"tatonnement"}
    assert [(r["size"], r["agents"], r["size_name"]) for r in games] == [(d, 2 * d, "d") for d in (2, 4, 6, 8)]
    pivots = [r["iterations"] for r in games]
    assert pivots == sorted(pivots) and pivots[-1] > 4 * pivots[1]
    assert (run_dir / "hard.png").stat().st_size > 1000 and (run_dir / "scaling.png").stat().st_size > 1000
    factor = re.search(r"lemke-howson pivots: x([0-9.]+) per d \(CI", err)
    assert factor and 1.3 < float(factor.group(1)) < 2.0


def test_game_ladders_refuse_random_market_parameters():
    with pytest.raises(InputError, match="game family"):
        parse_suite(GAMES.replace('family = "leontief-game-hard"', 'family = "leontief-game-hard"\nrho = 0.5'))


KILLABLE = """
name = "killable"
tolerance = 1e-6
time_budget = 5.0
seeds = [0, 1, 2, 3, 4, 5]
solvers = ["eisenberg-gale", "tatonnement"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [4, 8, 12, 16, 20]
"""


def _keys(records):
    return sorted((r["ladder"], r["size"], r["seed"], r["solver"]) for r in records)


@pytest.mark.slow
def test_a_sweep_killed_with_sigkill_resumes_to_the_same_runs_without_duplicates(tmp_path, capsys):
    import os
    import signal
    import subprocess
    import sys
    import time
    suite = tmp_path / "killable.toml"
    suite.write_text(KILLABLE)
    results = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "gebench", "run", str(suite), "--results", str(results),
                             "--no-plot"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    runs_file = None
    while time.time() < deadline:
        found = list(results.glob("*/runs.jsonl"))
        if found and found[0].read_text().count("\n") >= 5:
            runs_file = found[0]
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert runs_file is not None
    before = read_runs(runs_file.parent)
    assert 5 <= len(before) < 60
    assert main(["run", "--resume", str(runs_file.parent), "--no-plot"]) == 0
    resumed = read_runs(runs_file.parent)
    whole = read_runs(run_suite(parse_suite(KILLABLE), tmp_path / "whole", progress=False))
    assert _keys(resumed) == _keys(whole) and len(resumed) == len(set(_keys(resumed))) == 60
    assert set(_keys(before)) <= set(_keys(resumed))
    meta = json.loads((runs_file.parent / META_FILE).read_text())
    assert meta["resumed"][0]["runs_already_done"] == len(before)


@pytest.mark.slow
def test_resume_cuts_a_torn_last_line_and_keeps_walls(tmp_path):
    suite = parse_suite(SMALL.replace("sizes = [3, 6]", "sizes = [3, 6, 9, 12]")
                        .replace('"tatonnement", "proportional-response", "eisenberg-gale"', '"tatonnement"'))
    run_dir = run_suite(suite, tmp_path, extra_solvers=[_SlowAbove()], progress=False)
    lines = (run_dir / "runs.jsonl").read_text().splitlines()
    # keep the runs up to the first timeout, then half a line, as a kill would leave them
    cut = next(k for k, line in enumerate(lines) if '"timeout"' in line) + 1
    (run_dir / "runs.jsonl").write_text("\n".join(lines[:cut]) + "\n" + lines[cut][:25])
    run_suite(suite, tmp_path, extra_solvers=[_SlowAbove()], progress=False, resume=run_dir)
    again = read_runs(run_dir)
    assert len((run_dir / "runs.jsonl").read_text().splitlines()) == len(again) == len(lines)
    mine = sorted((r["size"], r["seed"], r["status"]) for r in again if r["solver"] == "slow-above-4")
    assert mine == [(3, 0, "failed"), (3, 1, "failed"), (6, 0, "timeout"), (6, 1, "timeout"),
                    (9, 0, "beyond_wall"), (9, 1, "beyond_wall"), (12, 0, "beyond_wall"), (12, 1, "beyond_wall")]


REFERENCE = str(Path(__file__).resolve().parents[1] / "results" / "reference")


@pytest.mark.slow
def test_results_summarises_a_run_directory(capsys):
    assert main(["results", REFERENCE]) == 0
    table = capsys.readouterr().out
    assert "lemke-howson-exact" in table and "held out d = 18" in table and "largest solved" in table
    assert main(["results", REFERENCE, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    hard = next(r for r in rows if r["ladder"] == "leontief-game-morris" and r["solver"] == "lemke-howson-exact")
    assert (hard["largest"] == 18 and "held out d = 18" in hard["fit"]
            and hard["fits"]["iterations"]["kind"] == "exponential")
    assert hard["others"] == {"timeout": 1}


@pytest.mark.parametrize("path_reason", [None, "its licence expired"])
@pytest.mark.slow
def test_dry_run_lists_the_plan_and_runs_nothing(tmp_path, capsys, monkeypatch, path_reason):
    from gebench.solvers.planners.path_mcp import PathMCP
    monkeypatch.setattr(PathMCP, "unavailable", classmethod(lambda cls: path_reason))
    assert main(["run", "--dry-run", "--results", str(tmp_path), "--estimate-from", REFERENCE]) == 0
    out = capsys.readouterr().out
    from gebench.runner import make_plan
    plan = make_plan(load_suite("quick"))
    # the hard games, deterministic, run one seed for every solver but those whose start the seed draws
    assert all(seed == 0 for ladder, _, seed, name in plan.runs
               if ladder == "leontief-game-morris" and not plan.solvers[name].uses_seed)
    assert f"{len(plan.runs)} runs;" in out
    assert "declined by fisher-ipm" in out and "estimate from" in out
    assert main(["run", "hard", "--dry-run", "--results", str(tmp_path)]) == 0       # every solver: path-mcp too
    out = capsys.readouterr().out
    assert ("path-mcp" in {name for *_, name in make_plan(load_suite("hard")).runs}) == (path_reason is None)
    assert ("path-mcp is unavailable here and runs nothing: its licence expired" in out) == bool(path_reason)
    assert not any(tmp_path.iterdir())
    assert main(["run", "quick", "--resume", str(tmp_path)]) == 2


DETERMINISTIC = """
name = "once"
tolerance = 1e-6
time_budget = 5.0
seeds = [3, 1, 2]
solvers = ["lemke-howson"]

[[family]]
family = "leontief-game-morris"
sizes = [2, 4]

[[family]]
family = "leontief-game"
sizes = [2]
"""


def _swept(tmp_path, capsys, text: str, name: str = "suite") -> tuple[Path, Path]:
    """(suite file, run directory) of `text` swept in this process, without plots."""
    suite = tmp_path / f"{name}.toml"
    suite.write_text(text)
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--in-process"]) == 0
    return suite, Path(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_deterministic_family_runs_once_per_size_and_a_random_one_every_seed(tmp_path, capsys):
    suite, run_dir = _swept(tmp_path, capsys, DETERMINISTIC, "once")
    runs = sorted((r["ladder"], r["size"], r["seed"]) for r in read_runs(run_dir))
    assert runs == [("leontief-game", 2, 1), ("leontief-game", 2, 2), ("leontief-game", 2, 3),
                    ("leontief-game-morris", 2, 3), ("leontief-game-morris", 4, 3)]
    assert main(["run", str(suite), "--dry-run"]) == 0
    assert "2 runs (deterministic: seed 3 only, but for solvers whose start the seed draws)" in capsys.readouterr().out


def test_a_solver_whose_start_the_seed_draws_runs_every_seed_of_a_deterministic_game(tmp_path, capsys):
    _, run_dir = _swept(tmp_path, capsys, DETERMINISTIC.replace(
        'solvers = ["lemke-howson"]',
        """solvers = ["lemke-howson", "tatonnement[start='random',step=0.1] as tatonnement-random"]""").replace(
        'sizes = [2, 4]', 'sizes = [2]'), "starts")
    records = [r for r in read_runs(run_dir) if r["ladder"] == "leontief-game-morris"]
    assert sorted((r["solver"], r["seed"]) for r in records) == [
        ("lemke-howson", 3), ("tatonnement-random", 1), ("tatonnement-random", 2), ("tatonnement-random", 3)]
    meta = json.loads((run_dir / META_FILE).read_text())
    assert meta["solvers"]["tatonnement-random"]["params"]["start"] == "random"


def test_a_renamed_solver_keeps_its_class_and_a_bad_name_is_refused():
    from gebench.solvers.registry import create
    solver = create("tatonnement[step=0.1] as tatonnement-0.1")
    assert solver.name == "tatonnement-0.1" and solver.registered_name == "tatonnement"
    assert repr(solver) == "tatonnement[step=0.1] as tatonnement-0.1" and not solver.uses_seed
    assert create("tatonnement[start='random']").uses_seed and create("homotopy[starts=3]").uses_seed
    with pytest.raises(InputError, match="not a name"):
        create("tatonnement as Bad Name")
    with pytest.raises(InputError, match="registered solver has that name"):
        create("tatonnement as newton")


class _Misbehaves(Solver):
    """A solver that goes wrong in one of four ways, for the isolation tests."""

    models = frozenset({"fisher"})
    utilities = frozenset({"ces"})
    how = ""

    def run(self, economy, tol, deadline, seed):
        import time
        if self.how == "hang":
            time.sleep(1000)                        # ignores its deadline
        if self.how == "raise":
            raise RuntimeError("solver bug")
        if self.how == "crash":
            import ctypes
            ctypes.string_at(0)                      # a real segfault: reads address 0 in C
        if self.how == "hog":
            np.ones(2 * 10**9 // 8 * 4)              # 4 GB, far over the memory budget
        return Outcome("failed", message="unreachable")


class Hangs(_Misbehaves):
    name, how = "hangs", "hang"


class Raises(_Misbehaves):
    name, how = "raises", "raise"


class Crashes(_Misbehaves):
    name, how = "crashes", "crash"


class Hogs(_Misbehaves):
    name, how = "hogs", "hog"


ISOLATED = """
name = "isolated"
tolerance = 1e-6
time_budget = 1.0
memory_budget = 1024
seeds = [0]
solvers = ["tatonnement"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [3, 6]
"""


@pytest.mark.slow
def test_a_hanging_a_raising_a_crashing_and_a_hogging_solver_are_recorded_and_the_sweep_goes_on(tmp_path):
    suite = parse_suite(ISOLATED)
    run_dir = run_suite(suite, tmp_path, extra_solvers=[Hangs(), Raises(), Crashes(), Hogs()], progress=False)
    got = {(r["solver"], r["size"]): r for r in read_runs(run_dir)}
    assert len(got) == 10
    assert got[("tatonnement", 3)]["status"] == got[("tatonnement", 6)]["status"] == "converged"
    assert got[("hangs", 3)]["status"] == "timeout" and "killed" in got[("hangs", 3)]["message"]
    assert got[("hangs", 3)]["seconds"] < 10 and got[("hangs", 6)]["status"] == "beyond_wall"
    for size in (3, 6):
        assert got[("raises", size)]["status"] == "failed" and "solver bug" in got[("raises", size)]["message"]
        assert got[("crashes", size)]["status"] == "failed" and "SIGSEGV" in got[("crashes", size)]["message"], \
            got[("crashes", size)]
        assert got[("hogs", size)]["status"] == "out_of_memory"
    # each of the three kills (one hang, two crashes) costs the next run a fresh worker, timed apart
    restarted = [r for r in got.values() if "worker_start_seconds" in r]
    assert len(restarted) == 3 and all(r["worker_start_seconds"] > 0 for r in restarted)
    meta = json.loads((run_dir / META_FILE).read_text())
    assert meta["isolation"] == "worker process" and meta["memory_budget_mb"] == 1024


def test_memory_budget_must_be_a_number_of_mib():
    for bad in ('"lots"', "true", "10"):
        with pytest.raises(InputError, match="memory_budget"):
            parse_suite(ISOLATED.replace("memory_budget = 1024", f"memory_budget = {bad}"))


@pytest.mark.slow
def test_two_workers_give_the_same_runs_and_walls_as_one(tmp_path):
    suite = parse_suite(SMALL.replace("sizes = [3, 6]", "sizes = [3, 6, 9, 12]"))
    extra = [_SlowAbove()]
    one = read_runs(run_suite(suite, tmp_path / "one", extra_solvers=extra, progress=False))
    two_dir = run_suite(suite, tmp_path / "two", extra_solvers=extra, progress=False, workers=2)
    two = read_runs(two_dir)
    status = lambda records: sorted((r["ladder"], r["size"], r["seed"], r["solver"], r["status"]) for r in records)  # noqa: E731
    assert status(one) == status(two)
    meta = json.loads((two_dir / META_FILE).read_text())
    assert meta["workers"] == 2 and meta["threads_per_run"] == {"numba_threads": 1, "blas_threads": "1"}
    with pytest.raises(InputError, match="workers"):
        run_suite(suite, tmp_path / "bad", workers=2, isolate=False)


@pytest.mark.slow
def test_every_plot_is_drawn_from_a_stored_run_and_two_runs_overlay(tmp_path, capsys):
    import shutil
    run_dir = tmp_path / "reference"
    run_dir.mkdir()
    shutil.copy(Path(REFERENCE) / META_FILE, run_dir)
    # two of the stored ladders, one sized by agents and one by d, keep the test quick
    keep = [line for line in (Path(REFERENCE) / "runs.jsonl").read_text().splitlines()
            if json.loads(line)["ladder"] in ("exchange-cobb-douglas", "leontief-game-morris")]
    (run_dir / "runs.jsonl").write_text("\n".join(keep) + "\n")
    assert main(["plot", str(run_dir)]) == 0
    for name in ("scaling", "iterations", "hard", "accuracy_size", "accuracy_time", "profile"):
        for ext in ("png", "svg"):
            assert (run_dir / f"{name}.{ext}").stat().st_size > 1000
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    assert main(["plot", str(run_dir), str(other)]) == 0
    assert (run_dir / "overlay-other.png").stat().st_size > 1000
    assert main(["plot", str(run_dir), str(tmp_path / "missing")]) == 2


def test_every_shipped_suite_parses_and_plans(capsys):
    from gebench.suite import shipped_suites
    assert {"quick", "hard", "scale", "full"} <= set(shipped_suites())
    for name in shipped_suites():
        assert main(["run", name, "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert f"suite {name}" in out and " runs" in out and "; at most " in out


DASKED = SMALL.replace("sizes = [3, 6]", "sizes = [3, 6, 9]").replace(
    '"tatonnement", "proportional-response", "eisenberg-gale"', '"tatonnement"').replace(
    "time_budget = 5.0", "time_budget = 1.0")


def _statuses(records):
    return sorted((r["ladder"], r["size"], r["seed"], r["solver"], r["status"]) for r in records)


@pytest.mark.slow
def test_the_dask_executor_on_a_local_cluster_records_what_the_local_executor_records(tmp_path):
    pytest.importorskip("distributed")
    suite = parse_suite(DASKED)
    extra = [_SlowAbove(), Hangs()]
    local = read_runs(run_suite(suite, tmp_path / "local", extra_solvers=extra, progress=False, workers=2))
    dask_dir = run_suite(suite, tmp_path / "dask", extra_solvers=extra, progress=False, workers=2, executor="dask")
    dasked = read_runs(dask_dir)
    assert _statuses(dasked) == _statuses(local) and len(dasked) == 2 * 3 * 3 + 2
    # the hang is killed inside the dask task, the wall follows it, and the other runs converge
    hang = next(r for r in dasked if r["solver"] == "hangs" and r["size"] == 3)
    assert hang["status"] == "timeout" and "killed" in hang["message"] and hang["seconds"] < 10
    assert {r["status"] for r in dasked if r["solver"] == "hangs" and r["size"] > 3} == {"beyond_wall"}
    assert {r["status"] for r in dasked if r["solver"] == "tatonnement"} == {"converged"}
    assert all(r["host"] for r in dasked if r["status"] != "beyond_wall")
    meta = json.loads((dask_dir / META_FILE).read_text())
    assert meta["executor"] == "dask" and meta["scheduler"] == "LocalCluster" and meta["workers"] == 2
    # resuming on dask a sweep cut short after its first timeout finishes it with the same records
    lines = (dask_dir / "runs.jsonl").read_text().splitlines()
    cut = next(k for k, line in enumerate(lines) if '"timeout"' in line) + 1
    (dask_dir / "runs.jsonl").write_text("\n".join(lines[:cut]) + "\n")
    run_suite(suite, tmp_path, extra_solvers=extra, progress=False, resume=dask_dir, workers=2, executor="dask")
    resumed = read_runs(dask_dir)
    assert _statuses(resumed) == _statuses(local) and len(resumed) == len(set(_keys(resumed)))


def test_executor_options_that_do_not_fit_are_refused(tmp_path, capsys):
    suite = tmp_path / "tiny.toml"
    suite.write_text(DASKED)
    assert main(["run", str(suite), "--results", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    assert main(["run", str(suite), "--results", str(tmp_path), "--executor", "dask", "--in-process"]) == 2
    assert "--in-process" in capsys.readouterr().err
    assert not list(tmp_path.glob("*/runs.jsonl"))


def test_a_cluster_whose_workers_are_daemons_is_refused_with_the_setting_that_fixes_it(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    suite = tmp_path / "tiny.toml"
    suite.write_text(DASKED)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        assert main(["run", str(suite), "--results", str(tmp_path), "--executor", "dask",
                     "--scheduler", cluster.scheduler_address]) == 2
    assert "DASK_DISTRIBUTED__WORKER__DAEMON=False" in capsys.readouterr().err
    assert not list(tmp_path.glob("*/runs.jsonl"))


def test_a_profiled_sweep_says_where_its_time_went(tmp_path, capsys):
    suite = tmp_path / "tiny.toml"
    suite.write_text(DASKED.replace('"tatonnement"', '"tatonnement", "eisenberg-gale"'))
    assert main(["run", str(suite), "--results", str(tmp_path), "--profile", str(tmp_path / "p.prof")]) == 2
    assert "--in-process" in capsys.readouterr().err
    assert main(["run", str(suite), "--results", str(tmp_path), "--in-process", "--no-plot",
                 "--profile", str(tmp_path / "p.prof")]) == 0
    err = capsys.readouterr().err
    solving = float(re.search(r"solvers' own work \(run\)\s+([0-9.]+) s", err).group(1))
    assert solving > 0 and "certifying each answer" in err and (tmp_path / "p.prof").stat().st_size > 1000


def test_the_kernel_report_reads_ratios_from_one_benchmark_file(tmp_path, capsys):
    from gebench.perf.report import main as report
    doc = {"benchmarks": [
        {"group": "pr step", "name": "test_pr_step_numba", "stats": {"median": 0.002}},
        {"group": "pr step", "name": "test_pr_step_numpy", "stats": {"median": 0.012}},
        {"group": "pr step", "name": "test_copy_of_the_same_bytes[pr-6000000]", "stats": {"median": 0.0016}},
        {"group": "pr_sparse[k10] step", "name": "test_pr_sparse_step_numba[k10]", "stats": {"median": 0.004}},
        {"group": "pr_sparse[k10] step", "name": "test_pr_sparse_step_numpy[k10]", "stats": {"median": 0.006}},
        {"group": None, "name": "test_demand_batch", "stats": {"median": 0.5}}]}
    (tmp_path / "b.json").write_text(json.dumps(doc))
    assert report([str(tmp_path / "b.json")]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [
        "pr step: Numba 2.00 ms, NumPy 12.00 ms (6.0x slower); a copy of the same bytes 1.60 ms: 80% of copy bandwidth",
        "pr_sparse[k10] step: Numba 4.00 ms, NumPy 6.00 ms (1.5x slower)"]


def test_a_run_file_with_a_broken_line_is_refused_with_its_line_number(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    good = json.dumps({"ladder": "f", "size": 1, "seed": 0, "solver": "s", "status": "converged", "seconds": 1.0})
    (run_dir / "runs.jsonl").write_text(good + "\n" + '{"ladder": 3}\n' + good + "\n")
    assert main(["results", str(run_dir)]) == 2
    assert "line 2: ladder" in capsys.readouterr().err
    (run_dir / "runs.jsonl").write_text(good + "\n" + good[:20])         # a torn last line is a kill's
    assert len(read_runs(run_dir)) == 1


def test_records_of_older_versions_read_skipped_as_beyond_the_wall_or_declined(tmp_path):
    lines = [{"ladder": "f", "agents": 3, "seed": 0, "solver": "a", "status": "skipped",
              "message": "hit the time budget at agents = 2"},
             {"ladder": "f", "agents": 3, "seed": 0, "solver": "b", "status": "skipped",
              "message": "declined: only small economies"}]
    (tmp_path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    records = read_runs(tmp_path)
    assert [r["status"] for r in records] == ["beyond_wall", "declined"] and records[0]["seconds"] is None
