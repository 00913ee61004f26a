"""Typed errors raised by the library; the CLI edge (``dflbench.cli._common``) turns them into
one-line messages and exit codes. Nothing below the CLI prints or exits."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DflbenchError(Exception):
    """Base class: a problem with the user's input that deserves one clear line, not a traceback."""

    exit_code = 2


class ConfigError(DflbenchError, ValueError):
    """A suite file, option or parameter is invalid (a ValueError too, for library users)."""


class DataError(DflbenchError, ValueError):
    """A dataset cannot be found, read or used as configured."""


class ResultFileError(DflbenchError):
    """A result JSON file is missing, malformed or from an incompatible dflbench."""


class DflbenchWarning(Warning):
    """Valid input that probably does not do what was meant (an imbalance ratio a dataset cannot
    reach, say): issued with :func:`warnings.warn`, shown by the CLI as one line. Not a
    UserWarning, so it never becomes an error where those are (the test configuration)."""


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` when ``name`` is close to one of ``valid``, else ``""``."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown(kind: str, name: str, valid: Iterable[str]) -> str:
    """The one error shape for an unknown name: what was wrong, the nearest name, what is valid."""
    valid = sorted(str(v) for v in valid)
    return f"unknown {kind} '{name}'{did_you_mean(name, valid)} (valid: {', '.join(valid)})"
