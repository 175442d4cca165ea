"""Economy families register like solvers: through the entry-point group gebench.families
(`gebench.markets.families`); a plugin family is listed by `gebench generate --help` and can
be generated, and one that fails to load is reported in one line, never fatal."""
import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from gebench.markets import InputError, families, loads
from gebench.markets.generators import FAMILIES, GameFamily, RandomFamily, build, generate

ROOT = Path(__file__).resolve().parents[1]
BUILT_IN = {f"{model}-{utility}" for model in ("fisher", "exchange")
            for utility in ("linear", "cobb-douglas", "ces", "leontief")} | {
    "ces-complements", "production-activity", "production-ces", "leontief-game", "leontief-game-morris",
    "leontief-game-svs", "leontief-game-hard"}

PLUGIN = '''
from gebench.markets.generators import RandomFamily


class Tiny(RandomFamily):
    """Fisher markets with Cobb-Douglas buyers, from a package of its own."""


TINY = Tiny("fisher", "cobb-douglas")
NOT_A_FAMILY = 42
'''


def test_the_built_in_families_come_from_the_entry_point_group():
    assert set(FAMILIES) == BUILT_IN and not families.load_errors()
    assert all(families.origin(name) == "gebench" for name in FAMILIES)
    assert FAMILIES["leontief-game-hard"] is FAMILIES["leontief-game-morris"]
    assert isinstance(FAMILIES["fisher-ces"], RandomFamily) and FAMILIES["fisher-ces"].default_rho == 0.5
    assert isinstance(FAMILIES["leontief-game-svs"], GameFamily)
    with pytest.raises(InputError, match="family: unknown 'nope'; known: ces-complements, "):
        build("nope", 4)


@pytest.fixture
def registry(monkeypatch):
    """The registry over the installed entry points and the ones a test adds (rediscovered
    before and after the test)."""
    installed = list(families.entry_points(group=families.GROUP))

    def add(*eps):
        monkeypatch.setattr(families, "entry_points", lambda group: installed + list(eps))
        families.rediscover()
    yield add
    families.rediscover()


def test_a_plugin_family_registers_and_a_broken_one_is_reported_not_raised(registry, tmp_path, monkeypatch):
    (tmp_path / "gebench_tinyfam.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry(EntryPoint("tiny-fisher", "gebench_tinyfam:TINY", families.GROUP),
             EntryPoint("fisher-linear", "gebench_tinyfam:TINY", families.GROUP),
             EntryPoint("missing", "gebench_missing_module:TINY", families.GROUP),
             EntryPoint("not-a-family", "gebench_tinyfam:NOT_A_FAMILY", families.GROUP))
    assert set(FAMILIES) == BUILT_IN | {"tiny-fisher"}
    assert type(FAMILIES["fisher-linear"]) is RandomFamily        # a plugin never takes a built-in's name
    errors = families.load_errors()
    assert len(errors) == 3
    assert errors[0].startswith("fisher-linear (from ?): refused, the name is already taken (from gebench)")
    assert any(e.startswith("missing (from ?): ModuleNotFoundError") for e in errors)
    assert any("not-a-family (from ?): TypeError: gebench_tinyfam:NOT_A_FAMILY is not an economy family" in e
               for e in errors)
    economy = generate("tiny-fisher", 3, 2, seed=1)
    assert (economy.model, economy.n_agents, economy.n_goods) == ("fisher", 3, 2)


def test_an_installed_plugin_family_is_listed_by_generate_help_and_generated(tmp_path):
    """A tiny distribution (its dist-info and module) on the path, as pip would install it."""
    (tmp_path / "gebench_tinyfam.py").write_text(PLUGIN)
    dist = tmp_path / "gebench_tinyfam-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gebench-tinyfam\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[gebench.families]\ntiny-fisher = gebench_tinyfam:TINY\n"
                                           "broken-family = gebench_missing_module:TINY\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))

    def gebench(*args):
        return subprocess.run([sys.executable, "-m", "gebench", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
    shown = gebench("generate", "--help")
    assert shown.returncode == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if line.strip().startswith("tiny-fisher"))
    assert "sized by agents" in line and "[gebench-tinyfam]" in line
    assert "fisher-linear" in shown.stdout
    assert "failed to load: broken-family (from gebench-tinyfam): ModuleNotFoundError" in shown.stdout
    made = gebench("generate", "tiny-fisher", "--agents", "3", "--goods", "2", "--seed", "4")
    assert made.returncode == 0, made.stderr
    economy = loads(made.stdout)
    assert (economy.model, economy.n_agents, economy.n_goods) == ("fisher", 3, 2)
    assert json.loads(made.stdout)["meta"]["family"] == "tiny-fisher"
