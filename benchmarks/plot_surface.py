"""The wall as a surface (`gebench.surface`): per game family, the d up to which each method
solved every size within the budget at each accuracy (filled markers joined by a line), and
the largest d it solved past a failure where that is larger (a hollow marker); gebench's
methods and the peers in two rows (at most 8 series a panel), the sizes from which a pure
profile passes each tolerance shaded, and the exact methods in their own column."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .figures import figure  # noqa: E402
from .plot import colour_of, finish, is_peer, say  # noqa: E402
from .surface import EXACT, accuracies, resolved_up_to, surface, surface_families  # noqa: E402


def _row(solver: str) -> int:
    return 1 if is_peer(solver) else 0


@figure("surface")
def _surface_figure(records: list[dict], out_dir: Path, budget: float | None, title: str) -> list[Path]:
    return plot_surface(records, out_dir, budget)


def plot_surface(records: list[dict], out_dir: Path, budget: float | None = None) -> list[Path]:
    """surface.png and .svg: one column per game family run at several tolerances, gebench's
    methods in the top row and the peers below; nothing (and no line) for a run without."""
    families = surface_families(records)
    if not families:
        return []
    fig, axes = plt.subplots(2, len(families), figsize=(4.6 * len(families) + 2.6, 7.4), squeeze=False,
                             sharey="col")
    for col, family in enumerate(families):
        columns = accuracies(records, family)
        x = {t: k for k, t in enumerate(columns)}
        table = surface(records, family)
        passes = resolved_up_to(records, family)
        sizes = sorted({r["size"] for r in records if r["family"] == family})
        top = sizes[-1] + 2 if sizes else 2
        for row in (0, 1):
            ax = axes[row][col]
            for t, d in passes.items():
                if d is not None:
                    ax.fill_between([x[t] - 0.4, x[t] + 0.4], d - 1, top, color="0.88", lw=0)
            for solver in sorted(s for s in table if _row(s) == row):
                cells = table[solver]
                shown = [t for t in columns if t in cells]
                xs = [x[t] for t in shown]
                ys = [cells[t].frontier or 0 for t in shown]
                colour = colour_of(solver)
                ax.plot(xs, ys, "s" if EXACT in cells else "-o", color=colour, label=solver, ms=6)
                past = [(x[t], cells[t].wall.largest) for t in shown
                        if cells[t].wall.largest is not None and cells[t].wall.largest != cells[t].frontier]
                if past:
                    ax.plot(*zip(*past), "o", mfc="none", color=colour, ms=8)
            ax.set_xticks(range(len(columns)), ["exact" if t == EXACT else f"{t:g}" for t in columns])
            ax.set_ylim(0, top)
            ax.grid(axis="y", alpha=0.3)
            if row == 0:
                ax.set_title(family, fontsize=10)
            if row == 1:
                ax.set_xlabel("accuracy (the certificate's tolerance)")
            if col == 0:
                ax.set_ylabel(("gebench" if row == 0 else "peers") + ": every d solved up to")
            if col == len(families) - 1:
                handles, labels = ax.get_legend_handles_labels()
                handles += [Line2D([], [], marker="o", mfc="none", ls="", color="0.3", ms=8),
                            Patch(color="0.88")]
                labels += ["largest solved past a failure", "a pure profile passes (resolution <= tolerance)"]
                ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    budget_text = f" within {budget:g} s" if budget else ""
    fig.suptitle(f"How far each game method gets{budget_text} at each accuracy: every d solved up to (0: none)",
                 fontsize=11)
    if any(not ax.lines for row in axes for ax in row):
        say("surface", "a panel has no method to draw")
    return finish(fig, True, out_dir, "surface")
