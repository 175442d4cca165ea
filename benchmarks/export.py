"""A run directory's records as one tidy table, for CSV and Parquet (`gebench results --format`).

One row per record of runs.jsonl (long format), one column per scalar: the record's own fields
first, in `gebench.records.FIELDS`' order (with the run's `suite` from meta.json after
`run_id`), then the nested fields flattened with dots and sorted: `certificate.clearing`,
`extra.pivots`, `extra.paths.0`, `welfare.pareto_gap`, ... A column exists when any record
has the key; a record without it has an empty cell. Every table has the core columns, in the
same order and (in Parquet) of the same types, so that the tables of several runs stack.

Per-good, per-agent and per-checkpoint lists are not scalars of a run and are left out:
`prices`, `levels`, `trace`, and the lists in `welfare` (`log_utility`, `incomes`,
`no_trade_log_utility`); runs.jsonl keeps them. Any other list (an `extra` such as
`equilibria`) is written as compact JSON text in its cell.

pandas is not needed: CSV is written with the `csv` module, Parquet with pyarrow (the
optional extra `gebench[parquet]`).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from gebench.markets import InputError

from .records import FIELDS, RunDirectory

NESTED = ("certificate", "extra", "welfare")
"""The record fields that are JSON objects, flattened to `<field>.<key>` columns."""

LEFT_OUT = ("prices", "levels", "trace", "welfare.log_utility", "welfare.incomes", "welfare.no_trade_log_utility")
"""What the table leaves out: lists per good, per producer, per checkpoint or per agent."""

CORE = tuple(["run_id", "suite"] + [name for name in FIELDS if name not in NESTED + LEFT_OUT + ("run_id",)])
"""The scalar columns every table has, in this order: the run and the record's scalar fields."""

KINDS = {
    "run_id": str, "suite": str, "family": str, "ladder": str, "size": int, "size_name": str, "agents": int,
    "goods": int, "seed": int, "density": float, "sparse": bool, "rho": float, "solver": str, "exact": bool,
    "tolerance": float, "time_budget": float, "status": str, "seconds": float, "iterations": int, "message": str,
    "setup_seconds": float, "game_resolution": float, "worker_start_seconds": float, "host": str,
    "central_reads": int, "day": int, "regime": str, "sigma": float, "churn": float, "shock_rate": float,
    "carried": bool, "delivered": bool, "cut": bool, "reference": str, "gains_share": float, "gains_worst": float,
    "pareto_gap": float, "individual_rationality": float, "feasible": bool, "entrants": int, "shock": int,
}
"""Each core column's kind, and so its Parquet type when its values fit it (certificate
measures are floats): the same schema for every run, even where a column is empty."""

PARQUET_HINT = "pip install 'gebench[parquet]'"

_INT64 = 2 ** 63


@dataclass
class Table:
    """A tidy table: `columns` in order, and `rows`, one dict per record from column to a JSON
    scalar (str, int, float, bool) or None for an empty cell."""

    columns: list[str]
    rows: list[dict]


def flatten(value, prefix: str, left_out: tuple = LEFT_OUT) -> dict:
    """The scalars of a nested JSON value, keyed by their dotted path under `prefix`.

    Parameters
    ----------
    value
        A JSON value: an object is descended into (`{"paths": {"0": 4}}` gives `prefix.paths.0`),
        a list is one cell of compact JSON text (a tidy cell holds one value), a scalar one cell.
    prefix
        The column name of `value` itself.
    left_out
        Column names that are not kept, with all below them.

    Returns
    -------
    dict
        Column name to scalar (or JSON text); an empty object gives no column.
    """
    if prefix in left_out:
        return {}
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}", left_out))
        return flat
    if isinstance(value, list):
        return {prefix: json.dumps(value, separators=(",", ":"))}
    return {prefix: value}


def record_row(record: dict, meta: dict) -> dict:
    """One record as a flat row: its scalar fields, its nested fields flattened (`flatten`)
    but for `LEFT_OUT`, and `run_id` and `suite` from `meta` where the record has none."""
    row = {"run_id": meta.get("run_id"), "suite": meta.get("suite")}
    for key, value in record.items():
        if key in NESTED and value is None:
            continue                     # no certificate: its measures are empty cells
        row.update(flatten(value, key))
    return row


def _natural(column: str) -> list:
    """A sort key that orders the digits in a name by number: extra.paths.2 before extra.paths.10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", column)]


def tidy(records: list[dict], meta: dict | None = None) -> Table:
    """The records as a `Table`.

    Parameters
    ----------
    records
        Run records, as `gebench.records.read_runs` gives them.
    meta
        The run's meta.json: its `run_id` and `suite` fill the columns a record lacks.

    Returns
    -------
    Table
        `CORE` first, then every flattened column any record has, sorted (digits by number).
    """
    rows = [record_row(record, meta or {}) for record in records]
    seen = dict.fromkeys(key for row in rows for key in row)
    columns = list(CORE) + sorted((key for key in seen if key not in CORE), key=_natural)
    return Table(columns, rows)


def read_table(run_dir: Path | str) -> Table:
    """The tidy table of a run directory's runs.jsonl and meta.json.

    Raises
    ------
    InputError
        Naming `run_dir` when it is not a run directory or has no records, and the file and
        line of a record that cannot be read.
    """
    directory = RunDirectory(run_dir)
    if not directory.path.is_dir():
        what = "not a directory" if directory.path.exists() else "no such directory"
        raise InputError(f"{run_dir}: {what}; give a run directory (results/<stamp>-<suite>)")
    if not directory.has_runs():
        raise InputError(f"{run_dir}: not a run directory (no runs.jsonl)")
    records = directory.read_runs()
    if not records:
        raise InputError(f"{run_dir}: no runs.jsonl records to export")
    return tidy(records, {"run_id": directory.name, **directory.read_meta()})


def cell(value) -> str:
    """A value as CSV text: empty for None, true/false as in JSON, floats in the shortest form
    that reads back to the same float, objects and lists as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return repr(value) if isinstance(value, float) else str(value)


def to_csv(table: Table) -> str:
    """The table as CSV text: a header of the column names, then one line per row (fields
    quoted where they hold a comma, a quote or a line break)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([cell(row.get(column)) for column in table.columns])
    return out.getvalue()


def require_pyarrow():
    """The pyarrow module, or an `InputError` saying how to install it: Parquet is an optional
    extra, so that gebench installs without it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (the writer is a submodule)
    except ImportError:
        raise InputError(f"--format parquet needs pyarrow, which is not installed; {PARQUET_HINT}") from None
    return pyarrow


def _fits(kind: type, values: list) -> bool:
    """Whether every non-empty value is of `kind` (ints count as floats; bools as neither)."""
    if kind is bool:
        return all(isinstance(v, bool) for v in values)
    if kind is int:
        return all(isinstance(v, int) and not isinstance(v, bool) and -_INT64 <= v < _INT64 for v in values)
    if kind is float:
        return all(isinstance(v, float) or isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2 ** 1023
                   for v in values)
    return all(isinstance(v, str) for v in values)


def column_kind(column: str, values: list) -> type:
    """A column's kind for Parquet: its `KINDS` entry (float for a certificate measure) where
    its values fit that, else the narrowest of bool, int, float that fits them, else str
    (a column that mixes kinds is written as text)."""
    present = [v for v in values if v is not None]
    preferred = KINDS.get(column, float if column.startswith("certificate.") else None)
    if preferred is not None and _fits(preferred, present):
        return preferred
    for kind in (bool, int, float):
        if present and _fits(kind, present):
            return kind
    return str


def to_parquet(table: Table) -> bytes:
    """The table as the bytes of a Parquet file, one typed column per table column (see
    `column_kind`); needs pyarrow (`require_pyarrow`)."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq
    types = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
    arrays = []
    for column in table.columns:
        values = [row.get(column) for row in table.rows]
        kind = column_kind(column, values)
        if kind is str:
            values = [None if v is None else v if isinstance(v, str) else cell(v) for v in values]
        elif kind is float:
            values = [None if v is None else float(v) for v in values]
        arrays.append(pa.array(values, type=types[kind]))
    out = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, names=table.columns), out)
    return out.getvalue().to_pybytes()
