"""Errors the CLI turns into a one-line message and a non-zero exit."""


class PlatformError(Exception):
    """A problem the user can fix: bad settings, a missing source, an unwritable lake."""
