"""The `gebench` command line: generate, solve, verify, solvers, run, results, plot, report."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from gebench.markets import InputError, certify, dumps, load, load_nfg, write_nfg
from gebench.markets.certificate import check_point, check_seconds, check_tolerance
from gebench.markets.classic import CLASSICS
from gebench.markets.games import game_of, leontief_from_game
from gebench.markets.generators import FAMILIES, build, generate
from gebench.markets.io import check_output_path, load_point, to_json, write_atomic
from gebench.markets.welfare import welfare

from .suite import check_fits


def _cmd_generate(args) -> int:
    """Write a family's economy, a classic one, or the economy of a two-player game in a
    Gambit .nfg file; with ``--format nfg``, the game itself as a .nfg file."""
    if args.output not in (None, "-"):
        check_output_path(args.output)
    if args.family.lower().endswith(".nfg"):
        text = _generate_from_nfg(args)
    else:
        economy = _generate_economy(args)
        text = dumps(economy) + "\n" if args.format == "economy" else _game_as_nfg(economy, args)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomic(args.output, text)
    return 0


def _generate_economy(args):
    """The economy that `generate` names: a classic one, or a family's of the given size."""
    if args.family in CLASSICS:
        return CLASSICS[args.family]().economy
    if args.family not in FAMILIES:
        raise InputError(f"FAMILY: unknown {args.family!r}; expected a family ({', '.join(sorted(FAMILIES))}), "
                         f"a classic economy ({', '.join(sorted(CLASSICS))}) or a path ending .nfg")
    if FAMILIES[args.family].is_game:
        if args.size is None:
            raise InputError(f"--size: {args.family} is sized by the game dimension d; give --size D")
        check_fits(args.family, 2 * args.size, 2 * args.size, 1.0, "--size")
        return build(args.family, args.size, args.seed)
    if args.agents is None or args.goods is None:
        raise InputError(f"--agents, --goods: {args.family} needs both")
    if args.agents < 1 or args.goods < 1:
        raise InputError(f"--agents, --goods: must be >= 1, got {args.agents} and {args.goods}")
    check_fits(args.family, args.agents, args.goods, args.density, "--agents, --goods")
    return generate(args.family, args.agents, args.goods, args.seed, args.density, args.rho)


def _generate_from_nfg(args) -> str:
    """The economy of the game in the .nfg file `args.family` (named by its title, else by the
    file's stem; its meta names the file), or with ``--format nfg`` the game rewritten."""
    path = Path(args.family)
    if not path.is_file():
        raise InputError(f"{path}: no such .nfg file" if not path.exists() else f"{path}: not a regular file")
    game = load_nfg(path)
    if args.format == "nfg":
        return write_nfg(game.R, game.C, game.title, game.strategies, game.players)
    m, n = game.shape
    check_fits(str(path), m + n, m + n, 1.0, "FAMILY")
    try:
        economy = leontief_from_game(game.R, game.C, name=game.title or path.stem, meta={"source": str(path)})
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    return dumps(economy) + "\n"


def _game_as_nfg(economy, args) -> str:
    """The .nfg text of the game a game family's economy encodes, exact where the economy is."""
    if args.family in CLASSICS or not FAMILIES[args.family].is_game:
        raise InputError(f"--format nfg: {args.family} is not a game; .nfg files hold the games of the "
                         f"game families ({', '.join(sorted(n for n in FAMILIES if FAMILIES[n].is_game))}) "
                         f"and of .nfg files")
    form = game_of(economy)
    R = form.exact_R if form.exact_R is not None else form.R
    C = form.exact_C if form.exact_C is not None else form.C
    title = f"{args.family}, d = {args.size}"
    if not FAMILIES[args.family].deterministic:
        title += f", seed {args.seed}"
    return write_nfg(R, C, title=title)


def _cmd_solve(args) -> int:
    """Solve in a worker process (`gebench.isolation.solve_isolated`), so that the time limit
    and the warm-up limit hold; exit 1, with one line, when the solver's process ends without a result."""
    from gebench.solvers import create
    from gebench.solvers.judging import check_runnable

    from .isolation import WorkerLost, solve_isolated
    check_seconds(args.warm_up_limit, "--warm-up-limit")
    economy = load(args.file)
    solver = create(args.solver)
    check_runnable(solver, economy)
    try:
        result = solve_isolated(solver, args.file, args.tol, args.time_limit, args.seed, args.warm_up_limit)
    except WorkerLost as lost:
        print(f"gebench: {solver.name}: the solver's process ended without a result ({lost.cause})", file=sys.stderr)
        return 1
    print(to_json(result))
    return 0


def _cmd_verify(args) -> int:
    economy = load(args.file)
    prices, allocation, levels = load_point(args.result)
    try:
        certificate = certify(economy, prices, allocation, levels)
    except InputError as exc:
        raise InputError(f"{args.result}: {exc}") from None
    report = {**certificate.to_dict(), "tolerance": args.tol, "equilibrium": certificate.within(args.tol)}
    if not report["equilibrium"]:
        report["why"] = certificate.refusal(args.tol)
    if economy.production:
        if args.equilibrium:
            raise InputError("--equilibrium: welfare is measured in exchange economies and Fisher markets, "
                             "not yet with producers")
    else:
        reference, reference_prices = (_equilibrium(economy, args.equilibrium, args.tol) if args.equilibrium
                                       else (None, None))
        allocation = check_point(economy, prices, allocation)[1]
        measures = welfare(economy, allocation, reference, reference_prices,
                           supply_tol=args.tol).to_dict(gains=reference is not None)
        if "infeasible" in measures:
            print(f"gebench: verify: {measures['infeasible']}", file=sys.stderr)
        report["welfare"] = measures
    print(to_json(report))
    return 0 if certificate.within(args.tol) else 1


def _equilibrium(economy, path: str, tol: float):
    """(allocation, prices) of the result file at `path`, refused unless it certifies within
    `tol`: gains from trade are measured against an equilibrium, never against a guess."""
    prices, allocation, _ = load_point(path)
    try:
        certificate = certify(economy, prices, allocation)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    if not certificate.within(tol):
        raise InputError(f"{path}: --equilibrium: not an equilibrium at tol {tol:g} "
                         f"(the certificate's worst measure is {certificate.worst:.3g})")
    return check_point(economy, prices, allocation)[::-1]


def _cmd_solvers(args) -> int:
    from gebench.solvers.registry import describe, load_errors
    rows, errors = describe(), list(load_errors())
    if args.json:
        print(to_json({"solvers": rows, "errors": errors}, indent=1))
        return 0
    for row in rows:
        kind = "exact" if row["exact"] else "heuristic"
        print(f"{row['name']:<24} {kind:<9} models: {','.join(row['models']):<16} "
              f"utilities: {','.join(row['utilities'])}  [{row['package']}]")
        if row["unavailable"]:
            print(f"{'':<24} unavailable: {row['unavailable']}")
    for line in errors:
        print(f"failed to load: {line}", file=sys.stderr)
    return 0


def _cmd_run(args) -> int:
    from .figures import draw_all
    from .records import NOT_RUN, RunDirectory, read_runs
    from .report import write_report
    from .runner import run_suite, worker_cap
    from .suite import load_suite, read_suite
    if args.resume:
        if args.suite is not None:
            raise InputError("run: give a suite or --resume RUN_DIR, not both (a resumed run uses its stored suite)")
        resumed = RunDirectory(args.resume)
        if not resumed.suite_file.is_file():
            raise InputError(f"--resume: {args.resume} is not a run directory (no suite.toml)")
        suite = read_suite(resumed.suite_file, str(resumed.read_meta().get("suite", "suite")))
        extra = list(dict.fromkeys(resumed.extra_solvers() + list(args.solver)))
    else:
        suite = load_suite(args.suite or "quick")
        extra = list(args.solver)
    workers = args.workers
    if args.executor == "local" or args.scheduler is None:
        workers, why = worker_cap(args.workers, suite.memory_budget)
        if why:
            print(f"gebench: --workers {args.workers} capped at {workers}: {why}", file=sys.stderr)
    if args.estimate_from is not None and not RunDirectory(args.estimate_from).has_runs():
        raise InputError(f"--estimate-from: {args.estimate_from} is not a run directory (no runs.jsonl)")
    if args.dry_run:
        from gebench.solvers import create

        from .runner import make_plan
        plan = make_plan(suite, [create(spec) for spec in extra])
        print(*plan.describe(), *plan.estimate(Path(args.estimate_from) if args.estimate_from else None), sep="\n")
        return 0
    if args.profile and not args.in_process:
        raise InputError("--profile: goes with --in-process (runs in worker processes are not profiled)")

    def sweep() -> Path:
        out = run_suite(suite, Path(args.results), extra, resume=Path(args.resume) if args.resume else None,
                        isolate=not args.in_process, workers=workers, executor=args.executor,
                        scheduler=args.scheduler, announce=lambda plan: print(*plan.describe(), sep="\n",
                                                                              file=sys.stderr))
        records = read_runs(out)
        if not args.no_plot and any(r["status"] not in NOT_RUN for r in records):
            draw_all(records, out, suite.time_budget, f"suite {suite.name}")
        if records:
            write_report(out)              # after the figures, which it embeds
        return out

    if args.profile:
        from .profiling import profiled
        out, summary = profiled(sweep, args.profile)
        print(summary, file=sys.stderr)
    else:
        out = sweep()
    print(out)
    return 0


def _cmd_plot(args) -> int:
    from .figures import draw_all
    from .plot import plot_overlay
    from .records import read_meta, read_runs
    runs = {}
    for run_dir in map(Path, args.run_dirs):
        runs[run_dir.name] = read_runs(run_dir)
        if not runs[run_dir.name]:
            raise InputError(f"{run_dir}: no runs.jsonl records to plot")
    first = Path(args.run_dirs[0])
    if len(runs) > 1:
        if len(runs) > 4 or len(runs) != len(args.run_dirs):
            raise InputError("plot: overlay two to four distinct run directories")
        stem = "overlay-" + "-".join(Path(d).name for d in args.run_dirs[1:])
        for path in plot_overlay(runs, first, stem):
            print(path)
        return 0
    meta = read_meta(first)
    for path in draw_all(runs[first.name], first, meta.get("time_budget"), f"suite {meta.get('suite', '?')}"):
        print(path)
    return 0


def _cmd_report(args) -> int:
    """Write RUN_DIR/report.html again from its records, meta.json, suite.toml and figures."""
    from .report import write_report
    print(write_report(args.run_dir))
    return 0


def _cmd_results(args) -> int:
    """Summarise a run directory (`--format table` or `json`), or export its records as a tidy
    table (`csv`, `parquet`: `gebench.export`), to stdout or atomically to `-o FILE`."""
    to_file = args.output not in (None, "-")
    if args.format == "parquet" and not to_file:
        raise InputError("--format parquet: a Parquet file is binary; give -o FILE")
    if to_file:
        check_output_path(args.output)
    if args.format in ("csv", "parquet"):
        from .export import read_table, require_pyarrow, to_csv, to_parquet
        if args.format == "parquet":
            require_pyarrow()
        table = read_table(args.run_dir)
        out = to_csv(table) if args.format == "csv" else to_parquet(table)
    else:
        from .days_summary import days_table, is_days_run, summarise_days
        from .records import read_runs
        from .summary import format_selections, format_table, selections, summarise
        records = read_runs(Path(args.run_dir))
        if not records:
            raise InputError(f"{args.run_dir}: no runs.jsonl records to summarise")
        if is_days_run(records):
            rows = summarise_days(records)
            out = to_json(rows, indent=1) + "\n" if args.format == "json" else days_table(rows) + "\n"
        elif args.format == "json":
            rows = summarise(records)
            out = to_json(rows, indent=1) + "\n"
        else:
            rows = summarise(records)
            out = format_table(rows) + "\n"
            chosen = selections(records)
            if chosen:
                out += ("\nWhich equilibrium each method found (its index in the enumeration of every extreme one):\n"
                        + format_selections(chosen) + "\n")
    if to_file:
        write_atomic(args.output, out)
    else:
        sys.stdout.write(out)
    return 0


def _families_epilog() -> str:
    """The registered families (`gebench.markets.families`), each with what sizes it and the
    package it came from, and one line per plugin family that failed to load."""
    from gebench.markets.families import load_errors, origin
    lines = ["families (entry-point group gebench.families):"]
    lines += [f"  {name:<24} sized by {family.size_name:<6} [{origin(name)}]" for name, family in FAMILIES.items()]
    lines += [f"failed to load: {line}" for line in load_errors()]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gebench", description="General-equilibrium complexity benchmark")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a family's economy, a classic one, or a .nfg game's (format 1)",
                       epilog=_families_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("family", metavar="FAMILY",
                   help="a registered family (below), a classic economy (" + ", ".join(sorted(CLASSICS)) + "), "
                        "or GAME.nfg: a two-player game in Gambit's .nfg format, written as its Leontief economy")
    p.add_argument("--agents", type=int, help="random families: number of agents")
    p.add_argument("--goods", type=int, help="random families: number of goods")
    p.add_argument("--size", type=int, help="game families: the game dimension d (2d agents and goods)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--density", type=float, default=1.0, help="share of goods each agent wants (0, 1]")
    p.add_argument("--rho", type=float, default=None, help="CES exponent (CES families only)")
    p.add_argument("--format", choices=("economy", "nfg"), default="economy",
                   help="economy: a format-1 economy file (default); nfg: the game itself as a Gambit .nfg file "
                        "(game families and .nfg files only)")
    p.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    p.set_defaults(func=_cmd_generate)

    from .suite import WARM_UP_BUDGET
    p = sub.add_parser("solve", help="solve an economy file and print the result as JSON",
                       description="Solve an economy file in a worker process and print the result as JSON. "
                                   "Exit 0 with a result (whatever its status), 1 if the solver's process ended "
                                   "without one, 2 on bad input or a solver that cannot run here.")
    p.add_argument("file")
    p.add_argument("--solver", required=True,
                   help="name or path/to/file.py:Class, optionally with [param=value,...]")
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--time-limit", type=float, default=60.0,
                   help="seconds for the solver's run (default 60): a hard limit, as a suite's budget is; the "
                        "worker process is killed at 1.5 x the limit + 2 s, and the result's status is timeout")
    p.add_argument("--warm-up-limit", type=float, default=WARM_UP_BUDGET, metavar="SECONDS",
                   help=f"seconds the solver's untimed warm-up may take (default {WARM_UP_BUDGET:g}, enough for "
                        "Numba's first compilation); after that the worker is killed and the solve refused")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser("verify", help="certify a result against an economy; exit 0 iff an equilibrium")
    p.add_argument("file")
    p.add_argument("result")
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--equilibrium", metavar="RESULT", help="a certified equilibrium of the same economy: "
                   "the welfare measures then include each agent's share of its gains from trade there")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("solvers", help="list the registered solvers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_solvers)

    p = sub.add_parser("run", help="run a benchmark suite (default: quick)")
    p.add_argument("suite", nargs="?", default=None, help="shipped suite name or TOML file (default: quick)")
    p.add_argument("--results", default="results", help="parent directory of the run directory")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run, without redoing finished runs")
    p.add_argument("--dry-run", action="store_true", help="print the planned runs and an estimate of their time")
    p.add_argument("--workers", type=int, default=1,
                   help="runs at once, one worker process each (default 1; at most one per core for fair timings)")
    p.add_argument("--solver", action="append", default=[], metavar="SPEC",
                   help="add a solver to every ladder it accepts: a name, or path/to/file.py:Class "
                        "(with [param=value,...]); repeatable")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local worker processes (default), or a dask.distributed cluster (pip install 'gebench[dask]')")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="with --executor dask: an existing cluster's scheduler (default: a LocalCluster of --workers)")
    p.add_argument("--in-process", action="store_true",
                   help="run solvers in this process: no hard budgets, no warm-up limit (the suite's "
                        "warm_up_budget), no crash protection (for profiling)")
    p.add_argument("--profile", metavar="FILE",
                   help="with --in-process: profile the sweep into FILE and print where the time went")
    p.add_argument("--estimate-from", metavar="RUN_DIR",
                   help="with --dry-run: a run directory whose seconds estimate the plan's")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("results", help="summarise a run directory: per family and solver, how far it got; "
                                       "or export its records as a tidy table")
    p.add_argument("run_dir")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--format", choices=("table", "json", "csv", "parquet"),
                     help="table: the summary (default); json: the summary as JSON; csv, parquet: one row per "
                          "record, nested fields as certificate.waste, extra.pivots, ... (docs/format.md, "
                          "\"Exporting a run\"); parquet needs -o and pyarrow (pip install 'gebench[parquet]')")
    how.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    p.add_argument("-o", "--output", default=None, help="output file, written whole or not at all (default: stdout)")
    p.set_defaults(func=_cmd_results, format="table")

    p = sub.add_parser("plot", help="draw a run's plots, or overlay several runs' scaling curves")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="one run directory (all plots), or 2-4 to overlay (written into the first)")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("report", help="write a run directory's report.html: one self-contained page of its "
                                      "findings, summary tables, figures, suite and environment")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "tol", None) is not None:
            check_tolerance(args.tol, "--tol")
        if getattr(args, "time_limit", None) is not None:
            check_seconds(args.time_limit, "--time-limit")
    except InputError as exc:
        print(f"gebench: error: {exc}", file=sys.stderr)
        return 2
    from .records import WriteFailed
    from .runner import Interrupted, Terminated

    def terminate(signum, frame):
        raise Terminated()
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"gebench: error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"gebench: {'terminated' if exc.terminated else 'interrupted'}; the records so far are in "
              f"{exc.run_dir}\ngebench: finish the sweep with: gebench run --resume {exc.run_dir}", file=sys.stderr)
        return 143 if exc.terminated else 130
    except WriteFailed as exc:
        print(f"gebench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"gebench: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:            # the reader went away (gebench solvers --json | head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
