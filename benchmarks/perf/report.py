"""Ratios from one pytest-benchmark JSON file: each Numba step against its NumPy version and
against a copy of the same bytes, all medians from the same run.

    python -m benchmarks.perf.report results/bench.json
"""
from __future__ import annotations

import json
import sys


def ratios(doc: dict) -> list[str]:
    median = {b["name"]: b["stats"]["median"] for b in doc["benchmarks"]}
    lines = []
    for step in ("pr", "tatonnement", "pr_sparse", "tatonnement_sparse"):
        numba, numpy = median.get(f"test_{step}_step_numba"), median.get(f"test_{step}_step_numpy")
        copied = next((v for k, v in median.items() if k.startswith(f"test_copy_of_the_same_bytes[{step}-")), None)
        if numba is None:
            continue
        line = f"{step} step: Numba {numba * 1e3:.2f} ms"
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
