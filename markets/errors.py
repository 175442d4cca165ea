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
