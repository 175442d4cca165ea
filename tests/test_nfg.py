"""Two-player games in Gambit's .nfg files: reading both versions exactly, writing the payoff
version, the errors, and `gebench generate` from and to .nfg. The .nfg texts here are written
by hand for these tests."""
import json
from fractions import Fraction

import numpy as np
import pytest

from gebench.cli import main
from gebench.markets import InputError, load, load_nfg, read_nfg, write_nfg
from gebench.markets.games import game_of, hard_game, leontief_from_game, svs_game
from gebench.markets.generators import build

# Payoff version, counts prologue; R[i][j] = 10(i+1) + (j+1) and C = -R, so a profile read
# in the wrong order shows. Profiles: (1,1) (2,1) (1,2) (2,2) (1,3) (2,3), player 1 fastest.
TWO_BY_THREE = """NFG 1 R "A 2 x 3 game" { "Row" "Column" } { 2 3 }

11 -11 21 -21
12 -12 22 -22
13 -13 23 -23
"""
TWO_BY_THREE_R = [[11, 12, 13], [21, 22, 23]]

PENNIES = """NFG 1 D "Matching pennies" { "Even" "Odd" }
{ { "Heads" "Tails" } { "Heads" "Tails" } }
"Even wins on a match"

1 -1 -1 1 -1 1 1 -1
"""

# Outcome version; profile (Defect, Defect) has the null outcome 0, which pays both 0.
PRISONERS = r"""NFG 1 R "Prisoner's \"dilemma\"" { "Alice" "Bob" }

{ { "Cooperate" "Defect" }
{ "Cooperate" "Defect" }
}
"Outcome 0 is the null outcome"

{
{ "reward" 3, 3 }
{ "temptation" 5 0 }
{ "sucker" 0, 5, }
}
1 2 3 0
"""

# Every way of writing a number: integers, decimals, exponents, rationals.
NUMBERS = """NFG 1 R "numbers" { "1" "2" } { 2 2 }
1.5 1e-3 3/2 -0.25
.5 2. 1.5E2 -7/3
"""


def test_the_payoff_version_reads_each_profile_in_gambits_order():
    game = read_nfg(TWO_BY_THREE, "two.nfg")
    assert game.R == TWO_BY_THREE_R
    assert game.C == [[-v for v in row] for row in TWO_BY_THREE_R]
    assert all(type(v) is int for row in game.R + game.C for v in row)
    assert game.shape == (2, 3)
    assert game.title == "A 2 x 3 game" and game.players == ("Row", "Column")
    assert game.strategies == (("1", "2"), ("1", "2", "3"))    # Gambit's names for counted strategies


def test_named_strategies_and_the_comment_of_the_payoff_version():
    game = read_nfg(PENNIES, "pennies.nfg")
    assert game.R == [[1, -1], [-1, 1]] and game.C == [[-1, 1], [1, -1]]
    assert game.strategies == (("Heads", "Tails"), ("Heads", "Tails"))
    assert game.comment == "Even wins on a match" and game.title == "Matching pennies"


def test_the_outcome_version_with_a_null_outcome_and_commas():
    game = read_nfg(PRISONERS, "pd.nfg")
    assert game.R == [[3, 0], [5, 0]]
    assert game.C == [[3, 5], [0, 0]]
    assert game.title == 'Prisoner\'s "dilemma"'
    assert game.players == ("Alice", "Bob") and game.comment == "Outcome 0 is the null outcome"
    assert game.strategies == (("Cooperate", "Defect"), ("Cooperate", "Defect"))


def test_an_outcome_body_after_a_counts_prologue():
    text = 'NFG 1 R "" { "" "" } { 1 2 } { { "" 1 2 } { "x" -1/2 4.25 } } 2 1'
    game = read_nfg(text)
    assert game.R == [[Fraction(-1, 2), 1]] and game.C == [[Fraction(17, 4), 2]]
    assert game.strategies == (("1",), ("1", "2"))


def test_decimals_and_rationals_are_exact():
    game = read_nfg(NUMBERS, "numbers.nfg")
    # profiles (1,1), (2,1), (1,2), (2,2): 1.5 1e-3 | 3/2 -0.25 | .5 2. | 1.5E2 -7/3
    assert game.R == [[Fraction(3, 2), Fraction(1, 2)], [Fraction(3, 2), 150]]
    assert game.C == [[Fraction(1, 1000), 2], [Fraction(-1, 4), Fraction(-7, 3)]]
    assert type(game.R[1][1]) is int and type(game.C[0][1]) is int
    assert read_nfg('NFG 1 R "" { "" "" } { 1 1 } 0.1 0.2').R == [[Fraction(1, 10)]]     # not the double 0.1


def test_quoted_strings_follow_gambits_backslash_rule():
    text = r'NFG 1 R "C:\games \"pd\"" { "P1" "P2" } { 1 1 } 1 1'
    assert read_nfg(text).title == r'C:\games "pd"'


@pytest.mark.parametrize("text, message", [
    ('NFG 1 R "three" { "a" "b" "c" } { 2 2 2 }\n' + "0 " * 24, "game.nfg: 3 players; gebench reads two-player games"),
    ('NFG 1 R "one" { "a" } { 2 }\n1 2', "game.nfg: 1 players; gebench reads two-player games"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5', "game.nfg: line 2, column 10: the file ends after 5 of the 8 "
                                                  "payoffs of a 2 x 2 game (truncated?)"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 x4 5 6 7 8', "game.nfg: line 2, column 7: expected a payoff, "
                                                         "found 'x4'"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 8 9', "game.nfg: line 2, column 17: expected the end of the "
                                                          "file"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 1/0', "game.nfg: line 2, column 15: a payoff: 1/0: the "
                                                          "denominator is 0"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 1e99999', "exponent is beyond"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 -', "'-' is not a number"),
    ('NFG 1 R "t" { "a" "b }', "game.nfg: line 1, column 19: the file ends inside this quoted string"),
    ('NFG 1 R "t" { "a" "b" } { 0 2 }', "game.nfg: line 1, column 27: expected player 1's number of strategies, "
                                        "an integer >= 1, found 0"),
    ('NFG 1 R "t" { "a" "b" } { 2 2 2 } 1', "game.nfg: line 1, column 31: expected '}' closing the numbers"),
    ('NFG 1 R "t" { "a" "b" } { { "x" } { } } 1 1', "game.nfg: line 1, column 37: player 2 has no strategies"),
    ('NFG 1 R "t" { "a" "b" } { 1 2 } { { "o" 1 2 } } 1 2', "game.nfg: line 1, column 51: expected an outcome "
                                                            "number, an integer from 0 to 1, found 2"),
    ('NFG 1 R "t" { "a" "b" } { 1 1 } { { "o" 1 } } 1', "game.nfg: line 1, column 43: expected outcome 1's "
                                                        "payoff to player 2, found '}'"),
    ('NFG 1 R "t" { "a" "b" } { 1 2 } { { "o" 1 2 } } 1', "the file ends after 1 of the 2 outcome numbers"),
    ('NFG 1 R "t" { "a" "b" } { 1 1 } "comment" }', "expected the payoffs (numbers) or the list of outcomes"),
    ("EFG 2 R \"tree\" { \"a\" \"b\" }", "game.nfg: line 1, column 1: not a Gambit strategic game (.nfg)"),
    ('NFG 2 R "t" { "a" "b" } { 1 1 } 1 1', "expected the version 1"),
    ('NFG 1 Q "t" { "a" "b" } { 1 1 } 1 1', "expected the data type R (or D)"),
    ("", "game.nfg: line 1, column 1: not a Gambit strategic game (.nfg): expected 'NFG' first, found the end"),
])
def test_a_bad_file_is_refused_naming_the_file_and_where(text, message):
    with pytest.raises(InputError) as caught:
        read_nfg(text, "game.nfg")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_load_nfg_names_the_file(tmp_path):
    path = tmp_path / "pd.nfg"
    path.write_text(PRISONERS)
    assert load_nfg(path).R == [[3, 0], [5, 0]]
    path.write_text(PRISONERS.replace("1 2 3 0", "1 2 3"))
    with pytest.raises(InputError, match=f"^{path}: line 14, column 1: the file ends after 3 of the 4"):
        load_nfg(path)


@pytest.mark.parametrize("game", [hard_game(8), svs_game(6)], ids=["morris-8", "svs-6"])
def test_the_hard_games_go_through_a_file_exactly(game):
    R, C = game
    text = write_nfg(R, C, title="hard")
    back = read_nfg(text)
    assert back.R == R and back.C == C
    assert all(type(v) is int for row in back.R + back.C for v in row)
    assert back.title == "hard" and back.strategies == (tuple(map(str, range(1, 9 if len(R) == 8 else 7))),) * 2


def test_rationals_floats_and_names_round_trip():
    R = [[Fraction(1, 3), -2, 0.1], [Fraction(-7, 2), 1e300, 2.5e-12]]
    C = [[np.int64(4), np.float64(0.25), Fraction(10**40, 3)], [0, -1.5, 3]]
    names = (["Top", 'say "hi"'], ["L", r"a\b", ""])
    text = write_nfg(R, C, title='a "title"', names=names, players=("Ann", "Ben"))
    assert "1/3" in text and "1e300" in text and "e+" not in text     # Gambit's reader refuses e+
    back = read_nfg(text)
    assert back.R[0][0] == Fraction(1, 3) and back.R[1][0] == Fraction(-7, 2) and back.C[0][2] == Fraction(10**40, 3)
    assert [[float(v) for v in row] for row in back.R] == [[float(v) for v in row] for row in R]
    assert [[float(v) for v in row] for row in back.C] == [[float(v) for v in row] for row in C]
    assert back.strategies == (("Top", 'say "hi"'), ("L", r"a\b", ""))
    assert back.title == 'a "title"' and back.players == ("Ann", "Ben")


@pytest.mark.parametrize("args, message", [
    (([[1, 2]], [[1]]), "R is 1 x 2 but C is 1 x 1"),
    (([[1, 2], [3]], [[1, 2], [3, 4]]), "R: expected a non-empty table"),
    (([], []), "R: expected a non-empty table"),
    (([[1, float("nan")]], [[1, 2]]), "R[0][1]: payoffs must be finite"),
    (([[1, True]], [[1, 2]]), "R[0][1]: expected a number"),
    (([[1, "2"]], [[1, 2]]), "R[0][1]: expected a number"),
    (([[1, 2]], [[1, 2]], "", (["a", "x"], ["b", "c"])), "names: expected the row player's 1"),
    (([[1]], [[1]], "ends in \\"), "title 'ends in \\\\'"),
    (([[1]], [[1]], "", (["a\\\"b"], ["c"])), "strategy"),
])
def test_write_nfg_refuses_what_it_cannot_write(args, message):
    with pytest.raises(InputError) as caught:
        write_nfg(*args)
    assert message in str(caught.value)


def test_a_float_game_reads_back_as_the_same_doubles():
    rng = np.random.default_rng(3)
    R, C = rng.random((3, 4)) * 10.0 ** rng.integers(-20, 20, (3, 4)), -rng.random((3, 4))
    back = read_nfg(write_nfg(R, C))
    assert np.array_equal(np.array(back.R, dtype=float), R) and np.array_equal(np.array(back.C, dtype=float), C)


# ---- the command line ----------------------------------------------------------------------

def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# A 2 x 3 game with positive payoffs and one equilibrium in mixed strategies.
POSITIVE = """NFG 1 R "Positive 2 x 3" { "P1" "P2" } { { "U" "D" } { "L" "M" "R" } }
4 1 1 4 1 3 3 1 3 2 2 3
"""


def test_an_nfg_file_becomes_an_economy_that_lemke_howson_solves(tmp_path, capsys):
    source = tmp_path / "positive.nfg"
    source.write_text(POSITIVE)
    economy_file = tmp_path / "economy.json"
    code, _, err = run(capsys, "generate", source, "-o", economy_file)
    assert code == 0, err
    economy = load(economy_file)
    assert economy.name == "Positive 2 x 3" and economy.meta["source"] == str(source)
    assert economy.n_agents == economy.n_goods == 5
    game = read_nfg(POSITIVE)
    assert_same_game(game_of(economy), game_of(leontief_from_game(game.R, game.C)))
    code, out, err = run(capsys, "solve", economy_file, "--solver", "lemke-howson")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "converged"
    result_file = tmp_path / "result.json"
    result_file.write_text(out)
    code, out, _ = run(capsys, "verify", economy_file, result_file)
    assert code == 0 and json.loads(out)["equilibrium"] is True


def assert_same_game(mine, theirs):
    """The payoffs of two GameForms are equal: exactly where both are exact, else as floats
    (to rounding: the economy files keep exact values only where a double cannot hold them)."""
    if mine.exact_R is not None and theirs.exact_R is not None:
        assert mine.exact_R == theirs.exact_R and mine.exact_C == theirs.exact_C
    np.testing.assert_allclose(mine.R, theirs.R, rtol=1e-15)
    np.testing.assert_allclose(mine.C, theirs.C, rtol=1e-15)


def test_an_untitled_game_is_named_by_its_file(tmp_path, capsys):
    source = tmp_path / "untitled.nfg"
    source.write_text('NFG 1 R "" { "" "" } { 1 2 } 1 2 3 4')
    code, out, err = run(capsys, "generate", source)
    assert code == 0, err
    assert json.loads(out)["name"] == "untitled"


def test_a_game_with_nonpositive_payoffs_is_an_economy_or_a_refusal_naming_the_file(tmp_path, capsys):
    source = tmp_path / "pennies.nfg"
    source.write_text(PENNIES)
    code, out, err = run(capsys, "generate", source)
    if code == 0:
        assert len(json.loads(out)["agents"]) == 4
    else:
        assert code == 2 and err.startswith(f"gebench: error: {source}: ") and err.count("\n") == 1


@pytest.mark.parametrize("family, size", [("leontief-game-morris", 8), ("leontief-game-svs", 6),
                                          ("leontief-game", 3)])
def test_a_game_family_written_as_nfg_is_the_familys_game(family, size, tmp_path, capsys):
    nfg, economy_file = tmp_path / f"{family}.nfg", tmp_path / "economy.json"
    code, _, err = run(capsys, "generate", family, "--size", size, "--format", "nfg", "-o", nfg)
    assert code == 0, err
    assert nfg.read_text().startswith(f"NFG 1 R \"{family}, d = {size}")
    code, _, err = run(capsys, "generate", nfg, "-o", economy_file)
    assert code == 0, err
    assert_same_game(game_of(load(economy_file)), game_of(build(family, size)))


def test_an_nfg_file_rewritten_keeps_its_game_and_names(tmp_path, capsys):
    source = tmp_path / "pd.nfg"
    source.write_text(PRISONERS)
    code, out, err = run(capsys, "generate", source, "--format", "nfg")
    assert code == 0, err
    again = read_nfg(out)
    original = read_nfg(PRISONERS)
    assert (again.R, again.C, again.title, again.players, again.strategies) == (
        original.R, original.C, original.title, original.players, original.strategies)


def test_generate_refusals_are_one_line_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "out.json"
    code, _, err = run(capsys, "generate", tmp_path / "missing.nfg", "-o", out)
    assert code == 2 and err == f"gebench: error: {tmp_path / 'missing.nfg'}: no such .nfg file\n"
    three = tmp_path / "three.nfg"
    three.write_text('NFG 1 R "three" { "a" "b" "c" } { 1 1 1 } 1 2 3')
    code, _, err = run(capsys, "generate", three, "-o", out)
    assert code == 2 and err == f"gebench: error: {three}: 3 players; gebench reads two-player games\n"
    truncated = tmp_path / "truncated.nfg"
    truncated.write_text(TWO_BY_THREE[:-5])
    code, _, err = run(capsys, "generate", truncated, "-o", out)
    assert code == 2 and f"{truncated}: line 5" in err and "truncated" in err and err.count("\n") == 1
    code, _, err = run(capsys, "generate", "fisher-ces", "--agents", "3", "--goods", "3", "--format", "nfg",
                       "-o", out)
    assert code == 2 and "--format nfg: fisher-ces is not a game" in err
    code, _, err = run(capsys, "generate", "scarf-1960", "--format", "nfg", "-o", out)
    assert code == 2 and "--format nfg: scarf-1960 is not a game" in err
    code, _, err = run(capsys, "generate", "no-such-family", "-o", out)
    assert code == 2 and "FAMILY: unknown 'no-such-family'" in err and "leontief-game-svs" in err
    assert not out.exists()


# ---- Gambit's own reader -------------------------------------------------------------------

def gambit_payoffs(game):
    """(R, C) of a two-player pygambit game as Fractions (the null outcome pays 0)."""
    gambit = pytest.importorskip("pygambit")
    assert isinstance(game, gambit.Game)
    first, second = game.players
    m, n = len(first.strategies), len(second.strategies)

    def payoff(i, j, player):
        outcome = game[i, j]
        return Fraction(0) if outcome is None else Fraction(outcome[player])
    return ([[payoff(i, j, first) for j in range(n)] for i in range(m)],
            [[payoff(i, j, second) for j in range(n)] for i in range(m)])


@pytest.mark.parametrize("text", [TWO_BY_THREE, PENNIES, PRISONERS, NUMBERS, POSITIVE],
                         ids=["2x3", "pennies", "prisoners-outcomes", "numbers", "positive"])
def test_pygambit_reads_the_same_payoffs(text, tmp_path):
    gambit = pytest.importorskip("pygambit", reason="pygambit (gebench[peers]) compares Gambit's own reader")
    path = tmp_path / "game.nfg"
    path.write_text(text)
    ours = read_nfg(text)
    theirs = gambit.read_nfg(str(path))
    assert gambit_payoffs(theirs) == (ours.R, ours.C)
    assert theirs.title == ours.title
    assert tuple(p.label for p in theirs.players) == ours.players
    assert tuple(tuple(s.label for s in p.strategies) for p in theirs.players) == ours.strategies


@pytest.mark.parametrize("R, C, names", [
    (*hard_game(8), None),
    (*svs_game(6), (["a", "b", "c", "d", "e", "f"], list("uvwxyz"))),
    ([[Fraction(1, 3), -2, 0.1], [1e300, 2.5e-12, Fraction(-7, 2)]], [[1, 2, 3], [4, 5, 6]],
     (["Top", 'say "hi"'], ["L", r"a\b", "R"])),
], ids=["morris-8", "svs-6", "rationals-floats"])
def test_pygambit_reads_the_files_gebench_writes(R, C, names, tmp_path):
    gambit = pytest.importorskip("pygambit", reason="pygambit (gebench[peers]) checks Gambit reads our files")
    path = tmp_path / "game.nfg"
    path.write_text(write_nfg(R, C, title='gebench "test"', names=names))
    theirs = gambit.read_nfg(str(path))
    ours = read_nfg(path.read_text())
    assert gambit_payoffs(theirs) == (ours.R, ours.C)
    assert theirs.title == 'gebench "test"'
    if names is not None:
        assert [[s.label for s in p.strategies] for p in theirs.players] == [list(row) for row in names]


def test_gebench_reads_the_files_pygambit_writes(tmp_path):
    gambit = pytest.importorskip("pygambit", reason="pygambit (gebench[peers]) writes .nfg files to read")
    game = gambit.Game.from_arrays(np.array([[Fraction(1, 3), 2], [Fraction(5, 2), -1]], dtype=object),
                                   np.array([[4, Fraction(-2, 7)], [0, 1]], dtype=object), title="from pygambit")
    ours = read_nfg(game.to_nfg(), "pygambit")
    assert (ours.R, ours.C) == gambit_payoffs(game)
    assert ours.title == "from pygambit"
