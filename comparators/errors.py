"""The one input-error base class.

Every module's error for bad input (counts, options, files, links) subclasses ``InputError``, so
the CLI and the pages catch one type and show its message; anything else is a bug.
"""


class InputError(ValueError):
    """Input that cannot be used; the message says what, where, and the limit or valid values."""
