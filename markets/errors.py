"""The one error type for bad user data, so every entry point can catch it alone."""


class InputError(ValueError):
    """Invalid input (economy, prices, allocation, parameters); the message names the field."""


class EconomyError(InputError):
    """An economy that breaks the format-1 contract; the message names the agent and field."""


def field_name(key) -> str:
    """A user's field name as an error message shows it: plain names as they are, anything
    else (spaces, newlines, control characters) quoted, so a message stays one line."""
    key = str(key)
    return key if key and all(c.isalnum() or c in "_.-" for c in key) else repr(key)


def count(n: int, noun: str) -> str:
    """`n` and the noun as a person writes them: "1 number", "3 numbers"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def type_problem(kind, known) -> str:
    """The message for a `type` field that is absent or not one of `known`."""
    if kind is None:
        return "missing"
    return f"unknown {kind!r}; expected one of {list(known)}"
