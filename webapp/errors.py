"""Errors that carry a message meant for the user rather than a traceback."""


class UsageError(Exception):
    """A problem with what the user asked for: the CLI prints it as one line and exits 2."""
