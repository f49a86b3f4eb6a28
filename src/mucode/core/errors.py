"""Typed errors. Every message names the value, what was expected, and how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class MucodeError(Exception):
    """Base class of every error mucode raises on purpose."""


class ConfigError(MucodeError):
    """A setting or command-line option is invalid."""


class DatasetError(MucodeError):
    """Benchmark data is missing or malformed."""


class SandboxError(MucodeError):
    """The sandbox itself could not run (not the program under test)."""


class GenerationError(MucodeError):
    """A generation engine or server failed or rejected a request."""


class ContextFull(GenerationError):
    """A conversation no longer fits the engine's context window; its episode must end."""


def validation_problems(error: ValidationError) -> str:
    """Pydantic's errors as one line: ``field.path: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
    )
