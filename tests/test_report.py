"""A run directory's report.html (`gebench.report`): one self-contained page whose figures,
tables, findings and environment all come from the run directory, escaped, with nothing
loaded from elsewhere."""
import base64
import io
import json
import shutil
import subprocess
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gebench import figures, report
from gebench.cli import main
from gebench.figures import registered
from gebench.outcomes import instance_of, references, welfare_records
from gebench.records import read_meta, read_runs
from gebench.summary import largest_text, summarise

STORED = Path(__file__).resolve().parents[1] / "results" / "reference-market"
SLOW = "slow<b>"          # a solver name that must show literally, not as markup


class Page(HTMLParser):
    """What a report holds, as a browser's parser sees it: the figures (their data-file and
    what they embed), the tables by class with their body rows, every URL-bearing attribute,
    every start tag, and the text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.urls, self.text = [], [], []
        self.figures = {}                   # figure id -> {"file": data-file, "svg": n, "png": [data URIs]}
        self.tables = defaultdict(list)     # class -> [number of body rows of each such table]
        self.headers, self.cells = [], []
        self._figure = self._table = None
        self._in_body = False
        self._open = None                   # "th" / "td" being read
        self._depth = 0                     # nested tables inside a meta table cell
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for key in ("src", "href", "xlink:href", "action", "poster", "data"):
            if attrs.get(key) is not None:
                self.urls.append(attrs[key])
        if tag == "figure":
            self._figure = self.figures.setdefault(attrs.get("id"), {"file": attrs.get("data-file"),
                                                                      "svg": 0, "png": []})
        elif tag == "svg" and self._figure is not None:
            self._figure["svg"] += 1
        elif tag == "img" and self._figure is not None:
            self._figure["png"].append(attrs.get("src", ""))
        elif tag == "table":
            self._depth += 1
            if self._depth == 1:
                self._table = attrs.get("class")
                self.tables[self._table].append(0)
        elif tag == "tbody" and self._depth == 1:
            self._in_body = True
        elif tag == "tr" and self._in_body and self._depth == 1:
            self.tables[self._table][-1] += 1
        elif tag in ("th", "td"):
            self._open = tag
            (self.headers if tag == "th" else self.cells).append("")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("figure", "table"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None
        elif tag == "table":
            self._depth -= 1
            if self._depth == 0:
                self._in_body = False
        elif tag in ("th", "td"):
            self._open = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open == "th":
            self.headers[-1] += data
        elif self._open == "td":
            self.cells[-1] += data

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def _record(ladder, size, seed, solver, status, seconds=None, iterations=None, **fields):
    return {"run_id": "hand-run", "family": ladder, "ladder": ladder, "size": size, "size_name": "agents",
            "agents": size, "goods": size, "seed": seed, "density": 1.0, "sparse": False, "rho": 0.5,
            "solver": solver, "exact": False, "tolerance": 1e-6, "time_budget": 1.0, "status": status,
            "seconds": seconds, "iterations": iterations,
            "certificate": {"clearing": 1e-9, "waste": 0.0, "budget": 0.0, "optimality": 2e-8}
            if status == "converged" else None, **fields}


def _records() -> list[dict]:
    records = [_record("fisher-ces", n, seed, "fast", "converged", 1e-4 * n * n * (1 + seed / 10), 10 * n)
               for n in (10, 20, 40, 80) for seed in (0, 1)]
    records += [_record("fisher-ces", 10, seed, SLOW, "converged", 0.2, 50) for seed in (0, 1)]
    records += [_record("fisher-ces", 20, 0, SLOW, "timeout", 1.0, 300, message="budget"),
                _record("fisher-ces", 20, 1, SLOW, "converged", 0.6, 200)]
    records += [_record("fisher-ces", n, seed, SLOW, "beyond_wall", message="beyond the wall")
                for n in (40, 80) for seed in (0, 1)]
    records += [_record("exchange-linear", n, 0, "fast", "converged", 0.01 * n, n) for n in (10, 20)]
    records += [_record("exchange-linear", 20, 0, "stuck", "failed", 0.3, 7, message="singular")]
    return records


META = {"record_format": 1, "run_id": "hand-run", "suite": "hand<i>", "tolerance": 1e-6, "time_budget": 1.0,
        "executor": "local", "seeds": [0, 1], "solvers": {"fast": {"exact": False, "params": {"step": 0.5}}},
        "unavailable": {"absent": "needs <a licence>"},
        "environment": {"python": "3.11.7", "cpu": "Test CPU <x86>", "cores": 2,
                        "versions": {"numpy": "9.9.9"}, "commit": "abc123"}}
SUITE = 'name = "hand"   # sizes < 100 & a "quoted" word\n'


def _write_run_dir(path: Path, records: list[dict]) -> Path:
    path.mkdir()
    (path / "suite.toml").write_text(SUITE)
    (path / "meta.json").write_text(json.dumps(META))
    (path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A run directory written by hand, with the registry's scaling figure (PNG and SVG) and a
    figure drawn as PNG only; its report written once."""
    import matplotlib.pyplot as plt
    run_dir = _write_run_dir(tmp_path_factory.mktemp("report") / "hand", _records())
    written = registered()["scaling"](read_runs(run_dir), run_dir, 1.0, "suite hand")
    assert {p.name for p in written} == {"scaling.png", "scaling.svg"}
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    fig.savefig(run_dir / "market-size.png", dpi=40)
    plt.close(fig)
    path = report.write_report(run_dir)
    assert path == run_dir / "report.html"
    text = path.read_text(encoding="utf-8")
    return run_dir, text, Page(text)


@pytest.fixture(scope="module")
def stored():
    """The stored market run's report, rendered once (not written: the stored file is left as it is)."""
    text = report.render(STORED)
    return text, Page(text)


def _figure_stems(run_dir: Path) -> dict[str, set[str]]:
    stems = defaultdict(set)
    for path in run_dir.iterdir():
        if path.suffix in (".png", ".svg"):
            stems[path.stem].add(path.suffix)
    return stems


def _check_figures(run_dir: Path, page: Page) -> None:
    """Every figure of the run directory is in the page once, as inline SVG when its .svg
    exists and the page is not over the size limit, else as the PNG file's picture: the same
    size, 9999 pixels in 10000 within a quarter of the range of the file's and 999 in 1000
    within an eighth (a palette of 256 colours moves only antialiased edges), and no more
    bytes."""
    stems = _figure_stems(run_dir)
    assert stems, "the run directory has figures to embed"
    assert set(page.figures) == {f"figure-{stem}" for stem in stems}
    for stem, suffixes in stems.items():
        shown = page.figures[f"figure-{stem}"]
        if shown["svg"]:
            assert ".svg" in suffixes and shown["file"] == f"{stem}.svg" and not shown["png"]
        else:
            (uri,) = shown["png"]
            assert uri.startswith("data:image/png;base64,") and shown["file"] == f"{stem}.png"
            embedded = base64.b64decode(uri.split(",", 1)[1])
            original = (run_dir / f"{stem}.png").read_bytes()
            assert len(embedded) <= len(original)
            with Image.open(io.BytesIO(embedded)) as a, Image.open(io.BytesIO(original)) as b:
                assert a.size == b.size
                shown_pixels = np.asarray(a.convert("RGB"), dtype=float)
                file_pixels = np.asarray(b.convert("RGB"), dtype=float)
            off = np.abs(shown_pixels - file_pixels).max(axis=2)
            assert off.mean() < 1.0 and np.percentile(off, 99.9) <= 32 and np.percentile(off, 99.99) <= 64, stem


def _check_self_contained(text: str, page: Page) -> None:
    for url in page.urls:
        assert url.startswith(("data:image/png;base64,", "#")), f"a resource from elsewhere: {url[:80]}"
    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(page.tags)
    lowered = text.lower()
    assert "@import" not in lowered and "url(http" not in lowered and "url(//" not in lowered


@pytest.mark.slow
def test_every_figure_in_the_run_directory_is_embedded(synthetic):
    run_dir, _, page = synthetic
    _check_figures(run_dir, page)
    assert page.figures["figure-scaling"]["svg"] == 1, "an SVG that exists is inlined"
    assert page.figures["figure-market-size"]["png"], "a figure drawn as PNG only is a data URI"
    assert list(page.figures) == ["figure-scaling", "figure-market-size"], "in the registry's drawing order"


def test_the_summary_table_has_one_row_per_summary_row(synthetic):
    run_dir, _, page = synthetic
    rows = summarise(read_runs(run_dir))
    assert page.tables["summary"] == [len(rows)] == [4]
    for row in rows:
        assert largest_text(row) in page.cells
        if row["fit"]:
            assert row["fit"] in page.cells, "the growth fit, with its interval, as gebench results says it"


def test_nothing_is_loaded_from_elsewhere(synthetic):
    _, text, page = synthetic
    _check_self_contained(text, page)
    assert "<style>" in text, "the style sheet is in the page"


def test_the_meta_fields_and_the_suite_are_shown(synthetic):
    run_dir, _, page = synthetic
    for key in META:
        if key != "environment":
            assert key in page.headers, f"meta.json's {key} is not shown"
    for key, value in [("python", "3.11.7"), ("cpu", "Test CPU <x86>"), ("numpy", "9.9.9"), ("commit", "abc123")]:
        assert key in page.headers and value in page.cells
    assert "needs <a licence>" in page.cells
    assert " ".join(SUITE.split()) in page.all_text, "suite.toml, as it is"


def test_text_from_the_run_shows_literally(synthetic):
    _, text, page = synthetic
    assert "b" not in page.tags and "i" not in page.tags
    assert "slow&lt;b&gt;" in text and "&lt;a licence&gt;" in text and "<b>" not in text and "<i>" not in text
    assert SLOW in page.cells and "Suite hand<i>, run hand-run" in page.all_text
    assert "needs <a licence>" in page.all_text


def test_the_findings_are_generated_from_the_records(synthetic):
    _, _, page = synthetic
    said = page.all_text
    rows = {row["solver"]: row for row in summarise(_records()) if row["ladder"] == "fisher-ces"}
    assert ("The run made 15 runs of 3 solvers on 2 families: 13 converged; 1 failed, 1 ran out of the 1 s time "
            "budget.") in said
    assert "4 runs were not made: 4 beyond a solver's wall" in said
    assert "Could not run here, and made no runs: absent (needs <a licence>)." in said
    assert (f"fast: largest size solved on every seed 80 agents (median {rows['fast']['seconds']:.3g} s there); "
            "every run it made converged.") in said
    assert (f"{SLOW}: largest size solved on every seed 10 agents (median 0.2 s there); it first fell short at 20 "
            "agents (of 2 runs, 1 ran out of the 1 s time budget and 1 converged); 4 runs not made beyond its wall "
            "(at 40, 80).") in said
    assert "stuck solved no size on every seed (0 of 1 run converged); it first fell short at 20 agents (of 1 run, " \
           "1 failed)." in said
    assert f"Growth of the median seconds (95% interval): fast {rows['fast']['fits']['seconds']['text']}" in said
    assert f"Not fitted (fewer than 4 sizes with a finite median): {SLOW}" in said


def test_gebench_report_writes_the_page_again_and_refuses_what_is_not_a_run(synthetic, tmp_path, capsys):
    run_dir, text, _ = synthetic
    copy = tmp_path / "hand"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("report.html"))
    assert main(["report", str(copy)]) == 0
    assert capsys.readouterr().out.split() == [str(copy / "report.html")]
    assert (copy / "report.html").read_text(encoding="utf-8") == text, "the same run gives the same page"
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".")) == [], "no temporary file left"
    (tmp_path / "empty").mkdir()
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "runs.jsonl").write_text("")
    for bad in (tmp_path / "missing", tmp_path / "empty", tmp_path / "nothing"):
        assert main(["report", str(bad)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith(f"gebench: error: {bad}: ")
        assert not (bad / "report.html").exists()


def test_a_report_over_the_size_limit_embeds_the_heavy_figures_as_png(synthetic, tmp_path, monkeypatch):
    run_dir, _, _ = synthetic
    heavy = tmp_path / "heavy"
    shutil.copytree(run_dir, heavy, ignore=shutil.ignore_patterns("report.html"))
    path = "M 0 0 L 1 1 " * 40_000
    (heavy / "profile.svg").write_text(f'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                                       f'viewBox="0 0 10 10"><path d="{path}"/></svg>\n')
    shutil.copy(run_dir / "market-size.png", heavy / "profile.png")
    assert len(report.render(heavy).encode()) > 400_000, "the SVG, inline"
    monkeypatch.setattr(report, "SIZE_LIMIT", 400_000)
    text = report.render(heavy)
    page = Page(text)
    assert len(text.encode()) <= 400_000
    assert page.figures["figure-profile"]["file"] == "profile.png" and page.figures["figure-profile"]["png"]
    assert page.figures["figure-scaling"]["svg"] == 1, "a figure that is not heavy stays SVG"
    _check_figures(heavy, page)


TINY = """
name = "tiny"
tolerance = 1e-6
time_budget = 5.0
seeds = [0]
solvers = []

[[family]]
family = "fisher-ces"
rho = 0.5
sizes = [3, 4]
"""


def test_gebench_run_writes_the_report_after_its_figures(synthetic, tmp_path, capsys, monkeypatch, times_out_solver):
    """A sweep with a solver that needs no warm-up, and one registered figure that writes an
    SVG and a PNG from the records: the report written at the end embeds both."""
    png = (synthetic[0] / "market-size.png").read_bytes()
    registered()
    monkeypatch.setattr(figures, "FIGURES", {})

    def tally(records, out_dir, budget, title):
        svg = out_dir / "tally.svg"
        svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 90 20">'
                       f'<text x="2" y="14">{len(records)} records</text></svg>')
        (out_dir / "tally-png.png").write_bytes(png)
        return [svg, out_dir / "tally-png.png"]
    figures.figure("tally")(tally)
    (tmp_path / "tiny.toml").write_text(TINY)
    assert main(["run", str(tmp_path / "tiny.toml"), "--results", str(tmp_path), "--in-process",
                 "--solver", times_out_solver]) == 0
    run_dir = Path(capsys.readouterr().out.split()[-1])
    page = Page((run_dir / "report.html").read_text(encoding="utf-8"))
    _check_figures(run_dir, page)
    assert list(page.figures) == ["figure-tally", "figure-tally-png"] and "2 records" in page.all_text
    assert page.tables["summary"] == [1]
    assert ("times-out solved no size on every seed (0 of 1 run converged); it first fell short at 3 agents (of 1 "
            "run, 1 ran out of the 5 s time budget); 1 run not made beyond its wall (at 4).") in page.all_text


@pytest.mark.slow
def test_the_stored_market_run(stored):
    text, page = stored
    _check_figures(STORED, page)
    _check_self_contained(text, page)
    records = read_runs(STORED)
    assert page.tables["summary"] == [len(summarise(records))]
    meta = read_meta(STORED)
    assert meta["run_id"] in page.all_text and meta["environment"]["cpu"] in page.cells
    assert len(text.encode()) <= report.SIZE_LIMIT
    recs = welfare_records(records)
    refs = references(records)
    said = page.all_text
    for ladder in {r["ladder"] for r in recs}:
        here = [r for r in recs if r["ladder"] == ladder]
        unknown = sum(instance_of(r) not in refs for r in here)
        assert f"{ladder}: At " in said, "a sentence on what the market delivered"
        if unknown:
            assert f"The gains shares are unknown for {unknown} of {len(here)} runs" in said
    assert page.tables["market"] == [len({(r["ladder"], r["size"], r["solver"]) for r in recs})]


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "firefox")


def test_a_browser_renders_the_page(synthetic, tmp_path):
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        pytest.skip(f"no headless browser here (looked for {', '.join(BROWSERS)})")
    run_dir, _, page = synthetic
    url = (run_dir / "report.html").as_uri()
    if "firefox" in Path(browser).name:
        shot = tmp_path / "shot.png"
        proc = subprocess.run([browser, "--headless", "--screenshot", str(shot), url], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0 and shot.stat().st_size > 0, proc.stderr[-2000:]
        return
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rendered = Page(proc.stdout)
    assert set(rendered.figures) == set(page.figures)
    assert rendered.tables["summary"] == page.tables["summary"]
