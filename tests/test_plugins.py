"""The extension point: plugins by entry point or by file, and the conformance kit."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gebench.cli import main
from gebench.markets import demand, save
from gebench.markets.generators import generate
from gebench.runner import read_runs
from gebench.solvers import Outcome, Unavailable, create
from gebench.solvers.auctioneers.tatonnement import Tatonnement
from gebench.solvers.registry import available
from gebench.solvers.testing import CHECKS, DEADLINE_MARGIN, TIME_LIMIT, check_solver, solver_checks

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "plugin-template"
BUILT_IN = sorted(available())


@pytest.mark.parametrize("solver", BUILT_IN)
@pytest.mark.parametrize("check", [c.__name__ for c in CHECKS])
def test_every_built_in_solver_passes_the_kit(solver, check):
    try:
        dict(solver_checks(available()[solver]))[check]()
    except Unavailable as exc:     # a fact about this machine (a licence, an extra), not the solver's flaw
        pytest.skip(str(exc))


# --- a deliberately broken solver, one flaw at a time -------------------------------------------

class Good(Tatonnement):
    name = "kit-good"


class BadDeclaration(Good):
    models = frozenset({"barter"})


class BadSchema(Good):
    def run(self, economy, tol, deadline, seed):
        outcome = super().run(economy, tol, deadline, seed)
        outcome.iterations = -1
        return outcome


class Dishonest(Good):
    def run(self, economy, tol, deadline, seed):
        p = np.arange(1.0, economy.n_goods + 1)
        return Outcome("converged", p, np.zeros((economy.n_agents, economy.n_goods)), 1)


class Overreaches(Good):
    def skip(self, economy):
        return None


class IgnoresDeadline(Good):
    def run(self, economy, tol, deadline, seed):
        if economy.n_agents > 50:
            time.sleep(TIME_LIMIT + DEADLINE_MARGIN + 0.5)
        return super().run(economy, tol, deadline, seed)


class Unseeded(Good):
    def run(self, economy, tol, deadline, seed):
        self.params["start"] = "random"
        return super().run(economy, tol, deadline, int.from_bytes(os.urandom(4), "little"))


class NeverConverges(Good):
    def run(self, economy, tol, deadline, seed):
        p = np.arange(1.0, economy.n_goods + 1)
        p /= p.sum()
        return Outcome("max_iter", p, demand(economy, p, economy.incomes(p)), 10)


class Mutates(Good):
    def run(self, economy, tol, deadline, seed):
        economy.meta["visits"] = economy.meta.get("visits", 0) + 1
        return super().run(economy, tol, deadline, seed)


class DenseOnly(Good):
    """Declares sparse (inherited), yet reads the coefficients as a dense array."""
    def warm_up(self):
        pass   # compiles on first use

    def run(self, economy, tol, deadline, seed):
        if not np.all(np.asarray(economy.a, dtype=np.float64) >= 0):   # fails on a CSR matrix
            raise ValueError("negative coefficients")
        return super().run(economy, tol, deadline, seed)


class ClaimsToTrade(Good):
    """Says it trades, yet its points are demands at interim prices, which no market can hold."""
    trades = True


class TraceOutOfOrder(Good):
    def run(self, economy, tol, deadline, seed):
        outcome = super().run(economy, tol, deadline, seed)
        outcome.trace = outcome.trace[::-1]
        return outcome


class ChangesYesterday(Good):
    """Carries state, but writes into the state it was handed: yesterday is not its to change."""
    carries = True
    parameters = {**Good.parameters, "carry": True}

    def run(self, economy, tol, deadline, seed, yesterday=None):
        outcome = super().run(economy, tol, deadline, seed)
        if yesterday is not None:
            yesterday.state["visits"] = yesterday.state.get("visits", 0) + 1
        outcome.state = {"visits": 0}
        return outcome


class CarriesUndeclared(Good):
    """Says it starts from yesterday, but its class never declared that `run` takes one."""
    carries = False

    @property
    def carried(self):
        return True


FLAWS = {"check_declarations": BadDeclaration, "check_result_schema": BadSchema,
         "check_honest_status": Dishonest, "check_declared_support": Overreaches,
         "check_deadline": IgnoresDeadline, "check_same_seed_same_answer": Unseeded,
         "check_equilibria": NeverConverges, "check_no_mutation": Mutates, "check_sparse": DenseOnly,
         "check_trace": ClaimsToTrade, "check_carries": ChangesYesterday}


def test_the_carries_check_refuses_a_carried_solver_whose_class_does_not_carry():
    with pytest.raises(AssertionError, match="does not declare carries"):
        dict(solver_checks(CarriesUndeclared))["check_carries"]()


def test_the_trace_check_catches_checkpoints_out_of_order():
    with pytest.raises(AssertionError, match="out of order"):
        dict(solver_checks(TraceOutOfOrder))["check_trace"]()


def test_a_correct_solver_passes_every_check():
    check_solver(Good)


@pytest.mark.parametrize("check", sorted(FLAWS))
def test_the_kit_catches_each_flaw_with_the_check_made_for_it(check):
    broken = FLAWS[check]
    with pytest.raises(AssertionError):
        dict(solver_checks(broken))[check]()
    assert set(FLAWS) == {c.__name__ for c in CHECKS}


def test_check_solver_names_every_failed_check():
    with pytest.raises(AssertionError) as failure:
        check_solver(Dishonest)
    message = str(failure.value)
    assert "check_honest_status: " in message and "check_equilibria: " in message
    assert "check_declarations" not in message


# --- a solver from a file ------------------------------------------------------------------------

FILE_SOLVER = '''
import numpy as np
from gebench.solvers.auctioneers.tatonnement import Tatonnement

class Slow(Tatonnement):
    """Tatonnement with a small step, under another name."""
    name = "from-a-file"
    parameters = {**Tatonnement.parameters, "step": 0.1}
'''

FILE_SUITE = """
name = "file"
tolerance = 1e-6
time_budget = 5.0
seeds = [0]
solvers = ["tatonnement"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [4, 8]
"""


@pytest.mark.slow
def test_a_solver_given_by_path_runs_in_a_suite_in_worker_processes_and_in_solve(tmp_path, capsys):
    path = tmp_path / "my_solver.py"
    path.write_text(FILE_SOLVER)
    suite = tmp_path / "file.toml"
    suite.write_text(FILE_SUITE)
    spec = f"{path}:Slow[step=0.2]"
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--solver", spec]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    records = read_runs(run_dir)
    assert sorted((r["solver"], r["size"], r["status"]) for r in records) == [
        ("from-a-file", 4, "converged"), ("from-a-file", 8, "converged"),
        ("tatonnement", 4, "converged"), ("tatonnement", 8, "converged")]
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["extra_solvers"] == [spec] and meta["solvers"]["from-a-file"]["params"]["step"] == 0.2
    economy = tmp_path / "e.json"
    save(generate("fisher-ces", 5, 5, seed=1, rho=0.5), economy)
    assert main(["solve", str(economy), "--solver", f"{path}:Slow"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "converged"
    assert main(["solve", str(economy), "--solver", f"{path}:Missing"]) == 2
    assert "Missing" in capsys.readouterr().err
    assert main(["solve", str(economy), "--solver", f"{tmp_path / 'nowhere.py'}:Slow"]) == 2
    capsys.readouterr()
    assert main(["solve", str(economy), "--solver", f"{path}:Tatonnement"]) == 2     # imported, not defined there
    assert "Tatonnement" in capsys.readouterr().err


@pytest.mark.slow
def test_a_solver_added_at_a_resume_is_kept_for_the_next_resume(tmp_path, capsys):
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text(FILE_SOLVER)
    second.write_text(FILE_SOLVER.replace('"from-a-file"', '"added-later"').replace("class Slow", "class Later"))
    suite = tmp_path / "file.toml"
    suite.write_text(FILE_SUITE)
    spec, added = f"{first}:Slow", f"{second}:Later[step=0.3]"
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--solver", spec]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["run", "--resume", str(run_dir), "--no-plot", "--solver", added, "--solver", spec]) == 0
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["extra_solvers"] == [spec, added] and meta["solvers"]["added-later"]["params"]["step"] == 0.3
    runs = run_dir / "runs.jsonl"
    kept = [line for line in runs.read_text().splitlines() if '"added-later"' not in line or '"size": 4' in line]
    runs.write_text("\n".join(kept) + "\n")                 # as if killed before its size-8 run
    assert main(["run", "--resume", str(run_dir), "--no-plot"]) == 0
    later = sorted((r["size"], r["status"]) for r in read_runs(run_dir) if r["solver"] == "added-later")
    assert later == [(4, "converged"), (8, "converged")]


def test_a_file_solver_survives_pickling_by_its_path(tmp_path):
    import pickle
    path = tmp_path / "my_solver.py"
    path.write_text(FILE_SOLVER)
    solver = create(f"{path}:Slow[step=0.3]")
    again = pickle.loads(pickle.dumps(solver))
    assert type(again) is type(solver) and again.params == solver.params and again.name == "from-a-file"


# --- an installed plugin package ---------------------------------------------------------------

@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The template plugin installed into a folder of its own, and a broken plugin beside it."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("source") / "plugin-template"
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    broken = target / "gebench_broken-0.1.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: gebench-broken\nVersion: 0.1\n")
    (broken / "entry_points.txt").write_text("[gebench.solvers]\nbroken = gebench_broken_missing:Solver\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), str(ROOT)]))
    return target, env


def _gebench(env, *args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "gebench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_an_installed_plugin_is_listed_with_its_package_and_a_broken_one_in_one_line(installed):
    _, env = installed
    listed = _gebench(env, "solvers")
    assert listed.returncode == 0
    line = next(line for line in listed.stdout.splitlines() if line.startswith("damped-tatonnement"))
    assert "[gebench-damped]" in line and "heuristic" in line
    assert "tatonnement " in listed.stdout and "eisenberg-gale" in listed.stdout
    errors = [line for line in listed.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "broken (from gebench-broken)" in errors[0] and "gebench_broken_missing" in errors[0]


@pytest.mark.slow
def test_the_template_passes_its_own_conformance_test(installed):
    _, env = installed
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TEMPLATE / "tests")],
                          env=env, cwd=TEMPLATE, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert f"{len(CHECKS) + 1} passed" in done.stdout


@pytest.mark.slow
def test_a_suite_runs_the_installed_plugin_and_plots_it(installed, tmp_path):
    _, env = installed
    suite = tmp_path / "plugin.toml"
    suite.write_text(FILE_SUITE.replace('solvers = ["tatonnement"]', 'solvers = ["tatonnement", "damped-tatonnement"]'))
    done = _gebench(env, "run", str(suite), "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    records = read_runs(run_dir)
    assert {(r["solver"], r["status"]) for r in records} == {("tatonnement", "converged"),
                                                             ("damped-tatonnement", "converged")}
    assert (run_dir / "scaling.png").stat().st_size > 1000
