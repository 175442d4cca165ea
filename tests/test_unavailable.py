"""A solver that cannot work in this environment (an extra missing, a licence expired, a
warm-up that raises) is declined everywhere with one line, runs nothing and fails nothing."""
import json
from pathlib import Path

import pytest

from gebench.cli import main
from gebench.markets import save
from gebench.markets.generators import generate
from gebench.runner import read_runs
from gebench.solvers import Solver, Unavailable, create, solve

SOLVERS = '''
from gebench.solvers.auctioneers.tatonnement import Tatonnement

class NoLicence(Tatonnement):
    name = "no-licence"
    checks = []

    @classmethod
    def check_environment(cls):
        cls.checks.append(1)
        return "its licence expired on 2026-11-26;\\n renew it"

class BadWarmUp(Tatonnement):
    name = "bad-warm-up"

    def warm_up(self):
        raise RuntimeError("the kernel\\ncannot compile")

class BrokenCheck(Tatonnement):
    name = "broken-check"

    @classmethod
    def check_environment(cls):
        raise OSError("no such binary")
'''

SUITE = """
name = "env"
tolerance = 1e-6
time_budget = 5.0
seeds = [0, 1]
solvers = ["tatonnement"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [4, 8]
"""


@pytest.fixture
def specs(tmp_path):
    path = tmp_path / "env_solvers.py"
    path.write_text(SOLVERS)
    return {name: f"{path}:{name}" for name in ("NoLicence", "BadWarmUp", "BrokenCheck")}


def test_the_environment_check_runs_once_per_process_and_gives_one_line(specs):
    cls = type(create(specs["NoLicence"]))
    assert cls.unavailable() == "its licence expired on 2026-11-26; renew it"
    assert cls.unavailable() == cls.unavailable()
    assert len(cls.checks) == 1
    assert type(create(specs["BrokenCheck"])).unavailable() == \
        "its environment check failed: OSError: no such binary"
    assert Solver.unavailable() is None


def test_solve_refuses_an_unavailable_solver_before_running_it(specs):
    with pytest.raises(Unavailable, match="no-licence: unavailable: its licence expired"):
        solve(create(specs["NoLicence"]), generate("fisher-ces", 4, 4, seed=0, rho=0.5))


@pytest.mark.parametrize("which, expected", [
    ("NoLicence", "no-licence: unavailable: its licence expired"),
    ("BadWarmUp", "bad-warm-up: warm-up failed: RuntimeError: the kernel cannot")])
def test_the_solve_command_exits_2_with_one_line(specs, which, expected, tmp_path, capsys):
    save(generate("fisher-ces", 4, 4, seed=0, rho=0.5), tmp_path / "e.json")
    assert main(["solve", str(tmp_path / "e.json"), "--solver", specs[which]]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and expected in captured.err


@pytest.mark.parametrize("isolation", [[], ["--workers", "2"], ["--in-process"]])
@pytest.mark.slow
def test_a_sweep_declines_them_and_records_why_once(specs, tmp_path, capsys, isolation):
    suite = tmp_path / "env.toml"
    suite.write_text(SUITE)
    extra = [arg for spec in specs.values() for arg in ("--solver", spec)]
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", *extra, *isolation]) == 0
    captured = capsys.readouterr()
    run_dir = Path(captured.out.strip().splitlines()[-1])
    records = read_runs(run_dir)
    assert {r["solver"] for r in records} == {"tatonnement"} and len(records) == 4
    assert all(r["status"] == "converged" for r in records)
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["unavailable"] == {
        "no-licence": "its licence expired on 2026-11-26; renew it",
        "broken-check": "its environment check failed: OSError: no such binary",
        "bad-warm-up": "warm-up failed: RuntimeError: the kernel cannot compile"}
    assert meta["declined"]["fisher-ces[rho=0.5]"]["bad-warm-up"] == \
        "unavailable: warm-up failed: RuntimeError: the kernel cannot compile"
    for name, reason in meta["unavailable"].items():
        assert f"{name} is unavailable here and runs nothing: {reason}" in captured.err
    assert "Traceback" not in captured.err


def test_the_dry_run_shows_an_unavailable_solver_with_its_reason(specs, tmp_path, capsys):
    suite = tmp_path / "env.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--dry-run", "--solver", specs["NoLicence"]]) == 0
    out = capsys.readouterr().out
    assert "declined by no-licence: unavailable here" in out
    assert "no-licence is unavailable here and runs nothing: its licence expired on 2026-11-26; renew it" in out
    assert "4 runs;" in out
