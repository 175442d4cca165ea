"""The one error type for bad user data, so every entry point can catch it alone."""


class InputError(ValueError):
    """Invalid input (economy, prices, allocation, parameters); the message names the field."""


class EconomyError(InputError):
    """An economy that breaks the format-1 contract; the message names the agent and field."""
