"""A run directory's report: one self-contained page, `report.html` (docs/format.md, "Run
directories").

The page holds the run's findings in sentences generated from its records (how far each
method got on each family, where it stopped and why, its fitted growth with intervals, and
what the market delivered in a welfare suite), the summary tables, every figure in the run
directory, the suite as run and the environment from meta.json. Nothing is loaded from
elsewhere: figures are inline (an SVG as markup, else a PNG as a data URI), the style sheet
is in the page, and every text taken from the records is escaped.

Every number comes from the modules that own it: `gebench.summary` (the per-family rows),
`gebench.analysis` (walls, censored medians, growth fits) and `gebench.outcomes` (the gains
from trade), so that the report says what `gebench results` and the figures say.
`gebench run` writes the report after its figures; `gebench report RUN_DIR` writes it again.
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from gebench.markets import InputError
from gebench.markets.io import write_atomic

from .analysis import MARGINAL, MIN_FIT_SIZES, is_game_ladder
from .days_summary import DAYS_HEADER, days_cells, is_days_run, summarise_days
from .outcomes import final, instance_of, race, references, trades, welfare_records
from .records import NOT_RUN, RunDirectory, size_of
from .summary import found_text, largest_text, selections, summarise

REPORT_FILE = "report.html"
SIZE_LIMIT = 5_000_000
"""Bytes a report should stay under: past it, figures whose PNG data URI is smaller than
their SVG are embedded as PNG, the largest saving first, until the page fits or no figure
has a smaller PNG."""

FIGURE_SUFFIXES = (".svg", ".png")

STOPS = {
    "timeout": "ran out of the time budget", "out_of_memory": "ran out of memory", "failed": "failed",
    "max_iter": "stopped at the iteration limit", "diverged": "diverged",
    "at_rest": "came to rest without an equilibrium", "no_equilibrium": "reported no equilibrium",
}
"""How a sentence says that k runs ended with a status other than `converged`."""

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
       max-width: 1200px; margin: 0 auto; padding: 1em 1.5em 3em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
nav a { margin-right: 1em; } p.note { color: #555; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tbody tr:nth-child(even) { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.meta table { margin: 0; font-size: 1em; } table.meta th { white-space: nowrap; }
figure { margin: 1.5em 0; } figure svg, figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9em; } pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.family { margin: 0.8em 0; }
"""


def write_report(run_dir: Path | str) -> Path:
    """Write `run_dir/report.html`, the run's self-contained page (`render`), atomically.

    Parameters
    ----------
    run_dir : Path or str
        A run directory with its runs.jsonl (meta.json, suite.toml and figures as far as
        they exist).

    Returns
    -------
    Path
        The report written.

    Raises
    ------
    InputError
        `run_dir` is not a directory or has no records (one line naming it), a record or
        meta.json cannot be read, or the page cannot be written.
    """
    run_dir = Path(run_dir)
    text = render(run_dir)
    path = run_dir / REPORT_FILE
    try:
        write_atomic(path, text)
    except InputError as exc:
        raise InputError(f"{exc}; write it again with: gebench report {run_dir}") from None
    return path


def render(run_dir: Path | str) -> str:
    """The report of a run directory as one HTML page.

    Parameters
    ----------
    run_dir : Path or str
        The run directory.

    Returns
    -------
    str
        The page: title, findings, summary tables, figures, suite and environment, with no
        reference to anything outside it. The same records and files give the same page.

    Raises
    ------
    InputError
        `run_dir` is not a directory or holds no run records.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    directory = RunDirectory(run_dir)
    if not directory.has_runs():
        raise InputError(f"{run_dir}: not a run directory (no runs.jsonl)")
    records = directory.read_runs()
    if not records:
        raise InputError(f"{run_dir}: no records in runs.jsonl to report")
    meta = directory.read_meta()
    suite = str(meta.get("suite", "?"))
    run_id = str(meta.get("run_id") or records[0].get("run_id") or run_dir.name)
    head = _head(f"gebench report: suite {suite}, run {run_id}")
    if is_days_run(records):
        sections = [("days", "What each day delivered", _days_html(records))]
    else:
        rows = summarise(records)
        sections = [
            ("findings", "Findings", _findings_html(records, rows, meta)),
            ("summary", "Summary", _summary_html(records, rows)),
        ]
    if welfare_records(records):
        sections.append(("market", "What the market delivered", _market_table(records)))
    figure_section = len(sections)
    sections.append(("figures", "Figures", ""))
    sections += [("suite", "Suite", _suite_html(directory.suite_file)),
                 ("environment", "Environment", _meta_html(meta))]
    header = (f"<header><h1>{_e(f'Suite {suite}, run {run_id}')}</h1>"
              f"<p class=\"note\">{_e(_provenance(run_dir, records, meta))}</p>"
              "<nav>" + "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title, _ in sections) + "</nav></header>")

    def page(figures_html: str) -> str:
        parts = [head, "<body>", header]
        for k, (key, title, body) in enumerate(sections):
            parts.append(f'<section id="{key}"><h2>{_e(title)}</h2>'
                         f"{figures_html if k == figure_section else body}</section>")
        parts.append("</body></html>\n")
        return "\n".join(parts)

    figures = [_Figure(stem, files) for stem, files in figure_files(run_dir)]
    text = page(_figures_html(figures, run_dir))
    # too heavy: embed as PNG the figures whose PNG is smaller, the largest saving first
    for fig in sorted((f for f in figures if f.saving() > 0), key=lambda f: -f.saving()):
        if len(text.encode("utf-8")) <= SIZE_LIMIT:
            break
        fig.use_png = True
        text = page(_figures_html(figures, run_dir))
    return text


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _head(title: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>")


def _provenance(run_dir: Path, records: list[dict], meta: dict) -> str:
    made = sum(r["status"] not in NOT_RUN for r in records)
    text = (f"Written by gebench report from {run_dir.name}/runs.jsonl ({len(records)} records, {made} runs made), "
            "meta.json, suite.toml and the figures in the run directory")
    environment = meta.get("environment")
    commit = environment.get("commit") if isinstance(environment, dict) else None
    return text + (f"; the run's commit {commit}." if commit else ".")


# --- findings ------------------------------------------------------------------------------

def size_text(size, game: bool) -> str:
    """A size as the sentences say it: "d = 8" for a game, "320 agents" otherwise."""
    return f"d = {size}" if game else f"{size} agents"


def sizes_text(sizes, game: bool) -> str:
    """Distinct sizes, in order: all of them up to four, else the first and last ("10 to 320")."""
    shown = sorted(set(sizes))
    prefix = "d = " if game else ""
    if len(shown) <= 4:
        return prefix + ", ".join(map(str, shown))
    return f"{prefix}{shown[0]} to {shown[-1]}"


def _count(k: int, noun: str, plural: str | None = None) -> str:
    """"1 run", "5 runs" ("3 families" with `plural`)."""
    return f"{k} {noun if k == 1 else plural or noun + 's'}"


def _stops(counts: dict[str, int], budgets: set) -> str:
    """"3 ran out of the 5 s time budget, 2 failed": each non-converged status with its count."""
    parts = []
    for status, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        phrase = STOPS.get(status, f"ended {status}")
        if status == "timeout" and len(budgets) == 1:
            phrase = f"ran out of the {next(iter(budgets)):g} s time budget"
        parts.append(f"{k} {phrase}")
    return ", ".join(parts)


def overall_findings(records: list[dict], meta: dict) -> list[str]:
    """Sentences on the whole run: what it asked, how many runs it made and how they ended,
    counting every run that did not converge, the runs not made, and the solvers that could
    not run here."""
    made = [r for r in records if r["status"] not in NOT_RUN]
    statuses = defaultdict(int)
    for r in made:
        statuses[r["status"]] += 1
    ladders = sorted({r["ladder"] for r in records})
    solvers = sorted({r["solver"] for r in records})
    sentences = []
    tolerance, budget = meta.get("tolerance"), meta.get("time_budget")
    tolerances = sorted({r["tolerance"] for r in records if isinstance(r.get("tolerance"), (int, float))},
                        reverse=True)
    if len(tolerances) > 1 and isinstance(budget, (int, float)):
        sentences.append(f"Each run had {budget:g} s to reach a point whose certificate is within its ladder's "
                         f"tolerance: {', '.join(f'{t:g}' for t in tolerances)}.")
    elif isinstance(tolerance, (int, float)) and isinstance(budget, (int, float)):
        sentences.append(f"Each run had {budget:g} s to reach a point whose certificate is within {tolerance:g}.")
    converged = statuses.pop("converged", 0)
    text = (f"The run made {_count(len(made), 'run')} of {_count(len(solvers), 'solver')} on "
            f"{_count(len(ladders), 'family', 'families')}: {converged} converged")
    budgets = {r["time_budget"] for r in made if r.get("time_budget")}
    text += f"; {_stops(statuses, budgets)}." if statuses else "."
    sentences.append(text)
    beyond = sum(r["status"] == "beyond_wall" for r in records)
    declined = sum(r["status"] == "declined" for r in records)
    not_made = [f"{beyond} beyond a solver's wall (it had run out of its budget at a smaller size of the family)"
                if beyond else "", f"{declined} declined by the solver at that size" if declined else ""]
    if beyond or declined:
        sentences.append(f"{_count(beyond + declined, 'run')} {'was' if beyond + declined == 1 else 'were'} not "
                         "made: " + " and ".join(part for part in not_made if part) + ".")
    unavailable = meta.get("unavailable")
    if isinstance(unavailable, dict) and unavailable:
        sentences.append("Could not run here, and made no runs: "
                         + "; ".join(f"{name} ({why})" for name, why in sorted(unavailable.items())) + ".")
    return sentences


def solver_sentence(row: dict, runs: list[dict]) -> str:
    """One solver on one family: the largest size it solved on every seed, where it first fell
    short and how those runs ended, every other run that did not converge, and the runs not
    made. `row` is its `gebench.summary.summarise` row, `runs` its records."""
    game = row["game"]
    name = row["solver"]
    made = [r for r in runs if r["status"] not in NOT_RUN]
    budgets = {r["time_budget"] for r in made if r.get("time_budget")}
    tried = sorted({size_of(r) for r in made})
    by_size = defaultdict(list)
    for r in made:
        by_size[size_of(r)].append(r)
    if not made:
        text = f"{name} made no runs"
    elif row["largest"] is None:
        solved = sum(r["status"] == "converged" for r in made)
        text = f"{name} solved no size on every seed ({solved} of {_count(len(made), 'run')} converged)"
    else:
        text = f"{name}: largest size solved on every seed {size_text(row['largest'], game)}"
        if row["seconds"] is not None:
            text += f" (median {row['seconds']:.3g} s there)"
        if row["marginal"]:
            text += f", a marginal wall (a run took over {MARGINAL:.0%} of its budget)"
    short = next((n for n in tried if any(r["status"] != "converged" for r in by_size[n])), None)
    if short is not None:
        here = by_size[short]
        counts = defaultdict(int)
        for r in here:
            if r["status"] != "converged":
                counts[r["status"]] += 1
        solved = len(here) - sum(counts.values())
        text += (f"; it first fell short at {size_text(short, game)} (of {_count(len(here), 'run')}, "
                 f"{_stops(counts, budgets)}" + (f" and {solved} converged)" if solved else ")"))
    elsewhere = defaultdict(list)
    for r in made:
        if r["status"] != "converged" and size_of(r) != short:
            elsewhere[r["status"]].append(size_of(r))
    if elsewhere:
        text += "; at larger sizes, " + ", ".join(
            f"{len(sizes)} {STOPS.get(status, f'ended {status}')} (at {sizes_text(sizes, game)})"
            for status, sizes in sorted(elsewhere.items()))
    if made and short is None:
        text += "; every run it made converged"
    for status, what in (("beyond_wall", "not made beyond its wall"), ("declined", "declined")):
        skipped = [size_of(r) for r in runs if r["status"] == status]
        if skipped:
            text += f"; {_count(len(skipped), 'run')} {what} (at {sizes_text(skipped, game)})"
    return text + "."


def _fit_sentence(value: str, rows: list[dict]) -> str | None:
    """The fitted growth of `value` ("seconds" or "iterations") of a family's solvers, and
    the solvers it could not be fitted for."""
    fitted = [f"{row['solver']} {row['fits'][value]['text']}" for row in rows if row["fits"].get(value)]
    unfitted = [row["solver"] for row in rows if not row["fits"].get(value)]
    if not fitted:
        return None
    text = f"Growth of the median {value} (95% interval): " + "; ".join(fitted) + "."
    if unfitted:
        text += (f" Not fitted (fewer than {MIN_FIT_SIZES} sizes with a finite median): "
                 + ", ".join(unfitted) + ".")
    return text


def family_findings(records: list[dict], rows: list[dict] | None = None) -> list[tuple[str, list[str]]]:
    """Per family (ladder): (its name, sentences): the sizes and seeds it ran, one sentence per
    solver (`solver_sentence`, the furthest first), and the growth fits of seconds and
    iterations (`gebench.analysis.fit`, through the summary rows).

    Parameters
    ----------
    records : list of dict
        The run's records.
    rows : list of dict, optional
        `gebench.summary.summarise(records)`, when already computed.

    Returns
    -------
    list of (str, list of str)
    """
    rows = summarise(records) if rows is None else rows
    by_ladder = defaultdict(list)
    for r in records:
        by_ladder[r["ladder"]].append(r)
    found = []
    for ladder in sorted(by_ladder):
        runs = by_ladder[ladder]
        game = is_game_ladder(runs[0])
        made = [r for r in runs if r["status"] not in NOT_RUN]
        seeds = sorted({r["seed"] for r in runs})
        here = sorted((row for row in rows if row["ladder"] == ladder),
                      key=lambda row: (row["largest"] is None, -(row["largest"] or 0),
                                       math.inf if row["seconds"] is None else row["seconds"], row["solver"]))
        converged = sum(r["status"] == "converged" for r in made)
        sentences = [f"Sizes {sizes_text([size_of(r) for r in runs], game)}"
                     f"{'' if game else ' agents'}, {_count(len(seeds), 'seed')}; "
                     f"{converged} of {_count(len(made), 'run')} made converged."]
        by_solver = defaultdict(list)
        for r in runs:
            by_solver[r["solver"]].append(r)
        sentences += [solver_sentence(row, by_solver[row["solver"]]) for row in here]
        sentences += [s for s in (_fit_sentence("seconds", here), _fit_sentence("iterations", here)) if s]
        found.append((ladder, sentences))
    return found


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def _share(value) -> str:
    return "unknown" if value is None else f"{value:.2f}"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _gap_text(runs: list[dict], ends: list[dict]) -> str:
    """The median Pareto gap of what runs delivered at their ends, with the runs where it is
    unbounded (nobody has positive utility) or unknown (an allocation beyond the supply) counted."""
    infeasible = sum(not r["welfare"].get("feasible", True) for r in runs)
    unbounded = sum(e["pareto_gap"] is None for e in ends) - infeasible
    gap = _median(e["pareto_gap"] for e in ends)
    parts = [] if gap is None else [f"median {gap:.2g}"]
    if unbounded:
        parts.append(f"unbounded in {_count(unbounded, 'run')}")
    if infeasible:
        parts.append(f"unknown in {_count(infeasible, 'run')} (beyond the supply)")
    return ", ".join(parts)


def market_findings(records: list[dict]) -> list[tuple[str, list[str]]]:
    """Per family of a welfare suite's run: what the agents held at the end of each solver's
    runs at the largest size whose gains from trade are known (`gebench.outcomes.final`),
    what each trading process had delivered by the time each exact method stopped
    (`gebench.outcomes.race`), and how many runs' gains are unknown (no equilibrium
    certified for their economy in the run). Empty without welfare records."""
    recs = welfare_records(records)
    refs = references(records)
    traders = sorted({r["solver"] for r in recs if trades(r)})
    races = {t: race(records, t) for t in traders}
    found = []
    for ladder in sorted({r["ladder"] for r in recs}):
        here = [r for r in recs if r["ladder"] == ladder]
        game = is_game_ladder(here[0])
        known = sorted({size_of(r) for r in here if instance_of(r) in refs})
        sentences = []
        unknown = [r for r in here if instance_of(r) not in refs]
        if not known:
            sentences.append(f"No run certified an equilibrium on any of its economies, so the shares of the "
                             f"gains from trade are unknown for all {len(here)} runs.")
        else:
            size = known[-1]
            at = [r for r in here if size_of(r) == size]
            economies = len({instance_of(r) for r in at})
            parts = []
            for solver in sorted({r["solver"] for r in at}):
                runs = [r for r in at if r["solver"] == solver]
                ends = [final(r, refs.get(instance_of(r))) for r in runs]
                part = (f"{_share(_median(e['gains_total'] for e in ends))} with {solver} (worst agent's share "
                        f"{_share(_median(e['gains_worst'] for e in ends))}, Pareto gap {_gap_text(runs, ends)}; "
                        f"{sum(r['status'] == 'converged' for r in runs)} of {_count(len(runs), 'run')} converged)")
                parts.append(part)
            sentences.append(f"At {size_text(size, game)}, the largest size with a certified equilibrium "
                             f"({_count(economies, 'economy', 'economies')}), the agents "
                             "held at the end of the runs a median share of the gains from trade (valued at "
                             "equilibrium prices) of " + "; ".join(parts) + ".")
            by_planner = defaultdict(list)
            for trader, rows in races.items():
                for row in rows:
                    if row["ladder"] == ladder and row["size"] == size:
                        by_planner[(row["planner"], row["planner_seconds"], row["planner_converged"],
                                    row["planner_runs"])].append(f"{trader}'s agents held "
                                                                 f"{_share(row['trader_total_by_then'])}")
            for (planner, seconds, solved, runs), held in sorted(by_planner.items()):
                sentences.append(f"By the time {planner} stopped (median {seconds:.2g} s; {solved} of "
                                 f"{_count(runs, 'run')} converged), " + _and(held) + ".")
        if unknown and known:
            sentences.append(f"The gains shares are unknown for {len(unknown)} of {len(here)} runs, on economies "
                             f"where no run certified an equilibrium (at "
                             f"{sizes_text([size_of(r) for r in unknown], game)}).")
        found.append((ladder, sentences))
    return found


def _findings_html(records: list[dict], rows: list[dict], meta: dict) -> str:
    parts = ["<p>" + _e(" ".join(overall_findings(records, meta))) + "</p>",
             "<p class=\"note\">A size is solved when every seed's run there converged. Medians count a run "
             "that did not converge as censored, never dropped; growth is fitted to the largest sizes with a "
             "finite median, the model chosen on the largest size held out (gebench.analysis).</p>"]
    for ladder, sentences in family_findings(records, rows):
        parts.append(f"<div class=\"family\"><h3>{_e(ladder)}</h3><p>{_e(sentences[0])}</p><ul>"
                     + "".join(f"<li>{_e(s)}</li>" for s in sentences[1:]) + "</ul></div>")
    market = market_findings(records)
    if market:
        parts.append("<h3>What the market delivered</h3>")
        for ladder, sentences in market:
            parts.append(f"<p><strong>{_e(ladder)}:</strong> {_e(' '.join(sentences))}</p>")
    return "\n".join(parts)


# --- tables --------------------------------------------------------------------------------

def _table(header: list[str], rows: list[list], cls: str, numeric: set[int] = frozenset()) -> str:
    head = "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td class=\"num\">{_e(c)}</td>" if k in numeric else f"<td>{_e(c)}</td>"
                                    for k, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<table class="{cls}">{head}<tbody>{body}</tbody></table>'


def summary_table(rows: list[dict]) -> str:
    """The summary rows (`gebench.summary.summarise`) as an HTML table, one row each."""
    header = ["family", "solver", "exact", "seeds", "largest solved on every seed", "median s there",
              "growth of seconds", "growth of iterations", "median certificate", "other statuses"]
    cells = [[row["ladder"], row["solver"], "yes" if row["exact"] else "no", row["seeds"], largest_text(row),
              "-" if row["seconds"] is None else f"{row['seconds']:.3g}",
              row["fits"]["seconds"]["text"] if row["fits"].get("seconds") else "-",
              row["fits"]["iterations"]["text"] if row["fits"].get("iterations") else "-",
              "-" if row["certificate"] is None else f"{row['certificate']:.1e}",
              ", ".join(f"{k} {v}" for k, v in sorted(row["others"].items())) or "-"] for row in rows]
    return _table(header, cells, "summary", {3, 4, 5, 8})


def _summary_html(records: list[dict], rows: list[dict]) -> str:
    parts = ["<p class=\"note\">One row per family and solver, as <code>gebench results</code> prints it.</p>",
             summary_table(rows)]
    chosen = selections(records)
    if chosen:
        parts.append("<h3>Which equilibrium each method found</h3><p class=\"note\">Per economy with an "
                     "enumeration of every extreme equilibrium: each method's answer as its index in the "
                     "enumeration (none: not one of them).</p>")
        parts.append(_table(["family", "size", "seed", "equilibria", "enumerated by", "found"],
                            [[row["ladder"], size_text(row["size"], row["size_name"] == "d"), row["seed"],
                              row["equilibria"], row["enumerated_by"], found_text(row, ", ")]
                             for row in chosen], "selections", {2, 3}))
    return "\n".join(parts)


def _days_html(records: list[dict]) -> str:
    """A days suite's table (`gebench.days_summary`), one per regime."""
    rows = summarise_days(records)
    parts = ["<p class=\"note\">Per family, regime, size and method, over every day of every seed's stream: "
             "the mean and the worst day's share of the day's gains from trade the agents held at the day's end "
             "(1 = the day's equilibrium, 0 = no trade), the days it delivered nothing, the days it overran, the "
             "numbers it read at one central point a day and its median seconds a day.</p>"]
    for regime in dict.fromkeys(r["regime"] for r in rows):
        parts.append(f"<h3>Regime {_e(regime)}</h3>")
        parts.append(_table(DAYS_HEADER, days_cells(rows, regime), "days", {4, 5, 6, 7, 8, 9}))
    return "\n".join(parts)


def _market_table(records: list[dict]) -> str:
    """Per family, size and solver of a welfare run: its runs, how many converged, and the
    medians of what its agents held at the end (`gebench.outcomes.final`)."""
    recs = welfare_records(records)
    refs = references(records)
    groups = defaultdict(list)
    for r in recs:
        groups[(r["ladder"], size_of(r), r["solver"])].append(r)
    cells = []
    for (ladder, size, solver), runs in sorted(groups.items()):
        ends = [final(r, refs.get(instance_of(r))) for r in runs]
        cells.append([ladder, size_text(size, is_game_ladder(runs[0])), solver, len(runs),
                      sum(r["status"] == "converged" for r in runs),
                      _share(_median(e["gains_total"] for e in ends)), _share(_median(e["gains_worst"] for e in ends)),
                      _gap_text(runs, ends),
                      sum(e["gains_total"] is None for e in ends)])
    return ("<p class=\"note\">At the end of each run, the medians over its runs of the share of the gains from "
            "trade the agents held (valued at the prices of an equilibrium certified in this run), the worst "
            "agent's share and the Pareto gap; a run whose economy has no certified equilibrium has unknown "
            "gains, counted in the last column.</p>"
            + _table(["family", "size", "solver", "runs", "converged", "share of the gains", "worst agent's",
                      "Pareto gap", "runs with unknown gains"], cells, "market", {3, 4, 5, 6, 8}))


# --- figures -------------------------------------------------------------------------------

def figure_files(run_dir: Path | str) -> list[tuple[str, dict[str, Path]]]:
    """Every figure in a run directory: (stem, {"svg": path, "png": path} as far as they
    exist), in the order the figure registry draws them (`gebench.figures.registered`: a
    stem is placed by the registered name it starts with), then by name."""
    found = defaultdict(dict)
    for path in sorted(Path(run_dir).iterdir()):
        if path.suffix in FIGURE_SUFFIXES and path.is_file():
            found[path.stem][path.suffix[1:]] = path
    if not found:
        return []
    from .figures import registered
    names = list(registered())

    def rank(stem: str) -> int:
        return next((k for k, name in enumerate(names)
                     if stem == name or stem.startswith((name + "-", name + "_"))), len(names))
    return sorted(found.items(), key=lambda item: (rank(item[0]), item[0]))


_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'(?<=\s)id="')
_REF = re.compile(r'(href=")#')
_INDENT = re.compile(r"\n[ \t]+")


def inline_svg(text: str, prefix: str) -> str | None:
    """An SVG file's markup for inlining in HTML: the XML prologue and metadata dropped, the
    indentation of its lines dropped (a tenth of matplotlib's SVG; no line break is removed,
    so path data and text keep their separators), and every id (and every reference to one,
    `href="#..."`, `url(#...)`) prefixed with `prefix`, so that two figures' ids cannot
    collide in one page. None when `text` has no <svg>."""
    start = text.find("<svg")
    if start < 0:
        return None
    body = _INDENT.sub("\n", _METADATA.sub("", text[start:]))
    body = _ID.sub(f'id="{prefix}', body)
    body = _REF.sub(rf"\1#{prefix}", body)
    return body.replace("url(#", f"url(#{prefix}").strip()


def compact_png(data: bytes) -> bytes:
    """The PNG `data` with its colours reduced to a palette of 256 (a figure of lines and
    markers on white needs no more), which makes it about a third as large; the original
    where that is not smaller or the data cannot be read as an image."""
    from PIL import Image, UnidentifiedImageError  # matplotlib's own dependency

    try:
        with Image.open(io.BytesIO(data)) as image:
            palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            out = io.BytesIO()
            palette.save(out, "PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError):
        return data
    return out.getvalue() if out.tell() < len(data) else data


class _Figure:
    """One figure of the page, its SVG markup and PNG data URI read once."""

    def __init__(self, stem: str, files: dict[str, Path]):
        self.stem, self.files = stem, files
        self.svg = None
        if "svg" in files:
            self.svg = inline_svg(files["svg"].read_text(encoding="utf-8", errors="replace"),
                                  "f" + re.sub(r"[^A-Za-z0-9]", "_", stem) + "-")
        self.png = None
        if "png" in files:
            data = compact_png(files["png"].read_bytes())
            self.png = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        self.use_png = self.svg is None

    def saving(self) -> int:
        """Characters saved by embedding the PNG instead of the SVG (<= 0: none)."""
        if self.svg is None or self.png is None:
            return 0
        return len(self.svg) - len(self.png)

    def html(self) -> str:
        if self.use_png and self.png is not None:
            source, body = self.files["png"].name, f'<img src="{self.png}" alt="{_e(self.stem)}">'
        elif self.svg is not None:
            source, body = self.files["svg"].name, self.svg
        else:
            return (f'<figure id="figure-{_e(self.stem)}"><p>{_e(self.files["svg"].name)}: not an SVG file, '
                    "not embedded</p></figure>")
        return (f'<figure id="figure-{_e(self.stem)}" data-file="{_e(source)}">{body}'
                f"<figcaption>{_e(source)}</figcaption></figure>")


def _figures_html(figures: list[_Figure], run_dir: Path) -> str:
    if not figures:
        return ("<p>No figures in this run directory: <code>gebench plot "
                f"{_e(run_dir)}</code> draws them, then <code>gebench report {_e(run_dir)}</code> "
                "embeds them here.</p>")
    return "\n".join(f.html() for f in figures)


# --- suite and environment -----------------------------------------------------------------

def _suite_html(path: Path) -> str:
    if not path.is_file():
        return "<p>No suite.toml in this run directory.</p>"
    return f"<p class=\"note\">{_e(path.name)}, as run:</p><pre>{_e(path.read_text(encoding='utf-8'))}</pre>"


def _value(value) -> str:
    """A meta.json value as HTML: an object as a nested table, a list of plain values joined."""
    if isinstance(value, dict):
        if not value:
            return "-"
        return ('<table class="meta">' + "".join(f"<tr><th>{_e(k)}</th><td>{_value(v)}</td></tr>"
                                                 for k, v in value.items()) + "</table>")
    if isinstance(value, list):
        if not value:
            return "-"
        if all(not isinstance(v, (dict, list)) for v in value):
            return _e(", ".join(_plain(v) for v in value))
        return "".join(_value(v) for v in value)
    return _e(_plain(value))


def _plain(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _meta_html(meta: dict) -> str:
    if not meta:
        return "<p>No meta.json in this run directory.</p>"
    environment = meta.get("environment")
    parts = []
    if isinstance(environment, dict):
        parts += ["<p class=\"note\">The machine and the versions the run used (meta.json's environment).</p>",
                  _value(environment)]
    rest = {k: v for k, v in meta.items() if k != "environment"}
    parts += ["<h3>Run settings</h3><p class=\"note\">Every other field of meta.json.</p>", _value(rest)]
    return "\n".join(parts)
