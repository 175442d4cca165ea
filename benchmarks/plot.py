"""Scaling curves: time (and iterations) against size per family, one line per solver.

Random families (sized by agents) are drawn log-log, game families (sized by the dimension
d) on a log scale against d, and they get a second figure of pivots and seconds against d.
What is drawn comes from `gebench.analysis`: the line joins medians over seeds that
count unconverged runs as censored (a size where most runs did not converge has no median
and no point on the line), the legend gives the growth law chosen on a held-out size with
its interval, and every run that did not converge is drawn: out of budget as a cross at the
budget (or at the count it reached), any other stop as a hollow triangle.

A panel with nothing to draw on its log axes (every run timed out, say) is left linear
with a note, a figure with no panel to draw is not written, and one line on stderr says
what could not be drawn; a figure that cannot be saved (a full disk) is `WriteFailed`.

How every figure of gebench is laid out (`gebench.plot_outcomes` and `gebench.plot_surface`
follow the same rules, with the helpers here):

- One colour per solver in every figure of every run: `colour_of`.
- Legends never cover the data: a panel's legend stands beside it (`legend_beside`), a
  figure's title and the key to its markers above its panels (`header`), and the figure is
  saved with room for them (`save_figure`, `bbox_inches="tight"`).
- At most `MAX_SERIES` (8) solvers in a panel. A family with more is drawn in several panels
  side by side, by kind (`solver_groups`): gebench's own methods apart from the peers
  (names starting "gambit-" or "quantecon-"); where gebench's own are still too many, its
  market processes (`MARKET_PROCESSES`: the auctioneers and the traders) and the
  institutions (`INSTITUTIONS`: money, bundles and firms) apart from the planners (every
  other solver, a plug-in's included); a group still too large is cut in
  alphabetical chunks. The panels of one family share their axes.
- A fit is drawn and printed only where `gebench.analysis.fit` made one (4 sizes or more
  whose median converged and is above 0); any other series says why it has none.
- Titles say what is measured, against what, and to which accuracy; axes say their units.
  Figures are about `WIDTH` inches wide, so that the report (1200 px at most) shows them
  near their own size.
"""
from __future__ import annotations

import math
import sys
import zlib
from itertools import zip_longest
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from .analysis import (  # noqa: E402
    describe_fit,
    exponential_ladders,
    fit,
    performance_profile,
    scaling_series,
    size_of,
    worst_measure,
)
from .figures import figure  # noqa: E402
from .records import NOT_RUN, WriteFailed  # noqa: E402

WORST_DRAWN = 1e3     # a worst measure of 1e304 (prices collapsed to a corner) would break the axis
MAX_SERIES = 8        # solvers in one panel at most
WIDTH = 12.0          # inches: 1320 px at the 110 dpi figures are saved at
DPI = 110
LEGEND = {"fontsize": 7.5, "frameon": False}

# One colour per solver in every figure of every run, chosen by hand so that the solvers
# drawn in one panel (a family's planners and market processes, or the peers) differ at a
# glance: tab10's ten for the methods most runs draw, darker shades (tab20b) for their
# variants and the rarer ones, Dark2's eight for the peers; any other name by a stable hash.
SOLVER_COLOURS = {
    "lemke-howson": "#1f77b4", "lemke-howson-exact": "#393b79", "lemke-howson-all-paths": "#17becf",
    "newton": "#2ca02c", "production-newton": "#637939", "scarf": "#d62728", "homotopy": "#9467bd",
    "path-mcp": "#7b4173", "tatonnement": "#ff7f0e", "tatonnement-random": "#8c6d31",
    "proportional-response": "#bcbd22", "bilateral-exchange": "#8c564b", "hahn-process": "#e377c2",
    "eisenberg-gale": "#843c39", "fisher-ipm": "#7f7f7f", "linear-exchange-ipm": "#5254a3",
    "linear-exchange-cp": "#000000",
    # the days suite's carried variants: a darker shade of their method's colour, and the lagged planner
    "newton-carried": "#00441b", "homotopy-carried": "#3f007d", "fisher-ipm-carried": "#252525",
    "tatonnement-carried": "#a63603", "proportional-response-carried": "#6b6b00",
    "bilateral-exchange-carried": "#4a2a1a", "hahn-process-carried": "#ae017e", "lagged-planner": "#d4a017",
    # the institutions of the market suite: money, bundles, and firms from 1 (the planner) to n (the market)
    "double-auction": "#e6550d", "bundle-exchange": "#6baed6", "bundle-exchange-all": "#08519c",
    "firms-1": "#a1d99b", "firms-2": "#74c476", "firms-4": "#31a354", "firms-n": "#005a32",
    "gambit-lcp": "#1b9e77", "gambit-lcp-float": "#66a61e", "gambit-simpdiv": "#e6ab02", "gambit-gnm": "#7570b3",
    "gambit-logit": "#e7298a", "gambit-enummixed": "#d95f02", "quantecon-lemke-howson": "#a6761d",
    "quantecon-mclennan-tourky": "#666666",
}
KNOWN_SOLVERS = tuple(SOLVER_COLOURS)
OTHER_COLOURS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d",
                 "#9edae5", "#6b6ecf", "#b5cf6b", "#e7ba52", "#d6616b", "#ce6dbd")

PEER_PREFIXES = ("gambit-", "quantecon-")
MARKET_PROCESSES = frozenset({"tatonnement", "tatonnement-random", "proportional-response",
                              "bilateral-exchange", "hahn-process"})
INSTITUTIONS = ("double-auction", "bundle-exchange", "firms")     # and their variants, "firms-4" say
GROUP_NAMES = {"gebench": "gebench's methods", "peers": "peers (Gambit, QuantEcon)",
               "planners": "gebench's planners", "market processes": "market processes",
               "institutions": "money, bundles and firms"}


def colour_of(solver: str):
    """The solver's colour, the same in every figure: a fixed one for the solvers gebench
    ships (`KNOWN_SOLVERS`), a stable hash of the name for any other."""
    if solver in SOLVER_COLOURS:
        return SOLVER_COLOURS[solver]
    return OTHER_COLOURS[zlib.crc32(solver.encode()) % len(OTHER_COLOURS)]


def is_peer(solver: str) -> bool:
    """A peer: another project's solver that gebench runs (Gambit's, QuantEcon's)."""
    return solver.startswith(PEER_PREFIXES)


def kind_of(solver: str) -> str:
    """"peers", "market processes" (auctioneers and traders), "institutions" (the double
    auction, bundle exchange and firms, under any name of theirs) or "planners" (any other)."""
    if is_peer(solver):
        return "peers"
    if any(solver == base or solver.startswith(base + "-") for base in INSTITUTIONS):
        return "institutions"
    return "market processes" if solver in MARKET_PROCESSES else "planners"


def solver_groups(solvers, most: int = MAX_SERIES) -> list[tuple[str, list[str]]]:
    """The solvers of one panel as [(group, solvers)], each group one panel of at most `most`:
    [("", all)] when they fit; else gebench's own ("gebench") and the peers ("peers"),
    gebench's own split into "planners", "market processes" and "institutions" (the last only
    where there are any) when still too many, and any
    group still too large cut into chunks ("peers (1/2)", ...). `GROUP_NAMES` titles them."""
    solvers = sorted(set(solvers))
    if len(solvers) <= most:
        return [("", solvers)]
    own = [s for s in solvers if not is_peer(s)]
    groups = [("gebench", own)] if len(own) <= most else [
        (kind, [s for s in own if kind_of(s) == kind]) for kind in ("planners", "market processes", "institutions")]
    groups = [(name, members) for name, members in groups if members or name != "institutions"]
    groups.append(("peers", [s for s in solvers if is_peer(s)]))
    split = []
    for name, members in groups:
        chunks = [members[k:k + most] for k in range(0, len(members), most)]
        split += [(name if len(chunks) == 1 else f"{name} ({k + 1}/{len(chunks)})", chunk)
                  for k, chunk in enumerate(chunks)]
    return split


def group_title(group: str) -> str:
    """A group of `solver_groups` as a panel names it ("" for all the solvers)."""
    base, _, part = group.partition(" (")
    return GROUP_NAMES.get(base, base) + (f" ({part}" if part else "")


def panel_slots(by_ladder: dict, most: int = MAX_SERIES, cols: int = 2) -> list:
    """The panels of a grid figure in reading order, (ladder, group, solvers) each: one per
    ladder, or one per group of `solver_groups` for a ladder with more than `most` solvers,
    side by side from the start of a row (None: a slot left empty)."""
    slots = []
    for ladder in sorted(by_ladder):
        groups = solver_groups(by_ladder[ladder], most)
        if len(groups) > 1 and len(slots) % cols:
            slots += [None] * (cols - len(slots) % cols)
        slots += [(ladder, group, members) for group, members in groups]
    return slots


def header_inches(title: str, key=(), key_cols: int = 4) -> float:
    """The height `header` takes at the top of a figure, in inches."""
    rows = math.ceil(len(key) / key_cols) if key else 0
    return 0.16 + 0.25 * (title.count("\n") + 1) + (0.22 * rows + 0.1 if rows else 0.0)


def header(fig, title: str, key=(), key_cols: int = 4) -> float:
    """The figure's title and, under it, the key to its markers (a figure legend of `key`,
    Line2D handles), above the panels; returns the top of the panels as a fraction of the
    height, for `finish` (and `fig.tight_layout(rect=...)`)."""
    height = fig.get_figheight()
    # a figure text, not a suptitle: tight_layout(rect=...) counts a suptitle's height twice
    fig.text(0.5, 1 - 0.08 / height, title, ha="center", va="top", fontsize=11)
    if key:
        fig.legend(handles=list(key), loc="upper center", ncol=key_cols, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 1 - (0.12 + 0.25 * (title.count("\n") + 1)) / height))
    return 1 - header_inches(title, key, key_cols) / height


def grid(slots: list, title: str, key=(), key_cols: int = 4, cols: int = 2, row_height: float = 3.0,
         width: float = WIDTH):
    """A figure of `slots` (`panel_slots`) in `cols` columns, each panel with room for its
    legend beside it, and its `header`: (fig, [(slot, ax)], top for `finish`). The panels of
    one ladder share their axes; empty slots and the grid's tail are hidden."""
    rows = max(1, math.ceil(len(slots) / cols))
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(width, row_height * rows + header_inches(title, key, key_cols)))
    placed, first = [], {}
    for ax, slot in zip_longest(axes.flat, slots):
        if slot is None:
            ax.set_visible(False)
            continue
        if slot[0] in first:
            ax.sharex(first[slot[0]])
            ax.sharey(first[slot[0]])
        first.setdefault(slot[0], ax)
        placed.append((slot, ax))
    return fig, placed, header(fig, title, key, key_cols)


def panel_title(ladder: str, group: str, what: str = "") -> str:
    return ladder + (f": {group_title(group)}" if group else "") + (f"\n{what}" if what else "")


def legend_beside(ax, handles=None, **options) -> None:
    """The panel's legend beside it, right of the axes (never over the data), when
    something on it has a label (matplotlib warns otherwise)."""
    if handles is None and not ax.get_legend_handles_labels()[0]:
        return
    where = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, **LEGEND, **options}
    ax.legend(**({"handles": handles} if handles is not None else {}), **where)


def key_line(label: str, marker: str = "", ls: str = "", colour="0.2", **style) -> Line2D:
    """A handle of a figure's key: what a marker or a line style means."""
    return Line2D([], [], color=colour, marker=marker, ls=ls or "none", label=label, **style)


def equilibrium_text(records: list[dict]) -> str:
    """"a 1e-6 equilibrium" when the runs share one tolerance, else "an equilibrium"."""
    tolerances = {r.get("tolerance") for r in records if r["status"] not in NOT_RUN} - {None}
    if len(tolerances) != 1:
        return "an equilibrium"
    mantissa, exponent = f"{tolerances.pop():.0e}".split("e")
    return f"a {mantissa}e{int(exponent)} equilibrium"


def size_label(game: bool) -> str:
    return "game dimension d (2d agents and goods)" if game else "agents (= goods unless the suite says otherwise)"


def decade_labels(ax) -> None:
    """On a log x axis with a power of ten in view, labels at the powers of ten only:
    matplotlib labels the minor ticks of an axis spanning about a decade, and on a narrow
    panel they run into each other."""
    low, high = ax.get_xlim()
    if ax.get_xscale() == "log" and 0 < low and math.floor(math.log10(high)) >= math.ceil(math.log10(low)):
        ax.xaxis.set_minor_formatter(NullFormatter())


def size_ticks(ax, sizes) -> None:
    """On a log axis of sizes, a tick at each size run (up to 10 of them), labelled where the
    labels have room: all of up to 6 sizes, else every other one down from the largest."""
    if ax.get_xscale() != "log":
        return
    ax.xaxis.set_minor_formatter(NullFormatter())
    sizes = sorted(set(sizes))
    if not 1 < len(sizes) <= 10:
        return
    labelled = sizes if len(sizes) <= 6 else sizes[::-2][::-1]
    ax.set_xticks(labelled, [f"{s:g}" for s in labelled])
    ax.set_xticks([s for s in sizes if s not in labelled], minor=True)


def _broken(data: dict) -> tuple[list, list]:
    """The medians as a line that breaks (NaN) where a censored size lies between two drawn
    ones, so that no segment spans a size at which most runs did not converge."""
    xs, ys = [], []
    censored = data["censored"]
    for k, (x, y) in enumerate(data["converged"]):
        if k and any(xs[-1] < c < x for c in censored):
            xs.append(np.nan)
            ys.append(np.nan)
        xs.append(x)
        ys.append(y)
    return xs, ys


def say(figure: str, what: str) -> None:
    """One line on stderr about a figure, or panels of one, that could not be drawn."""
    print(f"gebench: plot {figure}: {what}", file=sys.stderr)


def _why_undrawn(records: list[dict]) -> str:
    """Why these records give nothing to draw on a log scale, in the words of a stderr line."""
    statuses = {r["status"] for r in records} - set(NOT_RUN)
    if not statuses:
        return "no run was made: every run was declined or beyond the wall"
    if statuses == {"timeout"}:
        return "every run timed out"
    if "converged" not in statuses:
        return "no run converged"
    return "no run has a value above 0"


def _drawable(ax, x_log: bool, y_log: bool) -> bool:
    """Whether a line on `ax` has a point that is finite, and above 0 on each log axis."""
    for line in ax.get_lines():
        if line.get_transform() is not ax.transData:
            continue                # axhline, axvline: one coordinate is the panel's, not data
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        shown = np.isfinite(xs) & np.isfinite(ys) & ((xs > 0) | (not x_log)) & ((ys > 0) | (not y_log))
        if shown.any():
            return True
    return False


def _log_axes(ax, x: bool, y: bool) -> bool:
    """Put `ax` on a log scale in x and/or y and return True when it has a point to draw
    there; else leave it linear, say so on the panel, and return False. matplotlib raises
    at the draw ("Data cannot be log-scaled") on a log axis with nothing above 0, as in a
    run where every run timed out."""
    if not _drawable(ax, x, y):
        ax.text(0.5, 0.5, "nothing to draw on a log scale", ha="center", va="center",
                transform=ax.transAxes, fontsize=8, color="grey")
        return False
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")
    return True


def _scale_panels(figure: str, panels: list[tuple], records: list[dict]) -> bool:
    """Put each panel (ax, name, ladder, x log, y log) on its log scales (`_log_axes`), say on
    stderr which have nothing to draw (by name), and return whether any has."""
    empty = [(name, ladder) for ax, name, ladder, x, y in panels if not _log_axes(ax, x, y)]
    if empty:
        where = "" if len(empty) == len(panels) else f" in {', '.join(name for name, _ in empty)}"
        ladders = {ladder for _, ladder in empty}
        say(figure, f"nothing to draw on a log scale{where} "
                    f"({_why_undrawn([r for r in records if r['ladder'] in ladders])})")
    return len(empty) < len(panels)


def fit_text(law, values, unit: str) -> str:
    """A fit as a legend prints it, its factor and interval (the held-out size that chose the
    model is in `describe_fit`, on stderr and in the report), or why there is none: too few
    sizes with a median above 0 (the fit takes logs), or none at all."""
    if law is not None:
        head, _, rest = describe_fit(law, unit).partition("; ")
        return head + (")" if rest else "")
    above = sum(1 for v in values if v > 0)
    if not above:
        return "0 at every size (off the log scale)"
    return f"{above} size{'s' if above > 1 else ''}: too few to fit"


def _fitted(data: dict, game: bool):
    """(the fit or None, its legend text) of a series' converged medians."""
    xs, ys = zip(*data["converged"])
    law = fit(xs, ys, game)
    return law, fit_text(law, ys, "d" if game else "agent")


def _shown_name(solver: str, exact: bool) -> str:
    return solver + (" (exact)" if exact else "")


def _median_key(seconds: bool, budget: float | None, fits: bool = False, where: str = "") -> list:
    """The key to a scaling figure's markers; `where` says where an out-of-budget run is drawn."""
    where = where or ("at the budget" if seconds else "at the count reached")
    key = [key_line("median over seeds (solid: exact method, dashed: heuristic)", "o", "-"),
           key_line(f"out of budget, {where}", "x", ms=8, mew=2),
           key_line("stopped unconverged (max_iter, failed, ...)", "^", mfc="none", ms=7)]
    if fits:
        key.append(key_line("fit, carried past the data", ls=":"))
    if seconds and budget:
        key.append(key_line(f"time budget ({budget:g} s)", ls=":", colour="grey"))
    return key


def plot_scaling(records: list[dict], out_dir: Path, budget: float | None = None,
                 title: str = "", value: str = "seconds") -> list[Path]:
    """Draw scaling.png and .svg (seconds against size), or with value="iterations"
    iterations.png and .svg (iterations or pivots against size, timeouts at the count they
    reached), into out_dir; returns the files written, none when nothing can be drawn."""
    series = scaling_series(records, value)
    seconds = value == "seconds"
    stem = "scaling" if seconds else "iterations"
    if not series:
        say(stem, f"nothing to draw ({_why_undrawn(records)})")
        return []
    exponential = exponential_ladders(records)
    exact = {r["solver"]: r.get("exact", False) for r in records}
    measured = "Seconds" if seconds else "Iterations (pivots for pivoting methods)"
    heading = (f"{measured} to {equilibrium_text(records)} against size, per family"
               + (f" ({title})" if title else "") + "\nmedian over seeds; a size where most runs did not "
               "converge has no median, and the line breaks there")
    slots = panel_slots({ladder: list(by_solver) for ladder, by_solver in series.items()})
    fig, placed, top = grid(slots, heading, _median_key(seconds, budget), key_cols=2)
    panels, sizes = [], []
    for (ladder, group, members), ax in placed:
        game = ladder in exponential
        for solver in members:
            data = series[ladder][solver]
            colour, style = colour_of(solver), "-" if exact.get(solver) else "--"
            name = _shown_name(solver, exact.get(solver))
            if data["converged"]:
                _, text = _fitted(data, game)
                ax.plot(*_broken(data), style, marker="o", ms=4, color=colour, label=f"{name}\n  {text}")
            else:
                ax.plot([], [], style, color=colour, label=f"{name}: never converged")
            if seconds and data["timeout"] and budget:
                ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colour, ms=8, mew=2)
            if not seconds and data["timeout_values"]:
                ax.plot(*zip(*data["timeout_values"]), "x", color=colour, ms=8, mew=2)
            if data["other"]:
                ax.plot(*zip(*data["other"]), "^", mfc="none", color=colour, ms=6)
        if seconds and budget:
            ax.axhline(budget, color="grey", ls=":", lw=1)
        panels.append((ax, ladder if not group else f"{ladder} ({group})", ladder, not game, True))
        sizes.append((ax, {n for s in members for n in series[ladder][s]["runs"]}))
        ax.set_title(panel_title(ladder, group), fontsize=10)
        ax.set_xlabel(size_label(game), fontsize=9)
        ax.set_ylabel("seconds (wall clock)" if seconds else "iterations (count)", fontsize=9)
        legend_beside(ax)
        ax.grid(True, which="both", alpha=0.25)
    drawable = _scale_panels(stem, panels, records)
    for ax, run in sizes:
        size_ticks(ax, run)
    return finish(fig, drawable, out_dir, stem, top)


def plot_hard(records: list[dict], out_dir: Path, budget: float | None = None, title: str = "") -> list[Path]:
    """hard.png/svg: pivots and seconds against d for the game families, log scale, with the
    fitted growth factor per d and its t-interval, the fit carried past the last size
    run, and every run drawn: converged, out of budget, stopped unconverged; [] when the run
    has no game family, or nothing of one to draw. One row per family (per group of
    `solver_groups` where a family has more than `MAX_SERIES` solvers), its legend beside."""
    ladders = sorted(exponential_ladders(records))
    if not ladders:
        return []
    series = {value: scaling_series(records, value) for value in ("iterations", "seconds")}
    rows = [(ladder, group, members) for ladder in ladders for group, members in solver_groups(
        set(series["iterations"].get(ladder, {})) | set(series["seconds"].get(ladder, {})))]
    heading = (f"Pivots and seconds to {equilibrium_text(records)} against the game dimension d"
               + (f" ({title})" if title else "") + "\nmedian over seeds; a size where most runs did not "
               "converge has no median, and the line breaks there")
    key = _median_key(True, budget, fits=True, where="at the budget (seconds) or the count reached (pivots)")
    fig, axes = plt.subplots(len(rows), 2, squeeze=False,
                             figsize=(WIDTH, 4.0 * len(rows) + header_inches(heading, key, 3)))
    top = header(fig, heading, key, 3)
    exact = {r["solver"]: r.get("exact", False) for r in records}
    panels, first = [], {}
    for row, (ladder, group, members) in zip(axes, rows):
        if ladder in first:
            for ax, shared in zip(row, first[ladder]):
                ax.sharex(shared)
                ax.sharey(shared)
        first.setdefault(ladder, row)
        texts = {solver: {} for solver in members}
        for ax, value, name in zip(row, ("iterations", "seconds"), ("pivots (iterations)", "seconds")):
            for solver in members:
                data = series[value].get(ladder, {}).get(solver)
                if data is None:
                    continue
                colour, style = colour_of(solver), "-" if exact.get(solver) else "--"
                if data["converged"]:
                    law, texts[solver][value] = _fitted(data, True)
                    if law is not None:
                        # the fit carried past the wall: what the next sizes would need
                        xs = [n for n, _ in data["converged"]]
                        top_size = max([*xs, *data["censored"], *(n for n, _ in data["other"])]) + 4
                        line = np.linspace(law.first, top_size, 50)
                        ax.plot(line, law.at(line), ":", color=colour, lw=1)
                    ax.plot(*_broken(data), style, marker="o", ms=4, color=colour)
                if value == "seconds" and data["timeout"] and budget:
                    ax.plot(data["timeout"], [budget] * len(data["timeout"]), "x", color=colour, ms=8, mew=2)
                if value == "iterations" and data["timeout_values"]:
                    ax.plot(*zip(*data["timeout_values"]), "x", color=colour, ms=8, mew=2)
                if data["other"]:
                    ax.plot(*zip(*data["other"]), "^", mfc="none", color=colour, ms=6)
            if value == "seconds" and budget:
                ax.axhline(budget, color="grey", ls=":", lw=1)
            panels.append((ax, f"{ladder}: {name}" + (f" ({group})" if group else ""), ladder, False, True))
            ax.set_xlabel("game dimension d", fontsize=9)
            ax.set_ylabel("pivots (count)" if value == "iterations" else "seconds (wall clock)", fontsize=9)
            ax.set_title(panel_title(ladder, group, "pivots to an equilibrium" if value == "iterations"
                                     else "seconds to an equilibrium"), fontsize=10)
            ax.grid(True, which="both", alpha=0.25)
        handles = []
        for solver in members:
            handles.append(Line2D([], [], color=colour_of(solver), marker="o", ms=4,
                                  ls="-" if exact.get(solver) else "--",
                                  label=_shown_name(solver, exact.get(solver)) + _both(texts[solver])))
        legend_beside(row[1], handles, fontsize=7)
    return finish(fig, _scale_panels("hard", panels, records), out_dir, "hard", top)


def _both(found: dict) -> str:
    """The legend's lines of one solver's pivots and seconds fits (`fit_text`): one line
    when they say the same, ": never converged" when neither has a median."""
    if not found:
        return ": never converged"
    if set(found) == {"iterations", "seconds"} and found["iterations"] == found["seconds"]:
        return f"\n  pivots and seconds: {found['seconds']}"
    return "".join(f"\n  {what}: {found[value]}" for value, what in (("iterations", "pivots"), ("seconds", "seconds"))
                   if value in found)


@figure("scaling")
def _scaling_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_scaling(records, out_dir, budget, title)


@figure("iterations")
def _iterations_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_scaling(records, out_dir, budget, title, "iterations")


@figure("hard")
def _hard_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_hard(records, out_dir, budget, title)


def finish(fig, drawable: bool, out_dir: Path, stem: str, top: float = 1.0) -> list[Path]:
    """Lay out and save the figure (PNG and SVG) when a panel of it has something to draw,
    its panels below `top` (a fraction of the height: what `header` leaves); else close it
    unwritten (what could not be drawn has been said on stderr)."""
    if not drawable:
        plt.close(fig)
        return []
    fig.tight_layout(rect=(0, 0, 1, top))
    return _save(fig, out_dir, stem)


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    written = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"{stem}.{ext}"
        save_figure(fig, path)
        written.append(path)
    plt.close(fig)
    return written


def save_figure(fig, path: Path) -> None:
    """`fig.savefig(path)`, grown to hold every legend and title beside or above the panels
    (`bbox_inches="tight"`); a file that cannot be written (a full disk) is `WriteFailed`,
    which says how to draw the plots again."""
    try:
        fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    except OSError as exc:
        plt.close(fig)
        raise WriteFailed(path, exc, f"draw the plots with: gebench plot {Path(path).parent}") from None


@figure("accuracy")
def _accuracy_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_accuracy(records, out_dir, title)


def plot_accuracy(records: list[dict], out_dir: Path, title: str = "") -> list[Path]:
    """accuracy_size and accuracy_time (PNG, SVG): the certificate's worst measure of every
    heuristic run that returned a point, against size and against seconds, per family, so
    that a reader sees what the cheap answers cost in equilibrium quality."""
    runs = [r for r in records if not r.get("exact") and r.get("certificate")]
    if not runs:
        return []
    games = exponential_ladders(records)
    slots = panel_slots({ladder: {r["solver"] for r in runs if r["ladder"] == ladder}
                         for ladder in {r["ladder"] for r in runs}})
    tolerances = sorted({r["tolerance"] for r in runs})
    written = []
    for axis, stem in (("size", "accuracy_size"), ("seconds", "accuracy_time")):
        heading = ("How far the heuristics' answers are from an equilibrium: the certificate's worst measure "
                   f"against {'size' if axis == 'size' else 'seconds'}" + (f" ({title})" if title else "")
                   + f"\nevery run that returned a point; measures above {WORST_DRAWN:g} drawn at {WORST_DRAWN:g}")
        key = [key_line("converged (certified at the tolerance)", "o", ms=5),
               key_line("stopped (max_iter, timeout, ...)", "x", ms=6),
               key_line("the tolerance" if len(tolerances) == 1 else "the tolerances", ls=":", colour="grey")]
        fig, placed, top = grid(slots, heading, key, key_cols=3)
        panels, sizes = [], []
        for (ladder, group, members), ax in placed:
            game = ladder in games
            for solver in members:
                mine = [r for r in runs if r["ladder"] == ladder and r["solver"] == solver]
                for converged, marker in ((True, "o"), (False, "x")):
                    pts = [(size_of(r) if axis == "size" else r["seconds"],
                            min(max(worst_measure(r["certificate"]), 1e-17), WORST_DRAWN))
                           for r in mine if (r["status"] == "converged") == converged
                           and (axis == "size" or r["seconds"] is not None)]
                    if pts:
                        xs, ys = zip(*pts)
                        ax.plot(xs, ys, marker, color=colour_of(solver), ms=5, alpha=0.8,
                                mfc="none" if not converged else None,
                                label=(solver if converged or not any(r["status"] == "converged" for r in mine)
                                       else None))
            for tol in {r["tolerance"] for r in runs if r["ladder"] == ladder}:
                ax.axhline(tol, color="grey", ls=":", lw=1)
            panels.append((ax, ladder if not group else f"{ladder} ({group})", ladder,
                           axis == "seconds" or not game, True))
            sizes.append((ax, {size_of(r) for r in runs if r["ladder"] == ladder}))
            ax.set_title(panel_title(ladder, group), fontsize=10)
            ax.set_xlabel("seconds (wall clock)" if axis == "seconds" else size_label(game), fontsize=9)
            ax.set_ylabel("worst certificate measure\n(relative, dimensionless)", fontsize=9)
            ax.grid(True, which="both", alpha=0.25)
            legend_beside(ax)
        drawable = _scale_panels(stem, panels, runs)
        for ax, run in sizes:
            if axis == "size":
                size_ticks(ax, run)
            else:
                decade_labels(ax)
        written += finish(fig, drawable, out_dir, stem, top)
    return written


@figure("profile")
def _profile_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_profile(records, out_dir, title)


def plot_profile(records: list[dict], out_dir: Path, title: str = "") -> list[Path]:
    """profile.png/svg: the Dolan-More performance profile of each family, over the instances
    every solver of that family attempted (`analysis.performance_profile`); a family with
    more than `MAX_SERIES` solvers in several panels, each solver's ratio still to the
    fastest of them all."""
    profiles = performance_profile(records)
    if not profiles:
        return []
    heading = ("Performance profiles (Dolan-Moré): the share of a family's common instances each solver solved "
               "within a factor tau\nof the fastest solver there" + (f" ({title})" if title else "")
               + "; the instances every solver of the family attempted, unconverged runs never solved")
    slots = panel_slots({ladder: list(profile.curves) for ladder, profile in profiles.items()})
    fig, placed, top = grid(slots, heading)
    for (ladder, group, members), ax in placed:
        profile = profiles[ladder]
        for solver in members:
            taus, share = profile.curves[solver]
            ax.step(np.append(taus, taus[-1] * 10), np.append(share, share[-1]), where="post",
                    color=colour_of(solver), label=solver)
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.05)          # a share of 0 or 1 clear of the frame
        ax.set_xlabel("tau: seconds over the fastest solver's (ratio)", fontsize=9)
        ax.set_ylabel("share of the common\ninstances solved", fontsize=9)
        ax.set_title(panel_title(ladder, group, f"{profile.instances} common instance"
                                 + ("s" if profile.instances != 1 else "")
                                 + (f", {len(profile.curves)} solvers" if group else "")), fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        legend_beside(ax)
    return finish(fig, True, out_dir, "profile", top)


def plot_overlay(runs: dict[str, list[dict]], out_dir: Path, stem: str) -> list[Path]:
    """Scaling curves of several runs on the same axes (solid, dashed, ... per run): two
    machines, or two versions; `MAX_SERIES` lines a panel at most, in as many panels per
    family as that takes (`solver_groups`)."""
    styles = ["-", "--", ":", "-."]
    everything = [r for records in runs.values() for r in records]
    games = exponential_ladders(everything)
    by_ladder = {}
    for r in everything:
        by_ladder.setdefault(r["ladder"], set()).add(r["solver"])
    slots = panel_slots(by_ladder, max(1, MAX_SERIES // len(runs)))
    heading = (f"Seconds to {equilibrium_text(everything)} against size, per family: "
               + " against ".join(runs) + "\nmedian over seeds of the converged runs")
    key = [key_line(f"{name}", "o", style, ms=3) for name, style in zip(runs, styles)]
    fig, placed, top = grid(slots, heading, key, key_cols=len(key))
    series = {name: scaling_series(records) for name, records in runs.items()}
    panels = []
    for (ladder, group, members), ax in placed:
        for (name, _), style in zip(runs.items(), styles):
            for solver in members:
                data = series[name].get(ladder, {}).get(solver)
                if data and data["converged"]:
                    ax.plot(*zip(*data["converged"]), style, marker="o", ms=3, color=colour_of(solver))
        panels.append((ax, ladder if not group else f"{ladder} ({group})", ladder, ladder not in games, True))
        ax.set_title(panel_title(ladder, group), fontsize=10)
        ax.set_xlabel(size_label(ladder in games), fontsize=9)
        ax.set_ylabel("seconds (wall clock)", fontsize=9)
        ax.grid(True, which="both", alpha=0.25)
        legend_beside(ax, [Line2D([], [], color=colour_of(s), label=s) for s in members])
    drawable = _scale_panels("overlay", panels, everything)
    for (ladder, _, members), ax in placed:
        size_ticks(ax, {size_of(r) for r in everything if r["ladder"] == ladder and r["solver"] in members})
    return finish(fig, drawable, out_dir, stem, top)
