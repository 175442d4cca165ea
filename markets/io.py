"""Read and write format-1 economy files and result points (docs/format.md, "Economy files").

The reader checks structure (keys, types, lengths) and names the agent and the
field in every error; numeric rules are left to `Economy` itself. Nothing is
built until the whole document has been checked.
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from .economy import CES, UTILITY_CODES, UTILITY_NAMES, Economy
from .errors import EconomyError, InputError, count, field_name, type_problem
from .production import PRODUCER_TYPES, Producer

FORMAT = "economy/1"
_TOP_KEYS = {"format", "model", "name", "goods", "agents", "supply", "meta", "producers"}
_PRODUCER_KEYS = {"activity": {"type", "net_output"}, "ces": {"type", "output", "scale", "a", "rho"},
                  "cobb-douglas": {"type", "output", "scale", "a"}, "leontief": {"type", "output", "scale", "a"}}
_AGENT_KEYS = {"endowment", "budget", "utility"}


def _reject_constant(token: str):
    raise InputError(f"JSON: {token} is not a number (use finite numbers)")


def _unique_keys(pairs: list) -> dict:
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise InputError(f"JSON: key {json.dumps(key)} appears twice in one object")
        seen[key] = value
    return seen


def parse_json(text: str, what: str = "document"):
    """json.loads that refuses NaN and Infinity and duplicate keys, and reports the position
    of a syntax error."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None
    except RecursionError:
        raise InputError(f"{what}: JSON nested too deeply") from None


def json_safe(value):
    """`value` with every non-finite float replaced by None (JSON null), so that `json.dumps`
    writes no NaN or Infinity token, which no strict JSON reader (gebench's own included) reads."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def to_json(value, **kwargs) -> str:
    """`json.dumps` of `json_safe(value)`, refusing any NaN that could remain."""
    return json.dumps(json_safe(value), allow_nan=False, **kwargs)


_RATIONAL = re.compile(r"[+-]?[0-9]+/[0-9]+")


def _exact(value, where: str) -> tuple[float, Fraction | None]:
    """(the float, the exact value or None) of a format-1 number: a JSON number, an integer
    of any size, or a string "p/q"; the float is the correctly rounded value."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise EconomyError(f"{where}: expected a number, got {json.dumps(value)[:40]}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EconomyError(f"{where}: must be finite, got {value}")
        return value, None
    if isinstance(value, str) and (not _RATIONAL.fullmatch(value) or value.endswith("/0")):
        raise EconomyError(f"{where}: expected a number or a rational \"p/q\", got {json.dumps(value)[:40]}")
    exact = Fraction(value)
    try:
        return float(exact), exact
    except OverflowError:
        text = str(value)
        raise EconomyError(f"{where}: {text[:30]}{'...' if len(text) > 30 else ''} is beyond the range of a "
                           "double (about 1.8e308)") from None


def _number(value, where: str) -> float:
    return _exact(value, where)[0]


def _numbers(values, m: int, where: str) -> list[float]:
    return [v for v, _ in _exact_numbers(values, m, where)]


def _exact_numbers(values, m: int, where: str) -> list[tuple[float, Fraction | None]]:
    if not isinstance(values, list):
        raise EconomyError(f"{where}: expected a list of {count(m, 'number')}")
    if len(values) != m:
        raise EconomyError(f"{where}: expected {count(m, 'number')}, got {len(values)}")
    return [_exact(v, f"{where}[{j}]") for j, v in enumerate(values)]


def economy_from_dict(doc) -> Economy:
    """Build an `Economy` from a parsed format-1 document (docs/format.md).

    Parameters
    ----------
    doc : dict
        The parsed JSON document.

    Returns
    -------
    Economy
        The economy it describes; `economy_to_dict` inverts this.

    Raises
    ------
    EconomyError
        If the document breaks the format-1 contract (an unknown field, a wrong format or
        model, a malformed agent or producer); the message names the agent and field.
    """
    if not isinstance(doc, dict):
        raise EconomyError("economy: expected a JSON object")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise EconomyError(f"{field_name(unknown[0])}: unknown field (known: {sorted(_TOP_KEYS)})")
    if doc.get("format") != FORMAT:
        raise EconomyError(f"format: expected {FORMAT!r}, got {doc.get('format')!r}")
    model = doc.get("model")
    if model not in ("exchange", "fisher"):
        raise EconomyError(f"model: expected 'exchange' or 'fisher', got {model!r}")
    goods = doc.get("goods")
    goods_names = None
    if isinstance(goods, list):
        if not goods or not all(isinstance(g, str) for g in goods):
            raise EconomyError("goods: a list of goods must hold one or more names (strings)")
        goods_names, m = goods, len(goods)
    elif isinstance(goods, int) and not isinstance(goods, bool) and goods >= 1:
        m = goods
    else:
        raise EconomyError(f"goods: expected a positive integer or a list of names, got {goods!r}")
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise EconomyError("name: expected a string")
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise EconomyError("meta: expected an object")
    agents = doc.get("agents")
    if not isinstance(agents, list) or not agents:
        raise EconomyError("agents: expected a non-empty list")

    own = "endowment" if model == "exchange" else "budget"
    other = "budget" if model == "exchange" else "endowment"
    rows, kinds, rho, owned = [], [], [], []
    for i, agent in enumerate(agents):
        where = f"agent {i}"
        if not isinstance(agent, dict):
            raise EconomyError(f"{where}: expected an object")
        unknown = sorted(set(agent) - _AGENT_KEYS)
        if unknown:
            raise EconomyError(f"{where}: {field_name(unknown[0])}: unknown field")
        if other in agent:
            raise EconomyError(f"{where}: {other}: not allowed in a {model} economy (use {own})")
        if own not in agent:
            raise EconomyError(f"{where}: {own}: missing")
        if model == "exchange":
            owned.append(_numbers(agent["endowment"], m, f"{where}: endowment"))
        else:
            owned.append(_number(agent["budget"], f"{where}: budget"))
        utility = agent.get("utility")
        if not isinstance(utility, dict):
            raise EconomyError(f"{where}: utility: missing or not an object")
        kind = utility.get("type")
        if not isinstance(kind, str) or kind not in UTILITY_CODES:
            raise EconomyError(f"{where}: utility.type: {type_problem(kind, UTILITY_NAMES)}")
        allowed = {"type", "a", "rho"} if kind == "ces" else {"type", "a"}
        extra = sorted(set(utility) - allowed)
        if extra:
            raise EconomyError(f"{where}: utility.{field_name(extra[0])}: not a field of a {kind} utility")
        if "a" not in utility:
            raise EconomyError(f"{where}: utility.a: missing")
        rows.append(_exact_numbers(utility["a"], m, f"{where}: utility.a"))
        kinds.append(UTILITY_CODES[kind])
        if kind == "ces":
            if "rho" not in utility:
                raise EconomyError(f"{where}: utility.rho: missing (CES needs rho < 1, rho != 0)")
            rho.append(_number(utility["rho"], f"{where}: utility.rho"))
        else:
            rho.append(math.nan)

    supply = None
    if "supply" in doc:
        if model != "fisher":
            raise EconomyError("supply: only Fisher markets have a supply (exchange supply is the endowments)")
        supply = _numbers(doc["supply"], m, "supply")
    producers = _producers(doc["producers"], m, goods_names) if "producers" in doc else ()
    if producers and model != "exchange":
        raise EconomyError("producers: only exchange (Arrow-Debreu) economies have producers")
    # exact coefficients are kept where a float would not hold one exactly
    needs_exact = any(q is not None and Fraction(v) != q for row in rows for v, q in row)
    exact_a = [[q if q is not None else Fraction(v) for v, q in row] for row in rows] if needs_exact else None
    return Economy(
        model=model, kinds=np.array(kinds), a=np.array([[v for v, _ in row] for row in rows]), rho=np.array(rho),
        exact_a=exact_a,
        endowment=np.array(owned) if model == "exchange" else None,
        budget=np.array(owned) if model == "fisher" else None,
        supply=supply, goods_names=goods_names, name=name, meta=meta, producers=producers,
    )


def _producers(items, m: int, goods_names) -> tuple[Producer, ...]:
    """The producers of a document, checked for structure (numeric rules: `Economy`)."""
    if not isinstance(items, list):
        raise EconomyError("producers: expected a list")
    out = []
    for k, item in enumerate(items):
        where = f"producer {k}"
        if not isinstance(item, dict):
            raise EconomyError(f"{where}: expected an object")
        kind = item.get("type")
        if not isinstance(kind, str) or kind not in PRODUCER_TYPES:
            raise EconomyError(f"{where}: type: {type_problem(kind, PRODUCER_TYPES)}")
        extra = sorted(set(item) - _PRODUCER_KEYS[kind])
        if extra:
            raise EconomyError(f"{where}: {field_name(extra[0])}: not a field of a {kind} producer")
        missing = sorted(_PRODUCER_KEYS[kind] - set(item) - {"scale"})
        if missing:
            raise EconomyError(f"{where}: {missing[0]}: missing")
        if kind == "activity":
            out.append(Producer(kind, net_output=_numbers(item["net_output"], m, f"{where}: net_output")))
            continue
        output = item["output"]
        if isinstance(output, str) and goods_names is not None:
            if output not in goods_names:
                raise EconomyError(f"{where}: output: {output!r} is not one of the goods")
            output = goods_names.index(output)
        elif isinstance(output, bool) or not isinstance(output, int):
            raise EconomyError(f"{where}: output: expected a good index{' or name' if goods_names else ''}, "
                               f"got {json.dumps(output)[:40]}")
        scale = _number(item["scale"], f"{where}: scale") if "scale" in item else 1.0
        rho = _number(item["rho"], f"{where}: rho") if kind == "ces" else math.nan
        out.append(Producer(kind, output=output, scale=scale, a=_numbers(item["a"], m, f"{where}: a"), rho=rho))
    return tuple(out)


def _producer_dict(producer: Producer) -> dict:
    if producer.kind == "activity":
        return {"type": "activity", "net_output": [_plain(v) for v in producer.net_output]}
    doc = {"type": producer.kind, "output": producer.output, "scale": _plain(producer.scale),
           "a": [_plain(v) for v in producer.a]}
    if producer.kind == "ces":
        doc["rho"] = _plain(producer.rho)
    return doc


def _plain(x):
    """A number as JSON: integral values as ints (1 not 1.0), other floats with full precision,
    other exact rationals as "p/q" strings."""
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


MAX_DENSE_WRITE = 10**8


def economy_to_dict(economy: Economy) -> dict:
    """The format-1 document of an economy (docs/format.md).

    Parameters
    ----------
    economy : Economy
        Any economy; exact coefficients (`Economy.exact_a`) are written exactly.

    Returns
    -------
    dict
        The document, ready for `json.dumps`; `economy_from_dict` inverts it exactly (a
        sparse economy comes back dense: format 1 stores every agent's m coefficients).

    Raises
    ------
    InputError
        If the economy is sparse and has more than `MAX_DENSE_WRITE` coefficients.
    """
    if economy.sparse:
        if economy.n_agents * economy.n_goods > MAX_DENSE_WRITE:
            raise InputError(f"economy: {economy.n_agents} x {economy.n_goods} is too large to write: format 1 "
                             f"stores dense rows, at most {MAX_DENSE_WRITE:.0e} coefficients")
        economy = economy.to_dense()
    doc: dict = {"format": FORMAT, "model": economy.model}
    if economy.name is not None:
        doc["name"] = economy.name
    doc["goods"] = list(economy.goods_names) if economy.goods_names else economy.n_goods
    if economy.supply is not None:
        doc["supply"] = [_plain(v) for v in economy.supply]
    agents = []
    for i in range(economy.n_agents):
        agent: dict = {}
        if economy.model == "exchange":
            agent["endowment"] = [_plain(v) for v in economy.endowment[i]]
        else:
            agent["budget"] = _plain(economy.budget[i])
        coefficients = economy.exact_a[i] if economy.exact_a is not None else economy.a[i]
        utility = {"type": UTILITY_NAMES[economy.kinds[i]], "a": [_plain(v) for v in coefficients]}
        if economy.kinds[i] == CES:
            utility["rho"] = _plain(economy.rho[i])
        agent["utility"] = utility
        agents.append(agent)
    doc["agents"] = agents
    if economy.producers:
        doc["producers"] = [_producer_dict(p) for p in economy.producers]
    if economy.meta:
        doc["meta"] = economy.meta
    return doc


def read_text_file(path: str | os.PathLike) -> str:
    """The UTF-8 text of a regular file; `InputError` naming it otherwise (a device or a
    FIFO would hang or never end)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: not a regular file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def loads(text: str) -> Economy:
    """An economy from the text of a format-1 document.

    Parameters
    ----------
    text : str
        The JSON text.

    Returns
    -------
    Economy
        The economy it describes.

    Raises
    ------
    InputError
        If the text is not JSON (NaN, Infinity and duplicate keys are refused too), or
        `EconomyError` if the document breaks the format-1 contract.
    """
    return economy_from_dict(parse_json(text, "economy"))


def dumps(economy: Economy) -> str:
    """The text of an economy's format-1 document (`economy_to_dict`), indented.

    Parameters
    ----------
    economy : Economy
        Any economy.

    Returns
    -------
    str
        The JSON text, without a final newline.

    Raises
    ------
    InputError
        If the economy is too large to write (see `economy_to_dict`).
    """
    return json.dumps(economy_to_dict(economy), indent=1)


def load(path: str | os.PathLike) -> Economy:
    """Read an economy file.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file holding a format-1 document, UTF-8.

    Returns
    -------
    Economy
        The economy it describes.

    Raises
    ------
    InputError
        If the file is not a regular file, cannot be read, or does not hold an economy
        (`EconomyError`, as `loads` raises it); every message names the file.
    """
    text = read_text_file(path)
    try:
        return loads(text)
    except InputError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _numeric_array(value, where: str, depth: int):
    """A nested list of numbers (no booleans, no strings) as nested lists of floats."""
    if depth == 0:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{where}: expected a number, got {json.dumps(value)[:40]}")
        return _number(value, where)
    if not isinstance(value, list):
        raise InputError(f"{where}: expected a list")
    return [_numeric_array(v, f"{where}[{k}]", depth - 1) for k, v in enumerate(value)]


def load_point(path: str | os.PathLike) -> tuple[list, list, list | None]:
    """The point of a solver result file, checked for shape and type.

    Parameters
    ----------
    path : str or os.PathLike
        A solver result (docs/format.md): a JSON object with `prices`, `allocation` and,
        for an economy with producers, `levels`.

    Returns
    -------
    prices : list of float
    allocation : list of list of float
    levels : list of float or None
        None when the result has no `levels`.

    Raises
    ------
    InputError
        If the file cannot be read, is not a result object, has no point (null prices or
        allocation), or holds anything but numbers there (no booleans); every message
        names the file and the field.
    """
    path = Path(path)
    doc = parse_json(read_text_file(path), str(path))
    if not isinstance(doc, dict) or "prices" not in doc or "allocation" not in doc:
        raise InputError(f"{path}: expected a result object with prices and allocation")
    if doc["prices"] is None or doc["allocation"] is None:
        raise InputError(f"{path}: the result has no point (prices or allocation is null): nothing to verify")
    try:
        levels = doc.get("levels")
        return (_numeric_array(doc["prices"], "prices", 1), _numeric_array(doc["allocation"], "allocation", 2),
                None if levels is None else _numeric_array(levels, "levels", 1))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def check_output_path(path: str | os.PathLike) -> Path:
    """`path` if gebench may write a regular file there: its folder exists, and nothing is
    there yet or a regular file is. A directory, a device, a FIFO or a symbolic link (even
    to a regular file) is refused with `InputError`, so that nothing else is ever replaced."""
    path = Path(path)
    if path.is_symlink():
        raise InputError(f"{path}: is a symbolic link; give the path of a regular file")
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: exists and is not a regular file (a directory, a device or a FIFO)")
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    return path


def write_atomic(path: str | os.PathLike, text: str | bytes) -> None:
    """Write a regular file via a temporary file in its folder and a rename, so that a failure
    never leaves half a file; a file that was there keeps its mode, a new one gets the
    umask's. `text` is written as UTF-8, or as it is when it is bytes (a Parquet file). See
    `check_output_path` for what is refused."""
    path = check_output_path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{path}: cannot write there: {exc.strerror}") from None
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save(economy: Economy, path: str | os.PathLike) -> None:
    """Write an economy file (`dumps` and a newline), atomically (`write_atomic`).

    Parameters
    ----------
    economy : Economy
        Any economy.
    path : str or os.PathLike
        A regular file, or nothing yet, in an existing folder.

    Raises
    ------
    InputError
        If the path is refused (a directory, a device, a FIFO, a symbolic link, a folder
        that does not exist), the file cannot be written, or the economy is too large to
        write.
    """
    write_atomic(path, dumps(economy) + "\n")
