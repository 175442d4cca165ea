"""The README's example solver is real: it passes the conformance kit."""
import re
from pathlib import Path

from solvers.registry import from_file
from solvers.testing import check_solver

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_add_a_solver_example_passes_the_kit(tmp_path):
    section = README.read_text().split("## Add a solver", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    path = tmp_path / "my_solver.py"
    path.write_text(code)
    check_solver(from_file(str(path), "Damped"))
