"""Ratios from one pytest-benchmark JSON file: each Numba step against its NumPy version and
against a copy of the same bytes, all medians from the same run.

    python -m benchmarks.perf.report results/bench.json
"""
from __future__ import annotations

import json
import sys


def ratios(doc: dict) -> list[str]:
    """One line per step group: the Numba median, and its ratios to NumPy and to the copy."""
    groups: dict[str, dict[str, float]] = {}
    for bench in doc["benchmarks"]:
        group = bench.get("group") or ""
        if not group.endswith(" step"):
            continue
        kind = next((k for k in ("numba", "numpy", "copy") if k in bench["name"]), None)
        if kind:
            groups.setdefault(group, {})[kind] = bench["stats"]["median"]
    lines = []
    for group, median in groups.items():
        numba, numpy, copied = median.get("numba"), median.get("numpy"), median.get("copy")
        if numba is None:
            continue
        line = f"{group}: Numba {numba * 1e3:.2f} ms"
        if numpy is not None:
            line += f", NumPy {numpy * 1e3:.2f} ms ({numpy / numba:.1f}x slower)"
        if copied is not None:
            line += f"; a copy of the same bytes {copied * 1e3:.2f} ms: {100 * copied / numba:.0f}% of copy bandwidth"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.perf.report BENCH.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        print("\n".join(ratios(json.load(handle))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
