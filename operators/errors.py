"""The project's one exception base. The CLI maps it to a message on stderr and an exit code."""

from __future__ import annotations


class ByoError(Exception):
    """An expected failure: reported without a traceback."""

    exit_code = 1


class ConfigError(ByoError):
    """Missing or invalid configuration or input (a usage error)."""

    exit_code = 2
