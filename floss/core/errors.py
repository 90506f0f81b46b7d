"""The one error type floss raises for anything a user can fix: a bad config key, a bad
command-line value, a file that cannot be used. Its message is one line naming the key,
option or file and, where there is a fixed set, the allowed values; `python -m floss` prints
it as `floss STAGE: error: MESSAGE` and exits with status 2, the Snakefile before any job."""

from __future__ import annotations


class FlossError(ValueError):
    """A refusal with a one-line message that names what is wrong."""


def config_error(key: str, message: str) -> FlossError:
    """The error for config key `key` (dotted path), in the one format every plan uses."""
    return FlossError(f"config key {key}: {message}")
