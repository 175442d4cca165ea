"""Where a sweep's time goes: the solvers' own work against everything the harness adds.

`gebench run SUITE --in-process --profile FILE` runs the sweep under cProfile,
writes the raw profile to FILE (for `python -m pstats` or snakeviz) and prints
this summary: the share of the total in each part of a run, and the functions
with the most time of their own.
"""
from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable

# (label, file suffix, function): cumulative time of these functions
PARTS = (
    ("warming solvers up", "benchmarks/isolation.py", "warm_up_all"),
    ("building economies", "benchmarks/suite.py", "economy"),
    ("certifying each answer", "solvers/judging.py", "certified"),
    ("drawing plots", "benchmarks/figures.py", "draw_all"),
)


def profiled(call: Callable[[], object], path: str) -> tuple[object, str]:
    """Run `call` under cProfile, write the stats to `path`; (its result, the summary)."""
    profile = cProfile.Profile()
    result = profile.runcall(call)
    profile.dump_stats(path)
    return result, summary(pstats.Stats(path))


def _cumulative(stats: pstats.Stats, suffix: str, function: str) -> float:
    return sum(row[3] for (file, _, name), row in stats.stats.items()
               if name == function and file.replace("\\", "/").endswith(suffix))


def parts(stats: pstats.Stats) -> list[tuple[str, float]]:
    """(part, seconds): the solvers' runs (`solve` less its certificate), the harness's parts,
    and the rest (scheduling, records, progress, imports)."""
    total = stats.total_tt
    solving = _cumulative(stats, "solvers/judging.py", "solve")
    rows = [(label, _cumulative(stats, suffix, name)) for label, suffix, name in PARTS]
    certify = dict(rows)["certifying each answer"]
    out = [("solvers' own work (run)", solving - certify)] + rows
    out.append(("everything else", total - sum(seconds for _, seconds in out)))
    return out


def summary(stats: pstats.Stats, top: int = 12) -> str:
    total = stats.total_tt
    lines = [f"profile: {total:.1f} s in all"]
    for label, seconds in parts(stats):
        lines.append(f"  {label:<26} {seconds:8.1f} s  {100 * seconds / total:5.1f} %")
    lines.append(f"functions with the most time of their own (top {top}):")
    own = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
    for (file, line, name), row in own:
        where = "/".join(file.replace("\\", "/").split("/")[-2:])
        lines.append(f"  {row[2]:8.2f} s  {100 * row[2] / total:5.1f} %  {name} ({where}:{line})")
    return "\n".join(lines)
