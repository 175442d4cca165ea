import json
import subprocess
import sys
from pathlib import Path

import pytest

from gebench.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def economy_file(tmp_path, capsys):
    path = tmp_path / "economy.json"
    code, _, _ = run(capsys, "generate", "fisher-ces", "--agents", "6", "--goods", "4", "--seed", "2",
                     "--rho", "0.5", "-o", str(path))
    assert code == 0
    return path


def test_generate_writes_a_reproducible_format_1_file(economy_file, tmp_path, capsys):
    doc = json.loads(economy_file.read_text())
    assert doc["format"] == "economy/1" and len(doc["agents"]) == 6 and doc["goods"] == 4
    again = tmp_path / "again.json"
    run(capsys, "generate", "fisher-ces", "--agents", "6", "--goods", "4", "--seed", "2", "--rho", "0.5",
        "-o", str(again))
    assert again.read_text() == economy_file.read_text()


@pytest.mark.slow
def test_solve_then_verify(economy_file, tmp_path, capsys):
    code, out, _ = run(capsys, "solve", str(economy_file), "--solver", "proportional-response", "--tol", "1e-8")
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "converged" and abs(sum(result["prices"]) - 1) < 1e-12
    assert set(result["certificate"]) == {"clearing", "waste", "budget", "optimality", "resolution"}
    path = tmp_path / "result.json"
    path.write_text(out)
    code, out, _ = run(capsys, "verify", str(economy_file), str(path), "--tol", "1e-8")
    assert code == 0 and json.loads(out)["equilibrium"] is True

    result["prices"][0] *= 1.5
    path.write_text(json.dumps(result))
    code, out, _ = run(capsys, "verify", str(economy_file), str(path))
    assert code == 1 and json.loads(out)["equilibrium"] is False


@pytest.mark.parametrize("argv, message", [
    (["solve", "{economy}", "--solver", "nope"], "solver: unknown 'nope'"),
    (["solve", "{missing}", "--solver", "tatonnement"], "cannot read"),
    (["solve", "{economy}", "--solver", "eisenberg-gale", "--tol", "-1"], "--tol"),
    (["solve", "{linear}", "--solver", "tatonnement"], "linear utilities"),
    (["verify", "{economy}", "{economy}"], "prices and allocation"),
    (["generate", "fisher-ces", "--agents", "3", "--goods", "3", "--rho", "2", "-o", "{out}"], "rho"),
])
def test_errors_are_one_line_and_exit_2(argv, message, economy_file, tmp_path, capsys):
    linear = tmp_path / "linear.json"
    run(capsys, "generate", "fisher-linear", "--agents", "2", "--goods", "2", "-o", str(linear))
    paths = dict(economy=economy_file, missing=tmp_path / "missing.json", linear=linear, out=tmp_path / "out.json")
    code, out, err = run(capsys, *[a.format(**paths) for a in argv])
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out.json").exists(), "nothing half-written"


def test_solvers_listing(capsys):
    code, out, _ = run(capsys, "solvers", "--json")
    listing = json.loads(out)
    names = {s["name"]: s for s in listing["solvers"]}
    assert names["eisenberg-gale"]["exact"] is True
    assert names["tatonnement"]["exact"] is False
    assert "fisher" in names["proportional-response"]["models"]


def test_console_script_is_installed(economy_file):
    script = Path(sys.executable).with_name("gebench")
    proc = subprocess.run([str(script), "verify", str(economy_file), "nothing.json"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "nothing.json" in proc.stderr and "Traceback" not in proc.stderr


def test_generate_game_families_by_size_and_classics_by_name(tmp_path, capsys):
    code, out, _ = run(capsys, "generate", "leontief-game-hard", "--size", "4")
    doc = json.loads(out)
    assert code == 0 and len(doc["agents"]) == 8 and doc["goods"] == 8
    code, _, err = run(capsys, "generate", "leontief-game", "--agents", "4", "--goods", "4")
    assert code == 2 and "--size" in err
    code, out, _ = run(capsys, "generate", "scarf-1960")
    assert code == 0 and len(json.loads(out)["agents"]) == 3
    code, _, err = run(capsys, "generate", "leontief-game-hard", "--size", "5", "-o", str(tmp_path / "x.json"))
    assert code == 2 and "even" in err and not (tmp_path / "x.json").exists()
