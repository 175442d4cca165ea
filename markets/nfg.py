"""Two-player games in Gambit's strategic-form (.nfg) files, read and written exactly.

The format is Gambit's: "The strategic game (.nfg) file format, payoff version" and "...,
outcome version", in the Gambit documentation (https://gambit.readthedocs.io, "File
formats"). Both versions start with a prologue

    NFG 1 R "title" { "Player 1" "Player 2" } STRATEGIES ["comment"]

where STRATEGIES is either the number of strategies of each player (``{ 3 2 }``) or their
names (``{ { "U" "D" } { "L" "M" "R" } }``). In the payoff version the body is one payoff
per player per strategy profile, the profiles in the order in which one counts with the
first player's strategy as the fastest digit. In the outcome version it is a list of
outcomes (``{ "name" 1, 2 }``, the payoffs optionally separated by commas) and then one
outcome number per profile in the same order, 0 being the null outcome that pays everyone 0.

Tokens are read as Gambit's own reader (src/games/file.cc) reads them: a quoted string may
hold ``\\"`` for a quote, and a number is an integer, a decimal (``1.5``, ``.5``, ``1e-3``)
or a rational ``p/q``. gebench keeps every payoff exact: integers as Python ints, anything
else as a `fractions.Fraction` (``0.1`` is 1/10, not the double nearest to it).

gebench reads two-player games only: the row player is player 1, whose payoffs are R, the
column player is player 2, whose payoffs are C, both m x n.
"""
from __future__ import annotations

import numbers
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from math import isfinite

from .errors import InputError
from .io import read_text_file

_SPACE = re.compile(r"[ \t\n\r\v\f]*")
_SYMBOL = re.compile(r"[^ \t\n\r\v\f]+")
# What Gambit's lexer takes as one number token: a sign or a digit, then digits, then a
# fraction part with an exponent, a denominator or an exponent; or a point and digits.
_NUMBER_TOKEN = re.compile(r"[-+]?[0-9]*(?:\.[0-9]*(?:[eE][-+]?[0-9]*)?|/[0-9]*|[eE][-+]?[0-9]*)?")
_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE](?P<exp>[-+]?[0-9]+))?")
_RATIONAL = re.compile(r"[-+]?[0-9]+/(?P<den>[0-9]+)")
# 10 ** exponent is computed exactly: a bound keeps "1e999999999" from taking the memory.
_MAX_EXPONENT = 4000

NUMBER, TEXT, SYMBOL, LBRACE, RBRACE, COMMA, EOF = "number", "text", "symbol", "{", "}", ",", "end of file"


@dataclass(frozen=True)
class NfgGame:
    """A two-player game read from a .nfg file.

    Attributes
    ----------
    R, C : list of list of int or Fraction
        The row player's (player 1's) and the column player's (player 2's) payoffs, m x n:
        ``R[i][j]`` when player 1 plays strategy i and player 2 strategy j. Exact: integers
        as ints, every other value as a Fraction.
    title : str
        The game's title (may be empty).
    players : tuple of str
        The two players' names, as the file gives them.
    strategies : tuple of (tuple of str)
        Each player's strategy names, as the file gives them; ``"1"``, ``"2"``, ... where
        the file gives only their number, as Gambit names them.
    comment : str
        The optional comment after the strategies ("" when there is none).
    """

    R: list
    C: list
    title: str
    players: tuple
    strategies: tuple
    comment: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n): the row player's and the column player's numbers of strategies."""
        return len(self.R), len(self.R[0])


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    offset: int


class _Lexer:
    """Gambit's tokens of a .nfg text, one at a time, each with its offset for messages."""

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where
        self.pos = 0
        self.token = _Token(EOF, "", 0)

    def position(self, offset: int) -> str:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return f"line {line}, column {column}"

    def fail(self, message: str, token: _Token | None = None):
        token = self.token if token is None else token
        raise InputError(f"{self.where}: {self.position(token.offset)}: {message}")

    def advance(self) -> _Token:
        """Read the next token; it is also `self.token`."""
        text = self.text
        start = _SPACE.match(text, self.pos).end()
        if start == len(text):
            self.pos = start
            self.token = _Token(EOF, "", start)
            return self.token
        c = text[start]
        if c in "{},":
            end, kind, value = start + 1, c, c
        elif c in "+-." or (c.isascii() and c.isdigit()):
            end = _NUMBER_TOKEN.match(text, start).end() or start + 1
            kind, value = NUMBER, text[start:end]
        elif c == '"':
            value, end = _unquote(text, start + 1)
            if end is None:
                self.token = _Token(TEXT, "", start)
                self.fail("the file ends inside this quoted string")
            kind = TEXT
        else:
            end = _SYMBOL.match(text, start).end()
            kind, value = SYMBOL, text[start:end]
        self.pos = end
        self.token = _Token(kind, value, start)
        return self.token

    def expect(self, kind: str, what: str) -> _Token:
        """The current token if it is of this kind; else a message saying `what` was expected."""
        if self.token.kind != kind:
            self.fail(f"expected {what}, found {_describe(self.token)}")
        return self.token

    def number(self, what: str) -> int | Fraction:
        """The current token's exact value; it must be a number."""
        token = self.expect(NUMBER, what)
        try:
            return parse_number(token.text)
        except ValueError as exc:
            self.fail(f"{what}: {exc}")

    def count(self, what: str, low: int, high: int | None = None) -> int:
        """The current token as an integer in [low, high]."""
        token = self.expect(NUMBER, what)
        if not re.fullmatch(r"\+?[0-9]+", token.text) or int(token.text) < low or (
                high is not None and int(token.text) > high):
            bound = f">= {low}" if high is None else f"from {low} to {high}"
            self.fail(f"expected {what}, an integer {bound}, found {token.text}")
        return int(token.text)


def _unquote(text: str, pos: int) -> tuple[str, int | None]:
    """The string that starts after the quote at `pos` - 1, and the offset after its closing
    quote (None if the text ends first). Gambit's rule: a backslash before a quote makes it a
    quote; before any other character the backslash is kept."""
    out = []
    slash = False
    while pos < len(text):
        a = text[pos]
        pos += 1
        if a == '"' and not slash:
            return "".join(out), pos
        if slash:
            out.append('"' if a == '"' else "\\" + a)
        elif a != "\\":
            out.append(a)
        slash = a == "\\"
    return "".join(out), None


def _describe(token: _Token) -> str:
    """A token as a message names it, on one line."""
    if token.kind == EOF:
        return "the end of the file"
    if token.kind == TEXT:
        return f"the string {_short(token.text)!r}"
    if token.kind == SYMBOL:
        return repr(_short(token.text))
    if token.kind == NUMBER:
        return f"the number {_short(token.text)}"
    return f"'{token.text}'"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def parse_number(text: str) -> int | Fraction:
    """The exact value of a number as Gambit writes one: an integer (``-3``), a decimal
    (``1.5``, ``.5``, ``2.``, ``1e-3``, ``1.5E2``) or a rational (``3/2``); an int where the
    value is a whole number, else a Fraction.

    Raises
    ------
    ValueError
        If `text` is none of these, has a zero denominator, an exponent beyond 4000, or more
        digits than Python converts (``sys.get_int_max_str_digits()``).
    """
    if _INTEGER.fullmatch(text):
        return int(text)
    decimal = _DECIMAL.fullmatch(text)
    rational = _RATIONAL.fullmatch(text)
    if decimal is None and rational is None:
        raise ValueError(f"{_short(text)!r} is not a number (an integer, a decimal such as 1.5 or 1e-3, or p/q)")
    if rational is not None and int(rational["den"]) == 0:
        raise ValueError(f"{_short(text)}: the denominator is 0")
    if decimal is not None and decimal["exp"] is not None and abs(int(decimal["exp"])) > _MAX_EXPONENT:
        raise ValueError(f"{_short(text)}: the exponent is beyond +-{_MAX_EXPONENT}")
    value = Fraction(text)
    return value.numerator if value.denominator == 1 else value


def read_nfg(text: str, where: str = "nfg") -> NfgGame:
    """A two-player game from the text of a Gambit .nfg file, payoff or outcome version.

    Parameters
    ----------
    text : str
        The file's text.
    where : str
        What to call the text in messages: the file's path.

    Returns
    -------
    NfgGame
        The payoffs, exact, with the title, the players' and strategies' names and the
        comment.

    Raises
    ------
    InputError
        If the text is not a .nfg file (its message names `where`, the line and column and
        what was expected there), or the game has other than two players. Nothing is kept
        from a text that fails.

    Notes
    -----
    Gambit's reader (src/games/file.cc) also takes the data type ``D`` for ``R``, the
    optional comment string after the strategies, a strategy-count prologue before an
    outcome body, and commas after an outcome's payoffs; so does this one. It also takes a
    leading ``+`` and an exponent's ``+``, which Gambit's lexer reads as part of a number but
    its number conversion refuses (`write_nfg` writes neither). Names are kept as written:
    Gambit 17 renames empty and repeated ones on reading, Gambit 16 does not.
    """
    lex = _Lexer(text, where)
    if lex.advance().kind != SYMBOL or lex.token.text != "NFG":
        lex.fail(f"not a Gambit strategic game (.nfg): expected 'NFG' first, found {_describe(lex.token)}")
    lex.advance()
    if lex.token.kind != NUMBER or lex.token.text != "1":
        lex.fail(f"expected the version 1 after 'NFG', found {_describe(lex.token)}")
    if lex.advance().kind != SYMBOL or lex.token.text not in ("R", "D"):
        lex.fail(f"expected the data type R (or D) after 'NFG 1', found {_describe(lex.token)}")
    lex.advance()
    title = lex.expect(TEXT, "the game's title (a quoted string)").text

    lex.advance()
    lex.expect(LBRACE, "'{' opening the list of players")
    players = []
    while lex.advance().kind == TEXT:
        players.append(lex.token.text)
    lex.expect(RBRACE, "a player's name (a quoted string) or '}' closing the list of players")
    if len(players) != 2:
        raise InputError(f"{where}: {len(players)} players; gebench reads two-player games")

    names, sizes = _read_strategies(lex)
    comment = ""
    if lex.token.kind == TEXT:
        comment = lex.token.text
        lex.advance()

    m, n = sizes
    if lex.token.kind == LBRACE:
        R, C = _read_outcome_body(lex, m, n)
    elif lex.token.kind == NUMBER:
        R, C = _read_payoff_body(lex, m, n)
    else:
        lex.fail(f"expected the payoffs (numbers) or the list of outcomes ('{{'), found {_describe(lex.token)}")
    if lex.token.kind != EOF:
        lex.fail(f"expected the end of the file after the {m} x {n} = {m * n} strategy profiles, "
                 f"found {_describe(lex.token)}")
    if names is None:
        names = [[str(k) for k in range(1, size + 1)] for size in sizes]
    return NfgGame(R, C, title, tuple(players), tuple(tuple(row) for row in names), comment)


def _read_strategies(lex: _Lexer) -> tuple[list | None, tuple[int, int]]:
    """The strategies list after the players: names (nested lists) or counts. Returns the
    names (None for counts: they are made once the body has shown the sizes are real) and
    the two sizes; the current token is then the one after the list."""
    lex.advance()
    lex.expect(LBRACE, "'{' opening the strategies (their numbers, or a list of names per player)")
    if lex.advance().kind == LBRACE:
        names = []
        for player in (1, 2):
            lex.expect(LBRACE, f"'{{' opening player {player}'s strategy names")
            labels = []
            while lex.advance().kind == TEXT:
                labels.append(lex.token.text)
            lex.expect(RBRACE, f"a strategy name (a quoted string) or '}}' closing player {player}'s strategies")
            if not labels:
                lex.fail(f"player {player} has no strategies")
            names.append(labels)
            lex.advance()
        lex.expect(RBRACE, "'}' closing the strategy lists (one per player)")
        sizes = (len(names[0]), len(names[1]))
    else:
        names = None
        counts = []
        for player in (1, 2):
            counts.append(lex.count(f"player {player}'s number of strategies", 1))
            lex.advance()
        lex.expect(RBRACE, "'}' closing the numbers of strategies (one per player)")
        sizes = tuple(counts)
    lex.advance()
    return names, sizes


def _read_payoff_body(lex: _Lexer, m: int, n: int) -> tuple[list, list]:
    """The payoff version's body: player 1's then player 2's payoff, profile by profile,
    player 1's strategy the fastest digit."""
    flat = []
    total = 2 * m * n
    while len(flat) < total:
        if lex.token.kind == EOF:
            lex.fail(f"the file ends after {len(flat)} of the {total} payoffs of a {m} x {n} game (truncated?)")
        flat.append(lex.number("a payoff"))
        lex.advance()
    R = [[flat[2 * (i + m * j)] for j in range(n)] for i in range(m)]
    C = [[flat[2 * (i + m * j) + 1] for j in range(n)] for i in range(m)]
    return R, C


def _read_outcome_body(lex: _Lexer, m: int, n: int) -> tuple[list, list]:
    """The outcome version's body: ``{ { "name" u1, u2 } ... }``, then one outcome number per
    profile (0: the null outcome, paying 0 to both)."""
    outcomes = [(0, 0)]
    lex.advance()
    while lex.token.kind == LBRACE:
        number = len(outcomes)
        lex.advance()
        lex.expect(TEXT, f"outcome {number}'s name (a quoted string, \"\" for none)")
        lex.advance()
        payoffs = []
        for player in (1, 2):
            payoffs.append(lex.number(f"outcome {number}'s payoff to player {player}"))
            if lex.advance().kind == COMMA:
                lex.advance()
        lex.expect(RBRACE, f"'}}' closing outcome {number} (one payoff per player)")
        outcomes.append(tuple(payoffs))
        lex.advance()
    lex.expect(RBRACE, "'{' opening an outcome or '}' closing the list of outcomes")
    lex.advance()
    chosen = []
    for _ in range(m * n):
        if lex.token.kind == EOF:
            lex.fail(f"the file ends after {len(chosen)} of the {m * n} outcome numbers of a {m} x {n} game "
                     f"(truncated?)")
        chosen.append(outcomes[lex.count("an outcome number", 0, len(outcomes) - 1)])
        lex.advance()
    R = [[chosen[i + m * j][0] for j in range(n)] for i in range(m)]
    C = [[chosen[i + m * j][1] for j in range(n)] for i in range(m)]
    return R, C


def load_nfg(path: str | os.PathLike) -> NfgGame:
    """`read_nfg` of the file at `path`; every message names the file."""
    return read_nfg(read_text_file(path), where=str(path))


def write_nfg(R, C, title: str = "", names=None, players=None) -> str:
    """The text of a .nfg file (payoff version) of the two-player game (R, C).

    Parameters
    ----------
    R, C : sequence of sequences of numbers, or numpy arrays
        The row player's and the column player's payoffs, m x n. Python ints and
        Fractions are written exactly (a Fraction as ``p/q``, which Gambit reads exactly),
        floats as their shortest repr, which reads back as the same double.
    title : str
        The game's title.
    names : pair of sequences of str, optional
        The row player's m and the column player's n strategy names; without them the
        prologue gives only the numbers of strategies (``{ m n }``).
    players : pair of str, optional
        The players' names (default "Player 1", "Player 2").

    Returns
    -------
    str
        The file's text; `read_nfg` of it gives back the payoffs exactly (floats as the
        Fraction of their repr, whose float is the same double).

    Raises
    ------
    InputError
        If R and C are not two m x n tables of finite numbers, the names do not match them,
        or a name holds a backslash that Gambit's reader would not give back unchanged.
    """
    R_rows, C_rows = _table(R, "R"), _table(C, "C")
    m, n = len(R_rows), len(R_rows[0])
    if (len(C_rows), len(C_rows[0])) != (m, n):
        raise InputError(f"game: R is {m} x {n} but C is {len(C_rows)} x {len(C_rows[0])}")
    players = ("Player 1", "Player 2") if players is None else tuple(players)
    if len(players) != 2:
        raise InputError(f"players: expected 2 names, got {len(players)}")
    lines = [f"NFG 1 R {_quote(title, 'title')} {{ {' '.join(_quote(p, 'player') for p in players)} }}"]
    if names is None:
        lines[0] += f" {{ {m} {n} }}"
    else:
        names = [list(row) for row in names]
        if len(names) != 2 or (len(names[0]), len(names[1])) != (m, n):
            raise InputError(f"names: expected the row player's {m} and the column player's {n} strategy names, "
                             f"got {[len(row) for row in names]}")
        lines += ["", "{ " + "\n".join("{ " + " ".join(_quote(s, "strategy") for s in row) + " }" for row in names),
                  "}", '""']
    lines.append("")
    for j in range(n):
        for i in range(m):
            lines.append(f"{R_rows[i][j]} {C_rows[i][j]}")
    return "\n".join(lines) + "\n"


def _table(M, name: str) -> list[list[str]]:
    """The payoffs of `M` as the numbers' texts, row by row; refused unless a non-empty
    rectangular table of finite numbers."""
    try:
        rows = [list(row) for row in M]
    except TypeError:
        raise InputError(f"{name}: expected a table (a list of rows) of payoffs") from None
    if not rows or not rows[0] or any(len(row) != len(rows[0]) for row in rows):
        raise InputError(f"{name}: expected a non-empty table whose rows have one length")
    return [[_number_text(v, f"{name}[{i}][{j}]") for j, v in enumerate(row)] for i, row in enumerate(rows)]


def _number_text(value, where: str) -> str:
    """A payoff as a .nfg number: exact for integers and rationals, the repr of a float
    (without '+' in the exponent, which Gambit's number reader refuses)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{where}: expected a number, got {value!r}")
    try:
        if isinstance(value, numbers.Integral):
            return str(int(value))
        if isinstance(value, numbers.Rational):
            return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)
    except ValueError:      # more digits than sys.get_int_max_str_digits()
        raise InputError(f"{where}: too many digits to write") from None
    value = float(value)
    if not isfinite(value):
        raise InputError(f"{where}: payoffs must be finite, got {value}")
    return repr(value).replace("e+", "e")


def _quote(label: str, what: str) -> str:
    """`label` as a quoted .nfg string that Gambit's reader gives back unchanged."""
    if not isinstance(label, str):
        raise InputError(f"{what}: expected a string, got {label!r}")
    quoted = '"' + label.replace('"', '\\"') + '"'
    if _unquote(quoted, 1) != (label, len(quoted)):
        raise InputError(f"{what} {label!r}: Gambit's reader does not give back a backslash before a quote, "
                         f"before another backslash or at the end")
    return quoted
