"""The README's example solver is real: it passes the conformance kit."""
import re
from pathlib import Path

from gebench.solvers.registry import from_file
from gebench.solvers.testing import check_solver

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_add_a_solver_example_passes_the_kit(tmp_path):
    section = README.read_text().split("## Add a solver", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    path = tmp_path / "my_solver.py"
    path.write_text(code)
    check_solver(from_file(str(path), "Damped"))


def test_the_readme_tables_are_what_the_stored_runs_give():
    from gebench.readme import BLOCK, stale_blocks
    text = README.read_text()
    assert len(BLOCK.findall(text)) >= 3
    assert stale_blocks(text, README.parent) == []


def test_a_table_that_differs_from_its_runs_is_found_and_rewritten(tmp_path):
    import json
    import shutil

    from gebench.readme import main, regenerate
    run = tmp_path / "results" / "run"
    shutil.copytree(README.parent / "results" / "reference-hard", run)
    text = ("intro\n<!-- generated: path results/run leontief-game-morris lemke-howson-exact -->\nold\n"
            "<!-- end generated -->\n")
    readme = tmp_path / "README.md"
    readme.write_text(text)
    assert main([str(readme), "--check"]) == 1
    assert main([str(readme), "--write"]) == 0 and main([str(readme), "--check"]) == 0
    written = readme.read_text()
    assert written.startswith("intro\n") and "| pivots | 4 | 12 |" in written
    records = [json.loads(line) for line in (run / "runs.jsonl").read_text().splitlines()]
    first = next(r for r in records if r["solver"] == "lemke-howson-exact" and r["size"] == 2)
    first["iterations"] += 1
    (run / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main([str(readme), "--check"]) == 1
    assert "| pivots | 5 | 12 |" in regenerate(written, tmp_path)


def test_the_format_document_names_every_field_a_run_record_has(tmp_path, capsys):
    from gebench.cli import main
    from gebench.records import read_runs
    doc = (README.parent / "docs" / "format.md").read_text()
    section = doc.split("A record has the fields:", 1)[1].split("Records are keyed", 1)[0]
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
