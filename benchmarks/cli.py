"""The `gebench` command line: generate, solve, verify, solvers, run, plot."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from markets import InputError, certify, dumps, load
from markets.classic import CLASSICS
from markets.generators import FAMILIES, build, generate
from markets.io import parse_json, write_atomic


def _cmd_generate(args) -> int:
    if args.family in CLASSICS:
        economy = CLASSICS[args.family]().economy
    elif FAMILIES[args.family].size_name == "d":
        if args.size is None:
            raise InputError(f"--size: {args.family} is sized by the game dimension d; give --size D")
        economy = build(args.family, args.size, args.seed)
    else:
        if args.agents is None or args.goods is None:
            raise InputError(f"--agents, --goods: {args.family} needs both")
        economy = generate(args.family, args.agents, args.goods, args.seed, args.density, args.rho)
    text = dumps(economy) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomic(args.output, text)
    return 0


def _cmd_solve(args) -> int:
    from solvers import create, solve
    economy = load(args.file)
    solver = create(args.solver)
    solver.warm_up()
    result = solve(solver, economy, args.tol, args.time_limit, args.seed)
    print(json.dumps(result.to_dict()))
    return 0


def _cmd_verify(args) -> int:
    economy = load(args.file)
    try:
        doc = parse_json(Path(args.result).read_text(encoding="utf-8"), str(args.result))
    except OSError as exc:
        raise InputError(f"{args.result}: cannot read: {exc}") from None
    if not isinstance(doc, dict) or "prices" not in doc or "allocation" not in doc:
        raise InputError(f"{args.result}: expected a result object with prices and allocation")
    try:
        certificate = certify(economy, doc["prices"], doc["allocation"])
    except InputError as exc:
        raise InputError(f"{args.result}: {exc}") from None
    print(json.dumps({**certificate.to_dict(), "tolerance": args.tol, "equilibrium": certificate.within(args.tol)}))
    return 0 if certificate.within(args.tol) else 1


def _cmd_solvers(args) -> int:
    from solvers.registry import available, load_errors, origin
    rows = [{"name": name, "exact": cls.exact, "models": sorted(cls.models), "utilities": sorted(cls.utilities),
             "parameters": cls.parameters, "package": origin(name)} for name, cls in available().items()]
    errors = list(load_errors())
    if args.json:
        print(json.dumps({"solvers": rows, "errors": errors}, indent=1))
        return 0
    for row in rows:
        kind = "exact" if row["exact"] else "heuristic"
        print(f"{row['name']:<24} {kind:<9} models: {','.join(row['models']):<16} "
              f"utilities: {','.join(row['utilities'])}  [{row['package']}]")
    for line in errors:
        print(f"failed to load: {line}", file=sys.stderr)
    return 0


def _draw(records: list[dict], run_dir: Path, budget, title: str) -> list[Path]:
    """Every plot of a run, and the fitted growth of the game families on stderr."""
    from .plot import growth_factors, plot_hard, plot_scaling
    written = plot_scaling(records, run_dir, budget, title) + plot_hard(records, run_dir, budget)
    for ladder, solver, value, factor in growth_factors(records):
        print(f"{ladder}: {solver} {value} grow x{factor:.2f} per unit of d", file=sys.stderr)
    return written


def _cmd_run(args) -> int:
    from .runner import read_runs, run_suite
    from .suite import load_suite
    suite = load_suite(args.suite)
    out = run_suite(suite, Path(args.results))
    records = read_runs(out)
    if not args.no_plot and any(r["status"] != "skipped" for r in records):
        _draw(records, out, suite.time_budget, f"suite {suite.name}")
    print(out)
    return 0


def _cmd_plot(args) -> int:
    from .runner import META_FILE, read_runs
    run_dir = Path(args.run_dir)
    records = read_runs(run_dir)
    if not records:
        raise InputError(f"{run_dir}: no runs.jsonl records to plot")
    try:
        meta = json.loads((run_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        meta = {}
    for path in _draw(records, run_dir, meta.get("time_budget"), f"suite {meta.get('suite', '?')}"):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gebench", description="General-equilibrium complexity benchmark")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a family's economy, or a classic one (format 1)")
    p.add_argument("family", choices=sorted(FAMILIES) + sorted(CLASSICS))
    p.add_argument("--agents", type=int, help="random families: number of agents")
    p.add_argument("--goods", type=int, help="random families: number of goods")
    p.add_argument("--size", type=int, help="game families: the game dimension d (2d agents and goods)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--density", type=float, default=1.0, help="share of goods each agent wants (0, 1]")
    p.add_argument("--rho", type=float, default=None, help="CES exponent (CES families only)")
    p.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("solve", help="solve an economy file and print the result as JSON")
    p.add_argument("file")
    p.add_argument("--solver", required=True, help="name or name[param=value,...]")
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser("verify", help="certify a result against an economy; exit 0 iff an equilibrium")
    p.add_argument("file")
    p.add_argument("result")
    p.add_argument("--tol", type=float, default=1e-6)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("solvers", help="list the registered solvers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_solvers)

    p = sub.add_parser("run", help="run a benchmark suite (default: quick)")
    p.add_argument("suite", nargs="?", default="quick", help="shipped suite name or TOML file")
    p.add_argument("--results", default="results", help="parent directory of the run directory")
    p.add_argument("--no-plot", action="store_true")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("plot", help="draw the scaling plot of a run directory")
    p.add_argument("run_dir")
    p.set_defaults(func=_cmd_plot)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("tol", "time_limit"):
        value = getattr(args, name, None)
        if value is not None and not value > 0:
            print(f"gebench: error: --{name.replace('_', '-')}: must be > 0, got {value}", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except InputError as exc:
        print(f"gebench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gebench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
