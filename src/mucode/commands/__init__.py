"""Command bodies: parse what typer gave, call the library, render the result."""

from __future__ import annotations

from pydantic import ValidationError

from mucode.errors import ConfigError


def invalid_options(command: str, error: ValidationError) -> ConfigError:
    """A readable ``ConfigError`` naming each bad option, in place of pydantic's report."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
    )
    return ConfigError(f"invalid {command} options: {problems}")


def context_full_warning(count: int, episodes: str) -> str:
    """The console warning for ``count`` episodes or searches that outgrew the context."""
    return (f"[yellow]{count} {episodes} ended early: the conversation outgrew the context "
            "window (llamacpp: raise --context; or lower --max-tokens)[/]")  # fmt: skip
