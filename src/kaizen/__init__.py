"""Kaizen: a data-versioned experiment repository for credit scoring."""

__version__ = "0.1.0"


class KaizenError(Exception):
    """A user-facing error: bad input, bad params. Printed as one line, no traceback."""
