"""The result tables of README.md and docs/, generated from stored run directories, never typed
by hand.

A table sits between two marker lines naming what it shows:

    <!-- generated: table results/reference -->
    ...
    <!-- end generated -->

`table RUN_DIR` is the per-family summary of a run (`gebench.summary`); `path RUN_DIR
LADDER SOLVER` lists one solver's pivots and seconds at every size of a game ladder, and
`every-path RUN_DIR LADDER SOLVER` the shortest and longest of a Lemke-Howson run over every
dropped label, and `market RUN_DIR` what bilateral exchange had delivered by the time each
exact method finished, in a welfare suite's run, `institutions RUN_DIR LADDER SOLVER...`
the share of the gains each named solver delivered at each size of a welfare suite's ladder
and `institutions-cost RUN_DIR LADDER SOLVER...` its seconds and central reads, and `peers
RUN_DIR LADDER` every solver's seconds and verdicts at each size of a game ladder, gebench's methods beside the peers
(`gebench.solvers.peers`); `surface RUN_DIR FAMILY` the largest d each method solved at each
accuracy, with where the game's resolution passes each tolerance, and `surface-growth
RUN_DIR FAMILY` the growth fitted at each accuracy (`gebench.surface`), `resolution RUN_DIR
FAMILY` each size's game resolution; `days RUN_DIR REGIME` a days suite's table of one regime
and `days-largest RUN_DIR` its largest sizes with the regimes side by side
(`gebench.days_summary`); `solvers` is the table
of gebench's own solvers as their classes declare them (`gebench.solvers.registry`).

A RUN_DIR is relative to the repository's root, the folder holding pyproject.toml above the
file (or the file's own folder where there is none), so README.md and docs/results/*.md name
the same run the same way. Run, from the repository,

    python -m gebench.readme --write      # regenerate every table in README.md and docs/**/*.md
    python -m gebench.readme --check      # exit 1 if a table differs from its runs
    python -m gebench.readme --check README.md docs/results     # only these files and folders

tests/test_readme.py runs the check.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .days_summary import days_table, largest_days_table, summarise_days
from .outcomes import delivered, race
from .records import NOT_RUN, read_runs, size_of
from .summary import largest_text, summarise
from .surface import EXACT, accuracies, growth, resolutions, resolved_up_to, surface

SHOWN = {"beyond_wall": "not run past its wall", "declined": "declined at this size"}
BLOCK = re.compile(r"(<!-- generated: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


_READ: dict[Path, list[dict]] | None = None      # run directory -> its records, while `reading_once`


@contextmanager
def reading_once() -> Iterator[None]:
    """Within this block each run directory is read once, however many tables name it (the
    tables only read the records)."""
    global _READ
    outer = _READ
    if outer is None:
        _READ = {}
    try:
        yield
    finally:
        _READ = outer


def _runs(run_dir: Path) -> list[dict]:
    """The records of a run directory (once per directory within `reading_once`)."""
    if _READ is None:
        return read_runs(run_dir)
    key = Path(run_dir).resolve()
    if key not in _READ:
        _READ[key] = read_runs(run_dir)
    return list(_READ[key])


def _sizes(sizes: list[int], game: bool) -> str:
    prefix = "d = " if game else ""
    shown = sorted(set(sizes))
    return prefix + (", ".join(map(str, shown)) if len(shown) <= 3 else f"{shown[0]} to {shown[-1]}")


def _stops(runs: list[dict], game: bool) -> str:
    """The runs that did not converge, by status with their sizes: "timeout 3 at 320"."""
    by = defaultdict(list)
    for r in runs:
        if r["status"] != "converged":
            by[r["status"]].append(size_of(r))
    return "; ".join(f"{SHOWN.get(status, status)} {len(sizes)} at {_sizes(sizes, game)}"
                     for status, sizes in sorted(by.items()))


def results_table(run_dir: Path) -> str:
    """The summary of a run directory as a markdown table."""
    records = _runs(run_dir)
    rows = summarise(records)
    by = defaultdict(list)
    for r in records:
        by[(r["ladder"], r["solver"])].append(r)
    lines = ["| family | solver | seeds | largest solved on every seed | median s there | growth of seconds "
             "| growth of iterations | runs that did not converge |",
             "| --- | --- | ---: | ---: | ---: | --- | --- | --- |"]
    for row in rows:
        game = row["game"]
        fits = row["fits"]
        lines.append("| " + " | ".join([
            row["ladder"], row["solver"] + (" (exact)" if row["exact"] else ""), str(row["seeds"]),
            largest_text(row), "-" if row["seconds"] is None else f"{row['seconds']:.3g}",
            fits["seconds"]["text"] if fits["seconds"] else "-",
            fits["iterations"]["text"] if fits["iterations"] else "-",
            _stops(by[(row["ladder"], row["solver"])], game) or "-"]) + " |")
    return "\n".join(lines) + "\n"


def _first_runs(run_dir: Path, ladder: str, solver: str) -> list[dict]:
    """One solver's attempted runs on a ladder, the first seed's at each size, by size."""
    first = {}
    for r in sorted(_runs(run_dir), key=lambda r: (size_of(r), r["seed"])):
        if r["ladder"] == ladder and r["solver"] == solver and r["status"] not in NOT_RUN:
            first.setdefault(size_of(r), r)
    if not first:
        raise ValueError(f"{run_dir}: no runs of {solver} on {ladder}")
    return list(first.values())


def _by_size(cells: list[dict], rows: list[tuple[str, Callable[[dict], str]]]) -> str:
    """A markdown table with a column per run (headed by its d) and a row per (name, cell)."""
    lines = ["| d | " + " | ".join(str(size_of(r)) for r in cells) + " |",
             "| --- | " + " | ".join("---:" for _ in cells) + " |"]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in cells) + " |" for name, cell in rows]
    return "\n".join(lines) + "\n"


def path_table(run_dir: Path, ladder: str, solver: str) -> str:
    """One solver's iterations and seconds at each size of a ladder (its first seed), with
    the status where it did not converge."""
    def pivots(r):
        return str(r["iterations"]) if r["status"] == "converged" else f"{r['status']} after {r['iterations']}"

    def seconds(r):
        if r["status"] == "converged":
            return f"{r['seconds']:.3g}"
        return f"> {r['time_budget']:g}" if r["status"] == "timeout" else f"{r['seconds']:.3g} ({r['status']})"
    return _by_size(_first_runs(run_dir, ladder, solver), [("pivots", pivots), ("seconds", seconds)])


def every_path_table(run_dir: Path, ladder: str, solver: str) -> str:
    """The shortest and longest path at each size of a ladder, from a Lemke-Howson run with
    `dropped="all"` (its record keeps every path's pivots)."""
    cells = [r for r in _first_runs(run_dir, ladder, solver) if "shortest" in r.get("extra", {})]

    def paths(key):
        return lambda r: str(r["extra"][key]) + ("" if r["status"] == "converged" else " (so far)")

    def seconds(r):
        return f"{r['seconds']:.3g}" if r["status"] == "converged" else f"{r['status']} at {r['seconds']:.3g}"
    return _by_size(cells, [("shortest path", paths("shortest")), ("longest path", paths("longest")),
                            ("all paths, seconds", seconds)])


def _share(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def market_table(run_dir: Path) -> str:
    """Per economy size: what bilateral exchange delivered at its end and by the time each
    exact method finished (or stopped), and what the Hahn process delivered at its end;
    medians over the seeds (`gebench.outcomes.race`)."""
    records = _runs(run_dir)
    hahn = {(row["ladder"], row["size"]): row for row in race(records, "hahn-process")}
    rows = defaultdict(list)
    for row in race(records):
        rows[(row["ladder"], row["size"])].append(row)
    lines = ["| family | size | bilateral exchange at its end: share of the gains (s), worst agent's, Pareto gap "
             "| its share when each exact method stopped: method s (converged/runs): share | Hahn process at its end "
             "(s), worst agent's |",
             "| --- | ---: | --- | --- | --- |"]
    for (ladder, size), here in sorted(rows.items()):
        first = here[0]
        gap = first["trader_pareto_gap"]
        other = hahn.get((ladder, size))
        lines.append("| " + " | ".join([
            ladder, str(size),
            f"{_share(first['trader_gains_total'])} ({first['trader_seconds']:.2g}), "
            f"{_share(first['trader_gains_worst'])}, {'unbounded' if gap is None else f'{gap:.2g}'}",
            "; ".join(f"{row['planner']} {row['planner_seconds']:.2g} "
                      f"({row['planner_converged']}/{row['planner_runs']}): "
                      f"{_share(row['trader_total_by_then'])}" for row in here),
            "-" if other is None else f"{_share(other['trader_gains_total'])} ({other['trader_seconds']:.2g}), "
                                      f"{_share(other['trader_gains_worst'])}"]) + " |")
    return "\n".join(lines) + "\n"


def _institution_rows(run_dir: Path, ladder: str, solvers: list[str], cell: Callable[[dict], str]) -> str:
    """A markdown table of one ladder: a row per size, a column per solver, `cell` of what
    its runs delivered there (`gebench.outcomes.delivered`); "-" where it did not run."""
    table = delivered(_runs(run_dir))
    sizes = sorted({size for (name, size, _) in table if name == ladder})
    if not sizes:
        raise ValueError(f"{run_dir}: no welfare records on {ladder}")
    lines = ["| size | " + " | ".join(solvers) + " |", "| ---: | " + " | ".join("---" for _ in solvers) + " |"]
    for size in sizes:
        row = [table.get((ladder, size, solver)) for solver in solvers]
        lines.append(f"| {size} | " + " | ".join("-" if here is None else cell(here) for here in row) + " |")
    return "\n".join(lines) + "\n"


def _held(here: dict) -> str:
    """The median share of the gains and the worst agent's, and how many runs stopped at the
    deadline (their point is delivered), or how many had no reference equilibrium."""
    text = f"{_share(here['gains_total'])} / {_share(here['gains_worst'])}"
    if here["known"] < here["runs"]:
        text += f" ({here['runs'] - here['known']} of {here['runs']} unknown)"
    if here["timeouts"]:
        text += f" (timeout {here['timeouts']}/{here['runs']})"
    return text


def _cost(here: dict) -> str:
    reads = here["central_reads"]
    return f"{here['seconds']:.2g} s, {'-' if reads is None else f'{reads:.2g}'}"


def institutions_table(run_dir: Path, ladder: str, solvers: list[str]) -> str:
    """Per size of a welfare suite's ladder, what each solver delivered at its end: the
    median share of the gains from trade and the worst agent's share of its own gain."""
    return _institution_rows(run_dir, ladder, solvers, _held)


def institutions_cost_table(run_dir: Path, ladder: str, solvers: list[str]) -> str:
    """Per size of a welfare suite's ladder, each solver's median seconds and the median
    number of values it read at one central place (`Solver.central_reads`)."""
    return _institution_rows(run_dir, ladder, solvers, _cost)


def _verdict(runs: list[dict]) -> str:
    """One table cell: the median seconds when every run converged; otherwise how many did,
    and what the others were (`wrong`: an answer the certificate refused)."""
    runs = [r for r in runs if r["status"] not in NOT_RUN]
    if not runs:
        return "-"
    done = sorted(r["seconds"] for r in runs if r["status"] == "converged")
    if len(done) == len(runs):
        return f"{done[len(done) // 2]:.3g}"
    other = defaultdict(int)
    for r in runs:
        if r["status"] != "converged":
            wrong = r["status"] == "failed" and "certificate" in str(r.get("message", ""))
            other["wrong" if wrong else r["status"]] += 1
    text = ", ".join(f"{status} {k}" if len(runs) > 1 else status for status, k in sorted(other.items()))
    return f"{len(done)}/{len(runs)}: {text}" if len(runs) > 1 else text


def peers_table(run_dir: Path, ladder: str) -> str:
    """Every solver on a game ladder, by size: median seconds where all its runs there
    converged, else its verdicts; gebench's own methods first, then the peers."""
    by = defaultdict(list)
    for r in _runs(run_dir):
        if r["ladder"] == ladder:
            by[(r["solver"], size_of(r))].append(r)
    if not by:
        raise ValueError(f"{run_dir}: no runs on {ladder}")
    sizes = sorted({size for _, size in by})
    solvers = sorted({solver for solver, _ in by}, key=lambda s: (s.startswith(("gambit", "quantecon")), s))
    lines = ["| solver | " + " | ".join(f"d = {d}" for d in sizes) + " |",
             "| --- | " + " | ".join("---:" for _ in sizes) + " |"]
    lines += ["| " + solver + " | " + " | ".join(_verdict(by.get((solver, d), [])) for d in sizes) + " |"
              for solver in solvers]
    return "\n".join(lines) + "\n"


def _accuracy(tol) -> str:
    return EXACT if tol == EXACT else f"{tol:g}"


def _cell(cell) -> str:
    """"up to F [k/n], largest L, STOP at S": every size solved up to F, k of the n sizes
    attempted solved, the largest solved L where it lies past a failure, and how the first
    unsolved size S ended."""
    if cell is None:
        return ""
    text = f"up to {cell.frontier}" if cell.frontier is not None else "none"
    text += f" [{cell.solved}/{cell.attempted}]"
    if cell.wall.largest is not None and cell.wall.largest != cell.frontier:
        text += f", largest {cell.wall.largest}"
    if cell.wall.marginal:
        text += " (marginal)"
    return text + (f", {cell.stop} at {cell.stop_size}" if cell.stop else "")


def surface_table(run_dir: Path, family: str) -> str:
    """The size-by-accuracy map of one game family: per method and accuracy, the d up to which
    it solved every size within the budget, [sizes solved / sizes attempted], the largest d
    solved past a failure, and how its first unsolved size ended (`_cell`); a last row says
    from which d a pure profile passes each tolerance (the game's resolution is below it)."""
    records = _runs(run_dir)
    columns = accuracies(records, family)
    table = surface(records, family)
    order = sorted(table, key=lambda s: (EXACT in table[s], s))
    lines = ["| method | " + " | ".join(_accuracy(t) for t in columns) + " |",
             "| --- | " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + solver + " | " + " | ".join(_cell(table[solver].get(t)) for t in columns) + " |"
              for solver in order]
    passes = resolved_up_to(records, family)
    lines.append("| *a pure profile passes from* | " + " | ".join(
        "" if t == EXACT else ("d = " + str(passes[t]) if passes[t] is not None else "no d run")
        for t in columns) + " |")
    return "\n".join(lines) + "\n"


def resolution_table(run_dir: Path, family: str) -> str:
    """Each size's game resolution (`gebench.markets.games.game_resolution`, the smallest over
    the seeds run), as the records of a run store it."""
    found = resolutions(_runs(run_dir), family)
    return ("| d | " + " | ".join(str(d) for d in found) + " |\n| --- | " + " | ".join("---:" for _ in found)
            + " |\n| resolution | " + " | ".join(f"{v:.2g}" for v in found.values()) + " |\n")


def _law(law) -> str:
    """A fit in a table cell: "x1.47/d (1.30-1.67)" for an exponential, "d^2.69 (2.02-3.38)"
    for a power law, the 95% interval in brackets."""
    if law.kind == "exponential":
        return f"x{law.rate:.2f}/d ({law.low:.2f}-{law.high:.2f})"
    return f"d^{law.rate:.2f} ({law.low:.2f} to {law.high:.2f})"


def surface_growth_table(run_dir: Path, family: str) -> str:
    """The growth of seconds over d fitted at each accuracy of one game family, where a method
    converged at 4 sizes or more (`gebench.surface.growth`): the model the held-out size
    chose, exponential (a factor per unit of d) or a power of d, with its 95% t-interval."""
    records = _runs(run_dir)
    columns = accuracies(records, family)
    fits = growth(records, family)
    lines = ["| method | " + " | ".join(_accuracy(t) for t in columns) + " |",
             "| --- | " + " | ".join("---" for _ in columns) + " |"]
    for solver in sorted(fits, key=lambda s: (EXACT in fits[s], s)):
        cells = []
        for t in columns:
            law = fits[solver].get(t)
            cells.append("" if law is None else _law(law))
        lines.append("| " + solver + " | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _default(value) -> str:
    if isinstance(value, float) and value and not 1e-4 <= abs(value) < 1e6:
        return f"{value:.0e}".replace("e+", "e")
    return repr(value)


def _summary(cls) -> str:
    """The first sentence of a class's docstring, on one line."""
    paragraph = " ".join((cls.__doc__ or "").strip().split("\n\n", 1)[0].split())
    return re.split(r"(?<=\.)\s+(?=[A-Z`(])", paragraph, maxsplit=1)[0].replace("|", "\\|")


def _source(cls) -> str:
    """Where a built-in solver's module lives in the repository: gebench.solvers.x.y is solvers/x/y.py."""
    return cls.__module__.removeprefix("gebench.").replace(".", "/") + ".py"


def solvers_table() -> str:
    """gebench's own solvers as their classes declare them (`gebench.solvers.base.Solver`):
    name, exact or heuristic, models and utilities, producers, sparse economies, trading,
    whether it stops itself at its deadline, parameters with their defaults, and the first
    sentence of its docstring with its module's file. Plugins installed beside gebench are left out."""
    from gebench.solvers.registry import available, origin
    solvers = sorted((name, cls) for name, cls in available().items() if origin(name) == "gebench")
    lines = ["| solver | kind | models | utilities | producers | sparse | trades | stops at its deadline "
             "| parameters (defaults) | what it is | module |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, cls in solvers:
        lines.append("| " + " | ".join([
            f"`{name}`", "exact" if cls.exact else "heuristic", ", ".join(sorted(cls.models)),
            ", ".join(sorted(cls.utilities)), "yes" if cls.production else "", "yes" if cls.sparse else "",
            "yes" if cls.trades else "", "yes" if cls.interruptible else "no: the harness's kill",
            ", ".join(f"`{key}={_default(value)}`" for key, value in cls.parameters.items()) or "-",
            _summary(cls), f"`{_source(cls)}`"]) + " |")
    return "\n".join(lines) + "\n"


def render(spec: str, root: Path) -> str:
    """The body of the generated block `spec`, its run directories relative to `root`."""
    kind, *args = spec.split()
    if kind == "solvers" and not args:
        return solvers_table()
    if kind == "table" and len(args) == 1:
        return results_table(root / args[0])
    if kind == "path" and len(args) == 3:
        return path_table(root / args[0], args[1], args[2])
    if kind == "every-path" and len(args) == 3:
        return every_path_table(root / args[0], args[1], args[2])
    if kind == "market" and len(args) == 1:
        return market_table(root / args[0])
    if kind == "institutions" and len(args) >= 3:
        return institutions_table(root / args[0], args[1], args[2:])
    if kind == "institutions-cost" and len(args) >= 3:
        return institutions_cost_table(root / args[0], args[1], args[2:])
    if kind == "peers" and len(args) == 2:
        return peers_table(root / args[0], args[1])
    if kind == "surface" and len(args) == 2:
        return surface_table(root / args[0], args[1])
    if kind == "resolution" and len(args) == 2:
        return resolution_table(root / args[0], args[1])
    if kind == "surface-growth" and len(args) == 2:
        return surface_growth_table(root / args[0], args[1])
    if kind == "days" and len(args) == 2:
        return days_table(summarise_days(_runs(root / args[0])), args[1]) + "\n"
    if kind == "days-largest" and len(args) == 1:
        return largest_days_table(summarise_days(_runs(root / args[0]))) + "\n"
    raise ValueError(f"unknown generated block {spec!r}: expected 'table RUN_DIR', 'path RUN_DIR LADDER SOLVER', "
                     "'every-path RUN_DIR LADDER SOLVER', 'market RUN_DIR', 'institutions RUN_DIR LADDER "
                     "SOLVER...', 'institutions-cost RUN_DIR LADDER SOLVER...', 'peers RUN_DIR LADDER', "
                     "'surface RUN_DIR FAMILY', 'surface-growth RUN_DIR FAMILY', 'resolution RUN_DIR FAMILY', "
                     "'days RUN_DIR REGIME', 'days-largest RUN_DIR' or 'solvers'")


def regenerate(text: str, root: Path) -> str:
    """`text` with every generated block rewritten from the run directories under `root`."""
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("spec"), root) + m.group(4), text)


def stale_blocks(text: str, root: Path) -> list[str]:
    """The specs of the blocks whose body differs from what their runs give."""
    return [m.group("spec") for m in BLOCK.finditer(text) if m.group("body") != render(m.group("spec"), root)]


def repository_root(path: Path) -> Path:
    """The folder holding pyproject.toml at or above `path`'s folder, against which a
    generated block's run directories are read; `path`'s folder where there is none."""
    here = Path(path).resolve().parent
    return next((folder for folder in (here, *here.parents) if (folder / "pyproject.toml").is_file()), here)


def documents(paths: Sequence[Path | str] = ()) -> list[Path]:
    """The markdown files to regenerate or check: each file named, every ``*.md`` under each
    folder named; by default README.md and docs/ of the repository holding the current
    folder."""
    if not paths:
        root = repository_root(Path.cwd() / "README.md")
        paths = [root / "README.md", root / "docs"]
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.rglob("*.md"))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def stale_documents(paths: Sequence[Path | str] = ()) -> list[tuple[Path, str]]:
    """(file, spec) for each generated block of `documents(paths)` whose body differs from
    what its runs give; each run directory is read once."""
    stale = []
    with reading_once():
        for path in documents(paths):
            stale += [(path, spec) for spec in stale_blocks(path.read_text(), repository_root(path))]
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gebench.readme", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="markdown files, or folders whose *.md files to take (default: README.md and docs/)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated tables in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if a generated table is stale")
    args = parser.parse_args(argv)
    try:
        paths = documents(args.paths)
    except FileNotFoundError as exc:
        print(f"python -m gebench.readme: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_documents(paths)
        for path, spec in stale:
            print(f"{path}: the table '{spec}' differs from its runs; run python -m gebench.readme --write",
                  file=sys.stderr)
        return 1 if stale else 0
    with reading_once():
        for path in paths:
            text = path.read_text()
            written = regenerate(text, repository_root(path))
            if written != text:
                path.write_text(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
