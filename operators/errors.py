"""The project's one exception base. The CLI maps it to a message on stderr and an exit code."""

from __future__ import annotations


class ByoError(Exception):
    """An expected failure: reported without a traceback."""

    exit_code = 1


class ConfigError(ByoError):
    """Missing or invalid configuration or input (a usage error)."""

    exit_code = 2


class CheckFailed(ByoError):
    """A gate the command enforces did not pass (a pipeline's condition, a check's
    violations): the work ran, its answer is no."""

    exit_code = 3
