"""Bad input, bad parameters and signals: one clear line and exit 2 (or 130/143), never a
traceback, a wrong answer, a half-written file or a second writer."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gebench.cli import main
from gebench.markets import Certificate, InputError, save
from gebench.markets.generators import generate
from gebench.runner import RunLock, read_runs
from gebench.solvers import Outcome, certified, create, judging

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gebench: error: "), err
    assert "Traceback" not in err and "<class" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# --- solver parameters ----------------------------------------------------------------------------

@pytest.mark.parametrize("spec, needles", [
    ("tatonnement[step=abc]", ["tatonnement", "step='abc'", "a number"]),
    ("tatonnement[step=-1]", ["step=-1", "0 < value < 1"]),
    ("tatonnement[max_iter=1.5]", ["max_iter=1.5", "an integer"]),
    ("tatonnement[max_iter=True]", ["max_iter=True", "an integer"]),
    ("tatonnement[start=sideways]", ["start='sideways'", "one of 'uniform', 'random'"]),
    ("linear-exchange-cp[spread=-8]", ["spread=-8", "0 < value"]),
    ("scarf[grid=[1]]", ["grid=[1]", "an integer"]),
    ("lemke-howson[arithmetic=rational]", ["arithmetic='rational'", "'exact'"]),
    ("tatonnement[step=" + "9" * 400 + "]", ["tatonnement", "a number"]),
    ("tatonnement[step=0.1,step=0.2]", ["sets step twice"]),
])
def test_a_bad_parameter_is_refused_before_anything_runs(spec, needles, tmp_path, capsys):
    save(generate("exchange-linear", 3, 3, seed=0), tmp_path / "e.json")
    assert main(["solve", str(tmp_path / "e.json"), "--solver", spec]) == 2
    one_line_error(capsys, *needles)


def test_a_negative_spread_no_longer_proves_that_an_equilibrium_is_missing():
    with pytest.raises(InputError, match="spread"):
        create("linear-exchange-cp[spread=-1.0]")
    assert create("tatonnement[max_iter=10.0]").params["max_iter"] == 10


SUITE = """
name = "params"
tolerance = 1e-6
time_budget = 5.0
seeds = [0]
solvers = ["tatonnement[step=0.25]"]

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [4, 6]
"""


def test_a_suite_runs_a_solver_with_the_parameters_it_lists(tmp_path, capsys):
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--in-process"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(r["solver"], r["status"]) for r in read_runs(run_dir)] == [("tatonnement", "converged")] * 2
    assert json.loads((run_dir / "meta.json").read_text())["solvers"]["tatonnement"]["params"]["step"] == 0.25


def test_a_file_solver_may_not_take_a_built_in_name(tmp_path, capsys):
    path = tmp_path / "impostor.py"
    path.write_text("from gebench.solvers.auctioneers.tatonnement import Tatonnement\n\n"
                    "class Impostor(Tatonnement):\n    name = 'tatonnement'\n")
    save(generate("fisher-ces", 3, 3, seed=0, rho=0.5), tmp_path / "e.json")
    assert main(["solve", str(tmp_path / "e.json"), "--solver", f"{path}:Impostor"]) == 2
    one_line_error(capsys, "Impostor", "'tatonnement'", "gebench.solvers.auctioneers.tatonnement.Tatonnement",
                   "gebench")


# --- files ----------------------------------------------------------------------------------------

ECONOMY = {"format": "economy/1", "model": "fisher", "goods": 2,
           "agents": [{"budget": 1, "utility": {"type": "linear", "a": [1, 2]}}]}


@pytest.mark.parametrize("text, needles", [
    (json.dumps(ECONOMY).replace('"budget": 1', '"budget": ' + "9" * 400), ["agent 0: budget", "range of a double"]),
    (json.dumps(ECONOMY).replace('[1, 2]', '[1, "2/0"]'), ["agent 0: utility.a[1]", 'rational "p/q"']),
    (json.dumps(ECONOMY).replace('[1, 2]', '[1, "two"]'), ["agent 0: utility.a[1]", 'rational "p/q"']),
    (json.dumps(ECONOMY).replace('"budget": 1', '"budget": 1, "budget": 2'), ['key "budget" appears twice']),
    (json.dumps(ECONOMY).replace('"budget": 1', '"budget": true'), ["agent 0: budget", "expected a number"]),
])
def test_an_economy_file_with_bad_numbers_or_keys_is_refused_naming_the_file(text, needles, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert main(["verify", str(path), str(path)]) == 2
    one_line_error(capsys, str(path), *needles)


@pytest.mark.parametrize("prices, allocation, needles", [
    ([True, 0.5], [[1, 1]], ["prices[0]", "expected a number"]),
    ([0.5, 0.5], [[1, False]], ["allocation[0][1]", "expected a number"]),
    ([0.5, 0.5], None, ["no point"]),
])
def test_a_result_file_with_booleans_or_no_point_is_refused(prices, allocation, needles, tmp_path, capsys):
    economy = tmp_path / "e.json"
    economy.write_text(json.dumps(ECONOMY))
    result = tmp_path / "r.json"
    result.write_text(json.dumps({"prices": prices, "allocation": allocation}))
    assert main(["verify", str(economy), str(result)]) == 2
    one_line_error(capsys, str(result), *needles)


@pytest.mark.parametrize("text, needles", [
    (b"name = \"caf\xe9\"\n", ["UTF-8"]),
    (SUITE.replace("[[family]]", "[family]").encode(), ["[[family]] tables"]),
    (SUITE.replace("time_budget = 5.0", 'time_budget = "5"').encode(), ["time_budget: expected a number, got '5'"]),
    (SUITE.replace("tolerance = 1e-6", "tolerance = inf").encode(), ["tolerance: must be a finite number > 0"]),
    (SUITE.replace("seeds = [0]", "seeds = [0, 1, 0]").encode(), ["seed 0 is listed twice"]),
    (SUITE.replace("seeds = [0]", "seeds = [true]").encode(), ["seeds"]),
    (SUITE.replace('rho = 0.5', 'rho = "half"').encode(), ["family[0]: rho: expected a number"]),
    (SUITE.replace('name = "params"', 'name = "../escape"').encode(), ["name: one word"]),
    (SUITE.replace("sizes = [4, 6]", "sizes = [4, 200000]").encode(), ["at agents = 200000 needs about"]),
    (SUITE.replace("time_budget = 5.0", "time_budget = 1e10").encode(), ["time_budget: at most"]),
    (SUITE.replace("time_budget = 5.0", "time_budget = 5.0\nmemory_budget = 1e300").encode(), ["memory_budget"]),
])
def test_a_bad_suite_file_gives_one_line_naming_the_file(text, needles, tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_bytes(text)
    assert main(["run", str(suite), "--results", str(tmp_path), "--dry-run"]) == 2
    one_line_error(capsys, str(suite), *needles)


def test_a_run_directory_is_named_from_the_suite_name_or_the_file_stem(tmp_path, capsys):
    suite = tmp_path / "deep" / "c.toml"
    suite.parent.mkdir()
    suite.write_text(SUITE.replace('name = "params"\n', ""))
    assert main(["run", str(suite.resolve()), "--results", str(tmp_path / "out"), "--no-plot", "--in-process"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert run_dir.parent == tmp_path / "out" and run_dir.name.endswith("-c")


def test_a_broken_meta_json_stops_a_resume_with_one_line(tmp_path, capsys):
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--in-process"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    (run_dir / "meta.json").write_text("{not json")
    assert main(["run", "--resume", str(run_dir), "--no-plot"]) == 2
    one_line_error(capsys, "meta.json", "malformed JSON")


# --- output paths ---------------------------------------------------------------------------------

def _generate_to(path, capsys):
    code = main(["generate", "fisher-linear", "--agents", "3", "--goods", "2", "-o", str(path)])
    return code


def test_output_refuses_what_is_not_a_regular_file_and_leaves_it_alone(tmp_path, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.json"
    target.write_text("keep me")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    for path, needle in [(folder, "not a regular file"), (fifo, "not a regular file"),
                         (Path("/dev/null"), "not a regular file"), (link, "symbolic link"),
                         (tmp_path / "nowhere" / "e.json", "does not exist")]:
        assert _generate_to(path, capsys) == 2
        one_line_error(capsys, str(path), needle)
    assert target.read_text() == "keep me" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert folder.is_dir() and stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink()
    assert _generate_to(target, capsys) == 0
    assert json.loads(target.read_text())["model"] == "fisher" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder", "link.json", "target.json"]


def test_results_must_be_a_directory(tmp_path, capsys):
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    (tmp_path / "file").write_text("")
    assert main(["run", str(suite), "--results", str(tmp_path / "file"), "--no-plot", "--in-process"]) == 2
    one_line_error(capsys, "--results", "not a directory")


# --- numbers the harness is given -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_tol_must_be_finite_and_positive(value, tmp_path, capsys):
    save(generate("fisher-ces", 3, 3, seed=0, rho=0.5), tmp_path / "e.json")
    assert main(["solve", str(tmp_path / "e.json"), "--solver", "tatonnement", "--tol", value]) == 2
    assert "--tol: must be a finite number > 0" in capsys.readouterr().err


def test_workers_are_capped_with_a_line_and_estimates_need_a_run_directory(tmp_path, capsys):
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--dry-run", "--workers", str(10 * (os.cpu_count() or 1))]) == 0
    assert "capped at" in capsys.readouterr().err
    assert main(["run", str(suite), "--dry-run", "--estimate-from", str(tmp_path / "missing")]) == 2
    one_line_error(capsys, "--estimate-from", "not a run directory")
    assert main(["run", str(suite), "--dry-run", "--workers", "0"]) == 2
    one_line_error(capsys, "--workers")


def test_generate_refuses_a_size_that_cannot_fit_before_allocating(capsys):
    assert main(["generate", "fisher-linear", "--agents", "300000", "--goods", "300000"]) == 2
    one_line_error(capsys, "300000 x 300000", "MiB")
    assert main(["generate", "leontief-game", "--size", "100000000"]) == 2
    one_line_error(capsys, "--size", "MiB")


def test_devices_fifos_and_unwritable_places_are_refused_in_one_line(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        assert main(["verify", path, path]) == 2
        one_line_error(capsys, path, "not a regular file")
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--results", "/proc/gebench-results", "--no-plot"]) == 2
    one_line_error(capsys, "--results", "/proc/gebench-results")


@pytest.mark.parametrize("record, needle", [
    ({"size": "big"}, "size: expected an integer"),
    ({"certificate": "x"}, "certificate: expected an object"),
    ({"iterations": 2.5}, "iterations: expected an integer"),
    ({"seconds": True}, "seconds: expected a number"),
])
def test_malformed_records_are_refused_by_results_and_plot(record, needle, tmp_path, capsys):
    good = {"ladder": "x", "seed": 0, "solver": "s", "status": "converged", "size": 4, "seconds": 1.0,
            "iterations": 3, "certificate": {"clearing": 0.0}}
    bad = {**good, **record}
    bad.pop(record.get("drop", "none"), None)
    bad.pop("drop", None)
    (tmp_path / "runs.jsonl").write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    for command in ("results", "plot"):
        assert main([command, str(tmp_path)]) == 2
        one_line_error(capsys, "runs.jsonl: line 1", needle)


def test_a_non_finite_certificate_is_a_failed_result_written_as_strict_json(monkeypatch):
    monkeypatch.setattr(judging, "certify", lambda *args: Certificate(0.0, 0.0, float("nan"), 0.0))
    economy = generate("fisher-ces", 3, 3, seed=0, rho=0.5)
    result = certified("x", economy, Outcome("converged", np.ones(3), np.ones((3, 3)), 1), 1e-6, 0.1)
    assert result.status == "failed" and "budget nan" in result.message
    doc = result.to_dict()
    assert doc["certificate"]["budget"] is None
    json.dumps(doc, allow_nan=False)


# --- one writer, and signals ----------------------------------------------------------------------

def test_a_second_writer_of_a_run_directory_is_refused_at_once(tmp_path, capsys):
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--in-process"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    holder = RunLock(run_dir)
    try:
        start = time.perf_counter()
        assert main(["run", "--resume", str(run_dir), "--no-plot"]) == 2
        assert time.perf_counter() - start < 5
        one_line_error(capsys, str(run_dir), f"in use by another gebench process (pid {os.getpid()})")
    finally:
        holder.release()
    assert main(["run", "--resume", str(run_dir), "--no-plot", "--in-process"]) == 0


def test_symbolic_links_in_a_run_directory_are_refused_and_their_targets_left_alone(tmp_path, capsys):
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE)
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--in-process"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (run_dir / ".lock").unlink(missing_ok=True)
    (run_dir / ".lock").symlink_to(precious)
    assert main(["run", "--resume", str(run_dir), "--no-plot", "--in-process"]) == 2
    one_line_error(capsys, ".lock", "symbolic link")
    assert precious.read_text() == "keep me"


DECLINES_LATER = '''
from gebench.solvers.auctioneers.tatonnement import Tatonnement

class Picky(Tatonnement):
    name = "picky"

    def skip(self, economy):
        return "only small economies" if economy.n_agents > 4 else super().skip(economy)
'''


@pytest.mark.parametrize("isolation", [[], ["--in-process"]])
@pytest.mark.slow
def test_a_solver_that_declines_a_larger_size_in_the_worker_is_skipped_there(isolation, tmp_path, capsys):
    (tmp_path / "picky.py").write_text(DECLINES_LATER)
    suite = tmp_path / "params.toml"
    suite.write_text(SUITE.replace('solvers = ["tatonnement[step=0.25]"]', "solvers = []"))
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", *isolation,
                 "--solver", f"{tmp_path / 'picky.py'}:Picky"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    statuses = [(r["size"], r["status"]) for r in read_runs(run_dir)]
    assert statuses == [(4, "converged"), (6, "declined")]
    assert "only small economies" in read_runs(run_dir)[1]["message"]


SLOW = '''
import time
from gebench.solvers.auctioneers.tatonnement import Tatonnement

class Sleepy(Tatonnement):
    name = "sleepy"

    def warm_up(self):
        Tatonnement().warm_up()              # its kernels, without a sleep for each tiny economy

    def run(self, economy, tol, deadline, seed):
        time.sleep(1.5)
        return super().run(economy, tol, deadline, seed)
'''

SLOW_SUITE = """
name = "slow"
tolerance = 1e-6
time_budget = 30.0
seeds = [0, 1, 2, 3, 4, 5]
solvers = []

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [4, 5, 6]
"""


def _default_signals() -> None:
    """In the sweep's process before it starts: Ctrl-C and SIGTERM as a terminal delivers them,
    whatever the test runner's own process ignores (a child inherits an ignored signal)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


@pytest.mark.parametrize("sig, code, workers", [(signal.SIGTERM, 143, "2"), (signal.SIGINT, 130, "1")])
@pytest.mark.slow
def test_sigterm_and_ctrl_c_stop_the_sweep_and_say_how_to_resume(sig, code, workers, tmp_path):
    (tmp_path / "sleepy.py").write_text(SLOW)
    suite = tmp_path / "slow.toml"
    suite.write_text(SLOW_SUITE)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "gebench", "run", str(suite), "--results",
                                str(tmp_path / "out"), "--no-plot", "--workers", workers,
                                "--solver", f"{tmp_path / 'sleepy.py'}:Sleepy"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=_default_signals)
    deadline = time.time() + 120
    runs = None
    while time.time() < deadline:
        found = list((tmp_path / "out").glob("*/runs.jsonl"))
        if found and found[0].read_text().count("\n") >= 1:
            runs = found[0]
            break
        time.sleep(0.1)
    assert runs is not None, process.communicate()
    workers_before = _children(process.pid)
    sent = time.perf_counter()
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert time.perf_counter() - sent < 8, err            # no queued run starts after the signal
    assert process.returncode == code, err
    assert f"gebench run --resume {runs.parent}" in err and "Traceback" not in err
    time.sleep(1.0)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in workers_before
            if Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()}
    assert not left, left
    done = len(read_runs(runs.parent))
    assert all(r["status"] == "converged" for r in read_runs(runs.parent))
    # each run is recorded when it ends, not when its size's 6 seeds have: the signal came
    # while the first runs were in flight, and only they are lost
    assert 1 <= done <= 2 * int(workers), done


@pytest.mark.slow
def test_a_closed_stdout_ends_quietly():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(f"{sys.executable} -m gebench.cli solvers --json | head -c 20",
                          shell=True, capture_output=True, text=True, env=env)
    assert done.stdout.startswith("{") and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
