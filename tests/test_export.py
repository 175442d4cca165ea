"""`gebench results --format csv|parquet`: one tidy row per record (gebench.export)."""
import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest

from gebench.cli import main
from gebench.export import CORE, KINDS, read_table, tidy, to_csv, to_parquet
from gebench.records import read_meta, read_runs

ROOT = Path(__file__).resolve().parents[1]
STORED = sorted(path.parent for path in (ROOT / "results").glob("*/runs.jsonl"))
PANDAS = "pandas reads the CSV back here; the export itself does not need it"
PYARROW = "the Parquet export needs pyarrow (pip install 'gebench[parquet]')"


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module", params=STORED, ids=lambda path: path.name)
def stored(request):
    """A stored run, read once: its records as runs.jsonl has them, its meta, its table and its CSV."""
    run_dir = request.param
    records, meta = read_runs(run_dir), read_meta(run_dir)
    table = tidy(records, meta)
    return run_dir, records, meta, table, to_csv(table)


def test_results_holds_stored_runs():
    assert {path.name for path in STORED} >= {"reference", "reference-hard", "reference-market", "reference-scale"}


@pytest.mark.slow
def test_every_record_of_a_stored_run_is_one_csv_row(stored):
    run_dir, records, _, _, text = stored
    lines = [line for line in (run_dir / "runs.jsonl").read_text().splitlines() if line.strip()]
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(body) == len(records) == len(lines)
    assert all(len(row) == len(header) for row in body)
    assert header[:len(CORE)] == list(CORE) and len(set(header)) == len(header)
    measures = {key for r in records for key in (r["certificate"] or {})}
    assert {f"certificate.{key}" for key in measures} <= set(header)
    assert not {"prices", "levels", "trace", "welfare.log_utility"} & set(header)


def test_pandas_reads_a_stored_run_as_a_tidy_table(stored):
    pd = pytest.importorskip("pandas", reason=PANDAS)
    _, records, meta, _, text = stored
    frame = pd.read_csv(io.StringIO(text), float_precision="round_trip")     # floats written with repr: exact
    assert frame.shape[0] == len(records)
    measures = [column for column in frame.columns if column.startswith("certificate.")]
    assert "certificate.waste" in measures
    for column in measures + ["seconds", "tolerance", "time_budget"]:
        assert frame[column].dtype.kind == "f", column
    for column in ("size", "agents", "goods", "seed"):
        assert frame[column].dtype.kind == "i", column
    assert frame["suite"].eq(meta["suite"]).all()                          # from meta.json
    assert frame["run_id"].tolist() == [r["run_id"] for r in records]      # each record's own
    certified = next(i for i, r in enumerate(records) if r["certificate"])
    not_run = [i for i, r in enumerate(records) if r["seconds"] is None][:1]
    for i in {0, certified, len(records) // 2, len(records) - 1, *not_run}:
        record, row = records[i], frame.iloc[i]
        assert (row["solver"], row["status"], row["seed"]) == (record["solver"], record["status"], record["seed"])
        for got, want in ((row["seconds"], record["seconds"]),
                          (row["certificate.waste"], (record["certificate"] or {}).get("waste"))):
            assert math.isnan(got) if want is None else got == want        # exactly: floats round-trip


def test_a_heterogeneous_run_has_one_column_per_key_in_order(synthetic):
    table = read_table(synthetic)
    assert table.columns == list(CORE) + [
        "certificate.clearing", "certificate.profit", "certificate.waste", "extra.equilibria", "extra.note",
        "extra.paths.2", "extra.paths.10", "extra.pivots", "extra.rounds", "welfare.pareto_gap"]
    rows = list(csv.DictReader(io.StringIO(to_csv(table))))
    assert [row["solver"] for row in rows] == ["lemke-howson", "tatonnement", "scarf"]
    first, second, third = rows
    assert (first["run_id"], first["suite"]) == ("20260101-000000-tiny", "tiny")   # from meta.json
    assert second["run_id"] == "own-id"                                             # the record's own
    assert json.loads(first["extra.equilibria"]) == [[0.25, 0.75], [0.5, 0.5]]
    assert (first["extra.paths.2"], first["extra.paths.10"], first["extra.note"]) == ("4", "5", "")
    assert second["extra.note"] == 'a, "quoted"\nnote' and second["extra.paths.2"] == ""
    assert (first["sparse"], first["exact"], first["rho"]) == ("false", "true", "")
    assert third["certificate.waste"] == "" and third["message"] == "declined: linear, at this size"
    assert float(second["welfare.pareto_gap"]) == 0.125


@pytest.fixture
def synthetic(tmp_path):
    """A run directory whose records differ in their extras, certificates and fields."""
    base = {"family": "f", "ladder": "f", "size": 4, "size_name": "agents", "agents": 4, "goods": 4, "seed": 1,
            "density": 1.0, "sparse": False, "rho": None, "exact": True, "tolerance": 1e-6, "time_budget": 5.0}
    records = [
        {**base, "solver": "lemke-howson", "status": "converged", "seconds": 0.1, "iterations": 3,
         "certificate": {"clearing": 1e-17, "waste": 0.0}, "prices": [0.5, 0.5],
         "extra": {"pivots": 3, "equilibria": [[0.25, 0.75], [0.5, 0.5]], "paths": {"10": 5, "2": 4}}},
        {**base, "run_id": "own-id", "solver": "tatonnement", "status": "max_iter", "seconds": 2.5,
         "iterations": 100, "certificate": {"clearing": 0.3, "waste": 1e-3, "profit": 0.0},
         "extra": {"rounds": 7, "note": 'a, "quoted"\nnote'},
         "welfare": {"pareto_gap": 0.125, "log_utility": [-1.0, -2.0]}, "trace": {"seconds": [0.1, 0.2]}},
        {**base, "solver": "scarf", "status": "declined", "seconds": None, "iterations": None,
         "certificate": None, "message": "declined: linear, at this size"},
    ]
    run_dir = tmp_path / "20260101-000000-tiny"
    run_dir.mkdir()
    (run_dir / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run_dir / "meta.json").write_text(json.dumps({"record_format": 1, "run_id": run_dir.name, "suite": "tiny"}))
    return run_dir


def test_csv_goes_to_stdout_or_whole_to_a_file(synthetic, tmp_path, capsys):
    code, out, _ = run(capsys, "results", synthetic, "--format", "csv")
    assert code == 0 and out == to_csv(read_table(synthetic))
    target = tmp_path / "runs.csv"
    assert run(capsys, "results", synthetic, "--format", "csv", "-o", target) == (0, "", "")
    assert target.read_text() == out


def test_json_is_an_alias_of_format_json(synthetic, capsys):
    code, out, _ = run(capsys, "results", synthetic, "--json")
    assert code == 0 and run(capsys, "results", synthetic, "--format", "json")[1] == out
    assert {row["solver"] for row in json.loads(out)} == {"lemke-howson", "tatonnement", "scarf"}
    with pytest.raises(SystemExit):
        main(["results", str(synthetic), "--json", "--format", "csv"])


def test_parquet_reads_back_the_same_rows(synthetic, tmp_path, capsys):
    pytest.importorskip("pyarrow", reason=PYARROW)
    import pyarrow.parquet as pq
    target = tmp_path / "runs.parquet"
    assert run(capsys, "results", synthetic, "--format", "parquet", "-o", target) == (0, "", "")
    back = pq.read_table(target)
    rows = list(csv.DictReader(io.StringIO(to_csv(read_table(synthetic)))))
    assert back.column_names == list(rows[0]) and back.num_rows == len(rows) == 3
    assert back.column("seconds").to_pylist() == [0.1, 2.5, None]
    assert back.column("extra.equilibria").to_pylist()[0] == rows[0]["extra.equilibria"]
    assert back.column("extra.note").to_pylist()[1] == 'a, "quoted"\nnote'
    types = {field.name: str(field.type) for field in back.schema}
    assert types["certificate.profit"] == types["rho"] == types["worker_start_seconds"] == "double"  # even empty
    assert (types["size"], types["sparse"], types["host"], types["extra.pivots"]) == ("int64", "bool", "string",
                                                                                      "int64")


def test_parquet_of_a_stored_run_has_its_records(stored):
    pa = pytest.importorskip("pyarrow", reason=PYARROW)
    import pyarrow.parquet as pq
    _, records, _, table, text = stored
    back = pq.read_table(pa.BufferReader(to_parquet(table)))
    assert back.num_rows == len(records) and back.column_names == text.split("\n", 1)[0].split(",")
    assert back.column("status").to_pylist() == [r["status"] for r in records]
    assert back.column("seconds").to_pylist() == [r["seconds"] for r in records]
    assert back.column("certificate.waste").to_pylist() == [(r["certificate"] or {}).get("waste") for r in records]


def test_core_columns_have_a_kind():
    assert set(KINDS) == set(CORE)


def test_parquet_needs_a_file(synthetic, capsys):
    code, out, err = run(capsys, "results", synthetic, "--format", "parquet")
    assert code == 2 and out == "" and "-o FILE" in err and len(err.splitlines()) == 1


def test_parquet_without_pyarrow_says_how_to_install_it(synthetic, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)          # import pyarrow now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    target = tmp_path / "runs.parquet"
    code, out, err = run(capsys, "results", synthetic, "--format", "parquet", "-o", target)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "pyarrow" in err and "pip install 'gebench[parquet]'" in err
    assert not target.exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_bad_run_directory_is_named(fmt, tmp_path, capsys):
    if fmt == "parquet":
        pytest.importorskip("pyarrow", reason=PYARROW)
    missing, empty = tmp_path / "no-such-run", tmp_path / "empty"
    empty.mkdir()
    for run_dir, why in ((missing, "no such directory"), (empty, "not a run directory (no runs.jsonl)")):
        code, out, err = run(capsys, "results", run_dir, "--format", fmt, "-o", tmp_path / "out")
        assert (code, out) == (2, "") and err.startswith(f"gebench: error: {run_dir}: {why}")
        assert len(err.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_broken_record_names_its_line_and_keeps_the_old_output(synthetic, tmp_path, capsys):
    with open(synthetic / "runs.jsonl", "a") as handle:
        handle.write('{"ladder": "f", "seed": 1, "solver": "x", "status": "converged", "size": 4, "seconds": -1}\n')
    target = tmp_path / "runs.csv"
    target.write_text("the previous export\n")
    code, _, err = run(capsys, "results", synthetic, "--format", "csv", "-o", target)
    assert code == 2 and f"{synthetic / 'runs.jsonl'}: line 4: seconds" in err
    assert target.read_text() == "the previous export\n"
    code, _, err = run(capsys, "results", synthetic, "--format", "csv", "-o", tmp_path / "no-folder" / "x.csv")
    assert code == 2 and "no-folder" in err and "does not exist" in err
