"""The README and docs/ are real: their example solvers pass the conformance kit, and every
table generated from the stored runs (`gebench.readme`) is what those runs give."""
import re
from pathlib import Path

import pytest

from gebench.solvers.registry import from_file
from gebench.solvers.testing import check_solver

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _example(path: Path, heading: str) -> tuple[str, str]:
    """The first ```python block after `heading` in `path`, and the Solver class it defines."""
    section = path.read_text().split(heading, 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    return code, re.search(r"^class (\w+)\(Solver\)", code, re.M).group(1)


@pytest.mark.parametrize("path, heading", [(README, "## Add a solver"),
                                           (ROOT / "docs" / "howto" / "add-a-solver.md", "## A solver")],
                         ids=["README", "howto"])
def test_the_add_a_solver_examples_pass_the_kit(tmp_path, path, heading):
    code, name = _example(path, heading)
    solver = tmp_path / "my_solver.py"
    solver.write_text(code)
    check_solver(from_file(str(solver), name))


def test_the_generated_tables_are_what_the_stored_runs_give(monkeypatch):
    from gebench.readme import BLOCK, documents, stale_documents
    monkeypatch.chdir(ROOT / "docs")
    assert documents() == DOCUMENTS           # what python -m gebench.readme --check reads by default
    generated = [path for path in DOCUMENTS if BLOCK.search(path.read_text())]
    assert sum(len(BLOCK.findall(path.read_text())) for path in generated) >= 3
    assert stale_documents(generated) == []


@pytest.mark.slow
def test_a_table_that_differs_from_its_runs_is_found_and_rewritten(tmp_path):
    import json
    import shutil

    from gebench.readme import main, regenerate
    run = tmp_path / "results" / "run"
    shutil.copytree(ROOT / "results" / "reference", run)
    text = ("intro\n<!-- generated: path results/run leontief-game-morris lemke-howson-exact -->\nold\n"
            "<!-- end generated -->\n")
    readme = tmp_path / "README.md"
    readme.write_text(text)
    assert main([str(readme), "--check"]) == 1
    assert main([str(readme), "--write"]) == 0 and main([str(readme), "--check"]) == 0
    written = readme.read_text()
    assert written.startswith("intro\n") and "| pivots | 4 | 12 |" in written
    # a page under docs/ names its runs from the repository's root (the folder with pyproject.toml)
    (tmp_path / "pyproject.toml").write_text("")
    page = tmp_path / "docs" / "results" / "page.md"
    page.parent.mkdir(parents=True)
    page.write_text(text)
    assert main([str(tmp_path / "docs"), "--check"]) == 1
    assert main(["--write", str(readme), str(tmp_path / "docs")]) == 0 and page.read_text() == written
    assert main([str(tmp_path / "missing.md"), "--check"]) == 2
    records = [json.loads(line) for line in (run / "runs.jsonl").read_text().splitlines()]
    first = next(r for r in records if r["solver"] == "lemke-howson-exact" and r["size"] == 2)
    first["iterations"] += 1
    (run / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main([str(readme), "--check"]) == 1
    assert "| pivots | 5 | 12 |" in regenerate(written, tmp_path)


def test_the_format_document_names_every_field_a_run_record_has(tmp_path, capsys):
    from gebench.cli import main
    from gebench.records import read_runs
    doc = (ROOT / "docs" / "format.md").read_text()
    section = doc.split("A record has the fields:", 1)[1].split("Records are keyed", 1)[0]
    section += doc.split("A day's record has the fields", 1)[1].split("Records of a days suite are keyed", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in section.splitlines()
                                                          if line.startswith("| `"))))
    suite = tmp_path / "tiny.toml"
    suite.write_text('name = "tiny"\ntolerance = 1e-6\ntime_budget = 5.0\nseeds = [0]\nsolvers = ["lemke-howson"]\n'
                     '[[family]]\nfamily = "leontief-game-svs"\nsizes = [2]\n')
    assert main(["run", str(suite), "--results", str(tmp_path), "--no-plot", "--in-process"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    from gebench.records import FIELDS, STATUSES
    assert documented == set(FIELDS), \
        f"fields the records module and the document disagree on: {documented ^ set(FIELDS)}"
    fields = set(read_runs(run_dir)[0])
    assert fields <= documented, f"undocumented record fields: {sorted(fields - documented)}"
    assert all(f"`{status}`" in section for status in STATUSES)
    assert {"status", "seconds", "setup_seconds", "size_name"} <= fields
